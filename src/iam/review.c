/*
 * iam/review: the account review (dormant, expired and temporary accounts;
 * IAM-ACCT-05..07) and the access-recertification report with its
 * sign-off (IAM-ACCT-04).
 *
 * The review run by the job is the system's; a review run through the API
 * is stored and audited as the operator's who asked for it.
 *
 * Owns iam_report and the "iam.account_review" job. Trusts the caller's
 * principal (checked against iam.review.read, iam.recert.read and
 * iam.recert.signoff here) and the jobs module to call the review on a
 * connection of its own. Reports carry no personal data in clear: the
 * account review lists ids, kinds, states and times; the recertification
 * lists the masked login of each account (base/mask.h through
 * iam_user_view). Both are bounded (ANFU_LIMIT_REPORT_ROWS) and say so when cut.
 * A report is stored as JSON text, audited in the transaction that stores
 * it, and a recertification is signed off once, by someone other than the
 * person who produced it.
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
#include "iam/iam.h"
#include "iam/internal.h"
#include "store/store.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

static const struct anfu_iam_ctx system_ctx = { "", "", "", "", "en", false };

static void err_set(struct anfu_iam_err *err, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
}

/* ---- storing and reading reports ------------------------------------------------- */

void anfu_report_view_clear(struct anfu_report_view *v)
{
	if (!v)
		return;
	json_decref(v->content);
	memset(v, 0, sizeof(*v));
}

/* Rows read into views: at most cap (the query's LIMIT). */
struct report_rows {
	struct anfu_report_view *v;
	size_t n, cap;
};

static void text_into(char *out, size_t cap, const struct anfu_row *r, int col)
{
	const char *s = anfu_row_text(r, col, NULL);

	(void)anfu_strlcpy(out, s ? s : "", cap);
}

static json_t *int_or_null(const struct anfu_row *r, int col)
{
	return anfu_row_is_null(r, col) ? json_null() : json_integer(anfu_row_int(r, col));
}

static int report_row_cb(void *ud, const struct anfu_row *r)
{
	struct report_rows *rows = ud;
	const char *content = anfu_row_text(r, 4, NULL);
	struct anfu_report_view *v;

	/* Every query asks for at most cap rows. */
	ANFU_ASSERT(rows->n < rows->cap);
	v = &rows->v[rows->n++];
	memset(v, 0, sizeof(*v));
	text_into(v->id, sizeof(v->id), r, 0);
	text_into(v->kind, sizeof(v->kind), r, 1);
	v->created_ms = anfu_row_int(r, 2);
	text_into(v->created_by, sizeof(v->created_by), r, 3);
	v->content = content ? json_loads(content, 0, NULL) : NULL;
	text_into(v->signed_off_by, sizeof(v->signed_off_by), r, 5);
	v->signed_off = !anfu_row_is_null(r, 6);
	v->signed_off_ms = v->signed_off ? anfu_row_int(r, 6) : 0;
	v->has_note = !anfu_row_is_null(r, 7);
	text_into(v->note, sizeof(v->note), r, 7);
	return 0;
}

#define REPORT_COLUMNS                                                                     \
	"SELECT id, kind, created_ms, created_by, content, signed_off_by, signed_off_ms, " \
	"sign_off_note FROM iam_report "

static int report_get(struct anfu_db *db, const char *id, struct anfu_report_view *ret)
{
	struct anfu_param p[1] = { ANFU_PS(id) };
	struct anfu_report_view v;
	struct report_rows rows = { &v, 0, 1 };
	int r = anfu_db_exec(db, REPORT_COLUMNS "WHERE id = $1", p, 1, report_row_cb, &rows, NULL);

	if (r == 0 && rows.n == 0)
		r = ANFU_ENOTFOUND;
	if (r < 0) {
		if (rows.n)
			anfu_report_view_clear(&v);
		return r;
	}
	*ret = v;
	return 0;
}

/* Inserts a report and its audit record (inside the caller's write
 * transaction); *ret_id gets its id. */
