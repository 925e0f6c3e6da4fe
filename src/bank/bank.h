/*
 * bank: the bank channel (docs/bank.md): the connector interface every bank
 * is reached through (struct anfu_bank_ops), bank payments with a unique
 * serial each and one state table (bank/states.c), bank cards bound to a
 * customer, top-ups whose wallet credit commits in the same ledger
 * writer command as the payment's state change, and withdrawals whose
 * hold, review and postings commit with their state changes (a second
 * state table in bank/states.c).
 *
 * Owns the tables bank_card, bank_payment, bank_nonce, bank_withdrawal and
 * bank_withdraw_rules (src/bank/migrations/) and the [bank] options
 * (bank/options.c). Trusts
 * the connector for the bank's synchronous answers, and a callback only
 * after its signature, timestamp and nonce checked (bank/wire.c). Card
 * numbers are sealed by the vault and never logged. Thread-safe: each call
 * uses the calling thread's connection; ledger writes go through the
 * ledger's writer.
 */
#ifndef ANFU_BANK_BANK_H
#define ANFU_BANK_BANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rand.h"

struct anfu_actor;
struct anfu_config_table;
struct anfu_job_table;
struct anfu_migration_set;
struct anfu_tx;

/* ---- the connector interface ------------------------------------------ */

/* Sizes of the fields that cross the interface. */
#define ANFU_BANK_SERIAL_MAX 40 /* "bsn_" + 26: anfu_id_new's */
#define ANFU_BANK_CARD_MAX 20	/* 19 digits + NUL */
#define ANFU_BANK_MASKED_MAX 32 /* masked card or phone */
#define ANFU_BANK_REF_MAX 64	/* the bank's own reference */
#define ANFU_BANK_CODE_MAX 8	/* a verification code */
#define ANFU_BANK_ID_MAX 17	/* a bank code: [a-z0-9_], 1..16 */
#define ANFU_BANK_REASON_MAX 32 /* a bank's reason word */
#define ANFU_BANK_REQ_ID_MAX 65 /* a client request id: 1..64 */

/* What a bank answered to a request. ANFU_BANK_NO_ANSWER: the request may
 * or may not have reached the bank (timeout, lost connection): resolve by
 * querying by serial, never by sending again. */
enum anfu_bank_answer {
	ANFU_BANK_ACCEPTED = 1, /* taken; the result comes by callback (or query) */
	ANFU_BANK_DECLINED = 2, /* refused; nothing happened at the bank */
	ANFU_BANK_NO_ANSWER = 3,
};

/* A payment's status as the bank reports it (query, callback). */
enum anfu_bank_status {
	ANFU_BANK_ST_PENDING = 1,   /* still in progress */
	ANFU_BANK_ST_SUCCEEDED = 2, /* the money moved */
	ANFU_BANK_ST_FAILED = 3,    /* it did not, and never will */
	ANFU_BANK_ST_UNKNOWN = 4,   /* the bank has no such serial */
};

/* Binding a card: the card and its holder as the customer gave them. */
struct anfu_bank_card_check {
	const char *serial; /* unique per request */
	const char *card_number, *holder_name, *id_number;
};

/* The answer to a card check: on ACCEPTED the bank sent a code to the
 * phone it holds for the card (masked here). */
struct anfu_bank_card_answer {
	enum anfu_bank_answer answer;
	char reason[ANFU_BANK_REASON_MAX];	 /* DECLINED: why ("holder_mismatch" ...) */
	char phone_masked[ANFU_BANK_MASKED_MAX]; /* ACCEPTED */
};

/* A debit (top-up) or a credit (withdrawal) of a card. */
struct anfu_bank_payment_req {
	const char *serial;
	const char *card_number;
	int64_t amount;	      /* fen, > 0 */
	const char *currency; /* "CNY" */
};

struct anfu_bank_payment_answer {
	enum anfu_bank_answer answer;
	char reason[ANFU_BANK_REASON_MAX]; /* DECLINED */
	char bank_ref[ANFU_BANK_REF_MAX];  /* ACCEPTED, may be "" */
};

