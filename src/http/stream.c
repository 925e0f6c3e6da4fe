/*
 * http/stream: a strict, streaming validator of HTTP/1.1 request framing
 * (RFC 9112), byte by byte, across the kept-alive and pipelined requests of
 * one connection.
 *
 * It exists because libmicrohttpd (0.9.75) parses heads leniently and in
 * place: a NUL truncates a value, obs-fold lines are joined, a bare LF ends
 * a line, "Transfer-Encoding " keeps its space, any Transfer-Encoding wins
 * over Content-Length, and an unknown coding reads the body until close;
 * and because MHD's own refusals are HTML without our headers. So
 * http/framing.c hands MHD only bytes this validator has accepted, and
 * only in a shape MHD parses the way we do (see anfu_stream_held()).
 *
 * The rules (docs/security.md, "HTTP parsing"), stricter than MHD on
 * purpose, so that MHD never reaches one of its own refusals:
 *   request-line = method SP origin-form SP ("HTTP/1.1" / "HTTP/1.0") CRLF;
 *     no empty lines before it; method a token; the target starts with "/",
 *     holds VCHARs other than '#', well-formed %XX escapes and, before the
 *     query, no %2F and no escaped control character (the router sees the
 *     path decoded and must not get a '/' or a control that was escaped);
 *   field-line = token ":" OWS value CRLF, with value bytes VCHAR, obs-text,
 *     SP or HTAB (no NUL, bare CR, other controls or DEL); no whitespace
 *     before the colon, no obs-fold; CRLF only, never a bare LF;
 *   at most one Content-Length (digits only, no list, no trailing
 *     whitespace, which MHD would not parse), at most one Transfer-Encoding
 *     and only exactly "chunked", never both, no Transfer-Encoding in
 *     HTTP/1.0, exactly one Host in HTTP/1.1 (at most one in 1.0) with host
 *     characters only;
 *   chunked: 1-16 hex digits, extensions ";" token ["=" (token /
 *     quoted-string)] without whitespace, CRLF after the data, trailers
 *     as field lines without Content-Length, Transfer-Encoding or Host.
 * Sizes: head (with trailers) <= head_bytes, fields <= fields, query
 * parameters <= query_params, cookies <= cookies (431); Content-Length or
 * the chunk sizes <= body_bytes (413); a chunk-size line <=
 * ANFU_LIMIT_CHUNK_LINE_BYTES (400). The first violation refuses the rest
 * of the connection.
 *
 * Pure: no MHD, no GnuTLS, no allocation, no locks; trusts nothing in the
 * bytes. One thread at a time per validator.
 */
#include <string.h>

#include "base/limits.h"
#include "base/refusal.h"
#include "http/internal.h"

enum state {
	S_START = 0, /* first byte of a request */
	S_METHOD,
	S_TARGET, /* first byte of the request-target */
	S_PATH,
	S_QUERY,
	S_PCT1,
	S_PCT2,
	S_VERSION, /* "HTTP/1." then the minor digit; sub counts */
	S_RL_CR,
	S_RL_LF,
	S_FIELD, /* start of a field line, or of the empty line */
	S_NAME,
	S_OWS, /* after the colon */
	S_VALUE,
	S_VALUE_LF,
	S_END_LF, /* after the CR of the empty line */
	S_BODY,	  /* Content-Length bytes */
	S_CHUNK,  /* first hex digit of a chunk size */
	S_CHUNK_HEX,
	S_EXT_NAME0,
	S_EXT_NAME,
	S_EXT_VAL0,
	S_EXT_TOKEN,
	S_EXT_QUOTED,
	S_EXT_QPAIR,
	S_EXT_QEND,
	S_CHUNK_LF,
	S_DATA, /* chunk data */
	S_DATA_CR,
	S_DATA_LF,
	S_REFUSED,
};

/* Field names the rules look at (bit i of st->names is candidate i). */
enum field {
	F_OTHER = 0,
	F_CL,
	F_TE,
	F_HOST,
	F_COOKIE,
	F_AL,
};

