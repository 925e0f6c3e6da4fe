/*
 * iam/alert: privilege-attempt alerts (AUD-ALERT-01) and the audit record
 * of every refused attempt.
 *
 * Owns iam_alert and the "alert" row of iam_counter. An authenticated
 * principal that asks for a route whose permission it lacks, or that a
 * service refuses on an object-level rule ("forbidden", "approval_self"),
 * has tried to go beyond its privileges: the refusal's "denied" audit
 * record and the alert commit together, and the alert mail to every active
 * administrator with a bound email (holders of iam.alert.manage) is queued
 * in the same transaction. Mails are aggregated: the attempts of one actor
 * within alerts.mail_window of the first attempt of its open alert are
 * counted on that alert without another mail, so that a script hammering a
 * route cannot flood the administrators; every attempt still has its own
 * audit record naming the alert. A step-up refusal, a CSRF failure or a
 * 401 is not a privilege attempt and raises nothing.
 *
 * Trusts the principal (authenticated by anfu_iam_authenticate) and its
 * callers for the action and object names (our own strings: route patterns,
 * audit actions, ids of the right shape). Alerts and their mails carry ids,
 * actions and the client IP, never personal data.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/admin.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "store/store.h"

#define ALERT_PERM "iam.alert.manage"

bool iam_alert_reason(const char *code)
{
	return code &&
	       (strcmp(code, ANFU_R_FORBIDDEN) == 0 || strcmp(code, ANFU_R_APPROVAL_SELF) == 0);
}

static const char *class_name(enum anfu_role_class c)
{
	switch (c) {
	case ANFU_CLASS_CUSTOMER: return "customer";
	case ANFU_CLASS_MERCHANT: return "merchant";
	case ANFU_CLASS_OPERATOR: return "operator";
	default: return "admin";
	}
}

/* ---- raising ---------------------------------------------------------------- */

static int id_cb(void *ud, const struct anfu_row *r)
{
	const char *id = anfu_row_text(r, 0, NULL);

	(void)anfu_strlcpy(ud, id ? id : "", ANFU_ID_MAX);
	return 1;
}

/* The actor's open alert whose window still runs at now, or "". */
static int open_alert(struct anfu_db *db, const char *actor_id, int64_t since,
		      char out[ANFU_ID_MAX])
{
	struct anfu_param p[2] = { iam_ps(actor_id), ANFU_PI(since) };

	out[0] = '\0';
	return anfu_db_exec(db,
			    "SELECT id FROM iam_alert WHERE actor_id = $1 AND state = 'open'"
			    " AND first_ms > $2 ORDER BY number DESC LIMIT 1",
			    p, 2, id_cb, out, NULL);
}

static int count_attempt(struct anfu_db *db, const char *id, int64_t now, const char *action,
			 const char *object, const char *reason, const char *ip)
{
	struct anfu_param p[6] = { iam_ps(id),	   ANFU_PI(now),   iam_ps(action),
				   iam_ps(object), iam_ps(reason), iam_ps(ip) };

	return anfu_db_exec(db,
			    "UPDATE iam_alert SET attempts = attempts + 1, last_ms = $2,"
			    " last_action = $3, last_object = $4, last_reason = $5, last_ip = $6"
			    " WHERE id = $1",
			    p, 6, NULL, NULL, NULL);
}

static int number_cb(void *ud, const struct anfu_row *r)
{
	*(int64_t *)ud = anfu_row_int(r, 0);
	return 1;
}

static int next_number(struct anfu_db *db, int64_t *ret)
{
	int64_t n = 0;
	int r = anfu_db_exec(db,
			     "UPDATE iam_counter SET value = value + 1 WHERE name = 'alert' "
			     "RETURNING value",
			     NULL, 0, number_cb, &n, NULL);

	if (r < 0)
		return r;
	if (n <= 0) {
		anfu_log_error("iam.alert", "the alert counter row is missing");
		return ANFU_EINTERNAL;
	}
	*ret = n;
	return 0;
}

struct recipients {
	size_t n;
	char ids[ANFU_LIMIT_ALERT_RECIPIENTS][ANFU_ID_MAX];
};

