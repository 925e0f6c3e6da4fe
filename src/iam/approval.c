/*
 * iam/approval: the generic four-eyes (maker-checker) service
 * (IAM-SOD-03, IAM-ACCT-03).
 *
 * Owns iam_approval, the "approval" row of iam_counter and the registry of
 * approval types. Trusts the caller's principal (authenticated by
 * anfu_iam_authenticate) and the registered types' validators and
 * executors; trusts nothing in a payload until the type's validator has
 * passed it.
 *
 * Filing and deciding are sensitive operations: the maker and the checker
 * each need a second factor proved within mfa.stepup_window (IAM-MFA-02).
 * The checker is neither the maker nor the account the request is about
 * (the type's subject), so nobody approves a change to their own roles.
 *
 * Life of a request: filed (pending, next sequential number from the
 * counter, which is bumped by UPDATE ... RETURNING inside the filing
 * transaction, so numbers are gap-free among committed requests and never
 * reused), then rejected, or approved and executed in the same
 * transaction. The executor runs inside a savepoint: when it refuses (a
 * role conflict found at execution, a name taken meanwhile) only its own
 * changes are rolled back and the request is marked failed with the
 * reason; a database or audit failure instead aborts the whole decision,
 * which stays pending. The payload may carry personal data (an operator's
 * email or phone), so it is stored sealed by the vault (field "approval",
 * owner = the approval id); audit records carry only the validator's
 * summary, which has none in clear. The checker must judge every field,
 * so whoever may approve the type (and the maker) reads the payload in
 * full, and that read is audited ("approval.viewed"). A type may ask the
 * checker to confirm part of the payload at approval (where a credential
 * goes), so that the maker alone never decides it. Every step is audited
 * in its transaction, and a refused decision is audited as "denied" in a
 * transaction of its own (iam_audit_denied, which also raises the
 * privilege-attempt alert for forbidden / approval_self). Requests are
 * archived: the database refuses deleting one or changing a decided one.
 */
#include <pthread.h>
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
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/admin.h"
#include "iam/approval.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "store/store.h"
#include "vault/vault.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct anfu_approval_type *registry[ANFU_LIMIT_APPROVAL_TYPES];
static size_t registry_n;

