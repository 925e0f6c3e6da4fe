"""The web module (src/web/, docs/web.md): static assets by content hash,
the login and account pages (languages, security headers, the ?next= rule),
the anti-phishing reserved message (GET/PUT /api/v1/me/reserved-message)
and the shuffled keypad's check route, through the real anfud. The browser
side is tests/api/test_web_browser.py."""
import html
import json
import re

import pytest

from iam import THIRD_PASSWORD, login_customer, register
from test_iam_admin import merchant_first_login, staffed  # noqa: F401
from test_iam_self import err, stepped_up

PIN = "583016"
RESERVED = "/api/v1/me/reserved-message"


def page(s, path, lang=None, client=None):
    headers = {"Accept-Language": lang} if lang else {}
    if client:
        return client.get(path, headers=headers, allow_redirects=False)
    return s.get(path, headers=headers, allow_redirects=False)


def data_attr(text, name):
    m = re.search(r' data-%s="([^"]*)"' % name, text)
    assert m, name
    return html.unescape(m.group(1))


def keypad(text):
    """(keypad id, layout) of the keypad on a page: layout[i] is the digit
    on the key at position i."""
    kid = data_attr(text, "keypad")
    keys = dict(re.findall(r'<button type="button" data-pos="(\d)">(\d)</button>', text))
    return kid, "".join(keys[str(i)] for i in range(10))


def positions_for(layout, pin):
    return "".join(str(layout.index(d)) for d in pin)


@pytest.fixture(scope="module")
def cust(tmp_path_factory):
    """A server of its own (the clock moves) and a stepped-up customer
    with payment password PIN."""
    from conftest import SHARED_CONFIG, Server
    s = Server(tmp_path_factory.mktemp("web"), config=SHARED_CONFIG).start()
    _, phone = register(s)
    c = stepped_up(s, phone, "web-dev")
    assert c.post("/api/v1/me/payment-password", {"pin": PIN}).status_code == 204
    uid = c.get("/api/v1/me").json()["user"]["id"]
    yield s, c, uid
    s.stop()


def test_assets_are_served_by_content_hash_with_long_caching(server):
    """Every script and stylesheet a page names is served, with its content
    type and a year of immutable caching; the same name without the hash,
    another hash, or anything else under /static/ is not found (there is no
    directory behind it). req: WEB-DIR-01, WEB-SRC-01"""
    text = page(server, "/login").text
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', text)
    assert len(urls) == 3, urls  # web.css, keypad.js, login.js
    types = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
    for u in urls:
        m = re.fullmatch(r"/static/([a-z]+)\.([0-9a-f]{16})\.(js|css)", u)
        assert m, u
        r = server.get(u)
        assert r.status_code == 200 and r.headers["Content-Type"] == types[m.group(3)]
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        import hashlib
        assert hashlib.sha256(r.content).hexdigest()[:16] == m.group(2)
        for bad in ("/static/%s.%s" % (m.group(1), m.group(3)),
                    "/static/%s.%s.%s" % (m.group(1), "0" * 16, m.group(3))):
            r = server.get(bad)
            assert r.status_code == 404 and err(r) == "not_found", bad
    for bad in ("/static/", "/static/web.c", "/static/.git", "/static/..%2Fmeson.build"):
        assert server.get(bad).status_code in (400, 404), bad


def test_pages_carry_the_security_headers_and_no_inline_script(server):
    """The CSP of every response (no inline script or style), no-store on
    pages, and nothing inline in the page. req: WEB-HDR-01, WEB-XSS-01"""
    r = page(server, "/login")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "<style" not in r.text and " style=" not in r.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
    assert not re.search(r"\son[a-z]+=", r.text)


def test_login_page_in_both_languages_with_a_switch(server):
    """Accept-Language, then ?lang=, picks the language; the switch link
    goes to the other one and keeps ?next=."""
    zh = page(server, "/login", lang="zh-CN").text
    en = page(server, "/login?lang=en&next=/account%3Fx%3D1", lang="zh-CN").text
    assert '<html lang="zh-CN">' in zh and "<h1>登录</h1>" in zh
    assert data_attr(zh, "failed") == "登录名或密码错误。"
    assert '<html lang="en">' in en and "<h1>Sign in</h1>" in en
    assert data_attr(en, "failed") == "Wrong login name or password."
    assert 'href="/login?lang=zh&amp;next=%2Faccount%3Fx%3D1"' in en
    assert 'href="/login?lang=en"' in zh
    assert page(server, "/login", lang="en").text.count("<h1>Sign in</h1>") == 1


