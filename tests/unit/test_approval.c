/*
 * tests/unit/test_approval: the four-eyes approval service and what it
 * gates (src/iam/approval.c, admin_types.c), the bootstrap (bootstrap.c),
 * the admin operations (admin_users.c, admin_actions.c, admin_tenure.c)
 * and the reports (review.c).
 *
 * Each test gets a fresh data directory with real keys, a migrated SQLite
 * database, an audit writer, a vault, a notifier (not started: queued
 * messages stay in notify_message) and the IAM service with small Argon2
 * parameters, on a frozen injectable clock. The setup bootstraps the
 * people the tests need, as `anfu init` would: an administrator (sysadmin
 * + security_admin, the maker), a finance officer, an auditor, and last a
 * security officer (the checker; after it exists no more bootstrap is
 * allowed). Every refusal is checked together with the state it must leave
 * unchanged, and every change with its audit record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "app/app.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/rand.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "iam/admin.h"
#include "iam/api/module.h"
#include "iam/approval.h"
#include "iam/config.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "iam/rbac.h"
#include "store/store.h"

#include "fixture.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

struct who {
	char id[ANFU_ID_MAX];
	struct anfu_principal p;
};

struct fix {
	struct anfu_fixture *fx; /* everything up to the IAM service */
	char admin_pw[IAM_INITIAL_PASSWORD_MAX];
	struct who admin;   /* sysadmin + security_admin: files requests */
	struct who finance; /* finance: a target */
	struct who auditor; /* auditor: reads, signs off recertifications */
	struct who checker; /* security_officer: approves */
};

static const struct anfu_iam_ctx ctx = {
	"192.0.2.10", "cmocka", "dev_test", "req_test", "en", true
};

static void principal_of(struct fix *f, struct who *w)
{
	memset(&w->p, 0, sizeof(w->p));
	(void)snprintf(w->p.user_id, sizeof(w->p.user_id), "%s", w->id);
	w->p.kind = ANFU_USER_STAFF;
	w->p.state = ANFU_SESSION_ACTIVE;
	w->p.mfa_ms = anfu_clock_now_ms(); /* staff sessions begin with MFA */
	assert_int_equal(anfu_rbac_load(f->fx->db, w->id, &w->p), 0);
}

static void bootstrap_people(struct fix *f)
{
	char pw[IAM_INITIAL_PASSWORD_MAX];

	assert_int_equal(anfu_iam_bootstrap_admin(f->fx->iam, "alice", f->admin_pw,
						  sizeof(f->admin_pw), f->admin.id,
						  sizeof(f->admin.id)),
			 0);
	assert_int_equal(anfu_iam_bootstrap_staff(f->fx->iam, "fiona", "finance", pw, sizeof(pw),
						  f->finance.id, sizeof(f->finance.id)),
			 0);
	assert_int_equal(anfu_iam_bootstrap_staff(f->fx->iam, "audrey", "auditor", pw, sizeof(pw),
						  f->auditor.id, sizeof(f->auditor.id)),
			 0);
	assert_int_equal(anfu_iam_bootstrap_staff(f->fx->iam, "carol", "security_officer", pw,
						  sizeof(pw), f->checker.id, sizeof(f->checker.id)),
			 0);
	principal_of(f, &f->admin);
	principal_of(f, &f->finance);
	principal_of(f, &f->auditor);
	principal_of(f, &f->checker);
}

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "approval",
						       .small_argon2 = true,
						       .frozen_clock = true };
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_open(FIXTURE_IAM, &opts, &f->fx), 0);
	assert_int_equal(anfu_app_register_approvals(&anfu_iam_module), 0);
	bootstrap_people(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	fixture_close(f->fx);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static int64_t audits(struct fix *f, const char *action, const char *outcome)
{
	struct anfu_param p[2] = { ANFU_PS(action), ANFU_PS(outcome) };
	int64_t n = -1;

	assert_int_equal(anfu_db_query_int(f->fx->db,
					   "SELECT COUNT(*) FROM audit_log WHERE action = $1 "
					   "AND outcome = $2",
					   p, 2, &n),
			 0);
	return n;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Where operator_payload() sends the initial password. */
#define OPS_EMAIL "ops.person@example.cn"

static json_t *operator_payload(const char *username, const char *role)
{
	json_t *p = json_pack("{s:s,s:[s],s:s}", "username", username, "roles", role, "email",
			      OPS_EMAIL);

	assert_non_null(p);
	return p;
}

static json_t *role_payload(const char *user_id, const char *role)
{
	json_t *p = json_pack("{s:s,s:s}", "user_id", user_id, "role", role);

	assert_non_null(p);
	return p;
}

static void clear_views(struct anfu_approval_view *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		anfu_approval_view_clear(&v[i]);
}

/* Files a request (payload consumed); 0 or the refusal. */
static int file_req(struct fix *f, const struct who *w, const char *type, json_t *payload,
		    char id[ANFU_ID_MAX], int64_t *number, struct anfu_iam_err *err)
{
	struct anfu_approval_view out = { 0 };
	struct anfu_iam_err e = { NULL, NULL };
	int r = anfu_iam_approval_file(f->fx->iam, &ctx, &w->p, type, payload, &out,
				       err ? err : &e);

	json_decref(payload);
	if (r == 0) {
		assert_string_equal(out.status, "pending");
		if (id)
			(void)snprintf(id, ANFU_ID_MAX, "%s", out.id);
		if (number)
			*number = out.number;
		anfu_approval_view_clear(&out);
	} else {
		assert_string_equal(out.id, "");
		assert_null(out.result);
	}
	return r;
}

static void file_ok(struct fix *f, const char *type, json_t *payload, char id[ANFU_ID_MAX])
{
	assert_int_equal(file_req(f, &f->admin, type, payload, id, NULL, NULL), 0);
}

/* Decides with what the checker confirms (borrowed, may be NULL); *ret
 * (may be NULL) gets the approval on success (the caller clears it). */
static int decide_confirm(struct fix *f, const struct who *w, const char *id, bool approve,
			  const json_t *confirm, struct anfu_approval_view *ret,
			  struct anfu_iam_err *err)
{
	struct anfu_approval_view out = { 0 };
	struct anfu_iam_err e = { NULL, NULL };
	int r = anfu_iam_approval_decide(f->fx->iam, &ctx, &w->p, id, approve, "checked", confirm,
					 &out, err ? err : &e);

	if (r < 0)
		assert_string_equal(out.id, "");
	if (r == 0 && ret)
		*ret = out;
	else
		anfu_approval_view_clear(&out);
	return r;
}

/* Decides; an approval confirms OPS_EMAIL (what operator_payload() names;
 * other types ignore it). */
static int decide(struct fix *f, const struct who *w, const char *id, bool approve,
		  struct anfu_approval_view *ret, struct anfu_iam_err *err)
{
	json_t *confirm = json_pack("{s:s}", "email", OPS_EMAIL);
	int r;

	assert_non_null(confirm);
	r = decide_confirm(f, w, id, approve, confirm, ret, err);
	json_decref(confirm);
	return r;
}

static void status_of(struct fix *f, const char *id, char out[256])
{
	fixture_text(f->fx->db, "SELECT status FROM iam_approval WHERE id = $1", id, out);
}

static void roles_of(struct fix *f, const char *id, char out[256])
{
	assert_int_equal(anfu_rbac_roles(f->fx->db, id, out, 256), 0);
}

/* ---- filing ------------------------------------------------------------------ */

/* req: IAM-ACCT-03, IAM-SOD-03 */
static void test_filed_requests_get_sequential_numbers(void **state)
{
	struct fix *f = *state;
	static const char *const names[] = { "oscar", "olga", "otto", "owen" };
	struct anfu_iam_err err = { NULL, NULL };
	int64_t n = 0;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(file_req(f, &f->admin, "create_operator",
					  operator_payload(names[i], "operator"), NULL, &n, NULL),
				 0);
		assert_int_equal(n, i + 1);
	}
	/* A refused filing consumes no number. */
	assert_int_equal(file_req(f, &f->admin, "create_operator",
				  operator_payload("admin", "operator"), NULL, NULL, &err),
			 ANFU_EINVAL);
	assert_int_equal(file_req(f, &f->admin, "create_operator",
				  operator_payload(names[3], "operator"), NULL, &n, NULL),
			 0);
	assert_int_equal(n, 4);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT value FROM iam_counter WHERE name = 'approval'",
				       NULL),
			 4);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_approval WHERE status = 'pending' "
				       "AND checker_id IS NULL",
				       NULL),
			 4);
	assert_int_equal(audits(f, "approval.filed", "success"), 4);
}

