/*
 * tests/unit/test_rbac: roles, permissions, grants and separation of duties
 * (src/iam/rbac.c).
 *
 * Each test gets a fresh migrated SQLite database with the built-in roles,
 * permissions and conflicts of db/migrations/0002_iam.sql. Accounts are
 * inserted with raw SQL (rbac never looks at their personal data), so these
 * tests need nothing but the store. Refusals are checked together with the
 * state they must leave unchanged.
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

#include "base/clock.h"
#include "base/err.h"
#include "base/profile.h"
#include "base/rand.h"
#include "iam/iam.h"
#include "iam/rbac.h"
#include "store/store.h"

#include "fixture.h"

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "rbac", .frozen_clock = true };

	return fixture_setup(state, 0, &opts);
}

/* ---- helpers ------------------------------------------------------------ */

static void exec_sql(struct anfu_fixture *f, const char *sql, const struct anfu_param *p, size_t n)
{
	assert_int_equal(anfu_db_exec(f->db, sql, p, n, NULL, NULL, NULL), 0);
}

/* An account of kind with status; expires_ms 0 for none. */
static void add_user_full(struct anfu_fixture *f, const char *kind, const char *status,
			  int64_t expires_ms, char id[ANFU_ID_MAX])
{
	struct anfu_param p[5];

	assert_int_equal(anfu_id_new("usr", id, ANFU_ID_MAX), 0);
	p[0] = ANFU_PS(id);
	p[1] = ANFU_PS(kind);
	p[2] = ANFU_PS(status);
	p[3] = ANFU_PI(anfu_clock_now_ms());
	p[4] = expires_ms ? ANFU_PI(expires_ms) : ANFU_PNULL;
	exec_sql(f,
		 "INSERT INTO iam_user (id, kind, login_kind, login_index, login_enc, status, "
		 "created_ms, created_by, expires_ms) VALUES ($1, $2, 'username', $1, 'x', $3, $4, "
		 "'test', $5)",
		 p, 5);
}

static void add_user(struct anfu_fixture *f, const char *kind, char id[ANFU_ID_MAX])
{
	add_user_full(f, kind, "active", 0, id);
}

static int grant(struct anfu_fixture *f, const char *id, const char *role, char *reason, size_t cap)
{
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	r = anfu_rbac_grant(f->db, id, role, "usr_tester", NULL, anfu_clock_now_ms(), reason, cap);
	if (r == 0)
		assert_int_equal(anfu_db_commit(f->db), 0);
	else
		assert_int_equal(anfu_db_rollback(f->db), 0);
	return r;
}

static void grant_ok(struct anfu_fixture *f, const char *id, const char *role)
{
	char reason[128];

	assert_int_equal(grant(f, id, role, reason, sizeof(reason)), 0);
}

static void roles_of(struct anfu_fixture *f, const char *id, char out[256])
{
	assert_int_equal(anfu_rbac_roles(f->db, id, out, 256), 0);
}

/* The principal's permission list holds perm (kept local so that this
 * test needs only rbac.c and the store). */
static bool has_perm(const struct anfu_principal *p, const char *perm)
{
	for (int i = 0; i < p->nperms; i++)
		if (strcmp(p->perms[i], perm) == 0)
			return true;
	return false;
}

/* ---- separation of duties ------------------------------------------------ */

/* req: IAM-SOD-01, IAM-SOD-02 */
static const struct {
	const char *a, *b;
} conflict_pairs[] = {
	{ "sysadmin", "auditor" },
	{ "security_admin", "operator" },
	{ "security_admin", "security_officer" },
	{ "sysadmin", "security_officer" },
	{ "auditor", "security_admin" },
};

/* req: IAM-SOD-01 */
static void test_conflicting_roles_refused_in_both_orders(void **state)
{
	struct anfu_fixture *f = *state;

	for (size_t i = 0; i < sizeof(conflict_pairs) / sizeof(conflict_pairs[0]); i++) {
		for (int order = 0; order < 2; order++) {
			const char *first = order ? conflict_pairs[i].b : conflict_pairs[i].a;
			const char *second = order ? conflict_pairs[i].a : conflict_pairs[i].b;
			char id[ANFU_ID_MAX], reason[128] = "", roles[256];

			add_user(f, "staff", id);
			grant_ok(f, id, first);
			assert_int_equal(grant(f, id, second, reason, sizeof(reason)),
					 ANFU_ECONFLICT);
			assert_true(strlen(reason) > 0);
			roles_of(f, id, roles);
			assert_string_equal(roles, first);
			assert_int_equal(
				anfu_rbac_check_grant(f->db, id, second, reason, sizeof(reason)),
				ANFU_ECONFLICT);
		}
	}
}

