/*
 * tests/unit/test_iam: the IAM core (src/iam/service.c, common.c,
 * jobs.c, user.c, notices.c, session.c, login.c, lockout.c, register.c,
 * reset.c, self.c).
 *
 * Each test gets a fresh data directory with real keys, a migrated SQLite
 * database, an audit writer, a vault, a notifier that is not started
 * (queued messages stay in notify_message, where the tests read them) and
 * the IAM service with small Argon2 parameters, on a frozen injectable
 * clock. Users are made the way the service makes them (iam_user_insert);
 * captchas and one-time codes through src/iam/factors.h so the tests know
 * the answers. Time rules are crossed by moving the clock, never by
 * sleeping. Refusals are checked with the state they must leave alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/profile.h"
#include "base/rand.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/factors.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "iam/rbac.h"
#include "store/store.h"
#include "vault/vault.h"

#include "fixture.h"

#define MIN_MS (60LL * 1000)
#define DAY_MS (24LL * 60 * MIN_MS)

#define PW1 "Kx9#mQ2$vLp7"
#define PW2 "Zr4!tWj8&nBd"
#define PW3 "Wd3@hJy8!rKo"
#define PHONE1 "13800001111"
#define PHONE2 "13900002222"
#define PHONE3 "13852947160" /* no runs of digits: personal-data rule test */

/* Where requests come from: the main listener, and the admin one. */
static const struct anfu_iam_ctx web = { "198.51.100.7", "Mozilla/5.0 (test)",
					 "dev_a",	 "req_1",
					 "en",		 false };
static const struct anfu_iam_ctx adm = { "10.0.0.5", "Mozilla/5.0 (console)",
					 "dev_c",    "req_2",
					 "en",	     true };

/* sessions.on_limit as configured: a test points it at a literal, so the
 * teardown puts the configuration's own string back before it is freed. */
static char *configured_on_limit;

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "iam",
						       .small_argon2 = true,
						       .frozen_clock = true };
	struct anfu_fixture *f = NULL;

	assert_int_equal(fixture_open(FIXTURE_IAM, &opts, &f), 0);
	configured_on_limit = f->iam_cfg->sessions.on_limit;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct anfu_fixture *f = *state;

	f->iam_cfg->sessions.on_limit = configured_on_limit;
	fixture_close(f);
	return 0;
}

/* ---- helpers -------------------------------------------------------------------- */

static int64_t notices(struct anfu_fixture *f, const char *kind)
{
	return fixture_count(f->db, "SELECT COUNT(*) FROM notify_message WHERE kind = $1", kind);
}

struct user_spec {
	enum anfu_user_kind kind;
	const char *login;
	const char *password;
	const char *phone;
	const char *email;
	const char *role;
	bool must_change;
};

/* Makes a user the way the service does, with its role. */
static void make_user(struct anfu_fixture *f, const struct user_spec *s, char id[ANFU_ID_MAX])
{
	char norm[256], hash[ANFU_PWHASH_STR_LEN], reason[128];
	const char *kind = NULL, *rule = NULL;
	struct iam_new_user nu = { 0 };
	enum anfu_role_class cls =
		s->kind == ANFU_USER_STAFF ? ANFU_CLASS_OPERATOR : ANFU_CLASS_CUSTOMER;

	assert_int_equal(anfu_pwpolicy_check(&f->iam_cfg->password[cls], s->password,
					     strlen(s->password), NULL, &rule),
			 0);
	assert_int_equal(iam_login_normalize(s->login, norm, sizeof(norm), &kind), 0);
	assert_int_equal(anfu_pwhash_hash(f->iam->pwhash, s->password, strlen(s->password), hash),
			 0);
	nu.kind = s->kind;
	nu.login = norm;
	nu.login_kind = kind;
	nu.password_hash = hash;
	nu.must_change = s->must_change;
	nu.phone = s->phone;
	nu.email = s->email;
	nu.lang = "en";
	nu.created_by = "system";
	nu.pwd_reason = "initial";
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_user_insert(f->iam, f->db, &nu, id), 0);
	assert_int_equal(anfu_rbac_grant(f->db, id, s->role, "system", NULL, anfu_clock_now_ms(),
					 reason, sizeof(reason)),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

static void make_customer(struct anfu_fixture *f, const char *phone, const char *email,
			  char id[ANFU_ID_MAX])
{
	struct user_spec s = { ANFU_USER_CUSTOMER, phone, PW1, phone, email, "customer", false };

	make_user(f, &s, id);
}

static void make_staff(struct anfu_fixture *f, const char *name, bool must_change,
		       char id[ANFU_ID_MAX])
{
	char email[64];
	struct user_spec s = { ANFU_USER_STAFF, name, PW1, NULL, email, "operator", must_change };

	(void)snprintf(email, sizeof(email), "%s@ops.example.cn", name);
	make_user(f, &s, id);
}

/* A security administrator (role class admin) and its principal as the
 * authenticator builds it, with a second factor just given. */
static void make_admin(struct anfu_fixture *f, const char *name, struct anfu_principal *p)
{
	char email[64], id[ANFU_ID_MAX];
	struct user_spec s = { ANFU_USER_STAFF, name, PW1, NULL, email, "security_admin", false };

	(void)snprintf(email, sizeof(email), "%s@ops.example.cn", name);
	make_user(f, &s, id);
	memset(p, 0, sizeof(*p));
	(void)snprintf(p->user_id, sizeof(p->user_id), "%s", id);
	p->kind = ANFU_USER_STAFF;
	p->state = ANFU_SESSION_ACTIVE;
	p->mfa_ms = anfu_clock_now_ms();
	assert_int_equal(anfu_rbac_load(f->db, id, p), 0);
	assert_int_equal(p->role_class, ANFU_CLASS_ADMIN);
}

/* A live captcha for purpose on a listener whose answer the test knows. */
static void captcha_for(struct anfu_fixture *f, const char *purpose, bool admin,
			char id[ANFU_ID_MAX], char answer[16])
{
	const struct anfu_captcha_use use = { purpose, admin };
	unsigned char *png = NULL;
	size_t len = 0;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(
		anfu_captcha_create(f->db, f->vault, &use, 5, 120000, id, &png, &len, answer), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	free(png);
}

/* A live login captcha of the main listener. */
static void captcha(struct anfu_fixture *f, char id[ANFU_ID_MAX], char answer[16])
{
	captcha_for(f, ANFU_CAPTCHA_LOGIN, false, id, answer);
}

/* The trusted-device secrets the tests' "browsers" keep, one per device
 * id (what the device cookie does): set by an MFA that trusted the device,
 * presented by every later login from it. */
#define BROWSERS 8
static struct {
	char device_id[64];
	char token[80];
} browser[BROWSERS];

static const char *browser_token(const struct anfu_iam_ctx *c)
{
	for (int i = 0; i < BROWSERS; i++)
		if (strcmp(browser[i].device_id, c->device_id) == 0)
			return browser[i].token;
	return NULL;
}

static void browser_keep(const struct anfu_iam_ctx *c, const char *token)
{
	int i = 0;

	while (i < BROWSERS - 1 && browser[i].device_id[0] &&
	       strcmp(browser[i].device_id, c->device_id) != 0)
		i++;
	(void)snprintf(browser[i].device_id, sizeof(browser[i].device_id), "%s", c->device_id);
	(void)snprintf(browser[i].token, sizeof(browser[i].token), "%s", token);
}

/* A password login with a solved captcha, from the "browser" of c's
 * device id (its trusted-device secret, if it holds one). */
static int login(struct anfu_fixture *f, const struct anfu_iam_ctx *c, const char *name,
		 const char *pw, struct anfu_login_result *res, struct anfu_iam_err *err)
{
	char cid[ANFU_ID_MAX], ans[16];
	struct anfu_login_req req = { name, pw, cid, ans, browser_token(c) };
	struct anfu_iam_err e = { NULL, NULL };

	captcha_for(f, ANFU_CAPTCHA_LOGIN, c->admin, cid, ans);
	memset(res, 0, sizeof(*res));
	return anfu_iam_login(f->iam, c, &req, res, err ? err : &e);
}

static int auth_full(struct anfu_fixture *f, const struct anfu_iam_ctx *c, const char *cookie,
		     const struct anfu_iam_auth_in *tmpl, struct anfu_principal *p,
		     struct anfu_iam_err *err)
{
	struct anfu_iam_auth_in in = *tmpl;
	struct anfu_iam_err e = { NULL, NULL };

	in.cookie = cookie;
	memset(p, 0, sizeof(*p));
	return anfu_iam_authenticate(f->iam, c, &in, p, err ? err : &e);
}

/* A GET of a route open to any session state. */
static int auth(struct anfu_fixture *f, const struct anfu_iam_ctx *c, const char *cookie,
		struct anfu_principal *p, struct anfu_iam_err *err)
{
	struct anfu_iam_auth_in in = { 0 };

	in.permission = ANFU_PERM_SESSION;
	in.allow_mfa_pending = true;
	in.allow_required = true;
	return auth_full(f, c, cookie, &in, p, err);
}

/* Issues a one-time code whose digits the test knows. */
static void issue_code(struct anfu_fixture *f, const char *purpose, const char *channel,
		       const char *user_id, const char *context, char code[8])
{
	char idx[IAM_HASH_HEX], id[ANFU_ID_MAX];
	struct anfu_code_issue ci = { purpose, channel, idx, user_id, context, 300000, 0 };
	int64_t exp = 0;

	assert_int_equal(iam_user_target_index(f->db, user_id, channel, idx), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_code_issue(f->db, f->vault, &ci, id, code, &exp), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

/* Completes a pending login with an SMS code. */
static int mfa_sms(struct anfu_fixture *f, const struct anfu_iam_ctx *c,
		   const struct anfu_login_result *pending, bool trust,
		   struct anfu_login_result *res, struct anfu_iam_err *err)
{
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char code[8];
	int r;

	assert_int_equal(auth(f, c, pending->session, &p, NULL), 0);
	assert_int_equal(p.state, ANFU_SESSION_MFA_PENDING);
	issue_code(f, ANFU_CODE_LOGIN, "sms", p.user_id, p.session_id, code);
	memset(res, 0, sizeof(*res));
	r = anfu_iam_mfa(f->iam, c, &p, "sms", code, trust, res, err ? err : &e);
	if (r == 0 && res->device_token[0])
		browser_keep(c, res->device_token);
	return r;
}

/* A login that ends ACTIVE: with an SMS second factor (and the device
 * then trusted) when one is asked for. */
static void login_active(struct anfu_fixture *f, const struct anfu_iam_ctx *c, const char *name,
			 const char *pw, struct anfu_login_result *res)
{
	struct anfu_login_result first;

	assert_int_equal(login(f, c, name, pw, &first, NULL), 0);
	if (first.state == ANFU_SESSION_MFA_PENDING) {
		assert_int_equal(mfa_sms(f, c, &first, true, res, NULL), 0);
	} else {
		*res = first;
	}
	assert_int_equal(res->state, ANFU_SESSION_ACTIVE);
}

static int ct_cb(void *ud, const struct anfu_row *r)
{
	const char *s = anfu_row_text(r, 0, NULL);

	(void)snprintf(ud, 4096, "%s", s ? s : "");
	return 1;
}

/* The newest queued message of kind, decrypted (caller frees). */
static char *notice_body(struct anfu_fixture *f, const char *kind, const char *channel)
{
	struct anfu_param p[2] = { iam_ps(kind), iam_ps(channel) };
	char id[256] = "", ct[4096] = "";
	char *body = NULL;
	size_t len = 0;

	assert_int_equal(
		anfu_db_exec(f->db,
			     "SELECT id FROM notify_message WHERE kind = $1 AND channel = $2"
			     " ORDER BY created_ms DESC, rowid DESC LIMIT 1",
			     p, 2, fixture_row_text, id, NULL),
		0);
	assert_true(id[0] != '\0');
	{
		struct anfu_param q[1] = { iam_ps(id) };
		assert_int_equal(anfu_db_exec(f->db,
					      "SELECT body_enc FROM notify_message WHERE id = $1",
					      q, 1, ct_cb, ct, NULL),
				 0);
	}
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "notify.body", id, ct, &body, &len),
			 0);
	return body;
}

/* The six-digit code in a message text. */
static void code_in(const char *body, char code[8])
{
	for (const char *s = body; *s; s++) {
		int n = 0;
		while (isdigit((unsigned char)s[n]))
			n++;
		if (n == 6) {
			memcpy(code, s, 6);
			code[6] = '\0';
			return;
		}
		if (n > 0)
			s += n - 1;
	}
	fail_msg("no code in the message");
}

static int64_t user_int(struct anfu_fixture *f, const char *col_sql, const char *id)
{
	int64_t v = -1;
	struct anfu_param p[1] = { iam_ps(id) };

	assert_int_equal(anfu_db_query_int(f->db, col_sql, p, 1, &v), 0);
	return v;
}

static void set_totp(struct anfu_fixture *f, const char *uid, char secret[64])
{
	char *enc = NULL;

	assert_int_equal(anfu_totp_secret(secret), 0);
	assert_int_equal(anfu_vault_seal(f->vault, "totp", uid, secret, strlen(secret), &enc), 0);
	{
		struct anfu_param p[2] = { iam_ps(enc), iam_ps(uid) };
		assert_int_equal(
			anfu_db_exec(f->db,
				     "UPDATE iam_user SET totp_enc = $1, totp_confirmed = 1"
				     " WHERE id = $2",
				     p, 2, NULL, NULL, NULL),
			0);
	}
	free(enc);
}

/* ---- login, history, lockout ------------------------------------------------------ */

/* req: IAM-HIST-02, IAM-HIST-03, IAM-MFA-03 */
static void test_login_success_reports_previous_login(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result r1, r2, r3;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX];
	int64_t t1;

	make_customer(f, PHONE1, NULL, uid);
	/* First login: unknown device, so a second factor is due. */
	assert_int_equal(login(f, &web, PHONE1, PW1, &r1, NULL), 0);
	assert_int_equal(r1.state, ANFU_SESSION_MFA_PENDING);
	assert_true(r1.mfa_methods & ANFU_MFA_SMS);
	assert_false(r1.mfa_methods & ANFU_MFA_TOTP);
	assert_int_equal(r1.previous_login_ms, 0);
	assert_int_equal(strlen(r1.session), 64);
	assert_int_equal(strlen(r1.csrf), 64);
	assert_string_equal(r1.user.login, "****1111");
	t1 = anfu_clock_now_ms();
	assert_int_equal(mfa_sms(f, &web, &r1, true, &r2, NULL), 0);
	assert_int_equal(r2.state, ANFU_SESSION_ACTIVE);
	/* A wrong password, then a login from the trusted device. */
	anfu_clock_advance_ms(MIN_MS);
	assert_int_equal(login(f, &web, PHONE1, PW2, &r3, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	anfu_clock_advance_ms(MIN_MS);
	assert_int_equal(login(f, &web, PHONE1, PW1, &r3, NULL), 0);
	assert_int_equal(r3.state, ANFU_SESSION_ACTIVE);
	assert_int_equal(r3.previous_login_ms, t1);
	assert_string_equal(r3.previous_ip, web.ip);
	assert_int_equal(r3.failures_since, 1);
	assert_false(r3.new_device);
	/* Every attempt is a row: pending, MFA success, failure, success. */
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id = $1",
				       uid),
			 4);
	assert_int_equal(fixture_audits(f->db, "auth.login"), 2);
	assert_int_equal(fixture_audits(f->db, "auth.mfa"), 1);
	assert_int_equal(fixture_audits(f->db, "auth.login_failed"), 1);
	assert_int_equal(fixture_audits(f->db, "device.trusted"), 1);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 0);
}

