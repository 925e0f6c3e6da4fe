/*
 * bench/bench_wallet: PIN-confirmed wallet transfers per second over HTTPS
 * (issue 10; bench/run.sh wallet).
 *
 * CONNS threads, each with one libcurl easy handle (one keep-alive TLS
 * connection) and the session of its own payer, repeat a transfer as a
 * customer does it:
 *
 *   POST /api/v1/me/transfers/preview {to, amount, currency}     -> 201
 *   POST /api/v1/me/transfers {confirmation_id, request_id, amount,
 *                              payment_pin}                       -> 201
 *
 * The payee is drawn at random among all the other customers of the users
 * file, the amount at random in 1..MAX_AMOUNT fen (small, so the PIN-only
 * daily limit is not reached). A transfer counts when both requests
 * answered 201 and the confirmation finished inside the measured window
 * (after WARMUP seconds, for SECONDS seconds); anything else is an error,
 * counted by step, status and the body's error code. Latencies: the
 * preview, the confirmation, and the pair (preview sent to confirmation
 * answered), from the client's monotonic clock, of the transfers inside
 * the window.
 *
 * The users file (bench/wallet_users.py writes it) has one customer per
 * line, TAB-separated: the payee identifier (mobile number), the Cookie
 * header of a live session, its CSRF token. The first CONNS lines are the
 * payers; every line is a payee. The device headers (X-Device-Id,
 * User-Agent) must be those the sessions were made with.
 *
 * Trusts its command line and its users file. Not a test (STYLE.md): it
 * prints numbers; the last line is machine-readable (key=value words).
 *
 * Usage: bench_wallet --url https://127.0.0.1:PORT --cacert FILE
 *                     --users FILE --pin PIN [--conns N] [--seconds S]
 *                     [--warmup S] [--max-amount FEN] [--device ID] [--ua UA]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "https_load.h"

/* A users file line: payee identifier, Cookie header, CSRF token. */
enum {
	U_TO,
	U_COOKIE,
	U_CSRF
};

struct conn {
	struct bl_conn b; /* first: the harness's part */
	/* inside the window */
	uint64_t ok;
	struct bl_samples prev, conf, pair;
};

static struct bl_row *users;
static size_t nusers;
static struct conn *conns;
static const char *users_path, *pin;
static struct bl_opts opt = {
	.device = "bench-wallet",
	.ua = "anfu-bench/1.0",
	.conns = 64,
	.seconds = 10,
	.warmup = 2,
	.max_amount = 10,
};
static uint64_t nonce;

