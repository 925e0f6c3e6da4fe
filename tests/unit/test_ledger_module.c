/*
 * tests/unit/test_ledger_module: the ledger module's jobs (src/ledger/jobs.c):
 * hold expiry on the injectable clock, through the writer, in bounded
 * passes; the wallet pass (src/ledger/wallets.c: every customer's wallet
 * and points account); an account's history (src/ledger/history.c); and
 * its metrics (src/ledger/metrics.c).
 *
 * Each test gets a fresh data directory with a migrated store, the audit
 * writer and executor (FIXTURE_AUDIT) and a started ledger service; the
 * clock is frozen and moved, never slept on. What a run left behind is
 * read back with plain queries; "nothing changed" is a snapshot of every
 * ledger row and the count of ledger audit records.
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
#include "base/refusal.h"
#include "iam/iam.h"
#include "jobs/jobs.h"
#include "ledger/chain.h"
#include "ledger/ledger.h"
#include "store/store.h"

#include "fixture.h"

#ifdef ANFU_TEST_HOOKS

static const struct anfu_actor svc = { "svc", "system", "", "", "", "" };

struct lt {
	struct anfu_fixture *f;
	struct anfu_ledger_config cfg;
	struct anfu_ledger *l;
};

static struct lt *lt_open_with(unsigned flags, int64_t batch_max, bool start)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger_module" };
	struct lt *t = calloc(1, sizeof(*t));
	struct anfu_ledger_deps d;

	assert_non_null(t);
	assert_int_equal(fixture_open(flags, &opts, &t->f), 0);
	assert_int_equal(anfu_migrate(t->f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	t->cfg.batch_max = batch_max;
	t->cfg.batch_wait_us = 0;
	t->cfg.queue_max = 4096;
	d.tx = t->f->tx;
	d.cfg = &t->cfg;
	d.hash = t->f->hash;
	assert_int_equal(anfu_ledger_new(&d, &t->l), 0);
	if (start)
		assert_int_equal(anfu_ledger_start(t->l), 0);
	anfu_clock_freeze(1);
	return t;
}

static struct lt *lt_open(int64_t batch_max, bool start)
{
	return lt_open_with(FIXTURE_AUDIT, batch_max, start);
}

static int setup(void **state)
{
	*state = lt_open(1000, true);
	return 0;
}

/* With the identity service (its users are the customers). */
static int setup_iam(void **state)
{
	*state = lt_open_with(FIXTURE_IAM, 1000, true);
	return 0;
}

/* The service made, its writer not started (the test starts it). */
static int setup_unstarted(void **state)
{
	*state = lt_open(1000, false);
	return 0;
}

static int setup_small(void **state)
{
	*state = lt_open(10, true);
	return 0;
}

static int teardown(void **state)
{
	struct lt *t = *state;

	anfu_clock_reset();
	anfu_ledger_free(t->l);
	fixture_close(t->f);
	free(t);
	return 0;
}

static int64_t later(void)
{
	return anfu_clock_mono_us() / 1000 + 60000;
}

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
	return x;
}

static void ok(struct lt *t, const struct anfu_ledger_transfer *x, struct anfu_ledger_result *res)
{
	struct anfu_ledger_result tmp;

	if (!res)
		res = &tmp;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), res), 0);
	if (res->code)
		fail_msg("transfer %s refused: %s", x->idem_key, res->code);
}

/* A hold of amount from dr to cr, timing out after timeout_ms by
 * on_timeout; its id into id. */
static void hold(struct lt *t, const char *key, const char *dr, const char *cr, int64_t amount,
		 int64_t timeout_ms, const char *on_timeout, char id[ANFU_ID_MAX])
{
	struct anfu_ledger_transfer h = tr(key, dr, cr, amount);
	struct anfu_ledger_result r;

	h.flags = ANFU_LEDGER_TRF_PENDING;
	h.timeout_ms = timeout_ms;
	h.on_timeout = on_timeout;
	ok(t, &h, &r);
	memcpy(id, r.id, ANFU_ID_MAX);
}

static void bal(struct lt *t, const char *id, int64_t dp, int64_t dpo, int64_t cp, int64_t cpo)
{
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_account_get(t->l, id, &a), 0);
	assert_int_equal(a.debits_pending, dp);
	assert_int_equal(a.debits_posted, dpo);
	assert_int_equal(a.credits_pending, cp);
	assert_int_equal(a.credits_posted, cpo);
}

static int64_t count(struct lt *t, const char *sql, const char *arg)
{
	return fixture_count(t->f->db, sql, arg);
}

static void text(struct lt *t, const char *sql, const char *arg, char out[FIXTURE_TEXT_MAX])
{
	fixture_text(t->f->db, sql, arg, out);
}

static void hold_is(struct lt *t, const char *id, const char *want)
{
	char s[FIXTURE_TEXT_MAX];

	text(t, "SELECT state FROM ledger_hold WHERE transfer_id = $1", id, s);
	assert_string_equal(s, want);
}

/* Runs the expiry once; its report. */
static struct anfu_ledger_expiry_report expire(struct lt *t)
{
	struct anfu_ledger_expiry_report rep;

	memset(&rep, 0xff, sizeof(rep));
	assert_int_equal(anfu_ledger_expire_due(t->l, later(), &rep), 0);
	return rep;
}

