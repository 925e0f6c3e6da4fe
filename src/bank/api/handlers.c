/*
 * bank/api/handlers: the bank module's routes: the customer's cards and
 * top-ups under /api/v1/me/ (session + CSRF), and the bank's signed
 * callback /bank/v1/callbacks/{bank_id} (no session: the signature is the
 * authentication). Decode, call the service, encode; no SQL.
 *
 * Trusts the session authenticator for the principal, the JSON decoder
 * for field types and sizes; checks formats (Luhn, resident ID, ids) here.
 * Card numbers never leave a handler but masked.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "bank/api/module.h"
#include "bank/bank.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/validate.h"
#include "http/http.h"

static struct anfu_actor actor_of(const struct anfu_req *req)
{
	return (struct anfu_actor){
		.id = req->actor_id,
		.type = req->actor_type ? req->actor_type : "",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = "",
		.request_id = req->request_id,
	};
}

/* A decoded string into the arena, NUL-terminated. */
static int cstr(struct anfu_req *req, struct anfu_str s, char **ret)
{
	return anfu_arena_strndup(req->arena, s.ptr, s.len, ret);
}

static bool card_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len >= 12 && len <= 19 && anfu_valid_bank_card(s, len);
}

static bool request_id_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return len > 0;
}

static bool code_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len == 6;
}

static json_t *card_json(const struct anfu_bank_card *c)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", c->id, "bank_id", c->bank_id,
			 "card", c->masked, "state", c->state, "phone", c->phone_masked,
			 "created_ms", (json_int_t)c->created_ms, "bound_ms",
			 (json_int_t)c->bound_ms);
}

static json_t *payment_json(const struct anfu_bank_payment *p)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", p->id, "card_id",
			 p->card_id, "card", p->card_masked, "amount", (json_int_t)p->amount,
			 "currency", p->currency, "state", p->state, "client_request_id",
			 p->client_request_id, "reason", p->reason, "transfer_id", p->transfer_id,
			 "created_ms", (json_int_t)p->created_ms, "updated_ms",
			 (json_int_t)p->updated_ms);
}

static int refuse(struct anfu_req *req, const char *code)
{
	return anfu_req_fail(req, ANFU_ECONFLICT, code, NULL);
}

static int body_of(struct anfu_resp *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body;
	return body ? 0 : ANFU_EINTERNAL;
}

/* ---- cards --------------------------------------------------------------- */

struct card_body {
	struct anfu_str card_number, holder_name, id_number;
};

static const struct anfu_jfield card_fields[] = {
	{ "card_number", ANFU_JT_STRING, offsetof(struct card_body, card_number), true, 12, 19,
	  card_ok },
	{ "holder_name", ANFU_JT_STRING, offsetof(struct card_body, holder_name), true, 1, 64,
	  NULL },
	{ "id_number", ANFU_JT_STRING, offsetof(struct card_body, id_number), true, 18, 18,
	  anfu_valid_resident_id },
};

int anfu_bank_api_card_start(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const struct anfu_actor actor = actor_of(req);
	struct card_body in = { 0 };
	struct anfu_bank_card c;
	const char *refusal = NULL;
	char *number = NULL, *name = NULL, *idno = NULL;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, card_fields, sizeof(card_fields) / sizeof(card_fields[0]), &in);
	if (r == 0)
		r = cstr(req, in.card_number, &number);
	if (r == 0)
		r = cstr(req, in.holder_name, &name);
	if (r == 0)
		r = cstr(req, in.id_number, &idno);
	if (r == 0)
		r = anfu_bank_card_start(b, &actor, number, name, idno, &c, &refusal);
	if (number)
		anfu_wipe(number, strlen(number));
	if (r < 0)
		return r;
	if (refusal)
		return refuse(req, refusal);
	return body_of(resp, 201, card_json(&c));
}

struct code_body {
	struct anfu_str code;
};

static const struct anfu_jfield code_fields[] = {
	{ "code", ANFU_JT_STRING, offsetof(struct code_body, code), true, 6, 6, code_ok },
};

