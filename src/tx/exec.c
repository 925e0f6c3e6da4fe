/*
 * tx/exec: the transaction executor — one write transaction per call.
 *
 * Owns struct anfu_tx_exec and struct anfu_tx: begin, staging of audit
 * records and post-commit hooks, the one-pass append, commit or rollback,
 * and the hooks. Trusts the store for atomicity and the audit writer for
 * the chain; trusts the functions it runs for nothing but their result:
 * a transaction they ended themselves, or a record they failed to stage,
 * is a failure however they return.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store.h"
#include "tx/internal.h"

/* Runs an audit writer's step (anfu_audit_runner_fn) as a transaction. */
struct step_call {
	anfu_audit_step_fn step;
	void *ud;
};

static int step_tx(struct anfu_tx *tx, void *ud)
{
	struct step_call *c = ud;

	return c->step(anfu_tx_db(tx), c->ud);
}

static int run_step(void *run_ud, anfu_audit_step_fn step, void *step_ud)
{
	struct step_call c = { step, step_ud };

	return anfu_tx_run(run_ud, NULL, step_tx, &c);
}

int anfu_tx_exec_new(struct anfu_store *store, struct anfu_audit *audit, struct anfu_tx_exec **ret)
{
	struct anfu_tx_exec *ex;

	if (!store || !audit || !ret)
		return ANFU_EINVAL;
	ex = anfu_xcalloc(1, sizeof(*ex));
	ex->store = store;
	ex->audit = audit;
	anfu_audit_attach_runner(audit, run_step, ex);
	*ret = ex;
	return 0;
}

void anfu_tx_exec_free(struct anfu_tx_exec *ex)
{
	if (!ex)
		return;
	anfu_audit_attach_runner(ex->audit, NULL, NULL);
	free(ex);
}

struct anfu_store *anfu_tx_exec_store(const struct anfu_tx_exec *ex)
{
	return ex ? ex->store : NULL;
}

/* ---- one transaction's state --------------------------------------------- */

