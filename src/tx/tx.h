/*
 * tx: the transaction executor, the one place a write transaction begins
 * and ends (DESIGN.md rule 3).
 *
 * A service hands anfu_tx_run() a function; the executor begins a write
 * transaction on the calling thread's connection, runs it, appends the
 * audit records it staged in one pass (the chain head is read and moved
 * once), commits, and only then runs the post-commit hooks it registered
 * (wake the notifier, the job thread, ...), in registration order. On any
 * failure (the function's refusal, a record that cannot be staged or
 * appended, the commit) it rolls back and runs no hook: a change, its
 * audit records and its notices commit together or not at all.
 *
 * anfu_tx_run_batch() is the batching twin the ledger writer uses: many
 * commands in one transaction, each inside a savepoint of its own (a
 * refusal undoes only that command's writes, records and hooks), the
 * whole batch's records appended in one pass, one commit.
 *
 * Nothing else in the tree begins, commits or rolls back a write
 * transaction (src/store/ implements them; tests/api/test_tx_rule.py
 * checks the rule). Read-only transactions stay with the store
 * (anfu_db_begin_read): they change nothing, so there is nothing to
 * audit, stage or wake. Thread model: one executor serves every thread;
 * a transaction belongs to the thread that runs it.
 */
#ifndef ANFU_TX_TX_H
#define ANFU_TX_TX_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct anfu_store;
struct anfu_audit_kv;
struct anfu_audit;
struct anfu_db;
struct anfu_actor;
struct anfu_audit_event;

struct anfu_tx_exec; /* the executor: store + audit writer; one per process */
struct anfu_tx;	     /* one running transaction; lives for one fn call */

/* The work of a transaction: 0 (or a positive value) commits, a negative
 * ANFU_E* code rolls back unless anfu_tx_keep() was called. tx is valid
 * only during the call. */
typedef int (*anfu_tx_fn)(struct anfu_tx *tx, void *ud);
/* A post-commit hook: runs after the commit, cannot fail or undo it. */
typedef void (*anfu_tx_hook_fn)(void *ud);

/* Makes the executor; store and audit are borrowed and must outlive it.
 * It attaches itself to audit as the runner of the writer's own changes
 * (checkpoints, anfu_audit_attach_runner). *ret is the caller's. */
int anfu_tx_exec_new(struct anfu_store *store, struct anfu_audit *audit, struct anfu_tx_exec **ret);
/* Detaches from the audit writer and frees; NULL-safe. Stop the audit
 * checkpointer (anfu_audit_stop) first. */
void anfu_tx_exec_free(struct anfu_tx_exec *ex);
/* The store the executor's transactions run on (borrowed): the modules
 * that write through it read through the same connections. */
struct anfu_store *anfu_tx_exec_store(const struct anfu_tx_exec *ex);

/*
 * Runs fn(tx, ud) in one write transaction on the calling thread's
 * connection, then appends the records fn staged (one pass), commits and
 * runs the hooks fn registered, in order. actor (borrowed, may be NULL)
 * is the actor of records staged with anfu_tx_audit().
 *
 * Returns fn's result when the transaction committed: 0 (or fn's positive
 * value), or fn's refusal after anfu_tx_keep(). Otherwise it rolled back,
 * ran no hook, and returns: fn's refusal; the first staging failure
 * (ANFU_EINVAL, ANFU_ELIMIT) even when fn ignored it; ANFU_EAUDIT when the
 * records could not be appended (logged here, once); the store's error of
 * begin or commit, or of a step's savepoint (anfu_tx_step); ANFU_EINVAL when the thread's connection already has a
 * transaction open (anfu_tx_run inside fn is refused: one transaction per
 * thread at a time) or fn ended the transaction itself (ANFU_EINTERNAL).
 */
int anfu_tx_run(struct anfu_tx_exec *ex, const struct anfu_actor *actor, anfu_tx_fn fn, void *ud);

/* The transaction's connection, for fn's statements (borrowed). */
struct anfu_db *anfu_tx_db(struct anfu_tx *tx);
/* The actor anfu_tx_run() was given (NULL when none). */
const struct anfu_actor *anfu_tx_actor(const struct anfu_tx *tx);

