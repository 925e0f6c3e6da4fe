/*
 * bench/https_load: see https_load.h. Moved out of bench_wallet.c (issue
 * 10) so that bench_paycode (issue 11) runs the same way.
 */
#include "https_load.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic bool stop_flag;
static _Atomic int64_t win_start_us = INT64_MAX, win_end_us = INT64_MAX;

int64_t bl_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t bl_rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

uint64_t bl_nonce(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40);
}

int bl_samples_add(struct bl_samples *s, int64_t us)
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

void bl_samples_free(struct bl_samples *s)
{
	free(s->v);
	*s = (struct bl_samples){ 0 };
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct bl_conn *c = ud;
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
	struct bl_conn *c = ud;
	size_t len = size * n;

	if (len > 11 && strncasecmp(p, "set-cookie:", 11) == 0)
		c->set_cookie++;
	return len;
}

bool bl_json_str(const char *body, const char *key, char *out, size_t cap)
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

int bl_conn_open(struct bl_conn *c, const char *cacert, const char *ua)
{
	CURL *h = curl_easy_init();

	if (!h)
		return -1;
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
	c->h = h;
	return 0;
}

void bl_conn_close(struct bl_conn *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	c->h = NULL;
}

int bl_session_make(struct bl_session *s, const char *cookie, const char *csrf, const char *device)
{
	char line[BL_FIELD_MAX + 32];
	struct curl_slist *h = NULL, *t;

	if (strlen(cookie) >= sizeof(s->cookie))
		return -1;
	memcpy(s->cookie, cookie, strlen(cookie) + 1);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (h && (t = curl_slist_append(h, "Expect:")))
		h = t;
	(void)snprintf(line, sizeof(line), "X-Device-Id: %s", device);
	if (h && (t = curl_slist_append(h, line)))
		h = t;
	(void)snprintf(line, sizeof(line), "X-CSRF-Token: %s", csrf);
	t = h ? curl_slist_append(h, line) : NULL;
	if (!t) {
		curl_slist_free_all(h);
		return -1;
	}
	s->hdrs = t;
	return 0;
}

void bl_session_free(struct bl_session *s)
{
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
}

CURLcode bl_post(struct bl_conn *c, const struct bl_session *s, const char *url, const char *path,
		 const char *body, long *status)
{
	char u[512];
	CURLcode cr;

	(void)snprintf(u, sizeof(u), "%s%s", url, path);
	c->body_len = 0;
	c->body[0] = '\0';
	c->body_trunc = false;
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(c->h, CURLOPT_COOKIE, s->cookie);
	curl_easy_setopt(c->h, CURLOPT_URL, u);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	cr = curl_easy_perform(c->h);
	*status = 0;
	if (cr == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
	return cr;
}

void bl_count_error(struct bl_conn *c, const char *step, long status, const char *detail)
{
	char key[96], code[48];

	if (!detail) {
		if (!bl_json_str(c->body, "code", code, sizeof(code)))
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
	if (c->nerrs == BL_ERRKINDS_MAX) {
		c->errs_other++;
		return;
	}
	(void)snprintf(c->errs[c->nerrs].key, sizeof(c->errs[0].key), "%s", key);
	c->errs[c->nerrs++].n = 1;
}

bool bl_in_window(int64_t t)
{
	return t >= atomic_load(&win_start_us) && t < atomic_load(&win_end_us);
}

bool bl_stopping(void)
{
	return atomic_load(&stop_flag);
}

static struct bl_conn *conn_at(const void *conns, int i, size_t size)
{
	return (struct bl_conn *)((char *)(uintptr_t)conns + (size_t)i * size);
}

int bl_run(const char *prog, void *conns, int n, size_t size, void *(*fn)(void *), double warmup,
	   double seconds, double *ret_dur)
{
	uint64_t nonce = bl_nonce();
	int64_t t;

	for (int i = 0; i < n; i++) {
		struct bl_conn *c = conn_at(conns, i, size);

		c->idx = i;
		c->rng = (nonce ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1))) | 1;
		if (pthread_create(&c->th, NULL, fn, c)) {
			fprintf(stderr, "%s: pthread_create failed\n", prog);
			atomic_store(&stop_flag, true);
			for (int k = 0; k < i; k++)
				pthread_join(conn_at(conns, k, size)->th, NULL);
			return -1;
		}
	}
	t = bl_mono_us() + (int64_t)(warmup * 1e6);
	atomic_store(&win_end_us, t + (int64_t)(seconds * 1e6));
	atomic_store(&win_start_us, t);
	while (bl_mono_us() < atomic_load(&win_end_us))
		usleep(20000);
	atomic_store(&stop_flag, true);
	for (int i = 0; i < n; i++)
		pthread_join(conn_at(conns, i, size)->th, NULL);
	*ret_dur = (double)(atomic_load(&win_end_us) - atomic_load(&win_start_us)) / 1e6;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

struct bl_samples bl_merged(const void *conns, int n, size_t size, size_t off)
{
	struct bl_samples m = { 0 };

	for (int i = 0; i < n; i++) {
		const struct bl_samples *s =
			(const struct bl_samples *)((const char *)conn_at(conns, i, size) + off);

		for (size_t k = 0; k < s->n; k++)
			if (bl_samples_add(&m, s->v[k]))
				return m;
	}
	if (m.n)
		qsort(m.v, m.n, sizeof(m.v[0]), cmp_u32);
	return m;
}

double bl_pct_ms(const struct bl_samples *s, double p)
{
	size_t i;

	if (!s->n)
		return 0;
	i = (size_t)(p / 100.0 * (double)s->n);
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i] / 1000.0;
}

