/*
 * iam: identity and access — the service behind /api/v1/auth, /api/v1/me
 * and /admin/v1.
 *
 * Owns the iam_* tables (db/migrations/0002_iam.sql): users, passwords and
 * their history, roles and permissions, sessions, devices, login attempts,
 * one-time codes, captchas, resets, approvals and reports. Every change
 * appends its audit record in the same transaction; personal data is sealed
 * by src/vault/ and masked on the way out by base/mask.h; time comes from
 * base/clock.h. Handlers (src/api/) only decode, call these functions and
 * encode; they never see a password hash, a session id hash or a key.
 *
 * Errors: functions return 0 or an ANFU_E* code and, for refusals people
 * must understand, set *ret_code (struct anfu_iam_err) to a stable code of
 * docs/errors.md ("invalid_credentials", "password_too_short", ...). Login
 * and reset refusals never reveal whether an account exists.
 *
 * Thread-safe: every function may be called from any HTTP worker; each
 * uses the calling thread's database connection (anfu_store_db).
 */
#ifndef ANFU_IAM_IAM_H
#define ANFU_IAM_IAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/limits.h"
#include "base/profile.h"
#include "base/rand.h"

struct anfu_config;
struct anfu_iam_config;
struct anfu_store;
struct anfu_keys;
struct anfu_audit;
struct anfu_tx_exec;
struct anfu_vault;
struct anfu_notify;

struct anfu_iam_deps {
	const struct anfu_iam_config *cfg;  /* iam's options (iam/config.h) */
	const struct anfu_config *platform; /* the platform's ([server] level) */
	struct anfu_store *store;
	const struct anfu_keys *keys;
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx; /* every write of the service goes through it */
	struct anfu_vault *vault;
	struct anfu_notify *notify;
};

struct anfu_iam;

/* Creates the service; every dependency is borrowed and must outlive it.
 * The approval types (anfu_iam_approvals) and jobs (anfu_iam_jobs) are
 * registered by whoever starts the service (src/app/, through iam's module
 * descriptor). */
int anfu_iam_new(const struct anfu_iam_deps *d, struct anfu_iam **ret);
void anfu_iam_free(struct anfu_iam *iam);

struct anfu_job_table;
struct anfu_approval_table;
struct anfu_migration_set;
/* Its migrations, src/iam/migrations/ (generated). */
extern const struct anfu_migration_set anfu_iam_migrations;
/* The scheduled jobs, ud being the service: the account review (dormant,
 * expired, temporary; every accounts.review_interval_days), password-expiry
 * reminders (daily) and expiry of old codes, captchas and sessions. */
extern const struct anfu_job_table anfu_iam_jobs;
/* The four-eyes approval types of the identity module (create_operator,
 * grant_role, revoke_role and the staff-account changes; iam/admin_types.c). */
extern const struct anfu_approval_table anfu_iam_approvals;

/* ---- request context, principals, errors ------------------------------- */

/* Where a call comes from; strings borrowed, never NULL ("" if unknown). */
struct anfu_iam_ctx {
	const char *ip;
	const char *user_agent;
	const char *device_id; /* X-Device-Id header: the client's device id */
	const char *request_id;
	const char *lang; /* "zh" or "en" */
	bool admin;	  /* arrived on the admin listener */
};

/* The refusal code for people, when there is one (static strings). */
struct anfu_iam_err {
	const char *code;  /* stable code (docs/errors.md), or NULL */
	const char *field; /* request field it is about, or NULL */
};

enum anfu_user_kind {
	ANFU_USER_CUSTOMER = 0,
	ANFU_USER_MERCHANT = 1,
	ANFU_USER_STAFF = 2,
};

enum anfu_session_state {
	ANFU_SESSION_MFA_PENDING = 0,	   /* password ok, second factor due */
	ANFU_SESSION_REQUIRED_ACTIONS = 1, /* must change password / enrol TOTP */
	ANFU_SESSION_ACTIVE = 2,
};

/* Required actions of a session (Keycloak's idea). */
#define ANFU_RA_CHANGE_PASSWORD 0x1u
#define ANFU_RA_ENROL_TOTP 0x2u

#define ANFU_PRINCIPAL_MAX_PERMS 64
/* A second factor's method name ("email" and its NUL fit). */
#define ANFU_MFA_METHOD_MAX 8
#define ANFU_PERM_NAME_MAX 48

/* An authenticated caller, filled by anfu_iam_authenticate(). */
struct anfu_principal {
	char user_id[ANFU_ID_MAX];
	char session_id[ANFU_ID_MAX]; /* public id of the session, "ses_..." */
	enum anfu_user_kind kind;
	enum anfu_role_class role_class;
	enum anfu_session_state state;
	unsigned required; /* ANFU_RA_* while state is REQUIRED_ACTIONS */
	char roles[256];   /* comma-separated, for audit records */
	char merchant_id[ANFU_ID_MAX];
	int64_t mfa_ms; /* last second factor in this session */
	/* ... and its method: "sms", "email", "totp", or "" (none recorded;
	 * sessions from before iam migration 0004) (RISK-LIM-01) */
	char mfa_method[ANFU_MFA_METHOD_MAX];
	int nperms;
	char perms[ANFU_PRINCIPAL_MAX_PERMS][ANFU_PERM_NAME_MAX];
};

/* True when the principal's roles grant perm. */
bool anfu_principal_can(const struct anfu_principal *p, const char *perm);

/* What the session authenticator is given about a request. */
struct anfu_iam_auth_in {
	const char *cookie;	/* session cookie value, or NULL */
	const char *csrf;	/* X-CSRF-Token header, or NULL */
	const char *origin;	/* Origin header, or NULL */
	const char *host;	/* Host header, or NULL */
	const char *permission; /* the route's permission */
	bool state_changing;	/* not GET/HEAD */
	bool csrf_exempt;	/* ANFU_ROUTE_NO_CSRF */
	bool allow_mfa_pending; /* ANFU_ROUTE_MFA_PENDING */
	bool allow_required;	/* ANFU_ROUTE_REQUIRED_ACTION */
};

