/*
 * tests/unit/test_ledger_state: account state changes (src/ledger/
 * account_state.c, the change table of src/ledger/states.c): every pair
 * of states, closing with a balance, with a hold and at zero, transfers
 * after a freeze and an unfreeze, the audit record, refusals that change
 * nothing, malformed changes, and that a change is written only on a
 * writer command's transaction.
 *
 * Each test gets a fresh data directory with a migrated store, the audit
 * writer and executor (FIXTURE_AUDIT) and a started ledger service.
 * "Nothing changed" is fixture_ledger_snap (every ledger row and the
 * count of ledger audit records) compared before and after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "tx/tx.h"

#include "fixture.h"

static const struct anfu_actor op = { "usr_checker", "staff", "risk_officer", "", "", "" };
static const struct anfu_actor svc = { "system", "system", "", "", "", "" };

struct lt {
	struct anfu_fixture *f;
	struct anfu_ledger_config cfg;
	struct anfu_ledger *l;
	char reserve[ANFU_ID_MAX], wallet[ANFU_ID_MAX], merchant[ANFU_ID_MAX];
};

static int64_t later(void)
{
	return anfu_clock_mono_us() / 1000 + 60000;
}

static void acc(struct lt *t, const char *kind, const char *otype, const char *owner,
		char id[ANFU_ID_MAX])
{
	const struct anfu_ledger_account_spec s = { kind, "CNY", otype, owner };
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_open(t->l, &svc, &s, later(), &a), 0);
	memcpy(id, a.id, ANFU_ID_MAX);
}

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger_state" };
	struct lt *t = calloc(1, sizeof(*t));
	struct anfu_ledger_deps d;

	assert_non_null(t);
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &t->f), 0);
	assert_int_equal(anfu_migrate(t->f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	t->cfg.batch_max = 1000;
	t->cfg.batch_wait_us = 0;
	t->cfg.queue_max = 4096;
	d.tx = t->f->tx;
	d.cfg = &t->cfg;
	d.hash = t->f->hash;
	assert_int_equal(anfu_ledger_new(&d, &t->l), 0);
	assert_int_equal(anfu_ledger_start(t->l), 0);
	acc(t, "bank_reserve", "bank", "ICBC", t->reserve);
	acc(t, "customer_wallet", "customer", "usr_a", t->wallet);
	acc(t, "merchant_pending", "merchant", "mer_a", t->merchant);
	*state = t;
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

/* Submits x; returns its refusal or NULL (applied); *res its result. */
static const char *xfer(struct lt *t, const struct anfu_ledger_transfer *x,
			struct anfu_ledger_result *res)
{
	struct anfu_ledger_result tmp;

	if (!res)
		res = &tmp;
	assert_int_equal(anfu_ledger_submit(t->l, &svc, "svc", x, 1, later(), res), 0);
	return res->code;
}

static void xfer_ok(struct lt *t, const struct anfu_ledger_transfer *x,
		    struct anfu_ledger_result *res)
{
	const char *code = xfer(t, x, res);

	if (code)
		fail_msg("transfer %s refused: %s", x->idem_key, code);
}

static void xfer_refused(struct lt *t, const struct anfu_ledger_transfer *x, const char *code)
{
	const char *got = xfer(t, x, NULL);

	if (!got || strcmp(got, code) != 0)
		fail_msg("%s: want %s, got %s", x->idem_key, code, got ? got : "(applied)");
}

/* Changes id to state to; returns the refusal or NULL (changed). */
static const char *change(struct lt *t, const char *id, const char *to, const char *reason,
			  struct anfu_ledger_state_result *res)
{
	const struct anfu_ledger_state_change c = { id, to, reason, NULL };
	struct anfu_ledger_state_result tmp;

	if (!res)
		res = &tmp;
	assert_int_equal(anfu_ledger_set_state(t->l, &op, &c, later(), res), 0);
	return res->code;
}

static void change_ok(struct lt *t, const char *id, const char *to)
{
	struct anfu_ledger_state_result res;
	const char *code = change(t, id, to, "court order 2026-17", &res);

	if (code)
		fail_msg("change to %s refused: %s", to, code);
	assert_string_equal(res.acc.state, to);
	assert_string_equal(res.acc.id, id);
}