static const struct anfu_approval_type *find_locked(const char *name)
{
	for (size_t i = 0; i < registry_n; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

int anfu_approval_register(const struct anfu_approval_type *t)
{
	int r = 0;

	if (!t || !t->name || !t->perm_prefix || !t->validate || !t->execute)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&registry_lock);
	if (find_locked(t->name))
		r = ANFU_EEXIST;
	else if (registry_n >= ANFU_LIMIT_APPROVAL_TYPES)
		r = ANFU_ELIMIT;
	else
		registry[registry_n++] = t;
	(void)pthread_mutex_unlock(&registry_lock);
	return r;
}

const struct anfu_approval_type *anfu_approval_type_find(const char *name)
{
	const struct anfu_approval_type *t;

	if (!name)
		return NULL;
	(void)pthread_mutex_lock(&registry_lock);
	t = find_locked(name);
	(void)pthread_mutex_unlock(&registry_lock);
	return t;
}

/* ---- helpers --------------------------------------------------------------- */

static void err_set(struct anfu_iam_err *err, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
}

static bool can_suffix(const struct anfu_principal *p, const char *prefix, const char *suffix)
{
	char perm[ANFU_PERM_NAME_MAX + 16];
	int n = snprintf(perm, sizeof(perm), "%s.%s", prefix, suffix);

	return n > 0 && (size_t)n < sizeof(perm) && anfu_principal_can(p, perm);
}

/* A refusal people see, for the failed request's record. */
static const char *code_of(int r, const struct anfu_iam_err *err)
{
	if (err && err->code)
		return err->code;
	switch (r) {
	case ANFU_ECONFLICT: return ANFU_R_CONFLICT;
	case ANFU_EEXIST: return ANFU_R_ALREADY_EXISTS;
	case ANFU_ENOTFOUND: return ANFU_R_NOT_FOUND;
	case ANFU_EPERM: return ANFU_R_FORBIDDEN;
	case ANFU_ELIMIT: return ANFU_R_PAYLOAD_TOO_LARGE;
	default: return ANFU_R_INVALID_REQUEST;
	}
}

/* Refusals an executor may give about the request itself; anything else
 * (database, audit, crypto) is the platform failing and aborts. */
static bool is_refusal(int r)
{
	switch (r) {
	case ANFU_EINVAL:
	case ANFU_ENOTFOUND:
	case ANFU_EEXIST:
	case ANFU_ECONFLICT:
	case ANFU_EPERM:
	case ANFU_ELIMIT:
	case ANFU_ERANGE:
	case ANFU_ELOCKED:
	case ANFU_EEXPIRED: return true;
	default: return false;
	}
}

static json_t *details_new(int64_t number, const char *type)
{
	json_t *d = json_object();

	if (!d)
		abort();
	anfu_json_set(d, "number", json_integer(number));
	anfu_json_set(d, "type", json_string(type));
	return d;
}

/* ---- reading ----------------------------------------------------------------- */

void anfu_approval_view_clear(struct anfu_approval_view *v)
{
	if (!v)
		return;
	json_decref(v->result);
	json_decref(v->payload);
	memset(v, 0, sizeof(*v));
}

/* Rows read into views: at most cap (the query's LIMIT). */
struct view_rows {
	struct anfu_approval_view *v;
	size_t n, cap;
};

static void text_into(char *out, size_t cap, const struct anfu_row *r, int col)
{
	const char *s = anfu_row_text(r, col, NULL);

	(void)anfu_strlcpy(out, s ? s : "", cap);
}

static int approval_row_cb(void *ud, const struct anfu_row *r)
{
	struct view_rows *rows = ud;
	struct anfu_approval_view *v;
	const char *result = anfu_row_text(r, 10, NULL);

	/* Every query asks for at most cap rows. */
	ANFU_ASSERT(rows->n < rows->cap);
	v = &rows->v[rows->n++];
	memset(v, 0, sizeof(*v));
	text_into(v->id, sizeof(v->id), r, 0);
	v->number = anfu_row_int(r, 1);
	text_into(v->type, sizeof(v->type), r, 2);
	text_into(v->summary, sizeof(v->summary), r, 3);
	text_into(v->maker_id, sizeof(v->maker_id), r, 4);
	v->created_ms = anfu_row_int(r, 5);
	text_into(v->status, sizeof(v->status), r, 6);
	text_into(v->checker_id, sizeof(v->checker_id), r, 7);
	v->decided = !anfu_row_is_null(r, 8);
	v->decided_ms = v->decided ? anfu_row_int(r, 8) : 0;
	v->has_note = !anfu_row_is_null(r, 9);
	text_into(v->note, sizeof(v->note), r, 9);
	v->result = result ? json_loads(result, 0, NULL) : NULL;
	return 0;
}

#define APPROVAL_COLUMNS                                                               \
	"SELECT id, number, type, summary, maker_id, created_ms, status, checker_id, " \
	"decided_ms, decision_note, result FROM iam_approval "

int anfu_approval_get(struct anfu_db *db, const char *approval_id, struct anfu_approval_view *ret)
{
	struct anfu_param p[1] = { ANFU_PS(approval_id) };
	struct anfu_approval_view v;
	struct view_rows rows = { &v, 0, 1 };
	int r;

	if (!db || !approval_id || !ret)
		return ANFU_EINVAL;
	memset(&v, 0, sizeof(v));
	r = anfu_db_exec(db, APPROVAL_COLUMNS "WHERE id = $1", p, 1, approval_row_cb, &rows, NULL);
	if (r == 0 && rows.n == 0)
		r = ANFU_ENOTFOUND;
	if (r < 0) {
		anfu_approval_view_clear(&v);
		return r;
	}
	*ret = v;
	return 0;
}

/* The row a decision works on. */
struct pending {
	bool found;
	int64_t number;
	char type[ANFU_LIMIT_APPROVAL_TYPE_NAME];
	char maker[ANFU_ID_MAX];
	char status[16];
	char *payload_ct; /* sealed payload, malloc'd */
};

static int pending_cb(void *ud, const struct anfu_row *r)
{
	struct pending *a = ud;
	const char *ct = anfu_row_text(r, 4, NULL);

	a->found = true;
	a->number = anfu_row_int(r, 0);
	(void)snprintf(a->type, sizeof(a->type), "%s", anfu_row_text(r, 1, NULL));
	(void)snprintf(a->maker, sizeof(a->maker), "%s", anfu_row_text(r, 2, NULL));
	(void)snprintf(a->status, sizeof(a->status), "%s", anfu_row_text(r, 3, NULL));
	a->payload_ct = anfu_xstrdup(ct ? ct : "");
	return 1;
}

static int pending_load(struct anfu_db *db, const char *id, struct pending *a)
{
	struct anfu_param p[1] = { ANFU_PS(id) };
	int r = anfu_db_exec(db,
			     "SELECT number, type, maker_id, status, payload FROM iam_approval "
			     "WHERE id = $1",
			     p, 1, pending_cb, a, NULL);

	if (r < 0)
		return r;
	return a->found ? 0 : ANFU_ENOTFOUND;
}

static int checker_cb(void *ud, const struct anfu_row *r)
{
	const char *c = anfu_row_text(r, 0, NULL);

	(void)snprintf(ud, ANFU_ID_MAX, "%s", c ? c : "");
	return 1;
}

int iam_approval_checker(struct anfu_db *db, const char *approval_id, char out[ANFU_ID_MAX])
{
	struct anfu_param p[1] = { ANFU_PS(approval_id) };
	char who[ANFU_ID_MAX] = "";
	int r;

	if (!db || !approval_id || !out)
		return ANFU_EINVAL;
	r = anfu_db_exec(db, "SELECT checker_id FROM iam_approval WHERE id = $1", p, 1, checker_cb,
			 who, NULL);
	if (r < 0)
		return r;
	if (who[0] == '\0')
		return ANFU_ENOTFOUND;
	memcpy(out, who, sizeof(who));
	return 0;
}

/* ---- filing ------------------------------------------------------------------- */

static int number_cb(void *ud, const struct anfu_row *r)
{
	*(int64_t *)ud = anfu_row_int(r, 0);
	return 1;
}

static int next_number(struct anfu_db *db, int64_t *ret)
{
	int64_t n = 0;
	int r = anfu_db_exec(db,
			     "UPDATE iam_counter SET value = value + 1 WHERE name = 'approval' "
			     "RETURNING value",
			     NULL, 0, number_cb, &n, NULL);

	if (r < 0)
		return r;
	if (n <= 0) {
		anfu_log_error("iam.approval", "the approval counter row is missing");
		return ANFU_EINTERNAL;
	}
	*ret = n;
	return 0;
}

/* Inserts the pending row with the sealed payload. */
static int insert_pending(struct anfu_iam *iam, struct anfu_db *db, const char *id, int64_t number,
			  const char *type, const json_t *payload, const char *summary,
			  const char *maker_id)
{
	char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
	char *ct = NULL;
	int r;

	if (!text)
		abort();
	r = anfu_vault_seal(iam->vault, "approval", id, text, strlen(text), &ct);
	if (r < 0)
		goto out;
	{
		struct anfu_param p[7] = { ANFU_PS(id),
					   ANFU_PI(number),
					   ANFU_PS(type),
					   ANFU_PS(ct),
					   ANFU_PS(summary),
					   ANFU_PS(maker_id),
					   ANFU_PI(anfu_clock_now_ms()) };

		r = anfu_db_exec(db,
				 "INSERT INTO iam_approval (id, number, type, payload, summary, "
				 "maker_id, created_ms, status) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')",
				 p, 7, NULL, NULL, NULL);
	}
out:
	anfu_free_secret(text);
	free(ct);
	return r;
}

int anfu_approval_file(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *maker, const char *type, const json_t *payload,
		       struct anfu_approval_view *ret, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct anfu_approval_type *t = anfu_approval_type_find(type);
	char summary[ANFU_LIMIT_APPROVAL_SUMMARY] = "";
	char id[ANFU_ID_MAX];
	const char *subject;
	struct anfu_approval_view out = { 0 };
	json_t *details = NULL;
	int64_t number = 0;
	int r = ANFU_EINVAL;

	if (!iam || !db || !maker || !ret)
		return ANFU_EINVAL;
	if (!t) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "type");
		return ANFU_EINVAL;
	}
	if (!can_suffix(maker, t->perm_prefix, "request")) {
		err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	/* What goes through four eyes is sensitive (role changes, IAM-MFA-02):
	 * each pair of eyes proves a second factor first. */
	if (!iam_stepped_up(iam, maker, anfu_clock_now_ms())) {
		err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		return ANFU_EPERM;
	}
	if (!json_is_object(payload)) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "payload");
		return ANFU_EINVAL;
	}
	/* Nobody asks for their own account to be disabled, handed over... */
	subject = t->subject ? t->subject(payload) : NULL;
	if (t->maker_not_subject && subject && strcmp(subject, maker->user_id) == 0) {
		err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	r = t->validate(iam, db, payload, summary, sizeof(summary), err);
	if (r < 0)
		goto out;
	r = next_number(db, &number);
	if (r < 0)
		goto out;
	r = anfu_id_new("apr", id, sizeof(id));
	if (r < 0)
		goto out;
	r = insert_pending(iam, db, id, number, t->name, payload, summary, maker->user_id);
	if (r < 0)
		goto out;
	details = details_new(number, t->name);
	anfu_json_set(details, "summary", json_string(summary));
	r = iam_audit(iam, tx, ctx, maker, NULL, "approval.filed", "approval", id, "success",
		      details);
	if (r < 0)
		goto out;
	r = anfu_approval_get(db, id, &out);
	if (r < 0)
		goto out;
	/* A request is filed pending, with the number the counter gave it. */
	ANFU_ASSERT(out.number == number && strcmp(out.status, "pending") == 0);
	*ret = out;
	r = 0;
out:
	json_decref(details);
	return r;
}

