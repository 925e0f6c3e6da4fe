/*
 * bench/bench_paycode: payment-code payments per second over HTTPS
 * (issue 11; bench/run.sh paycode).
 *
 * CONNS threads, each with one libcurl easy handle (one keep-alive TLS
 * connection), repeat a barcode payment at a till:
 *
 *   as a customer:  POST /api/v1/me/paycode {}                  -> 201 {code}
 *   as the till:    POST /api/v1/merchant/paycode-payments
 *                   {auth_code, out_trade_no, amount, currency,
 *                    subject, lines}                               -> 201 paid
 *
 * A customer has one live code at a time (a new code voids the earlier
 * one) and a code lives 60 s, so codes cannot be issued ahead in a pool:
 * each payment's code is issued just before it, on the same connection,
 * as the customer (the connection switches sessions per request). The
 * customers are dealt to the connections (customer k belongs to connection
 * k mod CONNS, which takes them in turn), so no connection voids another's
 * code; the till sessions likewise (till i mod TILLS).
 *
 * Timed: the merchant's request (the payment). A payment counts when it
 * answered 201 with "state":"paid" and finished inside the measured window
 * (after WARMUP seconds, for SECONDS seconds); payments/s is that count
 * over the window, whose time also holds the code issues (one per
 * payment, reported apart: "issue"). "cycle" is issue sent to payment
 * answered. Anything else is an error, counted by step, status and the
 * body's error code. Amounts 1..MAX_AMOUNT fen: at most [pay]
 * paycode_nopin_max, so no PIN.
 *
 * Files (bench/paycode_users.py writes them): --users, one customer a
 * line: mobile number, TAB, Cookie header, TAB, CSRF token (only the
 * sessions are used); --merchants, one till session a line: Cookie
 * header, TAB, CSRF token. The device headers (X-Device-Id, User-Agent)
 * must be those the sessions were made with (one device for both).
 *
 * Trusts its command line and its files. Not a test (STYLE.md): it prints
 * numbers; the last line is machine-readable (key=value words).
 *
 * Usage: bench_paycode --url https://127.0.0.1:PORT --cacert FILE
 *                      --users FILE --merchants FILE [--conns N]
 *                      [--seconds S] [--warmup S] [--max-amount FEN]
 *                      [--device ID] [--ua UA]
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

/* Line fields: customers (bench/wallet_users.py's format) and tills. */
enum {
	U_PHONE,
	U_COOKIE,
	U_CSRF
};
enum {
	M_COOKIE,
	M_CSRF
};

struct conn {
	struct bl_conn b; /* first: the harness's part */
	/* inside the window */
	uint64_t ok, amount;
	struct bl_samples issue, pay, cycle;
	/* whole run: fen of the payments answered paid */
	uint64_t amount_all;
};

static struct bl_row *users, *tills;
static size_t nusers, ntills;
static struct conn *conns;
static const char *users_path, *tills_path;
static struct bl_opts opt = {
	.device = "bench-paycode",
	.ua = "anfu-bench/1.0",
	.conns = 64,
	.seconds = 10,
	.warmup = 2,
	.max_amount = 10,
};
static uint64_t nonce;

/* The sessions of connection c: its customers' (every opt.conns-th from
 * c->b.idx) and its till's. 0, or -1 (those made are freed). */
static int sessions(const struct conn *c, struct bl_session **ret_cust, size_t *ret_n,
		    struct bl_session *ret_till)
{
	size_t n = (nusers - (size_t)c->b.idx + (size_t)opt.conns - 1) / (size_t)opt.conns, k = 0;
	struct bl_session *s = calloc(n, sizeof(*s));
	const struct bl_row *t = &tills[(size_t)c->b.idx % ntills];

	if (!s)
		return -1;
	for (; k < n; k++) {
		const struct bl_row *u = &users[(size_t)c->b.idx + k * (size_t)opt.conns];

		if (bl_session_make(&s[k], u->f[U_COOKIE], u->f[U_CSRF], opt.device))
			goto fail;
	}
	if (bl_session_make(ret_till, t->f[M_COOKIE], t->f[M_CSRF], opt.device))
		goto fail;
	*ret_cust = s;
	*ret_n = n;
	return 0;
fail:
	while (k > 0)
		bl_session_free(&s[--k]);
	free(s);
	return -1;
}

