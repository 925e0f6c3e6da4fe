/*
 * tests/unit/test_ledger_fault: the ledger writer under database faults
 * (docs/ledger.md, "Failures inside a batch").
 *
 * Each case builds a fresh ledger whose writer's connection goes through
 * the fault store (tests/unit/faultstore.c), queues one batch of four
 * requests from four caller threads (a single transfer with a refused
 * neighbour, two independent transfers, a linked chain of two, the post
 * of a hold with a new hold), arms one fault (or two) at one step of the
 * batch and starts the writer. What each caller got and what the batch
 * left behind are then checked against the documented outcome of that
 * step:
 *   - the batch fails (begin, the cursors, a command's savepoint, the
 *     audit append, commit): every caller gets the error, its results
 *     unwritten, and every ledger row and ledger audit record is as
 *     before (a snapshot);
 *   - one request fails (a statement of one of its transfers, its chain's
 *     savepoint): that caller alone gets the store's error and none of
 *     its transfers stands; the others commit;
 *   - the seal fails: the batch commits unsealed, every caller gets its
 *     results, ledger_head is unchanged, and the next batch's seal covers
 *     both batches' rows.
 * Then, the fault gone, a new transfer and the four requests again: the
 * ledger works, the final balances are the same whatever failed (no
 * posting lost or doubled) and anfu_ledger_verify passes.
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
#include "base/clock.h"
#include "base/err.h"
#include "base/refusal.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "store/store.h"

#include "faultstore.h"
#include "fixture.h"

#ifdef ANFU_TEST_HOOKS

static const struct anfu_actor svc = { "system", "system", "", "", "", "" };

#define NREQ 4	  /* requests of the batch */
#define REQ_MAX 2 /* transfers of a request */
#define SNAP_MAX FIXTURE_LEDGER_SNAP_MAX

struct lf {
	struct anfu_fixture *f;
	struct anfu_ledger_config cfg;
	struct anfu_ledger *l;
	char reserve[ANFU_ID_MAX], w1[ANFU_ID_MAX], w2[ANFU_ID_MAX];
	char merchant[ANFU_ID_MAX], fee[ANFU_ID_MAX], hold[ANFU_ID_MAX];
};

struct sub {
	struct lf *t;
	const char *caller;
	struct anfu_ledger_transfer x[REQ_MAX];
	size_t n;
	struct anfu_ledger_result r[REQ_MAX];
	int rc;
};

static int64_t later(void)
{
	return anfu_clock_mono_us() / 1000 + 60000;
}

static void *submitter(void *ud)
{
	struct sub *s = ud;

	s->rc = anfu_ledger_submit(s->t->l, &svc, s->caller, s->x, s->n, later(), s->r);
	return NULL;
}

static void acc(struct lf *t, const char *kind, const char *otype, const char *owner,
		char id[ANFU_ID_MAX])
{
	const struct anfu_ledger_account_spec s = { kind, "CNY", otype, owner };
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
	x.ref = "";
	return x;
}

/* One request of caller "setup" that must apply; its first result. */
static void ok(struct lf *t, const struct anfu_ledger_transfer *x, struct anfu_ledger_result *res)
{
	struct anfu_ledger_result tmp;

	if (!res)
		res = &tmp;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "setup", x, 1, later(), res), 0);
	if (res->code)
		fail_msg("%s refused: %s", x->idem_key, res->code);
}

static int64_t count(struct lf *t, const char *sql, const char *arg)
{
	return fixture_count(t->f->db, sql, arg);
}

static void bal(struct lf *t, const char *id, int64_t dp, int64_t dpo, int64_t cp, int64_t cpo)
{
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_account_get(t->l, id, &a), 0);
	assert_int_equal(a.debits_pending, dp);
	assert_int_equal(a.debits_posted, dpo);
	assert_int_equal(a.credits_pending, cp);
	assert_int_equal(a.credits_posted, cpo);
}

