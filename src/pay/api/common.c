/*
 * pay/api/common: what the pay module's handlers share: the service, the
 * audit actor, the principal's kind, a refusal's status, the payment PIN,
 * the lists' page query, and (test-hooks builds) the expiry hook.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

struct anfu_pay *anfu_pay_api_service(struct anfu_req *req)
{
	return anfu_api_service(req->app, &anfu_pay_module);
}

void anfu_pay_api_actor(const struct anfu_req *req, struct anfu_actor *a)
{
	const char *dev = anfu_req_header(req, "X-Device-Id");

	*a = (struct anfu_actor){
		.id = req->actor_id ? req->actor_id : "",
		.type = req->actor_type ? req->actor_type : "anonymous",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = dev ? dev : "",
		.request_id = req->request_id,
	};
}

const struct anfu_principal *anfu_pay_api_customer(const struct anfu_req *req)
{
	const struct anfu_principal *p = req->principal;

	return p && p->kind == ANFU_USER_CUSTOMER ? p : NULL;
}

const struct anfu_principal *anfu_pay_api_merchant_user(const struct anfu_req *req)
{
	const struct anfu_principal *p = req->principal;

	return p && p->kind == ANFU_USER_MERCHANT && p->merchant_id[0] ? p : NULL;
}

int anfu_pay_api_who(struct anfu_req *req, bool merchant, struct anfu_pay **ret_p,
		     const struct anfu_principal **ret_pr)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr =
		merchant ? anfu_pay_api_merchant_user(req) : anfu_pay_api_customer(req);

	if (!p)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	*ret_p = p;
	*ret_pr = pr;
	return 0;
}

int anfu_pay_api_reader(struct anfu_req *req, bool merchant, const struct anfu_principal **ret_pr,
			struct anfu_db **ret_db)
{
	const struct anfu_principal *pr =
		merchant ? anfu_pay_api_merchant_user(req) : anfu_pay_api_customer(req);
	int r;

	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_store_db(((struct anfu_app *)req->app)->store, ret_db);
	if (r == 0)
		*ret_pr = pr;
	return r;
}

int anfu_pay_api_refuse(struct anfu_req *req, const char *code, const char *field,
			const char *not_found, const char *not_found2)
{
	bool nf = (not_found && strcmp(code, not_found) == 0) ||
		  (not_found2 && strcmp(code, not_found2) == 0);

	return anfu_req_fail(req, nf ? ANFU_ENOTFOUND : ANFU_ECONFLICT, code, field);
}

int anfu_pay_api_pin(struct anfu_req *req, struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *pr, const char *pin,
		     struct anfu_iam_pin_ok *ret_ok)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	int r;

	anfu_api_ctx(req, ctx);
	/* The PIN first: its failures count and lock (iam, IAM-LOCK-03). */
	r = anfu_iam_verify_payment_password_deferred(app->iam, ctx, pr, pin, ret_ok, &e);
	if (r < 0)
		return e.code ? anfu_req_fail(req, r, e.code, e.field) : r;
	return 0;
}

int anfu_pay_api_cancel(struct anfu_req *req, bool merchant, const struct anfu_principal **ret_pr,
			struct anfu_pay_order **ret_o, const char **ret_code)
{
	struct anfu_pay *p = NULL;
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_order *o = NULL;
	struct anfu_actor actor;
	char *id = NULL;
	int r = anfu_pay_api_who(req, merchant, &p, &pr);

	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*o), (void **)&o);
	if (r == 0)
		r = anfu_api_path_id(req, "ord", &id);
	if (r < 0)
		return r;
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_order_cancel(p, &actor, merchant ? pr->merchant_id : NULL, id, o, ret_code);
	if (r == 0) {
		*ret_pr = pr;
		*ret_o = o;
	}
	return r;
}

int anfu_pay_api_page_query(struct anfu_req *req, const struct anfu_pay_api_page_rules *rules,
			    struct anfu_pay_api_page *ret)
{
	const char *lim = anfu_req_query(req, "limit");
	const char *cursor = anfu_req_query(req, "cursor");
	const char *bad = NULL, *code = ANFU_JERR_INVALID_FIELD;
	struct anfu_pay_api_page pg;
	long long limit = rules->limit_default;
	int e = 0;

	memset(&pg, 0, sizeof(pg));
	pg.status = anfu_req_query(req, "status");
	if (lim &&
	    (anfu_parse_i64(anfu_str_c(lim), &limit) < 0 || limit < 1 || limit > rules->limit_max))
		bad = "limit", code = ANFU_JERR_OUT_OF_RANGE;
	if (!bad && !anfu_pay_api_ms_param(req, "from", &pg.from_ms))
		bad = "from";
	if (!bad && !anfu_pay_api_ms_param(req, "to", &pg.to_ms))
		bad = "to";
	if (!bad && rules->filters)
		bad = rules->filters(req, pg.status, rules->ud, &e);
	if (e < 0)
		return e;
	/* A list that takes no cursor (the CSV download) refuses one. */
	if (!bad && cursor &&
	    (!rules->scope ||
	     anfu_pay_api_cursor_parse(req, rules->scope, cursor, &pg.after_ms, pg.after_buf) < 0))
		bad = "cursor";
	if (bad)
		return anfu_req_fail(req, ANFU_EINVAL, code, bad);
	pg.limit = (size_t)limit;
	*ret = pg;
	ret->after_id = cursor ? ret->after_buf : NULL;
	return 0;
}

#ifdef ANFU_TEST_HOOKS
int anfu_pay_api_test_expire(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_expiry_report rep = { 0 };
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_pay_expire_due(p, &rep);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:I}", "closed", (json_int_t)rep.closed);
	return resp->body ? 0 : ANFU_EINTERNAL;
}
#endif
