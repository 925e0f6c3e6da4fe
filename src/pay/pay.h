/*
 * pay: paying merchants (docs/payments.md): merchants' payment profiles
 * (display names, fee rate, escrow days), their orders (merchant order
 * number unique per merchant, bill lines, kind, expiry), the order state
 * table (pay/states.c), general payments (wallet -> merchant_pending,
 * the fee -> platform_fee, as linked ledger transfers), cancel and expiry.
 *
 * Owns the tables pay_merchant, pay_order, pay_order_line and pay_payment
 * (src/pay/migrations/). Moves money only through the ledger's single
 * writer: a payment's row, the order's new state, its ledger transfers,
 * the wallet's limit usage, its audit record and the payer's notice are
 * one writer command (anfu_ledger_run_weighted); so are a cancel and an
 * expiry (no money, but one writer orders them against a payment).
 * Knows customers only through iam (notices) and the wallet (limits).
 *
 * Thread-safe: any HTTP worker or the job thread may call it; reads use
 * the calling thread's connection.
 */
#ifndef ANFU_PAY_PAY_H
#define ANFU_PAY_PAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/mask.h"
#include "base/rand.h"
#include "keys/keys.h"
#include "ledger/ledger.h"

struct anfu_actor;
struct anfu_config_table;
struct anfu_db;
struct anfu_iam;
struct anfu_iam_pin_ok;
struct anfu_ledger;
struct anfu_migration_set;
struct anfu_tx;
struct anfu_tx_exec;
struct anfu_wallet;

/* The [pay] options (pay/options.c). */
struct anfu_pay_config {
	int64_t order_ttl_default_s; /* an order's expiry when the merchant names none */
	int64_t order_ttl_max_s;     /* the longest expiry a merchant may name */
	int64_t fee_bps_default;     /* a new merchant's fee rate, basis points */
	int64_t escrow_days_default; /* escrow auto-release (FUNC-PAY-02/03) */
	int64_t escrow_days_min, escrow_days_max; /* bounds of a merchant's override */
	int64_t second_factor_fresh_s; /* a session's second factor counts for a payment this long */
	int64_t expire_interval_s;     /* the job pay.expire runs this often (on the clock) */
	int64_t share_ttl_s;	       /* a pay-on-behalf link's life (FUNC-PAY-17) */

	/* refunds (pay/refund.c) */
	int64_t refund_auto_max;	 /* fen: the rules approve up to this */
	int64_t refund_four_eyes_min;	 /* fen: above, two operators approve */
	int64_t refund_retry_interval_s; /* the job pay.refund_retry */

	int64_t paycode_nopin_max; /* payment code: fen paid without the PIN */
};

/* ---- the order state table (pay/states.c) ---- */

enum anfu_pay_state {
	ANFU_PAY_CREATED = 0,
	ANFU_PAY_PAYING,
	ANFU_PAY_PAID,
	ANFU_PAY_CLOSED,
	ANFU_PAY_PARTIALLY_REFUNDED,
	ANFU_PAY_REFUNDED,
	ANFU_PAY_ESCROW_HELD,
	ANFU_PAY_ESCROW_RELEASED,
};
#define ANFU_PAY_STATE_N 8

enum anfu_pay_event {
	ANFU_PAY_EV_PAY_START = 0,  /* a payment began and waits (payment code confirmation) */
	ANFU_PAY_EV_PAY_SUCCEED,    /* the money moved (general, agreement, payment code) */
	ANFU_PAY_EV_PAY_FAIL,	    /* a payment that began did not complete */
	ANFU_PAY_EV_CANCEL,	    /* the merchant (or customer) cancelled (FUNC-PAY-06) */
	ANFU_PAY_EV_EXPIRE,	    /* the expiry passed on the clock */
	ANFU_PAY_EV_ESCROW_HOLD,    /* escrow payment: the money is held (FUNC-PAY-02) */
	ANFU_PAY_EV_ESCROW_RELEASE, /* receipt confirmed or the deadline passed */
	ANFU_PAY_EV_REFUND_PARTIAL, /* a refund of part of what is left */
	ANFU_PAY_EV_REFUND_FULL,    /* a refund of all that is left */
};
#define ANFU_PAY_EVENT_N 9

/* Pure, the one table: 0 and *ret_next when event may happen to an order
 * in state; ANFU_ECONFLICT (nothing written to *ret_next) when the table
 * has no such row; ANFU_EINVAL for a value out of the enums or NULL. */
int anfu_pay_transition(enum anfu_pay_state state, enum anfu_pay_event event,
			enum anfu_pay_state *ret_next);
/* The refusal code (base/refusal.h) of an event the table refuses in
 * state: order_closed (closed), order_paid (the payment completed: paid,
 * refunded, escrow states), else order_state_invalid. */
const char *anfu_pay_state_refusal(enum anfu_pay_state state);
/* A state's name in rows and answers ("created", ...); "" when out of range. */
const char *anfu_pay_state_name(enum anfu_pay_state s);
/* An event's name in audit records ("pay_start", ...); "" when out of range. */
const char *anfu_pay_event_name(enum anfu_pay_event e);
/* The state named name; ANFU_EINVAL (nothing written) for no state's name. */
int anfu_pay_state_parse(const char *name, enum anfu_pay_state *ret);

/* ---- pure rules (pay/rules.c) ---- */

/*
 * The fee of amount (fen, >= 0) at bps basis points (0..10000):
 * amount * bps / 10000 rounded half up to the fen (a remainder of exactly
 * half a fen rounds up, anything less rounds down). Returns 0 and *ret;
 * ANFU_EINVAL for a negative amount or bps out of range (nothing written).
 * Computed with a 128-bit intermediate: no overflow for any int64 amount.
 */
int anfu_pay_fee(int64_t amount, int64_t bps, int64_t *ret);

/* A merchant order number: 1..ANFU_LIMIT_PAY_OUT_TRADE_NO bytes of
 * [A-Za-z0-9_-]. */
bool anfu_pay_out_trade_no_ok(const char *s, size_t len);
/* A return or notify URL: https://, a host, at most
 * ANFU_LIMIT_PAY_URL_BYTES bytes of printable ASCII without spaces,
 * quotes, angle brackets or backslashes. */
bool anfu_pay_url_ok(const char *s, size_t len);

/* One bill line (FUNC-PAY-19); name borrowed in requests. */
struct anfu_pay_line {
	char name[ANFU_LIMIT_PAY_LINE_NAME_BYTES + 1];
	int64_t quantity;    /* 1..ANFU_LIMIT_PAY_LINE_QUANTITY */
	int64_t unit_amount; /* fen, >= 1 */
	int64_t amount;	     /* quantity * unit_amount */
};

/* Pure: NULL when the n lines (1..ANFU_LIMIT_PAY_LINES) are consistent
 * with amount: each line's quantity * unit_amount (overflow-checked)
 * equals its amount, and the amounts sum to amount; else the refusal
 * (order_lines_mismatch, or field_out_of_range for a count out of range)
 * with *ret_index the first bad line (-1 for the count or the sum). */
const char *anfu_pay_lines_check(const struct anfu_pay_line *lines, size_t n, int64_t amount,
				 int *ret_index);

