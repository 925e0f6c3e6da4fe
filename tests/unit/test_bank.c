/*
 * Unit tests for the bank channel's pure parts: the payment state table
 * (bank/states.c), the signed bytes and a signature round trip with named
 * keys (bank/wire.c, keys/named.c), the callback parser, and the
 * Asia/Shanghai day of daily limits.
 *
 * Trusts bank/bank.h, keys/keys.h and crypto/crypto.h. The service's
 * behaviour with the simulator is proved in tests/api/test_bank_topup.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bank/bank.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "fixture.h"
#include "keys/keys.h"

/* ---- the state table ------------------------------------------------------ */

static const char *const states[] = { "created", "in_transit", "unknown", "succeeded", "failed" };
static const enum anfu_bank_event events[] = { ANFU_BANK_EV_SENT,      ANFU_BANK_EV_DECLINED,
					       ANFU_BANK_EV_NO_ANSWER, ANFU_BANK_EV_CONFIRMED,
					       ANFU_BANK_EV_FAILED,    ANFU_BANK_EV_NOT_AT_BANK };

/* The table as docs/bank.md draws it: [state][event] -> state or NULL. */
static const char *expected(const char *from, enum anfu_bank_event ev)
{
	if (strcmp(from, "created") == 0)
		return ev == ANFU_BANK_EV_SENT		? "in_transit"
		       : ev == ANFU_BANK_EV_DECLINED	? "failed"
		       : ev == ANFU_BANK_EV_NO_ANSWER	? "unknown"
		       : ev == ANFU_BANK_EV_CONFIRMED	? "succeeded"
		       : ev == ANFU_BANK_EV_FAILED	? "failed"
		       : ev == ANFU_BANK_EV_NOT_AT_BANK ? "failed"
							: NULL;
	if (strcmp(from, "in_transit") == 0)
		return ev == ANFU_BANK_EV_CONFIRMED				     ? "succeeded"
		       : ev == ANFU_BANK_EV_FAILED || ev == ANFU_BANK_EV_NOT_AT_BANK ? "failed"
										     : NULL;
	if (strcmp(from, "unknown") == 0)
		return ev == ANFU_BANK_EV_SENT					     ? "in_transit"
		       : ev == ANFU_BANK_EV_CONFIRMED				     ? "succeeded"
		       : ev == ANFU_BANK_EV_FAILED || ev == ANFU_BANK_EV_NOT_AT_BANK ? "failed"
										     : NULL;
	return NULL; /* succeeded and failed are final */
}

static void test_state_table_is_exactly_the_documented_one(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		for (size_t j = 0; j < sizeof(events) / sizeof(events[0]); j++) {
			const char *got = anfu_bank_transition(states[i], events[j]);
			const char *want = expected(states[i], events[j]);

			if (!want)
				assert_null(got);
			else
				assert_string_equal(got, want);
		}
	assert_null(anfu_bank_transition(NULL, ANFU_BANK_EV_SENT));
	assert_null(anfu_bank_transition("bogus", ANFU_BANK_EV_SENT));
}

static void test_final_states_accept_no_event(void **state)
{
	(void)state;
	assert_true(anfu_bank_state_final("succeeded"));
	assert_true(anfu_bank_state_final("failed"));
	assert_false(anfu_bank_state_final("in_transit"));
	assert_false(anfu_bank_state_final("unknown"));
	assert_false(anfu_bank_state_final("created"));
	for (size_t j = 0; j < sizeof(events) / sizeof(events[0]); j++) {
		assert_null(anfu_bank_transition("succeeded", events[j]));
		assert_null(anfu_bank_transition("failed", events[j]));
	}
}

/* ---- signed bytes and signatures ------------------------------------------------ */

#define NONCE "0123456789abcdef0123456789abcdef"

static void test_signed_bytes_cover_method_path_time_nonce_and_body(void **state)
{
	char *b = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(anfu_bank_wire_signed_bytes("POST", "/bank/v1/debits", 1700000000123LL,
						     NONCE, "{\"a\":1}", 7, &b, &n),
			 0);
	assert_string_equal(b, "ANFU-BANK-1\nPOST\n/bank/v1/debits\n1700000000123\n" NONCE
			       "\n{\"a\":1}");
	assert_int_equal(n, strlen(b));
	free(b);
	b = (char *)"untouched";
	assert_int_equal(anfu_bank_wire_signed_bytes("POST", "/p", 1, "short", "", 0, &b, &n),
			 ANFU_EINVAL);
	assert_string_equal(b, "untouched");
}

