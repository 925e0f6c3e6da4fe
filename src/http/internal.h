/*
 * http/internal: declarations shared by the files of the http module only.
 *
 * Nothing outside src/http/ includes this header (the http unit tests do, to
 * reach the rate limiter's injectable clock, the router's listener filter
 * and the offload pool's queue). It names libmicrohttpd types only as
 * incomplete structs, so it does not pull microhttpd.h into the tests.
 */
#ifndef ANFU_HTTP_INTERNAL_H
#define ANFU_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/limits.h"
#include "http/http.h"

struct MHD_Connection;
struct MHD_Daemon;
struct MHD_Response;

/* ---- router (http/router.c) ---------------------------------------------- */

/* anfu_router_match restricted to the routes served on one listener: admin
 * routes only on the admin listener, ANFU_ROUTE_BOTH routes on both, every
 * other route only on the main listener. Same returns as anfu_router_match.
 * Routes not served on this listener are invisible (404, never 405). */
int anfu_router_match_on(const struct anfu_router *r, const char *method, struct anfu_str path,
			 bool admin_listener, struct anfu_route_match *m);
/* Number of registered routes. */
int anfu_router_count(const struct anfu_router *r);
/* Registration index of a route returned by a match, or -1. */
int anfu_router_index(const struct anfu_router *r, const struct anfu_route *route);
/* The route registered i-th, or NULL. */
const struct anfu_route *anfu_router_at(const struct anfu_router *r, int i);

/* ---- rate limiter (http/ratelimit.c) --------------------------------------- */

struct anfu_ratelimit;

/* A per-client token bucket table: rate_per_s tokens a second, burst at
 * most, at most table_size clients (least recently seen evicted). A rate
 * or burst <= 0 disables limiting. Thread-safe. */
struct anfu_ratelimit *anfu_ratelimit_new(int64_t rate_per_s, int64_t burst, size_t table_size);
/* NULL-safe. */
void anfu_ratelimit_free(struct anfu_ratelimit *rl);
/* Takes one token for the client (family AF_INET/AF_INET6, raw address
 * bytes) at monotonic time now_us. Returns 0, or ANFU_ERATE with
 * *ret_retry_after_s (>= 1) set to the seconds until a token is back. */
int anfu_ratelimit_take(struct anfu_ratelimit *rl, int family, const uint8_t *addr, int64_t now_us,
			int *ret_retry_after_s);
/* Clients currently tracked (never more than table_size). */
size_t anfu_ratelimit_count(struct anfu_ratelimit *rl);

/* ---- errors (http/errors.c) ------------------------------------------------ */

/* Stable codes that have no ANFU_E* of their own. */
#define ANFU_HTTP_CODE_METHOD "method_not_allowed"
#define ANFU_HTTP_CODE_MEDIA "unsupported_media_type"
#define ANFU_HTTP_CODE_HEADERS "headers_too_large"

/* Status and stable code of an error: code (may be NULL) wins when the
 * table knows it; otherwise the status comes from err, and *ret_code is
 * code when set or the default code of err. */
int anfu_http_error_resolve(int err, const char *code, const char **ret_code);
/* Message of code for status in lang, or the generic one of the status
 * when the table does not know code. Never NULL. */
const char *anfu_http_error_text(const char *code, int status, const char *lang);
/* Appends {"error":{"code":..,"field":..,"message":..,"request_id":..}}
 * (field only when non-empty) to out. */
int anfu_http_error_render(const char *code, int status, const char *lang, const char *field,
			   const char *request_id, struct anfu_buf *out);
/* Number of rows in the error table, and row i (for tests and docs). */
size_t anfu_http_error_count(void);
int anfu_http_error_row(size_t i, const char **ret_code, int *ret_status);

/* ---- security headers (http/headers.c) -------------------------------------- */

/* Adds X-Request-Id, HSTS, CSP, nosniff, DENY, no-referrer, and (when
 * no_store) Cache-Control: no-store, to r. Returns 0 or ANFU_EINVAL. */