static const char *const known[] = {
	[F_CL] = "content-length", [F_TE] = "transfer-encoding", [F_HOST] = "host",
	[F_COOKIE] = "cookie",	   [F_AL] = "accept-language",
};

#define NKNOWN ((int)(sizeof(known) / sizeof(known[0])))
#define ALL_NAMES 0x3eu /* bits F_CL..F_AL */
#define CHUNK_DIGITS_MAX 16
#define STEP_BLOCK 1
#define STEP_REFUSED (-1)

/* Ends a chunked body for a parser that stopped before a chunk-size line,
 * or right after chunk data (before its CRLF). */
#define END_AT_SIZE "0\r\n\r\n"
#define END_AFTER_DATA "\r\n0\r\n\r\n"

/* ---- character classes ---------------------------------------------------- */

#define C_TCHAR 0x1u /* RFC 9110 §5.6.2 tchar */
#define C_HOST 0x2u  /* uri-host / port (RFC 3986 reg-name, IP-literal, ':') */

/* Classes of the ASCII punctuation; letters and digits are both. */
static const uint8_t punct[128] = {
	['!'] = C_TCHAR | C_HOST, ['#'] = C_TCHAR,	    ['$'] = C_TCHAR | C_HOST,
	['%'] = C_TCHAR | C_HOST, ['&'] = C_TCHAR | C_HOST, ['\''] = C_TCHAR | C_HOST,
	['('] = C_HOST,		  [')'] = C_HOST,	    ['*'] = C_TCHAR | C_HOST,
	['+'] = C_TCHAR | C_HOST, [','] = C_HOST,	    ['-'] = C_TCHAR | C_HOST,
	['.'] = C_TCHAR | C_HOST, [':'] = C_HOST,	    [';'] = C_HOST,
	['='] = C_HOST,		  ['['] = C_HOST,	    [']'] = C_HOST,
	['^'] = C_TCHAR,	  ['_'] = C_TCHAR | C_HOST, ['`'] = C_TCHAR,
	['|'] = C_TCHAR,	  ['~'] = C_TCHAR | C_HOST,
};

static bool is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_tchar(uint8_t c)
{
	return is_alnum(c) || (c < 128 && (punct[c] & C_TCHAR));
}

