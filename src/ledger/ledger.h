/*
 * ledger: the double-entry ledger (docs/ledger.md): accounts with four
 * balances (debits and credits, posted and pending), transfers between
 * them with client-chosen idempotency keys, two-phase holds and linked
 * chains, all written by one writer thread in batches (the single writer
 * of DESIGN.md), the journal hash-chained per batch.
 *
 * Owns the tables ledger_account, ledger_transfer, ledger_hold,
 * ledger_batch and ledger_head (src/ledger/migrations/); nothing else
 * writes them. Other services call anfu_ledger_submit() (synchronous from
 * the caller's view, with a deadline); only the writer thread writes.
 * Thread-safe: any thread may submit, open and read.
 */
#ifndef ANFU_LEDGER_LEDGER_H
#define ANFU_LEDGER_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "tx/tx.h"

struct anfu_actor;
struct anfu_buf;
struct anfu_config_table;
struct anfu_job_table;
struct anfu_migration_set;
struct anfu_tx_exec;

/* Account flags (ledger_account.flags), set from the account's kind. */
enum {
	/* debits_posted + debits_pending may not exceed credits_posted
	 * (liabilities the platform owes: wallets, merchant balances). */
	ANFU_LEDGER_ACC_DEBITS_MUST_NOT_EXCEED_CREDITS = 1u << 0,
	/* credits_posted + credits_pending may not exceed debits_posted
	 * (assets: the reserve at a bank). */
	ANFU_LEDGER_ACC_CREDITS_MUST_NOT_EXCEED_DEBITS = 1u << 1,
};

/* Transfer flags (ledger_transfer.flags). */
enum {
	/* This transfer and the next one of the request commit or fail
	 * together; the last of a chain has it clear. */
	ANFU_LEDGER_TRF_LINKED = 1u << 0,
	/* A hold: moves the amount into the pending balances. */
	ANFU_LEDGER_TRF_PENDING = 1u << 1,
	/* Posts the hold pending_id (all of it, or amount of it when
	 * amount > 0): the rest of the hold is released. */
	ANFU_LEDGER_TRF_POST_PENDING = 1u << 2,
	/* Releases the hold pending_id. */
	ANFU_LEDGER_TRF_VOID_PENDING = 1u << 3,
	/* amount = min(amount, what the debit account has: credits_posted -
	 * debits_posted - debits_pending). */
	ANFU_LEDGER_TRF_BALANCING_DEBIT = 1u << 4,
	/* amount = min(amount, what the credit account may take:
	 * debits_posted - credits_posted - credits_pending). */
	ANFU_LEDGER_TRF_BALANCING_CREDIT = 1u << 5,
};
#define ANFU_LEDGER_TRF_ALL ((1u << 6) - 1)

/* The [ledger] options (ledger/options.c). */
struct anfu_ledger_config {
	int64_t batch_max;     /* transfers in one writer batch */
	int64_t batch_wait_us; /* the writer's wait for more; 0: take what is queued */
	int64_t queue_max;     /* requests waiting for the writer */
};

/* What the service is made from; borrowed, must outlive it. */
struct anfu_ledger_deps {
	struct anfu_tx_exec *tx; /* every write goes through it */
	const struct anfu_ledger_config *cfg;
	enum anfu_hash_alg hash; /* the deployment's (the audit chain's) */
};

/* Sizes of the text fields of an account. */
#define ANFU_LEDGER_ASSET_MAX 8 /* "POINTS" */
#define ANFU_LEDGER_NAME_MAX 24 /* the longest kind, owner type, state */
#define ANFU_LEDGER_OWNER_MAX (ANFU_LIMIT_LEDGER_OWNER_BYTES + 1)

struct anfu_ledger_account {
	char id[ANFU_ID_MAX]; /* acc_... */
	char asset[ANFU_LEDGER_ASSET_MAX];
	char kind[ANFU_LEDGER_NAME_MAX];
	char owner_type[ANFU_LEDGER_NAME_MAX];
	char owner_id[ANFU_LEDGER_OWNER_MAX];
	uint32_t flags; /* ANFU_LEDGER_ACC_* */
	char state[ANFU_LEDGER_NAME_MAX];
	int64_t debits_pending, debits_posted, credits_pending, credits_posted;
	int64_t created_ms;
};

