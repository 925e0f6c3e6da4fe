/*
 * http/framing: the framing filter between GnuTLS and libmicrohttpd.
 *
 * MHD reads a connection's plaintext with gnutls_record_recv() (and asks
 * gnutls_record_check_pending()). This file defines both functions, so the
 * dynamic linker binds libmicrohttpd's calls to them (ELF symbol
 * interposition: an executable's definitions come first in the lookup
 * order; the real ones are found with dlsym(RTLD_NEXT)). Sessions the
 * server registered (http/server.c, when MHD announces a connection) are
 * filtered; every other caller passes straight through.
 * anfu_framing_interposed() tells whether the binding really happened, and
 * the server refuses to start without it.
 *
 * Filtering: every decrypted byte goes through the connection's validator
 * (http/stream.c) before MHD sees it, and MHD gets only what the validator
 * accepted: never part of a head, a chunk-size line or a trailer section
 * before all of it passed (so MHD never holds an incomplete element it
 * could misparse, and its own refusal paths stay unreachable), and at most
 * one head per read (so MHD's buffer never holds two, which its memory
 * pool is not sized for). At the first violation the bytes after the last
 * accepted element are dropped, the earlier requests still reach MHD in
 * order, and then:
 *   - a refused head is replaced by a stand-in request ("GET /",
 *     "Connection: close") that the access handler (http/request.c)
 *     recognises by its number on the connection and answers with the
 *     uniform error instead: security headers, access log, rate limit and
 *     metrics as for any request, then MHD closes the connection;
 *   - a refused chunked body (its head was accepted) is ended with an
 *     empty last chunk, and the access handler answers that request with
 *     the error when it would have run its handler.
 * After that, reads report "try again" for ever: nothing more the client
 * sends reaches MHD.
 *
 * Relies on MHD 0.9.75's epoll mode (the server always uses it): a read
 * that returns data keeps the connection marked readable, so MHD reads
 * again for the bytes held back here without the socket becoming readable.
 *
 * Ownership and threads: the registry of sessions is process-wide, split
 * into stripes, each under its own mutex. A connection's state is used by
 * the MHD thread that owns the connection (reads and the access handler)
 * and freed when MHD reports the connection closed, on that same thread or
 * after it stopped. Trusts MHD for the session and connection pointers;
 * trusts nothing in the bytes.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "base/assert.h"
#include "base/limits.h"
#include "base/mem.h"
#include "http/internal.h"

/* Stand-ins for a refused head: what MHD gets instead of it. */
#define STANDIN_EN "GET / HTTP/1.1\r\nHost: refused.invalid\r\nConnection: close\r\n\r\n"
#define STANDIN_ZH                                                         \
	"GET / HTTP/1.1\r\nHost: refused.invalid\r\nConnection: close\r\n" \
	"Accept-Language: zh\r\n\r\n"

struct anfu_framing_conn {
	struct anfu_framing_conn *next; /* in its stripe */
	const void *session;
	const void *owner;
	struct anfu_stream st;
	/* Plaintext read and not handed to MHD yet, by position:
	 * [off, rel) accepted, [rel, scan) held by the validator,
	 * [scan, len) not validated yet. Allocated at the first read. */
	uint8_t *hold;
	size_t cap, off, rel, scan, len;
	/* After a refusal: the stand-in head or the body's end, handed to
	 * MHD once [off, rel) is empty. */
	bool refused;
	const char *tail;
	size_t tail_len, tail_off;
	uint64_t refused_index; /* request number the refusal answers */
	struct anfu_stream_refusal refusal;
	uint64_t seen; /* request heads the access handler has seen */
};

struct stripe {
	pthread_mutex_t mu;
	struct anfu_framing_conn *head; /* newest first */
};

typedef ssize_t (*recv_fn)(gnutls_session_t, void *, size_t);
typedef size_t (*pending_fn)(gnutls_session_t);

