/*
 * pay/api/module: the pay module's descriptor (api/module.h), for the
 * module list (src/app/), and its handlers.
 */
#ifndef ANFU_PAY_API_MODULE_H
#define ANFU_PAY_API_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/module.h"
#include "base/json.h"
#include "base/rand.h"

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
/* Pays order id (share_token: through a pay-on-behalf link, else NULL). */
int anfu_pay_api_pay_order(struct anfu_req *req, struct anfu_resp *resp, const char *id,
			   const char *share_token);

/* history.c: transaction history, its CSV download, merchants' receipts */
int anfu_pay_api_me_payments(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_transactions(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_admin_transactions(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_receipt(struct anfu_req *req, struct anfu_resp *resp);

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

/* cashier.c: the hosted cashier page GET /pay/{id} (docs/payments.md,
 * "Cashier page"), and the keypad entry of the pay route: takes keypad
 * keypad_id of the session's user in a transaction of its own (single
 * use) and writes the digits of positions into pin (cap bytes). Returns 0,
 * or the keypad's refusal already failed on req (keypad_not_found,
 * keypad_used, keypad_expired, keypad_positions_invalid; pin wiped). */
int anfu_pay_api_cashier_page(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_keypad_pin(struct anfu_req *req, const char *keypad_id, const char *positions,
			    char *pin, size_t cap);

/* escrow.c: escrow (customers' confirm-receipt) and its test hooks */
struct anfu_pay_escrow;
json_t *anfu_pay_api_escrow_json(const struct anfu_pay_escrow *e);
int anfu_pay_api_me_confirm_receipt(struct anfu_req *req, struct anfu_resp *resp);
/* behalf.c: pay-on-behalf */
int anfu_pay_api_me_share(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_shared_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_shared_pay(struct anfu_req *req, struct anfu_resp *resp);
#ifdef ANFU_TEST_HOOKS
int anfu_pay_api_test_escrow_release(struct anfu_req *req, struct anfu_resp *resp);
#endif

/* refunds.c: refunds (merchant users and operators) */
int anfu_pay_api_refund_create(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_batch(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_accept(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_decline(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_refund_request(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_approve(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_reject(struct anfu_req *req, struct anfu_resp *resp);
#ifdef ANFU_TEST_HOOKS
/* POST /test/v1/pay/refund-retry: one run of pay.refund_retry now. */
int anfu_pay_api_test_refund_retry(struct anfu_req *req, struct anfu_resp *resp);
#endif

/* history.c: the cursors and query parameters of the lists (also
 * refund_list.c's). A cursor is "<ms>.<id>.<mac>", the MAC (purpose
 * "pay.history") over scope and the position. */
#define ANFU_PAY_API_CURSOR_MAX (24 + ANFU_ID_MAX + 32 + 4)
/* (ms, id) of cursor c when its MAC is ours for scope; ANFU_EINVAL else. */
int anfu_pay_api_cursor_parse(const struct anfu_req *req, const char *scope, const char *c,
			      int64_t *ret_ms, char id[ANFU_ID_MAX]);
/* The cursor of position (ms, id) in scope. */
int anfu_pay_api_cursor_make(const struct anfu_req *req, const char *scope, int64_t ms,
			     const char *id, char out[ANFU_PAY_API_CURSOR_MAX]);
/* Query parameter name, when present, as a ms value >= 0 (false: bad). */
bool anfu_pay_api_ms_param(const struct anfu_req *req, const char *name, int64_t *ret);
/* ... as an id ([A-Za-z0-9_.-], 1..ANFU_ID_MAX-1 bytes; false: bad). */
bool anfu_pay_api_id_param(const struct anfu_req *req, const char *name, const char **ret);

/* refunds.c: a refund's JSON (the refund routes' body). */
struct anfu_pay_refund;
json_t *anfu_pay_api_refund_json(const struct anfu_pay_refund *x);
/* refund_list.c: lists of refunds (merchants, operators, customers) */
int anfu_pay_api_merchant_refunds(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_admin_refunds(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_refunds(struct anfu_req *req, struct anfu_resp *resp);

#endif
