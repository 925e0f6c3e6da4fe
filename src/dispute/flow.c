/*
 * dispute/flow: the changes of a dispute: lodging, the events of the
 * state table (dispute/states.c), messages, the refund of a resolution
 * and the deadline job (docs/disputes.md).
 *
 * Every change is one transaction of the executor: the dispute row, its
 * dispute_event row, its audit record and the customer's notice commit
 * together; a refusal writes nothing. A refund is executed by the
 * subject's provider after the resolution committed, with the key
 * "dispute.<id>.refund" (the provider is idempotent on it), and marked
 * done in a second transaction; a refund left pending (a crash, the
 * provider down) is retried by a resolve sent again and by the job.
 *
 * Trusts the providers for the subjects' facts, the caller for the actor
 * and ids, the handlers for text sizes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/money.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "dispute/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* The deadline job's actor. */
static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

static const char *const categories[] = {
	"not_received", "not_as_described", "wrong_amount", "not_authorized", "duplicate", "other",
};

static bool category_ok(const char *c)
{
	for (size_t i = 0; c && i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(categories[i], c) == 0)
			return true;
	return false;
}

/* The next event's number of dispute id, in tx; ANFU_ELIMIT when the
 * dispute has ANFU_LIMIT_DISPUTE_EVENTS already. */
static int next_seq(struct anfu_db *db, const char *id, int64_t *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id) };
	int64_t n = 0;
	int r = anfu_db_query_int(db, "SELECT COUNT(*) FROM dispute_event WHERE dispute_id = $1", p,
				  1, &n);

	if (r < 0)
		return r;
	if (n >= ANFU_LIMIT_DISPUTE_EVENTS)
		return ANFU_ELIMIT;
	*ret = n + 1;
	return 0;
}

/* Appends an event row of dispute id, in tx. */
static int event_add(struct anfu_tx *tx, const struct anfu_actor *actor, const char *id,
		     const char *event, const char *from, const char *to, const char *note)
{
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t seq = 0;
	int r = next_seq(db, id, &seq);
	const struct anfu_param p[] = {
		ANFU_PS(id),
		ANFU_PI(seq),
		ANFU_PI(anfu_clock_now_ms()),
		ANFU_PS(actor && actor->id ? actor->id : "system"),
		ANFU_PS(actor && actor->type ? actor->type : "system"),
		ANFU_PS(event),
		ANFU_PS(from),
		ANFU_PS(to),
		ANFU_PS(note ? note : ""),
	};

	if (r < 0)
		return r;
	return anfu_db_exec(
		db,
		"INSERT INTO dispute_event (dispute_id, seq, at_ms, actor_id, actor_type, "
		"event, from_state, to_state, note) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		p, 9, NULL, NULL, NULL);
}

/* How the complainant user_id is shown to the other party, into out (cap
 * bytes): masked by the service's shown function (the masked real name,
 * else the masked login); "***" for a user it does not know (any more) or
 * without one. 0 or its error. */
static int complainant_shown(struct anfu_disputes *d, const char *user_id, char *out, size_t cap)
{
	int r = d->shown ? d->shown(d->shown_ud, user_id, out, cap) : ANFU_ENOTFOUND;

	if (r == ANFU_ENOTFOUND)
		r = anfu_strlcpy(out, "***", cap) < 0 ? ANFU_ELIMIT : 0;
	return r;
}

/* The other party's notice of a change (docs/disputes.md, "Notices"): the
 * counterparty customer through the notifier, the merchant party through
 * its provider. What they may see only: the dispute id, who lodged it
 * (masked), the amount and what happened; none for an event they are not
 * told of (take). */
static int notify_other(struct anfu_disputes *d, struct anfu_tx *tx, const struct anfu_dispute *x,
			const char *ev)
{
	static const struct {
		const char *ev, *zh, *en;
	} texts[] = {
		{ "lodge", "等待客服处理", "waiting for an operator" },
		{ "resolve", "客服已给出处理结果", "resolved by an operator" },
		{ "reopen", "对方不同意处理结果，已重新提出",
		  "reopened: the other party disagrees" },
		{ "withdraw", "对方已撤销", "withdrawn by the other party" },
		{ "confirm", "已结束", "closed" },
		{ "auto_confirm", "已结束", "closed" },
	};
	const struct anfu_dispute_subject *s = &x->subject;
	const struct provider *pv = dispute_provider(d, x->kind);
	char figures[32], who[ANFU_MASK_MAX], zh[768], en[768];
	int r = 0;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (strcmp(texts[i].ev, ev) != 0)
			continue;
		r = anfu_money_format(s->amount, 2, figures, sizeof(figures));
		if (r == 0)
			r = complainant_shown(d, s->customer_id, who, sizeof(who));
		if (r < 0)
			return r;
		(void)snprintf(zh, sizeof(zh),
			       "%s 就与您有关的一笔交易（%s 元）提出的交易纠纷 %s：%s。", who,
			       figures, x->id, texts[i].zh);
		(void)snprintf(
			en, sizeof(en),
			"The dispute %s that %s lodged about a transaction with you (CNY %s): "
			"%s.",
			x->id, who, figures, texts[i].en);
		if (s->counterparty_id[0] && d->notice)
			r = d->notice(d->notice_ud, tx, s->counterparty_id, zh, en);
		if (r == ANFU_ENOTFOUND) /* no such user (any more): no one to tell */
			r = 0;
		if (r == 0 && s->merchant_id[0] && pv && pv->ops->notice)
			r = pv->ops->notice(pv->ud, tx, x->ref, s->merchant_id, zh, en);
		return r;
	}
	return 0;
}

