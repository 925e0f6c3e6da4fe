/*
 * ledger/internal: what the files of src/ledger/ share, private to them.
 *
 * states.c: the account and hold state tables; account.c: the kind table,
 * reading and writing account rows, opening; transfer.c: the rules of one
 * transfer and of a request's chains, inside the writer's transaction;
 * account_state.c: changing an account's state, and running a function
 * as a writer command; writer.c: the queue, the thread, the batches and
 * their seal; ledger.c:
 * the service object and the calls other threads make.
 */
#ifndef ANFU_LEDGER_INTERNAL_H
#define ANFU_LEDGER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/hist.h"
#include "ledger/ledger.h"

struct ledger_seal; /* ledger/chain.h */

struct anfu_db;
struct anfu_tx;

/* ---- states.c ---------------------------------------------------------- */

enum ledger_acc_state {
	LEDGER_ACC_NORMAL = 0,
	LEDGER_ACC_FROZEN_DEBIT,
	LEDGER_ACC_FROZEN_CREDIT,
	LEDGER_ACC_FROZEN,
	LEDGER_ACC_CLOSED,
	LEDGER_ACC_STATE_COUNT,
};

enum ledger_hold_state {
	LEDGER_HOLD_PENDING = 0,
	LEDGER_HOLD_POSTED,
	LEDGER_HOLD_VOIDED,
	LEDGER_HOLD_EXPIRED,
	LEDGER_HOLD_STATE_COUNT,
};

enum ledger_hold_event {
	LEDGER_HOLD_POST = 0,
	LEDGER_HOLD_VOID,
	LEDGER_HOLD_EXPIRE,
	LEDGER_HOLD_EVENT_COUNT,
};

const char *ledger_acc_state_name(enum ledger_acc_state s);
/* ANFU_EINVAL for a name that is not a state. */
int ledger_acc_state_parse(const char *name, enum ledger_acc_state *ret);
/* NULL when an account in state s may be debited (credited); else the
 * refusal (account_frozen, account_closed). */
const char *ledger_acc_debit_refusal(enum ledger_acc_state s);
const char *ledger_acc_credit_refusal(enum ledger_acc_state s);

/* Whether an account in state from may change to state to (the change
 * table): 0 with *ret_needs_empty (the change also needs a zero balance
 * and no pending hold: closing); else ANFU_ECONFLICT with *ret_refusal
 * (account_closed: closed is terminal; account_state_invalid: the table
 * has no such change, a change to the same state included), or
 * ANFU_EINVAL for a state out of range. */
int ledger_acc_change(enum ledger_acc_state from, enum ledger_acc_state to, bool *ret_needs_empty,
		      const char **ret_refusal);

const char *ledger_hold_state_name(enum ledger_hold_state s);
int ledger_hold_state_parse(const char *name, enum ledger_hold_state *ret);
/* The state event ev leads a hold in state from to, in *ret; ANFU_ECONFLICT
 * when the table does not allow it (only a pending hold moves). */
int ledger_hold_next(enum ledger_hold_state from, enum ledger_hold_event ev,
		     enum ledger_hold_state *ret);

/* ---- account.c --------------------------------------------------------- */

/* The account row id into *ret (only when found: 0; ANFU_ENOTFOUND), its
 * balances checked against its flags (ANFU_ASSERT: the writer never
 * stores a row that breaks them). */
int ledger_account_read(struct anfu_db *db, const char *id, struct anfu_ledger_account *ret);
/* The account of s's owner, kind and asset into *ret: 0, ANFU_ENOTFOUND,
 * or the store's error. */
int ledger_account_find(struct anfu_db *db, const struct anfu_ledger_account_spec *s,
			struct anfu_ledger_account *ret);
/* An account of a request (read by ledger_account_send_reads, or moved
 * since) and found: true, with its balances asserted as
 * ledger_account_read does; false when not found. */
bool ledger_account_sent_ok(const struct anfu_ledger_account *a);
/* The accounts ids[0..n-1] read in statements sent without waiting
 * (anfu_db_send, one per LEDGER_READ_IDS ids): at the flush, take(ud, a)
 * gets each that exists (its balances asserted), in no order; an id
 * without an account gets nothing. rd must live until the flush. */
#define LEDGER_READ_IDS 64
struct ledger_reads {
	void (*take)(void *ud, const struct anfu_ledger_account *a);
	void *ud;
};
int ledger_account_send_reads(struct anfu_db *db, const char *const *ids, size_t n,
			      struct ledger_reads *rd);
