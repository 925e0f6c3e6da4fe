"""Loyalty points over HTTPS against a real anfud (src/points/,
docs/points.md): operator grants, the balance and history, redemption for
a catalogue item and for wallet value, cancellation, the refusals with
nothing changed, idempotency, boundaries, and who may call the operator
routes.

One server for the module: the first administrator, a bootstrapped
security officer, an operator, a risk officer and a finance officer (as
test_ledger_state.py makes them); each test registers customers of its own.
"""
import itertools

import pytest

from conftest import Server
from iam import register, login_customer, sms_wait
from test_iam_admin import ADMIN_NEW, OFFICER_NEW, admin_password, first_login
from test_ledger_state import make_staff

SEQ = itertools.count(1)


def err(r):
    return r.json()["error"]["code"]


class Desk:
    pass


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("points"), init_args=("--admin", "opsadmin")).start()
    s.clock(freeze=True)
    d = Desk()
    d.s = s
    d.admin, _ = first_login(s, "opsadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "secofficer", "--role",
                    "security_officer").stdout
    d.officer, _ = first_login(s, "secofficer", admin_password(out), OFFICER_NEW,
                               device="console-2")
    d.op = make_staff(s, d.admin, d.officer, "pointsop", "operator", "console-3")
    d.risk = make_staff(s, d.admin, d.officer, "pointsrisk", "risk_officer", "console-4")
    d.fin = make_staff(s, d.admin, d.officer, "pointsfin", "finance", "console-5")
    yield d
    s.assert_stopped_cleanly()


def customer(d):
    c0, phone = register(d.s)
    c = login_customer(d.s, phone)
    c.uid = c.get("/api/v1/me").json()["user"]["id"]
    c.phone = phone
    return c


def grant(d, uid, points, rid=None, reason="welcome gift"):
    return d.op.post("/admin/v1/points/grants", {
        "customer_id": uid, "points": points, "reason": reason,
        "request_id": rid or "g%d" % next(SEQ)})


def balance(c):
    r = c.get("/api/v1/me/points")
    assert r.status_code == 200, r.text
    return r.json()["balance"]


def item(d, price=300, stock=5, active=True):
    r = d.op.post("/admin/v1/points/items", {"name_zh": "保温杯", "name_en": "Thermos",
                                             "price": price, "stock": stock,
                                             "active": active})
    assert r.status_code == 201, r.text
    return r.json()["item"]["id"]


def redeem(c, rid=None, **body):
    body.setdefault("request_id", rid or "r%d" % next(SEQ))
    return c.post("/api/v1/me/points/redemptions", body)


def wallet(d, uid):
    return d.s.query("SELECT * FROM ledger_account WHERE owner_id = ? AND kind = ?",
                     uid, "customer_wallet")[0]


def state(d, uid):
    """What a refusal must leave as it was: the customer's ledger accounts,
    the points rows, the catalogue and the points and ledger audit
    records."""
    return (d.s.query("SELECT id, debits_posted, credits_posted, debits_pending FROM "
                      "ledger_account WHERE owner_id = ? ORDER BY id", uid),
            d.s.query("SELECT * FROM points_redemption WHERE customer_id = ? ORDER BY id", uid),
            d.s.query("SELECT * FROM points_entry WHERE customer_id = ? ORDER BY n", uid),
            d.s.query("SELECT id, stock, active FROM points_item ORDER BY id"),
            d.s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'points.%' "
                      "OR action = 'ledger.transfer'"))


def test_grant_credits_points_with_history_and_audit(desk):
    """An operator's grant puts the points on the customer's ledger account,
    a history row with the resulting balance, and an audit record with the
    reason; the same request id again grants nothing more."""
    # req: FUNC-PAY-10
    d = desk
    c = customer(d)
    assert balance(c) == 0
    r = grant(d, c.uid, 500, rid="welcome-1")
    assert r.status_code == 201, r.text
    g = r.json()["grant"]
    assert g["points"] == 500 and g["balance"] == 500
    assert balance(c) == 500
    again = grant(d, c.uid, 500, rid="welcome-1")
    assert again.status_code == 200 and again.json()["grant"]["id"] == g["id"]
    assert balance(c) == 500
    other = grant(d, c.uid, 501, rid="welcome-1")
    assert other.status_code == 409 and err(other) == "idempotency_conflict"
    recs = [x for x in d.s.audit("points.granted") if x["object_id"] == g["id"]]
    assert len(recs) == 1 and "welcome gift" in str(recs[0]["details"])
    h = c.get("/api/v1/me/points/history").json()
    assert [(e["change"], e["balance"], e["reason"], e["ref"]) for e in h["entries"]] == \
        [(500, 500, "grant", g["id"])]
    assert h["next_cursor"] is None and h["entries"][0]["date"] and h["entries"][0]["time"]


