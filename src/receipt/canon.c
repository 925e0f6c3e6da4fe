/*
 * receipt/canon: the canonical JSON form a receipt's signature covers
 * (docs/receipts.md "Canonical form"): exactly the bytes of Python's
 * json.dumps(v, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False).encode("utf-8"), so an offline verifier re-makes
 * them from the parsed document with the standard library alone.
 *
 * Owns nothing; trusts that jansson's strings are valid UTF-8 (json_string
 * and the parser refuse anything else).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "receipt/receipt.h"

/* Python's escaping with ensure_ascii=False: the quote, the backslash,
 * five short forms, other controls as lower-case \u00xx; DEL and every
 * non-ASCII character as they are. */
static int put_string(struct anfu_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = anfu_buf_append(out, "\"", 1);

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		switch (c) {
		case '"': r = anfu_buf_append(out, "\\\"", 2); break;
		case '\\': r = anfu_buf_append(out, "\\\\", 2); break;
		case '\b': r = anfu_buf_append(out, "\\b", 2); break;
		case '\f': r = anfu_buf_append(out, "\\f", 2); break;
		case '\n': r = anfu_buf_append(out, "\\n", 2); break;
		case '\r': r = anfu_buf_append(out, "\\r", 2); break;
		case '\t': r = anfu_buf_append(out, "\\t", 2); break;
		default:
			r = c < 0x20 ? anfu_buf_append(out, esc, sizeof(esc))
				     : anfu_buf_append(out, &s[i], 1);
		}
	}
	return r == 0 ? anfu_buf_append(out, "\"", 1) : r;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int put(const json_t *v, struct anfu_buf *out, int depth);

/* Keys in byte order: UTF-8 byte order is code-point order, Python's. */
static int put_object(const json_t *v, struct anfu_buf *out, int depth)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = NULL;
	const char *k;
	json_t *m;
	int r;

	if (n == 0)
		return anfu_buf_append(out, "{}", 2);
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return ANFU_EINTERNAL;
	json_object_foreach((json_t *)v, k, m) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), key_cmp);
	r = anfu_buf_append(out, "{", 1);
	for (i = 0; i < n && r == 0; i++) {
		if (i > 0)
			r = anfu_buf_append(out, ",", 1);
		if (r == 0)
			r = put_string(out, keys[i], strlen(keys[i]));
		if (r == 0)
			r = anfu_buf_append(out, ":", 1);
		if (r == 0)
			r = put(json_object_get(v, keys[i]), out, depth + 1);
	}
	if (r == 0)
		r = anfu_buf_append(out, "}", 1);
	free(keys);
	return r;
}

static int put_array(const json_t *v, struct anfu_buf *out, int depth)
{
	int r = anfu_buf_append(out, "[", 1);

	for (size_t i = 0; i < json_array_size(v) && r == 0; i++) {
		if (i > 0)
			r = anfu_buf_append(out, ",", 1);
		if (r == 0)
			r = put(json_array_get(v, i), out, depth + 1);
	}
	return r == 0 ? anfu_buf_append(out, "]", 1) : r;
}

static int put(const json_t *v, struct anfu_buf *out, int depth)
{
	if (!v || depth > ANFU_LIMIT_RECEIPT_DEPTH)
		return ANFU_EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT: return put_object(v, out, depth);
	case JSON_ARRAY: return put_array(v, out, depth);
	case JSON_STRING: return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: return anfu_buf_appendf(out, "%" PRId64, (int64_t)json_integer_value(v));
	case JSON_TRUE: return anfu_buf_append(out, "true", 4);
	case JSON_FALSE: return anfu_buf_append(out, "false", 5);
	case JSON_NULL: return anfu_buf_append(out, "null", 4);
	case JSON_REAL: break; /* no floating point in a receipt */
	}
	return ANFU_EINVAL;
}

int anfu_receipt_canonical(const json_t *v, struct anfu_buf *out)
{
	size_t start;
	int r;

	if (!v || !out)
		return ANFU_EINVAL;
	start = out->len;
	r = put(v, out, 1);
	if (r < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return r;
}
