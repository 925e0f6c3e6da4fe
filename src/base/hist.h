/*
 * base/hist: lock-free latency histograms and counters for /metrics.
 *
 * Buckets are fixed (Prometheus "le" bounds in microseconds); observing is
 * a few relaxed atomic adds, safe from any thread.
 */
#ifndef ANFU_BASE_HIST_H
#define ANFU_BASE_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define ANFU_HIST_BUCKETS 14

/* Upper bounds in microseconds: 50us .. 5s, then +Inf. */
extern const int64_t anfu_hist_bounds_us[ANFU_HIST_BUCKETS];

struct anfu_hist {
	_Atomic uint64_t bucket[ANFU_HIST_BUCKETS + 1]; /* last is +Inf */
	_Atomic uint64_t count;
	_Atomic uint64_t sum_us;
};

void anfu_hist_observe(struct anfu_hist *h, int64_t us);

struct anfu_buf;
/* Appends the Prometheus text lines of h (seconds) named `name` with the
 * extra label text `labels` ("" or `route="/x",`). */
int anfu_hist_render(const struct anfu_hist *h, const char *name, const char *labels,
		     struct anfu_buf *out);

#endif
