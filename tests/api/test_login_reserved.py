"""The login page's first step (WEB-PHISH-01, docs/web.md "The login page"):
POST /api/v1/auth/reserved-message answers the reserved message of the
customer named, and the same bytes for every other name (unknown, not a
customer's, not active, no message), so that it is no oracle for which
names exist; its bad input gets the login route's codes; the lookups of an
address are bounded (ANFU_LIMIT_IAM_RESERVED_LOOKUPS within
lockout.ip_window) and an address throttled for failed logins is refused;
nothing is written. The page itself is tests/api/test_web_browser.py."""
import pytest

from iam import Client, login_customer, new_phone, register
from test_iam_self import err

LOOKUP = "/api/v1/auth/reserved-message"
RESERVED = "/api/v1/me/reserved-message"
MESSAGE = "蓝色的猫 <b>3</b>"
# ANFU_LIMIT_IAM_RESERVED_LOOKUPS (src/base/limits.h) and the default
# lockout.ip_window (600 s).
LOOKUPS = 30
WINDOW_MS = 600_000


def lookup(s, login):
    return s.post(LOOKUP, {"login": login})


def with_message(s, text):
    """A customer who set text as reserved message; returns its phone."""
    _, phone = register(s)
    c = login_customer(s, phone, device="phish-dev")
    r = c.req("PUT", RESERVED, {"message": text})
    assert r.status_code == 200, r.text
    return phone