/* The payload carries an email; it is stored sealed and the summary masks
 * the name. req: DATA-ENC-03 */
static void test_payload_stored_sealed(void **state)
{
	struct fix *f = *state;
	char id[ANFU_ID_MAX], summary[256];

	file_ok(f, "create_operator", operator_payload("oswald", "operator"), id);
	assert_int_equal(
		fixture_count(
			f->fx->db,
			"SELECT COUNT(*) FROM iam_approval WHERE payload LIKE "
			"'%example.cn%' OR payload LIKE '%oswald%' OR summary LIKE '%oswald%'",
			NULL),
		0);
	fixture_text(f->fx->db, "SELECT summary FROM iam_approval WHERE id = $1", id, summary);
	assert_non_null(strstr(summary, "operator"));
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%oswald%' "
			      "OR details LIKE '%example.cn%'",
			      NULL),
		0);
}

/* req: IAM-SOD-03, IAM-RBAC-01 */
static void test_file_without_request_permission_refused(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };

	assert_int_equal(file_req(f, &f->checker, "create_operator",
				  operator_payload("oscar", "operator"), NULL, NULL, &err),
			 ANFU_EPERM);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_approval", NULL), 0);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT value FROM iam_counter WHERE name = 'approval'",
				       NULL),
			 0);
	assert_int_equal(audits(f, "approval.filed", "denied"), 1);
	err.code = NULL;
	assert_int_equal(file_req(f, &f->admin, "no_such_type",
				  operator_payload("oscar", "operator"), NULL, NULL, &err),
			 ANFU_EINVAL);
	assert_string_equal(err.code, "invalid_field");
}

/* req: IAM-ACCT-10, IAM-PWD-12, IAM-SOD-01 */
static void test_create_operator_payload_refusals(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *json;
		int r;
		const char *code, *field;
	} cases[] = {
		{ "{\"username\":\"admin\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\"}",
		  ANFU_EINVAL, "reserved_name", "username" },
		{ "{\"username\":\"Root\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\"}",
		  ANFU_EINVAL, "reserved_name", "username" },
		{ "{\"username\":\"1abc\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\"}",
		  ANFU_EINVAL, "invalid_field", "username" },
		{ "{\"roles\":[\"operator\"],\"email\":\"a@b.cn\"}", ANFU_EINVAL, "missing_field",
		  "username" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\"]}", ANFU_EINVAL, "missing_field",
		  "email" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\"],\"email\":\"nope\"}",
		  ANFU_EINVAL, "invalid_field", "email" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\"],\"phone\":\"12345\"}",
		  ANFU_EINVAL, "invalid_field", "phone" },
		{ "{\"username\":\"oscar\",\"roles\":[],\"email\":\"a@b.cn\"}", ANFU_EINVAL,
		  "invalid_field", "roles" },
		{ "{\"username\":\"oscar\",\"email\":\"a@b.cn\"}", ANFU_EINVAL, "missing_field",
		  "roles" },
		{ "{\"username\":\"oscar\",\"roles\":[\"customer\"],\"email\":\"a@b.cn\"}",
		  ANFU_EINVAL, "invalid_field", "roles" },
		{ "{\"username\":\"oscar\",\"roles\":[\"wizard\"],\"email\":\"a@b.cn\"}",
		  ANFU_EINVAL, "invalid_field", "roles" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\",\"operator\"],\"email\":\"a@b."
		  "cn\"}",
		  ANFU_EINVAL, "invalid_field", "roles" },
		{ "{\"username\":\"oscar\",\"roles\":[\"sysadmin\",\"auditor\"],\"email\":\"a@b."
		  "cn\"}",
		  ANFU_ECONFLICT, "role_conflict", "roles" },
		{ "{\"username\":\"oscar\",\"roles\":[\"security_admin\",\"security_officer\"],"
		  "\"email\":\"a@b.cn\"}",
		  ANFU_ECONFLICT, "role_conflict", "roles" },
		{ "{\"username\":\"Alice\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\"}",
		  ANFU_EEXIST, "already_exists", "username" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\",\"x\":1}",
		  ANFU_EINVAL, "unknown_field", "payload" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\","
		  "\"temporary\":true}",
		  ANFU_EINVAL, "missing_field", "expires_ms" },
		{ "{\"username\":\"oscar\",\"roles\":[\"operator\"],\"email\":\"a@b.cn\","
		  "\"expires_ms\":1}",
		  ANFU_EINVAL, "field_out_of_range", "expires_ms" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anfu_iam_err err = { NULL, NULL };
		json_t *payload = json_loads(cases[i].json, 0, NULL);

		assert_non_null(payload);
		assert_int_equal(
			file_req(f, &f->admin, "create_operator", payload, NULL, NULL, &err),
			cases[i].r);
		assert_non_null(err.code);
		assert_string_equal(err.code, cases[i].code);
		assert_non_null(err.field);
		assert_string_equal(err.field, cases[i].field);
	}
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_approval", NULL), 0);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT value FROM iam_counter WHERE name = 'approval'",
				       NULL),
			 0);
}

/* req: IAM-SOD-01, IAM-RBAC-02 */
static void test_grant_role_payload_refusals(void **state)
{
	struct fix *f = *state;
	char unknown[ANFU_ID_MAX];
	struct {
		const char *type;
		json_t *payload;
		int r;
		const char *code, *field;
	} cases[] = {
		{ "grant_role", role_payload(f->admin.id, "auditor"), ANFU_ECONFLICT,
		  "role_conflict", "role" },
		{ "grant_role", role_payload(f->finance.id, "finance"), ANFU_EEXIST,
		  "already_exists", "role" },
		{ "grant_role", role_payload(f->finance.id, "customer"), ANFU_EINVAL,
		  "invalid_field", "role" },
		{ "grant_role", role_payload("bob", "finance"), ANFU_EINVAL, "invalid_field",
		  "user_id" },
		{ "grant_role", json_pack("{s:s}", "user_id", f->finance.id), ANFU_EINVAL,
		  "missing_field", "role" },
		{ "revoke_role", role_payload(f->finance.id, "operator"), ANFU_ENOTFOUND,
		  "not_found", "role" },
		{ "grant_role", NULL, ANFU_ENOTFOUND, "not_found", "user_id" },
	};

	assert_int_equal(anfu_id_new("usr", unknown, sizeof(unknown)), 0);
	cases[6].payload = role_payload(unknown, "finance");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anfu_iam_err err = { NULL, NULL };

		assert_int_equal(
			file_req(f, &f->admin, cases[i].type, cases[i].payload, NULL, NULL, &err),
			cases[i].r);
		assert_string_equal(err.code, cases[i].code);
		assert_string_equal(err.field, cases[i].field);
	}
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_approval", NULL), 0);
}

/* ---- deciding ------------------------------------------------------------------ */

