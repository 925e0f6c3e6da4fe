/*
 * ledger/api/approvals: the four-eyes approval types of account state
 * changes (FUNC-ACCT-05, -07, IAM-SOD-03): "freeze_account",
 * "unfreeze_account" and "close_account", registered by the ledger's
 * module descriptor (anfu_ledger_approvals), and the runner that makes
 * each decision a command of the ledger's single writer.
 *
 * A request's payload is {"account_id", "state", "reason"}: the state
 * must fit the type (freeze: frozen_debit, frozen_credit or frozen;
 * unfreeze: normal; close: closed). An operator holding
 * ledger.approval.account_state.request files it; another person holding
 * ledger.approval.account_state.approve (the risk officer) approves it,
 * typing the account id and the state again (confirm), or rejects it. The
 * decision's transaction is a writer command (anfu_ledger_run), so the
 * executor's state change (anfu_ledger_set_state_in) is the writer's and
 * commits with the decision, its record "ledger.account.state" the
 * checker's, with the approval id. A change the ledger refuses at
 * execution (the account not empty, a state changed meanwhile) fails the
 * request with that code and changes nothing else.
 *
 * Trusts approval.c to call validate at filing and confirm, execute and
 * run at approval; trusts nothing in a payload (validated again at
 * execution). Holds the running service (set by the module's start, and
 * cleared at stop) for the runner.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "iam/approval.h"
#include "iam/iam.h"
#include "ledger/api/module.h"
#include "ledger/ledger.h"

/* How long a decision may wait for the writer (the checker's request). */
#define DECISION_DEADLINE_MS 5000
/* Longest device text an audit record keeps of the checker's client. */
#define DEVICE_MAX 64

static _Atomic(struct anfu_ledger *) service;

void anfu_ledger_api_set_service(struct anfu_ledger *l)
{
	atomic_store(&service, l);
}

/* What a request asks; strings borrowed from the payload. */
struct state_req {
	const char *account_id, *state, *reason;
};

static void err_set(struct anfu_iam_err *err, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
}

/* The states a type may ask for. */
static bool fits(const char *type, const char *state)
{
	if (strcmp(type, "freeze_account") == 0)
		return strcmp(state, "frozen_debit") == 0 || strcmp(state, "frozen_credit") == 0 ||
		       strcmp(state, "frozen") == 0;
	if (strcmp(type, "unfreeze_account") == 0)
		return strcmp(state, "normal") == 0;
	return strcmp(type, "close_account") == 0 && strcmp(state, "closed") == 0;
}

static int text_field(const json_t *o, const char *key, size_t max, const char **ret,
		      struct anfu_iam_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		err_set(err, ANFU_JERR_MISSING_FIELD, key);
		return ANFU_EINVAL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		err_set(err, ANFU_JERR_INVALID_FIELD, key);
		return ANFU_EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

/* Reads a payload of type: exactly account_id, state (fitting the type)
 * and reason (1..ANFU_LIMIT_ADMIN_REASON bytes, one line). */
static int payload_read(const char *type, const json_t *payload, struct state_req *q,
			struct anfu_iam_err *err)
{
	const char *k;
	json_t *v;
	int r;

	if (!json_is_object(payload)) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "payload");
		return ANFU_EINVAL;
	}
	json_object_foreach((json_t *)payload, k, v)
	{
		if (strcmp(k, "account_id") != 0 && strcmp(k, "state") != 0 &&
		    strcmp(k, "reason") != 0) {
			err_set(err, ANFU_JERR_INVALID_FIELD, "payload");
			return ANFU_EINVAL;
		}
	}
	r = text_field(payload, "account_id", ANFU_ID_MAX - 1, &q->account_id, err);
	if (r == 0)
		r = text_field(payload, "state", ANFU_LEDGER_NAME_MAX - 1, &q->state, err);
	if (r == 0)
		r = text_field(payload, "reason", ANFU_LIMIT_ADMIN_REASON, &q->reason, err);
	if (r < 0)
		return r;
	if (!fits(type, q->state)) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "state");
		return ANFU_EINVAL;
	}
	for (const char *c = q->reason; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			err_set(err, ANFU_JERR_INVALID_FIELD, "reason");
			return ANFU_EINVAL;
		}
	return 0;
}

/* At filing: the payload, and the account as it is now: it exists and
 * the change table allows the change from its state (whether a close
 * finds it empty is decided at execution). */
static int validate(const char *type, const json_t *payload, char *summary, size_t cap,
		    struct anfu_iam_err *err)
{
	struct anfu_ledger *l = atomic_load(&service);
	struct anfu_ledger_account a;
	struct state_req q = { 0 };
	const char *refusal;
	int r = payload_read(type, payload, &q, err);

	if (r < 0)
		return r;
	if (!l)
		return ANFU_EINTERNAL;
	r = anfu_ledger_account_get(l, q.account_id, &a);
	if (r == ANFU_ENOTFOUND || r == ANFU_EINVAL) {
		err_set(err, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND, "account_id");
		return ANFU_ENOTFOUND;
	}
	if (r < 0)
		return r;
	refusal = anfu_ledger_state_refusal(a.state, q.state);
	if (refusal) {
		err_set(err, refusal, "state");
		return ANFU_ECONFLICT;
	}
	(void)snprintf(summary, cap, "%s %s: %s -> %s", type, a.id, a.state, q.state);
	return 0;
}

static int validate_freeze(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			   char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	(void)db;
	return validate("freeze_account", payload, summary, cap, err);
}

