/*
 * config/options: what the files of src/config/ share (private to the
 * module; other modules include config/config.h, and those declaring an
 * option table config/option.h).
 *
 * Owns nothing at run time: the platform's tables are static data. Trusts
 * the tables: every default must parse under its own type and range, which
 * anfu_config_new() asserts.
 */
#ifndef ANFU_CONFIG_OPTIONS_H
#define ANFU_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "config/option.h"

struct anfu_buf;
struct anfu_config;

/* The platform's tables, fields of struct anfu_config (size 0): the
 * process (server, http, admin, limits, database, audit, log) and the
 * outgoing messages (mail, sms, notify), which the reference lists after
 * the modules' sections, where they have always been. */
extern const struct anfu_config_table anfu_config_platform;
extern const struct anfu_config_table anfu_config_platform_notify;

/* Every table of a configuration, in the reference's order: the
 * platform's process table, the modules' tables as given, the platform's
 * message table. */
struct anfu_config_tables {
	const struct anfu_config_table *t[ANFU_CONFIG_TABLES_MAX + 2];
	size_t n;
};

/* Builds the list from the n module tables mods (borrowed; static data).
 * ANFU_EINVAL for more than ANFU_CONFIG_TABLES_MAX tables, a NULL one, or
 * a section two tables share. */
int anfu_config_tables_make(const struct anfu_config_table *const *mods, size_t n,
			    struct anfu_config_tables *ret);
/* Options of every table together (the size of a per-option array). */
size_t anfu_config_tables_noptions(const struct anfu_config_tables *ts);
/* The option for section.key, or NULL; *ret_table (may be NULL) gets its
 * table's index in ts and *ret_flat (may be NULL) its index counted over
 * every table in order. */
const struct anfu_config_option *anfu_config_option_find(const struct anfu_config_tables *ts,
							 const char *section, const char *key,
							 size_t *ret_table, size_t *ret_flat);
/* True when name is a section of any table of ts. */
bool anfu_config_section_known(const struct anfu_config_tables *ts, const char *name);
/* The struct table i of c's list fills: c itself for the platform's. */
void *anfu_config_table_data(struct anfu_config *c, size_t i);
const void *anfu_config_table_cdata(const struct anfu_config *c, size_t i);

/* Parses text as the option's value and stores it in the struct at base,
 * replacing (and freeing) what was there. On failure returns ANFU_EINVAL,
 * leaves the struct as it was and writes a message without file or line
 * into msg. */
int anfu_config_option_set(void *base, const struct anfu_config_option *o, const char *text,
			   char *msg, size_t msglen);
/* Frees what the option owns in the struct at base (strings) and clears
 * the field. */
void anfu_config_option_clear(void *base, const struct anfu_config_option *o);
/* Appends the option's current value in the struct at base, as it would
 * be written in the file. */
int anfu_config_option_format(const void *base, const struct anfu_config_option *o,
			      struct anfu_buf *out);
/* Appends the option's default, as text. */
int anfu_config_option_default(const struct anfu_config_option *o, struct anfu_buf *out);
/* Appends the accepted values ("1..600 s", "basic, enhanced", ...). */
int anfu_config_option_range(const struct anfu_config_option *o, struct anfu_buf *out);
/* Copies s into out (cap bytes, at least 8) for an error message: at most
 * 48 bytes, non-printable bytes as '?', "..." when cut; returns out. */
const char *anfu_config_echo(const char *s, char *out, size_t cap);

/* Allocates a config holding every default of every table of ts (copied
 * into it), with data_dir made absolute and paths not yet resolved. *ret
 * is the caller's. */
int anfu_config_new(const char *data_dir, const struct anfu_config_tables *ts,
		    struct anfu_config **ret);
/* Checks rules that span options and resolves paths against the data
 * directory. lines[i] is the line where option i (flat index) was set
 * (0 = default); on ANFU_EINVAL *ret_line is the line to blame (0 = none)
 * and msg says why. */
int anfu_config_finish(struct anfu_config *c, const int *lines, int *ret_line, char *msg,
		       size_t msglen);

/* The type's name for the reference ("int", "path", ...); static. */
const char *anfu_config_type_name(enum anfu_opt_type t);

#endif
