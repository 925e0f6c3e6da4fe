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
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_USERS 100000
#define MAX_CONNS 1024
#define LINE_MAX_LEN 2048
#define BODY_MAX (64 * 1024)
#define MAX_ERRKINDS 64

struct user {
	char to[64];
	char cookie[1024];
	char csrf[256];
};

struct samples {
	uint32_t *v; /* microseconds */
	size_t n, cap;
};

struct errkind {
	char key[96]; /* "preview 403 payment_password_invalid" */
	uint64_t n;
};

struct conn {
	int idx;
	pthread_t th;
	uint64_t rng;
	char body[BODY_MAX];
	size_t body_len;
	bool body_trunc;
	/* inside the window */
	uint64_t ok;
	struct samples prev, conf, pair;
	struct errkind errs[MAX_ERRKINDS];
	size_t nerrs;
	uint64_t errs_other; /* kinds beyond MAX_ERRKINDS */
	/* whole run */
	uint64_t ok_all, err_all, set_cookie;
};

static struct user *users;
static size_t nusers;
static struct conn *conns;
static int nconns = 64;
static const char *url, *cacert, *users_path, *pin;
static const char *device = "bench-wallet";
static const char *ua = "anfu-bench/1.0";
static double seconds = 10, warmup = 2;
static int max_amount = 10;
static uint64_t nonce;

static _Atomic bool stop_flag;
static _Atomic int64_t win_start_us = INT64_MAX, win_end_us = INT64_MAX;

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t next_rng(uint64_t *s)
{
	/* xorshift64*: the draws need no quality beyond spreading payees. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int samples_add(struct samples *s, int64_t us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = us < 0 ? 0 : (us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct conn *c = ud;
	size_t len = size * n, room = sizeof(c->body) - 1 - c->body_len;

	if (len > room) {
		c->body_trunc = true;
		len = room;
	}
	memcpy(c->body + c->body_len, p, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct conn *c = ud;
	size_t len = size * n;

	if (len > 11 && strncasecmp(p, "set-cookie:", 11) == 0)
		c->set_cookie++;
	return len;
}

/* The string value of "key" in a flat JSON body, or false. Bodies are the
 * server's compact JSON; enough for the two fields read here. */
static bool json_str(const char *body, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p, *e;

	(void)snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(body, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p != '"')
		return false;
	p++;
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= cap)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return true;
}

static void count_error(struct conn *c, const char *step, long status, const char *detail)
{
	char key[96], code[48];

	if (!detail) {
		if (!json_str(c->body, "code", code, sizeof(code)))
			(void)snprintf(code, sizeof(code), "-");
		detail = code;
	}
	(void)snprintf(key, sizeof(key), "%s %ld %s", step, status, detail);
	c->err_all++;
	for (size_t i = 0; i < c->nerrs; i++) {
		if (strcmp(c->errs[i].key, key) == 0) {
			c->errs[i].n++;
			return;
		}
	}
	if (c->nerrs == MAX_ERRKINDS) {
		c->errs_other++;
		return;
	}
	(void)snprintf(c->errs[c->nerrs].key, sizeof(c->errs[0].key), "%s", key);
	c->errs[c->nerrs++].n = 1;
}