/* The change is refused with code, and nothing changed. */
static void change_refused(struct lt *t, const char *id, const char *to, const char *code)
{
	static char before[FIXTURE_LEDGER_SNAP_MAX], after[FIXTURE_LEDGER_SNAP_MAX];
	struct anfu_ledger_state_result res;
	const char *got;

	memset(&res, 0x5a, sizeof(res));
	fixture_ledger_snap(t->f->db, before);
	got = change(t, id, to, "court order 2026-17", &res);
	if (!got || strcmp(got, code) != 0)
		fail_msg("%s -> %s: want %s, got %s", id, to, code, got ? got : "(changed)");
	fixture_ledger_snap(t->f->db, after);
	assert_string_equal(before, after);
}

static void state_is(struct lt *t, const char *id, const char *want)
{
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_account_get(t->l, id, &a), 0);
	assert_string_equal(a.state, want);
}

/* Moves the wallet (empty) from normal to state s by legal changes. */
static void reach(struct lt *t, const char *id, const char *s)
{
	if (strcmp(s, "normal") != 0)
		change_ok(t, id, s);
}

static const char *const states[] = { "normal", "frozen_debit", "frozen_credit", "frozen",
				      "closed" };
#define NSTATES (sizeof(states) / sizeof(states[0]))

/* The change table as the issue states it: between normal and the frozen
 * kinds and among those; to closed from any of them (when empty); closed
 * terminal; no change to the same state. */
static const char *want_refusal(const char *from, const char *to)
{
	if (strcmp(from, "closed") == 0)
		return ANFU_R_LEDGER_ACCOUNT_CLOSED;
	if (strcmp(from, to) == 0)
		return ANFU_R_LEDGER_ACCOUNT_STATE_INVALID;
	return NULL;
}

/* req: FUNC-ACCT-05 — every pair (from, to) of the five states: the
 * legal changes apply and land in the state asked for, each illegal one
 * is refused with its code and changes nothing. */
static void test_every_state_pair_follows_the_change_table(void **state)
{
	struct lt *t = *state;
	char owner[32];

	for (size_t i = 0; i < NSTATES; i++)
		for (size_t j = 0; j < NSTATES; j++) {
			char id[ANFU_ID_MAX];
			const char *want = want_refusal(states[i], states[j]);

			/* A fresh empty account for each pair. */
			snprintf(owner, sizeof(owner), "usr_p%zu_%zu", i, j);
			acc(t, "customer_wallet", "customer", owner, id);
			reach(t, id, states[i]);
			state_is(t, id, states[i]);
			if (want) {
				change_refused(t, id, states[j], want);
				state_is(t, id, states[i]);
			} else {
				change_ok(t, id, states[j]);
				state_is(t, id, states[j]);
			}
		}
}

/* req: FUNC-ACCT-06 — closing needs a zero balance: a wallet holding
 * money is refused (account_not_empty) in every non-closed state, and
 * nothing changes; once emptied it closes. */
