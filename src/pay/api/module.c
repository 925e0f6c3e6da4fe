/*
 * pay/api/module: the pay module's descriptor: its migrations, its
 * options ([pay]), the service (made on the ledger's, iam's and the
 * wallet's, which come before it in the module list; it opens the
 * platform's fee and escrow accounts), its routes, its expiry job and, in
 * test-hooks builds, its test hook (docs/payments.md).
 *
 * Trusts the app core to call start once, after the ledger's and the
 * wallet's starts, and stop before theirs.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/module.h"
#include "audit/audit.h"
#include "base/err.h"
#include "bank/bank.h"
#include "base/log.h"
#include "dispute/dispute.h"
#include "http/http.h"
#include "iam/iam.h"
#include "jobs/jobs.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "receipt/receipt.h"

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

/* The started service of the module named name. */
static void *service_named(const struct anfu_app *app, const char *name)
{
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, name) == 0)
			return app->services ? app->services[i] : NULL;
	return NULL;
}

static int pay_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_pay_deps d = {
		.cfg = config,
		.ledger = service_named(app, "ledger"),
		.tx = app->tx,
		.iam = app->iam,
		.wallet = service_named(app, "wallet"),
	};
	struct anfu_pay *p = NULL;
	int r = anfu_pay_new(&d, &p);

	if (r == 0)
		r = anfu_pay_open_platform(p, &system_actor);
	/* Payments' receipts (the receipt module is earlier in the list). */
	if (r == 0)
		r = service_named(app, "receipt")
			    ? anfu_receipt_register(service_named(app, "receipt"),
						    ANFU_PAY_RECEIPT_KIND, anfu_pay_receipt_facts,
						    p)
			    : ANFU_EINVAL;

	/* Refunds' receipts (pay/receipt_refund.c; receipt is earlier in the list). */
	if (r == 0 && service_named(app, "receipt"))
		r = anfu_receipt_register(service_named(app, "receipt"),
					  ANFU_PAY_REFUND_RECEIPT_KIND,
					  anfu_pay_refund_receipt_facts, NULL);
	/* Refunds to a bound card: the bank channel (bank is earlier in the list). */
	if (r == 0)
		anfu_pay_set_bank(p, anfu_bank_of_service(service_named(app, "bank")));
	/* Orders are dispute subjects (kind "order"; pay/dispute.c). */
	if (r == 0 && service_named(app, "dispute"))
		r = anfu_pay_dispute_register(p,
					      anfu_dispute_api_of(service_named(app, "dispute")));
	if (r < 0) {
		anfu_log_error("pay.start",
			       "pay not started (%s): the ledger, iam and the wallet first; "
			       "escrow_days_min <= escrow_days_default <= escrow_days_max, "
			       "order_ttl_default_s <= order_ttl_max_s",
			       anfu_strerror(r));
		anfu_pay_free(p);
		return r;
	}
	*ret_svc = p;
	return 0;
}

static void pay_stop(void *svc)
{
	anfu_pay_free(svc);
}

/* "pay.expire": orders whose expiry passed, closed every [pay]
 * expire_interval_s (1 s by default). */
static int expire_job(void *ud, struct anfu_db *db, const char **result)
{
	struct anfu_pay_expiry_report rep = { 0 };
	int r = anfu_pay_expire_due(ud, &rep);

	(void)db;
	if (result)
		*result = r < 0 ? "failed" : rep.closed ? "closed" : "ok";
	return r;
}

/* "pay.escrow_release": escrow orders whose release deadline passed,
 * released to their merchants (pay/escrow.c), as often as pay.expire. */
static int release_job(void *ud, struct anfu_db *db, const char **result)
{
	struct anfu_pay_release_report rep = { 0 };
	int r = anfu_pay_escrow_release_due(ud, &rep);

	(void)db;
	if (result)
		*result = r < 0 ? "failed" : rep.released ? "released" : "ok";
	return r;
}

/* "pay.refund_retry": refunds waiting for the merchant's funds, executed
 * again every [pay] refund_retry_interval_s. */
static int refund_retry_job(void *ud, struct anfu_db *db, const char **result)
{
	int64_t done = 0;
	int r = anfu_pay_refund_retry_due(ud, &done);

	(void)db;
	if (result)
		*result = r < 0 ? "failed" : done ? "refunded" : "ok";
	return r;
}