/* req: IAM-SOD-03 */
static void test_decide_by_maker_refused(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	struct who both;
	char id[ANFU_ID_MAX], status[256];
	int64_t staff = fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_user", NULL);

	file_ok(f, "create_operator", operator_payload("oscar", "operator"), id);
	assert_int_equal(decide(f, &f->admin, id, true, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	/* Even a maker who (wrongly) also held the approve permission. */
	both = f->admin;
	(void)snprintf(both.p.perms[both.p.nperms++], ANFU_PERM_NAME_MAX, "%s",
		       "iam.approval.create_operator.approve");
	err.code = NULL;
	assert_int_equal(decide(f, &both, id, true, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	err.code = NULL;
	assert_int_equal(decide(f, &both, id, false, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	status_of(f, id, status);
	assert_string_equal(status, "pending");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_approval WHERE id = $1 AND "
				       "checker_id IS NULL AND decided_ms IS NULL",
				       id),
			 1);
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_user", NULL), staff);
	assert_int_equal(audits(f, "approval.approved", "success"), 0);
	assert_int_equal(audits(f, "approval.approved", "denied"), 2);
	assert_int_equal(audits(f, "approval.rejected", "denied"), 1);
}

/* Role changes are sensitive operations: the maker files and the checker
 * decides only with a second factor proved within mfa.stepup_window; an
 * older one is refused, audited as denied, and changes nothing.
 * req: IAM-MFA-02, IAM-SOD-03 */
static void test_file_and_decide_need_a_recent_second_factor(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	int64_t window = f->fx->iam_cfg->mfa.stepup_window_s * 1000;
	char id[ANFU_ID_MAX], status[256], roles[256];

	anfu_clock_advance_ms(window + 1);
	assert_int_equal(file_req(f, &f->admin, "grant_role",
				  role_payload(f->finance.id, "risk_officer"), NULL, NULL, &err),
			 ANFU_EPERM);
	assert_string_equal(err.code, "step_up_required");
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_approval", NULL), 0);
	assert_int_equal(audits(f, "approval.filed", "denied"), 1);
	f->admin.p.mfa_ms = anfu_clock_now_ms();
	file_ok(f, "grant_role", role_payload(f->finance.id, "risk_officer"), id);
	err.code = NULL;
	assert_int_equal(decide(f, &f->checker, id, true, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "step_up_required");
	err.code = NULL;
	assert_int_equal(decide(f, &f->checker, id, false, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "step_up_required");
	status_of(f, id, status);
	assert_string_equal(status, "pending");
	roles_of(f, f->finance.id, roles);
	assert_string_equal(roles, "finance");
	assert_int_equal(audits(f, "approval.approved", "denied"), 1);
	f->checker.p.mfa_ms = anfu_clock_now_ms();
	assert_int_equal(decide(f, &f->checker, id, true, NULL, NULL), 0);
	roles_of(f, f->finance.id, roles);
	assert_string_equal(roles, "finance,risk_officer");
}

/* req: IAM-SOD-03, IAM-RBAC-01 */
static void test_decide_without_approve_permission_refused(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	char id[ANFU_ID_MAX], status[256];

	file_ok(f, "create_operator", operator_payload("oscar", "operator"), id);
	assert_int_equal(decide(f, &f->auditor, id, true, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "forbidden");
	err.code = NULL;
	assert_int_equal(decide(f, &f->finance, id, false, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "forbidden");
	status_of(f, id, status);
	assert_string_equal(status, "pending");
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM iam_user WHERE created_by LIKE 'approval:%'",
			      NULL),
		0);
	err.code = NULL;
	assert_int_equal(decide(f, &f->checker, "apr_nosuchapprovalxxxxxxxx", true, NULL, &err),
			 ANFU_ENOTFOUND);
}

/* req: IAM-ACCT-03, IAM-SOD-03, IAM-PWD-12, IAM-ADM-01 */
static void test_approve_creates_operator(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view out = { 0 };
	char id[ANFU_ID_MAX], uid[ANFU_ID_MAX], text[256];

	assert_int_equal(file_req(f, &f->admin, "create_operator",
				  json_pack("{s:s,s:[s,s],s:s}", "username", "Oscar", "roles",
					    "risk_officer", "finance", "phone", "13800138000"),
				  id, NULL, NULL),
			 0);
	{
		/* Typed in another accepted form: compared once normalised. */
		json_t *confirm = json_pack("{s:s}", "phone", "+8613800138000");

		assert_non_null(confirm);
		assert_int_equal(decide_confirm(f, &f->checker, id, true, confirm, &out, NULL), 0);
		json_decref(confirm);
	}
	assert_string_equal(out.status, "executed");
	assert_string_equal(out.checker_id, f->checker.id);
	assert_string_equal(jstr(out.result, "delivered_to"), "sms");
	(void)snprintf(uid, sizeof(uid), "%s", jstr(out.result, "user_id"));
	anfu_approval_view_clear(&out);
	assert_true(anfu_id_valid("usr", uid, strlen(uid)));
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND kind = "
				       "'staff' AND status = 'active' AND pwd_must_change = 1 AND "
				       "pwd_hash IS NOT NULL",
				       uid),
			 1);
	roles_of(f, uid, text);
	assert_string_equal(text, "finance,risk_officer");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user_role WHERE approval_id = $1",
				       id),
			 2);
	fixture_text(f->fx->db, "SELECT granted_by FROM iam_user_role WHERE user_id = $1", uid,
		     text);
	assert_string_equal(text, f->checker.id);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_password_history WHERE user_id = "
				       "$1 AND reason = 'initial'",
				       uid),
			 1);
	/* The initial password went to the person's own phone (IAM-PWD-12). */
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM notify_message WHERE user_id = $1 AND "
				       "kind = 'initial_password' AND channel = 'sms'",
				       uid),
			 1);
	assert_int_equal(audits(f, "approval.approved", "success"), 1);
	assert_int_equal(audits(f, "approval.executed", "success"), 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'user.created' AND object_id = $1",
				       uid),
			 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'role.granted' AND object_id = $1",
				       uid),
			 2);
	{
		struct iam_user u;

		memset(&u, 0, sizeof(u));
		assert_int_equal(iam_user_find_login(f->fx->iam, f->fx->db, "oscar", &u), 0);
		assert_string_equal(u.id, uid);
		assert_true(u.pwd_must_change);
		iam_user_clear(&u);
	}
}

/* req: IAM-SOD-01, IAM-SOD-03 */
static void test_failing_executor_marks_failed_and_changes_nothing(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view out = { 0 };
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX], roles[256];

	/* Each grant is fine on its own; together they conflict. */
	file_ok(f, "grant_role", role_payload(f->finance.id, "sysadmin"), a);
	file_ok(f, "grant_role", role_payload(f->finance.id, "auditor"), b);
	assert_int_equal(decide(f, &f->checker, a, true, &out, NULL), 0);
	assert_string_equal(out.status, "executed");
	anfu_approval_view_clear(&out);
	assert_int_equal(decide(f, &f->checker, b, true, &out, NULL), 0);
	assert_string_equal(out.status, "failed");
	assert_string_equal(jstr(out.result, "error"), "role_conflict");
	anfu_approval_view_clear(&out);
	roles_of(f, f->finance.id, roles);
	assert_string_equal(roles, "finance,sysadmin");
	/* The bootstrap grant of finance and the sysadmin grant. */
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'role.granted' AND object_id = $1",
				       f->finance.id),
			 2);
	assert_int_equal(audits(f, "approval.executed", "success"), 1);
	assert_int_equal(audits(f, "approval.failed", "failure"), 1);
	assert_int_equal(audits(f, "approval.approved", "success"), 2);
}

/* Two requests for one name: the second fails at execution (the world
 * changed since filing) and creates nothing. req: IAM-ACCT-02 */
static void test_create_of_taken_name_fails_at_execution(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view out = { 0 };
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX];
	int64_t users = fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_user", NULL);

	file_ok(f, "create_operator", operator_payload("oscar", "operator"), a);
	file_ok(f, "create_operator", operator_payload("oscar", "finance"), b);
	assert_int_equal(decide(f, &f->checker, a, true, NULL, NULL), 0);
	assert_int_equal(decide(f, &f->checker, b, true, &out, NULL), 0);
	assert_string_equal(out.status, "failed");
	assert_string_equal(jstr(out.result, "error"), "already_exists");
	anfu_approval_view_clear(&out);
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_user", NULL),
			 users + 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user_role WHERE approval_id = $1",
				       b),
			 0);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM notify_message WHERE kind = "
				       "'initial_password'",
				       NULL),
			 1);
}

/* Executors of a test type: one changes something and then refuses, one
 * fails as the platform would (a database error). */
static int partial_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			    char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	(void)db;
	(void)payload;
	(void)err;
	(void)snprintf(summary, cap, "test");
	return 0;
}