/* ---- the service (pay/pay.c) ---- */

/* What the service is made from; borrowed, must outlive it. */
struct anfu_pay_deps {
	const struct anfu_pay_config *cfg;
	struct anfu_ledger *ledger;
	struct anfu_tx_exec *tx;
	struct anfu_iam *iam;
	struct anfu_wallet *wallet; /* the payment limits */
};

struct anfu_pay;

/* Makes the service. ANFU_EINVAL for missing deps or escrow bounds out of
 * order (min <= default <= max). *ret is the caller's. */
int anfu_pay_new(const struct anfu_pay_deps *d, struct anfu_pay **ret);
/* NULL-safe. */
void anfu_pay_free(struct anfu_pay *p);
/* Opens the platform's fee income (platform_fee) and escrow
 * (platform_escrow) accounts through the writer (idempotent), outside any
 * writer command. Returns 0 or anfu_ledger_open's error. */
int anfu_pay_open_platform(struct anfu_pay *p, const struct anfu_actor *actor);

/* ---- merchants' payment profiles (pay/merchant.c) ---- */

#define ANFU_PAY_NAME_MAX (ANFU_LIMIT_PAY_MERCHANT_NAME_BYTES + 1)

struct anfu_pay_merchant {
	char merchant_id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	char name_zh[ANFU_PAY_NAME_MAX], name_en[ANFU_PAY_NAME_MAX];
	int64_t fee_bps;
	int64_t escrow_days;	      /* 0: the platform's default */
	char state[16];		      /* "active" | "disabled" */
	char account_id[ANFU_ID_MAX]; /* its merchant_pending account */
	int64_t created_ms, updated_ms;
};

/* A profile to register, or a change (set fields only). Borrowed. */
struct anfu_pay_merchant_req {
	const char *merchant_id;       /* create: [A-Za-z0-9_.-], 1..LEDGER_OWNER_BYTES */
	const char *name_zh, *name_en; /* create: both; patch: NULL keeps */
	bool fee_set;
	int64_t fee_bps; /* 0..10000 */
	bool escrow_set;
	int64_t escrow_days; /* 0: the default; else escrow_days_min..max */
	const char *state;   /* patch: "active" | "disabled" | NULL keeps */
};

/*
 * Registers a merchant's payment profile: opens its merchant_pending
 * account first (anfu_ledger_open, idempotent: a retry after a failure
 * finds it), then one transaction writes the row and the audit record
 * "pay.merchant.created". Refusals (*ret_code, *ret_field; nothing
 * written but possibly the account): merchant_exists, field_out_of_range
 * (escrow_days outside the bounds, fee_bps). Unset fee: fee_bps_default.
 * Returns 0 (*ret filled when no refusal); ANFU_EINVAL for a missing or
 * malformed merchant id or name; the ledger's and the store's errors.
 */
int anfu_pay_merchant_create(struct anfu_pay *p, const struct anfu_actor *actor,
			     const struct anfu_pay_merchant_req *req, struct anfu_pay_merchant *ret,
			     const char **ret_code, const char **ret_field);
/* Changes the set fields, with "pay.merchant.updated" (old and new).
 * Refusals: merchant_not_found, field_out_of_range. Returns as create. */
int anfu_pay_merchant_update(struct anfu_pay *p, const struct anfu_actor *actor,
			     const struct anfu_pay_merchant_req *req, struct anfu_pay_merchant *ret,
			     const char **ret_code, const char **ret_field);
/* The profile of merchant_id as db sees it. ANFU_ENOTFOUND when none. */
int anfu_pay_merchant_get(struct anfu_db *db, const char *merchant_id,
			  struct anfu_pay_merchant *ret);
/* Profiles in merchant id order after `after` ("" first), at most cap
 * (1..ANFU_LIMIT_PAY_PAGE) into out, count in *ret_n. */
int anfu_pay_merchant_list(struct anfu_db *db, const char *after, struct anfu_pay_merchant *out,
			   size_t cap, size_t *ret_n);
/* The interval of the job pay.expire, ms ([pay] expire_interval_s); svc
 * is the service. */
int64_t anfu_pay_expire_interval(const void *svc);
/* The escrow days that apply to m (its override, else the default). */
int64_t anfu_pay_escrow_days(const struct anfu_pay *p, const struct anfu_pay_merchant *m);

/* ---- orders (pay/order.c) ---- */

#define ANFU_PAY_KIND_MAX 16

struct anfu_pay_order {
	char id[ANFU_ID_MAX]; /* ord_... (random: the cashier link is /pay/{id}) */
	char merchant_id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	char out_trade_no[ANFU_LIMIT_PAY_OUT_TRADE_NO + 1];
	char kind[ANFU_PAY_KIND_MAX]; /* "general" | "escrow" | "agreement" */
	enum anfu_pay_state state;
	int64_t amount; /* fen, CNY */
	char subject[ANFU_LIMIT_PAY_SUBJECT_BYTES + 1];
	char return_url[ANFU_LIMIT_PAY_URL_BYTES + 1], notify_url[ANFU_LIMIT_PAY_URL_BYTES + 1];
	char content_hash[65]; /* SHA-256 hex of the canonical content */
	char created_by[ANFU_ID_MAX];
	char payer_id[ANFU_ID_MAX];   /* "" until paid */
	char payment_id[ANFU_ID_MAX]; /* "" until paid */
	int64_t fee;		      /* the payment's fee (0 until paid) */
	int64_t created_ms, expires_ms, updated_ms;
	int64_t paid_ms, closed_ms; /* 0 when not */
	size_t nlines;
	struct anfu_pay_line lines[ANFU_LIMIT_PAY_LINES];
};

/* An order asked for; strings borrowed. */
struct anfu_pay_order_req {
	const char *merchant_id; /* the caller's (the session's), never the body's */
	const char *user_id;	 /* the merchant user creating it */
	const char *out_trade_no;
	int64_t amount;
	const char *subject;
	const char *kind;
	int64_t ttl_s;			     /* 0: order_ttl_default_s; else 1..order_ttl_max_s */
	const char *return_url, *notify_url; /* or NULL */
	const struct anfu_pay_line *lines;
	size_t nlines;
};

/*
 * Creates an order (FUNC-PAY-19, -21) in one transaction with its lines
 * and the audit record "pay.order.created". The same merchant order
 * number with the same content (hash of the canonical content) answers
 * the order it made (*ret_existed, no write); with other content:
 * out_trade_no_conflict. Refusals (*ret_code, *ret_field; nothing
 * written): merchant_not_found (no profile), merchant_disabled,
 * order_lines_mismatch, field_out_of_range (ttl_s). Returns 0 (*ret when
 * no refusal); ANFU_EINVAL for malformed fields (the handler checked
 * them); the store's errors.
 */
int anfu_pay_order_create(struct anfu_pay *p, const struct anfu_actor *actor,
			  const struct anfu_pay_order_req *req, struct anfu_pay_order *ret,
			  bool *ret_existed, const char **ret_code, const char **ret_field);

