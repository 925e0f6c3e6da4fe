/*
 * wallet: money between customers (docs/wallet.md): transfers (转账) to
 * another customer in two steps (a preview bound to the values shown, a
 * confirmation with the payment PIN and, above the PIN-only limits, a
 * fresh second factor), the payment limits per authentication method,
 * per transaction and per calendar day (RISK-LIM-01..03), and the
 * customer's history and balance (FUNC-PAY-15).
 *
 * Owns the tables wallet_confirmation, wallet_transfer, wallet_customer_limit and
 * wallet_limit_usage (src/wallet/migrations/). Moves money only through
 * the ledger's single writer: a transfer's row, its usage of the day's
 * limit, its ledger transfer, its audit record and its notices are one
 * writer command (anfu_ledger_run_weighted). Knows people only through
 * iam's functions (wallet/payee.c): the payee and the parties' masked
 * names, and their notices (anfu_iam_notify_user).
 *
 * Thread-safe: any HTTP worker may call it; reads use the calling
 * thread's connection.
 */
#ifndef ANFU_WALLET_WALLET_H
#define ANFU_WALLET_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/mask.h"
#include "base/money.h"
#include "base/rand.h"

struct anfu_actor;
struct anfu_config_table;
struct anfu_db;
struct anfu_iam;
struct anfu_keys;
struct anfu_ledger;
struct anfu_migration_set;
struct anfu_tx;
struct anfu_tx_exec;

/* The [wallet] options (wallet/options.c); amounts in fen. */
struct anfu_wallet_config {
	int64_t pin_single_max; /* PIN only: one transfer (RISK-LIM-01, -02) */
	int64_t pin_daily_max;	/* PIN only: the day's outgoing total (RISK-LIM-01, -03) */
	int64_t otp_single_max; /* PIN + a second factor */
	int64_t otp_daily_max;
	int64_t totp_single_max; /* PIN + TOTP (RISK-LIM-01: by the factor used) */
	int64_t totp_daily_max;
	int64_t confirm_ttl_s;	  /* a preview's confirmation stays valid (TX-CONFIRM-01) */
	int64_t sms_confirm_over; /* above it the confirm also needs an SMS code bound to
				   * the confirmation (IAM-MFA-11, TX-CONFIRM-02) */
};

/* How a payment was authenticated, weakest first (RISK-LIM-01). */
enum anfu_wallet_auth {
	ANFU_WALLET_AUTH_PIN = 0,      /* the payment PIN alone */
	ANFU_WALLET_AUTH_PIN_OTP = 1,  /* the PIN and an SMS or email code
				       * presented after the preview */
	ANFU_WALLET_AUTH_PIN_TOTP = 2, /* the PIN and a TOTP code presented
					* after the preview */
};
#define ANFU_WALLET_AUTH_N 3

/* The method a second factor (iam's principal mfa_method: "totp",
 * "sms", "email"; "" for a session from before iam recorded it) makes
 * with the PIN: TOTP is PIN_TOTP, anything else PIN_OTP. */
enum anfu_wallet_auth anfu_wallet_auth_of_factor(const char *mfa_method);

/* The limits of one authentication method, and the names of their
 * options (a refusal names the one it hit). */
struct anfu_wallet_limit {
	int64_t single_max, daily_max;
	const char *single_name, *daily_name; /* static */
};

/* What the service is made from; borrowed, must outlive it. */
struct anfu_wallet_deps {
	const struct anfu_wallet_config *cfg;
	struct anfu_ledger *ledger;   /* every money movement */
	struct anfu_tx_exec *tx;      /* the confirmation rows (not money) */
	struct anfu_iam *iam;	      /* the parties (masked) and their notices */
	const struct anfu_keys *keys; /* the MAC of history cursors */
};

struct anfu_wallet;

/* Makes the service. Returns 0, ANFU_EINVAL for missing deps or limits
 * that do not rise with the method (PIN <= PIN+OTP <= PIN+TOTP, single
 * and daily each; a single limit above its daily one); *ret is the
 * caller's. */
int anfu_wallet_new(const struct anfu_wallet_deps *d, struct anfu_wallet **ret);
/* NULL-safe. */
void anfu_wallet_free(struct anfu_wallet *w);

/* ---- limits (wallet/limits.c) ---- */

/* The method's name in rows and answers: "pin" | "pin_otp" | "pin_totp". */
const char *anfu_wallet_auth_name(enum anfu_wallet_auth a);

/* The limits of auth under w's options; *ret only on success. ANFU_EINVAL
 * for an unknown method. */
