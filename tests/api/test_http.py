"""HTTP surface of anfud: security headers, the uniform error body, TLS.

req: WEB-HDR-01, WEB-ERR-01, WEB-DIR-01, WEB-SRC-01, WEB-SQL-01, DATA-TX-01
"""
import http.client
import json
import re
import socket
import ssl
import types

import pytest
import requests

SECURITY_HEADERS = {
    "Strict-Transport-Security": re.compile(r"^max-age=\d+; includeSubDomains$"),
    "Content-Security-Policy": re.compile(r"^default-src 'self'; frame-ancestors 'none'; "
                                          r"object-src 'none'; base-uri 'none'$"),
    "X-Content-Type-Options": re.compile(r"^nosniff$"),
    "X-Frame-Options": re.compile(r"^DENY$"),
    "Referrer-Policy": re.compile(r"^no-referrer$"),
    "X-Request-Id": re.compile(r"^req_[0-9A-Za-z]{22}$"),
}


def assert_security_headers(r):
    for name, pat in SECURITY_HEADERS.items():
        assert name in r.headers, "missing %s on %s %s" % (name, r.request.method, r.url)
        assert pat.match(r.headers[name]), (name, r.headers[name])
    assert "Server" not in r.headers
    assert "X-Powered-By" not in r.headers


def assert_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == code
    assert err["request_id"] == r.headers["X-Request-Id"]
    assert isinstance(err["message"], str) and err["message"]
    # No internals: no paths, SQL, errno text, versions.
    for leak in ("/src/", ".c:", "SQLITE", "sqlite", "errno", "libmicrohttpd", "0.1.0"):
        assert leak not in r.text
    assert_security_headers(r)
    return err


def test_healthz_carries_every_security_header(server):
    """req: WEB-HDR-01"""
    r = server.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert_security_headers(r)


def test_request_ids_are_random_and_unique(server):
    """Request ids are 22 base62 characters from the CSPRNG: unique, every
    position varies, consecutive ids share no prefix, and together they use
    the whole alphabet. A counter or a clock in any encoding fails this
    (its leading or trailing positions barely change)."""
    ids = [server.get("/healthz").headers["X-Request-Id"] for _ in range(64)]
    assert all(re.match(r"^req_[0-9A-Za-z]{22}$", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    bodies = [i[4:] for i in ids]
    # Uniform over 62 symbols, 64 draws give about 40 distinct symbols per
    # position; fewer than 20 has a probability far below 1e-12.
    per_position = [len({b[k] for b in bodies}) for k in range(22)]
    assert min(per_position) >= 20, per_position
    for a, b in zip(bodies, bodies[1:]):
        assert a[:4] != b[:4] and a[-4:] != b[-4:], (a, b)
    assert len(set("".join(bodies))) >= 60


def test_cache_control_no_store_under_api_open_admin(server):
    """req: WEB-HDR-01, WEB-BACK-01"""
    for path in ("/api/v1/nothing", "/open/v1/nothing", "/admin/v1/nothing", "/test/v1/nope"):
        r = server.get(path)
        assert r.headers.get("Cache-Control") == "no-store", path
    assert "no-store" not in server.get("/healthz").headers.get("Cache-Control", "")


def test_unknown_route_is_404_with_uniform_body(server):
    """A route that does not exist and one that exists but is not served
    here (the operator API on the public listener) get the same answer.
    req: WEB-ERR-01, WEB-ERR-02"""
    err = assert_error(server.get("/api/v1/does-not-exist"), 404, "not_found")
    assert "does-not-exist" not in err["message"]
    hidden = assert_error(server.get("/admin/v1/users"), 404, "not_found")
    assert hidden["message"] == err["message"]


def test_source_backup_and_vcs_files_are_never_served(server):
    """req: WEB-SRC-01, WEB-DIR-01"""
    for path in ("/.git/config", "/src/daemon/main.c", "/anfu.conf", "/anfu.db",
                 "/keys/master.key", "/backup.bak", "/.env", "/", "/api/", "/tls/"):
        r = server.get(path)
        assert r.status_code == 404, path
        assert "BEGIN" not in r.text and "[server]" not in r.text


def test_wrong_method_is_405_with_allow(server):
    """req: WEB-ERR-01"""
    r = server.request("DELETE", "/healthz")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]


class Answer:
    """What assert_error needs of an answer read with http.client."""

    def __init__(self, resp, method, url):
        self.status_code = resp.status
        self.headers = requests.structures.CaseInsensitiveDict(resp.getheaders())
        self.text = resp.read().decode("utf-8", "replace")
        self.request = types.SimpleNamespace(method=method)
        self.url = url

    def json(self):
        return json.loads(self.text)


def test_body_too_large_is_413(server):
    """The head declares a body over the limit: the 413 comes before any of
    it. The test reads it before sending the body: a client still sending
    when the server closes may get a reset instead of the answer.
    req: WEB-DOS-01"""
    ctx = ssl.create_default_context(cafile=server.cert)
    c = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=30)
    c.putrequest("POST", "/test/v1/clock")
    c.putheader("Content-Type", "application/json")
    c.putheader("Content-Length", str(70 * 1024 + 28))
    c.endheaders()
    r = Answer(c.getresponse(), "POST", server.url("/test/v1/clock"))
    c.close()
    assert_error(r, 413, "payload_too_large")