int anfu_bank_api_card_confirm(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const struct anfu_actor actor = actor_of(req);
	struct code_body in = { 0 };
	struct anfu_bank_card c;
	const char *refusal = NULL;
	char *id = NULL, *code = NULL;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_api_path_id(req, "bcd", &id);
	if (r == 0)
		r = anfu_req_json(req, code_fields, 1, &in);
	if (r == 0)
		r = cstr(req, in.code, &code);
	if (r == 0)
		r = anfu_bank_card_confirm(b, &actor, id, code, &c, &refusal);
	if (r < 0)
		return r;
	if (refusal)
		return strcmp(refusal, ANFU_R_NOT_FOUND) == 0
			       ? anfu_req_fail(req, ANFU_ENOTFOUND, refusal, NULL)
			       : refuse(req, refusal);
	return body_of(resp, 200, card_json(&c));
}

int anfu_bank_api_cards(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_card cards[ANFU_BANK_CARDS_MAX];
	json_t *list;
	size_t n = 0;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_bank_cards_list(b, req->actor_id, cards, ANFU_BANK_CARDS_MAX, &n);
	if (r < 0)
		return r;
	list = json_array();
	for (size_t i = 0; list && i < n; i++)
		if (json_array_append_new(list, card_json(&cards[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	if (!list)
		return ANFU_EINTERNAL;
	return body_of(resp, 200, json_pack("{s:o}", "cards", list));
}

int anfu_bank_api_card_unbind(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const struct anfu_actor actor = actor_of(req);
	const char *refusal = NULL;
	char *id = NULL;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_api_path_id(req, "bcd", &id);
	if (r == 0)
		r = anfu_bank_card_unbind(b, &actor, id, &refusal);
	if (r < 0)
		return r;
	if (refusal)
		return strcmp(refusal, ANFU_R_NOT_FOUND) == 0
			       ? anfu_req_fail(req, ANFU_ENOTFOUND, refusal, NULL)
			       : refuse(req, refusal);
	return body_of(resp, 200, json_pack("{s:s,s:s}", "id", id, "state", "unbound"));
}

/* ---- top-ups ------------------------------------------------------------- */

struct topup_body {
	struct anfu_str card_id, currency, client_request_id;
	struct anfu_opt_i64 amount;
};

static bool cny(const char *s, size_t len)
{
	return len == 3 && memcmp(s, "CNY", 3) == 0;
}

static const struct anfu_jfield topup_fields[] = {
	{ "card_id", ANFU_JT_STRING, offsetof(struct topup_body, card_id), true, 1, ANFU_ID_MAX - 1,
	  NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct topup_body, amount), true, 1, INT64_MAX / 4,
	  NULL },
	{ "currency", ANFU_JT_STRING, offsetof(struct topup_body, currency), true, 3, 3, cny },
	{ "client_request_id", ANFU_JT_STRING, offsetof(struct topup_body, client_request_id), true,
	  1, ANFU_BANK_REQ_ID_MAX - 1, request_id_ok },
};

int anfu_bank_api_topup(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const struct anfu_actor actor = actor_of(req);
	struct topup_body in = { 0 };
	struct anfu_bank_payment p;
	const char *refusal = NULL;
	char *card = NULL, *rid = NULL;
	bool existed = false;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, topup_fields, sizeof(topup_fields) / sizeof(topup_fields[0]), &in);
	if (r == 0)
		r = cstr(req, in.card_id, &card);
	if (r == 0)
		r = cstr(req, in.client_request_id, &rid);
	if (r < 0)
		return r;
	if (!anfu_id_valid("bcd", card, strlen(card)))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, "card_id");
	r = anfu_bank_topup(b, &actor, card, in.amount.v, rid, &p, &existed, &refusal);
	if (r < 0)
		return r;
	if (refusal)
		return strcmp(refusal, ANFU_R_NOT_FOUND) == 0
			       ? anfu_req_fail(req, ANFU_ENOTFOUND, refusal, "card_id")
		       : strcmp(refusal, ANFU_R_BANK_UNAVAILABLE) == 0
			       ? anfu_req_fail(req, ANFU_EOVERLOAD, refusal, NULL)
			       : refuse(req, refusal);
	return body_of(resp, existed ? 200 : 201, payment_json(&p));
}

int anfu_bank_api_get_own(struct anfu_req *req, struct anfu_resp *resp, const char *prefix,
			  anfu_bank_api_read_fn read)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	json_t *body = NULL;
	char *id = NULL;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_api_path_id(req, prefix, &id);
	if (r == 0)
		r = read(b, req->actor_id, id, &body);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	return body_of(resp, 200, body);
}

