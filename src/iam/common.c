/*
 * iam/common: the helpers every file of src/iam/ shares — the calling
 * thread's connection, refusal reporting, the transaction wrapper over the
 * executor, user kinds as text, and the audit record of an iam action
 * (actor, device, request id). Declared in iam/internal.h and iam/core.h.
 *
 * Trusts the service object to be open; trusts a caller's context to be
 * NUL-terminated strings and nothing more (the device id is a client
 * header: cleaned here before the audit sees it).
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/str.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "store/store.h"

int iam_db(struct anfu_iam *iam, struct anfu_db **ret)
{
	if (!iam || !ret)
		return ANFU_EINVAL;
	return anfu_store_db(iam->store, ret);
}

void iam_err_set(struct anfu_iam_err *err, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
}

/* What iam_tx() hands the executor: fn, and what fn returned. */
struct iam_run {
	anfu_tx_fn fn;
	void *ud;
	int rv;
};

static int iam_run_tx(struct anfu_tx *tx, void *ud)
{
	struct iam_run *c = ud;

	c->rv = c->fn(tx, c->ud);
	return c->rv;
}

int iam_tx(struct anfu_iam *iam, anfu_tx_fn fn, void *ud, struct anfu_iam_err *err)
{
	struct iam_run c = { fn, ud, 0 };
	int r;

	if (!iam || !fn)
		return ANFU_EINVAL;
	r = anfu_tx_run(iam->tx, NULL, iam_run_tx, &c);
	if (r == ANFU_EAUDIT && c.rv != ANFU_EAUDIT)
		iam_err_set(err, NULL, NULL);
	return r;
}

const char *iam_kind_name(enum anfu_user_kind k)
{
	switch (k) {
	case ANFU_USER_MERCHANT: return "merchant";
	case ANFU_USER_STAFF: return "staff";
	case ANFU_USER_CUSTOMER:
	default: return "customer";
	}
}

/* ---- audit ---------------------------------------------------------------- */

static int kind_row(void *ud, const struct anfu_row *r)
{
	const char *k = anfu_row_text(r, 0, NULL);

	if (k)
		(void)anfu_strlcpy(ud, k, 16);
	return 1;
}

/* The actor type of a user id: its kind, or "system" for "system". */
static void actor_type(struct anfu_db *db, const char *actor_id, char out[16])
{
	struct anfu_param p[1] = { iam_ps(actor_id) };

	(void)anfu_strlcpy(out, "system", 16);
	if (strcmp(actor_id, "system") == 0)
		return;
	(void)anfu_db_exec(db, "SELECT kind FROM iam_user WHERE id = $1", p, 1, kind_row, out,
			   NULL);
}

/* The device id as an audit record shows it. It is a header the client
 * chose: one the audit would refuse (too long, not UTF-8, controls) must
 * not make the record, and with it the change or the refusal it records,
 * fail; so printable ASCII only ('?' for anything else), cut short. */
static void device_text(const char *in, char out[ANFU_LIMIT_IAM_AUDIT_DEVICE + 1])
{
	size_t i = 0;

	for (; in && in[i] && i < ANFU_LIMIT_IAM_AUDIT_DEVICE; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

int iam_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
	      const struct anfu_principal *p, const char *actor_id, const char *action,
	      const char *object_type, const char *object_id, const char *outcome,
	      const json_t *details)
{
	struct anfu_actor a = { 0 };
	char type[16], device[ANFU_LIMIT_IAM_AUDIT_DEVICE + 1];
	json_t *copy = NULL;

	if (!iam || !tx || !action)
		return ANFU_EINVAL;
	/* The record is appended at commit: it keeps the details as they are
	 * now, whatever the caller does with its object afterwards. */
	if (details) {
		copy = json_deep_copy(details);
		if (!copy)
			abort();
	}
	if (p) {
		a.id = p->user_id;
		a.type = iam_kind_name(p->kind);
		a.role = p->roles;
	} else if (actor_id) {
		actor_type(anfu_tx_db(tx), actor_id, type);
		a.id = actor_id;
		a.type = type;
		a.role = "";
	} else {
		a.id = "";
		a.type = "anonymous";
		a.role = "";
	}
	a.ip = ctx && ctx->ip ? ctx->ip : "";
	device_text(ctx ? ctx->device_id : NULL, device);
	a.device = device;
	a.request_id = ctx && ctx->request_id ? ctx->request_id : "";
	return anfu_tx_audit_as(tx, &a, action, object_type, object_id,
				outcome ? outcome : "success", copy);
}