/* The customer's notice of a change (event ev, to state to), in tx (none
 * without a notifier), and the other party's. */
static int notify(struct anfu_disputes *d, struct anfu_tx *tx, const struct anfu_dispute *x,
		  const char *to, const char *ev)
{
	static const struct {
		const char *state, *zh, *en;
	} texts[] = {
		{ "open", "已受理，我们将尽快处理。", "received; we will handle it soon." },
		{ "in_progress", "客服正在处理。", "an operator is handling it." },
		{ "resolved", "已有处理结果，请查看并确认。",
		  "it has a resolution; please review and confirm it." },
		{ "confirmed", "已结束。", "it is closed." },
		{ "withdrawn", "您已撤销。", "you withdrew it." },
	};
	char zh[256], en[256];
	int r = 0;

	if (!d->notice)
		return notify_other(d, tx, x, ev);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (strcmp(texts[i].state, to) != 0)
			continue;
		if (strcmp(ev, "reopen") == 0) {
			(void)snprintf(zh, sizeof(zh),
				       "您的交易纠纷 %s：您已重新提出，客服将再次处理。", x->id);
			(void)snprintf(
				en, sizeof(en),
				"Your dispute %s: you reopened it; an operator will handle it "
				"again.",
				x->id);
		} else {
			(void)snprintf(zh, sizeof(zh), "您的交易纠纷 %s：%s", x->id, texts[i].zh);
			(void)snprintf(en, sizeof(en), "Your dispute %s: %s", x->id, texts[i].en);
		}
		r = d->notice(d->notice_ud, tx, x->subject.customer_id, zh, en);
		break;
	}
	return r < 0 ? r : notify_other(d, tx, x, ev);
}

/* ---- lodging ---- */

struct lodge {
	struct anfu_disputes *d;
	const struct anfu_actor *actor;
	struct anfu_dispute x;
	const char *refusal;
};