static void test_close_with_a_balance_is_refused(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_transfer x = tr("fund", t->reserve, t->wallet, 100);

	x.code = "top_up";
	xfer_ok(t, &x, NULL);
	change_refused(t, t->wallet, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
	change_ok(t, t->wallet, "frozen");
	change_refused(t, t->wallet, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
	change_ok(t, t->wallet, "normal");
	/* One fen left is still a balance. */
	x = tr("out", t->wallet, t->merchant, 99);
	xfer_ok(t, &x, NULL);
	change_refused(t, t->wallet, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
	x = tr("out2", t->wallet, t->merchant, 1);
	xfer_ok(t, &x, NULL);
	change_ok(t, t->wallet, "closed");
}

/* An account whose debits exceed its credits (an asset: the reserve) is
 * not empty either: posted debits and credits must be equal. */
static void test_close_with_debits_beyond_credits_is_refused(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_transfer x = tr("fund", t->reserve, t->wallet, 5);

	x.code = "top_up";
	xfer_ok(t, &x, NULL);
	change_refused(t, t->reserve, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
	state_is(t, t->reserve, "normal");
}

/* req: FUNC-ACCT-06 — closing needs no pending hold: a hold on the
 * account (on either side) refuses the close until it is voided or
 * posted away. */
static void test_close_with_a_pending_hold_is_refused(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_transfer x = tr("fund", t->reserve, t->wallet, 10), h, v;
	struct anfu_ledger_result hr;

	x.code = "top_up";
	xfer_ok(t, &x, NULL);
	h = tr("hold", t->wallet, t->merchant, 10);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	xfer_ok(t, &h, &hr);
	/* The debit side: pending balances and the hold row. */
	change_refused(t, t->wallet, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
	/* The credit side: the merchant's credits pending. */
	change_refused(t, t->merchant, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
	v = tr("void", t->wallet, t->merchant, 0);
	v.flags = ANFU_LEDGER_TRF_VOID_PENDING;
	v.pending_id = hr.id;
	xfer_ok(t, &v, NULL);
	change_ok(t, t->merchant, "closed");
	x = tr("back", t->wallet, t->reserve, 10);
	xfer_ok(t, &x, NULL);
	change_ok(t, t->wallet, "closed");
}

/* The hold row is checked beside the balances: a pending hold row whose
 * balances were (wrongly) zeroed still refuses the close. */
static void test_close_checks_the_hold_rows_too(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_transfer x = tr("fund", t->reserve, t->wallet, 10), h;
	const struct anfu_param p[] = { ANFU_PS(t->merchant) };

	x.code = "top_up";
	xfer_ok(t, &x, NULL);
	h = tr("hold", t->wallet, t->merchant, 10);
	h.flags = ANFU_LEDGER_TRF_PENDING;
	xfer_ok(t, &h, NULL);
	assert_int_equal(anfu_db_exec(t->f->db,
				      "UPDATE ledger_account SET credits_pending = 0 WHERE id = $1",
				      p, 1, NULL, NULL, NULL),
			 0);
	change_refused(t, t->merchant, "closed", ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY);
}

/* req: FUNC-ACCT-05 — an empty account closes from any non-closed state. */
static void test_empty_account_closes_from_every_open_state(void **state)
{
	struct lt *t = *state;

	for (size_t i = 0; i + 1 < NSTATES; i++) {
		char id[ANFU_ID_MAX], owner[32];

		snprintf(owner, sizeof(owner), "usr_c%zu", i);
		acc(t, "customer_wallet", "customer", owner, id);
		reach(t, id, states[i]);
		change_ok(t, id, "closed");
		state_is(t, id, "closed");
	}
}

/* req: FUNC-ACCT-06 — after a freeze, transfers are refused in the
 * frozen direction only, and allowed again after the unfreeze. */
static void test_transfers_follow_freeze_and_unfreeze(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_transfer x = tr("fund", t->reserve, t->wallet, 100);

	x.code = "top_up";
	xfer_ok(t, &x, NULL);

	change_ok(t, t->wallet, "frozen_debit");
	x = tr("d1", t->wallet, t->merchant, 1);
	xfer_refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("c1", t->reserve, t->wallet, 1);
	xfer_ok(t, &x, NULL);

	change_ok(t, t->wallet, "frozen_credit");
	x = tr("c2", t->reserve, t->wallet, 1);
	xfer_refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("d2", t->wallet, t->merchant, 1);
	xfer_ok(t, &x, NULL);

	change_ok(t, t->wallet, "frozen");
	x = tr("d3", t->wallet, t->merchant, 1);
	xfer_refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);
	x = tr("c3", t->reserve, t->wallet, 1);
	xfer_refused(t, &x, ANFU_R_LEDGER_ACCOUNT_FROZEN);

	change_ok(t, t->wallet, "normal");
	x = tr("d4", t->wallet, t->merchant, 1);
	xfer_ok(t, &x, NULL);
	x = tr("c4", t->reserve, t->wallet, 1);
	xfer_ok(t, &x, NULL);
}

/* req: FUNC-ACCT-06 — a closed account refuses every posting. */
static void test_closed_account_refuses_transfers(void **state)
{
	struct lt *t = *state;
	struct anfu_ledger_transfer x;

	change_ok(t, t->wallet, "closed");
	x = tr("c1", t->reserve, t->wallet, 1);
	xfer_refused(t, &x, ANFU_R_LEDGER_ACCOUNT_CLOSED);
}

/* req: FUNC-ACCT-07 — every change is audited in its transaction:
 * "ledger.account.state" by the actor, with from, to, the reason and the
 * approval id when there is one. */
static void test_change_is_audited_with_its_reason(void **state)
{
	struct lt *t = *state;
	const struct anfu_ledger_state_change c = { t->wallet, "frozen", "fraud report #42",
						    "apr_0000000000000000000001" };
	struct anfu_ledger_state_result res;
	char text[FIXTURE_TEXT_MAX];
	int64_t before = fixture_count(t->f->db, "SELECT count(*) FROM audit_log", NULL);

	assert_int_equal(anfu_ledger_set_state(t->l, &op, &c, later(), &res), 0);
	assert_null(res.code);
	assert_string_equal(res.from, "normal");
	assert_int_equal(fixture_count(t->f->db, "SELECT count(*) FROM audit_log", NULL),
			 before + 1);
	fixture_text(t->f->db,
		     "SELECT action || '|' || object_type || '|' || object_id || '|' || outcome "
		     "|| '|' || actor_id FROM audit_log ORDER BY seq DESC LIMIT 1",
		     NULL, text);
	{
		char want[FIXTURE_TEXT_MAX];

		snprintf(want, sizeof(want), "ledger.account.state|ledger_account|%s|success|%s",
			 t->wallet, op.id);
		assert_string_equal(text, want);
	}
	fixture_text(t->f->db, "SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1", NULL,
		     text);
	assert_non_null(strstr(text, "\"from\":\"normal\""));
	assert_non_null(strstr(text, "\"to\":\"frozen\""));
	assert_non_null(strstr(text, "\"reason\":\"fraud report #42\""));
	assert_non_null(strstr(text, "\"approval_id\":\"apr_0000000000000000000001\""));

	/* Without an approval: no approval_id. */
	assert_null(change(t, t->wallet, "normal", "cleared", &res));
	fixture_text(t->f->db, "SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1", NULL,
		     text);
	assert_non_null(strstr(text, "\"from\":\"frozen\""));
	assert_null(strstr(text, "approval_id"));
}

/* An account that does not exist: account_not_found, nothing written. */
static void test_change_of_unknown_account_is_refused(void **state)
{
	struct lt *t = *state;

	change_refused(t, "acc_nosuchaccount000000000", "frozen", ANFU_R_LEDGER_ACCOUNT_NOT_FOUND);
}

/* Malformed changes are ANFU_EINVAL before the writer: no state name, a
 * missing, empty, multi-line or over-long reason, a NULL account; *ret
 * unwritten, nothing written. */
static void test_malformed_changes_are_invalid(void **state)
{
	struct lt *t = *state;
	static char before[FIXTURE_LEDGER_SNAP_MAX], after[FIXTURE_LEDGER_SNAP_MAX];
	char longest[ANFU_LIMIT_ADMIN_REASON + 2];
	struct anfu_ledger_state_result res, mark;
	struct {
		const char *id, *to, *reason;
	} bad[] = {
		{ t->wallet, "thawed", "x" },
		{ t->wallet, NULL, "x" },
		{ t->wallet, "frozen", NULL },
		{ t->wallet, "frozen", "" },
		{ t->wallet, "frozen", "two\nlines" },
		{ t->wallet, "frozen", "\xff\xfe" },
		{ NULL, "frozen", "x" },
		{ t->wallet, "frozen", longest },
	};

	memset(longest, 'r', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(&mark, 0x5a, sizeof(mark));
	fixture_ledger_snap(t->f->db, before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct anfu_ledger_state_change c = { bad[i].id, bad[i].to, bad[i].reason,
							    NULL };

		res = mark;
		assert_int_equal(anfu_ledger_set_state(t->l, &op, &c, later(), &res), ANFU_EINVAL);
		assert_memory_equal(&res, &mark, sizeof(res));
	}
	fixture_ledger_snap(t->f->db, after);
	assert_string_equal(before, after);
	/* The longest reason allowed is taken. */
	longest[ANFU_LIMIT_ADMIN_REASON] = '\0';
	{
		const struct anfu_ledger_state_change c = { t->wallet, "frozen", longest, NULL };

		assert_int_equal(anfu_ledger_set_state(t->l, &op, &c, later(), &res), 0);
		assert_null(res.code);
	}
}

/* A change on a transaction that is not a writer command's is refused:
 * no ledger state is written beside the writer. */
struct outside {
	const char *id;
	int r;
};

static int outside_tx(struct anfu_tx *tx, void *ud)
{
	struct outside *o = ud;
	const struct anfu_ledger_state_change c = { o->id, "frozen", "outside", NULL };
	struct anfu_ledger_state_result res;

	o->r = anfu_ledger_set_state_in(tx, &c, &res);
	return 0;
}

static void test_change_outside_the_writer_is_refused(void **state)
{
	struct lt *t = *state;
	struct outside o = { t->wallet, 0 };

	assert_int_equal(anfu_tx_run(t->f->tx, &op, outside_tx, &o), 0);
	assert_int_equal(o.r, ANFU_EINVAL);
	state_is(t, t->wallet, "normal");
}

/* anfu_ledger_run: a function's refusal undoes what it wrote; its
 * success commits with the state change it made inside. */
struct inside {
	const char *id;
	int refuse;
	struct anfu_ledger_state_result res;
};

static int inside_tx(struct anfu_tx *tx, void *ud)
{
	struct inside *in = ud;
	const struct anfu_ledger_state_change c = { in->id, "frozen", "inside", NULL };
	int r = anfu_ledger_set_state_in(tx, &c, &in->res);

	return r < 0 ? r : in->refuse;
}

static void test_run_commits_or_undoes_the_change_with_its_function(void **state)
{
	struct lt *t = *state;
	struct inside in = { t->wallet, ANFU_ECONFLICT, { 0 } };
	static char before[FIXTURE_LEDGER_SNAP_MAX], after[FIXTURE_LEDGER_SNAP_MAX];

	fixture_ledger_snap(t->f->db, before);
	assert_int_equal(anfu_ledger_run(t->l, &op, inside_tx, &in, later()), ANFU_ECONFLICT);
	fixture_ledger_snap(t->f->db, after);
	assert_string_equal(before, after);
	state_is(t, t->wallet, "normal");
	in.refuse = 0;
	assert_int_equal(anfu_ledger_run(t->l, &op, inside_tx, &in, later()), 0);
	assert_null(in.res.code);
	state_is(t, t->wallet, "frozen");
}

/* anfu_ledger_submit_in: a command's transfers commit with it, or its
 * failure undoes them with everything else it wrote; a refused transfer
 * writes nothing of itself and lets the function decide; outside a
 * command it is refused; the account is found inside the command. */
struct moves {
	struct lt *t;
	int64_t amount;
	int fail; /* returned after the transfers */
	int r;	  /* anfu_ledger_submit_in's */
	struct anfu_ledger_result res[2];
	struct anfu_ledger_account seen; /* the wallet, as the command sees it */
	const char *caller;		 /* NULL: "wallet" */
};

static int moves_tx(struct anfu_tx *tx, void *ud)
{
	struct moves *m = ud;
	const struct anfu_ledger_account_spec ws = { "customer_wallet", "CNY", "customer",
						     "usr_a" };
	struct anfu_ledger_transfer x[2] = {
		tr("in.1", m->t->reserve, m->t->wallet, m->amount),
		tr("in.2", m->t->wallet, m->t->merchant, m->amount),
	};

	x[0].flags = ANFU_LEDGER_TRF_LINKED;
	m->r = anfu_ledger_submit_in(tx, m->caller ? m->caller : "wallet", x, 2, m->res);
	if (m->r < 0)
		return m->r;
	if (anfu_ledger_account_find(m->t->l, &ws, &m->seen) < 0)
		return ANFU_EINTERNAL;
	return m->fail;
}

static int64_t posted(struct lt *t, const char *id, bool credits)
{
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_account_get(t->l, id, &a), 0);
	return credits ? a.credits_posted : a.debits_posted;
}

static void test_submit_in_commits_or_undoes_with_the_command(void **state)
{
	struct lt *t = *state;
	struct moves m = { t, 500, ANFU_ECONFLICT, 0, { { { 0 } } }, { { 0 } } };
	static char before[FIXTURE_LEDGER_SNAP_MAX], after[FIXTURE_LEDGER_SNAP_MAX];

	fixture_ledger_snap(t->f->db, before);
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m, 2, later()),
			 ANFU_ECONFLICT);
	assert_int_equal(m.r, 0);
	assert_null(m.res[0].code);
	assert_int_equal(m.seen.credits_posted, 500); /* seen inside, then undone */
	fixture_ledger_snap(t->f->db, after);
	assert_string_equal(before, after);
	m.fail = 0;
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m, 2, later()), 0);
	assert_null(m.res[0].code);
	assert_null(m.res[1].code);
	assert_int_equal(posted(t, t->wallet, true), 500);
	assert_int_equal(posted(t, t->wallet, false), 500);
	assert_int_equal(posted(t, t->merchant, true), 500);
	/* The same keys again: replays, nothing new. */
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m, 2, later()), 0);
	assert_true(m.res[0].existed && m.res[1].existed);
	assert_int_equal(posted(t, t->merchant, true), 500);
}

