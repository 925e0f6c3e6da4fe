/*
 * bank/api/module: the bank module's descriptor: its migrations, its
 * options ([bank]), the service with its connector (the simulator's when
 * [bank] connector = simulator: refused by a production build unless
 * [server] allow_simulators), its signing key ("bank-client", Ed25519 or
 * SM2 under crypto=gm), the bank's public key, its customer routes, the
 * bank's callback route, its query job.
 *
 * Trusts the app core to call start once, with the platform and the ledger
 * started, and stop after the server and the scheduler stopped.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/module.h"
#include "bank/api/module.h"
#include "bank/bank.h"
#include "bank/recon.h"
#include "base/err.h"
#include "base/log.h"
#include "config/config.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "crypto/crypto.h"
#include "iam/approval.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "ledger/ledger.h"

/* Everything the module made, freed by its stop. */
struct bank_module {
	struct anfu_bank *bank;
	struct anfu_bank_ops *ops;
	struct anfu_named_key *key;
	struct anfu_sigkey *bank_pub;
};

static int identity(void *ud, const char *user_id, struct anfu_bank_identity *ret)
{
	struct anfu_iam_identity id = { 0 };
	int r = anfu_iam_identity(ud, user_id, &id);

	if (r < 0)
		return r;
	ret->real_name = id.real_name;
	ret->id_number = id.id_number;
	ret->phone = id.phone;
	return 0;
}

/* A withdrawal's notice, through iam (the user's channels and language). */
static int notice(void *ud, struct anfu_tx *tx, const char *user_id, const char *kind,
		  const char *zh, const char *en)
{
	const struct anfu_iam_notice n = { kind, "提现通知", zh, "Withdrawal notice", en };

	return anfu_iam_notify_user(ud, tx, user_id, &n);
}

static int sign(void *ud, const void *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	return anfu_keys_named_sign(ud, msg, len, sig, siglen);
}

/* The ledger's service (the module named "ledger", started before this
 * one: it is earlier in the module list). */
static struct anfu_ledger *ledger_of(struct anfu_app *app)
{
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, "ledger") == 0)
			return app->services[i];
	return NULL;
}

static void bank_stop(void *svc)
{
	struct bank_module *m = svc;

	if (!m)
		return;
	anfu_bank_free(m->bank);
	anfu_bank_simconn_free(m->ops);
	anfu_keys_named_free(m->key);
	anfu_sigkey_free(m->bank_pub);
	free(m);
}

/* The simulator's connector, its key and the bank's public key. */
static int connect_simulator(struct anfu_app *app, const struct anfu_bank_config *cfg,
			     struct bank_module *m)
{
	enum anfu_sig_alg alg =
		app->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_SIG_SM2 : ANFU_SIG_ED25519;
	int r;

#ifndef ANFU_TEST_HOOKS
	if (!app->cfg->allow_simulators) {
		anfu_log_error("bank", "[bank] connector = simulator is refused by a production "
				       "build unless [server] allow_simulators = true");
		return ANFU_EPERM;
	}
#endif
	anfu_log_warn("bank", "[bank] connector = simulator: no real bank is reached; never "
			      "use it in production");
	r = anfu_keys_named_open(app->data_dir, "bank-client", alg, &m->key);
	if (r < 0) {
		anfu_log_error("bank", "the bank-client key: %s", anfu_strerror(r));
		return r;
	}
	/* No key file yet (the bank not set up, or `anfu init` before the
	 * simulator ran): no callback is taken (signature_invalid); the query
	 * job still resolves every payment. */
	r = anfu_keys_peer_load(cfg->public_key, &m->bank_pub);
	if (r == ANFU_ENOTFOUND)
		anfu_log_warn("bank",
			      "no bank public key at %s: callbacks are refused until it "
			      "exists and anfud restarts",
			      cfg->public_key);
	else if (r < 0) {
		anfu_log_error("bank", "the bank's public key %s: %s", cfg->public_key,
			       anfu_strerror(r));
		return r;
	}
	return anfu_bank_simconn_new(cfg, sign, m->key, &m->ops);
}

