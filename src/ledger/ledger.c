/*
 * ledger/ledger: the service object and the calls other threads make:
 * submit, open, state changes and functions run as writer commands (all
 * through the writer's queue) and reading an account.
 *
 * Owns struct anfu_ledger (its queue and writer thread, writer.c). Checks
 * every request before it is queued; trusts the deps it was made from.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/mem.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

int anfu_ledger_new(const struct anfu_ledger_deps *d, struct anfu_ledger **ret)
{
	struct anfu_ledger *l;
	pthread_condattr_t ca;

	if (!d || !d->tx || !d->cfg || !ret)
		return ANFU_EINVAL;
	if (d->cfg->batch_max < ANFU_LIMIT_LEDGER_BATCH_MIN ||
	    d->cfg->batch_max > ANFU_LIMIT_LEDGER_BATCH || d->cfg->batch_wait_us < 0 ||
	    d->cfg->batch_wait_us > ANFU_LIMIT_LEDGER_BATCH_WAIT_US ||
	    d->cfg->queue_max < ANFU_LIMIT_LEDGER_QUEUE_MIN ||
	    d->cfg->queue_max > ANFU_LIMIT_LEDGER_QUEUE)
		return ANFU_EINVAL;
	l = anfu_xcalloc(1, sizeof(*l));
	l->tx = d->tx;
	l->cfg = d->cfg;
	l->hash = d->hash;
	pthread_mutex_init(&l->mu, NULL);
	/* Deadlines and batch waits are on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->work, &ca);
	pthread_condattr_destroy(&ca);
	*ret = l;
	return 0;
}

int anfu_ledger_start(struct anfu_ledger *l)
{
	int r = 0;

	if (!l)
		return ANFU_EINVAL;
	pthread_mutex_lock(&l->mu);
	r = l->started ? ANFU_EINVAL : 0;
	pthread_mutex_unlock(&l->mu);
	if (r < 0)
		return r;
	ledger_seal_leftovers(l);
	pthread_mutex_lock(&l->mu);
	if (l->started)
		r = ANFU_EINVAL;
	else if (pthread_create(&l->thread, NULL, ledger_writer_main, l) != 0)
		r = ANFU_EINTERNAL;
	else
		l->started = true;
	pthread_mutex_unlock(&l->mu);
	return r;
}

void anfu_ledger_free(struct anfu_ledger *l)
{
	bool started;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	started = l->started;
	pthread_cond_broadcast(&l->work);
	pthread_mutex_unlock(&l->mu);
	if (started)
		pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

size_t anfu_ledger_queued(struct anfu_ledger *l)
{
	size_t n;

	pthread_mutex_lock(&l->mu);
	n = l->queued;
	pthread_mutex_unlock(&l->mu);
	return n;
}

int anfu_ledger_submit(struct anfu_ledger *l, const struct anfu_actor *actor, const char *caller,
		       const struct anfu_ledger_transfer *t, size_t n, int64_t deadline_ms,
		       struct anfu_ledger_result *results)
{
	struct anfu_ledger_result *tmp;
	struct ledger_req r;
	int rc;

	if (!l || !actor || !results || ledger_request_check(caller, t, n) < 0)
		return ANFU_EINVAL;
	/* The writer writes a copy, so results stay unwritten on failure. */
	tmp = anfu_xcalloc(n, sizeof(*tmp));
	memset(&r, 0, sizeof(r));
	r.kind = LEDGER_REQ_TRANSFERS;
	r.actor = actor;
	r.caller = caller;
	r.t = t;
	r.n = n;
	r.results = tmp;
	rc = ledger_writer_call(l, &r, deadline_ms);
	if (rc == 0)
		memcpy(results, tmp, n * sizeof(*tmp));
	free(tmp);
	return rc;
}

int anfu_ledger_open(struct anfu_ledger *l, const struct anfu_actor *actor,
		     const struct anfu_ledger_account_spec *s, int64_t deadline_ms,
		     struct anfu_ledger_account *ret)
{
	struct ledger_open o;
	struct ledger_req r;
	int rc;

	if (!l || !actor || !ret)
		return ANFU_EINVAL;
	memset(&o, 0, sizeof(o));
	if (ledger_account_spec_check(s, &o.flags) < 0)
		return ANFU_EINVAL;
	o.spec = s;
	memset(&r, 0, sizeof(r));
	r.kind = LEDGER_REQ_OPEN;
	r.actor = actor;
	r.open = &o;
	rc = ledger_writer_call(l, &r, deadline_ms);
	if (rc == 0)
		*ret = o.acc;
	return rc;
}

int anfu_ledger_account_find(struct anfu_ledger *l, const struct anfu_ledger_account_spec *s,
			     struct anfu_ledger_account *ret)
{
	struct anfu_db *db = NULL;
	int r;

	if (!l || !ret || ledger_account_spec_check(s, &(uint32_t){ 0 }) < 0)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(l->tx), &db);
	if (r == 0)
		r = ledger_account_find(db, s, ret);
	return r;
}

int anfu_ledger_account_get(struct anfu_ledger *l, const char *id, struct anfu_ledger_account *ret)
{
	struct anfu_db *db = NULL;
	int r;

	if (!l || !id || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(l->tx), &db);
	if (r == 0)
		r = ledger_account_read(db, id, ret);
	return r;
}

int anfu_ledger_run_weighted(struct anfu_ledger *l, const struct anfu_actor *actor, anfu_tx_fn fn,
			     void *ud, size_t weight, int64_t deadline_ms)
{
	struct ledger_call call = { fn, ud };
	struct ledger_req r;

	if (!l || !actor || !fn || weight == 0 || weight > ANFU_LIMIT_LEDGER_REQUEST)
		return ANFU_EINVAL;
	memset(&r, 0, sizeof(r));
	r.kind = LEDGER_REQ_CALL;
	r.actor = actor;
	r.n = weight; /* its weight in a batch */
	r.call = &call;
	return ledger_writer_call(l, &r, deadline_ms);
}

int anfu_ledger_run(struct anfu_ledger *l, const struct anfu_actor *actor, anfu_tx_fn fn, void *ud,
		    int64_t deadline_ms)
{
	return anfu_ledger_run_weighted(l, actor, fn, ud, ANFU_LEDGER_RUN_RECORDS, deadline_ms);
}

struct set_state {
	const struct anfu_ledger_state_change *c;
	struct anfu_ledger_state_result out;
};

static int set_state_cmd(struct anfu_tx *tx, void *ud)
{
	struct set_state *s = ud;

	return anfu_ledger_set_state_in(tx, s->c, &s->out);
}

int anfu_ledger_set_state(struct anfu_ledger *l, const struct anfu_actor *actor,
			  const struct anfu_ledger_state_change *c, int64_t deadline_ms,
			  struct anfu_ledger_state_result *ret)
{
	struct set_state s;
	enum ledger_acc_state to;
	int r;

	if (!l || !actor || !ret || ledger_state_change_check(c, &to) < 0)
		return ANFU_EINVAL;
	memset(&s, 0, sizeof(s));
	s.c = c;
	r = anfu_ledger_run(l, actor, set_state_cmd, &s, deadline_ms);
	if (r == 0)
		*ret = s.out;
	return r;
}