/* An account to open: kind (customer_wallet, merchant_pending,
 * merchant_settled, platform_escrow, platform_fee, bank_reserve,
 * bank_clearing, points_liability, customer_points, suspense), asset
 * ("CNY" | "POINTS": the kind's), owner_type (customer, merchant,
 * platform, bank: the kind's) and owner_id ([A-Za-z0-9_.-], 1..
 * ANFU_LIMIT_LEDGER_OWNER_BYTES). Borrowed. */
struct anfu_ledger_account_spec {
	const char *kind, *asset, *owner_type, *owner_id;
};

/* One transfer of a request; strings borrowed for the call. */
struct anfu_ledger_transfer {
	const char *idem_key; /* client-chosen, unique per caller, 1..IDEM_BYTES */
	const char *debit_account, *credit_account;
	int64_t amount;		/* fen or points, > 0; post: 0 = the whole hold */
	const char *asset;	/* "CNY" | "POINTS": both accounts' */
	const char *code;	/* why: payment, refund, top_up, fee ... [a-z_], 1..CODE_BYTES */
	const char *ref;	/* a reference (order id ...) or NULL / "" */
	uint32_t flags;		/* ANFU_LEDGER_TRF_* */
	const char *pending_id; /* POST_PENDING / VOID_PENDING: the hold; else NULL */
	int64_t timeout_ms;	/* PENDING: 0 = none; else 0 */
	const char *on_timeout; /* PENDING: "void" (NULL: "void") | "post"; else NULL */
};

/* The outcome of one transfer of a request. */
struct anfu_ledger_result {
	char id[ANFU_ID_MAX]; /* trf_...: the transfer's (or the earlier one's) */
	int64_t seq, ts_us;
	int64_t amount;	  /* as applied (after balancing, or the posted part) */
	bool existed;	  /* an idempotent replay of an earlier transfer */
	const char *code; /* NULL: applied (or existed); else its refusal
			   * (base/refusal.h), and nothing of it was written */
};

struct anfu_ledger;

/* Makes the service (not started). Returns 0, ANFU_EINVAL for missing
 * deps or options out of their range; *ret is the caller's. */
int anfu_ledger_new(const struct anfu_ledger_deps *d, struct anfu_ledger **ret);
/* Seals, in the calling thread's transaction (outside any other), the
 * journal rows a failed seal left after the head, then starts the writer
 * thread: it reads its cursors from ledger_head and the journal first.
 * Returns 0, ANFU_EINVAL when already started, or
 * ANFU_EINTERNAL when the thread cannot be made. */
int anfu_ledger_start(struct anfu_ledger *l);
/* Stops taking requests, lets the writer finish every queued one, joins
 * it and frees; NULL-safe. Call it when no other thread is inside a call
 * of l (a service that was never started must have an empty queue). */
void anfu_ledger_free(struct anfu_ledger *l);
/* Requests waiting for the writer (not yet taken). Requests may queue
 * before anfu_ledger_start(); the writer takes them once started. */
size_t anfu_ledger_queued(struct anfu_ledger *l);

/*
 * Opens the account spec describes, through the writer, with the audit
 * record "ledger.account_opened" of actor; or finds the one already open
 * for the same owner, kind and asset (idempotent; no record). Its flags
 * follow the kind (a table in account.c). *ret (only on success) is the
 * account. Returns 0; ANFU_EINVAL for a spec the kind table refuses (a
 * kind, asset or owner type that does not fit, a bad owner id); and
 * the errors of anfu_ledger_submit (overload, deadline, the store's).
 */
int anfu_ledger_open(struct anfu_ledger *l, const struct anfu_actor *actor,
		     const struct anfu_ledger_account_spec *s, int64_t deadline_ms,
		     struct anfu_ledger_account *ret);