static int bank_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_bank_config *cfg = config;
	struct bank_module *m = calloc(1, sizeof(*m));
	struct anfu_bank_deps d = { 0 };
	int r = 0;

	int64_t cutoff;

	if (!m)
		return ANFU_EINTERNAL;
	if (anfu_bank_cutoff_parse(cfg->withdraw_cutoff, &cutoff) < 0) {
		anfu_log_error("bank", "[bank] withdraw_cutoff must be HH:MM (00:00..23:59, "
				       "Asia/Shanghai) or none");
		r = ANFU_EINVAL;
	}
	if (r == 0 && strcmp(cfg->connector, "simulator") == 0)
		r = connect_simulator(app, cfg, m);
	d.cfg = cfg;
	d.tx = app->tx;
	d.ledger = ledger_of(app);
	d.vault = app->vault;
	d.notify = app->notify;
	d.ops = m->ops;
	d.bank_pub = m->bank_pub;
	d.identity = identity;
	d.identity_ud = app->iam;
	d.notice = notice;
	d.notice_ud = app->iam;
	if (r == 0 && (!d.ledger || !app->iam))
		r = ANFU_EINVAL;
	if (r == 0)
		r = anfu_bank_new(&d, &m->bank);
	if (r < 0) {
		bank_stop(m);
		return r;
	}
	*ret_svc = m;
	return 0;
}

/* "bank.query": payments in transit past [bank] query_after_s, asked of
 * the bank every 10 s. */
static int query_job(void *ud, struct anfu_db *db, const char **result)
{
	struct bank_module *m = ud;
	struct anfu_bank_query_report rep;
	int r = anfu_bank_query_due(m->bank, &rep);

	(void)db;
	if (result)
		*result = r < 0 ? "failed" : rep.queried ? "queried" : "ok";
	return r;
}

/* "bank.withdraw_send": approved withdrawals without a payment whose send
 * is due (a crash between approval and send, or after the cut-off), sent
 * every 10 s (anfu_bank_withdraw_send_due). */
static int withdraw_send_job(void *ud, struct anfu_db *db, const char **result)
{
	struct bank_module *m = ud;
	struct anfu_bank_send_report rep;
	int r = anfu_bank_withdraw_send_due(m->bank, &rep);

	(void)db;
	if (result)
		*result = r < 0 ? "failed" : rep.sent ? "sent" : "ok";
	return r;
}

/* "bank.recon": yesterday's statement (Shanghai day) reconciled once,
 * looked for every hour (bank/recon.h). */
static int recon_job(void *ud, struct anfu_db *db, const char **result)
{
	struct bank_module *m = ud;
	struct anfu_bank_recon_report rep;
	int r = anfu_bank_recon_due(m->bank, &rep);

	(void)db;
	if (result)
		*result = r < 0			  ? "failed"
			  : rep.skipped		  ? "ok"
			  : rep.recon.differences ? "differences"
						  : "reconciled";
	return r;
}

static const struct anfu_job_def jobs[] = {
	{ "bank.query", 10000, 10000, NULL, query_job },
	{ "bank.recon", 3600000, 60000, NULL, recon_job },
	{ "bank.withdraw_send", 10000, 10000, NULL, withdraw_send_job },
};
static const struct anfu_job_table job_table = { jobs, sizeof(jobs) / sizeof(jobs[0]) };

/* The service of a handler's request (the module's bank). */
struct anfu_bank *anfu_bank_api_service(const struct anfu_req *req)
{
	struct bank_module *m = anfu_api_service(req->app, &anfu_bank_module);

	return m ? m->bank : NULL;
}

struct anfu_bank *anfu_bank_of_service(void *svc)
{
	struct bank_module *m = svc;

	return m ? m->bank : NULL;
}