static void test_submit_in_refusal_is_the_functions_to_handle(void **state)
{
	struct lt *t = *state;
	struct moves m = { t, 300, 0, 0, { { { 0 } } }, { { 0 } }, "" };
	static char before[FIXTURE_LEDGER_SNAP_MAX], after[FIXTURE_LEDGER_SNAP_MAX];

	/* An empty caller is malformed: EINVAL, the command undone. */
	fixture_ledger_snap(t->f->db, before);
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m, 2, later()),
			 ANFU_EINVAL);
	fixture_ledger_snap(t->f->db, after);
	assert_string_equal(before, after);
	/* A frozen wallet refuses the chain; the function returns 0: the
	 * command commits nothing of the chain. */
	{
		struct inside in = { t->wallet, 0, { 0 } };

		assert_int_equal(anfu_ledger_run(t->l, &op, inside_tx, &in, later()), 0);
	}
	fixture_ledger_snap(t->f->db, before);
	m.caller = NULL;
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m, 2, later()), 0);
	assert_non_null(m.res[0].code);
	assert_non_null(m.res[1].code);
	assert_int_equal(posted(t, t->wallet, true), 0);
	fixture_ledger_snap(t->f->db, after);
	assert_string_equal(before, after);
}

static int submit_outside_tx(struct anfu_tx *tx, void *ud)
{
	struct lt *t = ud;
	struct anfu_ledger_transfer x = tr("out.1", t->reserve, t->wallet, 1);
	struct anfu_ledger_result res;

	return anfu_ledger_submit_in(tx, "wallet", &x, 1, &res);
}