/*
 * Submits the n transfers t[0..n-1] of caller (a service name or an actor
 * id, 1..ANFU_LIMIT_LEDGER_CALLER_BYTES) and waits for the writer's
 * answer. Consecutive transfers with LINKED set form a chain with the
 * first one after them that has it clear: they commit or fail together;
 * every other transfer stands alone. Each applied transfer has the audit
 * record "ledger.transfer" of actor (who asked).
 *
 * deadline_ms is on the monotonic clock (anfu_clock_mono_us() / 1000):
 * when it passes before the writer took the request, the request is
 * withdrawn and never applied (ANFU_ETIMEDOUT); once taken, the caller
 * waits for the answer.
 *
 * Returns 0 when the request was decided: results[i] (n of them) holds
 * each transfer's outcome: code NULL (applied, or existed: the same
 * idempotency key with the same content), or its refusal (a failed
 * chain: the failing member's code, ANFU_R_LEDGER_LINKED_EVENT_FAILED on
 * the others). Otherwise nothing was applied and results are unwritten:
 * ANFU_EINVAL for a malformed request (NULL or oversize fields, flags
 * that do not go together, a chain left open at the end, n of 0 or
 * beyond ANFU_LIMIT_LEDGER_REQUEST, the service stopping);
 * ANFU_EOVERLOAD when the queue is full; ANFU_ETIMEDOUT (deadline); the
 * batch's failure (the store's error, ANFU_EAUDIT).
 */
int anfu_ledger_submit(struct anfu_ledger *l, const struct anfu_actor *actor, const char *caller,
		       const struct anfu_ledger_transfer *t, size_t n, int64_t deadline_ms,
		       struct anfu_ledger_result *results);

/* The account id as committed (read on the calling thread's connection,
 * not through the writer); *ret only on success. ANFU_ENOTFOUND when there
 * is none, ANFU_EINVAL for NULL arguments. */
int anfu_ledger_account_get(struct anfu_ledger *l, const char *id, struct anfu_ledger_account *ret);

/* The account of s's owner, kind and asset as committed (or, on the
 * writer's thread inside a command, as the command sees it), read on the
 * calling thread's connection; *ret only on success. ANFU_ENOTFOUND when
 * none is open, ANFU_EINVAL for a spec the kind table refuses. */
int anfu_ledger_account_find(struct anfu_ledger *l, const struct anfu_ledger_account_spec *s,
			     struct anfu_ledger_account *ret);

/* ---- account states (ledger/account_state.c) ---- */

/* A change of an account's state (docs/ledger.md, "Account states and
 * operator changes"); strings borrowed for the call. */
struct anfu_ledger_state_change {
	const char *account_id;
	const char *to;		 /* "normal", "frozen_debit", "frozen_credit", "frozen", "closed" */
	const char *reason;	 /* why: 1..ANFU_LIMIT_ADMIN_REASON bytes of UTF-8, no
				  * control characters */
	const char *approval_id; /* the four-eyes approval that decided it, or NULL */
};

/* The outcome of a state change. */
struct anfu_ledger_state_result {
	const char *code;		 /* NULL: changed; else its refusal (account_not_found,
			   * account_closed, account_state_invalid,
			   * account_not_empty) and nothing was written */
	char from[ANFU_LEDGER_NAME_MAX]; /* changed: the state it left */
	struct anfu_ledger_account acc;	 /* changed: the account as it is now */
};

/*
 * Changes an account's state through the writer, with the audit record
 * "ledger.account.state" of actor (details: from, to, reason and the
 * approval id when there is one) in the same transaction. The change
 * must be a row of the change table (ledger/states.c): between normal
 * and the frozen states and among those; to closed from any of them
 * only when the account is empty (debits and credits posted equal,
 * nothing pending, no pending hold on it); closed is terminal.
 *
 * Returns 0 when the change was decided: *ret (only then) holds its
 * outcome (code NULL: changed; else the refusal, nothing written).
 * Otherwise: ANFU_EINVAL for a malformed change (NULL account id, a
 * state that is not one, a missing or bad reason); and
 * anfu_ledger_submit's errors (overload, deadline, the store's).
 */
