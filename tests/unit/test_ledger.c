/*
 * tests/unit/test_ledger: the ledger service (src/ledger/): accounts,
 * every transfer rule and refusal, holds, idempotency, linked chains, the
 * writer (its queue, batches, seal, deadline, concurrent callers) and a
 * property test against a reference model.
 *
 * Each test gets a fresh data directory with keys, a migrated store (the
 * platform's, iam's and the ledger's migrations), the audit writer and
 * executor (FIXTURE_AUDIT), and a ledger service on them (started unless
 * the test starts it itself). What a call left behind is read back with
 * plain queries; "nothing changed" is a snapshot of every account row,
 * journal row, hold row, batch row and ledger audit record, compared
 * before and after. Every test runs on SQLite and, named "pg:<test>", on
 * PostgreSQL (ANFU_TEST_PG_DSN; skipped, saying so, without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "ledger/chain.h"
#include "ledger/internal.h" /* LEDGER_BALANCE_ROWS */
#include "ledger/ledger.h"
#include "store/store.h"

#include "fixture.h"

#define LIAB ANFU_LEDGER_ACC_DEBITS_MUST_NOT_EXCEED_CREDITS
#define ASSETF ANFU_LEDGER_ACC_CREDITS_MUST_NOT_EXCEED_DEBITS

static const struct anfu_actor svc = { "system", "system", "", "", "", "" };

struct lt {
	struct anfu_fixture *f;
	struct anfu_ledger_config cfg;
	struct anfu_ledger *l;
};

static struct lt *lt_open(int64_t batch_max, int64_t wait_us, int64_t queue_max, bool start)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger" };
	struct lt *t = calloc(1, sizeof(*t));
	struct anfu_ledger_deps d;

	assert_non_null(t);
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &t->f), 0);
	assert_int_equal(anfu_migrate(t->f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	t->cfg.batch_max = batch_max;
	t->cfg.batch_wait_us = wait_us;
	t->cfg.queue_max = queue_max;
	d.tx = t->f->tx;
	d.cfg = &t->cfg;
	d.hash = t->f->hash;
	assert_int_equal(anfu_ledger_new(&d, &t->l), 0);
	if (start)
		assert_int_equal(anfu_ledger_start(t->l), 0);
	return t;
}

static int setup(void **state)
{
	fixture_pg_mode(false);
	*state = lt_open(1000, 0, 4096, true);
	return 0;
}

/* The same on PostgreSQL ("pg:<test>"). */
static int setup_pg(void **state)
{
	fixture_pg_mode(true);
	*state = lt_open(1000, 0, 4096, true);
	return 0;
}

static int teardown(void **state)
{
	struct lt *t = *state;

	anfu_ledger_free(t->l);
	fixture_close(t->f);
	free(t);
	return 0;
}

static int64_t later(void)
{
	return anfu_clock_mono_us() / 1000 + 60000;
}

/* Opens an account of kind for owner; its id into id. */
static void acc(struct lt *t, const char *kind, const char *asset, const char *otype,
		const char *owner, char id[ANFU_ID_MAX])
{
	const struct anfu_ledger_account_spec s = { kind, asset, otype, owner };
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_open(t->l, &svc, &s, later(), &a), 0);
	memcpy(id, a.id, ANFU_ID_MAX);
}

static struct anfu_ledger_transfer tr(const char *key, const char *dr, const char *cr,
				      int64_t amount)
{
	struct anfu_ledger_transfer x;

	memset(&x, 0, sizeof(x));
	x.idem_key = key;
	x.debit_account = dr;
	x.credit_account = cr;
	x.amount = amount;
	x.asset = "CNY";
	x.code = "payment";
	x.ref = "ord_1";
	return x;
}

/* Submits one transfer of caller "svc"; returns its result's code. */
static const char *one(struct lt *t, const struct anfu_ledger_transfer *x,
		       struct anfu_ledger_result *res)
{
	struct anfu_ledger_result tmp;

	if (!res)
		res = &tmp;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), res), 0);
	return res->code;
}

static void ok(struct lt *t, const struct anfu_ledger_transfer *x, struct anfu_ledger_result *res)
{
	const char *code = one(t, x, res);

	if (code)
		fail_msg("transfer %s refused: %s", x->idem_key, code);
}

static struct anfu_ledger_account get(struct lt *t, const char *id)
{
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_account_get(t->l, id, &a), 0);
	return a;
}

static void bal(struct lt *t, const char *id, int64_t dp, int64_t dpo, int64_t cp, int64_t cpo)
{
	struct anfu_ledger_account a = get(t, id);

	assert_int_equal(a.debits_pending, dp);
	assert_int_equal(a.debits_posted, dpo);
	assert_int_equal(a.credits_pending, cp);
	assert_int_equal(a.credits_posted, cpo);
}

/* ---- snapshots ------------------------------------------------------------------ */

#define SNAP_MAX FIXTURE_LEDGER_SNAP_MAX

/* Every ledger row and ledger audit record, as text. */
static void snap(struct lt *t, char out[SNAP_MAX])
{
	fixture_ledger_snap(t->f->db, out);
}

/* x is refused with code and changes nothing. */
static void refused(struct lt *t, const struct anfu_ledger_transfer *x, const char *code)
{
	static char before[SNAP_MAX], after[SNAP_MAX];
	struct anfu_ledger_result res;
	const char *got;

	snap(t, before);
	got = one(t, x, &res);
	if (!got || strcmp(got, code) != 0)
		fail_msg("%s: want %s, got %s", x->idem_key, code, got ? got : "(applied)");
	snap(t, after);
	assert_string_equal(before, after);
}

static int64_t count(struct lt *t, const char *sql, const char *arg)
{
	return fixture_count(t->f->db, sql, arg);
}

/* Every batch's hash recomputed and chained; the head on the last. */
static void chain_verifies(struct lt *t)
{
	int64_t n = count(t, "SELECT count(*) FROM ledger_batch", NULL), next = 1;
	char prev[65], got[65], text[FIXTURE_TEXT_MAX], arg[24];

	memset(prev, '0', 64);
	prev[64] = '\0';
	for (int64_t s = 1; s <= n; s++) {
		int64_t first, last;

		snprintf(arg, sizeof(arg), "%" PRId64, s);
		first = count(
			t, "SELECT first_transfer FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)",
			arg);
		last = count(
			t, "SELECT last_transfer FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)",
			arg);
		assert_int_equal(first, next);
		assert_int_equal(
			count(t,
			      "SELECT count(*) FROM ledger_transfer WHERE seq >= "
			      "(SELECT first_transfer FROM ledger_batch WHERE seq = CAST($1 AS "
			      "BIGINT)) "
			      "AND seq <= (SELECT last_transfer FROM ledger_batch "
			      "WHERE seq = CAST($1 AS BIGINT)) AND batch_seq = CAST($1 AS BIGINT)",
			      arg),
			last - first + 1);
		fixture_text(t->f->db,
			     "SELECT prev_hash FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)",
			     arg, text);
		assert_string_equal(text, prev);
		assert_int_equal(ledger_batch_hash(t->f->db, t->f->hash, first, last, prev, got),
				 0);
		fixture_text(t->f->db,
			     "SELECT hash FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)", arg,
			     text);
		assert_string_equal(text, got);
		memcpy(prev, got, sizeof(prev));
		next = last + 1;
	}
	assert_int_equal(count(t, "SELECT coalesce(max(seq), 0) FROM ledger_transfer", NULL),
			 next - 1);
	fixture_text(t->f->db, "SELECT last_hash FROM ledger_head", NULL, text);
	assert_string_equal(text, prev);
	assert_int_equal(count(t, "SELECT last_batch FROM ledger_head", NULL), n);
	assert_int_equal(count(t, "SELECT last_transfer FROM ledger_head", NULL), next - 1);
}

/* A funded wallet: a top-up of amount from a bank reserve. */
struct world {
	char reserve[ANFU_ID_MAX], wallet[ANFU_ID_MAX], wallet2[ANFU_ID_MAX];
	char merchant[ANFU_ID_MAX], fee[ANFU_ID_MAX], clearing[ANFU_ID_MAX];
	char points[ANFU_ID_MAX], points_src[ANFU_ID_MAX];
};

static void world(struct lt *t, struct world *w, int64_t funds)
{
	acc(t, "bank_reserve", "CNY", "bank", "ICBC", w->reserve);
	acc(t, "customer_wallet", "CNY", "customer", "usr_a", w->wallet);
	acc(t, "customer_wallet", "CNY", "customer", "usr_b", w->wallet2);
	acc(t, "merchant_pending", "CNY", "merchant", "mer_a", w->merchant);
	acc(t, "platform_fee", "CNY", "platform", "platform", w->fee);
	acc(t, "bank_clearing", "CNY", "bank", "ICBC", w->clearing);
	acc(t, "customer_points", "POINTS", "customer", "usr_a", w->points);
	acc(t, "points_liability", "POINTS", "platform", "platform", w->points_src);
	if (funds > 0) {
		struct anfu_ledger_transfer x = tr("fund", w->reserve, w->wallet, funds);

		x.code = "top_up";
		ok(t, &x, NULL);
	}
}

/* ---- accounts ----------------------------------------------------------------- */