static void *worker(void *arg)
{
	struct conn *c = arg;
	const struct bl_row *me = &users[c->b.idx];
	struct bl_session sess;
	char body[BL_FIELD_MAX + 256], conf_id[128];
	uint64_t seq = 0;

	if (bl_conn_open(&c->b, opt.cacert, opt.ua))
		return NULL;
	if (bl_session_make(&sess, me->f[U_COOKIE], me->f[U_CSRF], opt.device)) {
		bl_conn_close(&c->b);
		return NULL;
	}
	while (!bl_stopping()) {
		size_t payee = (size_t)(bl_rng(&c->b.rng) % (nusers - 1));
		int amount = 1 + (int)(bl_rng(&c->b.rng) % (uint64_t)opt.max_amount);
		int64_t t0, t1, t2, t3;
		long st;
		CURLcode cr;

		if (payee >= (size_t)c->b.idx)
			payee++; /* never oneself */
		(void)snprintf(body, sizeof(body),
			       "{\"to\":\"%s\",\"amount\":%d,\"currency\":\"CNY\"}",
			       users[payee].f[U_TO], amount);
		t0 = bl_mono_us();
		cr = bl_post(&c->b, &sess, opt.url, "/api/v1/me/transfers/preview", body, &st);
		t1 = bl_mono_us();
		if (cr != CURLE_OK || st != 201 ||
		    !bl_json_str(c->b.body, "confirmation_id", conf_id, sizeof(conf_id))) {
			if (bl_in_window(t1))
				bl_count_error(&c->b, "preview", st,
					       cr != CURLE_OK ? curl_easy_strerror(cr) : NULL);
			else
				c->b.err_all++;
			continue;
		}
		(void)snprintf(body, sizeof(body),
			       "{\"confirmation_id\":\"%s\",\"request_id\":\"b%016" PRIx64
			       "-%d-%" PRIu64 "\",\"amount\":%d,\"payment_pin\":\"%s\"}",
			       conf_id, nonce, c->b.idx, seq++, amount, pin);
		t2 = bl_mono_us();
		cr = bl_post(&c->b, &sess, opt.url, "/api/v1/me/transfers", body, &st);
		t3 = bl_mono_us();
		if (cr != CURLE_OK || st != 201) {
			if (bl_in_window(t3))
				bl_count_error(&c->b, "confirm", st,
					       cr != CURLE_OK ? curl_easy_strerror(cr) : NULL);
			else
				c->b.err_all++;
			continue;
		}
		c->b.ok_all++;
		if (bl_in_window(t3)) {
			c->ok++;
			if (bl_samples_add(&c->prev, t1 - t0) ||
			    bl_samples_add(&c->conf, t3 - t2) || bl_samples_add(&c->pair, t3 - t0))
				break;
		}
	}
	bl_session_free(&sess);
	bl_conn_close(&c->b);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_wallet --url https://127.0.0.1:PORT --cacert FILE --users FILE "
		"--pin PIN [--conns N] [--seconds S] [--warmup S] [--max-amount FEN] "
		"[--device ID] [--ua UA]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		BL_OPTIONS,
		{ "users", required_argument, NULL, 'f' },
		{ "pin", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct bl_samples prev, conf, pair;
	uint64_t ok = 0, ok_all, err_all, errs, set_cookie;
	double dur;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int taken = bl_opt(&opt, o, optarg);

		if (taken < 0)
			return usage(), 2;
		if (taken)
			continue;
		switch (o) {
		case 'f': users_path = optarg; break;
		case 'p': pin = optarg; break;
		default: return usage(), 2;
		}
	}
	if (!opt.url || !opt.cacert || !users_path || !pin)
		return usage(), 2;
	if (bl_load_rows("bench_wallet", users_path, 3, &users, &nusers))
		return 1;
	if (nusers < (size_t)opt.conns + 1) {
		fprintf(stderr, "bench_wallet: %zu customers in %s; need at least conns + 1 = %d\n",
			nusers, users_path, opt.conns + 1);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	conns = calloc((size_t)opt.conns, sizeof(*conns));
	if (!conns)
		return 1;
	nonce = bl_nonce();
	if (bl_run("bench_wallet", conns, opt.conns, sizeof(*conns), worker, opt.warmup,
		   opt.seconds, &dur))
		return 1;

	prev = bl_merged(conns, opt.conns, sizeof(*conns), offsetof(struct conn, prev));
	conf = bl_merged(conns, opt.conns, sizeof(*conns), offsetof(struct conn, conf));
	pair = bl_merged(conns, opt.conns, sizeof(*conns), offsetof(struct conn, pair));
	printf("# bench_wallet: %d connections (one payer session each), %zu customers, amounts "
	       "1..%d "
	       "fen, %.1f s warm-up, %.1f s measured\n",
	       opt.conns, nusers, opt.max_amount, opt.warmup, dur);
	for (int i = 0; i < opt.conns; i++)
		ok += conns[i].ok;
	errs = bl_print_errors(conns, opt.conns, sizeof(*conns), &ok_all, &err_all, &set_cookie);
	printf("# latency ms       p50      p90      p99    p99.9      max     mean\n");
	bl_print_latency("preview", &prev);
	bl_print_latency("confirm", &conf);
	bl_print_latency("pair", &pair);
	printf("transfers=%" PRIu64 " seconds=%.2f transfers_per_s=%.1f errors=%" PRIu64
	       " confirm_p50_ms=%.2f confirm_p99_ms=%.2f pair_p50_ms=%.2f pair_p99_ms=%.2f"
	       " preview_p50_ms=%.2f preview_p99_ms=%.2f ok_total=%" PRIu64 " errors_total=%" PRIu64
	       " set_cookie=%" PRIu64 "\n",
	       ok, dur, dur > 0 ? (double)ok / dur : 0, errs, bl_pct_ms(&conf, 50),
	       bl_pct_ms(&conf, 99), bl_pct_ms(&pair, 50), bl_pct_ms(&pair, 99),
	       bl_pct_ms(&prev, 50), bl_pct_ms(&prev, 99), ok_all, err_all, set_cookie);
	bl_samples_free(&prev);
	bl_samples_free(&conf);
	bl_samples_free(&pair);
	for (int i = 0; i < opt.conns; i++) {
		bl_samples_free(&conns[i].prev);
		bl_samples_free(&conns[i].conf);
		bl_samples_free(&conns[i].pair);
	}
	free(conns);
	free(users);
	curl_global_cleanup();
	return 0;
}
