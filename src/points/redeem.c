/*
 * points/redeem: redeeming points for a catalogue item or for wallet value,
 * and cancelling a redemption (docs/points.md "Redemption",
 * "Cancellation"; FUNC-PAY-11, -12).
 *
 * Owns the rows of points_redemption and the stock changes they make.
 * Each redemption or cancellation is ONE ledger writer command: the
 * redemption row, the points transfer (linked with the CNY transfer of a
 * value redemption), the stock, the history entry, the audit record and
 * the notice commit together; a refusal writes nothing. Trusts the
 * handlers for decoded input, the ledger for balances.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/refusal.h"
#include "base/str.h"
#include "points/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* A command's weight: two transfers and one audit record. */
#define REDEEM_WEIGHT 3

#define RED_COLS                                                                           \
	"id, customer_id, request_id, type, item_id, state, quantity, points, value_fen, " \
	"created_ms, cancelled_ms"

struct reds {
	struct anfu_points_redemption *out;
	size_t cap, n;
};

static int red_row(void *ud, const struct anfu_row *row)
{
	struct reds *l = ud;
	struct anfu_points_redemption *d;
	const char *t[6];

	if (l->n >= l->cap)
		return 1;
	d = &l->out[l->n];
	for (int i = 0; i < 6; i++)
		if (!(t[i] = anfu_row_text(row, i, NULL)))
			return ANFU_ESCHEMA;
	if (anfu_strlcpy(d->id, t[0], sizeof(d->id)) < 0 ||
	    anfu_strlcpy(d->customer_id, t[1], sizeof(d->customer_id)) < 0 ||
	    anfu_strlcpy(d->request_id, t[2], sizeof(d->request_id)) < 0 ||
	    anfu_strlcpy(d->type, t[3], sizeof(d->type)) < 0 ||
	    anfu_strlcpy(d->item_id, t[4], sizeof(d->item_id)) < 0 ||
	    anfu_strlcpy(d->state, t[5], sizeof(d->state)) < 0)
		return ANFU_ESCHEMA;
	d->quantity = anfu_row_int(row, 6);
	d->points = anfu_row_int(row, 7);
	d->value_fen = anfu_row_int(row, 8);
	d->created_ms = anfu_row_int(row, 9);
	d->cancelled_ms = anfu_row_int(row, 10);
	d->balance = 0;
	l->n++;
	return 0;
}

struct redeem_cmd {
	struct anfu_points *p;
	const struct anfu_points_redeem *in;
	struct anfu_points_redemption red;
	struct anfu_points_outcome out;
};

static bool same_request(const struct anfu_points_redemption *d,
			 const struct anfu_points_redeem *in)
{
	if (in->type == ANFU_POINTS_REDEEM_ITEM)
		return strcmp(d->type, "item") == 0 && strcmp(d->item_id, in->item_id) == 0 &&
		       d->quantity == in->quantity;
	return strcmp(d->type, "value") == 0 && d->points == in->points;
}

/* The item's price for the quantity, or the refusal. */
static int item_price(struct redeem_cmd *c, struct anfu_tx *tx)
{
	struct anfu_points_item it;
	const struct anfu_param q[] = { ANFU_PS(c->in->item_id) };
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t found = 0;
	int r;

	r = anfu_db_query_int(db, "SELECT count(*) FROM points_item WHERE id = $1", q, 1, &found);
	if (r < 0)
		return r;
	if (found == 0) {
		c->out.code = ANFU_R_POINTS_ITEM_NOT_FOUND;
		return 0;
	}
	memset(&it, 0, sizeof(it));
	r = anfu_db_query_int(db, "SELECT active FROM points_item WHERE id = $1", q, 1, &found);
	if (r == 0 && found == 0)
		c->out.code = ANFU_R_POINTS_ITEM_INACTIVE;
	if (r == 0 && !c->out.code)
		r = anfu_db_query_int(db, "SELECT stock FROM points_item WHERE id = $1", q, 1,
				      &it.stock);
	if (r == 0 && !c->out.code && it.stock < c->in->quantity)
		c->out.code = ANFU_R_POINTS_OUT_OF_STOCK;
	if (r == 0 && !c->out.code)
		r = anfu_db_query_int(db, "SELECT price FROM points_item WHERE id = $1", q, 1,
				      &it.price);
	if (r == 0 && !c->out.code &&
	    __builtin_mul_overflow(it.price, c->in->quantity, &c->red.points))
		c->out.code = ANFU_R_POINTS_AMOUNT_INVALID;
	return r;
}

