/*
 * points: loyalty points (积分, docs/points.md): earned by rule on what a
 * customer paid (points per yuan, per-merchant campaigns with a multiplier
 * and a bonus inside a validity window) or granted by an operator; queried
 * as a balance and a history; redeemed for a catalogue item or for wallet
 * value at a configured rate; a redemption cancelled at most once, every
 * point returned (FUNC-PAY-10, -11, -12).
 *
 * Points are the ledger's second asset ("POINTS"): a customer's
 * customer_points account against the platform's points_liability; a
 * value redemption also credits the customer's CNY wallet from the
 * platform's points fund (a platform_fee-kind account owned by "points").
 * Every change that moves points is ONE ledger writer command
 * (anfu_ledger_run_weighted + anfu_ledger_submit_in): this module's rows
 * (earning, redemption, history entry, stock), the transfers and the audit
 * record commit together or not at all.
 *
 * Owns the tables points_campaign, points_item, points_earning,
 * points_redemption and points_entry (src/points/migrations/) and the
 * [points] options (points/options.c). Trusts the ledger for balances and
 * the handlers for decoded, range-checked input. Thread-safe: every call
 * uses the calling thread's connection or the writer.
 */
#ifndef ANFU_POINTS_POINTS_H
#define ANFU_POINTS_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rand.h"

struct anfu_actor;
struct anfu_config_table;
struct anfu_ledger;
struct anfu_migration_set;
struct anfu_store;
struct anfu_tx;
struct anfu_tx_exec;

/* The [points] options (points/options.c). */
struct anfu_points_config {
	int64_t earn_per_yuan;	    /* points per whole yuan paid, before a campaign */
	int64_t redeem_unit_points; /* a value redemption's unit: this many points ... */
	int64_t redeem_unit_fen;    /* ... buy this many fen */
	int64_t grant_max_points;   /* the largest operator grant */
};

/* A customer notice (earning, redemption, cancellation) in both
 * languages; strings borrowed for the call. */
struct anfu_points_notice {
	const char *kind; /* "points.earned", "points.redeemed", "points.cancelled" */
	const char *subject_zh, *subject_en;
	const char *body_zh, *body_en;
};
/* Queues n to user_id inside tx (the notifier's enqueue); returns 0 or an
 * error, which undoes the command. */
typedef int (*anfu_points_notice_fn)(void *ud, struct anfu_tx *tx, const char *user_id,
				     const struct anfu_points_notice *n);

struct anfu_points;

/* Makes the service: cfg, tx and l borrowed, must outlive it; opens (or
 * finds) the platform's points_liability (POINTS) and points fund (CNY)
 * accounts through the writer. Call it outside any writer command.
 * Returns 0 and *ret, ANFU_EINVAL, or anfu_ledger_open's error. */
int anfu_points_new(const struct anfu_points_config *cfg, struct anfu_tx_exec *tx,
		    struct anfu_ledger *l, struct anfu_points **ret);
/* NULL-safe. */
void anfu_points_free(struct anfu_points *p);
/* Sets the notice hook (fn NULL: notices are not sent). ud borrowed. */
void anfu_points_set_notice(struct anfu_points *p, anfu_points_notice_fn fn, void *ud);
const struct anfu_points_config *anfu_points_config(const struct anfu_points *p);

/* ---- rules (points/rules.c), pure ---- */

/* A campaign's effect: multiplier in percent (100 = x1) and a bonus. */
struct anfu_points_boost {
	int64_t multiplier_pct; /* 1..ANFU_LIMIT_POINTS_MULTIPLIER_PCT */
	int64_t bonus;		/* 0..ANFU_LIMIT_POINTS_AMOUNT */
};

/* Points earned on paid_fen (0..): floor(paid_fen x per_yuan x
 * multiplier_pct / 10000) + bonus (boost NULL: x1, no bonus); the
 * fraction of a point is dropped (docs/points.md "Earning"). *ret only on
 * success; ANFU_EINVAL for a negative or out-of-range input, ANFU_ERANGE
 * when the result exceeds ANFU_LIMIT_POINTS_AMOUNT. */
int anfu_points_earned(int64_t paid_fen, int64_t per_yuan, const struct anfu_points_boost *boost,
		       int64_t *ret);
/* The fen points buy at the rate unit_points : unit_fen. *ret only on
 * success; ANFU_EINVAL unless 0 < points <= ANFU_LIMIT_POINTS_AMOUNT and
 * points is a multiple of unit_points (both units > 0). */
int anfu_points_value_fen(int64_t points, int64_t unit_points, int64_t unit_fen, int64_t *ret);

/* ---- the redemption states (points/states.c): one table ---- */

enum anfu_points_event {
	ANFU_POINTS_EV_CANCEL = 0,
};
/* The state a redemption in `from` goes to on ev, or NULL when the table
 * has no such row (a cancelled redemption is not cancelled again). */
const char *anfu_points_redemption_next(const char *from, enum anfu_points_event ev);