/* Name of the session cookie on the main and on the admin listener. */
#define ANFU_SESSION_COOKIE "anfu_session"
#define ANFU_ADMIN_SESSION_COOKIE "anfu_admin_session"
/* The trusted-device secret: a cookie for browsers (main listener only),
 * the header for API clients. */
#define ANFU_DEVICE_COOKIE "__Host-anfu_device"
#define ANFU_DEVICE_TOKEN_HEADER "X-Device-Token"
/* Permission of routes open to any valid session of the listener. */
#define ANFU_PERM_SESSION "session"

/* Authenticates a request's session: the session exists, is not revoked,
 * idle or past its absolute lifetime (IAM-SESS-01, -05), belongs to this
 * listener, matches the client IP and device fingerprint under
 * level=enhanced (IAM-SESS-06), carries the CSRF token on state-changing
 * requests (WEB-CSRF-01), is in a state the route accepts, and its user
 * holds the route's permission (IAM-RBAC-01). Touches last_seen. Returns 0
 * with *ret filled, ANFU_EAUTH (401: unauthorized, session_expired) or
 * ANFU_EPERM (403: csrf_failed, forbidden, mfa_required,
 * password_change_required, totp_enrolment_required). */
int anfu_iam_authenticate(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_iam_auth_in *in, struct anfu_principal *ret,
			  struct anfu_iam_err *err);

/* ---- captcha and one-time codes ----------------------------------------- */

struct anfu_captcha {
	char id[ANFU_ID_MAX];
	unsigned char *png; /* malloc'd PNG image */
	size_t png_len;
	int64_t expires_ms;
};

/* A new image captcha (IAM-CAP-02) for purpose ("login", "register",
 * "reset": the places a captcha is checked) on the listener of ctx (the
 * main one when ctx is NULL); it is accepted only there and for that.
 * ANFU_EINVAL with err "invalid_field" / "purpose" for a purpose the
 * listener does not offer (the admin listener: login only). Free with
 * anfu_captcha_clear(). */
int anfu_iam_captcha_new(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *purpose,
			 struct anfu_captcha *ret, struct anfu_iam_err *err);
void anfu_captcha_clear(struct anfu_captcha *c);
/* The PNG of a live captcha (unused, unexpired) made on the listener of
 * ctx: *ret_png malloc'd (caller frees). ANFU_ENOTFOUND alike for an
 * unknown, used, expired or other listener's captcha; looking does not use
 * it up. */
int anfu_iam_captcha_image(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *id,
			   unsigned char **ret_png, size_t *ret_len);
/* True when every password login needs a captcha from its first attempt
 * (captcha.mode always, or after_failures = 0): a login page shows one at
 * once instead of waiting for captcha_required. */
bool anfu_iam_captcha_always(const struct anfu_iam *iam);

#ifdef ANFU_TEST_HOOKS
/* Test hook: the answer of a live captcha (kept only in test builds). */
int anfu_iam_test_captcha_answer(struct anfu_iam *iam, const char *id, char out[16]);
/* Test hook: Argon2id runs so far (anfu_pwhash_total). */
uint64_t anfu_iam_test_pwhash_total(struct anfu_iam *iam);
#endif

/* Why a code is sent; a code is valid only for its purpose. */
#define ANFU_CODE_REGISTER "register"
#define ANFU_CODE_LOGIN "login"	    /* second factor at login */
#define ANFU_CODE_STEP_UP "step_up" /* sensitive operation */
#define ANFU_CODE_BIND "bind"	    /* bind a new phone or email */
#define ANFU_CODE_TX "tx"	    /* one transaction (iam/txcode.c) */

struct anfu_code_req {
	const char *purpose; /* ANFU_CODE_* */
	const char *channel; /* "sms" or "email" */
	const char *target;  /* register/bind: the phone or email; else NULL */
	const char *captcha_id;
	const char *captcha_answer;
};

struct anfu_code_sent {
	char id[ANFU_ID_MAX];
	int64_t expires_ms;
	char masked_target[64];
};

/* Sends a 6-digit code (IAM-MFA-07, -08). Anonymous callers (p == NULL)
 * may only ask for register codes and must solve a captcha; login and
 * step-up codes go only to the channel bound to the principal; bind codes
 * go to the new target, only after a recent step-up (see
 * anfu_iam_bind_contact). */
int anfu_iam_send_code(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, const struct anfu_code_req *req,
		       struct anfu_code_sent *ret, struct anfu_iam_err *err);

/* ---- accounts seen from outside --------------------------------------------- */

/* A user as the API shows it: personal data masked (DATA-MASK-*). */
struct anfu_user_view {
	char id[ANFU_ID_MAX];
	const char *kind;	      /* "customer", "merchant", "staff" */
	const char *status;	      /* "active", "locked", "disabled", "expired" */
	char login[ANFU_ID_MAX + 64]; /* masked */
	char phone[64];		      /* masked or "" */
	char email[128];	      /* masked or "" */
	char nickname[128];	      /* masked or "" */
	char real_name[64];	      /* masked or "" */
	char id_number[64];	      /* masked or "" */
	char roles[256];
	bool totp;
	bool payment_password;
	int64_t created_ms;
	int64_t last_used_ms;
	int64_t password_expires_ms;
};

/* ---- registration, login, MFA, logout ------------------------------------- */

struct anfu_register_req {
	const char *login; /* mainland mobile number or email */
	const char *code;  /* the register code sent to it */
	const char *password;
	const char *nickname;  /* optional */
	const char *real_name; /* optional */
	const char *id_number; /* optional, GB 11643 */
};

int anfu_iam_register(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_register_req *req, struct anfu_user_view *ret,
		      struct anfu_iam_err *err);

/* Told the new user's id and kind after a registration committed (a
 * post-commit hook of its transaction, on the registering thread, before
 * anfu_iam_register returns); must not fail the registration, so it
 * returns nothing. A crash between the commit and the hook loses the
 * call: observers sweep for what they missed (anfu_iam_user_ids). */