/* The ledger and the audit chain verify. */
static void verifies(struct lf *t)
{
	struct anfu_ledger_verify_report rep;
	struct anfu_audit_report arep;
	int r = anfu_ledger_verify(t->f->db, t->f->hash, &rep);

	if (r != 0)
		fail_msg("verify: %s (%s)", rep.problem, anfu_strerror(r));
	r = anfu_audit_verify(t->f->db, t->f->hash, t->f->audit_pub, t->f->ckfile, NULL, &arep);
	if (r != 0)
		fail_msg("audit verify: %s (%s)", arep.problem, anfu_strerror(r));
}

/* The whole audit log: its count and head. */
static void audit_state(struct lf *t, char out[FIXTURE_TEXT_MAX])
{
	fixture_text(t->f->db,
		     "SELECT (SELECT count(*) FROM audit_log) || '|' || seq || '|' || hash "
		     "FROM audit_head",
		     NULL, out);
}

/* A new ledger service on the fixture's executor, not started. */
static void fresh_ledger(struct lf *t)
{
	struct anfu_ledger_deps d = { t->f->tx, &t->cfg, t->f->hash };

	assert_int_equal(anfu_ledger_new(&d, &t->l), 0);
}

/* The fixture, the writer's connections through the fault store, the
 * accounts, two top-ups and a pending hold of 30 from w1; then a fresh
 * writer, not started (the batch is queued before it starts). */
