/*
 * tx/internal: what the files of src/tx/ share, private to them.
 *
 * The executor and transaction structs, and the steps exec.c (one
 * transaction) and batch.c (the batching twin) both take: begin, stage,
 * drop what a refused command staged, append, commit, run the hooks.
 */
#ifndef ANFU_TX_INTERNAL_H
#define ANFU_TX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/audit.h"
#include "tx/tx.h"

struct anfu_tx_exec {
	struct anfu_store *store; /* borrowed */
	struct anfu_audit *audit; /* borrowed */
};

/* One staged audit record. Its strings all live in one allocation it
 * owns, strings; details is owned. */
struct tx_record {
	struct anfu_actor actor;
	const char *action, *object_type, *object_id, *outcome;
	char *strings;
	json_t *details;
	char *details_text; /* or this, from anfu_audit_details_text */
};

struct tx_hook {
	anfu_tx_hook_fn fn;
	void *ud;
};

struct anfu_tx {
	struct anfu_tx_exec *ex;
	struct anfu_db *db;
	const struct anfu_actor *actor; /* borrowed, may be NULL */
	struct tx_record *recs;
	size_t nrecs, caprecs;
	struct tx_hook *hooks;
	size_t nhooks, caphooks;
	bool keep;
	bool committed; /* tx_commit succeeded: only then may hooks run */
	int fail;	/* the first staging failure, or 0 */
};

/* The calling thread's connection with no transaction open on it, and a
 * fresh transaction on it (ANFU_EINVAL, logged, when one is open). */
int tx_open(struct anfu_tx_exec *ex, const struct anfu_actor *actor, struct anfu_tx *ret);
/* Frees what tx staged and registered (nothing runs). */
void tx_clear(struct anfu_tx *tx);
/* Drops the records and hooks staged after the first nrecs / nhooks. */
void tx_truncate(struct anfu_tx *tx, size_t nrecs, size_t nhooks);
/* Runs fn as a step of tx in the savepoint name (anfu_tx_step): its
 * result in *ret_result. Returns 0, or the savepoint's failure, after
 * which tx cannot go on. */
int tx_step(struct anfu_tx *tx, const char *name, anfu_tx_fn fn, void *ud, int *ret_result);
/* Appends the staged records in one pass and commits; rolls back and
 * returns the failure otherwise (ANFU_EAUDIT for the records, logged). */
int tx_commit(struct anfu_tx *tx);
/* Runs the hooks in registration order. */
void tx_run_hooks(struct anfu_tx *tx);

#endif
