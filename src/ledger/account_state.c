/*
 * ledger/account_state: changing an account's state (freeze, unfreeze,
 * close; docs/ledger.md "Account states and operator changes"), always as
 * a command of the single writer (ledger.c queues it: anfu_ledger_set_state,
 * anfu_ledger_run), and running a caller's function as such a command
 * (the decision of a four-eyes approval, whose executor changes the state
 * in the same transaction).
 *
 * Owns the state column of ledger_account (the balances stay account.c's
 * and transfer.c's) and the audit record "ledger.account.state". Trusts
 * the change table (states.c) for what may change to what; checks every
 * change's fields, and that a change runs on a writer command's
 * transaction (a thread-local mark set only while one runs), so that no
 * state is written beside the writer: a close that checked the balances
 * cannot race a transfer.
 */
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/str.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* The transaction of the writer command running on this thread, if any,
 * and its batch's context (the cursors its transfers move). */
static _Thread_local struct anfu_tx *writer_cmd_tx;
static _Thread_local struct ledger_batch_ctx *writer_cmd_ctx;

int ledger_call_cmd(struct anfu_tx *tx, struct ledger_batch_ctx *b, struct ledger_call *c)
{
	int r;

	writer_cmd_tx = tx;
	writer_cmd_ctx = b;
	r = c->fn(tx, c->ud);
	writer_cmd_tx = NULL;
	writer_cmd_ctx = NULL;
	return r;
}

int anfu_ledger_submit_in(struct anfu_tx *tx, const char *caller,
			  const struct anfu_ledger_transfer *t, size_t n,
			  struct anfu_ledger_result *results)
{
	if (!tx || tx != writer_cmd_tx || !writer_cmd_ctx || !results ||
	    ledger_request_check(caller, t, n) < 0)
		return ANFU_EINVAL;
	return ledger_request_apply(tx, writer_cmd_ctx, caller, t, n, results);
}

/* A reason: 1..ANFU_LIMIT_ADMIN_REASON bytes of UTF-8, one line (no
 * control characters: it is shown in one-line lists and audit views). */
static bool reason_ok(const char *s)
{
	size_t n = s ? strnlen(s, ANFU_LIMIT_ADMIN_REASON + 1) : 0;

	if (n == 0 || n > ANFU_LIMIT_ADMIN_REASON || !anfu_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int ledger_state_change_check(const struct anfu_ledger_state_change *c,
			      enum ledger_acc_state *ret_to)
{
	if (!c || !c->account_id || strnlen(c->account_id, ANFU_ID_MAX) >= ANFU_ID_MAX ||
	    !reason_ok(c->reason) ||
	    (c->approval_id && strnlen(c->approval_id, ANFU_ID_MAX) >= ANFU_ID_MAX))
		return ANFU_EINVAL;
	return ledger_acc_state_parse(c->to, ret_to);
}

const char *anfu_ledger_state_refusal(const char *from, const char *to)
{
	enum ledger_acc_state f, t;
	const char *refusal = NULL;
	bool needs_empty = false;

	if (ledger_acc_state_parse(from, &f) < 0 || ledger_acc_state_parse(to, &t) < 0)
		return ANFU_R_LEDGER_ACCOUNT_STATE_INVALID;
	if (ledger_acc_change(f, t, &needs_empty, &refusal) < 0)
		return refusal;
	return NULL;
}

/* Empty: posted debits and credits equal, nothing pending, and no
 * pending hold names the account (either side). *ret_empty. */
static int account_empty(struct anfu_db *db, const struct anfu_ledger_account *a, bool *ret_empty)
{
	const struct anfu_param p[] = { ANFU_PSN(a->id, strlen(a->id)) };
	int64_t holds = 0;
	int r;

	if (a->debits_pending != 0 || a->credits_pending != 0 ||
	    a->debits_posted != a->credits_posted) {
		*ret_empty = false;
		return 0;
	}
	r = anfu_db_query_int(db,
			      "SELECT count(*) FROM ledger_hold h JOIN ledger_transfer t ON "
			      "t.id = h.transfer_id WHERE h.state = 'pending' AND "
			      "(t.debit_account = $1 OR t.credit_account = $1)",
			      p, 1, &holds);
	if (r == 0)
		*ret_empty = holds == 0;
	return r;
}

/* The change itself on the writer's transaction: the row, its record. */
static int change_apply(struct anfu_tx *tx, const struct anfu_ledger_state_change *c,
			enum ledger_acc_state to, struct anfu_ledger_state_result *out)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_ledger_account a;
	enum ledger_acc_state from;
	bool needs_empty = false, empty = true;
	int64_t changed = 0;
	int r = ledger_account_read(db, c->account_id, &a);

	if (r == ANFU_ENOTFOUND) {
		out->code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	if (ledger_acc_state_parse(a.state, &from) < 0)
		return ANFU_ESCHEMA;
	if (ledger_acc_change(from, to, &needs_empty, &out->code) < 0)
		return 0;
	if (needs_empty) {
		r = account_empty(db, &a, &empty);
		if (r < 0)
			return r;
		if (!empty) {
			out->code = ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY;
			return 0;
		}
	}
	{
		const struct anfu_param p[] = { ANFU_PS(ledger_acc_state_name(to)),
						ANFU_PSN(a.id, strlen(a.id)), ANFU_PS(a.state) };

		r = anfu_db_exec(
			db, "UPDATE ledger_account SET state = $1 WHERE id = $2 AND state = $3", p,
			3, NULL, NULL, &changed);
	}
	if (r == 0 && changed != 1)
		r = ANFU_EINTERNAL;
	if (r == 0)
		r = anfu_tx_audit(tx, "ledger.account.state", "ledger_account", a.id, "success",
				  json_pack("{s:s, s:s, s:s, s:s*}", "from", a.state, "to",
					    ledger_acc_state_name(to), "reason", c->reason,
					    "approval_id", c->approval_id));
	if (r == 0)
		(void)anfu_strlcpy(out->from, a.state, sizeof(out->from));
	if (r == 0)
		r = ledger_account_read(db, a.id, &out->acc);
	return r;
}

int anfu_ledger_set_state_in(struct anfu_tx *tx, const struct anfu_ledger_state_change *c,
			     struct anfu_ledger_state_result *ret)
{
	struct anfu_ledger_state_result out;
	enum ledger_acc_state to;
	int r;

	if (!tx || tx != writer_cmd_tx || !ret || ledger_state_change_check(c, &to) < 0)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	r = change_apply(tx, c, to, &out);
	if (r == 0)
		*ret = out;
	return r;
}