int anfu_http_security_headers(struct MHD_Response *r, bool no_store, int64_t hsts_max_age,
			       const char *request_id);
/* True when responses on path must not be cached (/api/, /open/, ...). */
bool anfu_http_path_no_store(const char *path);

/* ---- connection tracking (http/conntrack.c) -------------------------------- */

struct anfu_conntrack;
struct anfu_conn;

/* Pools of the table: one per listener. */
#define ANFU_CONNTRACK_MAIN 0
#define ANFU_CONNTRACK_ADMIN 1
#define ANFU_CONNTRACK_POOLS 2

/* Admission limits of one pool (WEB-CONC-01, WEB-CONC-03, WEB-DOS-01). */
struct anfu_conntrack_limits {
	int64_t connections;	 /* open connections at most (>= 1) */
	int64_t handshaking;	 /* of which still in the TLS handshake (1..connections) */
	int64_t per_net;	 /* from one IPv4 /24 or IPv6 /64 (>= 1) */
	int64_t head_timeout_us; /* deadline set when the handshake ends (> 0) */
};

/* What anfu_conntrack_add() did with a new connection. */
enum anfu_conntrack_verdict {
	ANFU_CONN_ADMITTED = 0,
	ANFU_CONN_EVICTED_OTHER, /* admitted; the oldest handshaking one was cut */
	ANFU_CONN_REFUSED_NET,	 /* cut at once: its network is at its cap */
	ANFU_CONN_REFUSED_FULL,	 /* cut at once: every slot is established */
};

/* The network a client address counts in: IPv4 /24, IPv6 /64 (an
 * IPv4-mapped IPv6 address counts as IPv4); family 0 for anything else. */
struct anfu_netkey {
	uint8_t family; /* 4, 6 or 0 */
	uint8_t bytes[8];
};

struct anfu_conntrack_stats {
	int64_t handshaking, established; /* live now */
	uint64_t accepted, evicted, refused_net, refused_full;
};

/* Fills *ret with the network of addr (family AF_INET/AF_INET6, raw bytes). */
void anfu_conntrack_netkey(int family, const uint8_t *addr, struct anfu_netkey *ret);
/* Starts the reaper thread with the limits of each pool (copied). Returns
 * ANFU_EINVAL for limits out of range, ANFU_EINTERNAL when the thread
 * cannot start. */
int anfu_conntrack_new(const struct anfu_conntrack_limits lim[ANFU_CONNTRACK_POOLS],
		       struct anfu_conntrack **ret);
/* Stops the reaper and frees the table; NULL-safe. Call after the daemons
 * stopped (the table must be empty). */
void anfu_conntrack_free(struct anfu_conntrack *t);
/* Admits a new connection on fd of pool from addr (family AF_INET or
 * AF_INET6, raw bytes; NULL: unknown) with a handshake deadline
 * (monotonic us, 0 = none): see the module comment for the policy. A
 * refused connection, or one evicted for it, is shut down before this
 * returns. Always returns the entry, owned by the table until
 * anfu_conntrack_remove(); *ret_verdict (may be NULL) says what happened. */
struct anfu_conn *anfu_conntrack_add(struct anfu_conntrack *t, int pool, int fd, int family,
				     const uint8_t *addr, int64_t deadline_us,
				     enum anfu_conntrack_verdict *ret_verdict);
/* The TLS handshake of c finished: it is established from now on (never
 * evicted) and its request head is due within the pool's head timeout of
 * now_us. No-op for a connection cut meanwhile or already established.
 * Any thread. */
void anfu_conntrack_established(struct anfu_conn *c, int64_t now_us);
/* Counts one more TLS Finished message of c's handshake and returns how
 * many so far (0 for NULL). Called by the handshake hook (http/handshake.c). */
int anfu_conntrack_finished(struct anfu_conn *c);
/* Stops tracking c and frees it (NULL accepted). MHD calls it, through
 * NOTIFY_CONNECTION CLOSED, before it closes the descriptor. */