/* A payment's status (query, callback). */
struct anfu_bank_status_report {
	char serial[ANFU_BANK_SERIAL_MAX];
	enum anfu_bank_status status;
	int64_t amount; /* as the bank has it; 0 for UNKNOWN */
	char bank_ref[ANFU_BANK_REF_MAX];
};

/*
 * The connector of one bank. Real banks connect through exactly this; the
 * simulator's connector (bank/simconn.c) is one implementation. Every call
 * is synchronous and bounded by the connector's own timeout; each returns 0
 * with its answer written (a decline or NO_ANSWER is an answer, not an
 * error), or ANFU_EINVAL for bad arguments / a connector error that is
 * certain the request was not sent. Thread-safe; ud is the connector's.
 */
struct anfu_bank_ops {
	const char *name; /* "simulator" */
	/* Checks card + holder at the bank, which sends a code to its phone. */
	int (*card_verify)(void *ud, const struct anfu_bank_card_check *c,
			   struct anfu_bank_card_answer *ret);
	/* Confirms the code of the card check serial: ACCEPTED when it matches. */
	int (*card_confirm)(void *ud, const char *serial, const char *code,
			    struct anfu_bank_card_answer *ret);
	/* Debits a card (top-up). */
	int (*debit)(void *ud, const struct anfu_bank_payment_req *p,
		     struct anfu_bank_payment_answer *ret);
	/* Credits a card (withdrawal). */
	int (*credit)(void *ud, const struct anfu_bank_payment_req *p,
		      struct anfu_bank_payment_answer *ret);
	/* A payment's status by serial; NO_ANSWER in *ret_answer when the bank
	 * did not answer (ret then unwritten). */
	int (*query)(void *ud, const char *serial, enum anfu_bank_answer *ret_answer,
		     struct anfu_bank_status_report *ret);
	/* The statement file of day (YYYYMMDD) into a malloc'd text *ret
	 * (the caller's); NO_ANSWER as query. */
	int (*statement)(void *ud, const char *day, enum anfu_bank_answer *ret_answer, char **ret);
	void *ud;
};

/* ---- wire format (bank/wire.c): shared with anfu-banksim ---------------- */

/* The signed-message headers (docs/bank.md, "Messages and signatures"). */
#define ANFU_BANK_H_TIMESTAMP "X-Anfu-Timestamp"
#define ANFU_BANK_H_NONCE "X-Anfu-Nonce"
#define ANFU_BANK_H_SIGNATURE "X-Anfu-Signature"
/* Nonce: 32 lower-case hex characters. */
#define ANFU_BANK_NONCE_LEN 32

/* The bytes a message's signature covers, into a malloc'd *ret (*ret_len):
 * "ANFU-BANK-1\n<method>\n<path>\n<timestamp ms>\n<nonce>\n" + body.
 * Returns 0, ANFU_EINVAL for NULL or oversize parts. */
int anfu_bank_wire_signed_bytes(const char *method, const char *path, int64_t ts_ms,
				const char *nonce, const char *body, size_t body_len, char **ret,
				size_t *ret_len);

/* A callback body as parsed: {"serial": "...", "status": "succeeded" |
 * "failed", "amount": n, "currency": "CNY", "bank_ref": "..."} and nothing
 * else. */
struct anfu_bank_callback {
	char serial[ANFU_BANK_SERIAL_MAX];
	enum anfu_bank_status status; /* SUCCEEDED or FAILED */
	int64_t amount;
	char bank_ref[ANFU_BANK_REF_MAX];
};
/* Parses a callback body (len bytes, not NUL-terminated, untrusted).
 * Returns 0 and *ret, or ANFU_EINVAL for anything else (unknown or missing
 * fields, wrong types, an amount <= 0, an oversize string). */
int anfu_bank_callback_parse(const char *body, size_t len, struct anfu_bank_callback *ret);

/* The name of a status ("pending", "succeeded", ...), and back (0, or
 * ANFU_EINVAL for another word). */
const char *anfu_bank_status_name(enum anfu_bank_status s);
int anfu_bank_status_from(const char *s, enum anfu_bank_status *ret);

/* ---- the payment state table (bank/states.c) ---------------------------- */