typedef void (*anfu_iam_registered_fn)(void *ud, const char *user_id, enum anfu_user_kind kind);
/* Adds an observer (ud borrowed, must outlive the service) before the
 * service takes requests; at most ANFU_LIMIT_IAM_OBSERVERS. Returns 0,
 * ANFU_EINVAL for NULL, ANFU_ELIMIT when full. */
int anfu_iam_on_registered(struct anfu_iam *iam, anfu_iam_registered_fn fn, void *ud);
/* The ids of users of kind after `after` ("" for the first), in id order,
 * at most cap (> 0) of them into ids, their count in *ret_n (only on
 * success; fewer than cap: the last page). Read on the calling thread's
 * connection. ANFU_EINVAL for bad arguments, or the store's error. */
int anfu_iam_user_ids(struct anfu_iam *iam, enum anfu_user_kind kind, const char *after,
		      char (*ids)[ANFU_ID_MAX], size_t cap, size_t *ret_n);

struct anfu_login_req {
	const char *login;
	const char *password;
	const char *captcha_id; /* required by captcha.mode */
	const char *captcha_answer;
	/* A trusted-device secret issued by an earlier MFA (the device cookie
	 * or the X-Device-Token header), or NULL. */
	const char *device_token;
};

#define ANFU_MFA_TOTP 0x1u
#define ANFU_MFA_SMS 0x2u
#define ANFU_MFA_EMAIL 0x4u

/* What a login or MFA step hands back. The session id goes into a cookie
 * (HttpOnly, Secure, SameSite=Strict), the CSRF token into the body. */
struct anfu_login_result {
	char session[80]; /* new session id: cookie value */
	char csrf[80];
	enum anfu_session_state state;
	unsigned mfa_methods;	   /* ANFU_MFA_* usable now (MFA_PENDING) */
	unsigned required;	   /* ANFU_RA_* (REQUIRED_ACTIONS) */
	int64_t previous_login_ms; /* 0 when none (IAM-HIST-02) */
	char previous_ip[48];
	int failures_since;		 /* failed attempts since the previous login */
	int64_t password_expires_ms;	 /* set when within the reminder window */
	bool new_device;		 /* the user was told (IAM-ANOM-01) */
	char ended_session[ANFU_ID_MAX]; /* session ended by the session limit */
	struct anfu_user_view user;
	/* Set by an MFA that trusted the device: the secret (64 hex) to hand
	 * to it (cookie and body) and when the trust ends. "" / 0 otherwise. */
	char device_token[80];
	int64_t device_expires_ms;
};

/* Password login (IAM-LOCK-*, IAM-CAP-01, IAM-ANOM-*, IAM-HIST-03). Unknown
 * login names, wrong passwords and locked accounts all get ANFU_EAUTH /
 * "invalid_credentials" after the same work (a dummy hash). ctx->admin
 * selects staff accounts and the admin cookie. */
int anfu_iam_login(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		   const struct anfu_login_req *req, struct anfu_login_result *ret,
		   struct anfu_iam_err *err);

/* Completes a login with a second factor: method "totp", "sms" or "email"
 * with its code. trust_device makes the device a possession factor
 * (IAM-MFA-01): a random secret is issued in ret->device_token (only its
 * keyed hash is kept) for mfa.device_trust_days; a later login that
 * presents it skips the second factor on a usual network. Never for staff.
 * Regenerates the session id (IAM-SESS-07). */
int anfu_iam_mfa(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		 const struct anfu_principal *p, const char *method, const char *code,
		 bool trust_device, struct anfu_login_result *ret, struct anfu_iam_err *err);

/* Step-up for sensitive operations (IAM-MFA-02): verifies a second factor,
 * records it on the session and regenerates the session id. */
int anfu_iam_step_up(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *method, const char *code,
		     struct anfu_login_result *ret, struct anfu_iam_err *err);
/* True when p's session proved a second factor within mfa.stepup_window
 * at now_ms (for other modules' sensitive changes, e.g. the wallet's own
 * limits, RISK-LIM-04). */
bool anfu_iam_stepped_up(const struct anfu_iam *iam, const struct anfu_principal *p,
			 int64_t now_ms);
/* The seconds between two codes of one purpose to one target
 * (mfa.code_resend; a send sooner is code_too_soon), for a page that shows
 * the wait before its next "Send code" (the cashier's step-up). */
int64_t anfu_iam_code_resend_s(const struct anfu_iam *iam);

/* Ends the caller's session on the server (IAM-SESS-02, -04). */
int anfu_iam_logout(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		    const struct anfu_principal *p);

/* ---- password reset (IAM-RST-*) ------------------------------------------ */

struct anfu_reset_start {
	char id[ANFU_ID_MAX];
	int64_t expires_ms;
};

/* Starts a reset: when the account exists and has two independent factors
 * (phone and email, or a phone or email plus TOTP), codes go to its bound
 * channels. The answer is the same whether or not it exists; on the main
 * listener (ctx->admin false) a staff account is treated exactly like an
 * unknown one (no codes). */
int anfu_iam_reset_begin(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *login,
			 const char *captcha_id, const char *captcha_answer,
			 struct anfu_reset_start *ret, struct anfu_iam_err *err);

struct anfu_reset_confirm {
	const char *reset_id;
	const char *sms_code;
	const char *email_code;
	const char *totp_code;
	const char *new_password;
};

/* Completes a reset with two factors; tells the user on a bound channel. */
int anfu_iam_reset_finish(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_reset_confirm *req, struct anfu_iam_err *err);

/* ---- self service ------------------------------------------------------------ */

int anfu_iam_me(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		const struct anfu_principal *p, struct anfu_user_view *ret);
/* One login attempt of the caller (IAM-HIST-01). Strings are malloc'd. */
struct anfu_login_entry {
	int64_t time_ms;
	char *ip;
	char *device; /* the device's label, or the start of its fingerprint */
	char *result; /* as recorded: "success", "failure", "locked", ... */
};
struct anfu_login_list {
	struct anfu_login_entry *v;
	size_t n;
};
/* Frees the entries of l and empties it; NULL-safe. */
void anfu_login_list_clear(struct anfu_login_list *l);
/* Recent login attempts of the caller, newest first, at most limit
 * (<= 0: 20; capped at 100). *ret is written only on success. */
