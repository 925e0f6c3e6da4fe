/*
 * base/json: allowlist decoding of JSON request bodies (jansson).
 *
 * Trusts nothing in the body. The raw text is prechecked (UTF-8, depth)
 * before jansson sees it, so error codes are precise and deep nesting never
 * reaches the parser's recursion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/text.h"

static int fail(struct anfu_jerr *err, const char *code, const char *field, size_t flen)
{
	err->code = code;
	err->field[0] = '\0';
	if (field) {
		if (flen >= sizeof(err->field))
			flen = sizeof(err->field) - 1;
		memcpy(err->field, field, flen);
		err->field[flen] = '\0';
	}
	return ANFU_EINVAL;
}

int anfu_json_precheck(const struct anfu_json_limits *lim, const char *body, size_t len,
		       struct anfu_jerr *err)
{
	unsigned depth = 0;
	bool in_str = false, esc = false;

	if (!anfu_utf8_valid(body, len))
		return fail(err, ANFU_JERR_INVALID_UTF8, NULL, 0);
	for (size_t i = 0; i < len; i++) {
		char c = body[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > lim->max_depth)
				return fail(err, ANFU_JERR_TOO_DEEP, NULL, 0);
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* One string of anfu_json_normalize_strings(): v replaced by its NFC form,
 * or the failure named after key. */
static int normalize_one(json_t *v, const char *key, struct anfu_jerr *err)
{
	char *nfc = NULL;
	size_t n = 0;
	int r = 0;

	if (anfu_text_normalize(json_string_value(v), json_string_length(v), &nfc, &n, NULL) < 0)
		return fail(err, ANFU_JERR_INVALID_TEXT, key, strlen(key));
	if (n != json_string_length(v) || memcmp(nfc, json_string_value(v), n) != 0)
		r = json_string_setn(v, nfc, n) == 0 ? 0 : ANFU_EINVAL;
	free(nfc);
	if (r < 0)
		return fail(err, ANFU_JERR_INVALID_TEXT, key, strlen(key));
	return 0;
}

/* Depth is bounded by the decoder's limits (anfu_json_precheck / the HTTP
 * layer), so the recursion is too. */
