/*
 * audit/chain: the canonical encodings of records and checkpoints, the
 * record hash, and the first-problem report every verifier fills
 * (audit_report_bad).
 *
 * Owns encoding v1 (docs/audit.md): a tag, then every field as a 4-byte
 * big-endian length and its bytes, in a fixed order. Lengths make the
 * encoding injective, so no two different records encode alike and no
 * field can borrow bytes from its neighbour. Trusts nothing about the
 * field bytes; trusts callers for buffer ownership.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/internal.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

const char *const audit_field_names[AF_COUNT] = {
	[AF_ACTOR_ID] = "actor_id",	[AF_ACTOR_TYPE] = "actor_type",
	[AF_ACTOR_ROLE] = "actor_role", [AF_SOURCE_IP] = "source_ip",
	[AF_DEVICE] = "device",		[AF_REQUEST_ID] = "request_id",
	[AF_ACTION] = "action",		[AF_OBJECT_TYPE] = "object_type",
	[AF_OBJECT_ID] = "object_id",	[AF_OUTCOME] = "outcome",
	[AF_DETAILS] = "details",
};

static int put_field(struct anfu_buf *out, const void *p, size_t len)
{
	uint8_t be[4];
	int r;

	if (len > UINT32_MAX)
		return ANFU_ELIMIT;
	be[0] = (uint8_t)(len >> 24);
	be[1] = (uint8_t)(len >> 16);
	be[2] = (uint8_t)(len >> 8);
	be[3] = (uint8_t)len;
	r = anfu_buf_append(out, be, sizeof(be));
	if (r == 0 && len > 0)
		r = anfu_buf_append(out, p, len);
	return r;
}

static int put_int(struct anfu_buf *out, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	return put_field(out, num, (size_t)n);
}

static int put_str(struct anfu_buf *out, const char *s)
{
	return put_field(out, s, strlen(s));
}

int audit_canonical(struct anfu_buf *out, const struct audit_rec *r)
{
	int rv = anfu_buf_appends(out, AUDIT_RECORD_TAG);

	if (rv == 0)
		rv = put_int(out, r->seq);
	if (rv == 0)
		rv = put_int(out, r->ts_ms);
	for (int i = 0; i < AF_COUNT && rv == 0; i++)
		rv = put_field(out, r->f[i].ptr, r->f[i].len);
	return rv;
}

int audit_rec_hash(enum anfu_hash_alg alg, const uint8_t prev[ANFU_HASH_LEN],
		   const struct audit_rec *r, uint8_t out[ANFU_HASH_LEN])
{
	struct anfu_buf b;
	int rv;

	anfu_buf_init(&b, ANFU_LIMIT_AUDIT_CANONICAL_BYTES);
	rv = anfu_buf_append(&b, prev, ANFU_HASH_LEN);
	if (rv == 0)
		rv = audit_canonical(&b, r);
	if (rv == 0)
		rv = anfu_hash(alg, b.data, b.len, out);
	anfu_buf_free(&b);
	return rv;
}

int audit_ckpt_message(struct anfu_buf *out, const struct audit_ckpt *c)
{
	int r = anfu_buf_appends(out, AUDIT_CHECKPOINT_TAG);

	if (r == 0)
		r = put_int(out, c->seq);
	if (r == 0)
		r = put_str(out, c->head);
	if (r == 0)
		r = put_int(out, c->ts_ms);
	if (r == 0)
		r = put_str(out, c->key_id);
	if (r == 0)
		r = put_str(out, c->hash_alg);
	return r;
}

int audit_ckpt_verify_sig(const struct anfu_sigkey *pub, const struct audit_ckpt *c)
{
	uint8_t sig[ANFU_SIG_MAX];
	size_t hexlen = strlen(c->sig);
	struct anfu_buf msg;
	int r;

	if (hexlen == 0 || hexlen % 2 != 0 || hexlen > AUDIT_SIG_HEX_MAX)
		return ANFU_ECRYPTO;
	if (anfu_hex_decode(c->sig, hexlen, sig, hexlen / 2) < 0)
		return ANFU_ECRYPTO;
	anfu_buf_init(&msg, ANFU_LIMIT_AUDIT_CANONICAL_BYTES);
	r = audit_ckpt_message(&msg, c);
	if (r == 0)
		r = anfu_verify(pub, msg.data, msg.len, sig, hexlen / 2) == 0 ? 0 : ANFU_ECRYPTO;
	anfu_buf_free(&msg);
	return r;
}

bool audit_is_hash_hex(const char *s, size_t len)
{
	if (!s || len != AUDIT_HEX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int audit_report_bad(struct anfu_audit_report *rep, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (seq < 1)
		seq = 1;
	if (rep->first_bad_seq != 0 && rep->first_bad_seq <= seq)
		return ANFU_ECORRUPT;
	rep->first_bad_seq = seq;
	va_start(ap, fmt);
	(void)vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
	return ANFU_ECORRUPT;
}