#define SNAP_MAX FIXTURE_LEDGER_SNAP_MAX

/* Every ledger row and ledger audit record, as text. */
static void snap(struct lt *t, char out[SNAP_MAX])
{
	fixture_ledger_snap(t->f->db, out);
}

/* Every batch's hash recomputed and chained; the head on the last. */
static void chain_verifies(struct lt *t)
{
	int64_t n = count(t, "SELECT count(*) FROM ledger_batch", NULL), next = 1;
	char prev[65], got[65], s[FIXTURE_TEXT_MAX], arg[24];

	memset(prev, '0', 64);
	prev[64] = '\0';
	for (int64_t b = 1; b <= n; b++) {
		int64_t first, last;

		snprintf(arg, sizeof(arg), "%" PRId64, b);
		first = count(
			t, "SELECT first_transfer FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)",
			arg);
		last = count(
			t, "SELECT last_transfer FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)",
			arg);
		assert_int_equal(first, next);
		text(t, "SELECT prev_hash FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)", arg,
		     s);
		assert_string_equal(s, prev);
		assert_int_equal(ledger_batch_hash(t->f->db, t->f->hash, first, last, prev, got),
				 0);
		text(t, "SELECT hash FROM ledger_batch WHERE seq = CAST($1 AS BIGINT)", arg, s);
		assert_string_equal(s, got);
		memcpy(prev, got, sizeof(prev));
		next = last + 1;
	}
	assert_int_equal(count(t, "SELECT coalesce(max(seq), 0) FROM ledger_transfer", NULL),
			 next - 1);
	text(t, "SELECT last_hash FROM ledger_head", NULL, s);
	assert_string_equal(s, prev);
}

struct world {
	char reserve[ANFU_ID_MAX], wallet[ANFU_ID_MAX], merchant[ANFU_ID_MAX];
};

static void world(struct lt *t, struct world *w, int64_t funds)
{
	struct anfu_ledger_transfer x;

	acc(t, "bank_reserve", "CNY", "bank", "ICBC", w->reserve);
	acc(t, "customer_wallet", "CNY", "customer", "usr_a", w->wallet);
	acc(t, "merchant_pending", "CNY", "merchant", "mer_a", w->merchant);
	x = tr("fund", w->reserve, w->wallet, funds);
	x.code = "top_up";
	ok(t, &x, NULL);
}

/* The metrics' count of refusals with code (metrics section below). */
static int64_t refusals_of(struct lt *t, const char *code);

/* ---- hold expiry ---------------------------------------------------------------- */

/* req: FUNC-ACCT-10 — a hold voided on timeout gives its amount back
 * exactly at its expiry, not a millisecond before: one journal row (a
 * void of the whole hold by "ledger.expiry"), the hold 'expired' and
 * closed by it, one audit record as the system actor, the batch chained;
 * a second run finds nothing. */
static void test_a_void_on_timeout_hold_gives_its_amount_back_at_expiry(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_expiry_report rep;
	char h[ANFU_ID_MAX], s[FIXTURE_TEXT_MAX], before[SNAP_MAX], after[SNAP_MAX];
	int64_t audits;

	world(t, &w, 100);
	hold(t, "h1", w.wallet, w.merchant, 40, 60000, "void", h);
	bal(t, w.wallet, 40, 0, 0, 100);
	anfu_clock_advance_ms(59999);
	snap(t, before);
	rep = expire(t);
	assert_int_equal(rep.passes, 1);
	assert_int_equal(rep.expired, 0);
	assert_int_equal(rep.posted, 0);
	assert_int_equal(rep.refused, 0);
	snap(t, after);
	assert_string_equal(before, after);
	hold_is(t, h, "pending");

	anfu_clock_advance_ms(1);
	audits = count(t, "SELECT count(*) FROM audit_log WHERE action = 'ledger.transfer'", NULL);
	rep = expire(t);
	assert_int_equal(rep.expired, 1);
	assert_int_equal(rep.posted, 0);
	assert_int_equal(rep.refused, 0);
	hold_is(t, h, "expired");
	bal(t, w.wallet, 0, 0, 0, 100);
	bal(t, w.merchant, 0, 0, 0, 0);
	text(t, "SELECT closed_by FROM ledger_hold WHERE transfer_id = $1", h, s);
	assert_int_equal(count(t,
			       "SELECT count(*) FROM ledger_transfer WHERE id = $1 AND "
			       "caller = 'ledger.expiry' AND code = 'hold_expiry' AND amount = 40 "
			       "AND flags = 8",
			       s),
			 1);
	assert_int_equal(count(t,
			       "SELECT pending_id = $1 FROM ledger_transfer WHERE seq = "
			       "(SELECT max(seq) FROM ledger_transfer)",
			       h),
			 1);
	assert_int_equal(
		count(t, "SELECT count(*) FROM audit_log WHERE action = 'ledger.transfer'", NULL),
		audits + 1);
	assert_int_equal(count(t,
			       "SELECT count(*) FROM audit_log WHERE action = 'ledger.transfer' "
			       "AND object_id = $1 AND actor_id = 'system'",
			       s),
			 1);
	chain_verifies(t);

	snap(t, before);
	rep = expire(t);
	assert_int_equal(rep.expired + rep.posted + rep.refused, 0);
	snap(t, after);
	assert_string_equal(before, after);
}

