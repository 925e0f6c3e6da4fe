/*
 * bench/bare_server: the baseline for the /healthz benchmark.
 *
 * A minimal libmicrohttpd HTTPS server started with the same daemon flags,
 * limits and GnuTLS priorities as anfud's listener (src/http/server.c), that
 * answers GET /healthz with {"status":"ok"} and the same response headers
 * anfud adds (src/http/headers.c). It links only libmicrohttpd, not libanfu:
 * the gap between the two is the cost of anfu's request pipeline.
 *
 * Trusts its command line and the certificate and key files; trusts nothing
 * from the network (it reads only the method and the path). Not a product:
 * it exists to be measured by bench/run.sh.
 *
 * Usage: bare_server --cert FILE --key FILE [--port P] [--threads N]
 *                    [--per-ip N] [--listen ADDR]
 * Prints "listening on ADDR:PORT" once ready; SIGINT/SIGTERM stop it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* The priority string anfud uses by default (config http.tls_priorities):
 * TLS 1.2 and 1.3, AEAD ciphers, ECDHE key exchange, server's order. */
#define TLS_PRIORITIES                                                          \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:" \
	"+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"  \
	"+ECDHE-ECDSA:+ECDHE-RSA:-DHE-RSA:-RSA:%SERVER_PRECEDENCE"

/* anfud's defaults: limits.conn_timeout, limits.connections, and the
 * connection memory pool of 2 * limits.header_bytes + 16 KiB slack. */
#define CONN_TIMEOUT_S 15
#define CONNECTIONS 1024
#define CONN_MEMORY (2 * 8 * 1024 + 16 * 1024)
#define HSTS "max-age=31536000; includeSubDomains"

#define PEM_MAX (1024 * 1024)

static const char healthz_body[] = "{\"status\":\"ok\"}";
static const char notfound_body[] = "{\"error\":{\"code\":\"not_found\"}}";

static const struct {
	const char *name;
	const char *value;
} fixed_headers[] = {
	{ "Strict-Transport-Security", HSTS },
	{ "Content-Security-Policy",
	  "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Content-Type", "application/json; charset=utf-8" },
};

struct options {
	const char *cert;
	const char *key;
	const char *listen;
	long port;
	long threads;
	long per_ip;
};

/* Writes "req_" + 22 base62 characters (the shape of anfud's ids) made
 * from one getrandom(2) call. */
static int request_id(char out[32])
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[22];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	memcpy(out, "req_", 4);
	for (size_t i = 0; i < sizeof(rnd); i++)
		out[4 + i] = b62[rnd[i] % 62]; /* bias is irrelevant here */
	out[4 + sizeof(rnd)] = '\0';
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     size_t len)
{
	struct MHD_Response *r;
	char rid[32];
	enum MHD_Result ret = MHD_NO;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (request_id(rid) < 0 || MHD_add_response_header(r, "X-Request-Id", rid) != MHD_YES)
		goto out;
	for (size_t i = 0; i < sizeof(fixed_headers) / sizeof(fixed_headers[0]); i++)
		if (MHD_add_response_header(r, fixed_headers[i].name, fixed_headers[i].value) !=
		    MHD_YES)
			goto out;
	ret = MHD_queue_response(c, status, r);
out:
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	static int started;

	(void)cls;
	(void)version;
	(void)upload_data;
	/* Like anfud, answer on the second call, once the headers are in. */
	if (!*req_cls) {
		*req_cls = &started;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* discard bodies */
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/healthz") == 0)
		return reply(c, MHD_HTTP_OK, healthz_body, sizeof(healthz_body) - 1);
	return reply(c, MHD_HTTP_NOT_FOUND, notfound_body, sizeof(notfound_body) - 1);
}

/* Reads a whole file (at most PEM_MAX bytes) as a NUL-terminated string;
 * the caller frees *ret. */
static int read_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int r = -1;

	if (!f) {
		fprintf(stderr, "bare_server: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(PEM_MAX + 1);
	if (!buf)
		goto out;
	n = fread(buf, 1, PEM_MAX + 1, f);
	if (ferror(f) || n == 0 || n > PEM_MAX) {
		fprintf(stderr, "bare_server: %s: unreadable, empty or too large\n", path);
		goto out;
	}
	buf[n] = '\0';
	*ret = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bare_server --cert FILE --key FILE [--port P] [--threads N]\n"
		   "                   [--per-ip N] [--listen ADDR]\n"
		   "  --port P     TCP port (default 8443; 0 picks a free one)\n"
		   "  --threads N  MHD thread pool size (default 4, like http.threads)\n"
		   "  --per-ip N   connections per client address (default 1024)\n"
		   "  --listen A   IPv4 address (default 127.0.0.1)\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "port", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "per-ip", required_argument, NULL, 'i' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct options){ .listen = "127.0.0.1", .port = 8443, .threads = 4, .per_ip = 1024 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p':
			if (parse_long(optarg, 0, 65535, &o->port) < 0)
				return -1;
			break;
		case 't':
			if (parse_long(optarg, 1, 256, &o->threads) < 0)
				return -1;
			break;
		case 'i':
			if (parse_long(optarg, 1, 100000, &o->per_ip) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc || !o->cert || !o->key)
		return -1;
	return 0;
}

#define OPT(o, v, p) ((struct MHD_OptionItem){ (o), (intptr_t)(v), (void *)(p) })

static struct MHD_Daemon *start(const struct options *o, struct sockaddr_in *sa, const char *cert,
				const char *key)
{
	/* MHD_ALLOW_SUSPEND_RESUME as anfud (its offload pool), though unused. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
			 MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	int n = 0;

	opts[n++] = OPT(MHD_OPTION_SOCK_ADDR, 0, sa);
	opts[n++] = OPT(MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL);
	opts[n++] = OPT(MHD_OPTION_CONNECTION_LIMIT, CONNECTIONS, NULL);
	opts[n++] = OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip, NULL);
	opts[n++] = OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL);
	opts[n++] = OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cert);
	opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, key);
	opts[n++] = OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, TLS_PRIORITIES);
	/* anfud uses a pool only for more than one thread; so do we. */
	if (o->threads > 1)
		opts[n++] = OPT(MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL);
	opts[n++] = OPT(MHD_OPTION_END, 0, NULL);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
}

int main(int argc, char **argv)
{
	struct options o;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info;
	char *cert = NULL, *key = NULL;
	sigset_t set;
	int sig = 0, rc = 1;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (inet_pton(AF_INET, o.listen, &sa.sin_addr) != 1) {
		fprintf(stderr, "bare_server: bad IPv4 address %s\n", o.listen);
		return 2;
	}
	sa.sin_port = htons((uint16_t)o.port);
	if (read_file(o.cert, &cert) < 0 || read_file(o.key, &key) < 0)
		goto out;
	/* Block the stop signals before MHD creates its threads, so only the
	 * sigwait() below receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		goto out;
	d = start(&o, &sa, cert, key);
	if (!d) {
		fprintf(stderr, "bare_server: cannot listen on %s:%ld\n", o.listen, o.port);
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on %s:%u threads=%ld per_ip=%ld\n", o.listen,
	       info ? (unsigned)info->port : (unsigned)o.port, o.threads, o.per_ip);
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "bare_server: signal %d, stopping\n", sig);
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(cert);
	return rc;
}