/* req: IAM-LOCK-01 */
static void test_lockout_on_fifth_failure_not_fourth(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, a);
	make_customer(f, PHONE2, NULL, b);
	for (int i = 0; i < 4; i++)
		assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), ANFU_EAUTH);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", a), 4);
	assert_int_equal(fixture_audits(f->db, "auth.locked"), 0);

	for (int i = 0; i < 5; i++)
		assert_int_equal(login(f, &web, PHONE2, PW2, &res, NULL), ANFU_EAUTH);
	assert_int_equal(login(f, &web, PHONE2, PW1, &res, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(user_int(f, "SELECT locked_until_ms FROM iam_user WHERE id = $1", b),
			 anfu_clock_now_ms() + 30 * MIN_MS);
	assert_int_equal(fixture_audits(f->db, "auth.locked"), 1);
	/* req: IAM-LOCK-04 — the customer is told on the bound phone. */
	assert_int_equal(notices(f, "lockout"), 1);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id = $1"
				       " AND result = 'locked'",
				       b),
			 1);
}

/* req: IAM-LOCK-02 */
static void test_timed_lock_over_at_30_minutes_not_29_59(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	char a[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, a);
	for (int i = 0; i < 5; i++)
		assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), ANFU_EAUTH);
	anfu_clock_advance_ms(30 * MIN_MS - 1000);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), ANFU_EAUTH);
	anfu_clock_advance_ms(1000);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	/* The count starts afresh after the lock: one failure is one. */
	assert_int_equal(mfa_sms(f, &web, &res, false, &res, NULL), 0);
	assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), ANFU_EAUTH);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", a), 1);
	assert_int_equal(user_int(f,
				  "SELECT COUNT(*) FROM iam_user WHERE id = $1"
				  " AND status = 'active'",
				  a),
			 1);
}

/* A wrong password as the first attempt after a timed lock ran out is the
 * first failure of a new count, not the sixth: it does not lock again.
 * req: IAM-LOCK-01, IAM-LOCK-02 */
static void test_first_failure_after_a_lock_starts_a_new_count(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	char a[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, a);
	for (int i = 0; i < 5; i++)
		assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), ANFU_EAUTH);
	assert_int_equal(fixture_audits(f->db, "auth.locked"), 1);
	anfu_clock_advance_ms(f->iam_cfg->lockout.user_minutes * MIN_MS);
	assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), ANFU_EAUTH);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", a), 1);
	assert_int_equal(user_int(f,
				  "SELECT COUNT(*) FROM iam_user WHERE id = $1"
				  " AND status = 'active' AND locked_until_ms IS NULL",
				  a),
			 1);
	assert_int_equal(fixture_audits(f->db, "auth.locked"), 1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
}

/* req: IAM-LOCK-01, IAM-LOCK-02 */
static void test_staff_locked_after_three_until_unlocked(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal admin;
	struct anfu_iam_err e = { NULL, NULL };
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX];
	struct anfu_approval_view filed = { 0 };

	make_staff(f, "oscar", false, a);
	make_staff(f, "olivia", false, b);
	for (int i = 0; i < 2; i++)
		assert_int_equal(login(f, &adm, "oscar", PW2, &res, NULL), ANFU_EAUTH);
	assert_int_equal(login(f, &adm, "oscar", PW1, &res, NULL), 0);

	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, &adm, "olivia", PW2, &res, NULL), ANFU_EAUTH);
	anfu_clock_advance_ms(7 * DAY_MS);
	assert_int_equal(login(f, &adm, "olivia", PW1, &res, NULL), ANFU_EAUTH);
	assert_int_equal(user_int(f,
				  "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND status ="
				  " 'locked' AND locked_until_ms IS NULL",
				  b),
			 1);
	assert_int_equal(notices(f, "lockout_staff"), 1);
	/* Only an administrator's unlock opens it again (admin_actions.c). */
	make_admin(f, "sadie", &admin);
	assert_int_equal(
		anfu_iam_admin_act(f->iam, &adm, &admin, b, "unlock", "called back", &filed, &e),
		0);
	/* An unlock acts at once, even for staff: nothing is filed. */
	assert_string_equal(filed.id, "");
	assert_int_equal(user_int(f,
				  "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND status ="
				  " 'active' AND failures = 0",
				  b),
			 1);
	assert_int_equal(
		fixture_count(f->db,
			      "SELECT COUNT(*) FROM audit_log WHERE action = 'user.unlocked'"
			      " AND outcome = 'success' AND object_id = $1",
			      b),
		1);
	assert_int_equal(notices(f, "account_unlocked"), 1);
	assert_int_equal(login(f, &adm, "olivia", PW1, &res, NULL), 0);
}