/* req: FUNC-PAY-03 — a hold posted on timeout (an escrow's auto-release)
 * posts the whole hold to the merchant at expiry, through the job's own
 * function as the scheduler runs it. */
static void test_a_post_on_timeout_hold_posts_at_expiry(void **state)
{
	struct lt *t = *state;
	struct world w;
	char h[ANFU_ID_MAX], s[FIXTURE_TEXT_MAX];
	const char *result = NULL;

	assert_int_equal(anfu_ledger_jobs.n, 2);
	assert_string_equal(anfu_ledger_jobs.defs[0].name, "ledger.hold_expiry");
	world(t, &w, 100);
	hold(t, "h1", w.wallet, w.merchant, 40, 5000, "post", h);
	anfu_clock_advance_ms(4999);
	assert_int_equal(anfu_ledger_jobs.defs[0].fn(t->l, t->f->db, &result), 0);
	hold_is(t, h, "pending");
	anfu_clock_advance_ms(1);
	assert_int_equal(anfu_ledger_jobs.defs[0].fn(t->l, t->f->db, &result), 0);
	assert_string_equal(result, "ok");
	hold_is(t, h, "posted");
	bal(t, w.wallet, 0, 40, 0, 100);
	bal(t, w.merchant, 0, 0, 0, 40);
	text(t, "SELECT closed_by FROM ledger_hold WHERE transfer_id = $1", h, s);
	assert_int_equal(count(t,
			       "SELECT count(*) FROM ledger_transfer WHERE id = $1 AND "
			       "caller = 'ledger.expiry' AND amount = 40 AND flags = 4",
			       s),
			 1);
	chain_verifies(t);
}

/* A hold its owner posted a millisecond before its expiry is left alone
 * by the expiry: nothing written, nothing audited. */
static void test_a_hold_posted_just_before_expiry_is_left_alone(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer p;
	struct anfu_ledger_expiry_report rep;
	char h[ANFU_ID_MAX], before[SNAP_MAX], after[SNAP_MAX];

	world(t, &w, 100);
	hold(t, "h1", w.wallet, w.merchant, 40, 60000, "void", h);
	anfu_clock_advance_ms(59999);
	p = tr("p1", w.wallet, w.merchant, 25);
	p.flags = ANFU_LEDGER_TRF_POST_PENDING;
	p.pending_id = h;
	ok(t, &p, NULL);
	anfu_clock_advance_ms(1);
	snap(t, before);
	rep = expire(t);
	assert_int_equal(rep.expired + rep.posted + rep.refused, 0);
	snap(t, after);
	assert_string_equal(before, after);
	hold_is(t, h, "posted");
	bal(t, w.wallet, 0, 25, 0, 100);
}

/* Many due holds are closed in passes of at most batch_max (10 here):
 * 25 due holds take three passes; a hold without timeout and one not yet
 * due stay pending; every batch chains. */
static void test_many_holds_over_several_passes(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_expiry_report rep;
	char h[ANFU_ID_MAX], never[ANFU_ID_MAX], notyet[ANFU_ID_MAX], key[16];
	int64_t batches;

	world(t, &w, 1000);
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof(key), "h%d", i);
		hold(t, key, w.wallet, w.merchant, 2, 1000 + i, i % 5 == 0 ? "post" : "void", h);
	}
	hold(t, "never", w.wallet, w.merchant, 7, 0, NULL, never);
	hold(t, "notyet", w.wallet, w.merchant, 9, 5000, "void", notyet);
	anfu_clock_advance_ms(1024);
	batches = count(t, "SELECT count(*) FROM ledger_batch", NULL);
	rep = expire(t);
	assert_int_equal(rep.passes, 3);
	assert_int_equal(rep.expired, 20);
	assert_int_equal(rep.posted, 5);
	assert_int_equal(rep.refused, 0);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches + 3);
	assert_int_equal(
		count(t, "SELECT max(last_transfer - first_transfer + 1) FROM ledger_batch", NULL),
		10);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_hold WHERE state = 'expired'", NULL),
			 20);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_hold WHERE state = 'posted'", NULL),
			 5);
	hold_is(t, never, "pending");
	hold_is(t, notyet, "pending");
	bal(t, w.wallet, 16, 10, 0, 1000);
	bal(t, w.merchant, 0, 0, 16, 10);
	chain_verifies(t);
}

/* A post on timeout into an account frozen for credits since the hold
 * was made is refused by the transfer rules: the hold stays pending,
 * the run reports it, the other due holds of the pass are closed; once
 * the account is unfrozen the next run posts it. */
