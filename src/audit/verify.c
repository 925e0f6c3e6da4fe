/*
 * audit/verify: recomputing the chain in the database and checking every
 * checkpoint, in the database and in the checkpoint file.
 *
 * Owns the chain checker shared with the export and its verifier, the
 * "first bad sequence number" rule of reports (the smallest seq at which
 * anything is wrong wins), and anfu_audit_verify(). Trusts nothing in the
 * tables or the file: triggers may have been dropped, rows changed,
 * deleted, inserted or swapped, and the file edited. Trusts only the public
 * key it is given.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/internal.h"
#include "base/err.h"
#include "base/log.h"
#include "store/store.h"

/* Progress is reported every this many records. */
#define PROGRESS_EVERY 10000

void audit_chain_init(struct audit_chain *c, enum anfu_hash_alg alg)
{
	memset(c, 0, sizeof(*c));
	c->alg = alg;
	c->next_seq = 1;
	memset(c->prev_hex, '0', AUDIT_HEX_LEN);
	c->prev_hex[AUDIT_HEX_LEN] = '\0';
}

int audit_chain_feed(struct audit_chain *c, const struct audit_rec *r,
		     struct anfu_audit_report *rep)
{
	uint8_t h[ANFU_HASH_LEN];
	char hex[AUDIT_HEX_LEN + 1];

	if (r->seq > c->next_seq)
		return audit_report_bad(rep, c->next_seq,
					"record %" PRId64 " is missing (the next record is %" PRId64
					")",
					c->next_seq, r->seq);
	if (r->seq < c->next_seq)
		return audit_report_bad(rep, c->next_seq,
					"record %" PRId64 " is out of order (expected %" PRId64 ")",
					r->seq, c->next_seq);
	if (strcmp(r->prev_hash, c->prev_hex) != 0)
		return audit_report_bad(rep, r->seq,
					"record %" PRId64 ": prev_hash is not the hash of record "
					"%" PRId64,
					r->seq, r->seq - 1);
	if (audit_rec_hash(c->alg, c->prev, r, h) < 0)
		return audit_report_bad(rep, r->seq, "record %" PRId64 " cannot be hashed", r->seq);
	anfu_hex_encode(h, sizeof(h), hex);
	if (strcmp(hex, r->hash) != 0)
		return audit_report_bad(
			rep, r->seq, "record %" PRId64 ": hash does not match its content", r->seq);
	memcpy(c->prev, h, sizeof(h));
	memcpy(c->prev_hex, hex, sizeof(hex));
	c->next_seq++;
	return 0;
}

/* ---- reading records ---------------------------------------------------- */

struct scan {
	audit_rec_fn fn;
	void *ud;
};

static void copy_hash(char dst[AUDIT_HEX_LEN + 1], const struct anfu_row *row, int col)
{
	size_t n = 0;
	const char *s = anfu_row_text(row, col, &n);

	/* Anything but 64 characters can never match a computed hash. */
	if (s && n == AUDIT_HEX_LEN)
		memcpy(dst, s, AUDIT_HEX_LEN + 1);
	else
		memcpy(dst, "-", 2);
}

static int scan_row(void *ud, const struct anfu_row *row)
{
	struct scan *s = ud;
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = anfu_row_int(row, 0);
	r.ts_ms = anfu_row_int(row, 1);
	for (int i = 0; i < AF_COUNT; i++) {
		size_t n = 0;
		const char *t = anfu_row_text(row, 2 + i, &n);

		r.f[i] = (struct anfu_str){ t ? t : "", t ? n : 0 };
	}
	copy_hash(r.prev_hash, row, 2 + AF_COUNT);
	copy_hash(r.hash, row, 3 + AF_COUNT);
	return s->fn(s->ud, &r);
}

int audit_scan(struct anfu_db *db, audit_rec_fn fn, void *ud)
{
	struct scan s = { fn, ud };

	return anfu_db_exec(
		db,
		"SELECT seq, ts_ms, actor_id, actor_type, actor_role, source_ip, device, "
		"request_id, action, object_type, object_id, outcome, details, "
		"prev_hash, hash FROM audit_log ORDER BY seq",
		NULL, 0, scan_row, &s, NULL);
}

