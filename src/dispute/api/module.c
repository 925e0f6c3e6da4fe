/*
 * dispute/api/module: the dispute module's descriptor: its migration, its
 * options ([dispute]), the service with its providers, its routes
 * (customers, merchant users, operators), its job dispute.deadlines and,
 * in test-hooks builds, the "test" kind of subject and its hooks.
 *
 * The wallet's provider is registered here, at the dispute module's start:
 * the wallet comes before this module in the module list, so at the
 * wallet's start there is no dispute service to register with, and the
 * wallet stays free of any knowledge of disputes (arrows point down:
 * dispute -> wallet). src/wallet/dispute.c answers for a transfer; this
 * file adapts it to struct anfu_dispute_subject_ops. A module listed after
 * this one (pay) registers its own kinds at its start.
 *
 * Trusts the app core to call start once, after the wallet's, and stop
 * after the server and the scheduler stopped.
 */
#include <stdlib.h>

#include "api/api.h"
#include "api/module.h"
#include "base/err.h"
#include "base/log.h"
#include "base/str.h"
#include "dispute/api/module.h"
#include "dispute/dispute.h"
#include "http/http.h"
#include "iam/iam.h"
#include "jobs/jobs.h"
#include "wallet/wallet.h"

struct dispute_module {
	struct anfu_disputes *d;
	struct dispute_test_provider *tp;
};

static int notice(void *ud, struct anfu_tx *tx, const char *user_id, const char *zh, const char *en)
{
	const struct anfu_iam_notice n = { "dispute", "交易纠纷通知", zh, "Dispute notice", en };

	return anfu_iam_notify_user(ud, tx, user_id, &n);
}

/* How a complainant is shown to the other party: the masked real name,
 * else the masked login, as iam masks them (the rule of a wallet
 * transfer's parties in each other's notices). */
static int party_shown(void *ud, const char *user_id, char *out, size_t cap)
{
	struct anfu_iam_party p;
	int r = anfu_iam_party_get(ud, user_id, &p);

	if (r < 0)
		return r;
	if (anfu_strlcpy(out, p.real_name[0] ? p.real_name : p.login, cap) < 0)
		return ANFU_ELIMIT;
	return 0;
}

/* ---- the wallet's transfers (kind "transfer"): payer and payee ---- */

static int transfer_lookup(void *ud, const char *ref, const char *user_id,
			   struct anfu_dispute_subject *ret)
{
	struct anfu_wallet_transfer_facts f;
	struct anfu_dispute_subject s = { { 0 } };
	int r = anfu_wallet_transfer_facts(ud, ref, user_id, &f);

	if (r < 0)
		return r;
	if (anfu_strlcpy(s.customer_id, f.party_id, sizeof(s.customer_id)) < 0 ||
	    anfu_strlcpy(s.counterparty_id, f.counterparty_id, sizeof(s.counterparty_id)) < 0 ||
	    anfu_strlcpy(s.currency, f.currency, sizeof(s.currency)) < 0 ||
	    anfu_strlcpy(s.description, f.description, sizeof(s.description)) < 0)
		return ANFU_EINTERNAL;
	s.amount = f.amount;
	s.time_ms = f.created_ms;
	*ret = s;
	return 0;
}

/* No refund: a transfer between customers is not refunded by the
 * platform (resolutions of a transfer are text only). */
static const struct anfu_dispute_subject_ops transfer_ops = { transfer_lookup, NULL };

static void dispute_stop(void *svc)
{
	struct dispute_module *m = svc;

	if (!m)
		return;
#ifdef ANFU_TEST_HOOKS
	dispute_test_provider_free(m->tp);
#endif
	anfu_disputes_free(m->d);
	free(m);
}

static int dispute_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_dispute_deps deps = { .cfg = config,
						.tx = app->tx,
						.notice = notice,
						.notice_ud = app->iam,
						.shown = party_shown,
						.shown_ud = app->iam };
	struct dispute_module *m = calloc(1, sizeof(*m));
	struct anfu_wallet *w = anfu_api_service_named(app, "wallet");
	int r;

	if (!m)
		return ANFU_EINTERNAL;
	r = app->iam && w ? anfu_disputes_new(&deps, &m->d) : ANFU_EINVAL;
	if (r == 0)
		r = anfu_dispute_register(m->d, "transfer", &transfer_ops, w);
#ifdef ANFU_TEST_HOOKS
	if (r == 0)
		r = dispute_test_provider_new(m->d, &m->tp);