static int sign_and_verify(struct anfu_named_key *k, struct anfu_sigkey *pub, const char *method,
			   const char *path, int64_t ts, const char *body, const char *v_method,
			   const char *v_path, int64_t v_ts, const char *v_body)
{
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig), n = 0;
	char *b = NULL;
	int r;

	assert_int_equal(
		anfu_bank_wire_signed_bytes(method, path, ts, NONCE, body, strlen(body), &b, &n),
		0);
	assert_int_equal(anfu_keys_named_sign(k, b, n, sig, &siglen), 0);
	free(b);
	assert_int_equal(anfu_bank_wire_signed_bytes(v_method, v_path, v_ts, NONCE, v_body,
						     strlen(v_body), &b, &n),
			 0);
	r = anfu_verify(pub, b, n, sig, siglen);
	free(b);
	return r;
}

static void test_signature_round_trip_and_every_part_is_covered(void **state)
{
	char dir[FIXTURE_DIR_MAX], pubpath[FIXTURE_DIR_MAX + 64];
	struct anfu_named_key *k = NULL, *again = NULL;
	struct anfu_sigkey *pub = NULL;
	const char *body = "{\"serial\":\"bsn_x\"}";

	(void)state;
	assert_int_equal(fixture_mkdtemp("bank-keys", dir), 0);
	assert_int_equal(anfu_keys_named_open(dir, "bank-client", ANFU_SIG_ED25519, &k), 0);
	(void)snprintf(pubpath, sizeof(pubpath), "%s/keys/bank-client.pub", dir);
	assert_int_equal(anfu_keys_peer_load(pubpath, &pub), 0);
	assert_int_equal(sign_and_verify(k, pub, "POST", "/a", 5, body, "POST", "/a", 5, body), 0);
	assert_int_equal(sign_and_verify(k, pub, "POST", "/a", 5, body, "GET", "/a", 5, body),
			 ANFU_ECRYPTO);
	assert_int_equal(sign_and_verify(k, pub, "POST", "/a", 5, body, "POST", "/b", 5, body),
			 ANFU_ECRYPTO);
	assert_int_equal(sign_and_verify(k, pub, "POST", "/a", 5, body, "POST", "/a", 6, body),
			 ANFU_ECRYPTO);
	assert_int_equal(sign_and_verify(k, pub, "POST", "/a", 5, body, "POST", "/a", 5, "{}"),
			 ANFU_ECRYPTO);
	/* Opening again loads the same key (never a new one over it). */
	assert_int_equal(anfu_keys_named_open(dir, "bank-client", ANFU_SIG_ED25519, &again), 0);
	assert_string_equal(anfu_keys_named_kid(again), anfu_keys_named_kid(k));
	/* A key of another algorithm under that name is refused. */
	anfu_keys_named_free(again);
	again = NULL;
	assert_int_equal(anfu_keys_named_open(dir, "bank-client", ANFU_SIG_SM2, &again),
			 ANFU_EINVAL);
	assert_null(again);
	assert_int_equal(anfu_keys_named_open(dir, "../x", ANFU_SIG_ED25519, &again), ANFU_EINVAL);
	anfu_sigkey_free(pub);
	anfu_keys_named_free(k);
	assert_int_equal(fixture_rmtree(dir), 0);
}

/* ---- the callback parser ------------------------------------------------------ */

static void test_callback_parse_accepts_the_documented_body(void **state)
{
	const char *ok = "{\"serial\":\"bsn_abc\",\"status\":\"succeeded\",\"amount\":12345,"
			 "\"currency\":\"CNY\",\"bank_ref\":\"SIM-1\"}";
	struct anfu_bank_callback cb;

	(void)state;
	assert_int_equal(anfu_bank_callback_parse(ok, strlen(ok), &cb), 0);
	assert_string_equal(cb.serial, "bsn_abc");
	assert_int_equal(cb.status, ANFU_BANK_ST_SUCCEEDED);
	assert_int_equal(cb.amount, 12345);
	assert_string_equal(cb.bank_ref, "SIM-1");
}

