/*
 * audit/append: the audit writer and appending records.
 *
 * Owns struct anfu_audit and the rows of audit_log and audit_head written
 * by appends. An append runs inside the caller's write transaction: it
 * advances audit_head by the number of records (the row lock serialises
 * concurrent appenders), hashes each record onto the one before and
 * inserts it, and moves the head's hash once, so a batch of n records
 * costs two statements on the head row, not 2n; the state change and its
 * records commit together or not at all. Any failure is ANFU_EAUDIT and
 * the caller must roll back (fail closed); the caller logs it. Trusts callers
 * for the meaning of an event, not for its shape: fields are checked for
 * size and encoding, details for secrets.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store.h"

/* Keys of details that look like credentials (AUD-CNT-01: details never
 * carry secrets). Matched case-insensitively as substrings, so the list
 * errs on the side of refusing: a caller renames an innocent key. */
static const char *const secret_words[] = {
	"password", "passwd", "secret", "token", "pin", "otp", "captcha_answer", "private",
};

/*
 * Creates the writer. cfg is copied; keys is borrowed and must outlive the
 * writer (NULL: no checkpoints or exports). Zero or negative checkpoint
 * intervals take the defaults of base/limits.h. *ret is the caller's.
 */
int anfu_audit_new(const struct anfu_audit_cfg *cfg, const struct anfu_keys *keys,
		   struct anfu_audit **ret)
{
	struct anfu_audit *a;
	pthread_condattr_t ca;

	if (!cfg || !ret)
		return ANFU_EINVAL;
	a = anfu_xcalloc(1, sizeof(*a));
	a->hash = cfg->hash;
	a->checkpoint_records = cfg->checkpoint_records > 0
					? cfg->checkpoint_records
					: ANFU_LIMIT_AUDIT_CHECKPOINT_RECORDS_DEFAULT;
	a->checkpoint_seconds = cfg->checkpoint_seconds > 0
					? cfg->checkpoint_seconds
					: ANFU_LIMIT_AUDIT_CHECKPOINT_SECONDS_DEFAULT;
	a->checkpoint_file = cfg->checkpoint_file ? anfu_xstrdup(cfg->checkpoint_file) : NULL;
	a->keys = keys;
	(void)pthread_mutex_init(&a->ckpt_mu, NULL);
	(void)pthread_mutex_init(&a->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&a->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	*ret = a;
	return 0;
}

void anfu_audit_free(struct anfu_audit *a)
{
	if (!a)
		return;
	anfu_audit_stop(a);
	(void)pthread_cond_destroy(&a->cv);
	(void)pthread_mutex_destroy(&a->mu);
	(void)pthread_mutex_destroy(&a->ckpt_mu);
	free(a->checkpoint_file);
	free(a);
}

int64_t anfu_audit_chain_length(const struct anfu_audit *a)
{
	return a ? atomic_load(&((struct anfu_audit *)a)->last_seq) : 0;
}

#ifdef ANFU_TEST_HOOKS
void anfu_audit_inject_fault(struct anfu_audit *a, bool on)
{
	if (a)
		atomic_store(&a->fault, on);
}
#endif

static bool fault_injected(struct anfu_audit *a)
{
	return atomic_load(&a->fault);
}

/* ---- validating an event ------------------------------------------------ */

bool audit_key_looks_secret(const char *key)
{
	char low[128];
	size_t n = strlen(key);

	/* A key longer than our buffer is checked on its lower-cased prefix
	 * and refused outright if that is all we can see. */
	if (n >= sizeof(low))
		return true;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
		if (strstr(low, secret_words[i]))
			return true;
	return false;
}

/* Walks every object key of v (through arrays too). */
static int check_keys(const json_t *v, int depth, const char **ret_key)
{
	const char *k;
	json_t *child;
	size_t i;

	if (depth > ANFU_LIMIT_AUDIT_DETAILS_DEPTH)
		return ANFU_EINVAL;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, child)
		{
			if (audit_key_looks_secret(k)) {
				*ret_key = k;
				return ANFU_EINVAL;
			}
			if (check_keys(child, depth + 1, ret_key) < 0)
				return ANFU_EINVAL;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) if (check_keys(child, depth + 1, ret_key) <
						    0) return ANFU_EINVAL;
	}
	return 0;
}

