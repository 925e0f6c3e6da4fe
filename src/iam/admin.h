/*
 * iam/admin: private interface between the administration files of
 * src/iam/ (admin_*.c, approval.c, review.c, bootstrap.c) and the service
 * (service.c). Not for use outside src/iam/ and its unit tests.
 */
#ifndef ANFU_IAM_ADMIN_H
#define ANFU_IAM_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/profile.h"
#include "base/rand.h"
#include "iam/iam.h"

struct anfu_db;
struct anfu_tx;
struct anfu_iam;
struct anfu_config_password;
struct anfu_pw_personal;

/* The account-review job ("iam.account_review" in anfu_iam_jobs): ud is
 * the service; runs every accounts.review_interval_days (the interval
 * iam_review_interval gives), the first time one interval after the first
 * start. */
int iam_review_job(void *ud, struct anfu_db *db, const char **result);
int64_t iam_review_interval(const void *svc);

/* Longest initial password made (the policy's minimum when larger). */
#define IAM_INITIAL_PASSWORD_LEN 16
#define IAM_INITIAL_PASSWORD_MAX 129

/* A random password that passes pol for an account with personal data pd
 * (IAM-PWD-12, IAM-ADM-01): initial passwords and the temporary ones an
 * administrator issues. out holds IAM_INITIAL_PASSWORD_MAX bytes. */
int iam_password_random(const struct anfu_config_password *pol, const struct anfu_pw_personal *pd,
			char out[IAM_INITIAL_PASSWORD_MAX]);

/* An account created by an administrator or the bootstrap: a random
 * initial password that passes the policy of its class, a forced change at
 * first login, its roles granted. Strings borrowed. */
struct iam_account_spec {
	enum anfu_user_kind kind; /* ANFU_USER_MERCHANT or ANFU_USER_STAFF */
	const char *username;	  /* normalised (lower case) */
	const char *merchant_id;  /* merchant accounts */
	const char *const *roles;
	size_t nroles;
	const char *email;  /* normalised, or NULL */
	const char *phone;  /* 11 digits, or NULL */
	const char *lang;   /* "zh" / "en", or NULL */
	int64_t expires_ms; /* 0: none */
	bool temporary;
	const char *created_by;	 /* actor id, "approval:apr_..." or "system:init" */
	const char *granted_by;	 /* who granted the roles */
	const char *approval_id; /* or NULL */
};

/* Creates the account inside the caller's write transaction and writes
 * its initial password into pw_out (cap >= IAM_INITIAL_PASSWORD_MAX; the
 * caller delivers it and wipes it) and its id into id_out. ANFU_EEXIST
 * when the name, phone or email is taken, ANFU_ECONFLICT when the roles
 * conflict. No audit record: the caller writes it. */
int iam_account_create(struct anfu_iam *iam, struct anfu_db *db, const struct iam_account_spec *s,
		       char *pw_out, size_t cap, char id_out[ANFU_ID_MAX]);

/* Audits "role.granted" for each role of s given to user_id (actor p, or
 * actor_id when p is NULL), in the caller's transaction. */
int iam_audit_grants(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *actor_id, const char *user_id,
		     const struct iam_account_spec *s);

/* True when name (any case) is one of the default account names no one
 * may take ("admin", "root", ...; IAM-ACCT-10). */
bool iam_name_reserved(const char *name);

/* The checker recorded on an approval being decided (approval.c). */
int iam_approval_checker(struct anfu_db *db, const char *approval_id, char out[ANFU_ID_MAX]);

/* Records a refused attempt (outcome "denied", details {"reason": code})
 * in a transaction of its own, after the caller rolled its own back. When
 * code says the principal went beyond its privileges (iam_alert_reason)
 * the privilege-attempt alert is raised in the same transaction and named
 * in the details ("alert_id"; AUD-ALERT-01). A failure is logged, not
 * returned: the caller reports the refusal (iam/alert.c). */
void iam_audit_denied(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const char *action, const char *object_type,
		      const char *object_id, const char *code);

/* True for the refusal codes that mean an attempt beyond one's privileges:
 * "forbidden" and "approval_self" (not step_up_required, csrf_failed, ...). */
bool iam_alert_reason(const char *code);

/* Raises a privilege-attempt alert about p inside the caller's write
 * transaction (AUD-ALERT-01): counts the attempt on p's open alert while
 * alerts.mail_window since its first attempt runs, else opens a new alert
 * and queues its mail to every active administrator with a bound email
 * (unless one about p went out within the window). action and object say
 * what was tried ("access.denied", "route:GET /admin/v1/users"); reason is
 * the refusal code. ret_id gets the alert's id. */
int iam_alert_raise(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		    const struct anfu_principal *p, const char *action, const char *object,
		    const char *reason, char ret_id[ANFU_ID_MAX]);

#endif