/* req: IAM-ANOM-02, IAM-ACCT-06, IAM-HIST-03 */
static void test_unknown_locked_disabled_and_wrong_listener_look_the_same(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	char a[ANFU_ID_MAX], s[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, a);
	make_staff(f, "oscar", false, s);
	assert_int_equal(login(f, &web, "13700003333", PW1, &res, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(login(f, &web, "nobody@example.cn", PW1, &res, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(
		fixture_count(f->db,
			      "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id IS NULL"
			      " AND reason = $1",
			      "unknown_login"),
		2);
	/* Customers only on the main listener, staff only on the admin one. */
	e.code = NULL;
	assert_int_equal(login(f, &adm, PHONE1, PW1, &res, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	e.code = NULL;
	assert_int_equal(login(f, &web, "oscar", PW1, &res, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	/* Disabled and expired accounts: same answer (IAM-ACCT-06). */
	{
		struct anfu_param p[2] = { iam_ps(a), ANFU_PI(anfu_clock_now_ms()) };
		assert_int_equal(anfu_db_exec(f->db,
					      "UPDATE iam_user SET expires_ms = $2 WHERE id = $1",
					      p, 2, NULL, NULL, NULL),
				 0);
	}
	e.code = NULL;
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id = $1"
				       " AND result = 'expired'",
				       a),
			 1);
	/* None of that touched the failure counter. */
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", a), 0);
}

/* req: IAM-CAP-01, IAM-CAP-02 */
static void test_login_needs_a_live_single_use_captcha(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_login_req req = { PHONE1, PW1, NULL, NULL };
	char uid[ANFU_ID_MAX], cid[ANFU_ID_MAX], ans[16];

	make_customer(f, PHONE1, NULL, uid);
	assert_int_equal(anfu_iam_login(f->iam, &web, &req, &res, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "captcha_required");
	captcha(f, cid, ans);
	req.captcha_id = cid;
	req.captcha_answer = "WRONG";
	assert_int_equal(anfu_iam_login(f->iam, &web, &req, &res, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "captcha_invalid");
	/* The wrong try used it up: the right answer is now refused. */
	req.captcha_answer = ans;
	assert_int_equal(anfu_iam_login(f->iam, &web, &req, &res, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "captcha_invalid");
	captcha(f, cid, ans);
	assert_int_equal(anfu_iam_login(f->iam, &web, &req, &res, &e), 0);
	assert_int_equal(anfu_iam_login(f->iam, &web, &req, &res, &e), ANFU_EINVAL);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 0);
}

/* A hash made with other argon2.* parameters (a configuration change since)
 * is replaced at the next right password, audited; a wrong password
 * replaces nothing. req: IAM-PWD-09 */
static void test_outdated_hash_is_replaced_at_next_login(void **state)
{
	struct anfu_fixture *f = *state;
	const struct anfu_pwhash_params old = { (uint64_t)f->iam_cfg->argon2.opslimit + 1,
						(size_t)f->iam_cfg->argon2.memlimit_kib * 1024 };
	const struct anfu_pwhash_params now = { (uint64_t)f->iam_cfg->argon2.opslimit,
						(size_t)f->iam_cfg->argon2.memlimit_kib * 1024 };
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], h[ANFU_PWHASH_STR_LEN], after[FIXTURE_TEXT_MAX];

	make_customer(f, PHONE1, NULL, uid);
	assert_int_equal(anfu_pwhash(&old, PW1, strlen(PW1), h), 0);
	{
		struct anfu_param q[2] = { iam_ps(uid), iam_ps(h) };

		assert_int_equal(anfu_db_exec(f->db,
					      "UPDATE iam_user SET pwd_hash = $2 WHERE id = $1", q,
					      2, NULL, NULL, NULL),
				 0);
	}
	assert_true(anfu_pwhash_needs_rehash(h, &now));
	assert_int_equal(login(f, &web, PHONE1, "Wr0ng#Passw9x", &res, &e), ANFU_EAUTH);
	fixture_text(f->db, "SELECT pwd_hash FROM iam_user WHERE id = $1", uid, after);
	assert_string_equal(after, h);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), 0);
	fixture_text(f->db, "SELECT pwd_hash FROM iam_user WHERE id = $1", uid, after);
	assert_string_not_equal(after, h);
	assert_false(anfu_pwhash_needs_rehash(after, &now));
	assert_int_equal(anfu_pwhash_verify(after, PW1, strlen(PW1)), 0);
	assert_int_equal(fixture_audits(f->db, "user.password_rehashed"), 1);
	/* The new hash is current: the next login rehashes nothing. */
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), 0);
	assert_int_equal(fixture_audits(f->db, "user.password_rehashed"), 1);
}

/* captcha.mode = after_failures asks for a captcha by the failures of the
 * name given and of the client's IP, counted alike for names that exist and
 * names that do not: a fresh IP cannot tell which names exist by whether a
 * captcha is asked. req: IAM-CAP-01 */
static void test_after_failures_captcha_does_not_reveal_accounts(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_ctx b = web, c = web, d = web;
	const char *const tried[] = { PHONE1 /* exists */, PHONE2 /* does not */ };
	char uid[ANFU_ID_MAX], uid2[ANFU_ID_MAX];

	free(f->iam_cfg->captcha.mode);
	f->iam_cfg->captcha.mode = anfu_xstrdup("after_failures");
	f->iam_cfg->captcha.after_failures = 1;
	make_customer(f, PHONE1, NULL, uid);
	make_customer(f, "13700004321", NULL, uid2);
	/* One failure on each name, from the web address. */
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(login(f, &web, tried[i], "Wr0ng#Passw9x", &res, &e), ANFU_EAUTH);
	/* From an address with no failures both names want a captcha alike. */
	b.ip = "203.0.113.77";
	for (size_t i = 0; i < 2; i++) {
		struct anfu_login_req req = { tried[i], PW1, NULL, NULL };

		e = (struct anfu_iam_err){ NULL, NULL };
		assert_int_equal(anfu_iam_login(f->iam, &b, &req, &res, &e), ANFU_EINVAL);
		assert_string_equal(e.code, "captcha_required");
	}
	/* Names with no failures, existing or not, pass without one (each from
	 * an address of its own, as a failure counts for its address too). */
	c.ip = "203.0.113.78";
	d.ip = "203.0.113.79";
	{
		struct anfu_login_req known = { "13700004321", "Wr0ng#Passw9x", NULL, NULL };
		struct anfu_login_req unknown = { "13700009876", "Wr0ng#Passw9x", NULL, NULL };

		e = (struct anfu_iam_err){ NULL, NULL };
		assert_int_equal(anfu_iam_login(f->iam, &c, &known, &res, &e), ANFU_EAUTH);
		assert_string_equal(e.code, "invalid_credentials");
		e = (struct anfu_iam_err){ NULL, NULL };
		assert_int_equal(anfu_iam_login(f->iam, &d, &unknown, &res, &e), ANFU_EAUTH);
		assert_string_equal(e.code, "invalid_credentials");
	}
	/* A right password (with its captcha) clears the name's count. */
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), 0);
	b.ip = "203.0.113.80";
	{
		struct anfu_login_req req = { PHONE1, PW1, NULL, NULL };

		e = (struct anfu_iam_err){ NULL, NULL };
		assert_int_equal(anfu_iam_login(f->iam, &b, &req, &res, &e), 0);
	}
}

/* req: IAM-ANOM-02 */
static void test_credential_stuffing_is_throttled_and_recorded_once(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_ctx other = web;
	char uid[ANFU_ID_MAX], name[32];

	make_customer(f, PHONE1, NULL, uid);
	for (int i = 0; i < 20; i++) {
		(void)snprintf(name, sizeof(name), "1370000%04d", i);
		assert_int_equal(login(f, &web, name, PW1, &res, NULL), ANFU_EAUTH);
	}
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_ERATE);
	assert_string_equal(e.code, "too_many_failures");
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_ERATE);
	assert_int_equal(fixture_audits(f->db, "security.credential_stuffing"), 1);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_login_attempt WHERE result = $1",
				       "throttled"),
			 2);
	other.ip = "203.0.113.9";
	assert_int_equal(login(f, &other, PHONE1, PW1, &res, NULL), 0);
	/* The block lasts lockout.ip_block after the last failure. */
	anfu_clock_advance_ms(f->iam_cfg->lockout.ip_block_s * 1000);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
}

/* The block of a throttled address lasts lockout.ip_block (900 s) after
 * its last failure, also once those failures have left lockout.ip_window
 * (600 s): refused at ip_block - 1 ms, let in at ip_block.
 * req: IAM-ANOM-02 */
static void test_ip_block_outlasts_the_failure_window(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], name[32];
	int64_t last, throttled;

	assert_true(f->iam_cfg->lockout.ip_block_s > f->iam_cfg->lockout.ip_window_s);
	make_customer(f, PHONE1, NULL, uid);
	for (int i = 0; i < f->iam_cfg->lockout.ip_failures; i++) {
		(void)snprintf(name, sizeof(name), "1370000%04d", i);
		assert_int_equal(login(f, &web, name, PW1, &res, NULL), ANFU_EAUTH);
	}
	last = anfu_clock_now_ms();
	anfu_clock_advance_ms(f->iam_cfg->lockout.ip_window_s * 1000 + 1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_ERATE);
	assert_string_equal(e.code, "too_many_failures");
	anfu_clock_advance_ms(last + f->iam_cfg->lockout.ip_block_s * 1000 - 1 -
			      anfu_clock_now_ms());
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_ERATE);
	throttled = fixture_count(f->db, "SELECT COUNT(*) FROM iam_login_attempt WHERE result = $1",
				  "throttled");
	assert_int_equal(throttled, 2);
	/* A refused attempt is no failure: the account's count is untouched. */
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 0);
	anfu_clock_advance_ms(1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
}

/* lockout.ip_failures failures within lockout.ip_window throttle the
 * address however short lockout.ip_block is set: with a 60 s block it is
 * still refused 61 s later, and let in once the failures left the window.
 * req: IAM-ANOM-02 */
static void test_ip_throttled_while_its_failures_are_in_the_window(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], name[32];

	f->iam_cfg->lockout.ip_block_s = 60;
	make_customer(f, PHONE1, NULL, uid);
	for (int i = 0; i < f->iam_cfg->lockout.ip_failures; i++) {
		(void)snprintf(name, sizeof(name), "1370000%04d", i);
		assert_int_equal(login(f, &web, name, PW1, &res, NULL), ANFU_EAUTH);
	}
	anfu_clock_advance_ms(61 * 1000);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_ERATE);
	assert_string_equal(e.code, "too_many_failures");
	anfu_clock_advance_ms(f->iam_cfg->lockout.ip_window_s * 1000 - 61 * 1000);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
}

/* req: IAM-ACCT-02 */
/* One reserved-message lookup of name from ctx: its result, the message
 * in out, the refusal code in *ret_code and the wait in *ret_wait. */
static int reserved_lookup(struct anfu_fixture *f, const struct anfu_iam_ctx *ctx, const char *name,
			   char *out, const char **ret_code, int *ret_wait)
{
	struct anfu_iam_err e = { NULL, NULL };
	int r = anfu_iam_reserved_message_for_login(
		f->iam, ctx, name, out, ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1, ret_wait, &e);

	*ret_code = e.code;
	return r;
}

/* The login page's lookup (WEB-PHISH-01): ANFU_LIMIT_IAM_RESERVED_LOOKUPS
 * per address within lockout.ip_window, the next refused with the seconds
 * left; another address has a count of its own, an IPv6 /64 one for all
 * its hosts; the next window counts afresh. req: WEB-PHISH-01 */
static void test_reserved_lookups_are_bounded_per_address(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_iam_ctx a = web, b = web;
	char out[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1];
	const char *code = NULL;
	int wait = 0;

	a.ip = "203.0.113.90";
	b.ip = "203.0.113.91";
	for (int i = 0; i < ANFU_LIMIT_IAM_RESERVED_LOOKUPS; i++) {
		assert_int_equal(reserved_lookup(f, &a, PHONE2, out, &code, &wait), 0);
		assert_string_equal(out, "");
	}
	anfu_clock_advance_ms(f->iam_cfg->lockout.ip_window_s * 1000 - 1000);
	assert_int_equal(reserved_lookup(f, &a, PHONE2, out, &code, &wait), ANFU_ERATE);
	assert_string_equal(code, "too_many_requests");
	assert_int_equal(wait, 1);
	assert_int_equal(reserved_lookup(f, &b, PHONE2, out, &code, &wait), 0);
	b.ip = "2001:db8:1:2::1";
	for (int i = 0; i < ANFU_LIMIT_IAM_RESERVED_LOOKUPS; i++)
		assert_int_equal(reserved_lookup(f, &b, PHONE2, out, &code, &wait), 0);
	b.ip = "2001:db8:1:2:ffff::7";
	assert_int_equal(reserved_lookup(f, &b, PHONE2, out, &code, &wait), ANFU_ERATE);
	b.ip = "2001:db8:1:3::1";
	assert_int_equal(reserved_lookup(f, &b, PHONE2, out, &code, &wait), 0);
	anfu_clock_advance_ms(1000);
	assert_int_equal(reserved_lookup(f, &a, PHONE2, out, &code, &wait), 0);
}