static void test_a_refused_expiry_leaves_the_hold_for_the_next_run(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_expiry_report rep;
	char h1[ANFU_ID_MAX], h2[ANFU_ID_MAX], other[ANFU_ID_MAX];
	const struct anfu_param frz[] = { ANFU_PS("frozen_credit"), ANFU_PS(w.merchant) };
	const char *result = NULL;

	world(t, &w, 100);
	acc(t, "merchant_pending", "CNY", "merchant", "mer_b", other);
	hold(t, "h1", w.wallet, w.merchant, 30, 1000, "post", h1);
	hold(t, "h2", w.wallet, other, 20, 2000, "post", h2);
	assert_int_equal(anfu_db_exec(t->f->db,
				      "UPDATE ledger_account SET state = $1 WHERE id = $2", frz, 2,
				      NULL, NULL, NULL),
			 0);
	anfu_clock_advance_ms(2000);
	assert_int_equal(anfu_ledger_jobs.defs[0].fn(t->l, t->f->db, &result), 0);
	assert_string_equal(result, "some holds refused");
	hold_is(t, h1, "pending");
	hold_is(t, h2, "posted");
	bal(t, w.merchant, 0, 0, 30, 0);
	assert_int_equal(refusals_of(t, "account_frozen"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer WHERE pending_id = $1", h1),
			 0);
	assert_int_equal(anfu_db_exec(t->f->db,
				      "UPDATE ledger_account SET state = 'normal' WHERE id = $1",
				      &frz[1], 1, NULL, NULL, NULL),
			 0);
	rep = expire(t);
	assert_int_equal(rep.posted, 1);
	assert_int_equal(rep.refused, 0);
	hold_is(t, h1, "posted");
	bal(t, w.merchant, 0, 0, 0, 30);
	bal(t, w.wallet, 0, 50, 0, 100);
	chain_verifies(t);
}

/* One pass of more due holds than a request holds (150 in a pass of up
 * to 256: requests of 64, 64 and 22 in one batch), all on the same
 * wallet: each closing moves the wallet as the closings before it left
 * it, not as the table had it before the pass. One post among them goes
 * into an account frozen for credits: it alone is refused and stays
 * pending; the others close once. */
static void test_a_pass_of_more_holds_than_a_request_closes_each_once(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_expiry_report rep;
	char h[ANFU_ID_MAX], refused[ANFU_ID_MAX], other[ANFU_ID_MAX], key[16];
	const char *op = other;
	const struct anfu_param frz[] = { ANFU_PS(op) };
	int64_t batches;

	world(t, &w, 10000);
	acc(t, "merchant_pending", "CNY", "merchant", "mer_b", other);
	for (int i = 0; i < 150; i++) {
		snprintf(key, sizeof(key), "h%d", i);
		hold(t, key, w.wallet, i == 99 ? other : w.merchant, 3, 1000 + i,
		     i % 3 == 0 ? "post" : "void", i == 99 ? refused : h);
	}
	assert_int_equal(anfu_db_exec(t->f->db,
				      "UPDATE ledger_account SET state = 'frozen_credit' "
				      "WHERE id = $1",
				      frz, 1, NULL, NULL, NULL),
			 0);
	anfu_clock_advance_ms(1149);
	batches = count(t, "SELECT count(*) FROM ledger_batch", NULL);
	rep = expire(t);
	assert_int_equal(rep.passes, 1);
	assert_int_equal(rep.posted, 49);
	assert_int_equal(rep.expired, 100);
	assert_int_equal(rep.refused, 1);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches + 1);
	assert_int_equal(count(t,
			       "SELECT count(*) FROM ledger_transfer WHERE caller = "
			       "'ledger.expiry'",
			       NULL),
			 149);
	hold_is(t, refused, "pending");
	hold_is(t, h, "expired"); /* the last: i = 149, void on timeout */
	bal(t, w.wallet, 3, 147, 0, 10000);
	bal(t, w.merchant, 0, 0, 0, 147);
	bal(t, other, 0, 0, 3, 0);
	chain_verifies(t);
}

/* ---- wallets ------------------------------------------------------------------- */

/* A user row of iam (the columns the table requires). */
static void insert_user(struct lt *t, const char *id, const char *kind)
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PS(kind) };

	assert_int_equal(
		anfu_db_exec(t->f->db,
			     "INSERT INTO iam_user (id, kind, login_kind, login_index, "
			     "login_enc, status, created_ms, created_by, lang) VALUES ($1, "
			     "$2, 'username', $1, 'x', 'active', 1, 'system', 'en')",
			     p, 2, NULL, NULL, NULL),
		0);
}

static int iam_customers(void *ud, const char *after, char (*ids)[ANFU_ID_MAX], size_t cap,
			 size_t *ret_n)
{
	return anfu_iam_user_ids(ud, ANFU_USER_CUSTOMER, after, ids, cap, ret_n);
}

/* Accounts the owner has of kind/asset. */
static int64_t accounts(struct lt *t, const char *owner, const char *kind)
{
	const struct anfu_param p[] = { ANFU_PS(owner), ANFU_PS(kind) };
	int64_t n = -1;

	assert_int_equal(
		anfu_db_query_int(t->f->db,
				  "SELECT count(*) FROM ledger_account WHERE owner_type = "
				  "'customer' AND owner_id = $1 AND kind = $2 AND state = "
				  "'normal' AND asset = CASE $2 WHEN 'customer_wallet' THEN "
				  "'CNY' ELSE 'POINTS' END",
				  p, 2, &n),
		0);
	return n;
}

/* req: FUNC-ACCT-05 — customers without accounts (from before the ledger,
 * or whose registration's call was lost) get a CNY wallet and a points
 * account from the wallet pass, in pages of WALLET_PAGE ids (260
 * customers: two pages); a customer with one of them gets the other; a
 * merchant or staff user gets none; the next pass opens nothing, each
 * account opened once, audited. */