void anfu_conntrack_remove(struct anfu_conntrack *t, struct anfu_conn *c);
/* Sets when the reaper cuts the connection off (0 = never). Any thread. */
void anfu_conntrack_deadline(struct anfu_conn *c, int64_t deadline_us);
/* Connections cut off so far by the reaper. */
uint64_t anfu_conntrack_reaped(const struct anfu_conntrack *t);
/* Counts of one pool (all zero for a bad pool or a NULL table). */
void anfu_conntrack_stats(struct anfu_conntrack *t, int pool, struct anfu_conntrack_stats *ret);
/* Appends the Prometheus text of the counts of both pools. */
int anfu_conntrack_render(struct anfu_conntrack *t, struct anfu_buf *out);

/* ---- offload pool (http/offload.c) ------------------------------------------ */

struct anfu_offload;

/* A job of the pool. run is true when a pool thread runs it, false when
 * the pool was drained before it started: then it only releases what it
 * holds. Called on a pool thread, without any lock of the pool held. */
typedef void (*anfu_offload_fn)(void *arg, bool run);

/* Starts a pool of `threads` threads (1..ANFU_LIMIT_OFFLOAD_THREADS_MAX)
 * with a queue of queue_max jobs (1..ANFU_LIMIT_OFFLOAD_QUEUE). Returns 0,
 * ANFU_EINVAL, or ANFU_EINTERNAL when a thread cannot start. */
int anfu_offload_new(int threads, size_t queue_max, struct anfu_offload **ret);
/* Reserves a queue slot for one anfu_offload_submit(). Returns 0, or
 * ANFU_EOVERLOAD when queued and reserved jobs fill the queue or the pool
 * is drained. Any thread. */
int anfu_offload_reserve(struct anfu_offload *p);
/* Queues fn(arg) in the slot reserved before; never fails. arg stays the
 * caller's: fn is called exactly once, with run true or false, and may
 * free it. Any thread. */
void anfu_offload_submit(struct anfu_offload *p, anfu_offload_fn fn, void *arg);
/* Refuses reservations from now on, calls the jobs still queued with run
 * false, waits for the running ones (and for the submission of every slot
 * still reserved), and joins the threads. Idempotent; NULL-safe; from the
 * one thread that also frees the pool. */
void anfu_offload_drain(struct anfu_offload *p);
/* Drains (when not done yet) and frees; NULL-safe. */
void anfu_offload_free(struct anfu_offload *p);
/* Jobs queued and not started yet. Any thread. */
size_t anfu_offload_queued(struct anfu_offload *p);

/* ---- request framing validator (http/stream.c) ------------------------------ */

/* Stable codes of the framing refusals that have no ANFU_E* of their own. */
#define ANFU_HTTP_CODE_FRAMING "bad_request_framing"
#define ANFU_HTTP_CODE_TARGET "bad_request_target"

struct anfu_stream_limits {
	size_t head_bytes;     /* request line, field lines and CRLFs, trailers included */
	uint64_t body_bytes;   /* Content-Length, or the sum of the chunk sizes */
	unsigned fields;       /* field lines of a head plus its trailers */
	unsigned query_params; /* '&'-separated parts of the query */
	unsigned cookies;      /* ';'/','-separated parts of the Cookie fields */
};

enum anfu_stream_event {
	ANFU_STREAM_MORE = 0, /* every byte given was consumed */
	ANFU_STREAM_BLOCK,    /* stopped right after a request head or a trailer section */
	ANFU_STREAM_REFUSED,  /* stopped at a violation (anfu_stream_refusal) */
};

/* Why the stream was refused, and where. */
struct anfu_stream_refusal {
	int status;	  /* 400, 413 or 431 */
	const char *code; /* stable error code (http/errors.c) */
	/* False: the refused request's head was never accepted, so nothing of
	 * it was handed on. True: its head was accepted (it is request number
	 * anfu_stream_heads()) and its chunked body is refused; `completion`
	 * then ends that body cleanly for a parser that has seen exactly the
	 * bytes accepted so far. */
	bool in_body;
	const char *completion;
	bool zh; /* the head asked for Chinese (Accept-Language: zh...) */
	char method[ANFU_LIMIT_LOG_METHOD_BYTES + 1]; /* printable ASCII, "-" if none */
	char path[ANFU_LIMIT_LOG_PATH_BYTES + 1];     /* printable ASCII, "-" if none */
};

