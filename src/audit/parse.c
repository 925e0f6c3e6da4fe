/*
 * audit/parse: the strict JSON-line codec of exports and the checkpoint
 * file.
 *
 * Owns the canonical JSON form of a line (compact, keys sorted by byte,
 * the escaping in docs/audit.md: the same bytes Python's json.dumps with
 * sort_keys=True, separators=(',', ':'), ensure_ascii=False writes) and the
 * per-type field tables. Trusts nothing in the input: a line must have
 * exactly the fields of its type with the right JSON types and formats,
 * and must be byte-for-byte the canonical serialisation of what it parses
 * to, so no second spelling of the same data exists.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"

/* Most keys any line type has (records: 16). */
#define KEYS_MAX 16

/* ---- canonical serialisation ------------------------------------------- */

static int put_string(struct anfu_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = anfu_buf_append(out, "\"", 1);

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

		switch (c) {
		case '"': r = anfu_buf_append(out, "\\\"", 2); break;
		case '\\': r = anfu_buf_append(out, "\\\\", 2); break;
		case '\b': r = anfu_buf_append(out, "\\b", 2); break;
		case '\f': r = anfu_buf_append(out, "\\f", 2); break;
		case '\n': r = anfu_buf_append(out, "\\n", 2); break;
		case '\r': r = anfu_buf_append(out, "\\r", 2); break;
		case '\t': r = anfu_buf_append(out, "\\t", 2); break;
		default:
			r = c < 0x20 ? anfu_buf_append(out, esc, 6)
				     : anfu_buf_append(out, &s[i], 1);
		}
	}
	if (r == 0)
		r = anfu_buf_append(out, "\"", 1);
	return r;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int audit_json_canon(struct anfu_buf *out, const json_t *obj)
{
	const char *keys[KEYS_MAX];
	const char *k;
	json_t *v;
	size_t n = 0;
	int r;

	if (!json_is_object(obj))
		return ANFU_EINVAL;
	json_object_foreach((json_t *)obj, k, v)
	{
		if (n == KEYS_MAX)
			return ANFU_EINVAL;
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_keys);
	r = anfu_buf_append(out, "{", 1);
	for (size_t i = 0; i < n && r == 0; i++) {
		v = json_object_get(obj, keys[i]);
		if (i > 0)
			r = anfu_buf_append(out, ",", 1);
		if (r == 0)
			r = put_string(out, keys[i], strlen(keys[i]));
		if (r == 0)
			r = anfu_buf_append(out, ":", 1);
		if (r < 0)
			break;
		if (json_is_string(v))
			r = put_string(out, json_string_value(v), json_string_length(v));
		else if (json_is_integer(v))
			r = anfu_buf_appendf(out, "%" PRId64, (int64_t)json_integer_value(v));
		else
			r = ANFU_EINVAL;
	}
	if (r == 0)
		r = anfu_buf_append(out, "}", 1);
	return r;
}

/* ---- field tables ------------------------------------------------------- */

enum kind {
	K_TYPE,	   /* the line type, already matched */
	K_TEXT,	   /* any string */
	K_INT,	   /* any integer */
	K_POS,	   /* integer >= 1 */
	K_NONNEG,  /* integer >= 0 */
	K_HEX64,   /* 64 lower-case hex characters */
	K_SIG,	   /* lower-case hex, even, 2..AUDIT_SIG_HEX_MAX */
	K_HASHALG, /* "sha256" / "sm3" */
	K_SIGALG,  /* "ed25519" / "sm2" */
	K_FORMAT,  /* AUDIT_EXPORT_FORMAT */
	K_KID,	   /* [a-z0-9_-]{1,63} */
};

struct fspec {
	const char *name;
	enum kind kind;
};

static const struct fspec header_fields[] = {
	{ "created_ms", K_INT }, { "format", K_FORMAT },  { "hash_alg", K_HASHALG },
	{ "key_id", K_KID },	 { "sig_alg", K_SIGALG }, { "type", K_TYPE },
};

static const struct fspec record_fields[] = {
	{ "action", K_TEXT },	  { "actor_id", K_TEXT },   { "actor_role", K_TEXT },
	{ "actor_type", K_TEXT }, { "details", K_TEXT },    { "device", K_TEXT },
	{ "hash", K_HEX64 },	  { "object_id", K_TEXT },  { "object_type", K_TEXT },
	{ "outcome", K_TEXT },	  { "prev_hash", K_HEX64 }, { "request_id", K_TEXT },
	{ "seq", K_POS },	  { "source_ip", K_TEXT },  { "ts_ms", K_INT },
	{ "type", K_TYPE },
};