int anfu_ledger_set_state(struct anfu_ledger *l, const struct anfu_actor *actor,
			  const struct anfu_ledger_state_change *c, int64_t deadline_ms,
			  struct anfu_ledger_state_result *ret);

/* NULL when the change table lets an account in state from change to
 * state to (a close still needs the account empty when it runs); else the
 * refusal: account_closed (closed is terminal), account_state_invalid (no
 * such change, or a name that is not a state). */
const char *anfu_ledger_state_refusal(const char *from, const char *to);

/* Audit records a function run by anfu_ledger_run may stage: its weight
 * in a writer batch, so that a batch stays within one transaction's
 * records (a four-eyes decision stages three: approved, executed or
 * failed, and the state change's). */
#define ANFU_LEDGER_RUN_RECORDS 4

/*
 * Runs fn(tx, ud) as one command of a writer batch (in its savepoint,
 * committed with the batch), tx's actor being actor: for a change whose
 * other rows must commit with a state change, the decision of a four-eyes
 * approval (ledger/api/approvals.c). fn stages at most
 * ANFU_LEDGER_RUN_RECORDS audit records. Returns fn's result (a refusal
 * undid what fn wrote and staged), or anfu_ledger_submit's errors.
 */
int anfu_ledger_run(struct anfu_ledger *l, const struct anfu_actor *actor, anfu_tx_fn fn, void *ud,
		    int64_t deadline_ms);

/* anfu_ledger_run with the command's weight in a batch given: the
 * transfers fn submits (anfu_ledger_submit_in) plus the audit records it
 * stages, 1..ANFU_LIMIT_LEDGER_REQUEST (else ANFU_EINVAL). A service whose
 * own rows must commit with its transfers (a withdrawal and its hold, a
 * transfer and its confirmation row) runs them so. */
int anfu_ledger_run_weighted(struct anfu_ledger *l, const struct anfu_actor *actor, anfu_tx_fn fn,
			     void *ud, size_t weight, int64_t deadline_ms);

/*
 * anfu_ledger_submit inside fn of anfu_ledger_run(_weighted), on tx (its
 * command's): the n transfers applied in the command's transaction, each
 * with its "ledger.transfer" record as tx's actor's; results[i] as
 * anfu_ledger_submit's (a refusal wrote nothing of its transfer or its
 * chain; fn decides whether to go on or to return a negative code, which
 * undoes everything the command wrote). Returns 0; ANFU_EINVAL for a
 * malformed request or when tx is not a running command's; or the store's
 * error (fn should return it).
 */
int anfu_ledger_submit_in(struct anfu_tx *tx, const char *caller,
			  const struct anfu_ledger_transfer *t, size_t n,
			  struct anfu_ledger_result *results);

/*
 * anfu_ledger_set_state inside fn of anfu_ledger_run, on tx (its
 * command's): the change and its record as tx's actor's. Returns 0 with
 * *ret as anfu_ledger_set_state; ANFU_EINVAL for a malformed change or
 * when tx is not the transaction of a running anfu_ledger_run command
 * (no ledger row is written outside the writer); or the store's error.
 */
int anfu_ledger_set_state_in(struct anfu_tx *tx, const struct anfu_ledger_state_change *c,
			     struct anfu_ledger_state_result *ret);

/* What one run of the hold expiry did. */
struct anfu_ledger_expiry_report {
	int64_t passes;	 /* writer requests (each at most EXPIRY_PASS holds) */
	int64_t expired; /* holds voided on timeout: state 'expired' */
	int64_t posted;	 /* holds posted on timeout: state 'posted' */
	int64_t refused; /* due holds the rules refused (a post into an
			  * account frozen since): still pending, logged */
};

/*
 * Closes every hold that is pending and due on the injectable clock
 * (0 < expires_ms <= now) by the outcome its on_timeout names, through
 * the writer, in passes of at most ANFU_LIMIT_LEDGER_EXPIRY_PASS holds
 * (and batch_max), at most ANFU_LIMIT_LEDGER_EXPIRY_PASSES of them (the
 * rest: the next run). Each closing transfer has caller "ledger.expiry",
 * idempotency key "expiry.<hold id>", code "hold_expiry", and its audit
 * record as the system actor. deadline_ms (monotonic) bounds each pass's
 * wait for the writer. Returns 0 and *ret; or the first failing pass's
 * error (anfu_ledger_submit's), the passes before it committed.
 */