static struct lf *lf_open(void)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger-fault" };
	struct lf *t = calloc(1, sizeof(*t));
	struct anfu_ledger_transfer x;
	struct anfu_ledger_result res;

	assert_non_null(t);
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &t->f), 0);
	assert_int_equal(anfu_migrate(t->f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	/* This thread's connection is open already and stays plain. */
	anfu_store_set_opener(t->f->store, &faultstore_ops);
	faultstore_disarm();
	t->cfg.batch_max = 1000;
	t->cfg.batch_wait_us = 0;
	t->cfg.queue_max = 4096;
	fresh_ledger(t);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	acc(t, "bank_reserve", "bank", "ICBC", t->reserve);
	acc(t, "customer_wallet", "customer", "usr_a", t->w1);
	acc(t, "customer_wallet", "customer", "usr_b", t->w2);
	acc(t, "merchant_pending", "merchant", "mer_a", t->merchant);
	acc(t, "platform_fee", "platform", "platform", t->fee);
	x = tr("fund1", t->reserve, t->w1, 1000);
	ok(t, &x, NULL);
	x = tr("fund2", t->reserve, t->w2, 1000);
	ok(t, &x, NULL);
	x = tr("hold0", t->w1, t->merchant, 30);
	x.flags = ANFU_LEDGER_TRF_PENDING;
	ok(t, &x, &res);
	memcpy(t->hold, res.id, sizeof(t->hold));
	anfu_ledger_free(t->l);
	fresh_ledger(t);
	return t;
}

static void lf_close(struct lf *t)
{
	faultstore_disarm();
	anfu_ledger_free(t->l);
	fixture_close(t->f);
	free(t);
}

/* The batch's four requests, in queue order. */
static void requests(struct lf *t, struct sub s[NREQ])
{
	memset(s, 0, NREQ * sizeof(*s));
	for (int i = 0; i < NREQ; i++)
		s[i].t = t;
	/* c0: a transfer, and one refused beside it (insufficient funds). */
	s[0].caller = "c0";
	s[0].n = 2;
	s[0].x[0] = tr("a1", t->w1, t->merchant, 10);
	s[0].x[1] = tr("a2", t->w1, t->merchant, 1000000);
	/* c1: two independent transfers. */
	s[1].caller = "c1";
	s[1].n = 2;
	s[1].x[0] = tr("b1", t->w2, t->merchant, 5);
	s[1].x[1] = tr("b2", t->w2, t->fee, 7);
	/* c2: a linked chain of two. */
	s[2].caller = "c2";
	s[2].n = 2;
	s[2].x[0] = tr("c1", t->w1, t->fee, 3);
	s[2].x[0].flags = ANFU_LEDGER_TRF_LINKED;
	s[2].x[1] = tr("c2", t->w1, t->merchant, 4);
	/* c3: the post of the hold (all of it) and a new hold of 20. */
	s[3].caller = "c3";
	s[3].n = 2;
	s[3].x[0] = tr("d1", t->w1, t->merchant, 0);
	s[3].x[0].flags = ANFU_LEDGER_TRF_POST_PENDING;
	s[3].x[0].pending_id = t->hold;
	s[3].x[1] = tr("d2", t->w2, t->merchant, 20);
	s[3].x[1].flags = ANFU_LEDGER_TRF_PENDING;
}

/* Journal rows each request adds when it commits. */
static const int64_t rows_of[NREQ] = { 1, 2, 2, 2 };

/* What a committed request's results say. */
static void results_ok(const struct sub *s, int i)
{
	if (i == 0) {
		assert_null(s->r[0].code);
		assert_string_equal(s->r[1].code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS);
	} else {
		assert_null(s->r[0].code);
		assert_null(s->r[1].code);
		assert_true(s->r[0].seq > 0 && s->r[1].seq > s->r[0].seq);
	}
}

static void wait_queued(struct lf *t, size_t n)
{
	while (anfu_ledger_queued(t->l) < n)
		sched_yield();
}

/* ---- the cases ------------------------------------------------------------ */

enum outcome {
	BATCH_FAILS, /* every caller gets err, nothing changed */
	ONE_FAILS,   /* request req alone gets err, the others commit */
	SEAL_FAILS,  /* everything commits unsealed, every caller succeeds */
};

struct fcase {
	const char *name;
	struct fault_rule rules[FAULT_RULES_MAX];
	int nrules;
	enum outcome outcome;
	int err; /* what the failing callers get */
	int req; /* ONE_FAILS: the request */
};

#define R1(op, match, nth, e) .rules = { { op, match, nth, e, false } }, .nrules = 1

/* Statements, by a piece of their SQL. */
#define SQL_HEAD "FROM ledger_head WHERE id = 1"
#define SQL_MAXSEQ "coalesce(max(seq), 0) FROM ledger_transfer"
#define SQL_MAXTS "coalesce(max(ts_us), 0) FROM ledger_transfer"
#define SQL_IDEM "WHERE caller = $1 AND idem_key IN ("
#define SQL_ACC_READ "FROM ledger_account WHERE id IN ("
#define SQL_ACC_WRITE "UPDATE ledger_account"
#define SQL_JOURNAL "INTO ledger_transfer (seq"
#define SQL_HOLD_READ "FROM ledger_hold h JOIN ledger_transfer"
#define SQL_HOLD_NEW "INSERT INTO ledger_hold"
#define SQL_HOLD_MOVE "UPDATE ledger_hold"
#define SQL_SEAL_HASH "WHERE seq >= $1 AND seq <= $2 ORDER BY seq"
#define SQL_SEAL_BATCH "INSERT INTO ledger_batch"
#define SQL_SEAL_HEAD "UPDATE ledger_head"
#define SQL_AUDIT_HEAD "UPDATE audit_head SET seq"
#define SQL_AUDIT_ROW "INTO audit_log (seq"
#define SP_CMD "anfu_tx_cmd"
#define SP_STEP "anfu_tx_step"

/* The order of the batch's calls: begin; the cursors (savepoint, three
 * reads, release); per request a savepoint, the request's reads (one of
 * the rows of its idempotency keys, one of its accounts: #1 c0 ... #4 c3
 * each), per chain of two or more a savepoint (a lone transfer has none:
 * it is refused before it writes), per transfer the hold's read for a
 * post, the journal row (the hold's row), the chain's release
 * (rollback_to first when refused); the request's balance write (one
 * statement for every account it moved: #1 c0 ... #4 c3), the request's
 * release; the seal's savepoint, hash read, batch row, head, release; the
 * audit append; commit. */
static const struct fcase cases[] = {
	/* The batch fails. */
	{ "begin", R1(FAULT_BEGIN, NULL, 1, ANFU_EBUSY), BATCH_FAILS, ANFU_EBUSY, 0 },
	{ "cursor_head", R1(FAULT_EXEC, SQL_HEAD, 1, ANFU_EIO), BATCH_FAILS, ANFU_EIO, 0 },
	{ "cursor_max_seq", R1(FAULT_EXEC, SQL_MAXSEQ, 1, ANFU_EFULL), BATCH_FAILS, ANFU_EFULL, 0 },
	{ "cursor_max_ts", R1(FAULT_EXEC, SQL_MAXTS, 1, ANFU_EBUSY), BATCH_FAILS, ANFU_EBUSY, 0 },
	{ "cursor_savepoint", R1(FAULT_SAVEPOINT, SP_CMD, 1, ANFU_EIO), BATCH_FAILS, ANFU_EIO, 0 },
	{ "request_savepoint", R1(FAULT_SAVEPOINT, SP_CMD, 3, ANFU_EIO), BATCH_FAILS, ANFU_EIO, 0 },
	{ "request_release", R1(FAULT_RELEASE, SP_CMD, 2, ANFU_EBUSY), BATCH_FAILS, ANFU_EBUSY, 0 },
	/* c2's chain is the batch's only step savepoint (a lone transfer
	 * has none). */
	{ "chain_release", R1(FAULT_RELEASE, SP_STEP, 1, ANFU_EIO), BATCH_FAILS, ANFU_EIO, 0 },
	/* The chain's second member fails; undoing the chain fails too. */
	{ "chain_rollback_to",
	  .rules = { { FAULT_EXEC, SQL_JOURNAL, 5, ANFU_EIO, false },
		     { FAULT_ROLLBACK_TO, SP_STEP, 1, ANFU_EFULL, false } },
	  .nrules = 2, BATCH_FAILS, ANFU_EFULL, 0 },
	{ "request_rollback_to",
	  .rules = { { FAULT_EXEC, SQL_JOURNAL, 3, ANFU_EIO, false },
		     { FAULT_ROLLBACK_TO, SP_CMD, 1, ANFU_EFULL, false } },
	  .nrules = 2, BATCH_FAILS, ANFU_EFULL, 0 },
	{ "seal_savepoint", R1(FAULT_SAVEPOINT, SP_CMD, 6, ANFU_EIO), BATCH_FAILS, ANFU_EIO, 0 },
	{ "audit_head", R1(FAULT_EXEC, SQL_AUDIT_HEAD, 1, ANFU_EFULL), BATCH_FAILS, ANFU_EAUDIT,
	  0 },
	{ "audit_row", R1(FAULT_EXEC, SQL_AUDIT_ROW, 5, ANFU_EIO), BATCH_FAILS, ANFU_EAUDIT, 0 },
	{ "commit", R1(FAULT_COMMIT, NULL, 1, ANFU_EIO), BATCH_FAILS, ANFU_EIO, 0 },
	{ "commit_left_open", .rules = { { FAULT_COMMIT, NULL, 1, ANFU_EBUSY, true } }, .nrules = 1,
	  BATCH_FAILS, ANFU_EBUSY, 0 },
	{ "commit_and_rollback_left_open",
	  .rules = { { FAULT_COMMIT, NULL, 1, ANFU_EBUSY, true },
		     { FAULT_ROLLBACK, NULL, 1, ANFU_EIO, true } },
	  .nrules = 2, BATCH_FAILS, ANFU_EBUSY, 0 },
	/* One request fails. */
	{ "idempotency_lookup", R1(FAULT_EXEC, SQL_IDEM, 1, ANFU_EIO), ONE_FAILS, ANFU_EIO, 0 },
	{ "account_read", R1(FAULT_EXEC, SQL_ACC_READ, 2, ANFU_EBUSY), ONE_FAILS, ANFU_EBUSY, 1 },
	/* c2's, after two requests moved the cursors and the balances. */
	{ "account_read_of_a_chain", R1(FAULT_EXEC, SQL_ACC_READ, 3, ANFU_EIO), ONE_FAILS, ANFU_EIO,
	  2 },
	{ "idempotency_lookup_of_a_later_request", R1(FAULT_EXEC, SQL_IDEM, 4, ANFU_EFULL),
	  ONE_FAILS, ANFU_EFULL, 3 },
	{ "journal_insert", R1(FAULT_EXEC, SQL_JOURNAL, 3, ANFU_EFULL), ONE_FAILS, ANFU_EFULL, 1 },
	{ "balance_update", R1(FAULT_EXEC, SQL_ACC_WRITE, 1, ANFU_EBUSY), ONE_FAILS, ANFU_EBUSY,
	  0 },
	/* After the chain, which committed to its step. */
	{ "balance_update_after_a_chain", R1(FAULT_EXEC, SQL_ACC_WRITE, 3, ANFU_EIO), ONE_FAILS,
	  ANFU_EIO, 2 },
	{ "hold_read", R1(FAULT_EXEC, SQL_HOLD_READ, 1, ANFU_EIO), ONE_FAILS, ANFU_EIO, 3 },
	{ "hold_move", R1(FAULT_EXEC, SQL_HOLD_MOVE, 1, ANFU_EFULL), ONE_FAILS, ANFU_EFULL, 3 },
	{ "hold_insert", R1(FAULT_EXEC, SQL_HOLD_NEW, 1, ANFU_EIO), ONE_FAILS, ANFU_EIO, 3 },
	{ "chain_savepoint", R1(FAULT_SAVEPOINT, SP_STEP, 1, ANFU_EBUSY), ONE_FAILS, ANFU_EBUSY,
	  2 },
	/* The seal alone fails. */
	/* (The batch's seal hashes the rows the writer wrote from its own
	 * copy; reading them back happens only for rows a failed seal left:
	 * test_a_failed_read_back_leaves_the_rows_to_the_next_seal.) */
	{ "seal_batch_row", R1(FAULT_EXEC, SQL_SEAL_BATCH, 1, ANFU_EFULL), SEAL_FAILS, 0, 0 },
	{ "seal_head", R1(FAULT_EXEC, SQL_SEAL_HEAD, 1, ANFU_EBUSY), SEAL_FAILS, 0, 0 },
};

/* The fault's batch, one request per thread, queued before the writer
 * starts so that they run as one batch. */
static void run_faulty_batch(struct lf *t, const struct fcase *c, struct sub s[NREQ])
{
	pthread_t th[NREQ];

	requests(t, s);
	for (int i = 0; i < NREQ; i++) {
		/* Results written by nobody stay this pattern. */
		memset(s[i].r, 0x5a, sizeof(s[i].r));
		assert_int_equal(pthread_create(&th[i], NULL, submitter, &s[i]), 0);
		wait_queued(t, (size_t)i + 1);
	}
	faultstore_arm(c->rules, c->nrules);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < NREQ; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* Every rule met its call: the case tested the step it names. */
	assert_int_equal(faultstore_fired(), c->nrules);
	faultstore_disarm();
}

static void assert_unwritten(const struct sub *s)
{
	unsigned char pattern[sizeof(s->r)];

	memset(pattern, 0x5a, sizeof(pattern));
	assert_memory_equal(s->r, pattern, sizeof(pattern));
}

static const int64_t ROWS_BEFORE = 3; /* two top-ups and the hold */

/* req: TX-ATOM-01 — a database failure at any step of a batch leaves no
 * half-applied posting: either the batch or the one request the failure
 * hit is undone whole, every caller it hit gets an error (never a false
 * success, its results unwritten), the others' postings stand, and after
 * retries every posting is there exactly once.
 * req: TX-INT-01 — a batch whose seal failed is covered by the next
 * seal: the hash chain skips no journal row and verification passes. */
static void test_fault(void **state)
{
	const struct fcase *c = *state;
	struct lf *t = lf_open();
	struct sub s[NREQ];
	static char before[SNAP_MAX], after[SNAP_MAX], head[FIXTURE_TEXT_MAX],
		head2[FIXTURE_TEXT_MAX], audit[FIXTURE_TEXT_MAX], audit2[FIXTURE_TEXT_MAX];
	int64_t batches = count(t, "SELECT count(*) FROM ledger_batch", NULL);
	int64_t rows = ROWS_BEFORE;

	fixture_ledger_snap(t->f->db, before);
	audit_state(t, audit);
	fixture_text(
		t->f->db,
		"SELECT last_transfer || '|' || last_batch || '|' || last_hash FROM ledger_head",
		NULL, head);
	run_faulty_batch(t, c, s);

	switch (c->outcome) {
	case BATCH_FAILS:
		for (int i = 0; i < NREQ; i++) {
			assert_int_equal(s[i].rc, c->err);
			assert_unwritten(&s[i]);
		}
		fixture_ledger_snap(t->f->db, after);
		assert_string_equal(before, after);
		audit_state(t, audit2);
		assert_string_equal(audit, audit2);
		break;
	case ONE_FAILS:
		for (int i = 0; i < NREQ; i++) {
			if (i == c->req) {
				assert_int_equal(s[i].rc, c->err);
				assert_unwritten(&s[i]);
				assert_int_equal(count(t,
						       "SELECT count(*) FROM ledger_transfer "
						       "WHERE caller = $1",
						       s[i].caller),
						 0);
			} else {
				assert_int_equal(s[i].rc, 0);
				results_ok(&s[i], i);
				rows += rows_of[i];
			}
		}
		/* One batch row over exactly the committed rows, no gap. */
		assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL), rows);
		assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches + 1);
		assert_int_equal(count(t, "SELECT last_transfer FROM ledger_head", NULL), rows);
		assert_int_equal(fixture_audits(t->f->db, "ledger.transfer"), rows);
		verifies(t);
		break;
	case SEAL_FAILS:
		for (int i = 0; i < NREQ; i++) {
			assert_int_equal(s[i].rc, 0);
			results_ok(&s[i], i);
			rows += rows_of[i];
		}
		assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL), rows);
		assert_int_equal(fixture_audits(t->f->db, "ledger.transfer"), rows);
		/* Committed unsealed: no batch row, the head where it was. */
		assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches);
		fixture_text(t->f->db,
			     "SELECT last_transfer || '|' || last_batch || '|' || last_hash "
			     "FROM ledger_head",
			     NULL, head2);
		assert_string_equal(head, head2);
		/* Until a batch seals them, verify names the first row no
		 * batch covers (docs/ledger.md). */
		{
			struct anfu_ledger_verify_report rep;

			assert_int_equal(anfu_ledger_verify(t->f->db, t->f->hash, &rep),
					 ANFU_ECORRUPT);
			assert_string_equal(rep.problem, "ledger_transfer seq 4 is in no batch");
		}
		break;
	}

	/* The ledger goes on: a new transfer in a batch of its own, whose
	 * seal covers every row after the head. */
	{
		struct anfu_ledger_transfer x = tr("z1", t->w2, t->fee, 1);
		struct anfu_ledger_result res;
		char arg[24];

		ok(t, &x, &res);
		rows++;
		assert_int_equal(res.seq, rows);
		snprintf(arg, sizeof(arg), "%" PRId64,
			 count(t, "SELECT max(seq) FROM ledger_batch", NULL));
		assert_int_equal(
			count(t, "SELECT last_transfer FROM ledger_batch WHERE seq = $1", arg),
			rows);
		if (c->outcome == SEAL_FAILS) {
			/* Both batches' rows under one batch row and one
			 * batch number. */
			assert_int_equal(count(t,
					       "SELECT first_transfer FROM ledger_batch "
					       "WHERE seq = $1",
					       arg),
					 ROWS_BEFORE + 1);
			assert_int_equal(count(t,
					       "SELECT count(*) FROM ledger_transfer "
					       "WHERE seq > $1 AND batch_seq = (SELECT max(seq) "
					       "FROM ledger_batch)",
					       "3"),
					 rows - ROWS_BEFORE);
		}
		verifies(t);
	}
	/* Every request again: the failed ones apply now, the committed
	 * ones answer as before (existed), none posts twice. */
	for (int i = 0; i < NREQ; i++) {
		bool committed =
			c->outcome == SEAL_FAILS || (c->outcome == ONE_FAILS && i != c->req);

		s[i].rc = -1;
		submitter(&s[i]);
		assert_int_equal(s[i].rc, 0);
		results_ok(&s[i], i);
		assert_int_equal(s[i].r[0].existed, committed);
	}
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL), ROWS_BEFORE + 8);
	assert_int_equal(fixture_audits(t->f->db, "ledger.transfer"), ROWS_BEFORE + 8);
	bal(t, t->w1, 0, 47, 0, 1000);
	bal(t, t->w2, 20, 13, 0, 1000);
	bal(t, t->merchant, 0, 0, 20, 49);
	bal(t, t->fee, 0, 0, 0, 11);
	bal(t, t->reserve, 0, 2000, 0, 0);
	verifies(t);
	lf_close(t);
}