/* The order id with its lines as db sees it. ANFU_ENOTFOUND when none. */
int anfu_pay_order_get(struct anfu_db *db, const char *id, struct anfu_pay_order *ret);
/* The order of merchant_id with merchant order number out_trade_no. */
int anfu_pay_order_by_out_trade_no(struct anfu_db *db, const char *merchant_id,
				   const char *out_trade_no, struct anfu_pay_order *ret);
/* Orders of merchant_id, newest first, before the cursor (the id of the
 * last order of the page before; NULL or "" for the newest), at most cap
 * (1..ANFU_LIMIT_PAY_PAGE) into out without their lines; count in
 * *ret_n. ANFU_EINVAL for a cursor that is no order of the merchant. */
int anfu_pay_order_list(struct anfu_db *db, const char *merchant_id, const char *cursor,
			struct anfu_pay_order *out, size_t cap, size_t *ret_n);

/*
 * Cancels order id of merchant_id (FUNC-PAY-06) through the writer: the
 * state table's cancel (created or paying -> closed) with the audit
 * record "pay.order.cancelled" of actor. merchant_id NULL: a customer's
 * cancel (any merchant's order: the customer holds its unguessable id;
 * once shared for pay-on-behalf, only its requester, actor->id).
 * Refusals (*ret_code): order_not_found (none, or another merchant's),
 * order_paid (payment completed),
 * order_closed. Returns 0 (*ret, the order as it is now, when no
 * refusal); the writer's and the store's errors.
 */
int anfu_pay_order_cancel(struct anfu_pay *p, const struct anfu_actor *actor,
			  const char *merchant_id, const char *id, struct anfu_pay_order *ret,
			  const char **ret_code);

/* What one expiry pass did. */
struct anfu_pay_expiry_report {
	int64_t closed; /* orders closed */
};
/* Closes (the state table's expire) every created or paying order whose
 * expires_ms <= now on the clock, at most ANFU_LIMIT_PAY_EXPIRE_PASS of
 * them per writer command and ANFU_LIMIT_PAY_EXPIRE_PASSES commands per
 * call, each with "pay.order.expired" as the system actor. Returns 0 and
 * *ret, or the first failing command's error. */
int anfu_pay_expire_due(struct anfu_pay *p, struct anfu_pay_expiry_report *ret);

/* ---- general payment (pay/payment.c) ---- */

/* A payment asked for; strings borrowed. The PIN was verified by the caller. */
struct anfu_pay_pay_req {
	const char *order_id;
	const char *payer_id;
	const char *request_id;	     /* client idempotency key */
	int64_t mfa_ms;		     /* the session's last second factor (0: none) */
	const char *mfa_method;	     /* ... and its method */
	struct anfu_iam_pin_ok *pin; /* as in struct anfu_wallet_confirm_req */
	const char *share_token;     /* pay-on-behalf: the link's token (re-checked at
				      * commit), else NULL */
	/* Agreement and payment-code payments (pay/agreement.c,
	 * pay/paycode.c); all zero for a general payment. */
	bool agreement;	       /* pays an order of kind "agreement" (else: general only) */
	const char *auth_name; /* the payment's auth ("paycode", "agreement"); NULL: the PIN's */
	/* Runs inside the writer command once the order passed its checks,
	 * before the money moves: NULL or 0 with *ret_code a refusal (the
	 * command undoes everything), or an error. weight: what it stages. */
	int (*within)(struct anfu_tx *tx, void *ud, const struct anfu_pay_order *o, int64_t now,
		      const char **ret_code, const char **ret_field);
	void *within_ud;
	int within_weight;
};

/* A payment's answer. */
struct anfu_pay_payment {
	const char *code;  /* NULL: paid (or existed); else the refusal */
	const char *field; /* the refusal's field or limit name, or NULL */
	char id[ANFU_ID_MAX];
	char order_id[ANFU_ID_MAX];
	char ledger_id[ANFU_ID_MAX], fee_ledger_id[ANFU_ID_MAX]; /* fee: "" when no fee */
	int64_t amount, fee, created_ms;
	const char *auth; /* "pin" | "pin_otp" | "pin_totp" */
	bool existed;	  /* the same request id paid it before */
};

/*
 * Pays a general order (FUNC-PAY-01) as one writer command: re-checks the
 * order's state (the table's pay_succeed) and expiry on the clock, the
 * merchant (active), the payer's limits (anfu_wallet_limits_check_in with
 * the session's method: the PIN, or the PIN and a second factor presented
 * within second_factor_fresh_s), posts customer_wallet -> merchant_pending
 * (amount, key "pay.<order>", code "payment") and merchant_pending ->
 * platform_fee (the fee, key "pay.<order>.fee", code "fee"; none for a
 * fee of 0) as one linked chain, writes the payment row and the order's
 * new state, stages "pay.order.paid" and notices the payer. The same
 * request id for the same order answers that payment (existed); for
 * another order: idempotency_conflict.
 * Refusals (ret->code; nothing written but the PIN's success):
 * order_not_found, payment_kind_unsupported (agreement),
 * order_expired, order_closed, order_paid, order_state_invalid,
 * merchant_disabled, step_up_required, the limits',
 * the ledger's (insufficient_funds, account_frozen, account_closed),
 * payment_locked.
 * Returns 0 with *ret; ANFU_EINVAL for bad arguments; the writer's and
 * the store's errors.
 */
int anfu_pay_pay(struct anfu_pay *p, const struct anfu_actor *actor,
		 const struct anfu_pay_pay_req *req, struct anfu_pay_payment *ret);

/* ---- payment codes (pay/paycode.c; docs/payments.md, "Payment code") ---- */

struct anfu_keys;

/* A payment code: 18 digits, the fixed prefix and 16 random ones. */
#define ANFU_PAY_PAYCODE_DIGITS 18
#define ANFU_PAY_PAYCODE_PREFIX "66"
/* A code is valid this long on the clock: refused from issue + 60 s on. */
#define ANFU_PAY_PAYCODE_TTL_MS 60000

struct anfu_pay_paycode {
	char code[ANFU_PAY_PAYCODE_DIGITS + 1];
	int64_t created_ms, expires_ms;
};

/*
 * Issues a one-time payment code of customer_id in one transaction: the
 * customer's earlier live codes are voided, the new one is stored only as
 * its keyed hash (anfu_keys_blind_index, purpose "pay_paycode") with
 * "pay.paycode.issued". Returns 0 and *ret; ANFU_EINVAL; the store's
 * errors.
 */
int anfu_pay_paycode_issue(struct anfu_pay *p, const struct anfu_keys *k,
			   const struct anfu_actor *actor, const char *customer_id,
			   struct anfu_pay_paycode *ret);

/* A merchant's collection with a code; order->kind is set to "general". */
struct anfu_pay_paycode_req {
	struct anfu_pay_order_req *order;
	const char *auth_code;
};

struct anfu_pay_paycode_result {
	const char *code, *field; /* NULL, or the refusal */
	bool waiting;		  /* above paycode_nopin_max: paying, the customer confirms */
	bool paid;		  /* payment is the payment */
	struct anfu_pay_payment payment;
	char order_id[ANFU_ID_MAX];
};