static int report_store(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, const char *kind, const char *created_by,
			const json_t *content, const json_t *details, char id[ANFU_ID_MAX])
{
	struct anfu_db *db = anfu_tx_db(tx);
	char *text = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS);
	char action[48];
	int r;

	if (!text)
		abort();
	r = anfu_id_new("rpt", id, ANFU_ID_MAX);
	if (r == 0) {
		struct anfu_param q[5] = { ANFU_PS(id), ANFU_PS(kind), ANFU_PI(anfu_clock_now_ms()),
					   ANFU_PS(created_by), ANFU_PS(text) };

		r = anfu_db_exec(
			db,
			"INSERT INTO iam_report (id, kind, created_ms, created_by, content) "
			"VALUES ($1, $2, $3, $4, $5)",
			q, 5, NULL, NULL, NULL);
	}
	free(text);
	if (r < 0)
		return r;
	(void)snprintf(action, sizeof(action), "report.%s", kind);
	return iam_audit(iam, tx, ctx, p, p ? NULL : created_by, action, "report", id, "success",
			 details);
}

/* ---- the account review (IAM-ACCT-05..07) --------------------------------------- */

struct review_scan {
	int64_t dormant_before;
	int64_t now;
	json_t *dormant, *expired, *temporary;
	size_t rows;
	bool truncated;
};

static int review_row_cb(void *ud, const struct anfu_row *r)
{
	struct review_scan *s = ud;
	json_t *e;
	bool used = !anfu_row_is_null(r, 4);
	int64_t when = used ? anfu_row_int(r, 4) : anfu_row_int(r, 3);

	if (s->rows >= ANFU_LIMIT_REPORT_ROWS) {
		s->truncated = true;
		return 1;
	}
	s->rows++;
	e = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "id", anfu_row_text(r, 0, NULL), "kind",
		      anfu_row_text(r, 1, NULL), "status", anfu_row_text(r, 2, NULL), "created_ms",
		      (json_int_t)anfu_row_int(r, 3), "last_used_ms", int_or_null(r, 4),
		      "expires_ms", int_or_null(r, 5));
	if (!e)
		abort();
	if (when < s->dormant_before)
		(void)json_array_append(s->dormant, e);
	if (!anfu_row_is_null(r, 5) && anfu_row_int(r, 5) <= s->now)
		(void)json_array_append(s->expired, e);
	if (anfu_row_int(r, 6) == 1)
		(void)json_array_append(s->temporary, e);
	json_decref(e);
	return 0;
}

static int review_scan(struct anfu_db *db, struct review_scan *s)
{
	struct anfu_param p[3] = { ANFU_PI(s->dormant_before), ANFU_PI(s->now),
				   ANFU_PI(ANFU_LIMIT_REPORT_ROWS + 1) };

	return anfu_db_exec(db,
			    "SELECT id, kind, status, created_ms, last_used_ms, expires_ms, "
			    "temporary FROM iam_user WHERE "
			    "(last_used_ms IS NOT NULL AND last_used_ms < $1) OR "
			    "(last_used_ms IS NULL AND created_ms < $1) OR "
			    "(expires_ms IS NOT NULL AND expires_ms <= $2) OR temporary = 1 "
			    "ORDER BY id LIMIT $3",
			    p, 3, review_row_cb, s, NULL);
}

/* A report's transaction: who runs it, and the id it stored. */
struct report_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *report_id, *note; /* sign-off */
	struct anfu_iam_err *err;     /* sign-off */
	char id[ANFU_ID_MAX];
};

static int review_tx(struct anfu_tx *tx, void *ud)
{
	struct report_op *c = ud;
	struct anfu_iam *iam = c->iam;
	const struct anfu_principal *p = c->p;
	int64_t days = iam->cfg->accounts.dormant_days;
	struct review_scan s = { 0 };
	json_t *content = NULL, *details = NULL;
	int r;

	s.now = anfu_clock_now_ms();
	s.dormant_before = s.now - days * DAY_MS;
	s.dormant = json_array();
	s.expired = json_array();
	s.temporary = json_array();
	if (!s.dormant || !s.expired || !s.temporary)
		abort();
	r = review_scan(anfu_tx_db(tx), &s);
	if (r < 0)
		goto out;
	details = json_pack("{s:I,s:I,s:I,s:b}", "dormant", (json_int_t)json_array_size(s.dormant),
			    "expired", (json_int_t)json_array_size(s.expired), "temporary",
			    (json_int_t)json_array_size(s.temporary), "truncated", s.truncated);
	content = json_pack("{s:I,s:I,s:O,s:O,s:O,s:O}", "generated_ms", (json_int_t)s.now,
			    "dormant_days", (json_int_t)days, "counts", details, "dormant",
			    s.dormant, "expired", s.expired, "temporary", s.temporary);
	if (!details || !content)
		abort();
	r = report_store(iam, tx, p ? c->ctx : &system_ctx, p, "account_review",
			 p ? p->user_id : "system", content, details, c->id);
out:
	json_decref(s.dormant);
	json_decref(s.expired);
	json_decref(s.temporary);
	json_decref(content);
	json_decref(details);
	return r;
}