/* ---- earning (points/earn.c) ---- */

/* An earning on a payment, or an operator's grant; strings borrowed. */
struct anfu_points_earn {
	const char *customer_id; /* usr_... */
	const char *merchant_id; /* mer_... whose campaigns apply, or NULL */
	int64_t paid_fen;	 /* what was paid (earn); 0 for a grant */
	int64_t points;		 /* a grant's points (> 0); 0 for an earning */
	const char *ref;	 /* 1..ANFU_LIMIT_POINTS_REF bytes [A-Za-z0-9_.:-]:
				  * unique per earning (the payment's id) */
	const char *reason;	 /* a grant's reason, else NULL */
};

struct anfu_points_earn_result {
	char id[ANFU_ID_MAX];	       /* pte_... */
	int64_t points;		       /* earned (0: nothing moved) */
	int64_t balance;	       /* the customer's points after it */
	char campaign_id[ANFU_ID_MAX]; /* the campaign applied, or "" */
	bool existed;		       /* the same ref earned before: nothing new */
	const char *code;	       /* NULL: earned (or existed); else a refusal,
					* nothing written */
};

/* Points each earning adds to its writer command's weight (its transfer
 * and its audit record). */
#define ANFU_POINTS_EARN_WEIGHT 2

/*
 * Earns points for e inside the caller's running ledger writer command tx
 * (anfu_ledger_run_weighted: add ANFU_POINTS_EARN_WEIGHT to its weight):
 * the earning row, the history entry, the transfer points_liability ->
 * customer_points (caller "points", key "earn.<id>"), the audit record
 * "points.earned" (or "points.granted" with the reason) and the notice.
 * Idempotent per ref: the same ref with the same content is answered
 * from the stored row (existed), other content is refused
 * idempotency_conflict. Returns 0 with *ret (code NULL or a refusal:
 * account_not_found for a customer without a points account); or
 * ANFU_EINVAL for a malformed e; or the store's or the ledger's error,
 * which the caller's fn should return.
 */
int anfu_points_earn_in(struct anfu_points *p, struct anfu_tx *tx, const struct anfu_points_earn *e,
			struct anfu_points_earn_result *ret);
/* An operator's grant (e->points > 0, e->reason set, e->paid_fen 0) as a
 * writer command of its own, as actor. Returns as anfu_points_earn_in
 * (points_grant_too_large above [points] grant_max_points). */
int anfu_points_grant(struct anfu_points *p, const struct anfu_actor *actor,
		      const struct anfu_points_earn *e, struct anfu_points_earn_result *ret);

/* ---- balance and history (points/earn.c) ---- */

/* The customer's points balance (available: credits minus debits, posted
 * and pending). ANFU_ENOTFOUND without a points account. */
int anfu_points_balance(struct anfu_points *p, const char *customer_id, int64_t *ret);

#define ANFU_POINTS_REASON_MAX 24
#define ANFU_POINTS_CURSOR_MAX 24

/* One change of a customer's points. */
struct anfu_points_entry {
	int64_t n;			     /* 1, 2, 3 ... per customer */
	int64_t change;			     /* + earned / returned, - redeemed */
	int64_t balance;		     /* after it */
	char reason[ANFU_POINTS_REASON_MAX]; /* earn, grant, redeem, cancel */
	char ref[ANFU_ID_MAX];		     /* the earning's or redemption's id */
	int64_t created_ms;
};
/* The customer's entries, newest first: at most limit (1..
 * ANFU_LIMIT_POINTS_PAGE) into out, *ret_n, next ("" on the last page).
 * cursor NULL or "" for the newest page, else a next this returned.
 * ANFU_EINVAL for a bad limit or cursor. */
int anfu_points_history(struct anfu_points *p, const char *customer_id, const char *cursor,
			size_t limit, struct anfu_points_entry *out, size_t *ret_n,
			char next[ANFU_POINTS_CURSOR_MAX]);

/* ---- catalogue and campaigns (points/catalogue.c) ---- */

#define ANFU_POINTS_NAME_BYTES (4 * ANFU_LIMIT_POINTS_NAME + 1)

struct anfu_points_item {
	char id[ANFU_ID_MAX]; /* pit_... */
	char name_zh[ANFU_POINTS_NAME_BYTES], name_en[ANFU_POINTS_NAME_BYTES];
	int64_t price; /* points, 1..ANFU_LIMIT_POINTS_AMOUNT */
	int64_t stock; /* 0..ANFU_LIMIT_POINTS_AMOUNT */
	bool active;
	int64_t created_ms, updated_ms;
};
/* Adds an item (id, created and updated are made), audited
 * "points.item_created". *ret only on success. */
int anfu_points_item_add(struct anfu_points *p, const struct anfu_actor *actor,
			 const struct anfu_points_item *in, struct anfu_points_item *ret);
/* Changes item id's fields that are set (NULL / negative: kept), audited
 * "points.item_updated". Returns 0 with *ret, ANFU_ENOTFOUND. */