static void *worker(void *arg)
{
	struct conn *c = arg;
	struct bl_session *cust = NULL, till;
	size_t ncust = 0, next = 0;
	char body[1024], code[64];
	uint64_t seq = 0;

	if (bl_conn_open(&c->b, opt.cacert, opt.ua))
		return NULL;
	if (sessions(c, &cust, &ncust, &till)) {
		bl_conn_close(&c->b);
		return NULL;
	}
	while (!bl_stopping()) {
		const struct bl_session *me = &cust[next++ % ncust];
		int amount = 1 + (int)(bl_rng(&c->b.rng) % (uint64_t)opt.max_amount);
		int64_t t0, t1, t2, t3;
		long st;
		CURLcode cr;

		t0 = bl_mono_us();
		cr = bl_post(&c->b, me, opt.url, "/api/v1/me/paycode", "{}", &st);
		t1 = bl_mono_us();
		if (cr != CURLE_OK || st != 201 ||
		    !bl_json_str(c->b.body, "code", code, sizeof(code))) {
			if (bl_in_window(t1))
				bl_count_error(&c->b, "issue", st,
					       cr != CURLE_OK ? curl_easy_strerror(cr) : NULL);
			else
				c->b.err_all++;
			continue;
		}
		(void)snprintf(body, sizeof(body),
			       "{\"auth_code\":\"%s\",\"out_trade_no\":\"B%016" PRIx64
			       "-%d-%" PRIu64
			       "\",\"amount\":%d,\"currency\":\"CNY\",\"subject\":\"bench\","
			       "\"lines\":[{\"name\":\"tea\",\"quantity\":1,\"unit_amount\":%d,"
			       "\"amount\":%d}]}",
			       code, nonce, c->b.idx, seq++, amount, amount, amount);
		t2 = bl_mono_us();
		cr = bl_post(&c->b, &till, opt.url, "/api/v1/merchant/paycode-payments", body, &st);
		t3 = bl_mono_us();
		if (cr != CURLE_OK || st != 201 || !strstr(c->b.body, "\"state\":\"paid\"")) {
			if (bl_in_window(t3))
				bl_count_error(&c->b, "pay", st,
					       cr != CURLE_OK ? curl_easy_strerror(cr)
					       : st == 201    ? "not-paid"
							      : NULL);
			else
				c->b.err_all++;
			continue;
		}
		c->b.ok_all++;
		c->amount_all += (uint64_t)amount;
		if (bl_in_window(t3)) {
			c->ok++;
			c->amount += (uint64_t)amount;
			if (bl_samples_add(&c->issue, t1 - t0) ||
			    bl_samples_add(&c->pay, t3 - t2) || bl_samples_add(&c->cycle, t3 - t0))
				break;
		}
	}
	for (size_t k = 0; k < ncust; k++)
		bl_session_free(&cust[k]);
	free(cust);
	bl_session_free(&till);
	bl_conn_close(&c->b);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_paycode --url https://127.0.0.1:PORT --cacert FILE --users FILE "
		"--merchants FILE [--conns N] [--seconds S] [--warmup S] [--max-amount FEN] "
		"[--device ID] [--ua UA]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		BL_OPTIONS,
		{ "users", required_argument, NULL, 'f' },
		{ "merchants", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct bl_samples issue, pay, cycle;
	uint64_t ok = 0, amount = 0, amount_all = 0, ok_all, err_all, errs, set_cookie;
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
		case 'm': tills_path = optarg; break;
		default: return usage(), 2;
		}
	}
	if (!opt.url || !opt.cacert || !users_path || !tills_path)
		return usage(), 2;
	if (bl_load_rows("bench_paycode", users_path, 3, &users, &nusers) ||
	    bl_load_rows("bench_paycode", tills_path, 2, &tills, &ntills))
		return 1;
	if (nusers < (size_t)opt.conns || ntills < 1) {
		fprintf(stderr,
			"bench_paycode: %zu customers in %s and %zu tills in %s; need at least "
			"conns = %d customers and one till\n",
			nusers, users_path, ntills, tills_path, opt.conns);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	conns = calloc((size_t)opt.conns, sizeof(*conns));
	if (!conns)
		return 1;
	nonce = bl_nonce();
	if (bl_run("bench_paycode", conns, opt.conns, sizeof(*conns), worker, opt.warmup,
		   opt.seconds, &dur))
		return 1;

	issue = bl_merged(conns, opt.conns, sizeof(*conns), offsetof(struct conn, issue));
	pay = bl_merged(conns, opt.conns, sizeof(*conns), offsetof(struct conn, pay));
	cycle = bl_merged(conns, opt.conns, sizeof(*conns), offsetof(struct conn, cycle));
	printf("# bench_paycode: %d connections, %zu customers (%zu or %zu a connection), %zu till "
	       "session(s), amounts 1..%d fen, %.1f s warm-up, %.1f s measured\n",
	       opt.conns, nusers, nusers / (size_t)opt.conns,
	       (nusers + (size_t)opt.conns - 1) / (size_t)opt.conns, ntills, opt.max_amount,
	       opt.warmup, dur);
	for (int i = 0; i < opt.conns; i++) {
		ok += conns[i].ok;
		amount += conns[i].amount;
		amount_all += conns[i].amount_all;
	}
	errs = bl_print_errors(conns, opt.conns, sizeof(*conns), &ok_all, &err_all, &set_cookie);
	printf("# latency ms       p50      p90      p99    p99.9      max     mean\n");
	bl_print_latency("pay", &pay);
	bl_print_latency("issue", &issue);
	bl_print_latency("cycle", &cycle);
	printf("payments=%" PRIu64 " seconds=%.2f payments_per_s=%.1f errors=%" PRIu64
	       " pay_p50_ms=%.2f pay_p99_ms=%.2f issue_p50_ms=%.2f issue_p99_ms=%.2f"
	       " cycle_p50_ms=%.2f cycle_p99_ms=%.2f amount=%" PRIu64 " ok_total=%" PRIu64
	       " amount_total=%" PRIu64 " errors_total=%" PRIu64 " set_cookie=%" PRIu64 "\n",
	       ok, dur, dur > 0 ? (double)ok / dur : 0, errs, bl_pct_ms(&pay, 50),
	       bl_pct_ms(&pay, 99), bl_pct_ms(&issue, 50), bl_pct_ms(&issue, 99),
	       bl_pct_ms(&cycle, 50), bl_pct_ms(&cycle, 99), amount, ok_all, amount_all, err_all,
	       set_cookie);
	bl_samples_free(&issue);
	bl_samples_free(&pay);
	bl_samples_free(&cycle);
	for (int i = 0; i < opt.conns; i++) {
		bl_samples_free(&conns[i].issue);
		bl_samples_free(&conns[i].pay);
		bl_samples_free(&conns[i].cycle);
	}
	free(conns);
	free(users);
	free(tills);
	curl_global_cleanup();
	return 0;
}
