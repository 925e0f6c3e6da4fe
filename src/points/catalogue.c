/*
 * points/catalogue: the redemption catalogue and the earning campaigns,
 * managed by operators (docs/points.md "Catalogue", "Campaigns"). Each
 * change is one transaction of the executor with its audit record.
 *
 * Owns the rows of points_item and points_campaign (a redemption's stock
 * change is redeem.c's, inside its writer command). Trusts the handlers
 * for decoded, range-checked fields.
 */
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/str.h"
#include "points/internal.h"
#include "store/store.h"
#include "tx/tx.h"

#define ITEM_COLS "id, name_zh, name_en, price, stock, active, created_ms, updated_ms"
#define CAMPAIGN_COLS \
	"id, merchant_id, multiplier_pct, bonus, starts_ms, ends_ms, active, created_ms"

struct items {
	struct anfu_points_item *out;
	size_t cap, n;
};

static int item_row(void *ud, const struct anfu_row *row)
{
	struct items *l = ud;
	struct anfu_points_item *it;
	const char *id = anfu_row_text(row, 0, NULL), *zh = anfu_row_text(row, 1, NULL),
		   *en = anfu_row_text(row, 2, NULL);

	if (l->n >= l->cap)
		return 1;
	it = &l->out[l->n];
	if (!id || !zh || !en || anfu_strlcpy(it->id, id, sizeof(it->id)) < 0 ||
	    anfu_strlcpy(it->name_zh, zh, sizeof(it->name_zh)) < 0 ||
	    anfu_strlcpy(it->name_en, en, sizeof(it->name_en)) < 0)
		return ANFU_ESCHEMA;
	it->price = anfu_row_int(row, 3);
	it->stock = anfu_row_int(row, 4);
	it->active = anfu_row_int(row, 5) != 0;
	it->created_ms = anfu_row_int(row, 6);
	it->updated_ms = anfu_row_int(row, 7);
	l->n++;
	return 0;
}

static json_t *item_details(const struct anfu_points_item *it)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:b}", "name_zh", it->name_zh, "name_en",
			 it->name_en, "price", (json_int_t)it->price, "stock",
			 (json_int_t)it->stock, "active", it->active);
}

static int item_insert_tx(struct anfu_tx *tx, void *ud)
{
	const struct anfu_points_item *it = ud;
	const struct anfu_param q[] = { ANFU_PS(it->id),	ANFU_PS(it->name_zh),
					ANFU_PS(it->name_en),	ANFU_PI(it->price),
					ANFU_PI(it->stock),	ANFU_PI(it->active ? 1 : 0),
					ANFU_PI(it->created_ms) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "INSERT INTO points_item (" ITEM_COLS
			     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
			     q, 7, NULL, NULL, NULL);

	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "points.item_created", "points_item", it->id, "success",
			     item_details(it));
}

int anfu_points_item_add(struct anfu_points *p, const struct anfu_actor *actor,
			 const struct anfu_points_item *in, struct anfu_points_item *ret)
{
	struct anfu_points_item it;
	int r;

	if (!p || !actor || !in || !ret || in->price <= 0 || in->price > ANFU_LIMIT_POINTS_AMOUNT ||
	    in->stock < 0 || in->stock > ANFU_LIMIT_POINTS_AMOUNT)
		return ANFU_EINVAL;
	it = *in;
	r = anfu_id_new("pit", it.id, sizeof(it.id));
	if (r < 0)
		return r;
	it.created_ms = it.updated_ms = anfu_clock_now_ms();
	r = anfu_tx_run(p->tx, actor, item_insert_tx, &it);
	if (r < 0)
		return r;
	*ret = it;
	return 0;
}

struct item_upd {
	const char *id;
	const struct anfu_points_item_change *c;
	struct anfu_points_item it;
};