int anfu_wallet_limit_of(const struct anfu_wallet *w, enum anfu_wallet_auth auth,
			 struct anfu_wallet_limit *ret);

/* Pure: NULL when amount (> 0) fits lim after used (today's total so
 * far, >= 0); else the refusal (ANFU_R_WALLET_LIMIT_SINGLE when amount is
 * above the single limit, ANFU_R_WALLET_LIMIT_DAILY when used + amount is
 * above the daily one or overflows), with *ret_limit the option it hit. */
const char *anfu_wallet_limits_decide(const struct anfu_wallet_limit *lim, int64_t used,
				      int64_t amount, const char **ret_limit);

/* Today's outgoing total of user_id (day: anfu_clock_day_cn) as db sees
 * it; 0 when none. Returns 0 or the store's error. */
int anfu_wallet_limits_used(struct anfu_db *db, const char *user_id, int64_t day,
			    int64_t *ret_used);

/*
 * The limit check other services call inside their writer command (tx of
 * anfu_ledger_run_weighted's fn): decides amount for user_id authenticated
 * by auth at now_ms against the day's total, and when it fits records it
 * in the same transaction (so two commands can never both pass one cap:
 * the writer runs them one after the other, and on PostgreSQL the
 * record is a conditional update that another node's writer waits on).
 * Returns 0 with *ret_refusal NULL (recorded) or the refusal and
 * *ret_limit (nothing recorded); ANFU_EINVAL for bad arguments; or the
 * store's error (fn should return it).
 */
int anfu_wallet_limits_check_in(struct anfu_wallet *w, struct anfu_tx *tx, const char *user_id,
				enum anfu_wallet_auth auth, int64_t amount, int64_t now_ms,
				const char **ret_refusal, const char **ret_limit);

/* A customer's own lower limits (RISK-LIM-04), fen; both 0 when the
 * customer set none. */
struct anfu_wallet_own_limits {
	int64_t single_max, daily_max;
	int64_t updated_ms;
};

/* The names of the customer's own limits in refusals' field. */
#define ANFU_WALLET_OWN_SINGLE "customer_single_max"
#define ANFU_WALLET_OWN_DAILY "customer_daily_max"

/* user_id's own limits as db sees it (*ret zeroed when none). Returns 0
 * or the store's error. */
int anfu_wallet_own_limits_get(struct anfu_db *db, const char *user_id,
			       struct anfu_wallet_own_limits *ret);

/* Pure: lim lowered to own where own is lower (and set), the lowered
 * limit then named ANFU_WALLET_OWN_SINGLE / _DAILY. */
void anfu_wallet_limit_lower(struct anfu_wallet_limit *lim,
			     const struct anfu_wallet_own_limits *own);

/* The system's ceiling for own limits: the strongest method's limits. */
void anfu_wallet_limit_ceiling(const struct anfu_wallet *w, struct anfu_wallet_limit *ret);

/*
 * Sets user_id's own limits (RISK-LIM-04): a sensitive-parameter change,
 * so the caller passes whether the session stepped up recently
 * (stepped_up, from iam). One writer command writes the row and the
 * audit record "wallet.limits.changed" (old and new values). Refusals
 * (*ret_refusal, *ret_field; nothing written): step_up_required,
 * out_of_range (single_max / daily_max above the system's ceiling,
 * anfu_wallet_limit_ceiling), invalid_request (single_max above
 * daily_max, field single_max). Returns 0 (*ret_refusal NULL: set);
 * ANFU_EINVAL for bad arguments (amounts < 1); or the writer's and the
 * store's errors.
 */
int anfu_wallet_own_limits_set(struct anfu_wallet *w, const struct anfu_actor *actor,
			       const char *user_id, int64_t single_max, int64_t daily_max,
			       bool stepped_up, const char **ret_refusal, const char **ret_field);

/* ---- transfers (wallet/transfer.c) ---- */

/* A preview asked for; strings borrowed. */
struct anfu_wallet_preview_req {
	const char *payer_id; /* the caller (usr_...) */
	const char *to;	      /* the payee's mobile number, email or login name */
	int64_t amount;	      /* fen, 1..ANFU_LIMIT_WALLET_AMOUNT */
	const char *memo;     /* or NULL */
};

