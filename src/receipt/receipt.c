/*
 * receipt/receipt: the receipt service: the registry of kinds, building
 * and signing a receipt, storing it once per (kind, ref) and handing the
 * stored one back (docs/receipts.md).
 *
 * Issued at the first request, not inside the ledger writer's command
 * that completes the transaction: signing costs the writer thread (one
 * thread for every money movement) a signature per transaction, most of
 * which nobody downloads, while a request pays it on its own HTTP worker
 * (docs/receipts.md "When a receipt is issued" has the measurement). The
 * unique (kind, ref_id) and INSERT .. ON CONFLICT DO NOTHING make a
 * completed transaction have one receipt and never two, however many
 * first requests race.
 *
 * Owns the table receipt and the receipt key (struct anfu_named_key).
 * Trusts its providers' facts and the viewer the handler names.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "receipt/receipt.h"
#include "store/store.h"
#include "tx/tx.h"

struct kind_entry {
	char kind[ANFU_RECEIPT_KIND_MAX];
	anfu_receipt_facts_fn fn;
	void *ud;
};

struct anfu_receipt {
	struct anfu_tx_exec *tx;
	struct anfu_named_key *key;
	struct anfu_sigkey *pub;
	enum anfu_sig_alg alg;
	size_t nkinds;
	struct kind_entry kinds[ANFU_LIMIT_RECEIPT_KINDS];
};

int anfu_receipt_new(struct anfu_receipt_deps *d, struct anfu_receipt **ret)
{
	struct anfu_receipt *r;

	if (!d || !d->tx || !d->key || !d->pub || !ret) {
		if (d) {
			anfu_keys_named_free(d->key);
			anfu_sigkey_free(d->pub);
			d->key = NULL;
			d->pub = NULL;
		}
		return ANFU_EINVAL;
	}
	r = anfu_xcalloc(1, sizeof(*r));
	r->tx = d->tx;
	r->key = d->key;
	r->pub = d->pub;
	r->alg = d->alg;
	d->key = NULL;
	d->pub = NULL;
	*ret = r;
	return 0;
}

void anfu_receipt_free(struct anfu_receipt *r)
{
	if (!r)
		return;
	anfu_keys_named_free(r->key);
	anfu_sigkey_free(r->pub);
	free(r);
}

static bool kind_ok(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;

	if (n == 0 || n >= ANFU_RECEIPT_KIND_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || kind[i] == '_'))
			return false;
	return true;
}

static const struct kind_entry *kind_find(const struct anfu_receipt *r, const char *kind)
{
	for (size_t i = 0; i < r->nkinds; i++)
		if (strcmp(r->kinds[i].kind, kind) == 0)
			return &r->kinds[i];
	return NULL;
}

int anfu_receipt_register(struct anfu_receipt *r, const char *kind, anfu_receipt_facts_fn fn,
			  void *ud)
{
	if (!r || !fn || !kind_ok(kind) || kind_find(r, kind))
		return ANFU_EINVAL;
	if (r->nkinds >= ANFU_LIMIT_RECEIPT_KINDS)
		return ANFU_ELIMIT;
	(void)anfu_strlcpy(r->kinds[r->nkinds].kind, kind, sizeof(r->kinds[0].kind));
	r->kinds[r->nkinds].fn = fn;
	r->kinds[r->nkinds].ud = ud;
	r->nkinds++;
	return 0;
}

int anfu_receipt_key(const struct anfu_receipt *r, char kid[ANFU_KID_MAX], const char **ret_alg,
		     char **ret_pem)
{
	char *pem = NULL;

	if (!r || !kid || !ret_alg || !ret_pem)
		return ANFU_EINVAL;
	if (anfu_sigkey_public_pem(r->pub, &pem) < 0)
		return ANFU_ECRYPTO;
	(void)anfu_strlcpy(kid, anfu_keys_named_kid(r->key), ANFU_KID_MAX);
	*ret_alg = anfu_sig_name(r->alg);
	*ret_pem = pem;
	return 0;
}

static json_t *party_json(const struct anfu_receipt_party *p)
{
	return json_pack("{s:s, s:s}", "name", p->shown, "type", p->type);
}

/* The body object of facts f (NULL when a string is not UTF-8). */
static json_t *body_json(const struct anfu_receipt_facts *f, const char *id, int64_t issued_ms)
{
	json_t *t = json_array();

	for (size_t i = 0; t && i < f->ntransfers && i < ANFU_LIMIT_RECEIPT_TRANSFERS; i++)
		if (json_array_append_new(t, json_string(f->transfers[i])) < 0) {
			json_decref(t);
			return NULL;
		}
	return json_pack("{s:I, s:s, s:I, s:s, s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:I, s:i}",
			 "amount", (json_int_t)f->amount, "currency", f->currency, "issued_ms",
			 (json_int_t)issued_ms, "issuer", "anfu", "kind", f->kind,
			 "ledger_transfers", t, "memo", f->memo, "payee", party_json(&f->payee),
			 "payer", party_json(&f->payer), "receipt_id", id, "ref", f->ref, "state",
			 f->state, "time_ms", (json_int_t)f->time_ms, "version",
			 ANFU_RECEIPT_VERSION);
}