static void test_the_wallet_pass_opens_every_customers_missing_accounts(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_wallet_report rep;
	char id[ANFU_ID_MAX];
	const struct anfu_ledger_account_spec half = { "customer_wallet", "CNY", "customer",
						       "usr_c0007" };
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_wallet_pass(t->l, later(), &rep), ANFU_EINVAL);
	assert_int_equal(anfu_ledger_set_customers(t->l, iam_customers, t->f->iam), 0);
	for (int i = 0; i < ANFU_LIMIT_LEDGER_WALLET_PAGE + 4; i++) {
		snprintf(id, sizeof(id), "usr_c%04d", i);
		insert_user(t, id, "customer");
	}
	insert_user(t, "usr_m0001", "merchant");
	insert_user(t, "usr_s0001", "staff");
	assert_int_equal(anfu_ledger_open(t->l, &svc, &half, later(), &a), 0);
	rep = (struct anfu_ledger_wallet_report){ -1, -1, -1, false };
	assert_int_equal(anfu_ledger_wallet_pass(t->l, later(), &rep), 0);
	assert_int_equal(rep.pages, 2);
	assert_int_equal(rep.customers, ANFU_LIMIT_LEDGER_WALLET_PAGE + 4);
	assert_int_equal(rep.opened, ANFU_LIMIT_LEDGER_WALLET_PAGE + 4);
	assert_true(rep.complete);
	for (int i = 0; i < ANFU_LIMIT_LEDGER_WALLET_PAGE + 4; i++) {
		snprintf(id, sizeof(id), "usr_c%04d", i);
		assert_int_equal(accounts(t, id, "customer_wallet"), 1);
		assert_int_equal(accounts(t, id, "customer_points"), 1);
	}
	assert_int_equal(
		count(t, "SELECT count(*) FROM ledger_account WHERE owner_id = $1", "usr_m0001"),
		0);
	assert_int_equal(
		count(t, "SELECT count(*) FROM ledger_account WHERE owner_id = $1", "usr_s0001"),
		0);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_account", NULL),
			 2 * (ANFU_LIMIT_LEDGER_WALLET_PAGE + 4));
	assert_int_equal(count(t,
			       "SELECT count(*) FROM audit_log WHERE action = "
			       "'ledger.account_opened'",
			       NULL),
			 2 * (ANFU_LIMIT_LEDGER_WALLET_PAGE + 4));

	/* A new customer whose registration's call was lost. */
	insert_user(t, "usr_d0001", "customer");
	assert_int_equal(anfu_ledger_wallet_pass(t->l, later(), &rep), 0);
	assert_int_equal(rep.opened, 1);
	assert_int_equal(accounts(t, "usr_d0001", "customer_wallet"), 1);
	assert_int_equal(accounts(t, "usr_d0001", "customer_points"), 1);
	assert_int_equal(anfu_ledger_wallet_pass(t->l, later(), &rep), 0);
	assert_int_equal(rep.opened, 0);
	assert_int_equal(rep.customers, ANFU_LIMIT_LEDGER_WALLET_PAGE + 5);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_account", NULL),
			 2 * (ANFU_LIMIT_LEDGER_WALLET_PAGE + 5));
}

static int told;

static void count_told(void *ud, const char *user_id, enum anfu_user_kind kind)
{
	(void)ud;
	(void)user_id;
	(void)kind;
	told++;
}

/* iam's observer list takes ANFU_LIMIT_IAM_OBSERVERS observers, refuses
 * one more (ELIMIT) and a NULL function or service (EINVAL); the user
 * id list pages by id for one kind. */
