/*
 * ledger/api/testhooks: routes that exist only in builds with
 * -Dtest_hooks=true, for the crash harness (tests/api/test_ledger_crash.py)
 * until the wallet API exists: open an account, submit one transfer.
 * Loopback clients only, like api/testhooks.c.
 *
 * POST /test/v1/ledger/accounts {kind, asset, owner_type, owner_id}
 *   -> 200 {"id"}
 * POST /test/v1/ledger/transfers {caller, idem_key, debit_account,
 *   credit_account, amount, asset, code; optional flags, pending_id,
 *   timeout_ms, on_timeout} -> 200 {"id", "seq", "existed",
 *   "code"} (code: null when applied, else its refusal; nothing is
 *   written for a refusal); the service's errors as the API maps them
 *   (503 overloaded when the queue is full).
 *
 * Trusts the JSON decoder for the text rule and the service for every
 * ledger rule.
 */
#ifdef ANFU_TEST_HOOKS

#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "http/http.h"
#include "ledger/api/module.h"
#include "ledger/ledger.h"

/* How long a hook request waits for the writer. */
#define HOOK_DEADLINE_MS 10000

static const struct anfu_actor hook_actor = { "system", "system", "", "", "", "" };

static int loopback_only(struct anfu_req *req)
{
	if (strcmp(req->client_ip, "127.0.0.1") == 0 || strcmp(req->client_ip, "::1") == 0)
		return 0;
	return ANFU_ENOTFOUND;
}

/* A NUL-terminated copy of s in the request's arena (NULL when absent). */
static int dup(struct anfu_req *req, struct anfu_str s, const char **ret)
{
	char *c = NULL;
	int r;

	if (!s.ptr) {
		*ret = NULL;
		return 0;
	}
	r = anfu_arena_strndup(req->arena, s.ptr, s.len, &c);
	if (r == 0)
		*ret = c;
	return r;
}

struct account_body {
	struct anfu_str kind, asset, owner_type, owner_id;
};

static const struct anfu_jfield account_fields[] = {
	{ "kind", ANFU_JT_STRING, offsetof(struct account_body, kind), true, 1, 32, NULL },
	{ "asset", ANFU_JT_STRING, offsetof(struct account_body, asset), true, 1, 8, NULL },
	{ "owner_type", ANFU_JT_STRING, offsetof(struct account_body, owner_type), true, 1, 32,
	  NULL },
	{ "owner_id", ANFU_JT_STRING, offsetof(struct account_body, owner_id), true, 1, 64, NULL },
};

int anfu_ledger_api_test_account(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_ledger *l = anfu_api_service(req->app, &anfu_ledger_module);
	struct account_body b;
	struct anfu_ledger_account_spec s;
	struct anfu_ledger_account a;
	int r = loopback_only(req);

	memset(&b, 0, sizeof(b));
	if (r == 0 && !l)
		r = ANFU_EINTERNAL;
	if (r == 0)
		r = anfu_req_json(req, account_fields,
				  sizeof(account_fields) / sizeof(account_fields[0]), &b);
	if (r == 0)
		r = dup(req, b.kind, &s.kind);
	if (r == 0)
		r = dup(req, b.asset, &s.asset);
	if (r == 0)
		r = dup(req, b.owner_type, &s.owner_type);
	if (r == 0)
		r = dup(req, b.owner_id, &s.owner_id);
	if (r == 0)
		r = anfu_ledger_open(l, &hook_actor, &s,
				     anfu_clock_mono_us() / 1000 + HOOK_DEADLINE_MS, &a);
	if (r < 0)
		return r;
	resp->status = 200;
	resp->body = json_pack("{s:s}", "id", a.id);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

struct transfer_body {
	struct anfu_str caller, idem_key, debit, credit, asset, code, pending_id, on_timeout;
	struct anfu_opt_i64 amount, flags, timeout_ms;
};

static const struct anfu_jfield transfer_fields[] = {
	{ "caller", ANFU_JT_STRING, offsetof(struct transfer_body, caller), true, 1, 64, NULL },
	{ "idem_key", ANFU_JT_STRING, offsetof(struct transfer_body, idem_key), true, 1, 64, NULL },
	{ "debit_account", ANFU_JT_STRING, offsetof(struct transfer_body, debit), true, 1, 64,
	  NULL },
	{ "credit_account", ANFU_JT_STRING, offsetof(struct transfer_body, credit), true, 1, 64,
	  NULL },
	{ "asset", ANFU_JT_STRING, offsetof(struct transfer_body, asset), true, 1, 8, NULL },
	{ "code", ANFU_JT_STRING, offsetof(struct transfer_body, code), true, 1, 32, NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct transfer_body, amount), true, 0, INT64_MAX, NULL },
	{ "flags", ANFU_JT_INT, offsetof(struct transfer_body, flags), false, 0,
	  ANFU_LEDGER_TRF_ALL, NULL },
	{ "pending_id", ANFU_JT_STRING, offsetof(struct transfer_body, pending_id), false, 1, 64,
	  NULL },
	{ "timeout_ms", ANFU_JT_INT, offsetof(struct transfer_body, timeout_ms), false, 0,
	  ANFU_LIMIT_LEDGER_HOLD_TIMEOUT_MS, NULL },
	{ "on_timeout", ANFU_JT_STRING, offsetof(struct transfer_body, on_timeout), false, 1, 8,
	  NULL },
};

int anfu_ledger_api_test_transfer(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_ledger *l = anfu_api_service(req->app, &anfu_ledger_module);
	struct transfer_body b;
	struct anfu_ledger_transfer t;
	struct anfu_ledger_result res;
	const char *caller = NULL;
	int r = loopback_only(req);

	memset(&b, 0, sizeof(b));
	memset(&t, 0, sizeof(t));
	if (r == 0 && !l)
		r = ANFU_EINTERNAL;
	if (r == 0)
		r = anfu_req_json(req, transfer_fields,
				  sizeof(transfer_fields) / sizeof(transfer_fields[0]), &b);
	if (r == 0)
		r = dup(req, b.caller, &caller);
	if (r == 0)
		r = dup(req, b.idem_key, &t.idem_key);
	if (r == 0)
		r = dup(req, b.debit, &t.debit_account);
	if (r == 0)
		r = dup(req, b.credit, &t.credit_account);
	if (r == 0)
		r = dup(req, b.asset, &t.asset);
	if (r == 0)
		r = dup(req, b.code, &t.code);
	if (r == 0)
		r = dup(req, b.pending_id, &t.pending_id);
	if (r == 0)
		r = dup(req, b.on_timeout, &t.on_timeout);
	if (r < 0)
		return r;
	t.amount = b.amount.v;
	t.flags = (uint32_t)b.flags.v;
	t.timeout_ms = b.timeout_ms.v;
	r = anfu_ledger_submit(l, &hook_actor, caller, &t, 1,
			       anfu_clock_mono_us() / 1000 + HOOK_DEADLINE_MS, &res);
	if (r < 0)
		return r;
	resp->status = 200;
	resp->body = json_pack("{s:s, s:I, s:b, s:s?}", "id", res.id, "seq", (json_int_t)res.seq,
			       "existed", res.existed, "code", res.code);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

#endif