/* The events of a payment's life. */
enum anfu_bank_event {
	ANFU_BANK_EV_SENT = 1,	  /* request sent, the bank accepted it */
	ANFU_BANK_EV_DECLINED,	  /* the bank refused it at once */
	ANFU_BANK_EV_NO_ANSWER,	  /* sent, no answer */
	ANFU_BANK_EV_CONFIRMED,	  /* callback or query: succeeded */
	ANFU_BANK_EV_FAILED,	  /* callback or query: failed */
	ANFU_BANK_EV_NOT_AT_BANK, /* query: the bank never had it */
};

/* The state a payment in state from goes to on ev ("created", "in_transit",
 * "unknown", "succeeded", "failed"), or NULL when the table has no such
 * row (the event is ignored: a late or duplicate report). */
const char *anfu_bank_transition(const char *from, enum anfu_bank_event ev);
/* True for succeeded and failed (nothing changes them any more). */
bool anfu_bank_state_final(const char *state);

/* The events of a withdrawal's life (the second table of bank/states.c). */
enum anfu_bank_wd_event {
	ANFU_BANK_WD_AUTO_APPROVE = 1, /* submitted: at or below the auto-review threshold */
	ANFU_BANK_WD_TO_REVIEW,	       /* submitted: above it, to the operators' queue */
	ANFU_BANK_WD_MAKER_APPROVE,    /* review: the first operator of a large amount */
	ANFU_BANK_WD_APPROVE,	       /* review: the (second) operator approves */
	ANFU_BANK_WD_REJECT,	       /* review: an operator rejects */
	ANFU_BANK_WD_SENT,	       /* approved: the credit accepted, or no answer */
	ANFU_BANK_WD_DECLINED,	       /* approved: the bank refused the credit at once */
	ANFU_BANK_WD_CONFIRMED,	       /* the bank paid the card */
	ANFU_BANK_WD_RETURNED,	       /* the bank failed the credit after taking it */
};

/* The state a withdrawal in state from goes to on ev ("submitted",
 * "review", "approved", "sent", "succeeded", "failed", "returned",
 * "rejected"), or NULL when the table has no such row (ignored). */
const char *anfu_bank_wd_transition(const char *from, enum anfu_bank_wd_event ev);

/* ---- the service -------------------------------------------------------- */

/* The [bank] options (bank/options.c). */
struct anfu_bank_config {
	char *connector;	   /* "none" | "simulator" */
	char *bank_id;		   /* the bank's code (ledger owner, callback path) */
	char *url;		   /* the simulator's base URL */
	char *ca_file;		   /* its TLS certificate (pinned) */
	char *public_key;	   /* its signing public key */
	int64_t timeout_ms;	   /* one request to the bank */
	int64_t query_after_s;	   /* in transit this long: the job queries */
	int64_t callback_window_s; /* a callback's timestamp within +- this */
	int64_t topup_max;	   /* fen, one top-up */
	int64_t topup_daily_max;   /* fen, a customer's top-ups of a day */
	/* Withdrawal rules (FUNC-OPS-02): the defaults of struct
	 * anfu_bank_wd_rules, overridden by the row operators change through
	 * four eyes (bank_withdraw_rules). */
	int64_t withdraw_min, withdraw_max;		  /* fen, one withdrawal */
	int64_t withdraw_daily_count, withdraw_daily_max; /* a customer's day */
	int64_t withdraw_fee_fixed, withdraw_fee_bp;	  /* fen + basis points */
	int64_t withdraw_auto_max;			  /* fen: at or below, no review */
	int64_t withdraw_large_over;			  /* fen: above, two operators */
	int64_t withdraw_stepup_over;			  /* fen: above, a recent step-up too */
	char *withdraw_cutoff; /* "HH:MM" Asia/Shanghai, or "none" (validated at start) */
};

struct anfu_bank;

/* A customer's identity in clear (from iam, through the module's
 * callback): heap strings or NULL, wiped by anfu_bank_identity_clear. */
struct anfu_bank_identity {
	char *real_name, *id_number, *phone;
};
typedef int (*anfu_bank_identity_fn)(void *ud, const char *user_id, struct anfu_bank_identity *ret);
void anfu_bank_identity_clear(struct anfu_bank_identity *id);

