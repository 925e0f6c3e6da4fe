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
#include "audit/audit.h"
#include "base/json.h"
#include "base/rand.h"
#include "pay/pay.h"

extern const struct anfu_module anfu_pay_module;

struct anfu_req;
struct anfu_resp;
struct anfu_actor;
struct anfu_pay_line;
struct anfu_pay_order;
struct anfu_pay_order_req;
struct anfu_principal;
struct anfu_iam_ctx;
struct anfu_iam_pin_ok;
struct anfu_db;

/* common.c: what the handlers share */
struct anfu_pay *anfu_pay_api_service(struct anfu_req *req);
/* The audit actor of req (strings borrowed from req). */
void anfu_pay_api_actor(const struct anfu_req *req, struct anfu_actor *a);
/* The session's principal when it is a customer, else NULL. */
const struct anfu_principal *anfu_pay_api_customer(const struct anfu_req *req);
/* The session's principal when it is a user of a merchant, else NULL. */
const struct anfu_principal *anfu_pay_api_merchant_user(const struct anfu_req *req);
/* The service and the session's principal (merchant: a user of a
 * merchant, else a customer): 0 with *ret_p and *ret_pr, ANFU_EINTERNAL
 * without the service, or the request's 403 forbidden. */
int anfu_pay_api_who(struct anfu_req *req, bool merchant, struct anfu_pay **ret_p,
		     const struct anfu_principal **ret_pr);
/* A read route's session principal (merchant: a user of a merchant, else
 * a customer) and the store's connection of this thread: 0 with *ret_pr
 * and *ret_db, the request's 403 forbidden, or an error. */
int anfu_pay_api_reader(struct anfu_req *req, bool merchant, const struct anfu_principal **ret_pr,
			struct anfu_db **ret_db);
/* Fails req with the service's refusal code (field may be NULL): returns
 * ANFU_ENOTFOUND when code is not_found or not_found2 (either may be
 * NULL), else ANFU_ECONFLICT. (The answer's status is the code's row of
 * the error table, src/http/errors.c: 404 for the not-found codes.) */
int anfu_pay_api_refuse(struct anfu_req *req, const char *code, const char *field,
			const char *not_found, const char *not_found2);
/* Checks pr's payment PIN with iam, deferred (its failures count and
 * lock): 0 with *ret_ok set (ctx filled from req; both must outlive
 * *ret_ok), or iam's refusal failed on req, or an error. */
int anfu_pay_api_pin(struct anfu_req *req, struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *pr, const char *pin,
		     struct anfu_iam_pin_ok *ret_ok);
/* Cancels the path's order {id} for the session's principal (merchant: a
 * user of a merchant, its own merchant's orders only; else a customer):
 * 0 with *ret_pr, *ret_o (the request's arena) and *ret_code (the
 * service's refusal or NULL), or as anfu_pay_api_who(), or an error. */