double bl_mean_ms(const struct bl_samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n / 1000.0 : 0;
}

void bl_print_latency(const char *label, const struct bl_samples *s)
{
	printf("# %-9s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", label, bl_pct_ms(s, 50),
	       bl_pct_ms(s, 90), bl_pct_ms(s, 99), bl_pct_ms(s, 99.9), bl_pct_ms(s, 100),
	       bl_mean_ms(s));
}

uint64_t bl_print_errors(const void *conns, int n, size_t size, uint64_t *ret_ok_all,
			 uint64_t *ret_err_all, uint64_t *ret_set_cookie)
{
	uint64_t errs = 0, ok_all = 0, err_all = 0, set_cookie = 0;

	for (int i = 0; i < n; i++) {
		const struct bl_conn *c = conn_at(conns, i, size);

		ok_all += c->ok_all;
		err_all += c->err_all;
		set_cookie += c->set_cookie;
		for (size_t k = 0; k < c->nerrs; k++)
			errs += c->errs[k].n;
		errs += c->errs_other;
	}
	for (int i = 0; i < n; i++) {
		const struct bl_conn *c = conn_at(conns, i, size);

		for (size_t k = 0; k < c->nerrs; k++) {
			uint64_t sum = 0;
			bool seen = false;

			for (int j = 0; j < i && !seen; j++) {
				const struct bl_conn *d = conn_at(conns, j, size);

				for (size_t m = 0; m < d->nerrs; m++)
					if (strcmp(d->errs[m].key, c->errs[k].key) == 0)
						seen = true;
			}
			if (seen)
				continue;
			for (int j = i; j < n; j++) {
				const struct bl_conn *d = conn_at(conns, j, size);

				for (size_t m = 0; m < d->nerrs; m++)
					if (strcmp(d->errs[m].key, c->errs[k].key) == 0)
						sum += d->errs[m].n;
			}
			printf("# error: %s: %" PRIu64 "\n", c->errs[k].key, sum);
		}
	}
	*ret_ok_all = ok_all;
	*ret_err_all = err_all;
	*ret_set_cookie = set_cookie;
	return errs;
}

int bl_load_rows(const char *prog, const char *path, size_t nfields, struct bl_row **ret,
		 size_t *ret_n)
{
	FILE *f = fopen(path, "r");
	char line[BL_FIELDS_MAX * BL_FIELD_MAX + 8];
	struct bl_row *rows = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (n == cap) {
			size_t c2 = cap ? cap * 2 : 256;
			struct bl_row *r2 = realloc(rows, c2 * sizeof(*rows));

			if (!r2)
				goto fail;
			rows = r2;
			cap = c2;
		}
		for (size_t k = 0; k < nfields; k++) {
			char *e = k + 1 < nfields ? strchr(p, '\t') : p + strlen(p);

			if (!e || strchr(p, '\t') != (k + 1 < nfields ? e : NULL)) {
				fprintf(stderr, "%s: %s: a line without %zu fields\n", prog, path,
					nfields);
				goto fail;
			}
			if ((size_t)(e - p) >= BL_FIELD_MAX) {
				fprintf(stderr, "%s: %s: a field too long\n", prog, path);
				goto fail;
			}
			memcpy(rows[n].f[k], p, (size_t)(e - p));
			rows[n].f[k][e - p] = '\0';
			p = e + 1;
		}
		n++;
	}
	fclose(f);
	*ret = rows;
	*ret_n = n;
	return 0;
fail:
	fclose(f);
	free(rows);
	return -1;
}

bool bl_parse_num(const char *s, double lo, double hi, double *ret)
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

int bl_opt(struct bl_opts *opts, int o, const char *arg)
{
	double v;

	switch (o) {
	case 'u': opts->url = arg; return 1;
	case 'c': opts->cacert = arg; return 1;
	case 'd': opts->device = arg; return 1;
	case 'A': opts->ua = arg; return 1;
	case 'n':
		if (!bl_parse_num(arg, 1, BL_CONNS_MAX, &v))
			return -1;
		opts->conns = (int)v;
		return 1;
	case 's': return bl_parse_num(arg, 0.1, 86400, &opts->seconds) ? 1 : -1;
	case 'w': return bl_parse_num(arg, 0, 3600, &opts->warmup) ? 1 : -1;
	case 'a':
		if (!bl_parse_num(arg, 1, 1000000, &v))
			return -1;
		opts->max_amount = (int)v;
		return 1;
	default: return 0;
	}
}