/* Queues a notice to user_id (its kind, and its text in both languages)
 * in tx: iam's anfu_iam_notify_user through the module. */
typedef int (*anfu_bank_notice_fn)(void *ud, struct anfu_tx *tx, const char *user_id,
				   const char *kind, const char *zh, const char *en);

struct anfu_ledger;
struct anfu_notify;
struct anfu_sigkey;
struct anfu_tx_exec;
struct anfu_vault;

/* What the service is made from; borrowed, must outlive it. */
struct anfu_bank_deps {
	const struct anfu_bank_config *cfg;
	struct anfu_tx_exec *tx;
	struct anfu_ledger *ledger;
	struct anfu_vault *vault;
	struct anfu_notify *notify;	    /* may be NULL: no notices */
	const struct anfu_bank_ops *ops;    /* NULL: no bank connected */
	const struct anfu_sigkey *bank_pub; /* verifies callbacks; NULL: none taken */
	anfu_bank_identity_fn identity;
	void *identity_ud;
	anfu_bank_notice_fn notice; /* may be NULL: no withdrawal notices */
	void *notice_ud;
};

/* Makes the service and, with a connector (d->ops), opens (idempotently,
 * through the writer, as the system) the bank's bank_reserve and
 * bank_clearing accounts and the platform's platform_fee (withdrawal
 * fees). *ret is the
 * caller's. Returns 0, ANFU_EINVAL for missing deps or a bad
 * bank_id or withdraw_cutoff, or the ledger's error. */
int anfu_bank_new(const struct anfu_bank_deps *d, struct anfu_bank **ret);

/* [bank] withdraw_cutoff s: "HH:MM" (00:00..23:59, exactly five chars) into
 * *ret_ms as ms after Shanghai midnight, or "none" into -1. Returns 0 or
 * ANFU_EINVAL (anything else; *ret_ms untouched). anfu_bank_new refuses a
 * configuration it refuses. */
int anfu_bank_cutoff_parse(const char *s, int64_t *ret_ms);
/* NULL-safe. */
void anfu_bank_free(struct anfu_bank *b);
/* The configured bank's code. */
const char *anfu_bank_id(const struct anfu_bank *b);

/* A bound (or binding) card as the customer sees it. */
struct anfu_bank_card {
	char id[ANFU_ID_MAX]; /* bcd_... */
	char bank_id[ANFU_BANK_ID_MAX];
	char masked[ANFU_BANK_MASKED_MAX]; /* first 6 + last 4 */
	char state[16];			   /* pending, bound, unbound, failed */
	char phone_masked[ANFU_BANK_MASKED_MAX];
	int64_t created_ms, bound_ms;
};

/* Cards one list returns at most. */
#define ANFU_BANK_CARDS_MAX 20

/*
 * Starts binding card_number (Luhn-valid digits) for customer actor->id:
 * holder_name and id_number must be the customer's verified identity in
 * iam and the bank's holder of the card; the bank sends a code to its
 * phone. Returns 0 with *ret_refusal NULL and *ret the pending card, or
 * with *ret_refusal a code (identity_mismatch, card_already_bound,
 * card_bound_elsewhere, card_declined, bank_unavailable) and nothing
 * written but its audit record; or an error.
 */
int anfu_bank_card_start(struct anfu_bank *b, const struct anfu_actor *actor,
			 const char *card_number, const char *holder_name, const char *id_number,
			 struct anfu_bank_card *ret, const char **ret_refusal);
/* Confirms the code of pending card card_id of actor->id: bound. Refusals:
 * not_found, conflict (not pending), code_invalid, card_bound_elsewhere,
 * bank_unavailable. */
int anfu_bank_card_confirm(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
			   const char *code, struct anfu_bank_card *ret, const char **ret_refusal);
/* Unbinds bound card card_id of actor->id. Refusals: not_found, conflict. */
int anfu_bank_card_unbind(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
			  const char **ret_refusal);
/* The pending and bound cards of user_id (at most cap, and
 * ANFU_BANK_CARDS_MAX), newest first; *ret_n how many. */
