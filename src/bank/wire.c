/*
 * bank/wire: the message format both sides of the bank channel share
 * (anfud's connector and anfu-banksim): the bytes a signature covers, the
 * callback body's parser, the names of payment statuses.
 *
 * Owns no state. Trusts nothing it parses: a callback body comes from the
 * network (its signature is checked by the caller before or after, but
 * the parser never relies on it; fuzz/fuzz_bank_callback.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bank/bank.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/str.h"

#define SIGNED_PREFIX "ANFU-BANK-1\n"

int anfu_bank_wire_signed_bytes(const char *method, const char *path, int64_t ts_ms,
				const char *nonce, const char *body, size_t body_len, char **ret,
				size_t *ret_len)
{
	char head[ANFU_LIMIT_BANK_PATH_BYTES + 128];
	char *out;
	size_t hn;
	int n;

	if (!method || !path || !nonce || (!body && body_len) || !ret || !ret_len)
		return ANFU_EINVAL;
	if (strlen(path) > ANFU_LIMIT_BANK_PATH_BYTES || strlen(method) > 8 ||
	    strlen(nonce) != ANFU_BANK_NONCE_LEN || body_len > ANFU_LIMIT_BANK_BODY_BYTES)
		return ANFU_EINVAL;
	n = snprintf(head, sizeof(head), SIGNED_PREFIX "%s\n%s\n%lld\n%s\n", method, path,
		     (long long)ts_ms, nonce);
	if (n < 0 || (size_t)n >= sizeof(head))
		return ANFU_EINVAL;
	hn = (size_t)n;
	out = anfu_xmalloc(hn + body_len + 1);
	memcpy(out, head, hn);
	if (body_len)
		memcpy(out + hn, body, body_len);
	out[hn + body_len] = '\0';
	*ret = out;
	*ret_len = hn + body_len;
	return 0;
}

static const char *const status_names[] = {
	[ANFU_BANK_ST_PENDING] = "pending",
	[ANFU_BANK_ST_SUCCEEDED] = "succeeded",
	[ANFU_BANK_ST_FAILED] = "failed",
	[ANFU_BANK_ST_UNKNOWN] = "unknown",
};

const char *anfu_bank_status_name(enum anfu_bank_status s)
{
	if ((int)s < ANFU_BANK_ST_PENDING || (int)s > ANFU_BANK_ST_UNKNOWN)
		return "unknown";
	return status_names[s];
}

int anfu_bank_status_from(const char *s, enum anfu_bank_status *ret)
{
	if (!s || !ret)
		return ANFU_EINVAL;
	for (int i = ANFU_BANK_ST_PENDING; i <= ANFU_BANK_ST_UNKNOWN; i++)
		if (strcmp(s, status_names[i]) == 0) {
			*ret = (enum anfu_bank_status)i;
			return 0;
		}
	return ANFU_EINVAL;
}

/* A string member of o into out (cap), [A-Za-z0-9_.-] only. */
static int take_word(json_t *o, const char *key, bool required, char *out, size_t cap)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t n;

	if (!v) {
		out[0] = '\0';
		return required ? ANFU_EINVAL : 0;
	}
	if (!json_is_string(v))
		return ANFU_EINVAL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= cap || strlen(s) != n)
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return ANFU_EINVAL;
	memcpy(out, s, n + 1);
	return 0;
}

static bool only_known_keys(json_t *o)
{
	static const char *const known[] = { "serial", "status", "amount", "currency", "bank_ref" };
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		bool found = false;

		(void)v;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			found = found || strcmp(key, known[i]) == 0;
		if (!found)
			return false;
	}
	return true;
}

static int callback_fields(json_t *o, struct anfu_bank_callback *cb)
{
	char status[16], currency[8];
	json_t *amount = json_object_get(o, "amount");

	if (!json_is_object(o) || !only_known_keys(o))
		return ANFU_EINVAL;
	if (take_word(o, "serial", true, cb->serial, sizeof(cb->serial)) < 0 ||
	    take_word(o, "status", true, status, sizeof(status)) < 0 ||
	    take_word(o, "currency", true, currency, sizeof(currency)) < 0 ||
	    take_word(o, "bank_ref", false, cb->bank_ref, sizeof(cb->bank_ref)) < 0)
		return ANFU_EINVAL;
	if (strcmp(currency, "CNY") != 0 || !json_is_integer(amount) ||
	    json_integer_value(amount) <= 0)
		return ANFU_EINVAL;
	cb->amount = json_integer_value(amount);
	if (anfu_bank_status_from(status, &cb->status) < 0 ||
	    (cb->status != ANFU_BANK_ST_SUCCEEDED && cb->status != ANFU_BANK_ST_FAILED))
		return ANFU_EINVAL;
	return 0;
}

int anfu_bank_callback_parse(const char *body, size_t len, struct anfu_bank_callback *ret)
{
	struct anfu_bank_callback cb = { 0 };
	json_error_t jerr;
	json_t *o;
	int r;

	if (!body || !ret || len == 0 || len > ANFU_LIMIT_BANK_BODY_BYTES)
		return ANFU_EINVAL;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return ANFU_EINVAL;
	r = callback_fields(o, &cb);
	json_decref(o);
	if (r < 0)
		return r;
	*ret = cb;
	return 0;
}

int64_t anfu_bank_day_cn(int64_t ms)
{
	/* The civil date of the Shanghai day base/clock counts (Howard
	 * Hinnant's days-to-civil). */
	int64_t z = anfu_clock_day_cn(ms), era, doe, yoe, y, doy, mp, d, m;

	if (ms < 0)
		return 0;
	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	return y * 10000 + m * 100 + d;
}