static int partial_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *c,
			   const char *approval_id, const json_t *payload, json_t **result,
			   struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *mode = json_string_value(json_object_get(payload, "mode"));

	(void)iam;
	(void)c;
	(void)approval_id;
	assert_int_equal(anfu_db_exec(db,
				      "INSERT INTO iam_counter (name, value) VALUES ('partial', 1)",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	*result = json_pack("{s:s}", "half", "done");
	if (mode && strcmp(mode, "io") == 0)
		return ANFU_EIO;
	err->code = "role_conflict";
	return ANFU_ECONFLICT;
}

static const struct anfu_approval_type partial_type = { "test_partial", "iam.approval.grant_role",
							partial_validate, partial_execute };

static void register_partial(void)
{
	int r = anfu_approval_register(&partial_type);

	assert_true(r == 0 || r == ANFU_EEXIST);
	assert_ptr_equal(anfu_approval_type_find("test_partial"), &partial_type);
}

/* The executor's own changes are undone, the decision is kept.
 * req: IAM-SOD-03 */
static void test_failing_executor_changes_rolled_back(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view out = { 0 };
	char id[ANFU_ID_MAX], details[FIXTURE_TEXT_MAX];

	register_partial();
	file_ok(f, "test_partial", json_pack("{s:s}", "mode", "refuse"), id);
	assert_int_equal(decide(f, &f->checker, id, true, &out, NULL), 0);
	assert_string_equal(out.status, "failed");
	assert_string_equal(jstr(out.result, "error"), "role_conflict");
	assert_null(json_object_get(out.result, "half"));
	anfu_approval_view_clear(&out);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_counter WHERE name = 'partial'",
				       NULL),
			 0);
	assert_int_equal(audits(f, "approval.failed", "failure"), 1);
	/* Each record keeps the details it was made with: the failure's error
	 * is on approval.failed only, not on the approval.approved before it
	 * (records are appended at commit). */
	fixture_text(f->fx->db,
		     "SELECT details FROM audit_log WHERE action = 'approval.approved' AND"
		     " object_id = $1",
		     id, details);
	assert_null(strstr(details, "error"));
	fixture_text(f->fx->db,
		     "SELECT details FROM audit_log WHERE action = 'approval.failed' AND"
		     " object_id = $1",
		     id, details);
	assert_non_null(strstr(details, "\"error\":\"role_conflict\""));
}

/* A platform failure aborts the whole decision: still pending, nothing
 * recorded, and it can be decided again later. req: IAM-SOD-03 */
static void test_platform_failure_leaves_request_pending(void **state)
{
	struct fix *f = *state;
	char id[ANFU_ID_MAX], status[256];

	register_partial();
	file_ok(f, "test_partial", json_pack("{s:s}", "mode", "io"), id);
	assert_int_equal(decide(f, &f->checker, id, true, NULL, NULL), ANFU_EIO);
	status_of(f, id, status);
	assert_string_equal(status, "pending");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_approval WHERE id = $1 AND "
				       "checker_id IS NULL",
				       id),
			 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_counter WHERE name = 'partial'",
				       NULL),
			 0);
	assert_int_equal(audits(f, "approval.approved", "success"), 0);
	assert_int_equal(decide(f, &f->checker, id, false, NULL, NULL), 0);
	status_of(f, id, status);
	assert_string_equal(status, "rejected");
}

/* req: IAM-SOD-03 */
static void test_reject_changes_nothing(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	struct anfu_approval_view out = { 0 };
	char id[ANFU_ID_MAX], roles[256];

	file_ok(f, "grant_role", role_payload(f->finance.id, "risk_officer"), id);
	assert_int_equal(decide(f, &f->checker, id, false, &out, NULL), 0);
	assert_string_equal(out.status, "rejected");
	assert_string_equal(out.note, "checked");
	assert_string_equal(out.checker_id, f->checker.id);
	anfu_approval_view_clear(&out);
	roles_of(f, f->finance.id, roles);
	assert_string_equal(roles, "finance");
	assert_int_equal(audits(f, "approval.rejected", "success"), 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'role.granted' AND object_id = $1",
				       f->finance.id),
			 1);
	assert_int_equal(decide(f, &f->checker, id, true, NULL, &err), ANFU_ECONFLICT);
	assert_string_equal(err.code, "approval_not_pending");
	roles_of(f, f->finance.id, roles);
	assert_string_equal(roles, "finance");
}

/* req: IAM-SOD-03 */
static void test_double_decide_refused(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	char id[ANFU_ID_MAX], status[256];

	file_ok(f, "create_operator", operator_payload("oscar", "operator"), id);
	assert_int_equal(decide(f, &f->checker, id, true, NULL, NULL), 0);
	assert_int_equal(decide(f, &f->checker, id, true, NULL, &err), ANFU_ECONFLICT);
	assert_string_equal(err.code, "approval_not_pending");
	err.code = NULL;
	assert_int_equal(decide(f, &f->checker, id, false, NULL, &err), ANFU_ECONFLICT);
	assert_string_equal(err.code, "approval_not_pending");
	status_of(f, id, status);
	assert_string_equal(status, "executed");
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM iam_user WHERE created_by LIKE 'approval:%'",
			      NULL),
		1);
	assert_int_equal(audits(f, "approval.executed", "success"), 1);
}

/* req: IAM-RBAC-02, IAM-ACCT-08 */
static void test_revoke_role_through_approval(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view out = { 0 };
	char id[ANFU_ID_MAX], roles[256];

	file_ok(f, "revoke_role", role_payload(f->finance.id, "finance"), id);
	assert_int_equal(decide(f, &f->checker, id, true, &out, NULL), 0);
	assert_string_equal(out.status, "executed");
	anfu_approval_view_clear(&out);
	roles_of(f, f->finance.id, roles);
	assert_string_equal(roles, "");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'role.revoked' AND object_id = $1",
				       f->finance.id),
			 1);
}

/* Lists and reads requests; the checker (and the maker) sees every field
 * of the payload in clear, audited as approval.viewed in the same
 * transaction; a reader who may not approve the type sees no payload.
 * req: IAM-ACCT-03 */
static void test_list_and_get_approvals(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view list[ANFU_LIMIT_APPROVAL_LIST];
	struct anfu_approval_view out = { 0 };
	struct who reader;
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX];
	size_t n = 0;

	file_ok(f, "create_operator", operator_payload("oscar", "operator"), a);
	file_ok(f, "grant_role", role_payload(f->finance.id, "risk_officer"), b);
	assert_int_equal(decide(f, &f->checker, b, false, NULL, NULL), 0);
	assert_int_equal(anfu_iam_approval_list(f->fx->iam, &ctx, &f->checker.p, NULL, list,
						ANFU_LIMIT_APPROVAL_LIST, &n),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].number, 2);
	clear_views(list, n);
	assert_int_equal(anfu_iam_approval_list(f->fx->iam, &ctx, &f->checker.p, "pending", list,
						ANFU_LIMIT_APPROVAL_LIST, &n),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, a);
	assert_true(list[0].payload_read);
	assert_string_equal(jstr(list[0].payload, "email"), OPS_EMAIL);
	clear_views(list, n);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'approval.viewed' AND actor_id = $1",
				       f->checker.id),
			 2);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'approval.viewed' AND details LIKE '%example.cn%'",
				       NULL),
			 0);
	/* Reading is not approving: without the approve permission, no payload. */
	reader = f->finance;
	(void)snprintf(reader.p.perms[reader.p.nperms++], ANFU_PERM_NAME_MAX, "%s",
		       "iam.approval.read");
	assert_int_equal(anfu_iam_approval_get(f->fx->iam, &ctx, &reader.p, a, &out), 0);
	assert_true(out.payload_read);
	assert_null(out.payload);
	assert_null(strstr(out.summary, OPS_EMAIL));
	assert_false(out.has_note);
	assert_null(out.result);
	anfu_approval_view_clear(&out);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'approval.viewed' AND actor_id = $1",
				       f->finance.id),
			 0);
	n = 99;
	assert_int_equal(anfu_iam_approval_list(f->fx->iam, &ctx, &f->checker.p, "bogus", list,
						ANFU_LIMIT_APPROVAL_LIST, &n),
			 ANFU_EINVAL);
	assert_int_equal(anfu_iam_approval_list(f->fx->iam, &ctx, &f->finance.p, NULL, list,
						ANFU_LIMIT_APPROVAL_LIST, &n),
			 ANFU_EPERM);
	assert_int_equal(n, 99);
	assert_int_equal(anfu_iam_approval_get(f->fx->iam, &ctx, &f->admin.p, a, &out), 0);
	assert_string_equal(out.type, "create_operator");
	assert_string_equal(out.maker_id, f->admin.id);
	anfu_approval_view_clear(&out);
}

