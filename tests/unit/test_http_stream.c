/*
 * tests/unit/test_http_stream: the HTTP/1.1 framing validator
 * (http/stream.c) on its own, and the framing filter (http/framing.c) in a
 * real server over TLS.
 *
 * The validator tests are table-driven: every request-smuggling shape of
 * the issue-6 review and every rule of the module comment, each fed in one
 * piece, one byte at a time and split in two at every position, with the
 * same verdict required each way; boundaries at the limit and one over;
 * pipelined good and bad requests; what may be handed on (held bytes).
 * The server tests send raw bytes over TLS (libcurl in CONNECT_ONLY mode)
 * and read everything until the server closes: they fail if the filter
 * stops sitting between GnuTLS and libmicrohttpd in this executable.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "http/internal.h"

/* Small limits, so the boundaries are cheap to reach. */
static const struct anfu_stream_limits lim = {
	.head_bytes = 256,
	.body_bytes = 100,
	.fields = 8,
	.query_params = 4,
	.cookies = 4,
};

#define OK_HEAD "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

struct verdict {
	int status; /* 0: nothing refused */
	const char *code;
	bool in_body;
	const char *completion;
	uint64_t heads;
	size_t held;
	size_t used; /* bytes consumed in all */
};

/* Feeds s[0, len) in pieces of at most `piece` bytes (0: one piece), going
 * on after every BLOCK, and describes the outcome. */
static void feed(const struct anfu_stream_limits *l, const char *s, size_t len, size_t piece,
		 struct verdict *v)
{
	struct anfu_stream st;
	struct anfu_stream_refusal rf;
	size_t off = 0;

	anfu_stream_init(&st, l);
	memset(v, 0, sizeof(*v));
	while (off < len) {
		size_t n = piece && len - off > piece ? piece : len - off, used = 0;
		enum anfu_stream_event ev =
			anfu_stream_feed(&st, (const uint8_t *)s + off, n, &used);

		assert_true(used <= n);
		off += used;
		if (ev == ANFU_STREAM_REFUSED)
			break;
		assert_true(ev == ANFU_STREAM_BLOCK || used == n);
	}
	v->used = off;
	v->heads = anfu_stream_heads(&st);
	v->held = anfu_stream_held(&st);
	if (anfu_stream_refusal(&st, &rf)) {
		v->status = rf.status;
		v->code = rf.code;
		v->in_body = rf.in_body;
		v->completion = rf.completion;
	}
}

/* The same verdict in one piece, byte by byte and split at every point. */
static void verdict_of(const struct anfu_stream_limits *l, const char *s, size_t len,
		       struct verdict *v)
{
	struct verdict other;

	feed(l, s, len, 0, v);
	for (size_t piece = 1; piece <= 2; piece++) {
		feed(l, s, len, piece, &other);
		assert_int_equal(other.status, v->status);
		assert_int_equal(other.heads, v->heads);
		assert_int_equal(other.held, v->held);
		assert_int_equal(other.used, v->used);
	}
	for (size_t k = 1; k < len; k++) {
		struct anfu_stream st;
		size_t used = 0, total = 0;
		enum anfu_stream_event ev;

		anfu_stream_init(&st, l);
		for (size_t off = 0; off < len;) {
			size_t end = off < k ? k : len;

			ev = anfu_stream_feed(&st, (const uint8_t *)s + off, end - off, &used);
			off += used;
			total = off;
			if (ev == ANFU_STREAM_REFUSED)
				break;
		}
		assert_int_equal(total, v->used);
		assert_int_equal(anfu_stream_heads(&st), v->heads);
		assert_int_equal(anfu_stream_held(&st), v->held);
	}
}

struct shape {
	const char *name;
	const char *bytes;
	size_t len; /* 0: strlen */
	int status; /* 0: accepted */
	const char *code;
	uint64_t heads;
};

#define FRAMING "bad_request_framing"
#define TARGET "bad_request_target"
#define HEADERS "headers_too_large"
#define TOO_LARGE "payload_too_large"
/* A literal with embedded NULs and its length. */
#define LIT(s) s, sizeof(s) - 1