int anfu_bank_cards_list(struct anfu_bank *b, const char *user_id, struct anfu_bank_card *out,
			 size_t cap, size_t *ret_n);
/* Inside the caller's writer command tx: 0 with card_id's masked number
 * (first 6 + last 4) in ret_masked when card_id is a card of user_id in
 * state bound; ANFU_ENOTFOUND (ret_masked untouched) when it is another
 * user's, unknown, pending, unbound or failed; the store's errors. Reads
 * only. */
int anfu_bank_card_bound_in(struct anfu_bank *b, struct anfu_tx *tx, const char *user_id,
			    const char *card_id, char ret_masked[ANFU_BANK_MASKED_MAX]);

/* A bank payment (a top-up is a debit of the customer's card). */
struct anfu_bank_payment {
	char id[ANFU_ID_MAX]; /* bpy_... */
	char serial[ANFU_BANK_SERIAL_MAX];
	char kind[8]; /* "debit" (top-up) | "credit" (withdrawal) */
	char user_id[ANFU_ID_MAX];
	char card_id[ANFU_ID_MAX];
	char card_masked[ANFU_BANK_MASKED_MAX];
	int64_t amount;
	char currency[4];
	char state[16];
	char client_request_id[ANFU_BANK_REQ_ID_MAX];
	char reason[ANFU_BANK_REASON_MAX];
	char transfer_id[ANFU_ID_MAX]; /* the ledger transfer once succeeded */
	int64_t created_ms, updated_ms;
};

/* Payments one list returns at most. */
#define ANFU_BANK_PAYMENTS_MAX 50

/*
 * A top-up of amount fen (currency "CNY") from bound card card_id of
 * customer actor->id, idempotent per client_request_id: the same id with
 * the same card and amount returns the payment it made (*ret_existed);
 * with others refused idempotency_conflict. The payment is written
 * (created), sent to the bank (debit), and moved by the bank's answer:
 * in_transit (accepted), failed (declined: the customer is told), unknown
 * (no answer: the query job resolves it). The wallet is credited only
 * when the bank confirms (anfu_bank_callback, anfu_bank_query_due).
 * Refusals (nothing written): not_found (card), card_not_bound,
 * topup_limit_per_transaction, topup_limit_daily, idempotency_conflict,
 * bank_unavailable (no connector).
 */
int anfu_bank_topup(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
		    int64_t amount, const char *client_request_id, struct anfu_bank_payment *ret,
		    bool *ret_existed, const char **ret_refusal);
/* Payment id of user_id; ANFU_ENOTFOUND when it is not theirs. */
int anfu_bank_payment_get(struct anfu_bank *b, const char *user_id, const char *id,
			  struct anfu_bank_payment *ret);
/* The newest top-ups of user_id (at most cap, ANFU_BANK_PAYMENTS_MAX). */
int anfu_bank_payments_list(struct anfu_bank *b, const char *user_id, struct anfu_bank_payment *out,
			    size_t cap, size_t *ret_n);

/* A signed callback as the HTTP layer got it (all borrowed). */
struct anfu_bank_callback_msg {
	const char *bank_id; /* from the path */
	const char *method, *path;
	const char *timestamp, *nonce, *signature; /* headers, may be NULL */
	const char *body;
	size_t body_len;
};
/*
 * Takes a bank's result callback: checks the bank id, the signature
 * (the bank's public key), the timestamp (within callback_window_s of the
 * clock) and the nonce (never seen before, stored with the change), then
 * applies the result to the payment in one writer command: its state,
 * and on success of a top-up the ledger transfer bank_reserve ->
 * customer_wallet (code top_up, idempotency key "topup.<payment id>"),
 * the audit records and the customer's notice. A result for a payment
 * already final changes nothing (duplicate). Returns 0 with *ret_refusal
 * NULL (applied or duplicate), or a refusal: signature_invalid,
 * replayed (nonce seen, timestamp outside the window), not_found (serial
 * or bank), bank_amount_mismatch, invalid_request (body); or an error.
 */
int anfu_bank_callback(struct anfu_bank *b, const struct anfu_bank_callback_msg *m,
		       const char **ret_refusal);