static int recipient_cb(void *ud, const struct anfu_row *r)
{
	struct recipients *rc = ud;
	const char *id = anfu_row_text(r, 0, NULL);

	if (rc->n >= ANFU_LIMIT_ALERT_RECIPIENTS)
		return 1;
	(void)anfu_strlcpy(rc->ids[rc->n++], id ? id : "", ANFU_ID_MAX);
	return 0;
}

/* Active, unexpired staff holding iam.alert.manage with a bound email
 * (staff locks have no end time, so a stored status of "active" and no
 * past expiry is the effective state "active", iam_user_state()). */
static int recipients_load(struct anfu_db *db, int64_t now, struct recipients *rc)
{
	struct anfu_param p[3] = { iam_ps(ALERT_PERM), ANFU_PI(now),
				   ANFU_PI(ANFU_LIMIT_ALERT_RECIPIENTS) };

	return anfu_db_exec(db,
			    "SELECT DISTINCT u.id FROM iam_user u"
			    " JOIN iam_user_role ur ON ur.user_id = u.id"
			    " JOIN iam_role_permission rp ON rp.role = ur.role"
			    " WHERE rp.permission = $1 AND u.kind = 'staff' AND u.status = 'active'"
			    " AND (u.expires_ms IS NULL OR u.expires_ms > $2)"
			    " AND u.email_enc IS NOT NULL ORDER BY u.id LIMIT $3",
			    p, 3, recipient_cb, rc, NULL);
}

/* What the alert mail says; all our own strings, no personal data. */
struct alert_text {
	char number[24], when[32];
	const char *actor, *who, *action, *object, *reason, *ip;
};

/* Queues the alert mail to every recipient; *ret_sent counts them. */
static int mail_admins(struct anfu_iam *iam, struct anfu_tx *tx, const struct alert_text *t,
		       int64_t now, int64_t *ret_sent)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *args[8] = { t->number, t->when,   t->actor,	 t->who,
				t->action, t->object, t->reason, t->ip };
	struct recipients *rc = calloc(1, sizeof(*rc));
	int64_t sent = 0;
	int r;

	if (!rc)
		abort();
	r = recipients_load(db, now, rc);
	for (size_t i = 0; r == 0 && i < rc->n; i++) {
		struct iam_user u;

		memset(&u, 0, sizeof(u));
		r = iam_user_load(db, rc->ids[i], &u);
		if (r == 0) {
			r = iam_notice(iam, tx, &u, ANFU_MFA_EMAIL, "privilege_alert", args, 8);
			sent++;
		}
		iam_user_clear(&u);
	}
	free(rc);
	if (r == 0)
		*ret_sent = sent;
	return r;
}

/* Whether a mail about this actor went out within the window: an alert
 * opened after an acknowledgement inside the window stays quiet. */
static int mailed_recently(struct anfu_db *db, const char *actor_id, int64_t since, bool *ret)
{
	struct anfu_param p[2] = { iam_ps(actor_id), ANFU_PI(since) };
	int64_t n = 0;
	int r = anfu_db_query_int(
		db,
		"SELECT COUNT(*) FROM iam_alert WHERE actor_id = $1 AND mailed > 0"
		" AND first_ms > $2",
		p, 2, &n);

	if (r < 0)
		return r;
	*ret = n > 0;
	return 0;
}

static int open_new(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_principal *p,
		    struct alert_text *t, int64_t now, int64_t since, char id[ANFU_ID_MAX])
{
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t number = 0, sent = 0;
	bool quiet = false;
	int r = mailed_recently(db, p->user_id, since, &quiet);

	if (r == 0)
		r = next_number(db, &number);
	if (r == 0)
		r = anfu_id_new("alr", id, ANFU_ID_MAX);
	if (r < 0)
		return r;
	(void)snprintf(t->number, sizeof(t->number), "%lld", (long long)number);
	if (!quiet)
		r = mail_admins(iam, tx, t, now, &sent);
	if (r == 0) {
		struct anfu_param q[11] = { iam_ps(id),
					    ANFU_PI(number),
					    iam_ps(p->user_id),
					    iam_ps(iam_kind_name(p->kind)),
					    iam_ps(class_name(p->role_class)),
					    ANFU_PI(now),
					    iam_ps(t->action),
					    iam_ps(t->object),
					    iam_ps(t->reason),
					    iam_ps(t->ip),
					    ANFU_PI(sent) };

		r = anfu_db_exec(
			db,
			"INSERT INTO iam_alert (id, number, actor_id, actor_kind, role_class,"
			" first_ms, last_ms, attempts, first_action, last_action, last_object,"
			" last_reason, last_ip, mailed, state)"
			" VALUES ($1, $2, $3, $4, $5, $6, $6, 1, $7, $7, $8, $9, $10, $11,"
			" 'open')",
			q, 11, NULL, NULL, NULL);
	}
	return r;
}