int anfu_receipt_build(const struct anfu_receipt_facts *f, const char *id, int64_t issued_ms,
		       anfu_receipt_sign_fn sign, void *ud, char **ret_body, size_t *ret_body_len,
		       char **ret_sig_b64)
{
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);
	struct anfu_buf b;
	json_t *body = NULL;
	char *b64 = NULL;
	int r;

	if (!f || !id || !sign || !ret_body || !ret_body_len || !ret_sig_b64)
		return ANFU_EINVAL;
	anfu_buf_init(&b, ANFU_LIMIT_RECEIPT_BYTES);
	body = body_json(f, id, issued_ms);
	r = body ? anfu_receipt_canonical(body, &b) : ANFU_EINVAL;
	if (r == 0 && sign(ud, b.data, b.len, sig, &siglen) < 0)
		r = ANFU_ECRYPTO;
	if (r == 0) {
		b64 = anfu_base64_encode(sig, siglen);
		if (!b64)
			r = ANFU_EINTERNAL;
	}
	if (r < 0)
		goto out;
	*ret_sig_b64 = b64;
	*ret_body = anfu_buf_steal(&b, ret_body_len);
out:
	json_decref(body);
	anfu_buf_free(&b);
	return r;
}

int anfu_receipt_document(const char *alg, const char *body, size_t body_len, const char *kid,
			  const char *sig_b64, char **ret, size_t *ret_len)
{
	struct anfu_buf b;
	int r;

	if (!alg || !body || !kid || !sig_b64 || !ret || !ret_len)
		return ANFU_EINVAL;
	/* alg, kid and base64 need no escaping; the keys are in order. */
	anfu_buf_init(&b, ANFU_LIMIT_RECEIPT_BYTES);
	r = anfu_buf_appendf(&b, "{\"alg\":\"%s\",\"body\":", alg);
	if (r == 0)
		r = anfu_buf_append(&b, body, body_len);
	if (r == 0)
		r = anfu_buf_appendf(&b, ",\"kid\":\"%s\",\"sig\":\"%s\"}", kid, sig_b64);
	if (r < 0) {
		anfu_buf_free(&b);
		return r;
	}
	*ret = anfu_buf_steal(&b, ret_len);
	return 0;
}

/* ---- issuing and reading back ------------------------------------------ */

struct stored {
	bool found;
	char id[ANFU_ID_MAX];
	char alg[16];
	char kid[ANFU_KID_MAX];
	char *body, *sig;
	size_t body_len;
};

static void stored_clear(struct stored *s)
{
	free(s->body);
	free(s->sig);
	memset(s, 0, sizeof(*s));
}

