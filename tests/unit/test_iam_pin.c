/*
 * tests/unit/test_iam_pin: the payment PIN as a keyed MAC (src/iam/pinmac.c,
 * the PIN paths of src/iam/self.c, user.c and lockout.c; issue 10).
 *
 * Each case gets the full fixture (real keys, a migrated store, audit,
 * vault, an unstarted notifier whose messages stay in notify_message, the
 * IAM service with small Argon2 parameters) on a frozen clock, and runs on
 * SQLite and, named "pg:<case>", on PostgreSQL (tests/unit/iamfix.h).
 * Customers are made the way the service makes them (iamfix_customer);
 * old Argon2id PIN hashes are made with the old code path
 * (anfu_pwhash_hash + iam_password_store), as the code before issue 10
 * stored them.
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
#include "iam/pinmac.h"
#include "iam/pwhash.h"
#include "iam/rbac.h"
#include "keys/keys.h"
#include "store/store.h"

#include "fixture.h"
#include "iamfix.h"

#define PIN "582947"
#define PIN2 "629173"
#define WRONG "582948"

static const struct anfu_iam_ctx web = { "198.51.100.7", "Mozilla/5.0 (test)",
					 "dev_a",	 "req_1",
					 "en",		 false };

static void pay_hash(struct anfu_fixture *f, const char *uid, char out[FIXTURE_TEXT_MAX])
{
	fixture_text(f->db, "SELECT pay_hash FROM iam_user WHERE id = $1", uid, out);
}

/* The newest payment history record of uid. */
static void pay_history(struct anfu_fixture *f, const char *uid, char out[FIXTURE_TEXT_MAX])
{
	fixture_text(f->db,
		     "SELECT hash FROM iam_password_history WHERE user_id = $1 AND kind = 'payment'"
		     " ORDER BY changed_ms DESC LIMIT 1",
		     uid, out);
}

static int64_t notices(struct anfu_fixture *f, const char *kind)
{
	return fixture_count(f->db, "SELECT COUNT(*) FROM notify_message WHERE kind = $1", kind);
}

/* Sets the PIN as the code before issue 10 did: an Argon2id hash. */
static void seed_argon2_pin(struct anfu_fixture *f, const char *uid, const char *pin)
{
	char hash[ANFU_PWHASH_STR_LEN];

	assert_int_equal(anfu_pwhash_hash(f->iam->pwhash, pin, strlen(pin), hash), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_password_store(f->db, uid, "payment", hash, "initial", uid, false,
					    anfu_clock_now_ms()),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

static void set_pay_hash(struct anfu_fixture *f, const char *uid, const char *hash)
{
	struct anfu_param q[2] = { ANFU_PS(uid), ANFU_PS(hash) };

	assert_int_equal(anfu_db_exec(f->db, "UPDATE iam_user SET pay_hash = $2 WHERE id = $1", q,
				      2, NULL, NULL, NULL),
			 0);
}

/* ---- the record ------------------------------------------------------------- */

/* The record names the current key, holds no PIN, and verifies only the
 * PIN and the user it was made for. req: IAM-PWD-14 */
static void test_record_verifies_only_its_pin_and_user(void **state)
{
	struct anfu_fixture *f = *state;
	char a[ANFU_LIMIT_PIN_RECORD_BYTES], b[ANFU_LIMIT_PIN_RECORD_BYTES],
		want[sizeof(IAM_PIN_RECORD_PREFIX) + ANFU_KID_MAX + 1];
	char kid[ANFU_KID_MAX];

	assert_int_equal(anfu_keys_pin_kid(f->keys, kid), 0);
	assert_int_equal(strlen(kid), ANFU_PIN_KID_LEN);
	assert_int_equal(iam_pin_record(f->keys, "usr_a", PIN, 6, a), 0);
	(void)snprintf(want, sizeof(want), "%s%s$", IAM_PIN_RECORD_PREFIX, kid);
	assert_int_equal(strncmp(a, want, strlen(want)), 0);
	assert_null(strstr(a, PIN));
	assert_false(iam_pin_outdated(f->keys, a));
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", a, PIN, 6), 0);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", a, WRONG, 6), ANFU_EAUTH);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_b", a, PIN, 6), ANFU_EAUTH);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", a, "5829470", 7),
			 ANFU_EAUTH);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", a, "58294", 5),
			 ANFU_EAUTH);
	/* A fresh salt each time: the same PIN gives another record. */
	assert_int_equal(iam_pin_record(f->keys, "usr_a", PIN, 6, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", b, PIN, 6), 0);
	/* Not six digits: no record. */
	assert_int_equal(iam_pin_record(f->keys, "usr_a", "58294a", 6, b), ANFU_EINVAL);
}

/* A record under a key src/keys does not hold, or one that does not parse,
 * matches no PIN (fails closed). req: IAM-PWD-14 */
static void test_unknown_key_or_malformed_record_matches_nothing(void **state)
{
	struct anfu_fixture *f = *state;
	char a[ANFU_LIMIT_PIN_RECORD_BYTES], other[ANFU_LIMIT_PIN_RECORD_BYTES];
	size_t plen = strlen(IAM_PIN_RECORD_PREFIX);

	assert_int_equal(iam_pin_record(f->keys, "usr_a", PIN, 6, a), 0);
	memcpy(other, a, sizeof(other));
	memcpy(other + plen, "pin-0000000000000000", ANFU_PIN_KID_LEN);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", other, PIN, 6),
			 ANFU_ENOTFOUND);
	assert_true(iam_pin_outdated(f->keys, other));
	/* One MAC digit changed. */
	memcpy(other, a, sizeof(other));
	other[strlen(other) - 1] = other[strlen(other) - 1] == '0' ? '1' : '0';
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", other, PIN, 6),
			 ANFU_EAUTH);
	/* Cut short, upper-case hex, another version. */
	memcpy(other, a, sizeof(other));
	other[strlen(other) - 1] = '\0';
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", other, PIN, 6),
			 ANFU_ECORRUPT);
	memcpy(other, a, sizeof(other));
	other[strlen(other) - 1] = 'A';
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", other, PIN, 6),
			 ANFU_ECORRUPT);
	memcpy(other, a, sizeof(other));
	other[strlen("$anfu-pin$v=")] = '2';
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", other, PIN, 6),
			 ANFU_ECORRUPT);
	assert_int_equal(iam_pin_check(f->keys, f->iam->pwhash, "usr_a", "", PIN, 6),
			 ANFU_ECORRUPT);
}