@pytest.mark.parametrize("nxt", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "evil", "/\r\nLocation:x", "/a b", "/" + "a" * 600, "",
])
def test_login_next_takes_local_paths_only(server, nxt):
    """Anything but a local path becomes /account: no open redirect.
    req: WEB-REDIR-01"""
    import urllib.parse
    text = page(server, "/login?next=" + urllib.parse.quote(nxt, safe="")).text
    assert data_attr(text, "next") == "/account"


def test_login_next_is_kept_and_escaped(server):
    """A local path is kept, written escaped into the attribute.
    req: WEB-XSS-01, WEB-REDIR-01"""
    import urllib.parse
    nxt = '/pay/x"><script>alert(1)</script>'
    text = page(server, "/login?next=" + urllib.parse.quote(nxt, safe="")).text
    assert data_attr(text, "next") == nxt
    assert "<script>alert" not in text


def test_account_page_without_a_session_goes_to_login(server):
    r = page(server, "/account?lang=en")
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=%2Faccount&lang=en"
    assert r.headers["Cache-Control"] == "no-store"
    r = server.get("/account", allow_redirects=False, cookies={"anfu_session": "x" * 64})
    assert r.status_code == 303


def test_reserved_message_set_read_and_shown_escaped(cust):
    """The customer sets the message (audited with its length, not the
    text), reads it back, and the account page shows it escaped.
    req: WEB-PHISH-01, WEB-XSS-01"""
    s, c, uid = cust
    before = len(s.audit("user.reserved_message_set"))
    msg = "<b>蓝色</b> & 'cat'"
    r = c.req("PUT", RESERVED, {"message": msg})
    assert r.status_code == 200 and r.json() == {"message": msg}, r.text
    assert c.get(RESERVED).json() == {"message": msg}
    assert s.query("SELECT reserved_message FROM iam_user WHERE id = ?", uid) == \
        [{"reserved_message": msg}]
    recs = s.audit("user.reserved_message_set")
    assert len(recs) == before + 1 and recs[-1]["actor_id"] == uid
    assert json.loads(recs[-1]["details"]) == {"chars": len(msg)}
    text = page(s, "/account", client=c).text
    assert '<p id="reserved-current" class="reserved">&lt;b&gt;蓝色&lt;/b&gt; &amp; ' \
        '&#39;cat&#39;</p>' in text
    assert "<b>蓝色" not in text


@pytest.mark.parametrize("bad", [
    {"message": "字" * 33}, {"message": "a" * 129}, {"message": "line\nbreak"},
    {"message": "zero\u200bwidth"}, {"message": 5}, {}, {"message": "ok", "x": 1},
])
def test_reserved_message_refusals_change_nothing(cust, bad):
    """Too long (33 characters, or over 128 bytes), control or format
    characters: reserved_message_invalid; a wrong body: the decoder's code.
    Nothing changes, nothing is audited. req: WEB-PHISH-01, WEB-SQL-01"""
    s, c, uid = cust
    assert c.req("PUT", RESERVED, {"message": "before"}).status_code == 200
    audits = len(s.audit())
    r = c.req("PUT", RESERVED, bad)
    assert r.status_code == 400, r.text
    if "x" in bad:
        assert err(r) == "unknown_field"
    elif isinstance(bad.get("message"), str):
        assert err(r) == "reserved_message_invalid" and r.json()["error"]["field"] == "message"
    assert c.get(RESERVED).json() == {"message": "before"}
    assert len(s.audit()) == audits


def test_reserved_message_boundaries(cust):
    """32 characters is the limit; "" clears. req: WEB-PHISH-01"""
    s, c, _ = cust
    assert c.req("PUT", RESERVED, {"message": "字" * 32}).status_code == 200
    assert c.req("PUT", RESERVED, {"message": ""}).json() == {"message": ""}
    assert '<p id="reserved-current" class="reserved">(not set)</p>' in \
        page(s, "/account?lang=en", client=c).text


def test_reserved_message_needs_a_session_and_csrf(cust):
    s, c, _ = cust
    assert s.get(RESERVED).status_code == 401
    r = c.req("PUT", RESERVED, {"message": "x"}, csrf=False)
    assert r.status_code == 403


def test_merchant_users_have_no_reserved_message_or_keypad(staffed):  # noqa: F811
    """Role classes: a merchant user may not read or set one (customers'
    only), and its account page shows no keypad. req: IAM-RBAC-04"""
    s, admin, *_ = staffed
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "webshop",
                                       "merchant_id": "mch_web", "role": "merchant_admin",
                                       "email": "webshop@example.test"})
    assert r.status_code == 201, r.text
    shop = merchant_first_login(s, "webshop", "webshop@example.test", THIRD_PASSWORD, "w-pc")
    r = shop.get(RESERVED)
    assert r.status_code == 403 and err(r) == "forbidden"
    r = shop.req("PUT", RESERVED, {"message": "x"})
    assert r.status_code == 403 and err(r) == "forbidden"
    text = page(s, "/account", client=shop).text
    assert "keypad-box" not in text and 'id="logout"' in text
    assert s.query("SELECT count(*) AS n FROM web_keypad")[0]["n"] == 0


