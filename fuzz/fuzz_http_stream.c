/*
 * fuzz/fuzz_http_stream: the HTTP/1.1 framing validator (http/stream.c) on
 * arbitrary client bytes.
 *
 * Owns nothing beyond the input. Trusts nothing in the input. Checks, and
 * aborts when one fails: the verdict (bytes consumed, heads accepted,
 * bytes held, refusal status) is the same whether the bytes come in one
 * piece or in pieces of every size from 1 to 7; a refused stream consumes
 * nothing more; held bytes never exceed the bytes consumed; a refusal has
 * one of the three statuses, a code and printable, terminated method and
 * path; a body refusal comes only after an accepted head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static const struct anfu_stream_limits lim = {
	.head_bytes = 512,
	.body_bytes = 300,
	.fields = 12,
	.query_params = 8,
	.cookies = 8,
};

struct outcome {
	size_t used;
	uint64_t heads;
	size_t held;
	int status;
};

static void check_printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0 || n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			abort();
}

static void check_refusal(const struct anfu_stream *st)
{
	struct anfu_stream_refusal rf;

	if (!anfu_stream_refusal(st, &rf))
		return;
	if ((rf.status != 400 && rf.status != 413 && rf.status != 431) || !rf.code ||
	    !rf.completion)
		abort();
	if (rf.in_body && anfu_stream_heads(st) == 0)
		abort();
	check_printable(rf.method, sizeof(rf.method));
	check_printable(rf.path, sizeof(rf.path));
}

/* Feeds data in pieces of `piece` bytes (0: all at once). */
static void run(const uint8_t *data, size_t size, size_t piece, struct outcome *o)
{
	struct anfu_stream st;
	struct anfu_stream_refusal rf;
	size_t off = 0, used = 0;
	enum anfu_stream_event ev = ANFU_STREAM_MORE;

	memset(o, 0, sizeof(*o)); /* padding too: outcomes are compared whole */
	anfu_stream_init(&st, &lim);
	while (off < size) {
		size_t n = piece && size - off > piece ? piece : size - off;

		ev = anfu_stream_feed(&st, data + off, n, &used);
		if (used > n)
			abort();
		off += used;
		if (ev == ANFU_STREAM_REFUSED)
			break;
		if (ev == ANFU_STREAM_MORE && used != n)
			abort();
	}
	if (ev == ANFU_STREAM_REFUSED) {
		if (anfu_stream_feed(&st, data, size, &used) != ANFU_STREAM_REFUSED || used != 0)
			abort();
	}
	if (anfu_stream_held(&st) > off)
		abort();
	check_refusal(&st);
	o->used = off;
	o->heads = anfu_stream_heads(&st);
	o->held = anfu_stream_held(&st);
	o->status = anfu_stream_refusal(&st, &rf) ? rf.status : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;

	run(data, size, 0, &whole);
	for (size_t piece = 1; piece <= 7; piece++) {
		run(data, size, piece, &pieces);
		if (memcmp(&whole, &pieces, sizeof(whole)) != 0)
			abort();
	}
	return 0;
}