/* ---- setting and verifying ----------------------------------------------------- */

/* A set PIN is stored as a MAC record, in iam_user and the history, and
 * verified without Argon2. req: IAM-PWD-14 */
static void test_set_pin_is_stored_as_a_mac_and_verified_without_argon2(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char h[FIXTURE_TEXT_MAX], hist[FIXTURE_TEXT_MAX];
	uint64_t runs;

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	pay_hash(f, p.user_id, h);
	pay_history(f, p.user_id, hist);
	assert_int_equal(strncmp(h, IAM_PIN_RECORD_PREFIX, strlen(IAM_PIN_RECORD_PREFIX)), 0);
	assert_string_equal(h, hist);
	runs = anfu_iam_test_pwhash_total(f->iam);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e), ANFU_EAUTH);
	assert_string_equal(e.code, "payment_password_invalid");
	assert_int_equal(anfu_iam_test_pwhash_total(f->iam), runs);
	assert_int_equal(fixture_audits(f->db, "payment.password_verified"), 1);
	assert_int_equal(fixture_audits(f->db, "payment.password_failed"), 1);
	/* Nothing to convert. */
	assert_int_equal(fixture_audits(f->db, "user.payment_password_converted"), 0);
}

/* Every wrong PIN is counted and told to the customer; the fifth locks
 * payments (told once, as before); the lock refuses the right PIN and
 * counts nothing more. req: IAM-LOCK-03, IAM-LOCK-04 */
static void test_every_wrong_pin_is_counted_and_told_until_the_lock(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	int64_t threshold = f->iam_cfg->lockout.pay_threshold;

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	for (int64_t i = 1; i < threshold; i++) {
		assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e),
				 ANFU_EAUTH);
		assert_string_equal(e.code, "payment_password_invalid");
		assert_int_equal(iamfix_pay_failures(f, p.user_id), i);
		assert_int_equal(notices(f, "payment_password_failed"), i);
	}
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e),
			 ANFU_ELOCKED);
	assert_string_equal(e.code, "payment_locked");
	assert_int_equal(notices(f, "payment_locked"), 1);
	assert_int_equal(notices(f, "payment_password_failed"), threshold - 1);
	assert_int_equal(fixture_audits(f->db, "payment.locked"), 1);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), ANFU_ELOCKED);
	assert_int_equal(notices(f, "payment_password_failed"), threshold - 1);
	anfu_clock_advance_ms(f->iam_cfg->lockout.pay_minutes * 60 * 1000);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 0);
}

/* An Argon2id PIN hash of the old code verifies, is converted to a MAC
 * record at the first right entry (iam_user and its history row, audited,
 * in the same transaction), and is then verified without Argon2. A wrong
 * entry converts nothing. req: IAM-PWD-14, IAM-LOCK-03 */