/* Opening is idempotent on owner, kind and asset; flags follow the kind;
 * one audit record per account actually opened. */
static void test_open_is_idempotent_and_flags_follow_the_kind(void **state)
{
	struct lt *t = *state;
	const struct anfu_ledger_account_spec wal = { "customer_wallet", "CNY", "customer",
						      "usr_a" };
	const struct anfu_ledger_account_spec res = { "bank_reserve", "CNY", "bank", "ICBC" };
	const struct anfu_ledger_account_spec fee = { "platform_fee", "CNY", "platform",
						      "platform" };
	struct anfu_ledger_account a, b, c, d;

	assert_int_equal(anfu_ledger_open(t->l, &svc, &wal, later(), &a), 0);
	assert_int_equal(anfu_ledger_open(t->l, &svc, &wal, later(), &b), 0);
	assert_string_equal(a.id, b.id);
	assert_int_equal(strncmp(a.id, "acc_", 4), 0);
	assert_int_equal(a.flags, LIAB);
	assert_string_equal(a.state, "normal");
	assert_string_equal(a.kind, "customer_wallet");
	assert_int_equal(anfu_ledger_open(t->l, &svc, &res, later(), &c), 0);
	assert_int_equal(c.flags, ASSETF);
	assert_int_equal(anfu_ledger_open(t->l, &svc, &fee, later(), &d), 0);
	assert_int_equal(d.flags, 0);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_account", NULL), 3);
	assert_int_equal(fixture_audits(t->f->db, "ledger.account_opened"), 3);
	d = get(t, a.id);
	assert_string_equal(d.owner_id, "usr_a");
	assert_int_equal(anfu_ledger_account_get(t->l, "acc_nosuch", &d), ANFU_ENOTFOUND);
}

/* A spec the kind table refuses opens nothing. */
static void test_open_refuses_a_spec_that_does_not_fit_the_kind(void **state)
{
	struct lt *t = *state;
	const struct anfu_ledger_account_spec bad[] = {
		{ "customer_wallet", "POINTS", "customer", "usr_a" },
		{ "customer_wallet", "CNY", "merchant", "usr_a" },
		{ "no_such_kind", "CNY", "customer", "usr_a" },
		{ "customer_wallet", "CNY", "customer", "" },
		{ "customer_wallet", "CNY", "customer", "usr a" },
		{ "customer_wallet", "CNY", "customer", NULL },
	};
	struct anfu_ledger_account a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(anfu_ledger_open(t->l, &svc, &bad[i], later(), &a), ANFU_EINVAL);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_account", NULL), 0);
	assert_int_equal(fixture_audits(t->f->db, "ledger.account_opened"), 0);
}

/* ---- transfers ---------------------------------------------------------------- */

/* req: FUNC-ACCT-10 — a transfer of 1 fen posts both legs, one journal
 * row, one sealed batch whose hash verifies, the head on it, and one audit
 * record. */
static void test_transfer_posts_both_legs_and_seals_its_batch(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_result r;
	struct anfu_ledger_transfer x;
	char text[FIXTURE_TEXT_MAX];

	world(t, &w, 0);
	x = tr("k1", w.reserve, w.wallet, 1);
	ok(t, &x, &r);
	assert_false(r.existed);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.amount, 1);
	assert_true(r.ts_us > 0);
	assert_int_equal(strncmp(r.id, "trf_", 4), 0);
	bal(t, w.reserve, 0, 1, 0, 0);
	bal(t, w.wallet, 0, 0, 0, 1);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL), 1);
	fixture_text(t->f->db,
		     "SELECT debit_account || ' ' || credit_account || ' ' || amount || "
		     "' ' || caller || ' ' || idem_key FROM ledger_transfer WHERE id = $1",
		     r.id, text);
	{
		char want[FIXTURE_TEXT_MAX];

		snprintf(want, sizeof(want), "%s %s 1 svc k1", w.reserve, w.wallet);
		assert_string_equal(text, want);
	}
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), 1);
	assert_int_equal(fixture_audits(t->f->db, "ledger.transfer"), 1);
	fixture_text(t->f->db, "SELECT object_id FROM audit_log WHERE action = 'ledger.transfer'",
		     NULL, text);
	assert_string_equal(text, r.id);
	/* Its details: what jansson's compact sorted dump made of them before
	 * anfu_tx_audit_kv (a non-pending transfer's pending_id is null). */
	fixture_text(t->f->db, "SELECT details FROM audit_log WHERE action = 'ledger.transfer'",
		     NULL, text);
	{
		char want[FIXTURE_TEXT_MAX];

		snprintf(want, sizeof(want),
			 "{\"amount\":1,\"asset\":\"%s\",\"code\":\"%s\",\"credit_account\":\"%s\","
			 "\"debit_account\":\"%s\",\"flags\":0,\"pending_id\":null}",
			 x.asset, x.code, w.wallet, w.reserve);
		assert_string_equal(text, want);
	}
	chain_verifies(t);
}

/* A liability account cannot owe more than it holds; the exact balance
 * can be spent. req: FUNC-ACCT-09 (the available-balance check) */
static void test_debits_beyond_credits_are_refused(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;

	world(t, &w, 100);
	x = tr("k2", w.wallet, w.merchant, 101);
	refused(t, &x, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	x = tr("k3", w.wallet, w.merchant, 100);
	ok(t, &x, NULL);
	bal(t, w.wallet, 0, 100, 0, 100);
	x = tr("k4", w.wallet, w.merchant, 1);
	refused(t, &x, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
}

/* An asset account cannot take credits beyond its debits. */
static void test_credits_beyond_debits_are_refused(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;

	world(t, &w, 50);
	/* A withdrawal: the wallet pays back through the reserve. */
	x = tr("k5", w.wallet, w.reserve, 50);
	acc(t, "customer_wallet", "CNY", "customer", "usr_c", w.wallet2);
	ok(t, &x, NULL);
	bal(t, w.reserve, 0, 50, 0, 50);
	x = tr("k6", w.clearing, w.reserve, 1);
	refused(t, &x, ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED);
}

/* Every refusal of the shape of a transfer changes nothing. */
static void test_bad_accounts_amounts_and_assets_are_refused(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;

	world(t, &w, 100);
	x = tr("a1", "acc_nosuch0000000000000000", w.merchant, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND);
	x = tr("a2", w.wallet, "acc_nosuch0000000000000000", 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND);
	x = tr("a3", w.wallet, w.wallet, 1);
	refused(t, &x, ANFU_R_LEDGER_SAME_ACCOUNT);
	x = tr("a4", w.wallet, w.merchant, 0);
	refused(t, &x, ANFU_R_LEDGER_AMOUNT_INVALID);
	x = tr("a5", w.wallet, w.merchant, -1);
	refused(t, &x, ANFU_R_LEDGER_AMOUNT_INVALID);
	x = tr("a6", w.wallet, w.points, 1);
	refused(t, &x, ANFU_R_LEDGER_ASSET_MISMATCH);
	x = tr("a7", w.points_src, w.points, 1); /* POINTS accounts, a CNY transfer */
	refused(t, &x, ANFU_R_LEDGER_ASSET_MISMATCH);
	x.asset = "POINTS";
	ok(t, &x, NULL);
	bal(t, w.points, 0, 0, 0, 1);
}

/* Malformed requests are refused before the queue: nothing written. */
static void test_malformed_requests_are_refused_before_the_queue(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x[2];
	struct anfu_ledger_result r[2];
	char before[SNAP_MAX], after[SNAP_MAX], longkey[ANFU_LIMIT_LEDGER_IDEM_BYTES + 2];

	world(t, &w, 100);
	snap(t, before);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	x[0] = tr(longkey, w.wallet, w.merchant, 1);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0] = tr("m1", w.wallet, w.merchant, 1);
	x[0].flags = ANFU_LEDGER_TRF_LINKED; /* a chain left open */
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].flags = ANFU_LEDGER_TRF_PENDING | ANFU_LEDGER_TRF_POST_PENDING;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].flags = ANFU_LEDGER_TRF_POST_PENDING; /* no pending_id */
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].flags = 1u << 20;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].flags = 0;
	x[0].asset = "USD";
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].asset = "CNY";
	x[0].code = "Payment";
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].code = "payment";
	x[0].timeout_ms = 5; /* a timeout on a transfer that holds nothing */
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), r), ANFU_EINVAL);
	x[0].timeout_ms = 0;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "", x, 1, later(), r), ANFU_EINVAL);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 0, later(), r), ANFU_EINVAL);
	assert_int_equal(anfu_ledger_submit(t->l, NULL, "svc", x, 1, later(), r), ANFU_EINVAL);
	snap(t, after);
	assert_string_equal(before, after);
}

/* Boundaries: INT64_MAX moves between accounts without flags; one more
 * fen overflows a balance and is refused. */
static void test_int64_max_posts_and_an_overflow_is_refused(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;

	world(t, &w, 0);
	x = tr("b1", w.clearing, w.fee, INT64_MAX);
	ok(t, &x, NULL);
	bal(t, w.clearing, 0, INT64_MAX, 0, 0);
	bal(t, w.fee, 0, 0, 0, INT64_MAX);
	x = tr("b2", w.clearing, w.fee, 1);
	refused(t, &x, ANFU_R_LEDGER_OVERFLOW);
	/* A hold would push debits_pending + debits_posted past the range. */
	x = tr("b3", w.clearing, w.reserve, 1);
	x.flags = ANFU_LEDGER_TRF_PENDING;
	refused(t, &x, ANFU_R_LEDGER_OVERFLOW);
}

