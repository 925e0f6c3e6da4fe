/*
 * fuzz/fuzz_json: allowlist decoding of JSON request bodies
 * (base/json.c, anfu_json_decode) on arbitrary bytes.
 *
 * Owns one arena per input, freed before returning. Trusts nothing in the
 * input; it must neither crash nor leak, and whatever decodes must obey
 * the field table (types, ranges, the check function).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"

/* Inputs beyond the default body limit never reach the decoder. */
#define FUZZ_BODY_MAX (64 * 1024)
#define FUZZ_ARENA_CAP (4 * FUZZ_BODY_MAX + 64 * 1024)

struct payment_req {
	struct anfu_str merchant;
	struct anfu_str currency;
	struct anfu_str memo;
	struct anfu_opt_i64 amount;
	struct anfu_opt_i64 installments;
	struct anfu_opt_bool capture;
};

/* Three upper-case ASCII letters (ISO 4217 shape). */
static bool check_currency(const char *s, size_t len)
{
	if (len != 3)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

static const struct anfu_jfield fields[] = {
	{ "merchant", ANFU_JT_STRING, offsetof(struct payment_req, merchant), true, 1, 64, NULL },
	{ "currency", ANFU_JT_STRING, offsetof(struct payment_req, currency), false, 3, 3,
	  check_currency },
	{ "memo", ANFU_JT_STRING, offsetof(struct payment_req, memo), false, 0, 0, NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct payment_req, amount), true, 1,
	  INT64_C(100000000000), NULL },
	{ "installments", ANFU_JT_INT, offsetof(struct payment_req, installments), false, 1, 24,
	  NULL },
	{ "capture", ANFU_JT_BOOL, offsetof(struct payment_req, capture), false, 0, 0, NULL },
};

static void check_result(const struct payment_req *req)
{
	if (!req->merchant.ptr || req->merchant.ptr[req->merchant.len] != '\0')
		abort();
	if (!req->amount.set || req->amount.v < 1 || req->amount.v > INT64_C(100000000000))
		abort();
	if (req->currency.ptr && !check_currency(req->currency.ptr, req->currency.len))
		abort();
	if (req->memo.ptr && req->memo.len > 256)
		abort();
	if (req->installments.set && (req->installments.v < 1 || req->installments.v > 24))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct anfu_json_limits lim = { .max_depth = 8, .max_string_bytes = 256 };
	struct anfu_arena *a = NULL;
	struct payment_req req;
	struct anfu_jerr err;
	int r;

	if (size > FUZZ_BODY_MAX)
		return 0;
	a = anfu_arena_new(FUZZ_ARENA_CAP);
	memset(&req, 0, sizeof(req));
	memset(&err, 0, sizeof(err));
	r = anfu_json_decode(a, &lim, (const char *)data, size, fields,
			     sizeof(fields) / sizeof(fields[0]), &req, &err);
	if (r == 0)
		check_result(&req);
	else if (r == ANFU_EINVAL && !err.code)
		abort();
	anfu_arena_free(a);
	return 0;
}