/* ---- deciding ------------------------------------------------------------------ */

static int finish(struct anfu_db *db, const char *id, const char *status, const json_t *result)
{
	char *text = result ? json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct anfu_param p[3] = { ANFU_PS(id), ANFU_PS(status), ANFU_PS(text) };
	int64_t changes = 0;
	int r;

	if (result && !text)
		abort();
	r = anfu_db_exec(db,
			 "UPDATE iam_approval SET status = $2, result = $3 "
			 "WHERE id = $1 AND status = 'pending'",
			 p, 3, NULL, NULL, &changes);
	free(text);
	if (r == 0 && changes != 1)
		r = ANFU_ECONFLICT;
	return r;
}

/* Records who decided, when and why; the row stays pending (a reject sets
 * its final status right after) so an executor can see its checker. */
static int claim(struct anfu_db *db, const char *id, const char *checker_id, const char *note)
{
	char buf[ANFU_LIMIT_DECISION_NOTE + 1];
	struct anfu_param p[4] = { ANFU_PS(id), ANFU_PS(checker_id), ANFU_PI(anfu_clock_now_ms()),
				   ANFU_PNULL };
	int64_t changes = 0;
	int r;

	if (note && note[0]) {
		(void)snprintf(buf, sizeof(buf), "%s", note);
		p[3] = ANFU_PSN(buf, strlen(buf));
	}
	r = anfu_db_exec(db,
			 "UPDATE iam_approval SET checker_id = $2, decided_ms = $3, "
			 "decision_note = $4 WHERE id = $1 AND status = 'pending'",
			 p, 4, NULL, NULL, &changes);
	if (r == 0 && changes != 1)
		r = ANFU_ECONFLICT;
	return r;
}