/* ---- idempotency --------------------------------------------------------------- */

/* req: TX-DUP-01 — the same key with the same content returns the first
 * result and posts nothing; other content is refused; another caller's
 * same key is its own transfer. */
static void test_idempotency_same_and_different_content(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result a, b;
	char before[SNAP_MAX], after[SNAP_MAX];

	world(t, &w, 100);
	x = tr("pay-1", w.wallet, w.merchant, 30);
	ok(t, &x, &a);
	snap(t, before);
	ok(t, &x, &b);
	snap(t, after);
	assert_string_equal(before, after);
	assert_true(b.existed);
	assert_string_equal(a.id, b.id);
	assert_int_equal(a.seq, b.seq);
	assert_int_equal(a.ts_us, b.ts_us);
	assert_int_equal(b.amount, 30);
	x.amount = 31;
	refused(t, &x, ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT);
	x.amount = 30;
	x.ref = "ord_2";
	refused(t, &x, ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT);
	x.ref = "ord_1";
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "other", &x, 1, later(), &b), 0);
	assert_null(b.code);
	assert_false(b.existed);
	assert_string_not_equal(a.id, b.id);
	bal(t, w.wallet, 0, 60, 0, 100);
}

/* req: TX-DUP-01 — a key repeated inside one request (read before the
 * request's first transfer) is answered as across requests: the same
 * content replays the transfer before it, other content is refused; a
 * key whose first use was refused, or undone with its chain, is evaluated
 * again; a key the table holds replays that row. */
static void test_a_key_repeated_inside_a_request_is_answered_as_across_requests(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer old, x[8];
	struct anfu_ledger_result o, r[8];

	world(t, &w, 100);
	old = tr("old", w.wallet, w.merchant, 1);
	ok(t, &old, &o);
	x[0] = tr("dup", w.wallet, w.merchant, 10);
	x[1] = tr("dup", w.wallet, w.merchant, 10);   /* replays x[0] */
	x[2] = tr("dup", w.wallet, w.merchant, 11);   /* conflicts with x[0] */
	x[3] = tr("poor", w.wallet, w.merchant, 500); /* refused: funds */
	x[4] = tr("poor", w.wallet, w.merchant, 5);   /* evaluated again */
	x[5] = tr("link", w.wallet, w.fee, 2);
	x[5].flags = ANFU_LEDGER_TRF_LINKED;
	x[6] = tr("link2", w.wallet, w.fee, 900);  /* fails the chain */
	x[7] = tr("old", w.wallet, w.merchant, 1); /* replays the table's row */
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 8, later(), r), 0);
	assert_null(r[0].code);
	assert_false(r[0].existed);
	assert_null(r[1].code);
	assert_true(r[1].existed);
	assert_string_equal(r[1].id, r[0].id);
	assert_int_equal(r[1].seq, r[0].seq);
	assert_int_equal(r[1].amount, 10);
	assert_string_equal(r[2].code, ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT);
	assert_string_equal(r[3].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	assert_null(r[4].code);
	assert_false(r[4].existed);
	assert_string_equal(r[5].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED);
	assert_string_equal(r[6].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	assert_null(r[7].code);
	assert_true(r[7].existed);
	assert_string_equal(r[7].id, o.id);
	bal(t, w.wallet, 0, 16, 0, 100);
	bal(t, w.merchant, 0, 0, 0, 16);
	bal(t, w.fee, 0, 0, 0, 0);
	/* The chain's key is free again: a later request applies it. */
	x[5].flags = 0;
	ok(t, &x[5], NULL);
	bal(t, w.fee, 0, 0, 0, 2);
	chain_verifies(t);
}

/* req: TX-DUP-01 — every field of a transfer is part of its content:
 * the same key with any one field changed is refused. */
static void test_idempotency_compares_every_field(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer base, x;
	struct anfu_ledger_result r;

	world(t, &w, 100);
	base = tr("all", w.wallet, w.merchant, 10);
	base.flags = ANFU_LEDGER_TRF_PENDING;
	base.timeout_ms = 5000;
	base.on_timeout = "void";
	ok(t, &base, &r);
	for (int f = 0; f < 9; f++) {
		x = base;
		switch (f) {
		case 0: x.debit_account = w.wallet2; break;
		case 1: x.credit_account = w.fee; break;
		case 2: x.amount = 11; break;
		case 3: x.code = "refund"; break;
		case 4: x.ref = "ord_9"; break;
		case 5: x.flags |= ANFU_LEDGER_TRF_BALANCING_DEBIT; break;
		case 6: x.timeout_ms = 5001; break;
		case 7: x.on_timeout = "post"; break;
		default: x.ref = NULL; break; /* "" differs from "ord_1" */
		}
		refused(t, &x, ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT);
	}
	/* NULL on_timeout of a hold is "void": the same content. */
	x = base;
	x.on_timeout = NULL;
	ok(t, &x, &r);
	assert_true(r.existed);
	/* A post's hold is part of its content too. */
	{
		struct anfu_ledger_result h2;
		struct anfu_ledger_transfer p;

		x = base;
		x.idem_key = "all2";
		ok(t, &x, &h2);
		p = tr("post", w.wallet, w.merchant, 0);
		p.flags = ANFU_LEDGER_TRF_POST_PENDING;
		p.pending_id = r.id;
		ok(t, &p, NULL);
		p.pending_id = h2.id;
		refused(t, &p, ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT);
	}
}

/* A refused transfer is not stored: its retry is evaluated again. */
static void test_a_refused_transfer_is_evaluated_again(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x, top;

	world(t, &w, 10);
	x = tr("retry", w.wallet, w.merchant, 20);
	refused(t, &x, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	top = tr("fund2", w.reserve, w.wallet, 10);
	ok(t, &top, NULL);
	ok(t, &x, NULL);
	bal(t, w.wallet, 0, 20, 0, 20);
}

/* ---- linked chains ------------------------------------------------------------- */

/* req: TX-ATOM-01 — a chain whose middle member is refused posts
 * nothing: the refused member names its refusal, the others
 * linked_event_failed. A chain that passes posts every member. */
static void test_linked_chain_failing_in_the_middle_posts_nothing(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x[3];
	struct anfu_ledger_result r[3];
	char before[SNAP_MAX], after[SNAP_MAX];

	world(t, &w, 100);
	x[0] = tr("c1", w.wallet, w.merchant, 60);
	x[0].flags = ANFU_LEDGER_TRF_LINKED;
	x[1] = tr("c2", w.wallet, w.fee, 50); /* 60 + 50 > 100 */
	x[1].flags = ANFU_LEDGER_TRF_LINKED;
	x[2] = tr("c3", w.reserve, w.wallet2, 5);
	snap(t, before);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 3, later(), r), 0);
	assert_string_equal(r[0].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED);
	assert_string_equal(r[1].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	assert_string_equal(r[2].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED);
	snap(t, after);
	assert_string_equal(before, after);
	x[1].amount = 40;
	x[1].idem_key = "c2b";
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 3, later(), r), 0);
	for (int i = 0; i < 3; i++)
		assert_null(r[i].code);
	assert_true(r[0].seq < r[1].seq && r[1].seq < r[2].seq);
	assert_true(r[0].ts_us < r[1].ts_us && r[1].ts_us < r[2].ts_us);
	bal(t, w.wallet, 0, 100, 0, 100);
	bal(t, w.wallet2, 0, 0, 0, 5);
	assert_int_equal(fixture_audits(t->f->db, "ledger.transfer"), 4);
	chain_verifies(t);
}

/* Independent transfers of one request stand or fall alone. */
static void test_independent_transfers_of_a_request_stand_alone(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x[3];
	struct anfu_ledger_result r[3];

	world(t, &w, 100);
	x[0] = tr("i1", w.wallet, w.merchant, 60);
	x[1] = tr("i2", w.wallet, w.fee, 50);
	x[2] = tr("i3", w.wallet, w.fee, 40);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 3, later(), r), 0);
	assert_null(r[0].code);
	assert_string_equal(r[1].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	assert_null(r[2].code);
	assert_int_equal(r[2].seq, r[0].seq + 1);
	bal(t, w.wallet, 0, 100, 0, 100);
	chain_verifies(t);
}

/* A request that moves more accounts than one balance statement holds
 * (LEDGER_BALANCE_ROWS): every account's balances are written, the
 * wallet a request moves twice with both moves, the one it moves in a
 * refused chain with neither. */