/* ---- checkpoints -------------------------------------------------------- */

static void check_ckpt(const struct audit_ckpt *c, const struct anfu_sigkey *pub, const char *kid,
		       const char *alg, const char *where, struct anfu_audit_report *rep)
{
	if (!audit_ckpt_well_formed(c))
		(void)audit_report_bad(rep, c->seq, "checkpoint %" PRId64 " in the %s is malformed",
				       c->seq, where);
	else if (strcmp(c->hash_alg, alg) != 0)
		(void)audit_report_bad(rep, c->seq,
				       "checkpoint %" PRId64 " in the %s uses hash %s, not %s",
				       c->seq, where, c->hash_alg, alg);
	else if (strcmp(c->key_id, kid) != 0)
		(void)audit_report_bad(
			rep, c->seq, "checkpoint %" PRId64 " in the %s is signed by key %s, not %s",
			c->seq, where, c->key_id, kid);
	else if (audit_ckpt_verify_sig(pub, c) < 0)
		(void)audit_report_bad(
			rep, c->seq, "checkpoint %" PRId64 " in the %s: signature does not verify",
			c->seq, where);
}

static void check_all_ckpts(const struct audit_ckpt_list *dbc, const struct audit_ckpt_list *filec,
			    const struct anfu_sigkey *pub, const char *kid, const char *alg,
			    struct anfu_audit_report *rep)
{
	for (size_t i = 0; i < dbc->n; i++)
		check_ckpt(&dbc->v[i], pub, kid, alg, "database", rep);
	for (size_t i = 0; i < filec->n; i++) {
		const struct audit_ckpt *c = &filec->v[i];
		const struct audit_ckpt *d = audit_ckpt_find(dbc, c->seq);

		check_ckpt(c, pub, kid, alg, "checkpoint file", rep);
		if (!d)
			(void)audit_report_bad(rep, c->seq,
					       "checkpoint %" PRId64
					       " is in the checkpoint file but not in the database",
					       c->seq);
		else if (!audit_ckpt_equal(c, d))
			(void)audit_report_bad(
				rep, c->seq,
				"checkpoint %" PRId64
				" differs between the checkpoint file and the database",
				c->seq);
	}
}

/* ---- the whole check ---------------------------------------------------- */

struct vctx {
	struct audit_chain chain;
	struct anfu_audit_report *rep;
	const struct audit_ckpt_list *dbc;
	const struct audit_ckpt_list *filec;
	void (*progress)(int64_t done, int64_t total);
	int64_t total;
	bool broken;
};

static void check_head_at(const struct audit_ckpt_list *l, const struct audit_rec *r,
			  const char *where, struct anfu_audit_report *rep)
{
	const struct audit_ckpt *c = audit_ckpt_find(l, r->seq);

	if (c && strcmp(c->head, r->hash) != 0)
		(void)audit_report_bad(rep, r->seq,
				       "checkpoint %" PRId64 " in the %s does not match the chain",
				       r->seq, where);
}

static int verify_rec(void *ud, const struct audit_rec *r)
{
	struct vctx *v = ud;

	if (audit_chain_feed(&v->chain, r, v->rep) < 0) {
		/* Everything after the first break differs as a consequence. */
		v->broken = true;
		return 1;
	}
	v->rep->records++;
	check_head_at(v->dbc, r, "database", v->rep);
	check_head_at(v->filec, r, "checkpoint file", v->rep);
	if (v->progress && v->rep->records % PROGRESS_EVERY == 0)
		v->progress(v->rep->records, v->total);
	return 0;
}

static int64_t max_ckpt_seq(const struct audit_ckpt_list *l)
{
	int64_t m = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].seq > m)
			m = l->v[i].seq;
	return m;
}

struct head {
	bool found;
	int64_t seq;
	char hash[AUDIT_HEX_LEN + 1];
};

static int head_row(void *ud, const struct anfu_row *row)
{
	struct head *h = ud;

	h->found = true;
	h->seq = anfu_row_int(row, 0);
	copy_hash(h->hash, row, 1);
	return 1;
}

/* After the records: nothing a checkpoint covers may be missing, and the
 * head row must name the last record. */
