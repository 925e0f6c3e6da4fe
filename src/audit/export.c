/*
 * audit/export: writing the signed JSON-lines export (anfu-audit-export/1).
 *
 * Owns the export format's producer side (docs/audit.md): a header, every
 * record with each checkpoint right after the record it covers, and a
 * trailer holding the digest of every preceding byte, signed with the
 * audit key. It signs only what verifies: a broken chain, a checkpoint
 * that does not match, or a checkpoint-file line missing from the database
 * makes the export fail (ANFU_ECORRUPT), so a signature never launders a
 * tampered log. Reads inside one read transaction so the export is a
 * consistent snapshot. Trusts nothing in the tables or the file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit/internal.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "store/store.h"

struct xctx {
	struct anfu_audit *a;
	FILE *out;
	struct anfu_hash_ctx *digest;
	struct audit_chain chain;
	struct anfu_audit_report rep;
	const struct audit_ckpt_list *dbc;
	int64_t records;
	int64_t checkpoints;
};

/* Writes obj as one canonical line and adds it to the digest. */
static int emit(struct xctx *x, const json_t *obj, bool digest)
{
	struct anfu_buf line;
	int r;

	anfu_buf_init(&line, ANFU_LIMIT_AUDIT_EXPORT_LINE + 2);
	r = audit_json_canon(&line, obj);
	if (r == 0 && line.len > ANFU_LIMIT_AUDIT_EXPORT_LINE)
		r = ANFU_ELIMIT;
	if (r == 0)
		r = anfu_buf_append(&line, "\n", 1);
	if (r < 0) {
		r = audit_report_bad(&x->rep, x->chain.next_seq,
				     "an export line would be longer than %d bytes",
				     ANFU_LIMIT_AUDIT_EXPORT_LINE);
		goto out;
	}
	if (digest)
		r = anfu_hash_update(x->digest, line.data, line.len);
	if (r == 0 && fwrite(line.data, 1, line.len, x->out) != line.len)
		r = ANFU_EIO;
out:
	anfu_buf_free(&line);
	return r;
}

static json_t *new_obj(const char *type)
{
	json_t *o = json_object();

	if (!o)
		abort();
	return anfu_json_set(o, "type", json_string(type));
}

static int emit_header(struct xctx *x)
{
	json_t *o = new_obj("header");
	int r;

	(void)anfu_json_set(o, "format", json_string(AUDIT_EXPORT_FORMAT));
	(void)anfu_json_set(o, "hash_alg", json_string(anfu_hash_name(x->a->hash)));
	(void)anfu_json_set(o, "sig_alg",
			    json_string(anfu_sig_name(anfu_keys_audit_alg(x->a->keys))));
	(void)anfu_json_set(o, "key_id", json_string(anfu_keys_audit_kid(x->a->keys)));
	(void)anfu_json_set(o, "created_ms", json_integer(anfu_clock_now_ms()));
	r = emit(x, o, true);
	json_decref(o);
	return r;
}

/* The record as an export object; NULL when a field is not UTF-8. */
static json_t *record_obj(const struct audit_rec *r)
{
	json_t *o = new_obj("record");

	for (int i = 0; i < AF_COUNT; i++) {
		json_t *s = json_stringn(r->f[i].ptr, r->f[i].len);

		if (!s) {
			json_decref(o);
			return NULL;
		}
		(void)anfu_json_set(o, audit_field_names[i], s);
	}
	(void)anfu_json_set(o, "seq", json_integer(r->seq));
	(void)anfu_json_set(o, "ts_ms", json_integer(r->ts_ms));
	(void)anfu_json_set(o, "prev_hash", json_string(r->prev_hash));
	(void)anfu_json_set(o, "hash", json_string(r->hash));
	return o;
}

static int export_rec(void *ud, const struct audit_rec *r)
{
	struct xctx *x = ud;
	const struct audit_ckpt *c;
	json_t *o;
	int rv;

	/* Records that verify are well formed: hashes are hex (ASCII). */
	rv = audit_chain_feed(&x->chain, r, &x->rep);
	if (rv < 0)
		return rv;
	o = record_obj(r);
	if (!o)
		return audit_report_bad(&x->rep, r->seq, "record %" PRId64 " is not UTF-8", r->seq);
	rv = emit(x, o, true);
	json_decref(o);
	if (rv < 0)
		return rv;
	x->records++;
	c = audit_ckpt_find(x->dbc, r->seq);
	if (!c)
		return 0;
	if (strcmp(c->head, r->hash) != 0)
		return audit_report_bad(&x->rep, r->seq,
					"checkpoint %" PRId64 " does not match the chain", r->seq);
	o = audit_ckpt_to_json(c, true);
	rv = emit(x, o, true);
	json_decref(o);
	x->checkpoints++;
	return rv;
}

