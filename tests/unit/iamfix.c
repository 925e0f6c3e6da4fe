/*
 * tests/unit/iamfix: the IAM test files' setups, their customer and their
 * shared queries (see iamfix.h).
 *
 * Owns nothing beyond the call: the fixture it opens belongs to the cmocka
 * case (fixture_teardown). Trusts its caller as fixture.c does: one
 * thread, SQL text from the tests. Fails the running test with cmocka's
 * assertions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/rbac.h"
#include "store/store.h"

#include "iamfix.h"

static int setup(void **state, bool pg)
{
	const struct anfu_fixture_opts *opts = *state;
	struct anfu_fixture *f = NULL;

	/* Until the fixture is open, nothing of it for a teardown to close. */
	*state = NULL;
	assert_non_null(opts);
	fixture_pg_mode(pg);
	assert_int_equal(fixture_open(FIXTURE_IAM, opts, &f), 0);
	*state = f;
	return 0;
}

int iamfix_setup_sqlite(void **state)
{
	return setup(state, false);
}

int iamfix_setup_pg(void **state)
{
	return setup(state, true);
}

void iamfix_customer(struct anfu_fixture *f, struct anfu_principal *p)
{
	char hash[ANFU_PWHASH_STR_LEN], reason[128];
	struct iam_new_user nu = { 0 };
	char id[ANFU_ID_MAX];

	assert_int_equal(
		anfu_pwhash_hash(f->iam->pwhash, IAMFIX_PASSWORD, strlen(IAMFIX_PASSWORD), hash),
		0);
	nu.kind = ANFU_USER_CUSTOMER;
	nu.login = IAMFIX_PHONE;
	nu.login_kind = "mobile";
	nu.password_hash = hash;
	nu.phone = IAMFIX_PHONE;
	nu.lang = "en";
	nu.created_by = "system";
	nu.pwd_reason = "initial";
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_user_insert(f->iam, f->db, &nu, id), 0);
	assert_int_equal(anfu_rbac_grant(f->db, id, "customer", "system", NULL, anfu_clock_now_ms(),
					 reason, sizeof(reason)),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	memset(p, 0, sizeof(*p));
	(void)snprintf(p->user_id, sizeof(p->user_id), "%s", id);
	p->kind = ANFU_USER_CUSTOMER;
	p->state = ANFU_SESSION_ACTIVE;
	p->mfa_ms = anfu_clock_now_ms();
	assert_int_equal(anfu_rbac_load(f->db, id, p), 0);
}

int64_t iamfix_pay_failures(struct anfu_fixture *f, const char *uid)
{
	return fixture_count(f->db, "SELECT pay_failures FROM iam_user WHERE id = $1", uid);
}