def test_grant_and_redemption_tell_the_customer_by_sms(desk):
    """Earning and redeeming send the customer a notice on the bound phone
    (in the customer's language: English for the test customers), queued in the same
    writer command through iam's anfu_iam_notify_user."""
    d = desk
    c = customer(d)
    assert grant(d, c.uid, 700).status_code == 201
    sms_wait(d.s, c.phone, lambda t: "You earned 700 points; your points balance is now 700." in t)
    r = redeem(c, type="item", item_id=item(d, price=300))
    assert r.status_code == 201, r.text
    sms_wait(d.s, c.phone, lambda t: "You redeemed 300 points; your points balance is now 400." in t)


def test_grant_above_the_maximum_is_refused_and_changes_nothing(desk):
    d = desk
    c = customer(d)
    before = state(d, c.uid)
    r = grant(d, c.uid, 10001)
    assert r.status_code == 400 and err(r) == "points_grant_too_large"
    assert state(d, c.uid) == before
    assert grant(d, c.uid, 10000).status_code == 201


def test_history_pages_by_cursor(desk):
    # req: FUNC-PAY-10
    d = desk
    c = customer(d)
    for i in range(5):
        assert grant(d, c.uid, 10 + i).status_code == 201
    seen = []
    cursor = None
    while True:
        q = "/api/v1/me/points/history?limit=2" + ("&cursor=" + cursor if cursor else "")
        page = c.get(q).json()
        assert len(page["entries"]) <= 2
        seen += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["change"] for e in seen] == [14, 13, 12, 11, 10]
    assert [e["balance"] for e in seen] == [60, 46, 33, 21, 10]
    bad = c.get("/api/v1/me/points/history?cursor=abc")
    assert bad.status_code == 400


def test_item_redemption_takes_points_and_stock_atomically(desk):
    """Exactly the balance passes and the last item in stock goes; one
    point short or one item too many is refused with nothing changed."""
    # req: FUNC-PAY-11
    d = desk
    c = customer(d)
    it = item(d, price=300, stock=2)
    assert grant(d, c.uid, 599).status_code == 201
    r = redeem(c, type="item", item_id=it)
    assert r.status_code == 201, r.text
    assert balance(c) == 299
    before = state(d, c.uid)
    short = redeem(c, type="item", item_id=it)
    assert short.status_code == 409 and err(short) == "points_insufficient"
    assert state(d, c.uid) == before
    assert grant(d, c.uid, 1).status_code == 201
    last = redeem(c, rid="last-one", type="item", item_id=it)
    assert last.status_code == 201, last.text
    assert balance(c) == 0
    assert d.s.query("SELECT stock FROM points_item WHERE id = ?", it)[0]["stock"] == 0
    replay = redeem(c, rid="last-one", type="item", item_id=it)
    assert replay.status_code == 200
    assert replay.json()["redemption"]["id"] == last.json()["redemption"]["id"]
    assert grant(d, c.uid, 300).status_code == 201
    before = state(d, c.uid)
    out = redeem(c, type="item", item_id=it)
    assert out.status_code == 409 and err(out) == "points_out_of_stock"
    assert state(d, c.uid) == before
    recs = [x for x in d.s.audit("points.redeemed")
            if x["object_id"] == last.json()["redemption"]["id"]]
    assert len(recs) == 1


