/*
 * audit/internal: what the files of src/audit/ share, private to them.
 *
 * The writer struct, the record and checkpoint shapes, the canonical
 * encodings (chain.c), the strict JSON-line codec (parse.c) and the chain
 * checker (verify.c). Nothing outside src/audit/ includes this, except the
 * unit tests, which forge records the way an attacker would.
 */
#ifndef ANFU_AUDIT_INTERNAL_H
#define ANFU_AUDIT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/limits.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "keys/keys.h"

struct anfu_buf;

#define AUDIT_HEX_LEN (2 * ANFU_HASH_LEN)
#define AUDIT_SIG_HEX_MAX (2 * ANFU_SIG_MAX)

#define AUDIT_RECORD_TAG "anfu-audit-v1"
#define AUDIT_CHECKPOINT_TAG "anfu-audit-checkpoint-v1"
#define AUDIT_EXPORT_TAG "anfu-audit-export-v1:"
#define AUDIT_EXPORT_FORMAT "anfu-audit-export/1"

/* The text fields of a record in canonical order (after seq and ts_ms).
 * Their names are the audit_log columns and the export keys. */
enum audit_field {
	AF_ACTOR_ID,
	AF_ACTOR_TYPE,
	AF_ACTOR_ROLE,
	AF_SOURCE_IP,
	AF_DEVICE,
	AF_REQUEST_ID,
	AF_ACTION,
	AF_OBJECT_TYPE,
	AF_OBJECT_ID,
	AF_OUTCOME,
	AF_DETAILS,
	AF_COUNT,
};

extern const char *const audit_field_names[AF_COUNT];

/* A record as stored; strings borrowed. */
struct audit_rec {
	int64_t seq;
	int64_t ts_ms;
	struct anfu_str f[AF_COUNT];
	char prev_hash[AUDIT_HEX_LEN + 1];
	char hash[AUDIT_HEX_LEN + 1];
};

/* A checkpoint as stored in the database, the file and the export. */
struct audit_ckpt {
	int64_t seq;
	int64_t ts_ms;
	char head[AUDIT_HEX_LEN + 1];
	char key_id[ANFU_KID_MAX];
	char hash_alg[16];
	char sig[AUDIT_SIG_HEX_MAX + 1];
};

struct anfu_audit {
	enum anfu_hash_alg hash;
	int checkpoint_records;
	int checkpoint_seconds;
	char *checkpoint_file;
	const struct anfu_keys *keys; /* borrowed */

	_Atomic int64_t last_seq;   /* newest seq appended or checkpointed */
	_Atomic int64_t since_ckpt; /* appended since the last checkpoint */
	_Atomic bool fault;	    /* test hook: appends fail */

	pthread_mutex_t ckpt_mu;  /* one checkpoint (tx + file line) at a time */
	anfu_audit_runner_fn run; /* the executor's (anfu_audit_attach_runner) */
	void *run_ud;

	pthread_mutex_t mu; /* guards the checkpointer fields below */
	pthread_cond_t cv;
	bool running;
	bool stop;
	bool wake;
	pthread_t thread;
	struct anfu_store *store; /* borrowed, while running */
};

/* ---- append.c ------------------------------------------------------------ */

/* True for a details key that looks like a credential (AUD-CNT-01). */
bool audit_key_looks_secret(const char *key);

/* ---- chain.c: canonical encodings and hashing ------------------------- */

/* Appends the canonical encoding v1 of r (docs/audit.md). */
int audit_canonical(struct anfu_buf *out, const struct audit_rec *r);
/* hash = H(prev || canonical(r)). */
int audit_rec_hash(enum anfu_hash_alg alg, const uint8_t prev[ANFU_HASH_LEN],
		   const struct audit_rec *r, uint8_t out[ANFU_HASH_LEN]);