static int open_payload(struct anfu_iam *iam, struct anfu_db *db, const char *id, const char *ct,
			json_t **ret)
{
	char *text = NULL;
	size_t len = 0;
	json_t *v;
	int r = anfu_vault_open_field(iam->vault, db, "approval", id, ct, &text, &len);

	if (r < 0)
		return r;
	v = json_loadb(text, len, 0, NULL);
	anfu_free_secret(text);
	if (!v) {
		anfu_log_error("iam.approval", "payload of %s does not parse", id);
		return ANFU_ECORRUPT;
	}
	*ret = v;
	return 0;
}

/* One executor run, a step of the decision's transaction. */
struct exec_step {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_approval_type *t;
	const char *id;
	const json_t *payload;
	json_t *result;
	struct anfu_iam_err xerr;
};

static int exec_step_tx(struct anfu_tx *tx, void *ud)
{
	struct exec_step *s = ud;

	return s->t->execute(s->iam, tx, s->ctx, s->id, s->payload, &s->result, &s->xerr);
}

/* Runs the executor as a step (in a savepoint): 0 with *ret_result, a
 * refusal (its own changes and records undone) with *ret_code, or a
 * platform failure. */
static int run_executor(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const struct anfu_approval_type *t, const char *id, const json_t *payload,
			json_t **ret_result, const char **ret_code)
{
	struct exec_step s = { iam, ctx, t, id, payload, NULL, { NULL, NULL } };
	int x = anfu_tx_step(tx, exec_step_tx, &s);

	if (x == 0) {
		*ret_result = s.result;
		return 0;
	}
	json_decref(s.result);
	if (!is_refusal(x)) {
		anfu_log_error("iam.approval", "executor of %s failed: %s", id, anfu_strerror(x));
		return x;
	}
	*ret_code = code_of(x, &s.xerr);
	return ANFU_ECONFLICT;
}