static void test_a_request_moving_many_accounts_writes_every_balance(void **state)
{
	enum {
		N = LEDGER_BALANCE_ROWS + 3
	};
	struct lt *t = *state;
	struct world w;
	static char ids[N][ANFU_ID_MAX], keys[N + 3][16];
	struct anfu_ledger_transfer x[N + 3];
	struct anfu_ledger_result r[N + 3];

	_Static_assert(N + 3 <= ANFU_LIMIT_LEDGER_REQUEST, "one request");
	world(t, &w, 0);
	for (int i = 0; i < N; i++) {
		char owner[16];

		(void)snprintf(owner, sizeof(owner), "usr_m%d", i);
		acc(t, "customer_wallet", "CNY", "customer", owner, ids[i]);
	}
	for (int i = 0; i < N; i++) {
		(void)snprintf(keys[i], sizeof(keys[i]), "many%d", i);
		x[i] = tr(keys[i], w.reserve, ids[i], 100 + i);
	}
	/* The first wallet again, then a chain that moves the second and is
	 * refused (its second member overdraws the second wallet). */
	(void)snprintf(keys[N], sizeof(keys[N]), "again");
	x[N] = tr(keys[N], ids[0], w.merchant, 30);
	(void)snprintf(keys[N + 1], sizeof(keys[N + 1]), "chain1");
	x[N + 1] = tr(keys[N + 1], ids[1], w.merchant, 1);
	x[N + 1].flags = ANFU_LEDGER_TRF_LINKED;
	(void)snprintf(keys[N + 2], sizeof(keys[N + 2]), "chain2");
	x[N + 2] = tr(keys[N + 2], ids[1], w.fee, 101);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, N + 3, later(), r), 0);
	for (int i = 0; i <= N; i++)
		assert_null(r[i].code);
	assert_string_equal(r[N + 1].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED);
	assert_string_equal(r[N + 2].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	bal(t, ids[0], 0, 30, 0, 100);
	bal(t, ids[1], 0, 0, 0, 101);
	for (int i = 2; i < N; i++)
		bal(t, ids[i], 0, 0, 0, 100 + i);
	bal(t, w.merchant, 0, 0, 0, 30);
	bal(t, w.fee, 0, 0, 0, 0);
	bal(t, w.reserve, 0, (int64_t)N * 100 + (int64_t)N * (N - 1) / 2, 0, 0);
	chain_verifies(t);
}

/* ---- holds ------------------------------------------------------------------------ */

static void hold_state(struct lt *t, const char *id, const char *want, const char *closed_by)
{
	char text[FIXTURE_TEXT_MAX];

	fixture_text(t->f->db, "SELECT state FROM ledger_hold WHERE transfer_id = $1", id, text);
	assert_string_equal(text, want);
	fixture_text(t->f->db, "SELECT closed_by FROM ledger_hold WHERE transfer_id = $1", id,
		     text);
	assert_string_equal(text, closed_by ? closed_by : "(null)");
}

/* A hold takes the amount out of what the wallet can give; a post for
 * less than the hold posts that part and releases the rest; the hold is
 * then closed and cannot be posted or voided again. */
