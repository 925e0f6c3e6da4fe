/*
 * pay/merchant: merchants' payment profiles (docs/payments.md,
 * "Merchants"): registered and changed by operators, each with its
 * merchant_pending ledger account opened on registration.
 *
 * Trusts its callers for the actor (an operator with pay.merchant.manage)
 * and for the names' text rule (the JSON decoder applied it); checks every
 * range here.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/refusal.h"
#include "base/str.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

#define COLS                                                                                  \
	"merchant_id, name_zh, name_en, fee_bps, escrow_days, state, account_id, created_ms," \
	" updated_ms"

struct found {
	struct anfu_pay_merchant *out;
	size_t cap, n;
};

static int row_fn(void *ud, const struct anfu_row *r)
{
	struct found *f = ud;
	struct anfu_pay_merchant *m;

	if (f->n >= f->cap)
		return 0;
	m = &f->out[f->n++];
	memset(m, 0, sizeof(*m));
	pay_col(r, 0, m->merchant_id, sizeof(m->merchant_id));
	pay_col(r, 1, m->name_zh, sizeof(m->name_zh));
	pay_col(r, 2, m->name_en, sizeof(m->name_en));
	m->fee_bps = anfu_row_int(r, 3);
	m->escrow_days = anfu_row_is_null(r, 4) ? 0 : anfu_row_int(r, 4);
	pay_col(r, 5, m->state, sizeof(m->state));
	pay_col(r, 6, m->account_id, sizeof(m->account_id));
	m->created_ms = anfu_row_int(r, 7);
	m->updated_ms = anfu_row_int(r, 8);
	return 0;
}

int anfu_pay_merchant_get(struct anfu_db *db, const char *merchant_id,
			  struct anfu_pay_merchant *ret)
{
	struct anfu_pay_merchant m;
	struct found f = { &m, 1, 0 };
	struct anfu_param v[1] = { ANFU_PS(merchant_id) };
	int r;

	if (!db || !merchant_id || !ret)
		return ANFU_EINVAL;
	r = anfu_db_exec(db, "SELECT " COLS " FROM pay_merchant WHERE merchant_id = $1", v, 1,
			 row_fn, &f, NULL);
	if (r == 0 && f.n == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		*ret = m;
	return r;
}

int anfu_pay_merchant_list(struct anfu_db *db, const char *after, struct anfu_pay_merchant *out,
			   size_t cap, size_t *ret_n)
{
	struct found f = { out, cap, 0 };
	struct anfu_param v[2] = { ANFU_PS(after ? after : ""), ANFU_PI(cap) };
	int r;

	if (!db || !out || !ret_n || cap < 1 || cap > ANFU_LIMIT_PAY_PAGE)
		return ANFU_EINVAL;
	r = anfu_db_exec(db,
			 "SELECT " COLS " FROM pay_merchant WHERE merchant_id > $1"
			 " ORDER BY merchant_id LIMIT $2",
			 v, 2, row_fn, &f, NULL);
	if (r == 0)
		*ret_n = f.n;
	return r;
}

int64_t anfu_pay_escrow_days(const struct anfu_pay *p, const struct anfu_pay_merchant *m)
{
	return m->escrow_days > 0 ? m->escrow_days : p->cfg.escrow_days_default;
}

/* The range refusals of a profile's numbers, or NULL. */
static const char *ranges(const struct anfu_pay *p, const struct anfu_pay_merchant_req *q,
			  const char **ret_field)
{
	if (q->fee_set && (q->fee_bps < 0 || q->fee_bps > 10000)) {
		*ret_field = "fee_bps";
		return ANFU_JERR_OUT_OF_RANGE;
	}
	if (q->escrow_set && q->escrow_days != 0 &&
	    (q->escrow_days < p->cfg.escrow_days_min || q->escrow_days > p->cfg.escrow_days_max)) {
		*ret_field = "escrow_days";
		return ANFU_JERR_OUT_OF_RANGE;
	}
	return NULL;
}

static json_t *merchant_json(const struct anfu_pay_merchant *m)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s}", "name_zh", m->name_zh, "name_en", m->name_en,
			 "fee_bps", (json_int_t)m->fee_bps, "escrow_days",
			 (json_int_t)m->escrow_days, "state", m->state);
}

struct write_cmd {
	const struct anfu_pay_merchant *old; /* NULL: create */
	const struct anfu_pay_merchant *m;
	bool exists; /* create: a profile was there first */
};

static int create_fn(struct anfu_tx *tx, void *ud)
{
	struct write_cmd *c = ud;
	const struct anfu_pay_merchant *m = c->m;
	struct anfu_param v[8] = { ANFU_PS(m->merchant_id), ANFU_PS(m->name_zh),
				   ANFU_PS(m->name_en),	    ANFU_PI(m->fee_bps),
				   ANFU_PI(m->escrow_days), ANFU_PS(m->account_id),
				   ANFU_PI(m->created_ms),  ANFU_PS(m->state) };
	int64_t changes = 0;
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "INSERT INTO pay_merchant (merchant_id, name_zh, name_en, fee_bps,"
			     " escrow_days, state, account_id, created_ms, updated_ms)"
			     " VALUES ($1, $2, $3, $4, CASE WHEN $5 = 0 THEN NULL ELSE $5 END, $8,"
			     " $6, $7, $7) ON CONFLICT (merchant_id) DO NOTHING",
			     v, 8, NULL, NULL, &changes);

	if (r == 0 && changes != 1) {
		c->exists = true;
		return ANFU_ECONFLICT;
	}
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.merchant.created", "pay_merchant", m->merchant_id,
				  "success",
				  json_pack("{s:o, s:s}", "profile", merchant_json(m), "account",
					    m->account_id));
	return r;
}