/* A list never holds more than the caller's array (the newest first). */
static void test_approval_list_stays_within_the_array(void **state)
{
	struct fix *f = *state;
	struct anfu_approval_view list[1];
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX];
	size_t n = 0;

	file_ok(f, "grant_role", role_payload(f->finance.id, "risk_officer"), a);
	file_ok(f, "grant_role", role_payload(f->finance.id, "operator"), b);
	assert_int_equal(anfu_iam_approval_list(f->fx->iam, &ctx, &f->checker.p, NULL, list, 1, &n),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, b);
	clear_views(list, n);
	n = 5;
	assert_int_equal(anfu_iam_approval_list(f->fx->iam, &ctx, &f->checker.p, NULL, list, 0, &n),
			 ANFU_EINVAL);
	assert_int_equal(n, 5);
}

/* Approvals are archived (IAM-ACCT-03): the database refuses deleting a
 * request, changing a decided one, and changing what was filed of a
 * pending one; deciding still works. req: IAM-ACCT-03 */
static void test_approvals_are_archived(void **state)
{
	struct fix *f = *state;
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX], status[256];
	static const char *const decided[] = {
		"DELETE FROM iam_approval WHERE id = $1",
		"UPDATE iam_approval SET status = 'pending' WHERE id = $1",
		"UPDATE iam_approval SET decision_note = 'edited' WHERE id = $1",
	};
	static const char *const pending[] = {
		"DELETE FROM iam_approval WHERE id = $1",
		"UPDATE iam_approval SET payload = 'v1.x.y' WHERE id = $1",
		"UPDATE iam_approval SET summary = 'harmless' WHERE id = $1",
		"UPDATE iam_approval SET number = number + 100 WHERE id = $1",
		"UPDATE iam_approval SET maker_id = (SELECT MIN(id) FROM iam_user WHERE id <> "
		"iam_approval.maker_id) WHERE id = $1",
	};

	file_ok(f, "grant_role", role_payload(f->finance.id, "risk_officer"), a);
	file_ok(f, "grant_role", role_payload(f->finance.id, "auditor"), b);
	assert_int_equal(decide(f, &f->checker, a, false, NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(decided) / sizeof(decided[0]); i++)
		assert_true(anfu_db_exec(f->fx->db, decided[i],
					 (struct anfu_param[]){ ANFU_PSN(a, strlen(a)) }, 1, NULL,
					 NULL, NULL) < 0);
	for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		assert_true(anfu_db_exec(f->fx->db, pending[i],
					 (struct anfu_param[]){ ANFU_PSN(b, strlen(b)) }, 1, NULL,
					 NULL, NULL) < 0);
	status_of(f, a, status);
	assert_string_equal(status, "rejected");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_approval WHERE decision_note = "
				       "'checked' AND number = 1",
				       NULL),
			 1);
	assert_int_equal(decide(f, &f->checker, b, true, NULL, NULL), 0);
	status_of(f, b, status);
	assert_string_equal(status, "executed");
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_approval", NULL), 2);
}

/* ---- bootstrap ------------------------------------------------------------------ */

/* req: IAM-ADM-01, IAM-ACCT-10, IAM-PWD-12 */
static void test_bootstrap_admin_gets_random_policy_password(void **state)
{
	struct fix *f = *state;
	char hash[256], roles[256];
	const char *rule = NULL;

	assert_int_equal(strlen(f->admin_pw), IAM_INITIAL_PASSWORD_LEN);
	assert_int_equal(anfu_pwpolicy_check(&f->fx->iam_cfg->password[ANFU_CLASS_ADMIN],
					     f->admin_pw, strlen(f->admin_pw), NULL, &rule),
			 0);
	fixture_text(f->fx->db, "SELECT pwd_hash FROM iam_user WHERE id = $1", f->admin.id, hash);
	assert_null(strstr(hash, f->admin_pw));
	assert_int_equal(
		anfu_pwhash_check(f->fx->iam->pwhash, hash, f->admin_pw, strlen(f->admin_pw)), 0);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND "
				       "pwd_must_change = 1 AND created_by = 'system:init'",
				       f->admin.id),
			 1);
	roles_of(f, f->admin.id, roles);
	assert_string_equal(roles, "security_admin,sysadmin");
	assert_int_equal(f->admin.p.role_class, ANFU_CLASS_ADMIN);
	assert_int_equal(audits(f, "user.bootstrap_admin", "success"), 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'role.granted' AND object_id = $1 AND actor_id = 'system'",
				       f->admin.id),
			 2);
	assert_int_equal(audits(f, "user.bootstrap_staff", "success"), 3);
}

/* req: IAM-ACCT-10, IAM-SOD-03 */
static void test_bootstrap_refusals(void **state)
{
	struct fix *f = *state;
	char pw[IAM_INITIAL_PASSWORD_MAX] = "", id[ANFU_ID_MAX] = "";
	int64_t users = fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_user", NULL);

	/* A staff account exists: no second first administrator. */
	assert_int_equal(
		anfu_iam_bootstrap_admin(f->fx->iam, "zed", pw, sizeof(pw), id, sizeof(id)),
		ANFU_ECONFLICT);
	/* Default names are never accepted. */
	assert_int_equal(
		anfu_iam_bootstrap_admin(f->fx->iam, "admin", pw, sizeof(pw), id, sizeof(id)),
		ANFU_EINVAL);
	assert_int_equal(anfu_iam_bootstrap_admin(f->fx->iam, "Administrator", pw, sizeof(pw), id,
						  sizeof(id)),
			 ANFU_EINVAL);
	/* A checker exists: staff go through approval from now on. */
	assert_int_equal(anfu_iam_bootstrap_staff(f->fx->iam, "zed", "operator", pw, sizeof(pw), id,
						  sizeof(id)),
			 ANFU_ECONFLICT);
	assert_string_equal(pw, "");
	assert_string_equal(id, "");
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_user", NULL), users);
}

/* ---- admin operations -------------------------------------------------------------- */

/* An admin action; *filed (may be NULL) gets the id of the four-eyes
 * request it filed instead ("" when it acted at once). */
static int act_filed(struct fix *f, const struct who *w, const char *uid, const char *action,
		     const char *reason, char *filed, struct anfu_iam_err *err)
{
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_approval_view approval = { 0 };
	int r = anfu_iam_admin_act(f->fx->iam, &ctx, &w->p, uid, action, reason, &approval,
				   err ? err : &e);

	if (filed)
		(void)snprintf(filed, ANFU_ID_MAX, "%s", approval.id);
	if (r < 0)
		assert_string_equal(approval.id, "");
	anfu_approval_view_clear(&approval);
	return r;
}

static int act(struct fix *f, const struct who *w, const char *uid, const char *action,
	       const char *reason, struct anfu_iam_err *err)
{
	return act_filed(f, w, uid, action, reason, NULL, err);
}

/* Disabling and enabling a staff account go through four eyes: the
 * administrator's action files the request and changes nothing; the
 * checker's approval carries it out, recorded as the checker's with the
 * approval (IAM-ACCT-03). Unlock and a forced password change act at once.
 * req: IAM-ACCT-03, IAM-ACCT-05, IAM-PWD-15, IAM-LOCK-02 */
