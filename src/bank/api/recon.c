/*
 * bank/api/recon: the operators' reconciliation routes (admin listener,
 * permission bank.recon.read: finance and risk officers) and the test
 * hook that runs the reconciliation now. Decode, call bank/recon, encode;
 * no SQL.
 *
 *   GET  /admin/v1/bank/reconciliations          the newest days
 *   GET  /admin/v1/bank/reconciliations/{day}    one day (YYYYMMDD) and its
 *                                                differences
 *   POST /test/v1/bank/reconcile[?day=YYYYMMDD]  (test hooks) the job's run,
 *                                                or that day's, now
 *
 * Trusts the admin authenticator and the route's permission for the
 * principal; checks the day here (a malformed day names nothing: 404).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "bank/api/module.h"
#include "bank/recon.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"

static int body_out(struct anfu_resp *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body;
	return body ? 0 : ANFU_EINTERNAL;
}

/* A day as text: 8 digits, a calendar date. */
static bool day_of(const char *s, size_t n, int64_t *ret)
{
	int64_t v = 0;

	if (!s || n != 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (!anfu_bank_day_valid(v))
		return false;
	*ret = v;
	return true;
}

static json_t *recon_json(const struct anfu_bank_recon *x)
{
	char day[16];

	(void)snprintf(day, sizeof(day), "%lld", (long long)x->day);
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "bank_id", x->bank_id, "day", day,
			 "state", x->state, "sha256", x->sha256, "lines", (json_int_t)x->lines,
			 "matched", (json_int_t)x->matched, "differences",
			 (json_int_t)x->differences, "ran_ms", (json_int_t)x->ran_ms);
}

static json_t *diff_json(const struct anfu_bank_recon_diff *x)
{
	return json_pack("{s:s,s:s,s:s,s:{s:s,s:I,s:s},s:{s:s,s:I,s:s}}", "serial", x->serial,
			 "kind", x->kind, "payment_id", x->payment_id, "ours", "kind", x->our_kind,
			 "amount", (json_int_t)x->our_amount, "state", x->our_state, "bank", "kind",
			 x->bank_kind, "amount", (json_int_t)x->bank_amount, "status",
			 x->bank_status);
}

int anfu_bank_api_recons(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_recon v[ANFU_BANK_RECONS_MAX];
	size_t n = 0;
	json_t *arr;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	r = anfu_bank_recon_list(b, v, ANFU_BANK_RECONS_MAX, &n);
	if (r < 0)
		return r;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, recon_json(&v[i])) < 0) {
			json_decref(arr);
			return ANFU_EINTERNAL;
		}
	return body_out(resp, 200, arr ? json_pack("{s:o}", "reconciliations", arr) : NULL);
}

int anfu_bank_api_recon_get(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_str s = anfu_req_param(req, "day");
	struct anfu_bank_recon x;
	struct anfu_bank_recon_diff *d = NULL;
	size_t n = 0;
	int64_t day = 0;
	json_t *arr = NULL;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	if (!day_of(s.ptr, s.len, &day))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	d = anfu_xcalloc(ANFU_BANK_RECON_DIFFS_MAX, sizeof(*d));
	r = anfu_bank_recon_get(b, day, &x, d, ANFU_BANK_RECON_DIFFS_MAX, &n);
	if (r == ANFU_ENOTFOUND)
		r = anfu_req_fail(req, r, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		goto out;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, diff_json(&d[i])) < 0) {
			r = ANFU_EINTERNAL;
			goto out;
		}
	r = body_out(resp, 200,
		     arr ? json_pack("{s:o,s:O,s:b}", "reconciliation", recon_json(&x),
				     "differences", arr, "truncated", (int64_t)n < x.differences)
			 : NULL);
out:
	json_decref(arr);
	free(d);
	return r;
}

#ifdef ANFU_TEST_HOOKS
int anfu_bank_api_test_reconcile(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const char *q = anfu_req_query(req, "day");
	struct anfu_bank_recon_report rep;
	int64_t day = 0;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	if (q && !day_of(q, strlen(q), &day))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "day");
	r = q ? anfu_bank_reconcile(b, day, &rep) : anfu_bank_recon_due(b, &rep);
	if (r == ANFU_ETIMEDOUT || (r == ANFU_EINVAL && q))
		return anfu_req_fail(req, ANFU_EOVERLOAD, ANFU_R_BANK_UNAVAILABLE, NULL);
	if (r < 0)
		return r;
	return body_out(resp, 200,
			json_pack("{s:o,s:b,s:b}", "reconciliation", recon_json(&rep.recon),
				  "changed", rep.changed, "skipped", rep.skipped));
}
#endif
