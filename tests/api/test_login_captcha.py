"""The captcha's same-origin image (GET /api/v1/captcha/{id}/image and the
admin twin) and what the login page needs of it: the page can show a
captcha under the CSP's img-src 'self' (docs/web.md, docs/iam.md
"Captcha"). Both backends.

req: IAM-CAP-01, IAM-CAP-02
"""
import base64
import re

import pytest

from iam import GOOD_PASSWORD, Client, register

WRONG_ANSWER = "00000"  # 0 is not in the captcha alphabet: never right


def err(r):
    return r.json()["error"]["code"]


def made(c):
    """A login captcha on c's listener: (id, its JSON answer)."""
    r = c.post(c.p("/captcha"), {"purpose": "login"}, csrf=False)
    assert r.status_code == 201, r.text
    return r.json()["captcha_id"], r.json()


def row(s, cid):
    return s.query("SELECT used_ms, image IS NULL AS gone FROM iam_captcha WHERE id = ?",
                   cid)[0]


def png_of(j):
    prefix = "data:image/png;base64,"
    assert j["image"].startswith(prefix)
    return base64.b64decode(j["image"][len(prefix):])


def assert_not_found(r):
    assert r.status_code == 404, r.text
    assert err(r) == "not_found" and r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("admin", [False, True], ids=["main", "admin"])
def test_image_url_serves_the_same_png_while_live(server, admin):
    """image_url names this origin's route; it answers the PNG of the data
    URI, no-store, as often as asked, without using the captcha up.
    req: IAM-CAP-02, WEB-BACK-01"""
    c = Client(server, admin=admin)
    cid, j = made(c)
    pfx = "/admin" if admin else "/api"
    assert j["image_url"] == "%s/v1/captcha/%s/image" % (pfx, cid)
    for _ in range(2):
        r = server.get(j["image_url"], admin=admin)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == "image/png"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.content == png_of(j) and r.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert row(server, cid) == {"used_ms": None, "gone": 0}


def test_an_attempt_ends_the_image(server):
    """The first attempt (here a wrong answer) uses the captcha up: its image
    is 404 and no longer kept. req: IAM-CAP-02"""
    _, phone = register(server)
    c = Client(server)
    cid, j = made(c)
    assert server.get(j["image_url"]).status_code == 200
    r = c.post("/api/v1/auth/login", {"login": phone, "password": GOOD_PASSWORD,
                                      "captcha_id": cid, "captcha_answer": WRONG_ANSWER})
    assert r.status_code == 400 and err(r) == "captcha_invalid", r.text
    assert_not_found(server.get(j["image_url"]))
    rw = row(server, cid)
    assert rw["used_ms"] is not None and rw["gone"] == 1


def test_looking_at_the_image_leaves_the_captcha_usable(server):
    """Fetching the image is not an attempt: the captcha still passes a
    login afterwards. req: IAM-CAP-01"""
    _, phone = register(server)
    c = Client(server)
    cid, j = made(c)
    assert server.get(j["image_url"]).status_code == 200
    ans = server.get("/test/v1/captcha/" + cid).json()["answer"]
    r = c.post("/api/v1/auth/login", {"login": phone, "password": GOOD_PASSWORD,
                                      "captcha_id": cid, "captcha_answer": ans})
    assert r.status_code == 200, r.text


def test_image_ends_at_expiry_not_a_millisecond_before(make_server):
    """Shown at 1:59.999, 404 at 2:00 (captcha.ttl); the row is unchanged by
    looking. req: IAM-CAP-02"""
    s = make_server()
    s.clock(freeze=True)
    c = Client(s)
    cid, j = made(c)
    s.clock(advance_ms=119_999)
    assert s.get(j["image_url"]).status_code == 200
    s.clock(advance_ms=1)
    assert_not_found(s.get(j["image_url"]))
    assert row(s, cid) == {"used_ms": None, "gone": 0}


def test_image_only_on_the_listener_it_was_made_for(server):
    """A main-listener captcha's image is not on the admin listener and the
    other way round (same 404 as an unknown id). req: IAM-CAP-01"""
    main_id, _ = made(Client(server))
    adm_id, _ = made(Client(server, admin=True))
    assert_not_found(server.get("/admin/v1/captcha/%s/image" % main_id, admin=True))
    assert_not_found(server.get("/api/v1/captcha/%s/image" % adm_id))
    assert row(server, main_id)["used_ms"] is None and row(server, adm_id)["used_ms"] is None


@pytest.mark.parametrize("cid", ["cap_0000000000000000000000", "cap_x", "ses_abc",
                                 "%27%20OR%201%3D1--", "x" * 200])
def test_unknown_or_malformed_ids_are_one_404(server, cid):
    """Unknown and malformed ids get the answer of a used or expired one:
    nothing tells a guesser which ids exist. req: IAM-CAP-02"""
    r = server.get("/api/v1/captcha/%s/image" % cid)
    assert_not_found(r)
    assert r.json()["error"]["message"]


# ---- the login page ------------------------------------------------------------

def body_attr(html, name):
    m = re.search(r'<body[^>]* %s="([^"]*)"' % re.escape(name), html)
    assert m, html[:800]
    return m.group(1)


@pytest.mark.parametrize("lang,label,refresh", [("en", "Characters in the image",
                                                  "Another image"),
                                                 ("zh", "图形验证码", "换一张")])
def test_login_page_shows_captcha_at_once_by_default(server, lang, label, refresh):
    """With the default [captcha] mode = always the page's script shows a
    captcha before the first attempt (data-captcha="always"); the captcha
    box (image, refresh button, answer field) is in the page in both
    languages, with the texts for captcha_required / captcha_invalid.
    req: IAM-CAP-01"""
    r = server.get("/login?lang=" + lang)
    assert r.status_code == 200
    html = r.text
    assert body_attr(html, "data-captcha") == "always"
    assert body_attr(html, "data-captcha-required") and body_attr(html, "data-captcha-invalid")
    assert '<div id="captcha-box" class="captcha hidden">' in html
    assert '<label for="captcha-answer">%s</label>' % label in html
    assert '<button type="button" id="captcha-refresh">%s</button>' % refresh in html
    assert '<img id="captcha-img"' in html and "data:" not in html


@pytest.mark.parametrize("cfg,mode", [({"mode": "after_failures", "after_failures": "1"},
                                       "on_demand"),
                                      ({"mode": "after_failures", "after_failures": "0"},
                                       "always")])
def test_login_page_captcha_mode_follows_the_config(make_server, cfg, mode):
    """after_failures with 1 failure: the page waits for captcha_required;
    with 0 every login needs one, so the page shows it at once.
    req: IAM-CAP-01"""
    s = make_server(config={"captcha": cfg})
    assert body_attr(s.get("/login").text, "data-captcha") == mode