static int decide_approve(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *checker, const struct anfu_approval_type *t,
			  const char *id, const struct pending *a, const json_t *payload,
			  const char *note)
{
	struct anfu_db *db = anfu_tx_db(tx);
	json_t *result = NULL, *details = details_new(a->number, a->type);
	const char *code = NULL;
	int r, x;

	r = claim(db, id, checker->user_id, note);
	if (r < 0)
		goto out;
	r = iam_audit(iam, tx, ctx, checker, NULL, "approval.approved", "approval", id, "success",
		      details);
	if (r < 0)
		goto out;
	x = run_executor(iam, tx, ctx, t, id, payload, &result, &code);
	if (x < 0 && !code) {
		r = x;
		goto out;
	}
	/* A refusal names its code: the request fails with it. */
	ANFU_ASSERT(x == 0 || code != NULL);
	if (x == 0) {
		r = finish(db, id, "executed", result);
	} else {
		json_decref(result);
		result = json_object();
		anfu_json_set(result, "error", json_string(code));
		anfu_json_set(details, "error", json_string(code));
		r = finish(db, id, "failed", result);
	}
	if (r < 0)
		goto out;
	r = iam_audit(iam, tx, ctx, checker, NULL, x == 0 ? "approval.executed" : "approval.failed",
		      "approval", id, x == 0 ? "success" : "failure", details);
out:
	json_decref(result);
	json_decref(details);
	return r;
}

static int decide_reject(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *checker, const char *id,
			 const struct pending *a, const char *note)
{
	json_t *details = details_new(a->number, a->type);
	int r = claim(anfu_tx_db(tx), id, checker->user_id, note);

	if (r == 0)
		r = finish(anfu_tx_db(tx), id, "rejected", NULL);
	if (r == 0)
		r = iam_audit(iam, tx, ctx, checker, NULL, "approval.rejected", "approval", id,
			      "success", details);
	json_decref(details);
	return r;
}

