/*
 * base/json: request bodies decoded into typed structs from an allowlist.
 *
 * A handler describes the fields it accepts in a table; anfu_json_decode()
 * checks UTF-8, nesting depth, duplicate keys, unknown fields, types,
 * ranges and formats, and fills the struct. Strings are copied into the
 * request arena (NUL-terminated). On failure nothing useful is left in the
 * struct and *err names the first problem and the field.
 */
#ifndef ANFU_BASE_JSON_H
#define ANFU_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/str.h"

struct anfu_arena;
struct anfu_buf;

enum anfu_jtype {
	ANFU_JT_STRING, /* target: struct anfu_str; .ptr == NULL when absent.
			   Text (base/text.h): Cc, Cf, Zl and Zp characters are
			   refused (invalid_text), the value is stored in NFC */
	ANFU_JT_SECRET, /* target: struct anfu_str; the bytes as sent, for
			   passwords and PINs, whose own policy judges them */
	ANFU_JT_INT,	/* target: struct anfu_opt_i64 */
	ANFU_JT_BOOL,	/* target: struct anfu_opt_bool */
};

struct anfu_opt_i64 {
	bool set;
	int64_t v;
};

struct anfu_opt_bool {
	bool set;
	bool v;
};

struct anfu_jfield {
	const char *name;
	enum anfu_jtype type;
	size_t offset; /* offsetof() the target in the output struct */
	bool required;
	int64_t min;				  /* INT: smallest value; STRING: fewest code points
			(of the NFC form) */
	int64_t max;				  /* INT: largest value; STRING: most code points
			      (0 = the global string limit) */
	bool (*check)(const char *s, size_t len); /* STRING: format, or NULL */
};

struct anfu_json_limits {
	unsigned max_depth;	 /* nesting of objects and arrays */
	size_t max_string_bytes; /* any string value or key */
};

/* Stable error codes (they appear in API error bodies). */
#define ANFU_JERR_INVALID_JSON "invalid_json"
#define ANFU_JERR_INVALID_UTF8 "invalid_utf8"
#define ANFU_JERR_TOO_DEEP "json_too_deep"
#define ANFU_JERR_UNKNOWN_FIELD "unknown_field"
#define ANFU_JERR_MISSING_FIELD "missing_field"
#define ANFU_JERR_INVALID_FIELD "invalid_field"
#define ANFU_JERR_OUT_OF_RANGE "field_out_of_range"
#define ANFU_JERR_INVALID_TEXT "invalid_text"

struct anfu_jerr {
	const char *code; /* one of ANFU_JERR_*, static */
	char field[64];	  /* offending field name ("" when none) */
};

/* Decodes body (len bytes, not NUL-terminated) as one JSON object whose
 * keys must all appear in fields[0..nfields). Returns 0, or ANFU_EINVAL
 * with *err filled, or ANFU_ELIMIT when the arena cap is hit. Strings in
 * *out point into arena a. */
int anfu_json_decode(struct anfu_arena *a, const struct anfu_json_limits *lim, const char *body,
		     size_t len, const struct anfu_jfield *fields, size_t nfields, void *out,
		     struct anfu_jerr *err);

/* Checks depth and UTF-8 of raw JSON text without parsing it; fills err
 * and returns ANFU_EINVAL on failure. Used by anfu_json_decode. */
int anfu_json_precheck(const struct anfu_json_limits *lim, const char *body, size_t len,
		       struct anfu_jerr *err);

/* Applies the text rule (base/text.h) to every string value inside v, an
 * object or array decoded without a field table (a payload whose fields a
 * service checks itself): each is replaced by its NFC form. Returns 0, or
 * ANFU_EINVAL with *err = invalid_text and the key that holds the bad
 * string (field names "" for array items). Object keys are not changed:
 * the service's own allowlist refuses keys it does not know. */
int anfu_json_normalize_strings(json_t *v, struct anfu_jerr *err);

/* Serialises v compactly (sorted keys) and appends it to out. */
int anfu_json_append(struct anfu_buf *out, const json_t *v);

/* json_object_set_new that aborts on allocation failure; returns obj. */
json_t *anfu_json_set(json_t *obj, const char *key, json_t *value);

#endif
