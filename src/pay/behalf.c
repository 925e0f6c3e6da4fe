/*
 * pay/behalf: pay-on-behalf (代付; FUNC-PAY-17; docs/payments.md,
 * "Pay-on-behalf"): share links of unpaid orders, their resolution, the
 * checks a payment through a link and a customer's cancel make at commit.
 *
 * A link's token is a random id (128 bits) given to the requester once;
 * only its SHA-256 is stored. Sharing runs through the ledger's writer,
 * which orders it against a payment or a cancel of the same order.
 * Trusts its callers for the requester's identity (the session's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

/* SHA-256 hex of token. */
static int token_hash(const char *token, char out[2 * ANFU_HASH_LEN + 1])
{
	uint8_t h[ANFU_HASH_LEN];
	int r = anfu_hash(ANFU_HASH_SHA256, token, strlen(token), h);

	if (r == 0)
		anfu_hex_encode(h, sizeof(h), out);
	return r;
}

static int share_row(void *ud, const struct anfu_row *r)
{
	struct anfu_pay_share *s = ud;

	pay_col(r, 0, s->order_id, sizeof(s->order_id));
	pay_col(r, 1, s->requester_id, sizeof(s->requester_id));
	s->created_ms = anfu_row_int(r, 2);
	s->expires_ms = anfu_row_int(r, 3);
	return 0;
}

#define SHARE_COLS "SELECT order_id, requester_id, created_ms, expires_ms FROM pay_share"

int anfu_pay_share_get(struct anfu_db *db, const char *order_id, struct anfu_pay_share *ret)
{
	struct anfu_pay_share s;
	struct anfu_param v[1] = { ANFU_PS(order_id) };
	int r;

	if (!db || !order_id || !ret)
		return ANFU_EINVAL;
	memset(&s, 0, sizeof(s));
	r = anfu_db_exec(db, SHARE_COLS " WHERE order_id = $1", v, 1, share_row, &s, NULL);
	if (r == 0 && !s.order_id[0])
		r = ANFU_ENOTFOUND;
	if (r == 0)
		*ret = s;
	return r;
}

int anfu_pay_share_resolve(struct anfu_db *db, const char *token, int64_t now,
			   struct anfu_pay_share *ret, const char **ret_code)
{
	char hash[2 * ANFU_HASH_LEN + 1];
	struct anfu_pay_share s;
	int r;

	if (!db || !token || !ret || !ret_code)
		return ANFU_EINVAL;
	memset(&s, 0, sizeof(s));
	r = token_hash(token, hash);
	if (r == 0) {
		struct anfu_param v[1] = { ANFU_PSN(hash, strlen(hash)) };

		r = anfu_db_exec(db, SHARE_COLS " WHERE token_hash = $1", v, 1, share_row, &s,
				 NULL);
	}
	if (r < 0)
		return r;
	*ret_code = !s.order_id[0]	  ? ANFU_R_PAY_SHARE_NOT_FOUND
		    : now >= s.expires_ms ? ANFU_R_PAY_SHARE_EXPIRED
					  : NULL;
	if (!*ret_code)
		*ret = s;
	return 0;
}

int pay_share_check(struct anfu_db *db, const char *token, const char *order_id, int64_t now,
		    const char **ret_code)
{
	struct anfu_pay_share s;
	int r = anfu_pay_share_resolve(db, token, now, &s, ret_code);

	if (r == 0 && !*ret_code && strcmp(s.order_id, order_id) != 0)
		*ret_code = ANFU_R_PAY_SHARE_NOT_FOUND;
	return r;
}

int pay_share_cancel_check(struct anfu_db *db, const char *order_id, const char *customer_id,
			   const char **ret_code)
{
	struct anfu_pay_share s;
	int r = anfu_pay_share_get(db, order_id, &s);

	*ret_code = NULL;
	if (r == ANFU_ENOTFOUND)
		return 0;
	if (r == 0 && strcmp(s.requester_id, customer_id) != 0)
		*ret_code = ANFU_R_PAY_ORDER_NOT_FOUND;
	return r;
}