int iam_alert_raise(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		    const struct anfu_principal *p, const char *action, const char *object,
		    const char *reason, char ret_id[ANFU_ID_MAX])
{
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t now = anfu_clock_now_ms(), since;
	char id[ANFU_ID_MAX], act[ANFU_LIMIT_ALERT_TEXT], obj[ANFU_LIMIT_ALERT_TEXT];
	struct alert_text t;
	int r;

	if (!iam || !db || !p || !p->user_id[0] || !action || !ret_id)
		return ANFU_EINVAL;
	since = now - iam->cfg->alerts.mail_window_s * 1000;
	(void)anfu_strlcpy(act, action, sizeof(act));
	(void)anfu_strlcpy(obj, object ? object : "", sizeof(obj));
	memset(&t, 0, sizeof(t));
	t.actor = p->user_id;
	t.who = class_name(p->role_class);
	t.action = act;
	t.object = obj;
	t.reason = reason ? reason : ANFU_R_FORBIDDEN;
	t.ip = ctx && ctx->ip ? ctx->ip : "";
	iam_time_text(now, t.when);
	r = open_alert(db, p->user_id, since, id);
	if (r == 0 && id[0])
		r = count_attempt(db, id, now, act, obj, t.reason, t.ip);
	else if (r == 0)
		r = open_new(iam, tx, p, &t, now, since, id);
	if (r < 0) {
		anfu_log_error("iam.alert", "could not record an alert about %s: %s", p->user_id,
			       anfu_strerror(r));
		return r;
	}
	memcpy(ret_id, id, ANFU_ID_MAX);
	return 0;
}

/* ---- refusals ------------------------------------------------------------------- */

/* A refusal's transaction. */
struct denial {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *action, *object_type, *object_id, *code;
	json_t *d;
};

static int denied_work(struct anfu_tx *tx, void *ud)
{
	const struct denial *c = ud;
	char alert[ANFU_ID_MAX] = "", object[ANFU_LIMIT_ALERT_TEXT];
	bool raise = c->p && iam_alert_reason(c->code);
	int r = 0;

	(void)snprintf(object, sizeof(object), "%s:%s", c->object_type ? c->object_type : "",
		       c->object_id ? c->object_id : "");
	if (raise)
		r = iam_alert_raise(c->iam, tx, c->ctx, c->p, c->action, object, c->code, alert);
	if (r == 0 && alert[0])
		anfu_json_set(c->d, "alert_id", json_string(alert));
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, c->action, c->object_type,
			      c->object_id ? c->object_id : "", "denied", c->d);
	return r;
}

/* The refusal's audit record and, for a privilege attempt, the alert, in
 * one transaction of their own. extra (borrowed, may be NULL) is merged
 * into the details. */
static void denied_tx(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const char *action, const char *object_type,
		      const char *object_id, const char *code, const json_t *extra)
{
	struct denial c = { iam, ctx, p, action, object_type, object_id, code, json_object() };
	int r;

	if (!c.d)
		abort();
	if (extra && json_object_update(c.d, (json_t *)extra) < 0)
		abort();
	anfu_json_set(c.d, "reason", json_string(code ? code : ANFU_R_FORBIDDEN));
	r = iam_tx(iam, denied_work, &c, NULL);
	/* A record that could not be appended is logged by the executor. */
	if (r < 0 && r != ANFU_EAUDIT)
		anfu_log_error("iam.alert", "could not audit a refused %s: %s", action,
			       anfu_strerror(r));
	json_decref(c.d);
}

void iam_audit_denied(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const char *action, const char *object_type,
		      const char *object_id, const char *code)
{
	if (!iam || !action)
		return;
	denied_tx(iam, ctx, p, action, object_type, object_id, code, NULL);
}