/* Builds, stores and audits the review in a transaction of its own, as p
 * (NULL: the job, actor "system"); then reads it back into *ret (may be
 * NULL) on db. */
static int review_run(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, struct anfu_report_view *ret)
{
	struct report_op c = { .iam = iam, .ctx = ctx, .p = p };
	int r = iam_tx(iam, review_tx, &c, NULL);

	if (r == 0 && ret)
		r = report_get(db, c.id, ret);
	return r;
}

int anfu_iam_account_review(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, struct anfu_report_view *ret)
{
	struct anfu_db *db = NULL;
	int r;

	if (!iam || !ret || (p && !ctx))
		return ANFU_EINVAL;
	/* Run by someone through the API: theirs, and recorded as theirs. */
	if (p && !anfu_principal_can(p, "iam.review.read")) {
		iam_audit_denied(iam, ctx, p, "report.account_review", "report", "",
				 ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	return review_run(iam, db, ctx, p, ret);
}

int iam_review_job(void *ud, struct anfu_db *db, const char **result)
{
	int r = review_run(ud, db, NULL, NULL, NULL);

	*result = r == 0 ? "report stored" : "failed";
	if (r < 0)
		anfu_log_error("iam.review", "account review failed: %s", anfu_strerror(r));
	return r;
}

int64_t iam_review_interval(const void *svc)
{
	const struct anfu_iam *iam = svc;

	return iam->cfg->accounts.review_interval_days * DAY_MS;
}

/* ---- access recertification (IAM-ACCT-04) ----------------------------------------- */

static int id_row_cb(void *ud, const struct anfu_row *r)
{
	if (json_array_append_new(ud, json_string(anfu_row_text(r, 0, NULL))) < 0)
		abort();
	return 0;
}

/* "a,b" as ["a","b"]. */
static json_t *roles_array(const char *roles)
{
	json_t *a = json_array();

	if (!a)
		abort();
	for (const char *s = roles; s && *s;) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n > 0 && json_array_append_new(a, json_stringn(s, n)) < 0)
			abort();
		s = e ? e + 1 : NULL;
	}
	return a;
}

/* One account as the recertification shows it. */
static int recert_entry(struct anfu_iam *iam, struct anfu_db *db, const char *id, json_t *out)
{
	struct anfu_user_view v;
	struct iam_user u;
	json_t *e;
	int r;

	memset(&u, 0, sizeof(u));
	memset(&v, 0, sizeof(v));
	r = iam_user_load(db, id, &u);
	if (r == 0)
		r = iam_user_view(iam, db, &u, &v);
	iam_user_clear(&u);
	if (r < 0)
		return r;
	e = json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:o}", "id", v.id, "kind", v.kind, "status",
		      v.status, "login", v.login, "roles", roles_array(v.roles), "created_ms",
		      (json_int_t)v.created_ms, "last_used_ms",
		      v.last_used_ms ? json_integer(v.last_used_ms) : json_null());
	if (!e || json_array_append_new(out, e) < 0)
		abort();
	return 0;
}

/* Every account, page by page (key-set on id), up to ANFU_LIMIT_REPORT_ROWS;
 * *ret_truncated (set on success) says whether more were left out. */
