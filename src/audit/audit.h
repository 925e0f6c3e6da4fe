/*
 * audit: the append-only, hash-chained, signed audit log.
 *
 * Owns the tables audit_log, audit_head and audit_checkpoint and the file
 * DATA/audit/checkpoints.jsonl. Each record's hash is
 *   H(prev_hash || canonical(record))
 * with H = SHA-256 (SM3 under crypto=gm); canonical() is the length-prefixed
 * encoding in docs/audit.md. Every N records or T seconds a checkpoint signs
 * (seq, head hash, time, key id) with the audit key; checkpoints go to the
 * database and to the file, so truncating the table behind a checkpoint is
 * detected even when the attacker dropped the triggers.
 *
 * Appends run inside the caller's write transaction: the state change and
 * its audit record commit together or not at all (DESIGN.md rule 3). If the
 * record cannot be written the caller gets ANFU_EAUDIT and must roll back
 * (fail closed). Details never carry secrets: keys that look like
 * credentials are refused.
 */
#ifndef ANFU_AUDIT_AUDIT_H
#define ANFU_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "crypto/crypto.h"

struct anfu_db;
struct anfu_store;
struct anfu_keys;
struct anfu_buf;

/* Who did it. All strings borrowed; NULL is stored as "". */
struct anfu_actor {
	const char *id;		/* public id (usr_...), or "system" */
	const char *type;	/* "customer", "merchant", "operator", "system", "anonymous" */
	const char *role;	/* role name(s), comma-separated, or "" */
	const char *ip;		/* source IP, or "" */
	const char *device;	/* device id, or "" */
	const char *request_id; /* X-Request-Id, or "" */
};

/* What happened. Strings borrowed; details borrowed (may be NULL). */
struct anfu_audit_event {
	const struct anfu_actor *actor;
	const char *action;	 /* dotted verb: "server.start", "auth.login" */
	const char *object_type; /* "user", "session", "config", ... or "" */
	const char *object_id;	 /* or "" */
	const char *outcome;	 /* "success", "failure", "denied" */
	const json_t *details;	 /* JSON object, no secrets, or NULL */
	/* Or (details NULL) the details as anfu_audit_details_text() made
	 * them: stored as they are, without jansson. */
	const char *details_text;
};

/* One member of a record's details for anfu_audit_details_text(): a
 * string s, JSON null when s is NULL, or the integer i when is_int. */
struct anfu_audit_kv {
	const char *key;
	const char *s;
	int64_t i;
	bool is_int;
};

struct anfu_audit_cfg {
	enum anfu_hash_alg hash;
	int checkpoint_records;	     /* N: checkpoint after this many records */
	int checkpoint_seconds;	     /* T: or after this many seconds */
	const char *checkpoint_file; /* DATA/audit/checkpoints.jsonl */
};

struct anfu_audit;

/* Creates the audit writer. keys is borrowed and must outlive it (it signs
 * checkpoints); it may be NULL for read-only use (verify, export without
 * trailer signature is not allowed: export needs keys). */
int anfu_audit_new(const struct anfu_audit_cfg *cfg, const struct anfu_keys *keys,
		   struct anfu_audit **ret);
/* Stops the checkpointer if running; NULL-safe. */
void anfu_audit_free(struct anfu_audit *a);

/* Appends one record inside the caller's open write transaction on db:
 * anfu_audit_append_batch() with n = 1. *ret_seq (may be NULL) gets its
 * sequence number. */
int anfu_audit_append(struct anfu_audit *a, struct anfu_db *db, const struct anfu_audit_event *ev,
		      int64_t *ret_seq);

/*
 * Appends to out the details text an append stores for the JSON object of
 * the n members kv (compact, keys sorted by byte: what jansson's dump
 * gives), after the checks an append makes of a json_t's details: no
 * credential-like key, UTF-8, at most ANFU_LIMIT_AUDIT_DETAILS_BYTES. The
 * keys must come in strictly increasing strcmp order and need no JSON
 * escaping. For a hot path (one record per ledger transfer): no json_t is
 * made, packed, sorted or freed. ANFU_EINVAL for a refused member (out
 * then holds part of the text), ANFU_ELIMIT beyond the size.
 */
int anfu_audit_details_text(struct anfu_buf *out, const struct anfu_audit_kv *kv, size_t n);

/* Appends evs[0..n-1], in that order, inside the caller's open write
 * transaction on db, reading and moving the chain head once for the whole
 * batch. Every event is checked first: ANFU_EINVAL (nothing written) for
 * one whose details are not an object or carry credential-like keys, or
 * whose fields are too long; ANFU_EINVAL also for n beyond
 * ANFU_LIMIT_AUDIT_BATCH_RECORDS. Any other failure is ANFU_EAUDIT, and
 * the caller rolls back. Logs no failure: the caller decides and logs.
 * *ret_first_seq (may be NULL) gets the first record's sequence number;
 * the others follow it. n = 0 writes nothing and returns 0. evs and
 * everything they point to are borrowed. */
