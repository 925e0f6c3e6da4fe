/*
 * config/option: what an option table is, for the modules that declare one.
 *
 * The platform's options live in config/options.c and fill struct
 * anfu_config; a module's options (its own sections) live in its folder,
 * fill a struct of its own and reach config/ through its descriptor as a
 * struct anfu_config_table. Parsing, defaults, `anfu config check`, the
 * reference of docs/configuration.md and the example file read every table
 * the same way. Owns nothing at run time: tables are static data, checked
 * at compile time (field types, through ANFU_OPT_FIELD) and when a
 * configuration is made (every default parses under its own range).
 */
#ifndef ANFU_CONFIG_OPTION_H
#define ANFU_CONFIG_OPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum anfu_opt_type {
	ANFU_OPT_BOOL,	    /* bool; "true" or "false" */
	ANFU_OPT_INT,	    /* int64_t; decimal, min..max */
	ANFU_OPT_STRING,    /* char *; non-empty printable UTF-8 */
	ANFU_OPT_ENUM,	    /* int (an enum); index into values */
	ANFU_OPT_ENUM_TEXT, /* char *; one of values, stored as text */
	ANFU_OPT_PATH,	    /* char *; "" = path_default inside the data dir */
	ANFU_OPT_CIDR_LIST, /* struct anfu_cidr[] at offset, int count at count_offset */
	ANFU_OPT_ADDRESS,   /* char *; an IPv4 or IPv6 literal */
};

struct anfu_config_option {
	const char *section;
	const char *key;
	enum anfu_opt_type type;
	size_t offset;		   /* offsetof() the field in the table's struct */
	size_t count_offset;	   /* CIDR_LIST: offsetof() the int count */
	int64_t min, max;	   /* INT: inclusive range */
	int64_t int_default;	   /* INT: the default */
	const char *def;	   /* every other type: the default, as text */
	const char *const *values; /* ENUM, ENUM_TEXT: NULL-terminated */
	const char *path_default;  /* PATH: used when the value is empty,
				      relative to the data directory */
	const char *unit;	   /* INT: "bytes", "s", ... or NULL */
	const char *reqs;	   /* requirement IDs, as text */
	const char *doc;	   /* one line of documentation */
};

/* The options of one owner, stored in one struct of size bytes that
 * config/ allocates, fills with the defaults and then the file's values,
 * and frees with the configuration (anfu_config_module() finds it). A
 * table's sections are its own: no other table may use them. */
struct anfu_config_table {
	const char *owner; /* "iam": the module, for messages */
	const struct anfu_config_option *options;
	size_t noptions;
	size_t size;
};

/* offsetof() field f of the struct named by ANFU_CONFIG_STRUCT (define it
 * before the table), refused at compile time unless f has type T. */
#define ANFU_OPT_FIELD(f, T)                                                                       \
	(offsetof(ANFU_CONFIG_STRUCT, f) +                                                         \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((ANFU_CONFIG_STRUCT *)0)->f), T) \
				 ? 1                                                               \
				 : -1]))

#define ANFU_OPT_INT(s, k, f, lo, hi, d, u, r, doc_)                                          \
	{                                                                                     \
		.section = s, .key = k, .type = ANFU_OPT_INT,                                 \
		.offset = ANFU_OPT_FIELD(f, int64_t), .min = lo, .max = hi, .int_default = d, \
		.unit = u, .reqs = r, .doc = doc_                                             \
	}
#define ANFU_OPT_BOOL(s, k, f, d, r, doc_)                                                        \
	{                                                                                         \
		.section = s, .key = k, .type = ANFU_OPT_BOOL, .offset = ANFU_OPT_FIELD(f, bool), \
		.def = d, .reqs = r, .doc = doc_                                                  \
	}
#define ANFU_OPT_ENUM(s, k, f, T, v, d, r, doc_)                                               \
	{                                                                                      \
		.section = s, .key = k, .type = ANFU_OPT_ENUM, .offset = ANFU_OPT_FIELD(f, T), \
		.values = v, .def = d, .reqs = r, .doc = doc_                                  \
	}
#define ANFU_OPT_ENUM_TEXT(s, k, f, v, d, r, doc_)                                                 \
	{                                                                                          \
		.section = s, .key = k, .type = ANFU_OPT_ENUM_TEXT,                                \
		.offset = ANFU_OPT_FIELD(f, char *), .values = v, .def = d, .reqs = r, .doc = doc_ \
	}
#define ANFU_OPT_TEXT(s, k, t, f, d, r, doc_)                                                     \
	{                                                                                         \
		.section = s, .key = k, .type = t, .offset = ANFU_OPT_FIELD(f, char *), .def = d, \
		.reqs = r, .doc = doc_                                                            \
	}
#define ANFU_OPT_PATH(s, k, f, pd, r, doc_)                                                    \
	{                                                                                      \
		.section = s, .key = k, .type = ANFU_OPT_PATH,                                 \
		.offset = ANFU_OPT_FIELD(f, char *), .def = "", .path_default = pd, .reqs = r, \
		.doc = doc_                                                                    \
	}

#endif
