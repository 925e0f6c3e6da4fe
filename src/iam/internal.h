/*
 * iam/internal: what the files of src/iam/ share — the service struct, the
 * user record, and helpers for audit, notices and personal data. Private
 * to src/iam/ (and its unit tests).
 */
#ifndef ANFU_IAM_INTERNAL_H
#define ANFU_IAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/profile.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "iam/iam.h"
#include "iam/status.h"
#include "tx/tx.h"

struct anfu_db;
struct anfu_pwhash;
struct iam_challenge_ops;
struct iam_reserved_limiter;

struct anfu_iam {
	const struct anfu_iam_config *cfg;
	const struct anfu_config *platform; /* [server] level */
	struct anfu_store *store;
	const struct anfu_keys *keys;
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx;
	struct anfu_vault *vault;
	struct anfu_notify *notify;
	struct anfu_pwhash *pwhash;
	/* What challenge.c calls of the service (iam/challenge.h). */
	const struct iam_challenge_ops *challenge;
	/* Told after a registration commits (iam/observers.c); filled
	 * before the service takes requests. */
	struct {
		anfu_iam_registered_fn fn;
		void *ud;
	} observers[ANFU_LIMIT_IAM_OBSERVERS];
	size_t nobservers;
	/* Reserved-message lookups per address (iam/reserved_lookup.c). */
	struct iam_reserved_limiter *reserved_limiter;
#ifdef ANFU_TEST_HOOKS
	/* Test hook: answers of live captchas (bounded ring). */
	struct iam_test_captcha *test_captchas;
#endif
};

/* Tells every observer that user_id (of kind) registered (iam/observers.c);
 * called after the registration committed. */
void iam_tell_registered(struct anfu_iam *iam, const char *user_id, enum anfu_user_kind kind);

/* ---- shared helpers (iam/common.c) ------------------------------------------ */

/* The calling thread's connection. */
int iam_db(struct anfu_iam *iam, struct anfu_db **ret);
/* Sets err (may be NULL) to code / field. */
void iam_err_set(struct anfu_iam_err *err, const char *code, const char *field);
/* "customer", "merchant", "staff". */
const char *iam_kind_name(enum anfu_user_kind k);

/* ---- the user record ----------------------------------------------------- */

/* One row of iam_user. Encrypted columns stay encrypted here; strings are
 * malloc'd and freed by iam_user_clear(). */
struct iam_user {
	char id[ANFU_ID_MAX];
	enum anfu_user_kind kind;
	char login_kind[16]; /* "mobile", "email", "username" */
	char *login_enc;
	enum anfu_account_status status; /* as stored */
	int64_t locked_until_ms;	 /* 0: none or (status locked) until unlocked */
	int64_t expires_ms;		 /* 0: none */
	bool temporary;
	int64_t created_ms;
	int64_t last_used_ms;
	char *pwd_hash; /* NULL: no password (cannot log in) */
	int64_t pwd_changed_ms;
	bool pwd_must_change;
	int64_t pwd_forced_ms; /* an administrator forced the change (0: no) */
	int64_t pwd_reminded_ms;
	int failures;
	char *pay_hash;
	int pay_failures;
	int64_t pay_locked_until_ms;
	char *phone_enc, *email_enc, *name_enc, *idno_enc, *totp_enc;
	char *nickname;
	bool totp_confirmed;
	int64_t totp_last_step;
	char merchant_id[ANFU_ID_MAX];
	char lang[4];
};

void iam_user_clear(struct iam_user *u);
/* Loads a user by id: ANFU_ENOTFOUND when there is none. */
int iam_user_load(struct anfu_db *db, const char *id, struct iam_user *ret);
/* Normalises a login identifier: mobile numbers to 11 digits, emails and
 * usernames to lower case; *ret_kind says which it is. ANFU_EINVAL when it
 * is none of them. out holds at least 256 bytes. */
int iam_login_normalize(const char *login, char *out, size_t cap, const char **ret_kind);
/* The blind index of a login name, normalised (iam_login_normalize()),
 * into idx (IAM_HASH_HEX bytes, iam/core.h);
 * ANFU_ENOTFOUND when it cannot be a login identifier. */