void anfu_iam_privilege_denied(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const char *method,
			       const char *route, const char *permission)
{
	char object[ANFU_LIMIT_ALERT_TEXT];
	json_t *extra;

	if (!iam || !p || !method || !route)
		return;
	(void)snprintf(object, sizeof(object), "%s %s", method, route);
	extra = json_pack("{s:s}", "permission", permission ? permission : "");
	if (!extra)
		abort();
	denied_tx(iam, ctx, p, "access.denied", "route", object, ANFU_R_FORBIDDEN, extra);
	json_decref(extra);
}

/* ---- reading and acknowledging ---------------------------------------------------- */

#define ALERT_COLUMNS                                                                       \
	"SELECT id, number, actor_id, actor_kind, role_class, first_ms, last_ms, attempts," \
	" first_action, last_action, last_object, last_reason, last_ip, mailed, state,"     \
	" acked_by, acked_ms, ack_note FROM iam_alert "

/* Rows read into views: at most cap; more is set when the query found
 * another row beyond them. */
struct alert_rows {
	struct anfu_alert_view *v;
	size_t n, cap;
	bool more;
};

static void text_into(char *out, size_t cap, const struct anfu_row *r, int col)
{
	const char *s = anfu_row_text(r, col, NULL);

	(void)anfu_strlcpy(out, s ? s : "", cap);
}

static int alert_row_cb(void *ud, const struct anfu_row *r)
{
	struct alert_rows *rows = ud;
	struct anfu_alert_view *v;

	if (rows->n == rows->cap) {
		rows->more = true;
		return 0;
	}
	v = &rows->v[rows->n++];
	memset(v, 0, sizeof(*v));
	text_into(v->id, sizeof(v->id), r, 0);
	v->number = anfu_row_int(r, 1);
	text_into(v->actor_id, sizeof(v->actor_id), r, 2);
	text_into(v->actor_kind, sizeof(v->actor_kind), r, 3);
	text_into(v->role_class, sizeof(v->role_class), r, 4);
	v->first_ms = anfu_row_int(r, 5);
	v->last_ms = anfu_row_int(r, 6);
	v->attempts = anfu_row_int(r, 7);
	text_into(v->first_action, sizeof(v->first_action), r, 8);
	text_into(v->last_action, sizeof(v->last_action), r, 9);
	text_into(v->last_object, sizeof(v->last_object), r, 10);
	text_into(v->last_reason, sizeof(v->last_reason), r, 11);
	text_into(v->ip, sizeof(v->ip), r, 12);
	v->mailed = anfu_row_int(r, 13);
	text_into(v->state, sizeof(v->state), r, 14);
	text_into(v->acknowledged_by, sizeof(v->acknowledged_by), r, 15);
	v->acknowledged = !anfu_row_is_null(r, 16);
	v->acknowledged_ms = v->acknowledged ? anfu_row_int(r, 16) : 0;
	v->has_note = !anfu_row_is_null(r, 17);
	text_into(v->note, sizeof(v->note), r, 17);
	return 0;
}