static int validate_unfreeze(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			     char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	(void)db;
	return validate("unfreeze_account", payload, summary, cap, err);
}

static int validate_close(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			  char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	(void)db;
	return validate("close_account", payload, summary, cap, err);
}

/* The checker types the account id and the state again: what is frozen
 * or closed is never the maker's word alone. */
static int confirm(const json_t *payload, const json_t *c, struct anfu_iam_err *err)
{
	static const char *const keys[] = { "account_id", "state" };
	static const char *const fields[] = { "confirm_account_id", "confirm_state" };

	for (size_t i = 0; i < 2; i++) {
		const json_t *want = json_object_get(payload, keys[i]);
		const json_t *got = c ? json_object_get(c, keys[i]) : NULL;

		if (!json_is_string(got)) {
			err_set(err, ANFU_JERR_MISSING_FIELD, fields[i]);
			return ANFU_EINVAL;
		}
		if (!json_is_string(want) || !json_equal(want, got)) {
			err_set(err, ANFU_R_CONFIRMATION_MISMATCH, fields[i]);
			return ANFU_ECONFLICT;
		}
	}
	return 0;
}

/* At approval, inside the decision's writer command: the change. */
static int execute(const char *type, struct anfu_tx *tx, const char *approval_id,
		   const json_t *payload, json_t **result, struct anfu_iam_err *err)
{
	struct state_req q = { 0 };
	struct anfu_ledger_state_result res;
	struct anfu_ledger_state_change c;
	int r = payload_read(type, payload, &q, err);

	if (r < 0)
		return r;
	c = (struct anfu_ledger_state_change){ q.account_id, q.state, q.reason, approval_id };
	r = anfu_ledger_set_state_in(tx, &c, &res);
	if (r < 0)
		/* Not the writer's transaction, or the store failing: the
		 * platform's failure (the request stays pending), never the
		 * request's. */
		return r == ANFU_EINVAL ? ANFU_EINTERNAL : r;
	if (res.code) {
		err_set(err, res.code, NULL);
		return strcmp(res.code, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND) == 0 ? ANFU_ENOTFOUND
									      : ANFU_ECONFLICT;
	}
	*result = json_pack("{s:s, s:s, s:s}", "account_id", res.acc.id, "from", res.from, "to",
			    res.acc.state);
	return 0;
}

static int execute_freeze(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const char *approval_id, const json_t *payload, json_t **result,
			  struct anfu_iam_err *err)
{
	(void)iam;
	(void)ctx;
	return execute("freeze_account", tx, approval_id, payload, result, err);
}

static int execute_unfreeze(struct anfu_iam *iam, struct anfu_tx *tx,
			    const struct anfu_iam_ctx *ctx, const char *approval_id,
			    const json_t *payload, json_t **result, struct anfu_iam_err *err)
{
	(void)iam;
	(void)ctx;
	return execute("unfreeze_account", tx, approval_id, payload, result, err);
}

static int execute_close(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const char *approval_id, const json_t *payload, json_t **result,
			 struct anfu_iam_err *err)
{
	(void)iam;
	(void)ctx;
	return execute("close_account", tx, approval_id, payload, result, err);
}

/* Printable ASCII of the client's device id, cut short (as iam's records
 * keep it). */
static void device_text(const char *in, char out[DEVICE_MAX + 1])
{
	size_t i = 0;

	for (; in && in[i] && i < DEVICE_MAX; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

/* The decision as a writer command; records of its transaction without
 * an actor of their own are the checker's. */
static int run(const struct anfu_iam_ctx *ctx, const struct anfu_principal *checker,
	       int (*fn)(struct anfu_tx *tx, void *ud), void *ud)
{
	struct anfu_ledger *l = atomic_load(&service);
	char device[DEVICE_MAX + 1];
	struct anfu_actor a = { 0 };

	if (!l || !checker)
		return ANFU_EINTERNAL;
	device_text(ctx ? ctx->device_id : NULL, device);
	a.id = checker->user_id;
	a.type = "staff";
	a.role = checker->roles;
	a.ip = ctx && ctx->ip ? ctx->ip : "";
	a.device = device;
	a.request_id = ctx && ctx->request_id ? ctx->request_id : "";
	return anfu_ledger_run(l, &a, fn, ud, anfu_clock_mono_us() / 1000 + DECISION_DEADLINE_MS);
}

#define PREFIX "ledger.approval.account_state"

static const struct anfu_approval_type types[] = {
	{ .name = "freeze_account",
	  .perm_prefix = PREFIX,
	  .validate = validate_freeze,
	  .execute = execute_freeze,
	  .confirm = confirm,
	  .run = run },
	{ .name = "unfreeze_account",
	  .perm_prefix = PREFIX,
	  .validate = validate_unfreeze,
	  .execute = execute_unfreeze,
	  .confirm = confirm,
	  .run = run },
	{ .name = "close_account",
	  .perm_prefix = PREFIX,
	  .validate = validate_close,
	  .execute = execute_close,
	  .confirm = confirm,
	  .run = run },
};

const struct anfu_approval_table anfu_ledger_approvals = { types,
							   sizeof(types) / sizeof(types[0]) };

const char *anfu_ledger_api_state_type(const char *state)
{
	for (size_t i = 0; state && i < sizeof(types) / sizeof(types[0]); i++)
		if (fits(types[i].name, state))
			return types[i].name;
	return NULL;
}
