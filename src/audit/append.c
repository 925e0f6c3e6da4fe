/*
 * audit/append: the audit writer and appending records.
 *
 * Owns struct anfu_audit and the rows of audit_log and audit_head written
 * by appends. An append runs inside the caller's write transaction: it
 * advances audit_head (the row lock serialises concurrent appenders),
 * hashes the record onto the previous head and inserts it, so the state
 * change and its record commit together or not at all. Any failure is
 * ANFU_EAUDIT and the caller must roll back (fail closed). Trusts callers
 * for the meaning of an event, not for its shape: fields are checked for
 * size and encoding, details for secrets.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"
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

/* Nesting of details we inspect; deeper is refused rather than skipped. */
#define DETAILS_DEPTH_MAX 16

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

static bool looks_secret(const char *key)
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

	if (depth > DETAILS_DEPTH_MAX)
		return ANFU_EINVAL;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, child)
		{
			if (looks_secret(k)) {
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

	if (n > AUDIT_FIELD_MAX || !anfu_utf8_valid(s, n))
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
	return anfu_db_exec(db,
			    "INSERT INTO audit_log (seq, ts_ms, actor_id, actor_type, actor_role, "
			    "source_ip, device, request_id, action, object_type, object_id, "
			    "outcome, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, "
			    "$7, $8, $9, $10, $11, $12, $13, $14, $15)",
			    p, 4 + AF_COUNT, NULL, NULL, NULL);
}

/* Advances the head, hashes r onto it and stores r. */
static int write_rec(enum anfu_hash_alg alg, struct anfu_db *db, struct audit_rec *r)
{
	struct prev pv = { false, 0, "" };
	uint8_t prev[ANFU_HASH_LEN], h[ANFU_HASH_LEN];
	int64_t changes = 0;
	int rv;

	rv = anfu_db_exec(db,
			  "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
			  NULL, 0, prev_row, &pv, NULL);
	if (rv < 0)
		return rv;
	if (!pv.found || pv.seq < 1 ||
	    anfu_hex_decode(pv.hash, AUDIT_HEX_LEN, prev, sizeof(prev)) < 0) {
		anfu_log_error("audit.append", "audit_head is missing or malformed");
		return ANFU_ECORRUPT;
	}
	r->seq = pv.seq;
	memcpy(r->prev_hash, pv.hash, sizeof(r->prev_hash));
	rv = audit_rec_hash(alg, prev, r, h);
	if (rv < 0)
		return rv;
	anfu_hex_encode(h, sizeof(h), r->hash);
	rv = insert_rec(db, r);
	if (rv < 0)
		return rv;
	{
		const struct anfu_param p[] = { ANFU_PSN(r->hash, strlen(r->hash)) };

		rv = anfu_db_exec(db, "UPDATE audit_head SET hash = $1 WHERE id = 1", p, 1, NULL,
				  NULL, &changes);
	}
	if (rv == 0 && changes != 1)
		rv = ANFU_ECORRUPT;
	return rv;
}

static void note_appended(struct anfu_audit *a, int64_t seq)
{
	int64_t since = atomic_fetch_add(&a->since_ckpt, 1) + 1;

	atomic_store(&a->last_seq, seq);
	if (since == a->checkpoint_records) {
		(void)pthread_mutex_lock(&a->mu);
		a->wake = true;
		(void)pthread_cond_signal(&a->cv);
		(void)pthread_mutex_unlock(&a->mu);
	}
}

int anfu_audit_append(struct anfu_audit *a, struct anfu_db *db, const struct anfu_audit_event *ev,
		      int64_t *ret_seq)
{
	struct audit_rec rec;
	struct anfu_buf details;
	int r;

	if (!a || !db || !ev || !ev->actor)
		return ANFU_EINVAL;
	memset(&rec, 0, sizeof(rec));
	anfu_buf_init(&details, ANFU_LIMIT_AUDIT_DETAILS_BYTES + 1);
	r = event_fields(ev, &rec);
	if (r == 0)
		r = details_text(ev->details, &details);
	if (r < 0)
		goto out;
	rec.f[AF_DETAILS] = (struct anfu_str){ details.data, details.len };
	if (fault_injected(a)) {
		anfu_log_error("audit.append", "injected fault: refusing to append");
		r = ANFU_EAUDIT;
		goto out;
	}
	if (db->tx_depth == 0) {
		anfu_log_error("audit.append", "append outside a write transaction");
		r = ANFU_EAUDIT;
		goto out;
	}
	rec.ts_ms = anfu_clock_now_ms();
	r = write_rec(a->hash, db, &rec);
	if (r < 0) {
		anfu_log_error("audit.append", "cannot append %.64s: %s", ev->action,
			       anfu_strerror(r));
		r = ANFU_EAUDIT;
		goto out;
	}
	note_appended(a, rec.seq);
	if (ret_seq)
		*ret_seq = rec.seq;
	r = 0;
out:
	anfu_buf_free(&details);
	return r;
}

int anfu_audit_record(struct anfu_audit *a, struct anfu_store *s, const struct anfu_audit_event *ev)
{
	struct anfu_db *db = NULL;
	int r;

	if (!a || !s || !ev)
		return ANFU_EINVAL;
	r = anfu_store_db(s, &db);
	if (r < 0)
		return ANFU_EAUDIT;
	r = anfu_db_begin(db);
	if (r < 0)
		return ANFU_EAUDIT;
	r = anfu_audit_append(a, db, ev, NULL);
	if (r == 0 && anfu_db_commit(db) < 0)
		r = ANFU_EAUDIT;
	if (r < 0)
		(void)anfu_db_rollback(db);
	return r;
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