/*
 * Collects order with a customer's payment code (barcode payment). The
 * code is checked first: malformed or unknown (paycode_invalid), used or
 * replaced (paycode_used), at or past its expiry (paycode_expired):
 * nothing written. Up to [pay] paycode_nopin_max the order (kind
 * general; its refusals, nothing written) is made AND paid without PIN in
 * ONE writer command (anfu_pay_pay's checks with auth "paycode"), which
 * uses the code (once: the command re-checks it); a refusal in it leaves
 * nothing (no order, the code live). Above, the order is made
 * (anfu_pay_order_create) and one writer command uses the code and moves
 * the order to paying for the code's customer, who confirms with the PIN
 * (POST /api/v1/me/orders/{id}/pay). Returns 0 and *ret (order_id ""
 * when no order exists); errors as anfu_pay_pay.
 */
int anfu_pay_paycode_collect(struct anfu_pay *p, const struct anfu_keys *k,
			     const struct anfu_actor *actor, const struct anfu_pay_paycode_req *req,
			     struct anfu_pay_paycode_result *ret);

/* The orders waiting for customer_id's confirmation (paying, by a code),
 * oldest first, at most cap into out (without lines); count in *ret_n. */
int anfu_pay_paycode_pending(struct anfu_db *db, const char *customer_id,
			     struct anfu_pay_order *out, size_t cap, size_t *ret_n);

/* ---- agreements (pay/agreement.c; docs/payments.md, "Agreement payment") ---- */

struct anfu_receipt;

#define ANFU_PAY_SCOPE_MAX (ANFU_LIMIT_PAY_SUBJECT_BYTES + 1)

struct anfu_pay_agreement {
	char id[ANFU_ID_MAX]; /* agr_... */
	char customer_id[ANFU_ID_MAX];
	char merchant_id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	char scope[ANFU_PAY_SCOPE_MAX];
	int64_t per_debit_max, period_max; /* fen */
	char period[8];			   /* "day" | "month" (Shanghai calendar) */
	char state[16];			   /* "active" | "revoked" */
	char kid[ANFU_KID_MAX];		   /* the key that signed its document */
	int64_t created_ms, expires_ms, revoked_ms;
};

/* An agreement asked for; strings borrowed. The handler verified the PIN
 * (pin, recorded with the agreement) and the second factor's freshness. */
struct anfu_pay_agreement_req {
	const char *customer_id, *merchant_id, *scope, *period;
	int64_t per_debit_max, period_max, expires_ms;
	int64_t mfa_ms; /* the session's last second factor (0: none) */
	struct anfu_iam_pin_ok *pin;
};

/*
 * Signs an agreement: the record's canonical JSON signed by the platform's
 * receipt key (anfu_receipt_sign_json), stored with its key id, with
 * "pay.agreement.signed", in one transaction. Refusals (*ret_code,
 * *ret_field; nothing written but the PIN's success): step_up_required
 * (no second factor within [pay] second_factor_fresh_s), merchant_not_found,
 * merchant_disabled, field_out_of_range (period_max below per_debit_max,
 * expires_ms not in the future or beyond ANFU_LIMIT_PAY_AGREEMENT_DAYS).
 * *ret_doc (malloc'd, the caller's) is the signed document.
 */
int anfu_pay_agreement_sign(struct anfu_pay *p, struct anfu_receipt *rc,
			    const struct anfu_actor *actor,
			    const struct anfu_pay_agreement_req *req,
			    struct anfu_pay_agreement *ret, char **ret_doc, const char **ret_code,
			    const char **ret_field);
/* The agreement id as db sees it, with its signed document when ret_doc
 * (malloc'd). ANFU_ENOTFOUND when none. */
int anfu_pay_agreement_get(struct anfu_db *db, const char *id, struct anfu_pay_agreement *ret,
			   char **ret_doc);
/* customer_id's agreements, newest first, at most cap into out. */
int anfu_pay_agreement_list(struct anfu_db *db, const char *customer_id,
			    struct anfu_pay_agreement *out, size_t cap, size_t *ret_n);
/* Revokes customer_id's agreement id at once through the writer (a debit
 * after it is refused), audited "pay.agreement.revoked". Refusals:
 * agreement_not_found (none, another's), agreement_revoked. */
int anfu_pay_agreement_revoke(struct anfu_pay *p, const struct anfu_actor *actor,
			      const char *customer_id, const char *id,
			      struct anfu_pay_agreement *ret, const char **ret_code);

struct anfu_pay_debit_req {
	struct anfu_pay_order_req *order; /* kind set to "agreement" */
	const char *agreement_id;
};

struct anfu_pay_debit_result {
	const char *code, *field; /* NULL, or the refusal */
	char order_id[ANFU_ID_MAX];
	struct anfu_pay_payment payment;
};

/*
 * A merchant's debit under an agreement (FUNC-PAY-04/05), without the
 * customer: checked first (nothing written on a refusal), then the order
 * is made AND paid in ONE writer command (anfu_pay_pay's checks with auth
 * "agreement", the customer's PIN-only wallet limits and daily totals)
 * which re-checks the agreement and records the period's usage; a refusal
 * in it leaves nothing (no order, no usage): agreement_not_found
 * (none, or another merchant's), agreement_revoked, agreement_expired (at
 * expires_ms exactly), agreement_debit_limit, agreement_period_limit.
 */
int anfu_pay_agreement_debit(struct anfu_pay *p, const struct anfu_actor *actor,
			     const struct anfu_pay_debit_req *req,
			     struct anfu_pay_debit_result *ret);

/* ---- escrow payment (pay/escrow.c; FUNC-PAY-02/03) ---- */
/*
 * anfu_pay_pay pays an escrow order with a hold customer_wallet ->
 * platform_escrow (PENDING, key "pay.<order>") and no fee: the order goes
 * to escrow_held and its release is due at the paid time + the
 * merchant's escrow days. The release (the customer confirms receipt, or
 * the deadline passes) moves what is left of it (amount - refunded)
 * platform_escrow -> merchant_pending and the fee of what is left
 * merchant_pending -> platform_fee.
 */

/* An escrow order's hold. */
struct anfu_pay_escrow {
	char order_id[ANFU_ID_MAX];
	int64_t amount;	  /* held at payment */
	int64_t refunded; /* taken back by refunds during escrow */
	bool posted;	  /* the hold was posted into platform_escrow (first refund) */
	char hold_id[ANFU_ID_MAX];
	int64_t release_ms;   /* the deadline on the clock */
	int64_t released_ms;  /* 0 until released */
	char released_by[16]; /* "customer" | "deadline" | "" */
	char release_ledger_id[ANFU_ID_MAX], fee_ledger_id[ANFU_ID_MAX];
	int64_t fee; /* of amount - refunded, at release */
};

/* The escrow row of order_id as db sees it. ANFU_ENOTFOUND when none. */
int anfu_pay_escrow_get(struct anfu_db *db, const char *order_id, struct anfu_pay_escrow *ret);

/* A customer confirming receipt; strings borrowed, the PIN verified. */
struct anfu_pay_confirm_req {
	const char *order_id;
	const char *payer_id;
	struct anfu_iam_pin_ok *pin;
};

