/*
 * audit/verify_export: checking an export with the public key alone.
 *
 * Owns the consumer side of anfu-audit-export/1, the same checks as
 * tools/verify_audit.py: every line strict and canonical, the header
 * first and naming the key given, the chain from seq 1, each checkpoint
 * right after the record it covers and signed, and a trailer last whose
 * digest covers every preceding byte and whose signature verifies. Stops
 * at the first problem. Trusts nothing in the input; trusts only pub.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"

struct vx {
	const struct anfu_sigkey *pub;
	char kid[ANFU_KID_MAX];
	struct anfu_audit_report *rep;
	struct audit_chain chain;
	struct anfu_hash_ctx *digest;
	char hash_alg[16];
	int64_t line_no;
	int64_t last_ckpt_seq;
	bool header;
	bool trailer;
};

static const char *str(const json_t *o, const char *k, size_t *ret_len)
{
	const json_t *v = json_object_get(o, k);

	if (ret_len)
		*ret_len = json_string_length(v);
	return json_string_value(v);
}

static int64_t num(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static int bad_line(struct vx *v, const char *what)
{
	return audit_report_bad(v->rep, v->chain.next_seq, "line %" PRId64 ": %s", v->line_no,
				what);
}

static int on_header(struct vx *v, const json_t *o)
{
	enum anfu_hash_alg alg;
	int r;

	if (v->line_no != 1)
		return bad_line(v, "a second header");
	if (strcmp(str(o, "key_id", NULL), v->kid) != 0)
		return bad_line(v, "the export is signed by another key");
	if (strcmp(str(o, "sig_alg", NULL), anfu_sig_name(anfu_sigkey_alg(v->pub))) != 0)
		return bad_line(v, "sig_alg does not match the public key");
	if (anfu_hash_from_name(str(o, "hash_alg", NULL), &alg) < 0)
		return bad_line(v, "unknown hash_alg");
	(void)snprintf(v->hash_alg, sizeof(v->hash_alg), "%s", str(o, "hash_alg", NULL));
	audit_chain_init(&v->chain, alg);
	r = anfu_hash_begin(alg, &v->digest);
	if (r < 0)
		return r;
	v->header = true;
	return 0;
}

static int on_record(struct vx *v, const json_t *o)
{
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = num(o, "seq");
	r.ts_ms = num(o, "ts_ms");
	for (int i = 0; i < AF_COUNT; i++) {
		size_t n = 0;
		const char *s = str(o, audit_field_names[i], &n);

		r.f[i] = (struct anfu_str){ s, n };
	}
	(void)snprintf(r.prev_hash, sizeof(r.prev_hash), "%s", str(o, "prev_hash", NULL));
	(void)snprintf(r.hash, sizeof(r.hash), "%s", str(o, "hash", NULL));
	if (audit_chain_feed(&v->chain, &r, v->rep) < 0)
		return ANFU_ECORRUPT;
	v->rep->records++;
	return 0;
}

static int on_checkpoint(struct vx *v, const json_t *o)
{
	int64_t covers = v->chain.next_seq - 1;
	struct audit_ckpt c;

	audit_ckpt_from_json(o, &c);
	if (c.seq != covers || covers == 0 || c.seq == v->last_ckpt_seq)
		return audit_report_bad(v->rep, c.seq,
					"checkpoint %" PRId64 " is not right after its record",
					c.seq);
	if (strcmp(c.head, v->chain.prev_hex) != 0)
		return audit_report_bad(v->rep, c.seq,
					"checkpoint %" PRId64 " does not match the chain", c.seq);
	if (strcmp(c.key_id, v->kid) != 0 || strcmp(c.hash_alg, v->hash_alg) != 0)
		return audit_report_bad(v->rep, c.seq,
					"checkpoint %" PRId64 " names another key or hash", c.seq);
	if (audit_ckpt_verify_sig(v->pub, &c) < 0)
		return audit_report_bad(v->rep, c.seq,
					"checkpoint %" PRId64 ": signature does not verify", c.seq);
	v->last_ckpt_seq = c.seq;
	v->rep->checkpoints++;
	return 0;
}

static int on_trailer(struct vx *v, const json_t *o)
{
	uint8_t d[ANFU_HASH_LEN], sig[ANFU_SIG_MAX];
	char dhex[AUDIT_HEX_LEN + 1];
	char msg[sizeof(AUDIT_EXPORT_TAG) + AUDIT_HEX_LEN];
	size_t siglen = 0;
	const char *sighex = str(o, "sig", &siglen);
	int r;

	if (num(o, "records") != v->rep->records || num(o, "checkpoints") != v->rep->checkpoints)
		return bad_line(v, "the trailer's counts do not match the export");
	r = anfu_hash_final(v->digest, d);
	v->digest = NULL;
	if (r < 0)
		return r;
	anfu_hex_encode(d, sizeof(d), dhex);
	if (strcmp(dhex, str(o, "digest", NULL)) != 0)
		return bad_line(v, "the digest does not match the export's bytes");
	(void)snprintf(msg, sizeof(msg), "%s%s", AUDIT_EXPORT_TAG, dhex);
	if (siglen / 2 > sizeof(sig) || anfu_hex_decode(sighex, siglen, sig, siglen / 2) < 0 ||
	    anfu_verify(v->pub, msg, strlen(msg), sig, siglen / 2) < 0)
		return bad_line(v, "the trailer's signature does not verify");
	v->trailer = true;
	return 0;
}

static int on_line(struct vx *v, const char *line, size_t len)
{
	struct anfu_audit_line l = { 0 };
	int r;

	if (v->trailer)
		return bad_line(v, "data after the trailer");
	if (anfu_audit_parse_line(line, len, &l) < 0)
		return bad_line(v, "not a valid export line");
	if (!v->header && l.type != ANFU_AUDIT_LINE_HEADER) {
		r = bad_line(v, "the export does not start with a header");
		goto out;
	}
	switch (l.type) {
	case ANFU_AUDIT_LINE_HEADER: r = on_header(v, l.obj); break;
	case ANFU_AUDIT_LINE_RECORD: r = on_record(v, l.obj); break;
	case ANFU_AUDIT_LINE_CHECKPOINT: r = on_checkpoint(v, l.obj); break;
	case ANFU_AUDIT_LINE_TRAILER: r = on_trailer(v, l.obj); break;
	default: r = bad_line(v, "unknown line type"); break;
	}
	if (r == 0 && !v->trailer) {
		r = anfu_hash_update(v->digest, line, len);
		if (r == 0)
			r = anfu_hash_update(v->digest, "\n", 1);
	}
out:
	anfu_audit_line_free(&l);
	return r;
}

static int read_all(FILE *in, struct vx *v)
{
	char *buf = anfu_xmalloc(ANFU_LIMIT_AUDIT_EXPORT_LINE);
	size_t len = 0;
	bool nl = false;
	int r = 0, rc;

	while (r == 0 &&
	       (rc = audit_read_line(in, buf, ANFU_LIMIT_AUDIT_EXPORT_LINE, &len, &nl)) != 0) {
		v->line_no++;
		if (rc == ANFU_EIO)
			r = ANFU_EIO;
		else if (rc < 0)
			r = bad_line(v, "line too long");
		else if (!nl)
			r = bad_line(v, "the last line has no newline: the export is truncated");
		else
			r = on_line(v, buf, len);
	}
	if (r == 0 && !v->trailer)
		r = audit_report_bad(v->rep, v->chain.next_seq,
				     "no trailer: the export is truncated or empty");
	free(buf);
	return r;
}

int anfu_audit_verify_export(FILE *in, const struct anfu_sigkey *pub, struct anfu_audit_report *rep)
{
	struct vx v;
	int r;

	if (!in || !pub || !rep)
		return ANFU_EINVAL;
	memset(rep, 0, sizeof(*rep));
	memset(&v, 0, sizeof(v));
	v.pub = pub;
	v.rep = rep;
	audit_chain_init(&v.chain, ANFU_HASH_SHA256);
	r = anfu_keys_kid_for(pub, v.kid);
	if (r == 0)
		r = read_all(in, &v);
	if (v.digest)
		anfu_hash_ctx_free(v.digest);
	if (r == 0 && rep->first_bad_seq != 0)
		r = ANFU_ECORRUPT;
	if (r < 0 && r != ANFU_ECORRUPT)
		anfu_log_warn("audit.verify_export", "cannot verify: %s", anfu_strerror(r));
	return r;
}
