/*
 * config/render: text generated from the option table: the Markdown
 * reference of docs/configuration.md, the example file etc/anfu.conf.example
 * and the "section.key = value" dump of a loaded config.
 *
 * Owns nothing; appends to buffers the caller owns. Trusts the table and
 * the struct (both are ours). Output is deterministic, so the committed
 * reference and example can be compared with it byte for byte.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "config/config.h"
#include "config/options.h"

/* Comment lines of the example file stay within this many columns. */
#define COMMENT_WIDTH 78

/* Appends s with the characters that break a Markdown table cell escaped. */
static int append_cell(struct anfu_buf *out, const char *s)
{
	int r = 0;

	for (; *s && r == 0; s++)
		r = *s == '|' ? anfu_buf_appends(out, "\\|") : anfu_buf_append(out, s, 1);
	return r;
}

static int describe_default(struct anfu_buf *out, const struct anfu_config_option *o)
{
	struct anfu_buf v;
	int r;

	if (o->type == ANFU_OPT_PATH)
		return anfu_buf_appendf(out, "empty: `DATA/%s`", o->path_default);
	anfu_buf_init(&v, ANFU_LIMIT_CONFIG_VALUE_BYTES);
	r = anfu_config_option_default(o, &v);
	if (r == 0)
		r = anfu_buf_appends(out, "`");
	if (r == 0)
		r = append_cell(out, v.data ? v.data : "");
	if (r == 0)
		r = anfu_buf_appends(out, "`");
	anfu_buf_free(&v);
	return r;
}

static int describe_row(struct anfu_buf *out, const struct anfu_config_option *o)
{
	struct anfu_buf range;
	int r;

	anfu_buf_init(&range, ANFU_LIMIT_CONFIG_VALUE_BYTES);
	r = anfu_config_option_range(o, &range);
	if (r == 0)
		r = anfu_buf_appendf(out, "| %s | `%s.%s` | %s | ", o->section, o->section, o->key,
				     anfu_config_type_name(o->type));
	if (r == 0)
		r = describe_default(out, o);
	if (r == 0)
		r = anfu_buf_appends(out, " | ");
	if (r == 0)
		r = append_cell(out, range.data ? range.data : "");
	if (r == 0)
		r = anfu_buf_appendf(out, " | %s | ", o->reqs ? o->reqs : "—");
	if (r == 0)
		r = append_cell(out, o->doc);
	if (r == 0)
		r = anfu_buf_appends(out, " |\n");
	anfu_buf_free(&range);
	return r;
}

int anfu_config_describe(const struct anfu_config_table *const *tables, size_t ntables,
			 struct anfu_buf *out)
{
	struct anfu_config_tables ts;
	size_t start;
	int r;

	if (!out)
		return ANFU_EINVAL;
	r = anfu_config_tables_make(tables, ntables, &ts);
	if (r < 0)
		return r;
	start = out->len;
	r = anfu_buf_appends(out, "| Section | Key | Type | Default | Range / values | "
				  "Requirements | Description |\n"
				  "|---|---|---|---|---|---|---|\n");
	for (size_t t = 0; t < ts.n && r == 0; t++)
		for (size_t i = 0; i < ts.t[t]->noptions && r == 0; i++)
			r = describe_row(out, &ts.t[t]->options[i]);
	if (r < 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

/* Appends text as "# " comment lines of at most COMMENT_WIDTH columns,
 * breaking at spaces (a longer word gets a line of its own). */
static int append_comment(struct anfu_buf *out, const char *text)
{
	int r = 0;

	while (*text && r == 0) {
		size_t len = strlen(text), cut = len;

		if (len > COMMENT_WIDTH - 2) {
			cut = COMMENT_WIDTH - 2;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = strcspn(text, " ");
		}
		r = anfu_buf_appendf(out, "# %.*s\n", (int)cut, text);
		text += cut;
		while (*text == ' ')
			text++;
	}
	return r;
}

static int example_option(struct anfu_buf *out, const struct anfu_config_option *o)
{
	struct anfu_buf note, def;
	int r;

	anfu_buf_init(&note, ANFU_LIMIT_CONFIG_VALUE_BYTES);
	anfu_buf_init(&def, ANFU_LIMIT_CONFIG_VALUE_BYTES);
	r = anfu_buf_appends(&note, "Values: ");
	if (r == 0)
		r = anfu_config_option_range(o, &note);
	if (r == 0)
		r = anfu_buf_appends(&note, ".");
	if (r == 0 && o->type == ANFU_OPT_PATH)
		r = anfu_buf_appendf(&note, " Empty: DATA/%s.", o->path_default);
	if (r == 0 && o->reqs)
		r = anfu_buf_appendf(&note, " Serves: %s.", o->reqs);
	if (r == 0)
		r = anfu_config_option_default(o, &def);
	if (r == 0)
		r = anfu_buf_appends(out, "\n");
	if (r == 0)
		r = append_comment(out, o->doc);
	if (r == 0)
		r = append_comment(out, note.data);
	/* No trailing blank after '=' when the default is empty. */
	if (r == 0)
		r = anfu_buf_appendf(out, "%s =%s%s\n", o->key, def.len ? " " : "",
				     def.len ? def.data : "");
	anfu_buf_free(&note);
	anfu_buf_free(&def);
	return r;
}

int anfu_config_example(const struct anfu_config_table *const *tables, size_t ntables,
			struct anfu_buf *out)
{
	struct anfu_config_tables ts;
	const char *section = "";
	size_t start;
	int r;

	if (!out)
		return ANFU_EINVAL;
	r = anfu_config_tables_make(tables, ntables, &ts);
	if (r < 0)
		return r;
	start = out->len;
	r = anfu_buf_appends(
		out, "# anfu configuration: every option, at its default.\n"
		     "#\n"
		     "# Generated from the option table (src/config/options.c); the reference\n"
		     "# with ranges and requirement IDs is docs/configuration.md. Values are\n"
		     "# written without quotes. DATA is the data directory (anfud --data):\n"
		     "# an empty path means the file shown inside it, and a relative path is\n"
		     "# taken from it. Unknown keys, repeated keys and bad values are errors.\n");
	for (size_t t = 0; t < ts.n && r == 0; t++) {
		for (size_t i = 0; i < ts.t[t]->noptions && r == 0; i++) {
			const struct anfu_config_option *o = &ts.t[t]->options[i];

			if (strcmp(o->section, section) != 0) {
				section = o->section;
				r = anfu_buf_appendf(out, "\n[%s]\n", section);
			}
			if (r == 0)
				r = example_option(out, o);
		}
	}
	if (r < 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}

int anfu_config_dump(const struct anfu_config *c, struct anfu_buf *out)
{
	size_t start;
	int r = 0;

	if (!c || !out)
		return ANFU_EINVAL;
	start = out->len;
	for (size_t t = 0; t < c->ntables && r == 0; t++) {
		for (size_t i = 0; i < c->table[t]->noptions && r == 0; i++) {
			const struct anfu_config_option *o = &c->table[t]->options[i];

			r = anfu_buf_appendf(out, "%s.%s = ", o->section, o->key);
			if (r == 0)
				r = anfu_config_option_format(anfu_config_table_cdata(c, t), o,
							      out);
			if (r == 0)
				r = anfu_buf_appends(out, "\n");
		}
	}
	if (r < 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}
