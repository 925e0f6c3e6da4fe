/*
 * tests/unit/test_iam_pin_defer: a right payment PIN recorded by the
 * payment's own transaction (src/iam/self.c:
 * anfu_iam_verify_payment_password_deferred, anfu_iam_pin_ok_record_in,
 * anfu_iam_pin_ok_record; issue 10, one durable commit less per transfer).
 *
 * The full fixture on a frozen clock, on SQLite and, named "pg:<case>", on
 * PostgreSQL (the setup of tests/unit/iamfix.h, as test_iam_pin.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/rbac.h"
#include "keys/keys.h"
#include "store/store.h"

#include "fixture.h"
#include "iamfix.h"

#define PIN "582947"
#define WRONG "582948"

static const struct anfu_iam_ctx web = { "198.51.100.7", "Mozilla/5.0 (test)",
					 "dev_a",	 "req_1",
					 "en",		 false };

static int64_t verified(struct anfu_fixture *f)
{
	return fixture_audits(f->db, "payment.password_verified");
}

static void locked_until(struct anfu_fixture *f, const char *uid, int64_t until)
{
	struct anfu_param q[2] = { ANFU_PS(uid), ANFU_PI(until) };

	assert_int_equal(anfu_db_exec(f->db,
				      "UPDATE iam_user SET pay_locked_until_ms = $2 WHERE id = $1",
				      q, 2, NULL, NULL, NULL),
			 0);
}

static void set_failures(struct anfu_fixture *f, const char *uid, int64_t n)
{
	struct anfu_param q[2] = { ANFU_PS(uid), ANFU_PI(n) };

	assert_int_equal(anfu_db_exec(f->db, "UPDATE iam_user SET pay_failures = $2 WHERE id = $1",
				      q, 2, NULL, NULL, NULL),
			 0);
}

/* The payment's transaction: stages the PIN's record, then keeps it or
 * (refuse) fails after it. */
struct pay {
	struct anfu_iam *iam;
	struct anfu_iam_pin_ok *ok;
	bool refuse;
	int r_record; /* what anfu_iam_pin_ok_record_in() returned */
};

static int pay_fn(struct anfu_tx *tx, void *ud)
{
	struct pay *c = ud;

	c->r_record = anfu_iam_pin_ok_record_in(c->iam, tx, c->ok);
	if (c->r_record < 0)
		return c->r_record;
	return c->refuse ? ANFU_ECONFLICT : 0;
}

/* A right PIN with nothing to change writes nothing at once; the payment's
 * commit records it (one payment.password_verified, not two).
 * req: AUD-CNT-02 */
static void test_right_pin_is_recorded_by_the_payments_commit(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_pin_ok ok = { 0 };
	struct pay c = { f->iam, &ok, false, 1 };

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password_deferred(f->iam, &web, &p, PIN, &ok, &e),
			 0);
	assert_true(ok.pending);
	assert_int_equal(verified(f), 0);
	assert_int_equal(iam_tx(f->iam, pay_fn, &c, NULL), 0);
	assert_int_equal(c.r_record, 0);
	assert_false(ok.pending);
	assert_int_equal(verified(f), 1);
	/* Recorded once: a second call does nothing. */
	assert_int_equal(anfu_iam_pin_ok_record(f->iam, &ok), 0);
	assert_int_equal(verified(f), 1);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 0);
}

/* A payment refused after staging the record keeps nothing; the record is
 * then written on its own, once. req: AUD-CNT-02 */
static void test_refused_payment_records_the_right_pin_on_its_own(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_pin_ok ok = { 0 };
	struct pay c = { f->iam, &ok, true, 1 };

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password_deferred(f->iam, &web, &p, PIN, &ok, &e),
			 0);
	assert_int_equal(iam_tx(f->iam, pay_fn, &c, NULL), ANFU_ECONFLICT);
	assert_int_equal(verified(f), 0);
	ok.pending = true; /* the caller's rule: its transaction did not commit */
	assert_int_equal(anfu_iam_pin_ok_record(f->iam, &ok), 0);
	assert_false(ok.pending);
	assert_int_equal(verified(f), 1);
}

/* Failures left by earlier wrong entries are cleared at once, as before:
 * nothing is left pending. req: IAM-LOCK-03 */
static void test_right_pin_after_failures_is_recorded_at_once(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_pin_ok ok = { 0 };

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e), ANFU_EAUTH);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 1);
	assert_int_equal(anfu_iam_verify_payment_password_deferred(f->iam, &web, &p, PIN, &ok, &e),
			 0);
	assert_false(ok.pending);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 0);
	assert_int_equal(verified(f), 1);
}

/* A wrong entry of another request between the check and the payment's
 * transaction: a lock refuses the payment there (nothing staged), a mere
 * failure count is cleared there. req: IAM-LOCK-03 */
static void test_lock_found_in_the_payments_transaction_refuses_it(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	struct anfu_iam_pin_ok ok = { 0 }, ok2 = { 0 };
	struct pay c = { f->iam, &ok, false, 1 }, c2 = { f->iam, &ok2, false, 1 };
	int64_t until = anfu_clock_now_ms() + 60000;

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password_deferred(f->iam, &web, &p, PIN, &ok, &e),
			 0);
	assert_true(ok.pending);
	locked_until(f, p.user_id, until);
	assert_int_equal(iam_tx(f->iam, pay_fn, &c, NULL), ANFU_ELOCKED);
	assert_true(ok.pending);
	assert_int_equal(verified(f), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT pay_locked_until_ms FROM iam_user WHERE id = $1",
				       p.user_id),
			 until);
	/* On its own: the lock is the refusal, audited. */
	assert_int_equal(anfu_iam_pin_ok_record(f->iam, &ok), 0);
	assert_int_equal(verified(f), 0);
	assert_int_equal(fixture_audits(f->db, "payment.password_refused"), 1);
	/* A count without a lock is cleared by the right entry. */
	locked_until(f, p.user_id, 0);
	assert_int_equal(anfu_iam_verify_payment_password_deferred(f->iam, &web, &p, PIN, &ok2, &e),
			 0);
	assert_true(ok2.pending);
	set_failures(f, p.user_id, 1);
	assert_int_equal(iam_tx(f->iam, pay_fn, &c2, NULL), 0);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 0);
	assert_int_equal(verified(f), 1);
}

static struct anfu_fixture_opts opts = IAMFIX_OPTS("iampin");

#define T(fn) IAMFIX_CASES(fn, &opts)

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_right_pin_is_recorded_by_the_payments_commit),
		T(test_refused_payment_records_the_right_pin_on_its_own),
		T(test_right_pin_after_failures_is_recorded_at_once),
		T(test_lock_found_in_the_payments_transaction_refuses_it),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