static const struct anfu_job_def jobs[] = {
	{ "pay.expire", 1000, 1000, anfu_pay_expire_interval, expire_job },
	{ "pay.escrow_release", 1000, 1000, anfu_pay_release_interval, release_job },
	{ "pay.refund_retry", 1000, 1000, anfu_pay_refund_retry_interval, refund_retry_job },
};
static const struct anfu_job_table job_table = { jobs, sizeof(jobs) / sizeof(jobs[0]) };

#define SES ANFU_ACCESS_SESSION
#define ADM ANFU_ACCESS_ADMIN
static const struct anfu_route routes[] = {
	{ "POST", "/admin/v1/merchants", ADM, "pay.merchant.manage", anfu_pay_api_merchant_create,
	  0 },
	{ "GET", "/admin/v1/merchants", ADM, "pay.merchant.read", anfu_pay_api_merchants, 0 },
	{ "GET", "/admin/v1/merchants/{merchant_id}", ADM, "pay.merchant.read",
	  anfu_pay_api_merchant_get, 0 },
	{ "PATCH", "/admin/v1/merchants/{merchant_id}", ADM, "pay.merchant.manage",
	  anfu_pay_api_merchant_patch, 0 },
	{ "POST", "/api/v1/merchant/orders", SES, "pay.order.create", anfu_pay_api_order_create,
	  0 },
	{ "GET", "/api/v1/merchant/orders", SES, "pay.order.read", anfu_pay_api_orders, 0 },
	{ "GET", "/api/v1/merchant/orders/{id}", SES, "pay.order.read", anfu_pay_api_order_get, 0 },
	{ "POST", "/api/v1/merchant/orders/{id}/cancel", SES, "pay.order.cancel",
	  anfu_pay_api_order_cancel, 0 },
	{ "GET", "/api/v1/me/orders", SES, ANFU_PERM_SESSION, anfu_pay_api_me_orders, 0 },
	{ "GET", "/api/v1/me/orders/{id}", SES, ANFU_PERM_SESSION, anfu_pay_api_me_order, 0 },
	{ "POST", "/api/v1/me/orders/{id}/pay", SES, ANFU_PERM_SESSION, anfu_pay_api_me_pay, 0 },
	{ "POST", "/api/v1/me/orders/{id}/cancel", SES, ANFU_PERM_SESSION, anfu_pay_api_me_cancel,
	  0 },
	/* The hosted cashier page (cashier.c): public, it looks for the
	 * session itself and sends a browser without one to the login page. */
	{ "GET", "/pay/{id}", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, anfu_pay_api_cashier_page, 0 },

	/* history and download, merchants' receipts (api/history.c) */
	{ "GET", "/api/v1/me/payments", SES, ANFU_PERM_SESSION, anfu_pay_api_me_payments, 0 },
	{ "GET", "/api/v1/merchant/transactions", SES, "pay.order.read",
	  anfu_pay_api_merchant_transactions, 0 },
	/* a merchant's balance and its history (api/statement.c) */
	{ "GET", "/api/v1/merchant/balance", SES, "pay.order.read", anfu_pay_api_merchant_balance,
	  0 },
	{ "GET", "/api/v1/merchant/statement", SES, "pay.order.read",
	  anfu_pay_api_merchant_statement, 0 },
	{ "GET", "/admin/v1/transactions", ADM, "pay.transaction.read",
	  anfu_pay_api_admin_transactions, 0 },
	{ "GET", "/api/v1/merchant/receipts/{kind}/{ref}", SES, "pay.order.read",
	  anfu_pay_api_merchant_receipt, 0 },

	/* refunds (api/refunds.c) */
	{ "POST", "/api/v1/merchant/orders/{id}/refunds", SES, "pay.refund.create",
	  anfu_pay_api_refund_create, 0 },
	{ "POST", "/api/v1/merchant/refund-batches", SES, "pay.refund.create",
	  anfu_pay_api_refund_batch, 0 },
	{ "GET", "/api/v1/merchant/refunds/{id}", SES, "pay.refund.read", anfu_pay_api_refund_get,
	  0 },
	{ "POST", "/api/v1/merchant/refunds/{id}/accept", SES, "pay.refund.create",
	  anfu_pay_api_refund_accept, 0 },
	{ "POST", "/api/v1/merchant/refunds/{id}/decline", SES, "pay.refund.create",
	  anfu_pay_api_refund_decline, 0 },
	{ "POST", "/api/v1/me/orders/{id}/refund-requests", SES, ANFU_PERM_SESSION,
	  anfu_pay_api_me_refund_request, 0 },
	{ "POST", "/admin/v1/refunds/{id}/approve", ADM, "pay.refund.review",
	  anfu_pay_api_refund_approve, 0 },
	{ "POST", "/admin/v1/refunds/{id}/reject", ADM, "pay.refund.review",
	  anfu_pay_api_refund_reject, 0 },
	{ "POST", "/admin/v1/refunds/{id}/card", ADM, "pay.refund.review",
	  anfu_pay_api_refund_choose_card, 0 },
	{ "POST", "/admin/v1/refunds/{id}/resend", ADM, "pay.refund.review",
	  anfu_pay_api_refund_resend, 0 },

	/* Payment codes (pay/api/paycode.c). */
	{ "POST", "/api/v1/me/paycode", SES, ANFU_PERM_SESSION, anfu_pay_api_me_paycode, 0 },
	{ "GET", "/api/v1/me/paycode/pending", SES, ANFU_PERM_SESSION,
	  anfu_pay_api_me_paycode_pending, 0 },
	{ "POST", "/api/v1/merchant/paycode-payments", SES, "pay.paycode.collect",
	  anfu_pay_api_paycode_collect, 0 },
	/* Agreements (pay/api/agreements.c). */
	{ "POST", "/api/v1/me/agreements", SES, ANFU_PERM_SESSION, anfu_pay_api_me_agreement_sign,
	  0 },
	{ "GET", "/api/v1/me/agreements", SES, ANFU_PERM_SESSION, anfu_pay_api_me_agreements, 0 },
	{ "GET", "/api/v1/me/agreements/{id}", SES, ANFU_PERM_SESSION,
	  anfu_pay_api_me_agreement_get, 0 },
	{ "POST", "/api/v1/me/agreements/{id}/revoke", SES, ANFU_PERM_SESSION,
	  anfu_pay_api_me_agreement_revoke, 0 },
	{ "POST", "/api/v1/merchant/agreement-debits", SES, "pay.agreement.debit",
	  anfu_pay_api_agreement_debit, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/test/v1/pay/expire", ANFU_ACCESS_PUBLIC, "test.hooks", anfu_pay_api_test_expire,
	  0 },
	{ "POST", "/test/v1/pay/refund-retry", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_pay_api_test_refund_retry, 0 },
#endif
	/* escrow (pay/api/escrow.c) */
	{ "POST", "/api/v1/me/orders/{id}/confirm-receipt", SES, ANFU_PERM_SESSION,
	  anfu_pay_api_me_confirm_receipt, 0 },
	/* pay-on-behalf (pay/api/behalf.c) */
	{ "POST", "/api/v1/me/orders/{id}/share", SES, ANFU_PERM_SESSION, anfu_pay_api_me_share,
	  0 },
	{ "GET", "/api/v1/me/shared-orders/{id}", SES, ANFU_PERM_SESSION, anfu_pay_api_shared_get,
	  0 },
	{ "POST", "/api/v1/me/shared-orders/{id}/pay", SES, ANFU_PERM_SESSION,
	  anfu_pay_api_shared_pay, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/test/v1/pay/escrow-release", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_pay_api_test_escrow_release, 0 },
#endif
	/* lists of refunds (api/refund_list.c) */
	{ "GET", "/api/v1/merchant/refunds", SES, "pay.refund.read", anfu_pay_api_merchant_refunds,
	  0 },
	{ "GET", "/admin/v1/refunds", ADM, "pay.refund.list", anfu_pay_api_admin_refunds, 0 },
	{ "GET", "/api/v1/me/refunds", SES, ANFU_PERM_SESSION, anfu_pay_api_me_refunds, 0 },
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_pay_module = {
	.name = "pay",
	.migrations = &anfu_pay_migrations,
	.config = &anfu_pay_config_table,
	.start = pay_start,
	.stop = pay_stop,
	.routes = &route_table,
	.jobs = &job_table,
};