static int normalize_walk(json_t *v, const char *key, struct anfu_jerr *err)
{
	const char *k;
	json_t *item;
	size_t i;
	int r;

	if (json_is_string(v))
		return normalize_one(v, key, err);
	if (json_is_object(v)) {
		json_object_foreach(v, k, item)
		{
			r = normalize_walk(item, k, err);
			if (r < 0)
				return r;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			r = normalize_walk(item, key, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int anfu_json_normalize_strings(json_t *v, struct anfu_jerr *err)
{
	if (!v || !err)
		return ANFU_EINVAL;
	return normalize_walk(v, "", err);
}

static const struct anfu_jfield *find_field(const struct anfu_jfield *f, size_t n, const char *key,
					    size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(f[i].name) == klen && memcmp(f[i].name, key, klen) == 0)
			return &f[i];
	return NULL;
}

/* The value of a STRING field as stored: its NFC form (base/text.h), in
 * the arena; SECRET fields are copied as sent. */
static int string_value(struct anfu_arena *a, const struct anfu_jfield *f, const char *s,
			size_t len, struct anfu_str *ret, struct anfu_jerr *err)
{
	char *nfc = NULL, *copy;
	size_t n = len;
	int r;

	if (f->type == ANFU_JT_STRING) {
		if (anfu_text_normalize(s, len, &nfc, &n, NULL) < 0)
			return fail(err, ANFU_JERR_INVALID_TEXT, f->name, strlen(f->name));
		s = nfc;
	}
	r = anfu_arena_strndup(a, s, n, &copy);
	free(nfc);
	if (r < 0)
		return r;
	*ret = (struct anfu_str){ copy, n };
	return 0;
}

static int set_string(struct anfu_arena *a, const struct anfu_json_limits *lim,
		      const struct anfu_jfield *f, json_t *v, void *out, struct anfu_jerr *err)
{
	struct anfu_str *dst = (struct anfu_str *)((char *)out + f->offset);
	struct anfu_str val;
	const char *s;
	size_t len, cps;
	int r;

	if (!json_is_string(v))
		return fail(err, ANFU_JERR_INVALID_FIELD, f->name, strlen(f->name));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > lim->max_string_bytes)
		return fail(err, ANFU_JERR_OUT_OF_RANGE, f->name, strlen(f->name));
	/* jansson accepts \u0000 only with JSON_ALLOW_NUL, which we never
	 * pass, so s holds no NUL; check anyway before treating it as C text. */
	if (memchr(s, '\0', len))
		return fail(err, ANFU_JERR_INVALID_FIELD, f->name, strlen(f->name));
	r = string_value(a, f, s, len, &val, err);
	if (r < 0)
		return r;
	/* Lengths and formats apply to the value as stored (NFC). */
	cps = anfu_utf8_count(val.ptr, val.len);
	if ((int64_t)cps < f->min || (f->max > 0 && (int64_t)cps > f->max))
		return fail(err, ANFU_JERR_OUT_OF_RANGE, f->name, strlen(f->name));
	if (f->check && !f->check(val.ptr, val.len))
		return fail(err, ANFU_JERR_INVALID_FIELD, f->name, strlen(f->name));
	*dst = val;
	return 0;
}

static int set_value(struct anfu_arena *a, const struct anfu_json_limits *lim,
		     const struct anfu_jfield *f, json_t *v, void *out, struct anfu_jerr *err)
{
	size_t nlen = strlen(f->name);

	switch (f->type) {
	case ANFU_JT_STRING:
	case ANFU_JT_SECRET: return set_string(a, lim, f, v, out, err);
	case ANFU_JT_INT: {
		struct anfu_opt_i64 *dst = (struct anfu_opt_i64 *)((char *)out + f->offset);
		json_int_t i;

		if (!json_is_integer(v))
			return fail(err, ANFU_JERR_INVALID_FIELD, f->name, nlen);
		i = json_integer_value(v);
		if (i < f->min || i > f->max)
			return fail(err, ANFU_JERR_OUT_OF_RANGE, f->name, nlen);
		*dst = (struct anfu_opt_i64){ true, (int64_t)i };
		return 0;
	}
	case ANFU_JT_BOOL: {
		struct anfu_opt_bool *dst = (struct anfu_opt_bool *)((char *)out + f->offset);

		if (!json_is_boolean(v))
			return fail(err, ANFU_JERR_INVALID_FIELD, f->name, nlen);
		*dst = (struct anfu_opt_bool){ true, json_is_true(v) };
		return 0;
	}
	}
	return fail(err, ANFU_JERR_INVALID_FIELD, f->name, nlen);
}

int anfu_json_decode(struct anfu_arena *a, const struct anfu_json_limits *lim, const char *body,
		     size_t len, const struct anfu_jfield *fields, size_t nfields, void *out,
		     struct anfu_jerr *err)
{
	json_error_t jerr;
	json_t *root = NULL;
	const char *key;
	json_t *v;
	int r;

	r = anfu_json_precheck(lim, body, len, err);
	if (r < 0)
		return r;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		r = fail(err, ANFU_JERR_INVALID_JSON, NULL, 0);
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		size_t klen = strlen(key);
		const struct anfu_jfield *f;

		if (klen > lim->max_string_bytes) {
			r = fail(err, ANFU_JERR_UNKNOWN_FIELD, key, klen);
			goto out;
		}
		f = find_field(fields, nfields, key, klen);
		if (!f) {
			r = fail(err, ANFU_JERR_UNKNOWN_FIELD, key, klen);
			goto out;
		}
		r = set_value(a, lim, f, v, out, err);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].required && !json_object_get(root, fields[i].name)) {
			r = fail(err, ANFU_JERR_MISSING_FIELD, fields[i].name,
				 strlen(fields[i].name));
			goto out;
		}
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return anfu_buf_append(data, buffer, size) < 0 ? -1 : 0;
}

int anfu_json_append(struct anfu_buf *out, const json_t *v)
{
	if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_SORT_KEYS) != 0)
		return ANFU_ELIMIT;
	return 0;
}

json_t *anfu_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) != 0)
		abort();
	return obj;
}