static int recert_collect(struct anfu_iam *iam, struct anfu_db *db, json_t *accounts,
			  bool *ret_truncated)
{
	char after[ANFU_ID_MAX] = "";
	bool truncated = false;
	int r = 0;

	for (;;) {
		struct anfu_param p[2] = { ANFU_PSN(after, strlen(after)),
					   ANFU_PI(ANFU_LIMIT_RECERT_PAGE) };
		json_t *ids = json_array();
		size_t n;

		if (!ids)
			abort();
		r = anfu_db_exec(db, "SELECT id FROM iam_user WHERE id > $1 ORDER BY id LIMIT $2",
				 p, 2, id_row_cb, ids, NULL);
		n = json_array_size(ids);
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (json_array_size(accounts) >= ANFU_LIMIT_REPORT_ROWS) {
				truncated = true;
				break;
			}
			r = recert_entry(iam, db, json_string_value(json_array_get(ids, i)),
					 accounts);
		}
		if (n > 0)
			(void)snprintf(after, sizeof(after), "%s",
				       json_string_value(json_array_get(ids, n - 1)));
		json_decref(ids);
		if (r < 0)
			return r;
		if (n < ANFU_LIMIT_RECERT_PAGE || truncated) {
			/* The page cap holds, and so the report's. */
			ANFU_ASSERT(json_array_size(accounts) <= ANFU_LIMIT_REPORT_ROWS);
			*ret_truncated = truncated;
			return 0;
		}
	}
}

static int recert_build(struct anfu_tx *tx, void *ud)
{
	struct report_op *c = ud;
	struct anfu_iam *iam = c->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	json_t *accounts = json_array();
	json_t *content = NULL, *details = NULL;
	bool truncated = false;
	int r;

	if (!accounts)
		abort();
	r = recert_collect(iam, db, accounts, &truncated);
	if (r < 0)
		goto out;
	details = json_pack("{s:I,s:b}", "accounts", (json_int_t)json_array_size(accounts),
			    "truncated", truncated);
	content = json_pack("{s:I,s:O,s:O}", "generated_ms", (json_int_t)anfu_clock_now_ms(),
			    "counts", details, "accounts", accounts);
	if (!details || !content)
		abort();
	r = report_store(iam, tx, c->ctx, c->p, "recertification", c->p->user_id, content, details,
			 c->id);
out:
	json_decref(accounts);
	json_decref(content);
	json_decref(details);
	return r;
}

