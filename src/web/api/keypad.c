/*
 * web/api/keypad: POST /api/v1/me/keypads/{id}/check {"positions":"..."}:
 * the customer's payment password entered on a shuffled keypad (the
 * account page's "check my payment password"): the keypad is taken (single
 * use, its user's, unexpired), the positions mapped back to digits, and
 * the PIN checked by iam, which counts failures and locks (IAM-LOCK-03).
 * 200 {"ok":true}; a wrong PIN is iam's refusal (payment_password_invalid).
 *
 * Trusts the session authenticator for the principal; nothing in the id
 * or the positions. The PIN lives on the stack and is wiped.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"
#include "tx/tx.h"
#include "web/api/module.h"
#include "web/web.h"

struct check_body {
	struct anfu_str positions;
};

static const struct anfu_jfield check_fields[] = {
	{ "positions", ANFU_JT_SECRET, offsetof(struct check_body, positions), true, 1,
	  ANFU_LIMIT_WEB_KEYPAD_PRESSES, NULL },
};

struct take {
	const char *user_id, *keypad_id, *positions;
	char pin[ANFU_LIMIT_WEB_KEYPAD_PRESSES + 1];
	struct anfu_web_keypad_refusal why;
};

static int take_tx(struct anfu_tx *tx, void *ud)
{
	struct take *t = ud;

	return anfu_web_keypad_take(anfu_tx_db(tx), anfu_clock_now_ms(), t->user_id, t->keypad_id,
				    t->positions, t->pin, sizeof(t->pin), &t->why);
}

int anfu_web_api_keypad_check(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_web *w = anfu_api_service(app, &anfu_web_module);
	const struct anfu_principal *p = req->principal;
	const struct anfu_actor actor = { .id = req->actor_id,
					  .type = req->actor_type,
					  .role = req->actor_role ? req->actor_role : "",
					  .ip = req->client_ip,
					  .device = "",
					  .request_id = req->request_id };
	struct check_body b = { 0 };
	struct take t = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	char *id = NULL, *positions = NULL;
	int r;

	if (!w || !p)
		return ANFU_EINTERNAL;
	if (p->kind != ANFU_USER_CUSTOMER)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_api_path_id(req, "kpd", &id);
	if (r == 0)
		r = anfu_req_json(req, check_fields, sizeof(check_fields) / sizeof(check_fields[0]),
				  &b);
	if (r < 0 && req->err_code && strcmp(req->err_field, "positions") == 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_WEB_KEYPAD_POSITIONS, "positions");
	if (r == 0)
		r = anfu_arena_strndup(req->arena, b.positions.ptr, b.positions.len, &positions);
	if (r < 0)
		return r;
	t = (struct take){ .user_id = p->user_id, .keypad_id = id, .positions = positions };
	r = anfu_tx_run(anfu_web_tx(w), &actor, take_tx, &t);
	if (r < 0) {
		anfu_wipe(t.pin, sizeof(t.pin));
		return t.why.code ? anfu_req_fail(req, r, t.why.code, t.why.field) : r;
	}
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_verify_payment_password(app->iam, &ctx, p, t.pin, &e);
	anfu_wipe(t.pin, sizeof(t.pin));
	if (r < 0)
		return e.code ? anfu_req_fail(req, r, e.code, e.field) : r;
	resp->body = json_pack("{s:b}", "ok", 1);
	return resp->body ? 0 : ANFU_EINTERNAL;
}