/* One connection's validator. The fields are private to http/stream.c;
 * the struct is complete only so that callers can embed it. */
struct anfu_stream {
	struct anfu_stream_limits lim;
	uint8_t state, sub, names, field, hex;
	bool trailers, http10, in_query, query_empty, have_cl, have_te, cl_big, zh, al_seen;
	bool body_refused, after_data;
	uint64_t heads;	 /* request heads accepted */
	size_t held;	 /* bytes of the element in progress (not releasable) */
	size_t head_len; /* bytes of the current head and its trailers */
	size_t chunk_line;
	unsigned nfields, nparams, ncookies, nhost;
	uint64_t cl, remaining, body_total, chunk_size;
	size_t method_len, path_len;
	char method[ANFU_LIMIT_LOG_METHOD_BYTES];
	char path[ANFU_LIMIT_LOG_PATH_BYTES];
	int status;
	const char *code;
};

/* Starts a validator for a new connection (lim copied). */
void anfu_stream_init(struct anfu_stream *st, const struct anfu_stream_limits *lim);
/* Validates up to len bytes of the client's stream, one request after the
 * other (RFC 9112, strictly; docs/security.md lists the rules), and sets
 * *ret_used to the bytes consumed. Stops after the last byte of a request
 * head or trailer section (BLOCK), or at the first byte that breaks a rule
 * (REFUSED, that byte consumed); once refused, consumes nothing more. */
enum anfu_stream_event anfu_stream_feed(struct anfu_stream *st, const uint8_t *p, size_t len,
					size_t *ret_used);
/* Bytes consumed so far that belong to an element not complete yet (a
 * head, a chunk-size line, the CRLF after chunk data, the last chunk and
 * its trailers): they must not be handed on until it completes. Every
 * consumed byte before them may be. */
size_t anfu_stream_held(const struct anfu_stream *st);
/* Request heads accepted so far. */
uint64_t anfu_stream_heads(const struct anfu_stream *st);
/* Fills *ret and returns true when the stream was refused. */
bool anfu_stream_refusal(const struct anfu_stream *st, struct anfu_stream_refusal *ret);

/* ---- framing filter between GnuTLS and MHD (http/framing.c) ------------------ */

struct anfu_framing_conn;

/* True when libmicrohttpd's gnutls_record_recv() and
 * gnutls_record_check_pending() calls reach http/framing.c (ELF symbol
 * interposition); the server refuses to start otherwise. */
bool anfu_framing_interposed(void);
/* Filters the plaintext of a TLS session from now on (session: a
 * gnutls_session_t; owner: the MHD connection; lim copied). Any thread. */
void anfu_framing_register(void *session, const void *owner, const struct anfu_stream_limits *lim);
/* Stops filtering and frees the state of owner's session (the session may
 * already be deinitialised: only its address is compared). Any thread. */
void anfu_framing_unregister(void *session, const void *owner);
/* The framing state of MHD connection c, or NULL when it has none. It
 * lives until the connection closes; use it on c's MHD thread only. */
struct anfu_framing_conn *anfu_framing_of(struct MHD_Connection *c);
/* Counts a request head reaching the access handler and returns its
 * number on the connection, from 1 (0 when fc is NULL). */
uint64_t anfu_framing_next(struct anfu_framing_conn *fc);
/* True (and *ret filled) when request number `index` of fc is one the
 * filter refused: with in_body false, a head the filter replaced by a
 * stand-in request; with in_body true, a request whose body was refused
 * (the filter ended it with an empty last chunk). */
bool anfu_framing_refused(const struct anfu_framing_conn *fc, uint64_t index, bool in_body,
			  struct anfu_stream_refusal *ret);

/* ---- metrics (http/metrics.c) ------------------------------------------------ */