static int emit_trailer(struct xctx *x)
{
	uint8_t d[ANFU_HASH_LEN], sig[ANFU_SIG_MAX];
	char dhex[AUDIT_HEX_LEN + 1], sighex[AUDIT_SIG_HEX_MAX + 1];
	char msg[sizeof(AUDIT_EXPORT_TAG) + AUDIT_HEX_LEN];
	size_t siglen = sizeof(sig);
	json_t *o;
	int r;

	r = anfu_hash_final(x->digest, d);
	x->digest = NULL;
	if (r < 0)
		return r;
	anfu_hex_encode(d, sizeof(d), dhex);
	(void)snprintf(msg, sizeof(msg), "%s%s", AUDIT_EXPORT_TAG, dhex);
	r = anfu_keys_audit_sign(x->a->keys, msg, strlen(msg), sig, &siglen);
	if (r < 0)
		return r;
	if (siglen == 0 || siglen > ANFU_SIG_MAX)
		return ANFU_ECRYPTO;
	anfu_hex_encode(sig, siglen, sighex);
	o = new_obj("trailer");
	(void)anfu_json_set(o, "records", json_integer(x->records));
	(void)anfu_json_set(o, "checkpoints", json_integer(x->checkpoints));
	(void)anfu_json_set(o, "digest", json_string(dhex));
	(void)anfu_json_set(o, "sig", json_string(sighex));
	r = emit(x, o, false);
	json_decref(o);
	return r;
}

/* Everything the export will sign must already be consistent. */
static int check_ckpts(struct xctx *x, const struct audit_ckpt_list *dbc,
		       const struct audit_ckpt_list *filec)
{
	for (size_t i = 0; i < dbc->n; i++)
		if (!audit_ckpt_well_formed(&dbc->v[i]))
			(void)audit_report_bad(&x->rep, dbc->v[i].seq,
					       "checkpoint %" PRId64 " is malformed",
					       dbc->v[i].seq);
	for (size_t i = 0; i < filec->n; i++) {
		const struct audit_ckpt *d = audit_ckpt_find(dbc, filec->v[i].seq);

		if (!d || !audit_ckpt_equal(d, &filec->v[i]))
			(void)audit_report_bad(&x->rep, filec->v[i].seq,
					       "checkpoint %" PRId64
					       " in the checkpoint file is not in the database",
					       filec->v[i].seq);
	}
	return x->rep.first_bad_seq ? ANFU_ECORRUPT : 0;
}

static int export_body(struct xctx *x, struct anfu_db *db, const struct audit_ckpt_list *filec)
{
	struct audit_ckpt_list dbc = { NULL, 0 };
	int r;

	r = audit_ckpt_db_read(db, &dbc);
	if (r < 0)
		return r;
	x->dbc = &dbc;
	r = check_ckpts(x, &dbc, filec);
	if (r == 0)
		r = emit_header(x);
	if (r == 0)
		r = audit_scan(db, export_rec, x);
	for (size_t i = 0; r == 0 && i < dbc.n; i++)
		if (dbc.v[i].seq >= x->chain.next_seq)
			r = audit_report_bad(&x->rep, x->chain.next_seq,
					     "records %" PRId64 "..%" PRId64 " are missing",
					     x->chain.next_seq, dbc.v[i].seq);
	if (r == 0)
		r = emit_trailer(x);
	x->dbc = NULL;
	audit_ckpt_list_free(&dbc);
	return r;
}

int anfu_audit_export(struct anfu_audit *a, struct anfu_db *db, FILE *out)
{
	struct audit_ckpt_list filec = { NULL, 0 };
	struct xctx x;
	bool own_tx = false;
	int r;

	if (!a || !db || !out || !a->keys)
		return ANFU_EINVAL;
	memset(&x, 0, sizeof(x));
	x.a = a;
	x.out = out;
	audit_chain_init(&x.chain, a->hash);
	/* The file before the snapshot, as in anfu_audit_verify(). */
	r = audit_ckpt_file_read(a->checkpoint_file, &filec, &x.rep);
	if (r == 0 && x.rep.first_bad_seq != 0)
		r = ANFU_ECORRUPT; /* never sign an export of a damaged file */
	if (r < 0)
		goto out;
	if (db->tx_depth == 0) {
		r = anfu_db_begin_read(db);
		if (r < 0)
			goto out;
		own_tx = true;
	}
	r = anfu_hash_begin(a->hash, &x.digest);
	if (r < 0)
		goto out;
	r = export_body(&x, db, &filec);
	if (r == 0 && fflush(out) != 0)
		r = ANFU_EIO;
out:
	if (r == ANFU_ECORRUPT)
		anfu_log_error("audit.export", "refusing to sign the export: seq %" PRId64 ": %s",
			       x.rep.first_bad_seq, x.rep.problem);
	else if (r < 0)
		anfu_log_error("audit.export", "export failed: %s", anfu_strerror(r));
	if (x.digest)
		anfu_hash_ctx_free(x.digest);
	if (own_tx)
		(void)anfu_db_end_read(db);
	audit_ckpt_list_free(&filec);
	return r;
}