int anfu_audit_append_batch(struct anfu_audit *a, struct anfu_db *db,
			    const struct anfu_audit_event *evs, size_t n, int64_t *ret_first_seq);

/* ---- the transaction the writer's own changes run in ---------------- */

/* One step of a write: runs on db inside the transaction, returns 0 or an
 * ANFU_E* code (the transaction then rolls back). */
typedef int (*anfu_audit_step_fn)(struct anfu_db *db, void *step_ud);
/* Runs step(db, step_ud) in one write transaction on the calling thread's
 * connection: commits when step returns 0, rolls back otherwise. Returns
 * step's result, or the failure of the transaction itself. */
typedef int (*anfu_audit_runner_fn)(void *run_ud, anfu_audit_step_fn step, void *step_ud);

/* Gives the writer the transaction executor its own changes (checkpoints)
 * are written through. The executor (src/tx, a layer above this one)
 * attaches itself when it is made with this writer and detaches (NULL)
 * when freed; without one, anfu_audit_checkpoint() refuses (ANFU_EINVAL).
 * Call before anfu_audit_start(), or after anfu_audit_stop(). */
void anfu_audit_attach_runner(struct anfu_audit *a, anfu_audit_runner_fn run, void *run_ud);

/* Writes a signed checkpoint of the current head in its own transaction
 * (through the attached runner) when records were added since the last
 * one (or always, if force), then appends it to the checkpoint file. *ret_seq (may be NULL) gets the
 * checkpointed sequence (0 when nothing was written). */
int anfu_audit_checkpoint(struct anfu_audit *a, struct anfu_db *db, bool force, int64_t *ret_seq);

/* Starts a thread that checkpoints every checkpoint_seconds, or sooner once
 * checkpoint_records were appended. store is borrowed. */
int anfu_audit_start(struct anfu_audit *a, struct anfu_store *store);
/* Stops that thread after a final checkpoint. */
void anfu_audit_stop(struct anfu_audit *a);

/* Sequence number of the newest record this process has seen (metrics). */
int64_t anfu_audit_chain_length(const struct anfu_audit *a);

/* Readiness: the head row is readable, the checkpoint file is writable and
 * no fault is injected. 0 or ANFU_EAUDIT. */
int anfu_audit_ready(struct anfu_audit *a, struct anfu_db *db);

#ifdef ANFU_TEST_HOOKS
/* Test hook: make every append fail (fail-closed tests). */
void anfu_audit_inject_fault(struct anfu_audit *a, bool on);
#endif

/* ---- verification and export ---------------------------------------- */

struct anfu_audit_report {
	int64_t records;       /* records checked */
	int64_t checkpoints;   /* checkpoints checked (database and file) */
	int64_t first_bad_seq; /* 0 when everything verified */
	char problem[256];     /* what was wrong, for people */
};

/* Recomputes the whole chain in db and checks every checkpoint in the
 * database and in checkpoint_file (may be NULL) against pub. Returns 0 when
 * everything verifies, ANFU_ECORRUPT with *rep naming the first bad
 * sequence otherwise. progress (may be NULL) is called every 10,000
 * records with the number done. */
int anfu_audit_verify(struct anfu_db *db, enum anfu_hash_alg hash, const struct anfu_sigkey *pub,
		      const char *checkpoint_file, void (*progress)(int64_t done, int64_t total),
		      struct anfu_audit_report *rep);

/* Writes the export (docs/audit.md): a header line, the records with the
 * checkpoints after the record they cover, and a trailer line holding the
 * digest of every preceding byte signed with the audit key. */
int anfu_audit_export(struct anfu_audit *a, struct anfu_db *db, FILE *out);

/* Verifies an export read from in against pub (what tools/verify_audit.py
 * does, in C): 0 or ANFU_ECORRUPT with *rep filled. */
int anfu_audit_verify_export(FILE *in, const struct anfu_sigkey *pub,
			     struct anfu_audit_report *rep);

/* One parsed export line; strings point into the parser's own copy and stay
 * valid until anfu_audit_line_free(). */
enum anfu_audit_line_type {
	ANFU_AUDIT_LINE_HEADER,
	ANFU_AUDIT_LINE_RECORD,
	ANFU_AUDIT_LINE_CHECKPOINT,
	ANFU_AUDIT_LINE_TRAILER,
};

struct anfu_audit_line {
	enum anfu_audit_line_type type;
	json_t *obj; /* owned: the parsed line */
};

/* Parses and strictly validates one line (no newline): known type, exactly
 * the allowed fields with the right types, lower-case hex of the right
 * lengths. ANFU_EINVAL on anything else. */
int anfu_audit_parse_line(const char *line, size_t len, struct anfu_audit_line *ret);
void anfu_audit_line_free(struct anfu_audit_line *l);

#endif