static void test_callback_parse_refuses_everything_else(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"serial\":\"s\",\"status\":\"succeeded\",\"amount\":1}",
		"{\"serial\":\"s\",\"status\":\"pending\",\"amount\":1,\"currency\":\"CNY\"}",
		"{\"serial\":\"s\",\"status\":\"failed\",\"amount\":0,\"currency\":\"CNY\"}",
		"{\"serial\":\"s\",\"status\":\"failed\",\"amount\":-5,\"currency\":\"CNY\"}",
		"{\"serial\":\"s\",\"status\":\"failed\",\"amount\":\"5\",\"currency\":\"CNY\"}",
		"{\"serial\":\"s\",\"status\":\"failed\",\"amount\":5,\"currency\":\"USD\"}",
		"{\"serial\":\"s\",\"status\":\"failed\",\"amount\":5,\"currency\":\"CNY\",\"x\":"
		"1}",
		"{\"serial\":\"s\",\"serial\":\"t\",\"status\":\"failed\",\"amount\":5,"
		"\"currency\":\"CNY\"}",
		"{\"serial\":\"s s\",\"status\":\"failed\",\"amount\":5,\"currency\":\"CNY\"}",
		"{\"serial\":\"0123456789012345678901234567890123456789x\",\"status\":\"failed\","
		"\"amount\":5,\"currency\":\"CNY\"}",
		"{\"serial\":\"s\",\"status\":\"failed\",\"amount\":5,\"currency\":\"CNY\"} x",
	};
	struct anfu_bank_callback cb;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cb, 0x5a, sizeof(cb));
		assert_int_equal(anfu_bank_callback_parse(bad[i], strlen(bad[i]), &cb),
				 ANFU_EINVAL);
		assert_int_equal(cb.amount, 0x5a5a5a5a5a5a5a5aLL); /* untouched */
	}
}

/* ---- the Shanghai day ---------------------------------------------------------- */

static void test_day_cn_turns_at_16_00_utc(void **state)
{
	/* 2026-12-06T15:59:59.999Z is 23:59:59.999 in Shanghai; a ms later
	 * it is the 7th there. */
	const int64_t t = 1796572799999LL;

	(void)state;
	assert_int_equal(anfu_bank_day_cn(t), 20261206);
	assert_int_equal(anfu_bank_day_cn(t + 1), 20261207);
	assert_int_equal(anfu_bank_day_cn(0), 19700101);
	assert_int_equal(anfu_bank_day_cn(951782400000LL), 20000229); /* 2000-02-29T00:00Z */
}

/* ---- withdrawals: the second state table, the fee, the rules ------------- */

static const char *const wd_states[] = { "submitted", "review", "approved", "sent",
					 "succeeded", "failed", "returned", "rejected" };
static const enum anfu_bank_wd_event wd_events[] = {
	ANFU_BANK_WD_AUTO_APPROVE, ANFU_BANK_WD_TO_REVIEW, ANFU_BANK_WD_MAKER_APPROVE,
	ANFU_BANK_WD_APPROVE,	   ANFU_BANK_WD_REJECT,	   ANFU_BANK_WD_SENT,
	ANFU_BANK_WD_DECLINED,	   ANFU_BANK_WD_CONFIRMED, ANFU_BANK_WD_RETURNED,
};

/* The withdrawal table as docs/bank.md draws it. */
static const char *wd_expected(const char *from, enum anfu_bank_wd_event ev)
{
	if (strcmp(from, "submitted") == 0)
		return ev == ANFU_BANK_WD_AUTO_APPROVE ? "approved"
		       : ev == ANFU_BANK_WD_TO_REVIEW  ? "review"
						       : NULL;
	if (strcmp(from, "review") == 0)
		return ev == ANFU_BANK_WD_MAKER_APPROVE ? "review"
		       : ev == ANFU_BANK_WD_APPROVE	? "approved"
		       : ev == ANFU_BANK_WD_REJECT	? "rejected"
							: NULL;
	if (strcmp(from, "approved") == 0)
		return ev == ANFU_BANK_WD_SENT	      ? "sent"
		       : ev == ANFU_BANK_WD_DECLINED  ? "failed"
		       : ev == ANFU_BANK_WD_CONFIRMED ? "succeeded"
		       : ev == ANFU_BANK_WD_RETURNED  ? "returned"
						      : NULL;
	if (strcmp(from, "sent") == 0)
		return ev == ANFU_BANK_WD_CONFIRMED  ? "succeeded"
		       : ev == ANFU_BANK_WD_RETURNED ? "returned"
		       : ev == ANFU_BANK_WD_DECLINED ? "failed"
						     : NULL;
	return NULL; /* succeeded, failed, returned, rejected are final */
}

/* req: FUNC-OPS-03 — the statuses and the only moves between them; a
 * final withdrawal accepts no event (a duplicate report changes nothing);
 * nothing reaches approved without passing submitted or review. */
static void test_withdrawal_table_is_exactly_the_documented_one(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wd_states) / sizeof(wd_states[0]); i++)
		for (size_t j = 0; j < sizeof(wd_events) / sizeof(wd_events[0]); j++) {
			const char *got = anfu_bank_wd_transition(wd_states[i], wd_events[j]);
			const char *want = wd_expected(wd_states[i], wd_events[j]);

			if (!want)
				assert_null(got);
			else
				assert_string_equal(got, want);
		}
	assert_null(anfu_bank_wd_transition(NULL, ANFU_BANK_WD_APPROVE));
	assert_null(anfu_bank_wd_transition("nonsense", ANFU_BANK_WD_APPROVE));
}

