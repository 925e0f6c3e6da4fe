"""Privilege-attempt alerts: an authenticated account that tries something
beyond its privileges is refused, and the administrators are told by email
and on the admin API (src/iam/alert.c).

req: AUD-ALERT-01
"""
import json

import pytest

from iam import THIRD_PASSWORD, Client, login_customer, mail_code, mails_to, register
from test_iam_admin import make_operator, mail_wait, merchant_first_login, staffed  # noqa: F401

WINDOW_MS = 300_000  # alerts.mail_window default


def err(r):
    return r.json()["error"]["code"]


def bind_email(s, client, address):
    """Binds address to a staff account (bind code, recent second factor)."""
    r = client.send_code("bind", "email", address)
    assert r.status_code == 202, r.text
    r = client.post("/admin/v1/me/email", {"email": address, "code": mail_code(s, address)})
    assert r.status_code == 200, r.text


@pytest.fixture
def alerted(staffed, request):
    """staffed, with an email bound to the administrator and to the security
    officer (who both hold iam.alert.manage): (s, admin, officer, admin mail,
    officer mail)."""
    s, admin, _, officer, _ = staffed
    tag = request.node.name.replace("_", "-")[-40:]
    admin_mail = "adm-%s@alerts.example.test" % tag
    officer_mail = "off-%s@alerts.example.test" % tag
    bind_email(s, admin, admin_mail)
    bind_email(s, officer, officer_mail)
    return s, admin, officer, admin_mail, officer_mail


def alerts(s):
    return s.query("SELECT * FROM iam_alert ORDER BY number")


def alert_mails(s, user_id=None):
    """Alert mails queued (notify_message rows), to one recipient or all."""
    if user_id:
        return s.query("SELECT * FROM notify_message WHERE kind = 'privilege_alert' AND "
                       "user_id = ? ORDER BY created_ms, id", user_id)
    return s.query("SELECT * FROM notify_message WHERE kind = 'privilege_alert'")


def uid(c):
    return c.get("/admin/v1/me" if c.admin else "/api/v1/me").json()["user"]["id"]


def keep_alive(s, ms, *clients, step=150_000):
    """Moves the clock ms forward in steps the admin idle limit (4 min)
    survives, using every client's session on the way."""
    while ms > 0:
        s.clock(advance_ms=min(step, ms))
        ms -= step
        for c in clients:
            assert c.get("/admin/v1/me" if c.admin else "/api/v1/me").status_code == 200


def test_a_route_beyond_ones_privileges_alerts_the_administrators(alerted):
    """An operator asks for the approvals it may not read: 403 forbidden,
    an alert row and the access.denied audit record naming it, one mail to
    each administrator with an email, and the alert on the admin API."""
    s, admin, officer, admin_mail, officer_mail = alerted
    op, _, op_id = make_operator(s, admin, officer, "alertop1", device="console-a1")
    assert alerts(s) == [] and alert_mails(s) == []
    r = op.get("/admin/v1/approvals")
    assert r.status_code == 403 and err(r) == "forbidden"
    (a,) = alerts(s)
    assert (a["actor_id"], a["actor_kind"], a["role_class"], a["attempts"], a["state"]) == \
        (op_id, "staff", "operator", 1, "open")
    assert a["last_action"] == "access.denied"
    assert a["last_object"] == "route:GET /admin/v1/approvals"
    assert a["last_ip"] == "127.0.0.1" and a["mailed"] == 2
    (rec,) = s.audit("access.denied")
    assert (rec["actor_id"], rec["outcome"], rec["object_id"]) == \
        (op_id, "denied", "GET /admin/v1/approvals")
    details = json.loads(rec["details"])
    assert details == {"alert_id": a["id"], "permission": "iam.approval.read",
                       "reason": "forbidden"}
    for c, address in ((admin, admin_mail), (officer, officer_mail)):
        assert len(alert_mails(s, uid(c))) == 1
        mail_wait(s, address, lambda b: op_id in b)
        (subject, body), = [(m[0], m[1]) for m in mails_to(address) if op_id in m[1]]
        # Bootstrapped administrators read Chinese (lang zh).
        assert subject == "安全告警：越权尝试", subject
        assert "安全告警 #%d" % a["number"] in body and "GET /admin/v1/approvals" in body
    r = officer.get("/admin/v1/alerts")
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["next_cursor"] is None
    assert [(x["id"], x["actor_id"], x["attempts"], x["state"]) for x in page["alerts"]] == \
        [(a["id"], op_id, 1, "open")]


