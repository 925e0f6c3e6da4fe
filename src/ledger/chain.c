/*
 * ledger/chain: the batch hash of ledger/chain.h (encoding v1).
 *
 * ledger_batch_hash owns nothing between calls: it streams the rows
 * through an incremental hash, one transfer's encoding in a buffer at a
 * time, so a batch of any size takes the memory of one row. The writer's
 * copy (struct ledger_seal) owns the encodings of its batch's rows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "ledger/chain.h"
#include "store/store.h"

/* Columns of ledger_transfer, in table order; the SELECT below names them
 * in this order and the integer ones are marked. */
#define NCOLS 17
static const bool col_is_int[NCOLS] = {
	[0] = true,  /* seq */
	[7] = true,  /* amount */
	[11] = true, /* flags */
	[13] = true, /* timeout_ms */
	[15] = true, /* ts_us */
	[16] = true, /* batch_seq */
};

#define NULL_LEN 0xFFFFFFFFu

static int put_len(struct anfu_buf *out, uint32_t len)
{
	uint8_t be[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len };

	return anfu_buf_append(out, be, sizeof(be));
}

static int put_field(struct anfu_buf *out, const char *p, size_t len)
{
	int r;

	if (len >= NULL_LEN)
		return ANFU_ELIMIT;
	r = put_len(out, (uint32_t)len);
	if (r == 0 && len > 0)
		r = anfu_buf_append(out, p, len);
	return r;
}

struct hash_walk {
	struct anfu_hash_ctx *ctx;
	struct anfu_buf enc;
	int64_t next; /* the seq the next row must have */
};

static int put_int(struct anfu_buf *out, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	return put_field(out, num, (size_t)n);
}

static int hash_row(void *ud, const struct anfu_row *row)
{
	struct hash_walk *w = ud;
	int r = 0;

	if (anfu_row_int(row, 0) != w->next)
		return ANFU_ECORRUPT;
	w->next++;
	anfu_buf_reset(&w->enc);
	for (int c = 0; c < NCOLS && r == 0; c++) {
		if (anfu_row_is_null(row, c)) {
			r = put_len(&w->enc, NULL_LEN);
		} else if (col_is_int[c]) {
			r = put_int(&w->enc, anfu_row_int(row, c));
		} else {
			size_t len = 0;
			const char *s = anfu_row_text(row, c, &len);

			r = put_field(&w->enc, s, len);
		}
	}
	if (r == 0)
		r = anfu_hash_update(w->ctx, w->enc.data, w->enc.len);
	return r;
}

static bool is_hash_hex(const char *s)
{
	for (int i = 0; i < LEDGER_HASH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[LEDGER_HASH_HEX] == '\0';
}

/* Checks the range and decodes prev_hex (64 lower-case hex digits) into
 * prev; ANFU_EINVAL otherwise. */
static int range_prev(int64_t first, int64_t last, const char *prev_hex,
		      uint8_t prev[ANFU_HASH_LEN])
{
	if (!prev_hex || first < 1 || last < first ||
	    strnlen(prev_hex, LEDGER_HASH_HEX + 1) != LEDGER_HASH_HEX || !is_hash_hex(prev_hex) ||
	    anfu_hex_decode(prev_hex, LEDGER_HASH_HEX, prev, ANFU_HASH_LEN) < 0)
		return ANFU_EINVAL;
	return 0;
}

int ledger_batch_hash(struct anfu_db *db, enum anfu_hash_alg alg, int64_t first, int64_t last,
		      const char *prev_hex, char out_hex[LEDGER_HASH_HEX + 1])
{
	const struct anfu_param p[] = { ANFU_PI(first), ANFU_PI(last) };
	struct hash_walk w = { .ctx = NULL, .next = first };
	uint8_t prev[ANFU_HASH_LEN], h[ANFU_HASH_LEN];
	int r;

	if (!db || !out_hex || range_prev(first, last, prev_hex, prev) < 0)
		return ANFU_EINVAL;
	r = anfu_hash_begin(alg, &w.ctx);
	if (r < 0)
		return r;
	anfu_buf_init(&w.enc, ANFU_LIMIT_LEDGER_TRANSFER_ENC_BYTES);
	r = anfu_hash_update(w.ctx, prev, sizeof(prev));
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT seq, id, caller, idem_key, content_hash, debit_account, "
				 "credit_account, amount, asset, code, ref, flags, pending_id, "
				 "timeout_ms, on_timeout, ts_us, batch_seq FROM ledger_transfer "
				 "WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
				 p, 2, hash_row, &w, NULL);
	if (r == 0 && w.next != last + 1)
		r = ANFU_ECORRUPT;
	anfu_buf_free(&w.enc);
	if (r < 0) {
		anfu_hash_ctx_free(w.ctx);
		return r;
	}
	r = anfu_hash_final(w.ctx, h);
	if (r < 0)
		return r;
	anfu_hex_encode(h, sizeof(h), out_hex);
	return 0;
}