static int lodge_tx(struct anfu_tx *tx, void *ud)
{
	struct lodge *a = ud;
	struct anfu_dispute *x = &a->x;
	char key[ANFU_LIMIT_DISPUTE_KIND_BYTES + ANFU_LIMIT_DISPUTE_REF_BYTES + 1];
	const char *kp = key;
	const struct anfu_param k[] = { ANFU_PS(kp) };
	int64_t open = 0;
	int r;

	(void)snprintf(key, sizeof(key), "%s:%s", x->kind, x->ref);
	r = anfu_db_query_int(anfu_tx_db(tx), "SELECT COUNT(*) FROM dispute WHERE active_key = $1",
			      k, 1, &open);
	if (r < 0)
		return r;
	if (open > 0) {
		a->refusal = ANFU_R_DISPUTE_ALREADY_OPEN;
		return 0;
	}
	{
		const struct anfu_dispute_subject *s = &x->subject;
		const struct anfu_param p[] = {
			ANFU_PS(x->id),		 ANFU_PS(x->kind),
			ANFU_PS(x->ref),	 ANFU_PS(kp),
			ANFU_PS(s->customer_id), ANFU_PS(s->counterparty_id),
			ANFU_PS(s->merchant_id), ANFU_PI(s->amount),
			ANFU_PS(s->currency),	 ANFU_PI(s->time_ms),
			ANFU_PS(s->description), ANFU_PS(x->category),
			ANFU_PS(x->reason),	 ANFU_PI(x->created_ms),
		};

		r = anfu_db_exec(anfu_tx_db(tx),
				 "INSERT INTO dispute (id, kind, ref, active_key, customer_id, "
				 "counterparty_id, merchant_id, amount, currency, subject_ms, "
				 "description, category, reason, state, created_ms, updated_ms, "
				 "round_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
				 "$12, $13, 'open', $14, $14, $14)",
				 p, 14, NULL, NULL, NULL);
	}
	if (r == 0)
		r = event_add(tx, a->actor, x->id, "lodge", "", "open", x->reason);
	if (r == 0)
		r = anfu_tx_audit(tx, "dispute.lodged", "dispute", x->id, "success",
				  json_pack("{s:s,s:s,s:s,s:I}", "kind", x->kind, "ref", x->ref,
					    "category", x->category, "amount",
					    (json_int_t)x->subject.amount));
	if (r == 0)
		r = notify(a->d, tx, x, "open", "lodge");
	return r;
}

int anfu_dispute_open(struct anfu_disputes *d, const struct anfu_actor *actor,
		      const char *customer_id, const struct anfu_dispute_lodge *in,
		      struct anfu_dispute *ret, const char **ret_refusal)
{
	struct lodge a = { .d = d, .actor = actor };
	const struct provider *pv;
	int r;

	if (!d || !actor || !customer_id || !in || !in->kind || !in->ref || !in->category ||
	    !in->description || !ret || !ret_refusal)
		return ANFU_EINVAL;
	if (!category_ok(in->category))
		return ANFU_EINVAL;
	pv = dispute_provider(d, in->kind);
	if (!pv) {
		*ret_refusal = ANFU_R_DISPUTE_KIND_UNKNOWN;
		return 0;
	}
	r = pv->ops->lookup(pv->ud, in->ref, customer_id, &a.x.subject);
	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(a.x.subject.customer_id, customer_id) != 0)) {
		*ret_refusal = ANFU_R_DISPUTE_SUBJECT_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	if (a.x.subject.amount <= 0 || strcmp(a.x.subject.currency, "CNY") != 0)
		return ANFU_EINTERNAL;
	if (anfu_strlcpy(a.x.kind, in->kind, sizeof(a.x.kind)) < 0 ||
	    anfu_strlcpy(a.x.ref, in->ref, sizeof(a.x.ref)) < 0 ||
	    anfu_strlcpy(a.x.category, in->category, sizeof(a.x.category)) < 0 ||
	    anfu_strlcpy(a.x.reason, in->description, sizeof(a.x.reason)) < 0)
		return ANFU_ELIMIT;
	r = anfu_id_new("dsp", a.x.id, sizeof(a.x.id));
	if (r < 0)
		return r;
	a.x.created_ms = anfu_clock_now_ms();
	(void)anfu_strlcpy(a.x.state, "open", sizeof(a.x.state));
	r = anfu_tx_run(d->tx, actor, lodge_tx, &a);
	if (r == ANFU_EEXIST) /* a lodging that raced this one */
		a.refusal = ANFU_R_DISPUTE_ALREADY_OPEN;
	else if (r < 0)
		return r;
	if (a.refusal) {
		*ret_refusal = a.refusal;
		return 0;
	}
	*ret_refusal = NULL;
	return anfu_dispute_get(d, a.x.id, ret);
}

/* ---- the events of the table ---- */

struct change {
	struct anfu_disputes *d;
	const struct anfu_actor *actor; /* NULL: the deadline job acting */
	const char *id;
	const char *customer_id; /* the customer's own only; NULL: any */
	enum anfu_dispute_event ev;
	const char *note;
	int64_t refund_amount; /* resolve */
	const char *refusal;
	bool replay; /* resolve: the same resolution again */
	struct anfu_dispute x;
};