int anfu_approval_decide(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *checker, const char *approval_id,
			 bool approve, const char *note, const json_t *confirm,
			 struct anfu_approval_view *ret, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_approval_view out = { 0 };
	struct pending a = { 0 };
	const struct anfu_approval_type *t;
	const char *subject;
	json_t *payload = NULL;
	int r;

	if (!iam || !db || !checker || !approval_id || !ret)
		return ANFU_EINVAL;
	r = pending_load(db, approval_id, &a);
	if (r < 0) {
		if (r == ANFU_ENOTFOUND)
			err_set(err, ANFU_R_NOT_FOUND, NULL);
		goto out;
	}
	r = ANFU_EINTERNAL;
	t = anfu_approval_type_find(a.type);
	if (!t) {
		anfu_log_error("iam.approval", "%s has unregistered type %s", approval_id, a.type);
		goto out;
	}
	/* Four eyes: the maker never decides, whatever they hold (IAM-SOD-03). */
	r = ANFU_EPERM;
	if (strcmp(checker->user_id, a.maker) == 0) {
		err_set(err, ANFU_R_APPROVAL_SELF, NULL);
		goto out;
	}
	if (!can_suffix(checker, t->perm_prefix, "approve")) {
		err_set(err, ANFU_R_FORBIDDEN, NULL);
		goto out;
	}
	if (!iam_stepped_up(iam, checker, anfu_clock_now_ms())) {
		err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		goto out;
	}
	r = open_payload(iam, db, approval_id, a.payload_ct, &payload);
	if (r < 0)
		goto out;
	/* Nor does the person the request is about: a checker approving a
	 * change to their own roles would be two eyes again. */
	subject = t->subject ? t->subject(payload) : NULL;
	r = ANFU_EPERM;
	if (subject && strcmp(subject, checker->user_id) == 0) {
		err_set(err, ANFU_R_APPROVAL_SELF, NULL);
		goto out;
	}
	r = ANFU_ECONFLICT;
	if (strcmp(a.status, "pending") != 0) {
		err_set(err, ANFU_R_APPROVAL_NOT_PENDING, NULL);
		goto out;
	}
	/* What the maker alone must not decide (where a credential goes) the
	 * checker supplies again; a mismatch leaves the request pending. */
	if (approve && t->confirm) {
		r = t->confirm(payload, confirm, err);
		if (r < 0)
			goto out;
	}
	if (approve)
		r = decide_approve(iam, tx, ctx, checker, t, approval_id, &a, payload, note);
	else
		r = decide_reject(iam, tx, ctx, checker, approval_id, &a, note);
	if (r < 0)
		goto out;
	r = anfu_approval_get(db, approval_id, &out);
	if (r < 0)
		goto out;
	/* Only a pending request is decided, and deciding ends it. */
	ANFU_ASSERT(strcmp(out.status, "pending") != 0 && out.decided);
	*ret = out;
	r = 0;
out:
	json_decref(payload);
	free(a.payload_ct);
	return r;
}

/* ---- the service API (iam.h) ------------------------------------------------------ */

/* A filing or a decision, as one transaction. */
struct approval_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *type;	 /* file */
	const json_t *payload;	 /* file */
	const char *approval_id; /* decide */
	bool approve;		 /* decide */
	const char *note;	 /* decide */
	const json_t *confirm;	 /* decide */
	struct anfu_approval_view out;
	struct anfu_iam_err *err;
};

static int file_tx(struct anfu_tx *tx, void *ud)
{
	struct approval_op *c = ud;

	return anfu_approval_file(c->iam, tx, c->ctx, c->p, c->type, c->payload, &c->out, c->err);
}

static int decide_tx(struct anfu_tx *tx, void *ud)
{
	struct approval_op *c = ud;

	return anfu_approval_decide(c->iam, tx, c->ctx, c->p, c->approval_id, c->approve, c->note,
				    c->confirm, &c->out, c->err);
}

