/*
 * pay/pay: the service object, the platform's accounts, and what the
 * module's files share (the connection, the writer's deadline, an order's
 * state write).
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

int anfu_pay_new(const struct anfu_pay_deps *d, struct anfu_pay **ret)
{
	struct anfu_pay *p;
	const struct anfu_pay_config *c;

	if (!d || !d->cfg || !d->ledger || !d->tx || !d->iam || !d->wallet || !ret)
		return ANFU_EINVAL;
	c = d->cfg;
	if (c->escrow_days_min > c->escrow_days_default ||
	    c->escrow_days_default > c->escrow_days_max ||
	    c->order_ttl_default_s > c->order_ttl_max_s)
		return ANFU_EINVAL;
	p = anfu_xcalloc(1, sizeof(*p));
	p->cfg = *c;
	p->ledger = d->ledger;
	p->tx = d->tx;
	p->iam = d->iam;
	p->wallet = d->wallet;
	*ret = p;
	return 0;
}

void anfu_pay_free(struct anfu_pay *p)
{
	free(p);
}

int anfu_pay_open_platform(struct anfu_pay *p, const struct anfu_actor *actor)
{
	static const struct anfu_ledger_account_spec specs[] = {
		{ "platform_fee", "CNY", "platform", "platform" },
		{ "platform_escrow", "CNY", "platform", "platform" },
	};
	struct anfu_ledger_account a;
	int r = 0;

	if (!p || !actor)
		return ANFU_EINVAL;
	for (size_t i = 0; r == 0 && i < sizeof(specs) / sizeof(specs[0]); i++)
		r = anfu_ledger_open(p->ledger, actor, &specs[i], pay_deadline(), &a);
	return r;
}

int64_t anfu_pay_expire_interval(const void *svc)
{
	const struct anfu_pay *p = svc;

	return p->cfg.expire_interval_s * 1000;
}

int pay_db(struct anfu_pay *p, struct anfu_db **ret)
{
	return anfu_store_db(anfu_tx_exec_store(p->tx), ret);
}

int64_t pay_deadline(void)
{
	return anfu_clock_mono_us() / 1000 + PAY_DEADLINE_MS;
}

void pay_col(const struct anfu_row *r, int col, char *out, size_t cap)
{
	const char *s = anfu_row_is_null(r, col) ? NULL : anfu_row_text(r, col, NULL);

	(void)anfu_strlcpy(out, s ? s : "", cap);
}

int pay_order_set_state(struct anfu_db *db, const char *id, enum anfu_pay_state from,
			enum anfu_pay_state to, int64_t now, bool *ret_ok)
{
	struct anfu_param v[5] = { ANFU_PS(anfu_pay_state_name(to)), ANFU_PI(now), ANFU_PS(id),
				   ANFU_PS(anfu_pay_state_name(from)),
				   ANFU_PI(to == ANFU_PAY_CLOSED) };
	int64_t changes = 0;
	int r = anfu_db_exec(db,
			     "UPDATE pay_order SET state = $1, updated_ms = $2,"
			     " closed_ms = CASE WHEN $5 = 1 THEN $2 ELSE closed_ms END"
			     " WHERE id = $3 AND state = $4",
			     v, 5, NULL, NULL, &changes);

	if (r == 0)
		*ret_ok = changes == 1;
	return r;
}