/* What the payer is shown before confirming (TX-CONFIRM-01). */
struct anfu_wallet_preview {
	const char *code;  /* NULL: made; else the refusal (nothing written) */
	const char *field; /* the refusal's field or limit name, or NULL */
	char confirmation_id[ANFU_ID_MAX];
	char payee_name[ANFU_MASK_MAX];	 /* masked real name, or "" */
	char payee_login[ANFU_MASK_MAX]; /* masked login */
	int64_t amount;
	char words[ANFU_MONEY_WORDS_MAX]; /* 壹佰元整 */
	char figures[32];		  /* "100.00" */
	int64_t created_ms, expires_ms;
	enum anfu_wallet_auth auth; /* the weakest method that allows it */
	bool second_factor;	    /* auth needs a second factor */
	bool sms_code;		    /* an SMS code naming the amount and the payee was sent
				     * for this confirmation (amount > sms_confirm_over) */
	struct anfu_wallet_limit limit;
	int64_t used_today;
	int64_t available; /* the payer's available balance now */
};

/*
 * Checks a transfer and, when it may run, stores its confirmation (the
 * payer, the payee, the amount, the memo and the time, with their hash)
 * valid for confirm_ttl_s on the clock, with the audit record
 * "wallet.transfer.previewed". Refusals (ret->code): payee_not_found,
 * transfer_to_self, the ledger's account_frozen / account_closed (either
 * wallet), insufficient_funds, limit_single_exceeded /
 * limit_daily_exceeded (of the strongest method; field: the limit),
 * no_delivery_channel (the amount needs an SMS code and the payer has no
 * bound phone). Above sms_confirm_over the same command has iam send the
 * payer an SMS code bound to the confirmation (anfu_iam_tx_code_send),
 * its text naming the amount and the masked payee.
 * Returns 0 with *ret (only then); ANFU_EINVAL for bad arguments; or the
 * store's error.
 */
int anfu_wallet_preview(struct anfu_wallet *w, const struct anfu_actor *actor,
			const struct anfu_wallet_preview_req *req, struct anfu_wallet_preview *ret);

/* A confirmation; strings borrowed. The PIN was verified by the caller. */
struct anfu_wallet_confirm_req {
	const char *payer_id;
	const char *confirmation_id;
	const char *request_id; /* client idempotency key, 1..REQUEST_ID_BYTES */
	int64_t amount;		/* as the payer saw it: must equal the preview's */
	int64_t mfa_ms;		/* the session's last second factor (0: none) */
	const char *mfa_method; /* ... and its method ("sms", "email", "totp", "") */
	/* The right PIN's success when still to be recorded (iam), or NULL:
	 * recorded inside the transfer's writer command when it commits,
	 * else in a transaction of its own before anfu_wallet_confirm()
	 * returns (a refusal, a replay, an error). */
	struct anfu_iam_pin_ok *pin;
	/* The SMS code of the confirmation (needed when its preview sent one),
	 * or NULL. */
	const char *sms_code;
};

/* A transfer as the payer sees it. */
struct anfu_wallet_transfer {
	const char *code;  /* NULL: done (or existed); else the refusal */
	const char *field; /* the refusal's field or limit name, or NULL */
	char id[ANFU_ID_MAX];
	char ledger_id[ANFU_ID_MAX];
	char payee_name[ANFU_MASK_MAX], payee_login[ANFU_MASK_MAX];
	int64_t amount, created_ms;
	const char *auth; /* "pin" | "pin_otp" | "pin_totp" */
	int64_t balance;  /* the payer's posted balance after it */
	bool existed;	  /* the same request id confirmed it before */
};

/*
 * Runs a previewed transfer as one writer command: marks the
 * confirmation used, records the day's usage (anfu_wallet_limits_check_in),
 * writes the transfer row, posts the ledger transfer customer_wallet ->
 * customer_wallet (caller "wallet", key "trf.<id>", code "transfer"),
 * stages "wallet.transfer" and queues a notice to each party. The same
 * request id with the same confirmation and amount answers the transfer
 * it made (existed); with anything else: idempotency_conflict.
 * Refusals (ret->code; nothing written): confirmation_not_found (unknown
 * or another payer's), confirmation_expired, confirmation_used,
 * confirmation_mismatch (another amount), step_up_required (the preview
 * asked for a second factor and none came after it), code_invalid /
 * code_expired (field sms_code: the preview sent an SMS code and it is
 * missing, wrong, used or expired; a wrong one counts an attempt on the
 * code, checked in a writer command of its own before the transfer's, so
 * a right code is used up even when the transfer is then refused), the
 * limits', the ledger's (insufficient_funds, account_frozen,
 * account_closed).
 * Returns 0 with *ret; ANFU_EINVAL for bad arguments; or the writer's
 * and the store's errors.
 */
int anfu_wallet_confirm(struct anfu_wallet *w, const struct anfu_actor *actor,
			const struct anfu_wallet_confirm_req *req,
			struct anfu_wallet_transfer *ret);