/* Appends the signed message of a checkpoint. */
int audit_ckpt_message(struct anfu_buf *out, const struct audit_ckpt *c);
/* 0 when c->sig is a good signature by pub, ANFU_ECRYPTO otherwise. */
int audit_ckpt_verify_sig(const struct anfu_sigkey *pub, const struct audit_ckpt *c);
/* True for 64 lower-case hex characters. */
bool audit_is_hash_hex(const char *s, size_t len);

/* ---- parse.c: the strict JSON-line codec -------------------------------- */

/* Appends obj (an object of strings and integers) compactly, keys sorted
 * by byte, strings escaped as docs/audit.md says. */
int audit_json_canon(struct anfu_buf *out, const json_t *obj);
/* Parses one checkpoint-file line strictly into *ret. */
int audit_parse_ckpt_line(const char *line, size_t len, struct audit_ckpt *ret);
/* Fills *ret from a parsed checkpoint object (file or export line). */
void audit_ckpt_from_json(const json_t *obj, struct audit_ckpt *ret);
/* True when every field of c has its format (hex, key id, algorithm). */
bool audit_ckpt_well_formed(const struct audit_ckpt *c);
/* Builds the JSON object of a well-formed checkpoint; with_type adds
 * "type". */
json_t *audit_ckpt_to_json(const struct audit_ckpt *c, bool with_type);
/* Reads one '\n'-terminated line of at most cap bytes into buf. Returns 1
 * with *ret_len and *ret_nl (false: the file ended without '\n'), 0 at end
 * of file, ANFU_ELIMIT for a longer line, ANFU_EIO on read errors. */
int audit_read_line(FILE *f, char *buf, size_t cap, size_t *ret_len, bool *ret_nl);

/* ---- verify.c: checking a chain record by record ----------------------- */

struct audit_chain {
	enum anfu_hash_alg alg;
	int64_t next_seq; /* the seq the next record must have */
	uint8_t prev[ANFU_HASH_LEN];
	char prev_hex[AUDIT_HEX_LEN + 1];
};

void audit_chain_init(struct audit_chain *c, enum anfu_hash_alg alg);
/* Checks r against the chain so far and advances it; ANFU_ECORRUPT with
 * rep filled when r does not follow. */
int audit_chain_feed(struct audit_chain *c, const struct audit_rec *r,
		     struct anfu_audit_report *rep);
/* Records problem at seq unless an earlier seq is already reported;
 * returns ANFU_ECORRUPT. */
int audit_report_bad(struct anfu_audit_report *rep, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The checkpoint file's lines (all of them, parsed; signatures unchecked).
 * A missing file is an empty list. A malformed or repeated line is a
 * problem recorded in rep (rep->first_bad_seq), and the read still
 * succeeds with the lines that parsed; *ret (the caller's, freed with
 * audit_ckpt_list_free) is written only on success (ANFU_EIO otherwise). */
struct audit_ckpt_list {
	struct audit_ckpt *v;
	size_t n;
};
int audit_ckpt_file_read(const char *path, struct audit_ckpt_list *ret,
			 struct anfu_audit_report *rep);
/* The database's checkpoints ordered by seq (the file's list is sorted
 * too; audit_ckpt_find() relies on it). */
int audit_ckpt_db_read(struct anfu_db *db, struct audit_ckpt_list *ret);
void audit_ckpt_list_free(struct audit_ckpt_list *l);
const struct audit_ckpt *audit_ckpt_find(const struct audit_ckpt_list *l, int64_t seq);
bool audit_ckpt_equal(const struct audit_ckpt *a, const struct audit_ckpt *b);

/* Streams audit_log ordered by seq to fn (stop: non-zero). */
typedef int (*audit_rec_fn)(void *ud, const struct audit_rec *r);
int audit_scan(struct anfu_db *db, audit_rec_fn fn, void *ud);

/* 0 when the checkpoint file can be opened for appending (it and its
 * directory are created when missing), ANFU_EIO otherwise. */
int audit_ckpt_file_writable(const char *path);

/* Creates the parent directory of path (0700) when it is missing. */
int audit_make_parent_dir(const char *path);

#endif