static int redemption_insert(struct anfu_tx *tx, const struct anfu_points_redemption *d,
			     const char *trf)
{
	const struct anfu_param q[] = {
		ANFU_PS(d->id),		ANFU_PS(d->customer_id),
		ANFU_PS(d->request_id), ANFU_PS(d->type),
		ANFU_PS(d->item_id),	ANFU_PS(d->state),
		ANFU_PI(d->quantity),	ANFU_PI(d->points),
		ANFU_PI(d->value_fen),	ANFU_PI(d->created_ms),
		ANFU_PS(trf),
	};

	return anfu_db_exec(anfu_tx_db(tx),
			    "INSERT INTO points_redemption (" RED_COLS
			    ", transfer_id, cancel_transfer_id, cancel_reason) VALUES ($1, $2, $3, "
			    "$4, $5, $6, $7, $8, $9, $10, 0, $11, '', '')",
			    q, 11, NULL, NULL, NULL);
}

/* The stock taken (item) or given back (cancel); a stock an operator
 * lowered since the check refuses (the command is then undone). */
static int stock_move(struct anfu_tx *tx, const char *item_id, int64_t delta, bool *ret_ok)
{
	const struct anfu_param q[] = { ANFU_PS(item_id), ANFU_PI(delta),
					ANFU_PI(anfu_clock_now_ms()) };
	int64_t changes = 0;
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE points_item SET stock = stock + $2, updated_ms = $3 "
			     "WHERE id = $1 AND stock + $2 >= 0",
			     q, 3, NULL, NULL, &changes);

	if (r == 0)
		*ret_ok = changes == 1;
	return r;
}

/* The transfers of a redemption: the points, linked (value) with the
 * wallet's credit from the points fund. */
static int redeem_post(struct redeem_cmd *c, struct anfu_tx *tx, const char *points_acc,
		       const char *wallet, char trf[ANFU_ID_MAX])
{
	struct anfu_points *p = c->p;
	char k0[ANFU_ID_MAX + 16], k1[ANFU_ID_MAX + 16];
	bool value = wallet != NULL;
	struct anfu_ledger_transfer t[2] = {
		{ .idem_key = k0,
		  .debit_account = points_acc,
		  .credit_account = p->liability,
		  .amount = c->red.points,
		  .asset = "POINTS",
		  .code = "points_redeem",
		  .ref = c->red.id,
		  .flags = value ? ANFU_LEDGER_TRF_LINKED : 0 },
		{ .idem_key = k1,
		  .debit_account = p->fund,
		  .credit_account = wallet,
		  .amount = c->red.value_fen,
		  .asset = "CNY",
		  .code = "points_value",
		  .ref = c->red.id },
	};
	struct anfu_ledger_result res[2];
	int r;

	(void)snprintf(k0, sizeof(k0), "rdm.%s", c->red.id);
	(void)snprintf(k1, sizeof(k1), "rdm.%s.cny", c->red.id);
	r = anfu_ledger_submit_in(tx, POINTS_CALLER, t, value ? 2 : 1, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < (value ? 2u : 1u); i++)
		if (res[i].code) {
			const char *code = res[0].code;

			if (value && strcmp(code, ANFU_R_LEDGER_LINKED_EVENT_FAILED) == 0)
				code = res[1].code;
			else if (strcmp(code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS) == 0)
				code = ANFU_R_POINTS_INSUFFICIENT;
			c->out.code = code;
			return 0;
		}
	return anfu_strlcpy(trf, res[0].id, ANFU_ID_MAX);
}

