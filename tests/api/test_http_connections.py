"""Connection admission: the TLS handshake deadline, per-network caps, the
share held back for established connections and the eviction of the oldest
connection still in its handshake; and the key-exchange groups TLS offers.

Loopback lets one test use many source addresses: 127.0.k.1 (k = 1..17) are
17 different /24 networks, 127.0.1.k share one. Tests wait for the server to
have seen their connections (the admin listener's /metrics, which has its
own connection pool) instead of sleeping; deadlines that matter are set to a
second or two, those that must not interfere to a minute.

req: WEB-DOS-01, WEB-CONC-01, WEB-CONC-03, WEB-CONC-04
"""
import re
import socket
import ssl
import subprocess
import time

import pytest
import requests

MINUTE = "60"


def tcp(server, src="127.0.0.1"):
    """A plain TCP connection to the main listener from source address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", server.port))
    return s


def tls_context(server, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(server.cert)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def tls(server, src="127.0.0.1", version=None):
    """A TLS connection (handshake done on the client side) from src."""
    return tls_context(server, version).wrap_socket(tcp(server, src),
                                                     server_hostname="localhost")


def get_healthz(sock):
    """Sends GET /healthz on a kept-alive TLS connection; returns the status."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return int(head.split(b" ", 2)[1])


def served_over(sock, server):
    """True when a TLS handshake and GET /healthz succeed on sock."""
    try:
        t = tls_context(server).wrap_socket(sock, server_hostname="localhost")
        return get_healthz(t) == 200
    except (OSError, ssl.SSLError, ConnectionError):
        return False


def closed_by_server(sock, limit):
    """True when the server closes sock within limit seconds (a safety bound:
    the deadlines under test are far shorter, the others far longer)."""
    sock.settimeout(limit)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def metrics(server):
    """{'name{labels}': value} of the connection metrics (admin listener)."""
    out = {}
    for line in server.get("/metrics", admin=True).text.splitlines():
        if line.startswith("anfu_http_conn") or line.startswith("anfu_http_reaped"):
            key, value = line.rsplit(" ", 1)
            out[key] = int(value)
    return out


def m(name, **labels):
    return "%s{%s}" % (name, ",".join('%s="%s"' % kv for kv in labels.items()))


ACCEPTED = m("anfu_http_connections_accepted_total", listener="main")
HANDSHAKING = m("anfu_http_connections", listener="main", state="handshake")
ESTABLISHED = m("anfu_http_connections", listener="main", state="established")
EVICTED = m("anfu_http_connections_evicted_total", listener="main")
REFUSED_NET = m("anfu_http_connections_refused_total", listener="main", reason="network")


def wait_metrics(server, pred, what, limit=60):
    """Polls the metrics until pred(metrics) holds; returns them."""
    deadline = time.time() + limit
    while True:
        got = metrics(server)
        if pred(got):
            return got
        if time.time() > deadline:
            raise AssertionError("server never reached: %s; metrics %s" % (what, got))
        time.sleep(0.05)


def test_idle_tcp_flood_from_17_networks_keeps_no_client_out(make_server):
    """17 networks hold as many plain TCP connections as they may and send
    nothing; limits.connections is 32. A client opening a new connection for
    each of 20 requests is served every time, even after each round of fresh
    idle connections; connections still in the handshake never hold more
    than limits.connections minus the reserve (24); a kept-alive session
    opened before the flood survives it. req: WEB-DOS-01, WEB-CONC-01"""
    s = make_server({"limits": {
        "connections": "32", "connections_reserved": "25", "connections_per_ip": "100",
        "connections_per_network": "6", "handshake_timeout": MINUTE,
        "header_timeout": MINUTE, "conn_timeout": MINUTE}})
    session = tls(s)
    assert get_healthz(session) == 200
    flood, opened = [], 1
    for k in range(1, 18):
        for _ in range(8):
            flood.append(tcp(s, "127.0.%d.1" % k))
            opened += 1
    flooded = wait_metrics(s, lambda g: g.get(ACCEPTED, 0) >= opened, "the flood accepted")
    served = 0
    for _ in range(20):
        for k in range(1, 18):
            flood.append(tcp(s, "127.0.%d.1" % k))
            opened += 1
        wait_metrics(s, lambda g: g.get(ACCEPTED, 0) >= opened, "the new idle ones accepted")
        r = requests.get(s.url("/healthz"), verify=s.cert, timeout=30,
                         headers={"Connection": "close"})
        opened += 1
        assert r.status_code == 200
        served += 1
    assert served == 20
    assert get_healthz(session) == 200
    # The flood filled the handshaking share exactly, by evicting its own.
    assert flooded[HANDSHAKING] == 24
    assert flooded[ESTABLISHED] == 1
    assert flooded[EVICTED] > 0
    # The last client took one idle connection's place, then finished its
    # handshake: one slot of the share is free until the next newcomer.
    assert metrics(s)[HANDSHAKING] == 23
    session.close()
    for f in flood:
        f.close()


