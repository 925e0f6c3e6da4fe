/*
 * pay/api/common: what the pay module's handlers share: the service, the
 * audit actor, and (test-hooks builds) the expiry hook.
 */
#include <stddef.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/err.h"
#include "http/http.h"
#include "pay/api/module.h"
#include "pay/pay.h"

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