static void test_post_for_less_than_the_hold_releases_the_rest(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer h, p, x;
	struct anfu_ledger_result hr, pr;

	world(t, &w, 100);
	h = tr("h1", w.wallet, w.merchant, 100);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	h.timeout_ms = 60000;
	h.on_timeout = "post";
	ok(t, &h, &hr);
	bal(t, w.wallet, 100, 0, 0, 100);
	bal(t, w.merchant, 0, 0, 100, 0);
	hold_state(t, hr.id, "pending", NULL);
	assert_true(count(t, "SELECT expires_ms FROM ledger_hold WHERE transfer_id = $1", hr.id) >
		    0);
	x = tr("h1x", w.wallet, w.fee, 1);
	refused(t, &x, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	p = tr("p1", w.wallet, w.merchant, 60);
	p.flags = ANFU_LEDGER_TRF_POST_PENDING;
	p.pending_id = hr.id;
	ok(t, &p, &pr);
	assert_int_equal(pr.amount, 60);
	bal(t, w.wallet, 0, 60, 0, 100);
	bal(t, w.merchant, 0, 0, 0, 60);
	hold_state(t, hr.id, "posted", pr.id);
	p.idem_key = "p2";
	refused(t, &p, ANFU_R_LEDGER_PENDING_NOT_PENDING);
	p.idem_key = "p3";
	p.flags = ANFU_LEDGER_TRF_VOID_PENDING;
	p.amount = 0;
	refused(t, &p, ANFU_R_LEDGER_PENDING_NOT_PENDING);
	x = tr("h1y", w.wallet, w.fee, 40);
	ok(t, &x, NULL);
	chain_verifies(t);
}

/* A post of 0 posts the whole hold. */
static void test_post_of_zero_posts_the_whole_hold(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer h, p;
	struct anfu_ledger_result hr, pr;

	world(t, &w, 100);
	h = tr("h2", w.wallet, w.merchant, 70);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	ok(t, &h, &hr);
	p = tr("p4", w.wallet, w.merchant, 0);
	p.flags = ANFU_LEDGER_TRF_POST_PENDING;
	p.pending_id = hr.id;
	ok(t, &p, &pr);
	assert_int_equal(pr.amount, 70);
	bal(t, w.wallet, 0, 70, 0, 100);
	bal(t, w.merchant, 0, 0, 0, 70);
}

/* A post for more than the hold, with other accounts or another asset,
 * of a hold that does not exist, is refused and changes nothing. */
static void test_post_beyond_or_beside_the_hold_is_refused(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer h, p;
	struct anfu_ledger_result hr;

	world(t, &w, 100);
	h = tr("h3", w.wallet, w.merchant, 50);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	ok(t, &h, &hr);
	p = tr("p5", w.wallet, w.merchant, 51);
	p.flags = ANFU_LEDGER_TRF_POST_PENDING;
	p.pending_id = hr.id;
	refused(t, &p, ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED);
	p.amount = 50;
	p.credit_account = w.fee;
	refused(t, &p, ANFU_R_LEDGER_PENDING_MISMATCH);
	p.credit_account = w.merchant;
	p.pending_id = "trf_nosuch000000000000000";
	refused(t, &p, ANFU_R_LEDGER_PENDING_NOT_FOUND);
	p.flags = ANFU_LEDGER_TRF_VOID_PENDING;
	p.pending_id = hr.id;
	p.amount = 20; /* a void of another amount than the hold's */
	refused(t, &p, ANFU_R_LEDGER_PENDING_MISMATCH);
	hold_state(t, hr.id, "pending", NULL);
	bal(t, w.wallet, 50, 0, 0, 100);
}

/* A void gives the whole hold back; the hold is voided, for good. */
static void test_void_releases_the_hold(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer h, v;
	struct anfu_ledger_result hr, vr;

	world(t, &w, 100);
	h = tr("h4", w.wallet, w.merchant, 80);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	ok(t, &h, &hr);
	v = tr("v1", w.wallet, w.merchant, 0);
	v.flags = ANFU_LEDGER_TRF_VOID_PENDING;
	v.pending_id = hr.id;
	ok(t, &v, &vr);
	assert_int_equal(vr.amount, 80);
	bal(t, w.wallet, 0, 0, 0, 100);
	bal(t, w.merchant, 0, 0, 0, 0);
	hold_state(t, hr.id, "voided", vr.id);
	v.idem_key = "v2";
	refused(t, &v, ANFU_R_LEDGER_PENDING_NOT_PENDING);
	v.idem_key = "v3";
	v.flags = ANFU_LEDGER_TRF_POST_PENDING;
	refused(t, &v, ANFU_R_LEDGER_PENDING_NOT_PENDING);
	chain_verifies(t);
}

#ifdef ANFU_TEST_HOOKS
/* A hold whose timeout has passed on the injectable clock can no longer
 * be posted or voided by a caller (its timeout decides; the expiry job is
 * phase 2); a second before, it can. */
static void test_a_hold_past_its_timeout_is_no_longer_pending(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer h, p;
	struct anfu_ledger_result h1, h2;

	anfu_clock_freeze(1);
	world(t, &w, 100);
	h = tr("x1", w.wallet, w.merchant, 50);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	h.timeout_ms = 60000;
	ok(t, &h, &h1);
	h.idem_key = "x2";
	h.amount = 30;
	h.on_timeout = "void";
	ok(t, &h, &h2);
	anfu_clock_advance_ms(59999);
	p = tr("x3", w.wallet, w.merchant, 0);
	p.flags = ANFU_LEDGER_TRF_POST_PENDING;
	p.pending_id = h1.id;
	ok(t, &p, NULL);
	anfu_clock_advance_ms(1);
	p.idem_key = "x4";
	p.pending_id = h2.id;
	refused(t, &p, ANFU_R_LEDGER_PENDING_NOT_PENDING);
	p.idem_key = "x5";
	p.flags = ANFU_LEDGER_TRF_VOID_PENDING;
	refused(t, &p, ANFU_R_LEDGER_PENDING_NOT_PENDING);
	hold_state(t, h2.id, "pending", NULL);
	bal(t, w.wallet, 30, 50, 0, 100);
	anfu_clock_reset();
}
#endif

/* ---- balancing ------------------------------------------------------------------ */

/* BALANCING_DEBIT moves what the debit account has, at most the amount;
 * with nothing left it is refused. BALANCING_CREDIT likewise for what an
 * asset account may take. */
static void test_balancing_flags_cut_the_amount(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result r;

	world(t, &w, 30);
	x = tr("bd1", w.wallet, w.merchant, 100);
	x.flags = ANFU_LEDGER_TRF_BALANCING_DEBIT;
	ok(t, &x, &r);
	assert_int_equal(r.amount, 30);
	bal(t, w.wallet, 0, 30, 0, 30);
	x.idem_key = "bd2";
	refused(t, &x, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	/* The reserve was debited 30 by the top-up: it may take 30. */
	x = tr("bc1", w.clearing, w.reserve, 100);
	x.flags = ANFU_LEDGER_TRF_BALANCING_CREDIT;
	ok(t, &x, &r);
	assert_int_equal(r.amount, 30);
	bal(t, w.reserve, 0, 30, 0, 30);
	x.idem_key = "bc2";
	refused(t, &x, ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED);
	/* Less than what there is: the amount as asked. */
	x = tr("bd3", w.merchant, w.wallet, 10);
	x.flags = ANFU_LEDGER_TRF_BALANCING_DEBIT;
	ok(t, &x, &r);
	assert_int_equal(r.amount, 10);
}

/* ---- account states --------------------------------------------------------------- */

static void set_state(struct lt *t, const char *id, const char *st)
{
	const struct anfu_param p[] = { ANFU_PS(st), ANFU_PS(id) };

	assert_int_equal(anfu_db_exec(t->f->db,
				      "UPDATE ledger_account SET state = $1 WHERE id = $2", p, 2,
				      NULL, NULL, NULL),
			 0);
}

/* req: FUNC-ACCT-06 — a frozen account refuses debits (frozen_debit,
 * frozen) or credits (frozen_credit, frozen) and a closed one every
 * posting; a frozen account may still have a hold voided. */
static void test_frozen_and_closed_accounts_refuse_what_their_state_forbids(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x, h, v;
	struct anfu_ledger_result hr;

	world(t, &w, 100);
	h = tr("s0", w.wallet, w.merchant, 10);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	ok(t, &h, &hr);

	set_state(t, w.wallet, "frozen_debit");
	x = tr("s1", w.wallet, w.merchant, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("s1p", w.wallet, w.merchant, 1);
	x.flags = ANFU_LEDGER_TRF_PENDING;
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("s2", w.reserve, w.wallet, 1);
	ok(t, &x, NULL);

	set_state(t, w.wallet, "frozen_credit");
	x = tr("s3", w.reserve, w.wallet, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("s4", w.wallet, w.merchant, 1);
	ok(t, &x, NULL);

	set_state(t, w.wallet, "frozen");
	x = tr("s5", w.reserve, w.wallet, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("s6", w.wallet, w.merchant, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	v = tr("s7", w.wallet, w.merchant, 0);
	v.flags = ANFU_LEDGER_TRF_POST_PENDING;
	v.pending_id = hr.id;
	refused(t, &v, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	v.flags = ANFU_LEDGER_TRF_VOID_PENDING;
	ok(t, &v, NULL);

	set_state(t, w.wallet, "closed");
	x = tr("s8", w.reserve, w.wallet, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_CLOSED);
	x = tr("s9", w.wallet, w.merchant, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_CLOSED);
	set_state(t, w.merchant, "frozen");
	x = tr("s10", w.wallet2, w.merchant, 1);
	refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	set_state(t, w.merchant, "normal");
	set_state(t, w.wallet, "normal");
	x = tr("s11", w.wallet, w.merchant, 1);
	ok(t, &x, NULL);
}

/* ---- the writer ------------------------------------------------------------------ */

#ifdef ANFU_TEST_HOOKS
/* Writer timestamps are strictly increasing even when the clock goes
 * back; a new service on the same data continues the journal, its
 * sequence and the chain. */
static void test_timestamps_increase_and_a_restart_continues_the_chain(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result a, b, c;
	struct anfu_ledger_deps d = { t->f->tx, &t->cfg, t->f->hash };

	world(t, &w, 100);
	x = tr("t1", w.wallet, w.merchant, 1);
	ok(t, &x, &a);
	anfu_clock_advance_ms(-3600 * 1000);
	x = tr("t2", w.wallet, w.merchant, 1);
	ok(t, &x, &b);
	assert_true(b.ts_us > a.ts_us);
	assert_int_equal(b.seq, a.seq + 1);
	anfu_ledger_free(t->l);
	t->l = NULL;
	assert_int_equal(anfu_ledger_new(&d, &t->l), 0);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	x = tr("t3", w.wallet, w.merchant, 1);
	ok(t, &x, &c);
	assert_true(c.ts_us > b.ts_us);
	assert_int_equal(c.seq, b.seq + 1);
	x = tr("t1", w.wallet, w.merchant, 1);
	ok(t, &x, &c);
	assert_true(c.existed);
	assert_string_equal(c.id, a.id);
	anfu_clock_reset();
	chain_verifies(t);
}
#endif

struct sub {
	struct lt *t;
	const char *caller;
	struct anfu_ledger_transfer x[4];
	size_t n;
	int rc;
	struct anfu_ledger_result r[4];
	int64_t deadline;
};

static void *submitter(void *ud)
{
	struct sub *s = ud;

	s->rc = anfu_ledger_submit(s->t->l, &svc, s->caller, s->x, s->n,
				   s->deadline ? s->deadline : later(), s->r);
	return NULL;
}

/* Replaces t's ledger with a new one that is not started: requests
 * submitted now wait in its queue until anfu_ledger_start(). */
static void unstarted(struct lt *t)
{
	struct anfu_ledger_deps d = { t->f->tx, &t->cfg, t->f->hash };

	anfu_ledger_free(t->l);
	assert_int_equal(anfu_ledger_new(&d, &t->l), 0);
}

static void wait_queued(struct lt *t, size_t n)
{
	while (anfu_ledger_queued(t->l) < n)
		sched_yield();
}

/* Requests queued together run as one batch: the refused one is undone
 * alone, the others commit under one batch row. */
static void test_one_batch_where_one_command_fails_and_the_others_commit(void **state)
{
	struct lt *t = lt_open(1000, 0, 4096, false);
	struct world w;
	struct sub s[3];
	pthread_t th[3];

	(void)state;
	/* Accounts through a started writer first, then a fresh one. */
	assert_int_equal(anfu_ledger_start(t->l), 0);
	world(t, &w, 100);
	unstarted(t);
	memset(s, 0, sizeof(s));
	s[0].x[0] = tr("q1", w.wallet, w.merchant, 40);
	s[1].x[0] = tr("q2", w.wallet, w.merchant, 500);
	s[2].x[0] = tr("q3", w.wallet, w.fee, 60);
	for (int i = 0; i < 3; i++) {
		s[i].t = t;
		s[i].caller = "svc";
		s[i].n = 1;
		assert_int_equal(pthread_create(&th[i], NULL, submitter, &s[i]), 0);
		wait_queued(t, (size_t)i + 1);
	}
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].rc, 0);
	}
	assert_null(s[0].r[0].code);
	assert_string_equal(s[1].r[0].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	assert_null(s[2].r[0].code);
	/* The top-up's batch, then this one batch of two transfers. */
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), 2);
	assert_int_equal(count(t,
			       "SELECT last_transfer - first_transfer + 1 FROM ledger_batch "
			       "WHERE seq = 2",
			       NULL),
			 2);
	bal(t, w.wallet, 0, 100, 0, 100);
	chain_verifies(t);
	teardown((void **)&t);
}

/* A full queue refuses at once (nothing queued, nothing applied); the
 * queued requests still run. */
static void test_a_full_queue_refuses_at_once(void **state)
{
	struct lt *t = lt_open(1000, 0, 2, true);
	struct world w;
	struct sub s[2];
	pthread_t th[2];
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result r;

	(void)state;
	world(t, &w, 100);
	unstarted(t);
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 2; i++) {
		s[i].t = t;
		s[i].caller = "svc";
		s[i].n = 1;
		s[i].x[0] = tr(i == 0 ? "f1" : "f2", w.wallet, w.merchant, 10);
		assert_int_equal(pthread_create(&th[i], NULL, submitter, &s[i]), 0);
		wait_queued(t, (size_t)i + 1);
	}
	x = tr("f3", w.wallet, w.merchant, 10);
	/* A short deadline: were it queued, it would end in ETIMEDOUT. */
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", &x, 1,
					    anfu_clock_mono_us() / 1000 + 1000, &r),
			 ANFU_EOVERLOAD);
	assert_int_equal(anfu_ledger_queued(t->l), 2);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].rc, 0);
		assert_null(s[i].r[0].code);
	}
	assert_int_equal(
		count(t, "SELECT count(*) FROM ledger_transfer WHERE idem_key = 'f3'", NULL), 0);
	bal(t, w.wallet, 0, 20, 0, 100);
	teardown((void **)&t);
}

/* A request whose deadline passes before the writer takes it is
 * withdrawn: ANFU_ETIMEDOUT, and it is never applied. */