int anfu_iam_recert_create(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, struct anfu_report_view *ret)
{
	struct report_op c = { .iam = iam, .ctx = ctx, .p = p };
	struct anfu_db *db = NULL;
	int r;

	if (!iam || !p || !ret)
		return ANFU_EINVAL;
	if (!anfu_principal_can(p, "iam.recert.read")) {
		iam_audit_denied(iam, ctx, p, "report.recertification", "report", "",
				 ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	r = iam_db(iam, &db);
	if (r == 0)
		r = iam_tx(iam, recert_build, &c, NULL);
	if (r < 0)
		return r;
	return report_get(db, c.id, ret);
}

struct report_head {
	bool found;
	char kind[24];
	char created_by[ANFU_ID_MAX + 16];
	bool signed_off;
};

static int head_cb(void *ud, const struct anfu_row *r)
{
	struct report_head *h = ud;

	h->found = true;
	(void)snprintf(h->kind, sizeof(h->kind), "%s", anfu_row_text(r, 0, NULL));
	(void)snprintf(h->created_by, sizeof(h->created_by), "%s", anfu_row_text(r, 1, NULL));
	h->signed_off = !anfu_row_is_null(r, 2);
	return 1;
}

static int signoff_apply(struct anfu_tx *tx, void *ud)
{
	const struct report_op *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	const struct anfu_principal *p = c->p;
	const char *id = c->report_id, *note = c->note;
	struct anfu_iam_err *err = c->err;
	struct anfu_param q[4] = { ANFU_PS(id), ANFU_PS(p->user_id), ANFU_PI(anfu_clock_now_ms()),
				   ANFU_PS(note && note[0] ? note : NULL) };
	struct report_head h = { 0 };
	int64_t changes = 0;
	json_t *d;
	int r = anfu_db_exec(db,
			     "SELECT kind, created_by, signed_off_by FROM iam_report WHERE id = $1",
			     q, 1, head_cb, &h, NULL);

	if (r < 0)
		return r;
	if (!h.found || strcmp(h.kind, "recertification") != 0) {
		err_set(err, ANFU_R_NOT_FOUND, NULL);
		return ANFU_ENOTFOUND;
	}
	if (strcmp(h.created_by, p->user_id) == 0) {
		err_set(err, ANFU_R_APPROVAL_SELF, NULL);
		return ANFU_EPERM;
	}
	r = anfu_db_exec(db,
			 "UPDATE iam_report SET signed_off_by = $2, signed_off_ms = $3, "
			 "sign_off_note = $4 WHERE id = $1 AND signed_off_by IS NULL",
			 q, 4, NULL, NULL, &changes);
	if (r < 0)
		return r;
	if (h.signed_off || changes != 1) {
		err_set(err, ANFU_R_CONFLICT, NULL);
		return ANFU_ECONFLICT;
	}
	d = json_pack("{s:s}", "note", note && note[0] ? note : "");
	if (!d)
		abort();
	r = iam_audit(c->iam, tx, c->ctx, p, NULL, "report.recertification_signed_off", "report",
		      id, "success", d);
	json_decref(d);
	return r;
}

int anfu_iam_recert_signoff(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const char *report_id, const char *note,
			    struct anfu_report_view *ret, struct anfu_iam_err *err)
{
	struct report_op c = {
		.iam = iam, .ctx = ctx, .p = p, .report_id = report_id, .note = note, .err = err
	};
	struct anfu_db *db = NULL;
	int r;

	if (!iam || !p || !report_id || !ret)
		return ANFU_EINVAL;
	if (note && strlen(note) > ANFU_LIMIT_DECISION_NOTE) {
		err_set(err, ANFU_JERR_OUT_OF_RANGE, "note");
		return ANFU_EINVAL;
	}
	if (!anfu_principal_can(p, "iam.recert.signoff")) {
		err_set(err, ANFU_R_FORBIDDEN, NULL);
		iam_audit_denied(iam, ctx, p, "report.recertification_signed_off", "report",
				 report_id, ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	r = iam_tx(iam, signoff_apply, &c, err);
	if (r < 0) {
		if (r == ANFU_EPERM)
			iam_audit_denied(iam, ctx, p, "report.recertification_signed_off", "report",
					 report_id, err ? err->code : NULL);
		return r;
	}
	return report_get(db, report_id, ret);
}

/* The kinds p asks for and may read into *a / *b (NULL: not wanted);
 * both written only on success. */
static int report_kinds(const struct anfu_principal *p, const char *kind, const char **a,
			const char **b)
{
	bool review = anfu_principal_can(p, "iam.review.read");
	bool recert = anfu_principal_can(p, "iam.recert.read");
	bool want_review = !kind || strcmp(kind, "account_review") == 0;
	bool want_recert = !kind || strcmp(kind, "recertification") == 0;

	if (!want_review && !want_recert)
		return ANFU_EINVAL;
	/* One kind named: it must be readable; none named: either will do. */
	if (kind ? (want_review && !review) || (want_recert && !recert) : !review && !recert)
		return ANFU_EPERM;
	*a = want_review && review ? "account_review" : NULL;
	*b = want_recert && recert ? "recertification" : NULL;
	return 0;
}

int anfu_iam_reports(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *kind, struct anfu_report_view *ret,
		     size_t cap, size_t *ret_n)
{
	const char *a = NULL, *b = NULL;
	struct report_rows rows = { ret, 0, 0 };
	struct anfu_db *db = NULL;
	int r;

	(void)ctx;
	if (!iam || !p || !ret || cap == 0 || !ret_n)
		return ANFU_EINVAL;
	rows.cap = cap < ANFU_LIMIT_REPORT_LIST ? cap : ANFU_LIMIT_REPORT_LIST;
	r = report_kinds(p, kind, &a, &b);
	if (r < 0)
		return r;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	{
		struct anfu_param q[3] = { ANFU_PS(a), ANFU_PS(b), ANFU_PI((int64_t)rows.cap) };

		r = anfu_db_exec(db,
				 REPORT_COLUMNS "WHERE kind = $1 OR kind = $2 "
						"ORDER BY created_ms DESC, id DESC LIMIT $3",
				 q, 3, report_row_cb, &rows, NULL);
	}
	if (r < 0) {
		for (size_t i = 0; i < rows.n; i++)
			anfu_report_view_clear(&ret[i]);
		return r;
	}
	*ret_n = rows.n;
	return 0;
}