static struct stripe stripes[ANFU_LIMIT_FRAMING_STRIPES];
static recv_fn real_recv;
static pending_fn real_pending;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Finds GnuTLS's own functions (the next definitions after ours) and
 * prepares the stripes. */
static void init_once(void)
{
	for (size_t i = 0; i < ANFU_LIMIT_FRAMING_STRIPES; i++)
		(void)pthread_mutex_init(&stripes[i].mu, NULL);
	real_recv = (recv_fn)dlsym(RTLD_NEXT, "gnutls_record_recv");
	real_pending = (pending_fn)dlsym(RTLD_NEXT, "gnutls_record_check_pending");
}

static struct stripe *stripe_of(const void *session)
{
	uint64_t h = (uint64_t)(uintptr_t)session;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ULL;
	return &stripes[(h >> 32) & (ANFU_LIMIT_FRAMING_STRIPES - 1)];
}

/* The newest state of session (with owner, when owner is not NULL). */
static struct anfu_framing_conn *lookup(const void *session, const void *owner)
{
	struct stripe *sp = stripe_of(session);
	struct anfu_framing_conn *fc;

	pthread_mutex_lock(&sp->mu);
	for (fc = sp->head; fc; fc = fc->next)
		if (fc->session == session && (!owner || fc->owner == owner))
			break;
	pthread_mutex_unlock(&sp->mu);
	return fc;
}

bool anfu_framing_interposed(void)
{
	recv_fn r;
	pending_fn p;

	(void)pthread_once(&once, init_once);
	r = (recv_fn)dlsym(RTLD_DEFAULT, "gnutls_record_recv");
	p = (pending_fn)dlsym(RTLD_DEFAULT, "gnutls_record_check_pending");
	/* What libmicrohttpd binds to is ours, and GnuTLS's own is behind it
	 * (both false if our definitions were missing from this binary). */
	return real_recv && real_pending && r == gnutls_record_recv && r != real_recv &&
	       p == gnutls_record_check_pending && p != real_pending;
}

void anfu_framing_register(void *session, const void *owner, const struct anfu_stream_limits *lim)
{
	struct anfu_framing_conn *fc = anfu_xcalloc(1, sizeof(*fc));
	struct stripe *sp;

	(void)pthread_once(&once, init_once);
	fc->session = session;
	fc->owner = owner;
	anfu_stream_init(&fc->st, lim);
	fc->cap =
		lim->head_bytes + ANFU_LIMIT_CHUNK_LINE_BYTES + ANFU_LIMIT_FRAMING_HOLD_SLACK_BYTES;
	sp = stripe_of(session);
	pthread_mutex_lock(&sp->mu);
	fc->next = sp->head;
	sp->head = fc;
	pthread_mutex_unlock(&sp->mu);
}

void anfu_framing_unregister(void *session, const void *owner)
{
	struct stripe *sp = stripe_of(session);
	struct anfu_framing_conn **pp, *fc = NULL;

	pthread_mutex_lock(&sp->mu);
	for (pp = &sp->head; *pp; pp = &(*pp)->next)
		if ((*pp)->session == session && (*pp)->owner == owner) {
			fc = *pp;
			*pp = fc->next;
			break;
		}
	pthread_mutex_unlock(&sp->mu);
	if (!fc)
		return;
	free(fc->hold);
	free(fc);
}

struct anfu_framing_conn *anfu_framing_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);

	return ci && ci->tls_session ? lookup(ci->tls_session, c) : NULL;
}

uint64_t anfu_framing_next(struct anfu_framing_conn *fc)
{
	return fc ? ++fc->seen : 0;
}

bool anfu_framing_refused(const struct anfu_framing_conn *fc, uint64_t index, bool in_body,
			  struct anfu_stream_refusal *ret)
{
	if (!fc || !fc->refused || index != fc->refused_index || in_body != fc->refusal.in_body)
		return false;
	*ret = fc->refusal;
	return true;
}

/* ---- the filter ----------------------------------------------------------- */

/* The validator refused: drop the refused element and all after it, and
 * queue what MHD gets instead once the accepted bytes are through. */