int anfu_iam_my_logins(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, int limit, struct anfu_login_list *ret);

/* One live session of the caller. */
struct anfu_session_entry {
	char id[ANFU_ID_MAX]; /* public id "ses_..." */
	int64_t created_ms;
	int64_t last_seen_ms;
	char *ip;     /* malloc'd */
	bool current; /* the session of this request */
};
struct anfu_session_list {
	struct anfu_session_entry *v;
	size_t n;
};
void anfu_session_list_clear(struct anfu_session_list *l);
/* The caller's live sessions, oldest first. *ret written only on success. */
int anfu_iam_my_sessions(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, struct anfu_session_list *ret);
/* Ends one of the caller's sessions (session_id "ses_...") or, with NULL,
 * every other one. Ending a session other than the caller's own needs a
 * recent step-up (IAM-MFA-02): ANFU_EPERM / "step_up_required", audited
 * as denied. ANFU_ENOTFOUND for a session that is not theirs. */
int anfu_iam_end_sessions(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *session_id,
			  struct anfu_iam_err *err);
/* One trusted device of the caller. Strings are malloc'd. */
struct anfu_device_entry {
	char *id; /* "dev_..." */
	char *label;
	int64_t trusted_ms;
	int64_t trusted_until_ms; /* expiry, or sooner under a lowered device_trust_days */
	int64_t created_ms;
	int64_t last_seen_ms;
};
struct anfu_device_list {
	struct anfu_device_entry *v;
	size_t n;
};
void anfu_device_list_clear(struct anfu_device_list *l);
/* The caller's trusted devices, oldest first. *ret written only on
 * success. */
int anfu_iam_my_devices(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, struct anfu_device_list *ret);
/* Revokes one of the caller's trusted devices (device_id "dev_...") or,
 * with NULL, all of them; needs a recent step-up (ANFU_EPERM /
 * "step_up_required", audited as denied). ANFU_ENOTFOUND for a device that
 * is not theirs. */
int anfu_iam_remove_device(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const char *device_id,
			   struct anfu_iam_err *err);

/* Binds a new phone (kind "phone": a mainland mobile number) or email
 * (kind "email") to the caller (IAM-MFA-02, -09): needs a recent step-up,
 * and code is the "bind" code sent to that target (anfu_iam_send_code).
 * The value is sealed and indexed; the previously bound phone or email, if
 * any, is told ("binding_changed"); audited as "user.phone_bound" /
 * "user.email_bound" with masked values. Refusals: step_up_required,
 * invalid_field, code_invalid / code_expired (ANFU_EAUTH / ANFU_EEXPIRED,
 * the attempt counts on the code), already_exists (ANFU_EEXIST: bound to
 * another account) and conflict (already this account's). *ret is the
 * caller's masked view afterwards. */
int anfu_iam_bind_contact(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *kind, const char *target,
			  const char *code, struct anfu_user_view *ret, struct anfu_iam_err *err);

/* Changes the login password: needs the current one and, except as a
 * required action, a recent step-up (IAM-PWD-*, IAM-MFA-02). On success
 * the session gets a new id and CSRF token (IAM-SESS-07): ret->session,
 * ret->csrf, ret->state and ret->required are set (nothing else). The
 * history records "admin_force" when an administrator forced the change,
 * "expiry" for an expired password, else "user_change". */
int anfu_iam_change_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			     const struct anfu_principal *p, const char *current,
			     const char *new_password, struct anfu_login_result *ret,
			     struct anfu_iam_err *err);

/* What the password-strength indicator shows (IAM-PWD-13). */
struct anfu_pw_strength {
	int score;	  /* 0..4 (anfu_pwpolicy_strength) */
	int max;	  /* 4 */
	bool acceptable;  /* passes the customer policy */
	const char *rule; /* first failing rule code, or NULL (static) */
	char advice[256]; /* one sentence in ctx->lang */
};

/* Rates a password for the indicator shown while typing: its score and
 * the first rule of the customer policy it fails (personal data and the
 * history are not known here). Stores, logs and audits nothing. */
int anfu_iam_password_strength(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *pw,
			       size_t len, struct anfu_pw_strength *ret);

/* The anti-phishing reserved message (WEB-PHISH-01; iam/reserved.c). */
/* The reserved message of user user_id into out (cap bytes, at least
 * ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1), "" when not set. Returns 0,
 * ANFU_ENOTFOUND (no such user), ANFU_EINVAL or a store error. Reads only;
 * for the pages that show it (the account page, the cashier page). */
int anfu_iam_reserved_message_of(struct anfu_iam *iam, const char *user_id, char *out, size_t cap);
/* True when msg (NUL-terminated) may be a reserved message: at most
 * ANFU_LIMIT_RESERVED_MESSAGE_CHARS code points, well-formed text without
 * control, format or line-separator characters; "" clears the message. */
bool anfu_iam_reserved_message_ok(const char *msg);
/* The login page's first step (WEB-PHISH-01): the reserved message of the
 * customer named login into out (cap bytes, at least
 * ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1), and "" alike for an unknown
 * name, a name that is not an active customer's (or any name on the admin
 * listener) and a customer without one. Refuses with ANFU_ERATE
 * "too_many_failures" an address throttled for failed logins, and
 * "too_many_requests" (*ret_wait_s: seconds to wait; may be NULL) the
 * lookup past ANFU_LIMIT_IAM_RESERVED_LOOKUPS of the address within
 * lockout.ip_window. Writes, logs and audits nothing. Thread-safe. */
int anfu_iam_reserved_message_for_login(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
					const char *login, char *out, size_t cap, int *ret_wait_s,
					struct anfu_iam_err *err);