/* Serialises details (compact, sorted keys) into out after checking it. */
static int details_text(const json_t *details, struct anfu_buf *out)
{
	const char *bad = NULL;

	if (!details)
		return anfu_buf_appends(out, "{}");
	if (!json_is_object(details)) {
		anfu_log_warn("audit.append", "details are not a JSON object");
		return ANFU_EINVAL;
	}
	if (check_keys(details, 0, &bad) < 0) {
		/* The key name itself is safe to log; its value is not. */
		anfu_log_warn("audit.append", "details refused: %s%.64s%s",
			      bad ? "credential-like key \"" : "nested too deeply", bad ? bad : "",
			      bad ? "\"" : "");
		return ANFU_EINVAL;
	}
	if (anfu_json_append(out, details) < 0 || !anfu_utf8_valid(out->data, out->len)) {
		anfu_log_warn("audit.append", "details too large or not UTF-8");
		return ANFU_EINVAL;
	}
	return 0;
}

static bool field_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > ANFU_LIMIT_AUDIT_FIELD_BYTES || !anfu_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Fills the text fields of r from ev (details separately). */
static int event_fields(const struct anfu_audit_event *ev, struct audit_rec *r)
{
	const struct anfu_actor *ac = ev->actor;
	const char *v[AF_DETAILS] = {
		[AF_ACTOR_ID] = or_empty(ac->id),
		[AF_ACTOR_TYPE] = or_empty(ac->type),
		[AF_ACTOR_ROLE] = or_empty(ac->role),
		[AF_SOURCE_IP] = or_empty(ac->ip),
		[AF_DEVICE] = or_empty(ac->device),
		[AF_REQUEST_ID] = or_empty(ac->request_id),
		[AF_ACTION] = or_empty(ev->action),
		[AF_OBJECT_TYPE] = or_empty(ev->object_type),
		[AF_OBJECT_ID] = or_empty(ev->object_id),
		[AF_OUTCOME] = or_empty(ev->outcome),
	};

	for (int i = 0; i < AF_DETAILS; i++) {
		if (!field_ok(v[i])) {
			anfu_log_warn("audit.append", "field %s is too long or not plain text",
				      audit_field_names[i]);
			return ANFU_EINVAL;
		}
		r->f[i] = anfu_str_c(v[i]);
	}
	if (v[AF_ACTION][0] == '\0' ||
	    (strcmp(v[AF_OUTCOME], "success") != 0 && strcmp(v[AF_OUTCOME], "failure") != 0 &&
	     strcmp(v[AF_OUTCOME], "denied") != 0)) {
		anfu_log_warn("audit.append", "event needs an action and an outcome of "
					      "success, failure or denied");
		return ANFU_EINVAL;
	}
	return 0;
}

/* ---- appending ---------------------------------------------------------- */

struct prev {
	bool found;
	int64_t seq;
	char hash[AUDIT_HEX_LEN + 1];
};

static int prev_row(void *ud, const struct anfu_row *row)
{
	struct prev *p = ud;
	size_t n = 0;
	const char *h = anfu_row_text(row, 1, &n);

	p->seq = anfu_row_int(row, 0);
	p->found = h && audit_is_hash_hex(h, n);
	if (p->found)
		memcpy(p->hash, h, AUDIT_HEX_LEN + 1);
	return 1;
}