static int item_update_tx(struct anfu_tx *tx, void *ud)
{
	struct item_upd *u = ud;
	const struct anfu_points_item_change *c = u->c;
	struct items l = { &u->it, 1, 0 };
	const struct anfu_param k[] = { ANFU_PS(u->id) };
	int r = anfu_db_exec(anfu_tx_db(tx), "SELECT " ITEM_COLS " FROM points_item WHERE id = $1",
			     k, 1, item_row, &l, NULL);

	if (r < 0)
		return r;
	if (l.n == 0)
		return ANFU_ENOTFOUND;
	if (c->name_zh)
		(void)anfu_strlcpy(u->it.name_zh, c->name_zh, sizeof(u->it.name_zh));
	if (c->name_en)
		(void)anfu_strlcpy(u->it.name_en, c->name_en, sizeof(u->it.name_en));
	if (c->price > 0)
		u->it.price = c->price;
	if (c->stock >= 0)
		u->it.stock = c->stock;
	if (c->active >= 0)
		u->it.active = c->active != 0;
	u->it.updated_ms = anfu_clock_now_ms();
	{
		const struct anfu_param q[] = {
			ANFU_PS(u->id),		  ANFU_PS(u->it.name_zh),
			ANFU_PS(u->it.name_en),	  ANFU_PI(u->it.price),
			ANFU_PI(u->it.stock),	  ANFU_PI(u->it.active ? 1 : 0),
			ANFU_PI(u->it.updated_ms)
		};

		r = anfu_db_exec(anfu_tx_db(tx),
				 "UPDATE points_item SET name_zh = $2, name_en = $3, price = $4, "
				 "stock = $5, active = $6, updated_ms = $7 WHERE id = $1",
				 q, 7, NULL, NULL, NULL);
	}
	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "points.item_updated", "points_item", u->id, "success",
			     item_details(&u->it));
}

int anfu_points_item_update(struct anfu_points *p, const struct anfu_actor *actor, const char *id,
			    const struct anfu_points_item_change *c, struct anfu_points_item *ret)
{
	struct item_upd u = { id, c, { { 0 } } };
	int r;

	if (!p || !actor || !id || !c || !ret || c->price > ANFU_LIMIT_POINTS_AMOUNT ||
	    c->stock > ANFU_LIMIT_POINTS_AMOUNT)
		return ANFU_EINVAL;
	r = anfu_tx_run(p->tx, actor, item_update_tx, &u);
	if (r < 0)
		return r;
	*ret = u.it;
	return 0;
}

int anfu_points_items(struct anfu_points *p, bool active_only, struct anfu_points_item *out,
		      size_t *ret_n)
{
	struct items l = { out, ANFU_LIMIT_POINTS_PAGE, 0 };
	struct anfu_db *db = NULL;
	const struct anfu_param q[] = { ANFU_PI(active_only ? 1 : 0),
					ANFU_PI(ANFU_LIMIT_POINTS_PAGE) };
	int r;

	if (!p || !out || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(p->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " ITEM_COLS " FROM points_item WHERE active >= $1 "
				 "ORDER BY id LIMIT $2",
				 q, 2, item_row, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}

struct campaigns {
	struct anfu_points_campaign *out;
	size_t cap, n;
};

static int campaign_row(void *ud, const struct anfu_row *row)
{
	struct campaigns *l = ud;
	struct anfu_points_campaign *c;
	const char *id = anfu_row_text(row, 0, NULL), *m = anfu_row_text(row, 1, NULL);

	if (l->n >= l->cap)
		return 1;
	c = &l->out[l->n];
	if (!id || !m || anfu_strlcpy(c->id, id, sizeof(c->id)) < 0 ||
	    anfu_strlcpy(c->merchant_id, m, sizeof(c->merchant_id)) < 0)
		return ANFU_ESCHEMA;
	c->boost.multiplier_pct = anfu_row_int(row, 2);
	c->boost.bonus = anfu_row_int(row, 3);
	c->starts_ms = anfu_row_int(row, 4);
	c->ends_ms = anfu_row_int(row, 5);
	c->active = anfu_row_int(row, 6) != 0;
	c->created_ms = anfu_row_int(row, 7);
	l->n++;
	return 0;
}

static json_t *campaign_details(const struct anfu_points_campaign *c)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "merchant_id", c->merchant_id,
			 "multiplier_pct", (json_int_t)c->boost.multiplier_pct, "bonus",
			 (json_int_t)c->boost.bonus, "starts_ms", (json_int_t)c->starts_ms,
			 "ends_ms", (json_int_t)c->ends_ms, "active", c->active);
}