/* One POST; 0 with *status set, or the libcurl error. */
static CURLcode post(struct conn *c, CURL *h, const char *path, const char *body, long *status)
{
	char u[512];
	CURLcode cr;

	(void)snprintf(u, sizeof(u), "%s%s", url, path);
	c->body_len = 0;
	c->body[0] = '\0';
	c->body_trunc = false;
	curl_easy_setopt(h, CURLOPT_URL, u);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	cr = curl_easy_perform(h);
	*status = 0;
	if (cr == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return cr;
}

static bool in_window(int64_t t)
{
	return t >= atomic_load(&win_start_us) && t < atomic_load(&win_end_us);
}

static void *worker(void *arg)
{
	struct conn *c = arg;
	const struct user *me = &users[c->idx];
	struct curl_slist *hdrs = NULL;
	char line[1536], body[1024], conf_id[128];
	uint64_t seq = 0;
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	(void)snprintf(line, sizeof(line), "X-Device-Id: %s", device);
	hdrs = curl_slist_append(hdrs, line);
	(void)snprintf(line, sizeof(line), "X-CSRF-Token: %s", me->csrf);
	hdrs = curl_slist_append(hdrs, line);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_COOKIE, me->cookie);
	curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);

	while (!atomic_load(&stop_flag)) {
		size_t payee = (size_t)(next_rng(&c->rng) % (nusers - 1));
		int amount = 1 + (int)(next_rng(&c->rng) % (uint64_t)max_amount);
		int64_t t0, t1, t2, t3;
		long st;
		CURLcode cr;

		if (payee >= (size_t)c->idx)
			payee++; /* never oneself */
		(void)snprintf(body, sizeof(body), "{\"to\":\"%s\",\"amount\":%d,\"currency\":\"CNY\"}",
			       users[payee].to, amount);
		t0 = mono_us();
		cr = post(c, h, "/api/v1/me/transfers/preview", body, &st);
		t1 = mono_us();
		if (cr != CURLE_OK || st != 201 || !json_str(c->body, "confirmation_id", conf_id,
							     sizeof(conf_id))) {
			if (in_window(t1))
				count_error(c, "preview", st, cr != CURLE_OK ? curl_easy_strerror(cr) : NULL);
			else
				c->err_all++;
			continue;
		}
		(void)snprintf(body, sizeof(body),
			       "{\"confirmation_id\":\"%s\",\"request_id\":\"b%016" PRIx64 "-%d-%" PRIu64
			       "\",\"amount\":%d,\"payment_pin\":\"%s\"}",
			       conf_id, nonce, c->idx, seq++, amount, pin);
		t2 = mono_us();
		cr = post(c, h, "/api/v1/me/transfers", body, &st);
		t3 = mono_us();
		if (cr != CURLE_OK || st != 201) {
			if (in_window(t3))
				count_error(c, "confirm", st, cr != CURLE_OK ? curl_easy_strerror(cr) : NULL);
			else
				c->err_all++;
			continue;
		}
		c->ok_all++;
		if (in_window(t3)) {
			c->ok++;
			if (samples_add(&c->prev, t1 - t0) || samples_add(&c->conf, t3 - t2) ||
			    samples_add(&c->pair, t3 - t0))
				break;
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Merges one kind of samples of every connection, sorted. */
static struct samples merged(size_t off)
{
	struct samples m = { 0 };

	for (int i = 0; i < nconns; i++) {
		const struct samples *s = (const struct samples *)((const char *)&conns[i] + off);

		for (size_t k = 0; k < s->n; k++)
			if (samples_add(&m, s->v[k]))
				return m;
	}
	if (m.n)
		qsort(m.v, m.n, sizeof(m.v[0]), cmp_u32);
	return m;
}

static double pct_ms(const struct samples *s, double p)
{
	size_t i;

	if (!s->n)
		return 0;
	i = (size_t)(p / 100.0 * (double)s->n);
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i] / 1000.0;
}

static double mean_ms(const struct samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n / 1000.0 : 0;
}

static int load_users(void)
{
	FILE *f = fopen(users_path, "r");
	char line[LINE_MAX_LEN];

	if (!f) {
		fprintf(stderr, "bench_wallet: %s: %s\n", users_path, strerror(errno));
		return -1;
	}
	users = calloc(MAX_USERS, sizeof(*users));
	if (!users) {
		fclose(f);
		return -1;
	}
	while (nusers < MAX_USERS && fgets(line, sizeof(line), f)) {
		char *a = line, *b, *c;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		b = strchr(a, '\t');
		c = b ? strchr(b + 1, '\t') : NULL;
		if (!c) {
			fprintf(stderr, "bench_wallet: %s: a line without three fields\n", users_path);
			fclose(f);
			return -1;
		}
		*b++ = '\0';
		*c++ = '\0';
		if (strlen(a) >= sizeof(users[0].to) || strlen(b) >= sizeof(users[0].cookie) ||
		    strlen(c) >= sizeof(users[0].csrf)) {
			fprintf(stderr, "bench_wallet: %s: a field too long\n", users_path);
			fclose(f);
			return -1;
		}
		/* The lengths were checked above: the copies fit with their NUL. */
		memcpy(users[nusers].to, a, strlen(a) + 1);
		memcpy(users[nusers].cookie, b, strlen(b) + 1);
		memcpy(users[nusers].csrf, c, strlen(c) + 1);
		nusers++;
	}
	fclose(f);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_wallet --url https://127.0.0.1:PORT --cacert FILE --users FILE "
			"--pin PIN [--conns N] [--seconds S] [--warmup S] [--max-amount FEN] "
			"[--device ID] [--ua UA]\n");
}