int anfu_iam_approval_file(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const char *type, json_t *payload,
			   struct anfu_approval_view *ret, struct anfu_iam_err *err)
{
	struct approval_op c = {
		.iam = iam, .ctx = ctx, .p = p, .type = type, .payload = payload, .err = err
	};
	int r;

	if (!iam || !p || !ret)
		return ANFU_EINVAL;
	r = iam_tx(iam, file_tx, &c, err);
	if (r < 0) {
		anfu_approval_view_clear(&c.out);
		if (r == ANFU_EPERM)
			iam_audit_denied(iam, ctx, p, "approval.filed", "approval", NULL,
					 err ? err->code : NULL);
		return r;
	}
	*ret = c.out;
	return 0;
}

/* The type of approval_id when it runs its decisions itself (its run),
 * else NULL (iam's transaction; an unknown id is refused in there). The
 * type of a request never changes, so it is read before the decision. */
static const struct anfu_approval_type *decision_runner(struct anfu_iam *iam,
							const char *approval_id)
{
	struct anfu_approval_view v = { 0 };
	const struct anfu_approval_type *t = NULL;
	struct anfu_db *db = NULL;

	if (anfu_store_db(iam->store, &db) == 0 && anfu_approval_get(db, approval_id, &v) == 0)
		t = anfu_approval_type_find(v.type);
	anfu_approval_view_clear(&v);
	return t && t->run ? t : NULL;
}

int anfu_iam_approval_decide(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			     const struct anfu_principal *p, const char *approval_id, bool approve,
			     const char *note, const json_t *confirm,
			     struct anfu_approval_view *ret, struct anfu_iam_err *err)
{
	struct approval_op c = { .iam = iam,
				 .ctx = ctx,
				 .p = p,
				 .approval_id = approval_id,
				 .approve = approve,
				 .note = note,
				 .confirm = confirm,
				 .err = err };
	const struct anfu_approval_type *t;
	int r;

	if (!iam || !p || !approval_id || !ret)
		return ANFU_EINVAL;
	t = decision_runner(iam, approval_id);
	if (t) {
		r = t->run(ctx, p, decide_tx, &c);
		/* As iam_tx: a batch that could not append its records says
		 * nothing of the request. */
		if (r == ANFU_EAUDIT)
			err_set(err, NULL, NULL);
	} else
		r = iam_tx(iam, decide_tx, &c, err);
	if (r < 0) {
		anfu_approval_view_clear(&c.out);
		if (r == ANFU_EPERM || (r == ANFU_ECONFLICT && err && err->code &&
					strcmp(err->code, ANFU_R_CONFIRMATION_MISMATCH) == 0))
			iam_audit_denied(iam, ctx, p,
					 approve ? "approval.approved" : "approval.rejected",
					 "approval", approval_id, err ? err->code : NULL);
		return r;
	}
	*ret = c.out;
	return 0;
}

static bool status_ok(const char *s)
{
	return !s || strcmp(s, "pending") == 0 || strcmp(s, "rejected") == 0 ||
	       strcmp(s, "executed") == 0 || strcmp(s, "failed") == 0;
}

/* Whether p sees the payload of a request of type made by maker_id: its
 * maker, and whoever may approve the type (the checker must see every
 * field in full to judge it). */
static bool may_see_payload(const struct anfu_principal *p, const char *type, const char *maker_id)
{
	const struct anfu_approval_type *t = anfu_approval_type_find(type);

	return (maker_id && strcmp(maker_id, p->user_id) == 0) ||
	       (t && can_suffix(p, t->perm_prefix, "approve"));
}

/* Sets the payload of each view of rows: in clear for those p may see
 * (their numbers go to shown), NULL for the others. */
