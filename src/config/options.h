/*
 * config/options: the option table shared by the files of src/config/
 * (private to the module; other modules include config/config.h).
 *
 * Owns nothing at run time: the table is static data. Trusts itself: every
 * default in the table must parse under its own type and range, which
 * anfu_config_defaults() asserts.
 */
#ifndef ANFU_CONFIG_OPTIONS_H
#define ANFU_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct anfu_buf;
struct anfu_config;

/* Longest line of a configuration file, and largest file, we accept. */
#define ANFU_CONFIG_LINE_MAX 4096
#define ANFU_CONFIG_FILE_MAX (1024 * 1024)

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
	size_t offset;		   /* offsetof() the field in struct anfu_config */
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

extern const struct anfu_config_option anfu_config_options[];
extern const size_t anfu_config_noptions;

/* The option for section.key, or NULL. */
const struct anfu_config_option *anfu_config_option_find(const char *section, const char *key);
/* True when name is a section of the table. */
bool anfu_config_section_known(const char *name);

/* Parses text as the option's value and stores it in c, replacing (and
 * freeing) what was there. On failure returns ANFU_EINVAL, leaves c as it
 * was and writes a message without file or line into msg. */
int anfu_config_option_set(struct anfu_config *c, const struct anfu_config_option *o,
			   const char *text, char *msg, size_t msglen);
/* Frees what the option owns in c (strings) and clears the field. */
void anfu_config_option_clear(struct anfu_config *c, const struct anfu_config_option *o);
/* Appends the option's current value in c, as it would be written in the
 * file. */
int anfu_config_option_format(const struct anfu_config *c, const struct anfu_config_option *o,
			      struct anfu_buf *out);
/* Appends the option's default, as text. */
int anfu_config_option_default(const struct anfu_config_option *o, struct anfu_buf *out);
/* Appends the accepted values ("1..600 s", "basic, enhanced", ...). */
int anfu_config_option_range(const struct anfu_config_option *o, struct anfu_buf *out);
/* Copies s into out (cap bytes, at least 8) for an error message: at most
 * 48 bytes, non-printable bytes as '?', "..." when cut; returns out. */
const char *anfu_config_echo(const char *s, char *out, size_t cap);

/* Allocates a config holding every default, with data_dir made absolute
 * and paths not yet resolved. *ret is the caller's. */
int anfu_config_new(const char *data_dir, struct anfu_config **ret);
/* Checks rules that span options and resolves paths against the data
 * directory. lines[i] is the line where option i was set (0 = default);
 * on ANFU_EINVAL *ret_line is the line to blame (0 = none) and msg says
 * why. */
int anfu_config_finish(struct anfu_config *c, const int *lines, int *ret_line, char *msg,
		       size_t msglen);

/* The type's name for the reference ("int", "path", ...); static. */
const char *anfu_config_type_name(enum anfu_opt_type t);

#endif
