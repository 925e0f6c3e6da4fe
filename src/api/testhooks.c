/*
 * api/testhooks: endpoints that exist only in builds with -Dtest_hooks=true.
 *
 * They let the API tests move the injectable clock, inject audit faults and
 * hold a request open. Production builds do not compile this file's
 * contents. Even in test builds they answer only loopback clients.
 */
#ifdef ANFU_TEST_HOOKS

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/clock.h"
#include "config/config.h"
#include "iam/iam.h"
#include "jobs/jobs.h"
#include "notify/notify.h"
#include "store/store.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http.h"

static int loopback_only(struct anfu_req *req)
{
	if (strcmp(req->client_ip, "127.0.0.1") == 0 || strcmp(req->client_ip, "::1") == 0)
		return 0;
	return ANFU_ENOTFOUND;
}

struct clock_body {
	struct anfu_opt_i64 advance_ms;
	struct anfu_opt_bool freeze;
	struct anfu_opt_bool reset;
};

static const struct anfu_jfield clock_fields[] = {
	{ "advance_ms", ANFU_JT_INT, offsetof(struct clock_body, advance_ms), false,
	  -(int64_t)400 * 24 * 3600 * 1000, (int64_t)400 * 24 * 3600 * 1000, NULL },
	{ "freeze", ANFU_JT_BOOL, offsetof(struct clock_body, freeze), false, 0, 0, NULL },
	{ "reset", ANFU_JT_BOOL, offsetof(struct clock_body, reset), false, 0, 0, NULL },
};

int anfu_api_test_clock(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct clock_body b = { 0 };
	int r = loopback_only(req);

	if (r == 0 && req->body_len > 0)
		r = anfu_req_json(req, clock_fields, sizeof(clock_fields) / sizeof(clock_fields[0]),
				  &b);
	if (r < 0)
		return r;
	if (b.reset.set && b.reset.v)
		anfu_clock_reset();
	if (b.freeze.set)
		anfu_clock_freeze(b.freeze.v);
	if (b.advance_ms.set)
		anfu_clock_advance_ms(b.advance_ms.v);
	anfu_log_info("test.clock", "test clock changed");
	/* Time moved: let the scheduled jobs and deliveries look again. */
	if (app->jobs)
		anfu_jobs_poke(app->jobs);
	if (app->notify)
		anfu_notify_poke(app->notify);
	resp->body = json_pack("{s:I}", "now_ms", (json_int_t)anfu_clock_now_ms());
	return resp->body ? 0 : ANFU_EINTERNAL;
}

struct faults_body {
	struct anfu_opt_bool audit;
};

static const struct anfu_jfield fault_fields[] = {
	{ "audit", ANFU_JT_BOOL, offsetof(struct faults_body, audit), false, 0, 0, NULL },
};

int anfu_api_test_faults(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct faults_body b = { 0 };
	int r = loopback_only(req);

	if (r == 0)
		r = anfu_req_json(req, fault_fields, sizeof(fault_fields) / sizeof(fault_fields[0]),
				  &b);
	if (r < 0)
		return r;
	if (b.audit.set)
		anfu_audit_inject_fault(app->audit, b.audit.v);
	resp->body = json_pack("{s:b}", "audit", b.audit.set && b.audit.v);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_test_sleep(struct anfu_req *req, struct anfu_resp *resp)
{
	const char *ms_text = anfu_req_query(req, "ms");
	long long ms = 0;
	struct timespec ts;
	int r = loopback_only(req);

	if (r < 0)
		return r;
	if (!ms_text || anfu_parse_i64(anfu_str_c(ms_text), &ms) < 0 || ms < 0 || ms > 10000)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "ms");
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* Tests wait for this line to know the request is in flight. */
	anfu_log_info("test.sleep", "request %s sleeps %lld ms", req->request_id, ms);
	while (nanosleep(&ts, &ts) != 0)
		;
	resp->body = json_pack("{s:I}", "slept_ms", (json_int_t)ms);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_test_captcha(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_str id = anfu_req_param(req, "id");
	char answer[16];
	char *cid = NULL;
	int r = loopback_only(req);

	if (r == 0)
		r = anfu_arena_strndup(req->arena, id.ptr, id.len, &cid);
	if (r == 0)
		r = anfu_iam_test_captcha_answer(app->iam, cid, answer);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:s}", "answer", answer);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* The SMS simulator's outbox as a JSON array (newest last). */
int anfu_api_test_outbox(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	json_t *items = json_array();
	char line[8192];
	FILE *f;
	int r = loopback_only(req);

	if (r < 0) {
		json_decref(items);
		return r;
	}
	f = fopen(app->cfg->sms.outbox, "r");
	while (f && fgets(line, sizeof(line), f)) {
		json_t *m = json_loads(line, 0, NULL);

		if (m)
			json_array_append_new(items, m);
	}
	if (f)
		fclose(f);
	resp->body = json_pack("{s:o}", "messages", items);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* Delivers due notifications now, on this thread. */
int anfu_api_test_deliver(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_db *db = NULL;
	int sent = 0;
	int r = loopback_only(req);

	if (r == 0)
		r = anfu_store_db(app->store, &db);
	if (r == 0)
		r = anfu_notify_deliver_due(app->notify, db, &sent);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:i}", "sent", sent);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_test_pwhash(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	int r = loopback_only(req);

	if (r < 0)
		return r;
	resp->body = json_pack("{s:I}", "total", (json_int_t)anfu_iam_test_pwhash_total(app->iam));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

struct hold_body {
	struct anfu_str name;
	struct anfu_opt_bool hold;
};

static const struct anfu_jfield hold_fields[] = {
	{ "name", ANFU_JT_STRING, offsetof(struct hold_body, name), true, 1, 64, NULL },
	{ "hold", ANFU_JT_BOOL, offsetof(struct hold_body, hold), true, 0, 0, NULL },
};

/* POST /test/v1/jobs/hold {name, hold}: the scheduler leaves the job alone
 * (hold true) or runs it again when due (false), so a test that runs the
 * job's work through its own hook does not race the scheduler for it. */
int anfu_api_test_jobs_hold(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct hold_body b = { 0 };
	int r = loopback_only(req);

	if (r == 0)
		r = anfu_req_json(req, hold_fields, sizeof(hold_fields) / sizeof(hold_fields[0]),
				  &b);
	if (r == 0)
		r = app->jobs ? anfu_jobs_hold(app->jobs, b.name.ptr, b.hold.v) : ANFU_ENOTFOUND;
	if (r < 0)
		return r;
	resp->body = json_pack("{s:s,s:b}", "name", b.name.ptr, "held", b.hold.v);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_test_jobs(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	int r = loopback_only(req);

	if (r < 0)
		return r;
	anfu_jobs_poke(app->jobs);
	resp->body = json_pack("{s:b}", "poked", 1);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

#endif
