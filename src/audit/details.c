/*
 * audit/details: a record's details as text without jansson
 * (anfu_audit_details_text, audit.h).
 *
 * Owns nothing. The text is byte for byte what an append makes of the
 * same JSON object through jansson (compact, keys sorted, strings escaped
 * as jansson escapes them): plain strings are copied between quotes, and
 * any string that needs escaping or holds non-ASCII bytes is dumped by
 * jansson itself, so the two can never disagree. Trusts its caller for
 * the order of the keys (asserted) and nothing else.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/internal.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"

/* True when s goes between quotes as it is: printable ASCII without '"'
 * or '\\' (jansson escapes those and control characters, and checks
 * non-ASCII bytes for UTF-8). */
static bool plain(const char *s, size_t *ret_len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	for (; p[i]; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\')
			return false;
	*ret_len = i;
	return true;
}

/* s as a JSON string: quoted as it is, or dumped by jansson. */
static int append_string(struct anfu_buf *out, const char *s)
{
	json_t *v;
	char *text;
	int r;
	size_t n;

	if (plain(s, &n)) {
		r = anfu_buf_append(out, "\"", 1);
		if (r == 0)
			r = anfu_buf_append(out, s, n);
		if (r == 0)
			r = anfu_buf_append(out, "\"", 1);
		return r;
	}
	v = json_string(s); /* NULL for a string that is not UTF-8 */
	if (!v)
		return ANFU_EINVAL;
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(v);
	if (!text)
		return ANFU_EINVAL;
	r = anfu_buf_appends(out, text);
	free(text);
	return r;
}

int anfu_audit_details_text(struct anfu_buf *out, const struct anfu_audit_kv *kv, size_t n)
{
	char num[24];
	size_t klen;
	int r;

	if (!out || (!kv && n))
		return ANFU_EINVAL;
	r = anfu_buf_append(out, "{", 1);
	for (size_t i = 0; r == 0 && i < n; i++) {
		ANFU_ASSERT(i == 0 || strcmp(kv[i - 1].key, kv[i].key) < 0);
		if (!plain(kv[i].key, &klen) || audit_key_looks_secret(kv[i].key)) {
			anfu_log_warn("audit.append", "details refused: key \"%.64s\"", kv[i].key);
			return ANFU_EINVAL;
		}
		if (i > 0)
			r = anfu_buf_append(out, ",", 1);
		if (r == 0)
			r = anfu_buf_append(out, "\"", 1);
		if (r == 0)
			r = anfu_buf_append(out, kv[i].key, klen);
		if (r == 0)
			r = anfu_buf_append(out, "\":", 2);
		if (r < 0)
			break;
		if (kv[i].is_int) {
			int len = snprintf(num, sizeof(num), "%" PRId64, kv[i].i);

			r = anfu_buf_append(out, num, (size_t)len);
		} else if (!kv[i].s) {
			r = anfu_buf_append(out, "null", 4);
		} else {
			r = append_string(out, kv[i].s);
		}
	}
	if (r == 0)
		r = anfu_buf_append(out, "}", 1);
	if (r == 0 && out->len > ANFU_LIMIT_AUDIT_DETAILS_BYTES)
		r = ANFU_ELIMIT;
	return r;
}