struct share_cmd {
	struct anfu_pay *p;
	const char *order_id, *requester_id;
	char hash[2 * ANFU_HASH_LEN + 1];
	struct anfu_pay_share *out;
	const char *code;
};

static int share_fn(struct anfu_tx *tx, void *ud)
{
	struct share_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_order *o = anfu_xcalloc(1, sizeof(*o));
	struct anfu_pay_share old;
	enum anfu_pay_state next;
	int64_t now = anfu_clock_now_ms(), expires;
	int r = anfu_pay_order_get(db, c->order_id, o);

	if (r == ANFU_ENOTFOUND) {
		c->code = ANFU_R_PAY_ORDER_NOT_FOUND;
		r = ANFU_ECONFLICT;
		goto out;
	}
	if (r < 0)
		goto out;
	r = anfu_pay_share_get(db, c->order_id, &old);
	if (r < 0 && r != ANFU_ENOTFOUND)
		goto out;
	/* Only what may still be cancelled (unpaid, open) is shared. */
	c->code = r == 0 && strcmp(old.requester_id, c->requester_id) != 0
			  ? ANFU_R_PAY_ORDER_NOT_FOUND
		  : anfu_pay_transition(o->state, ANFU_PAY_EV_CANCEL, &next) < 0
			  ? anfu_pay_state_refusal(o->state)
		  : now >= o->expires_ms ? ANFU_R_PAY_ORDER_EXPIRED
					 : NULL;
	if (c->code) {
		r = ANFU_ECONFLICT;
		goto out;
	}
	expires = now + c->p->cfg.share_ttl_s * 1000;
	if (expires > o->expires_ms)
		expires = o->expires_ms;
	{
		struct anfu_param d[1] = { ANFU_PS(c->order_id) };
		struct anfu_param v[5] = { ANFU_PS(c->order_id), ANFU_PS(c->requester_id),
					   ANFU_PSN(c->hash, strlen(c->hash)), ANFU_PI(now),
					   ANFU_PI(expires) };

		r = anfu_db_exec(db, "DELETE FROM pay_share WHERE order_id = $1", d, 1, NULL, NULL,
				 NULL);
		if (r == 0)
			r = anfu_db_exec(
				db,
				"INSERT INTO pay_share (order_id, requester_id, token_hash,"
				" created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
				v, 5, NULL, NULL, NULL);
	}
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.order.shared", "pay_order", c->order_id, "success",
				  json_pack("{s:s, s:s, s:I}", "merchant", o->merchant_id,
					    "requester", c->requester_id, "expires_ms",
					    (json_int_t)expires));
	if (r == 0) {
		(void)anfu_strlcpy(c->out->order_id, c->order_id, sizeof(c->out->order_id));
		(void)anfu_strlcpy(c->out->requester_id, c->requester_id,
				   sizeof(c->out->requester_id));
		c->out->created_ms = now;
		c->out->expires_ms = expires;
	}
out:
	free(o);
	return r;
}

int anfu_pay_share_create(struct anfu_pay *p, const struct anfu_actor *actor, const char *order_id,
			  const char *requester_id, struct anfu_pay_share *ret,
			  const char **ret_code)
{
	struct anfu_pay_share out;
	struct share_cmd c = { p, order_id, requester_id, "", &out, NULL };
	int r;

	if (!p || !actor || !order_id || !requester_id || !ret || !ret_code)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	r = anfu_id_new("shr", out.token, sizeof(out.token));
	if (r == 0)
		r = token_hash(out.token, c.hash);
	/* weight: its audit record. */
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, share_fn, &c, 1, pay_deadline());
	if (r == ANFU_ECONFLICT && c.code) {
		*ret_code = c.code;
		return 0;
	}
	if (r == 0) {
		*ret_code = NULL;
		*ret = out;
	}
	return r;
}