/*
 * Releases the escrow of order_id at its payer's request, one writer
 * command: the state table's escrow_release, POST_PENDING of the hold
 * (unless a refund posted it), platform_escrow -> merchant_pending
 * (amount - refunded, key "pay.<order>.release") and the fee to
 * platform_fee (key "pay.<order>.release.fee"), LINKED; the audit record
 * "pay.escrow.released" and the payer's notice. Refusals (*ret_code;
 * nothing written but the PIN's success): order_not_found (none, or not
 * this payer's), order_state_invalid (not escrow_held: not an escrow
 * order or released already), payment_locked. Returns 0 (*ret when no
 * refusal); the writer's and the store's errors.
 */
int anfu_pay_escrow_confirm(struct anfu_pay *p, const struct anfu_actor *actor,
			    const struct anfu_pay_confirm_req *req, struct anfu_pay_escrow *ret,
			    const char **ret_code);

struct anfu_pay_release_report {
	int64_t released;
};
/* Releases (as confirm, by the system actor, released_by "deadline")
 * every escrow_held order whose release_ms <= now on the clock, one
 * writer command each, at most ANFU_LIMIT_PAY_RELEASE_PASS per call.
 * Returns 0 and *ret, or the first failing command's error. */
int anfu_pay_escrow_release_due(struct anfu_pay *p, struct anfu_pay_release_report *ret);

/*
 * For a refund of amount (fen, > 0) of escrow order order_id, inside the
 * caller's writer command tx (pay/refund.c's execution of a refund of an
 * escrow_held order; refund_id is the refund's id): gives amount back to the
 * payer out of the escrow. While the hold is whole, a partial refund
 * posts amount - amount_refunded of it into platform_escrow
 * (POST_PENDING, key "pay.<order>.escrow.post") and so releases the rest
 * to the wallet; a full refund voids it (key "pay.<order>.escrow.void").
 * Once posted, a refund moves platform_escrow -> customer_wallet (key
 * "refund.<refund_id>", as an ordinary refund's money back: the
 * refund executes one way or the other, once). The row's refunded grows by
 * amount: the release later moves amount - refunded to the merchant.
 * Does not change the order's state (the refund's caller applies the
 * table's refund_partial / refund_full: *ret_left 0 means full). Refusals
 * (*ret_code; the caller's command must fail): order_state_invalid (no
 * escrow row or released already), pending_amount_exceeded (over what is
 * held), the ledger's. ret_ledger_id (ANFU_ID_MAX) gets the transfer.
 * Returns 0; ANFU_ECONFLICT with *ret_code; ANFU_EINVAL; the store's.
 */
int anfu_pay_escrow_refund_in(struct anfu_pay *p, struct anfu_tx *tx, const char *order_id,
			      int64_t amount, const char *refund_id, char *ret_ledger_id,
			      int64_t *ret_left, const char **ret_code);

/* The interval of the job pay.escrow_release, ms (as pay.expire's). */
int64_t anfu_pay_release_interval(const void *svc);

/* ---- pay-on-behalf (pay/behalf.c; FUNC-PAY-17) ---- */
/*
 * A customer shares an unpaid order: a link with a random token
 * (returned once, stored as its SHA-256), valid share_ttl_s and never past
 * the order's expiry. The customer who shared it first is the order's
 * requester: only they may share it again (a new token replaces the old)
 * or cancel it. Another customer resolves the link and pays with their own
 * PIN and limits (anfu_pay_pay with share_token: the link is re-checked
 * at commit); the payment is the payer's (payer_id); both see the order.
 */
struct anfu_pay_share {
	char order_id[ANFU_ID_MAX];
	char requester_id[ANFU_ID_MAX];
	char token[ANFU_ID_MAX]; /* create's answer only; "" when read */
	int64_t created_ms, expires_ms;
};

/* Shares order_id for requester_id, one writer command with the audit
 * record "pay.order.shared". Refusals (*ret_code; nothing written):
 * order_not_found (none, or shared by another customer), order_expired,
 * order_paid, order_closed (the table's: only an order that may still be
 * cancelled is shared). Returns 0 (*ret when no refusal); the writer's and
 * the store's errors. */
int anfu_pay_share_create(struct anfu_pay *p, const struct anfu_actor *actor, const char *order_id,
			  const char *requester_id, struct anfu_pay_share *ret,
			  const char **ret_code);
/* The share of token as db sees it at now: 0 and *ret; refusal in
 * *ret_code: share_not_found, share_expired (expires_ms <= now). */
int anfu_pay_share_resolve(struct anfu_db *db, const char *token, int64_t now,
			   struct anfu_pay_share *ret, const char **ret_code);
/* The share of order_id. ANFU_ENOTFOUND when it was never shared. */
int anfu_pay_share_get(struct anfu_db *db, const char *order_id, struct anfu_pay_share *ret);

/* ---- a customer's orders (pay/customer_orders.c; FUNC-PAY-17) ---- */

/* What to list; strings borrowed. The route sets customer_id from the
 * session, never from the query. */
struct anfu_pay_customer_order_query {
	const char *customer_id; /* required: the orders they paid or shared */
	const char *status;	 /* NULL / "": any; else an order state name */
	int64_t from_ms, to_ms;	 /* [from, to) of the order's created_ms; 0: unbounded */
	int64_t after_ms;	 /* the cursor: orders strictly older than */
	const char *after_id;	 /* (after_ms, after_id); NULL / "": the newest */
	size_t limit;		 /* >= 1 */
};

/* One order of the list, as the customer's single read shows it. */
struct anfu_pay_customer_order {
	struct anfu_pay_order order;
	struct anfu_pay_merchant merchant; /* the order's */
	bool requested_by_me;		   /* the customer is its share's requester */
};

/* The orders q->customer_id is party to: those whose payer they are
 * (pay_order.payer_id) and those they requested through a share
 * (pay_share.requester_id), each once, newest first by (created_ms, id),
 * at most q->limit into out (cap >= limit), count in *ret_n; the ids and
 * each order, its merchant and its share read in one snapshot. Returns 0;
 * ANFU_EINVAL for bad arguments or an unknown status; the store's errors
 * (ANFU_ECORRUPT: an order without its merchant). */
int anfu_pay_customer_orders(struct anfu_pay *p, const struct anfu_pay_customer_order_query *q,
			     struct anfu_pay_customer_order *out, size_t cap, size_t *ret_n);
/* Its SQL (parameters $1 customer, $2 from, $3 the upper bound of the
 * time (to, or past the cursor), $4 status or "", $5 and $6 the cursor,
 * $7 limit), for the test of its query plan
 * (tests/unit/test_pay_customer_orders.c). */
extern const char anfu_pay_customer_orders_sql[];

/* ---- receipts, history and download (pay/receipt_payment.c,
 * pay/history.c; FUNC-PAY-14/15/16, docs/payments.md) ---- */

struct anfu_buf;
struct anfu_receipt_facts;

/* The receipt kind of a completed payment (ref: its pmt_ id). */
#define ANFU_PAY_RECEIPT_KIND "payment"

/* The receipt module's facts function of kind "payment" (ud: the
 * service): payer (customer, masked by iam), payee (merchant, its Chinese
 * name), amount, the order's subject, the payment's and the fee's ledger
 * transfer ids. ANFU_ENOTFOUND when there is no such payment. */
