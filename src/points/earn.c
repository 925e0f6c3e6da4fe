/*
 * points/earn: earning points on a payment by rule (and the merchant's
 * best running campaign), and operator grants (docs/points.md "Earning").
 *
 * Owns the rows of points_earning. Runs inside a ledger writer command:
 * the caller's (anfu_points_earn_in, for the payments service) or its own
 * (anfu_points_grant). Trusts the ledger for balances and the caller for
 * its command's weight.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/refusal.h"
#include "base/str.h"
#include "points/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* Campaigns of one merchant looked at per earning: running campaigns of
 * one merchant are a handful; the best of the first 16 applies. */
#define CAMPAIGNS_MAX 16

static bool ref_ok(const char *s)
{
	size_t n = s ? strnlen(s, ANFU_LIMIT_POINTS_REF + 1) : 0;

	if (n == 0 || n > ANFU_LIMIT_POINTS_REF)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

static bool earn_ok(const struct anfu_points_earn *e)
{
	bool grant = e->points > 0;

	if (!e->customer_id || !anfu_id_valid("usr", e->customer_id, strlen(e->customer_id)) ||
	    !ref_ok(e->ref))
		return false;
	if (grant)
		return e->points <= ANFU_LIMIT_POINTS_AMOUNT && e->paid_fen == 0 && e->reason &&
		       e->reason[0] && strlen(e->reason) <= ANFU_LIMIT_ADMIN_REASON;
	return e->points == 0 && e->paid_fen >= 0 && e->paid_fen <= ANFU_LIMIT_POINTS_AMOUNT &&
	       !e->reason && (!e->merchant_id || strlen(e->merchant_id) < ANFU_ID_MAX);
}

/* An earlier earning of the same ref. */
struct prior {
	bool found;
	char id[ANFU_ID_MAX], kind[8], customer[ANFU_ID_MAX], merchant[ANFU_ID_MAX],
		campaign[ANFU_ID_MAX];
	int64_t paid_fen, points;
	char reason[ANFU_LIMIT_ADMIN_REASON + 1];
};

static int prior_row(void *ud, const struct anfu_row *row)
{
	struct prior *pr = ud;
	const char *t[6];

	for (int i = 0; i < 6; i++)
		if (!(t[i] = anfu_row_text(row, i, NULL)))
			return ANFU_ESCHEMA;
	if (anfu_strlcpy(pr->id, t[0], sizeof(pr->id)) < 0 ||
	    anfu_strlcpy(pr->kind, t[1], sizeof(pr->kind)) < 0 ||
	    anfu_strlcpy(pr->customer, t[2], sizeof(pr->customer)) < 0 ||
	    anfu_strlcpy(pr->merchant, t[3], sizeof(pr->merchant)) < 0 ||
	    anfu_strlcpy(pr->campaign, t[4], sizeof(pr->campaign)) < 0 ||
	    anfu_strlcpy(pr->reason, t[5], sizeof(pr->reason)) < 0)
		return ANFU_ESCHEMA;
	pr->paid_fen = anfu_row_int(row, 6);
	pr->points = anfu_row_int(row, 7);
	pr->found = true;
	return 0;
}

/* The same content: the same kind, customer and (earning) merchant and
 * amount paid, or (grant) points and reason. */
static bool prior_same(const struct prior *pr, const struct anfu_points_earn *e)
{
	bool grant = e->points > 0;

	if (strcmp(pr->kind, grant ? "grant" : "earn") != 0 ||
	    strcmp(pr->customer, e->customer_id) != 0)
		return false;
	if (grant)
		return pr->points == e->points && strcmp(pr->reason, e->reason) == 0;
	return pr->paid_fen == e->paid_fen &&
	       strcmp(pr->merchant, e->merchant_id ? e->merchant_id : "") == 0;
}

struct best {
	const struct anfu_points *p;
	int64_t paid_fen, points;
	char campaign[ANFU_ID_MAX];
};

/* Keeps the campaign that gives the customer most (the first on a tie). */
static int campaign_row(void *ud, const struct anfu_row *row)
{
	struct best *b = ud;
	const char *id = anfu_row_text(row, 0, NULL);
	const struct anfu_points_boost boost = { anfu_row_int(row, 1), anfu_row_int(row, 2) };
	int64_t pts;
	int r;

	if (!id)
		return ANFU_ESCHEMA;
	r = anfu_points_earned(b->paid_fen, b->p->cfg->earn_per_yuan, &boost, &pts);
	if (r < 0)
		return r;
	if (pts > b->points) {
		b->points = pts;
		if (anfu_strlcpy(b->campaign, id, sizeof(b->campaign)) < 0)
			return ANFU_ESCHEMA;
	}
	return 0;
}

static int rule_points(struct anfu_points *p, struct anfu_tx *tx, const struct anfu_points_earn *e,
		       struct best *b)
{
	int64_t now = anfu_clock_now_ms();
	int r;

	b->p = p;
	b->paid_fen = e->paid_fen;
	b->campaign[0] = '\0';
	r = anfu_points_earned(e->paid_fen, p->cfg->earn_per_yuan, NULL, &b->points);
	if (r < 0 || !e->merchant_id || !e->merchant_id[0])
		return r;
	{
		const struct anfu_param q[] = { ANFU_PS(e->merchant_id), ANFU_PI(now),
						ANFU_PI(CAMPAIGNS_MAX) };

		return anfu_db_exec(anfu_tx_db(tx),
				    "SELECT id, multiplier_pct, bonus FROM points_campaign WHERE "
				    "merchant_id = $1 AND active = 1 AND starts_ms <= $2 AND "
				    "ends_ms > $2 ORDER BY id LIMIT $3",
				    q, 3, campaign_row, b, NULL);
	}
}

static int earning_insert(struct anfu_tx *tx, const struct anfu_points_earn *e,
			  const struct anfu_points_earn_result *res, const char *trf)
{
	const struct anfu_param q[] = {
		ANFU_PS(res->id),
		ANFU_PS(e->points > 0 ? "grant" : "earn"),
		ANFU_PS(e->ref),
		ANFU_PS(e->customer_id),
		ANFU_PS(e->merchant_id ? e->merchant_id : ""),
		ANFU_PI(e->paid_fen),
		ANFU_PI(res->points),
		ANFU_PS(res->campaign_id),
		ANFU_PS(e->reason ? e->reason : ""),
		ANFU_PS(trf),
		ANFU_PI(anfu_clock_now_ms()),
	};

	return anfu_db_exec(
		anfu_tx_db(tx),
		"INSERT INTO points_earning (id, kind, ref, customer_id, merchant_id, "
		"paid_fen, points, campaign_id, reason, transfer_id, created_ms) VALUES "
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		q, 11, NULL, NULL, NULL);
}

/* The transfer, then the rows that say why: a refused transfer wrote
 * nothing, so nothing else is written either. */
static int earn_apply(struct anfu_points *p, struct anfu_tx *tx, const struct anfu_points_earn *e,
		      struct anfu_points_earn_result *res)
{
	struct anfu_ledger_account acc;
	struct anfu_ledger_result lr;
	char key[ANFU_ID_MAX + 8];
	bool grant = e->points > 0;
	int r;

	r = points_customer_account(p, e->customer_id, "customer_points", "POINTS", &acc);
	if (r == ANFU_ENOTFOUND) {
		res->code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	lr.id[0] = '\0';
	if (res->points > 0) {
		const struct anfu_ledger_transfer t = {
			.idem_key = key,
			.debit_account = p->liability,
			.credit_account = acc.id,
			.amount = res->points,
			.asset = "POINTS",
			.code = grant ? "points_grant" : "points_earn",
			.ref = e->ref,
		};

		(void)snprintf(key, sizeof(key), "earn.%s", res->id);
		r = anfu_ledger_submit_in(tx, POINTS_CALLER, &t, 1, &lr);
		if (r < 0)
			return r;
		if (lr.code) {
			res->code = lr.code;
			return 0;
		}
	}
	r = earning_insert(tx, e, res, lr.id);
	if (r == 0 && res->points > 0)
		r = points_entry_add(p, tx, e->customer_id, res->points, grant ? "grant" : "earn",
				     res->id, &res->balance);
	else if (r == 0)
		r = anfu_points_balance(p, e->customer_id, &res->balance);
	if (r == 0)
		r = anfu_tx_audit(
			tx, grant ? "points.granted" : "points.earned", "points_earning", res->id,
			"success",
			json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "customer_id", e->customer_id,
				  "ref", e->ref, "paid_fen", (json_int_t)e->paid_fen, "points",
				  (json_int_t)res->points, "campaign_id", res->campaign_id,
				  "reason", e->reason ? e->reason : ""));
	if (r == 0 && res->points > 0)
		r = points_notify(p, tx, e->customer_id, "points.earned", res->points, res->balance,
				  0);
	return r;
}

int anfu_points_earn_in(struct anfu_points *p, struct anfu_tx *tx, const struct anfu_points_earn *e,
			struct anfu_points_earn_result *ret)
{
	struct anfu_points_earn_result res = { 0 };
	struct prior pr = { 0 };
	struct best b = { 0 };
	int r;

	if (!p || !tx || !e || !ret || !earn_ok(e))
		return ANFU_EINVAL;
	{
		const struct anfu_param q[] = { ANFU_PS(e->ref) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "SELECT id, kind, customer_id, merchant_id, campaign_id, reason, "
				 "paid_fen, points FROM points_earning WHERE ref = $1",
				 q, 1, prior_row, &pr, NULL);
	}
	if (r < 0)
		return r;
	if (pr.found) {
		if (!prior_same(&pr, e)) {
			res.code = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
		} else {
			res.existed = true;
			res.points = pr.points;
			(void)anfu_strlcpy(res.id, pr.id, sizeof(res.id));
			(void)anfu_strlcpy(res.campaign_id, pr.campaign, sizeof(res.campaign_id));
			r = anfu_points_balance(p, e->customer_id, &res.balance);
			if (r < 0)
				return r;
		}
		*ret = res;
		return 0;
	}
	if (e->points > 0) {
		res.points = e->points;
	} else {
		r = rule_points(p, tx, e, &b);
		if (r < 0)
			return r;
		res.points = b.points;
		(void)anfu_strlcpy(res.campaign_id, b.campaign, sizeof(res.campaign_id));
	}
	r = anfu_id_new("pte", res.id, sizeof(res.id));
	if (r == 0)
		r = earn_apply(p, tx, e, &res);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

struct grant {
	struct anfu_points *p;
	const struct anfu_points_earn *e;
	struct anfu_points_earn_result res;
};

static int grant_fn(struct anfu_tx *tx, void *ud)
{
	struct grant *g = ud;

	return anfu_points_earn_in(g->p, tx, g->e, &g->res);
}

int anfu_points_grant(struct anfu_points *p, const struct anfu_actor *actor,
		      const struct anfu_points_earn *e, struct anfu_points_earn_result *ret)
{
	struct grant g = { .p = p, .e = e };
	int r;

	if (!p || !actor || !e || !ret || e->points <= 0 || !earn_ok(e))
		return ANFU_EINVAL;
	if (e->points > p->cfg->grant_max_points) {
		const struct anfu_points_earn_result refused = {
			.code = ANFU_R_POINTS_GRANT_TOO_LARGE
		};

		*ret = refused;
		return 0;
	}
	r = anfu_ledger_run_weighted(p->l, actor, grant_fn, &g, ANFU_POINTS_EARN_WEIGHT,
				     anfu_clock_mono_us() / 1000 + POINTS_DEADLINE_MS);
	if (r < 0)
		return r;
	*ret = g.res;
	return 0;
}