struct anfu_http_stats;

/* Counters for the routes of r (borrowed) plus "unmatched". */
struct anfu_http_stats *anfu_http_stats_new(const struct anfu_router *r);
/* NULL-safe. */
void anfu_http_stats_free(struct anfu_http_stats *st);
/* Records one finished request (route NULL: unmatched). Thread-safe. */
void anfu_http_stats_observe(struct anfu_http_stats *st, const struct anfu_route *route, int status,
			     int64_t duration_us);
/* Appends the Prometheus text. */
int anfu_http_stats_render(const struct anfu_http_stats *st, int inflight, uint64_t reaped,
			   struct anfu_buf *out);

/* ---- server and requests (http/server.c, http/request.c) ----------------- */

struct http_listener {
	struct anfu_http_server *server;
	struct MHD_Daemon *daemon;
	bool admin;
};

struct anfu_http_server {
	struct anfu_http_opts opts;
	const struct anfu_config *cfg;
	const struct anfu_router *router;
	struct http_listener main;
	struct http_listener admin;
	struct anfu_ratelimit *rl;
	struct anfu_conntrack *ct;
	struct anfu_offload *offload; /* runs the ANFU_ROUTE_OFFLOAD handlers */
	struct anfu_http_stats *stats;
	struct anfu_json_limits json_limits;
	size_t body_max;
	size_t arena_cap;
	size_t header_max;
	struct anfu_stream_limits stream_limits; /* of every connection's framing filter */
	size_t pool_bytes;			 /* MHD's memory pool per connection */
	int64_t head_timeout_us;		 /* request head must arrive within it */
	int64_t body_timeout_us;		 /* head to last body byte */
	atomic_int inflight;
	atomic_bool stopping;
};

#ifdef MHD_VERSION
/* MHD callbacks (cls: struct http_listener), for files that include
 * microhttpd.h. Run on MHD's threads. */
enum MHD_Result anfu_http_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **req_cls);
void anfu_http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe);
/* A new connection of listener l (NOTIFY_CONNECTION STARTED): admits it in
 * the connection table (or cuts it, see http/conntrack.c), stores the
 * entry in *socket_context and follows its TLS handshake
 * (http/handshake.c). */
void anfu_http_conn_started(struct http_listener *l, struct MHD_Connection *c,
			    void **socket_context);
#endif

/* Where the handler of an ANFU_ROUTE_OFFLOAD request is (http_req.offload). */
enum http_offload {
	HTTP_OFFLOAD_NONE = 0, /* not offloaded (yet) */
	HTTP_OFFLOAD_RUNNING,  /* queued or running on the pool; connection suspended */
	HTTP_OFFLOAD_DONE,     /* result and resp filled; connection resumed */
};

/* Private per-request state; pub comes first. While offload is
 * HTTP_OFFLOAD_RUNNING the request belongs to the offload thread, and the
 * MHD worker does not touch it. */
struct http_req {
	struct anfu_req pub;
	struct http_listener *listener;
	struct anfu_buf body; /* upload being received (wiped) */
	uint64_t received;    /* body bytes seen, kept or not */
	bool too_large;
	bool queued; /* a response has been queued */
	bool path_ok;
	int status; /* of the queued response */
	uint64_t resp_bytes;
	enum http_offload offload;
	int result;			   /* the offloaded handler's return */
	struct anfu_resp resp;		   /* the offloaded handler's response (body owned) */
	struct anfu_framing_conn *framing; /* the connection's framing filter */
	uint64_t index;			   /* number of the request on its connection */
	bool close;			   /* answer with Connection: close */
};

#ifdef MHD_VERSION
/* Queues the error response of err (req->err_code / err_field when set);
 * returns what the access handler returns to MHD. */
enum MHD_Result anfu_http_queue_error(struct http_req *hr, int err);
/* Encodes and queues a handler's response; takes resp->body. */
enum MHD_Result anfu_http_queue_resp(struct http_req *hr, struct anfu_resp *resp);
#endif

#endif
