/*
 * http/metrics: request counters, latency histograms and gauges for
 * /metrics (Prometheus text format 0.0.4).
 *
 * Owns fixed arrays sized when the server starts: one row per registered
 * route plus "unmatched" (404, 405 and requests refused before routing),
 * and per row one counter for each status of a fixed list plus "other", and
 * one latency histogram. Memory is therefore bounded by the route table,
 * never by what clients send: the labels are route patterns and methods we
 * registered, never request paths or client methods. Updates are relaxed
 * atomic adds, safe from any thread; rendering reads without locks (a
 * scrape may see one request counted in a counter but not yet in the
 * histogram).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/hist.h"
#include "base/mem.h"
#include "http/internal.h"

/* Status slots; 0 counts requests that ended without a response (client
 * gone, connection cut). The last slot ("other") takes everything else. */
static const int statuses[] = {
	0,   200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404,
	405, 409, 413, 415, 422, 423, 429, 431, 500, 501, 502, 503, 504,
};

#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

struct row {
	_Atomic uint64_t count[NSTATUS];
	struct anfu_hist hist;
};

struct anfu_http_stats {
	const struct anfu_router *router;
	int nroutes;
	struct row *rows; /* nroutes + 1; the last is "unmatched" */
};

struct anfu_http_stats *anfu_http_stats_new(const struct anfu_router *r)
{
	struct anfu_http_stats *st = anfu_xcalloc(1, sizeof(*st));

	st->router = r;
	st->nroutes = anfu_router_count(r);
	st->rows = anfu_xcalloc((size_t)st->nroutes + 1, sizeof(*st->rows));
	return st;
}

void anfu_http_stats_free(struct anfu_http_stats *st)
{
	if (!st)
		return;
	free(st->rows);
	free(st);
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void anfu_http_stats_observe(struct anfu_http_stats *st, const struct anfu_route *route, int status,
			     int64_t duration_us)
{
	int i = anfu_router_index(st->router, route);
	struct row *row;

	if (i < 0 || i >= st->nroutes)
		i = st->nroutes;
	row = &st->rows[i];
	atomic_fetch_add_explicit(&row->count[status_slot(status)], 1, memory_order_relaxed);
	anfu_hist_observe(&row->hist, duration_us);
}

/* The labels of row i: method="GET",route="/x", (trailing comma, as
 * anfu_hist_render wants). Patterns hold only URL-safe characters and
 * braces and methods are from a fixed list, so neither needs escaping. */
static int row_labels(const struct anfu_http_stats *st, int i, struct anfu_buf *out)
{
	const struct anfu_route *rt = i < st->nroutes ? anfu_router_at(st->router, i) : NULL;

	anfu_buf_reset(out);
	if (!rt)
		return anfu_buf_appends(out, "method=\"\",route=\"unmatched\",");
	return anfu_buf_appendf(out, "method=\"%s\",route=\"%s\",", rt->method, rt->pattern);
}

static int render_counts(const struct anfu_http_stats *st, struct anfu_buf *out)
{
	struct anfu_buf lab;
	int r;

	anfu_buf_init(&lab, 2 * ANFU_LIMIT_PATH_BYTES);
	r = anfu_buf_appends(out, "# HELP anfu_http_requests_total HTTP requests by route and "
				  "status.\n# TYPE anfu_http_requests_total counter\n");
	for (int i = 0; r == 0 && i <= st->nroutes; i++) {
		r = row_labels(st, i, &lab);
		for (size_t j = 0; r == 0 && j < NSTATUS; j++) {
			uint64_t n =
				atomic_load_explicit(&st->rows[i].count[j], memory_order_relaxed);
			char sbuf[16];

			if (n == 0)
				continue;
			if (j == NSTATUS - 1)
				(void)snprintf(sbuf, sizeof(sbuf), "other");
			else
				(void)snprintf(sbuf, sizeof(sbuf), "%d", statuses[j]);
			r = anfu_buf_appendf(
				out, "anfu_http_requests_total{%sstatus=\"%s\"} %" PRIu64 "\n",
				lab.data, sbuf, n);
		}
	}
	anfu_buf_free(&lab);
	return r;
}

static int render_hists(const struct anfu_http_stats *st, struct anfu_buf *out)
{
	struct anfu_buf lab;
	int r;

	anfu_buf_init(&lab, 2 * ANFU_LIMIT_PATH_BYTES);
	r = anfu_buf_appends(out, "# HELP anfu_http_request_duration_seconds Time from the "
				  "request head to the response, by route.\n# TYPE "
				  "anfu_http_request_duration_seconds histogram\n");
	for (int i = 0; r == 0 && i <= st->nroutes; i++) {
		if (atomic_load_explicit(&st->rows[i].hist.count, memory_order_relaxed) == 0)
			continue;
		r = row_labels(st, i, &lab);
		if (r == 0)
			r = anfu_hist_render(&st->rows[i].hist,
					     "anfu_http_request_duration_seconds", lab.data, out);
	}
	anfu_buf_free(&lab);
	return r;
}

int anfu_http_stats_render(const struct anfu_http_stats *st, int inflight, uint64_t reaped,
			   struct anfu_buf *out)
{
	int r = render_counts(st, out);

	if (r == 0)
		r = render_hists(st, out);
	if (r == 0)
		r = anfu_buf_appendf(out,
				     "# HELP anfu_http_inflight Requests being processed.\n"
				     "# TYPE anfu_http_inflight gauge\nanfu_http_inflight %d\n"
				     "# HELP anfu_http_reaped_total Connections cut off for "
				     "missing a deadline.\n# TYPE anfu_http_reaped_total "
				     "counter\nanfu_http_reaped_total %" PRIu64 "\n",
				     inflight, reaped);
	return r;
}