static int insert_rec(struct anfu_db *db, const struct audit_rec *r)
{
	struct anfu_param p[4 + AF_COUNT];

	p[0] = ANFU_PI(r->seq);
	p[1] = ANFU_PI(r->ts_ms);
	for (int i = 0; i < AF_COUNT; i++)
		p[2 + i] = ANFU_PSN(r->f[i].ptr, r->f[i].len);
	p[2 + AF_COUNT] = ANFU_PSN(r->prev_hash, strlen(r->prev_hash));
	p[3 + AF_COUNT] = ANFU_PSN(r->hash, strlen(r->hash));
	/* Without waiting: the head's update after the batch reads the
	 * outcome of every insert with its own (store.h anfu_db_send). */
	return anfu_db_send(
		db,
		ANFU_DB_APPEND_SQL(db, "INTO audit_log (seq, ts_ms, actor_id, actor_type, "
				       "actor_role, source_ip, device, request_id, action, "
				       "object_type, object_id, outcome, details, prev_hash, "
				       "hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
				       "$10, $11, $12, $13, $14, $15)"),
		p, 4 + AF_COUNT, NULL, NULL, 1);
}

/* Advances the head by n in one statement: *ret_first is the first of
 * the n sequence numbers now taken, prev the hash the first record chains
 * onto. */
static int take_seqs(struct anfu_db *db, size_t n, int64_t *ret_first, char prev[AUDIT_HEX_LEN + 1])
{
	struct prev pv = { false, 0, "" };
	const struct anfu_param p[] = { ANFU_PI(n) };
	int rv;

	rv = anfu_db_exec(db,
			  "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
			  p, 1, prev_row, &pv, NULL);
	if (rv < 0)
		return rv;
	if (!pv.found || pv.seq < (int64_t)n) {
		anfu_log_error("audit.append", "audit_head is missing or malformed");
		return ANFU_ECORRUPT;
	}
	*ret_first = pv.seq - (int64_t)n + 1;
	memcpy(prev, pv.hash, AUDIT_HEX_LEN + 1);
	return 0;
}

/* Hashes each of the n records onto the one before (the first onto prev),
 * stores them, and moves the head's hash to the last one: two statements
 * on audit_head for the whole batch. */
static int write_recs(enum anfu_hash_alg alg, struct anfu_db *db, struct audit_rec *recs, size_t n,
		      int64_t first, const char prev_hex[AUDIT_HEX_LEN + 1])
{
	uint8_t prev[ANFU_HASH_LEN], h[ANFU_HASH_LEN];
	int64_t changes = 0;
	int rv;

	/* take_seqs gave n numbers after the head's: the chain goes on from 1. */
	ANFU_ASSERT(n >= 1 && first >= 1);
	if (anfu_hex_decode(prev_hex, AUDIT_HEX_LEN, prev, sizeof(prev)) < 0) {
		anfu_log_error("audit.append", "audit_head is missing or malformed");
		return ANFU_ECORRUPT;
	}
	for (size_t i = 0; i < n; i++) {
		struct audit_rec *r = &recs[i];

		r->seq = first + (int64_t)i;
		ANFU_ASSERT(i == 0 || r->seq == recs[i - 1].seq + 1);
		anfu_hex_encode(prev, sizeof(prev), r->prev_hash);
		rv = audit_rec_hash(alg, prev, r, h);
		if (rv < 0)
			return rv;
		anfu_hex_encode(h, sizeof(h), r->hash);
		rv = insert_rec(db, r);
		if (rv < 0)
			return rv;
		memcpy(prev, h, sizeof(prev));
	}
	{
		const struct anfu_param p[] = { ANFU_PSN(recs[n - 1].hash, AUDIT_HEX_LEN) };

		rv = anfu_db_exec(db, "UPDATE audit_head SET hash = $1 WHERE id = 1", p, 1, NULL,
				  NULL, &changes);
	}
	if (rv == 0 && changes != 1)
		rv = ANFU_ECORRUPT;
	return rv;
}

/* Counts n appended records toward the next checkpoint; wakes the
 * checkpointer when they cross checkpoint_records. */
static void note_appended(struct anfu_audit *a, size_t n, int64_t last)
{
	int64_t before = atomic_fetch_add(&a->since_ckpt, (int64_t)n);

	atomic_store(&a->last_seq, last);
	if (before < a->checkpoint_records && before + (int64_t)n >= a->checkpoint_records) {
		(void)pthread_mutex_lock(&a->mu);
		a->wake = true;
		(void)pthread_cond_signal(&a->cv);
		(void)pthread_mutex_unlock(&a->mu);
	}
}

