"""Named limits: slow clients, bursts, overload, connections.

req: WEB-DOS-01, WEB-CONC-01, WEB-CONC-03, WEB-CONC-04
"""
import json
import select
import socket
import ssl
import threading
import time

import requests


def tls_socket(server):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(server.cert)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    return ctx.wrap_socket(s, server_hostname="localhost")


def wait_closed(sock, limit):
    """Seconds until the server closes sock (reads return b'' or fail)."""
    start = time.time()
    sock.settimeout(0.5)
    while time.time() - start < limit:
        try:
            if sock.recv(1024) == b"":
                return time.time() - start
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            return time.time() - start
    return None


def test_idle_client_is_cut_off(make_server):
    """A client that sends nothing is disconnected by conn_timeout: the other
    deadline that could cut it (header_timeout, 300 s) lies beyond the wait,
    so a close within the wait can only be the idle rule. No timing is
    asserted; the wait is a bound. req: WEB-CONC-04, WEB-DOS-01"""
    s = make_server({"limits": {"conn_timeout": "2", "header_timeout": "300"}})
    sock = tls_socket(s)
    took = wait_closed(sock, 120)
    sock.close()
    assert took is not None, "an idle connection was never closed"


def test_slow_header_drip_is_cut_off(make_server):
    """A client that keeps dripping header bytes (never idle, so conn_timeout
    never fires; it is 600 s anyway) is cut off at the 2 s header deadline,
    the only rule left that can end it within the wait. No timing is
    asserted; the wait is a bound. req: WEB-DOS-01"""
    s = make_server({"limits": {"conn_timeout": "600", "header_timeout": "2"}})
    sock = tls_socket(s)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    start = time.time()
    closed = False
    got = b""
    # Cut by the deadline, the connection just ends; a refusal (too many
    # header fields, say) would answer first, so nothing may have arrived.
    while time.time() - start < 120:
        try:
            sock.sendall(b"X-Drip: a\r\n")
        except (ssl.SSLError, OSError):
            closed = True
            break
        sock.settimeout(0.5)
        try:
            data = sock.recv(1024)
            if data == b"":
                closed = True
                break
            got += data
        except socket.timeout:
            pass
        except (ssl.SSLError, OSError):
            closed = True
            break
    sock.close()
    assert closed, "a dripping client was never cut off"
    assert got == b"", "the drip was answered, not cut at the deadline: %r" % got[:200]
    # The server still serves others.
    assert s.get("/healthz").status_code == 200


def test_burst_gets_429_with_retry_after(make_server):
    """req: WEB-DOS-01, WEB-CONC-03"""
    # One token a second: 40 requests need 30 s to pass without a 429,
    # however slow a loaded machine makes them.
    s = make_server({"limits": {"rate_per_ip": "1", "rate_burst": "10"}})
    codes = []
    retry = None
    for _ in range(40):
        r = s.get("/healthz")
        codes.append(r.status_code)
        if r.status_code == 429:
            retry = r
    assert codes.count(200) >= 10
    assert 429 in codes
    assert int(retry.headers["Retry-After"]) >= 1
    assert retry.json()["error"]["code"] == "too_many_requests"


def test_overload_answers_503_instead_of_queueing(make_server):
    """req: WEB-DOS-01, WEB-CONC-01"""
    s = make_server({"limits": {"concurrent_requests": "1"}})
    holder = {}

    def slow():
        holder["r"] = s.get("/test/v1/sleep?ms=2000")

    t = threading.Thread(target=slow)
    t.start()
    s.wait_log('"event":"test.sleep"')  # in flight
    r = s.get("/healthz")
    t.join()
    assert holder["r"].status_code == 200
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "overloaded"
    assert r.headers.get("Retry-After") == "1"


def test_connections_per_ip_are_capped(make_server):
    """A third connection from one address is closed during its handshake
    (a timeout would be a failure, not a refusal); the two held ones still
    work. req: WEB-CONC-01, WEB-DOS-01"""
    s = make_server({"limits": {"connections_per_ip": "2", "conn_timeout": "10"}})
    held = [tls_socket(s), tls_socket(s)]
    try:
        try:
            extra = tls_socket(s)
        except socket.timeout:
            raise AssertionError("the third connection timed out instead of being refused")
        except (ssl.SSLError, ConnectionResetError):
            extra = None
        else:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            extra.settimeout(5)
            assert extra.recv(100) == b"", "the third connection was served"
            extra.close()
        held[0].settimeout(5)
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert held[0].recv(100).startswith(b"HTTP/1.1 200")
    finally:
        for h in held:
            h.close()


def send_then_read(server, data, chunk=4096):
    """Sends data on a fresh TLS connection in chunks, stopping as soon as
    the server has answered (or refuses more), then reads until it closes.
    Returns the raw bytes received. A server that refuses a head before it
    was all sent answers and closes with the rest unread; a client that
    only reads after writing everything may then meet the reset first (the
    answer that arrived before it is still queued, but a failed TLS write
    ends the client's session), so this client looks for the answer
    between chunks."""
    t = tls_socket(server)
    out = b""
    try:
        sent = 0
        while sent < len(data):
            readable, _, _ = select.select([t], [], [], 0)
            if readable or t.pending():
                break
            try:
                sent += t.send(data[sent:sent + chunk])
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                break
        t.settimeout(15)
        while True:
            try:
                got = t.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                break
            if not got:
                break
            out += got
    finally:
        t.close()
    return out


def test_oversized_headers_are_refused(server):
    """Heads over limits.header_bytes get our 431 headers_too_large, also
    heads beyond libmicrohttpd's connection memory, which the framing
    filter refuses before MHD sees them (so MHD's own HTML 431 never
    shows). req: WEB-DOS-01"""
    r = server.get("/healthz", headers={"X-Big": "a" * 20000})
    assert r.status_code == 431 and r.json()["error"]["code"] == "headers_too_large"
    raw = send_then_read(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
                         + b"a" * 70000 + b"\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 431 "), raw[:200]
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"]["code"] == "headers_too_large"