static void test_submit_in_outside_a_command_or_overweight_is_invalid(void **state)
{
	struct lt *t = *state;
	struct moves m = { t, 1, 0, 0, { { { 0 } } }, { { 0 } } };

	assert_int_equal(anfu_tx_run(t->f->tx, &op, submit_outside_tx, t), ANFU_EINVAL);
	assert_int_equal(posted(t, t->wallet, true), 0);
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m, 0, later()),
			 ANFU_EINVAL);
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m,
						  ANFU_LIMIT_LEDGER_REQUEST + 1, later()),
			 ANFU_EINVAL);
	assert_int_equal(anfu_ledger_run_weighted(t->l, &op, moves_tx, &m,
						  ANFU_LIMIT_LEDGER_REQUEST, later()),
			 0);
	assert_int_equal(posted(t, t->wallet, true), 1);
}

/* Every case runs on SQLite and, named "pg:<test>", on PostgreSQL
 * (ANFU_TEST_PG_DSN; skipped, saying so, without it): the setup in a twin
 * per backend, which sets fixture_pg_mode first. */
static int setup_sqlite(void **state)
{
	fixture_pg_mode(false);
	return setup(state);
}

static int setup_pg(void **state)
{
	fixture_pg_mode(true);
	return setup(state);
}

#define T(fn)                                           \
	{ #fn, fn, setup_sqlite, teardown, NULL },      \
	{                                               \
		"pg:" #fn, fn, setup_pg, teardown, NULL \
	}

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_every_state_pair_follows_the_change_table),
		T(test_close_with_a_balance_is_refused),
		T(test_close_with_debits_beyond_credits_is_refused),
		T(test_close_with_a_pending_hold_is_refused),
		T(test_close_checks_the_hold_rows_too),
		T(test_empty_account_closes_from_every_open_state),
		T(test_transfers_follow_freeze_and_unfreeze),
		T(test_closed_account_refuses_transfers),
		T(test_change_is_audited_with_its_reason),
		T(test_change_of_unknown_account_is_refused),
		T(test_malformed_changes_are_invalid),
		T(test_change_outside_the_writer_is_refused),
		T(test_run_commits_or_undoes_the_change_with_its_function),
		T(test_submit_in_commits_or_undoes_with_the_command),
		T(test_submit_in_refusal_is_the_functions_to_handle),
		T(test_submit_in_outside_a_command_or_overweight_is_invalid),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, NULL, fixture_pg_group_teardown);
}