/* Checks every event and serialises its details into texts[i]; nothing is
 * written when one of them is refused. */
static int batch_fields(const struct anfu_audit_event *evs, size_t n, struct audit_rec *recs,
			struct anfu_buf *texts)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (!evs[i].actor)
			return ANFU_EINVAL;
		r = event_fields(&evs[i], &recs[i]);
		if (r < 0)
			return r;
		/* Text from anfu_audit_details_text: checked when it was made. */
		if (!evs[i].details && evs[i].details_text) {
			size_t len = strlen(evs[i].details_text);

			if (len > ANFU_LIMIT_AUDIT_DETAILS_BYTES || evs[i].details_text[0] != '{')
				return ANFU_EINVAL;
			recs[i].f[AF_DETAILS] = (struct anfu_str){ evs[i].details_text, len };
			continue;
		}
		r = details_text(evs[i].details, &texts[i]);
		if (r < 0)
			return r;
		recs[i].f[AF_DETAILS] = (struct anfu_str){ texts[i].data, texts[i].len };
	}
	return 0;
}

/*
 * See audit.h. Every event is checked before anything is written, so a
 * refused event anywhere in the batch leaves the database as it was; a
 * failure while writing leaves part of the batch in the caller's
 * transaction, which the caller rolls back (ANFU_EAUDIT). The failure is
 * the caller's to log: it decides what happens next.
 */
int anfu_audit_append_batch(struct anfu_audit *a, struct anfu_db *db,
			    const struct anfu_audit_event *evs, size_t n, int64_t *ret_first_seq)
{
	struct audit_rec *recs = NULL;
	struct anfu_buf *texts = NULL;
	int64_t first = 0, ts;
	char prev[AUDIT_HEX_LEN + 1];
	int r;

	if (!a || !db || (!evs && n > 0) || n > ANFU_LIMIT_AUDIT_BATCH_RECORDS)
		return ANFU_EINVAL;
	if (n == 0)
		return 0;
	recs = anfu_xcalloc(n, sizeof(*recs));
	texts = anfu_xcalloc(n, sizeof(*texts));
	for (size_t i = 0; i < n; i++)
		anfu_buf_init(&texts[i], ANFU_LIMIT_AUDIT_DETAILS_BYTES + 1);
	r = batch_fields(evs, n, recs, texts);
	if (r < 0)
		goto out;
	if (fault_injected(a) || db->tx_depth == 0) {
		r = ANFU_EAUDIT;
		goto out;
	}
	ts = anfu_clock_now_ms();
	for (size_t i = 0; i < n; i++)
		recs[i].ts_ms = ts;
	r = take_seqs(db, n, &first, prev);
	if (r == 0)
		r = write_recs(a->hash, db, recs, n, first, prev);
	if (r < 0) {
		r = ANFU_EAUDIT;
		goto out;
	}
	note_appended(a, n, first + (int64_t)n - 1);
	if (ret_first_seq)
		*ret_first_seq = first;
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		anfu_buf_free(&texts[i]);
	free(texts);
	free(recs);
	return r;
}

int anfu_audit_append(struct anfu_audit *a, struct anfu_db *db, const struct anfu_audit_event *ev,
		      int64_t *ret_seq)
{
	if (!a || !db || !ev || !ev->actor)
		return ANFU_EINVAL;
	return anfu_audit_append_batch(a, db, ev, 1, ret_seq);
}

int anfu_audit_ready(struct anfu_audit *a, struct anfu_db *db)
{
	int64_t seq = 0;

	if (!a || !db)
		return ANFU_EAUDIT;
	if (fault_injected(a))
		return ANFU_EAUDIT;
	if (anfu_db_query_int(db, "SELECT seq FROM audit_head WHERE id = 1", NULL, 0, &seq) < 0)
		return ANFU_EAUDIT;
	if (a->checkpoint_file && audit_ckpt_file_writable(a->checkpoint_file) < 0)
		return ANFU_EAUDIT;
	return 0;
}