/* The statement text "<head>$f, $f+1, ... $f+k-1<tail>" of k placeholders
 * into out (cap bytes; asserted to fit): statements whose IN lists vary
 * only in their length, never in a value. */
void ledger_sql_in_list(char *out, size_t cap, const char *head, size_t f, size_t k,
			const char *tail);
/* Writes the four balances of the n accounts a[0..n-1] (distinct ids),
 * each asserted as below, in one statement per LEDGER_BALANCE_ROWS of
 * them, sent without waiting (anfu_db_send; each must change its rows).
 * PostgreSQL parses and prepares the table's eight CHECK constraints
 * once per statement: one statement for many accounts saves that. */
#define LEDGER_BALANCE_ROWS (ANFU_LIMIT_SQL_PARAMS / 5)
int ledger_account_write_many(struct anfu_db *db, const struct anfu_ledger_account *a, size_t n);
/* ANFU_EINVAL unless spec fits the kind table; *ret_flags the kind's. */
int ledger_account_spec_check(const struct anfu_ledger_account_spec *s, uint32_t *ret_flags);
/* Asserts a's balances are >= 0 and its flags hold. */
void ledger_account_assert(const struct anfu_ledger_account *a);

/* An open request, run as a writer command (account.c). */
struct ledger_open {
	const struct anfu_ledger_account_spec *spec;
	uint32_t flags;
	struct anfu_ledger_account acc; /* out */
};
int ledger_open_cmd(struct anfu_tx *tx, struct ledger_open *o, int64_t now_ms);

/* ---- account_state.c -------------------------------------------------- */

/* A function run as a writer command (anfu_ledger_run). */
struct ledger_batch_ctx;
struct ledger_call {
	anfu_tx_fn fn;
	void *ud;
};
/* Runs c->fn in tx, tx marked as a writer command's meanwhile (and b as
 * its batch's context, for anfu_ledger_submit_in). */
int ledger_call_cmd(struct anfu_tx *tx, struct ledger_batch_ctx *b, struct ledger_call *c);
/* ANFU_EINVAL unless c is well-formed (see anfu_ledger_set_state); else 0
 * and *ret_to the state it asks for. */
int ledger_state_change_check(const struct anfu_ledger_state_change *c,
			      enum ledger_acc_state *ret_to);

/* ---- the writer's cursors (writer.c keeps them, transfer.c moves them) -- */

struct ledger_cursor {
	int64_t last_transfer; /* seq of the last journal row written */
	int64_t last_ts_us;    /* its ts_us */
};

/* What one command of a batch sees of the writer. */
struct ledger_batch_ctx {
	struct ledger_cursor cur; /* moved by each applied transfer */
	int64_t batch_seq;	  /* the batch's number (ledger_batch.seq) */
	int64_t now_ms;		  /* the clock, read once per batch */
	enum anfu_hash_alg hash;
	struct ledger_seal *seal; /* the writer's copy of its rows, or NULL */
};

/* ---- transfer.c -------------------------------------------------------- */

/* ANFU_EINVAL unless the n transfers of caller are well-formed (see
 * anfu_ledger_submit). */
int ledger_request_check(const char *caller, const struct anfu_ledger_transfer *t, size_t n);

/* Applies the request's transfers in tx, each chain (or lone transfer) in
 * a step of its own, filling results[0..n-1]. Returns 0 (each result its
 * outcome) or the store's error (the whole request undone). */
int ledger_request_apply(struct anfu_tx *tx, struct ledger_batch_ctx *b, const char *caller,
			 const struct anfu_ledger_transfer *t, size_t n,
			 struct anfu_ledger_result *results);

/* The expiry job's transfers: their caller (idempotency keys
 * "expiry.<hold id>", so a hold is closed on timeout at most once) and
 * their code. */
#define LEDGER_EXPIRY_CALLER "ledger.expiry"
#define LEDGER_EXPIRY_CODE "hold_expiry"

/* One pass of the expiry job, run as a writer command: at most max holds
 * that are pending and due (0 < expires_ms <= the batch's now_ms), after
 * the cursor (expires_ms, id) in that order, each closed by the outcome
 * its on_timeout names (a void: hold 'expired'; a post: 'posted') through
 * the transfer rules, with its journal row and audit record. */
