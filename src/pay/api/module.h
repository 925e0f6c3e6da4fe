/*
 * pay/api/module: the pay module's descriptor (api/module.h), for the
 * module list (src/app/), and its handlers.
 */
#ifndef ANFU_PAY_API_MODULE_H
#define ANFU_PAY_API_MODULE_H

#include "api/module.h"
#include "base/json.h"

extern const struct anfu_module anfu_pay_module;

struct anfu_req;
struct anfu_resp;
struct anfu_actor;
struct anfu_pay_line;
struct anfu_pay_order;
struct anfu_pay_order_req;

/* common.c: what the handlers share */
struct anfu_pay *anfu_pay_api_service(struct anfu_req *req);
/* The audit actor of req (strings borrowed from req). */
void anfu_pay_api_actor(const struct anfu_req *req, struct anfu_actor *a);

/* merchants.c: operators' routes, /admin/v1/merchants */
int anfu_pay_api_merchant_create(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchants(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_patch(struct anfu_req *req, struct anfu_resp *resp);

/* orders.c: merchant users' routes, /api/v1/merchant/orders */
int anfu_pay_api_order_create(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_orders(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_order_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_order_cancel(struct anfu_req *req, struct anfu_resp *resp);

/* customer.c: customers' routes, /api/v1/me/orders */
int anfu_pay_api_me_order(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_pay(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_cancel(struct anfu_req *req, struct anfu_resp *resp);

/* orders.c, shared with paycode.c and agreements.c: the body as JSON
 * (text rule applied; the caller decrefs), an order's fields decoded from
 * it (or the request's failure), an order as its merchant sees it. */
int anfu_pay_api_body(struct anfu_req *req, json_t **ret);
int anfu_pay_api_order_decode(struct anfu_req *req, json_t *root, struct anfu_pay_order_req *q,
			      struct anfu_pay_line *lines);
json_t *anfu_pay_api_order_json(const struct anfu_pay_order *o);

/* paycode.c: payment codes (docs/payments.md, "Payment code") */
int anfu_pay_api_me_paycode(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_paycode_pending(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_paycode_collect(struct anfu_req *req, struct anfu_resp *resp);

/* agreements.c: agreements (docs/payments.md, "Agreement payment") */
int anfu_pay_api_me_agreement_sign(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_agreements(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_agreement_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_agreement_revoke(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_agreement_debit(struct anfu_req *req, struct anfu_resp *resp);

#ifdef ANFU_TEST_HOOKS
/* POST /test/v1/pay/expire: one expiry run now. */
int anfu_pay_api_test_expire(struct anfu_req *req, struct anfu_resp *resp);
#endif

#endif
