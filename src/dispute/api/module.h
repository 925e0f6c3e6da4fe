/*
 * dispute/api/module: the dispute module's descriptor (api/module.h), for
 * the module list (src/app/) and the module's own handlers.
 */
#ifndef ANFU_DISPUTE_API_MODULE_H
#define ANFU_DISPUTE_API_MODULE_H

#include "api/module.h"
#include "http/http.h"

extern const struct anfu_module anfu_dispute_module;

struct anfu_disputes;
struct dispute_test_provider;

/* The service of a handler's request (the module's). */
struct anfu_disputes *anfu_dispute_api_service(const struct anfu_req *req);

/* handlers.c: customers, merchant users, operators. */
int anfu_dispute_api_lodge(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_mine(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_mine_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_confirm(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_withdraw(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_message(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_reopen(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_merchant_list(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_merchant_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_admin_list(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_admin_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_take(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_resolve(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_admin_message(struct anfu_req *req, struct anfu_resp *resp);

#ifdef ANFU_TEST_HOOKS
/* testhooks.c: the "test" kind of subject, its refunds, the job. */
int dispute_test_provider_new(struct anfu_disputes *d, struct dispute_test_provider **ret);
void dispute_test_provider_free(struct dispute_test_provider *tp);
struct dispute_test_provider *anfu_dispute_api_test_provider(const struct anfu_req *req);
int anfu_dispute_api_test_subject(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_test_refunds(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_test_notices(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_test_refund_fail(struct anfu_req *req, struct anfu_resp *resp);
int anfu_dispute_api_test_deadlines(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