struct ledger_expire {
	size_t max;		  /* 1..ANFU_LIMIT_LEDGER_EXPIRY_PASS */
	int64_t after_expires_ms; /* in/out: the cursor */
	char after_id[ANFU_ID_MAX];
	size_t expired, posted;				     /* out: holds closed */
	size_t refused;					     /* out: due holds the rules refused */
	const char *refusals[ANFU_LIMIT_LEDGER_EXPIRY_PASS]; /* out: their codes */
	bool more;					     /* out: the pass was full */
};
/* Returns 0 (counts in *e; refusals are logged, their holds stay pending)
 * or the store's error. */
int ledger_expire_pass(struct anfu_tx *tx, struct ledger_batch_ctx *b, struct ledger_expire *e);

/* ---- metrics.c --------------------------------------------------------- */

#define LEDGER_SIZE_BUCKETS 10	/* the batch size histogram's bounds */
#define LEDGER_REFUSAL_CODES 15 /* the refusals a transfer may get */

/* What the writer counts (relaxed atomics; any thread renders). */
struct ledger_metrics {
	_Atomic uint64_t size_bucket[LEDGER_SIZE_BUCKETS + 1]; /* last: +Inf */
	_Atomic uint64_t size_sum;
	struct anfu_hist latency;
	_Atomic uint64_t batches, batches_failed, transfers;
	_Atomic uint64_t waits; /* waits for more requests ([ledger] batch_wait_us) */
	_Atomic uint64_t refusals[LEDGER_REFUSAL_CODES];
};
/* A batch that took us microseconds: committed with rows journal rows,
 * or failed. */
void ledger_metrics_batch(struct ledger_metrics *m, int64_t rows, int64_t us, bool committed);
/* The writer began a wait for more requests before a batch. */
void ledger_metrics_wait(struct ledger_metrics *m);
/* A transfer refused with code (one of base/refusal.h's ledger codes). */
void ledger_metrics_refused(struct ledger_metrics *m, const char *code);

/* ---- writer.c ---------------------------------------------------------- */

enum ledger_req_kind {
	LEDGER_REQ_TRANSFERS,
	LEDGER_REQ_OPEN,
	LEDGER_REQ_EXPIRE,
	LEDGER_REQ_CALL
};
enum ledger_req_state {
	LEDGER_REQ_QUEUED,
	LEDGER_REQ_TAKEN,
	LEDGER_REQ_DONE
};

/* One request on the queue; lives on the submitting thread's stack. */
struct ledger_req {
	enum ledger_req_kind kind;
	const struct anfu_actor *actor;
	const char *caller;
	const struct anfu_ledger_transfer *t;
	size_t n;
	struct anfu_ledger_result *results; /* n; written by the writer */
	struct ledger_open *open;
	struct ledger_expire *expire;
	struct ledger_call *call;
	enum ledger_req_state state; /* under the queue's mutex */
	int rc;			     /* DONE: 0 or the failure */
	pthread_cond_t cv;	     /* its caller waits here (monotonic clock) */
	struct ledger_req *prev, *next;
};

struct anfu_ledger {
	struct anfu_tx_exec *tx;
	const struct anfu_ledger_config *cfg;
	enum anfu_hash_alg hash;
	pthread_mutex_t mu;
	pthread_cond_t work; /* the writer waits here for requests */
	struct ledger_req *head, *tail;
	size_t queued;
	bool started, stopping;
	pthread_t thread;
	struct ledger_metrics metrics;
	/* The wallet pass (wallets.c): its customer source and cursor. */
	anfu_ledger_customers_fn customers;
	void *customers_ud;
	char wallet_after[ANFU_ID_MAX];
};

/* Before the writer thread starts (in the starting thread, on its
 * connection): seals the rows a failed seal left after the head (the batch
 * committed, then the service stopped or crashed before another batch
 * sealed them), so the chain covers every row before any request. Nothing
 * to seal: an empty transaction. A failure is logged; the next batch's seal
 * covers those rows then. */
void ledger_seal_leftovers(struct anfu_ledger *l);
/* The writer thread's body (ud: the service). */
void *ledger_writer_main(void *ud);
/* Queues r and waits for its answer until deadline_ms (monotonic); see
 * anfu_ledger_submit for the results. */
int ledger_writer_call(struct anfu_ledger *l, struct ledger_req *r, int64_t deadline_ms);

#endif
