/*
 * bench/https_load: what the HTTPS load generators (bench_wallet,
 * bench_paycode) share: worker threads with one libcurl keep-alive
 * connection each, sessions (Cookie + CSRF token) switched per request,
 * a measured window after a warm-up, latency samples and their
 * percentiles, errors counted by step, status and the body's error code,
 * and the TAB-separated files the set-up scripts write.
 *
 * Trusts its caller: one main thread drives the run; each connection is
 * used by its own worker only. Links only libcurl (not libanfu). Not a test
 * (STYLE.md): it measures nothing by itself.
 */
#ifndef ANFU_BENCH_HTTPS_LOAD_H
#define ANFU_BENCH_HTTPS_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* Connections (threads) a run holds at most. */
#define BL_CONNS_MAX 1024
/* Bytes of a response body kept (the rest is counted as truncated). */
#define BL_BODY_MAX (64 * 1024)
/* Distinct error kinds a connection counts by name. */
#define BL_ERRKINDS_MAX 64
/* Fields of a line of a users file, and their bytes with the NUL. */
#define BL_FIELDS_MAX 3
#define BL_FIELD_MAX 1024

/* Latency samples in microseconds. */
struct bl_samples {
	uint32_t *v;
	size_t n, cap;
};

struct bl_errkind {
	char key[96]; /* "<step> <status> <code>" */
	uint64_t n;
};

/* The part of a connection the harness owns; a program's connection
 * struct starts with it. */
struct bl_conn {
	int idx;
	pthread_t th;
	uint64_t rng;
	CURL *h;
	char body[BL_BODY_MAX];
	size_t body_len;
	bool body_trunc;
	struct bl_errkind errs[BL_ERRKINDS_MAX];
	size_t nerrs;
	uint64_t errs_other; /* kinds beyond BL_ERRKINDS_MAX */
	/* whole run, warm-up included */
	uint64_t ok_all, err_all, set_cookie;
};

/* A session as a request carries it: its Cookie header and the request
 * headers (JSON body, device id, its CSRF token). */
struct bl_session {
	char cookie[BL_FIELD_MAX];
	struct curl_slist *hdrs;
};

/* One line of a users file: its TAB-separated fields. */
struct bl_row {
	char f[BL_FIELDS_MAX][BL_FIELD_MAX];
};

/* Microseconds on CLOCK_MONOTONIC. */
int64_t bl_mono_us(void);

/* xorshift64*: draws that need no quality beyond spreading choices. */
uint64_t bl_rng(uint64_t *s);

/* A per-run nonce (time and pid) for request ids. */
uint64_t bl_nonce(void);

/* Appends one sample (clamped to 0..UINT32_MAX us). 0, or -1 out of memory. */
int bl_samples_add(struct bl_samples *s, int64_t us);

/* Frees s's samples (s is empty again). */
void bl_samples_free(struct bl_samples *s);

/* The string value of "key" in a flat JSON body into out; false when
 * missing, not a string or longer than cap - 1. Enough for the server's
 * compact JSON. */
bool bl_json_str(const char *body, const char *key, char *out, size_t cap);

/* Opens c's easy handle (keep-alive, TLS against cacert, the User-Agent
 * ua, the body kept in c->body). 0, or -1. */
int bl_conn_open(struct bl_conn *c, const char *cacert, const char *ua);
void bl_conn_close(struct bl_conn *c);

/* Builds session s from its cookie header and CSRF token (device: the
 * X-Device-Id the session was made with). 0, or -1. */
int bl_session_make(struct bl_session *s, const char *cookie, const char *csrf, const char *device);
void bl_session_free(struct bl_session *s);

/* POSTs body to url + path on c's connection as session s. Returns
 * CURLE_OK with *status set (the body in c->body), or libcurl's error
 * (*status 0). */
CURLcode bl_post(struct bl_conn *c, const struct bl_session *s, const char *url, const char *path,
		 const char *body, long *status);

/* Counts an error of step: detail, or the body's "code" when NULL. */
void bl_count_error(struct bl_conn *c, const char *step, long status, const char *detail);

/* Whether monotonic time t (us) is inside the measured window. */
bool bl_in_window(int64_t t);

/* Whether the run is over (workers return when it is). */
bool bl_stopping(void);

/* Runs fn on each of the n connections conns[i] (each `size` bytes,
 * starting with a struct bl_conn; idx and rng are set here) for warmup +
 * seconds, then stops and joins them. *ret_dur: the measured window in
 * seconds. 0, or -1 when a thread cannot be started (said on stderr after
 * "<prog>: "). */
int bl_run(const char *prog, void *conns, int n, size_t size, void *(*fn)(void *), double warmup,
	   double seconds, double *ret_dur);

/* The samples at offset off of every connection merged and sorted. */
struct bl_samples bl_merged(const void *conns, int n, size_t size, size_t off);

/* Percentile p (0..100) and mean of sorted samples, in ms (0 when none). */
double bl_pct_ms(const struct bl_samples *s, double p);
double bl_mean_ms(const struct bl_samples *s);

/* Prints "# <label> p50 p90 p99 p99.9 max mean" (ms). */
void bl_print_latency(const char *label, const struct bl_samples *s);

/* Prints "# error: <kind>: <n>" summed over the connections; returns the
 * errors counted inside the window. Sums ok_all, err_all and set_cookie
 * into the outputs. */
uint64_t bl_print_errors(const void *conns, int n, size_t size, uint64_t *ret_ok_all,
			 uint64_t *ret_err_all, uint64_t *ret_set_cookie);

/* Reads a file of lines of nfields TAB-separated fields (blank lines and
 * '#' comments skipped) into *ret (calloc'd) and *ret_n. 0, or -1 said on
 * stderr after "<prog>: ". */
int bl_load_rows(const char *prog, const char *path, size_t nfields, struct bl_row **ret,
		 size_t *ret_n);

/* Parses a number in lo..hi into *ret. */
bool bl_parse_num(const char *s, double lo, double hi, double *ret);

/* The options every load generator takes (--url, --cacert, --conns,
 * --seconds, --warmup, --max-amount, --device, --ua). */
struct bl_opts {
	const char *url, *cacert, *device, *ua;
	int conns, max_amount;
	double seconds, warmup;
};

/* Their getopt_long entries (vals 'u' 'c' 'n' 's' 'w' 'a' 'd' 'A'). */
#define BL_OPTIONS                                                                           \
	{ "url", required_argument, NULL, 'u' }, { "cacert", required_argument, NULL, 'c' }, \
		{ "conns", required_argument, NULL, 'n' },                                   \
		{ "seconds", required_argument, NULL, 's' },                                 \
		{ "warmup", required_argument, NULL, 'w' },                                  \
		{ "max-amount", required_argument, NULL, 'a' },                              \
		{ "device", required_argument, NULL, 'd' },                                  \
	{                                                                                    \
		"ua", required_argument, NULL, 'A'                                           \
	}

/* Takes option o (getopt_long's val) with its argument into *opts.
 * Returns 1, 0 when o is not one of BL_OPTIONS, -1 for a bad value. */
int bl_opt(struct bl_opts *opts, int o, const char *arg);

#endif
