/*
 * http/server: the libmicrohttpd daemons, their lifecycle and graceful stop.
 *
 * Owns the main listener, the optional admin listener (IAM-ADM-02: its own
 * address and port, connections accepted only from the configured CIDRs),
 * the rate table, the connection tracker and the metrics. Both listeners
 * speak TLS only (MHD_USE_TLS with the configured GnuTLS priorities); there
 * is no plain-HTTP code path. Trusts the configuration (validated by
 * config/) and the certificate and key given by the caller; trusts nothing
 * from the network.
 *
 * Threads: MHD runs its own polling thread (or a pool of cfg->http.threads
 * with epoll); the offload pool has cfg->http.offload_threads for the slow
 * handlers (http/offload.c); the connection reaper has one more.
 * anfu_http_start() and anfu_http_stop() are called from one controlling
 * thread. A graceful stop waits for offloaded requests like for any other
 * (they count as in flight), then drains the pool before the daemons stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "http/internal.h"

/* MHD's per-connection memory pool, strictly larger than anything the
 * framing filter (http/framing.c, http/stream.c) lets through, so that
 * MHD's own refusals (HTML, none of our headers) cannot happen: the filter
 * hands MHD one head of at most header_bytes at a time; MHD keeps it in the
 * pool, plus one record (56 bytes, 64 with the pool's alignment, MHD
 * 0.9.75) per field, query parameter and cookie, a copy of the Cookie value
 * (shorter than the head) and the response head; the pool slack covers the
 * response head (ours is under 1 KiB, 3 KiB with the most headers a handler
 * may add). Anything larger is refused by the filter with our 431/413 first.
 * MHD zeroes the whole pool after every request: with the default limits
 * it stays at 32 KiB (2 x 8 KiB + 192 x 64 + 4 KiB). */

#define STOP_POLL_NS (10 * 1000 * 1000L)

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* MHD says this of every handshake that fails, including each
	 * connection we cut in its handshake: under a flood, one warning each
	 * would fill the log. The metrics count those connections. */
	if (strstr(msg, "handshake message out of context")) {
		anfu_log_debug("http_mhd", "%s", msg);
		return;
	}
	anfu_log_warn("http_mhd", "%s", msg);
}

/* Puts (STARTED) or takes (CLOSED) the connection's TLS session behind the
 * framing filter (http/framing.c). A connection without one (none of ours:
 * both listeners are TLS) gets 500 for every request (http/request.c). */
static void framing_notify(struct anfu_http_server *s, struct MHD_Connection *c,
			   enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);

	if (!ci || !ci->tls_session)
		return;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		anfu_framing_register(ci->tls_session, c, &s->stream_limits);
	else
		anfu_framing_unregister(ci->tls_session, c);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_listener *l = cls;
	struct anfu_http_server *s = l->server;

	framing_notify(s, c, toe);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		anfu_http_conn_started(l, c, socket_context);
		return;
	}
	anfu_conntrack_remove(s->ct, *socket_context);
	*socket_context = NULL;
}

/* Accept policy of both listeners: nothing new once a stop has begun
 * (see anfu_http_stop()); on the admin listener, only the configured
 * CIDRs. cls is the listener. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
	const struct http_listener *l = cls;
	const struct anfu_config *cfg = l->server->cfg;
	const void *addr;
	int family;

	if (atomic_load(&l->server->stopping))
		return MHD_NO;
	if (!l->admin)
		return MHD_YES;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		family = AF_INET;
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		family = AF_INET6;
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	} else {
		return MHD_NO;
	}
	if (anfu_cidr_match(cfg->admin.allow, cfg->admin.allow_count, family, addr))
		return MHD_YES;
	anfu_log_debug("http_admin_refused", "admin listener refused a connection");
	return MHD_NO;
}

/* Fills ss from an IPv4 or IPv6 literal and a port (0: any free port). */
static int make_addr(const char *host, int64_t port, struct sockaddr_storage *ss, bool *ret_v6)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!host || port < 0 || port > 65535)
		return ANFU_EINVAL;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*ret_v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*ret_v6 = true;
		return 0;
	}
	return ANFU_EINVAL;
}

#define OPT(o, v, p) ((struct MHD_OptionItem){ (o), (intptr_t)(v), (void *)(p) })