static void test_login_names_are_case_insensitive(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct user_spec s = { ANFU_USER_CUSTOMER, "Alice@Example.CN", PW1,  NULL,
			       "alice@example.cn", "customer",	       false };
	char uid[ANFU_ID_MAX];
	struct iam_new_user dup = { 0 };
	char id2[ANFU_ID_MAX];

	make_user(f, &s, uid);
	assert_int_equal(login(f, &web, "ALICE@example.cn", PW1, &res, NULL), 0);
	assert_string_equal(res.user.login, "ali**@e**.cn");
	dup.kind = ANFU_USER_CUSTOMER;
	dup.login = "alice@example.cn";
	dup.login_kind = "email";
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_user_insert(f->iam, f->db, &dup, id2), ANFU_EEXIST);
	(void)anfu_db_rollback(f->db);
}

/* req: AUD-CNT-02 — fail closed: nothing changes without its audit record */
static void test_audit_failure_changes_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	char uid[ANFU_ID_MAX];
	int64_t attempts;

	make_customer(f, PHONE1, NULL, uid);
	attempts =
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_login_attempt WHERE ip <> $1", "");
	anfu_audit_inject_fault(f->audit, true);
	assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), ANFU_EAUDIT);
	anfu_audit_inject_fault(f->audit, false);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 0);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_login_attempt WHERE ip <> $1", ""),
		attempts);
}

/* ---- second factors ------------------------------------------------------------------ */

/* req: IAM-MFA-01, IAM-SESS-07 */
static void test_mfa_with_totp_regenerates_session_and_refuses_replay(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result r1, r2;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], secret[64], code[8];

	make_customer(f, PHONE1, NULL, uid);
	set_totp(f, uid, secret);
	assert_int_equal(login(f, &web, PHONE1, PW1, &r1, NULL), 0);
	assert_int_equal(r1.state, ANFU_SESSION_MFA_PENDING);
	assert_true(r1.mfa_methods & ANFU_MFA_TOTP);
	assert_int_equal(auth(f, &web, r1.session, &p, NULL), 0);
	assert_int_equal(anfu_totp_code(secret, anfu_clock_now_ms(), code), 0);
	assert_int_equal(anfu_iam_mfa(f->iam, &web, &p, "totp", code, false, &r2, &e), 0);
	assert_int_equal(r2.state, ANFU_SESSION_ACTIVE);
	assert_string_not_equal(r2.session, r1.session);
	assert_string_not_equal(r2.csrf, r1.csrf);
	/* The pre-MFA id opens nothing any more. */
	assert_int_equal(auth(f, &web, r1.session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "unauthorized");
	assert_int_equal(auth(f, &web, r2.session, &p, NULL), 0);
	assert_int_equal(p.state, ANFU_SESSION_ACTIVE);
	assert_true(p.mfa_ms > 0);

	/* The same code again, on a new login: refused, and it counts. */
	assert_int_equal(login(f, &web, PHONE1, PW1, &r1, NULL), 0);
	assert_int_equal(auth(f, &web, r1.session, &p, NULL), 0);
	assert_int_equal(anfu_iam_mfa(f->iam, &web, &p, "totp", code, false, &r2, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "code_invalid");
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 1);
	assert_int_equal(fixture_audits(f->db, "auth.mfa_failed"), 1);
	anfu_clock_advance_ms(30000);
	assert_int_equal(anfu_totp_code(secret, anfu_clock_now_ms(), code), 0);
	assert_int_equal(anfu_iam_mfa(f->iam, &web, &p, "totp", code, false, &r2, &e), 0);
}

/* Two requests that read the account before either accepted the same TOTP
 * code (what two concurrent requests do where the database does not
 * serialise them): the guarded update of totp_last_step lets only the
 * first one through. req: IAM-MFA-01 */
static void test_totp_code_is_refused_to_a_request_holding_a_stale_row(void **state)
{
	struct anfu_fixture *f = *state;
	struct iam_user first = { 0 }, second = { 0 };
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], secret[64], code[8];
	const char *last = "SELECT totp_last_step FROM iam_user WHERE id = $1";
	int64_t step = anfu_clock_now_ms() / 1000 / 30;

	make_customer(f, PHONE1, NULL, uid);
	set_totp(f, uid, secret);
	assert_int_equal(anfu_totp_code(secret, anfu_clock_now_ms(), code), 0);
	assert_int_equal(iam_user_load(f->db, uid, &first), 0);
	assert_int_equal(iam_user_load(f->db, uid, &second), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_factor_verify(f->iam, f->db, &first, "totp", code, ANFU_CODE_LOGIN,
					   "ses_first", &e),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(user_int(f, last, uid), step);
	/* The second still holds the step from before the first accepted. */
	assert_int_equal(second.totp_last_step, 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_factor_verify(f->iam, f->db, &second, "totp", code, ANFU_CODE_LOGIN,
					   "ses_second", &e),
			 ANFU_EAUTH);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_string_equal(e.code, "code_invalid");
	assert_int_equal(user_int(f, last, uid), step);
	iam_user_clear(&first);
	iam_user_clear(&second);
}

/* req: IAM-LOCK-03 */
static void test_wrong_codes_count_toward_the_lock(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result r1, r2;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, uid);
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, &web, PHONE1, PW2, &r1, NULL), ANFU_EAUTH);
	assert_int_equal(login(f, &web, PHONE1, PW1, &r1, NULL), 0);
	assert_int_equal(auth(f, &web, r1.session, &p, NULL), 0);
	/* A factor the account does not have is no failure. */
	assert_int_equal(anfu_iam_mfa(f->iam, &web, &p, "email", "000000", false, &r2, &e),
			 ANFU_EPERM);
	assert_string_equal(e.code, "method_unavailable");
	assert_int_equal(anfu_iam_mfa(f->iam, &web, &p, "sms", "000000", false, &r2, &e),
			 ANFU_EAUTH);
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 4);
	assert_int_equal(anfu_iam_mfa(f->iam, &web, &p, "sms", "000001", false, &r2, &e),
			 ANFU_EAUTH);
	assert_int_equal(fixture_audits(f->db, "auth.locked"), 1);
	/* A locked account's sessions end. */
	assert_int_equal(auth(f, &web, r1.session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "session_expired");
}

/* req: IAM-MFA-03, IAM-ANOM-01 */
static void test_new_device_or_network_asks_for_a_factor_and_notifies(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_ctx away = web, phone = web;
	char uid[ANFU_ID_MAX];

	make_customer(f, PHONE1, "c1@example.cn", uid);
	login_active(f, &web, PHONE1, PW1, &res);
	assert_int_equal(notices(f, "new_device"), 2); /* a first login: SMS and email */
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_ACTIVE);
	assert_false(res.new_device);
	/* Same device, another network. */
	away.ip = "203.0.113.50";
	assert_int_equal(login(f, &away, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_MFA_PENDING);
	assert_true(res.new_device);
	assert_int_equal(res.mfa_methods, ANFU_MFA_SMS | ANFU_MFA_EMAIL);
	assert_int_equal(notices(f, "new_device"), 4);
	/* Same network, another device: not trusted, so a factor again. */
	phone.user_agent = "Mobile (test)";
	phone.device_id = "dev_b";
	assert_int_equal(login(f, &phone, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_MFA_PENDING);
	assert_true(res.new_device);
}

/* A device's trust lasts mfa.device_trust_days: active without a factor
 * on the last day, a factor again from the instant it runs out.
 * req: IAM-MFA-01, IAM-MFA-03 */
static void test_device_trust_runs_out(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res, pending;
	int64_t days = f->iam_cfg->mfa.device_trust_days;
	char uid[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res); /* SMS factor, device trusted */
	anfu_clock_advance_ms(days * 24 * 60 * 60 * 1000 - 1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_ACTIVE);
	anfu_clock_advance_ms(1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &pending, NULL), 0);
	assert_int_equal(pending.state, ANFU_SESSION_MFA_PENDING);
	/* The factor trusts the device anew. */
	assert_int_equal(mfa_sms(f, &web, &pending, true, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_ACTIVE);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_ACTIVE);
}

/* ---- sessions ------------------------------------------------------------------------ */

/* req: IAM-SESS-01 */
static void test_idle_session_expires_at_the_limit(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], reason[256];
	int64_t idle = f->iam_cfg->session[ANFU_CLASS_CUSTOMER].idle_minutes * MIN_MS;

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	anfu_clock_advance_ms(idle - 1);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	anfu_clock_advance_ms(idle);
	assert_int_equal(auth(f, &web, res.session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "session_expired");
	fixture_text(f->db, "SELECT revoke_reason FROM iam_session WHERE user_id = $1", uid,
		     reason);
	assert_string_equal(reason, "idle");
	assert_int_equal(fixture_audits(f->db, "session.ended"), 1);
}

/* req: IAM-SESS-05 */
static void test_session_ends_at_its_absolute_lifetime(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], reason[256];
	int64_t abs_min = f->iam_cfg->session[ANFU_CLASS_CUSTOMER].absolute_minutes;

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	for (int64_t m = 10; m < abs_min; m += 10) {
		anfu_clock_advance_ms(10 * MIN_MS);
		assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	}
	anfu_clock_advance_ms(10 * MIN_MS);
	assert_int_equal(auth(f, &web, res.session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "session_expired");
	fixture_text(f->db, "SELECT revoke_reason FROM iam_session WHERE user_id = $1", uid,
		     reason);
	assert_string_equal(reason, "absolute");
}

/* req: WEB-CONC-02 */
static void test_session_limit_ends_the_oldest_with_notice(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result s[4], res;
	struct anfu_principal p0, p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX];
	static char refuse[] = "refuse";

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &s[0]);
	assert_int_equal(auth(f, &web, s[0].session, &p0, NULL), 0);
	for (int i = 1; i < 3; i++) {
		anfu_clock_advance_ms(1000);
		assert_int_equal(login(f, &web, PHONE1, PW1, &s[i], NULL), 0);
		assert_string_equal(s[i].ended_session, "");
	}
	anfu_clock_advance_ms(1000);
	assert_int_equal(login(f, &web, PHONE1, PW1, &s[3], NULL), 0);
	assert_string_equal(s[3].ended_session, p0.session_id);
	assert_int_equal(auth(f, &web, s[0].session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "session_expired");
	assert_int_equal(auth(f, &web, s[1].session, &p, NULL), 0);
	assert_int_equal(notices(f, "session_ended"), 1);
	/* sessions.on_limit = refuse */
	f->iam_cfg->sessions.on_limit = refuse;
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, &e), ANFU_ECONFLICT);
	assert_string_equal(e.code, "session_limit");
	assert_int_equal(auth(f, &web, s[1].session, &p, NULL), 0);
	assert_int_equal(
		fixture_count(f->db,
			      "SELECT COUNT(*) FROM iam_login_attempt WHERE result = 'denied'"
			      " AND reason = $1",
			      "session_limit"),
		1);
}