/* What one query run did. */
struct anfu_bank_query_report {
	int64_t queried, resolved, unanswered;
};
/* Queries the bank for every payment in_transit or unknown whose last
 * change is query_after_s old or more (the clock), and every payment still
 * created (a crash lost its send's answer) older than that and than twice
 * timeout_ms, at most
 * ANFU_LIMIT_BANK_QUERY_BATCH, and applies each answer as a callback's
 * (succeeded, failed, not at the bank). Never sends a payment again. */
int anfu_bank_query_due(struct anfu_bank *b, struct anfu_bank_query_report *ret);

/* What one run of the withdrawal sender did. */
struct anfu_bank_send_report {
	int64_t due, sent; /* approved without a payment and due; of them, sent by this run */
};
/* Sends the credit of every approved withdrawal that has no bank payment
 * yet and whose send_after_ms is past (the clock): one left by a crash
 * between its approval and its send, or one approved after [bank]
 * withdraw_cutoff (docs/bank.md 7.4), at most ANFU_LIMIT_BANK_QUERY_BATCH
 * a run. Each is claimed in a writer command that writes its payment (a
 * new serial) only while it has none, so no credit is sent twice; a
 * payment already written (created) is the query job's, never sent again. */
int anfu_bank_withdraw_send_due(struct anfu_bank *b, struct anfu_bank_send_report *ret);

/* ---- withdrawals (bank/withdraw.c) ------------------------------------- */

/* The withdrawal rules in force (FUNC-OPS-02): amounts in fen. */
struct anfu_bank_wd_rules {
	int64_t min, max;		/* one withdrawal: min <= amount <= max */
	int64_t daily_count, daily_max; /* a customer's withdrawals of a day */
	int64_t fee_fixed, fee_bp;	/* fee = fee_fixed + floor(amount * fee_bp / 10000) */
	int64_t auto_max;		/* amount <= auto_max: approved without review */
	int64_t large_over;		/* amount > large_over: two operators approve */
	char approval_id[ANFU_ID_MAX];	/* the four-eyes request that set them; "" = options */
	int64_t updated_ms;
};

/* Bounds of a rule (the [bank] options' and the four-eyes payload's). */
#define ANFU_BANK_WD_AMOUNT_MAX 100000000 /* fen: 1 000 000 yuan */
#define ANFU_BANK_WD_DAILY_MAX 1000000000 /* fen: 10 000 000 yuan */
#define ANFU_BANK_WD_COUNT_MAX 100	  /* withdrawals a day */
#define ANFU_BANK_WD_FEE_FIXED_MAX 100000 /* fen: 1 000 yuan */
#define ANFU_BANK_WD_FEE_BP_MAX 1000	  /* 10 % */

/* The fee of a withdrawal of amount fen: fee_fixed + amount * fee_bp /
 * 10000 rounded down to the fen (in the customer's favour). Returns 0 and
 * *ret, ANFU_EINVAL for a negative input or bp above 10000, ANFU_ELIMIT
 * on overflow. */
int anfu_bank_wd_fee(int64_t amount, int64_t fee_fixed, int64_t fee_bp, int64_t *ret);

/* NULL when r is a consistent rule set within the bounds above (1 <= min
 * <= max, auto_max <= large_over, ...); else the name of the first field
 * that is not. */
const char *anfu_bank_wd_rules_invalid(const struct anfu_bank_wd_rules *r);

/* The rules in force: the operators' row when there is one, else the
 * [bank] options. */
int anfu_bank_wd_rules_get(struct anfu_bank *b, struct anfu_bank_wd_rules *ret);