static struct MHD_Daemon *start_daemon(struct anfu_http_server *s, struct http_listener *l,
				       struct sockaddr_storage *ss, bool v6)
{
	const struct anfu_config *cfg = s->cfg;
	const char *prio = cfg->http.tls_priorities && cfg->http.tls_priorities[0]
				   ? cfg->http.tls_priorities
				   : ANFU_CONFIG_TLS_PRIORITIES;
	int64_t room = cfg->limits.connections * ANFU_LIMIT_CONN_CLOSING_ROOM_PCT / 100;
	/* Suspend/resume: offloaded handlers (http/offload.c) resume their
	 * connection from a pool thread, which MHD_USE_ITC makes prompt. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
			 MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 (v6 ? MHD_USE_IPv6 : 0);
	struct MHD_OptionItem o[20];
	int n = 0;

	/* The logger first, so MHD routes every later message through it. */
	o[n++] = OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);
	o[n++] = OPT(MHD_OPTION_SOCK_ADDR, 0, ss);
	o[n++] = OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->limits.conn_timeout_s, NULL);
	/* limits.connections itself is enforced by http/conntrack.c. */
	if (room < ANFU_LIMIT_CONN_CLOSING_ROOM_MIN)
		room = ANFU_LIMIT_CONN_CLOSING_ROOM_MIN;
	o[n++] = OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->limits.connections + room, NULL);
	o[n++] = OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->limits.connections_per_ip, NULL);
	o[n++] = OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->pool_bytes, NULL);
	o[n++] = OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	o[n++] = OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->opts.tls_cert_pem);
	o[n++] = OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->opts.tls_key_pem);
	o[n++] = OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, prio);
	o[n++] = OPT(MHD_OPTION_NOTIFY_COMPLETED, anfu_http_completed, l);
	o[n++] = OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, l);
	if (cfg->http.threads > 1)
		o[n++] = OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->http.threads, NULL);
	o[n++] = OPT(MHD_OPTION_END, 0, NULL);
	return MHD_start_daemon(flags, 0, accept_policy, l, anfu_http_access, l, MHD_OPTION_ARRAY,
				o, MHD_OPTION_END);
}

/* errno of binding a probe socket to ss the way MHD binds (SO_REUSEADDR,
 * IPv6 only for an IPv6 address), or 0 when that works. */
static int bind_errno(const struct sockaddr_storage *ss, bool v6)
{
	int one = 1, err = 0;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss,
		 v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != 0)
		err = errno;
	(void)close(fd);
	return err;
}

/* Says why a listener did not start, in words an operator can act on, into
 * msg. MHD only reports failure; the address is probed again to find out
 * whether it is in use, privileged or not on this host. Returns ANFU_EBUSY
 * (in use), ANFU_EPERM (privileged port) or ANFU_EIO. */
static int explain_start_failure(const struct anfu_http_server *s, bool admin, const char *host,
				 int64_t port, const struct sockaddr_storage *ss, bool v6,
				 char *msg, size_t cap)
{
	const char *name = admin ? "admin" : "main";
	const char *sec = admin ? "admin" : "http";
	const char *conf = s->cfg->path && s->cfg->path[0] ? s->cfg->path : "the configuration";
	int err = bind_errno(ss, v6);

	if (err == EADDRINUSE) {
		(void)snprintf(msg, cap,
			       "%s listener: address %s port %lld is already in use (EADDRINUSE): "
			       "another process is listening there (`ss -ltnp` names it); stop "
			       "it, or choose a free port with [%s] port in %s",
			       name, host, (long long)port, sec, conf);
		return ANFU_EBUSY;
	}
	if (err == EACCES) {
		(void)snprintf(msg, cap,
			       "%s listener: no permission to listen on %s port %lld (EACCES): "
			       "ports below 1024 need CAP_NET_BIND_SERVICE; grant it, or choose "
			       "a port from 1024 up with [%s] port in %s",
			       name, host, (long long)port, sec, conf);
		return ANFU_EPERM;
	}
	if (err == EADDRNOTAVAIL) {
		(void)snprintf(msg, cap,
			       "%s listener: %s is not an address of this host (EADDRNOTAVAIL): "
			       "set [%s] listen in %s to one of its addresses, or to 0.0.0.0 or ::",
			       name, host, sec, conf);
		return ANFU_EIO;
	}
	(void)snprintf(msg, cap,
		       "%s listener: cannot listen on %s port %lld%s%s%s; the application log "
		       "has libmicrohttpd's reason (e.g. the TLS certificate, key or "
		       "[http] tls_priorities)",
		       name, host, (long long)port, err ? " (" : "", err ? strerror(err) : "",
		       err ? ")" : "");
	return ANFU_EIO;
}

