/*
 * tests/unit/faultstore: a store that fails on command, for fault
 * injection in unit tests.
 *
 * faultstore_ops wraps the SQLite ops: every call goes through to them
 * unless an armed rule names it, in which case the call fails with the
 * rule's error and does nothing (a failed commit may end the transaction
 * as the SQLite backend does, or leave it open). A test makes a store's
 * new connections use it with anfu_store_set_opener() (test-hook builds)
 * and arms rules from any thread. Each rule fires once. Linked into the
 * unit tests only, never into a production binary.
 */
#ifndef ANFU_TESTS_UNIT_FAULTSTORE_H
#define ANFU_TESTS_UNIT_FAULTSTORE_H

#include <stdbool.h>

#include "store/store.h"

enum fault_op {
	FAULT_BEGIN = 0,
	FAULT_COMMIT,
	FAULT_ROLLBACK,
	FAULT_SAVEPOINT,
	FAULT_RELEASE,
	FAULT_ROLLBACK_TO,
	FAULT_EXEC,
	FAULT_OP_COUNT,
};

/* Rules armed at once. */
#define FAULT_RULES_MAX 4

struct fault_rule {
	enum fault_op op;
	/* FAULT_EXEC: the SQL contains it; the savepoint ops: the savepoint's
	 * name is it; NULL matches every call of op. */
	const char *match;
	int nth;	 /* fails the nth matching call after arming (1: the next) */
	int err;	 /* what the call returns: ANFU_EIO, ANFU_EBUSY, ANFU_EFULL … */
	bool leave_open; /* FAULT_COMMIT: the transaction stays open (else it is
			  * rolled back, as the backend's failed commit does);
			  * FAULT_ROLLBACK: the backend's transaction stays open
			  * while the connection counts none (a ROLLBACK that
			  * failed) */
};

/* The ops: the SQLite backend's, with the armed rules on top. Its open
 * opens an SQLite connection and makes it use these ops. */
extern const struct anfu_store_ops faultstore_ops;

/* Replaces the armed rules with rules[0..n-1] (n <= FAULT_RULES_MAX, the
 * rules copied; match strings borrowed until disarmed) and resets every
 * count. */
void faultstore_arm(const struct fault_rule *rules, int n);
/* Drops every rule; the counts stay readable. */
void faultstore_disarm(void);
/* How many calls the armed rules failed since arming. */
int faultstore_fired(void);

/* Watching (no failure): while out is set, the SQL of the latest exec
 * whose text contains match is copied into out (cap bytes, cut short if
 * longer). NULL out stops watching. */
void faultstore_watch(const char *match, char *out, size_t cap);

#endif