def test_wrong_content_type_is_415(server):
    """req: WEB-SQL-01"""
    r = server.post("/test/v1/clock", data="advance_ms=1",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("body,code,field", [
    (b'{"advance_ms": ', "invalid_json", None),
    (b'[1, 2]', "invalid_json", None),
    (b'{"freeze": true, "freeze": false}', "invalid_json", None),
    (b'{"freeze": "\xff\xfe"}', "invalid_utf8", None),
    (b'{"password": "x"}', "unknown_field", "password"),
    (b'{"advance_ms": "soon"}', "invalid_field", "advance_ms"),
    (b'{"advance_ms": 99999999999999999}', "field_out_of_range", "advance_ms"),
    (b'{"freeze": ' + b'[' * 40 + b']' * 40 + b'}', "json_too_deep", None),
])
def test_bad_json_is_400_naming_the_field(server, body, code, field):
    """req: WEB-SQL-01, WEB-ERR-01"""
    r = server.post("/test/v1/clock", data=body, headers={"Content-Type": "application/json"})
    err = assert_error(r, 400, code)
    if field:
        assert err["field"] == field
        assert field in err["message"]


def test_error_messages_follow_accept_language(server):
    """User-facing text exists in Simplified Chinese and English."""
    en = server.get("/api/v1/nope", headers={"Accept-Language": "en-US"}).json()["error"]
    zh = server.get("/api/v1/nope", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()["error"]
    assert en["code"] == zh["code"] == "not_found"
    assert en["message"] != zh["message"]
    assert re.search(r"[\u4e00-\u9fff]", zh["message"])


def tls_connect(server, version, admin=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(server.cert)
    # Security level 0 lets this client offer TLS 1.0/1.1 and old suites, so a
    # refusal comes from the server and not from the client's own policy.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    port = server.admin_port if admin else server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.version(), t.cipher()


# The AEAD suites of the TLS priority string (docs/security.md, Transport).
AEAD = ("AES_256_GCM", "AES256-GCM", "AES_128_GCM", "AES128-GCM", "CHACHA20_POLY1305",
        "CHACHA20-POLY1305")


@pytest.mark.parametrize("admin", [False, True], ids=["public", "admin"])
@pytest.mark.parametrize("version,name", [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                          (ssl.TLSVersion.TLSv1_3, "TLSv1.3")])
def test_tls_12_and_13_are_accepted_with_aead_suites(server, version, name, admin):
    """Both listeners, the operators' included; the suite is AEAD with a key
    of at least 128 bits. req: DATA-TX-01, DATA-TX-02, IAM-ADM-04"""
    got, cipher = tls_connect(server, version, admin)
    assert got == name
    assert any(a in cipher[0] for a in AEAD) and cipher[2] >= 128, cipher


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("admin", [False, True], ids=["public", "admin"])
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_10_and_11_are_refused(server, version, admin):
    """The server ends the handshake: a TLS error, not a timeout.
    req: DATA-TX-01, IAM-ADM-04"""
    with pytest.raises(ssl.SSLError):
        tls_connect(server, version, admin)


def test_cbc_and_non_forward_secret_suites_are_refused(server):
    """CBC suites, RSA key exchange and 3DES are refused. req: DATA-TX-01, DATA-TX-02"""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(server.cert)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("AES128-SHA:AES256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
                    ":DES-CBC3-SHA:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(s, server_hostname="localhost")


def test_plain_http_gets_no_http_answer(server):
    """No plain-HTTP service: the server closes the connection at once
    without an HTTP answer (a timeout is a failure, not a refusal).
    req: DATA-TX-01"""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
    assert data == b""


def test_admin_listener_serves_health_but_not_public_api(server):
    """req: IAM-ADM-02"""
    r = server.get("/healthz", admin=True)
    assert r.status_code == 200
    assert_security_headers(r)
    assert server.get("/test/v1/sleep?ms=1", admin=True).status_code == 404