static void test_admin_actions(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	char status[256], filed[ANFU_ID_MAX];

	assert_int_equal(
		act_filed(f, &f->admin, f->finance.id, "disable", "left the company", filed, NULL),
		0);
	assert_true(anfu_id_valid("apr", filed, strlen(filed)));
	fixture_text(f->fx->db, "SELECT status FROM iam_user WHERE id = $1", f->finance.id, status);
	assert_string_equal(status, "active");
	assert_int_equal(audits(f, "user.disabled", "success"), 0);
	assert_int_equal(decide(f, &f->checker, filed, true, NULL, NULL), 0);
	status_of(f, filed, status);
	assert_string_equal(status, "executed");
	fixture_text(f->fx->db, "SELECT status FROM iam_user WHERE id = $1", f->finance.id, status);
	assert_string_equal(status, "disabled");
	/* Already disabled: a second request is refused when filed. */
	assert_int_equal(act(f, &f->admin, f->finance.id, "disable", "again", &err),
			 ANFU_ECONFLICT);
	assert_string_equal(err.code, "conflict");
	assert_int_equal(act_filed(f, &f->admin, f->finance.id, "enable", "came back", filed, NULL),
			 0);
	fixture_text(f->fx->db, "SELECT status FROM iam_user WHERE id = $1", f->finance.id, status);
	assert_string_equal(status, "disabled");
	assert_int_equal(decide(f, &f->checker, filed, true, NULL, NULL), 0);
	fixture_text(f->fx->db, "SELECT status FROM iam_user WHERE id = $1", f->finance.id, status);
	assert_string_equal(status, "active");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'user.disabled' AND object_id = $1 AND details LIKE "
				       "'%left the company%' AND details LIKE '%apr_%'",
				       f->finance.id),
			 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action IN "
				       "('user.disabled', 'user.enabled') AND actor_id = $1",
				       f->checker.id),
			 2);
	/* Unlock needs a lock; a locked staff account needs an administrator. */
	err.code = NULL;
	assert_int_equal(act(f, &f->admin, f->finance.id, "unlock", "why", &err), ANFU_ECONFLICT);
	assert_string_equal(err.code, "conflict");
	assert_int_equal(anfu_db_exec(f->fx->db,
				      "UPDATE iam_user SET status = 'locked', failures = 3 "
				      "WHERE id = $1",
				      (struct anfu_param[]){ ANFU_PS(f->finance.id) }, 1, NULL,
				      NULL, NULL),
			 0);
	assert_int_equal(act(f, &f->admin, f->finance.id, "unlock", "called the helpdesk", NULL),
			 0);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND status = "
				       "'active' AND failures = 0",
				       f->finance.id),
			 1);
	assert_int_equal(act(f, &f->admin, f->finance.id, "force_password_change",
			     "suspected disclosure", NULL),
			 0);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND "
				       "pwd_must_change = 1",
				       f->finance.id),
			 1);
	assert_int_equal(audits(f, "user.unlocked", "success"), 1);
	assert_int_equal(audits(f, "user.password_change_forced", "success"), 1);
}

/* req: IAM-RBAC-01, IAM-RBAC-04 */
static void test_admin_action_refusals(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	struct who op;
	char status[256];

	assert_int_equal(act(f, &f->admin, f->admin.id, "disable", "self", &err), ANFU_EPERM);
	assert_int_equal(act(f, &f->finance, f->auditor.id, "disable", "no right", &err),
			 ANFU_EPERM);
	/* An operator may unlock, but not a staff account. */
	op = f->finance;
	(void)snprintf(op.p.perms[op.p.nperms++], ANFU_PERM_NAME_MAX, "%s", "iam.user.unlock");
	op.p.role_class = ANFU_CLASS_OPERATOR;
	assert_int_equal(
		anfu_db_exec(f->fx->db, "UPDATE iam_user SET status = 'locked' WHERE id = $1",
			     (struct anfu_param[]){ ANFU_PS(f->auditor.id) }, 1, NULL, NULL, NULL),
		0);
	assert_int_equal(act(f, &op, f->auditor.id, "unlock", "please", &err), ANFU_EPERM);
	fixture_text(f->fx->db, "SELECT status FROM iam_user WHERE id = $1", f->auditor.id, status);
	assert_string_equal(status, "locked");
	err.code = NULL;
	assert_int_equal(act(f, &f->admin, f->finance.id, "disable", "", &err), ANFU_EINVAL);
	assert_string_equal(err.code, "missing_field");
	err.code = NULL;
	assert_int_equal(act(f, &f->admin, f->finance.id, "delete", "x", &err), ANFU_EINVAL);
	assert_string_equal(err.code, "invalid_field");
	assert_int_equal(act(f, &f->admin, "usr_nosuchuserxxxxxxxxxxx", "disable", "x", &err),
			 ANFU_ENOTFOUND);
	assert_int_equal(audits(f, "user.disabled", "success"), 0);
	assert_int_equal(audits(f, "user.disabled", "denied"), 2);
}

/* req: DATA-MASK-08, IAM-RBAC-06 */
static void test_admin_list_and_get_masked(void **state)
{
	struct fix *f = *state;
	struct anfu_user_filter filter = { "staff", NULL, NULL, 3 };
	struct anfu_user_view page[ANFU_LIMIT_ADMIN_LIST_MAX];
	struct anfu_admin_user out = { 0 };
	struct who revealer;
	char after[ANFU_ID_MAX];
	size_t n = 0;

	assert_int_equal(anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->auditor.p, &filter, page,
						   ANFU_LIMIT_ADMIN_LIST_MAX, &n),
			 0);
	assert_int_equal(n, 3);
	for (size_t i = 1; i < 3; i++)
		assert_true(strcmp(page[i - 1].id, page[i].id) < 0);
	(void)snprintf(after, sizeof(after), "%s", page[2].id);
	filter.after = after;
	assert_int_equal(anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->auditor.p, &filter, page,
						   ANFU_LIMIT_ADMIN_LIST_MAX, &n),
			 0);
	assert_int_equal(n, 1);
	assert_true(strcmp(page[0].id, after) > 0);
	filter = (struct anfu_user_filter){ "merchant", NULL, NULL, 0 };
	assert_int_equal(anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->auditor.p, &filter, page,
						   ANFU_LIMIT_ADMIN_LIST_MAX, &n),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(
		anfu_iam_admin_get_user(f->fx->iam, &ctx, &f->auditor.p, f->admin.id, false, &out),
		0);
	assert_string_not_equal(out.view.login, "alice");
	assert_false(out.revealed);
	assert_null(out.login);
	anfu_admin_user_clear(&out);
	assert_int_equal(
		anfu_iam_admin_get_user(f->fx->iam, &ctx, &f->auditor.p, f->admin.id, true, &out),
		ANFU_EPERM);
	assert_string_equal(out.view.id, "");
	assert_false(out.revealed);
	assert_null(out.login);
	revealer = f->auditor;
	(void)snprintf(revealer.p.perms[revealer.p.nperms++], ANFU_PERM_NAME_MAX, "%s",
		       "iam.user.pii.reveal");
	assert_int_equal(
		anfu_iam_admin_get_user(f->fx->iam, &ctx, &revealer.p, f->admin.id, true, &out), 0);
	assert_true(out.revealed);
	assert_string_equal(out.login, "alice");
	anfu_admin_user_clear(&out);
	assert_int_equal(audits(f, "user.pii_revealed", "success"), 1);
	assert_int_equal(audits(f, "user.pii_revealed", "denied"), 1);
	n = 99;
	assert_int_equal(anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->finance.p, &filter, page,
						   ANFU_LIMIT_ADMIN_LIST_MAX, &n),
			 ANFU_EPERM);
	assert_int_equal(n, 99);
}

/* A page never holds more than the caller's array, whatever the filter
 * asks for (ANFU_LIMIT_ADMIN_LIST_MAX, the array's cap). */
static void test_admin_list_stays_within_the_array(void **state)
{
	struct fix *f = *state;
	struct anfu_user_filter filter = { NULL, NULL, NULL, 500 };
	struct anfu_user_view page[2];
	size_t n = 0;

	assert_int_equal(
		anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->auditor.p, &filter, page, 2, &n),
		0);
	assert_int_equal(n, 2);
	filter.limit = 1;
	assert_int_equal(
		anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->auditor.p, &filter, page, 2, &n),
		0);
	assert_int_equal(n, 1);
	n = 7;
	assert_int_equal(
		anfu_iam_admin_list_users(f->fx->iam, &ctx, &f->auditor.p, &filter, page, 0, &n),
		ANFU_EINVAL);
	assert_int_equal(n, 7);
}