def snapshot(s):
    """What a lookup must not change: the users, the login attempts and
    the audit log."""
    return (s.query("SELECT * FROM iam_user ORDER BY id"),
            s.query("SELECT COUNT(*) AS n FROM iam_login_attempt")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM audit_log")[0]["n"])


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server of its own: the lookups of 127.0.0.1 are counted, and the
    clock moves."""
    from conftest import SHARED_CONFIG, Server
    s = Server(tmp_path_factory.mktemp("phish"), config=SHARED_CONFIG).start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def fresh_window(srv):
    """Each test starts in a new lookup window of this address."""
    srv.clock(advance_ms=WINDOW_MS)


def me_id(s, phone):
    c = login_customer(s, phone, device="phish-id")
    return c.get("/api/v1/me").json()["user"]["id"]


def test_a_customer_who_set_a_message_gets_it_back(srv):
    """The name of a customer with a message answers the message, as set
    (text, not markup), and nothing is written. req: WEB-PHISH-01"""
    phone = with_message(srv, MESSAGE)
    before = snapshot(srv)
    r = lookup(srv, phone)
    assert r.status_code == 200, r.text
    assert r.json() == {"message": MESSAGE}
    assert snapshot(srv) == before


def test_every_name_without_a_message_to_show_answers_the_same_bytes(srv):
    """Unknown names (well-formed and not), a customer without a message,
    a merchant's and a staff member's name with a message, and a disabled,
    locked and expired customer with one: the same status, headers' type
    and body bytes ({"message": ""}), and nothing written. req: WEB-PHISH-01"""
    _, no_message = register(srv)
    names = {"unknown phone": new_phone(), "unknown name": "nobody-here",
             "not a login": "!!", "no message": no_message}
    for label, column, value in (("merchant", "kind", "merchant"), ("staff", "kind", "staff"),
                                 ("disabled", "status", "disabled"),
                                 ("locked", "status", "locked"),
                                 ("expired", "status", "expired")):
        phone = with_message(srv, MESSAGE)
        uid = me_id(srv, phone)
        with srv.rw() as db:
            db.execute("UPDATE iam_user SET %s = ? WHERE id = ?" % column, value, uid)
        names[label] = phone
    before = snapshot(srv)
    answers = {label: lookup(srv, name) for label, name in names.items()}
    assert snapshot(srv) == before
    for label, r in answers.items():
        assert (r.status_code, r.headers["Content-Type"], r.content) == \
            (200, "application/json; charset=utf-8", answers["unknown phone"].content), label
    assert answers["unknown phone"].json() == {"message": ""}


@pytest.mark.parametrize("body, code", [
    ({}, "missing_field"),
    ({"login": ""}, "field_out_of_range"),
    ({"login": "x" * 255}, "field_out_of_range"),
    ({"login": 12345678901}, "invalid_field"),
    ({"login": None}, "invalid_field"),
    ({"login": ["a"]}, "invalid_field"),
    ({"login": "a", "password": "x"}, "unknown_field"),
])
def test_bad_input_gets_the_login_routes_code_and_changes_nothing(srv, body, code):
    """Missing, empty, oversized (255 > 254 bytes) or non-string names and
    unknown fields: 400 with the code the login route gives the same fault
    of its login field, and nothing written."""
    before = snapshot(srv)
    r = srv.post(LOOKUP, body)
    assert r.status_code == 400, r.text
    assert err(r) == code
    if "password" not in body:
        same = dict(body)
        same["password"] = "x"
        login = Client(srv, device="phish-bad").post("/api/v1/auth/login", same, csrf=False)
        assert (login.status_code, err(login)) == (400, code), login.text
    else:
        assert snapshot(srv) == before
    assert snapshot(srv)[0] == before[0]


def test_the_longest_name_is_taken(srv):
    """254 bytes, the login route's bound, is looked up (and unknown)."""
    r = lookup(srv, "x" * 254)
    assert (r.status_code, r.json()) == (200, {"message": ""})


def test_lookups_of_an_address_are_bounded_within_the_window(srv):
    """The 30th lookup of the window passes, the 31st is refused 429
    too_many_requests with a Retry-After, unknown and known names alike,
    and nothing is written; the next window passes again. req: WEB-PHISH-01"""
    phone = with_message(srv, MESSAGE)
    srv.clock(advance_ms=WINDOW_MS)
    for i in range(LOOKUPS - 1):
        assert lookup(srv, new_phone()).status_code == 200, i
    r = lookup(srv, phone)
    assert (r.status_code, r.json()) == (200, {"message": MESSAGE})
    before = snapshot(srv)
    for name in (phone, new_phone()):
        r = lookup(srv, name)
        assert r.status_code == 429, r.text
        assert err(r) == "too_many_requests"
        assert int(r.headers["Retry-After"]) >= 1
        assert MESSAGE not in r.text
    assert snapshot(srv) == before
    srv.clock(advance_ms=WINDOW_MS)
    r = lookup(srv, phone)
    assert (r.status_code, r.json()) == (200, {"message": MESSAGE})


def test_the_message_never_reaches_the_log(srv):
    """The lookup logs the route, never the name's message."""
    phone = with_message(srv, "紫色的长颈鹿")
    assert lookup(srv, phone).json() == {"message": "紫色的长颈鹿"}
    assert "紫色的长颈鹿" not in srv.read_stderr()


@pytest.fixture(scope="module")
def throttled(tmp_path_factory):
    """A server that throttles an address after 5 failed logins
    (lockout.ip_failures, its least)."""
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("phish-throttle"),
               config={"lockout": {"ip_failures": "5"}}).start()
    yield s
    s.stop()


def test_an_address_throttled_for_failed_logins_is_refused(throttled):
    """After lockout.ip_failures failed logins from this address, the
    lookup is refused as the login is (429 too_many_failures), without the
    message and without a record; after ip_block it answers again.
    req: WEB-PHISH-01, IAM-ANOM-02"""
    s = throttled
    phone = with_message(s, MESSAGE)
    assert lookup(s, phone).json() == {"message": MESSAGE}
    for _ in range(5):
        r = Client(s, device="stuffer").login(new_phone(), "Wrong#Passw0rd!")
        assert r.status_code == 401, r.text
    before = snapshot(s)
    r = lookup(s, phone)
    assert r.status_code == 429, r.text
    assert err(r) == "too_many_failures"
    assert MESSAGE not in r.text
    assert snapshot(s) == before
    s.clock(advance_ms=901_000)  # past lockout.ip_block (900 s)
    assert lookup(s, phone).json() == {"message": MESSAGE}