def test_attempts_within_the_window_are_counted_without_another_mail(alerted):
    """The second attempt inside alerts.mail_window (300 s) of the first is
    counted on the same alert and mails nobody; the next one at the end of
    the window opens a new alert with a new mail. Time moves by the test
    clock."""
    s, admin, officer, _, _ = alerted
    op, _, op_id = make_operator(s, admin, officer, "alertop2", device="console-a2")
    assert op.get("/admin/v1/approvals").status_code == 403
    mails = len(alert_mails(s))
    assert mails == 2
    keep_alive(s, WINDOW_MS - 1, admin, officer, op)
    r = op.post("/admin/v1/users", {"kind": "merchant", "username": "nope",
                                    "merchant_id": "mch_x", "role": "merchant_admin",
                                    "email": "nope@example.test"})
    assert r.status_code == 403 and err(r) == "forbidden"
    (a,) = alerts(s)
    assert a["attempts"] == 2 and a["last_object"] == "route:POST /admin/v1/users"
    assert a["first_action"] == "access.denied" and a["last_ms"] - a["first_ms"] == WINDOW_MS - 1
    assert len(alert_mails(s)) == mails
    assert [json.loads(x["details"])["alert_id"] for x in s.audit("access.denied")] == \
        [a["id"]] * 2
    s.clock(advance_ms=1)
    assert op.get("/admin/v1/approvals").status_code == 403
    first, second = alerts(s)
    assert first["attempts"] == 2 and second["attempts"] == 1
    assert second["number"] == first["number"] + 1 and second["mailed"] == 2
    assert len(alert_mails(s)) == mails + 2


def test_every_role_class_raises_alerts_and_the_list_pages(alerted):
    """A customer, a merchant user and an operator each try a route of
    another class (403, one alert each, with their role class); object-
    level refusals alert too (a merchant administrator disabling another
    merchant's user, a checker deciding a request about themselves). The
    list pages newest first with a cursor and filters by state."""
    s, admin, officer, _, _ = alerted
    _, phone = register(s)
    cust = login_customer(s, phone, device="al-cust")
    r = cust.post("/api/v1/merchant/users", {"username": "mine", "email": "x@example.test"})
    assert r.status_code == 403 and err(r) == "forbidden"
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "alshop",
                                       "merchant_id": "mch_al", "role": "merchant_admin",
                                       "email": "alshop@example.test"})
    assert r.status_code == 201, r.text
    shop = merchant_first_login(s, "alshop", "alshop@example.test", THIRD_PASSWORD, "al-pc")
    r = shop.post("/api/v1/me/payment-password", {"pin": "135792"})
    assert r.status_code == 403 and err(r) == "forbidden"
    r = shop.post("/api/v1/merchant/users/%s/disable" % uid(cust), {"reason": "x"})
    assert r.status_code == 403 and err(r) == "forbidden"
    op, _, op_id = make_operator(s, admin, officer, "alertop3", device="console-a3")
    assert op.get("/admin/v1/alerts").status_code == 403
    rows = alerts(s)
    assert [(x["actor_id"], x["role_class"], x["attempts"]) for x in rows] == [
        (uid(cust), "customer", 1), (uid(shop), "merchant", 2), (op_id, "operator", 1)]
    assert rows[1]["last_action"] == "user.disabled"  # the service's refusal
    assert rows[1]["last_object"] == "user:" + uid(cust)
    # The checker may not decide a change of their own account.
    officer_id = uid(officer)
    r = admin.post("/admin/v1/approvals", {"type": "grant_role",
                                           "payload": {"user_id": officer_id,
                                                       "role": "finance"}})
    assert r.status_code == 201, r.text
    r = officer.post("/admin/v1/approvals/%s/approve" % r.json()["approval"]["id"], {})
    assert r.status_code == 403 and err(r) == "approval_self"
    last = alerts(s)[-1]
    assert (last["actor_id"], last["role_class"], last["last_reason"]) == \
        (officer_id, "admin", "approval_self")
    numbers = [x["number"] for x in alerts(s)][::-1]
    r = admin.get("/admin/v1/alerts?limit=3")
    page = r.json()
    assert [x["number"] for x in page["alerts"]] == numbers[:3]
    assert page["next_cursor"] == numbers[2]
    page = admin.get("/admin/v1/alerts?limit=3&cursor=%d" % page["next_cursor"]).json()
    assert [x["number"] for x in page["alerts"]] == numbers[3:]
    assert page["next_cursor"] is None
    assert admin.get("/admin/v1/alerts?state=acknowledged").json()["alerts"] == []
    for query, field in (("state=closed", "state"), ("cursor=abc", "cursor"),
                         ("cursor=0", "cursor"), ("limit=0", "limit"), ("limit=101", "limit")):
        r = admin.get("/admin/v1/alerts?" + query)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (query, r.text)