/* ---- the writer's copy ------------------------------------------------ */

static int put_text(struct anfu_buf *out, const char *s)
{
	return s ? put_field(out, s, strlen(s)) : put_len(out, NULL_LEN);
}

/* enc(row), the columns in table order as hash_row reads them. */
static int encode_row(struct anfu_buf *out, const struct ledger_row *t)
{
	int r = put_int(out, t->seq);

	if (r == 0)
		r = put_text(out, t->id);
	if (r == 0)
		r = put_text(out, t->caller);
	if (r == 0)
		r = put_text(out, t->idem_key);
	if (r == 0)
		r = put_text(out, t->content_hash);
	if (r == 0)
		r = put_text(out, t->debit_account);
	if (r == 0)
		r = put_text(out, t->credit_account);
	if (r == 0)
		r = put_int(out, t->amount);
	if (r == 0)
		r = put_text(out, t->asset);
	if (r == 0)
		r = put_text(out, t->code);
	if (r == 0)
		r = put_text(out, t->ref);
	if (r == 0)
		r = put_int(out, t->flags);
	if (r == 0)
		r = put_text(out, t->pending_id);
	if (r == 0)
		r = put_int(out, t->timeout_ms);
	if (r == 0)
		r = put_text(out, t->on_timeout);
	if (r == 0)
		r = put_int(out, t->ts_us);
	if (r == 0)
		r = put_int(out, t->batch_seq);
	return r;
}

void ledger_seal_init(struct ledger_seal *s)
{
	memset(s, 0, sizeof(*s));
	anfu_buf_init(&s->enc, ANFU_LIMIT_LEDGER_SEAL_BYTES);
}

void ledger_seal_reset(struct ledger_seal *s)
{
	anfu_buf_reset(&s->enc);
	s->n = 0;
	s->broken = false;
}

void ledger_seal_free(struct ledger_seal *s)
{
	anfu_buf_free(&s->enc);
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

/* Drops the rows from the first with seq > keep on. */
static void seal_keep(struct ledger_seal *s, int64_t keep)
{
	while (s->n > 0 && s->rows[s->n - 1].seq > keep) {
		s->n--;
		s->enc.len = s->rows[s->n].off;
	}
}

void ledger_seal_add(struct ledger_seal *s, const struct ledger_row *row)
{
	size_t off;

	if (s->broken)
		return;
	seal_keep(s, row->seq - 1);
	off = s->enc.len;
	if (encode_row(&s->enc, row) < 0) {
		s->broken = true;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->rows = anfu_xrealloc(s->rows, s->cap * sizeof(*s->rows));
	}
	s->rows[s->n++] = (struct ledger_seal_row){ row->seq, off };
}

int ledger_seal_hash(struct ledger_seal *s, enum anfu_hash_alg alg, int64_t first, int64_t last,
		     const char *prev_hex, char out_hex[LEDGER_HASH_HEX + 1])
{
	struct anfu_hash_ctx *ctx = NULL;
	uint8_t prev[ANFU_HASH_LEN], h[ANFU_HASH_LEN];
	int r;

	if (!s || !out_hex || range_prev(first, last, prev_hex, prev) < 0)
		return ANFU_EINVAL;
	seal_keep(s, last);
	/* Consecutive by construction: each row is the seq after the one
	 * before it (the writer's cursor), so the ends decide. */
	if (s->broken || s->n == 0 || s->rows[0].seq != first || s->rows[s->n - 1].seq != last ||
	    (int64_t)s->n != last - first + 1)
		return ANFU_ENOTFOUND;
	r = anfu_hash_begin(alg, &ctx);
	if (r < 0)
		return r;
	r = anfu_hash_update(ctx, prev, sizeof(prev));
	if (r == 0)
		r = anfu_hash_update(ctx, s->enc.data, s->enc.len);
	if (r < 0) {
		anfu_hash_ctx_free(ctx);
		return r;
	}
	r = anfu_hash_final(ctx, h);
	if (r < 0)
		return r;
	anfu_hex_encode(h, sizeof(h), out_hex);
	return 0;
}