static void test_a_deadline_passed_in_the_queue_is_never_applied(void **state)
{
	struct lt *t = lt_open(1000, 0, 4096, true);
	struct world w;
	struct sub s;
	pthread_t th;
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result r;

	(void)state;
	world(t, &w, 100);
	unstarted(t);
	x = tr("d1", w.wallet, w.merchant, 10);
	assert_int_equal(
		anfu_ledger_submit(t->l, &svc, "svc", &x, 1, anfu_clock_mono_us() / 1000 - 1, &r),
		ANFU_ETIMEDOUT);
	memset(&s, 0, sizeof(s));
	s.t = t;
	s.caller = "svc";
	s.n = 1;
	s.x[0] = tr("d2", w.wallet, w.merchant, 10);
	s.deadline = anfu_clock_mono_us() / 1000 + 20;
	assert_int_equal(pthread_create(&th, NULL, submitter, &s), 0);
	pthread_join(th, NULL); /* nobody takes it: the writer is not started */
	assert_int_equal(s.rc, ANFU_ETIMEDOUT);
	assert_int_equal(anfu_ledger_queued(t->l), 0);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	x = tr("d3", w.wallet, w.merchant, 1);
	ok(t, &x, NULL);
	assert_int_equal(count(t,
			       "SELECT count(*) FROM ledger_transfer WHERE idem_key IN "
			       "('d1', 'd2')",
			       NULL),
			 0);
	bal(t, w.wallet, 0, 1, 0, 100);
	teardown((void **)&t);
}

#ifdef ANFU_TEST_HOOKS
/* req: TX-ATOM-01 — a batch that cannot commit (its audit records cannot
 * be appended) leaves nothing behind and every caller of the batch gets
 * the failure, none a false success; the same requests then apply in
 * full, with the journal and its chain continuing without a gap. */
static void test_a_failed_batch_fails_every_caller_and_changes_nothing(void **state)
{
	struct lt *t = lt_open(1000, 0, 4096, true);
	struct world w;
	struct sub s[3];
	pthread_t th[3];
	char before[SNAP_MAX], after[SNAP_MAX];

	(void)state;
	world(t, &w, 100);
	unstarted(t);
	memset(s, 0, sizeof(s));
	s[0].x[0] = tr("e1", w.wallet, w.merchant, 40);
	s[1].x[0] = tr("e2", w.wallet, w.fee, 70); /* refused: 40 + 70 > 100 */
	s[2].x[0] = tr("e3", w.reserve, w.wallet2, 5);
	snap(t, before);
	for (int i = 0; i < 3; i++) {
		s[i].t = t;
		s[i].caller = "svc";
		s[i].n = 1;
		assert_int_equal(pthread_create(&th[i], NULL, submitter, &s[i]), 0);
		wait_queued(t, (size_t)i + 1);
	}
	anfu_audit_inject_fault(t->f->audit, true);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].rc, ANFU_EAUDIT);
	}
	anfu_audit_inject_fault(t->f->audit, false);
	snap(t, after);
	assert_string_equal(before, after);
	for (int i = 0; i < 3; i++) {
		s[i].rc = -1;
		submitter(&s[i]);
		assert_int_equal(s[i].rc, 0);
		assert_false(s[i].r[0].existed);
	}
	assert_null(s[0].r[0].code);
	assert_string_equal(s[1].r[0].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	assert_null(s[2].r[0].code);
	bal(t, w.wallet, 0, 40, 0, 100);
	bal(t, w.wallet2, 0, 0, 0, 5);
	chain_verifies(t);
	teardown((void **)&t);
}
#endif

#define HOT_THREADS 6
#define HOT_EACH 60

struct spender {
	struct lt *t;
	const char *wallet, *merchant;
	int k, applied, refused, errors;
};

/* Pays 3 fen per transfer from the shared wallet to the merchant. */
static void *spender(void *ud)
{
	struct spender *sp = ud;
	char caller[16], key[32];

	snprintf(caller, sizeof(caller), "s%d", sp->k);
	for (int i = 0; i < HOT_EACH; i++) {
		struct anfu_ledger_transfer x;
		struct anfu_ledger_result r;

		snprintf(key, sizeof(key), "h%d", i);
		x = tr(key, sp->wallet, sp->merchant, 3);
		if (anfu_ledger_submit(sp->t->l, &svc, caller, &x, 1, later(), &r) != 0)
			sp->errors++;
		else if (!r.code)
			sp->applied++;
		else if (strcmp(r.code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS) == 0)
			sp->refused++;
		else
			sp->errors++;
	}
	return NULL;
}

/* req: FUNC-ACCT-09 — concurrent callers spending one wallet (one hot
 * account) never overdraw it: with 1000 fen and transfers of 3, exactly
 * 333 pass whatever the order, the rest are refused. Batches of at most
 * 10 with a wait for more (batch_max, batch_wait_us), so the writer's
 * cap and wait are exercised; the chain verifies. */
static void test_concurrent_spenders_never_overdraw_one_wallet(void **state)
{
	struct lt *t = lt_open(10, 2000, 4096, true);
	struct world w;
	struct spender sp[HOT_THREADS];
	pthread_t th[HOT_THREADS];
	int applied = 0, refusals = 0;

	(void)state;
	world(t, &w, 1000);
	for (int k = 0; k < HOT_THREADS; k++) {
		sp[k] = (struct spender){ t, w.wallet, w.merchant, k, 0, 0, 0 };
		assert_int_equal(pthread_create(&th[k], NULL, spender, &sp[k]), 0);
	}
	for (int k = 0; k < HOT_THREADS; k++) {
		pthread_join(th[k], NULL);
		assert_int_equal(sp[k].errors, 0);
		applied += sp[k].applied;
		refusals += sp[k].refused;
	}
	assert_int_equal(applied, 333);
	assert_int_equal(refusals, HOT_THREADS * HOT_EACH - 333);
	bal(t, w.wallet, 0, 999, 0, 1000);
	bal(t, w.merchant, 0, 0, 0, 999);
	assert_true(count(t, "SELECT max(last_transfer - first_transfer + 1) FROM ledger_batch",
			  NULL) <= 10);
	chain_verifies(t);
	teardown((void **)&t);
}

/* An anfu_row_fn: appends the row's first column to ud, a
 * char[FIXTURE_TEXT_MAX], after a comma unless it is the first. */
static int join_ints(void *ud, const struct anfu_row *r)
{
	char *out = ud;
	size_t n = strlen(out);

	(void)snprintf(out + n, FIXTURE_TEXT_MAX - n, "%s%" PRId64, n ? "," : "",
		       anfu_row_int(r, 0));
	return 0;
}

/* The writer takes whole requests up to batch_max transfers: with
 * batch_max 2, five queued single transfers, a chain of two and a chain
 * of three are batches of 2, 2, 1 (the chain of two does not fit beside
 * the fifth), 2 and 3 (a request larger than batch_max alone, never
 * split). */
static void test_batches_hold_at_most_batch_max_transfers_and_requests_whole(void **state)
{
	static const char *const keys[] = { "g1", "g2", "g3", "g4", "g5",
					    "g6", "g7", "g8", "g9", "g10" };
	struct lt *t = lt_open(2, 0, 4096, true);
	struct world w;
	struct sub s[7];
	pthread_t th[7];
	char text[FIXTURE_TEXT_MAX];
	int k = 0;

	(void)state;
	world(t, &w, 100);
	unstarted(t);
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 7; i++) {
		s[i].t = t;
		s[i].caller = "svc";
		s[i].n = i < 5 ? 1 : (size_t)i - 3; /* 1 1 1 1 1 2 3 */
		for (size_t m = 0; m < s[i].n; m++) {
			s[i].x[m] = tr(keys[k++], w.wallet, w.merchant, 1);
			if (m + 1 < s[i].n)
				s[i].x[m].flags = ANFU_LEDGER_TRF_LINKED;
		}
	}
	for (int i = 0; i < 7; i++) {
		assert_int_equal(pthread_create(&th[i], NULL, submitter, &s[i]), 0);
		wait_queued(t, (size_t)i + 1);
	}
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < 7; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].rc, 0);
		for (size_t m = 0; m < s[i].n; m++)
			assert_null(s[i].r[m].code);
	}
	/* The top-up's batch first. */
	text[0] = '\0';
	assert_int_equal(anfu_db_exec(t->f->db,
				      "SELECT last_transfer - first_transfer + 1 FROM ledger_batch "
				      "ORDER BY seq",
				      NULL, 0, join_ints, text, NULL),
			 0);
	assert_string_equal(text, "1,2,2,1,2,3");
	bal(t, w.wallet, 0, 10, 0, 100);
	chain_verifies(t);
	teardown((void **)&t);
}

/* The writer's count of waits for more requests, from its /metrics text. */
static int64_t waits_of(struct lt *t)
{
	static const char name[] = "\nanfu_ledger_batch_waits_total ";
	struct anfu_buf b;
	const char *p;
	int64_t n;

	anfu_buf_init(&b, 1 << 16);
	assert_int_equal(anfu_ledger_metrics(t->l, &b), 0);
	assert_int_equal(anfu_buf_appends(&b, ""), 0);
	p = strstr(b.data, name);
	assert_non_null(p);
	n = strtoll(p + sizeof(name) - 1, NULL, 10);
	anfu_buf_free(&b);
	return n;
}

/* A lone caller never waits for company: with the longest wait
 * configured, five transfers one after the other are five batches of one
 * request and not one wait (each would add 100 ms to the caller's
 * latency). No requirement ID: a latency property of the writer. */