static void refuse(struct anfu_framing_conn *fc)
{
	(void)anfu_stream_refusal(&fc->st, &fc->refusal);
	fc->len = fc->scan = fc->rel;
	fc->refused = true;
	if (fc->refusal.in_body) {
		fc->refused_index = anfu_stream_heads(&fc->st);
		fc->tail = fc->refusal.completion;
	} else {
		fc->refused_index = anfu_stream_heads(&fc->st) + 1;
		fc->tail = fc->refusal.zh ? STANDIN_ZH : STANDIN_EN;
	}
	fc->tail_len = strlen(fc->tail);
	fc->tail_off = 0;
}

static void scan(struct anfu_framing_conn *fc)
{
	size_t used = 0;
	enum anfu_stream_event ev;

	ev = anfu_stream_feed(&fc->st, fc->hold + fc->scan, fc->len - fc->scan, &used);
	fc->scan += used;
	fc->rel = fc->scan - anfu_stream_held(&fc->st);
	if (ev == ANFU_STREAM_REFUSED)
		refuse(fc);
}

/* Reads more plaintext behind what is held. Returns what GnuTLS returned. */
static ssize_t fill(struct anfu_framing_conn *fc, gnutls_session_t session)
{
	ssize_t n;

	if (!fc->hold)
		fc->hold = anfu_xmalloc(fc->cap);
	if (fc->off > 0) {
		memmove(fc->hold, fc->hold + fc->off, fc->len - fc->off);
		fc->len -= fc->off;
		fc->scan -= fc->off;
		fc->rel -= fc->off;
		fc->off = 0;
	}
	/* Only an element the validator still holds is left, and it refuses
	 * any element before it reaches the capacity. */
	ANFU_ASSERT(fc->len < fc->cap);
	n = real_recv(session, fc->hold + fc->len, fc->cap - fc->len);
	if (n > 0)
		fc->len += (size_t)n;
	return n;
}

static ssize_t give(uint8_t *out, size_t size, const void *src, size_t avail, size_t *off)
{
	size_t n = avail < size ? avail : size;

	memcpy(out, src, n);
	*off += n;
	return (ssize_t)n;
}

static ssize_t filter_recv(struct anfu_framing_conn *fc, gnutls_session_t session, uint8_t *out,
			   size_t size)
{
	ssize_t n;

	for (;;) {
		if (fc->rel > fc->off)
			return give(out, size, fc->hold + fc->off, fc->rel - fc->off, &fc->off);
		if (fc->refused) {
			if (fc->tail_off == fc->tail_len)
				return GNUTLS_E_AGAIN;
			return give(out, size, fc->tail + fc->tail_off, fc->tail_len - fc->tail_off,
				    &fc->tail_off);
		}
		if (fc->scan < fc->len) {
			scan(fc);
			continue;
		}
		n = fill(fc, session);
		if (n <= 0)
			return n;
	}
}

/* Interposed over GnuTLS's: see the top of the file. */
ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size)
{
	struct anfu_framing_conn *fc;

	(void)pthread_once(&once, init_once);
	if (!real_recv)
		return GNUTLS_E_INTERNAL_ERROR;
	fc = data_size > 0 ? lookup(session, NULL) : NULL;
	if (!fc)
		return real_recv(session, data, data_size);
	return filter_recv(fc, session, data, data_size);
}

/* Interposed over GnuTLS's: the plaintext GnuTLS buffers plus what is
 * ready here, so MHD reads again for bytes held back. */
size_t gnutls_record_check_pending(gnutls_session_t session)
{
	struct anfu_framing_conn *fc;
	size_t n;

	(void)pthread_once(&once, init_once);
	if (!real_pending)
		return 0;
	fc = lookup(session, NULL);
	if (!fc)
		return real_pending(session);
	if (fc->refused)
		return (fc->rel - fc->off) + (fc->tail_len - fc->tail_off);
	n = real_pending(session);
	return n + (fc->rel - fc->off) + (fc->len - fc->scan);
}