/*
 * Stages one audit record, appended at commit after every record staged
 * before it. The record carries the transaction's actor (ANFU_EINVAL when
 * it has none: use anfu_tx_audit_as). Strings are copied; details (a JSON
 * object or NULL) is taken over, on failure too. outcome is "success",
 * "failure" or "denied". A failure (ANFU_EINVAL for a missing action or
 * outcome, ANFU_ELIMIT beyond ANFU_LIMIT_TX_RECORDS) is logged here and
 * also fails the transaction, whatever fn returns: no commit without its
 * records. The records' content is checked when they are appended.
 */
int anfu_tx_audit(struct anfu_tx *tx, const char *action, const char *object_type,
		  const char *object_id, const char *outcome, json_t *details);
/* The same with another actor (borrowed; its strings are copied). */
int anfu_tx_audit_as(struct anfu_tx *tx, const struct anfu_actor *actor, const char *action,
		     const char *object_type, const char *object_id, const char *outcome,
		     json_t *details);

/* The same with details made by anfu_audit_details_text from the n
 * members kv (keys in strcmp order): the record jansson's json_t would
 * give, for a record staged on every ledger transfer. A refused member
 * fails the transaction like a bad record. */
int anfu_tx_audit_kv(struct anfu_tx *tx, const char *action, const char *object_type,
		     const char *object_id, const char *outcome, const struct anfu_audit_kv *kv,
		     size_t n);

/* Registers fn(ud) to run after a successful commit, after the hooks
 * registered before it; ud is borrowed until then (it must outlive
 * anfu_tx_run). The same fn and ud registered again is not added again
 * (it keeps its first place). ANFU_ELIMIT beyond ANFU_LIMIT_TX_HOOKS and
 * ANFU_EINVAL for a NULL fn, which also fail the transaction. */
int anfu_tx_after_commit(struct anfu_tx *tx, anfu_tx_hook_fn fn, void *ud);

/* Makes fn's refusal commit what fn wrote and staged (failure counters,
 * attempt rows, "denied" records); the hooks run too. anfu_tx_run then
 * returns the refusal. A staging or append failure still rolls back. */
void anfu_tx_keep(struct anfu_tx *tx);

/*
 * Runs fn(tx, ud) as one step of tx, inside a savepoint: when fn refuses
 * (< 0 without anfu_tx_keep) or fails to stage a record or hook, its
 * writes, the records it staged and the hooks it registered are undone
 * and the transaction goes on (an approval whose executor refuses, a
 * command of a batch). anfu_tx_keep() inside fn keeps the step only.
 * Steps nest. Returns fn's result (its staging failure when that undid
 * it); a failure of the savepoint itself (the store's error,
 * ANFU_EINTERNAL when fn ended the savepoint) fails the whole
 * transaction (inside a command of anfu_tx_run_batch: the command, unless
 * the savepoint is left open, which fails the batch with that error) and
 * is returned.
 */
int anfu_tx_step(struct anfu_tx *tx, anfu_tx_fn fn, void *ud);

/*
 * A transaction holding one audit record and nothing else (events with no
 * other state change: start, stop, refused requests). ev and what it
 * points to are borrowed. Returns 0, ANFU_EAUDIT when the record cannot be
 * written, or the store's error.
 */
int anfu_tx_record(struct anfu_tx_exec *ex, const struct anfu_audit_event *ev);

/* ---- the batching twin ------------------------------------------------ */

/* One command of a batch. */
struct anfu_tx_cmd {
	const struct anfu_actor *actor; /* borrowed; the command's anfu_tx_actor() */
	anfu_tx_fn fn;
	void *ud;
	int result; /* out: fn's result, or the batch's failure */
};

/*
 * Runs cmds[0..n-1] in order in one write transaction, each inside a
 * savepoint of its own: a command whose fn refuses (without
 * anfu_tx_keep) or fails to stage is rolled back to its savepoint, and its
 * records and hooks are dropped, while the others stand. Then the whole
 * batch's records are appended in one pass, the transaction commits once
 * and every remaining hook runs, in command order.
 *
 * Returns 0 when the batch committed, each cmds[i].result holding its
 * command's result (0, or its refusal). Otherwise nothing of the batch
 * stands, every result holds the batch's failure and that is returned:
 * ANFU_EAUDIT (appending), the store's error (begin, savepoints, commit),
 * ANFU_EINVAL for a command without fn or a thread already in a
 * transaction. n beyond ANFU_LIMIT_TX_BATCH is ANFU_EINVAL with cmds
 * untouched. n = 0 does nothing.
 */
int anfu_tx_run_batch(struct anfu_tx_exec *ex, struct anfu_tx_cmd *cmds, size_t n);

#endif
