/*
 * api/testpause: the test-hook routes of the pause points (base/pausepoint.h;
 * docs/testing.md, "Pause points"): a test arms a named point, waits until
 * a request stopped there, runs its competing request, releases the first.
 * Exists only in builds with -Dtest_hooks=true and answers only loopback
 * clients (api/testhooks.c); trusts nothing of the request beyond that.
 */
#ifdef ANFU_TEST_HOOKS

#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/pausepoint.h"
#include "base/str.h"
#include "http/http.h"

/* POST /test/v1/pause/{name}/{action}: action arm (the next request to
 * reach name stops there, at most ANFU_LIMIT_PAUSE_MS, and logs "pause
 * point NAME stopped a request (arm N)": {"arm": N}) or resume (the
 * stopped request goes on, or the point is disarmed: {"released": bool}).
 * No wait action: a request for it could be queued on the stopped
 * request's worker thread; tests wait for the log line. */
int anfu_api_test_pause(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_str n = anfu_req_param(req, "name"), a = anfu_req_param(req, "action");
	char *name = NULL;
	uint64_t arm = 0;
	int r = strcmp(req->client_ip, "127.0.0.1") == 0 || strcmp(req->client_ip, "::1") == 0
			? 0
			: ANFU_ENOTFOUND;

	if (r == 0 && (n.len < 1 || n.len > ANFU_LIMIT_PAUSE_NAME))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "name");
	if (r == 0)
		r = anfu_arena_strndup(req->arena, n.ptr, n.len, &name);
	if (r < 0)
		return r;
	if (anfu_str_eqc(a, "arm")) {
		r = anfu_pause_arm(name, ANFU_LIMIT_PAUSE_MS, &arm);
		if (r < 0)
			return r;
		resp->body = json_pack("{s:s,s:I}", "name", name, "arm", (json_int_t)arm);
	} else if (anfu_str_eqc(a, "resume")) {
		r = anfu_pause_release(name);
		if (r < 0 && r != ANFU_ENOTFOUND)
			return r;
		resp->body = json_pack("{s:s,s:b}", "name", name, "released", r == 0);
	} else {
		return ANFU_ENOTFOUND;
	}
	return resp->body ? 0 : ANFU_EINTERNAL;
}

#endif
