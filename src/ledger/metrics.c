/*
 * ledger/metrics: what the ledger writer counts for /metrics (Prometheus
 * text, like http/metrics.c): the size of each committed batch (journal
 * rows, a histogram), the batch latency (anfu_tx_run_batch, a histogram
 * in seconds), batches committed and failed, transfers applied, refusals
 * by code, and the queue depth (a gauge read under the queue's mutex when
 * rendered).
 *
 * Owns struct ledger_metrics: relaxed atomics the writer thread adds to
 * and any thread renders (a scrape may see one batch half counted).
 */
#include <inttypes.h>
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/refusal.h"
#include "ledger/internal.h"

/* Upper bounds of the batch size histogram, in journal rows: a lone
 * transfer, the small batches of a light load, up to ANFU_LIMIT_LEDGER_BATCH. */
static const int64_t size_bounds[LEDGER_SIZE_BUCKETS] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000
};
_Static_assert(ANFU_LIMIT_LEDGER_BATCH <= 1000, "the last bound holds the largest batch");

/* Every refusal a transfer may get (base/refusal.h), in the order they
 * are rendered; ledger_metrics_refused() counts each by its index. */
static const char *const refusal_codes[LEDGER_REFUSAL_CODES] = {
	ANFU_R_LEDGER_ACCOUNT_NOT_FOUND,
	ANFU_R_LEDGER_ACCOUNT_FROZEN,
	ANFU_R_LEDGER_ACCOUNT_CLOSED,
	ANFU_R_LEDGER_ASSET_MISMATCH,
	ANFU_R_LEDGER_SAME_ACCOUNT,
	ANFU_R_LEDGER_AMOUNT_INVALID,
	ANFU_R_LEDGER_INSUFFICIENT_FUNDS,
	ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED,
	ANFU_R_LEDGER_OVERFLOW,
	ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT,
	ANFU_R_LEDGER_PENDING_NOT_FOUND,
	ANFU_R_LEDGER_PENDING_NOT_PENDING,
	ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED,
	ANFU_R_LEDGER_PENDING_MISMATCH,
	ANFU_R_LEDGER_LINKED_EVENT_FAILED,
};

#define ADD(field, v) atomic_fetch_add_explicit(&(field), (uint64_t)(v), memory_order_relaxed)
#define GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

void ledger_metrics_batch(struct ledger_metrics *m, int64_t rows, int64_t us, bool committed)
{
	size_t i = 0;

	ANFU_ASSERT(rows >= 0);
	anfu_hist_observe(&m->latency, us);
	if (!committed) {
		ADD(m->batches_failed, 1);
		return;
	}
	ADD(m->batches, 1);
	ADD(m->transfers, rows);
	while (i < LEDGER_SIZE_BUCKETS && rows > size_bounds[i])
		i++;
	ADD(m->size_bucket[i], 1);
	ADD(m->size_sum, rows);
}

void ledger_metrics_wait(struct ledger_metrics *m)
{
	ADD(m->waits, 1);
}

void ledger_metrics_refused(struct ledger_metrics *m, const char *code)
{
	for (size_t i = 0; i < LEDGER_REFUSAL_CODES; i++)
		if (strcmp(code, refusal_codes[i]) == 0) {
			ADD(m->refusals[i], 1);
			return;
		}
	ANFU_ASSERT(!"a ledger refusal without its counter");
}

int anfu_ledger_metrics(void *svc, struct anfu_buf *out)
{
	struct anfu_ledger *l = svc;
	struct ledger_metrics *m;
	uint64_t cum = 0;
	size_t queued;
	int r;

	if (!l || !out)
		return ANFU_EINVAL;
	m = &l->metrics;
	pthread_mutex_lock(&l->mu);
	queued = l->queued;
	pthread_mutex_unlock(&l->mu);
	r = anfu_buf_appends(out, "# HELP anfu_ledger_batch_transfers Journal rows of each "
				  "committed ledger batch.\n"
				  "# TYPE anfu_ledger_batch_transfers histogram\n");
	for (size_t i = 0; i <= LEDGER_SIZE_BUCKETS && r == 0; i++) {
		cum += GET(m->size_bucket[i]);
		if (i < LEDGER_SIZE_BUCKETS)
			r = anfu_buf_appendf(out,
					     "anfu_ledger_batch_transfers_bucket{le=\"%" PRId64
					     "\"} %" PRIu64 "\n",
					     size_bounds[i], cum);
		else
			r = anfu_buf_appendf(
				out,
				"anfu_ledger_batch_transfers_bucket{le=\"+Inf\"} %" PRIu64 "\n",
				cum);
	}
	if (r == 0)
		r = anfu_buf_appendf(out,
				     "anfu_ledger_batch_transfers_sum %" PRIu64 "\n"
				     "anfu_ledger_batch_transfers_count %" PRIu64 "\n"
				     "# HELP anfu_ledger_batch_duration_seconds Latency of each "
				     "ledger batch (its transaction, commit included).\n"
				     "# TYPE anfu_ledger_batch_duration_seconds histogram\n",
				     GET(m->size_sum), cum);
	if (r == 0)
		r = anfu_hist_render(&m->latency, "anfu_ledger_batch_duration_seconds", "", out);
	if (r == 0)
		r = anfu_buf_appendf(
			out,
			"# HELP anfu_ledger_batches_total Ledger batches by outcome.\n"
			"# TYPE anfu_ledger_batches_total counter\n"
			"anfu_ledger_batches_total{outcome=\"committed\"} %" PRIu64 "\n"
			"anfu_ledger_batches_total{outcome=\"failed\"} %" PRIu64 "\n"
			"# HELP anfu_ledger_transfers_total Transfers the ledger applied.\n"
			"# TYPE anfu_ledger_transfers_total counter\n"
			"anfu_ledger_transfers_total %" PRIu64 "\n"
			"# HELP anfu_ledger_batch_waits_total Times the ledger writer waited "
			"for more requests before a batch ([ledger] batch_wait_us).\n"
			"# TYPE anfu_ledger_batch_waits_total counter\n"
			"anfu_ledger_batch_waits_total %" PRIu64 "\n"
			"# HELP anfu_ledger_queue_depth Requests waiting for the ledger writer.\n"
			"# TYPE anfu_ledger_queue_depth gauge\n"
			"anfu_ledger_queue_depth %zu\n"
			"# HELP anfu_ledger_refusals_total Transfers the ledger refused, by code.\n"
			"# TYPE anfu_ledger_refusals_total counter\n",
			GET(m->batches), GET(m->batches_failed), GET(m->transfers), GET(m->waits),
			queued);
	for (size_t i = 0; i < LEDGER_REFUSAL_CODES && r == 0; i++)
		r = anfu_buf_appendf(out, "anfu_ledger_refusals_total{code=\"%s\"} %" PRIu64 "\n",
				     refusal_codes[i], GET(m->refusals[i]));
	return r;
}