/* A seal fails, then the service stops before another batch: the next
 * start seals the rows it left (before any request), so verify passes
 * without waiting for new traffic. */
static void test_a_restart_seals_what_a_failed_seal_left(void **state)
{
	static const struct fcase c = { "seal_head_then_restart",
					R1(FAULT_EXEC, SQL_SEAL_HEAD, 1, ANFU_EBUSY), SEAL_FAILS, 0,
					0 };
	struct lf *t = lf_open();
	struct sub s[NREQ];
	struct anfu_ledger_verify_report rep;
	int64_t batches = count(t, "SELECT count(*) FROM ledger_batch", NULL), rows;

	(void)state;
	run_faulty_batch(t, &c, s);
	for (int i = 0; i < NREQ; i++)
		assert_int_equal(s[i].rc, 0);
	rows = count(t, "SELECT count(*) FROM ledger_transfer", NULL);
	assert_int_equal(rows, ROWS_BEFORE + 7);
	assert_int_equal(anfu_ledger_verify(t->f->db, t->f->hash, &rep), ANFU_ECORRUPT);
	anfu_ledger_free(t->l);
	fresh_ledger(t);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	/* Sealed by the start itself, before any request. */
	bal(t, t->w1, 0, 47, 0, 1000);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches + 1);
	assert_int_equal(count(t, "SELECT last_transfer FROM ledger_head", NULL), rows);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL), rows);
	verifies(t);
	lf_close(t);
}