int tx_open(struct anfu_tx_exec *ex, const struct anfu_actor *actor, struct anfu_tx *ret)
{
	struct anfu_db *db = NULL;
	int r;

	r = anfu_store_db(ex->store, &db);
	if (r < 0)
		return r;
	if (db->tx_depth != 0) {
		anfu_log_error("tx.run", "a transaction is already open on this thread; "
					 "nested transactions are refused");
		return ANFU_EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	ret->ex = ex;
	ret->db = db;
	ret->actor = actor;
	return 0;
}

static void record_free(struct tx_record *rec)
{
	free(rec->strings);
	json_decref(rec->details);
	free(rec->details_text);
}

void tx_truncate(struct anfu_tx *tx, size_t nrecs, size_t nhooks)
{
	ANFU_ASSERT(nrecs <= tx->nrecs && nhooks <= tx->nhooks);
	while (tx->nrecs > nrecs)
		record_free(&tx->recs[--tx->nrecs]);
	if (tx->nhooks > nhooks)
		tx->nhooks = nhooks;
}

void tx_clear(struct anfu_tx *tx)
{
	tx_truncate(tx, 0, 0);
	free(tx->recs);
	free(tx->hooks);
	tx->recs = NULL;
	tx->hooks = NULL;
	tx->caprecs = tx->caphooks = 0;
}

struct anfu_db *anfu_tx_db(struct anfu_tx *tx)
{
	return tx ? tx->db : NULL;
}

const struct anfu_actor *anfu_tx_actor(const struct anfu_tx *tx)
{
	return tx ? tx->actor : NULL;
}

void anfu_tx_keep(struct anfu_tx *tx)
{
	if (tx)
		tx->keep = true;
}

/* Remembers the first staging failure: the transaction cannot commit. */
static int stage_fail(struct anfu_tx *tx, int r, const char *what, const char *action)
{
	anfu_log_error("tx.stage", "%s %.64s not staged: %s; the transaction rolls back", what,
		       action ? action : "(none)", anfu_strerror(r));
	if (tx->fail == 0)
		tx->fail = r;
	return r;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Copies the ten strings of a record into one allocation. */
static void record_fill(struct tx_record *rec, const struct anfu_actor *ac, const char *action,
			const char *object_type, const char *object_id, const char *outcome)
{
	const char *src[10] = { or_empty(ac->id), or_empty(ac->type),	 or_empty(ac->role),
				or_empty(ac->ip), or_empty(ac->device),	 or_empty(ac->request_id),
				action,		  or_empty(object_type), or_empty(object_id),
				outcome };
	const char *dst[10];
	size_t len[10], total = 0;
	char *p;

	for (int i = 0; i < 10; i++) {
		len[i] = strlen(src[i]) + 1;
		total += len[i];
	}
	p = rec->strings = anfu_xmalloc(total);
	for (int i = 0; i < 10; i++) {
		memcpy(p, src[i], len[i]);
		dst[i] = p;
		p += len[i];
	}
	rec->actor = (struct anfu_actor){ dst[0], dst[1], dst[2], dst[3], dst[4], dst[5] };
	rec->action = dst[6];
	rec->object_type = dst[7];
	rec->object_id = dst[8];
	rec->outcome = dst[9];
}

int anfu_tx_audit_as(struct anfu_tx *tx, const struct anfu_actor *actor, const char *action,
		     const char *object_type, const char *object_id, const char *outcome,
		     json_t *details)
{
	struct tx_record *rec;

	if (!tx) {
		json_decref(details);
		return ANFU_EINVAL;
	}
	if (tx->fail) {
		json_decref(details);
		return tx->fail;
	}
	if (!actor || !action || !action[0] || !outcome) {
		json_decref(details);
		return stage_fail(tx, ANFU_EINVAL, "record", action);
	}
	if (tx->nrecs >= ANFU_LIMIT_TX_RECORDS) {
		json_decref(details);
		return stage_fail(tx, ANFU_ELIMIT, "record", action);
	}
	if (tx->nrecs == tx->caprecs) {
		tx->caprecs = tx->caprecs ? 2 * tx->caprecs : 4;
		tx->recs = anfu_xrealloc(tx->recs, tx->caprecs * sizeof(*tx->recs));
	}
	rec = &tx->recs[tx->nrecs++];
	ANFU_ASSERT(tx->nrecs <= ANFU_LIMIT_TX_RECORDS && tx->nrecs <= tx->caprecs);
	record_fill(rec, actor, action, object_type, object_id, outcome);
	rec->details = details;
	rec->details_text = NULL;
	return 0;
}

int anfu_tx_audit_kv(struct anfu_tx *tx, const char *action, const char *object_type,
		     const char *object_id, const char *outcome, const struct anfu_audit_kv *kv,
		     size_t n)
{
	struct anfu_buf b;
	int r;

	if (!tx)
		return ANFU_EINVAL;
	if (tx->fail)
		return tx->fail;
	anfu_buf_init(&b, ANFU_LIMIT_AUDIT_DETAILS_BYTES + 1);
	r = anfu_audit_details_text(&b, kv, n);
	if (r < 0) {
		anfu_buf_free(&b);
		return stage_fail(tx, r, "record", action);
	}
	r = anfu_tx_audit(tx, action, object_type, object_id, outcome, NULL);
	if (r < 0) {
		anfu_buf_free(&b);
		return r;
	}
	tx->recs[tx->nrecs - 1].details_text = anfu_buf_steal(&b, NULL);
	return 0;
}

int anfu_tx_audit(struct anfu_tx *tx, const char *action, const char *object_type,
		  const char *object_id, const char *outcome, json_t *details)
{
	if (tx && !tx->actor) {
		json_decref(details);
		return stage_fail(tx, ANFU_EINVAL, "record without an actor", action);
	}
	return anfu_tx_audit_as(tx, tx ? tx->actor : NULL, action, object_type, object_id, outcome,
				details);
}

int anfu_tx_after_commit(struct anfu_tx *tx, anfu_tx_hook_fn fn, void *ud)
{
	if (!tx)
		return ANFU_EINVAL;
	if (tx->fail)
		return tx->fail;
	if (!fn)
		return stage_fail(tx, ANFU_EINVAL, "hook", NULL);
	/* A wake-up registered by each of many enqueues runs once. */
	for (size_t i = 0; i < tx->nhooks; i++)
		if (tx->hooks[i].fn == fn && tx->hooks[i].ud == ud)
			return 0;
	if (tx->nhooks >= ANFU_LIMIT_TX_HOOKS)
		return stage_fail(tx, ANFU_ELIMIT, "hook", NULL);
	if (tx->nhooks == tx->caphooks) {
		tx->caphooks = tx->caphooks ? 2 * tx->caphooks : 4;
		tx->hooks = anfu_xrealloc(tx->hooks, tx->caphooks * sizeof(*tx->hooks));
	}
	tx->hooks[tx->nhooks++] = (struct tx_hook){ fn, ud };
	ANFU_ASSERT(tx->nhooks <= ANFU_LIMIT_TX_HOOKS && tx->nhooks <= tx->caphooks);
	return 0;
}

/* ---- ending a transaction ------------------------------------------------ */

static int append_staged(struct anfu_tx *tx)
{
	struct anfu_audit_event *evs;
	int r;

	if (tx->nrecs == 0)
		return 0;
	evs = anfu_xcalloc(tx->nrecs, sizeof(*evs));
	for (size_t i = 0; i < tx->nrecs; i++)
		evs[i] = (struct anfu_audit_event){ &tx->recs[i].actor,	     tx->recs[i].action,
						    tx->recs[i].object_type, tx->recs[i].object_id,
						    tx->recs[i].outcome,     tx->recs[i].details,
						    tx->recs[i].details_text };
	r = anfu_audit_append_batch(tx->ex->audit, tx->db, evs, tx->nrecs, NULL);
	/* The one log line of this failure: the callers that see ANFU_EAUDIT
	 * (the HTTP layer's 503, the refusal hook, the job runner) do not log
	 * it again. */
	if (r < 0)
		anfu_log_error("tx.audit",
			       "request %.64s: %zu audit record(s) from %.64s on not appended: %s; "
			       "the transaction rolls back",
			       tx->recs[0].actor.request_id[0] ? tx->recs[0].actor.request_id : "-",
			       tx->nrecs, evs[0].action, anfu_strerror(r));
	free(evs);
	return r < 0 ? ANFU_EAUDIT : 0;
}

int tx_commit(struct anfu_tx *tx)
{
	int r = tx->fail;

	if (r == 0)
		r = append_staged(tx);
	if (r == 0)
		r = anfu_db_commit(tx->db);
	if (r < 0) {
		(void)anfu_db_rollback(tx->db);
		return r;
	}
	ANFU_ASSERT(tx->db->tx_depth == 0);
	tx->committed = true;
	return 0;
}

void tx_run_hooks(struct anfu_tx *tx)
{
	/* A hook announces a write (wakes a reader of the outbox): after a
	 * rollback there is nothing to announce. */
	ANFU_ASSERT(tx->committed);
	for (size_t i = 0; i < tx->nhooks; i++)
		tx->hooks[i].fn(tx->hooks[i].ud);
}

/* ---- steps ------------------------------------------------------------------- */

int tx_step(struct anfu_tx *tx, const char *name, anfu_tx_fn fn, void *ud, int *ret_result)
{
	size_t nrecs = tx->nrecs, nhooks = tx->nhooks;
	bool keep = tx->keep;
	int fail = tx->fail, depth = tx->db->tx_depth;
	int r, rv;

	ANFU_ASSERT(depth >= 1);
	r = tx->db->ops->savepoint(tx->db, name);
	if (r < 0)
		return r;
	tx->keep = false;
	tx->fail = 0;
	rv = fn(tx, ud);
	if (tx->db->tx_depth > depth + 1 && tx->fail < 0)
		return tx->fail; /* a nested step's savepoint failed: the store's error */
	if (tx->db->tx_depth != depth + 1) {
		anfu_log_error("tx.step", "a step ended or nested its savepoint itself");
		return ANFU_EINTERNAL;
	}
	/* The outcome of the statements the step sent without waiting
	 * (anfu_db_send) is the step's: its savepoint undoes them. */
	r = anfu_db_flush(tx->db);
	if (r < 0 && tx->fail == 0)
		tx->fail = r;
	if (tx->fail || (rv < 0 && !tx->keep)) {
		if (tx->fail)
			rv = tx->fail;
		tx_truncate(tx, nrecs, nhooks);
		r = tx->db->ops->rollback_to(tx->db, name);
		if (r < 0)
			return r;
	}
	tx->keep = keep;
	tx->fail = fail;
	r = tx->db->ops->release(tx->db, name);
	if (r < 0)
		return r;
	ANFU_ASSERT(tx->db->tx_depth == depth);
	*ret_result = rv;
	return 0;
}

int anfu_tx_step(struct anfu_tx *tx, anfu_tx_fn fn, void *ud)
{
	int r, rv = 0;

	if (!tx || !fn)
		return ANFU_EINVAL;
	if (tx->fail)
		return tx->fail;
	r = tx_step(tx, "anfu_tx_step", fn, ud, &rv);
	if (r < 0) {
		anfu_log_error("tx.step", "savepoint failed: %s; the transaction rolls back",
			       anfu_strerror(r));
		tx->fail = r;
		return r;
	}
	return rv;
}

/* ---- anfu_tx_run ------------------------------------------------------------ */

int anfu_tx_run(struct anfu_tx_exec *ex, const struct anfu_actor *actor, anfu_tx_fn fn, void *ud)
{
	struct anfu_tx tx;
	int r, rv;

	if (!ex || !fn)
		return ANFU_EINVAL;
	r = tx_open(ex, actor, &tx);
	if (r < 0)
		return r;
	r = anfu_db_begin(tx.db);
	if (r < 0)
		goto out;
	rv = fn(&tx, ud);
	if (tx.db->tx_depth > 1 && tx.fail < 0) {
		r = tx.fail; /* a step's savepoint failed: the store's error */
	} else if (tx.db->tx_depth != 1) {
		anfu_log_error("tx.run", "the transaction's function ended or nested it itself");
		r = ANFU_EINTERNAL;
	} else if (rv < 0 && !tx.keep) {
		r = rv;
	} else {
		r = tx_commit(&tx);
	}
	if (r < 0) {
		(void)anfu_db_rollback(tx.db);
		goto out;
	}
	tx_run_hooks(&tx);
	r = rv;
out:
	tx_clear(&tx);
	return r;
}

/* ---- anfu_tx_record ----------------------------------------------------------- */

static int record_tx(struct anfu_tx *tx, void *ud)
{
	const struct anfu_audit_event *ev = ud;

	return anfu_tx_audit_as(tx, ev->actor, ev->action, ev->object_type, ev->object_id,
				ev->outcome, json_incref((json_t *)ev->details));
}

int anfu_tx_record(struct anfu_tx_exec *ex, const struct anfu_audit_event *ev)
{
	if (!ex || !ev || !ev->actor)
		return ANFU_EINVAL;
	return anfu_tx_run(ex, ev->actor, record_tx, (void *)ev);
}