static int start_listener(struct anfu_http_server *s, struct http_listener *l, bool admin)
{
	const struct anfu_config *cfg = s->cfg;
	const char *host = admin ? cfg->admin.listen : cfg->http.listen;
	int64_t port = admin ? cfg->admin.port : cfg->http.port;
	struct sockaddr_storage ss;
	bool v6 = false;

	l->server = s;
	l->admin = admin;
	if (make_addr(host, port, &ss, &v6) < 0) {
		anfu_log_error("http_start", "%s listener: bad address %s",
			       admin ? "admin" : "main", host ? host : "(none)");
		if (s->opts.errbuf && s->opts.errlen > 0)
			(void)snprintf(s->opts.errbuf, s->opts.errlen,
				       "%s listener: bad address %s", admin ? "admin" : "main",
				       host ? host : "(none)");
		return ANFU_EINVAL;
	}
	l->daemon = start_daemon(s, l, &ss, v6);
	if (!l->daemon) {
		char msg[512];
		int r = explain_start_failure(s, admin, host, port, &ss, v6, msg, sizeof(msg));

		anfu_log_error("http_start", "%s", msg);
		if (s->opts.errbuf && s->opts.errlen > 0)
			(void)snprintf(s->opts.errbuf, s->opts.errlen, "%s", msg);
		return r;
	}
	anfu_log_info("http_start", "%s listener on %s port %d (TLS)", admin ? "admin" : "main",
		      host, anfu_http_port(s, admin));
	return 0;
}

/* Stops the daemons (if running) and frees everything; NULL-safe. The
 * offload pool is drained first: MHD must not be stopped with a connection
 * still suspended, and draining resumes every one. */
static void server_free(struct anfu_http_server *s)
{
	if (!s)
		return;
	anfu_offload_drain(s->offload);
	if (s->main.daemon)
		MHD_stop_daemon(s->main.daemon);
	if (s->admin.daemon)
		MHD_stop_daemon(s->admin.daemon);
	anfu_offload_free(s->offload);
	anfu_conntrack_free(s->ct);
	anfu_http_stats_free(s->stats);
	anfu_ratelimit_free(s->rl);
	free(s);
}

static void set_limits(struct anfu_http_server *s)
{
	const struct anfu_config_limits *lim = &s->cfg->limits;

	s->body_max = (size_t)lim->body_bytes;
	s->header_max = (size_t)lim->header_bytes;
	s->arena_cap = 4 * s->body_max + ANFU_LIMIT_ARENA_SLACK;
	s->json_limits.max_depth = (unsigned)lim->json_depth;
	s->json_limits.max_string_bytes = (size_t)lim->json_string_bytes;
	s->head_timeout_us = lim->header_timeout_s * 1000000;
	s->body_timeout_us = (lim->header_timeout_s + lim->conn_timeout_s) * 1000000;
	s->stream_limits = (struct anfu_stream_limits){
		.head_bytes = s->header_max,
		.body_bytes = s->body_max,
		.fields = ANFU_LIMIT_HEADER_FIELDS,
		.query_params = ANFU_LIMIT_QUERY_PARAMS,
		.cookies = ANFU_LIMIT_COOKIES,
	};
	s->pool_bytes = 2 * s->header_max +
			(ANFU_LIMIT_HEADER_FIELDS + ANFU_LIMIT_QUERY_PARAMS + ANFU_LIMIT_COOKIES) *
				ANFU_LIMIT_MHD_POOL_ITEM_BYTES +
			ANFU_LIMIT_MHD_POOL_SLACK_BYTES;
}

static bool limits_sane(const struct anfu_config_limits *lim)
{
	return lim->body_bytes > 0 && lim->body_bytes <= ANFU_LIMIT_BODY_BYTES_MAX &&
	       lim->header_bytes > 0 && lim->header_bytes <= ANFU_LIMIT_HEADER_BYTES_MAX &&
	       lim->json_depth > 0 && lim->json_string_bytes > 0 && lim->conn_timeout_s > 0 &&
	       lim->header_timeout_s > 0 && lim->connections > 0 && lim->connections_per_ip > 0 &&
	       lim->concurrent_requests > 0 && lim->connections_per_net > 0 &&
	       lim->connections_reserve_pct >= 0 &&
	       lim->connections_reserve_pct <= ANFU_LIMIT_CONN_RESERVE_PCT_MAX &&
	       lim->handshake_timeout_s > 0 &&
	       lim->handshake_timeout_s <= ANFU_LIMIT_HANDSHAKE_TIMEOUT_MAX;
}

/* The admission limits of either listener (http/conntrack.c): the share
 * connections still in the TLS handshake may hold is what the reserve for
 * established ones leaves (at least one slot). */
static void conntrack_limits(const struct anfu_http_server *s,
			     struct anfu_conntrack_limits lim[ANFU_CONNTRACK_POOLS])
{
	const struct anfu_config_limits *cl = &s->cfg->limits;
	int64_t handshaking = cl->connections - cl->connections * cl->connections_reserve_pct / 100;