int anfu_ledger_expire_due(struct anfu_ledger *l, int64_t deadline_ms,
			   struct anfu_ledger_expiry_report *ret);

/* Its jobs (ledger/jobs.c: "ledger.hold_expiry", every second;
 * "ledger.wallets", anfu_ledger_wallet_pass every 10 minutes), each with
 * the service as ud. */
extern const struct anfu_job_table anfu_ledger_jobs;

/* ---- history (ledger/history.c) ---- */

/* An opaque page cursor ("" for none) and its size. */
#define ANFU_LEDGER_CURSOR_MAX 24

/* One journal row as an account's history shows it. */
struct anfu_ledger_entry {
	char id[ANFU_ID_MAX]; /* trf_... */
	int64_t seq, ts_us;   /* the writer's order and time */
	int64_t amount;	      /* as applied */
	char debit_account[ANFU_ID_MAX], credit_account[ANFU_ID_MAX];
	bool debit; /* the account asked about is the debit side */
	char asset[ANFU_LEDGER_ASSET_MAX];
	char code[ANFU_LIMIT_LEDGER_CODE_BYTES + 1];
	char ref[ANFU_LIMIT_LEDGER_REF_BYTES + 1];
	uint32_t flags;		      /* ANFU_LEDGER_TRF_* */
	char pending_id[ANFU_ID_MAX]; /* post / void: the hold; else "" */
	/* A hold (PENDING): its state now ("pending", "posted", "voided",
	 * "expired"); else "". */
	char hold_state[ANFU_LEDGER_NAME_MAX];
};

/*
 * The committed transfers of account_id (either side), newest first: at
 * most limit (1..ANFU_LIMIT_LEDGER_HISTORY) of them into out, their count
 * in *ret_n, and in next the cursor of the page after (or "" when this
 * was the last). cursor: NULL or "" for the newest page, else a next this
 * call returned (pages never shift as transfers are added). Read on the
 * calling thread's connection, not through the writer. *ret_n and next
 * only on success (out's entries may be written on a failure). Returns 0; ANFU_EINVAL for NULL arguments, a limit out of
 * range or a cursor this call did not make; ANFU_ENOTFOUND for no such
 * account; or the store's error.
 */
int anfu_ledger_history(struct anfu_ledger *l, const char *account_id, const char *cursor,
			size_t limit, struct anfu_ledger_entry *out, size_t *ret_n,
			char next[ANFU_LEDGER_CURSOR_MAX]);

/* A transfer's code (why: payment, refund, fee, ...): 1..
 * ANFU_LIMIT_LEDGER_CODE_BYTES of [a-z_]; what callers may filter by. */
bool anfu_ledger_code_ok(const char *s);

/* ---- statements (ledger/statement.c) ---- */

/* A statement's cursor: a ledger cursor, a balance and a 32-hex MAC. */
#define ANFU_LEDGER_STATEMENT_CURSOR_MAX 96

/* The caller's keyed MAC of a cursor's text (its own purpose). */
typedef int (*anfu_ledger_mac_fn)(void *ud, const char *text, size_t len, uint8_t out[32]);
/* The caller's view of row e of the statement, with the posted balance
 * after it; index: the number of rows kept before it on this page. Sets
 * *ret_keep when it shows the row (it passed the caller's filters). */
typedef int (*anfu_ledger_row_fn)(void *ud, const struct anfu_ledger_entry *e,
				  int64_t balance_after, size_t index, bool *ret_keep);

/* Whether a statement shows row e: a hold while it is pending (once posted,
 * its posting is the row; a voided or expired hold moved no money), never
 * a void, every other transfer. */
bool anfu_ledger_entry_shown(const struct anfu_ledger_entry *e);