/* req: IAM-SOD-01 */
static void test_conflicting_role_set_refused(void **state)
{
	struct anfu_fixture *f = *state;
	char reason[128];

	for (size_t i = 0; i < sizeof(conflict_pairs) / sizeof(conflict_pairs[0]); i++) {
		const char *set[2] = { conflict_pairs[i].b, conflict_pairs[i].a };

		reason[0] = '\0';
		assert_int_equal(anfu_rbac_check_set(f->db, set, 2, reason, sizeof(reason)),
				 ANFU_ECONFLICT);
		assert_true(strlen(reason) > 0);
	}
	{
		const char *ok[3] = { "operator", "finance", "risk_officer" };
		const char *unknown[2] = { "operator", "no_such_role" };

		assert_int_equal(anfu_rbac_check_set(f->db, ok, 3, reason, sizeof(reason)), 0);
		assert_int_equal(anfu_rbac_check_set(f->db, unknown, 2, reason, sizeof(reason)),
				 ANFU_ENOTFOUND);
	}
}

/* Two roles the conflict table does not know, one holding X.request and
 * the other X.approve. */
static void add_maker_checker_roles(struct anfu_fixture *f)
{
	exec_sql(f,
		 "INSERT INTO iam_permission (name, description) VALUES "
		 "('test.approval.x.request', 'x'), ('test.approval.x.approve', 'x'), "
		 "('test.approval.y.approve', 'y')",
		 NULL, 0);
	exec_sql(f,
		 "INSERT INTO iam_role (name, kind, privileged, description) VALUES "
		 "('maker_x', 'staff', 0, 'x'), ('checker_x', 'staff', 0, 'x'), "
		 "('checker_y', 'staff', 0, 'y'), ('both_x', 'staff', 0, 'x')",
		 NULL, 0);
	exec_sql(
		f,
		"INSERT INTO iam_role_permission (role, permission) VALUES "
		"('maker_x', 'test.approval.x.request'), ('checker_x', 'test.approval.x.approve'), "
		"('checker_y', 'test.approval.y.approve'), "
		"('both_x', 'test.approval.x.request'), ('both_x', 'test.approval.x.approve')",
		NULL, 0);
}

/* req: IAM-SOD-01, IAM-SOD-03 */
static void test_maker_and_checker_of_one_type_refused(void **state)
{
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX], id2[ANFU_ID_MAX], reason[128] = "", roles[256];

	add_maker_checker_roles(f);
	add_user(f, "staff", id);
	grant_ok(f, id, "maker_x");
	assert_int_equal(grant(f, id, "checker_x", reason, sizeof(reason)), ANFU_ECONFLICT);
	assert_non_null(strstr(reason, "test.approval.x"));
	roles_of(f, id, roles);
	assert_string_equal(roles, "maker_x");
	/* Another type's checker is fine. */
	grant_ok(f, id, "checker_y");
	roles_of(f, id, roles);
	assert_string_equal(roles, "checker_y,maker_x");
	/* A role that is both at once is refused on its own. */
	add_user(f, "staff", id2);
	assert_int_equal(grant(f, id2, "both_x", reason, sizeof(reason)), ANFU_ECONFLICT);
	roles_of(f, id2, roles);
	assert_string_equal(roles, "");
	{
		const char *set[2] = { "checker_x", "maker_x" };

		assert_int_equal(anfu_rbac_check_set(f->db, set, 2, reason, sizeof(reason)),
				 ANFU_ECONFLICT);
	}
}

/* ---- grants ------------------------------------------------------------------ */

/* req: IAM-RBAC-01, IAM-RBAC-02 */
static void test_grant_and_revoke(void **state)
{
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX], cust[ANFU_ID_MAX], reason[128], roles[256];

	add_user(f, "staff", id);
	add_user(f, "customer", cust);
	grant_ok(f, id, "operator");
	grant_ok(f, id, "finance");
	roles_of(f, id, roles);
	assert_string_equal(roles, "finance,operator");
	assert_int_equal(grant(f, id, "operator", reason, sizeof(reason)), ANFU_EEXIST);
	assert_int_equal(grant(f, id, "no_such_role", reason, sizeof(reason)), ANFU_ENOTFOUND);
	/* A staff role never lands on a customer account, nor the reverse. */
	assert_int_equal(grant(f, cust, "operator", reason, sizeof(reason)), ANFU_EINVAL);
	assert_int_equal(grant(f, id, "customer", reason, sizeof(reason)), ANFU_EINVAL);
	roles_of(f, cust, roles);
	assert_string_equal(roles, "");
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_user_role WHERE granted_by = "
				       "'usr_tester' AND granted_ms > 0",
				       NULL),
			 2);
	assert_int_equal(anfu_rbac_revoke(f->db, id, "operator"), 0);
	assert_int_equal(anfu_rbac_revoke(f->db, id, "operator"), ANFU_ENOTFOUND);
	roles_of(f, id, roles);
	assert_string_equal(roles, "finance");
}