def test_inactive_or_unknown_item_is_refused(desk):
    d = desk
    c = customer(d)
    assert grant(d, c.uid, 1000).status_code == 201
    it = item(d, active=False)
    before = state(d, c.uid)
    r = redeem(c, type="item", item_id=it)
    assert r.status_code == 409 and err(r) == "points_item_inactive"
    r = redeem(c, type="item", item_id="pit_AAAAAAAAAAAAAAAAAAAAAA")
    assert r.status_code == 404 and err(r) == "points_item_not_found"
    assert state(d, c.uid) == before


def test_value_redemption_credits_the_wallet_and_cancel_reverses_it(desk):
    # req: FUNC-PAY-11, FUNC-PAY-12
    d = desk
    c = customer(d)
    assert grant(d, c.uid, 250).status_code == 201
    before = state(d, c.uid)
    for pts in (150, 0, -100):
        r = redeem(c, type="value", points=pts)
        assert r.status_code == 400, r.text
    r = redeem(c, type="value", points=150)
    assert err(r) == "points_amount_invalid"
    r = redeem(c, type="value", points=300)
    assert r.status_code == 409 and err(r) == "points_insufficient"
    assert state(d, c.uid) == before
    r = redeem(c, type="value", points=200)
    assert r.status_code == 201, r.text
    red = r.json()["redemption"]
    assert red["value_fen"] == 200 and red["currency"] == "CNY"
    w = wallet(d, c.uid)
    assert w["credits_posted"] - w["debits_posted"] == 200
    assert balance(c) == 50
    r = c.post("/api/v1/me/points/redemptions/%s/cancel" % red["id"], {})
    assert r.status_code == 200, r.text
    assert r.json()["redemption"]["state"] == "cancelled"
    assert balance(c) == 250
    w = wallet(d, c.uid)
    assert w["credits_posted"] - w["debits_posted"] == 0
    before = state(d, c.uid)
    again = c.post("/api/v1/me/points/redemptions/%s/cancel" % red["id"], {})
    assert again.status_code == 409 and err(again) == "points_not_cancellable"
    assert state(d, c.uid) == before


def test_cancel_of_spent_value_is_refused(desk):
    # req: FUNC-PAY-12
    d = desk
    c = customer(d)
    assert grant(d, c.uid, 100).status_code == 201
    red = redeem(c, type="value", points=100).json()["redemption"]
    sink = d.s.post("/test/v1/ledger/accounts", {"kind": "merchant_pending", "asset": "CNY",
                                                 "owner_type": "merchant",
                                                 "owner_id": "mer_sink%d" % next(SEQ)}).json()["id"]
    r = d.s.post("/test/v1/ledger/transfers", {
        "caller": "tests", "idem_key": "spend%d" % next(SEQ),
        "debit_account": wallet(d, c.uid)["id"], "credit_account": sink, "amount": 1,
        "asset": "CNY", "code": "payment"})
    assert r.status_code == 200 and r.json()["code"] is None, r.text
    before = state(d, c.uid)
    r = c.post("/api/v1/me/points/redemptions/%s/cancel" % red["id"], {})
    assert r.status_code == 409 and err(r) == "points_value_spent"
    assert state(d, c.uid) == before


def test_item_cancel_returns_points_and_stock(desk):
    # req: FUNC-PAY-12
    d = desk
    c = customer(d)
    it = item(d, price=100, stock=1)
    assert grant(d, c.uid, 100).status_code == 201
    red = redeem(c, type="item", item_id=it).json()["redemption"]
    other = customer(d)
    r = other.post("/api/v1/me/points/redemptions/%s/cancel" % red["id"], {})
    assert r.status_code == 404 and err(r) == "points_redemption_not_found"
    r = d.op.post("/admin/v1/points/redemptions/%s/cancel" % red["id"],
                  {"reason": "goods never shipped"})
    assert r.status_code == 200, r.text
    assert balance(c) == 100
    assert d.s.query("SELECT stock FROM points_item WHERE id = ?", it)[0]["stock"] == 1
    recs = [x for x in d.s.audit("points.redemption_cancelled") if x["object_id"] == red["id"]]
    assert len(recs) == 1 and "goods never shipped" in str(recs[0]["details"])