/* req: WEB-CSRF-01 */
static void test_state_changing_requests_need_the_csrf_token(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_auth_in in = { 0 };
	char uid[ANFU_ID_MAX], wrong[65];

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	in.permission = "self.profile.update";
	in.state_changing = true;
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "csrf_failed");
	memcpy(wrong, res.csrf, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	in.csrf = wrong;
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "csrf_failed");
	in.csrf = res.csrf;
	in.origin = "https://evil.example";
	in.host = "pay.example.cn";
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "csrf_failed");
	in.origin = "https://pay.example.cn";
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, NULL), 0);
	in.origin = NULL;
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, NULL), 0);
	/* Reads and exempt routes need none. */
	in.csrf = NULL;
	in.state_changing = false;
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, NULL), 0);
	in.state_changing = true;
	in.csrf_exempt = true;
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, NULL), 0);
}

/* req: IAM-RBAC-01, IAM-SESS-03 */
static void test_routes_check_state_and_permission(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_auth_in in = { 0 };
	char uid[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, uid);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	in.permission = "self.profile.read";
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "mfa_required");
	assert_int_equal(mfa_sms(f, &web, &res, false, &res, NULL), 0);
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, NULL), 0);
	in.permission = "iam.user.read";
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "forbidden");
	in.permission = NULL;
	assert_int_equal(auth_full(f, &web, res.session, &in, &p, &e), ANFU_EPERM);
	/* No cookie, a made-up one, or one of the other listener. */
	assert_int_equal(auth(f, &web, NULL, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "unauthorized");
	assert_int_equal(auth(f, &web,
			      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
			      &p, &e),
			 ANFU_EAUTH);
	assert_int_equal(auth(f, &adm, res.session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "unauthorized");
}

/* req: IAM-SESS-06 */
static void test_binding_change_ends_the_session_under_enhanced(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_ctx moved = web;
	char uid[ANFU_ID_MAX], reason[256];

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	moved.ip = "198.51.100.8";
	/* level = basic: no binding. */
	f->cfg->level = ANFU_LEVEL_BASIC;
	assert_int_equal(auth(f, &moved, res.session, &p, NULL), 0);
	f->cfg->level = ANFU_LEVEL_ENHANCED;
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	assert_int_equal(auth(f, &moved, res.session, &p, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "session_expired");
	fixture_text(f->db, "SELECT revoke_reason FROM iam_session WHERE user_id = $1", uid,
		     reason);
	assert_string_equal(reason, "binding");
	assert_int_equal(fixture_audits(f->db, "session.binding_changed"), 1);
	/* The device fingerprint too. */
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	moved = web;
	moved.user_agent = "Other (test)";
	assert_int_equal(auth(f, &moved, res.session, &p, &e), ANFU_EAUTH);
	assert_int_equal(fixture_audits(f->db, "session.binding_changed"), 2);
}

/* req: IAM-SESS-02, IAM-SESS-04, IAM-RBAC-04 */
static void test_logout_and_own_sessions_only(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result a1, a2, b1;
	struct anfu_principal pa, pa2, pb;
	struct anfu_iam_err e = { NULL, NULL };
	char ua[ANFU_ID_MAX], ub[ANFU_ID_MAX];
	struct anfu_session_list sessions = { NULL, 0 };
	struct anfu_device_list devices = { NULL, 0 };
	struct anfu_login_list logins = { NULL, 0 };

	make_customer(f, PHONE1, NULL, ua);
	make_customer(f, PHONE2, NULL, ub);
	login_active(f, &web, PHONE1, PW1, &a1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &a2, NULL), 0);
	login_active(f, &web, PHONE2, PW1, &b1);
	assert_int_equal(auth(f, &web, a1.session, &pa, NULL), 0);
	assert_int_equal(auth(f, &web, a2.session, &pa2, NULL), 0);
	assert_int_equal(auth(f, &web, b1.session, &pb, NULL), 0);
	assert_int_equal(anfu_iam_my_sessions(f->iam, &web, &pa, &sessions), 0);
	assert_int_equal(sessions.n, 2);
	anfu_session_list_clear(&sessions);
	/* Someone else's session is not found. */
	assert_int_equal(anfu_iam_end_sessions(f->iam, &web, &pa, pb.session_id, &e),
			 ANFU_ENOTFOUND);
	assert_int_equal(auth(f, &web, b1.session, &pb, NULL), 0);
	assert_int_equal(anfu_iam_end_sessions(f->iam, &web, &pa, pa2.session_id, &e), 0);
	assert_int_equal(auth(f, &web, a2.session, &pa2, &e), ANFU_EAUTH);
	assert_int_equal(anfu_iam_logout(f->iam, &web, &pa), 0);
	assert_int_equal(auth(f, &web, a1.session, &pa, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "session_expired");
	assert_int_equal(fixture_audits(f->db, "auth.logout"), 1);
	/* Devices are per user too: a fresh session of A, stepped up, still
	 * does not find B's device. */
	login_active(f, &web, PHONE1, PW1, &a1);
	assert_int_equal(auth(f, &web, a1.session, &pa, NULL), 0);
	pa.mfa_ms = anfu_clock_now_ms(); /* as anfu_iam_step_up records it */
	assert_int_equal(anfu_iam_my_devices(f->iam, &web, &pb, &devices), 0);
	assert_int_equal(devices.n, 1);
	assert_int_equal(anfu_iam_remove_device(f->iam, &web, &pa, devices.v[0].id, &e),
			 ANFU_ENOTFOUND);
	assert_int_equal(anfu_iam_remove_device(f->iam, &web, &pb, devices.v[0].id, &e), 0);
	anfu_device_list_clear(&devices);
	assert_int_equal(anfu_iam_my_logins(f->iam, &web, &pb, 10, &logins), 0);
	assert_true(logins.n >= 2);
	anfu_login_list_clear(&logins);
}

/* ---- passwords ------------------------------------------------------------------------ */

/* req: IAM-PWD-01, IAM-PWD-04, IAM-PWD-06, IAM-PWD-11, IAM-PWD-15, IAM-MFA-02 */
static void test_change_password_rules_history_and_step_up(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res, other, rn;
	struct anfu_principal p, po;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], reason[256];

	make_customer(f, PHONE3, NULL, uid);
	login_active(f, &web, PHONE3, PW1, &res);
	assert_int_equal(login(f, &web, PHONE3, PW1, &other, NULL), 0);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	assert_int_equal(auth(f, &web, other.session, &po, NULL), 0);
	/* The second factor of the login is older than the step-up window. */
	anfu_clock_advance_ms(f->iam_cfg->mfa.stepup_window_s * 1000 + 1);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, PW2, &rn, &e), ANFU_EPERM);
	assert_string_equal(e.code, "step_up_required");
	p.mfa_ms = anfu_clock_now_ms(); /* as anfu_iam_step_up records it */
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, "Ab1!", &rn, &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "password_too_short");
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, "Kx9#Mq947160", &rn, &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "password_personal_data");
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, PW1, &rn, &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "password_reused");
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW3, PW2, &rn, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(user_int(f, "SELECT failures FROM iam_user WHERE id = $1", uid), 1);
	/* Nothing changed so far. */
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_password_history WHERE user_id = $1",
			      uid),
		1);
	anfu_clock_advance_ms(1000);
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, PW2, &rn, &e), 0);
	fixture_text(f->db,
		     "SELECT reason FROM iam_password_history WHERE user_id = $1"
		     " ORDER BY changed_ms DESC LIMIT 1",
		     uid, reason);
	assert_string_equal(reason, "user_change");
	assert_int_equal(notices(f, "password_changed"), 1);
	assert_int_equal(fixture_audits(f->db, "user.password_changed"), 1);
	/* This session stays under a new id and CSRF token (IAM-SESS-07); the
	 * other one ends. */
	assert_string_not_equal(rn.session, res.session);
	assert_string_not_equal(rn.csrf, res.csrf);
	assert_int_equal(rn.state, ANFU_SESSION_ACTIVE);
	assert_int_equal(auth(f, &web, res.session, &p, &e), ANFU_EAUTH);
	assert_int_equal(auth(f, &web, rn.session, &p, NULL), 0);
	assert_int_equal(auth(f, &web, other.session, &po, &e), ANFU_EAUTH);
	/* The old password stays in the history. */
	p.mfa_ms = anfu_clock_now_ms();
	anfu_clock_advance_ms(1000);
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW2, PW1, &rn, &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "password_reused");
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW2, PW3, &rn, &e), 0);
	assert_int_equal(login(f, &web, PHONE3, PW3, &res, NULL), 0);
	assert_int_equal(login(f, &web, PHONE3, PW1, &res, NULL), ANFU_EAUTH);
}

/* A session cookie as anfu_login_result carries it. */
#define COOKIE_MAX sizeof(((struct anfu_login_result *)0)->session)

/* Changes the password of the session *cookie from old to pw after a
 * fresh step-up; *cookie becomes the rotated session. */
static int change_password_in(struct anfu_fixture *f, char cookie[COOKIE_MAX], const char *old,
			      const char *pw, struct anfu_iam_err *e)
{
	struct anfu_login_result rn;
	struct anfu_principal p;
	int r;

	/* A change a second after the last one (changes within one
	 * millisecond count as one position of the history). */
	anfu_clock_advance_ms(1000);
	assert_int_equal(auth(f, &web, cookie, &p, NULL), 0);
	p.mfa_ms = anfu_clock_now_ms(); /* as anfu_iam_step_up records it */
	memset(&rn, 0, sizeof(rn));
	r = anfu_iam_change_password(f->iam, &web, &p, old, pw, &rn, e);
	if (r == 0)
		(void)snprintf(cookie, COOKIE_MAX, "%s", rn.session);
	return r;
}

/* A new password must differ from the last password.customer.history (5):
 * after five changes the first of them is still refused, the password
 * before it is accepted again. req: IAM-PWD-06 */
static void test_password_history_covers_the_last_five(void **state)
{
	static const char *const pws[] = { "Hv5@tQp9#mXe", "Jf6$wRz2!kLu", "Nb8%yTc4&gWs",
					   "Qd2^pMv7*hZr", PW2 };
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], cookie[COOKIE_MAX];
	const char *cur = PW1;

	assert_int_equal(f->iam_cfg->password[ANFU_CLASS_CUSTOMER].history, 5);
	make_customer(f, PHONE3, NULL, uid);
	login_active(f, &web, PHONE3, PW1, &res);
	(void)snprintf(cookie, sizeof(cookie), "%s", res.session);
	for (size_t i = 0; i < sizeof(pws) / sizeof(pws[0]); i++) {
		assert_int_equal(change_password_in(f, cookie, cur, pws[i], &e), 0);
		cur = pws[i];
	}
	/* The last five: pws[0..4]. */
	assert_int_equal(change_password_in(f, cookie, cur, pws[0], &e), ANFU_EINVAL);
	assert_string_equal(e.code, "password_reused");
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_password_history WHERE user_id = $1",
			      uid),
		6);
	assert_int_equal(change_password_in(f, cookie, cur, PW1, &e), 0);
	assert_int_equal(login(f, &web, PHONE3, PW1, &res, NULL), 0);
}