struct anfu_points_item_change {
	const char *name_zh, *name_en;
	int64_t price, stock; /* < 0: kept */
	int active;	      /* < 0: kept, 0 / 1 */
};
int anfu_points_item_update(struct anfu_points *p, const struct anfu_actor *actor, const char *id,
			    const struct anfu_points_item_change *c, struct anfu_points_item *ret);
/* Items by id (active_only: those a customer sees), at most
 * ANFU_LIMIT_POINTS_PAGE; *ret_n. */
int anfu_points_items(struct anfu_points *p, bool active_only, struct anfu_points_item *out,
		      size_t *ret_n);

struct anfu_points_campaign {
	char id[ANFU_ID_MAX]; /* pcm_... */
	char merchant_id[ANFU_ID_MAX];
	struct anfu_points_boost boost;
	int64_t starts_ms, ends_ms; /* applies when starts_ms <= now < ends_ms */
	bool active;
	int64_t created_ms;
};
/* Adds a campaign, audited "points.campaign_created"; ANFU_EINVAL when
 * ends_ms <= starts_ms (the handler reports points_window_invalid). */
int anfu_points_campaign_add(struct anfu_points *p, const struct anfu_actor *actor,
			     const struct anfu_points_campaign *in,
			     struct anfu_points_campaign *ret);
/* Activates or ends a campaign, audited "points.campaign_updated".
 * ANFU_ENOTFOUND. */
int anfu_points_campaign_set_active(struct anfu_points *p, const struct anfu_actor *actor,
				    const char *id, bool active, struct anfu_points_campaign *ret);
int anfu_points_campaigns(struct anfu_points *p, struct anfu_points_campaign *out, size_t *ret_n);

/* ---- redemption and cancellation (points/redeem.c) ---- */

enum anfu_points_redeem_type {
	ANFU_POINTS_REDEEM_ITEM = 0,
	ANFU_POINTS_REDEEM_VALUE = 1,
};

/* A redemption asked for; strings borrowed. */
struct anfu_points_redeem {
	const char *customer_id;
	const char *request_id; /* the client's, 1..ANFU_LIMIT_POINTS_REQUEST_ID */
	enum anfu_points_redeem_type type;
	const char *item_id; /* ITEM */
	int64_t quantity;    /* ITEM: 1..ANFU_LIMIT_POINTS_QUANTITY */
	int64_t points;	     /* VALUE: a positive multiple of redeem_unit_points */
};

struct anfu_points_redemption {
	char id[ANFU_ID_MAX]; /* prd_... */
	char customer_id[ANFU_ID_MAX];
	char request_id[ANFU_LIMIT_POINTS_REQUEST_ID + 1];
	char type[8]; /* "item" | "value" */
	char item_id[ANFU_ID_MAX];
	int64_t quantity, points, value_fen;
	char state[16]; /* "completed" | "cancelled" */
	int64_t created_ms, cancelled_ms;
	int64_t balance; /* the customer's points after this call's change */
};

struct anfu_points_outcome {
	bool existed;	  /* the same request id answered from the stored row */
	const char *code; /* NULL: done; else a refusal, nothing written */
};

/* Redeems r as one writer command as actor: the redemption row, the
 * points transfer customer_points -> points_liability, the stock (ITEM) or
 * the wallet credit from the points fund (VALUE, linked with the points),
 * the history entry, the audit record "points.redeemed" and the notice.
 * Idempotent per (customer, request id). Returns 0 with *ret and *out
 * (out->code a refusal: points_insufficient, points_item_not_found,
 * points_item_inactive, points_out_of_stock, points_amount_invalid,
 * idempotency_conflict, account_not_found; account_frozen ...); or
 * ANFU_EINVAL, or the writer's errors. */
int anfu_points_redeem(struct anfu_points *p, const struct anfu_actor *actor,
		       const struct anfu_points_redeem *r, struct anfu_points_redemption *ret,
		       struct anfu_points_outcome *out);
/* Cancels redemption id (of customer_id; NULL: any customer's, an
 * operator's cancellation) as one writer command: every point back, the
 * stock restored or the wallet credit reversed (points_value_spent when
 * the wallet no longer holds it), state cancelled, history entry, audit
 * "points.redemption_cancelled" (with reason), notice. Refusals:
 * points_redemption_not_found, points_not_cancellable. */
int anfu_points_cancel(struct anfu_points *p, const struct anfu_actor *actor,
		       const char *customer_id, const char *id, const char *reason,
		       struct anfu_points_redemption *ret, struct anfu_points_outcome *out);
/* The customer's redemptions, newest first, at most ANFU_LIMIT_POINTS_PAGE. */
int anfu_points_redemptions(struct anfu_points *p, const char *customer_id,
			    struct anfu_points_redemption *out, size_t *ret_n);

/* Its migrations (generated) and its option table. */
extern const struct anfu_migration_set anfu_points_migrations;
extern const struct anfu_config_table anfu_points_config_table;

#endif