/* field-vchar / SP / HTAB: VCHAR, obs-text, SP, HTAB. */
static bool is_value(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Request-target bytes other than '%', '?' and SP: VCHAR except '#'. */
static bool is_target(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '#';
}

static bool is_host(uint8_t c)
{
	return is_alnum(c) || (c < 128 && (punct[c] & C_HOST));
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* ---- state helpers ----------------------------------------------------------- */

static bool in_head(uint8_t s)
{
	return s <= S_END_LF;
}

static bool in_chunk_line(uint8_t s)
{
	return s >= S_CHUNK && s <= S_CHUNK_LF;
}

static int refuse(struct anfu_stream *st, int status, const char *code)
{
	/* A refusal in a chunked body (its head was accepted) or in the
	 * trailers belongs to the request whose head MHD already has. */
	st->body_refused = !in_head(st->state) || st->trailers;
	st->after_data = st->state == S_DATA_CR || st->state == S_DATA_LF;
	st->status = status;
	st->code = code;
	st->state = S_REFUSED;
	return STEP_REFUSED;
}

static int bad(struct anfu_stream *st)
{
	return refuse(st, 400, ANFU_HTTP_CODE_FRAMING);
}

static int bad_target(struct anfu_stream *st)
{
	return refuse(st, 400, ANFU_HTTP_CODE_TARGET);
}

static int too_large_head(struct anfu_stream *st)
{
	return refuse(st, 431, ANFU_HTTP_CODE_HEADERS);
}

static int too_large_body(struct anfu_stream *st)
{
	return refuse(st, 413, ANFU_R_PAYLOAD_TOO_LARGE);
}

/* Resets what belongs to one request; called before its first byte. */
static void begin_request(struct anfu_stream *st)
{
	st->state = S_START;
	st->trailers = st->http10 = st->have_cl = st->have_te = st->cl_big = false;
	st->zh = st->al_seen = false;
	st->head_len = st->chunk_line = 0;
	st->nfields = st->nparams = st->ncookies = st->nhost = 0;
	st->cl = st->remaining = st->body_total = 0;
	st->method_len = st->path_len = 0;
}

void anfu_stream_init(struct anfu_stream *st, const struct anfu_stream_limits *lim)
{
	memset(st, 0, sizeof(*st));
	st->lim = *lim;
	begin_request(st);
}

/* ---- request line ------------------------------------------------------------- */

static void keep_path(struct anfu_stream *st, uint8_t c)
{
	if (!st->in_query && st->path_len < sizeof(st->path))
		st->path[st->path_len++] = (char)c;
}

/* One byte of the query: parameters are the '&'-separated parts of a
 * non-empty query, counted as MHD does at most. */
static int query_byte(struct anfu_stream *st, uint8_t c)
{
	if (st->query_empty) {
		st->query_empty = false;
		st->nparams++;
	}
	if (c == '&')
		st->nparams++;
	if (st->nparams > st->lim.query_params)
		return too_large_head(st);
	return 0;
}

static int target_byte(struct anfu_stream *st, uint8_t c)
{
	if (c == ' ') {
		st->state = S_VERSION;
		st->sub = 0;
		return 0;
	}
	if (st->in_query && query_byte(st, c) < 0)
		return STEP_REFUSED;
	if (c == '%') {
		keep_path(st, c);
		st->state = S_PCT1;
		return 0;
	}
	if (c == '?' && !st->in_query) {
		st->in_query = st->query_empty = true;
		st->state = S_QUERY;
		return 0;
	}
	if (!is_target(c))
		return bad_target(st);
	keep_path(st, c);
	return 0;
}

/* The second hex digit of an escape: the path must not hide a '/' or a
 * control character from the router, which sees it decoded. */
static int pct_byte(struct anfu_stream *st, uint8_t c)
{
	int v = hex_value(c);

	if (v < 0)
		return bad_target(st);
	keep_path(st, c);
	if (st->state == S_PCT1) {
		st->hex = (uint8_t)v;
		st->state = S_PCT2;
		return 0;
	}
	v |= st->hex << 4;
	if (!st->in_query && (v == '/' || v < 0x20 || v == 0x7f))
		return bad_target(st);
	st->state = st->in_query ? S_QUERY : S_PATH;
	return 0;
}

static int version_byte(struct anfu_stream *st, uint8_t c)
{
	static const char prefix[] = "HTTP/1.";

	if (st->sub < sizeof(prefix) - 1) {
		if (c != (uint8_t)prefix[st->sub])
			return bad(st);
		st->sub++;
		return 0;
	}
	if (c != '0' && c != '1')
		return bad(st);
	st->http10 = c == '0';
	st->state = S_RL_CR;
	return 0;
}

static int request_line_byte(struct anfu_stream *st, uint8_t c)
{
	switch (st->state) {
	case S_START:
	case S_METHOD:
		if (c == ' ' && st->state == S_METHOD) {
			st->state = S_TARGET;
			return 0;
		}
		if (!is_tchar(c))
			return bad(st);
		if (st->method_len < sizeof(st->method))
			st->method[st->method_len++] = (char)c;
		st->state = S_METHOD;
		return 0;
	case S_TARGET:
		if (c != '/')
			return bad_target(st);
		st->in_query = false;
		keep_path(st, c);
		st->state = S_PATH;
		return 0;
	case S_PATH:
	case S_QUERY: return target_byte(st, c);
	case S_PCT1:
	case S_PCT2:
		if (st->in_query && query_byte(st, c) < 0)
			return STEP_REFUSED;
		return pct_byte(st, c);
	case S_VERSION: return version_byte(st, c);
	case S_RL_CR:
		if (c != '\r')
			return bad(st);
		st->state = S_RL_LF;
		return 0;
	default: /* S_RL_LF */
		if (c != '\n')
			return bad(st);
		st->state = S_FIELD;
		return 0;
	}
}

/* ---- field lines ---------------------------------------------------------------- */

/* The name is complete (at the colon): which field, and may it be here? */
static int name_done(struct anfu_stream *st)
{
	st->field = F_OTHER;
	for (int i = 1; i < NKNOWN; i++)
		if ((st->names & (1u << i)) && strlen(known[i]) == st->sub)
			st->field = (uint8_t)i;
	if (st->trailers && (st->field == F_CL || st->field == F_TE || st->field == F_HOST))
		return bad(st);
	if ((st->field == F_CL && st->have_cl) || (st->field == F_TE && st->have_te) ||
	    (st->field == F_HOST && st->nhost > 0))
		return bad(st);
	if (st->trailers && st->field != F_OTHER)
		st->field = F_OTHER; /* MHD reads no cookie or language from trailers */
	st->have_cl |= st->field == F_CL;
	st->have_te |= st->field == F_TE;
	st->nhost += st->field == F_HOST;
	st->sub = 0;
	st->state = S_OWS;
	return 0;
}

static int name_byte(struct anfu_stream *st, uint8_t c)
{
	if (c == ':')
		return name_done(st);
	if (!is_tchar(c))
		return bad(st);
	for (int i = 1; i < NKNOWN; i++)
		if ((st->names & (1u << i)) &&
		    (st->sub >= strlen(known[i]) || lower(c) != (uint8_t)known[i][st->sub]))
			st->names &= (uint8_t) ~(1u << i);
	if (st->sub < UINT8_MAX)
		st->sub++;
	return 0;
}

/* Semantics of one value byte of a known field (OWS already skipped). */
static int known_value_byte(struct anfu_stream *st, uint8_t c)
{
	static const char chunked[] = "chunked";

	switch (st->field) {
	case F_CL:
		if (c < '0' || c > '9')
			return bad(st);
		st->cl = st->cl * 10 + (uint64_t)(c - '0');
		if (st->cl > st->lim.body_bytes) {
			st->cl_big = true;
			st->cl = st->lim.body_bytes + 1; /* saturates, never overflows */
		}
		return 0;
	case F_TE:
		if (st->sub >= sizeof(chunked) - 1 || lower(c) != (uint8_t)chunked[st->sub])
			return bad(st);
		st->sub++;
		return 0;
	case F_HOST: return is_host(c) ? 0 : bad(st);
	case F_COOKIE:
		if (st->sub == 0 || c == ';' || c == ',')
			st->ncookies++;
		st->sub = 1;
		return st->ncookies > st->lim.cookies ? too_large_head(st) : 0;
	case F_AL:
		if (!st->al_seen && st->sub < 2 && lower(c) == (uint8_t) "zh"[st->sub])
			st->zh = ++st->sub == 2;
		else
			st->sub = 2;
		return 0;
	default: return 0;
	}
}

/* The value ended (at its CR). */
static int value_done(struct anfu_stream *st)
{
	if (st->field == F_CL && st->sub == 0)
		return bad(st); /* empty Content-Length */
	if (st->field == F_TE && st->sub != sizeof("chunked") - 1)
		return bad(st);
	if (st->field == F_AL)
		st->al_seen = true;
	st->state = S_VALUE_LF;
	return 0;
}

static int value_byte(struct anfu_stream *st, uint8_t c)
{
	if (c == '\r')
		return value_done(st);
	if (!is_value(c))
		return bad(st);
	if (st->state == S_OWS && (c == ' ' || c == '\t'))
		return 0;
	st->state = S_VALUE;
	if (st->field == F_CL)
		st->sub = 1; /* has a digit (known_value_byte checks it is one) */
	return st->field == F_OTHER ? 0 : known_value_byte(st, c);
}

/* ---- end of a head or a trailer section --------------------------------------- */

/* Head-level rules, then where the body goes. */
static int head_done(struct anfu_stream *st)
{
	if (!st->http10 && st->nhost == 0)
		return bad(st);
	if ((st->have_cl && st->have_te) || (st->have_te && st->http10))
		return bad(st);
	if (st->cl_big)
		return too_large_body(st);
	st->heads++;
	st->held = 0;
	if (st->have_te) {
		st->state = S_CHUNK;
		st->chunk_line = 0;
	} else if (st->cl > 0) {
		st->state = S_BODY;
		st->remaining = st->cl;
	} else {
		begin_request(st);
	}
	return STEP_BLOCK;
}

static int field_byte(struct anfu_stream *st, uint8_t c)
{
	switch (st->state) {
	case S_FIELD:
		if (c == '\r') {
			st->state = S_END_LF;
			return 0;
		}
		if (!is_tchar(c))
			return bad(st); /* obs-fold, whitespace, control, bare LF */
		if (++st->nfields > st->lim.fields)
			return too_large_head(st);
		st->names = ALL_NAMES;
		st->sub = 0;
		st->state = S_NAME;
		return name_byte(st, c);
	case S_NAME: return name_byte(st, c);
	case S_OWS:
	case S_VALUE: return value_byte(st, c);
	case S_VALUE_LF:
		if (c != '\n')
			return bad(st);
		st->state = S_FIELD;
		return 0;
	default: /* S_END_LF */
		if (c != '\n')
			return bad(st);
		if (!st->trailers)
			return head_done(st);
		st->held = 0;
		begin_request(st);
		return STEP_BLOCK;
	}
}

/* ---- chunked body ---------------------------------------------------------------- */

static int chunk_size_byte(struct anfu_stream *st, uint8_t c)
{
	int v = hex_value(c);

	if (v >= 0) {
		if (st->state == S_CHUNK)
			st->chunk_size = 0;
		if (++st->sub > CHUNK_DIGITS_MAX)
			return bad(st);
		st->chunk_size = st->chunk_size * 16 + (uint64_t)v;
		if (st->chunk_size > st->lim.body_bytes - st->body_total)
			return too_large_body(st);
		st->state = S_CHUNK_HEX;
		return 0;
	}
	if (st->state == S_CHUNK)
		return bad(st);
	if (c == ';') {
		st->state = S_EXT_NAME0;
		return 0;
	}
	if (c == '\r') {
		st->state = S_CHUNK_LF;
		return 0;
	}
	return bad(st);
}

/* After a complete chunk extension name or value: ';', CR or nothing. */
static int ext_next(struct anfu_stream *st, uint8_t c)
{
	if (c == ';')
		st->state = S_EXT_NAME0;
	else if (c == '\r')
		st->state = S_CHUNK_LF;
	else
		return bad(st);
	return 0;
}

static int chunk_ext_byte(struct anfu_stream *st, uint8_t c)
{
	switch (st->state) {
	case S_EXT_NAME0:
		if (!is_tchar(c))
			return bad(st);
		st->state = S_EXT_NAME;
		return 0;
	case S_EXT_NAME:
		if (is_tchar(c))
			return 0;
		if (c == '=') {
			st->state = S_EXT_VAL0;
			return 0;
		}
		return ext_next(st, c);
	case S_EXT_VAL0:
		if (c == '"')
			st->state = S_EXT_QUOTED;
		else if (is_tchar(c))
			st->state = S_EXT_TOKEN;
		else
			return bad(st);
		return 0;
	case S_EXT_TOKEN: return is_tchar(c) ? 0 : ext_next(st, c);
	case S_EXT_QUOTED:
		if (c == '"')
			st->state = S_EXT_QEND;
		else if (c == '\\')
			st->state = S_EXT_QPAIR;
		else if (!is_value(c))
			return bad(st);
		return 0;
	case S_EXT_QPAIR:
		if (!is_value(c))
			return bad(st);
		st->state = S_EXT_QUOTED;
		return 0;
	default: /* S_EXT_QEND */ return ext_next(st, c);
	}
}

/* LF of a chunk-size line: data follows, or (size 0) the trailers. */
static int chunk_line_done(struct anfu_stream *st, uint8_t c)
{
	if (c != '\n')
		return bad(st);
	if (st->chunk_size == 0) {
		/* The last chunk stays held with the trailers: a refusal in
		 * them then finds the parser still before a chunk-size line. */
		st->trailers = true;
		st->state = S_FIELD;
		return 0;
	}
	st->body_total += st->chunk_size;
	st->remaining = st->chunk_size;
	st->held = 0;
	st->state = S_DATA;
	return 0;
}

static int chunk_byte(struct anfu_stream *st, uint8_t c)
{
	switch (st->state) {
	case S_CHUNK:
	case S_CHUNK_HEX:
		if (st->state == S_CHUNK)
			st->sub = 0;
		return chunk_size_byte(st, c);
	case S_CHUNK_LF: return chunk_line_done(st, c);
	case S_DATA_CR:
		if (c != '\r')
			return bad(st);
		st->state = S_DATA_LF;
		return 0;
	case S_DATA_LF:
		if (c != '\n')
			return bad(st);
		st->held = 0;
		st->chunk_line = 0;
		st->state = S_CHUNK;
		return 0;
	default: return chunk_ext_byte(st, c);
	}
}

/* ---- the feed loop -------------------------------------------------------------- */

/* One byte of a head, a chunk-size line, a CRLF or the trailers. */
static int step(struct anfu_stream *st, uint8_t c)
{
	st->held++;
	if (in_head(st->state) || st->trailers) {
		if (++st->head_len > st->lim.head_bytes)
			return too_large_head(st);
	} else if (in_chunk_line(st->state) && ++st->chunk_line > ANFU_LIMIT_CHUNK_LINE_BYTES) {
		return bad(st);
	}
	if (st->state <= S_RL_LF)
		return request_line_byte(st, c);
	if (st->state <= S_END_LF)
		return field_byte(st, c);
	return chunk_byte(st, c);
}

/* Consumes, in bulk, the value bytes of a field no rule looks into: the
 * bytes step() would accept one by one, up to (not including) the one
 * that ends the value, breaks a rule or goes over the head limit. */
static size_t plain_value_bytes(struct anfu_stream *st, const uint8_t *p, size_t avail)
{
	size_t room = st->lim.head_bytes - st->head_len, n = 0;

	if (avail > room)
		avail = room;
	while (n < avail && p[n] != '\r' && is_value(p[n]))
		n++;
	st->held += n;
	st->head_len += n;
	return n;
}

/* Consumes body bytes (Content-Length or chunk data) in bulk. */
static size_t body_bytes(struct anfu_stream *st, size_t avail)
{
	size_t n = st->remaining < avail ? (size_t)st->remaining : avail;

	st->remaining -= n;
	if (st->remaining == 0) {
		if (st->state == S_BODY)
			begin_request(st);
		else
			st->state = S_DATA_CR;
	}
	return n;
}

enum anfu_stream_event anfu_stream_feed(struct anfu_stream *st, const uint8_t *p, size_t len,
					size_t *ret_used)
{
	size_t i = 0;
	int r = 0;

	if (st->state == S_REFUSED) {
		*ret_used = 0;
		return ANFU_STREAM_REFUSED;
	}
	while (i < len && r == 0) {
		size_t n = 0;

		if (st->state == S_BODY || st->state == S_DATA)
			n = body_bytes(st, len - i);
		else if (st->state == S_VALUE && st->field == F_OTHER)
			n = plain_value_bytes(st, p + i, len - i);
		if (n > 0)
			i += n;
		else
			r = step(st, p[i++]);
	}
	*ret_used = i;
	if (r == STEP_REFUSED)
		return ANFU_STREAM_REFUSED;
	return r == STEP_BLOCK ? ANFU_STREAM_BLOCK : ANFU_STREAM_MORE;
}

size_t anfu_stream_held(const struct anfu_stream *st)
{
	return st->held;
}

uint64_t anfu_stream_heads(const struct anfu_stream *st)
{
	return st->heads;
}

/* Copies n kept bytes as printable ASCII ('?' for anything else). */
static void printable(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] > 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[n] = '\0';
	if (n == 0)
		(void)memcpy(dst, "-", 2);
}

bool anfu_stream_refusal(const struct anfu_stream *st, struct anfu_stream_refusal *ret)
{
	if (st->state != S_REFUSED)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->status = st->status;
	ret->code = st->code;
	ret->zh = st->zh;
	ret->in_body = st->body_refused;
	ret->completion = st->after_data ? END_AFTER_DATA : END_AT_SIZE;
	printable(ret->method, st->method, st->method_len);
	printable(ret->path, st->path, st->path_len);
	return true;
}