/* req: IAM-MFA-02, IAM-SESS-07 */
static void test_step_up_records_the_factor_and_rotates_the_session(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res, up;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], code[8];

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	anfu_clock_advance_ms(f->iam_cfg->mfa.stepup_window_s * 1000 + 1);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	assert_false(iam_stepped_up(f->iam, &p, anfu_clock_now_ms()));
	assert_int_equal(anfu_iam_step_up(f->iam, &web, &p, "sms", "000000", &up, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "code_invalid");
	assert_int_equal(fixture_audits(f->db, "auth.step_up_failed"), 1);
	issue_code(f, ANFU_CODE_STEP_UP, "sms", uid, p.session_id, code);
	assert_int_equal(anfu_iam_step_up(f->iam, &web, &p, "sms", code, &up, &e), 0);
	assert_string_not_equal(up.session, res.session);
	assert_int_equal(auth(f, &web, res.session, &p, &e), ANFU_EAUTH);
	assert_int_equal(auth(f, &web, up.session, &p, NULL), 0);
	assert_true(iam_stepped_up(f->iam, &p, anfu_clock_now_ms()));
	/* A login code does not do for a step-up (codes are bound to purpose). */
	issue_code(f, ANFU_CODE_LOGIN, "sms", uid, p.session_id, code);
	assert_int_equal(anfu_iam_step_up(f->iam, &web, &p, "sms", code, &up, &e), ANFU_EAUTH);
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, PW2, &res, &e), 0);
}

/* req: IAM-ADM-01, IAM-PWD-12, IAM-MFA-13 */
static void test_staff_first_login_changes_password_and_enrols_totp(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res, pwd, tot;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_auth_in in = { 0 };
	struct anfu_totp_enrolment en;
	char sid[ANFU_ID_MAX], code[8];

	make_staff(f, "oscar", true, sid);
	assert_int_equal(login(f, &adm, "oscar", PW1, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_REQUIRED_ACTIONS);
	assert_int_equal(res.required, ANFU_RA_CHANGE_PASSWORD | ANFU_RA_ENROL_TOTP);
	assert_string_equal(res.user.login, "o**r"); /* DATA-MASK-04 for user names */
	assert_string_equal(res.user.kind, "staff");
	in.permission = "self.profile.read";
	assert_int_equal(auth_full(f, &adm, res.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "password_change_required");
	assert_int_equal(auth(f, &adm, res.session, &p, NULL), 0);
	assert_int_equal(anfu_iam_change_password(f->iam, &adm, &p, PW1, PW2, &pwd, &e), 0);
	/* Changing the initial password is the user's own change (IAM-PWD-11). */
	{
		char reason[256];

		fixture_text(f->db,
			     "SELECT reason FROM iam_password_history WHERE user_id = $1"
			     " ORDER BY changed_ms DESC, rowid DESC LIMIT 1",
			     sid, reason);
		assert_string_equal(reason, "user_change");
	}
	/* Leaving a required action renews the session id (IAM-SESS-07). */
	assert_int_equal(pwd.state, ANFU_SESSION_REQUIRED_ACTIONS);
	assert_int_equal(pwd.required, ANFU_RA_ENROL_TOTP);
	assert_int_equal(auth(f, &adm, res.session, &p, &e), ANFU_EAUTH);
	assert_int_equal(auth_full(f, &adm, pwd.session, &in, &p, &e), ANFU_EPERM);
	assert_string_equal(e.code, "totp_enrolment_required");
	assert_int_equal(auth(f, &adm, pwd.session, &p, NULL), 0);
	assert_int_equal(p.required, ANFU_RA_ENROL_TOTP);
	memset(&en, 0, sizeof(en));
	assert_int_equal(anfu_iam_totp_begin(f->iam, &adm, &p, &en, &e), 0);
	assert_non_null(en.qr_png);
	assert_non_null(strstr(en.uri, "otpauth://totp/"));
	assert_int_equal(anfu_iam_totp_confirm(f->iam, &adm, &p, "000000", &tot, &e), ANFU_EAUTH);
	assert_int_equal(anfu_totp_code(en.secret, anfu_clock_now_ms(), code), 0);
	assert_int_equal(anfu_iam_totp_confirm(f->iam, &adm, &p, code, &tot, &e), 0);
	anfu_totp_enrolment_clear(&en);
	assert_int_equal(tot.state, ANFU_SESSION_ACTIVE);
	assert_string_not_equal(tot.session, pwd.session);
	assert_int_equal(auth(f, &adm, pwd.session, &p, &e), ANFU_EAUTH);
	assert_int_equal(auth_full(f, &adm, tot.session, &in, &p, NULL), 0);
	assert_int_equal(p.state, ANFU_SESSION_ACTIVE);
	/* From now on the login asks for the TOTP (IAM-MFA-13). */
	anfu_clock_advance_ms(60000);
	assert_int_equal(login(f, &adm, "oscar", PW2, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_MFA_PENDING);
	assert_true(res.mfa_methods & ANFU_MFA_TOTP);
	assert_int_equal(fixture_audits(f->db, "mfa.totp_enrolled"), 1);
}

/* req: IAM-PWD-07, IAM-PWD-08 */
static void test_password_expiry_reminder_and_forced_change(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	char uid[ANFU_ID_MAX];
	int64_t age = f->iam_cfg->password[ANFU_CLASS_CUSTOMER].max_age_days;
	int64_t remind = f->iam_cfg->password[ANFU_CLASS_CUSTOMER].remind_days;

	make_customer(f, PHONE1, "c1@example.cn", uid);
	anfu_clock_advance_ms((age - remind) * DAY_MS - MIN_MS);
	assert_int_equal(iam_test_run_jobs(f->iam, f->db), 0);
	assert_int_equal(notices(f, "password_expiry"), 0);
	anfu_clock_advance_ms(2 * MIN_MS);
	assert_int_equal(iam_test_run_jobs(f->iam, f->db), 0);
	assert_int_equal(notices(f, "password_expiry"), 2); /* SMS and email */
	assert_int_equal(iam_test_run_jobs(f->iam, f->db), 0);
	assert_int_equal(notices(f, "password_expiry"), 2); /* once per window */
	assert_int_equal(fixture_audits(f->db, "user.password_expiry_reminded"), 1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	assert_true(res.password_expires_ms > anfu_clock_now_ms());
	/* Expired: the login must change it first. */
	anfu_clock_advance_ms(remind * DAY_MS);
	assert_int_equal(login(f, &web, PHONE1, PW1, &res, NULL), 0);
	assert_int_equal(mfa_sms(f, &web, &res, false, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_REQUIRED_ACTIONS);
	assert_int_equal(res.required, ANFU_RA_CHANGE_PASSWORD);
}

/* req: IAM-PWD-14, IAM-LOCK-03, IAM-LOCK-04 */
static void test_payment_password_locks_payments(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX];

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, "582947", &e),
			 ANFU_ECONFLICT);
	assert_string_equal(e.code, "payment_password_unset");
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, "123456", &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "pin_sequence");
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, "582947", &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, "582947", &e), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, "582948", &e),
				 ANFU_EAUTH);
		assert_string_equal(e.code, "payment_password_invalid");
	}
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, "582948", &e),
			 ANFU_ELOCKED);
	assert_string_equal(e.code, "payment_locked");
	assert_int_equal(notices(f, "payment_locked"), 1);
	assert_int_equal(fixture_audits(f->db, "payment.locked"), 1);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, "582947", &e),
			 ANFU_ELOCKED);
	/* The login itself is not locked. */
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	anfu_clock_advance_ms(f->iam_cfg->lockout.pay_minutes * MIN_MS);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, "582947", &e), 0);
	/* Changing it needs a recent step-up. */
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, "629173", &e), ANFU_EPERM);
	assert_string_equal(e.code, "step_up_required");
}

/* The hourly purge: sessions past their limits end, spent rows go after a
 * day. req: IAM-SESS-01, IAM-CAP-02 */
static void test_purge_job_ends_idle_sessions_and_drops_spent_rows(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	char uid[ANFU_ID_MAX], cid[ANFU_ID_MAX], ans[16], reason[256];

	make_customer(f, PHONE1, NULL, uid);
	login_active(f, &web, PHONE1, PW1, &res);
	captcha(f, cid, ans);
	anfu_clock_advance_ms(f->iam_cfg->session[ANFU_CLASS_CUSTOMER].idle_minutes * MIN_MS);
	assert_int_equal(iam_test_run_jobs(f->iam, f->db), 0);
	fixture_text(f->db, "SELECT revoke_reason FROM iam_session WHERE user_id = $1", uid,
		     reason);
	assert_string_equal(reason, "idle");
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_captcha WHERE id = $1", cid), 1);
	anfu_clock_advance_ms(DAY_MS + MIN_MS);
	assert_int_equal(iam_test_run_jobs(f->iam, f->db), 0);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_captcha WHERE id = $1", cid), 0);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_session WHERE user_id = $1", uid),
		0);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_code WHERE user_id = $1", uid), 0);
	/* The history stays. */
	assert_true(fixture_count(f->db,
				  "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id = $1",
				  uid) > 0);
	assert_int_equal(fixture_audits(f->db, "iam.purge"), 2);
}

/* ---- password reset ------------------------------------------------------------------ */

/* req: IAM-RST-01, IAM-RST-02, IAM-RST-03, IAM-MFA-07 */
static void test_reset_with_two_factors(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_reset_start rs;
	struct anfu_reset_confirm rc = { 0 };
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], cid[ANFU_ID_MAX], ans[16], sms[8], mail[8], *body;

	make_customer(f, PHONE1, "c1@example.cn", uid);
	login_active(f, &web, PHONE1, PW1, &res);
	assert_int_equal(anfu_iam_reset_begin(f->iam, &web, PHONE1, NULL, NULL, &rs, &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "captcha_required");
	captcha_for(f, ANFU_CAPTCHA_RESET, false, cid, ans);
	assert_int_equal(anfu_iam_reset_begin(f->iam, &web, PHONE1, cid, ans, &rs, &e), 0);
	assert_true(strncmp(rs.id, "rst_", 4) == 0);
	assert_int_equal(rs.expires_ms, anfu_clock_now_ms() + f->iam_cfg->mfa.reset_ttl_s * 1000);
	body = notice_body(f, "reset_code", "sms");
	code_in(body, sms);
	assert_non_null(strstr(body, "reset")); /* says what the code is for */
	free(body);
	body = notice_body(f, "reset_code", "email");
	code_in(body, mail);
	free(body);
	rc.reset_id = rs.id;
	rc.sms_code = sms;
	rc.email_code = "000000";
	rc.new_password = PW2;
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "reset_invalid");
	rc.email_code = mail;
	rc.new_password = "short";
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "password_too_short");
	rc.new_password = PW1;
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "password_reused");
	rc.new_password = PW2;
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), 0);
	/* Single use. */
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "reset_invalid");
	assert_int_equal(auth(f, &web, res.session, &p, &e), ANFU_EAUTH);
	assert_int_equal(notices(f, "password_reset"), 2);
	assert_int_equal(fixture_audits(f->db, "user.password_reset"), 1);
	assert_int_equal(login(f, &web, PHONE1, PW2, &res, NULL), 0);
}

