/*
 * config/value: one option's value: parsing text into struct anfu_config,
 * printing it back, and describing what is accepted.
 *
 * Owns the strings it stores in the struct (until anfu_config_free). Trusts
 * nothing in the text: every value is checked in full against its type and
 * range, and values echoed in messages are cut short and made printable.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "config/options.h"

static void *field(void *c, size_t offset)
{
	return (char *)c + offset;
}

static const void *cfield(const void *c, size_t offset)
{
	return (const char *)c + offset;
}

const char *anfu_config_echo(const char *s, char *out, size_t cap)
{
	size_t n = 0, i;

	for (i = 0; s[i] && n + 4 < cap && i < ANFU_LIMIT_CONFIG_ECHO_BYTES; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (s[i]) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Writes "section.key: <fmt>" into msg and returns ANFU_EINVAL. */
__attribute__((format(printf, 4, 5))) static int bad(char *msg, size_t msglen,
						     const struct anfu_config_option *o,
						     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!msg || msglen == 0)
		return ANFU_EINVAL;
	n = snprintf(msg, msglen, "%s.%s: ", o->section, o->key);
	if (n >= 0 && (size_t)n < msglen) {
		va_start(ap, fmt);
		(void)vsnprintf(msg + n, msglen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return ANFU_EINVAL;
}

/* Printable UTF-8: no control characters anywhere. */
static bool printable(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return anfu_utf8_valid(s, len);
}

static int enum_index(const struct anfu_config_option *o, const char *text)
{
	for (int i = 0; o->values[i]; i++)
		if (strcmp(o->values[i], text) == 0)
			return i;
	return -1;
}

static int bad_enum(const struct anfu_config_option *o, const char *text, char *msg, size_t msglen)
{
	struct anfu_buf vals;
	char e[ANFU_LIMIT_CONFIG_ECHO_BYTES + 8];

	anfu_buf_init(&vals, 1024);
	(void)anfu_config_option_range(o, &vals);
	(void)bad(msg, msglen, o, "'%s' is not one of %s", anfu_config_echo(text, e, sizeof(e)),
		  vals.data ? vals.data : "");
	anfu_buf_free(&vals);
	return ANFU_EINVAL;
}

static void set_string(void *c, const struct anfu_config_option *o, const char *text)
{
	char **dst = field(c, o->offset);

	free(*dst);
	*dst = anfu_xstrdup(text);
}

static int set_int(void *c, const struct anfu_config_option *o, const char *text, char *msg,
		   size_t msglen)
{
	char e[ANFU_LIMIT_CONFIG_ECHO_BYTES + 8];
	long long v;
	int r = anfu_parse_i64(anfu_str_c(text), &v);

	if (r == ANFU_EINVAL)
		return bad(msg, msglen, o, "'%s' is not a decimal integer",
			   anfu_config_echo(text, e, sizeof(e)));
	if (r < 0 || v < o->min || v > o->max)
		return bad(msg, msglen, o, "%s is out of range %lld..%lld",
			   anfu_config_echo(text, e, sizeof(e)), (long long)o->min,
			   (long long)o->max);
	*(int64_t *)field(c, o->offset) = (int64_t)v;
	return 0;
}

/* Parses one trimmed list item (p, len) into *ret. */
static int parse_cidr_item(const struct anfu_config_option *o, const char *p, size_t len,
			   struct anfu_cidr *ret, char *msg, size_t msglen)
{
	char item[64], e[ANFU_LIMIT_CONFIG_ECHO_BYTES + 8];
	size_t n = len < sizeof(item) ? len : sizeof(item) - 1;

	memcpy(item, p, n);
	item[n] = '\0';
	if (len == 0)
		return bad(msg, msglen, o, "empty entry (expected comma-separated CIDRs)");
	if (len >= sizeof(item) || anfu_cidr_parse(item, ret) < 0)
		return bad(msg, msglen, o, "'%s' is not a CIDR (address/prefix)",
			   anfu_config_echo(item, e, sizeof(e)));
	return 0;
}

/* Splits a comma-separated list into cidrs and counts them in *ret_n. */
static int parse_cidr_list(const struct anfu_config_option *o, const char *text,
			   struct anfu_cidr *cidrs, int *ret_n, char *msg, size_t msglen)
{
	const char *p = text;
	int n = 0, r;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (n == ANFU_LIMIT_CONFIG_CIDRS)
			return bad(msg, msglen, o, "more than %d CIDRs", ANFU_LIMIT_CONFIG_CIDRS);
		r = parse_cidr_item(o, p, len, &cidrs[n], msg, msglen);
		if (r < 0)
			return r;
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	*ret_n = n;
	return 0;
}

static int set_cidr_list(void *c, const struct anfu_config_option *o, const char *text, char *msg,
			 size_t msglen)
{
	struct anfu_cidr cidrs[ANFU_LIMIT_CONFIG_CIDRS];
	int n = 0, r;

	if (!*text)
		return bad(msg, msglen, o,
			   "at least one CIDR is needed (to turn the "
			   "listener off set admin.enabled = false)");
	r = parse_cidr_list(o, text, cidrs, &n, msg, msglen);
	if (r < 0)
		return r;
	memcpy(field(c, o->offset), cidrs, (size_t)n * sizeof(cidrs[0]));
	*(int *)field(c, o->count_offset) = n;
	return 0;
}

static int set_text(void *c, const struct anfu_config_option *o, const char *text, char *msg,
		    size_t msglen)
{
	char e[ANFU_LIMIT_CONFIG_ECHO_BYTES + 8];
	uint8_t addr[16];
	int i;

	if (!printable(text))
		return bad(msg, msglen, o,
			   "'%s' has control characters or invalid "
			   "UTF-8",
			   anfu_config_echo(text, e, sizeof(e)));
	switch (o->type) {
	case ANFU_OPT_STRING:
		if (!*text)
			return bad(msg, msglen, o, "must not be empty");
		break;
	case ANFU_OPT_ADDRESS:
		if (inet_pton(AF_INET, text, addr) != 1 && inet_pton(AF_INET6, text, addr) != 1)
			return bad(msg, msglen, o, "'%s' is not an IPv4 or IPv6 address",
				   anfu_config_echo(text, e, sizeof(e)));
		break;
	case ANFU_OPT_ENUM_TEXT:
		i = enum_index(o, text);
		if (i < 0)
			return bad_enum(o, text, msg, msglen);
		text = o->values[i];
		break;
	default: break;
	}
	set_string(c, o, text);
	return 0;
}

int anfu_config_option_set(void *c, const struct anfu_config_option *o, const char *text, char *msg,
			   size_t msglen)
{
	char e[ANFU_LIMIT_CONFIG_ECHO_BYTES + 8];
	int i;

	if (!c || !o || !text)
		return ANFU_EINVAL;
	switch (o->type) {
	case ANFU_OPT_BOOL:
		if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
			return bad(msg, msglen, o, "'%s' is not true or false",
				   anfu_config_echo(text, e, sizeof(e)));
		*(bool *)field(c, o->offset) = text[0] == 't';
		return 0;
	case ANFU_OPT_INT: return set_int(c, o, text, msg, msglen);
	case ANFU_OPT_ENUM:
		i = enum_index(o, text);
		if (i < 0)
			return bad_enum(o, text, msg, msglen);
		memcpy(field(c, o->offset), &i, sizeof(i));
		return 0;
	case ANFU_OPT_CIDR_LIST: return set_cidr_list(c, o, text, msg, msglen);
	case ANFU_OPT_STRING:
	case ANFU_OPT_ENUM_TEXT:
	case ANFU_OPT_PATH:
	case ANFU_OPT_ADDRESS: return set_text(c, o, text, msg, msglen);
	}
	return ANFU_EINTERNAL;
}

void anfu_config_option_clear(void *c, const struct anfu_config_option *o)
{
	char **p;

	switch (o->type) {
	case ANFU_OPT_STRING:
	case ANFU_OPT_ENUM_TEXT:
	case ANFU_OPT_PATH:
	case ANFU_OPT_ADDRESS:
		p = field(c, o->offset);
		free(*p);
		*p = NULL;
		break;
	default: break;
	}
}

static int format_cidrs(const struct anfu_cidr *cidrs, int n, struct anfu_buf *out)
{
	char text[INET6_ADDRSTRLEN];
	int r = 0;

	for (int i = 0; i < n && r == 0; i++) {
		if (!inet_ntop(cidrs[i].family, cidrs[i].addr, text, sizeof(text)))
			return ANFU_EINTERNAL;
		r = anfu_buf_appendf(out, "%s%s/%d", i ? ", " : "", text, cidrs[i].prefix);
	}
	return r;
}

int anfu_config_option_format(const void *c, const struct anfu_config_option *o,
			      struct anfu_buf *out)
{
	const char *const *s;
	int i;

	switch (o->type) {
	case ANFU_OPT_BOOL:
		return anfu_buf_appends(out,
					*(const bool *)cfield(c, o->offset) ? "true" : "false");
	case ANFU_OPT_INT:
		return anfu_buf_appendf(out, "%lld",
					(long long)*(const int64_t *)cfield(c, o->offset));
	case ANFU_OPT_ENUM:
		memcpy(&i, cfield(c, o->offset), sizeof(i));
		for (int k = 0; o->values[k]; k++)
			if (k == i)
				return anfu_buf_appends(out, o->values[k]);
		return ANFU_EINTERNAL;
	case ANFU_OPT_CIDR_LIST:
		return format_cidrs(cfield(c, o->offset), *(const int *)cfield(c, o->count_offset),
				    out);
	case ANFU_OPT_STRING:
	case ANFU_OPT_ENUM_TEXT:
	case ANFU_OPT_PATH:
	case ANFU_OPT_ADDRESS: s = cfield(c, o->offset); return anfu_buf_appends(out, *s ? *s : "");
	}
	return ANFU_EINTERNAL;
}

int anfu_config_option_default(const struct anfu_config_option *o, struct anfu_buf *out)
{
	if (o->type == ANFU_OPT_INT)
		return anfu_buf_appendf(out, "%lld", (long long)o->int_default);
	return anfu_buf_appends(out, o->def ? o->def : "");
}

int anfu_config_option_range(const struct anfu_config_option *o, struct anfu_buf *out)
{
	int r = 0;

	switch (o->type) {
	case ANFU_OPT_BOOL: return anfu_buf_appends(out, "true, false");
	case ANFU_OPT_INT:
		return anfu_buf_appendf(out, "%lld..%lld%s%s", (long long)o->min, (long long)o->max,
					o->unit ? " " : "", o->unit ? o->unit : "");
	case ANFU_OPT_ENUM:
	case ANFU_OPT_ENUM_TEXT:
		for (int i = 0; o->values[i] && r == 0; i++)
			r = anfu_buf_appendf(out, "%s%s", i ? ", " : "", o->values[i]);
		return r;
	case ANFU_OPT_STRING: return anfu_buf_appends(out, "non-empty text");
	case ANFU_OPT_PATH:
		return anfu_buf_appends(out, "file path (relative: inside the data directory)");
	case ANFU_OPT_ADDRESS: return anfu_buf_appends(out, "IPv4 or IPv6 literal");
	case ANFU_OPT_CIDR_LIST:
		return anfu_buf_appendf(out, "1 to %d comma-separated CIDRs",
					ANFU_LIMIT_CONFIG_CIDRS);
	}
	return ANFU_EINTERNAL;
}

const char *anfu_config_type_name(enum anfu_opt_type t)
{
	switch (t) {
	case ANFU_OPT_BOOL: return "bool";
	case ANFU_OPT_INT: return "int";
	case ANFU_OPT_STRING: return "string";
	case ANFU_OPT_ENUM: return "enum";
	case ANFU_OPT_ENUM_TEXT: return "enum";
	case ANFU_OPT_PATH: return "path";
	case ANFU_OPT_CIDR_LIST: return "cidr-list";
	case ANFU_OPT_ADDRESS: return "address";
	}
	return "?";
}