/* req: IAM-PWD-12, IAM-ACCT-02 */
static void test_admin_create_merchant_user(void **state)
{
	struct fix *f = *state;
	struct anfu_admin_create c = { "merchant",
				       "shopkeeper",
				       "mch_0001",
				       "merchant_admin",
				       "Shop.Keeper@Example.cn",
				       NULL,
				       0,
				       false };
	struct anfu_iam_err err = { NULL, NULL };
	struct anfu_admin_user out = { 0 };
	char uid[ANFU_ID_MAX], roles[256];

	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 0);
	assert_string_equal(out.view.kind, "merchant");
	assert_string_equal(out.delivered_to, "email");
	assert_null(strstr(out.view.email, "Keeper"));
	(void)snprintf(uid, sizeof(uid), "%s", out.view.id);
	anfu_admin_user_clear(&out);
	roles_of(f, uid, roles);
	assert_string_equal(roles, "merchant_admin");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE id = $1 AND "
				       "pwd_must_change = 1 AND merchant_id = 'mch_0001'",
				       uid),
			 1);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM notify_message WHERE user_id = $1 AND "
				       "kind = 'initial_password' AND channel = 'email'",
				       uid),
			 1);
	assert_int_equal(audits(f, "user.created", "success"), 1);
	/* Duplicates, staff, no channel, no permission. */
	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 ANFU_EEXIST);
	c.username = "shop2";
	c.kind = "staff";
	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 ANFU_EINVAL);
	assert_string_equal(err.field, "kind");
	c.kind = "merchant";
	c.email = NULL;
	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 ANFU_EINVAL);
	assert_string_equal(err.code, "missing_field");
	assert_string_equal(err.field, "email");
	c.phone = "13900139000";
	c.role = "operator";
	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 ANFU_EINVAL);
	assert_string_equal(err.field, "role");
	c.role = "merchant_staff";
	assert_int_equal(
		anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->checker.p, &c, &out, &err),
		ANFU_EPERM);
	assert_string_equal(out.view.id, "");
	assert_null(out.delivered_to);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE kind = 'merchant'",
				       NULL),
			 1);
}

/* ---- reports ------------------------------------------------------------------------- */

/* req: IAM-ACCT-05, IAM-ACCT-06, IAM-ACCT-07 */
static void test_account_review_finds_dormant_expired_temporary(void **state)
{
	struct fix *f = *state;
	struct anfu_admin_create c = { "merchant", "tempuser",	  "mch_0002", "merchant_staff",
				       NULL,	   "13700137000", 0,	      true };
	struct anfu_iam_err err = { NULL, NULL };
	struct anfu_admin_user created = { 0 };
	struct anfu_report_view out = { 0 }, list[ANFU_LIMIT_REPORT_LIST];
	json_t *content;
	size_t n = 0;

	c.expires_ms = anfu_clock_now_ms() + 10 * DAY_MS;
	assert_int_equal(
		anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &created, &err), 0);
	anfu_admin_user_clear(&created);
	assert_int_equal(anfu_iam_account_review(f->fx->iam, &ctx, NULL, &out), 0);
	content = out.content;
	assert_int_equal(json_array_size(json_object_get(content, "dormant")), 0);
	assert_int_equal(json_array_size(json_object_get(content, "expired")), 0);
	assert_int_equal(json_array_size(json_object_get(content, "temporary")), 1);
	anfu_report_view_clear(&out);
	/* 90 days (the default) later, nobody has logged in. */
	anfu_clock_advance_ms(90 * DAY_MS + 1);
	assert_int_equal(anfu_iam_account_review(f->fx->iam, &ctx, NULL, &out), 0);
	content = out.content;
	assert_int_equal(json_array_size(json_object_get(content, "dormant")), 5);
	assert_int_equal(json_array_size(json_object_get(content, "expired")), 1);
	assert_int_equal(json_array_size(json_object_get(content, "temporary")), 1);
	assert_string_equal(out.kind, "account_review");
	anfu_report_view_clear(&out);
	assert_int_equal(audits(f, "report.account_review", "success"), 2);
	assert_int_equal(anfu_iam_reports(f->fx->iam, &ctx, &f->auditor.p, "account_review", list,
					  ANFU_LIMIT_REPORT_LIST, &n),
			 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		anfu_report_view_clear(&list[i]);
	n = 99;
	assert_int_equal(anfu_iam_reports(f->fx->iam, &ctx, &f->finance.p, NULL, list,
					  ANFU_LIMIT_REPORT_LIST, &n),
			 ANFU_EPERM);
	assert_int_equal(n, 99);
}

/* req: IAM-ACCT-04 */
static void test_recertification_signed_off_by_another(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	struct anfu_report_view out = { 0 }, list[ANFU_LIMIT_REPORT_LIST];
	json_t *accounts;
	size_t n = 0;
	char rid[ANFU_ID_MAX];

	assert_int_equal(anfu_iam_recert_create(f->fx->iam, &ctx, &f->auditor.p, &out), 0);
	(void)snprintf(rid, sizeof(rid), "%s", out.id);
	accounts = json_object_get(out.content, "accounts");
	assert_int_equal(json_array_size(accounts), 4);
	{
		size_t officers = 0;

		for (size_t i = 0; i < json_array_size(accounts); i++) {
			const json_t *roles = json_object_get(json_array_get(accounts, i), "roles");

			if (json_array_size(roles) == 1 &&
			    strcmp(json_string_value(json_array_get(roles, 0)),
				   "security_officer") == 0)
				officers++;
		}
		assert_int_equal(officers, 1);
	}
	for (size_t i = 0; i < json_array_size(accounts); i++) {
		const json_t *a = json_array_get(accounts, i);

		assert_true(strlen(jstr(a, "login")) > 0);
		assert_null(strstr(jstr(a, "login"), "alice"));
		assert_true(json_is_array(json_object_get(a, "roles")));
	}
	anfu_report_view_clear(&out);
	assert_int_equal(
		anfu_iam_recert_signoff(f->fx->iam, &ctx, &f->auditor.p, rid, "ok", &out, &err),
		ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	err.code = NULL;
	assert_int_equal(
		anfu_iam_recert_signoff(f->fx->iam, &ctx, &f->finance.p, rid, "ok", &out, &err),
		ANFU_EPERM);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(anfu_iam_recert_signoff(f->fx->iam, &ctx, &f->checker.p, rid, "reviewed",
						 &out, &err),
			 0);
	assert_string_equal(out.signed_off_by, f->checker.id);
	assert_true(out.has_note);
	assert_string_equal(out.note, "reviewed");
	anfu_report_view_clear(&out);
	err.code = NULL;
	assert_int_equal(
		anfu_iam_recert_signoff(f->fx->iam, &ctx, &f->checker.p, rid, "again", &out, &err),
		ANFU_ECONFLICT);
	assert_int_equal(audits(f, "report.recertification", "success"), 1);
	assert_int_equal(audits(f, "report.recertification_signed_off", "success"), 1);
	assert_int_equal(audits(f, "report.recertification_signed_off", "denied"), 2);
	assert_int_equal(anfu_iam_reports(f->fx->iam, &ctx, &f->checker.p, NULL, list,
					  ANFU_LIMIT_REPORT_LIST, &n),
			 0);
	assert_int_equal(n, 1);
	anfu_report_view_clear(&list[0]);
}

/* ---- the gap fixes: own-account decisions, summaries, step-up, notices, attribution ---- */

/* Nobody decides a grant or revocation of their own roles, whatever they
 * hold: refused as approval_self, audited as denied, still pending.
 * req: IAM-SOD-03, IAM-RBAC-02 */
static void test_checker_cannot_decide_a_request_about_themselves(void **state)
{
	struct fix *f = *state;
	struct anfu_iam_err err = { NULL, NULL };
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX], status[256], roles[256];

	file_ok(f, "grant_role", role_payload(f->checker.id, "risk_officer"), a);
	file_ok(f, "revoke_role", role_payload(f->checker.id, "security_officer"), b);
	assert_int_equal(decide(f, &f->checker, a, true, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	err.code = NULL;
	assert_int_equal(decide(f, &f->checker, a, false, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	err.code = NULL;
	assert_int_equal(decide(f, &f->checker, b, false, NULL, &err), ANFU_EPERM);
	assert_string_equal(err.code, "approval_self");
	status_of(f, a, status);
	assert_string_equal(status, "pending");
	status_of(f, b, status);
	assert_string_equal(status, "pending");
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM iam_approval WHERE checker_id IS NOT NULL",
			      NULL),
		0);
	roles_of(f, f->checker.id, roles);
	assert_string_equal(roles, "security_officer");
	assert_int_equal(audits(f, "approval.approved", "denied"), 1);
	assert_int_equal(audits(f, "approval.rejected", "denied"), 2);
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied' AND "
			      "details LIKE '%approval_self%'",
			      NULL),
		3);
}