static void test_argon2_pin_is_converted_at_the_next_right_entry(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char old[FIXTURE_TEXT_MAX], h[FIXTURE_TEXT_MAX], hist[FIXTURE_TEXT_MAX];
	uint64_t runs;

	iamfix_customer(f, &p);
	seed_argon2_pin(f, p.user_id, PIN);
	pay_hash(f, p.user_id, old);
	assert_true(iam_pin_is_argon2(old));
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e), ANFU_EAUTH);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 1);
	pay_hash(f, p.user_id, h);
	assert_string_equal(h, old);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), 0);
	pay_hash(f, p.user_id, h);
	pay_history(f, p.user_id, hist);
	assert_int_equal(strncmp(h, IAM_PIN_RECORD_PREFIX, strlen(IAM_PIN_RECORD_PREFIX)), 0);
	assert_string_equal(hist, h);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_password_history WHERE hash = $1",
				       old),
			 0);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 0);
	assert_int_equal(fixture_audits(f->db, "user.payment_password_converted"), 1);
	runs = anfu_iam_test_pwhash_total(f->iam);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e), ANFU_EAUTH);
	assert_int_equal(anfu_iam_test_pwhash_total(f->iam), runs);
	assert_int_equal(fixture_audits(f->db, "user.payment_password_converted"), 1);
}

/* While audit records cannot be written the right entry fails and its
 * conversion is undone with it. req: AUD-THR-01 */
static void test_conversion_is_undone_with_its_entry(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char old[FIXTURE_TEXT_MAX], h[FIXTURE_TEXT_MAX];

	iamfix_customer(f, &p);
	seed_argon2_pin(f, p.user_id, PIN);
	pay_hash(f, p.user_id, old);
	anfu_audit_inject_fault(f->audit, true);
	assert_true(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e) < 0);
	anfu_audit_inject_fault(f->audit, false);
	pay_hash(f, p.user_id, h);
	assert_string_equal(h, old);
	assert_int_equal(fixture_audits(f->db, "user.payment_password_converted"), 0);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), 0);
	pay_hash(f, p.user_id, h);
	assert_false(iam_pin_is_argon2(h));
}

/* A stored record naming a key that is not held: the right PIN is refused
 * as unverifiable, nothing is counted, converted or told; the refusal is
 * audited. req: IAM-PWD-14, AUD-CNT-02 */
static void test_a_record_under_an_unknown_key_fails_closed(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };
	char h[FIXTURE_TEXT_MAX], after[FIXTURE_TEXT_MAX];
	size_t plen = strlen(IAM_PIN_RECORD_PREFIX);

	iamfix_customer(f, &p);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	pay_hash(f, p.user_id, h);
	memcpy(h + plen, "pin-0000000000000000", ANFU_PIN_KID_LEN);
	set_pay_hash(f, p.user_id, h);
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN, &e), ANFU_ECRYPTO);
	assert_string_equal(e.code, "payment_password_unverifiable");
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, WRONG, &e),
			 ANFU_ECRYPTO);
	pay_hash(f, p.user_id, after);
	assert_string_equal(after, h);
	assert_int_equal(iamfix_pay_failures(f, p.user_id), 0);
	assert_int_equal(notices(f, "payment_password_failed"), 0);
	assert_int_equal(fixture_audits(f->db, "payment.password_verified"), 0);
	assert_int_equal(fixture_audits(f->db, "payment.password_failed"), 0);
	assert_int_equal(fixture_audits(f->db, "payment.password_refused"), 2);
}

/* The reuse rule compares with MAC records and old Argon2id hashes alike.
 * req: IAM-PWD-06, IAM-PWD-14 */
static void test_reuse_is_found_in_mac_and_argon2_history(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_principal p;
	struct anfu_iam_err e = { NULL, NULL };

	iamfix_customer(f, &p);
	seed_argon2_pin(f, p.user_id, "730418");
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), 0);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN2, &e), 0);
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, PIN, &e), ANFU_EINVAL);
	assert_string_equal(e.code, "password_reused");
	assert_int_equal(anfu_iam_set_payment_password(f->iam, &web, &p, "730418", &e),
			 ANFU_EINVAL);
	assert_string_equal(e.code, "password_reused");
	assert_int_equal(anfu_iam_verify_payment_password(f->iam, &web, &p, PIN2, &e), 0);
}

static struct anfu_fixture_opts opts = IAMFIX_OPTS("iampin");

#define T(fn) IAMFIX_CASES(fn, &opts)

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_record_verifies_only_its_pin_and_user),
		T(test_unknown_key_or_malformed_record_matches_nothing),
		T(test_set_pin_is_stored_as_a_mac_and_verified_without_argon2),
		T(test_every_wrong_pin_is_counted_and_told_until_the_lock),
		T(test_argon2_pin_is_converted_at_the_next_right_entry),
		T(test_conversion_is_undone_with_its_entry),
		T(test_a_record_under_an_unknown_key_fails_closed),
		T(test_reuse_is_found_in_mac_and_argon2_history),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