static const struct fspec checkpoint_fields[] = {
	{ "hash_alg", K_HASHALG }, { "head", K_HEX64 }, { "key_id", K_KID }, { "seq", K_POS },
	{ "sig", K_SIG },	   { "ts_ms", K_INT },	{ "type", K_TYPE },
};

/* The checkpoint file: the checkpoint fields without "type". */
static const struct fspec file_fields[] = {
	{ "hash_alg", K_HASHALG }, { "head", K_HEX64 }, { "key_id", K_KID },
	{ "seq", K_POS },	   { "sig", K_SIG },	{ "ts_ms", K_INT },
};

static const struct fspec trailer_fields[] = {
	{ "checkpoints", K_NONNEG }, { "digest", K_HEX64 },
	{ "records", K_NONNEG },     { "sig", K_SIG },
	{ "type", K_TYPE },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *type;
	enum anfu_audit_line_type t;
	const struct fspec *f;
	size_t n;
} line_types[] = {
	{ "header", ANFU_AUDIT_LINE_HEADER, header_fields, NELEM(header_fields) },
	{ "record", ANFU_AUDIT_LINE_RECORD, record_fields, NELEM(record_fields) },
	{ "checkpoint", ANFU_AUDIT_LINE_CHECKPOINT, checkpoint_fields, NELEM(checkpoint_fields) },
	{ "trailer", ANFU_AUDIT_LINE_TRAILER, trailer_fields, NELEM(trailer_fields) },
};

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool kid_ok(const char *s, size_t n)
{
	if (n == 0 || n >= ANFU_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool value_ok(enum kind k, const json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t n = s ? json_string_length(v) : 0;
	enum anfu_hash_alg ha;
	enum anfu_sig_alg sa;

	switch (k) {
	case K_TYPE:
	case K_TEXT: return s != NULL;
	case K_INT: return json_is_integer(v);
	case K_POS: return json_is_integer(v) && json_integer_value(v) >= 1;
	case K_NONNEG: return json_is_integer(v) && json_integer_value(v) >= 0;
	case K_HEX64: return s && audit_is_hash_hex(s, n);
	case K_SIG: return s && n >= 2 && n % 2 == 0 && n <= AUDIT_SIG_HEX_MAX && lower_hex(s, n);
	case K_HASHALG:
		return s && strlen(s) == n && anfu_hash_from_name(s, &ha) == 0 &&
		       strcmp(anfu_hash_name(ha), s) == 0;
	case K_SIGALG:
		return s && strlen(s) == n && anfu_sig_from_name(s, &sa) == 0 &&
		       strcmp(anfu_sig_name(sa), s) == 0;
	case K_FORMAT: return s && strlen(s) == n && strcmp(s, AUDIT_EXPORT_FORMAT) == 0;
	case K_KID: return s && kid_ok(s, n);
	}
	return false;
}

static bool fields_ok(const json_t *obj, const struct fspec *f, size_t n)
{
	if (json_object_size(obj) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(obj, f[i].name);

		if (!v || !value_ok(f[i].kind, v))
			return false;
	}
	return true;
}

/* The line must be exactly the canonical form of what it parsed to. */
static bool is_canonical(const json_t *obj, const char *line, size_t len)
{
	struct anfu_buf b;
	bool ok;

	anfu_buf_init(&b, ANFU_LIMIT_AUDIT_EXPORT_LINE + 1);
	ok = audit_json_canon(&b, obj) == 0 && b.len == len && memcmp(b.data, line, len) == 0;
	anfu_buf_free(&b);
	return ok;
}

/* Parses line as one JSON object; NULL on any syntax problem. */
static json_t *load_object(const char *line, size_t len)
{
	json_error_t jerr;
	json_t *obj;

	if (len == 0 || len > ANFU_LIMIT_AUDIT_EXPORT_LINE || line[0] != '{' ||
	    memchr(line, '\n', len))
		return NULL;
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj && !json_is_object(obj)) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

int anfu_audit_parse_line(const char *line, size_t len, struct anfu_audit_line *ret)
{
	json_t *obj = NULL;
	const char *type;
	int r = ANFU_EINVAL;

	if (!line || !ret)
		return ANFU_EINVAL;
	obj = load_object(line, len);
	if (!obj)
		goto out;
	type = json_string_value(json_object_get(obj, "type"));
	if (!type)
		goto out;
	for (size_t i = 0; i < NELEM(line_types); i++) {
		if (strcmp(type, line_types[i].type) != 0)
			continue;
		if (!fields_ok(obj, line_types[i].f, line_types[i].n) ||
		    !is_canonical(obj, line, len))
			goto out;
		ret->type = line_types[i].t;
		ret->obj = obj;
		obj = NULL;
		r = 0;
		goto out;
	}
out:
	json_decref(obj);
	return r;
}

void anfu_audit_line_free(struct anfu_audit_line *l)
{
	if (!l)
		return;
	json_decref(l->obj);
	l->obj = NULL;
}

/* ---- checkpoints ------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const json_t *v)
{
	const char *s = json_string_value(v);

	(void)snprintf(dst, cap, "%s", s ? s : "");
}

void audit_ckpt_from_json(const json_t *obj, struct audit_ckpt *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->seq = (int64_t)json_integer_value(json_object_get(obj, "seq"));
	ret->ts_ms = (int64_t)json_integer_value(json_object_get(obj, "ts_ms"));
	copy_str(ret->head, sizeof(ret->head), json_object_get(obj, "head"));
	copy_str(ret->key_id, sizeof(ret->key_id), json_object_get(obj, "key_id"));
	copy_str(ret->hash_alg, sizeof(ret->hash_alg), json_object_get(obj, "hash_alg"));
	copy_str(ret->sig, sizeof(ret->sig), json_object_get(obj, "sig"));
}

int audit_parse_ckpt_line(const char *line, size_t len, struct audit_ckpt *ret)
{
	json_t *obj = load_object(line, len);
	int r = ANFU_EINVAL;

	if (obj && fields_ok(obj, file_fields, NELEM(file_fields)) &&
	    is_canonical(obj, line, len)) {
		audit_ckpt_from_json(obj, ret);
		r = 0;
	}
	json_decref(obj);
	return r;
}

bool audit_ckpt_well_formed(const struct audit_ckpt *c)
{
	size_t sl = strlen(c->sig);
	enum anfu_hash_alg ha;

	return c->seq >= 1 && audit_is_hash_hex(c->head, strlen(c->head)) &&
	       kid_ok(c->key_id, strlen(c->key_id)) && anfu_hash_from_name(c->hash_alg, &ha) == 0 &&
	       strcmp(anfu_hash_name(ha), c->hash_alg) == 0 && sl >= 2 && sl % 2 == 0 &&
	       sl <= AUDIT_SIG_HEX_MAX && lower_hex(c->sig, sl);
}

/* c must be well formed (audit_ckpt_well_formed): every string is ASCII,
 * so jansson cannot refuse it. */
json_t *audit_ckpt_to_json(const struct audit_ckpt *c, bool with_type)
{
	json_t *o = json_object();

	if (!o)
		abort();
	if (with_type)
		(void)anfu_json_set(o, "type", json_string("checkpoint"));
	(void)anfu_json_set(o, "hash_alg", json_string(c->hash_alg));
	(void)anfu_json_set(o, "head", json_string(c->head));
	(void)anfu_json_set(o, "key_id", json_string(c->key_id));
	(void)anfu_json_set(o, "sig", json_string(c->sig));
	(void)anfu_json_set(o, "seq", json_integer(c->seq));
	(void)anfu_json_set(o, "ts_ms", json_integer(c->ts_ms));
	return o;
}

/* ---- lines ------------------------------------------------------------- */

int audit_read_line(FILE *f, char *buf, size_t cap, size_t *ret_len, bool *ret_nl)
{
	size_t n = 0;
	bool nl = false;
	int c;

	while ((c = getc_unlocked(f)) != EOF) {
		if (c == '\n') {
			nl = true;
			break;
		}
		if (n == cap)
			return ANFU_ELIMIT;
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return ANFU_EIO;
	if (n == 0 && !nl)
		return 0;
	*ret_len = n;
	*ret_nl = nl;
	return 1;
}