static void test_iam_observers_are_bounded_and_user_ids_page_by_kind(void **state)
{
	struct lt *t = *state;
	char ids[2][ANFU_ID_MAX];
	size_t n = 99;

	for (int i = 0; i < ANFU_LIMIT_IAM_OBSERVERS; i++)
		assert_int_equal(anfu_iam_on_registered(t->f->iam, count_told, NULL), 0);
	assert_int_equal(anfu_iam_on_registered(t->f->iam, count_told, NULL), ANFU_ELIMIT);
	assert_int_equal(anfu_iam_on_registered(t->f->iam, NULL, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_iam_on_registered(NULL, count_told, NULL), ANFU_EINVAL);
	assert_int_equal(told, 0);
	insert_user(t, "usr_b", "customer");
	insert_user(t, "usr_a", "customer");
	insert_user(t, "usr_c", "customer");
	insert_user(t, "usr_ab", "merchant");
	assert_int_equal(anfu_iam_user_ids(t->f->iam, ANFU_USER_CUSTOMER, "", ids, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "usr_a");
	assert_string_equal(ids[1], "usr_b");
	assert_int_equal(anfu_iam_user_ids(t->f->iam, ANFU_USER_CUSTOMER, "usr_b", ids, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "usr_c");
	assert_int_equal(anfu_iam_user_ids(t->f->iam, ANFU_USER_MERCHANT, "", ids, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "usr_ab");
	n = 99;
	assert_int_equal(anfu_iam_user_ids(t->f->iam, ANFU_USER_CUSTOMER, "", ids, 0, &n),
			 ANFU_EINVAL);
	assert_int_equal(n, 99);
}

/* anfu_ledger_open_wallets (what the registration's call does) opens
 * both accounts, idempotently. */
static void test_open_wallets_opens_both_accounts_once(void **state)
{
	struct lt *t = *state;

	assert_int_equal(anfu_ledger_open_wallets(t->l, "usr_x", later()), 0);
	assert_int_equal(anfu_ledger_open_wallets(t->l, "usr_x", later()), 0);
	assert_int_equal(accounts(t, "usr_x", "customer_wallet"), 1);
	assert_int_equal(accounts(t, "usr_x", "customer_points"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_account", NULL), 2);
	assert_int_equal(count(t,
			       "SELECT count(*) FROM audit_log WHERE action = "
			       "'ledger.account_opened' AND actor_id = 'system'",
			       NULL),
			 2);
}

/* ---- history ------------------------------------------------------------------- */

/* One page of the wallet's history; its entries' seqs into seqs. */
static size_t page(struct lt *t, const char *acc_id, const char *cursor, size_t limit,
		   struct anfu_ledger_entry *e, char next[ANFU_LEDGER_CURSOR_MAX])
{
	size_t n = 999;

	assert_int_equal(anfu_ledger_history(t->l, acc_id, cursor, limit, e, &n, next), 0);
	assert_true(n <= limit);
	return n;
}

/* req: FUNC-ACCT-08 — an account's transfers (either side) come newest
 * first in pages of the limit, each with its fields and the side the
 * account is on, the cursor continuing below the last row; a transfer
 * committed between two pages does not shift the next page; the last
 * page says there is none after it (also when it is exactly full). */
static void test_history_pages_newest_first_by_cursor(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_entry e[ANFU_LIMIT_LEDGER_HISTORY];
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result hr, seqs[8];
	char other[ANFU_ID_MAX], other2[ANFU_ID_MAX], next[ANFU_LEDGER_CURSOR_MAX],
		cur[ANFU_LEDGER_CURSOR_MAX], key[16];
	size_t n;

	acc(t, "customer_wallet", "CNY", "customer", "usr_o", other);
	acc(t, "bank_reserve", "CNY", "bank", "BOC", other2);
	n = page(t, other, NULL, 10, e, next);
	assert_int_equal(n, 0);
	assert_string_equal(next, "");
	world(t, &w, 100); /* seq 1: reserve -> wallet */
	seqs[0].seq = 1;
	for (int i = 1; i < 6; i++) {
		/* The wallet pays the merchant i; the unrelated reserve funds
		 * the other wallet between. */
		snprintf(key, sizeof(key), "pay%d", i);
		x = tr(key, w.wallet, w.merchant, i);
		x.ref = "ord_9";
		ok(t, &x, &seqs[i]);
		snprintf(key, sizeof(key), "noise%d", i);
		x = tr(key, other2, other, 1);
		ok(t, &x, NULL);
	}
	x = tr("hold", w.wallet, w.merchant, 10);
	x.flags = ANFU_LEDGER_TRF_PENDING;
	ok(t, &x, &hr);
	x = tr("post", w.wallet, w.merchant, 0);
	x.flags = ANFU_LEDGER_TRF_POST_PENDING;
	x.pending_id = hr.id;
	ok(t, &x, &seqs[6]);
	/* The wallet's rows: fund, pay1..pay5, hold, post: 8. */
	n = page(t, w.wallet, "", 3, e, next);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].seq, seqs[6].seq);
	assert_string_equal(e[0].id, seqs[6].id);
	assert_string_equal(e[0].pending_id, hr.id);
	assert_int_equal(e[0].amount, 10);
	assert_int_equal(e[0].flags, ANFU_LEDGER_TRF_POST_PENDING);
	assert_true(e[0].debit);
	assert_string_equal(e[1].id, hr.id);
	assert_int_equal(e[1].flags, ANFU_LEDGER_TRF_PENDING);
	assert_string_equal(e[2].id, seqs[5].id);
	assert_int_equal(e[2].amount, 5);
	assert_string_equal(e[2].code, "payment");
	assert_string_equal(e[2].ref, "ord_9");
	assert_string_equal(e[2].asset, "CNY");
	assert_string_equal(e[2].debit_account, w.wallet);
	assert_string_equal(e[2].credit_account, w.merchant);
	assert_string_equal(e[2].pending_id, "");
	assert_true(e[2].ts_us > 0 && e[2].ts_us < e[1].ts_us);
	assert_string_not_equal(next, "");
	memcpy(cur, next, sizeof(cur));
	/* Committed between the pages: on no later page. */
	x = tr("late", w.wallet, w.merchant, 1);
	ok(t, &x, NULL);
	n = page(t, w.wallet, cur, 3, e, next);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].id, seqs[4].id);
	assert_string_equal(e[1].id, seqs[3].id);
	assert_string_equal(e[2].id, seqs[2].id);
	memcpy(cur, next, sizeof(cur));
	n = page(t, w.wallet, cur, 3, e, next);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].id, seqs[1].id);
	assert_int_equal(e[1].seq, 1);
	assert_false(e[1].debit); /* the top-up credits the wallet */
	assert_string_equal(e[1].code, "top_up");
	assert_string_equal(next, "");
	/* Exactly full last page: 9 rows now, pages of 3 three times. */
	n = page(t, w.wallet, NULL, 3, e, next);
	memcpy(cur, next, sizeof(cur));
	n = page(t, w.wallet, cur, 3, e, next);
	memcpy(cur, next, sizeof(cur));
	n = page(t, w.wallet, cur, 3, e, next);
	assert_int_equal(n, 3);
	assert_int_equal(e[2].seq, 1);
	assert_string_equal(next, "");
	/* The other wallet: only its own five rows. */
	n = page(t, other, NULL, ANFU_LIMIT_LEDGER_HISTORY, e, next);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_false(e[i].debit);
}