static int stored_row(void *ud, const struct anfu_row *row)
{
	struct stored *s = ud;
	const char *t[5];
	size_t blen = 0;

	for (int i = 0; i < 5; i++)
		t[i] = anfu_row_text(row, i, i == 1 ? &blen : NULL);
	if (!t[0] || !t[1] || !t[2] || !t[3] || !t[4])
		return ANFU_EINTERNAL;
	s->found = true;
	(void)anfu_strlcpy(s->id, t[0], sizeof(s->id));
	s->body = anfu_xstrdup(t[1]);
	s->body_len = blen;
	(void)anfu_strlcpy(s->alg, t[2], sizeof(s->alg));
	(void)anfu_strlcpy(s->kid, t[3], sizeof(s->kid));
	s->sig = anfu_xstrdup(t[4]);
	return 1;
}

static int stored_get(struct anfu_db *db, const char *kind, const char *ref, struct stored *s)
{
	const struct anfu_param p[2] = { ANFU_PS(kind), ANFU_PS(ref) };

	stored_clear(s);
	return anfu_db_exec(db,
			    "SELECT id, body, alg, kid, sig FROM receipt"
			    " WHERE kind = $1 AND ref_id = $2",
			    p, 2, stored_row, s, NULL);
}

struct issue {
	struct anfu_receipt *r;
	const struct anfu_receipt_facts *f;
	struct stored s; /* out */
};

static int sign_named(void *ud, const void *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	return anfu_keys_named_sign(ud, msg, len, sig, siglen);
}

/* Builds, signs and inserts the receipt of is->f; a row another request
 * inserted first wins (nothing is changed then). */
static int issue_new(struct anfu_tx *tx, struct issue *is)
{
	const char *kid = anfu_keys_named_kid(is->r->key);
	const char *alg = anfu_sig_name(is->r->alg);
	int64_t now = anfu_clock_now_ms(), changed = 0;
	char id[ANFU_ID_MAX], *body = NULL, *sig = NULL;
	size_t blen = 0;
	int r = anfu_id_new("rct", id, sizeof(id));

	if (r == 0)
		r = anfu_receipt_build(is->f, id, now, sign_named, is->r->key, &body, &blen, &sig);
	if (r == 0) {
		const struct anfu_param p[8] = { ANFU_PSN(id, strlen(id)),
						 ANFU_PSN(is->f->kind, strlen(is->f->kind)),
						 ANFU_PSN(is->f->ref, strlen(is->f->ref)),
						 ANFU_PSN(body, blen),
						 ANFU_PS(alg),
						 ANFU_PS(kid),
						 ANFU_PS(sig),
						 ANFU_PI(now) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "INSERT INTO receipt (id, kind, ref_id, body, alg, kid, sig,"
				 " issued_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
				 " ON CONFLICT (kind, ref_id) DO NOTHING",
				 p, 8, NULL, NULL, &changed);
	}
	if (r == 0 && changed == 1)
		r = anfu_tx_audit(tx, "receipt.issue", "receipt", id, "success",
				  json_pack("{s:s, s:s, s:s}", "kind", is->f->kind, "ref",
					    is->f->ref, "kid", kid));
	free(body);
	free(sig);
	return r;
}

static int issue_fn(struct anfu_tx *tx, void *ud)
{
	struct issue *is = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int r = stored_get(db, is->f->kind, is->f->ref, &is->s);

	if (r == 0 && !is->s.found) {
		r = issue_new(tx, is);
		if (r == 0)
			r = stored_get(db, is->f->kind, is->f->ref, &is->s);
		if (r == 0 && !is->s.found)
			r = ANFU_EINTERNAL;
	}
	if (r == 0)
		r = anfu_tx_audit(tx, "receipt.download", "receipt", is->s.id, "success",
				  json_pack("{s:s, s:s}", "kind", is->f->kind, "ref", is->f->ref));
	return r;
}

static bool party_is(const struct anfu_receipt_party *p, const char *type, const char *id)
{
	return id && id[0] && strcmp(p->type, type) == 0 && strcmp(p->id, id) == 0;
}

