/*
 * http/handshake: a new connection's admission (http/conntrack.c) and the
 * moment its TLS handshake finishes.
 *
 * libmicrohttpd performs the TLS handshake itself and tells nobody when it
 * is done. GnuTLS does: a handshake hook on the Finished message, which
 * both sides send exactly once per handshake (TLS 1.2 full or resumed, TLS
 * 1.3). When the second Finished of the connection has been sent or
 * received, the client has completed the key exchange and the connection
 * counts as established (never evicted; its request head is due within the
 * head timeout). A Finished that fails verification aborts the handshake,
 * and MHD then closes the connection anyway.
 *
 * The hook finds its connection through the session pointer, which MHD
 * 0.9.75 sets to its struct MHD_Connection; anfu_http_conn_started() checks
 * that before it relies on it. Should a libmicrohttpd ever set it
 * otherwise, connections are counted as established from the start (the
 * handshake deadline and the eviction then no longer apply) and a warning
 * says so once.
 *
 * Runs on MHD's threads; trusts MHD and GnuTLS, nothing from the network.
 */
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "http/internal.h"

/* Finished messages of one handshake: the server's and the client's. */
#define FINISHED_PER_HANDSHAKE 2

static atomic_bool warned_no_hook;

static struct anfu_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* GnuTLS hook: one Finished message of c's handshake was sent or received. */
static int on_finished(gnutls_session_t session, unsigned int htype, unsigned when,
		       unsigned int incoming, const gnutls_datum_t *msg)
{
	struct MHD_Connection *c = gnutls_session_get_ptr(session);
	struct anfu_conn *conn;

	(void)incoming;
	(void)msg;
	if (htype != GNUTLS_HANDSHAKE_FINISHED || when != GNUTLS_HOOK_POST || !c)
		return 0;
	conn = conn_of(c);
	if (anfu_conntrack_finished(conn) >= FINISHED_PER_HANDSHAKE)
		anfu_conntrack_established(conn, anfu_clock_mono_us());
	return 0;
}

/* Family and raw bytes of the client address of c; family 0 if unknown. */
static const uint8_t *client_addr(struct MHD_Connection *c, int *ret_family)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	*ret_family = 0;
	if (sa && sa->sa_family == AF_INET) {
		*ret_family = AF_INET;
		return (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	}
	if (sa && sa->sa_family == AF_INET6) {
		*ret_family = AF_INET6;
		return (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	}
	return NULL;
}

/* Installs the Finished hook on c's TLS session; false when the session
 * pointer is not what on_finished() expects. */
static bool hook_handshake(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci ? (gnutls_session_t)ci->tls_session : NULL;

	if (!session || gnutls_session_get_ptr(session) != c)
		return false;
	gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
					   on_finished);
	return true;
}

void anfu_http_conn_started(struct http_listener *l, struct MHD_Connection *c,
			    void **socket_context)
{
	struct anfu_http_server *s = l->server;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	int64_t now = anfu_clock_mono_us();
	enum anfu_conntrack_verdict v;
	const uint8_t *addr;
	struct anfu_conn *conn;
	int family;

	if (!ci)
		return;
	addr = client_addr(c, &family);
	conn = anfu_conntrack_add(s->ct, l->admin ? ANFU_CONNTRACK_ADMIN : ANFU_CONNTRACK_MAIN,
				  ci->connect_fd, family, addr,
				  now + s->cfg->limits.handshake_timeout_s * 1000000, &v);
	*socket_context = conn;
	if (v == ANFU_CONN_REFUSED_NET)
		anfu_log_debug("http_conn_refused", "network at limits.connections_per_network");
	else if (v == ANFU_CONN_REFUSED_FULL)
		anfu_log_debug("http_conn_refused", "every connection slot is established");
	else if (v == ANFU_CONN_EVICTED_OTHER)
		anfu_log_debug("http_conn_evicted", "oldest connection still in its TLS "
						    "handshake closed for a new one");
	if (v == ANFU_CONN_REFUSED_NET || v == ANFU_CONN_REFUSED_FULL || hook_handshake(c))
		return;
	if (!atomic_exchange(&warned_no_hook, true))
		anfu_log_warn("http_handshake", "cannot follow TLS handshakes with this "
						"libmicrohttpd: connections count as "
						"established from the start");
	anfu_conntrack_established(conn, now);
}
