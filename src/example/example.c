/*
 * example/example: the service of the example module: notes, their audit
 * records, the tally job and its metric.
 *
 * Owns struct anfu_example and the rows of example_note. Trusts the
 * handler to have checked the text (length, text rule) and the actor;
 * trusts store/ and tx/. The tally is read and written atomically, so
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
#include "tx/tx.h"

#define TALLY_INTERVAL_MS (60LL * 60 * 1000)
#define TALLY_FIRST_DELAY_MS (60LL * 1000)

struct anfu_example {
	const struct anfu_example_config *cfg;
	struct anfu_tx_exec *tx;
	_Atomic int64_t tally; /* notes the last tally counted */
};

int anfu_example_new(const struct anfu_example_config *cfg, struct anfu_tx_exec *tx,
		     struct anfu_example **ret)
{
	struct anfu_example *ex;

	if (!cfg || !tx || !ret)
		return ANFU_EINVAL;
	ex = anfu_xcalloc(1, sizeof(*ex));
	ex->cfg = cfg;
	ex->tx = tx;
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

struct note_add {
	struct anfu_example *ex;
	const struct anfu_actor *actor;
	const char *text;
	struct anfu_example_note note;
};

/* The row and its audit record (without the text: a note may say
 * anything), in the executor's transaction. */
static int note_add_tx(struct anfu_tx *tx, void *ud)
{
	struct note_add *a = ud;
	const struct anfu_param p[] = { ANFU_PS(a->note.id), ANFU_PS(a->actor->id),
					ANFU_PS(a->text), ANFU_PI(a->note.created_ms) };
	int r;

	r = anfu_db_exec(anfu_tx_db(tx),
			 "INSERT INTO example_note (id, user_id, text, created_ms) "
			 "VALUES ($1, $2, $3, $4)",
			 p, 4, NULL, NULL, NULL);
	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "example.note_created", "note", a->note.id, "success",
			     json_pack("{s:I}", "bytes", (json_int_t)strlen(a->text)));
}

int anfu_example_note_add(struct anfu_example *ex, const struct anfu_actor *actor, const char *text,
			  struct anfu_example_note *ret)
{
	struct note_add a = { .ex = ex, .actor = actor, .text = text };
	int r;

	if (!ex || !actor || !actor->id || !text || !ret)
		return ANFU_EINVAL;
	if (anfu_strlcpy(a.note.text, text, sizeof(a.note.text)) < 0)
		return ANFU_ELIMIT;
	r = anfu_id_new("exn", a.note.id, sizeof(a.note.id));
	if (r < 0)
		return r;
	a.note.created_ms = anfu_clock_now_ms();
	r = anfu_tx_run(ex->tx, actor, note_add_tx, &a);
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
	r = anfu_store_db(anfu_tx_exec_store(ex->tx), &db);
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