def test_one_network_holds_at_most_its_cap(make_server):
    """Ten addresses of one /24 open a connection each; with
    limits.connections_per_network = 4 only four are kept and served, the six
    others are closed at once, while another /24 is unaffected. Once the four
    are gone, the network may connect again. req: WEB-CONC-03, WEB-DOS-01"""
    s = make_server({"limits": {
        "connections": "64", "connections_per_network": "4", "connections_per_ip": "100",
        "handshake_timeout": MINUTE, "header_timeout": MINUTE, "conn_timeout": MINUTE}})
    same = [tcp(s, "127.0.1.%d" % k) for k in range(1, 11)]
    other = tcp(s, "127.0.2.1")
    got = wait_metrics(s, lambda g: g.get(ACCEPTED, 0) >= 11, "eleven connections accepted")
    assert got[REFUSED_NET] == 6
    assert got[HANDSHAKING] == 5
    assert [served_over(c, s) for c in same].count(True) == 4
    assert served_over(other, s)
    for c in same + [other]:
        c.close()
    wait_metrics(s, lambda g: g[HANDSHAKING] + g[ESTABLISHED] == 0, "every connection closed")
    assert served_over(tcp(s, "127.0.1.11"), s)
    assert metrics(s)[REFUSED_NET] == 6


def test_connection_without_tls_handshake_is_cut_at_the_handshake_deadline(make_server):
    """A TCP connection that never starts TLS is closed once
    limits.handshake_timeout (1 s) has passed, though the idle and head
    timeouts (a minute) have not. req: WEB-DOS-01, WEB-CONC-04"""
    s = make_server({"limits": {"handshake_timeout": "1", "header_timeout": MINUTE,
                                "conn_timeout": MINUTE}})
    raw = tcp(s)
    assert closed_by_server(raw, 30)
    raw.close()
    assert metrics(s)["anfu_http_reaped_total"] >= 1


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_established_connection_outlives_the_handshake_deadline(make_server, version):
    """A connection whose handshake finished is not cut at the handshake
    deadline: a plain TCP connection opened after it is cut at its own
    deadline (so the established one's has passed too, in the same or an
    earlier pass of the reaper), and the established connection still serves
    its first request. req: WEB-DOS-01, WEB-CONC-04"""
    s = make_server({"limits": {"handshake_timeout": "3", "header_timeout": MINUTE,
                                "conn_timeout": MINUTE}})
    est = tls(s, version=version)
    wait_metrics(s, lambda g: g[ESTABLISHED] == 1, "the handshake seen")
    raw = tcp(s)
    assert closed_by_server(raw, 30)
    raw.close()
    assert get_healthz(est) == 200
    est.close()


def s_client(server, version, group):
    """openssl s_client with one key-exchange group offered; returns
    (handshake succeeded, the 'Server Temp Key' line)."""
    p = subprocess.run(["openssl", "s_client", "-brief", "-connect",
                        "127.0.0.1:%d" % server.port, version, "-groups", group,
                        "-CAfile", server.cert, "-verify_return_error"],
                       input="", capture_output=True, text=True, timeout=60)
    key = [l for l in (p.stdout + p.stderr).splitlines() if "Server Temp Key" in l]
    return p.returncode == 0, key[0] if key else ""


FFDHE = ["ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"]


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_finite_field_dh_groups_are_refused(server, version):
    """Only elliptic-curve groups: a client offering nothing but an ffdhe
    group gets no handshake. req: DATA-TX-01"""
    for group in FFDHE:
        ok, key = s_client(server, version, group)
        assert not ok, (version, group, key)


@pytest.mark.parametrize("version,group,shown", [
    ("-tls1_3", "X25519", "X25519"),
    ("-tls1_3", "P-256", "prime256v1"),
    ("-tls1_3", "P-384", "secp384r1"),
    ("-tls1_3", "P-521", "secp521r1"),
    ("-tls1_2", "P-256", "prime256v1"),
])
def test_elliptic_curve_groups_are_accepted(server, version, group, shown):
    """req: DATA-TX-01"""
    ok, key = s_client(server, version, group)
    assert ok and shown in key, (version, group, key)


def test_gm_profile_offers_the_same_groups(make_server):
    """crypto = gm keeps international TLS, with the same groups.
    req: DATA-TX-01"""
    s = make_server(crypto="gm")
    assert s_client(s, "-tls1_3", "X25519")[0]
    assert not s_client(s, "-tls1_3", "ffdhe2048")[0]