int iam_login_index(struct anfu_iam *iam, const char *login, char *idx);
/* Finds a user by login identifier (through its blind index). */
int iam_user_find_login(struct anfu_iam *iam, struct anfu_db *db, const char *login,
			struct iam_user *ret);
/* The effective state now (iam/status.c, from its table): the stored
 * status, "expired" once expires_ms passed (unless disabled), "active"
 * once a timed lock ran out. */
enum anfu_account_status iam_user_status(const struct iam_user *u, int64_t now_ms);
/* Its name ("active", "locked", "disabled", "expired"). */
const char *iam_user_state(const struct iam_user *u, int64_t now_ms);
/* Decrypts a sealed column of u (field "phone", "email", "name", "idno",
 * "login", "totp"); *ret is NULL for an empty column. Free with
 * anfu_free_secret(). */
int iam_user_reveal(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		    const char *field, char **ret);
/* A sealed field of u ("login", "phone", "email", "name", "idno") opened
 * and masked at once by its one rule (base/mask.h, DATA-MASK-*) into out
 * (cap bytes): "" for an empty column, "***" for a value the rule does not
 * accept. The clear text never leaves this call. ANFU_EINVAL for another
 * field; the vault's error. */
int iam_user_masked(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		    const char *field, char *out, size_t cap);
/* The masked view of u (DATA-MASK-*), roles included. */
int iam_user_view(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		  struct anfu_user_view *ret);
/* The policy class of u. */
int iam_user_class(struct anfu_db *db, const struct iam_user *u, enum anfu_role_class *ret);

/* Fields of a new user; sealed and indexed by iam_user_insert(). */
struct iam_new_user {
	enum anfu_user_kind kind;
	const char *login; /* normalised */
	const char *login_kind;
	const char *password_hash;
	bool must_change;
	const char *phone; /* normalised 11 digits, or NULL */
	const char *email; /* lower case, or NULL */
	const char *real_name;
	const char *id_number;
	const char *nickname;
	const char *merchant_id;
	const char *lang;
	int64_t expires_ms;
	bool temporary;
	const char *created_by;
	const char *pwd_reason; /* password history reason */
};

/* Inserts a user (id made here) with its first password-history row,
 * inside the caller's transaction. ANFU_EEXIST when the login, phone or
 * email is taken (IAM-ACCT-02). */
int iam_user_insert(struct anfu_iam *iam, struct anfu_db *db, const struct iam_new_user *nu,
		    char id_out[ANFU_ID_MAX]);

/* Sets a new login (or payment) password hash, records it in the history
 * with reason and actor, and clears must_change unless set again (a new
 * login password also clears an administrator's force, pwd_forced_ms). */
int iam_password_store(struct anfu_db *db, const char *user_id, const char *kind, const char *hash,
		       const char *reason, const char *actor_id, bool must_change, int64_t now_ms);
/* ANFU_EEXIST when pw matches one of the last n hashes of kind (payment
 * PINs: the records of iam/pinmac.h). */
int iam_password_in_history(struct anfu_iam *iam, struct anfu_db *db, const char *user_id,
			    const char *kind, const char *pw, size_t len, int n);
/* The user's personal data for the password rules; strings malloc'd into
 * *ret (free with iam_personal_clear). */
struct iam_personal {
	char *login, *name, *nickname, *phone, *email, *idno;
	char birthday[9];
};
int iam_personal_load(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		      struct iam_personal *ret);
void iam_personal_clear(struct iam_personal *p);

/* ---- transactions and audit (iam/common.c), notices (iam/notices.c) ---------- */

/* Runs fn(tx, ud) in one transaction of the executor (anfu_tx_run, no
 * transaction actor: iam_audit names each record's). When the records fn
 * staged cannot be appended (ANFU_EAUDIT: nothing was kept), err (may be
 * NULL) is cleared: the caller answers with that failure, never with a
 * refusal fn decided but that was not recorded (records are appended at
 * the end now, where they used to fail before the refusal was set). A
 * caller whose refusal stood before its record was written passes NULL.
 * Returns anfu_tx_run's result. */
int iam_tx(struct anfu_iam *iam, anfu_tx_fn fn, void *ud, struct anfu_iam_err *err);