/* A resolve the dispute already has: the same text and refund answer
 * again (a retried request), another is refused. */
static void resolve_again(struct change *c)
{
	if (strcmp(c->x.resolution, c->note) == 0 && c->x.refund_amount == c->refund_amount)
		c->replay = true;
	else
		c->refusal = ANFU_R_DISPUTE_RESOLUTION_DIFFERS;
}

/* What a resolve needs beyond the table: a refund the provider can make,
 * no more than the subject's amount. */
static const char *resolve_refusal(const struct change *c)
{
	const struct provider *pv;

	if (c->refund_amount == 0)
		return NULL;
	pv = dispute_provider(c->d, c->x.kind);
	if (!pv || !pv->ops->refund)
		return ANFU_R_DISPUTE_REFUND_UNSUPPORTED;
	if (c->refund_amount > c->x.subject.amount)
		return ANFU_R_DISPUTE_REFUND_TOO_LARGE;
	/* The refunds of earlier resolutions stay made: all of them together
	 * refund at most the subject's amount. */
	if (c->refund_amount > c->x.subject.amount - c->x.refunded_before)
		return ANFU_R_DISPUTE_REFUND_TOO_LARGE;
	return NULL;
}

/* What a reopen needs beyond the table: a reopen left, and the
 * resolution's refund made (so the next resolution's bound is known and
 * the pending one is not retried under the next resolution's key). */
static const char *reopen_refusal(const struct change *c)
{
	if (c->x.reopens >= ANFU_LIMIT_DISPUTE_REOPENS)
		return ANFU_R_DISPUTE_REOPEN_LIMIT;
	if (strcmp(c->x.refund_state, "pending") == 0)
		return ANFU_R_DISPUTE_REFUND_PENDING;
	return NULL;
}

static int change_row(struct anfu_tx *tx, struct change *c, const char *to)
{
	int64_t now = anfu_clock_now_ms(), changes = 0;
	bool final = anfu_dispute_state_final(to);
	bool refund = c->ev == ANFU_DISPUTE_EV_RESOLVE && c->refund_amount > 0;
	const struct anfu_param p[] = {
		ANFU_PS(c->id),
		ANFU_PS(c->x.state),
		ANFU_PS(to),
		ANFU_PI(now),
		ANFU_PI(c->ev == ANFU_DISPUTE_EV_TAKE ? 1 : 0),
		ANFU_PS(c->actor && c->actor->id ? c->actor->id : ""),
		ANFU_PI(c->ev == ANFU_DISPUTE_EV_RESOLVE ? 1 : 0),
		ANFU_PS(c->ev == ANFU_DISPUTE_EV_RESOLVE ? c->note : ""),
		ANFU_PI(c->ev == ANFU_DISPUTE_EV_RESOLVE ? c->refund_amount : 0),
		ANFU_PS(refund ? "pending" : "none"),
		ANFU_PI(final ? 1 : 0),
		ANFU_PI(c->ev == ANFU_DISPUTE_EV_REOPEN ? 1 : 0),
	};
	/* The state guard makes a concurrent change of the same dispute
	 * (two operators, the job and the customer) apply once. */
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE dispute SET state = $3, updated_ms = $4, "
			     "taken_ms = CASE WHEN $5 = 1 THEN $4 ELSE taken_ms END, "
			     "operator_id = CASE WHEN $5 = 1 THEN $6 ELSE operator_id END, "
			     "resolved_ms = CASE WHEN $7 = 1 THEN $4 ELSE resolved_ms END, "
			     "resolution = CASE WHEN $7 = 1 THEN $8 ELSE resolution END, "
			     "refund_amount = CASE WHEN $7 = 1 THEN $9 ELSE refund_amount END, "
			     "refund_state = CASE WHEN $7 = 1 THEN $10 ELSE refund_state END, "
			     "closed_ms = CASE WHEN $11 = 1 THEN $4 ELSE closed_ms END, "
			     "active_key = CASE WHEN $11 = 1 THEN NULL ELSE active_key END, "
			     "reopens = CASE WHEN $12 = 1 THEN reopens + 1 ELSE reopens END, "
			     "round_ms = CASE WHEN $12 = 1 THEN $4 ELSE round_ms END, "
			     "refunded = CASE WHEN $12 = 1 AND refund_state = 'done' "
			     "THEN refunded + refund_amount ELSE refunded END "
			     "WHERE id = $1 AND state = $2",
			     p, 12, NULL, NULL, &changes);

	if (r < 0)
		return r;
	return changes == 1 ? 0 : ANFU_ECONFLICT;
}