/* A limit out of 1..HISTORY, a cursor the call did not make, NULL
 * arguments are refused; an unknown account is not found; nothing is
 * output. */
static void test_history_refuses_bad_limits_cursors_and_accounts(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_entry e[ANFU_LIMIT_LEDGER_HISTORY + 1];
	static const char *const bad[] = { "x5",  "s",	 "s0",
					   "s05", "s-1", "5",
					   "s5a", "s 5", "s99999999999999999999" };
	char next[ANFU_LEDGER_CURSOR_MAX];
	size_t n = 4242;

	world(t, &w, 100);
	memcpy(next, "keep", 5);
	assert_int_equal(anfu_ledger_history(t->l, w.wallet, NULL, 0, e, &n, next), ANFU_EINVAL);
	assert_int_equal(anfu_ledger_history(t->l, w.wallet, NULL, ANFU_LIMIT_LEDGER_HISTORY + 1, e,
					     &n, next),
			 ANFU_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (anfu_ledger_history(t->l, w.wallet, bad[i], 10, e, &n, next) != ANFU_EINVAL)
			fail_msg("cursor \"%s\" accepted", bad[i]);
	assert_int_equal(anfu_ledger_history(t->l, NULL, NULL, 10, e, &n, next), ANFU_EINVAL);
	assert_int_equal(anfu_ledger_history(t->l, w.wallet, NULL, 10, NULL, &n, next),
			 ANFU_EINVAL);
	assert_int_equal(
		anfu_ledger_history(t->l, "acc_nosuch0000000000000000", NULL, 10, e, &n, next),
		ANFU_ENOTFOUND);
	assert_int_equal(n, 4242);
	assert_string_equal(next, "keep");
	assert_int_equal(anfu_ledger_history(t->l, w.wallet, "s2", 10, e, &n, next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(anfu_ledger_history(t->l, w.wallet, "s1", 10, e, &n, next), 0);
	assert_int_equal(n, 0);
	assert_int_equal(
		anfu_ledger_history(t->l, w.wallet, NULL, ANFU_LIMIT_LEDGER_HISTORY, e, &n, next),
		0);
	assert_int_equal(n, 1);
}

/* ---- metrics ------------------------------------------------------------------- */

/* The value of the sample line that starts with "name " in the rendered
 * text (the line must be there, once). */
static int64_t sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *hit = NULL;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			if (hit)
				fail_msg("%s twice", name);
			hit = p;
		}
	if (!hit)
		fail_msg("no sample %s in:\n%s", name, text);
	return strtoll(hit + n + 1, NULL, 10);
}

static void render(struct lt *t, struct anfu_buf *b)
{
	anfu_buf_init(b, 1 << 16);
	assert_int_equal(anfu_ledger_metrics(t->l, b), 0);
	assert_int_equal(anfu_buf_appends(b, ""), 0);
	assert_non_null(b->data);
}

static int64_t refusals_of(struct lt *t, const char *code)
{
	char name[96];
	struct anfu_buf b;
	int64_t v;

	snprintf(name, sizeof(name), "anfu_ledger_refusals_total{code=\"%s\"}", code);
	render(t, &b);
	v = sample(b.data, name);
	anfu_buf_free(&b);
	return v;
}

/* The metrics count what the writer did: each batch in the size
 * histogram by its journal rows, the transfers applied, each refusal by
 * its code (a failed chain: the failing member's and linked_event_failed),
 * the batch latency observed once per batch, an empty queue. */
static void test_metrics_count_batches_transfers_and_refusals(void **state)
{
	struct lt *t = *state;
	struct world w;
	struct anfu_ledger_transfer x[3];
	struct anfu_ledger_result res[3];
	struct anfu_buf b;

	world(t, &w, 100); /* three opens and a top-up: four batches, one row */
	x[0] = tr("big", w.wallet, w.merchant, 101);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), res), 0);
	assert_string_equal(res[0].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	x[0] = tr("c1", w.wallet, w.merchant, 5);
	x[0].flags = ANFU_LEDGER_TRF_LINKED;
	x[1] = tr("c2", w.wallet, w.merchant, 0);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 2, later(), res), 0);
	assert_string_equal(res[1].code, ANFU_R_LEDGER_AMOUNT_INVALID);
	x[0] = tr("t1", w.wallet, w.merchant, 1);
	x[1] = tr("t2", w.wallet, w.merchant, 2);
	x[2] = tr("t3", w.wallet, w.merchant, 3);
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 3, later(), res), 0);
	render(t, &b);
	assert_int_equal(sample(b.data, "anfu_ledger_transfers_total"), 4);
	assert_int_equal(sample(b.data, "anfu_ledger_batches_total{outcome=\"committed\"}"), 7);
	assert_int_equal(sample(b.data, "anfu_ledger_batches_total{outcome=\"failed\"}"), 0);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_transfers_count"), 7);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_transfers_sum"), 4);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_transfers_bucket{le=\"1\"}"), 6);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_transfers_bucket{le=\"2\"}"), 6);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_transfers_bucket{le=\"5\"}"), 7);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_transfers_bucket{le=\"+Inf\"}"), 7);
	assert_int_equal(sample(b.data, "anfu_ledger_batch_duration_seconds_count{}"), 7);
	assert_int_equal(sample(b.data, "anfu_ledger_queue_depth"), 0);
	assert_int_equal(sample(b.data, "anfu_ledger_refusals_total{code=\"insufficient_funds\"}"),
			 1);
	assert_int_equal(sample(b.data, "anfu_ledger_refusals_total{code=\"amount_invalid\"}"), 1);
	assert_int_equal(sample(b.data, "anfu_ledger_refusals_total{code=\"linked_event_failed\"}"),
			 1);
	assert_int_equal(sample(b.data, "anfu_ledger_refusals_total{code=\"overflow\"}"), 0);
	assert_non_null(strstr(b.data, "# TYPE anfu_ledger_batch_transfers histogram\n"));
	assert_non_null(strstr(b.data, "# TYPE anfu_ledger_queue_depth gauge\n"));
	anfu_buf_free(&b);
}