/* The rows a failed seal left are read back from the table by the next
 * batch's seal (the writer's copy holds only its own batch): when that
 * read fails too, both batches' rows stay after the head, and the seal of
 * the batch after that covers all of them; verify then passes. */
static void test_a_failed_read_back_leaves_the_rows_to_the_next_seal(void **state)
{
	static const struct fcase c = { "seal_head_then_read_back",
					R1(FAULT_EXEC, SQL_SEAL_HEAD, 1, ANFU_EBUSY), SEAL_FAILS, 0,
					0 };
	static const struct fault_rule read_back[] = { { FAULT_EXEC, SQL_SEAL_HASH, 1, ANFU_EIO,
							 false } };
	struct lf *t = lf_open();
	struct sub s[NREQ];
	struct anfu_ledger_verify_report rep;
	struct anfu_ledger_transfer x;
	int64_t batches = count(t, "SELECT count(*) FROM ledger_batch", NULL);

	(void)state;
	run_faulty_batch(t, &c, s);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_transfer", NULL), ROWS_BEFORE + 7);
	faultstore_arm(read_back, 1);
	x = tr("after1", t->w2, t->merchant, 1);
	ok(t, &x, NULL);
	assert_int_equal(faultstore_fired(), 1);
	faultstore_disarm();
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches);
	assert_int_equal(anfu_ledger_verify(t->f->db, t->f->hash, &rep), ANFU_ECORRUPT);
	x = tr("after2", t->w2, t->merchant, 1);
	ok(t, &x, NULL);
	assert_int_equal(count(t, "SELECT count(*) FROM ledger_batch", NULL), batches + 1);
	assert_int_equal(count(t, "SELECT last_transfer FROM ledger_head", NULL), ROWS_BEFORE + 9);
	bal(t, t->w2, 20, 12 + 2, 0, 1000); /* b1 5 + b2 7, then the two */
	verifies(t);
	lf_close(t);
}