/* May viewer see the receipt of f? */
static bool may_view(const struct anfu_receipt_viewer *v, const struct anfu_receipt_facts *f)
{
	const char *type = v->type == ANFU_RECEIPT_VIEWER_CUSTOMER ? "customer" : "merchant";

	if (v->type == ANFU_RECEIPT_VIEWER_OPERATOR)
		return true;
	return party_is(&f->payer, type, v->id) || party_is(&f->payee, type, v->id);
}

/* The facts of (kind, ref) if viewer may see them. */
static int facts_for(struct anfu_receipt *r, const struct anfu_receipt_viewer *viewer,
		     const char *kind, const char *ref, struct anfu_receipt_facts *f)
{
	const struct kind_entry *k = kind_ok(kind) ? kind_find(r, kind) : NULL;
	struct anfu_db *db = NULL;
	int rc;

	if (!k || !ref || !ref[0] || strlen(ref) >= ANFU_ID_MAX)
		return ANFU_ENOTFOUND;
	rc = anfu_store_db(anfu_tx_exec_store(r->tx), &db);
	if (rc < 0)
		return rc;
	memset(f, 0, sizeof(*f));
	rc = k->fn(k->ud, db, ref, f);
	if (rc < 0)
		return rc;
	/* The provider's record is this kind's, and the receipt says so. */
	(void)anfu_strlcpy(f->kind, kind, sizeof(f->kind));
	(void)anfu_strlcpy(f->ref, ref, sizeof(f->ref));
	return may_view(viewer, f) ? 0 : ANFU_ENOTFOUND;
}

int anfu_receipt_get(struct anfu_receipt *r, const struct anfu_actor *actor,
		     const struct anfu_receipt_viewer *viewer, const char *kind, const char *ref,
		     char **ret_doc, size_t *ret_len, char ret_id[ANFU_ID_MAX])
{
	struct anfu_receipt_facts *f = NULL;
	struct issue is;
	char *doc = NULL;
	size_t len = 0;
	int rc;

	if (!r || !actor || !viewer || !kind || !ret_doc || !ret_len || !ret_id)
		return ANFU_EINVAL;
	memset(&is, 0, sizeof(is));
	f = anfu_xcalloc(1, sizeof(*f));
	rc = facts_for(r, viewer, kind, ref, f);
	if (rc < 0)
		goto out;
	is.r = r;
	is.f = f;
	rc = anfu_tx_run(r->tx, actor, issue_fn, &is);
	if (rc == 0)
		rc = anfu_receipt_document(is.s.alg, is.s.body, is.s.body_len, is.s.kid, is.s.sig,
					   &doc, &len);
	if (rc < 0)
		goto out;
	(void)anfu_strlcpy(ret_id, is.s.id, ANFU_ID_MAX);
	*ret_doc = doc;
	*ret_len = len;
out:
	stored_clear(&is.s);
	free(f);
	return rc;
}

int anfu_receipt_sign_json(struct anfu_receipt *r, const json_t *body, char **ret_doc,
			   size_t *ret_len, char kid[ANFU_KID_MAX])
{
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);
	struct anfu_buf b;
	char *b64 = NULL;
	int rc;

	if (!r || !body || !ret_doc || !ret_len || !kid)
		return ANFU_EINVAL;
	anfu_buf_init(&b, ANFU_LIMIT_RECEIPT_BYTES);
	rc = anfu_receipt_canonical(body, &b);
	if (rc == 0 && sign_named(r->key, b.data, b.len, sig, &siglen) < 0)
		rc = ANFU_ECRYPTO;
	if (rc == 0) {
		b64 = anfu_base64_encode(sig, siglen);
		if (!b64)
			rc = ANFU_EINTERNAL;
	}
	if (rc == 0)
		rc = anfu_receipt_document(anfu_sig_name(r->alg), (const char *)b.data, b.len,
					   anfu_keys_named_kid(r->key), b64, ret_doc, ret_len);
	if (rc == 0)
		(void)anfu_strlcpy(kid, anfu_keys_named_kid(r->key), ANFU_KID_MAX);
	free(b64);
	anfu_buf_free(&b);
	return rc;
}