struct waiter {
	struct lt *t;
	char dr[ANFU_ID_MAX], cr[ANFU_ID_MAX];
	int rc;
	struct anfu_ledger_result res;
};

static void *waiter(void *ud)
{
	struct waiter *w = ud;
	struct anfu_ledger_transfer x = tr("q1", w->dr, w->cr, 1);

	w->rc = anfu_ledger_submit(w->t->l, &svc, "svc", &x, 1, later(), &w->res);
	return NULL;
}

/* The queue depth gauge is the requests waiting for the writer: one
 * queued on a writer not started yet, none once it ran. */
static void test_metrics_queue_depth_counts_waiting_requests(void **state)
{
	struct lt *t = *state;
	struct waiter w;
	struct anfu_buf b;
	pthread_t th;

	memset(&w, 0, sizeof(w));
	w.t = t;
	memcpy(w.dr, "acc_nosuch00000000000000a", 26);
	memcpy(w.cr, "acc_nosuch00000000000000b", 26);
	assert_int_equal(pthread_create(&th, NULL, waiter, &w), 0);
	while (anfu_ledger_queued(t->l) < 1)
		sched_yield();
	render(t, &b);
	assert_int_equal(sample(b.data, "anfu_ledger_queue_depth"), 1);
	anfu_buf_free(&b);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_string_equal(w.res.code, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND);
	render(t, &b);
	assert_int_equal(sample(b.data, "anfu_ledger_queue_depth"), 0);
	assert_int_equal(sample(b.data, "anfu_ledger_refusals_total{code=\"account_not_found\"}"),
			 1);
	anfu_buf_free(&b);
}

/* Every case runs on SQLite and, named "pg:<test>", on PostgreSQL
 * (ANFU_TEST_PG_DSN; skipped, saying so, without it): each setup in a
 * twin per backend, which sets fixture_pg_mode first. */
#define BOTH(su)                             \
	static int su##_sqlite(void **state) \
	{                                    \
		fixture_pg_mode(false);      \
		return su(state);            \
	}                                    \
	static int su##_pg(void **state)     \
	{                                    \
		fixture_pg_mode(true);       \
		return su(state);            \
	}
BOTH(setup)
BOTH(setup_small)
BOTH(setup_iam)
BOTH(setup_unstarted)
#define TS(fn, su)                                     \
	{ #fn, fn, su##_sqlite, teardown, NULL },      \
	{                                              \
		"pg:" #fn, fn, su##_pg, teardown, NULL \
	}
#define T(fn) TS(fn, setup)

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_a_void_on_timeout_hold_gives_its_amount_back_at_expiry),
		T(test_a_post_on_timeout_hold_posts_at_expiry),
		T(test_a_hold_posted_just_before_expiry_is_left_alone),
		TS(test_many_holds_over_several_passes, setup_small),
		T(test_a_refused_expiry_leaves_the_hold_for_the_next_run),
		T(test_a_pass_of_more_holds_than_a_request_closes_each_once),
		TS(test_the_wallet_pass_opens_every_customers_missing_accounts, setup_iam),
		T(test_open_wallets_opens_both_accounts_once),
		TS(test_iam_observers_are_bounded_and_user_ids_page_by_kind, setup_iam),
		T(test_history_pages_newest_first_by_cursor),
		T(test_history_refuses_bad_limits_cursors_and_accounts),
		T(test_metrics_count_batches_transfers_and_refusals),
		TS(test_metrics_queue_depth_counts_waiting_requests, setup_unstarted),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}

#else

/* The clock cannot be moved without test hooks: nothing to run. */
static void test_needs_test_hooks(void **state)
{
	(void)state;
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_needs_test_hooks) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