static int campaign_insert_tx(struct anfu_tx *tx, void *ud)
{
	const struct anfu_points_campaign *c = ud;
	const struct anfu_param q[] = { ANFU_PS(c->id),
					ANFU_PS(c->merchant_id),
					ANFU_PI(c->boost.multiplier_pct),
					ANFU_PI(c->boost.bonus),
					ANFU_PI(c->starts_ms),
					ANFU_PI(c->ends_ms),
					ANFU_PI(c->active ? 1 : 0),
					ANFU_PI(c->created_ms) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "INSERT INTO points_campaign (" CAMPAIGN_COLS
			     ", updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
			     q, 8, NULL, NULL, NULL);

	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "points.campaign_created", "points_campaign", c->id, "success",
			     campaign_details(c));
}

int anfu_points_campaign_add(struct anfu_points *p, const struct anfu_actor *actor,
			     const struct anfu_points_campaign *in,
			     struct anfu_points_campaign *ret)
{
	struct anfu_points_campaign c;
	int r;

	if (!p || !actor || !in || !ret || in->ends_ms <= in->starts_ms ||
	    in->boost.multiplier_pct < 1 ||
	    in->boost.multiplier_pct > ANFU_LIMIT_POINTS_MULTIPLIER_PCT || in->boost.bonus < 0 ||
	    in->boost.bonus > ANFU_LIMIT_POINTS_AMOUNT)
		return ANFU_EINVAL;
	c = *in;
	r = anfu_id_new("pcm", c.id, sizeof(c.id));
	if (r < 0)
		return r;
	c.created_ms = anfu_clock_now_ms();
	r = anfu_tx_run(p->tx, actor, campaign_insert_tx, &c);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

struct campaign_upd {
	const char *id;
	bool active;
	struct anfu_points_campaign c;
};

static int campaign_update_tx(struct anfu_tx *tx, void *ud)
{
	struct campaign_upd *u = ud;
	struct campaigns l = { &u->c, 1, 0 };
	const struct anfu_param k[] = { ANFU_PS(u->id), ANFU_PI(u->active ? 1 : 0),
					ANFU_PI(anfu_clock_now_ms()) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "SELECT " CAMPAIGN_COLS " FROM points_campaign WHERE id = $1", k, 1,
			     campaign_row, &l, NULL);

	if (r < 0)
		return r;
	if (l.n == 0)
		return ANFU_ENOTFOUND;
	u->c.active = u->active;
	r = anfu_db_exec(anfu_tx_db(tx),
			 "UPDATE points_campaign SET active = $2, updated_ms = $3 WHERE id = $1", k,
			 3, NULL, NULL, NULL);
	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "points.campaign_updated", "points_campaign", u->id, "success",
			     campaign_details(&u->c));
}

int anfu_points_campaign_set_active(struct anfu_points *p, const struct anfu_actor *actor,
				    const char *id, bool active, struct anfu_points_campaign *ret)
{
	struct campaign_upd u = { id, active, { { 0 } } };
	int r;

	if (!p || !actor || !id || !ret)
		return ANFU_EINVAL;
	r = anfu_tx_run(p->tx, actor, campaign_update_tx, &u);
	if (r < 0)
		return r;
	*ret = u.c;
	return 0;
}

int anfu_points_campaigns(struct anfu_points *p, struct anfu_points_campaign *out, size_t *ret_n)
{
	struct campaigns l = { out, ANFU_LIMIT_POINTS_PAGE, 0 };
	struct anfu_db *db = NULL;
	const struct anfu_param q[] = { ANFU_PI(ANFU_LIMIT_POINTS_PAGE) };
	int r;

	if (!p || !out || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(p->tx), &db);
	if (r == 0)
		r = anfu_db_exec(
			db, "SELECT " CAMPAIGN_COLS " FROM points_campaign ORDER BY id LIMIT $1", q,
			1, campaign_row, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}