/* A withdrawal as the customer and the operators see it. */
struct anfu_bank_withdrawal {
	char id[ANFU_ID_MAX]; /* bwd_... */
	char user_id[ANFU_ID_MAX];
	char card_id[ANFU_ID_MAX];
	char card_masked[ANFU_BANK_MASKED_MAX];
	int64_t amount, fee;
	char state[16];
	char review[8]; /* "auto" | "single" | "dual" */
	char request_id[ANFU_BANK_REQ_ID_MAX];
	char hold_id[ANFU_ID_MAX];
	char payment_id[ANFU_ID_MAX];
	char maker_id[ANFU_ID_MAX], checker_id[ANFU_ID_MAX];
	char reason[ANFU_LIMIT_ADMIN_REASON_API + 1]; /* a rejection's, or the bank's word */
	int64_t created_ms, updated_ms;
	int64_t send_after_ms; /* approved: its credit is sent from then on (0 before) */
	/* A refund credit (anfu_bank_refund_credit_in): the ledger account of
	 * its hold and the pay refund it pays; both "" for a withdrawal. */
	char hold_account[ANFU_ID_MAX];
	char refund_id[ANFU_ID_MAX];
};

/* True when a withdrawal of amount needs, besides the payment PIN, a
 * second factor proved within iam's step-up window (IAM-MFA-04): above
 * [bank] withdraw_stepup_over (0: every withdrawal). */
bool anfu_bank_wd_needs_step_up(const struct anfu_bank *b, int64_t amount);

/* Withdrawals one list returns at most. */
#define ANFU_BANK_WITHDRAWALS_MAX 50

/*
 * A withdrawal of amount fen from the wallet of customer actor->id to
 * their bound card card_id, idempotent per request_id (the same id with
 * the same card and amount answers the earlier one, *ret_existed; else
 * idempotency_conflict). The caller verified the payment PIN. One writer
 * command writes the row, holds amount + fee on the wallet
 * (customer_wallet -> bank_clearing, PENDING), re-checks the day's use,
 * audits and tells the customer; the rules then approve it at once (and
 * the credit is sent) or queue it for review. Refusals (nothing
 * written): not_found (card), card_not_bound, withdraw_below_min,
 * withdraw_above_max, withdraw_limit_daily_count,
 * withdraw_limit_daily_amount, idempotency_conflict, the ledger's
 * (insufficient_funds, account_frozen, account_closed ...),
 * bank_unavailable.
 */
int anfu_bank_withdraw(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
		       int64_t amount, const char *request_id, struct anfu_bank_withdrawal *ret,
		       bool *ret_existed, const char **ret_refusal);
/* An operator's decision on withdrawal id in review: approve (a large
 * amount needs two different operators: the first approval records the
 * maker and leaves it in review) or reject with reason (the hold voided,
 * the customer told). Refusals: not_found, withdraw_not_in_review,
 * withdraw_checker_is_maker. *ret the withdrawal as it is after. */
int anfu_bank_withdraw_decide(struct anfu_bank *b, const struct anfu_actor *actor, const char *id,
			      bool approve, const char *reason, struct anfu_bank_withdrawal *ret,
			      const char **ret_refusal);
/* Withdrawal id; of user_id only unless user_id is NULL (operators).
 * ANFU_ENOTFOUND otherwise. */
int anfu_bank_withdrawal_get(struct anfu_bank *b, const char *user_id, const char *id,
			     struct anfu_bank_withdrawal *ret);
/* The newest withdrawals of user_id (NULL: everyone's), in state (NULL:
 * any), at most cap and ANFU_BANK_WITHDRAWALS_MAX. */
int anfu_bank_withdrawals_list(struct anfu_bank *b, const char *user_id, const char *state,
			       struct anfu_bank_withdrawal *out, size_t cap, size_t *ret_n);

/* The four-eyes type "withdraw_rules" (bank/api: registered by the
 * module): its executor writes the rules row in tx. */
int anfu_bank_wd_rules_set(struct anfu_tx *tx, const struct anfu_bank_wd_rules *r,
			   const char *approval_id);

/* The Asia/Shanghai calendar day (UTC+8, no DST) of ms since the epoch as
 * YYYYMMDD: the day of daily limits (bank/wire.c). */
int64_t anfu_bank_day_cn(int64_t ms);

/* The simulator's connector (bank/simconn.c): HTTPS with libcurl to
 * cfg->url, the server certificate pinned to cfg->ca_file, each request
 * signed by sign(sign_ud, ...). *ret (ops + its state) is the caller's
 * (anfu_bank_simconn_free). */
typedef int (*anfu_bank_sign_fn)(void *ud, const void *msg, size_t len, uint8_t *sig,
				 size_t *siglen);