/* req: IAM-RST-03 */
static void test_reset_of_unknown_or_single_factor_account_looks_the_same(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_reset_start rs;
	struct anfu_reset_confirm rc = { 0 };
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], cid[ANFU_ID_MAX], ans[16];

	make_customer(f, PHONE1, NULL, uid); /* phone only: one factor */
	captcha_for(f, ANFU_CAPTCHA_RESET, false, cid, ans);
	assert_int_equal(anfu_iam_reset_begin(f->iam, &web, "13700003333", cid, ans, &rs, &e), 0);
	assert_true(strncmp(rs.id, "rst_", 4) == 0);
	assert_int_equal(rs.expires_ms, anfu_clock_now_ms() + f->iam_cfg->mfa.reset_ttl_s * 1000);
	captcha_for(f, ANFU_CAPTCHA_RESET, false, cid, ans);
	assert_int_equal(anfu_iam_reset_begin(f->iam, &web, PHONE1, cid, ans, &rs, &e), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_reset WHERE user_id IS NULL"
				       " AND factors = $1",
				       ""),
			 2);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM notify_message WHERE kind <> $1", ""),
		0);
	rc.reset_id = rs.id;
	rc.sms_code = "123456";
	rc.email_code = "654321";
	rc.new_password = PW2;
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "reset_invalid");
	assert_int_equal(
		fixture_count(f->db, "SELECT attempts FROM iam_reset WHERE id = $1", rs.id), 1);
	/* Expired after reset_ttl. */
	anfu_clock_advance_ms(f->iam_cfg->mfa.reset_ttl_s * 1000);
	assert_int_equal(anfu_iam_reset_finish(f->iam, &web, &rc, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "reset_invalid");
}

/* ---- registration -------------------------------------------------------------------- */

static int register_with_code(struct anfu_fixture *f, const char *login_name, const char *channel,
			      const char *norm, struct anfu_user_view *v, struct anfu_iam_err *e)
{
	char idx[IAM_HASH_HEX], id[ANFU_ID_MAX], code[8];
	struct anfu_code_issue ci = { ANFU_CODE_REGISTER, channel, idx, NULL, idx, 300000, 0 };
	struct anfu_register_req req = { login_name, code,   PW2,
					 "alice1",   "张三", "11010519491231002X" };
	int64_t exp;

	anfu_clock_advance_ms(60000); /* a code per minute, like code_resend */
	assert_int_equal(anfu_vault_index(f->vault, strcmp(channel, "sms") == 0 ? "phone" : "email",
					  norm, strlen(norm), idx),
			 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_code_issue(f->db, f->vault, &ci, id, code, &exp), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	return anfu_iam_register(f->iam, &web, &req, v, e);
}

/* req: IAM-ACCT-02, DATA-MASK-01, DATA-MASK-04, DATA-MASK-06, DATA-ENC-03 */
static void test_registration_and_duplicate_refused(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_user_view v;
	struct anfu_register_req bad = { "13800001111", "000000", PW2, NULL, NULL, NULL };
	struct anfu_iam_err e = { NULL, NULL };
	char phone[256];

	assert_int_equal(anfu_iam_register(f->iam, &web, &bad, &v, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "code_invalid");
	assert_int_equal(register_with_code(f, "+8613800001111", "sms", PHONE1, &v, &e), 0);
	assert_string_equal(v.kind, "customer");
	assert_string_equal(v.status, "active");
	assert_string_equal(v.login, "****1111");
	assert_string_equal(v.phone, "****1111");
	assert_string_equal(v.nickname, "a**1");
	assert_string_equal(v.real_name, "*三");
	assert_string_equal(v.id_number, "1****************X");
	assert_string_equal(v.roles, "customer");
	assert_int_equal(fixture_audits(f->db, "user.registered"), 1);
	fixture_text(f->db, "SELECT phone_enc FROM iam_user WHERE id = $1", v.id, phone);
	assert_null(strstr(phone, PHONE1));
	assert_int_equal(register_with_code(f, PHONE1, "sms", PHONE1, &v, &e), ANFU_EEXIST);
	assert_string_equal(e.code, "already_exists");
	assert_int_equal(notices(f, "register_attempt"), 1);
	/* Emails: unique whatever the case. */
	assert_int_equal(register_with_code(f, "Bob@Example.CN", "email", "bob@example.cn", &v, &e),
			 0);
	assert_string_equal(v.email, "bob**@e**.cn");
	assert_int_equal(register_with_code(f, "bob@EXAMPLE.cn", "email", "bob@example.cn", &v, &e),
			 ANFU_EEXIST);
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_user WHERE kind = $1", "customer"),
		2);
}

/* req: IAM-PWD-01 */
static void test_registration_reports_the_failed_password_rule(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_user_view v;
	struct anfu_register_req req = { PHONE1, "000000", "abcdefgh", NULL, NULL, NULL };
	struct anfu_iam_err e = { NULL, NULL };

	assert_int_equal(anfu_iam_register(f->iam, &web, &req, &v, &e), ANFU_EINVAL);
	assert_non_null(e.code);
	assert_string_equal(e.field, "password");
	req.login = "not a login";
	assert_int_equal(anfu_iam_register(f->iam, &web, &req, &v, &e), ANFU_EINVAL);
	assert_string_equal(e.field, "login");
	assert_int_equal(
		fixture_count(f->db, "SELECT COUNT(*) FROM iam_user WHERE kind = $1", "customer"),
		0);
}

/* ---- step-up for sessions and devices, binding, strength, forced change ---------------- */

/* Ending other sessions and removing a trusted device are sensitive: without
 * a recent second factor they are refused, audited as denied, and nothing
 * changes; ending one's own session (a logout) needs none.
 * req: IAM-MFA-02, IAM-SESS-02 */
static void test_ending_sessions_and_removing_devices_need_a_step_up(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result a1, a2;
	struct anfu_principal pa, pa2;
	struct anfu_iam_err e = { NULL, NULL };
	char ua[ANFU_ID_MAX], dev[256];

	make_customer(f, PHONE1, NULL, ua);
	login_active(f, &web, PHONE1, PW1, &a1);
	assert_int_equal(login(f, &web, PHONE1, PW1, &a2, NULL), 0);
	fixture_text(f->db, "SELECT id FROM iam_device WHERE user_id = $1", ua, dev);
	anfu_clock_advance_ms(f->iam_cfg->mfa.stepup_window_s * 1000 + 1);
	assert_int_equal(auth(f, &web, a1.session, &pa, NULL), 0);
	assert_int_equal(auth(f, &web, a2.session, &pa2, NULL), 0);
	assert_false(iam_stepped_up(f->iam, &pa, anfu_clock_now_ms()));
	assert_int_equal(anfu_iam_end_sessions(f->iam, &web, &pa, NULL, &e), ANFU_EPERM);
	assert_string_equal(e.code, "step_up_required");
	e.code = NULL;
	assert_int_equal(anfu_iam_end_sessions(f->iam, &web, &pa, pa2.session_id, &e), ANFU_EPERM);
	assert_string_equal(e.code, "step_up_required");
	e.code = NULL;
	assert_int_equal(anfu_iam_remove_device(f->iam, &web, &pa, dev, &e), ANFU_EPERM);
	assert_string_equal(e.code, "step_up_required");
	assert_int_equal(auth(f, &web, a2.session, &pa2, NULL), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_device WHERE user_id = $1"
				       " AND trusted_ms IS NOT NULL",
				       ua),
			 1);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied'"
				       " AND details LIKE '%step_up_required%' AND action = $1",
				       "session.ended"),
			 2);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied'"
				       " AND action = $1",
				       "device.removed"),
			 1);
	/* With a second factor now, both go through. */
	pa.mfa_ms = anfu_clock_now_ms(); /* as anfu_iam_step_up records it */
	assert_int_equal(anfu_iam_remove_device(f->iam, &web, &pa, dev, &e), 0);
	assert_int_equal(anfu_iam_end_sessions(f->iam, &web, &pa, pa2.session_id, &e), 0);
	assert_int_equal(auth(f, &web, a2.session, &pa2, &e), ANFU_EAUTH);
	/* One's own session ends without a step-up. */
	pa.mfa_ms = 0;
	assert_int_equal(anfu_iam_end_sessions(f->iam, &web, &pa, pa.session_id, &e), 0);
	assert_int_equal(auth(f, &web, a1.session, &pa, &e), ANFU_EAUTH);
}

/* Sends a bind code for p to target over channel and returns its digits. */
static void bind_code(struct anfu_fixture *f, const struct anfu_principal *p, const char *channel,
		      const char *target, char code[8])
{
	struct anfu_code_req req = { ANFU_CODE_BIND, channel, target, NULL, NULL };
	struct anfu_code_sent sent;
	struct anfu_iam_err e = { NULL, NULL };
	char *body;

	assert_int_equal(anfu_iam_send_code(f->iam, &web, p, &req, &sent, &e), 0);
	body = notice_body(f, "code.bind", channel);
	code_in(body, code);
	free(body);
}

/* req: IAM-MFA-02, IAM-MFA-09, DATA-ENC-03, DATA-MASK-01, DATA-MASK-03 */
static void test_binding_a_phone_and_an_email(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result res;
	struct anfu_principal p;
	struct anfu_user_view v;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], other[ANFU_ID_MAX], code[8], wrong[8], *body;

	make_customer(f, PHONE1, NULL, uid);
	make_customer(f, PHONE2, NULL, other);
	login_active(f, &web, PHONE1, PW1, &res);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	/* An email: a wrong code counts on the code and binds nothing. */
	bind_code(f, &p, "email", "New.Mail@Example.cn", code);
	(void)snprintf(wrong, sizeof(wrong), "%06ld", (strtol(code, NULL, 10) + 1) % 1000000);
	assert_int_equal(anfu_iam_bind_contact(f->iam, &web, &p, "email", "new.mail@example.cn",
					       wrong, &v, &e),
			 ANFU_EAUTH);
	assert_string_equal(e.code, "code_invalid");
	assert_int_equal(fixture_audits(f->db, "user.email_bind_failed"), 1);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_user WHERE id = $1"
				       " AND email_enc IS NULL",
				       uid),
			 1);
	assert_int_equal(anfu_iam_bind_contact(f->iam, &web, &p, "email", "new.mail@example.cn",
					       code, &v, &e),
			 0);
	assert_string_equal(v.email, "new**@e**.cn");
	assert_int_equal(
		fixture_count(f->db,
			      "SELECT COUNT(*) FROM iam_user WHERE id = $1"
			      " AND email_index IS NOT NULL AND email_enc NOT LIKE '%example%'",
			      uid),
		1);
	assert_int_equal(notices(f, "binding_changed"), 0); /* no email before */
	assert_int_equal(fixture_audits(f->db, "user.email_bound"), 1);
	/* Used once. */
	assert_int_equal(anfu_iam_bind_contact(f->iam, &web, &p, "email", "new.mail@example.cn",
					       code, &v, &e),
			 ANFU_EAUTH);
	/* A new phone: the old one is told, the audit record is masked. */
	bind_code(f, &p, "sms", "13700004444", code);
	assert_int_equal(
		anfu_iam_bind_contact(f->iam, &web, &p, "phone", "13700004444", code, &v, &e), 0);
	assert_string_equal(v.phone, "****4444");
	body = notice_body(f, "binding_changed", "sms");
	assert_non_null(strstr(body, "****4444"));
	free(body);
	assert_int_equal(
		fixture_count(f->db,
			      "SELECT COUNT(*) FROM audit_log WHERE action = $1"
			      " AND details LIKE '%****4444%' AND details LIKE '%****1111%'"
			      " AND details NOT LIKE '%13700004444%'",
			      "user.phone_bound"),
		1);
	/* Another account's number, even with its right code: already_exists. */
	bind_code(f, &p, "sms", PHONE2, code);
	assert_int_equal(anfu_iam_bind_contact(f->iam, &web, &p, "phone", PHONE2, code, &v, &e),
			 ANFU_EEXIST);
	assert_string_equal(e.code, "already_exists");
	/* Without a recent second factor: refused before any code is looked at. */
	anfu_clock_advance_ms(f->iam_cfg->mfa.stepup_window_s * 1000 + 1);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	e.code = NULL;
	assert_int_equal(
		anfu_iam_bind_contact(f->iam, &web, &p, "phone", "13700005555", "123456", &v, &e),
		ANFU_EPERM);
	assert_string_equal(e.code, "step_up_required");
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = $1"
				       " AND outcome = 'denied'",
				       "user.phone_bound"),
			 2);
}