static int change_tx(struct anfu_tx *tx, void *ud)
{
	struct change *c = ud;
	const char *to, *ev = anfu_dispute_event_name(c->ev);
	char action[40];
	int r = dispute_read(anfu_tx_db(tx), c->id, &c->x);

	if (r == ANFU_ENOTFOUND ||
	    (r == 0 && c->customer_id && strcmp(c->x.subject.customer_id, c->customer_id) != 0)) {
		c->refusal = ANFU_R_DISPUTE_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	to = anfu_dispute_transition(c->x.state, c->ev);
	if (!to && c->ev == ANFU_DISPUTE_EV_RESOLVE && strcmp(c->x.state, "resolved") == 0) {
		resolve_again(c);
		return 0;
	}
	if (!to) {
		c->refusal = ANFU_R_DISPUTE_STATE_INVALID;
		return 0;
	}
	if (c->ev == ANFU_DISPUTE_EV_RESOLVE && (c->refusal = resolve_refusal(c)) != NULL)
		return 0;
	if (c->ev == ANFU_DISPUTE_EV_REOPEN && (c->refusal = reopen_refusal(c)) != NULL)
		return 0;
	r = change_row(tx, c, to);
	if (r == 0)
		r = event_add(tx, c->actor, c->id, ev, c->x.state, to, c->note);
	(void)snprintf(action, sizeof(action), "dispute.%s", ev);
	if (r == 0 && c->actor)
		r = anfu_tx_audit(tx, action, "dispute", c->id, "success",
				  json_pack("{s:s,s:s,s:I}", "from", c->x.state, "to", to,
					    "refund_amount", (json_int_t)c->refund_amount));
	else if (r == 0)
		r = anfu_tx_audit_as(tx, &system_actor, action, "dispute", c->id, "success",
				     json_pack("{s:s,s:s}", "from", c->x.state, "to", to));
	if (r == 0)
		r = notify(c->d, tx, &c->x, to, ev);
	return r;
}

/* Runs c; the dispute as it is after into *ret. */
static int change_run(struct change *c, struct anfu_dispute *ret, const char **ret_refusal)
{
	int r = anfu_tx_run(c->d->tx, c->actor, change_tx, c);

	if (r == ANFU_ECONFLICT) /* changed under us: as the table says now */
		c->refusal = ANFU_R_DISPUTE_STATE_INVALID;
	else if (r == ANFU_ELIMIT)
		c->refusal = ANFU_R_DISPUTE_TOO_MANY_EVENTS;
	else if (r < 0)
		return r;
	if (c->refusal) {
		*ret_refusal = c->refusal;
		return 0;
	}
	*ret_refusal = NULL;
	return ret ? anfu_dispute_get(c->d, c->id, ret) : 0;
}

int anfu_dispute_take(struct anfu_disputes *d, const struct anfu_actor *actor, const char *id,
		      struct anfu_dispute *ret, const char **ret_refusal)
{
	struct change c = { .d = d, .actor = actor, .id = id, .ev = ANFU_DISPUTE_EV_TAKE };

	if (!d || !actor || !id || !ret || !ret_refusal)
		return ANFU_EINVAL;
	return change_run(&c, ret, ret_refusal);
}

int anfu_dispute_confirm(struct anfu_disputes *d, const struct anfu_actor *actor,
			 const char *customer_id, const char *id, struct anfu_dispute *ret,
			 const char **ret_refusal)
{
	struct change c = { .d = d,
			    .actor = actor,
			    .id = id,
			    .customer_id = customer_id,
			    .ev = ANFU_DISPUTE_EV_CONFIRM };

	if (!d || !actor || !customer_id || !id || !ret || !ret_refusal)
		return ANFU_EINVAL;
	return change_run(&c, ret, ret_refusal);
}

int anfu_dispute_reopen(struct anfu_disputes *d, const struct anfu_actor *actor,
			const char *customer_id, const char *id, const char *reason,
			struct anfu_dispute *ret, const char **ret_refusal)
{
	struct change c = { .d = d,
			    .actor = actor,
			    .id = id,
			    .customer_id = customer_id,
			    .ev = ANFU_DISPUTE_EV_REOPEN,
			    .note = reason };

	if (!d || !actor || !customer_id || !id || !reason || !ret || !ret_refusal)
		return ANFU_EINVAL;
	return change_run(&c, ret, ret_refusal);
}

int anfu_dispute_withdraw(struct anfu_disputes *d, const struct anfu_actor *actor,
			  const char *customer_id, const char *id, struct anfu_dispute *ret,
			  const char **ret_refusal)
{
	struct change c = { .d = d,
			    .actor = actor,
			    .id = id,
			    .customer_id = customer_id,
			    .ev = ANFU_DISPUTE_EV_WITHDRAW };

	if (!d || !actor || !customer_id || !id || !ret || !ret_refusal)
		return ANFU_EINVAL;
	return change_run(&c, ret, ret_refusal);
}

/* ---- the refund of a resolution ---- */

struct refund_done {
	const char *id;
	const char *ref;
	int64_t amount;
};

static int refund_done_tx(struct anfu_tx *tx, void *ud)
{
	struct refund_done *a = ud;
	const struct anfu_param p[] = { ANFU_PS(a->id), ANFU_PS(a->ref),
					ANFU_PI(anfu_clock_now_ms()) };
	int64_t changes = 0;
	char note[64];
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE dispute SET refund_state = 'done', refund_ref = $2, "
			     "updated_ms = $3 WHERE id = $1 AND refund_state = 'pending'",
			     p, 3, NULL, NULL, &changes);

	if (r < 0 || changes == 0) /* done by a concurrent retry: nothing more */
		return r;
	(void)snprintf(note, sizeof(note), "%" PRId64 " CNY fen", a->amount);
	r = event_add(tx, anfu_tx_actor(tx), a->id, "refund", "resolved", "resolved", note);
	if (r == 0)
		r = anfu_tx_audit(tx, "dispute.refunded", "dispute", a->id, "success",
				  json_pack("{s:I,s:s}", "amount", (json_int_t)a->amount,
					    "refund_ref", a->ref));
	return r;
}