/* The Halt instructions of a statement's program, the programs of the
 * triggers it fires included (EXPLAIN lists them after it), by what they
 * do on a constraint or RAISE: abort (P2 2, OE_Abort: the statement's
 * changes must be undone, so SQLite keeps a statement journal for it) or
 * fail in place (P2 3, OE_Fail). */
struct halts {
	int abort, fail;
};

static int halt_row(void *ud, const struct anfu_row *r)
{
	struct halts *h = ud;
	const char *op = anfu_row_text(r, 1, NULL);
	int64_t p2 = anfu_row_int(r, 3);

	if (op && (strcmp(op, "Halt") == 0 || strcmp(op, "HaltIfNull") == 0)) {
		h->abort += p2 == 2;
		h->fail += p2 == 3;
	}
	return 0;
}

/* The highest $N the statement names. */
static size_t params_of(const char *sql)
{
	size_t n = 0;

	for (const char *c = strchr(sql, '$'); c; c = strchr(c + 1, '$'))
		if (strtoul(c + 1, NULL, 10) > n)
			n = strtoul(c + 1, NULL, 10);
	return n;
}

/* The journal row's and the audit record's inserts, as the writer sends
 * them, and the append-only triggers they fire can only fail in place,
 * never abort: SQLite then writes them without a statement journal
 * (docs/benchmarks.md §6.11). A replacing insert is still refused
 * (test_ledger_chain, test_migrate_rowid: DATA-INT-01). */