static void test_a_lone_caller_never_waits_for_more(void **state)
{
	struct lt *t = lt_open(1000, ANFU_LIMIT_LEDGER_BATCH_WAIT_US, 4096, true);
	struct world w;
	int64_t before;

	(void)state;
	world(t, &w, 100);
	before = waits_of(t);
	for (int i = 0; i < 5; i++) {
		char key[16];
		struct anfu_ledger_transfer x;
		struct anfu_ledger_result r;

		snprintf(key, sizeof(key), "lone%d", i);
		x = tr(key, w.wallet, w.merchant, 1);
		assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", &x, 1, later(), &r), 0);
		assert_null(r.code);
	}
	assert_int_equal(waits_of(t), before);
	bal(t, w.wallet, 0, 5, 0, 100);
	teardown((void **)&t);
}

/* After a batch of more than one request, a batch that is not full
 * waits for more: with batch_max 2, three single transfers queued before
 * the writer starts are a batch of two (no batch before it: no wait),
 * then the third alone after one wait. */
static void test_after_a_batch_with_company_the_writer_waits_for_more(void **state)
{
	static const char *const keys[] = { "c1", "c2", "c3" };
	struct lt *t = lt_open(2, 1000, 4096, true);
	struct world w;
	struct sub s[3];
	pthread_t th[3];
	char text[FIXTURE_TEXT_MAX];

	(void)state;
	world(t, &w, 100);
	unstarted(t);
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 3; i++) {
		s[i].t = t;
		s[i].caller = "svc";
		s[i].n = 1;
		s[i].x[0] = tr(keys[i], w.wallet, w.merchant, 1);
		assert_int_equal(pthread_create(&th[i], NULL, submitter, &s[i]), 0);
		wait_queued(t, (size_t)i + 1);
	}
	assert_int_equal(waits_of(t), 0);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].rc, 0);
		assert_null(s[i].r[0].code);
	}
	text[0] = '\0';
	assert_int_equal(anfu_db_exec(t->f->db,
				      "SELECT last_transfer - first_transfer + 1 FROM ledger_batch "
				      "ORDER BY seq",
				      NULL, 0, join_ints, text, NULL),
			 0);
	assert_string_equal(text, "1,2,1"); /* the top-up's batch first */
	assert_int_equal(waits_of(t), 1);
	bal(t, w.wallet, 0, 3, 0, 100);
	teardown((void **)&t);
}

#define NTHREADS 8
#define PER_THREAD 150

struct worker {
	struct lt *t;
	struct world *w;
	int k;
	int failures;
	char ids[PER_THREAD][ANFU_ID_MAX];
};

/* Each thread is its own caller, pays 1 fen per transfer from the
 * clearing account (no flags) to the fee account. */
static void *worker(void *ud)
{
	struct worker *wk = ud;
	char caller[16], key[32];

	snprintf(caller, sizeof(caller), "w%d", wk->k);
	for (int i = 0; i < PER_THREAD; i++) {
		struct anfu_ledger_transfer x;
		struct anfu_ledger_result r;

		snprintf(key, sizeof(key), "k%d-%d", wk->k, i);
		x = tr(key, wk->w->clearing, wk->w->fee, 1 + wk->k);
		if (anfu_ledger_submit(wk->t->l, &svc, caller, &x, 1, later(), &r) != 0 || r.code)
			wk->failures++;
		else
			memcpy(wk->ids[i], r.id, ANFU_ID_MAX);
	}
	return NULL;
}

/* Concurrent callers each get their own results: every id a caller got
 * names its own caller and key in the journal. */
static void test_concurrent_submitters_get_their_own_results(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct worker wk[NTHREADS];
	pthread_t th[NTHREADS];
	int64_t want = 0;
	char text[FIXTURE_TEXT_MAX], exp[64];

	world(t, &w, 0);
	for (int k = 0; k < NTHREADS; k++) {
		memset(&wk[k], 0, sizeof(wk[k]));
		wk[k].t = t;
		wk[k].w = &w;
		wk[k].k = k;
		assert_int_equal(pthread_create(&th[k], NULL, worker, &wk[k]), 0);
	}
	for (int k = 0; k < NTHREADS; k++) {
		pthread_join(th[k], NULL);
		assert_int_equal(wk[k].failures, 0);
		want += (int64_t)PER_THREAD * (1 + k);
	}
	for (int k = 0; k < NTHREADS; k++)
		for (int i = 0; i < PER_THREAD; i += 7) {
			fixture_text(t->f->db,
				     "SELECT caller || ' ' || idem_key FROM ledger_transfer WHERE "
				     "id = $1",
				     wk[k].ids[i], text);
			snprintf(exp, sizeof(exp), "w%d k%d-%d", k, k, i);
			assert_string_equal(text, exp);
		}
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL),
			 NTHREADS * PER_THREAD);
	bal(t, w.fee, 0, 0, 0, want);
	bal(t, w.clearing, 0, want, 0, 0);
	assert_int_equal(fixture_audits(t->f->db, "ledger.transfer"), NTHREADS * PER_THREAD);
	chain_verifies(t);
	/* The batches' records joined the audit chain whole. */
	{
		struct anfu_audit_report rep;

		memset(&rep, 0, sizeof(rep));
		assert_int_equal(anfu_audit_verify(t->f->db, t->f->hash, t->f->audit_pub,
						   t->f->ckfile, NULL, &rep),
				 0);
	}
}

/* ---- the property test ------------------------------------------------------------- */

#define M_ACCS 8
#define M_HOLDS 512
#define M_REQUESTS 2000

