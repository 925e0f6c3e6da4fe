/*
 * wallet/api/testhooks: routes that exist only in builds with
 * -Dtest_hooks=true: money for the tests until top-up exists, and an
 * account state change without the four-eyes approval (the approval has
 * its own tests: tests/api/test_ledger_state.py). Loopback clients only.
 *
 * POST /test/v1/wallet/credit {user_id, amount, key} -> 200 {"id",
 *   "code"}: the ledger transfer bank_reserve ("testbank") ->
 *   customer_wallet of user_id (code "test_credit", caller "wallet.test",
 *   idempotency key "credit.<key>"); code null when applied.
 * POST /test/v1/wallet/state {user_id, state} -> 200 {"code"}: the CNY
 *   wallet of user_id to state (reason "test").
 */
#ifdef ANFU_TEST_HOOKS

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "http/http.h"
#include "wallet/api/module.h"
#include "wallet/wallet.h"

/* The hooks reach the ledger service by name, as the module's start does. */
#include "ledger/ledger.h"

#define HOOK_DEADLINE_MS 10000

static const struct anfu_actor hook_actor = { "system", "system", "", "", "", "" };

static struct anfu_ledger *ledger_of(struct anfu_req *req)
{
	const struct anfu_app *app = req->app;

	if (strcmp(req->client_ip, "127.0.0.1") != 0 && strcmp(req->client_ip, "::1") != 0)
		return NULL;
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, "ledger") == 0)
			return app->services[i];
	return NULL;
}

static int wallet_of(struct anfu_ledger *l, const char *user_id, struct anfu_ledger_account *ret)
{
	const struct anfu_ledger_account_spec s = { "customer_wallet", "CNY", "customer", user_id };

	return anfu_ledger_account_find(l, &s, ret);
}

struct credit_body {
	struct anfu_str user_id, key;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield credit_fields[] = {
	{ "user_id", ANFU_JT_STRING, offsetof(struct credit_body, user_id), true, 1, 47, NULL },
	{ "key", ANFU_JT_STRING, offsetof(struct credit_body, key), true, 1, 40, NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct credit_body, amount), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
};

int anfu_wallet_api_test_credit(struct anfu_req *req, struct anfu_resp *resp)
{
	static const struct anfu_ledger_account_spec reserve = { "bank_reserve", "CNY", "bank",
								 "testbank" };
	struct anfu_ledger *l = ledger_of(req);
	struct credit_body b;
	struct anfu_ledger_account from, to;
	struct anfu_ledger_transfer t;
	struct anfu_ledger_result res;
	char idem[64];
	int64_t deadline = anfu_clock_mono_us() / 1000 + HOOK_DEADLINE_MS;
	int r;

	memset(&b, 0, sizeof(b));
	if (!l)
		return ANFU_ENOTFOUND;
	r = anfu_req_json(req, credit_fields, sizeof(credit_fields) / sizeof(credit_fields[0]), &b);
	if (r == 0)
		r = anfu_ledger_open(l, &hook_actor, &reserve, deadline, &from);
	if (r == 0)
		r = wallet_of(l, b.user_id.ptr, &to);
	if (r < 0)
		return r;
	(void)snprintf(idem, sizeof(idem), "credit.%s", b.key.ptr);
	memset(&t, 0, sizeof(t));
	t.idem_key = idem;
	t.debit_account = from.id;
	t.credit_account = to.id;
	t.amount = b.amount.v;
	t.asset = "CNY";
	t.code = "test_credit";
	r = anfu_ledger_submit(l, &hook_actor, "wallet.test", &t, 1, deadline, &res);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:s, s:s?}", "id", res.id, "code", res.code);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

struct state_body {
	struct anfu_str user_id, state;
};

static const struct anfu_jfield state_fields[] = {
	{ "user_id", ANFU_JT_STRING, offsetof(struct state_body, user_id), true, 1, 47, NULL },
	{ "state", ANFU_JT_STRING, offsetof(struct state_body, state), true, 1, 16, NULL },
};

int anfu_wallet_api_test_state(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_ledger *l = ledger_of(req);
	struct state_body b;
	struct anfu_ledger_account acc;
	struct anfu_ledger_state_change c;
	struct anfu_ledger_state_result res;
	int r;

	memset(&b, 0, sizeof(b));
	if (!l)
		return ANFU_ENOTFOUND;
	r = anfu_req_json(req, state_fields, sizeof(state_fields) / sizeof(state_fields[0]), &b);
	if (r == 0)
		r = wallet_of(l, b.user_id.ptr, &acc);
	if (r < 0)
		return r;
	c = (struct anfu_ledger_state_change){ acc.id, b.state.ptr, "test", NULL };
	r = anfu_ledger_set_state(l, &hook_actor, &c,
				  anfu_clock_mono_us() / 1000 + HOOK_DEADLINE_MS, &res);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:s?}", "code", res.code);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

#endif