static void test_the_appends_cannot_abort(void **state)
{
	static const char *const what[] = { SQL_JOURNAL, SQL_AUDIT_ROW };
	struct anfu_param nul[ANFU_LIMIT_SQL_PARAMS];
	struct lf *t = lf_open();

	(void)state;
	for (size_t i = 0; i < ANFU_LIMIT_SQL_PARAMS; i++)
		nul[i] = ANFU_PNULL;
	assert_int_equal(anfu_ledger_start(t->l), 0);
	for (int i = 0; i < 2; i++) {
		char sql[2048] = "", explain[2100], key[16];
		struct anfu_ledger_transfer x;
		struct halts h = { 0, 0 };

		faultstore_watch(what[i], sql, sizeof(sql));
		(void)snprintf(key, sizeof(key), "append%d", i);
		x = tr(key, t->w2, t->merchant, 1);
		ok(t, &x, NULL);
		faultstore_watch(NULL, NULL, 0);
		assert_non_null(strstr(sql, what[i]));
		(void)snprintf(explain, sizeof(explain), "EXPLAIN %s", sql);
		assert_int_equal(
			anfu_db_exec(t->f->db, explain, nul, params_of(sql), halt_row, &h, NULL),
			0);
		if (h.abort)
			fail_msg("%d aborting halts in: %s", h.abort, sql);
		/* Its key checks and its trigger's RAISE are there. */
		assert_true(h.fail >= 2);
	}
	lf_close(t);
}

#define NCASES (sizeof(cases) / sizeof(cases[0]))

int main(void)
{
	struct CMUnitTest tests[NCASES + 3];

	for (size_t i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){ cases[i].name, test_fault, NULL, NULL,
						(void *)&cases[i] };
	tests[NCASES] =
		(struct CMUnitTest)cmocka_unit_test(test_a_restart_seals_what_a_failed_seal_left);
	tests[NCASES + 1] = (struct CMUnitTest)cmocka_unit_test(
		test_a_failed_read_back_leaves_the_rows_to_the_next_seal);
	tests[NCASES + 2] = (struct CMUnitTest)cmocka_unit_test(test_the_appends_cannot_abort);
	return cmocka_run_group_tests_name("ledger_fault", tests, fixture_group_setup, NULL);
}

#else

static void test_needs_test_hooks(void **state)
{
	(void)state;
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_needs_test_hooks) };

	return cmocka_run_group_tests_name("ledger_fault", tests, NULL, NULL);
}

#endif