/* Sets the principal's reserved message (customers only: ANFU_EPERM
 * "forbidden" for others), audited "user.reserved_message_set" with its
 * length. ANFU_EINVAL "reserved_message_invalid" when msg is not ok;
 * nothing changes on a refusal. */
int anfu_iam_reserved_message_set(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *msg,
				  struct anfu_iam_err *err);

/* Sets or changes the 6-digit payment password (IAM-PWD-14): step-up. */
int anfu_iam_set_payment_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *pin,
				  struct anfu_iam_err *err);
/* Checks the payment password (payments call this); failures count and
 * lock payments (IAM-LOCK-03): ANFU_EAUTH, then ANFU_ELOCKED. */
int anfu_iam_verify_payment_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				     const struct anfu_principal *p, const char *pin,
				     struct anfu_iam_err *err);

struct anfu_tx;

/* A right payment PIN whose success (audit payment.password_verified) is
 * still to be recorded, by the payment's own write transaction. ctx and p
 * are borrowed from the caller and must outlive the struct. */
struct anfu_iam_pin_ok {
	bool pending; /* the success is not recorded yet */
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
};
/* As anfu_iam_verify_payment_password(), except that a right PIN with
 * nothing to change (no failure count or lock to clear, no record to
 * convert) is not written at once: *ret_ok (written only on success) gets
 * pending = true and the caller records it with anfu_iam_pin_ok_record_in()
 * inside the payment's own write transaction, or, when that transaction
 * does not commit (a refusal, an error, no transaction at all), with
 * anfu_iam_pin_ok_record(). Saves the payment a durable commit. With
 * pending = false everything was recorded here, as by the other. */
int anfu_iam_verify_payment_password_deferred(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
					      const struct anfu_principal *p, const char *pin,
					      struct anfu_iam_pin_ok *ret_ok,
					      struct anfu_iam_err *err);
/* Records a pending right PIN inside the caller's open write transaction tx
 * (any executor's, the ledger writer's too; one audit record): re-reads the
 * user there, clears a failure count a concurrent wrong entry left, stages
 * payment.password_verified, and sets ok->pending = false once staged (the
 * caller's commit keeps it, its rollback does not: then pending is its to
 * set again). ANFU_ELOCKED (nothing staged) when a concurrent wrong entry
 * locked payments meanwhile: the payment must be refused (payment_locked).
 * Not pending: 0, nothing done. */
int anfu_iam_pin_ok_record_in(struct anfu_iam *iam, struct anfu_tx *tx, struct anfu_iam_pin_ok *ok);
/* Records a pending right PIN in a transaction of its own (the payment's
 * did not commit it). A lock found meanwhile is audited as the refusal
 * (payment.password_refused) and is no error here. Not pending: 0. */
int anfu_iam_pin_ok_record(struct anfu_iam *iam, struct anfu_iam_pin_ok *ok);

struct anfu_totp_enrolment {
	char secret[64];       /* base32 */
	char uri[512];	       /* otpauth://totp/... */
	unsigned char *qr_png; /* malloc'd */
	size_t qr_png_len;
};

/* Starts TOTP enrolment (step-up unless it is a required action). */
int anfu_iam_totp_begin(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, struct anfu_totp_enrolment *ret,
			struct anfu_iam_err *err);
void anfu_totp_enrolment_clear(struct anfu_totp_enrolment *e);
/* Removes the caller's TOTP (confirmed or pending) after a step-up; the
 * user is told on the bound channels. Customers and merchant users only
 * (staff: forbidden, as their logins always need it); conflict when there
 * is none. A new one can then be enrolled. */
int anfu_iam_totp_remove(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, struct anfu_iam_err *err);
/* Confirms it with a first code; the secret becomes the user's factor and
 * the code counts as a step-up. The session gets a new id and CSRF token
 * (IAM-SESS-07): ret->session, ret->csrf, ret->state, ret->required. */
int anfu_iam_totp_confirm(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *code,
			  struct anfu_login_result *ret, struct anfu_iam_err *err);

/* ---- administration (admin listener) ------------------------------------------ */

struct anfu_user_filter {
	const char *kind;   /* or NULL */
	const char *status; /* or NULL */
	const char *after;  /* key-set pagination: ids after this one, or NULL */
	int limit;
};

/* A page of masked users (iam.user.read) in id order, written into
 * ret_users (cap entries, caller's; a page holds at most f->limit, 0: 50,
 * and never more than ANFU_LIMIT_ADMIN_LIST_MAX nor cap); *ret_n is how
 * many, set only on success. A merchant user holding
 * merchant.staff.manage gets the accounts of its own merchant only,
 * whatever f->kind says (IAM-RBAC-05). */
int anfu_iam_admin_list_users(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			      const struct anfu_principal *p, const struct anfu_user_filter *f,
			      struct anfu_user_view *ret_users, size_t cap, size_t *ret_n);

/* One account as an administrator sees it: the masked view and, after a
 * reveal (revealed true), its personal data in clear, NULL where the
 * account has none (heap, owned by the struct: anfu_admin_user_clear
 * wipes and frees them). delivered_to: where a new account's initial
 * password went ("email" / "sms", static), else NULL. */
struct anfu_admin_user {
	struct anfu_user_view view;
	bool revealed;
	char *login, *phone, *email, *real_name, *id_number;
	const char *delivered_to;
};
/* Wipes and frees what u holds and zeroes it (NULL-safe). */
void anfu_admin_user_clear(struct anfu_admin_user *u);

/* One user; reveal shows personal data unmasked (iam.user.pii.reveal,
 * audited: DATA-MASK-08, IAM-RBAC-06). *ret is the caller's to clear. */
int anfu_iam_admin_get_user(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const char *user_id, bool reveal,
			    struct anfu_admin_user *ret);

struct anfu_admin_create {
	const char *kind; /* "merchant" here; staff only via approval */
	const char *username;
	const char *merchant_id;
	const char *role;
	const char *email; /* where the initial password goes */
	const char *phone;
	int64_t expires_ms; /* 0: none */
	bool temporary;
};