/* A stored value its masking rule cannot read (a phone of 4 digits, an
 * email without a domain) is shown as "***", never in clear.
 * req: DATA-MASK-08 */
static void test_view_shows_unmaskable_values_as_stars(void **state)
{
	static const struct {
		const char *field, *col, *value;
	} odd[] = { { "phone", "phone_enc", "12-34" },
		    { "email", "email_enc", "alice@localhost" } };
	struct anfu_fixture *f = *state;
	struct anfu_user_view v;
	struct iam_user u = { 0 };
	char uid[ANFU_ID_MAX], sql[96];

	make_customer(f, PHONE1, "alice@example.cn", uid);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *enc = NULL;
		struct anfu_param p[2];

		assert_int_equal(anfu_vault_seal(f->vault, odd[i].field, uid, odd[i].value,
						 strlen(odd[i].value), &enc),
				 0);
		p[0] = iam_ps(enc);
		p[1] = iam_ps(uid);
		(void)snprintf(sql, sizeof(sql), "UPDATE iam_user SET %s = $1 WHERE id = $2",
			       odd[i].col);
		assert_int_equal(anfu_db_exec(f->db, sql, p, 2, NULL, NULL, NULL), 0);
		free(enc);
	}
	assert_int_equal(iam_user_load(f->db, uid, &u), 0);
	memset(&v, 0, sizeof(v));
	assert_int_equal(iam_user_view(f->iam, f->db, &u, &v), 0);
	assert_string_equal(v.phone, "***");
	assert_string_equal(v.email, "***");
	/* The login (the original number) is masked by its rule as before. */
	assert_string_equal(v.login, "****1111");
	iam_user_clear(&u);
}

/* req: IAM-PWD-13 */
static void test_password_strength_indicator(void **state)
{
	static const struct {
		const char *pw, *lang, *rule, *advice;
		bool acceptable;
		int min_score, max_score;
	} cases[] = {
		{ "", "en", ANFU_PW_EMPTY, "enter a password", false, 0, 0 },
		{ "Tq7#vLm", "en", ANFU_PW_TOO_SHORT, "at least 8 characters", false, 0, 1 },
		{ "Tq7#vLm", "zh", ANFU_PW_TOO_SHORT, "至少需要8个字符", false, 0, 1 },
		{ "8350271946", "en", ANFU_PW_DIGITS_ONLY, "digits only", false, 0, 1 },
		{ "password", "en", ANFU_PW_CLASSES, "mix upper", false, 0, 1 },
		{ "P@ssw0rd#9Kz", "en", ANFU_PW_DICTIONARY, "common words", false, 0, 2 },
		{ "Kz#9abcTqX", "zh", ANFU_PW_SEQUENCE, "连续字符", false, 0, 2 },
		{ PW1, "en", NULL, "strong", true, 3, 4 },
		{ "Kx9#mQ2$vLp7Zr4!tWj8", "zh", NULL, "强密码", true, 4, 4 },
	};
	struct anfu_fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anfu_iam_ctx c = web;
		struct anfu_pw_strength st;

		c.lang = cases[i].lang;
		assert_int_equal(anfu_iam_password_strength(f->iam, &c, cases[i].pw,
							    strlen(cases[i].pw), &st),
				 0);
		assert_int_equal(st.max, 4);
		assert_true(st.score >= cases[i].min_score && st.score <= cases[i].max_score);
		assert_int_equal(st.acceptable, cases[i].acceptable);
		if (cases[i].rule)
			assert_string_equal(st.rule, cases[i].rule);
		else
			assert_null(st.rule);
		assert_non_null(strstr(st.advice, cases[i].advice));
	}
	/* Nothing is stored or audited. */
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM audit_log WHERE seq > $1", "0"),
			 0);
}

/* A change an administrator forced is recorded as "admin_force"; the first
 * change of an initial password stays "user_change". req: IAM-PWD-11, IAM-PWD-15 */
static void test_forced_password_change_is_recorded_as_such(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_login_result first, res, rn;
	struct anfu_principal admin, p;
	struct anfu_iam_err e = { NULL, NULL };
	char uid[ANFU_ID_MAX], sid[ANFU_ID_MAX], reason[256];

	make_customer(f, PHONE1, "c1@example.cn", uid);
	make_staff(f, "sam", false, sid);
	memset(&admin, 0, sizeof(admin));
	(void)snprintf(admin.user_id, sizeof(admin.user_id), "%s", sid);
	admin.kind = ANFU_USER_STAFF;
	admin.role_class = ANFU_CLASS_ADMIN;
	admin.state = ANFU_SESSION_ACTIVE;
	admin.mfa_ms = anfu_clock_now_ms();
	admin.nperms = 1;
	(void)snprintf(admin.perms[0], sizeof(admin.perms[0]), "%s", "iam.user.force_password");
	{
		struct anfu_approval_view filed = { 0 };

		assert_int_equal(anfu_iam_admin_act(f->iam, &adm, &admin, uid,
						    "force_password_change", "leak", &filed, &e),
				 0);
		assert_string_equal(filed.id, "");
	}
	assert_int_equal(notices(f, "password_change_forced"), 2); /* phone and email */
	assert_true(user_int(f, "SELECT pwd_forced_ms FROM iam_user WHERE id = $1", uid) > 0);
	assert_int_equal(login(f, &web, PHONE1, PW1, &first, NULL), 0);
	assert_int_equal(mfa_sms(f, &web, &first, false, &res, NULL), 0);
	assert_int_equal(res.state, ANFU_SESSION_REQUIRED_ACTIONS);
	assert_int_equal(auth(f, &web, res.session, &p, NULL), 0);
	p.mfa_ms = 0; /* a required action needs no step-up */
	assert_int_equal(anfu_iam_change_password(f->iam, &web, &p, PW1, PW2, &rn, &e), 0);
	assert_int_equal(rn.state, ANFU_SESSION_ACTIVE);
	fixture_text(f->db,
		     "SELECT reason FROM iam_password_history WHERE user_id = $1"
		     " ORDER BY changed_ms DESC, rowid DESC LIMIT 1",
		     uid, reason);
	assert_string_equal(reason, "admin_force");
	assert_int_equal(user_int(f,
				  "SELECT COUNT(*) FROM iam_user WHERE id = $1"
				  " AND pwd_forced_ms IS NULL AND pwd_must_change = 0",
				  uid),
			 1);
}

/* From the main listener a staff account cannot be reset: it is answered
 * like an unknown login, and no code is sent. req: IAM-RST-03, IAM-ADM-02 */
static void test_staff_reset_from_the_main_listener_is_like_unknown(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_reset_start rs;
	struct anfu_iam_err e = { NULL, NULL };
	char sid[ANFU_ID_MAX], secret[64], cid[ANFU_ID_MAX], ans[16];

	make_staff(f, "sam", false, sid); /* email + TOTP: two factors */
	set_totp(f, sid, secret);
	captcha_for(f, ANFU_CAPTCHA_RESET, false, cid, ans);
	assert_int_equal(anfu_iam_reset_begin(f->iam, &web, "sam", cid, ans, &rs, &e), 0);
	assert_true(strncmp(rs.id, "rst_", 4) == 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_reset WHERE id = $1"
				       " AND user_id IS NULL AND factors = ''",
				       rs.id),
			 1);
	assert_int_equal(notices(f, "reset_code"), 0);
	/* The admin listener's service would take it (it has no reset route). */
	captcha_for(f, ANFU_CAPTCHA_RESET, true, cid, ans);
	assert_int_equal(anfu_iam_reset_begin(f->iam, &adm, "sam", cid, ans, &rs, &e), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_reset WHERE id = $1"
				       " AND user_id IS NOT NULL",
				       rs.id),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_success_reports_previous_login, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lockout_on_fifth_failure_not_fourth, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timed_lock_over_at_30_minutes_not_29_59, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_first_failure_after_a_lock_starts_a_new_count,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_staff_locked_after_three_until_unlocked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_unknown_locked_disabled_and_wrong_listener_look_the_same, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_login_needs_a_live_single_use_captcha, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_after_failures_captcha_does_not_reveal_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outdated_hash_is_replaced_at_next_login, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_trust_runs_out, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_credential_stuffing_is_throttled_and_recorded_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_block_outlasts_the_failure_window, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ip_throttled_while_its_failures_are_in_the_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_lookups_are_bounded_per_address,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_names_are_case_insensitive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_audit_failure_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_mfa_with_totp_regenerates_session_and_refuses_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_totp_code_is_refused_to_a_request_holding_a_stale_row, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_wrong_codes_count_toward_the_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_new_device_or_network_asks_for_a_factor_and_notifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_session_expires_at_the_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_ends_at_its_absolute_lifetime, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_limit_ends_the_oldest_with_notice,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_changing_requests_need_the_csrf_token,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_check_state_and_permission, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_binding_change_ends_the_session_under_enhanced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_logout_and_own_sessions_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_password_rules_history_and_step_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_history_covers_the_last_five, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_step_up_records_the_factor_and_rotates_the_session, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_staff_first_login_changes_password_and_enrols_totp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_expiry_reminder_and_forced_change,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_payment_password_locks_payments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_purge_job_ends_idle_sessions_and_drops_spent_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_two_factors, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reset_of_unknown_or_single_factor_account_looks_the_same, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_registration_and_duplicate_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_registration_reports_the_failed_password_rule,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ending_sessions_and_removing_devices_need_a_step_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binding_a_phone_and_an_email, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_shows_unmaskable_values_as_stars, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_password_strength_indicator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_password_change_is_recorded_as_such,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_staff_reset_from_the_main_listener_is_like_unknown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