	for (int i = 0; i < ANFU_CONNTRACK_POOLS; i++)
		lim[i] = (struct anfu_conntrack_limits){
			.connections = cl->connections,
			.handshaking = handshaking > 0 ? handshaking : 1,
			.per_net = cl->connections_per_net,
			.head_timeout_us = s->head_timeout_us,
		};
}

int anfu_http_start(const struct anfu_http_opts *o, const struct anfu_router *r,
		    struct anfu_http_server **ret)
{
	struct anfu_conntrack_limits ctl[ANFU_CONNTRACK_POOLS];
	struct anfu_http_server *s = NULL;
	int rc = ANFU_EINVAL;

	if (!o || !o->cfg || !r || !ret || !o->tls_cert_pem || !o->tls_key_pem ||
	    !limits_sane(&o->cfg->limits))
		return ANFU_EINVAL;
	/* Without the framing filter MHD would parse what clients send on its
	 * own terms (request smuggling shapes, HTML refusals): fail closed. */
	if (!anfu_framing_interposed()) {
		anfu_log_error("http_start",
			       "the HTTP framing filter is not in the path of "
			       "libmicrohttpd's TLS reads (symbol interposition failed)");
		return ANFU_EINTERNAL;
	}
	s = anfu_xcalloc(1, sizeof(*s));
	s->opts = *o;
	s->cfg = o->cfg;
	s->router = r;
	set_limits(s);
	s->rl = anfu_ratelimit_new(s->cfg->limits.rate_per_ip, s->cfg->limits.rate_burst,
				   ANFU_LIMIT_RATE_TABLE_SIZE);
	s->stats = anfu_http_stats_new(r);
	conntrack_limits(s, ctl);
	rc = anfu_conntrack_new(ctl, &s->ct);
	if (rc < 0)
		goto out;
	rc = anfu_offload_new((int)s->cfg->http.offload_threads, ANFU_LIMIT_OFFLOAD_QUEUE,
			      &s->offload);
	if (rc < 0)
		goto out;
	rc = start_listener(s, &s->main, false);
	if (rc < 0)
		goto out;
	if (s->cfg->admin.enabled) {
		rc = start_listener(s, &s->admin, true);
		if (rc < 0)
			goto out;
	}
	*ret = s;
	s = NULL;
	rc = 0;
out:
	server_free(s);
	return rc;
}

void anfu_http_stop(struct anfu_http_server *s, int grace_s)
{
	const struct timespec tick = { 0, STOP_POLL_NS };
	int64_t deadline;
	int left;

	if (!s)
		return;
	/* From here the accept policy closes every new connection at once and
	 * kept-alive clients are told to go (Connection: close). The listen
	 * sockets stay open until the daemons stop: MHD_quiesce_daemon() on an
	 * epoll daemon with its own threads races with MHD's polling thread
	 * over removing the listen socket from the epoll set and can abort the
	 * process ("Failed to remove listen FD from epoll set", MHD 0.9.75). */
	atomic_store(&s->stopping, true);
	deadline = anfu_clock_mono_us() + (int64_t)(grace_s > 0 ? grace_s : 0) * 1000000;
	while (atomic_load(&s->inflight) > 0 && anfu_clock_mono_us() < deadline)
		(void)nanosleep(&tick, NULL);
	left = atomic_load(&s->inflight);
	if (left > 0)
		anfu_log_warn("http_stop", "grace period over with %d requests in flight", left);
	server_free(s);
	anfu_log_info("http_stop", "listeners stopped");
}

int anfu_http_port(const struct anfu_http_server *s, bool admin)
{
	const struct MHD_Daemon *d = s ? (admin ? s->admin.daemon : s->main.daemon) : NULL;
	const union MHD_DaemonInfo *di;

	if (!d)
		return ANFU_ENOTFOUND;
	di = MHD_get_daemon_info((struct MHD_Daemon *)d, MHD_DAEMON_INFO_BIND_PORT);
	return di ? (int)di->port : ANFU_EINTERNAL;
}

int anfu_http_inflight(const struct anfu_http_server *s)
{
	return s ? atomic_load(&s->inflight) : 0;
}

int anfu_http_metrics(const struct anfu_http_server *s, struct anfu_buf *out)
{
	int r;

	if (!s || !out)
		return ANFU_EINVAL;
	r = anfu_http_stats_render(s->stats, anfu_http_inflight(s), anfu_conntrack_reaped(s->ct),
				   out);
	return r < 0 ? r : anfu_conntrack_render(s->ct, out);
}