/* Creates a merchant user with a random initial password sent to its own
 * channel and a forced change at first login (IAM-PWD-12). Needs a recent
 * step-up (step_up_required, audited as denied; IAM-MFA-02). *ret: the new
 * user's masked view and delivered_to. */
int anfu_iam_admin_create_user(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const struct anfu_admin_create *c,
			       struct anfu_admin_user *ret, struct anfu_iam_err *err);

/* A four-eyes request as its readers see it (iam/approval.c). result
 * (what the executor returned, or the failure's error) and payload (the
 * request in clear) are stored JSON documents and stay JSON, owned by the
 * view (NULL: none); anfu_approval_view_clear() releases them. */
struct anfu_approval_view {
	char id[ANFU_ID_MAX];
	int64_t number;
	char type[ANFU_LIMIT_APPROVAL_TYPE_NAME];
	char summary[ANFU_LIMIT_APPROVAL_SUMMARY];
	char maker_id[ANFU_ID_MAX];
	int64_t created_ms;
	char status[16];	      /* "pending", "rejected", "executed", "failed" */
	char checker_id[ANFU_ID_MAX]; /* "" until decided */
	bool decided;		      /* decided_ms is set */
	int64_t decided_ms;
	bool has_note; /* note is the decision's note */
	char note[ANFU_LIMIT_DECISION_NOTE + 1];
	json_t *result;
	/* Set by the readers (list, get): payload is the request in clear
	 * for a reader who may see it, NULL for the others. */
	bool payload_read;
	json_t *payload;
};

/* Releases what v holds and zeroes it (NULL-safe). */
void anfu_approval_view_clear(struct anfu_approval_view *v);

/* "disable", "enable", "unlock", "force_password_change": needs a recent
 * step-up (step_up_required, audited as denied; IAM-MFA-02). Disable,
 * unlock and force tell the user on the bound channels. Disabling or
 * enabling a staff account is not done at once: it files a four-eyes
 * request ("disable_staff" / "enable_staff", IAM-ACCT-03) as p, returned
 * in *ret_approval (the caller clears it; its id is "" when the action
 * was done at once). */
int anfu_iam_admin_act(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, const char *user_id, const char *action,
		       const char *reason, struct anfu_approval_view *ret_approval,
		       struct anfu_iam_err *err);

/* Issues a random temporary password that passes the account's policy,
 * queues it to the account's own bound email (else phone), forces a
 * change at the next login and ends every session of the account
 * (IAM-PWD-12, -15; recorded with reason "admin_reset", IAM-PWD-11).
 * Needs iam.user.force_password and a recent step-up; not on one's own
 * account, staff only by an administrator (forbidden). Without a bound
 * channel: no_delivery_channel (ANFU_ECONFLICT), nothing changed.
 * *ret_channel is "email" or "sms" (static). */
int anfu_iam_admin_reset_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *user_id,
				  const char *reason, const char **ret_channel,
				  struct anfu_iam_err *err);

/* Changes the validity period of a merchant or staff account to
 * expires_ms (0: none; otherwise in the future; a temporary account must
 * keep one, within accounts.temporary_max_days; IAM-ACCT-06). Retaining a
 * temporary account past its end (or reviving an expired one) also issues
 * a temporary password as anfu_iam_admin_reset_password() does
 * (IAM-ACCT-07), so it needs a bound channel (no_delivery_channel,
 * nothing changed). Needs iam.user.create and a recent step-up; not on
 * one's own account, staff only by an administrator. *ret_channel is where
 * the password went, or NULL when none was issued. For a staff account
 * nothing changes yet: a "staff_validity" request is filed (IAM-ACCT-03)
 * and returned in *ret_approval (the caller clears it; its id is ""
 * otherwise). */
int anfu_iam_admin_set_validity(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				const struct anfu_principal *p, const char *user_id,
				int64_t expires_ms, const char *reason, const char **ret_channel,
				struct anfu_approval_view *ret_approval, struct anfu_iam_err *err);

/* A merchant or staff account handed to another person (IAM-ACCT-12):
 * the new responsible person (IAM-ACCT-01, stored sealed as the real name)
 * and that person's own email and/or phone. Strings borrowed. */
struct anfu_admin_handover {
	const char *user_id;
	const char *responsible_name; /* 1..64 bytes */
	const char *email;	      /* at least one of email, phone */
	const char *phone;
	const char *reason;
};

/* Hands the account over: the new person's name and contacts replace the
 * old ones (which are told), the old person's authenticator and trusted
 * devices go, every session ends, and a temporary password goes to the
 * new person's email (else phone), to be changed at the next login, so
 * the old password stops working before the handover completes. Needs
 * iam.user.create and a recent step-up; not customers, not one's own
 * account, staff only by an administrator; already_exists when a new
 * contact belongs to another account. *ret_channel: "email" or "sms".
 * A staff account is handed over only through a "handover_staff" request
 * (IAM-ACCT-03), filed here and returned in *ret_approval (the caller
 * clears it; its id is "" otherwise): its checker confirms the new
 * contacts, so the temporary password never goes to a channel only the
 * maker named. */
int anfu_iam_admin_handover(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const struct anfu_admin_handover *in,
			    const char **ret_channel, struct anfu_approval_view *ret_approval,
			    struct anfu_iam_err *err);

/* Files a four-eyes request (IAM-SOD-03, IAM-ACCT-03): type
 * "create_operator", "grant_role" / "revoke_role", or a change of a staff
 * account ("disable_staff", "enable_staff", "staff_validity",
 * "handover_staff"), payload per type. *ret is the approval with its
 * sequential number (the caller clears it; no payload). */
int anfu_iam_approval_file(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const char *type, json_t *payload,
			   struct anfu_approval_view *ret, struct anfu_iam_err *err);