int anfu_bank_simconn_new(const struct anfu_bank_config *cfg, anfu_bank_sign_fn sign, void *sign_ud,
			  struct anfu_bank_ops **ret);
void anfu_bank_simconn_free(struct anfu_bank_ops *ops);

/* ---- refund credits (bank/withdraw.c; docs/bank.md "Refund credits") ---- */

/* A merchant's refund paid to the payer's bound card; strings borrowed. */
struct anfu_bank_refund_credit {
	const char *refund_id;	/* the caller's record: one credit per refund */
	const char *user_id;	/* the payer: their card is credited */
	const char *account_id; /* the ledger account the amount is held on */
	int64_t amount;		/* fen, >= 1 */
	/* A fee given back to account_id first (>= 0; 0: none), from
	 * fee_account, in the chain of the hold (the hold may use it); its
	 * transfer's ref (the caller's record, e.g. an order id). */
	int64_t fee_back;
	const char *fee_account, *ref;
	/* The card credited: card_id, a bound card of user_id (an operator's
	 * choice), or NULL: user_id's newest bound card. */
	const char *card_id;
	/* The refund's attempt: 0 or 1 its first credit (request id
	 * "refund:<refund_id>"), n >= 2 its (n - 1)-th re-send after a
	 * failure ("refund:<refund_id>:<n>"): one credit per request id. */
	int64_t attempt;
};

/*
 * Inside the caller's writer command tx: a credit of c->amount to bound
 * card c->card_id of c->user_id (NULL: their newest bound card), as a
 * withdrawal without fee, rules or
 * review: the row (approved at once; kept out of the customer's list and
 * daily use) and the hold c->account_id -> bank_clearing (PENDING, key
 * "wd.hold.<id>" of caller "bank"), with c->fee_back linked before it
 * ("wd.fee_back.<id>"; its transfer id in ret_fee_id, "" for none),
 * audited. The bank.withdraw_send job
 * (or anfu_bank_withdraw_send after the commit) sends it, the bank's
 * report ends it as a withdrawal's (posted, then clearing -> reserve; or
 * voided) and calls the refund hook in that command. Refusals (nothing
 * written): bank_unavailable, card_not_bound (no bound card; c->card_id
 * not a bound card of c->user_id), the
 * ledger's on the hold (insufficient_funds, account_frozen ...). *ret the
 * row as written.
 */
int anfu_bank_refund_credit_in(struct anfu_bank *b, struct anfu_tx *tx,
			       const struct anfu_bank_refund_credit *c,
			       struct anfu_bank_withdrawal *ret, char ret_fee_id[ANFU_ID_MAX],
			       const char **ret_refusal);

/* Refund credit id as it is inside the caller's command tx (its card_id
 * and state, ...): 0; ANFU_ENOTFOUND for no refund credit of that id. */
int anfu_bank_refund_credit_get_in(struct anfu_bank *b, struct anfu_tx *tx, const char *id,
				   struct anfu_bank_withdrawal *ret);

/* Sends the credit of approved withdrawal id now (not inside a writer
 * command): as the send job does, once; an error is logged and left to
 * the send and query jobs. */
void anfu_bank_withdraw_send(struct anfu_bank *b, const struct anfu_actor *actor, const char *id);

/* Called inside the command that ends refund credit w (the bank paid the
 * card: paid; else the hold was voided): the caller's rows in tx. A
 * negative return undoes the command (the report is applied again later). */
typedef int (*anfu_bank_refund_fn)(void *ud, struct anfu_tx *tx,
				   const struct anfu_bank_withdrawal *w, bool paid);
/* The bank of the bank module's started service svc (another module's
 * start finds svc in the app's services; defined in bank/api/module.c),
 * or NULL. */
struct anfu_bank *anfu_bank_of_service(void *svc);
/* Sets the refund hook (once, at start, before any request). */
void anfu_bank_set_refund_hook(struct anfu_bank *b, anfu_bank_refund_fn fn, void *ud);

/* Its migrations (generated) and its option table. */
extern const struct anfu_migration_set anfu_bank_migrations;
extern const struct anfu_config_table anfu_bank_config_table;

#endif