int anfu_pay_receipt_facts(void *ud, struct anfu_db *db, const char *ref,
			   struct anfu_receipt_facts *ret);

/* What to list; strings borrowed. The route sets the scope from the
 * session: a merchant user's merchant_id, a customer's payer_id. */
struct anfu_pay_tx_query {
	const char *merchant_id; /* NULL / "": any merchant */
	const char *payer_id;	 /* NULL / "": any payer */
	int64_t from_ms, to_ms;	 /* [from, to) of the row's time; 0: unbounded */
	const char *type;	 /* NULL / "": both; "payment" | "refund" */
	const char *status;	 /* NULL / "": any; else an order state name
				  * (payments) or a refund state name (refunds) */
	int64_t after_ms;	 /* the cursor: rows strictly older than */
	const char *after_id;	 /* (after_ms, after_id); NULL / "": the newest */
	size_t limit;		 /* >= 1 */
};

/* One row (FUNC-PAY-15): a completed payment, or a refund (any state)
 * of an order (time: when it was applied for or requested). */
struct anfu_pay_tx_row {
	char type[16];	      /* "payment" | "refund" */
	char id[ANFU_ID_MAX]; /* pmt_... | rfd_... */
	char order_id[ANFU_ID_MAX];
	char out_trade_no[ANFU_LIMIT_PAY_OUT_TRADE_NO + 1];
	char merchant_id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	char merchant_name[ANFU_PAY_NAME_MAX];
	char payer_id[ANFU_ID_MAX];
	char payer_shown[ANFU_MASK_MAX];		/* masked by iam */
	enum anfu_pay_state status;			/* payments: the order's state now */
	int64_t amount, fee, time_ms;			/* refunds: fee is the fee given back */
	char subject[ANFU_LIMIT_PAY_SUBJECT_BYTES + 1]; /* the order's */
	/* The status shown (static): the order's state of a payment, the
	 * refund's state of a refund. */
	const char *status_name;
	char out_refund_no[ANFU_LIMIT_PAY_OUT_TRADE_NO + 1]; /* refunds; else "" */
	/* Refunds: where the money goes, "wallet" | "card", and the card's
	 * masked number ("" unless card); payments: both "". */
	char destination[8];
	char card[32];
};

/* ---- a merchant's balance and its history (pay/statement.c) ---- */

/* The merchant's merchant_pending account (what it is owed until
 * settlement), in fen: posted, held (debits pending: refunds on their way
 * to a card), incoming (credits pending), available = posted - held. */
struct anfu_pay_merchant_balance {
	int64_t posted, available, held, incoming;
};
/* Its balance now. ANFU_ENOTFOUND for a merchant without the account. */
int anfu_pay_merchant_balance(struct anfu_pay *p, const char *merchant_id,
			      struct anfu_pay_merchant_balance *ret);

struct anfu_pay_statement_req {
	const char *merchant_id;
	const char *scope;	/* what the cursor's MAC binds ("m:<merchant>") */
	const char *cursor;	/* NULL / "": the newest page */
	const char *type;	/* a ledger code (payment, fee, refund, ...) or NULL */
	int64_t from_ms, to_ms; /* [from, to); 0: unbounded */
	size_t limit;		/* 1..ANFU_LIMIT_LEDGER_HISTORY */
	anfu_ledger_mac_fn mac; /* the caller's keyed MAC of cursors */
	void *mac_ud;
};
/* One movement of the merchant's balance with the posted balance after it. */
struct anfu_pay_statement_row {
	char id[ANFU_ID_MAX]; /* the ledger transfer (trf_...) */
	int64_t time_ms;
	char type[ANFU_LIMIT_LEDGER_CODE_BYTES + 1]; /* the ledger code */
	char ref[ANFU_LIMIT_LEDGER_REF_BYTES + 1];   /* what it was for (an order, a refund) */
	bool credit;				     /* money came in */
	bool pending;				     /* a hold: not in the balance yet */
	int64_t amount, balance;
};
/*
 * The merchant's balance history, newest first (at most req->limit rows
 * into out, cap >= limit; their count in *ret_n; next: the page after, ""
 * when none) and its balance now in *ret_balance, in one read snapshot.
 * Returns 0; ANFU_EINVAL for bad arguments or a cursor not of this scope;
 * ANFU_ENOTFOUND without the account; the ledger's or the store's error.
 */
int anfu_pay_merchant_statement(struct anfu_pay *p, const struct anfu_pay_statement_req *req,
				struct anfu_pay_statement_row *out, size_t cap, size_t *ret_n,
				char next[ANFU_LEDGER_STATEMENT_CURSOR_MAX],
				struct anfu_pay_merchant_balance *ret_balance);

/* The completed payments and the refunds matching q, in one order:
 * newest first by (time, id), at most q->limit into out (cap >= limit),
 * count in *ret_n. Returns 0; ANFU_EINVAL for bad arguments, an unknown
 * status or type; the store's errors. */
int anfu_pay_transactions(struct anfu_pay *p, const struct anfu_pay_tx_query *q,
			  struct anfu_pay_tx_row *out, size_t cap, size_t *ret_n);
/* Whether name is a status the history filters by: an order state's or a
 * refund state's name (pure). */
bool anfu_pay_tx_status_ok(const char *name);

/* Appends s as one CSV cell (RFC 4180: quoted, quotes doubled) to out; a
 * cell starting with = + - @, tab or CR gets a leading ' so spreadsheets
 * show it as text (CSV injection). Returns 0 or anfu_buf's ANFU_ELIMIT. */
int anfu_pay_csv_cell(struct anfu_buf *out, const char *s);

/* ---- refunds (pay/refund.c; docs/payments.md, "Refunds") ---- */

/* The refund state table (pay/states.c, its second table). */
enum anfu_pay_refund_state {
	ANFU_PAY_RF_REQUESTED = 0, /* a customer asked; the merchant decides */
	ANFU_PAY_RF_DECLINED,	   /* the merchant declined the customer's request */
	ANFU_PAY_RF_REVIEWING,	   /* applied; waits for review (rules or an operator) */
	ANFU_PAY_RF_APPROVED,	   /* reviewed; executes in the same writer command */
	ANFU_PAY_RF_REJECTED,	   /* an operator rejected it */
	ANFU_PAY_RF_WAITING_FUNDS, /* the merchant's balance was short: a job retries */
	ANFU_PAY_RF_SUCCEEDED,	   /* the money went back */
	ANFU_PAY_RF_SENDING,	   /* to the bound card: the bank's credit on its way */
	ANFU_PAY_RF_FAILED,	   /* the bank did not pay the card: money back to the merchant */
};
#define ANFU_PAY_RF_STATE_N 9

enum anfu_pay_refund_event {
	ANFU_PAY_RF_EV_ACCEPT = 0,  /* the merchant accepts a customer's request */
	ANFU_PAY_RF_EV_DECLINE,	    /* ... or declines it */
	ANFU_PAY_RF_EV_APPROVE,	    /* review passed (automatic rule or operator) */
	ANFU_PAY_RF_EV_REJECT,	    /* an operator rejected it */
	ANFU_PAY_RF_EV_WAIT_FUNDS,  /* execution found the merchant's balance short */
	ANFU_PAY_RF_EV_SUCCEED,	    /* execution moved the money */
	ANFU_PAY_RF_EV_SEND_CARD,   /* the wallet refused it: to the bound card */
	ANFU_PAY_RF_EV_CARD_FAIL,   /* the bank did not pay the card */
	ANFU_PAY_RF_EV_CHOOSE_CARD, /* an operator chose the payer's card (state unchanged) */
	ANFU_PAY_RF_EV_RESEND,	    /* an operator sends a failed refund to another card */
};
#define ANFU_PAY_RF_EVENT_N 10