/* Approves (and executes) or rejects a pending request; the checker must
 * hold the type's approve permission and differ from the maker and from
 * the account the request is about (approval_self). confirm (borrowed, may
 * be NULL) is what the checker supplies to approve: for a type that
 * delivers a credential ("create_operator", "handover_staff") the email
 * and/or phone of the payload, typed again ({"email", "phone"}); missing
 * is missing_field, different is confirmation_mismatch (ANFU_ECONFLICT,
 * audited as denied), and the request stays pending. */
int anfu_iam_approval_decide(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			     const struct anfu_principal *p, const char *approval_id, bool approve,
			     const char *note, const json_t *confirm,
			     struct anfu_approval_view *ret, struct anfu_iam_err *err);
/* The newest requests (status NULL: all; at most cap, never more than
 * ANFU_LIMIT_APPROVAL_LIST, into ret, *ret_n of them, newest first) / one
 * request. A reader who holds the type's approve permission, or made the
 * request, also gets its whole payload in clear (the checker's view);
 * showing it is audited as "approval.viewed" in the same transaction. The
 * caller clears each view. */
int anfu_iam_approval_list(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const char *status,
			   struct anfu_approval_view *ret, size_t cap, size_t *ret_n);
int anfu_iam_approval_get(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *approval_id,
			  struct anfu_approval_view *ret);

/* ---- privilege-attempt alerts (AUD-ALERT-01) ------------------------------------- */

/* p was refused a route for lack of its permission (403 forbidden at the
 * authenticator): audits "access.denied" (object "<METHOD> <pattern>",
 * details the permission) and raises the alert in the same transaction
 * (iam/alert.c). Failures are logged; the caller answers 403 anyway. */
void anfu_iam_privilege_denied(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const char *method,
			       const char *route, const char *permission);
/* A privilege-attempt alert as an administrator sees it (iam/alert.c). */
struct anfu_alert_view {
	char id[ANFU_ID_MAX];
	int64_t number;
	char actor_id[ANFU_ID_MAX];
	char actor_kind[16]; /* "customer", "merchant", "staff" */
	char role_class[16]; /* "customer", "merchant", "operator", "admin" */
	int64_t first_ms, last_ms, attempts;
	char first_action[ANFU_LIMIT_ALERT_TEXT], last_action[ANFU_LIMIT_ALERT_TEXT];
	char last_object[ANFU_LIMIT_ALERT_TEXT], last_reason[ANFU_LIMIT_ALERT_TEXT];
	char ip[64];
	int64_t mailed;
	char state[16];			   /* "open", "acknowledged" */
	char acknowledged_by[ANFU_ID_MAX]; /* "" while open */
	bool acknowledged;		   /* acknowledged_ms is set */
	int64_t acknowledged_ms;
	bool has_note; /* note is the acknowledgement's */
	char note[ANFU_LIMIT_DECISION_NOTE + 1];
};

/* A page of alerts, newest first, into ret (cap entries, caller's): state
 * "open", "acknowledged" or NULL (all); cursor 0 for the first page, else
 * the *ret_next of the page before; limit 1..100 (0: 50), never more than
 * cap. *ret_n is how many, *ret_next the cursor of the next page (0: this
 * is the last); both set only on success. Needs iam.alert.manage. */
int anfu_iam_alerts(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		    const struct anfu_principal *p, const char *state, int64_t cursor, int limit,
		    struct anfu_alert_view *ret, size_t cap, size_t *ret_n, int64_t *ret_next);
/* Acknowledges an open alert with an optional note (<= 500 bytes): needs
 * iam.alert.manage and a recent step-up; nobody acknowledges an alert
 * about themselves (forbidden); conflict when it is acknowledged already.
 * Audited "alert.acknowledged". *ret is the alert afterwards. */
int anfu_iam_alert_acknowledge(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const char *alert_id,
			       const char *note, struct anfu_alert_view *ret,
			       struct anfu_iam_err *err);

/* A stored report (iam/review.c). content is the report itself, a stored
 * JSON document, and stays JSON: owned by the view (NULL: unreadable),
 * released by anfu_report_view_clear(). */
struct anfu_report_view {
	char id[ANFU_ID_MAX];
	char kind[24]; /* "account_review", "recertification" */
	int64_t created_ms;
	char created_by[ANFU_ID_MAX + 16]; /* a user id or "system" */
	json_t *content;
	char signed_off_by[ANFU_ID_MAX]; /* "" until signed off */
	bool signed_off;		 /* signed_off_ms is set */
	int64_t signed_off_ms;
	bool has_note; /* note is the sign-off's */
	char note[ANFU_LIMIT_DECISION_NOTE + 1];
};

/* Releases what v holds and zeroes it (NULL-safe). */
void anfu_report_view_clear(struct anfu_report_view *v);

/* Access recertification (IAM-ACCT-04): a report of every account with
 * roles and last use; a different person signs it off. *ret is the report
 * (the caller clears it). */
int anfu_iam_recert_create(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, struct anfu_report_view *ret);
int anfu_iam_recert_signoff(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const char *report_id, const char *note,
			    struct anfu_report_view *ret, struct anfu_iam_err *err);
/* Reports of kind "recertification" or "account_review" (NULL: both that
 * p may read), newest first, into ret (cap entries, at most
 * ANFU_LIMIT_REPORT_LIST); *ret_n set only on success. The caller clears
 * each. */
int anfu_iam_reports(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *kind, struct anfu_report_view *ret,
		     size_t cap, size_t *ret_n);
/* Runs the account review now, attributed to p (needs iam.review.read,
 * else ANFU_EPERM audited as denied); with p NULL it runs as the scheduled
 * job does, as actor "system". *ret is the report (the caller clears it). */
int anfu_iam_account_review(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, struct anfu_report_view *ret);

/* ---- bootstrap (CLI, local and audited) ------------------------------------------ */

/* Creates the first administrator (roles sysadmin + security_admin) with a
 * random initial password written into password_out (forced change at
 * first login; IAM-ADM-01, IAM-ACCT-10). ANFU_ECONFLICT when a staff
 * account exists, ANFU_EINVAL for a default name ("admin", "root", ...). */