struct anfu_ledger_statement_req {
	const char *account;	/* acc_... */
	const char *scope;	/* what the cursor's MAC binds (the user, the merchant) */
	const char *cursor;	/* NULL / "": the newest page; else a next of this scope */
	int64_t from_ms, to_ms; /* [from, to) of the writer's time; 0: unbounded */
	size_t limit;		/* rows kept: 1..ANFU_LIMIT_LEDGER_HISTORY */
	size_t scan_max;	/* rows read at most for one page (>= limit) */
	anfu_ledger_mac_fn mac;
	void *mac_ud;
	anfu_ledger_row_fn row;
	void *row_ud;
};

/*
 * The statement of q->account, newest first: each row with the posted
 * balance after it, computed backwards from balance_now (the account's
 * posted balance in the same read snapshot as these reads: the caller
 * begins it), through q->row until q->limit rows are kept, the history
 * or the time range ends, or q->scan_max rows were read. Holds count 0
 * towards the balance, postings their amount. *ret_n: the rows kept;
 * next: the cursor of the page after, "" when there is none. Returns 0;
 * ANFU_EINVAL for bad arguments or a cursor whose MAC is not this scope's;
 * the row function's, the ledger's or the store's error.
 */
int anfu_ledger_statement(struct anfu_ledger *l, const struct anfu_ledger_statement_req *q,
			  int64_t balance_now, size_t *ret_n,
			  char next[ANFU_LEDGER_STATEMENT_CURSOR_MAX]);

/* ---- wallets (ledger/wallets.c) ---- */

/* A source of customer ids: at most cap ids after `after` ("": the
 * first), in id order, into ids, their count in *ret_n (fewer than cap:
 * the last page). Returns 0 or an error. */
typedef int (*anfu_ledger_customers_fn)(void *ud, const char *after, char (*ids)[ANFU_ID_MAX],
					size_t cap, size_t *ret_n);
/* Sets the wallet pass's source (ud borrowed, must outlive the service).
 * Returns 0, ANFU_EINVAL for NULL. */
int anfu_ledger_set_customers(struct anfu_ledger *l, anfu_ledger_customers_fn fn, void *ud);
/* Opens (idempotently, through the writer, as the system actor) the
 * customer's CNY wallet (customer_wallet) and points account
 * (customer_points). Returns 0, or anfu_ledger_open's error (the accounts
 * opened before it stay). */
int anfu_ledger_open_wallets(struct anfu_ledger *l, const char *customer_id, int64_t deadline_ms);

/* What one wallet pass did. */
struct anfu_ledger_wallet_report {
	int64_t pages;	   /* pages of ids asked of the source */
	int64_t customers; /* customers looked at */
	int64_t opened;	   /* customers that lacked an account (now opened) */
	bool complete;	   /* the sweep reached the last customer */
};
/* Opens the missing accounts of the customers the source lists, from
 * where the last pass stopped, at most ANFU_LIMIT_LEDGER_WALLET_PAGES
 * pages of ANFU_LIMIT_LEDGER_WALLET_PAGE ids; a sweep that reached the
 * end starts over next time. deadline_ms bounds each open's wait for the
 * writer. Returns 0 and *ret; ANFU_EINVAL without a source; the source's
 * or an open's error (the cursor then stays where the pass began). */
int anfu_ledger_wallet_pass(struct anfu_ledger *l, int64_t deadline_ms,
			    struct anfu_ledger_wallet_report *ret);

/* Appends the service's Prometheus lines (svc: a struct anfu_ledger;
 * the module's metrics function): anfu_ledger_batch_transfers (histogram
 * of the journal rows of each committed batch),
 * anfu_ledger_batch_duration_seconds (histogram), anfu_ledger_batches_total
 * {outcome}, anfu_ledger_transfers_total, anfu_ledger_queue_depth (gauge),
 * anfu_ledger_refusals_total{code} (every ledger refusal, 0 included).
 * Returns 0, ANFU_EINVAL for NULL, or the buffer's ANFU_ELIMIT. */
int anfu_ledger_metrics(void *svc, struct anfu_buf *out);

/* Its migrations (generated) and its option table. */
extern const struct anfu_migration_set anfu_ledger_migrations;
extern const struct anfu_config_table anfu_ledger_config_table;

#endif