/* req: IAM-RBAC-01 */
static void test_role_fits_kind(void **state)
{
	struct anfu_fixture *f = *state;
	static const struct {
		const char *role, *kind;
		bool fits;
	} cases[] = {
		{ "customer", "customer", true },	{ "customer", "staff", false },
		{ "merchant_admin", "merchant", true }, { "merchant_staff", "merchant", true },
		{ "merchant_admin", "staff", false },	{ "operator", "staff", true },
		{ "sysadmin", "staff", true },		{ "sysadmin", "customer", false },
		{ "no_such_role", "staff", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool fits = !cases[i].fits;

		assert_int_equal(anfu_rbac_role_fits(f->db, cases[i].role, cases[i].kind, &fits),
				 0);
		assert_int_equal(fits, cases[i].fits);
	}
}

/* The role class that picks the password and session policy of an account. */
static void test_role_class(void **state)
{
	struct anfu_fixture *f = *state;
	static const struct {
		const char *kind;
		const char *roles[2];
		enum anfu_role_class cls;
	} cases[] = {
		{ "customer", { "customer", NULL }, ANFU_CLASS_CUSTOMER },
		{ "merchant", { "merchant_admin", NULL }, ANFU_CLASS_MERCHANT },
		{ "merchant", { "merchant_staff", NULL }, ANFU_CLASS_MERCHANT },
		{ "staff", { NULL, NULL }, ANFU_CLASS_OPERATOR },
		{ "staff", { "operator", NULL }, ANFU_CLASS_OPERATOR },
		{ "staff", { "finance", "risk_officer" }, ANFU_CLASS_OPERATOR },
		{ "staff", { "auditor", NULL }, ANFU_CLASS_ADMIN },
		{ "staff", { "sysadmin", "security_admin" }, ANFU_CLASS_ADMIN },
		{ "staff", { "finance", "security_officer" }, ANFU_CLASS_ADMIN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[ANFU_ID_MAX];
		enum anfu_role_class cls = (enum anfu_role_class) - 1;
		struct anfu_principal p;

		add_user(f, cases[i].kind, id);
		for (int j = 0; j < 2 && cases[i].roles[j]; j++)
			grant_ok(f, id, cases[i].roles[j]);
		assert_int_equal(anfu_rbac_class(f->db, id, cases[i].kind, &cls), 0);
		assert_int_equal(cls, cases[i].cls);
		memset(&p, 0, sizeof(p));
		assert_int_equal(anfu_rbac_load(f->db, id, &p), 0);
		assert_int_equal(p.role_class, cases[i].cls);
	}
	{
		enum anfu_role_class cls = ANFU_CLASS_CUSTOMER;

		assert_int_equal(anfu_rbac_class(f->db, "usr_x", "robot", &cls), ANFU_EINVAL);
		assert_int_equal(cls, ANFU_CLASS_CUSTOMER);
	}
}

/* req: IAM-RBAC-01, IAM-LP-01 */
static void test_load_fills_sorted_unique_permissions(void **state)
{
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX];
	struct anfu_principal p;
	int64_t distinct;

	add_user(f, "staff", id);
	grant_ok(f, id, "operator");
	grant_ok(f, id, "risk_officer");
	memset(&p, 0, sizeof(p));
	assert_int_equal(anfu_rbac_load(f->db, id, &p), 0);
	assert_string_equal(p.roles, "operator,risk_officer");
	distinct = fixture_count(f->db,
				 "SELECT COUNT(DISTINCT permission) FROM iam_role_permission "
				 "WHERE role IN ('operator', 'risk_officer')",
				 NULL);
	assert_int_equal(p.nperms, distinct);
	for (int i = 1; i < p.nperms; i++)
		assert_true(strcmp(p.perms[i - 1], p.perms[i]) < 0);
	assert_true(has_perm(&p, "iam.user.unlock"));
	assert_true(has_perm(&p, "iam.user.read"));
	assert_false(has_perm(&p, "iam.user.create"));
	assert_false(has_perm(&p, "iam.user"));
}

/* A permission check grants exactly the permissions held: not a shorter
 * name they start with, not a longer one starting with them, nothing to a
 * principal without permissions. req: IAM-RBAC-01, IAM-LP-01 */
static void test_principal_can_only_what_it_holds(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p, none;
	char id[ANFU_ID_MAX];

	add_user(f, "staff", id);
	grant_ok(f, id, "operator");
	memset(&p, 0, sizeof(p));
	assert_int_equal(anfu_rbac_load(f->db, id, &p), 0);
	assert_true(has_perm(&p, "iam.user.unlock"));
	assert_true(anfu_principal_can(&p, "iam.user.unlock"));
	assert_false(anfu_principal_can(&p, "iam.user"));
	assert_false(anfu_principal_can(&p, "iam.user.unloc"));
	assert_false(anfu_principal_can(&p, "iam.user.unlock.all"));
	assert_false(anfu_principal_can(&p, "iam.user.create"));
	assert_false(anfu_principal_can(&p, ""));
	assert_false(anfu_principal_can(&p, NULL));
	memset(&none, 0, sizeof(none));
	assert_false(anfu_principal_can(&none, "iam.user.unlock"));
	assert_false(anfu_principal_can(NULL, "iam.user.unlock"));
}

static void test_load_unknown_user_leaves_principal(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;

	memset(&p, 0x5a, sizeof(p));
	p.nperms = 7;
	assert_int_equal(anfu_rbac_load(f->db, "usr_nobody", &p), ANFU_ENOTFOUND);
	assert_int_equal(p.nperms, 7);
}

/* More permissions than a principal holds is refused, never truncated. */
static void test_load_refuses_too_many_permissions(void **state)
{
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX], name[48];
	struct anfu_principal p;

	exec_sql(f,
		 "INSERT INTO iam_role (name, kind, privileged, description) "
		 "VALUES ('wide', 'staff', 0, 'too wide')",
		 NULL, 0);
	for (int i = 0; i <= ANFU_PRINCIPAL_MAX_PERMS; i++) {
		struct anfu_param q[1];

		(void)snprintf(name, sizeof(name), "test.wide.%03d", i);
		q[0] = ANFU_PSN(name, strlen(name));
		exec_sql(f, "INSERT INTO iam_permission (name, description) VALUES ($1, 'w')", q,
			 1);
		exec_sql(f,
			 "INSERT INTO iam_role_permission (role, permission) VALUES ('wide', $1)",
			 q, 1);
	}
	add_user(f, "staff", id);
	grant_ok(f, id, "wide");
	memset(&p, 0, sizeof(p));
	assert_int_equal(anfu_rbac_load(f->db, id, &p), ANFU_ELIMIT);
	assert_int_equal(p.nperms, 0);
}