/* Executes the pending refund of x through its provider (key
 * "dispute.<id>.refund", "dispute.<id>.refund.<n>" for the n-th
 * resolution after a reopen: a retry executes nothing twice) and marks it
 * done. A provider's failure leaves it pending (logged) for a retry. */
static int refund_run(struct anfu_disputes *d, const struct anfu_actor *actor,
		      const struct anfu_dispute *x)
{
	const struct provider *pv = dispute_provider(d, x->kind);
	struct anfu_dispute_refund_result res = { { 0 } };
	struct refund_done a = { x->id, res.ref, x->refund_amount };
	char key[ANFU_LIMIT_DISPUTE_REFUND_KEY_BYTES];
	int r;

	if (strcmp(x->refund_state, "pending") != 0)
		return 0;
	if (!pv || !pv->ops->refund)
		return ANFU_EINTERNAL;
	/* The first resolution's key as before a reopen existed; resolution
	 * n >= 2 (after n - 1 reopens) its own, so each executes once. */
	if (x->reopens == 0)
		(void)snprintf(key, sizeof(key), "dispute.%s.refund", x->id);
	else
		(void)snprintf(key, sizeof(key), "dispute.%s.refund.%" PRId64, x->id,
			       x->reopens + 1);
	r = pv->ops->refund(pv->ud, actor, x->ref, x->refund_amount, x->resolution, key, &res);
	if (r < 0) {
		anfu_log_warn("dispute.refund", "refund of %s not executed (%s); retried later",
			      x->id, anfu_strerror(r));
		return 0;
	}
	return anfu_tx_run(d->tx, actor ? actor : &system_actor, refund_done_tx, &a);
}