def test_cancel_the_operator_must_give_a_reason_the_customer_need_send_no_body(desk):
    # The two cancel routes share one decoder (src/points/api/json.c).
    d = desk
    c = customer(d)
    assert grant(d, c.uid, 200).status_code == 201
    first = redeem(c, type="value", points=100).json()["redemption"]
    second = redeem(c, type="value", points=100).json()["redemption"]
    before = state(d, c.uid)
    r = d.op.post("/admin/v1/points/redemptions/%s/cancel" % first["id"], {})
    assert (r.status_code, err(r)) == (400, "missing_field"), r.text
    r = d.op.post("/admin/v1/points/redemptions/%s/cancel" % first["id"], {"reason": ""})
    assert r.status_code == 400, r.text
    assert state(d, c.uid) == before
    # A customer's request without any body: the default reason.
    r = c.post("/api/v1/me/points/redemptions/%s/cancel" % first["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["redemption"]["state"], r.json()["balance"]) == ("cancelled", 100)
    # ... or with one: its reason.
    r = c.post("/api/v1/me/points/redemptions/%s/cancel" % second["id"],
               {"reason": "changed my mind"})
    assert r.status_code == 200, r.text
    details = {x["object_id"]: str(x["details"])
               for x in d.s.audit("points.redemption_cancelled")}
    assert "cancelled by the customer" in details[first["id"]]
    assert "changed my mind" in details[second["id"]]


def test_request_id_with_other_characters_is_refused(desk):
    d = desk
    c = customer(d)
    assert grant(d, c.uid, 100, rid="ok_id.1:2-3").status_code == 201
    before = state(d, c.uid)
    for bad in ("has space", "semi;colon", "斜杠"):
        r = grant(d, c.uid, 100, rid=bad)
        assert (r.status_code, err(r)) == (400, "invalid_field"), r.text
        r = redeem(c, rid=bad, type="value", points=100)
        assert (r.status_code, err(r)) == (400, "invalid_field"), r.text
    assert state(d, c.uid) == before


@pytest.mark.parametrize("who,code", [("op", 201), ("risk", 403), ("fin", 403),
                                      ("admin", 403), ("officer", 403)])
def test_only_the_operator_manages_the_catalogue(desk, who, code):
    d = desk
    r = getattr(d, who).post("/admin/v1/points/items", {"name_zh": "杯", "name_en": "Cup",
                                                        "price": 1, "stock": 1})
    assert r.status_code == code, r.text


@pytest.mark.parametrize("who,code", [("op", 200), ("risk", 200), ("fin", 403),
                                      ("admin", 403), ("officer", 403)])
def test_who_reads_the_catalogue(desk, who, code):
    assert getattr(desk, who).get("/admin/v1/points/items").status_code == code


@pytest.mark.parametrize("who", ["risk", "fin", "admin", "officer"])
def test_only_the_operator_grants(desk, who):
    d = desk
    c = customer(d)
    r = getattr(d, who).post("/admin/v1/points/grants", {
        "customer_id": c.uid, "points": 5, "reason": "x", "request_id": "w%d" % next(SEQ)})
    assert r.status_code == 403
    assert balance(c) == 0


def test_campaigns_are_checked_and_listed(desk):
    d = desk
    r = d.op.post("/admin/v1/points/campaigns", {"merchant_id": "mer_AAAAAAAAAAAAAAAAAAAAAA",
                                                 "multiplier_pct": 200, "bonus": 5,
                                                 "starts_ms": 10, "ends_ms": 10})
    assert r.status_code == 400 and err(r) == "points_window_invalid"
    r = d.op.post("/admin/v1/points/campaigns", {"merchant_id": "mer_AAAAAAAAAAAAAAAAAAAAAA",
                                                 "multiplier_pct": 200, "bonus": 5,
                                                 "starts_ms": 10, "ends_ms": 11})
    assert r.status_code == 201, r.text
    cid = r.json()["campaign"]["id"]
    r = d.op.post("/admin/v1/points/campaigns/%s" % cid, {"active": False})
    assert r.status_code == 200 and r.json()["campaign"]["active"] is False
    ids = [x["id"] for x in d.risk.get("/admin/v1/points/campaigns").json()["campaigns"]]
    assert cid in ids
