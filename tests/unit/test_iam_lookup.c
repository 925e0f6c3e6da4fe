/*
 * tests/unit/test_iam_lookup: other services' view of a user (src/iam/lookup.c:
 * anfu_iam_customer_find, anfu_iam_party_get; issue 10, the wallet's payee).
 *
 * Each case gets the full fixture (real keys, a migrated store, the vault,
 * the IAM service) on a frozen clock, and runs on SQLite and, named
 * "pg:<case>", on PostgreSQL (tests/unit/iamfix.h). Users are inserted the way the service
 * inserts them (iam_user_insert: sealed and indexed); states the service
 * reaches through its own flows (disabled, locked, expired) are set on the
 * row directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "store/store.h"

#include "fixture.h"
#include "iamfix.h"

#define PHONE_A "13800001111"
#define PHONE_B "13900002222"

/* Inserts a user as the service does (sealed, indexed); its id into id. */
static void add_user(struct anfu_fixture *f, enum anfu_user_kind kind, const char *login,
		     const char *login_kind, const char *phone, const char *name, const char *lang,
		     char id[ANFU_ID_MAX])
{
	struct iam_new_user nu = { 0 };

	nu.kind = kind;
	nu.login = login;
	nu.login_kind = login_kind;
	nu.phone = phone;
	nu.real_name = name;
	nu.lang = lang;
	nu.created_by = "system";
	nu.pwd_reason = "initial";
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_user_insert(f->iam, f->db, &nu, id), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

static void set_col(struct anfu_fixture *f, const char *id, const char *assignment)
{
	char sql[256];
	struct anfu_param p[1] = { ANFU_PS(id) };

	(void)snprintf(sql, sizeof(sql), "UPDATE iam_user SET %s WHERE id = $1", assignment);
	assert_int_equal(anfu_db_exec(f->db, sql, p, 1, NULL, NULL, NULL), 0);
}

/* A party filled with a pattern, to see that a failure writes nothing. */
static void poison(struct anfu_iam_party *v)
{
	memset(v, 0x5a, sizeof(*v));
}

static void assert_untouched(const struct anfu_iam_party *v)
{
	struct anfu_iam_party p;

	poison(&p);
	assert_memory_equal(v, &p, sizeof(p));
}

/* req: DATA-MASK-01 — a payee found by mobile number shows only masked data. */
static void test_customer_found_by_mobile_in_any_form_masked(void **state)
{
	static const char *const typed[] = { PHONE_A, "+86" PHONE_A, "86" PHONE_A };
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX];

	add_user(f, ANFU_USER_CUSTOMER, PHONE_A, "mobile", PHONE_A, "张三", "en", id);
	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		struct anfu_iam_party v;

		poison(&v);
		assert_int_equal(anfu_iam_customer_find(f->iam, typed[i], &v), 0);
		assert_string_equal(v.id, id);
		assert_int_equal(v.kind, ANFU_USER_CUSTOMER);
		assert_string_equal(v.status, "active");
		assert_string_equal(v.lang, "en");
		assert_string_equal(v.real_name, "*三");
		assert_string_equal(v.login, "****1111");
	}
}

/* An email or a login name matches whatever its case; without a real
 * name the name is "" and the login is masked by its kind. */
static void test_email_and_login_name_match_in_any_case(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_iam_party v;
	char mail[ANFU_ID_MAX], name[ANFU_ID_MAX];

	add_user(f, ANFU_USER_CUSTOMER, "li.si@example.com", "email", NULL, NULL, "zh", mail);
	add_user(f, ANFU_USER_CUSTOMER, "wangwu88", "username", NULL, "王五", NULL, name);
	assert_int_equal(anfu_iam_customer_find(f->iam, "Li.Si@EXAMPLE.com", &v), 0);
	assert_string_equal(v.id, mail);
	assert_string_equal(v.real_name, "");
	assert_string_equal(v.login, "li.**@e**.com");
	assert_string_equal(v.lang, "zh");
	assert_int_equal(anfu_iam_customer_find(f->iam, "WangWu88", &v), 0);
	assert_string_equal(v.id, name);
	assert_string_equal(v.login, "w**8");
	assert_string_equal(v.lang, "zh"); /* no language stored: Chinese */
}

/* A mobile number bound as an account's phone finds it. */
static void test_bound_phone_finds_the_account_that_bound_it(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_iam_party v;
	char id[ANFU_ID_MAX];

	add_user(f, ANFU_USER_CUSTOMER, "zhao@example.com", "email", PHONE_B, "赵六", "zh", id);
	assert_int_equal(anfu_iam_customer_find(f->iam, "+86" PHONE_B, &v), 0);
	assert_string_equal(v.id, id);
	assert_string_equal(v.login, "zha**@e**.com");
}

/* The account whose login a number is wins over one that bound it. */
static void test_login_wins_over_a_bound_phone(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_iam_party v;
	char bound[ANFU_ID_MAX], owner[ANFU_ID_MAX];

	/* Bound first, so that row order alone would pick it. */
	add_user(f, ANFU_USER_CUSTOMER, "qian@example.com", "email", PHONE_A, NULL, "zh", bound);
	add_user(f, ANFU_USER_CUSTOMER, PHONE_A, "mobile", NULL, NULL, "zh", owner);
	assert_int_equal(anfu_iam_customer_find(f->iam, PHONE_A, &v), 0);
	assert_string_equal(v.id, owner);
}