static int redeem_write(struct redeem_cmd *c, struct anfu_tx *tx, const char *trf)
{
	bool ok = true;
	int r = 0;

	if (c->in->type == ANFU_POINTS_REDEEM_ITEM)
		r = stock_move(tx, c->red.item_id, -c->red.quantity, &ok);
	if (r == 0 && !ok) {
		c->out.code = ANFU_R_POINTS_OUT_OF_STOCK;
		return ANFU_ECONFLICT;
	}
	if (r == 0)
		r = redemption_insert(tx, &c->red, trf);
	if (r == 0)
		r = points_entry_add(c->p, tx, c->red.customer_id, -c->red.points, "redeem",
				     c->red.id, &c->red.balance);
	if (r == 0)
		r = anfu_tx_audit(tx, "points.redeemed", "points_redemption", c->red.id, "success",
				  json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "customer_id",
					    c->red.customer_id, "type", c->red.type, "item_id",
					    c->red.item_id, "quantity", (json_int_t)c->red.quantity,
					    "points", (json_int_t)c->red.points, "value_fen",
					    (json_int_t)c->red.value_fen));
	if (r == 0)
		r = points_notify(c->p, tx, c->red.customer_id, "points.redeemed", c->red.points,
				  c->red.balance, c->red.value_fen);
	return r;
}

