/*
 * example: a service that shows what adding one takes (docs/architecture.md,
 * "Adding a service: a checklist"). Users write short notes and read their
 * own back; a job counts the notes and /metrics shows the count.
 *
 * Owns the table example_note (src/example/migrations/) and the [example]
 * options (example/options.c). Every note is written with its audit record
 * in one transaction. Built only with -Dexample_module=true (test builds);
 * nothing outside src/example/ names it but one line of the module list.
 * Thread-safe: each call uses the calling thread's database connection.
 */
#ifndef ANFU_EXAMPLE_EXAMPLE_H
#define ANFU_EXAMPLE_EXAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/rand.h"

struct anfu_actor;
struct anfu_buf;
struct anfu_config_table;
struct anfu_db;
struct anfu_job_table;
struct anfu_migration_set;
struct anfu_store;
struct anfu_tx_exec;

/* The [example] options (example/options.c). */
struct anfu_example_config {
	int64_t max_chars; /* longest note, in code points */
};

/* Notes one list call returns, newest first. */
#define ANFU_EXAMPLE_LIST_MAX 50
/* Longest note the [example] max_chars option may allow, in code points;
 * a code point takes at most 4 bytes of UTF-8. */
#define ANFU_EXAMPLE_CHARS_MAX 1000
#define ANFU_EXAMPLE_TEXT_BYTES (4 * ANFU_EXAMPLE_CHARS_MAX + 1)

struct anfu_example_note {
	char id[ANFU_ID_MAX]; /* "exn_..." */
	char text[ANFU_EXAMPLE_TEXT_BYTES];
	int64_t created_ms;
};

struct anfu_example;

/* Makes the service; cfg and tx (the transaction executor, through
 * which every write goes) are borrowed and must outlive it. */
int anfu_example_new(const struct anfu_example_config *cfg, struct anfu_tx_exec *tx,
		     struct anfu_example **ret);
/* NULL-safe. */
void anfu_example_free(struct anfu_example *ex);

/* The longest note the configuration allows, in code points. */
int64_t anfu_example_max_chars(const struct anfu_example *ex);

/* Stores a note of actor (its id is the note's owner) with the audit
 * record "example.note_created", in one transaction; *ret (written only
 * on success) is the note. text is NUL-terminated, already checked
 * against the text rule and max_chars by the caller. */
int anfu_example_note_add(struct anfu_example *ex, const struct anfu_actor *actor, const char *text,
			  struct anfu_example_note *ret);
/* The newest notes of user_id (at most cap, and at most
 * ANFU_EXAMPLE_LIST_MAX) into out, newest first; *ret_n how many. */
int anfu_example_notes_list(struct anfu_example *ex, const char *user_id,
			    struct anfu_example_note *out, size_t cap, size_t *ret_n);

/* The job "example.tally" (ud: the service) counts every note for the
 * metric; anfu_example_metrics appends "anfu_example_notes <count>". */
extern const struct anfu_job_table anfu_example_jobs;
int anfu_example_metrics(void *svc, struct anfu_buf *out);

/* Its migrations (generated) and its option table. */
extern const struct anfu_migration_set anfu_example_migrations;
extern const struct anfu_config_table anfu_example_config_table;

#endif