/* Nothing but an active customer is found, and a refusal writes nothing. */
static void test_only_an_active_customer_is_found(void **state)
{
	static const struct {
		const char *login, *kind_sql;
		enum anfu_user_kind kind;
		const char *assignment; /* NULL: as inserted */
	} users[] = {
		{ "13800003001", "mobile", ANFU_USER_STAFF, NULL },
		{ "13800003002", "mobile", ANFU_USER_MERCHANT, NULL },
		{ "13800003003", "mobile", ANFU_USER_CUSTOMER, "status = 'disabled'" },
		{ "13800003004", "mobile", ANFU_USER_CUSTOMER,
		  "status = 'locked', locked_until_ms = 0" },
		{ "13800003005", "mobile", ANFU_USER_CUSTOMER, "expires_ms = 1" },
	};
	static const char *const nobody[] = { "13800009999", "", "not a login!", "x",
					      "nobody@example.com" };
	struct anfu_fixture *f = *state;
	struct anfu_iam_party v;
	char id[ANFU_ID_MAX];

	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		add_user(f, users[i].kind, users[i].login, users[i].kind_sql, NULL, "某人", "zh",
			 id);
		if (users[i].assignment)
			set_col(f, id, users[i].assignment);
		poison(&v);
		assert_int_equal(anfu_iam_customer_find(f->iam, users[i].login, &v),
				 ANFU_ENOTFOUND);
		assert_untouched(&v);
	}
	for (size_t i = 0; i < sizeof(nobody) / sizeof(nobody[0]); i++) {
		poison(&v);
		assert_int_equal(anfu_iam_customer_find(f->iam, nobody[i], &v), ANFU_ENOTFOUND);
		assert_untouched(&v);
	}
	assert_int_equal(anfu_iam_customer_find(f->iam, NULL, &v), ANFU_EINVAL);
	assert_int_equal(anfu_iam_customer_find(NULL, PHONE_A, &v), ANFU_EINVAL);
	assert_int_equal(anfu_iam_customer_find(f->iam, PHONE_A, NULL), ANFU_EINVAL);
	assert_untouched(&v);
}

/* req: IAM-LOCK-02 — a timed lock over is an active account again. */
static void test_customer_is_found_once_a_timed_lock_ran_out(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_iam_party v;
	char id[ANFU_ID_MAX], assignment[96];

	add_user(f, ANFU_USER_CUSTOMER, PHONE_A, "mobile", NULL, NULL, "zh", id);
	(void)snprintf(assignment, sizeof(assignment), "status = 'locked', locked_until_ms = %lld",
		       (long long)(anfu_clock_now_ms() + 60000));
	set_col(f, id, assignment);
	assert_int_equal(anfu_iam_customer_find(f->iam, PHONE_A, &v), ANFU_ENOTFOUND);
	anfu_clock_advance_ms(60000);
	assert_int_equal(anfu_iam_customer_find(f->iam, PHONE_A, &v), 0);
	assert_string_equal(v.id, id);
	assert_string_equal(v.status, "active");
}

/* By id: any kind and status, masked the same way. */
static void test_party_by_id_of_any_kind_and_status(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_iam_party v;
	char staff[ANFU_ID_MAX], cust[ANFU_ID_MAX];

	add_user(f, ANFU_USER_STAFF, "ops.zhou", "username", NULL, "周七", "en", staff);
	add_user(f, ANFU_USER_CUSTOMER, PHONE_B, "mobile", PHONE_B, "吴八", "zh", cust);
	set_col(f, cust, "status = 'disabled'");
	assert_int_equal(anfu_iam_party_get(f->iam, staff, &v), 0);
	assert_string_equal(v.id, staff);
	assert_int_equal(v.kind, ANFU_USER_STAFF);
	assert_string_equal(v.status, "active");
	assert_string_equal(v.lang, "en");
	assert_string_equal(v.real_name, "*七");
	assert_string_equal(v.login, "o**u");
	assert_int_equal(anfu_iam_party_get(f->iam, cust, &v), 0);
	assert_int_equal(v.kind, ANFU_USER_CUSTOMER);
	assert_string_equal(v.status, "disabled");
	assert_string_equal(v.real_name, "*八");
	assert_string_equal(v.login, "****2222");
	poison(&v);
	assert_int_equal(anfu_iam_party_get(f->iam, "usr_nobody", &v), ANFU_ENOTFOUND);
	assert_untouched(&v);
	assert_int_equal(anfu_iam_party_get(f->iam, NULL, &v), ANFU_EINVAL);
	assert_untouched(&v);
}

static struct anfu_fixture_opts opts = IAMFIX_OPTS("iamlookup");

#define T(fn) IAMFIX_CASES(fn, &opts)

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_customer_found_by_mobile_in_any_form_masked),
		T(test_email_and_login_name_match_in_any_case),
		T(test_bound_phone_finds_the_account_that_bound_it),
		T(test_login_wins_over_a_bound_phone),
		T(test_only_an_active_customer_is_found),
		T(test_customer_is_found_once_a_timed_lock_ran_out),
		T(test_party_by_id_of_any_kind_and_status),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