int anfu_iam_bootstrap_admin(struct anfu_iam *iam, const char *username, char *password_out,
			     size_t cap, char *user_id_out, size_t id_cap);
/* Creates a staff account holding role without an approval, allowed only
 * while no active account can approve staff creation (the second person
 * four-eyes needs), else ANFU_ECONFLICT; audited as a bootstrap. */
int anfu_iam_bootstrap_staff(struct anfu_iam *iam, const char *username, const char *role,
			     char *password_out, size_t cap, char *user_id_out, size_t id_cap);
/* Break-glass unlock of a locked staff account by the host operator (when
 * no administrator can log in to unlock it): clears the lock and the
 * failure count, ends nothing else, audited as "user.unlocked" by system
 * with "via": "cli". ANFU_ENOTFOUND for no such staff account,
 * ANFU_ECONFLICT when it is not locked. */
int anfu_iam_breakglass_unlock(struct anfu_iam *iam, const char *username);

struct anfu_tx;

/* ---- notices from other services ------------------------------------------------- */

/* A notice another service sends a user (a money movement, a redemption):
 * its kind ([a-z_.], the notify kind) and its texts, already filled in,
 * in both languages. Borrowed. */
struct anfu_iam_notice {
	const char *kind;
	const char *subject_zh, *body_zh;
	const char *subject_en, *body_en;
};

/* Queues n to user_id on the channels the user has bound (SMS to the
 * phone, email), in the user's language, inside the caller's transaction
 * tx (a writer command's or an executor's: sent exactly when it commits).
 * A user with no bound channel gets nothing (logged, not an error).
 * Returns 0; ANFU_EINVAL for NULL fields; ANFU_ENOTFOUND for no such user;
 * the store's or the notifier's error. The texts are never logged. */
int anfu_iam_notify_user(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			 const struct anfu_iam_notice *n);
/* Queues n, as anfu_iam_notify_user does, to every user of merchant
 * merchant_id (kind merchant, status active or locked; the oldest
 * ANFU_LIMIT_IAM_MERCHANT_NOTICE_USERS) inside tx (iam/merchant_notice.c).
 * *ret_users (may be NULL) counts them. Returns 0 (also for none);
 * ANFU_EINVAL for NULL fields; the store's or the notifier's error. */
int anfu_iam_notify_merchant(struct anfu_iam *iam, struct anfu_tx *tx, const char *merchant_id,
			     const struct anfu_iam_notice *n, size_t *ret_users);

/* ---- codes bound to a transaction (iam/txcode.c; IAM-MFA-11, TX-CONFIRM-02) ---- */

/* Issues a one-time code (iam/codes.c, purpose ANFU_CODE_TX) for user_id
 * bound to context (the caller's record, e.g. a transfer's confirmation
 * id; only a check with the same context can use it), valid ttl_ms
 * (0, 10 min], and queues it by SMS to the user's bound phone inside the
 * caller's transaction tx: n's body in the user's language followed by
 * the code (n's texts name what the code confirms: amount, payee).
 * Returns 0; ANFU_ENOTFOUND when the user has no bound phone (or there
 * is no notifier); ANFU_EINVAL for bad arguments; the store's, the
 * vault's or the notifier's error. The code is never logged. */
int anfu_iam_tx_code_send(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			  const char *context, int64_t ttl_ms, const struct anfu_iam_notice *n);
/* Checks code (NULL counts as a wrong one) against the code of user_id
 * and context and uses it up on a match: 0; ANFU_EEXPIRED when it has
 * expired; ANFU_EAUTH when there is none, it was used or voided, or code
 * is wrong (the attempt counts in tx: the caller must commit tx for it to
 * count; after [mfa] code_max_attempts the code is void). */
int anfu_iam_tx_code_check(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			   const char *context, const char *code);

/* ---- other users, as other services may see them (iam/lookup.c) ------------------ */

/* A user as another service may know them (a transfer's payee and payer):
 * nothing unmasked leaves iam (DATA-MASK-*). */
struct anfu_iam_party {
	char id[ANFU_ID_MAX];
	enum anfu_user_kind kind;
	const char *status;	      /* effective now: "active", "locked", "disabled", "expired" */
	char lang[4];		      /* "zh" | "en": the language of the user's notices */
	char real_name[64];	      /* masked, or "" without a real name */
	char login[ANFU_ID_MAX + 64]; /* masked by the login's kind */
};

/* The active customer a payer means by `typed` (a mobile number, an email
 * or a login name, normalised as at login: a mobile number without its +86,
 * an email or a login name in lower case): the account whose login it is,
 * else the account that bound that mobile number as its phone. Read on the
 * calling thread's connection. Returns 0 with *ret (written only then);
 * ANFU_ENOTFOUND when typed cannot be a login identifier, no account has
 * it, or the account is not an active customer (the caller cannot tell
 * which); ANFU_EINVAL for NULL; the store's or the vault's error. */
int anfu_iam_customer_find(struct anfu_iam *iam, const char *typed, struct anfu_iam_party *ret);
/* The same view of the user user_id, of any kind and status, on the
 * calling thread's connection. ANFU_ENOTFOUND when there is none. */
int anfu_iam_party_get(struct anfu_iam *iam, const char *user_id, struct anfu_iam_party *ret);

/* ---- identity for other services (iam/identity.c; issue 10, bank) ---- */

/* A customer's identity in clear: each NULL when the account has none.
 * Heap strings, wiped and freed by anfu_iam_identity_clear. */
struct anfu_iam_identity {
	char *real_name, *id_number, *phone;
};
/* The real name, resident ID number and phone (the login when it is a
 * mobile number and no phone is bound) of customer user_id, read on the
 * calling thread's connection; *ret (only on success) is the caller's to
 * clear. ANFU_ENOTFOUND when there is no such customer. */
int anfu_iam_identity(struct anfu_iam *iam, const char *user_id, struct anfu_iam_identity *ret);
/* Wipes and frees what id holds and zeroes it; NULL-safe. */
void anfu_iam_identity_clear(struct anfu_iam_identity *id);

#endif