static int check_tail(struct anfu_db *db, struct vctx *v)
{
	int64_t last = v->chain.next_seq - 1;
	int64_t ck = max_ckpt_seq(v->dbc);
	struct head h = { false, 0, "" };
	int r;

	if (max_ckpt_seq(v->filec) > ck)
		ck = max_ckpt_seq(v->filec);
	if (!v->broken && ck > last)
		(void)audit_report_bad(v->rep, last + 1,
				       "records %" PRId64 "..%" PRId64
				       " are missing: the checkpoint at %" PRId64 " covers them",
				       last + 1, ck, ck);
	r = anfu_db_exec(db, "SELECT seq, hash FROM audit_head WHERE id = 1", NULL, 0, head_row, &h,
			 NULL);
	if (r < 0)
		return r;
	if (!h.found)
		return audit_report_bad(v->rep, last + 1, "the audit_head row is missing");
	if (v->broken)
		return 0;
	if (h.seq > last)
		(void)audit_report_bad(v->rep, last + 1,
				       "records %" PRId64 "..%" PRId64
				       " are missing: audit_head is at %" PRId64,
				       last + 1, h.seq, h.seq);
	else if (h.seq < last)
		(void)audit_report_bad(v->rep, h.seq + 1,
				       "record %" PRId64 " is beyond audit_head (%" PRId64 ")",
				       h.seq + 1, h.seq);
	else if (strcmp(h.hash, v->chain.prev_hex) != 0)
		(void)audit_report_bad(v->rep, last, "audit_head does not match record %" PRId64,
				       last);
	return 0;
}

static int verify_db(struct anfu_db *db, struct vctx *v, const struct anfu_sigkey *pub,
		     const char *kid, const char *alg)
{
	struct audit_ckpt_list dbc = { NULL, 0 };
	int r;

	r = audit_ckpt_db_read(db, &dbc);
	if (r < 0)
		goto out;
	v->dbc = &dbc;
	check_all_ckpts(&dbc, v->filec, pub, kid, alg, v->rep);
	v->rep->checkpoints = (int64_t)(dbc.n + v->filec->n);
	if (v->progress) {
		r = anfu_db_query_int(db, "SELECT count(*) FROM audit_log", NULL, 0, &v->total);
		if (r < 0)
			goto out;
	}
	r = audit_scan(db, verify_rec, v);
	if (r == 0)
		r = check_tail(db, v);
out:
	v->dbc = NULL;
	audit_ckpt_list_free(&dbc);
	return r;
}

int anfu_audit_verify(struct anfu_db *db, enum anfu_hash_alg hash, const struct anfu_sigkey *pub,
		      const char *checkpoint_file, void (*progress)(int64_t done, int64_t total),
		      struct anfu_audit_report *rep)
{
	struct audit_ckpt_list filec = { NULL, 0 };
	struct vctx v;
	char kid[ANFU_KID_MAX];
	bool own_tx = false;
	int r;

	if (!db || !pub || !rep)
		return ANFU_EINVAL;
	memset(rep, 0, sizeof(*rep));
	r = anfu_keys_kid_for(pub, kid);
	if (r < 0)
		return r;
	/* The file first: a checkpoint is committed before its line is
	 * written, so every line read now is in the snapshot taken next. */
	r = audit_ckpt_file_read(checkpoint_file, &filec, rep);
	if (r < 0)
		goto out;
	if (db->tx_depth == 0) {
		r = anfu_db_begin_read(db);
		if (r < 0)
			goto out;
		own_tx = true;
	}
	memset(&v, 0, sizeof(v));
	audit_chain_init(&v.chain, hash);
	v.rep = rep;
	v.filec = &filec;
	v.progress = progress;
	r = verify_db(db, &v, pub, kid, anfu_hash_name(hash));
	if (r < 0)
		goto out;
	r = rep->first_bad_seq != 0 ? ANFU_ECORRUPT : 0;
out:
	if (own_tx)
		(void)anfu_db_end_read(db);
	audit_ckpt_list_free(&filec);
	if (r == ANFU_ECORRUPT)
		anfu_log_warn("audit.verify", "audit chain fails at seq %" PRId64 ": %s",
			      rep->first_bad_seq, rep->problem);
	return r;
}