/* Pure, the refund table: 0 and *ret_next; ANFU_ECONFLICT for no row;
 * ANFU_EINVAL for values out of the enums or NULL. */
int anfu_pay_refund_transition(enum anfu_pay_refund_state state, enum anfu_pay_refund_event ev,
			       enum anfu_pay_refund_state *ret_next);
/* A refund state's name ("requested", ...); "" when out of range. */
const char *anfu_pay_refund_state_name(enum anfu_pay_refund_state s);
/* The state named name; ANFU_EINVAL (nothing written) for none. */
int anfu_pay_refund_state_parse(const char *name, enum anfu_pay_refund_state *ret);

/*
 * The fee that goes back with a refund (pure): the fee charged times the
 * share of the order refunded in total after this refund, rounded DOWN,
 * minus the fee already given back:
 *   floor(fee * (refunded_before + amount) / order_amount) - fee_back_before.
 * Cumulative rounding: the refunds' fee never exceeds the fee charged and
 * a full refund gives exactly all of it back. ANFU_EINVAL when the totals
 * are inconsistent (negative, or above the order amount).
 */
int anfu_pay_refund_fee(int64_t fee, int64_t order_amount, int64_t refunded_before,
			int64_t fee_back_before, int64_t amount, int64_t *ret);

struct anfu_pay_refund {
	char id[ANFU_ID_MAX]; /* rfd_... */
	char order_id[ANFU_ID_MAX];
	char merchant_id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	char out_refund_no[ANFU_LIMIT_PAY_OUT_TRADE_NO + 1];
	char payer_id[ANFU_ID_MAX];
	enum anfu_pay_refund_state state;
	int64_t amount, fee_back; /* fen; fee_back 0 until it succeeded */
	char reason[ANFU_LIMIT_PAY_SUBJECT_BYTES + 1];
	char origin[16]; /* "merchant" | "customer" | "dispute" */
	char created_by[ANFU_ID_MAX];
	char reviewed_by[ANFU_ID_MAX]; /* "rules" for the automatic review; "" before */
	char approved_by[ANFU_ID_MAX]; /* the first of two operators (four eyes) */
	char ledger_id[ANFU_ID_MAX], fee_ledger_id[ANFU_ID_MAX];
	int64_t created_ms, updated_ms;
	/* Where the money goes: "wallet", or "card" (the payer's wallet could
	 * not take it) with the card's masked number and the bank's credit. */
	char destination[8];
	char card[32];
	char withdrawal_id[ANFU_ID_MAX];
	/* An operator's choice of the payer's bound card, should the money go
	 * to a card (anfu_pay_refund_choose_card): its id and masked number;
	 * "" for none (the payer's newest bound card). */
	char chosen_card_id[ANFU_ID_MAX];
	char chosen_card[32];
	/* The number of its current card credit: 1 the first, n + 1 after n
	 * re-sends (anfu_pay_refund_resend); 0 never sent to a card. */
	int64_t attempt;
};

/* A refund applied for; strings borrowed. */
struct anfu_pay_refund_req {
	const char *merchant_id; /* the session's */
	const char *user_id;	 /* the merchant user */
	const char *order_id;
	const char *out_refund_no; /* as an out_trade_no */
	int64_t amount;		   /* fen, >= 1 */
	const char *reason;
	const char *origin;   /* NULL: "merchant"; "dispute" from the provider */
	const char *reviewer; /* NULL: the review rules; else who already decided
			       * (a dispute's operator): approved, executed at once */
};

/*
 * A merchant's refund of its order (FUNC-SETL-08), one writer command:
 * the same out_refund_no with the same order, amount and reason answers
 * that refund (*ret_existed), with other content refund_no_conflict;
 * re-checks the order (its merchant's, paid or escrow_held or after
 * either) and that the refunds not rejected or declined, with this one,
 * stay within the paid amount; writes the refund (reviewing). Up to
 * [pay] refund_auto_max fen the rules approve it and it executes in the
 * same command (below).
 * Execution of an escrow_held order's refund: out of the escrow
 * (anfu_pay_escrow_refund_in), no fee back (none was charged), the
 * order's refund_partial (still escrow_held) or refund_full. Otherwise:
 * platform_fee -> merchant_pending (the fee back, anfu_pay_refund_fee of
 * the payment's fee, or for a released escrow order of the release's fee
 * on what was released) linked with merchant_pending -> customer_wallet
 * (amount), keys "refund.<id>[.fee]"; the order's refund_partial or
 * refund_full; a short merchant balance leaves it waiting_funds.
 * Refusals (*ret_code, *ret_field; nothing written): order_not_found,
 * order_closed, order_state_invalid, refund_amount_exceeded, refund_no_conflict, the ledger's (but
 * insufficient_funds). Returns 0 (*ret when no refusal); ANFU_EINVAL for
 * bad arguments; the writer's and the store's errors.
 */
int anfu_pay_refund_apply(struct anfu_pay *p, const struct anfu_actor *actor,
			  const struct anfu_pay_refund_req *req, struct anfu_pay_refund *ret,
			  bool *ret_existed, const char **ret_code, const char **ret_field);
/*
 * An operator's review (FUNC-OPS-04) of refund id in reviewing: approve
 * executes it (as above); reject ends it. Above [pay]
 * refund_four_eyes_min fen, an approval needs two different operators:
 * the first is recorded (approved_by) and the state stays reviewing.
 * (The applicant is a merchant user, never an operator.) Refusals: refund_not_found,
 * refund_state_invalid, refund_checker_is_maker, the ledger's.
 */
int anfu_pay_refund_review(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
			   bool approve, struct anfu_pay_refund *ret, const char **ret_code);
/*
 * An operator's choice (actor; the caller checked pay.refund.review) of
 * card_id, a card of refund id's payer in state bound, as the card the
 * refund goes to should the payer's wallet not take it ("Refunds to a
 * bound card"): one writer command, allowed where the refund table has a
 * choose_card row (reviewing, waiting_funds; the state stays), the choice
 * stored (chosen_card_id, chosen_card masked; a later choice replaces it)
 * and audited pay.refund.card_chosen (the actor, the masked card and the
 * one it replaced). The execution then credits that card, not the
 * newest; a card no longer bound by then refuses the execution with
 * refund_card_invalid. Refusals (*ret_code; nothing written):
 * refund_not_found, refund_state_invalid, refund_card_invalid (another
 * user's card, an unknown, pending or unbound one). Returns 0 (*ret the
 * refund when no refusal); ANFU_EINVAL for bad arguments; the writer's
 * and the store's errors.
 */
int anfu_pay_refund_choose_card(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
				const char *card_id, struct anfu_pay_refund *ret,
				const char **ret_code);