static int alert_get(struct anfu_db *db, const char *id, struct anfu_alert_view *ret)
{
	struct anfu_param p[1] = { iam_ps(id) };
	struct anfu_alert_view v;
	struct alert_rows rows = { &v, 0, 1, false };
	int r = anfu_db_exec(db, ALERT_COLUMNS "WHERE id = $1", p, 1, alert_row_cb, &rows, NULL);

	if (r == 0 && rows.n == 0)
		r = ANFU_ENOTFOUND;
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int anfu_iam_alerts(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		    const struct anfu_principal *p, const char *state, int64_t cursor, int limit,
		    struct anfu_alert_view *ret, size_t cap, size_t *ret_n, int64_t *ret_next)
{
	struct alert_rows rows = { ret, 0, 0, false };
	struct anfu_db *db = NULL;
	size_t page;
	int r;

	if (!iam || !p || !ret || cap == 0 || !ret_n || !ret_next || cursor < 0 ||
	    (state && strcmp(state, "open") != 0 && strcmp(state, "acknowledged") != 0))
		return ANFU_EINVAL;
	if (!anfu_principal_can(p, ALERT_PERM)) {
		iam_audit_denied(iam, ctx, p, "alert.read", "alert", "", ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	page = limit <= 0				   ? ANFU_LIMIT_ALERT_LIST_DEFAULT
	       : (size_t)limit > ANFU_LIMIT_ALERT_LIST_MAX ? ANFU_LIMIT_ALERT_LIST_MAX
							   : (size_t)limit;
	rows.cap = page < cap ? page : cap;
	r = iam_db(iam, &db);
	if (r == 0) {
		/* One row more than the page tells whether a next page exists. */
		struct anfu_param q[3] = { iam_ps(state), ANFU_PI(cursor ? cursor : INT64_MAX),
					   ANFU_PI((int64_t)rows.cap + 1) };

		r = anfu_db_exec(db,
				 ALERT_COLUMNS "WHERE state = COALESCE($1, state) AND number < $2"
					       " ORDER BY number DESC LIMIT $3",
				 q, 3, alert_row_cb, &rows, NULL);
	}
	if (r < 0)
		return r;
	ANFU_ASSERT(rows.n <= rows.cap && rows.cap <= cap);
	*ret_n = rows.n;
	*ret_next = rows.more && rows.n > 0 ? ret[rows.n - 1].number : 0;
	return 0;
}

/* Inside the write transaction: the alert moves to acknowledged, with who,
 * when and why; audited. */
static int ack_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *id, const char *note,
		     struct anfu_alert_view *ret, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param q[4] = { iam_ps(id), iam_ps(p->user_id), ANFU_PI(anfu_clock_now_ms()),
				   note && note[0] ? iam_ps(note) : ANFU_PNULL };
	struct anfu_alert_view a;
	json_t *d = NULL;
	int64_t changes = 0;
	int r = alert_get(db, id, &a);

	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		goto out;
	/* Nobody closes the alert about their own attempt. */
	if (strcmp(a.actor_id, p->user_id) == 0) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		r = ANFU_EPERM;
		goto out;
	}
	r = anfu_db_exec(
		db,
		"UPDATE iam_alert SET state = 'acknowledged', acked_by = $2, acked_ms = $3,"
		" ack_note = $4 WHERE id = $1 AND state = 'open'",
		q, 4, NULL, NULL, &changes);
	if (r == 0 && changes != 1) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		r = ANFU_ECONFLICT;
	}
	if (r < 0)
		goto out;
	d = json_pack("{s:I,s:I}", "number", (json_int_t)a.number, "attempts",
		      (json_int_t)a.attempts);
	if (!d)
		abort();
	r = iam_audit(iam, tx, ctx, p, NULL, "alert.acknowledged", "alert", id, "success", d);
	if (r == 0)
		r = alert_get(db, id, &a);
	if (r == 0) {
		/* The update above moved it; nothing else may have. */
		ANFU_ASSERT(strcmp(a.state, "acknowledged") == 0 && a.acknowledged);
		*ret = a;
	}
out:
	json_decref(d);
	return r;
}

/* An acknowledgement's transaction. */
struct ack {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *alert_id, *note;
	struct anfu_alert_view out;
	struct anfu_iam_err *err;
};

static int ack_tx(struct anfu_tx *tx, void *ud)
{
	struct ack *c = ud;

	return ack_apply(c->iam, tx, c->ctx, c->p, c->alert_id, c->note, &c->out, c->err);
}

int anfu_iam_alert_acknowledge(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const char *alert_id,
			       const char *note, struct anfu_alert_view *ret,
			       struct anfu_iam_err *err)
{
	static const char action[] = "alert.acknowledged";
	struct ack c = {
		.iam = iam, .ctx = ctx, .p = p, .alert_id = alert_id, .note = note, .err = err
	};
	int r;

	if (!iam || !p || !alert_id || !ret)
		return ANFU_EINVAL;
	if (note && strlen(note) > ANFU_LIMIT_DECISION_NOTE) {
		iam_err_set(err, ANFU_JERR_OUT_OF_RANGE, "note");
		return ANFU_EINVAL;
	}
	if (!anfu_principal_can(p, ALERT_PERM)) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		iam_audit_denied(iam, ctx, p, action, "alert", alert_id, ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		iam_audit_denied(iam, ctx, p, action, "alert", alert_id, ANFU_R_STEP_UP_REQUIRED);
		return ANFU_EPERM;
	}
	r = iam_tx(iam, ack_tx, &c, err);
	if (r < 0) {
		if (r == ANFU_EPERM)
			iam_audit_denied(iam, ctx, p, action, "alert", alert_id, ANFU_R_FORBIDDEN);
		return r;
	}
	*ret = c.out;
	return 0;
}