/* req: FUNC-OPS-02 — fee = fixed + amount * bp / 10000 rounded down to the
 * fen; overflow and bad inputs are refused, never wrapped. */
static void test_withdrawal_fee_arithmetic(void **state)
{
	int64_t fee = -1;

	(void)state;
	assert_int_equal(anfu_bank_wd_fee(100000, 0, 10, &fee), 0);
	assert_int_equal(fee, 100); /* 0.1 % of 1000 yuan: 1 yuan */
	assert_int_equal(anfu_bank_wd_fee(100000, 200, 10, &fee), 0);
	assert_int_equal(fee, 300); /* + 2 yuan fixed */
	assert_int_equal(anfu_bank_wd_fee(9999, 0, 10, &fee), 0);
	assert_int_equal(fee, 9); /* 9.999 fen rounded down */
	assert_int_equal(anfu_bank_wd_fee(999, 0, 10, &fee), 0);
	assert_int_equal(fee, 0);
	assert_int_equal(anfu_bank_wd_fee(1000, 0, 10, &fee), 0);
	assert_int_equal(fee, 1);
	assert_int_equal(anfu_bank_wd_fee(12345, 7, 0, &fee), 0);
	assert_int_equal(fee, 7);
	assert_int_equal(anfu_bank_wd_fee(1, 0, 10000, &fee), 0);
	assert_int_equal(fee, 1);
	fee = 42;
	assert_int_equal(anfu_bank_wd_fee(INT64_MAX, 0, 2, &fee), ANFU_ELIMIT);
	assert_int_equal(anfu_bank_wd_fee(10000, INT64_MAX, 10000, &fee), ANFU_ELIMIT);
	assert_int_equal(anfu_bank_wd_fee(-1, 0, 10, &fee), ANFU_EINVAL);
	assert_int_equal(anfu_bank_wd_fee(1, -1, 10, &fee), ANFU_EINVAL);
	assert_int_equal(anfu_bank_wd_fee(1, 0, -1, &fee), ANFU_EINVAL);
	assert_int_equal(anfu_bank_wd_fee(1, 0, 10001, &fee), ANFU_EINVAL);
	assert_int_equal(fee, 42); /* untouched on failure */
}

/* req: FUNC-OPS-02 — a rule set operators may file: consistent and within
 * the options' bounds. */
static void test_withdrawal_rules_consistency(void **state)
{
	const struct anfu_bank_wd_rules ok = { 100, 5000000, 3,	      5000000, 0,
					       10,  100000,  1000000, "",      0 };
	struct anfu_bank_wd_rules r;

	(void)state;
	assert_null(anfu_bank_wd_rules_invalid(&ok));
	r = ok, r.min = 0;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "min");
	r = ok, r.max = r.min - 1;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "max");
	r = ok, r.max = r.min;
	assert_null(anfu_bank_wd_rules_invalid(&r));
	r = ok, r.max = ANFU_BANK_WD_AMOUNT_MAX + 1;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "max");
	r = ok, r.daily_count = 0;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "daily_count");
	r = ok, r.daily_max = 0;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "daily_max");
	r = ok, r.fee_fixed = -1;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "fee_fixed");
	r = ok, r.fee_bp = ANFU_BANK_WD_FEE_BP_MAX + 1;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "fee_bp");
	r = ok, r.auto_max = -1;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "auto_max");
	r = ok, r.large_over = r.auto_max - 1;
	assert_string_equal(anfu_bank_wd_rules_invalid(&r), "large_over");
	r = ok, r.large_over = r.auto_max;
	assert_null(anfu_bank_wd_rules_invalid(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_table_is_exactly_the_documented_one),
		cmocka_unit_test(test_final_states_accept_no_event),
		cmocka_unit_test(test_signed_bytes_cover_method_path_time_nonce_and_body),
		cmocka_unit_test(test_signature_round_trip_and_every_part_is_covered),
		cmocka_unit_test(test_callback_parse_accepts_the_documented_body),
		cmocka_unit_test(test_callback_parse_refuses_everything_else),
		cmocka_unit_test(test_day_cn_turns_at_16_00_utc),
		cmocka_unit_test(test_withdrawal_table_is_exactly_the_documented_one),
		cmocka_unit_test(test_withdrawal_fee_arithmetic),
		cmocka_unit_test(test_withdrawal_rules_consistency),
	};

	if (anfu_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