int anfu_dispute_resolve(struct anfu_disputes *d, const struct anfu_actor *actor, const char *id,
			 const char *resolution, int64_t refund_amount, struct anfu_dispute *ret,
			 const char **ret_refusal)
{
	struct change c = { .d = d,
			    .actor = actor,
			    .id = id,
			    .ev = ANFU_DISPUTE_EV_RESOLVE,
			    .note = resolution,
			    .refund_amount = refund_amount };
	struct anfu_dispute now;
	int r;

	if (!d || !actor || !id || !resolution || refund_amount < 0 || !ret || !ret_refusal)
		return ANFU_EINVAL;
	r = change_run(&c, &now, ret_refusal);
	if (r < 0 || *ret_refusal)
		return r;
	r = refund_run(d, actor, &now);
	if (r < 0)
		return r;
	return anfu_dispute_get(d, id, ret);
}

/* ---- messages ---- */

struct message {
	struct anfu_disputes *d;
	const char *id, *customer_id, *text;
	const char *refusal;
};

static int message_tx(struct anfu_tx *tx, void *ud)
{
	struct message *m = ud;
	struct anfu_dispute x;
	int r = dispute_read(anfu_tx_db(tx), m->id, &x);

	if (r == ANFU_ENOTFOUND ||
	    (r == 0 && m->customer_id && strcmp(x.subject.customer_id, m->customer_id) != 0)) {
		m->refusal = ANFU_R_DISPUTE_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	if (anfu_dispute_state_final(x.state)) {
		m->refusal = ANFU_R_DISPUTE_STATE_INVALID;
		return 0;
	}
	r = event_add(tx, anfu_tx_actor(tx), m->id, "message", x.state, x.state, m->text);
	if (r == 0)
		r = anfu_tx_audit(tx, "dispute.message", "dispute", m->id, "success",
				  json_pack("{s:I}", "bytes", (json_int_t)strlen(m->text)));
	return r;
}

int anfu_dispute_message(struct anfu_disputes *d, const struct anfu_actor *actor,
			 const char *customer_id, const char *id, const char *text,
			 const char **ret_refusal)
{
	struct message m = { d, id, customer_id, text, NULL };
	int r;

	if (!d || !actor || !id || !text || !ret_refusal)
		return ANFU_EINVAL;
	r = anfu_tx_run(d->tx, actor, message_tx, &m);
	if (r == ANFU_ELIMIT)
		m.refusal = ANFU_R_DISPUTE_TOO_MANY_EVENTS;
	else if (r < 0)
		return r;
	*ret_refusal = m.refusal;
	return 0;
}

/* ---- deadlines (job dispute.deadlines) ---- */

/* Disputes a query of the job found: ids, and (a reminder's query) the
 * round each is in. */
struct id_list {
	char ids[ANFU_LIMIT_DISPUTE_DEADLINE_BATCH][ANFU_ID_MAX];
	int64_t rounds[ANFU_LIMIT_DISPUTE_DEADLINE_BATCH];
	size_t n;
};

static int id_row(void *ud, const struct anfu_row *row)
{
	struct id_list *l = ud;
	const char *id = anfu_row_text(row, 0, NULL);

	if (l->n >= ANFU_LIMIT_DISPUTE_DEADLINE_BATCH)
		return 1;
	if (!id || anfu_strlcpy(l->ids[l->n], id, ANFU_ID_MAX) < 0)
		return ANFU_ESCHEMA;
	l->rounds[l->n] = anfu_row_count(row) > 1 ? anfu_row_int(row, 1) : 0;
	l->n++;
	return 0;
}

static int ids_due(struct anfu_disputes *d, const char *sql, int64_t bound, struct id_list *l)
{
	const struct anfu_param p[] = { ANFU_PI(bound),
					ANFU_PI(ANFU_LIMIT_DISPUTE_DEADLINE_BATCH) };
	struct anfu_db *db = NULL;
	int r = anfu_store_db(anfu_tx_exec_store(d->tx), &db);

	l->n = 0;
	return r < 0 ? r : anfu_db_exec(db, sql, p, 2, id_row, l, NULL);
}

struct reminder {
	const char *id, *kind;
	int64_t round; /* 1 from lodging, n + 1 after the n-th reopen */
	bool raised;
};

static int reminder_tx(struct anfu_tx *tx, void *ud)
{
	struct reminder *m = ud;
	const struct anfu_param p[] = { ANFU_PS(m->id), ANFU_PS(m->kind), ANFU_PI(m->round),
					ANFU_PI(anfu_clock_now_ms()) };
	int64_t have = 0;
	int r = anfu_db_query_int(anfu_tx_db(tx),
				  "SELECT COUNT(*) FROM dispute_reminder WHERE dispute_id = $1 AND "
				  "kind = $2 AND round = $3",
				  p, 3, &have);

	if (r < 0 || have > 0)
		return r;
	r = anfu_db_exec(anfu_tx_db(tx),
			 "INSERT INTO dispute_reminder (dispute_id, kind, round, at_ms) "
			 "VALUES ($1, $2, $3, $4)",
			 p, 4, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_tx_audit(
			tx, "dispute.reminder", "dispute", m->id, "success",
			json_pack("{s:s,s:I}", "deadline", m->kind, "round", (json_int_t)m->round));
	m->raised = r == 0;
	return r;
}

/* One reminder of kind for each dispute the query finds due, in the
 * round the query found it in. */
static int remind(struct anfu_disputes *d, struct id_list *l, const char *kind, const char *sql,
		  int64_t bound, int *count)
{
	int r = ids_due(d, sql, bound, l);

	for (size_t i = 0; r >= 0 && i < l->n; i++) {
		struct reminder m = { l->ids[i], kind, l->rounds[i], false };

		r = anfu_tx_run(d->tx, &system_actor, reminder_tx, &m);
		if (r == 0 && m.raised) {
			/* The operators' alert: the log's alert line. */
			anfu_log_warn("dispute.alert",
				      "dispute %s is past its %s deadline (round %" PRId64 ")",
				      l->ids[i], kind, m.round);
			(*count)++;
		}
	}
	return r < 0 ? r : 0;
}

/* The disputes of a reminder's query: in states, whose current round
 * began at or before $1 (the deadline is due at the instant itself:
 * round_ms + N <= now) and that have no reminder of kind in that round;
 * the round as the second column. */
#define DUE_SQL(states, kind)                                                       \
	"SELECT id, reopens + 1 FROM dispute d WHERE state IN " states " AND "      \
	"round_ms <= $1 AND NOT EXISTS (SELECT 1 FROM dispute_reminder m WHERE "    \
	"m.dispute_id = d.id AND m.kind = '" kind "' AND m.round = d.reopens + 1) " \
	"ORDER BY round_ms, id LIMIT $2"

int anfu_dispute_deadlines(struct anfu_disputes *d, struct anfu_dispute_deadline_report *ret)
{
	struct anfu_dispute_deadline_report rep = { 0 };
	int64_t now = anfu_clock_now_ms();
	struct id_list *l = NULL;
	int r;

	if (!d || !ret)
		return ANFU_EINVAL;
	l = anfu_xcalloc(1, sizeof(*l));
	/* Each round (from lodging, from each reopen) has its own deadlines. */
	r = remind(d, l, "take", DUE_SQL("('open')", "take"), now - d->cfg->take_hours * HOUR_MS,
		   &rep.take_reminders);
	if (r == 0)
		r = remind(d, l, "handle", DUE_SQL("('open', 'in_progress')", "handle"),
			   now - d->cfg->handle_days * DAY_MS, &rep.handle_reminders);
	if (r == 0)
		r = ids_due(d,
			    "SELECT id FROM dispute WHERE state = 'resolved' AND resolved_ms <= $1 "
			    "ORDER BY resolved_ms, id LIMIT $2",
			    now - d->cfg->confirm_days * DAY_MS, l);
	for (size_t i = 0; r >= 0 && i < l->n; i++) {
		struct change c = { .d = d,
				    .id = l->ids[i],
				    .ev = ANFU_DISPUTE_EV_AUTO_CONFIRM,
				    .note = "confirm_days passed" };
		const char *refusal = NULL;

		r = change_run(&c, NULL, &refusal);
		if (r == 0 && !refusal)
			rep.auto_confirmed++;
	}
	if (r == 0)
		r = ids_due(d,
			    "SELECT id FROM dispute WHERE refund_state = 'pending' AND "
			    "resolved_ms <= $1 ORDER BY resolved_ms, id LIMIT $2",
			    now, l);
	for (size_t i = 0; r >= 0 && i < l->n; i++) {
		struct anfu_dispute x;

		r = anfu_dispute_get(d, l->ids[i], &x);
		if (r == 0)
			r = refund_run(d, NULL, &x);
		if (r == 0)
			rep.refunds_retried++;
	}
	free(l);
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}