static int redeem_fn(struct anfu_tx *tx, void *ud)
{
	struct redeem_cmd *c = ud;
	const struct anfu_points_redeem *in = c->in;
	struct anfu_ledger_account pts, wal;
	struct reds prior = { &c->red, 1, 0 };
	char trf[ANFU_ID_MAX] = "";
	int r;
	{
		const struct anfu_param q[] = { ANFU_PS(in->customer_id), ANFU_PS(in->request_id) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "SELECT " RED_COLS
				 " FROM points_redemption WHERE customer_id = $1 "
				 "AND request_id = $2",
				 q, 2, red_row, &prior, NULL);
	}
	if (r < 0)
		return r;
	if (prior.n == 1) {
		if (!same_request(&c->red, in))
			c->out.code = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
		c->out.existed = !c->out.code;
		return c->out.code ? 0
				   : anfu_points_balance(c->p, in->customer_id, &c->red.balance);
	}
	memset(&c->red, 0, sizeof(c->red));
	(void)anfu_strlcpy(c->red.customer_id, in->customer_id, sizeof(c->red.customer_id));
	(void)anfu_strlcpy(c->red.request_id, in->request_id, sizeof(c->red.request_id));
	(void)anfu_strlcpy(c->red.state, "completed", sizeof(c->red.state));
	c->red.created_ms = anfu_clock_now_ms();
	if (in->type == ANFU_POINTS_REDEEM_ITEM) {
		(void)anfu_strlcpy(c->red.type, "item", sizeof(c->red.type));
		(void)anfu_strlcpy(c->red.item_id, in->item_id, sizeof(c->red.item_id));
		c->red.quantity = in->quantity;
		r = item_price(c, tx);
	} else {
		(void)anfu_strlcpy(c->red.type, "value", sizeof(c->red.type));
		c->red.points = in->points;
		if (anfu_points_value_fen(in->points, c->p->cfg->redeem_unit_points,
					  c->p->cfg->redeem_unit_fen, &c->red.value_fen) < 0)
			c->out.code = ANFU_R_POINTS_AMOUNT_INVALID;
	}
	if (r < 0 || c->out.code)
		return r;
	r = points_customer_account(c->p, in->customer_id, "customer_points", "POINTS", &pts);
	if (r == 0 && in->type == ANFU_POINTS_REDEEM_VALUE)
		r = points_customer_account(c->p, in->customer_id, "customer_wallet", "CNY", &wal);
	if (r == ANFU_ENOTFOUND) {
		c->out.code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (r == 0)
		r = anfu_id_new("prd", c->red.id, sizeof(c->red.id));
	if (r == 0)
		r = redeem_post(c, tx, pts.id, in->type == ANFU_POINTS_REDEEM_VALUE ? wal.id : NULL,
				trf);
	if (r < 0 || c->out.code)
		return r;
	return redeem_write(c, tx, trf);
}

static bool redeem_ok(const struct anfu_points_redeem *r)
{
	size_t n = r->request_id ? strnlen(r->request_id, ANFU_LIMIT_POINTS_REQUEST_ID + 1) : 0;

	if (!r->customer_id || n == 0 || n > ANFU_LIMIT_POINTS_REQUEST_ID)
		return false;
	if (r->type == ANFU_POINTS_REDEEM_ITEM)
		return r->item_id && strlen(r->item_id) < ANFU_ID_MAX && r->quantity >= 1 &&
		       r->quantity <= ANFU_LIMIT_POINTS_QUANTITY;
	return r->type == ANFU_POINTS_REDEEM_VALUE;
}

/* Runs a command; a refusal found after writing (fn returned
 * ANFU_ECONFLICT with a code) is a decided outcome, its writes undone. */
static int run(struct anfu_points *p, const struct anfu_actor *actor, anfu_tx_fn fn, void *ud,
	       const struct anfu_points_outcome *out)
{
	int r = anfu_ledger_run_weighted(p->l, actor, fn, ud, REDEEM_WEIGHT,
					 anfu_clock_mono_us() / 1000 + POINTS_DEADLINE_MS);

	if (r == ANFU_ECONFLICT && out->code)
		return 0;
	return r;
}

int anfu_points_redeem(struct anfu_points *p, const struct anfu_actor *actor,
		       const struct anfu_points_redeem *in, struct anfu_points_redemption *ret,
		       struct anfu_points_outcome *out)
{
	struct redeem_cmd c = { .p = p, .in = in };
	int r;

	if (!p || !actor || !in || !ret || !out || !redeem_ok(in))
		return ANFU_EINVAL;
	r = run(p, actor, redeem_fn, &c, &c.out);
	if (r < 0)
		return r;
	*ret = c.red;
	*out = c.out;
	return 0;
}

struct cancel_cmd {
	struct anfu_points *p;
	const char *customer_id, *id, *reason;
	struct anfu_points_redemption red;
	struct anfu_points_outcome out;
};

/* The transfers of a cancellation: the wallet's value back to the fund
 * (value; refused when the wallet no longer holds it), linked with every
 * point back to the customer. */
static int cancel_post(struct cancel_cmd *c, struct anfu_tx *tx, const char *points_acc,
		       const char *wallet, char trf[ANFU_ID_MAX])
{
	struct anfu_points *p = c->p;
	char k0[ANFU_ID_MAX + 16], k1[ANFU_ID_MAX + 16];
	bool value = wallet != NULL;
	struct anfu_ledger_transfer t[2] = {
		{ .idem_key = k0,
		  .debit_account = wallet,
		  .credit_account = p->fund,
		  .amount = c->red.value_fen,
		  .asset = "CNY",
		  .code = "points_value_return",
		  .ref = c->red.id,
		  .flags = ANFU_LEDGER_TRF_LINKED },
		{ .idem_key = k1,
		  .debit_account = p->liability,
		  .credit_account = points_acc,
		  .amount = c->red.points,
		  .asset = "POINTS",
		  .code = "points_return",
		  .ref = c->red.id },
	};
	struct anfu_ledger_result res[2];
	const struct anfu_ledger_transfer *first = value ? &t[0] : &t[1];
	size_t n = value ? 2 : 1;
	int r;

	(void)snprintf(k0, sizeof(k0), "rdm.%s.cancel.cny", c->red.id);
	(void)snprintf(k1, sizeof(k1), "rdm.%s.cancel", c->red.id);
	r = anfu_ledger_submit_in(tx, POINTS_CALLER, first, n, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (res[i].code) {
			const char *code = res[0].code;

			if (strcmp(code, ANFU_R_LEDGER_LINKED_EVENT_FAILED) == 0 && n == 2)
				code = res[1].code;
			else if (value && strcmp(code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS) == 0)
				code = ANFU_R_POINTS_VALUE_SPENT;
			c->out.code = code;
			return 0;
		}
	return anfu_strlcpy(trf, res[n - 1].id, ANFU_ID_MAX);
}

static int cancel_write(struct cancel_cmd *c, struct anfu_tx *tx, const char *trf)
{
	const char *to = anfu_points_redemption_next(c->red.state, ANFU_POINTS_EV_CANCEL);
	const struct anfu_param q[] = { ANFU_PS(c->red.id),
					ANFU_PS(to),
					ANFU_PS(trf),
					ANFU_PS(c->reason),
					ANFU_PI(anfu_clock_now_ms()),
					ANFU_PS(c->red.state) };
	int64_t changes = 0;
	bool ok = true;
	int r = 0;

	if (strcmp(c->red.type, "item") == 0)
		r = stock_move(tx, c->red.item_id, c->red.quantity, &ok);
	if (r == 0 && !ok)
		r = ANFU_ERANGE; /* a stock beyond the schema's range: undone */
	if (r == 0)
		r = anfu_db_exec(
			anfu_tx_db(tx),
			"UPDATE points_redemption SET state = $2, cancel_transfer_id = $3, "
			"cancel_reason = $4, cancelled_ms = $5 WHERE id = $1 AND state = $6",
			q, 6, NULL, NULL, &changes);
	if (r == 0 && changes != 1)
		r = ANFU_ECONFLICT; /* the writer is the only one to change it */
	if (r < 0)
		return r;
	(void)anfu_strlcpy(c->red.state, to, sizeof(c->red.state));
	c->red.cancelled_ms = anfu_clock_now_ms();
	r = points_entry_add(c->p, tx, c->red.customer_id, c->red.points, "cancel", c->red.id,
			     &c->red.balance);
	if (r == 0)
		r = anfu_tx_audit(tx, "points.redemption_cancelled", "points_redemption", c->red.id,
				  "success",
				  json_pack("{s:s, s:s, s:I, s:I, s:s}", "customer_id",
					    c->red.customer_id, "type", c->red.type, "points",
					    (json_int_t)c->red.points, "value_fen",
					    (json_int_t)c->red.value_fen, "reason", c->reason));
	if (r == 0)
		r = points_notify(c->p, tx, c->red.customer_id, "points.cancelled", c->red.points,
				  c->red.balance, c->red.value_fen);
	return r;
}

static int cancel_fn(struct anfu_tx *tx, void *ud)
{
	struct cancel_cmd *c = ud;
	struct reds l = { &c->red, 1, 0 };
	struct anfu_ledger_account pts, wal;
	bool value;
	char trf[ANFU_ID_MAX] = "";
	int r;
	{
		const struct anfu_param q[] = { ANFU_PS(c->id),
						ANFU_PS(c->customer_id ? c->customer_id : "") };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "SELECT " RED_COLS " FROM points_redemption WHERE id = $1 AND "
				 "($2 = '' OR customer_id = $2)",
				 q, 2, red_row, &l, NULL);
	}
	if (r < 0)
		return r;
	if (l.n == 0) {
		c->out.code = ANFU_R_POINTS_REDEMPTION_NOT_FOUND;
		return 0;
	}
	if (!anfu_points_redemption_next(c->red.state, ANFU_POINTS_EV_CANCEL)) {
		c->out.code = ANFU_R_POINTS_NOT_CANCELLABLE;
		return 0;
	}
	value = strcmp(c->red.type, "value") == 0;
	r = points_customer_account(c->p, c->red.customer_id, "customer_points", "POINTS", &pts);
	if (r == 0 && value)
		r = points_customer_account(c->p, c->red.customer_id, "customer_wallet", "CNY",
					    &wal);
	if (r == ANFU_ENOTFOUND) {
		c->out.code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (r == 0)
		r = cancel_post(c, tx, pts.id, value ? wal.id : NULL, trf);
	if (r < 0 || c->out.code)
		return r;
	return cancel_write(c, tx, trf);
}

int anfu_points_cancel(struct anfu_points *p, const struct anfu_actor *actor,
		       const char *customer_id, const char *id, const char *reason,
		       struct anfu_points_redemption *ret, struct anfu_points_outcome *out)
{
	struct cancel_cmd c = { .p = p, .customer_id = customer_id, .id = id, .reason = reason };
	int r;

	if (!p || !actor || !id || !reason || !reason[0] ||
	    strlen(reason) > ANFU_LIMIT_ADMIN_REASON || !ret || !out)
		return ANFU_EINVAL;
	r = run(p, actor, cancel_fn, &c, &c.out);
	if (r < 0)
		return r;
	*ret = c.red;
	*out = c.out;
	return 0;
}

int anfu_points_redemptions(struct anfu_points *p, const char *customer_id,
			    struct anfu_points_redemption *out, size_t *ret_n)
{
	struct reds l = { out, ANFU_LIMIT_POINTS_PAGE, 0 };
	struct anfu_db *db = NULL;
	const struct anfu_param q[] = { ANFU_PS(customer_id), ANFU_PI(ANFU_LIMIT_POINTS_PAGE) };
	int r;

	if (!p || !customer_id || !out || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(p->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " RED_COLS
				 " FROM points_redemption WHERE customer_id = $1 "
				 "ORDER BY created_ms DESC, id DESC LIMIT $2",
				 q, 2, red_row, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}
