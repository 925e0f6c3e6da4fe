/*
 * example/example: the service of the example module: notes, their audit
 * records, the tally job and its metric.
 *
 * Owns struct anfu_example and the rows of example_note. Trusts the
 * handler to have checked the text (length, text rule) and the actor;
 * trusts store/ and audit/. The tally is read and written atomically, so
 * the job thread and /metrics need no lock.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "example/example.h"
#include "jobs/jobs.h"
#include "store/store.h"

#define TALLY_INTERVAL_MS (60LL * 60 * 1000)
#define TALLY_FIRST_DELAY_MS (60LL * 1000)

struct anfu_example {
	const struct anfu_example_config *cfg;
	struct anfu_store *store;
	struct anfu_audit *audit;
	_Atomic int64_t tally; /* notes the last tally counted */
};

int anfu_example_new(const struct anfu_example_config *cfg, struct anfu_store *store,
		     struct anfu_audit *audit, struct anfu_example **ret)
{
	struct anfu_example *ex;

	if (!cfg || !store || !audit || !ret)
		return ANFU_EINVAL;
	ex = anfu_xcalloc(1, sizeof(*ex));
	ex->cfg = cfg;
	ex->store = store;
	ex->audit = audit;
	atomic_init(&ex->tally, 0);
	*ret = ex;
	return 0;
}

void anfu_example_free(struct anfu_example *ex)
{
	free(ex);
}

int64_t anfu_example_max_chars(const struct anfu_example *ex)
{
	return ex->cfg->max_chars;
}

/* Runs fn in one write transaction on db: commits when it returns 0, rolls
 * back otherwise. TODO(issue 7): anfu_tx_run (src/tx/, the one
 * transaction executor) replaces this helper, and fn's audit append
 * becomes anfu_tx_audit, when the executor is merged. */
static int in_write_tx(struct anfu_db *db, int (*fn)(struct anfu_db *db, void *ud), void *ud)
{
	int r = anfu_db_begin(db);

	if (r < 0)
		return r;
	r = fn(db, ud);
	if (r == 0)
		r = anfu_db_commit(db);
	if (r < 0)
		(void)anfu_db_rollback(db);
	return r;
}

struct note_add {
	struct anfu_example *ex;
	const struct anfu_actor *actor;
	const char *text;
	struct anfu_example_note note;
};

/* The row and its audit record (without the text: a note may say
 * anything). */
static int note_add_tx(struct anfu_db *db, void *ud)
{
	struct note_add *a = ud;
	const struct anfu_param p[] = { ANFU_PS(a->note.id), ANFU_PS(a->actor->id),
					ANFU_PS(a->text), ANFU_PI(a->note.created_ms) };
	json_t *details = json_pack("{s:I}", "bytes", (json_int_t)strlen(a->text));
	struct anfu_audit_event ev = {
		.actor = a->actor,
		.action = "example.note_created",
		.object_type = "note",
		.object_id = a->note.id,
		.outcome = "success",
		.details = details,
	};
	int r;

	r = anfu_db_exec(db,
			 "INSERT INTO example_note (id, user_id, text, created_ms) "
			 "VALUES ($1, $2, $3, $4)",
			 p, 4, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_audit_append(a->ex->audit, db, &ev, NULL);
	json_decref(details);
	return r;
}

int anfu_example_note_add(struct anfu_example *ex, const struct anfu_actor *actor, const char *text,
			  struct anfu_example_note *ret)
{
	struct note_add a = { .ex = ex, .actor = actor, .text = text };
	struct anfu_db *db = NULL;
	int r;

	if (!ex || !actor || !actor->id || !text || !ret)
		return ANFU_EINVAL;
	if (anfu_strlcpy(a.note.text, text, sizeof(a.note.text)) < 0)
		return ANFU_ELIMIT;
	r = anfu_id_new("exn", a.note.id, sizeof(a.note.id));
	if (r == 0)
		r = anfu_store_db(ex->store, &db);
	if (r < 0)
		return r;
	a.note.created_ms = anfu_clock_now_ms();
	r = in_write_tx(db, note_add_tx, &a);
	if (r < 0)
		return r;
	*ret = a.note;
	return 0;
}

struct note_list {
	struct anfu_example_note *out;
	size_t cap, n;
};

static int note_row(void *ud, const struct anfu_row *row)
{
	struct note_list *l = ud;
	struct anfu_example_note *n;
	const char *id = anfu_row_text(row, 0, NULL), *text = anfu_row_text(row, 1, NULL);

	if (l->n >= l->cap)
		return 1;
	n = &l->out[l->n];
	if (!id || !text || anfu_strlcpy(n->id, id, sizeof(n->id)) < 0 ||
	    anfu_strlcpy(n->text, text, sizeof(n->text)) < 0)
		return ANFU_ESCHEMA;
	n->created_ms = anfu_row_int(row, 2);
	l->n++;
	return 0;
}

int anfu_example_notes_list(struct anfu_example *ex, const char *user_id,
			    struct anfu_example_note *out, size_t cap, size_t *ret_n)
{
	struct note_list l = { out, cap < ANFU_EXAMPLE_LIST_MAX ? cap : ANFU_EXAMPLE_LIST_MAX, 0 };
	const struct anfu_param p[] = { ANFU_PS(user_id), ANFU_PI(l.cap) };
	struct anfu_db *db = NULL;
	int r;

	if (!ex || !user_id || (!out && cap > 0) || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(ex->store, &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT id, text, created_ms FROM example_note WHERE user_id = $1 "
				 "ORDER BY created_ms DESC, id DESC LIMIT $2",
				 p, 2, note_row, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}

static int tally_job(void *ud, struct anfu_db *db, const char **result)
{
	struct anfu_example *ex = ud;
	int64_t n = 0;
	int r = anfu_db_query_int(db, "SELECT count(*) FROM example_note", NULL, 0, &n);

	if (r == 0)
		atomic_store(&ex->tally, n);
	if (result)
		*result = r == 0 ? "ok" : "failed";
	return r;
}

static const struct anfu_job_def jobs[] = {
	{ "example.tally", TALLY_INTERVAL_MS, TALLY_FIRST_DELAY_MS, NULL, tally_job },
};
const struct anfu_job_table anfu_example_jobs = { jobs, sizeof(jobs) / sizeof(jobs[0]) };

int anfu_example_metrics(void *svc, struct anfu_buf *out)
{
	struct anfu_example *ex = svc;

	return anfu_buf_appendf(
		out,
		"# HELP anfu_example_notes Notes the last example.tally job counted.\n"
		"# TYPE anfu_example_notes gauge\n"
		"anfu_example_notes %" PRId64 "\n",
		atomic_load(&ex->tally));
}