static void test_roles_output_too_small(void **state)
{
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX], out[8] = "keep";

	add_user(f, "staff", id);
	grant_ok(f, id, "operator");
	grant_ok(f, id, "finance");
	assert_int_equal(anfu_rbac_roles(f->db, id, out, sizeof(out)), ANFU_ELIMIT);
	assert_string_equal(out, "keep");
}

/* Whether someone can approve already decides if staff may still be
 * bootstrapped from the host (docs/iam.md). */
static void test_anyone_holds_counts_active_accounts_only(void **state)
{
	struct anfu_fixture *f = *state;
	const char *perm = "iam.approval.create_operator.approve";
	char a[ANFU_ID_MAX], b[ANFU_ID_MAX], c[ANFU_ID_MAX];
	bool held = true;

	assert_int_equal(anfu_rbac_anyone_holds(f->db, perm, NULL, &held), 0);
	assert_false(held);
	add_user_full(f, "staff", "disabled", 0, a);
	grant_ok(f, a, "security_officer");
	add_user_full(f, "staff", "active", anfu_clock_now_ms() + 1000, b);
	grant_ok(f, b, "security_officer");
	assert_int_equal(anfu_rbac_anyone_holds(f->db, perm, NULL, &held), 0);
	assert_true(held);
	assert_int_equal(anfu_rbac_anyone_holds(f->db, perm, b, &held), 0);
	assert_false(held);
#ifdef ANFU_TEST_HOOKS
	anfu_clock_advance_ms(1000);
	assert_int_equal(anfu_rbac_anyone_holds(f->db, perm, NULL, &held), 0);
	assert_false(held);
#endif
	add_user(f, "staff", c);
	grant_ok(f, c, "security_officer");
	assert_int_equal(anfu_rbac_anyone_holds(f->db, perm, NULL, &held), 0);
	assert_true(held);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conflicting_roles_refused_in_both_orders,
						setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_conflicting_role_set_refused, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_maker_and_checker_of_one_type_refused, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_grant_and_revoke, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_role_fits_kind, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_role_class, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_load_fills_sorted_unique_permissions, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_principal_can_only_what_it_holds, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_load_unknown_user_leaves_principal, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_too_many_permissions, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_roles_output_too_small, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_anyone_holds_counts_active_accounts_only,
						setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