int anfu_pay_api_cancel(struct anfu_req *req, bool merchant, const struct anfu_principal **ret_pr,
			struct anfu_pay_order **ret_o, const char **ret_code);

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
/* The orders the customer paid or shared, a page with a cursor. */
int anfu_pay_api_me_orders(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_pay(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_cancel(struct anfu_req *req, struct anfu_resp *resp);
/* Pays order id (share_token: through a pay-on-behalf link, else NULL). */
int anfu_pay_api_pay_order(struct anfu_req *req, struct anfu_resp *resp, const char *id,
			   const char *share_token);

/* history.c: transaction history, its CSV download, merchants' receipts */
int anfu_pay_api_me_payments(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_transactions(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_balance(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_statement(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_admin_transactions(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_merchant_receipt(struct anfu_req *req, struct anfu_resp *resp);

/* orders.c, shared with paycode.c and agreements.c: the body as JSON
 * (text rule applied; the caller decrefs), an order's fields decoded from
 * it (or the request's failure), an order as its merchant sees it. */
int anfu_pay_api_body(struct anfu_req *req, json_t **ret);
int anfu_pay_api_order_decode(struct anfu_req *req, json_t *root, struct anfu_pay_order_req *q,
			      struct anfu_pay_line *lines);
json_t *anfu_pay_api_order_json(const struct anfu_pay_order *o);
/* A merchant user's request that makes an order, decoded by
 * anfu_pay_api_order_begin(): the service, the principal, the audit actor,
 * the order's fields (q's strings borrowed from root, its lines in the
 * request's arena; q.merchant_id and q.user_id the principal's). The
 * caller decrefs root after the service call. */
struct anfu_pay_api_order_in {
	struct anfu_pay *p;
	const struct anfu_principal *pr;
	struct anfu_actor actor;
	struct anfu_pay_order_req q;
	json_t *root;
};
/* Decodes a merchant user's order-making request into *in (written only
 * on success; buf may be written either way). key NULL: the
 * body is the order's fields. Else the body also has the string field
 * `key` (1 to cap - 1 bytes, copied into buf and taken out of the body)
 * and the route makes an order of kind `kind` (a kind in the body is
 * unknown_field). Returns 0, ANFU_EINTERNAL without the service, or the
 * request's failure: 403 forbidden (no merchant user), 400 missing_field /
 * invalid_field / out_of_range for key, those of the order's fields. */
int anfu_pay_api_order_begin(struct anfu_req *req, const char *key, char *buf, size_t cap,
			     const char *kind, struct anfu_pay_api_order_in *in);
/* Answers with order o as its merchant sees it and "existed": 201, or 200
 * for an order that existed. */
int anfu_pay_api_order_reply(struct anfu_resp *resp, const struct anfu_pay_order *o, bool existed);
/* Ends a merchant user's order-making request after the service call: r
 * its result, code and field its refusal or NULL (failed on req as
 * anfu_pay_api_refuse() does, not_found its not-found code or NULL), id
 * the order it made or found, answered as anfu_pay_api_order_reply()
 * does. */
int anfu_pay_api_order_end(struct anfu_req *req, struct anfu_resp *resp, int r, const char *code,
			   const char *field, const char *not_found, const char *id, bool existed);

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
int anfu_pay_api_refund_choose_card(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_refund_resend(struct anfu_req *req, struct anfu_resp *resp);
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

/* common.c: the page query every list takes (the history's, the refund
 * lists', the customer's orders'): limit, from, to, the list's filters
 * (status among them), cursor. */
#define ANFU_PAY_API_PAGE_DEFAULT 20 /* rows of a page when the query names no limit */

struct anfu_pay_api_page {
	int64_t from_ms, to_ms; /* 0 when absent */
	const char *status;	/* the query's, NULL when absent */
	int64_t after_ms;	/* the cursor's position, with after_id */
	const char *after_id;	/* NULL: the first page; else into after_buf */
	size_t limit;
	char after_buf[ANFU_ID_MAX];
};

struct anfu_pay_api_page_rules {
	const char *scope; /* what the cursors' MAC binds; NULL: no cursor taken */
	long long limit_default, limit_max;
	/* The list's own filters, checked after to and before the cursor, in
	 * the list's order: status (the query's, NULL when absent) and any
	 * other, written where ud says. Returns the first bad one's field name
	 * or NULL; *ret_err < 0 for a failure that is not the query's. */
	const char *(*filters)(struct anfu_req *req, const char *status, void *ud, int *ret_err);
	void *ud;
};

/* Reads req's page query by rules into *ret (written only on success;
 * ret->after_id points into ret itself): limit 1..limit_max (else
 * field_out_of_range "limit"), from and to ms >= 0, the filters, a cursor
 * MAC'd for scope (else invalid_field naming the first bad one, in that
 * order). Returns 0, ANFU_EINVAL with the refusal answered on req, or the
 * filters' error. */
int anfu_pay_api_page_query(struct anfu_req *req, const struct anfu_pay_api_page_rules *rules,
			    struct anfu_pay_api_page *ret);

/* refunds.c: a refund's JSON (the refund routes' body). */
struct anfu_pay_refund;
json_t *anfu_pay_api_refund_json(const struct anfu_pay_refund *x);
/* ... and as operators see it (with payer_id, approved_by, chosen_card_id,
 * chosen_card); NULL on out-of-memory. */
json_t *anfu_pay_api_refund_operator_json(const struct anfu_pay_refund *x);
/* refund_list.c: lists of refunds (merchants, operators, customers) */
int anfu_pay_api_merchant_refunds(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_admin_refunds(struct anfu_req *req, struct anfu_resp *resp);
int anfu_pay_api_me_refunds(struct anfu_req *req, struct anfu_resp *resp);

#endif