static bool parse_num(const char *s, double lo, double hi, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },     { "cacert", required_argument, NULL, 'c' },
		{ "users", required_argument, NULL, 'f' },   { "pin", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'n' },   { "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },  { "max-amount", required_argument, NULL, 'a' },
		{ "device", required_argument, NULL, 'd' },  { "ua", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct samples prev, conf, pair;
	uint64_t ok = 0, ok_all = 0, err_all = 0, errs = 0, set_cookie = 0;
	struct timespec ts;
	double v, dur;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'u': url = optarg; break;
		case 'c': cacert = optarg; break;
		case 'f': users_path = optarg; break;
		case 'p': pin = optarg; break;
		case 'd': device = optarg; break;
		case 'A': ua = optarg; break;
		case 'n':
			if (!parse_num(optarg, 1, MAX_CONNS, &v))
				return usage(), 2;
			nconns = (int)v;
			break;
		case 's':
			if (!parse_num(optarg, 0.1, 86400, &seconds))
				return usage(), 2;
			break;
		case 'w':
			if (!parse_num(optarg, 0, 3600, &warmup))
				return usage(), 2;
			break;
		case 'a':
			if (!parse_num(optarg, 1, 1000000, &v))
				return usage(), 2;
			max_amount = (int)v;
			break;
		default: return usage(), 2;
		}
	}
	if (!url || !cacert || !users_path || !pin)
		return usage(), 2;
	if (load_users())
		return 1;
	if (nusers < (size_t)nconns + 1) {
		fprintf(stderr, "bench_wallet: %zu customers in %s; need at least conns + 1 = %d\n",
			nusers, users_path, nconns + 1);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	conns = calloc((size_t)nconns, sizeof(*conns));
	if (!conns)
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	nonce = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40);
	for (int i = 0; i < nconns; i++) {
		conns[i].idx = i;
		conns[i].rng = (nonce ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1))) | 1;
		if (pthread_create(&conns[i].th, NULL, worker, &conns[i])) {
			fprintf(stderr, "bench_wallet: pthread_create failed\n");
			return 1;
		}
	}
	{
		int64_t t = mono_us() + (int64_t)(warmup * 1e6);

		atomic_store(&win_end_us, t + (int64_t)(seconds * 1e6));
		atomic_store(&win_start_us, t);
	}
	while (mono_us() < atomic_load(&win_end_us))
		usleep(20000);
	atomic_store(&stop_flag, true);
	for (int i = 0; i < nconns; i++)
		pthread_join(conns[i].th, NULL);
	dur = (double)(atomic_load(&win_end_us) - atomic_load(&win_start_us)) / 1e6;

	prev = merged(offsetof(struct conn, prev));
	conf = merged(offsetof(struct conn, conf));
	pair = merged(offsetof(struct conn, pair));
	printf("# bench_wallet: %d connections (one payer session each), %zu customers, amounts 1..%d "
	       "fen, %.1f s warm-up, %.1f s measured\n",
	       nconns, nusers, max_amount, warmup, dur);
	for (int i = 0; i < nconns; i++) {
		ok += conns[i].ok;
		ok_all += conns[i].ok_all;
		err_all += conns[i].err_all;
		set_cookie += conns[i].set_cookie;
		for (size_t k = 0; k < conns[i].nerrs; k++)
			errs += conns[i].errs[k].n;
		errs += conns[i].errs_other;
	}
	/* Error kinds summed over the connections. */
	for (int i = 0; i < nconns; i++) {
		for (size_t k = 0; k < conns[i].nerrs; k++) {
			uint64_t n = 0;
			bool seen = false;

			for (int j = 0; j < i && !seen; j++)
				for (size_t m = 0; m < conns[j].nerrs; m++)
					if (strcmp(conns[j].errs[m].key, conns[i].errs[k].key) == 0)
						seen = true;
			if (seen)
				continue;
			for (int j = i; j < nconns; j++)
				for (size_t m = 0; m < conns[j].nerrs; m++)
					if (strcmp(conns[j].errs[m].key, conns[i].errs[k].key) == 0)
						n += conns[j].errs[m].n;
			printf("# error: %s: %" PRIu64 "\n", conns[i].errs[k].key, n);
		}
	}
	printf("# latency ms       p50      p90      p99    p99.9      max     mean\n");
	printf("# preview   %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", pct_ms(&prev, 50), pct_ms(&prev, 90),
	       pct_ms(&prev, 99), pct_ms(&prev, 99.9), pct_ms(&prev, 100), mean_ms(&prev));
	printf("# confirm   %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", pct_ms(&conf, 50), pct_ms(&conf, 90),
	       pct_ms(&conf, 99), pct_ms(&conf, 99.9), pct_ms(&conf, 100), mean_ms(&conf));
	printf("# pair      %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", pct_ms(&pair, 50), pct_ms(&pair, 90),
	       pct_ms(&pair, 99), pct_ms(&pair, 99.9), pct_ms(&pair, 100), mean_ms(&pair));
	printf("transfers=%" PRIu64 " seconds=%.2f transfers_per_s=%.1f errors=%" PRIu64
	       " confirm_p50_ms=%.2f confirm_p99_ms=%.2f pair_p50_ms=%.2f pair_p99_ms=%.2f"
	       " preview_p50_ms=%.2f preview_p99_ms=%.2f ok_total=%" PRIu64 " errors_total=%" PRIu64
	       " set_cookie=%" PRIu64 "\n",
	       ok, dur, dur > 0 ? (double)ok / dur : 0, errs, pct_ms(&conf, 50), pct_ms(&conf, 99),
	       pct_ms(&pair, 50), pct_ms(&pair, 99), pct_ms(&prev, 50), pct_ms(&prev, 99), ok_all,
	       err_all, set_cookie);
	curl_global_cleanup();
	return 0;
}