#define S ANFU_ACCESS_SESSION
#define P ANFU_PERM_SESSION
static const struct anfu_route routes[] = {
	{ "POST", "/api/v1/me/cards", S, P, anfu_bank_api_card_start, 0 },
	{ "GET", "/api/v1/me/cards", S, P, anfu_bank_api_cards, 0 },
	{ "POST", "/api/v1/me/cards/{id}/confirm", S, P, anfu_bank_api_card_confirm, 0 },
	{ "DELETE", "/api/v1/me/cards/{id}", S, P, anfu_bank_api_card_unbind, 0 },
	{ "POST", "/api/v1/me/topups", S, P, anfu_bank_api_topup, 0 },
	{ "GET", "/api/v1/me/topups", S, P, anfu_bank_api_topups, 0 },
	{ "GET", "/api/v1/me/topups/{id}", S, P, anfu_bank_api_topup_get, 0 },
	{ "POST", "/api/v1/me/withdrawals", S, P, anfu_bank_api_withdraw, 0 },
	{ "GET", "/api/v1/me/withdrawals", S, P, anfu_bank_api_withdrawals, 0 },
	{ "GET", "/api/v1/me/withdrawals/{id}", S, P, anfu_bank_api_withdrawal_get, 0 },
	{ "GET", "/admin/v1/bank/withdrawals", ANFU_ACCESS_ADMIN, "bank.withdrawal.read",
	  anfu_bank_api_admin_withdrawals, 0 },
	{ "POST", "/admin/v1/bank/withdrawals/{id}/approve", ANFU_ACCESS_ADMIN,
	  "bank.withdrawal.review", anfu_bank_api_admin_wd_approve, 0 },
	{ "POST", "/admin/v1/bank/withdrawals/{id}/reject", ANFU_ACCESS_ADMIN,
	  "bank.withdrawal.review", anfu_bank_api_admin_wd_reject, 0 },
	{ "GET", "/admin/v1/bank/withdraw-rules", ANFU_ACCESS_ADMIN, "bank.withdrawal.read",
	  anfu_bank_api_admin_rules, 0 },
	{ "POST", "/admin/v1/bank/withdraw-rules", ANFU_ACCESS_ADMIN,
	  "bank.approval.withdraw_rules.request", anfu_bank_api_admin_rules_file, 0 },
	{ "POST", "/admin/v1/bank/approvals/{id}/approve", ANFU_ACCESS_ADMIN,
	  "bank.approval.withdraw_rules.approve", anfu_bank_api_admin_rules_approve, 0 },
	{ "POST", "/admin/v1/bank/approvals/{id}/reject", ANFU_ACCESS_ADMIN,
	  "bank.approval.withdraw_rules.approve", anfu_bank_api_admin_rules_reject, 0 },
	{ "POST", "/bank/v1/callbacks/{bank_id}", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC,
	  anfu_bank_api_callback, 0 },
	{ "GET", "/admin/v1/bank/reconciliations", ANFU_ACCESS_ADMIN, "bank.recon.read",
	  anfu_bank_api_recons, 0 },
	{ "GET", "/admin/v1/bank/reconciliations/{day}", ANFU_ACCESS_ADMIN, "bank.recon.read",
	  anfu_bank_api_recon_get, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/test/v1/bank/query", ANFU_ACCESS_PUBLIC, "test.hooks", anfu_bank_api_test_query,
	  0 },
	{ "POST", "/test/v1/bank/reconcile", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_bank_api_test_reconcile, 0 },
	{ "POST", "/test/v1/bank/withdraw-send", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_bank_api_test_withdraw_send, 0 },
#endif
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_bank_module = {
	.name = "bank",
	.migrations = &anfu_bank_migrations,
	.config = &anfu_bank_config_table,
	.start = bank_start,
	.stop = bank_stop,
	.routes = &route_table,
	.jobs = &job_table,
	.approvals = &anfu_bank_approvals,
};