/* ---- history (wallet/history.c) ---- */

/* A history page cursor (opaque to clients) and its size. */
#define ANFU_WALLET_CURSOR_MAX \
	96 /* ANFU_LEDGER_STATEMENT_CURSOR_MAX: wallet/history.c asserts it */

/* What to list; strings borrowed. */
struct anfu_wallet_history_req {
	const char *user_id;
	int64_t from_ms, to_ms; /* [from, to); 0: unbounded */
	const char *type;	/* "transfer_in", "transfer_out", a ledger code, or NULL */
	const char *cursor;	/* NULL / "" for the newest page */
	size_t limit;		/* 1..ANFU_LIMIT_WALLET_HISTORY */
};

/* One row of the history (FUNC-PAY-15). */
struct anfu_wallet_entry {
	char id[ANFU_ID_MAX]; /* the ledger transfer's trf_... */
	int64_t time_ms;
	char type[ANFU_LIMIT_LEDGER_CODE_BYTES + 8]; /* transfer_in, transfer_out, top_up ... */
	bool credit;				     /* money came in */
	bool pending;				     /* a hold: not in the balance yet */
	int64_t amount;
	int64_t balance;			     /* posted balance after the row */
	char counterparty[ANFU_MASK_MAX];	     /* masked */
	char memo[ANFU_LIMIT_WALLET_MEMO_BYTES + 1]; /* wallet transfers: the memo */
};

/*
 * The ledger rows of the customer's CNY wallet, newest first, filtered,
 * at most req->limit of them into out (cap >= limit) and their count in
 * *ret_n; next: the cursor of the page after, "" when there is none.
 * Reads one snapshot of the calling thread's connection. Returns 0;
 * ANFU_EINVAL for bad arguments or a cursor this call did not make;
 * ANFU_ENOTFOUND when the customer has no wallet; or the store's error.
 */
int anfu_wallet_history(struct anfu_wallet *w, const struct anfu_wallet_history_req *req,
			struct anfu_wallet_entry *out, size_t cap, size_t *ret_n,
			char next[ANFU_WALLET_CURSOR_MAX]);

/* A customer's balances (fen). */
struct anfu_wallet_balance {
	int64_t posted;	   /* credits_posted - debits_posted */
	int64_t held;	   /* debits_pending: on hold (withdrawals ...) */
	int64_t incoming;  /* credits_pending: not yet available */
	int64_t available; /* posted - held */
	char state[24];	   /* the ledger account's state */
};

/* The balances of user_id's CNY wallet as committed. Returns 0;
 * ANFU_ENOTFOUND without a wallet; or the store's error. */
int anfu_wallet_balance(struct anfu_wallet *w, const char *user_id,
			struct anfu_wallet_balance *ret);

/* ---- electronic receipts (wallet/receipt.c; issue 11) ---------------- */

struct anfu_receipt_facts;
/* The receipt kind of a wallet transfer. */
#define ANFU_WALLET_RECEIPT_KIND "wallet_transfer"
/* The receipt facts of wallet transfer ref (wtr_...), read on db: an
 * anfu_receipt_facts_fn (receipt/receipt.h) for the kind above; ud is
 * unused. ANFU_ENOTFOUND when there is no such transfer. */
int anfu_wallet_receipt_facts(void *ud, struct anfu_db *db, const char *ref,
			      struct anfu_receipt_facts *ret);

/* ---- a transfer as a dispute's subject (wallet/dispute.c) ---- */

/* A transfer as one of its parties sees it, for a dispute about it. */
struct anfu_wallet_transfer_facts {
	char party_id[ANFU_ID_MAX];	   /* the asking party */
	char counterparty_id[ANFU_ID_MAX]; /* the other one */
	bool payer;			   /* the asking party paid */
	int64_t amount;			   /* fen */
	char currency[4];
	int64_t created_ms;
	char description[128]; /* "转账给 张* / transfer to 张*" (masked) */
};

/* The transfer transfer_id when user_id is its payer or payee: 0 and
 * *ret; ANFU_ENOTFOUND otherwise (no such transfer, or not user_id's);
 * the store's error. Reads committed rows only. */
int anfu_wallet_transfer_facts(struct anfu_wallet *w, const char *transfer_id, const char *user_id,
			       struct anfu_wallet_transfer_facts *ret);

/* Its migrations (generated) and its option table. */
extern const struct anfu_migration_set anfu_wallet_migrations;
extern const struct anfu_config_table anfu_wallet_config_table;

#endif
