/*
 * tests/unit/iamfix: the setup the IAM service's test files share
 * (test_iam_pin, test_iam_pin_defer, test_iam_lookup).
 *
 * Each case gets the full fixture (FIXTURE_IAM: real keys, a migrated
 * store, audit, vault, an unstarted notifier, the IAM service with small
 * Argon2 parameters) on a frozen clock, and runs twice: on SQLite and,
 * named "pg:<case>", on PostgreSQL (fixture_pg_mode). Also makes a
 * customer the way the service makes them, and answers the small queries
 * those files share. Built on fixture.h; trusts what it trusts (one
 * thread, anfu_crypto_init() done by fixture_group_setup).
 */
#ifndef ANFU_TESTS_UNIT_IAMFIX_H
#define ANFU_TESTS_UNIT_IAMFIX_H

#include <stdint.h>

#include "iam/iam.h"

#include "fixture.h"

/* The customer iamfix_customer() makes: its mobile number (its login and
 * its phone) and its login password. */
#define IAMFIX_PHONE "13800001111"
#define IAMFIX_PASSWORD "Kx9#mQ2$vLp7"

/* The options of a file's cases: dir names the data directory
 * (/tmp/anfu-<dir>-XXXXXX); small Argon2 parameters, a frozen clock. */
#define IAMFIX_OPTS(dir)                                                  \
	{                                                                 \
		.name = (dir), .small_argon2 = true, .frozen_clock = true \
	}

/* cmocka setups: *state holds, on entry, the case's initial state, a
 * const struct anfu_fixture_opts * (IAMFIX_CASES puts it there); they
 * open a FIXTURE_IAM fixture with those options, with the store on SQLite
 * or on PostgreSQL, into *state (NULL until it is open). A fixture that
 * does not open fails the test. Close it with fixture_teardown. */
int iamfix_setup_sqlite(void **state);
int iamfix_setup_pg(void **state);

/* The two cases of test function fn, for a CMUnitTest array: fn on
 * SQLite and "pg:" fn on PostgreSQL, both with the fixture of opts (a
 * pointer to a struct anfu_fixture_opts that outlives the run: IAMFIX_OPTS
 * in a static). The array then goes through fixture_pg_cases. */
#define IAMFIX_CASES(fn, opts)                                                   \
	{ #fn, fn, iamfix_setup_sqlite, fixture_teardown, (void *)(opts) },      \
	{                                                                        \
		"pg:" #fn, fn, iamfix_setup_pg, fixture_teardown, (void *)(opts) \
	}

/* Makes the customer IAMFIX_PHONE with password IAMFIX_PASSWORD as the
 * service does (iam_user_insert, role "customer"; committed) and writes
 * into *p its principal, active and just stepped up (mfa_ms now), roles
 * loaded. Fails the test on any error. */
void iamfix_customer(struct anfu_fixture *f, struct anfu_principal *p);

/* The payment PIN failure count on uid's row. Fails the test on a
 * database error or no row. */
int64_t iamfix_pay_failures(struct anfu_fixture *f, const char *uid);

#endif