static int payment_read(struct anfu_bank *b, const char *user_id, const char *id, json_t **ret)
{
	struct anfu_bank_payment p;
	int r = anfu_bank_payment_get(b, user_id, id, &p);

	if (r == 0)
		*ret = payment_json(&p);
	return r;
}

int anfu_bank_api_topup_get(struct anfu_req *req, struct anfu_resp *resp)
{
	return anfu_bank_api_get_own(req, resp, "bpy", payment_read);
}

int anfu_bank_api_topups(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_payment *list = NULL;
	json_t *arr = NULL;
	size_t n = 0;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	list = anfu_xcalloc(ANFU_BANK_PAYMENTS_MAX, sizeof(*list));
	r = anfu_bank_payments_list(b, req->actor_id, list, ANFU_BANK_PAYMENTS_MAX, &n);
	if (r == 0) {
		arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			if (json_array_append_new(arr, payment_json(&list[i])) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		r = arr ? body_of(resp, 200, json_pack("{s:o}", "topups", arr)) : ANFU_EINTERNAL;
	}
	free(list);
	return r;
}

/* ---- the bank's callback ------------------------------------------------- */

int anfu_bank_api_callback(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_str bank = anfu_req_param(req, "bank_id");
	struct anfu_bank_callback_msg m = { 0 };
	const char *refusal = NULL;
	char *bank_id = NULL;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	if (!bank.ptr || bank.len >= ANFU_BANK_ID_MAX)
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	r = anfu_arena_strndup(req->arena, bank.ptr, bank.len, &bank_id);
	if (r < 0)
		return r;
	m.bank_id = bank_id;
	m.method = req->method;
	m.path = req->path;
	m.timestamp = anfu_req_header(req, ANFU_BANK_H_TIMESTAMP);
	m.nonce = anfu_req_header(req, ANFU_BANK_H_NONCE);
	m.signature = anfu_req_header(req, ANFU_BANK_H_SIGNATURE);
	m.body = req->body ? req->body : "";
	m.body_len = req->body_len;
	r = anfu_bank_callback(b, &m, &refusal);
	if (r < 0)
		return r;
	if (refusal) {
		if (strcmp(refusal, ANFU_R_BANK_SIGNATURE_INVALID) == 0)
			return anfu_req_fail(req, ANFU_EAUTH, refusal, NULL);
		if (strcmp(refusal, ANFU_R_NOT_FOUND) == 0)
			return anfu_req_fail(req, ANFU_ENOTFOUND, refusal, NULL);
		if (strcmp(refusal, ANFU_R_INVALID_REQUEST) == 0)
			return anfu_req_fail(req, ANFU_EINVAL, refusal, NULL);
		return refuse(req, refusal);
	}
	return body_of(resp, 200, json_pack("{s:b}", "received", 1));
}

#ifdef ANFU_TEST_HOOKS
/* Runs the bank.query job's work now (tests move the clock, then call it). */
int anfu_bank_api_test_query(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_query_report rep;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	r = anfu_bank_query_due(b, &rep);
	if (r < 0)
		return r;
	return body_of(resp, 200,
		       json_pack("{s:I,s:I,s:I}", "queried", (json_int_t)rep.queried, "resolved",
				 (json_int_t)rep.resolved, "unanswered",
				 (json_int_t)rep.unanswered));
}

/* Runs the bank.withdraw_send job's work now (tests move the clock, then
 * call it): {"due": n, "sent": n}. */
int anfu_bank_api_test_withdraw_send(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_send_report rep;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	r = anfu_bank_withdraw_send_due(b, &rep);
	if (r < 0)
		return r;
	return body_of(
		resp, 200,
		json_pack("{s:I,s:I}", "due", (json_int_t)rep.due, "sent", (json_int_t)rep.sent));
}
#endif
