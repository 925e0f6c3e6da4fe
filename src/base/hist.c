/*
 * base/hist: lock-free latency histograms for /metrics.
 */
#include <inttypes.h>

#include "base/buf.h"
#include "base/hist.h"

const int64_t anfu_hist_bounds_us[ANFU_HIST_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000,
};

void anfu_hist_observe(struct anfu_hist *h, int64_t us)
{
	int i = 0;

	if (us < 0)
		us = 0;
	while (i < ANFU_HIST_BUCKETS && us > anfu_hist_bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)us, memory_order_relaxed);
}

int anfu_hist_render(const struct anfu_hist *h, const char *name, const char *labels,
		     struct anfu_buf *out)
{
	uint64_t cum = 0;
	uint64_t sum = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
	int r = 0;

	for (int i = 0; i <= ANFU_HIST_BUCKETS && r == 0; i++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		if (i < ANFU_HIST_BUCKETS)
			r = anfu_buf_appendf(out, "%s_bucket{%sle=\"%g\"} %" PRIu64 "\n", name,
					     labels, (double)anfu_hist_bounds_us[i] / 1e6, cum);
		else
			r = anfu_buf_appendf(out, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name,
					     labels, cum);
	}
	if (r == 0)
		r = anfu_buf_appendf(out, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name,
				     labels, (double)sum / 1e6, name, labels, cum);
	return r;
}