struct m_acc {
	char id[ANFU_ID_MAX];
	uint32_t flags;
	int64_t dp, dpo, cp, cpo;
	bool frozen_debit;
};
struct m_hold {
	char id[ANFU_ID_MAX];
	int dr, cr;
	int64_t amount;
	bool pending;
};
struct model {
	struct m_acc a[M_ACCS];
	struct m_hold h[M_HOLDS];
	int nh;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct m_tr {
	int kind; /* 0 transfer, 1 hold, 2 post, 3 void */
	int dr, cr, hold;
	int64_t amount;
	bool bal_debit;
};

/* The model's answer for one transfer on m (changed only when it passes). */
static const char *m_apply(struct model *m, const struct m_tr *x, int64_t *ret_amount)
{
	struct m_acc d, c;
	int64_t a = x->amount, hold = 0;

	if (x->kind >= 2 ? a < 0 : a <= 0)
		return ANFU_R_LEDGER_AMOUNT_INVALID;
	if (x->dr == x->cr)
		return ANFU_R_LEDGER_SAME_ACCOUNT;
	d = m->a[x->dr];
	c = m->a[x->cr];
	if (x->kind != 3 && d.frozen_debit)
		return ANFU_R_LEDGER_ACCOUNT_FROZEN;
	if (x->kind >= 2) {
		struct m_hold *h = &m->h[x->hold];

		if (h->dr != x->dr || h->cr != x->cr)
			return ANFU_R_LEDGER_PENDING_MISMATCH;
		if (!h->pending)
			return ANFU_R_LEDGER_PENDING_NOT_PENDING;
		if (x->kind == 2 && a > h->amount)
			return ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED;
		if (x->kind == 3 && a != 0 && a != h->amount)
			return ANFU_R_LEDGER_PENDING_MISMATCH;
		hold = h->amount;
		a = x->kind == 3 ? hold : (a == 0 ? hold : a);
		d.dp -= hold;
		c.cp -= hold;
	}
	if (x->bal_debit) {
		int64_t give;

		if (__builtin_sub_overflow(d.cpo, d.dpo, &give) ||
		    __builtin_sub_overflow(give, d.dp, &give) || give < 0)
			give = 0;
		a = a < give ? a : give;
		if (a == 0)
			return ANFU_R_LEDGER_INSUFFICIENT_FUNDS;
	}
	if (x->kind == 1) {
		if (__builtin_add_overflow(d.dp, a, &d.dp) ||
		    __builtin_add_overflow(c.cp, a, &c.cp))
			return ANFU_R_LEDGER_OVERFLOW;
	} else if (x->kind != 3) {
		if (__builtin_add_overflow(d.dpo, a, &d.dpo) ||
		    __builtin_add_overflow(c.cpo, a, &c.cpo))
			return ANFU_R_LEDGER_OVERFLOW;
	}
	{
		int64_t s1, s2;

		if (__builtin_add_overflow(d.dp, d.dpo, &s1) ||
		    __builtin_add_overflow(c.cp, c.cpo, &s2))
			return ANFU_R_LEDGER_OVERFLOW;
		if ((d.flags & LIAB) && s1 > d.cpo)
			return ANFU_R_LEDGER_INSUFFICIENT_FUNDS;
		if ((c.flags & ASSETF) && s2 > c.dpo)
			return ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED;
	}
	m->a[x->dr] = d;
	m->a[x->cr] = c;
	if (x->kind >= 2)
		m->h[x->hold].pending = false;
	*ret_amount = a;
	return NULL;
}

static int64_t m_amount(void)
{
	switch (rnd() % 10) {
	case 0: return (int64_t)(rnd() >> 1); /* huge: overflows */
	case 1: return 0;
	default: return (int64_t)(rnd() % 1000) + 1;
	}
}

/* req: FUNC-ACCT-10 — thousands of random requests (transfers, holds,
 * posts, voids, balancing, linked chains) against a reference model:
 * after every batch each balance equals the model's; the journal's chain
 * verifies at the end. The seed is printed on failure. */
static void test_property_random_commands_match_a_reference_model(void **state)
{
	struct lt *t = *state;
	static struct model m;
	static const struct {
		const char *kind, *otype;
		uint32_t flags;
	} kinds[M_ACCS] = {
		{ "bank_reserve", "bank", ASSETF },	  { "bank_clearing", "bank", 0 },
		{ "customer_wallet", "customer", LIAB },  { "customer_wallet", "customer", LIAB },
		{ "merchant_pending", "merchant", LIAB }, { "platform_fee", "platform", 0 },
		{ "platform_escrow", "platform", LIAB },  { "suspense", "platform", 0 },
	};
	const char *env = getenv("ANFU_LEDGER_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)anfu_clock_mono_us();
	char owner[16], key[32];
	/* What the run exercised: applied transfers by kind, refusals, chains
	 * applied and chains undone. */
	int applied[4] = { 0 }, refusals = 0, chains_ok = 0, chains_undone = 0;

	memset(&m, 0, sizeof(m));
	rng_state = seed | 1;
	fprintf(stderr, "ledger property test seed %" PRIu64 "\n", seed);
	for (int i = 0; i < M_ACCS; i++) {
		snprintf(owner, sizeof(owner), "own%d", i);
		acc(t, kinds[i].kind, "CNY", kinds[i].otype, owner, m.a[i].id);
		m.a[i].flags = kinds[i].flags;
	}
	/* One wallet frozen for debits throughout. */
	set_state(t, m.a[3].id, "frozen_debit");
	m.a[3].frozen_debit = true;
	for (int q = 0; q < M_REQUESTS; q++) {
		struct anfu_ledger_transfer x[3];
		struct anfu_ledger_result r[3];
		struct m_tr mt[3];
		struct model before = m;
		size_t n = rnd() % 4 == 0 ? 2 + rnd() % 2 : 1;
		const char *want[3] = { NULL, NULL, NULL };
		int64_t amt[3] = { 0, 0, 0 };
		size_t failed = n;

		for (size_t i = 0; i < n; i++) {
			struct m_tr *z = &mt[i];

			memset(z, 0, sizeof(*z));
			z->kind = (int)(rnd() % 4);
			if (z->kind >= 2 && m.nh == 0)
				z->kind = 0;
			z->dr = (int)(rnd() % M_ACCS);
			z->cr = (int)(rnd() % M_ACCS);
			z->amount = m_amount();
			if (z->kind >= 2) {
				z->hold = (int)(rnd() % (uint64_t)m.nh);
				if (rnd() % 8 != 0) {
					z->dr = m.h[z->hold].dr;
					z->cr = m.h[z->hold].cr;
				}
				if (z->kind == 3)
					z->amount = rnd() % 4 == 0 ? 1 : 0;
				else if (rnd() % 2)
					z->amount = (int64_t)(rnd() %
							      (uint64_t)(m.h[z->hold].amount + 2));
			}
			z->bal_debit = z->kind <= 1 && rnd() % 5 == 0;
			snprintf(key, sizeof(key), "p%d-%zu", q, i);
			x[i] = tr("", m.a[z->dr].id, m.a[z->cr].id, z->amount);
			x[i].idem_key = strdup(key);
			x[i].flags = (i + 1 < n ? ANFU_LEDGER_TRF_LINKED : 0) |
				     (z->bal_debit ? ANFU_LEDGER_TRF_BALANCING_DEBIT : 0) |
				     (z->kind == 1   ? ANFU_LEDGER_TRF_PENDING
				      : z->kind == 2 ? ANFU_LEDGER_TRF_POST_PENDING
				      : z->kind == 3 ? ANFU_LEDGER_TRF_VOID_PENDING
						     : 0);
			x[i].pending_id = z->kind >= 2 ? m.h[z->hold].id : NULL;
		}
		/* The model: the chain passes whole or not at all. */
		for (size_t i = 0; i < n && failed == n; i++) {
			want[i] = m_apply(&m, &mt[i], &amt[i]);
			if (want[i])
				failed = i;
		}
		if (failed < n && n > 1) {
			m = before;
			for (size_t i = 0; i < n; i++)
				if (i != failed)
					want[i] = ANFU_R_LEDGER_LINKED_EVENT_FAILED;
		}
		assert_int_equal(anfu_ledger_submit(t->l, &svc, "prop", x, n, later(), r), 0);
		for (size_t i = 0; i < n; i++) {
			const char *got = r[i].code;

			if ((want[i] == NULL) != (got == NULL) ||
			    (want[i] && strcmp(want[i], got) != 0))
				fail_msg("seed %" PRIu64
					 " request %d transfer %zu: want %s, got %s",
					 seed, q, i, want[i] ? want[i] : "applied",
					 got ? got : "applied");
			if (!got && amt[i] != r[i].amount)
				fail_msg("seed %" PRIu64 " request %d: amount %" PRId64
					 " != %" PRId64,
					 seed, q, amt[i], r[i].amount);
			if (got)
				refusals++;
			else
				applied[mt[i].kind]++;
			if (!got && mt[i].kind == 1 && m.nh < M_HOLDS) {
				struct m_hold *h = &m.h[m.nh++];

				memcpy(h->id, r[i].id, ANFU_ID_MAX);
				h->dr = mt[i].dr;
				h->cr = mt[i].cr;
				h->amount = r[i].amount;
				h->pending = true;
			}
			free((void *)x[i].idem_key);
		}
		if (n > 1 && failed < n)
			chains_undone++;
		else if (n > 1)
			chains_ok++;
		for (int i = 0; i < M_ACCS; i++) {
			struct anfu_ledger_account a = get(t, m.a[i].id);

			if (a.debits_pending != m.a[i].dp || a.debits_posted != m.a[i].dpo ||
			    a.credits_pending != m.a[i].cp || a.credits_posted != m.a[i].cpo)
				fail_msg("seed %" PRIu64 " request %d: account %d differs from the "
					 "model",
					 seed, q, i);
		}
	}
	fprintf(stderr,
		"applied %d transfers, %d holds, %d posts, %d voids; %d refusals; chains %d "
		"applied, %d undone\n",
		applied[0], applied[1], applied[2], applied[3], refusals, chains_ok, chains_undone);
	for (int k = 0; k < 4; k++)
		assert_true(applied[k] > 10);
	assert_true(refusals > 10 && chains_ok > 10 && chains_undone > 10);
	chain_verifies(t);
}

/* Every case runs on SQLite and, named "pg:<test>", on PostgreSQL
 * (ANFU_TEST_PG_DSN; skipped, saying so, without it). T0 cases open their
 * fixture themselves, in the mode their setup chose. */
#define T(fn)                                           \
	{ #fn, fn, setup, teardown, NULL },             \
	{                                               \
		"pg:" #fn, fn, setup_pg, teardown, NULL \
	}
#define T0(fn)                                                     \
	{ #fn, fn, fixture_pg_off, NULL, NULL },                   \
	{                                                          \
		"pg:" #fn, fn, fixture_pg_on, fixture_pg_off, NULL \
	}

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_open_is_idempotent_and_flags_follow_the_kind),
		T(test_open_refuses_a_spec_that_does_not_fit_the_kind),
		T(test_transfer_posts_both_legs_and_seals_its_batch),
		T(test_debits_beyond_credits_are_refused),
		T(test_credits_beyond_debits_are_refused),
		T(test_bad_accounts_amounts_and_assets_are_refused),
		T(test_malformed_requests_are_refused_before_the_queue),
		T(test_int64_max_posts_and_an_overflow_is_refused),
		T(test_idempotency_same_and_different_content),
		T(test_idempotency_compares_every_field),
		T(test_a_refused_transfer_is_evaluated_again),
		T(test_linked_chain_failing_in_the_middle_posts_nothing),
		T(test_independent_transfers_of_a_request_stand_alone),
		T(test_a_request_moving_many_accounts_writes_every_balance),
		T(test_a_key_repeated_inside_a_request_is_answered_as_across_requests),
		T(test_post_for_less_than_the_hold_releases_the_rest),
		T(test_post_of_zero_posts_the_whole_hold),
		T(test_post_beyond_or_beside_the_hold_is_refused),
		T(test_void_releases_the_hold),
#ifdef ANFU_TEST_HOOKS
		T(test_a_hold_past_its_timeout_is_no_longer_pending),
#endif
		T(test_balancing_flags_cut_the_amount),
		T(test_frozen_and_closed_accounts_refuse_what_their_state_forbids),
#ifdef ANFU_TEST_HOOKS
		T(test_timestamps_increase_and_a_restart_continues_the_chain),
		T0(test_a_failed_batch_fails_every_caller_and_changes_nothing),
#endif
		T0(test_one_batch_where_one_command_fails_and_the_others_commit),
		T0(test_a_full_queue_refuses_at_once),
		T0(test_a_deadline_passed_in_the_queue_is_never_applied),
		T(test_concurrent_submitters_get_their_own_results),
		T0(test_concurrent_spenders_never_overdraw_one_wallet),
		T0(test_batches_hold_at_most_batch_max_transfers_and_requests_whole),
		T0(test_a_lone_caller_never_waits_for_more),
		T0(test_after_a_batch_with_company_the_writer_waits_for_more),
		T(test_property_random_commands_match_a_reference_model),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