/*
 * An operator sends refund id, failed at the bank, again to card_id, a
 * card of its payer in state bound that is not the card that failed
 * (docs/payments.md "A failed refund sent again"; WeChat Pay's abnormal
 * refund): one writer command, allowed where the refund table has a
 * resend row (failed -> sending). The order's state and the bound are
 * checked again (the refund counts against the amount paid again); the
 * money moves as the first card send moved it (the fee back and a hold on
 * the merchant's balance, or on the escrow for a held escrow order) with
 * a NEW bank credit (request id "refund:<id>:<attempt>"); the refund
 * sending, attempt + 1, its card and credit the new ones, audited
 * pay.refund.resent, the payer told (pay.refund_card). After the commit
 * the credit is sent. Refusals (*ret_code; nothing written):
 * refund_not_found, refund_state_invalid, refund_card_invalid (another
 * user's card, an unknown, pending or unbound one, the card that failed),
 * the order's refusals, refund_amount_exceeded, insufficient_funds (the
 * merchant's balance short) and the ledger's others. Returns 0 (*ret the
 * refund when no refusal); ANFU_EINVAL for bad arguments; the writer's
 * and the store's errors.
 */
int anfu_pay_refund_resend(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
			   const char *card_id, struct anfu_pay_refund *ret, const char **ret_code);
/*
 * A customer's refund request (FUNC-SETL-08) of its paid order order_id
 * (payer_id, the session's), one writer command: the order's refusals as
 * for a merchant's refund (order_not_found for another customer's order)
 * and refund_state_invalid while a request of the order is open; writes
 * the refund in requested (origin "customer", number "customer-<id>");
 * it does not count against the order until the merchant accepts.
 * request_id (NULL: none; else 1..ANFU_LIMIT_PAY_REFUND_REQUEST_ID_BYTES)
 * is the client's idempotency key, per payer and order: the same key with
 * the same amount and reason answers the request it made, as it is now
 * (*ret_existed true, nothing written), with another amount or reason
 * idempotency_conflict (field request_id); its number is then
 * "customer-k<hash>".
 */
int anfu_pay_refund_request(struct anfu_pay *p, const struct anfu_actor *actor,
			    const char *order_id, const char *payer_id, int64_t amount,
			    const char *reason, const char *request_id, struct anfu_pay_refund *ret,
			    bool *ret_existed, const char **ret_code, const char **ret_field);
/* The merchant's answer to request id: decline ends it; accept checks the
 * bound and the order as an application does, then the rules review it
 * (up to refund_auto_max: executed at once; above: operators). Refusals:
 * refund_not_found (none, or another merchant's), refund_state_invalid,
 * the order's and the bound's, the ledger's. */
int anfu_pay_refund_answer(struct anfu_pay *p, const struct anfu_actor *actor,
			   const char *merchant_id, const char *id, bool accept,
			   struct anfu_pay_refund *ret, const char **ret_code,
			   const char **ret_field);
/* Executes every waiting_funds refund again (at most
 * ANFU_LIMIT_PAY_EXPIRE_PASS, one writer command each); *ret_done counts
 * those that succeeded. */
int anfu_pay_refund_retry_due(struct anfu_pay *p, int64_t *ret_done);
/* The refund id as db sees it; ANFU_ENOTFOUND when none. */
int anfu_pay_refund_get(struct anfu_db *db, const char *id, struct anfu_pay_refund *ret);
/* The interval of the job pay.refund_retry, ms; svc is the service. */
int64_t anfu_pay_refund_retry_interval(const void *svc);

/* ---- the order as a dispute subject (pay/dispute.c) ---- */

struct anfu_disputes;
/* Registers kind "order" with the dispute service (docs/disputes.md):
 * lookup answers a paid order to its payer (parties: the payer and the
 * merchant); refund executes a refund of origin "dispute", already
 * reviewed by the resolving operator, with the refund number
 * "dispute-<dispute id>-refund" (the dispute's key with '.' as '-'), so
 * a retry finds the same refund. Returns anfu_dispute_register's code. */
int anfu_pay_dispute_register(struct anfu_pay *p, struct anfu_disputes *d);

/* ---- refund receipts (pay/receipt_refund.c) ---- */

#define ANFU_PAY_REFUND_RECEIPT_KIND "refund"
struct anfu_receipt_facts;
/* The receipt facts of refund ref (an anfu_receipt_facts_fn, ud unused):
 * a succeeded refund, payer the merchant (its Chinese name), payee the
 * customer (no name shown), the money back's ledger transfer, the reason
 * as memo. ANFU_ENOTFOUND for no such refund or one not succeeded. */
int anfu_pay_refund_receipt_facts(void *ud, struct anfu_db *db, const char *ref,
				  struct anfu_receipt_facts *ret);

/* Its migrations (generated) and its option table. */
extern const struct anfu_migration_set anfu_pay_migrations;
extern const struct anfu_config_table anfu_pay_config_table;

/* ---- the cashier page (pay/cashier.c) ---- */

struct anfu_buf;

/* Appends fen (>= 0, under 10^16 yuan) in Chinese capital numerals as on
 * a bill ("壹佰元捌角肆分", "零元整") to out. Returns 0; ANFU_EINVAL for a
 * negative or too large amount (nothing appended); ANFU_ELIMIT (out's
 * cap: part may be appended). */
int anfu_pay_amount_words_zh(int64_t fen, struct anfu_buf *out);

/* ---- lists of refunds (pay/refund_list.c; docs/payments.md "Refund
 * lists") ---- */

/* What to list; strings borrowed. The route sets the scope from the
 * session: a merchant user's merchant_id, a customer's payer_id. */
struct anfu_pay_refund_query {
	const char *merchant_id; /* NULL / "": any merchant */
	const char *payer_id;	 /* NULL / "": any payer */
	const char *order_id;	 /* NULL / "": any order */
	const char *status;	 /* NULL / "": any; else a refund state name */
	int64_t from_ms, to_ms;	 /* [from, to) of created_ms; 0: unbounded */
	int64_t after_ms;	 /* the cursor: refunds strictly older than */
	const char *after_id;	 /* (after_ms, after_id); NULL / "": the newest */
	size_t limit;		 /* >= 1 */
};

/* The refunds matching q, newest first by (created_ms, id), at most
 * q->limit into out (cap >= limit), count in *ret_n. Returns 0;
 * ANFU_EINVAL for bad arguments or an unknown status; the store's errors. */
int anfu_pay_refunds(struct anfu_pay *p, const struct anfu_pay_refund_query *q,
		     struct anfu_pay_refund *out, size_t cap, size_t *ret_n);

/* ---- refunds to a bound card (pay/refund.c; docs/payments.md "Refunds to
 * a bound card") ---- */

struct anfu_bank;
/* Gives p the bank channel (the bank module's, earlier in the list; once,
 * at start, before any request): a refund the payer's wallet cannot take
 * (closed; frozen for credits) then goes to the payer's newest bound card,
 * and the bank's report on that credit ends the refund (its hook). b NULL:
 * refunds go to the wallet only. */
void anfu_pay_set_bank(struct anfu_pay *p, struct anfu_bank *b);

#endif