#endif
	if (r < 0) {
		anfu_log_error("dispute.start",
			       "disputes not started (%s): iam and the wallet "
			       "first",
			       anfu_strerror(r));
		dispute_stop(m);
		return r;
	}
	*ret_svc = m;
	return 0;
}

struct anfu_disputes *anfu_dispute_api_of(void *svc)
{
	struct dispute_module *m = svc;

	return m ? m->d : NULL;
}

struct anfu_disputes *anfu_dispute_api_service(const struct anfu_req *req)
{
	struct dispute_module *m = anfu_api_service(req->app, &anfu_dispute_module);

	return m ? m->d : NULL;
}

#ifdef ANFU_TEST_HOOKS
struct dispute_test_provider *anfu_dispute_api_test_provider(const struct anfu_req *req)
{
	struct dispute_module *m = anfu_api_service(req->app, &anfu_dispute_module);

	return m ? m->tp : NULL;
}
#endif

/* "dispute.deadlines": reminders, auto-confirmation, pending refunds,
 * every minute (a deadline is hours or days: a minute late at most). */
static int deadlines_job(void *ud, struct anfu_db *db, const char **result)
{
	struct dispute_module *m = ud;
	struct anfu_dispute_deadline_report rep;
	int r = anfu_dispute_deadlines(m->d, &rep);

	(void)db;
	if (result)
		*result = r < 0 ? "failed"
			  : rep.take_reminders || rep.handle_reminders || rep.auto_confirmed
				  ? "acted"
				  : "ok";
	return r;
}

static const struct anfu_job_def jobs[] = {
	{ "dispute.deadlines", 60000, 60000, NULL, deadlines_job },
};
static const struct anfu_job_table job_table = { jobs, sizeof(jobs) / sizeof(jobs[0]) };

#define S ANFU_ACCESS_SESSION
#define P ANFU_PERM_SESSION
#define A ANFU_ACCESS_ADMIN
static const struct anfu_route routes[] = {
	{ "POST", "/api/v1/me/disputes", S, P, anfu_dispute_api_lodge, 0 },
	{ "GET", "/api/v1/me/disputes", S, P, anfu_dispute_api_mine, 0 },
	{ "GET", "/api/v1/me/disputes/{id}", S, P, anfu_dispute_api_mine_get, 0 },
	{ "POST", "/api/v1/me/disputes/{id}/confirm", S, P, anfu_dispute_api_confirm, 0 },
	{ "POST", "/api/v1/me/disputes/{id}/withdraw", S, P, anfu_dispute_api_withdraw, 0 },
	{ "POST", "/api/v1/me/disputes/{id}/messages", S, P, anfu_dispute_api_message, 0 },
	{ "POST", "/api/v1/me/disputes/{id}/reopen", S, P, anfu_dispute_api_reopen, 0 },
	{ "GET", "/api/v1/merchant/disputes", S, P, anfu_dispute_api_merchant_list, 0 },
	{ "GET", "/api/v1/merchant/disputes/{id}", S, P, anfu_dispute_api_merchant_get, 0 },
	{ "GET", "/admin/v1/disputes", A, "dispute.read", anfu_dispute_api_admin_list, 0 },
	{ "GET", "/admin/v1/disputes/{id}", A, "dispute.read", anfu_dispute_api_admin_get, 0 },
	{ "POST", "/admin/v1/disputes/{id}/take", A, "dispute.handle", anfu_dispute_api_take, 0 },
	{ "POST", "/admin/v1/disputes/{id}/resolve", A, "dispute.handle", anfu_dispute_api_resolve,
	  0 },
	{ "POST", "/admin/v1/disputes/{id}/messages", A, "dispute.handle",
	  anfu_dispute_api_admin_message, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/test/v1/dispute/subjects", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_dispute_api_test_subject, 0 },
	{ "GET", "/test/v1/dispute/refunds", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_dispute_api_test_refunds, 0 },
	{ "GET", "/test/v1/dispute/notices", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_dispute_api_test_notices, 0 },
	{ "POST", "/test/v1/dispute/refund-fail", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_dispute_api_test_refund_fail, 0 },
	{ "POST", "/test/v1/dispute/deadlines", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_dispute_api_test_deadlines, 0 },
#endif
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_dispute_module = {
	.name = "dispute",
	.migrations = &anfu_dispute_migrations,
	.config = &anfu_dispute_config_table,
	.start = dispute_start,
	.stop = dispute_stop,
	.routes = &route_table,
	.jobs = &job_table,
};