static int update_fn(struct anfu_tx *tx, void *ud)
{
	struct write_cmd *c = ud;
	const struct anfu_pay_merchant *m = c->m;
	struct anfu_param v[7] = { ANFU_PS(m->merchant_id), ANFU_PS(m->name_zh),
				   ANFU_PS(m->name_en),	    ANFU_PI(m->fee_bps),
				   ANFU_PI(m->escrow_days), ANFU_PS(m->state),
				   ANFU_PI(m->updated_ms) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE pay_merchant SET name_zh = $2, name_en = $3, fee_bps = $4,"
			     " escrow_days = CASE WHEN $5 = 0 THEN NULL ELSE $5 END, state = $6,"
			     " updated_ms = $7 WHERE merchant_id = $1",
			     v, 7, NULL, NULL, NULL);

	if (r == 0)
		r = anfu_tx_audit(tx, "pay.merchant.updated", "pay_merchant", m->merchant_id,
				  "success",
				  json_pack("{s:o, s:o}", "old", merchant_json(c->old), "new",
					    merchant_json(m)));
	return r;
}

int anfu_pay_merchant_create(struct anfu_pay *p, const struct anfu_actor *actor,
			     const struct anfu_pay_merchant_req *req, struct anfu_pay_merchant *ret,
			     const char **ret_code, const char **ret_field)
{
	const struct anfu_ledger_account_spec spec = { "merchant_pending", "CNY", "merchant",
						       req ? req->merchant_id : NULL };
	struct anfu_pay_merchant m, old;
	struct anfu_ledger_account acc;
	struct write_cmd c = { NULL, &m, false };
	struct anfu_db *db = NULL;
	const char *code = NULL, *field = NULL;
	int r;

	if (!p || !actor || !req || !req->merchant_id || !req->name_zh || !req->name_en || !ret ||
	    !ret_code || !ret_field)
		return ANFU_EINVAL;
	code = ranges(p, req, &field);
	r = pay_db(p, &db);
	if (r == 0 && !code) {
		r = anfu_pay_merchant_get(db, req->merchant_id, &old);
		if (r == 0)
			code = ANFU_R_PAY_MERCHANT_EXISTS;
		else if (r == ANFU_ENOTFOUND)
			r = 0;
	}
	if (r < 0 || code) {
		if (r == 0) {
			*ret_code = code;
			*ret_field = field;
		}
		return r;
	}
	/* The account first, outside any transaction: idempotent, so a
	 * retry after a failure below finds it (ANFU_EINVAL: an owner id the
	 * ledger refuses). */
	r = anfu_ledger_open(p->ledger, actor, &spec, pay_deadline(), &acc);
	if (r < 0)
		return r;
	memset(&m, 0, sizeof(m));
	(void)anfu_strlcpy(m.merchant_id, req->merchant_id, sizeof(m.merchant_id));
	(void)anfu_strlcpy(m.name_zh, req->name_zh, sizeof(m.name_zh));
	(void)anfu_strlcpy(m.name_en, req->name_en, sizeof(m.name_en));
	m.fee_bps = req->fee_set ? req->fee_bps : p->cfg.fee_bps_default;
	m.escrow_days = req->escrow_set ? req->escrow_days : 0;
	(void)anfu_strlcpy(m.state, "active", sizeof(m.state));
	(void)anfu_strlcpy(m.account_id, acc.id, sizeof(m.account_id));
	m.created_ms = m.updated_ms = anfu_clock_now_ms();
	r = anfu_tx_run(p->tx, actor, create_fn, &c);
	if (r == ANFU_ECONFLICT && c.exists) {
		*ret_code = ANFU_R_PAY_MERCHANT_EXISTS;
		*ret_field = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	*ret_code = NULL;
	*ret_field = NULL;
	*ret = m;
	return 0;
}

int anfu_pay_merchant_update(struct anfu_pay *p, const struct anfu_actor *actor,
			     const struct anfu_pay_merchant_req *req, struct anfu_pay_merchant *ret,
			     const char **ret_code, const char **ret_field)
{
	struct anfu_pay_merchant m, old;
	struct write_cmd c = { &old, &m, false };
	struct anfu_db *db = NULL;
	const char *code = NULL, *field = NULL;
	int r;

	if (!p || !actor || !req || !req->merchant_id || !ret || !ret_code || !ret_field)
		return ANFU_EINVAL;
	if (req->state && strcmp(req->state, "active") != 0 && strcmp(req->state, "disabled") != 0)
		return ANFU_EINVAL;
	code = ranges(p, req, &field);
	r = pay_db(p, &db);
	if (r == 0 && !code) {
		r = anfu_pay_merchant_get(db, req->merchant_id, &old);
		if (r == ANFU_ENOTFOUND) {
			r = 0;
			code = ANFU_R_PAY_MERCHANT_NOT_FOUND;
		}
	}
	if (r < 0 || code) {
		if (r == 0) {
			*ret_code = code;
			*ret_field = field;
		}
		return r;
	}
	m = old;
	if (req->name_zh)
		(void)anfu_strlcpy(m.name_zh, req->name_zh, sizeof(m.name_zh));
	if (req->name_en)
		(void)anfu_strlcpy(m.name_en, req->name_en, sizeof(m.name_en));
	if (req->fee_set)
		m.fee_bps = req->fee_bps;
	if (req->escrow_set)
		m.escrow_days = req->escrow_days;
	if (req->state)
		(void)anfu_strlcpy(m.state, req->state, sizeof(m.state));
	m.updated_ms = anfu_clock_now_ms();
	r = anfu_tx_run(p->tx, actor, update_fn, &c);
	if (r < 0)
		return r;
	*ret_code = NULL;
	*ret_field = NULL;
	*ret = m;
	return 0;
}