static void check_shapes(const struct shape *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = t[i].len ? t[i].len : strlen(t[i].bytes);
		struct verdict v;

		print_message("shape: %s\n", t[i].name);
		verdict_of(&lim, t[i].bytes, len, &v);
		if (v.status != t[i].status)
			fail_msg("%s: status %d, want %d", t[i].name, v.status, t[i].status);
		if (t[i].status)
			assert_string_equal(v.code, t[i].code);
		else
			assert_int_equal(v.used, len);
		assert_int_equal(v.heads, t[i].heads);
	}
}

/* ---- accepted requests ------------------------------------------------------ */

static void test_well_formed_requests_are_accepted(void **state)
{
	static const struct shape t[] = {
		{ "minimal", OK_HEAD, 0, 0, NULL, 1 },
		{ "query", "GET /x?a=1&b=%2F&c HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0, NULL, 1 },
		{ "escapes in path", "GET /%41%7e%25 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0, NULL, 1 },
		{ "http/1.0 without host", "GET / HTTP/1.0\r\n\r\n", 0, 0, NULL, 1 },
		{ "ows and obs-text", "GET / HTTP/1.1\r\nHost: a\r\nX-A:\t v \xff\x80 \t\r\n\r\n",
		  0, 0, NULL, 1 },
		{ "host literal with port", "GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", 0, 0,
		  NULL, 1 },
		{ "empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, 0, NULL, 1 },
		{ "content-length body then next",
		  "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length:  5\r\n\r\nhello" OK_HEAD, 0, 0,
		  NULL, 2 },
		{ "content-length zero",
		  "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n", 0, 0, NULL, 1 },
		{ "chunked with extensions and trailers",
		  "POST /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChunKed\r\n\r\n"
		  "5;a=b;c;d=\"q\\\" ;\"\r\nhello\r\n00A\r\n0123456789\r\n0\r\nX-T: "
		  "1\r\n\r\n" OK_HEAD,
		  0, 0, NULL, 2 },
		{ "pipelined", OK_HEAD OK_HEAD OK_HEAD, 0, 0, NULL, 3 },
	};

	(void)state;
	check_shapes(t, sizeof(t) / sizeof(t[0]));
}

/* ---- the review's smuggling shapes --------------------------------------------- */

/* req: SEC-MON-WAF-06 (header normalisation: disallowed framing refused) */
static void test_smuggling_shapes_are_refused(void **state)
{
	static const struct shape t[] = {
		{ "cl and te",
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "te and cl",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "two content-lengths",
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Content-Length: 3\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "content-length list",
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", 0, 400, FRAMING,
		  0 },
		{ "content-length sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "content-length trailing space",
		  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 \r\n\r\n", 0, 400, FRAMING, 0 },
		{ "content-length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "space before colon",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
		  "\r\n",
		  0, 400, FRAMING, 0 },
		{ "tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "te in http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400,
		  FRAMING, 0 },
		{ "unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "coding list",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
		  "\r\n",
		  0, 400, FRAMING, 0 },
		{ "te a prefix of chunked",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk\r\n\r\n", 0, 400, FRAMING,
		  0 },
		{ "chunked then more",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, x\r\n"
		  "\r\n",
		  0, 400, FRAMING, 0 },
		{ "chunked trailing space",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked "
		  "\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "two transfer-encodings",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
		  "\r\nTransfer-Encoding: chunked\r\n\r\n",
		  0, 400, FRAMING, 0 },
		{ "name with space", "GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n", 0, 400, FRAMING,
		  0 },
		{ "nul in value", LIT("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400, FRAMING,
		  0 },
		{ "nul in name", LIT("GET / HTTP/1.1\r\nHost: a\r\nX\0: b\r\n\r\n"), 400, FRAMING,
		  0 },
		{ "bare cr in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 0, 400,
		  FRAMING, 0 },
		{ "bare lf ends a field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 0, 400,
		  FRAMING, 0 },
		{ "bare lf ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, 400, FRAMING, 0 },
		{ "bare lf after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, 400, FRAMING,
		  0 },
		{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 0, 400, FRAMING,
		  0 },
		{ "control in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 0, 400,
		  FRAMING, 0 },
		{ "del in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 0, 400, FRAMING,
		  0 },
		{ "no host in 1.1", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "two hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "two hosts in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400,
		  FRAMING, 0 },
		{ "host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "empty line first", "\r\n" OK_HEAD, 0, 400, FRAMING, 0 },
		{ "method not a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "version 1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "version 2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "no version", "GET /\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, FRAMING, 0 },
		{ "trailers with content-length",
		  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
		  "Content-Length: 5\r\n\r\n",
		  0, 400, FRAMING, 1 },
	};

	(void)state;
	check_shapes(t, sizeof(t) / sizeof(t[0]));
}

/* req: SEC-MON-WAF-06 (URL normalisation: the router never sees %2F or an
 * escaped control decoded) */
static void test_disallowed_targets_are_refused(void **state)
{
	static const struct shape t[] = {
		{ "encoded slash", "GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "encoded slash lower", "GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET,
		  0 },
		{ "encoded nul", "GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "encoded lf", "GET /a%0a HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "encoded del", "GET /a%7F HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "bad escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "cut escape", "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "bad escape in query", "GET /a?x=%g0 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET,
		  0 },
		{ "fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "absolute form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "asterisk form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "raw utf-8", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
		{ "raw nul", LIT("GET /a\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, TARGET, 0 },
		{ "tab", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, TARGET, 0 },
	};

	(void)state;
	check_shapes(t, sizeof(t) / sizeof(t[0]));
}

/* ---- chunked bodies ------------------------------------------------------------- */

static void test_malformed_chunks_are_refused_in_the_body(void **state)
{
	static const struct shape t[] = {
		{ "not hex", "x\r\n", 0, 400, FRAMING, 1 },
		{ "space after size", "5 \r\nhello\r\n0\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "space before extension", "5 ;a\r\nhello\r\n0\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "empty extension", "5;\r\nhello\r\n0\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "seventeen digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", 0, 400, FRAMING,
		  1 },
		{ "bare lf after size", "5\nhello\r\n0\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "bare lf after data", "5\r\nhello\n0\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "obs-fold in trailers", "0\r\nX: a\r\n b\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "host in trailers", "0\r\nHost: b\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "te in trailers", "0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400, FRAMING, 1 },
		{ "too long a line", "1;a=", 0, 0, NULL, 1 },
	};
	static const char head[] =
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[512];
		struct verdict v;
		int n;

		if (t[i].status == 0) {
			/* A chunk-size line beyond ANFU_LIMIT_CHUNK_LINE_BYTES. */
			n = snprintf(buf, sizeof(buf), "%s%s", head, t[i].bytes);
			memset(buf + n, 'b', ANFU_LIMIT_CHUNK_LINE_BYTES);
			n += ANFU_LIMIT_CHUNK_LINE_BYTES;
			verdict_of(&lim, buf, (size_t)n, &v);
			assert_int_equal(v.status, 400);
			assert_true(v.in_body);
			continue;
		}
		print_message("chunk shape: %s\n", t[i].name);
		n = snprintf(buf, sizeof(buf), "%s%s", head, t[i].bytes);
		verdict_of(&lim, buf, (size_t)n, &v);
		assert_int_equal(v.status, t[i].status);
		assert_string_equal(v.code, t[i].code);
		assert_int_equal(v.heads, 1);
		assert_true(v.in_body);
	}
}

/* A body refusal ends the body for MHD from exactly where it stands. */
static void test_body_refusal_says_how_to_end_the_body(void **state)
{
	static const char after_data[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
					 "chunked\r\n\r\n5\r\nhelloX";
	static const char at_size[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
				      "chunked\r\n\r\n5\r\nhello\r\nZ";
	static const char in_trailers[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
					  "chunked\r\n\r\n0\r\nX: \x01";
	struct verdict v;

	(void)state;
	verdict_of(&lim, after_data, strlen(after_data), &v);
	assert_true(v.in_body);
	assert_string_equal(v.completion, "\r\n0\r\n\r\n");
	assert_int_equal(v.held, 1); /* only the 'X' is withheld */
	verdict_of(&lim, at_size, strlen(at_size), &v);
	assert_string_equal(v.completion, "0\r\n\r\n");
	assert_int_equal(v.held, 1);
	/* The last chunk is held with its trailers: MHD never saw "0\r\n". */
	verdict_of(&lim, in_trailers, strlen(in_trailers), &v);
	assert_string_equal(v.completion, "0\r\n\r\n");
	assert_int_equal(v.held, strlen("0\r\nX: \x01"));
}

/* ---- limits ------------------------------------------------------------------- */

/* A request of exactly `total` head bytes: "GET / HTTP/1.1", Host, and an
 * X field padded to make up the rest. */
static size_t head_of(char *buf, size_t total)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t pad = total - (sizeof(pre) - 1) - 4;

	memcpy(buf, pre, sizeof(pre) - 1);
	memset(buf + sizeof(pre) - 1, 'v', pad);
	memcpy(buf + sizeof(pre) - 1 + pad, "\r\n\r\n", 4);
	return total;
}

/* req: WEB-DOS-01 */
static void test_head_at_limit_passes_one_byte_over_is_431(void **state)
{
	char buf[512];
	struct verdict v;

	(void)state;
	verdict_of(&lim, buf, head_of(buf, lim.head_bytes), &v);
	assert_int_equal(v.status, 0);
	assert_int_equal(v.heads, 1);
	verdict_of(&lim, buf, head_of(buf, lim.head_bytes + 1), &v);
	assert_int_equal(v.status, 431);
	assert_string_equal(v.code, HEADERS);
	/* Refused at the first byte beyond the limit, not at the end. */
	assert_int_equal(v.used, lim.head_bytes + 1);
}

/* The query counts toward the head bytes. req: WEB-DOS-01 */
static void test_query_counts_toward_the_head_limit(void **state)
{
	static const char tail[] = " HTTP/1.1\r\nHost: a\r\n\r\n";
	char buf[512];
	struct verdict v;

	(void)state;
	for (size_t extra = 0; extra <= 1; extra++) {
		size_t n = lim.head_bytes + extra;

		memset(buf, 'v', n);
		memcpy(buf, "GET /?q=", 8);
		memcpy(buf + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
		verdict_of(&lim, buf, n, &v);
		assert_int_equal(v.status, extra ? 431 : 0);
	}
}

/* req: WEB-DOS-01 */
static void test_query_params_fields_and_cookies_at_limit_pass_one_more_is_431(void **state)
{
	static const struct shape t[] = {
		{ "4 params", "GET /?a=1&b&c=&d HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0, NULL, 1 },
		{ "5 params", "GET /?a=1&b&c=&d&e HTTP/1.1\r\nHost: a\r\n\r\n", 0, 431, HEADERS,
		  0 },
		{ "8 fields",
		  "GET / HTTP/1.1\r\nHost: a\r\nA:1\r\nB:1\r\nC:1\r\nD:1\r\nE:1\r\n"
		  "F:1\r\nG:1\r\n\r\n",
		  0, 0, NULL, 1 },
		{ "9 fields",
		  "GET / HTTP/1.1\r\nHost: a\r\nA:1\r\nB:1\r\nC:1\r\nD:1\r\nE:1\r\n"
		  "F:1\r\nG:1\r\nH:1\r\n\r\n",
		  0, 431, HEADERS, 0 },
		{ "4 cookies",
		  "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1; b=2\r\nCookie: c=3,d\r\n"
		  "\r\n",
		  0, 0, NULL, 1 },
		{ "5 cookies",
		  "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1; b=2; c=3; d=4; e=5\r\n\r\n", 0, 431,
		  HEADERS, 0 },
	};

	(void)state;
	check_shapes(t, sizeof(t) / sizeof(t[0]));
}

/* req: WEB-DOS-01 */
static void test_body_at_limit_passes_one_byte_over_is_413(void **state)
{
	char buf[512];
	struct verdict v;
	int n;

	(void)state;
	n = snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n");
	memset(buf + n, 'x', 100);
	verdict_of(&lim, buf, (size_t)n + 100, &v);
	assert_int_equal(v.status, 0);
	assert_int_equal(v.used, (size_t)n + 100);
	n = snprintf(
		buf, sizeof(buf),
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n");
	verdict_of(&lim, buf, (size_t)n, &v);
	assert_int_equal(v.status, 413);
	assert_string_equal(v.code, TOO_LARGE);
	assert_false(v.in_body);
	assert_int_equal(v.heads, 0);
	n = snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
	verdict_of(&lim, buf, (size_t)n, &v);
	assert_int_equal(v.status, 413);
	/* Chunked: the sizes add up to the limit, or one byte over it. */
	n = snprintf(buf, sizeof(buf),
		     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n");
	memset(buf + n, 'x', 50);
	n += 50;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n32\r\n");
	memset(buf + n, 'x', 50);
	n += 50;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n0\r\n\r\n");
	verdict_of(&lim, buf, (size_t)n, &v);
	assert_int_equal(v.status, 0);
	n = snprintf(buf, sizeof(buf),
		     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n");
	memset(buf + n, 'x', 100);
	n += 100;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n1\r\n");
	verdict_of(&lim, buf, (size_t)n, &v);
	assert_int_equal(v.status, 413);
	assert_true(v.in_body);
}

/* ---- what may be handed on ------------------------------------------------------ */

/* A good request then a bad one: the good one is handed on whole, the bad
 * head not at all, and nothing after the violation is read. */
static void test_pipelined_good_then_bad(void **state)
{
	static const char good[] = OK_HEAD;
	static const char bad[] = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n" OK_HEAD;
	char buf[512];
	struct anfu_stream st;
	struct anfu_stream_refusal rf;
	size_t used = 0, n = sizeof(good) - 1 + sizeof(bad) - 1;

	(void)state;
	memcpy(buf, good, sizeof(good) - 1);
	memcpy(buf + sizeof(good) - 1, bad, sizeof(bad) - 1);
	anfu_stream_init(&st, &lim);
	assert_int_equal(anfu_stream_feed(&st, (uint8_t *)buf, n, &used), ANFU_STREAM_BLOCK);
	assert_int_equal(used, sizeof(good) - 1);
	assert_int_equal(anfu_stream_held(&st), 0);
	assert_false(anfu_stream_refusal(&st, &rf));
	assert_int_equal(anfu_stream_feed(&st, (uint8_t *)buf + used, n - used, &used),
			 ANFU_STREAM_REFUSED);
	/* Everything consumed of the bad request is held back. */
	assert_int_equal(anfu_stream_held(&st), used);
	assert_int_equal(anfu_stream_heads(&st), 1);
	assert_true(anfu_stream_refusal(&st, &rf));
	assert_int_equal(rf.status, 400);
	assert_false(rf.in_body);
	assert_string_equal(rf.method, "GET");
	assert_string_equal(rf.path, "/");
	/* Refused for good. */
	assert_int_equal(anfu_stream_feed(&st, (const uint8_t *)OK_HEAD, 5, &used),
			 ANFU_STREAM_REFUSED);
	assert_int_equal(used, 0);
}

/* A head is never handed on before it ends; a body is, byte by byte. */
static void test_partial_head_is_held_body_is_not(void **state)
{
	static const char req[] = "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello";
	struct anfu_stream st;
	size_t used = 0;

	(void)state;
	anfu_stream_init(&st, &lim);
	assert_int_equal(anfu_stream_feed(&st, (const uint8_t *)req, 20, &used), ANFU_STREAM_MORE);
	assert_int_equal(anfu_stream_held(&st), 20);
	assert_int_equal(anfu_stream_feed(&st, (const uint8_t *)req + 20, sizeof(req) - 21, &used),
			 ANFU_STREAM_BLOCK);
	assert_int_equal(anfu_stream_held(&st), 0);
	assert_int_equal(anfu_stream_feed(&st, (const uint8_t *)req + 20 + used,
					  sizeof(req) - 21 - used, &used),
			 ANFU_STREAM_MORE);
	assert_int_equal(used, 5);
	assert_int_equal(anfu_stream_held(&st), 0);
}

/* What a refusal keeps for the log and the message language. */
static void test_refusal_keeps_printable_method_and_path_and_language(void **state)
{
	static const char req[] = "PATCH /api/v1/x%2Fy?secret=1 HTTP/1.1\r\n";
	static const char zh[] = "GET / HTTP/1.1\r\nAccept-Language: zh-CN\r\nX: \x01";
	struct anfu_stream st;
	struct anfu_stream_refusal rf;
	size_t used = 0;

	(void)state;
	anfu_stream_init(&st, &lim);
	(void)anfu_stream_feed(&st, (const uint8_t *)req, sizeof(req) - 1, &used);
	assert_true(anfu_stream_refusal(&st, &rf));
	assert_string_equal(rf.code, TARGET);
	assert_string_equal(rf.method, "PATCH");
	assert_string_equal(rf.path, "/api/v1/x%2F");
	assert_false(rf.zh);
	anfu_stream_init(&st, &lim);
	(void)anfu_stream_feed(&st, (const uint8_t *)zh, sizeof(zh) - 1, &used);
	assert_true(anfu_stream_refusal(&st, &rf));
	assert_true(rf.zh);
	anfu_stream_init(&st, &lim);
	(void)anfu_stream_feed(&st, (const uint8_t *)"\r\n", 2, &used);
	assert_true(anfu_stream_refusal(&st, &rf));
	assert_string_equal(rf.method, "-");
	assert_string_equal(rf.path, "-");
}

/* ---- the filter in a real server --------------------------------------------------- */

static char *cert_pem, *key_pem;

struct fx {
	char dir[64];
	struct anfu_config *cfg;
	struct anfu_router *router;
	struct anfu_http_server *srv;
	int port;
};

static int echo_runs;

static int h_health(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	resp->body = json_pack("{s:s}", "status", "ok");
	return 0;
}

static int h_echo(struct anfu_req *req, struct anfu_resp *resp)
{
	echo_runs++;
	resp->body = json_pack("{s:s%}", "body", req->body ? req->body : "", req->body_len);
	return 0;
}

static const struct anfu_route routes[] = {
	{ "GET", "/healthz", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_health, 0 },
	{ "POST", "/api/v1/echo", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_echo, 0 },
};

static int group_setup(void **state)
{
	(void)state;
	if (anfu_crypto_init() < 0 ||
	    anfu_crypto_selfsigned_cert("localhost", 1, &cert_pem, &key_pem) < 0)
		return -1;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(cert_pem);
	anfu_free_secret(key_pem);
	curl_global_cleanup();
	return 0;
}

static int setup(void **state)
{
	struct fx *f = anfu_xcalloc(1, sizeof(*f));
	struct anfu_http_opts o = { .tls_cert_pem = NULL };

	snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-stream-XXXXXX");
	if (!mkdtemp(f->dir) || anfu_config_defaults(f->dir, NULL, 0, &f->cfg) < 0)
		return -1;
	f->cfg->http.port = 0;
	f->cfg->http.threads = 2;
	f->cfg->admin.enabled = false;
	f->cfg->limits.body_bytes = 1024;
	f->cfg->limits.header_bytes = 4096;
	f->router = anfu_router_new();
	if (anfu_router_add_all(f->router, routes, sizeof(routes) / sizeof(routes[0])) < 0)
		return -1;
	o.cfg = f->cfg;
	o.tls_cert_pem = cert_pem;
	o.tls_key_pem = key_pem;
	if (anfu_http_start(&o, f->router, &f->srv) < 0) {
		anfu_router_free(f->router);
		anfu_config_free(f->cfg);
		(void)rmdir(f->dir);
		free(f);
		return -1;
	}
	f->port = anfu_http_port(f->srv, false);
	echo_runs = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	anfu_http_stop(f->srv, 5);
	anfu_router_free(f->router);
	anfu_config_free(f->cfg);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* Sends raw bytes over TLS and reads until the server closes (or 10 s
 * pass: then *ret_closed is false). */
static void exchange(struct fx *f, const char *req, size_t len, struct anfu_buf *out,
		     bool *ret_closed)
{
	struct curl_blob ca = { cert_pem, strlen(cert_pem), CURL_BLOB_COPY };
	CURL *e = curl_easy_init();
	curl_socket_t sock = CURL_SOCKET_BAD;
	char url[64], chunk[4096];
	int64_t deadline = anfu_clock_mono_us() + 10 * 1000000;
	size_t off = 0;

	*ret_closed = false;
	anfu_buf_init(out, 1 << 20);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", f->port);
	(void)curl_easy_setopt(e, CURLOPT_URL, url);
	(void)curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	(void)curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	(void)curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &sock);
	while (off < len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(e, req + off, len - off, &n);

		assert_true(rc == CURLE_OK || rc == CURLE_AGAIN);
		off += n;
	}
	while (anfu_clock_mono_us() < deadline) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		size_t n = 0;
		CURLcode rc = curl_easy_recv(e, chunk, sizeof(chunk), &n);

		if (rc == CURLE_AGAIN) {
			(void)poll(&p, 1, 100);
			continue;
		}
		if (rc != CURLE_OK || n == 0) {
			*ret_closed = true;
			break;
		}
		assert_int_equal(anfu_buf_append(out, chunk, n), 0);
	}
	curl_easy_cleanup(e);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The JSON body of the last response in out. */
static json_t *last_body(const struct anfu_buf *out)
{
	const char *p = out->data, *q;

	while (p && (q = strstr(p, "\r\n\r\n")) != NULL)
		p = q + 4;
	return p ? json_loads(p, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

static void assert_refusal(const struct anfu_buf *out, const char *status_line, const char *code)
{
	json_t *j = last_body(out);
	const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));

	assert_non_null(strstr(out->data, status_line));
	assert_non_null(c);
	assert_string_equal(c, code);
	assert_non_null(strstr(out->data, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(out->data, "\r\nX-Request-Id: req_"));
	assert_non_null(strstr(out->data, "\r\nStrict-Transport-Security: "));
	assert_non_null(strstr(out->data, "\r\nContent-Security-Policy: "));
	assert_non_null(strstr(out->data, "\r\nX-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(out->data, "\r\nContent-Type: application/json"));
	assert_null(strcasestr(out->data, "<html"));
	json_decref(j);
}

/* req: SEC-MON-WAF-06, WEB-HDR-01 */
static void test_server_refuses_cl_and_te_with_uniform_answer_and_closes(void **state)
{
	static const char req[] =
		"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nContent-Length: 6\r\nTransfer-Encoding: "
		"chunked\r\n\r\n0\r\n\r\nPOST /api/v1/echo HTTP/1.1\r\nHost: x\r\n"
		"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	struct fx *f = *state;
	struct anfu_buf out;
	bool closed;

	assert_true(anfu_framing_interposed());
	exchange(f, req, sizeof(req) - 1, &out, &closed);
	assert_true(closed);
	assert_int_equal(count(out.data, "HTTP/1.1 "), 1);
	assert_refusal(&out, "HTTP/1.1 400 ", "bad_request_framing");
	assert_int_equal(echo_runs, 0);
	anfu_buf_free(&out);
}

/* req: SEC-MON-WAF-06 */
static void test_server_answers_good_pipelined_requests_before_the_refusal(void **state)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
				  "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
				  "application/json\r\nContent-Length: 2\r\n\r\n{}"
				  "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"
				  "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *f = *state;
	struct anfu_buf out;
	bool closed;
	const char *first, *second, *third;

	exchange(f, req, sizeof(req) - 1, &out, &closed);
	assert_true(closed);
	assert_int_equal(count(out.data, "HTTP/1.1 "), 3);
	first = strstr(out.data, "HTTP/1.1 200 ");
	second = first ? strstr(first + 1, "HTTP/1.1 200 ") : NULL;
	third = second ? strstr(second + 1, "HTTP/1.1 400 ") : NULL;
	assert_non_null(third);
	assert_int_equal(echo_runs, 1);
	assert_refusal(&out, "HTTP/1.1 400 ", "bad_request_framing");
	anfu_buf_free(&out);
}

/* A refused chunked body: the request is answered with the error, its
 * handler never runs, and nothing after it is read. */
static void test_server_refuses_a_bad_chunk_in_the_body(void **state)
{
	static const char req[] =
		"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
		"2\r\n{}\r\n2 \r\n{}\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *f = *state;
	struct anfu_buf out;
	bool closed;

	exchange(f, req, sizeof(req) - 1, &out, &closed);
	assert_true(closed);
	assert_int_equal(count(out.data, "HTTP/1.1 "), 1);
	assert_refusal(&out, "HTTP/1.1 400 ", "bad_request_framing");
	assert_int_equal(echo_runs, 0);
	anfu_buf_free(&out);
}

/* A good chunked body passes the filter intact. */
static void test_server_passes_a_good_chunked_body(void **state)
{
	static const char req[] = "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
				  "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3;x=y\r\n{\"a\r\n5\r\n\":1}\n\r\n0\r\nX-T: 1\r\n\r\n"
				  "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct fx *f = *state;
	struct anfu_buf out;
	bool closed;

	exchange(f, req, sizeof(req) - 1, &out, &closed);
	assert_true(closed);
	assert_int_equal(count(out.data, "HTTP/1.1 200 "), 2);
	assert_non_null(strstr(out.data, "{\"body\":\"{\\\"a\\\":1}\\n\"}"));
	assert_int_equal(echo_runs, 1);
	anfu_buf_free(&out);
}

/* req: WEB-DOS-01 */
static void test_server_answers_431_for_a_head_over_the_limit(void **state)
{
	struct fx *f = *state;
	char *req = anfu_xmalloc(8192);
	struct anfu_buf out;
	bool closed;
	int n = snprintf(req, 8192, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");

	memset(req + n, 'a', 5000);
	n += 5000;
	n += snprintf(req + n, 8192 - (size_t)n, "\r\n\r\n");
	exchange(f, req, (size_t)n, &out, &closed);
	assert_true(closed);
	assert_int_equal(count(out.data, "HTTP/1.1 "), 1);
	assert_refusal(&out, "HTTP/1.1 431 ", "headers_too_large");
	anfu_buf_free(&out);
	free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_requests_are_accepted),
		cmocka_unit_test(test_smuggling_shapes_are_refused),
		cmocka_unit_test(test_disallowed_targets_are_refused),
		cmocka_unit_test(test_malformed_chunks_are_refused_in_the_body),
		cmocka_unit_test(test_body_refusal_says_how_to_end_the_body),
		cmocka_unit_test(test_head_at_limit_passes_one_byte_over_is_431),
		cmocka_unit_test(test_query_counts_toward_the_head_limit),
		cmocka_unit_test(
			test_query_params_fields_and_cookies_at_limit_pass_one_more_is_431),
		cmocka_unit_test(test_body_at_limit_passes_one_byte_over_is_413),
		cmocka_unit_test(test_pipelined_good_then_bad),
		cmocka_unit_test(test_partial_head_is_held_body_is_not),
		cmocka_unit_test(test_refusal_keeps_printable_method_and_path_and_language),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_server_refuses_cl_and_te_with_uniform_answer_and_closes),
		T(test_server_answers_good_pipelined_requests_before_the_refusal),
		T(test_server_refuses_a_bad_chunk_in_the_body),
		T(test_server_passes_a_good_chunked_body),
		T(test_server_answers_431_for_a_head_over_the_limit),
#undef T
	};

	return cmocka_run_group_tests_name("http_stream", tests, group_setup, group_teardown);
}