def test_acknowledging_an_alert(alerted):
    """An administrator acknowledges an open alert (audited, with the note);
    twice is a conflict; nobody acknowledges an alert about themselves,
    which is itself an attempt beyond their privileges. Refusals change
    nothing."""
    s, admin, officer, _, _ = alerted
    officer_id = uid(officer)
    r = officer.post("/admin/v1/users", {"kind": "merchant", "username": "offshop",
                                         "merchant_id": "mch_o", "role": "merchant_admin",
                                         "email": "offshop@example.test"})
    assert r.status_code == 403
    (a,) = alerts(s)
    assert a["actor_id"] == officer_id
    url = "/admin/v1/alerts/%s/acknowledge" % a["id"]
    r = officer.post(url, {"note": "my own mistake"})
    assert r.status_code == 403 and err(r) == "forbidden"
    a = alerts(s)[0]
    assert (a["state"], a["acked_by"], a["attempts"]) == ("open", None, 2)
    assert a["last_action"] == "alert.acknowledged"
    assert s.audit("alert.acknowledged")[0]["outcome"] == "denied"
    r = admin.post(url, {"note": "x" * 501})
    assert r.status_code == 400
    r = admin.post("/admin/v1/alerts/alr_AAAAAAAAAAAAAAAAAAAAAA/acknowledge", {})
    assert r.status_code == 404
    r = admin.post(url, {"note": "talked to them: wrong button"})
    assert r.status_code == 200, r.text
    got = r.json()["alert"]
    admin_id = uid(admin)
    assert (got["state"], got["acknowledged_by"], got["note"]) == \
        ("acknowledged", admin_id, "talked to them: wrong button")
    rec = [x for x in s.audit("alert.acknowledged") if x["outcome"] == "success"]
    assert [(x["actor_id"], x["object_id"]) for x in rec] == [(admin_id, a["id"])]
    r = admin.post(url, {})
    assert r.status_code == 409 and err(r) == "conflict"
    assert len([x for x in s.audit("alert.acknowledged") if x["outcome"] == "success"]) == 1
    assert [x["id"] for x in admin.get("/admin/v1/alerts?state=acknowledged").json()[
        "alerts"]] == [a["id"]]
    assert admin.get("/admin/v1/alerts?state=open").json()["alerts"] == []
    # A new attempt inside the window opens a new alert, but its mail went
    # out already: acknowledging does not reopen the flood gate.
    mails = len(alert_mails(s))
    assert officer.get("/admin/v1/reports/account-review").status_code == 403
    first, second = alerts(s)
    assert (second["state"], second["attempts"], second["mailed"]) == ("open", 1, 0)
    assert len(alert_mails(s)) == mails


def test_refusals_that_are_no_privilege_attempt_raise_nothing(alerted):
    """A request without a session (401), a wrong CSRF token and a missing
    step-up are refused without an alert or a mail."""
    s, admin, officer, _, _ = alerted
    r = s.get("/admin/v1/approvals", admin=True)
    assert r.status_code == 401
    r = Client(s, admin=True).get("/admin/v1/users")
    assert r.status_code == 401
    r = admin.post("/admin/v1/reports/account-review", headers={"X-CSRF-Token": "0" * 64},
                   csrf=False)
    assert r.status_code == 403 and err(r) == "csrf_failed"
    keep_alive(s, 400_000, admin, officer)  # past mfa.stepup_window
    _, phone = register(s)
    cust = login_customer(s, phone, device="nr-cust")
    r = admin.post("/admin/v1/users/%s/unlock" % uid(cust), {"reason": "x"})
    assert r.status_code == 403 and err(r) == "step_up_required"
    assert alerts(s) == [] and alert_mails(s) == []
    assert s.audit("access.denied") == []


def test_only_active_administrators_with_an_email_are_mailed(alerted):
    """Every active holder of iam.alert.manage with an email gets the mail:
    a new system administrator does (its email is bound at creation); once
    disabled it no longer does."""
    s, admin, officer, _, _ = alerted
    sysop, _, sysop_id = make_operator(s, admin, officer, "alertsys", roles=("sysadmin",),
                                       device="console-as")
    _, phone = register(s)
    cust = login_customer(s, phone, device="am-cust")
    assert cust.post("/api/v1/merchant/users", {"username": "m1"}).status_code == 403
    (a,) = alerts(s)
    assert a["mailed"] == 3
    assert len(alert_mails(s, sysop_id)) == 1
    # It was created from an English request: its mail is in English.
    assert s.query("SELECT lang FROM iam_user WHERE id = ?", sysop_id)[0]["lang"] == "en"
    address = "alertsys@staff.example.test"
    mail_wait(s, address, lambda b: "Security alert #%d" % a["number"] in b)
    assert [m[0] for m in mails_to(address) if "Security alert" in m[1]] == [
        "Security alert: privilege attempt"]
    r = admin.post("/admin/v1/users/%s/disable" % sysop_id, {"reason": "left"})
    assert r.status_code == 202, r.text
    r = officer.post("/admin/v1/approvals/%s/approve" % r.json()["approval"]["id"], {})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    keep_alive(s, WINDOW_MS, admin, officer, cust)
    assert cust.post("/api/v1/merchant/users", {"username": "m2"}).status_code == 403
    assert alerts(s)[-1]["mailed"] == 2
    assert len(alert_mails(s, sysop_id)) == 1