def test_keypad_layouts_are_shuffled_per_display(cust):
    """Each display has its own random permutation of 0-9, stored for its
    user. Eight displays all alike would happen by chance with probability
    (1/10!)^7. req: WEB-KBD-01"""
    s, c, uid = cust
    seen = []
    for _ in range(8):
        kid, layout = keypad(page(s, "/account", client=c).text)
        assert sorted(layout) == list("0123456789")
        row = s.query("SELECT user_id, layout, used FROM web_keypad WHERE id = ?", kid)
        assert row == [{"user_id": uid, "layout": layout, "used": 0}]
        seen.append(layout)
    assert len(set(seen)) > 1


def check(c, kid, positions):
    return c.post("/api/v1/me/keypads/%s/check" % kid, {"positions": positions})


def test_keypad_positions_map_to_the_pin_once(cust):
    """The positions of the PIN's digits on this display check as the
    right PIN; the keypad is then spent (keypad_used). req: WEB-KBD-01"""
    s, c, _ = cust
    kid, layout = keypad(page(s, "/account", client=c).text)
    r = check(c, kid, positions_for(layout, PIN))
    assert r.status_code == 200 and r.json() == {"ok": True}, r.text
    assert s.query("SELECT used FROM web_keypad WHERE id = ?", kid) == [{"used": 1}]
    r = check(c, kid, positions_for(layout, PIN))
    assert r.status_code == 409 and err(r) == "keypad_used"


def test_keypad_the_digits_themselves_are_a_wrong_pin(cust):
    """Sending the digits instead of their positions is a wrong PIN
    (unless the layout happens to map them to themselves). req: WEB-KBD-01"""
    s, c, _ = cust
    kid, layout = keypad(page(s, "/account", client=c).text)
    if positions_for(layout, PIN) == PIN:
        pytest.skip("identity layout for these digits")
    r = check(c, kid, PIN)
    assert r.status_code == 403 and err(r) == "payment_password_invalid"
    # A right entry clears the failure count for the tests after this one.
    kid, layout = keypad(page(s, "/account", client=c).text)
    assert check(c, kid, positions_for(layout, PIN)).status_code == 200


@pytest.mark.parametrize("bad", ["", "12a456", "1" * 17, "١٢٣٤٥٦", None, 123456])
def test_keypad_malformed_positions_change_nothing(cust, bad):
    """keypad_positions_invalid (or the decoder's code for a wrong type);
    the keypad stays usable. req: WEB-KBD-01, WEB-SQL-01"""
    s, c, _ = cust
    kid, layout = keypad(page(s, "/account", client=c).text)
    r = c.post("/api/v1/me/keypads/%s/check" % kid,
               {} if bad is None else {"positions": bad})
    assert r.status_code == 400, r.text
    if isinstance(bad, str):
        assert err(r) == "keypad_positions_invalid"
    assert s.query("SELECT used FROM web_keypad WHERE id = ?", kid) == [{"used": 0}]
    assert check(c, kid, positions_for(layout, PIN)).status_code == 200


def test_keypad_of_another_user_or_unknown_is_not_found(cust):
    """Another customer's keypad is answered as a missing one, and stays
    usable by its owner. req: WEB-KBD-01, WEB-ERR-02"""
    s, c, _ = cust
    kid, layout = keypad(page(s, "/account", client=c).text)
    _, phone = register(s)
    other = login_customer(s, phone, device="web-other")
    r = check(other, kid, positions_for(layout, PIN))
    assert r.status_code == 404 and err(r) == "keypad_not_found"
    r = check(other, "kpd_" + "A" * 22, "123456")
    assert r.status_code == 404
    assert check(c, kid, positions_for(layout, PIN)).status_code == 200


def test_keypad_expires(cust):
    """A keypad older than [web] keypad_ttl_s (default 120 s) is refused:
    at 119.999 s it works, at 120 s it is keypad_expired. req: WEB-KBD-01"""
    s, c, _ = cust
    s.clock(freeze=True)
    try:
        kid1, l1 = keypad(page(s, "/account", client=c).text)
        kid2, l2 = keypad(page(s, "/account", client=c).text)
        s.clock(advance_ms=119_999)
        assert check(c, kid1, positions_for(l1, PIN)).status_code == 200
        s.clock(advance_ms=1)
        r = check(c, kid2, positions_for(l2, PIN))
        assert r.status_code == 409 and err(r) == "keypad_expired"
    finally:
        s.clock(freeze=False)