static int add_payloads(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_principal *p,
			struct view_rows *rows, json_t *shown)
{
	for (size_t i = 0; i < rows->n; i++) {
		struct anfu_approval_view *v = &rows->v[i];
		struct pending a = { 0 };
		json_t *payload = NULL;
		int r;

		v->payload_read = true;
		if (!may_see_payload(p, v->type, v->maker_id))
			continue;
		r = pending_load(db, v->id, &a);
		if (r == 0)
			r = open_payload(iam, db, v->id, a.payload_ct, &payload);
		free(a.payload_ct);
		if (r < 0)
			return r;
		v->payload = payload;
		if (json_array_append_new(shown, json_integer(v->number)) < 0)
			abort();
	}
	return 0;
}

/* What view() reads, in its transaction. */
struct view_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *approval_id, *status;
	struct view_rows rows;
};

static int view_tx(struct anfu_tx *tx, void *ud)
{
	struct view_op *c = ud;
	struct anfu_iam *iam = c->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	const char *approval_id = c->approval_id;
	struct anfu_param by_id[1] = { iam_ps(approval_id) };
	struct anfu_param by_status[2] = { iam_ps(c->status), ANFU_PI((int64_t)c->rows.cap) };
	json_t *shown = json_array(), *d = NULL;
	int r;

	if (!shown)
		abort();
	if (approval_id)
		r = anfu_db_exec(db, APPROVAL_COLUMNS "WHERE id = $1", by_id, 1, approval_row_cb,
				 &c->rows, NULL);
	else
		r = anfu_db_exec(db,
				 APPROVAL_COLUMNS "WHERE status = COALESCE($1, status) "
						  "ORDER BY number DESC LIMIT $2",
				 by_status, 2, approval_row_cb, &c->rows, NULL);
	if (r == 0 && approval_id && c->rows.n == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = add_payloads(iam, db, c->p, &c->rows, shown);
	if (r == 0 && json_array_size(shown) > 0) {
		d = json_pack("{s:O}", "numbers", shown);
		if (!d)
			abort();
		r = iam_audit(iam, tx, c->ctx, c->p, NULL, "approval.viewed", "approval",
			      approval_id ? approval_id : "", "success", d);
	}
	json_decref(shown);
	json_decref(d);
	return r;
}

/* Reads approvals (one id, or a status filter; at most cap of them into
 * out) with the payloads p may see; showing any is audited as
 * "approval.viewed" in the same transaction, so nothing is shown that was
 * not recorded. On failure nothing is left in out. */
static int view(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		const struct anfu_principal *p, const char *approval_id, const char *status,
		struct anfu_approval_view *out, size_t cap, size_t *ret_n)
{
	struct view_op c = { iam, ctx, p, approval_id, status, { out, 0, cap } };
	int r = iam_tx(iam, view_tx, &c, NULL);

	if (r < 0) {
		for (size_t i = 0; i < c.rows.n; i++)
			anfu_approval_view_clear(&out[i]);
		return r;
	}
	*ret_n = c.rows.n;
	return 0;
}

int anfu_iam_approval_list(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const char *status,
			   struct anfu_approval_view *ret, size_t cap, size_t *ret_n)
{
	if (!iam || !p || !ret || cap == 0 || !ret_n || !status_ok(status))
		return ANFU_EINVAL;
	if (!anfu_principal_can(p, "iam.approval.read"))
		return ANFU_EPERM;
	return view(iam, ctx, p, NULL, status, ret,
		    cap < ANFU_LIMIT_APPROVAL_LIST ? cap : ANFU_LIMIT_APPROVAL_LIST, ret_n);
}

int anfu_iam_approval_get(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *approval_id,
			  struct anfu_approval_view *ret)
{
	struct anfu_approval_view v;
	size_t n = 0;
	int r;

	if (!iam || !p || !approval_id || !ret)
		return ANFU_EINVAL;
	if (!anfu_principal_can(p, "iam.approval.read"))
		return ANFU_EPERM;
	memset(&v, 0, sizeof(v));
	r = view(iam, ctx, p, approval_id, NULL, &v, 1, &n);
	if (r < 0)
		return r;
	ANFU_ASSERT(n == 1);
	*ret = v;
	return 0;
}