/* Stages an audit record in the caller's transaction tx (appended when it
 * commits). actor_id NULL means the caller is anonymous (actor type
 * "anonymous"); p, when given, supplies the actor's id, type and roles.
 * details may be NULL; it is borrowed (the record keeps a copy, so the
 * caller may change it afterwards). A failure is logged by the executor
 * and fails the transaction. */
int iam_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
	      const struct anfu_principal *p, const char *actor_id, const char *action,
	      const char *object_type, const char *object_id, const char *outcome,
	      const json_t *details);

/* Notices to a user on their bound channels, queued in the caller's
 * transaction tx (the commit wakes the delivery thread). template names a
 * bilingual text of iam/notices.c ("lockout", "new_device",
 * "password_changed", "reset_done", "code", ...); args fill its
 * placeholders in order. channels: ANFU_MFA_SMS | ANFU_MFA_EMAIL. */
int iam_notice(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
	       unsigned channels, const char *tmpl, const char *const *args, int nargs);
/* A code to an explicit target (registration, binding). */
int iam_notice_to(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
		  const char *channel, const char *target, const char *lang, const char *tmpl,
		  const char *const *args, int nargs);

/* ---- sessions ------------------------------------------------------------------ */

/* Creates a session for u in state, with a fresh id and CSRF token into
 * ret->session / ret->csrf, enforcing the per-user limit (WEB-CONC-02). */
int iam_session_create(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_user *u, enum anfu_role_class cls,
		       enum anfu_session_state state, int64_t mfa_ms, struct anfu_login_result *ret,
		       struct anfu_iam_err *err);
/* Replaces the caller's session id (and CSRF token) keeping the session,
 * optionally moving it to state and, with mfa_method ("sms", "email",
 * "totp"; NULL: none), recording that second factor now: its time and
 * its method (IAM-SESS-07, RISK-LIM-01). */
int iam_session_rotate(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_principal *p,
		       enum anfu_session_state state, const char *mfa_method,
		       struct anfu_login_result *ret);
/* Ends sessions: one by public id, or every session of user_id except
 * except_public_id (may be NULL), recording the reason. */
int iam_session_end(struct anfu_iam *iam, struct anfu_db *db, const char *user_id,
		    const char *public_id, const char *except_public_id, const char *reason);

/* Length of the random tokens the server hands out (session ids, CSRF
 * tokens, trusted-device secrets): 32 bytes from the CSPRNG as lower-case
 * hex. */
#define IAM_TOKEN_HEX 64
/* True when t is IAM_TOKEN_HEX lower-case hex characters. */
bool iam_token_shape_ok(const char *t);
/* A fresh random token and its keyed hash for purpose (vault token hash),
 * written only on success. */
int iam_token_new(struct anfu_iam *iam, const char *purpose, char tok[IAM_TOKEN_HEX + 1],
		  char hash[2 * ANFU_HASH_LEN + 1]);

/* Forgets every trusted device of user_id (a new password ends trust:
 * whoever may have had the old one trusted a device too). In the caller's
 * transaction. */
int iam_devices_forget(struct anfu_db *db, const char *user_id);

/* Device fingerprint hash of a request: keyed hash of device id + user
 * agent (the server cannot see a MAC address; C16). It labels devices and
 * binds sessions (IAM-SESS-06); it proves no possession (the client
 * chooses both headers): only a trusted-device secret does. */
int iam_device_hash(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		    char out[2 * ANFU_HASH_LEN + 1]);
/* The /24 (IPv4) or /48 (IPv6) network of an address, for anomaly checks. */
void iam_network_of(const char *ip, char *out, size_t cap);

/* ---- login throttling and the reserved-message lookup ----------------------- */

/* *ret: true when address ip is refused logins for failures across
 * accounts (IAM-ANOM-02: lockout.ip_failures within lockout.ip_window, for
 * lockout.ip_block); iam/login.c. Reads only. */
int iam_login_ip_blocked(struct anfu_iam *iam, struct anfu_db *db, const char *ip, int64_t now,
			 bool *ret);
/* The per-address lookup counter of iam/reserved_lookup.c; *ret is owned
 * by the caller, freed with iam_reserved_limiter_free() (NULL-safe). */
int iam_reserved_limiter_new(struct iam_reserved_limiter **ret);
void iam_reserved_limiter_free(struct iam_reserved_limiter *l);

#endif