/* The checker sees where a new operator's initial password goes, masked.
 * req: IAM-ACCT-03, IAM-PWD-12, DATA-MASK-01, DATA-MASK-03 */
static void test_operator_summary_shows_the_masked_delivery_target(void **state)
{
	struct fix *f = *state;
	char id[ANFU_ID_MAX], summary[256];
	json_t *phone_only = json_pack("{s:s,s:[s],s:s}", "username", "peter", "roles", "operator",
				       "phone", "13912345678");

	assert_non_null(phone_only);
	file_ok(f, "create_operator", operator_payload("oswald", "operator"), id);
	fixture_text(f->fx->db, "SELECT summary FROM iam_approval WHERE id = $1", id, summary);
	assert_non_null(strstr(summary, "initial password to email ops**@e**.cn"));
	assert_null(strstr(summary, "ops.person"));
	file_ok(f, "create_operator", phone_only, id);
	fixture_text(f->fx->db, "SELECT summary FROM iam_approval WHERE id = $1", id, summary);
	assert_non_null(strstr(summary, "initial password to phone ****5678"));
	assert_null(strstr(summary, "13912345678"));
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE details LIKE "
				       "'%13912345678%' OR details LIKE '%ops.person%'",
				       NULL),
			 0);
}

/* Account actions and creating users need a recent second factor.
 * req: IAM-MFA-02, IAM-RBAC-04 */
static void test_admin_actions_need_a_recent_second_factor(void **state)
{
	struct fix *f = *state;
	struct anfu_admin_create c = {
		"merchant",	     "shopkeeper", "mch_0001", "merchant_admin",
		"keeper@example.cn", NULL,	   0,	       false
	};
	struct anfu_iam_err err = { NULL, NULL };
	struct anfu_admin_user out = { 0 };
	char status[256];

	anfu_clock_advance_ms(f->fx->iam_cfg->mfa.stepup_window_s * 1000 + 1);
	for (size_t i = 0; i < 3; i++) {
		static const char *const acts[] = { "disable", "unlock", "force_password_change" };

		err.code = NULL;
		assert_int_equal(act(f, &f->admin, f->finance.id, acts[i], "why", &err),
				 ANFU_EPERM);
		assert_string_equal(err.code, "step_up_required");
	}
	err.code = NULL;
	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 ANFU_EPERM);
	assert_string_equal(err.code, "step_up_required");
	assert_string_equal(out.view.id, "");
	fixture_text(f->fx->db, "SELECT status FROM iam_user WHERE id = $1", f->finance.id, status);
	assert_string_equal(status, "active");
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM iam_user WHERE kind = 'merchant'",
				       NULL),
			 0);
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM iam_user WHERE pwd_forced_ms IS NOT NULL",
			      NULL),
		0);
	assert_int_equal(audits(f, "user.disabled", "denied"), 1);
	assert_int_equal(audits(f, "user.created", "denied"), 1);
	assert_int_equal(
		fixture_count(f->fx->db,
			      "SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied' AND "
			      "details LIKE '%step_up_required%'",
			      NULL),
		4);
	f->admin.p.mfa_ms = anfu_clock_now_ms();
	assert_int_equal(act(f, &f->admin, f->finance.id, "disable", "why", NULL), 0);
}

/* Disable, unlock and a forced password change tell the user on the bound
 * channels, in the transaction of the change. req: IAM-LOCK-04, IAM-PWD-15 */
static void test_admin_actions_tell_the_user(void **state)
{
	struct fix *f = *state;
	struct anfu_admin_create c = {
		"merchant",	     "shopkeeper",  "mch_0001", "merchant_admin",
		"keeper@example.cn", "13912345678", 0,		false
	};
	struct anfu_iam_err err = { NULL, NULL };
	struct anfu_admin_user out = { 0 };
	char uid[ANFU_ID_MAX];
	static const char sql[] = "SELECT COUNT(*) FROM notify_message WHERE user_id = $1 AND "
				  "kind IN ('account_disabled', 'account_unlocked', "
				  "'password_change_forced')";

	assert_int_equal(anfu_iam_admin_create_user(f->fx->iam, &ctx, &f->admin.p, &c, &out, &err),
			 0);
	(void)snprintf(uid, sizeof(uid), "%s", out.view.id);
	anfu_admin_user_clear(&out);
	assert_int_equal(act(f, &f->admin, uid, "disable", "fraud", NULL), 0);
	assert_int_equal(fixture_count(f->fx->db, sql, uid), 2); /* SMS and email */
	assert_int_equal(act(f, &f->admin, uid, "enable", "cleared", NULL), 0);
	assert_int_equal(fixture_count(f->fx->db, sql, uid), 2);
	assert_int_equal(anfu_db_exec(f->fx->db,
				      "UPDATE iam_user SET status = 'locked' WHERE id = $1",
				      (struct anfu_param[]){ ANFU_PSN(uid, strlen(uid)) }, 1, NULL,
				      NULL, NULL),
			 0);
	assert_int_equal(act(f, &f->admin, uid, "unlock", "verified", NULL), 0);
	assert_int_equal(act(f, &f->admin, uid, "force_password_change", "leak", NULL), 0);
	assert_int_equal(fixture_count(f->fx->db, sql, uid), 6);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM notify_message WHERE user_id = $1 AND "
				       "kind = 'password_change_forced' AND channel = 'sms'",
				       uid),
			 1);
	/* A refused action tells nobody. */
	assert_int_equal(act(f, &f->admin, uid, "unlock", "again", &err), ANFU_ECONFLICT);
	assert_int_equal(fixture_count(f->fx->db, sql, uid), 6);
}

/* The review run through the API is the operator's: stored and audited as
 * theirs, and refused (audited) without iam.review.read; the job's is the
 * system's. req: IAM-ACCT-05 */
static void test_account_review_is_attributed_to_who_ran_it(void **state)
{
	struct fix *f = *state;
	struct anfu_report_view out = { 0 };
	char by[256];

	assert_int_equal(anfu_iam_account_review(f->fx->iam, &ctx, &f->auditor.p, &out), 0);
	assert_string_equal(out.created_by, f->auditor.id);
	anfu_report_view_clear(&out);
	assert_int_equal(fixture_count(f->fx->db,
				       "SELECT COUNT(*) FROM audit_log WHERE action = "
				       "'report.account_review' AND outcome = 'success' AND "
				       "actor_id = $1",
				       f->auditor.id),
			 1);
	assert_int_equal(anfu_iam_account_review(f->fx->iam, &ctx, &f->finance.p, &out),
			 ANFU_EPERM);
	assert_string_equal(out.id, "");
	assert_null(out.content);
	assert_int_equal(audits(f, "report.account_review", "denied"), 1);
	assert_int_equal(fixture_count(f->fx->db, "SELECT COUNT(*) FROM iam_report", NULL), 1);
	assert_int_equal(anfu_iam_account_review(f->fx->iam, &ctx, NULL, &out), 0);
	anfu_report_view_clear(&out);
	fixture_text(f->fx->db,
		     "SELECT actor_type FROM audit_log WHERE action = 'report.account_review' AND "
		     "outcome = 'success' AND actor_id <> $1",
		     f->auditor.id, by);
	assert_string_equal(by, "system");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filed_requests_get_sequential_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_payload_stored_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_without_request_permission_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_operator_payload_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grant_role_payload_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_by_maker_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_and_decide_need_a_recent_second_factor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_without_approve_permission_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_approve_creates_operator, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_failing_executor_marks_failed_and_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_of_taken_name_fails_at_execution, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failing_executor_changes_rolled_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_platform_failure_leaves_request_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_decide_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_role_through_approval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_get_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approval_list_stays_within_the_array, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_approvals_are_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_admin_gets_random_policy_password,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_action_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_list_and_get_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_list_stays_within_the_array, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_admin_create_merchant_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_account_review_finds_dormant_expired_temporary,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recertification_signed_off_by_another, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_checker_cannot_decide_a_request_about_themselves, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_operator_summary_shows_the_masked_delivery_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_actions_need_a_recent_second_factor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_actions_tell_the_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_account_review_is_attributed_to_who_ran_it,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
