"""Operators: the first administrator, required actions, MFA always,
staff lockout, four-eyes approvals, role conflicts, account administration,
recertification and the monthly account review.

req: IAM-ADM-01, IAM-ADM-02, IAM-ADM-03, IAM-ACCT-01, IAM-ACCT-03,
req: IAM-ACCT-04, IAM-ACCT-05, IAM-ACCT-06, IAM-ACCT-07, IAM-ACCT-09, IAM-ACCT-10,
req: IAM-MFA-13, IAM-LOCK-01, IAM-LOCK-02, IAM-PWD-12, IAM-PWD-15, IAM-SOD-01,
req: IAM-SOD-02, IAM-SOD-03, IAM-RBAC-01, IAM-RBAC-02, IAM-RBAC-04, IAM-RBAC-06,
req: IAM-LP-01, IAM-MFA-02, IAM-PWD-11, IAM-LOCK-04, IAM-RST-03, DATA-MASK-08,
req: FUNC-OPS-01
"""
import json
import re
import time

import pytest

from conftest import run_cli
from iam import (GOOD_PASSWORD, in_time_order, tick, OTHER_PASSWORD, THIRD_PASSWORD, Client, admin_password, deliver,
                 login_customer, mail_code, mails_to, register, settle, sms_wait, totp)

ADMIN_NEW = "Ad9#kLw2!mQz"
OFFICER_NEW = "Of7$pRt4@nVx"


def err(r):
    return r.json()["error"]["code"]


def now_s(s):
    return s.clock() / 1000


def first_login(s, name, initial, new_password, device="console"):
    """Initial login of a staff account: change the password, enrol TOTP.
    Returns (client, totp secret)."""
    c = Client(s, admin=True, device=device)
    r = c.login(name, initial)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "required_actions"
    assert set(body["required_actions"]) == {"change_password", "enrol_totp"}
    assert "warning" in body
    # Nothing else is open until the required actions are done.
    assert c.get("/admin/v1/users").status_code == 403
    r = c.post("/admin/v1/me/password", {"current_password": initial,
                                         "new_password": new_password})
    assert r.status_code == 200, r.text
    r = c.post("/admin/v1/me/totp")
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    r = c.post("/admin/v1/me/totp/confirm", {"code": totp(secret, now_s(s))})
    assert r.status_code == 200, r.text
    assert c.get("/admin/v1/me").status_code == 200
    return c, secret


def staff_login(s, name, password, secret, device="console"):
    """A later login: password, then TOTP (always, for staff)."""
    s.clock(advance_ms=30_000)  # a fresh TOTP step
    c = Client(s, admin=True, device=device)
    r = c.login(name, password)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "mfa_required"
    assert r.json()["mfa_methods"] == ["totp"]
    r = c.mfa("totp", totp(secret, now_s(s)))
    assert r.status_code == 200, r.text
    return c


@pytest.fixture
def staffed(make_server):
    """A server with the first administrator (maker) and a bootstrapped
    security officer (checker), both past their first login."""
    s = make_server(init_args=("--admin", "opsadmin"))
    s.clock(freeze=True)
    admin, admin_secret = first_login(s, "opsadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "secofficer", "--role",
                    "security_officer").stdout
    officer, officer_secret = first_login(s, "secofficer", admin_password(out), OFFICER_NEW,
                                          device="console-2")
    return s, admin, admin_secret, officer, officer_secret


def test_init_creates_no_default_account_or_password(make_server):
    """req: IAM-ACCT-10, IAM-ADM-01"""
    s = make_server()
    assert s.query("SELECT COUNT(*) AS n FROM iam_user")[0]["n"] == 0
    assert "none created" in s.init_out


def test_init_refuses_default_admin_names(tmp_path):
    """req: IAM-ACCT-10"""
    for name, data in (("admin", tmp_path / "d"), ("root", tmp_path / "e")):
        p = run_cli("init", "--admin", name, data=data, check=False)
        assert p.returncode == 1
        assert ("cannot create the administrator '%s'" % name) in p.stderr
        assert "reserved or invalid name" in p.stderr
        assert "initial password" not in p.stdout


def test_first_admin_must_change_password_and_enrol_totp(make_server):
    """Random initial password, shown once, forced change. req: IAM-ADM-01, IAM-PWD-12"""
    s = make_server(init_args=("--admin", "opsadmin"))
    initial = admin_password(s.init_out)
    assert len(initial) >= 12
    assert initial not in (s.data / "anfu.conf").read_text()
    s.clock(freeze=True)
    c, _ = first_login(s, "opsadmin", initial, ADMIN_NEW)
    me = c.get("/admin/v1/me").json()["user"]
    assert "sysadmin" in me["roles"] and "security_admin" in me["roles"]


def test_staff_always_give_a_second_factor(staffed):
    """req: IAM-MFA-13"""
    s, admin, secret, *_ = staffed
    c = Client(s, admin=True, device="console")
    r = c.login("opsadmin", ADMIN_NEW)
    assert r.json()["state"] == "mfa_required"
    assert c.get("/admin/v1/users").status_code == 403


def test_staff_login_carries_the_warning_banner(staffed):
    """req: IAM-ADM-03"""
    s, *_ = staffed
    c = Client(s, admin=True)
    r = c.login("opsadmin", ADMIN_NEW)
    assert "authorised" in r.json()["warning"].lower()
    zh = Client(s, admin=True)
    zh.http.headers["Accept-Language"] = "zh-CN"
    r = zh.login("opsadmin", ADMIN_NEW)
    assert "授权" in r.json()["warning"]
    assert s.get("/admin/v1/banner", admin=True).status_code == 200


def test_staff_cannot_log_in_on_the_public_listener(staffed):
    """req: IAM-ADM-02"""
    s, *_ = staffed
    r = Client(s).login("opsadmin", ADMIN_NEW)
    assert r.status_code == 401 and err(r) == "invalid_credentials"


def test_staff_locked_after_three_failures_until_unlocked(staffed):
    """req: IAM-LOCK-01, IAM-LOCK-02"""
    s, admin, admin_secret, officer, officer_secret = staffed
    c = Client(s, admin=True)
    for _ in range(3):
        assert c.login("secofficer", "Wr0ng#Passw9x").status_code == 401
    s.clock(advance_ms=24 * 3600_000)  # no time lock: still locked a day later
    assert Client(s, admin=True).login("secofficer", OFFICER_NEW).status_code == 401
    admin = staff_login(s, "opsadmin", ADMIN_NEW, admin_secret)
    users = admin.get("/admin/v1/users?kind=staff").json()["users"]
    oid = next(u["id"] for u in users if "security_officer" in u["roles"])
    assert next(u for u in users if u["id"] == oid)["status"] == "locked"
    r = admin.post("/admin/v1/users/%s/unlock" % oid, {"reason": "verified by phone"})
    assert r.status_code == 204, r.text
    staff_login(s, "secofficer", OFFICER_NEW, officer_secret, device="console-2")
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    recs = [(x["actor_id"], x["outcome"]) for x in s.audit("user.unlocked")
            if x["object_id"] == oid]
    assert recs == [(admin_id, "success")]


def create_operator_request(admin, name="operator1", roles=("operator",), email=None):
    body = {"type": "create_operator",
            "payload": {"username": name, "roles": list(roles),
                        "email": email or "%s@staff.example.test" % name}}
    return admin.post("/admin/v1/approvals", body)


def approve_operator(officer, aid, name, note=None):
    """The checker approves a create_operator request of
    create_operator_request(), typing the new person's email again."""
    body = {"confirm_email": "%s@staff.example.test" % name}
    if note:
        body["note"] = note
    return officer.post("/admin/v1/approvals/%s/approve" % aid, body)


def test_creating_an_operator_takes_two_people(staffed):
    """Maker files, a different checker approves, then it executes; numbered
    and audited; the initial password reaches the operator by mail.
    Every administrator operation is recorded with the operator and the time.
    req: IAM-ACCT-03, IAM-SOD-03, IAM-PWD-12, FUNC-OPS-01, AUD-CNT-04, AUD-CNT-07"""
    s, admin, _, officer, _ = staffed
    r = create_operator_request(admin, "operator1")
    assert r.status_code == 201, r.text
    a = r.json()["approval"]
    assert a["status"] == "pending" and a["number"] >= 1
    # Undecided: no checker, decision, note or result yet; filing shows no payload.
    assert (a["checker_id"], a["decided_ms"], a["note"], a["result"]) == (None, None, None, None)
    assert a["type"] == "create_operator" and "payload" not in a
    staff = "SELECT COUNT(*) AS n FROM iam_user WHERE kind = 'staff'"
    assert s.query(staff)[0]["n"] == 2  # nothing happens before the approval
    r = approve_operator(officer, a["id"], "operator1", note="ok")
    assert r.status_code == 200, r.text
    decided = r.json()["approval"]
    assert decided["status"] == "executed"
    assert s.query(staff)[0]["n"] == 3
    initial = admin_password_from_mail("operator1@staff.example.test")
    s.clock(advance_ms=30_000)
    op, _ = first_login(s, "operator1", initial, THIRD_PASSWORD, device="console-4")
    assert "operator" in op.get("/admin/v1/me").json()["user"]["roles"]
    acts = [x["action"] for x in s.audit()]
    for a_ in ("approval.filed", "approval.approved", "user.created", "role.granted"):
        assert a_ in acts, a_
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    filed = s.audit("approval.filed")[-1]
    approved = s.audit("approval.approved")[-1]
    assert filed["actor_id"] == admin_id and filed["actor_type"] == "staff"
    assert approved["actor_id"] == officer_id and approved["ts_ms"] >= filed["ts_ms"] > 0
    # The decision as the API shows it: who, when, why, and what the executor did.
    new_id = s.query("SELECT user_id FROM iam_user_role WHERE approval_id = ?", a["id"])[0]["user_id"]
    assert (decided["id"], decided["checker_id"], decided["note"]) == (a["id"], officer_id, "ok")
    assert isinstance(decided["decided_ms"], int) and decided["decided_ms"] > 0
    assert decided["result"] == {"user_id": new_id, "delivered_to": "email"}
    assert "payload" not in decided
    logins = [x for x in s.audit("auth.login") if x["actor_id"] in (admin_id, officer_id)]
    assert logins and all(x["source_ip"] == "127.0.0.1" for x in logins)
    b = create_operator_request(admin, "operator2").json()["approval"]
    assert b["number"] == a["number"] + 1


def test_the_maker_cannot_approve_their_own_request(staffed):
    """Four eyes by the same person refused. req: IAM-SOD-03"""
    s, admin, *_ = staffed
    a = create_operator_request(admin, "selfie").json()["approval"]
    r = admin.post("/admin/v1/approvals/%s/approve" % a["id"], {})
    assert r.status_code == 403 and err(r) == "approval_self"
    assert s.query("SELECT status FROM iam_approval WHERE id = ?", a["id"])[0]["status"] == \
        "pending"


def test_a_decided_request_cannot_be_decided_again(staffed):
    s, admin, _, officer, _ = staffed
    a = create_operator_request(admin, "twice").json()["approval"]
    assert officer.post("/admin/v1/approvals/%s/reject" % a["id"],
                        {"note": "no"}).status_code == 200
    r = officer.post("/admin/v1/approvals/%s/approve" % a["id"], {})
    assert r.status_code == 409 and err(r) == "approval_not_pending"


def test_conflicting_roles_cannot_be_held_together(staffed):
    """sysadmin + auditor, security_admin + operator, maker + checker.
    req: IAM-SOD-01, IAM-SOD-02"""
    s, admin, _, officer, _ = staffed
    me = admin.get("/admin/v1/me").json()["user"]
    for role in ("auditor", "operator", "security_officer"):
        r = admin.post("/admin/v1/approvals", {"type": "grant_role",
                                               "payload": {"user_id": me["id"], "role": role}})
        if r.status_code == 201:
            r = officer.post("/admin/v1/approvals/%s/approve" % r.json()["approval"]["id"], {})
            assert r.status_code == 200
            assert r.json()["approval"]["status"] == "failed", (role, r.text)
        else:
            assert r.status_code == 409 and err(r) == "role_conflict", (role, r.text)
    roles = {x["role"] for x in s.query("SELECT role FROM iam_user_role WHERE user_id = ?",
                                        me["id"])}
    assert roles == {"sysadmin", "security_admin"}


def test_role_changes_need_a_recent_second_factor(staffed):
    """Sessions kept alive past mfa.stepup_window may neither file nor decide
    a role grant; a TOTP step-up opens both again. req: IAM-MFA-02, IAM-SOD-03"""
    s, admin, admin_secret, officer, officer_secret = staffed
    # About the maker: the officer may not decide a change of their own roles.
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    for _ in range(2):  # in use all along (idle limit 4 min), MFA 400 s ago
        s.clock(advance_ms=200_000)
        assert admin.get("/admin/v1/me").status_code == 200
        assert officer.get("/admin/v1/me").status_code == 200
    grant = {"type": "grant_role", "payload": {"user_id": admin_id, "role": "finance"}}
    r = admin.post("/admin/v1/approvals", grant)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert s.query("SELECT COUNT(*) AS n FROM iam_approval")[0]["n"] == 0
    assert admin.step_up("totp", totp(admin_secret, now_s(s))).status_code == 200
    r = admin.post("/admin/v1/approvals", grant)
    assert r.status_code == 201, r.text
    aid = r.json()["approval"]["id"]
    r = officer.post("/admin/v1/approvals/%s/approve" % aid, {})
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert s.query("SELECT status FROM iam_approval WHERE id = ?", aid)[0]["status"] == \
        "pending"
    assert officer.step_up("totp", totp(officer_secret, now_s(s))).status_code == 200
    r = officer.post("/admin/v1/approvals/%s/approve" % aid, {})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text


def test_operator_creation_with_conflicting_roles_is_refused(staffed):
    """req: IAM-SOD-01"""
    s, admin, *_ = staffed
    r = create_operator_request(admin, "twohats", roles=("sysadmin", "auditor"))
    assert r.status_code == 409
    assert err(r) == "role_conflict"


def test_checker_without_the_approve_permission_is_refused(staffed):
    """Least privilege: an operator may not approve. req: IAM-LP-01, IAM-RBAC-01"""
    s, admin, _, officer, _ = staffed
    a = create_operator_request(admin, "opx").json()["approval"]
    assert approve_operator(officer, a["id"], "opx").status_code == 200
    initial = admin_password_from_mail("opx@staff.example.test")
    s.clock(advance_ms=30_000)
    op, _ = first_login(s, "opx", initial, THIRD_PASSWORD, device="console-3")
    b = create_operator_request(admin, "opy").json()["approval"]
    r = op.post("/admin/v1/approvals/%s/approve" % b["id"], {})
    assert r.status_code == 403 and err(r) == "forbidden"
    r = op.post("/admin/v1/users", {"kind": "merchant", "username": "mshop",
                                    "merchant_id": "mch_1", "role": "merchant_admin",
                                    "email": "m@example.test"})
    assert r.status_code == 403 and err(r) == "forbidden"


def admin_password_from_mail(address):
    mails = mails_to(address)
    assert mails
    text = mails[-1][1]
    m = (re.search(r"initial password is (\S+)\. You must", text) or
         re.search(r"初始密码(\S+?)。首次登录", text))
    assert m, text
    return m.group(1)


def test_admin_user_list_masks_and_reveal_is_audited(staffed):
    """req: DATA-MASK-08, IAM-RBAC-06"""
    s, admin, *_ = staffed
    _, phone = register(s)
    users = admin.get("/admin/v1/users?kind=customer").json()["users"]
    assert phone not in admin.last.text
    assert any(u["login"] == "****" + phone[-4:] for u in users)
    uid = next(u["id"] for u in users if u["login"].endswith(phone[-4:]))
    r = admin.get("/admin/v1/users/%s?reveal=true" % uid)
    assert r.status_code == 403  # iam.user.pii.reveal: risk_officer only (see below)
    got = admin.get("/admin/v1/users/" + uid)
    assert got.status_code == 200 and phone not in got.text


def test_admin_disables_and_forces_password_change(staffed):
    """req: IAM-PWD-15, IAM-ACCT-08"""
    s, admin, *_ = staffed
    _, phone = register(s)
    cust = login_customer(s, phone, device="victim")
    uid = cust.get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/force-password-change" % uid, {"reason": "leak"})
    assert r.status_code == 204
    assert cust.get("/api/v1/me/sessions").status_code == 401
    c = Client(s, device="victim")
    r = c.login(phone, GOOD_PASSWORD)
    assert r.json()["state"] == "required_actions"
    r = admin.post("/admin/v1/users/%s/disable" % uid, {"reason": "fraud"})
    assert r.status_code == 204
    assert Client(s, device="victim").login(phone, GOOD_PASSWORD).status_code == 401
    assert s.audit("user.disabled")


def test_admin_routes_need_admin_permissions_and_listener(staffed):
    """A customer session gets nothing from the operator API. req: IAM-RBAC-01, IAM-ADM-02"""
    s, *_ = staffed
    _, phone = register(s)
    c = login_customer(s, phone, device="cust")
    assert c.get("/admin/v1/users").status_code == 404


def test_recertification_report_and_sign_off_by_another_person(staffed):
    """req: IAM-ACCT-04"""
    s, admin, _, officer, _ = staffed
    r = admin.post("/admin/v1/reports/recertification")
    assert r.status_code == 201, r.text
    rep = r.json()["report"]
    accounts = rep["content"]["accounts"]
    assert any("security_officer" in a["roles"] for a in accounts)
    assert all("last_used_ms" in a for a in accounts)
    r = officer.post("/admin/v1/reports/recertification/%s/sign-off" % rep["id"],
                     {"note": "reviewed"})
    assert r.status_code == 200, r.text
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    assert r.json()["report"]["signed_off_by"] == officer_id
    recs = [(x["actor_id"], x["outcome"]) for x in s.audit("report.recertification_signed_off")
            if x["object_id"] == rep["id"]]
    assert recs == [(officer_id, "success")]


def test_monthly_account_review_reports_dormant_expired_and_temporary(staffed):
    """The job runs on the injectable clock. req: IAM-ACCT-05, IAM-ACCT-06, IAM-ACCT-07"""
    s, admin, admin_secret, *_ = staffed
    _, phone = register(s)
    s.clock(advance_ms=91 * 86_400_000)
    s.post("/test/v1/jobs/run")
    import time
    deadline = time.time() + 60  # a deadline: the loop ends when the report is there
    reports = []
    while time.time() < deadline:
        reports = s.query("SELECT content FROM iam_report WHERE kind = 'account_review'")
        if reports:
            break
        time.sleep(0.2)
    assert reports, "the account review job did not run"
    assert "dormant" in reports[-1]["content"]
    assert s.audit("report.account_review")


# ---- step-up, reveal, forced change, notices, four eyes, reports ---------------------

def keep_alive_past_step_up(s, *clients):
    """Moves time 400 s past the last second factor while keeping the staff
    sessions in use (admin idle limit: 4 minutes)."""
    for _ in range(2):
        s.clock(advance_ms=200_000)
        for c in clients:
            assert c.get("/admin/v1/me").status_code == 200


def test_admin_actions_need_a_recent_second_factor(staffed):
    """Disable, unlock, force, enable and creating a user: refused with
    step_up_required (audited as denied, nothing changes) until a TOTP
    step-up. req: IAM-MFA-02, IAM-RBAC-04"""
    s, admin, admin_secret, *_ = staffed
    _, phone = register(s)
    cust = login_customer(s, phone, device="su-victim")
    uid = cust.get("/api/v1/me").json()["user"]["id"]
    keep_alive_past_step_up(s, admin)
    for action in ("disable", "enable", "unlock", "force-password-change"):
        r = admin.post("/admin/v1/users/%s/%s" % (uid, action), {"reason": "test"})
        assert r.status_code == 403 and err(r) == "step_up_required", (action, r.text)
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "mshop2",
                                       "merchant_id": "mch_2", "role": "merchant_admin",
                                       "email": "mshop2@example.test"})
    assert r.status_code == 403 and err(r) == "step_up_required"
    row = s.query("SELECT status, pwd_must_change FROM iam_user WHERE id = ?", uid)[0]
    assert row == {"status": "active", "pwd_must_change": 0}
    assert s.query("SELECT COUNT(*) AS n FROM iam_user WHERE kind = 'merchant'")[0]["n"] == 0
    denied = [x for x in s.audit() if x["outcome"] == "denied" and
              x["action"] in ("user.disabled", "user.enabled", "user.unlocked",
                              "user.password_change_forced", "user.created")]
    assert len(denied) == 5 and all("step_up_required" in x["details"] for x in denied)
    assert admin.step_up("totp", totp(admin_secret, now_s(s))).status_code == 200
    r = admin.post("/admin/v1/users/%s/disable" % uid, {"reason": "test"})
    assert r.status_code == 204, r.text


def test_risk_officer_sees_personal_data_unmasked_and_it_is_audited(staffed):
    """iam.user.pii.reveal belongs to risk_officer only. req: IAM-RBAC-06, DATA-MASK-08,
    req: IAM-LP-01"""
    s, admin, _, officer, _ = staffed
    _, phone = register(s)
    a = create_operator_request(admin, "riskofc", roles=("risk_officer",)).json()["approval"]
    r = approve_operator(officer, a["id"], "riskofc")
    assert r.json()["approval"]["status"] == "executed", r.text
    initial = admin_password_from_mail("riskofc@staff.example.test")
    s.clock(advance_ms=30_000)
    risk, _ = first_login(s, "riskofc", initial, THIRD_PASSWORD, device="console-6")
    risk_id = risk.get("/admin/v1/me").json()["user"]["id"]
    users = risk.get("/admin/v1/users?kind=customer").json()["users"]
    uid = next(u["id"] for u in users if u["login"] == "****" + phone[-4:])
    r = risk.get("/admin/v1/users/%s?reveal=true" % uid)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["revealed"]["phone"] == phone and user["revealed"]["login"] == phone
    assert user["phone"] == "****" + phone[-4:]
    rec = [x for x in s.audit("user.pii_revealed") if x["outcome"] == "success"]
    assert len(rec) == 1 and rec[0]["actor_id"] == risk_id and rec[0]["object_id"] == uid
    assert "phone" in rec[0]["details"] and phone not in rec[0]["details"]
    # Nobody else: not the administrator, not the security officer.
    for c in (admin, officer):
        r = c.get("/admin/v1/users/%s?reveal=true" % uid)
        assert r.status_code == 403 and phone not in r.text
    assert len([x for x in s.audit("user.pii_revealed") if x["outcome"] == "denied"]) == 2


def test_forced_password_change_is_told_and_recorded_as_admin_force(staffed):
    """The user is told; the change they then make is recorded with reason
    admin_force, while a first change of an initial password stays
    user_change. req: IAM-PWD-11, IAM-PWD-15, IAM-PWD-12"""
    s, admin, *_ = staffed
    _, phone = register(s)
    tick(s)
    cust = login_customer(s, phone, device="forced")
    uid = cust.get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/force-password-change" % uid, {"reason": "leak"})
    assert r.status_code == 204, r.text
    sms_wait(s, phone, lambda texts: any("administrator required a change" in t for t in texts))
    c = Client(s, device="forced")
    r = c.login(phone, GOOD_PASSWORD)
    assert r.json()["state"] == "required_actions", r.text
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    reasons = [h["reason"] for h in in_time_order(s.query(
        "SELECT reason, changed_ms FROM iam_password_history WHERE user_id = ? AND kind = 'login' "
        "ORDER BY changed_ms, id", uid), "changed_ms")]
    assert reasons == ["registration", "admin_force"]
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    reasons = [h["reason"] for h in in_time_order(s.query(
        "SELECT reason, changed_ms FROM iam_password_history WHERE user_id = ? "
        "ORDER BY changed_ms, id", admin_id), "changed_ms")]
    assert reasons == ["initial", "user_change"]


def temporary_password(texts):
    """The temporary password in the last reset text, or None."""
    for t in reversed(texts):
        m = (re.search(r"temporary password is (\S+)\. You must", t) or
             re.search(r"临时密码(\S+?)。登录后", t))
        if m:
            return m.group(1)
    return None


def test_admin_issues_temporary_password_to_the_users_own_channel(staffed):
    """An administrator's reset: a random password that passes the policy
    goes to the user's bound phone, never into the answer; the old password
    and every session end; the first login must change it; the history says
    admin_reset by that administrator. req: IAM-PWD-12, IAM-PWD-15,
    req: IAM-PWD-11, IAM-PWD-01"""
    s, admin, *_ = staffed
    _, phone = register(s)
    tick(s)
    cust = login_customer(s, phone, device="reset-me")
    uid = cust.get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/reset-password" % uid, {"reason": "forgot, verified by phone"})
    assert r.status_code == 200, r.text
    tick(s)
    assert r.json() == {"user_id": uid, "delivered_to": "sms", "must_change": True}
    texts = sms_wait(s, phone, lambda t: temporary_password(t) is not None)
    temp = temporary_password(texts)
    assert temp not in r.text
    assert len(temp) >= 12
    assert all(re.search(p, temp) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    # Every session of the account ended; the old password is gone.
    assert cust.get("/api/v1/me/sessions").status_code == 401
    assert Client(s, device="reset-me").login(phone, GOOD_PASSWORD).status_code == 401
    # The temporary password opens only the forced change.
    c = Client(s, device="reset-me")
    r = c.login(phone, temp)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "required_actions"
    assert "change_password" in r.json()["required_actions"]
    r = c.get("/api/v1/me/sessions")
    assert r.status_code == 403 and err(r) == "password_change_required"
    r = c.post("/api/v1/me/password", {"current_password": temp, "new_password": THIRD_PASSWORD})
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    hist = in_time_order(s.query("SELECT reason, actor_id, changed_ms FROM iam_password_history "
                                 "WHERE user_id = ? AND kind = 'login' ORDER BY changed_ms, id",
                                 uid), "changed_ms")
    assert [(h["reason"], h["actor_id"]) for h in hist] == [
        ("registration", uid), ("admin_reset", admin_id), ("user_change", uid)]
    recs = s.audit("user.password_reset_by_admin")
    assert [x["outcome"] for x in recs] == ["success"]
    assert recs[0]["actor_id"] == admin_id and recs[0]["object_id"] == uid
    details = json.loads(recs[0]["details"])
    assert details["reason"] == "forgot, verified by phone" and details["delivered_to"] == "sms"
    assert temp not in json.dumps([dict(x) for x in s.audit()])


def test_temporary_password_refusals_change_nothing(staffed):
    """Not for one's own account, not without a bound channel, not for a
    stranger, not without the permission or a reason; each refusal leaves
    the password as it was. req: IAM-PWD-12, IAM-RBAC-01, IAM-LP-01"""
    s, admin, _, officer, _ = staffed
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/reset-password" % admin_id, {"reason": "self"})
    assert r.status_code == 403 and err(r) == "forbidden"
    # The bootstrapped officer has no bound phone or email.
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    before = s.query("SELECT pwd_hash FROM iam_user WHERE id = ?", officer_id)
    r = admin.post("/admin/v1/users/%s/reset-password" % officer_id, {"reason": "x"})
    assert r.status_code == 409 and err(r) == "no_delivery_channel", r.text
    assert s.query("SELECT pwd_hash FROM iam_user WHERE id = ?", officer_id) == before
    r = admin.post("/admin/v1/users/usr_AAAAAAAAAAAAAAAAAAAAAA/reset-password", {"reason": "x"})
    assert r.status_code == 404
    _, phone = register(s)
    uid = login_customer(s, phone, device="r2").get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/reset-password" % uid, {})
    assert r.status_code == 400
    # The security officer does not hold iam.user.force_password.
    r = officer.post("/admin/v1/users/%s/reset-password" % uid, {"reason": "x"})
    assert r.status_code == 403 and err(r) == "forbidden"
    # Only the refusal on one's own account reached the service (the
    # others stop at the route's permission, the lookup or the body).
    assert [x["outcome"] for x in s.audit("user.password_reset_by_admin")] == ["denied"]
    assert Client(s, device="r2").login(phone, GOOD_PASSWORD).json()["state"] == "active"


def mail_wait(s, address, pred, wait=30.0):
    """Waits until a mail to address has a body for which pred holds."""
    deadline = time.time() + wait
    bodies = []
    while time.time() < deadline:
        deliver(s)
        bodies = [b for _, b, _ in mails_to(address, wait=0.2)]
        if any(pred(b) for b in bodies):
            return
        time.sleep(0.05)
    raise AssertionError("no matching mail to %s: %r" % (address, bodies))


def test_staff_bind_an_email_and_get_their_notices_there(staffed):
    """A bootstrapped officer has no channel; after binding an email on the
    admin listener (bind code, step-up), the staff lockout notice and an
    administrator's temporary password reach it. req: IAM-MFA-09,
    req: IAM-LOCK-02, IAM-PWD-12"""
    s, admin, _, officer, _ = staffed
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    address = "officer-%d@example.test" % int(now_s(s))
    r = officer.send_code("bind", "email", address)
    assert r.status_code == 202, r.text
    r = officer.post("/admin/v1/me/email", {"email": address, "code": mail_code(s, address)})
    assert r.status_code == 200, r.text
    assert address not in r.text
    assert [x["outcome"] for x in s.audit("user.email_bound")] == ["success"]
    # Three wrong passwords lock a staff account; the officer is told.
    c = Client(s, admin=True, device="attacker")
    for _ in range(3):
        assert c.login("secofficer", "Wr0ng#Passw9x").status_code == 401
    # Accounts made by `anfu staff bootstrap` have the language zh.
    mail_wait(s, address, lambda b: "您的账户因连续多次验证失败已被锁定，需由管理员解锁" in b)
    # With a channel, an administrator can now issue a temporary password.
    r = admin.post("/admin/v1/users/%s/reset-password" % officer_id, {"reason": "locked out"})
    assert r.status_code == 200 and r.json()["delivered_to"] == "email", r.text
    mail_wait(s, address, lambda b: "临时密码" in b)


def test_staff_end_all_their_other_sessions(make_server):
    """DELETE /admin/v1/me/sessions ends every other session of the caller,
    not the caller's own (two staff sessions allowed here; the default is
    one). req: IAM-SESS-04, WEB-CONC-02"""
    s = make_server({"session.admin": {"max_sessions": "2"}}, init_args=("--admin", "opsadmin"))
    s.clock(freeze=True)
    admin, admin_secret = first_login(s, "opsadmin", admin_password(s.init_out), ADMIN_NEW)
    other = staff_login(s, "opsadmin", ADMIN_NEW, admin_secret, device="console-b")
    assert other.get("/admin/v1/me/sessions").status_code == 200
    r = admin.delete("/admin/v1/me/sessions")
    assert r.status_code == 204, r.text
    assert other.get("/admin/v1/me/sessions").status_code == 401
    assert admin.get("/admin/v1/me/sessions").status_code == 200


def test_disable_and_unlock_tell_the_user(staffed):
    """req: IAM-LOCK-04, IAM-ACCT-08"""
    s, admin, *_ = staffed
    _, phone = register(s)
    cust = login_customer(s, phone, device="told")
    uid = cust.get("/api/v1/me").json()["user"]["id"]
    assert admin.post("/admin/v1/users/%s/disable" % uid, {"reason": "fraud"}).status_code == 204
    sms_wait(s, phone, lambda texts: any("was disabled by an administrator" in t for t in texts))
    assert admin.post("/admin/v1/users/%s/enable" % uid, {"reason": "ok"}).status_code == 204
    for _ in range(5):
        Client(s, device="told").login(phone, "Wr0ng#Passw9x")
    assert s.query("SELECT status FROM iam_user WHERE id = ?", uid)[0]["status"] == "locked"
    assert admin.post("/admin/v1/users/%s/unlock" % uid, {"reason": "called"}).status_code == 204
    sms_wait(s, phone, lambda texts: any("was unlocked by an administrator" in t for t in texts))
    kinds = [m["kind"] for m in s.query("SELECT kind FROM notify_message WHERE user_id = ?", uid)]
    assert "account_disabled" in kinds and "account_unlocked" in kinds
    assert "account_enabled" not in kinds


def test_a_checker_cannot_decide_a_change_of_their_own_roles(staffed):
    """Filing about oneself is allowed; deciding about oneself is not.
    req: IAM-SOD-03, IAM-RBAC-02"""
    s, admin, _, officer, _ = staffed
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/approvals", {"type": "grant_role",
                                           "payload": {"user_id": officer_id,
                                                       "role": "finance"}})
    assert r.status_code == 201, r.text
    aid = r.json()["approval"]["id"]
    for verb in ("approve", "reject"):
        r = officer.post("/admin/v1/approvals/%s/%s" % (aid, verb), {})
        assert r.status_code == 403 and err(r) == "approval_self", (verb, r.text)
    assert s.query("SELECT status FROM iam_approval WHERE id = ?", aid)[0]["status"] == "pending"
    roles = {x["role"] for x in s.query("SELECT role FROM iam_user_role WHERE user_id = ?",
                                        officer_id)}
    assert roles == {"security_officer"}
    denied = [x for x in s.audit() if x["outcome"] == "denied" and x["object_id"] == aid]
    assert len(denied) == 2 and all("approval_self" in x["details"] for x in denied)


def test_checker_sees_every_field_in_full_and_the_view_is_audited(staffed):
    """The summary (which audit records carry) names the masked channel;
    the checker's view, one request or the list, shows every field of the
    payload in clear, and each view is audited without personal data.
    req: IAM-ACCT-03, IAM-PWD-12, DATA-MASK-01, DATA-MASK-03, DATA-MASK-08"""
    s, admin, _, officer, _ = staffed
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    a = create_operator_request(admin, "carla", email="carla.ops@staff.example.test")
    a = a.json()["approval"]
    assert "carla.ops" not in admin.last.text
    assert len(s.audit("approval.viewed")) == 0
    got = officer.get("/admin/v1/approvals/" + a["id"]).json()["approval"]
    assert "initial password to email car**@s**.test" in got["summary"], got["summary"]
    assert got["payload"] == {"username": "carla", "roles": ["operator"],
                              "email": "carla.ops@staff.example.test"}
    listed = officer.get("/admin/v1/approvals?status=pending").json()["approvals"]
    assert [x["payload"]["email"] for x in listed if x["id"] == a["id"]] == [
        "carla.ops@staff.example.test"]
    views = s.audit("approval.viewed")
    assert [(v["actor_id"], v["object_id"]) for v in views] == [(officer_id, a["id"]),
                                                                (officer_id, "")]
    assert all(json.loads(v["details"])["numbers"] == [a["number"]] for v in views)
    assert "carla" not in json.dumps(views)
    r = admin.post("/admin/v1/approvals", {"type": "create_operator",
                                           "payload": {"username": "pedro",
                                                       "roles": ["operator"],
                                                       "phone": "13912345678"}})
    assert r.status_code == 201, r.text
    assert "initial password to phone ****5678" in r.json()["approval"]["summary"]
    assert "13912345678" not in r.text
    assert "13912345678" not in json.dumps(s.audit())


def test_account_review_run_is_attributed_to_the_operator(staffed):
    """req: IAM-ACCT-05"""
    s, admin, *_ = staffed
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/reports/account-review")
    assert r.status_code == 201, r.text
    rep = r.json()["report"]
    assert rep["created_by"] == admin_id
    rec = s.audit("report.account_review")
    assert rec[-1]["actor_id"] == admin_id and rec[-1]["object_id"] == rep["id"]


def test_staff_cannot_reset_their_password_on_the_public_listener(staffed):
    """A staff login name is answered like an unknown one: same response,
    no codes, no account on the reset. req: IAM-RST-03, IAM-ADM-02"""
    s, admin, _, officer, _ = staffed
    a = create_operator_request(admin, "resetme").json()["approval"]
    assert approve_operator(officer, a["id"], "resetme").status_code == 200
    initial = admin_password_from_mail("resetme@staff.example.test")
    s.clock(advance_ms=30_000)
    first_login(s, "resetme", initial, THIRD_PASSWORD, device="console-7")  # email + TOTP
    settle(s)  # the sign-in notices of first_login are in the sink before counting
    mails = len(mails_to("resetme@staff.example.test"))
    answers = []
    for login in ("resetme", "nosuchstaffname"):
        c = Client(s)
        cid, ans = c.captcha("reset")
        r = c.post("/api/v1/auth/password-reset", {"login": login, "captcha_id": cid,
                                                   "captcha_answer": ans})
        assert r.status_code == 202, r.text
        answers.append(r.json())
    assert sorted(answers[0]) == sorted(answers[1]) == ["expires_at_ms", "reset_id"]
    rows = s.query("SELECT user_id, factors FROM iam_reset")
    assert rows == [{"user_id": None, "factors": ""}] * 2
    settle(s)
    assert len(mails_to("resetme@staff.example.test", wait=0)) == mails


def code_in_mail(s, address):
    """The one-time code of the (only) code mail to address; notices that
    carry a password are not code mails."""
    codes = []

    def has_code(body):
        if "password is" in body or "密码" in body:
            return False
        m = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
        if m:
            codes.append(m.group(1))
        return m is not None

    mail_wait(s, address, has_code)
    return codes[-1]


def merchant_first_login(s, name, address, new_password, device):
    """Initial login of a merchant user on the main listener: the e-mailed
    initial password, the email second factor on a new device, then the
    forced change. Returns the client with an active session."""
    initial = admin_password_from_mail(address)
    c = Client(s, device=device)
    r = c.login(name, initial)
    assert r.status_code == 200, r.text
    if r.json()["state"] == "mfa_required":
        assert c.send_code("login", "email").status_code == 202
        r = c.mfa("email", code_in_mail(s, address), trust_device=True)
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "required_actions", r.text
    r = c.post("/api/v1/me/password", {"current_password": initial,
                                       "new_password": new_password})
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    return c


def test_merchant_admin_adds_staff_of_its_own_merchant(staffed):
    """A merchant administrator creates merchant_staff accounts of its own
    merchant on the main listener; the merchant and role come from the
    caller, not the body; merchant staff cannot do it; the administrator
    lists, disables and enables its own staff and no one else. req: IAM-RBAC-05,
    req: IAM-PWD-12, IAM-LP-01, IAM-RBAC-03"""
    s, admin, *_ = staffed
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "mshop",
                                       "merchant_id": "mch_7", "role": "merchant_admin",
                                       "email": "mshop@example.test"})
    assert r.status_code == 201, r.text
    tick(s)
    boss = merchant_first_login(s, "mshop", "mshop@example.test", THIRD_PASSWORD, "shop-pc")
    r = boss.post("/api/v1/merchant/users", {"username": "mclerk",
                                             "email": "mclerk@example.test"})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["delivered_to"] == "email"
    assert "mclerk@example.test" not in r.text
    # The body cannot pick another merchant or role: those are no fields.
    r = boss.post("/api/v1/merchant/users", {"username": "mclerk2", "email": "c2@example.test",
                                             "merchant_id": "mch_8"})
    assert r.status_code == 400
    r = boss.post("/api/v1/merchant/users", {"username": "mclerk3", "email": "c3@example.test",
                                             "role": "merchant_admin"})
    assert r.status_code == 400
    rows = in_time_order(s.query(
        "SELECT u.merchant_id, r.role, u.created_ms FROM iam_user u JOIN iam_user_role r "
        "ON r.user_id = u.id WHERE u.kind = 'merchant' ORDER BY u.created_ms, u.id"),
        "created_ms")
    rows = [{"merchant_id": x["merchant_id"], "role": x["role"]} for x in rows]
    assert rows == [{"merchant_id": "mch_7", "role": "merchant_admin"},
                    {"merchant_id": "mch_7", "role": "merchant_staff"}]
    clerk = merchant_first_login(s, "mclerk", "mclerk@example.test", OTHER_PASSWORD,
                                 "clerk-pc")
    r = clerk.post("/api/v1/merchant/users", {"username": "mclerk4", "email": "c4@example.test"})
    assert r.status_code == 403 and err(r) == "forbidden"
    created = [x for x in s.audit("user.created") if x["object_id"] and
               json.loads(x["details"]).get("role") == "merchant_staff"]
    assert len(created) == 1
    assert created[0]["actor_id"] == boss.get("/api/v1/me").json()["user"]["id"]
    # The delegation can be revoked: the administrator disables and
    # enables its own staff, and no one else.
    boss_id = boss.get("/api/v1/me").json()["user"]["id"]
    clerk_id = clerk.get("/api/v1/me").json()["user"]["id"]
    # It lists its own merchant's accounts, not another merchant's.
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "mother",
                                       "merchant_id": "mch_8", "role": "merchant_admin",
                                       "email": "mother@example.test"})
    assert r.status_code == 201, r.text
    listed = boss.get("/api/v1/merchant/users?kind=customer").json()["users"]
    assert sorted(u["id"] for u in listed) == sorted([boss_id, clerk_id])
    assert "mclerk@example.test" not in boss.last.text
    assert clerk.get("/api/v1/merchant/users").status_code == 403
    _, phone = register(s)
    cust_id = login_customer(s, phone, device="m-cust").get("/api/v1/me").json()["user"]["id"]
    for target in (boss_id, cust_id):
        r = boss.post("/api/v1/merchant/users/%s/disable" % target, {"reason": "x"})
        assert r.status_code == 403 and err(r) == "forbidden", r.text
    r = boss.post("/api/v1/merchant/users/%s/disable" % clerk_id, {"reason": "left the shop"})
    assert r.status_code == 204, r.text
    assert clerk.get("/api/v1/me").status_code == 401
    assert Client(s, device="clerk-pc").login("mclerk", OTHER_PASSWORD).status_code == 401
    r = boss.post("/api/v1/merchant/users/%s/enable" % clerk_id, {"reason": "back"})
    assert r.status_code == 204, r.text
    assert Client(s, device="clerk-pc").login("mclerk", OTHER_PASSWORD).status_code == 200
    rec = [x for x in s.audit("user.disabled") if x["object_id"] == clerk_id]
    assert [(x["outcome"], x["actor_id"]) for x in rec] == [("success", boss_id)]


DAY_MS = 86_400_000


def test_validity_changes_and_retaining_a_temporary_account_resets_its_password(staffed):
    """An administrator moves the end of a temporary merchant account; a
    shorter end changes only the date, keeping the account past its end (or
    reviving it once expired) also issues a temporary password to its own
    email. req: IAM-ACCT-06, IAM-ACCT-07, IAM-PWD-12"""
    s, admin, admin_secret, *_ = staffed
    now = s.clock()
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "mtemp",
                                       "merchant_id": "mch_9", "role": "merchant_admin",
                                       "email": "mtemp@example.test", "temporary": True,
                                       "expires_at_ms": now + 10 * DAY_MS})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    initial = admin_password_from_mail("mtemp@example.test")
    url = "/admin/v1/users/%s/validity" % uid
    r = admin.post(url, {"expires_at_ms": now + 5 * DAY_MS, "reason": "project ends sooner"})
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": uid, "expires_at_ms": now + 5 * DAY_MS,
                        "password_reset": False, "delivered_to": None}
    # Temporary accounts keep an end, within accounts.temporary_max_days (30).
    for bad in (0, now + 31 * DAY_MS, now - 1):
        r = admin.post(url, {"expires_at_ms": bad, "reason": "x"})
        assert r.status_code == 400, (bad, r.text)
    # Past its end the account is expired; reviving it resets the password.
    s.clock(advance_ms=6 * DAY_MS)
    assert Client(s, device="mt").login("mtemp", initial).status_code == 401
    admin = staff_login(s, "opsadmin", ADMIN_NEW, admin_secret)
    now = s.clock()
    r = admin.post(url, {"expires_at_ms": now + 7 * DAY_MS, "reason": "retained for audit"})
    assert r.status_code == 200, r.text
    assert r.json()["password_reset"] is True and r.json()["delivered_to"] == "email"
    mail_wait(s, "mtemp@example.test", lambda b: "temporary password" in b or "临时密码" in b)
    texts = [b for _, b, _ in mails_to("mtemp@example.test")]
    temp = temporary_password(texts)
    assert temp and temp != initial
    assert Client(s, device="mt").login("mtemp", initial).status_code == 401
    r = Client(s, device="mt").login("mtemp", temp)
    assert r.status_code == 200, r.text
    recs = s.audit("user.validity_changed")
    assert [json.loads(x["details"])["temporary_issued"] for x in recs] == [False, True]
    # Customers have no validity period.
    _, phone = register(s)
    cust = login_customer(s, phone, device="v-cust").get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/validity" % cust, {"expires_at_ms": now + DAY_MS,
                                                          "reason": "x"})
    assert r.status_code == 403 and err(r) == "forbidden"


def test_handover_gives_the_account_a_new_person_and_password(staffed):
    """A merchant account passes to another person: the new name and email
    replace the old ones (the old email is told), the old password stops
    working and the new person's temporary password must be changed at the
    next login; a contact of another account is refused and changes
    nothing. req: IAM-ACCT-12, IAM-ACCT-01, IAM-PWD-12, IAM-PWD-11"""
    s, admin, *_ = staffed
    r = admin.post("/admin/v1/users", {"kind": "merchant", "username": "mdesk",
                                       "merchant_id": "mch_5", "role": "merchant_admin",
                                       "email": "old-owner@example.test"})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    tick(s)
    first = merchant_first_login(s, "mdesk", "old-owner@example.test", THIRD_PASSWORD,
                                 "desk-pc")
    tick(s)
    url = "/admin/v1/users/%s/handover" % uid
    # Another account's email: refused, nothing changed.
    _, phone = register(s)
    r = admin.post(url, {"responsible_name": "李四", "phone": phone, "reason": "x"})
    assert r.status_code == 409 and err(r) == "already_exists", r.text
    assert first.get("/api/v1/me").status_code == 200
    r = admin.post(url, {"responsible_name": "李四", "email": "new-owner@example.test",
                         "reason": "shop manager changed"})
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": uid, "delivered_to": "email", "must_change": True}
    assert "new-owner@example.test" not in r.text and "李四" not in r.text
    # Every session of the old person ended, and the old password is gone.
    assert first.get("/api/v1/me").status_code == 401
    assert Client(s, device="desk-pc").login("mdesk", THIRD_PASSWORD).status_code == 401
    mail_wait(s, "old-owner@example.test", lambda b: "handed over" in b or "移交" in b)
    mail_wait(s, "new-owner@example.test",
              lambda b: "temporary password" in b or "临时密码" in b)
    temp = temporary_password([b for _, b, _ in mails_to("new-owner@example.test")])
    r = Client(s, device="new-pc").login("mdesk", temp)
    assert r.status_code == 200, r.text
    got = admin.get("/admin/v1/users/" + uid).json()["user"]
    assert got["email"] == "new**@e**.test" and got["real_name"] == "*四"
    rec = s.audit("user.handed_over")
    assert [x["outcome"] for x in rec] == ["success"]
    assert "李四" not in rec[0]["details"] and "new-owner" not in rec[0]["details"]
    hist = in_time_order(s.query("SELECT reason, changed_ms FROM iam_password_history "
                                 "WHERE user_id = ? ORDER BY changed_ms, id", uid),
                         "changed_ms")
    assert [h["reason"] for h in hist] == ["initial", "user_change", "admin_reset"]


# ---- four eyes on every staff-account change (IAM-ACCT-03) -----------------------------

def make_operator(s, admin, officer, name, roles=("operator",), device="console-op"):
    """An approved staff account past its first login: (client, TOTP
    secret, user id). name must be unique in the test run (its mail)."""
    a = create_operator_request(admin, name, roles=roles).json()["approval"]
    r = approve_operator(officer, a["id"], name)
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    initial = admin_password_from_mail("%s@staff.example.test" % name)
    s.clock(advance_ms=30_000)
    c, secret = first_login(s, name, initial, THIRD_PASSWORD, device=device)
    return c, secret, c.get("/admin/v1/me").json()["user"]["id"]


def staff_count(s):
    return s.query("SELECT COUNT(*) AS n FROM iam_user WHERE kind = 'staff'")[0]["n"]


def test_the_maker_cannot_send_a_new_operators_password_to_themselves(staffed):
    """The four-eyes bypass: a maker files a security officer account with
    their own email. The checker sees it in full and must type the new
    person's email again: without it nothing happens, with the address of
    the HR record (not the maker's) it is refused, and no account, no
    password, no mail exists; the checker then rejects it. Only an email
    both people named ever gets an initial password.
    req: IAM-ACCT-03, IAM-SOD-03, IAM-PWD-12"""
    s, admin, _, officer, _ = staffed
    mine = "maker-mailbox@example.test"
    r = admin.post("/admin/v1/approvals", {"type": "create_operator", "payload": {
        "username": "sockpuppet", "roles": ["security_officer"], "email": mine}})
    assert r.status_code == 201, r.text
    aid = r.json()["approval"]["id"]
    assert officer.get("/admin/v1/approvals/" + aid).json()["approval"]["payload"]["email"] == mine
    url = "/admin/v1/approvals/%s/approve" % aid
    refusals = [({}, 400, "missing_field", "confirm_email"),
                ({"confirm_email": "sock.puppet@staff.example.test"}, 409,
                 "confirmation_mismatch", "confirm_email"),
                ({"confirm_email": "Maker-Mailbox@example.test", "confirm_phone": "13912340000"},
                 409, "confirmation_mismatch", "confirm_phone")]
    for body, status, code, field in refusals:
        r = officer.post(url, body)
        assert r.status_code == status, (body, r.text)
        assert err(r) == code and r.json()["error"]["field"] == field, r.text
        row = s.query("SELECT status, checker_id FROM iam_approval WHERE id = ?", aid)[0]
        assert row == {"status": "pending", "checker_id": None}
    assert staff_count(s) == 2
    assert s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = 'initial_password'"
                   )[0]["n"] == 0
    denied = [json.loads(x["details"])["reason"] for x in s.audit("approval.approved")
              if x["outcome"] == "denied"]
    assert denied == ["confirmation_mismatch"] * 2
    assert s.audit("approval.executed") == []
    assert s.query("SELECT COUNT(*) AS n FROM iam_alert")[0]["n"] == 0  # a typo is no attack
    r = officer.post("/admin/v1/approvals/%s/reject" % aid, {"note": "not the HR address"})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "rejected"
    deliver(s)
    assert mails_to(mine, wait=1) == []
    assert Client(s, admin=True).login("sockpuppet", GOOD_PASSWORD).status_code == 401


def test_disabling_and_enabling_a_staff_account_takes_two_people(staffed):
    """An administrator's disable (and enable) of a staff account only
    files a request (202) and changes nothing; the checker's approval
    disables it, ends its sessions and is recorded as the checker's with
    the approval. Customers are still disabled at once (see
    test_admin_disables_and_forces_password_change).
    req: IAM-ACCT-03, IAM-ACCT-08, IAM-SOD-03"""
    s, admin, _, officer, _ = staffed
    op, _, op_id = make_operator(s, admin, officer, "opdisable", device="console-d")
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/disable" % op_id, {"reason": "left the company"})
    assert r.status_code == 202, r.text
    a = r.json()["approval"]
    assert (a["type"], a["status"]) == ("disable_staff", "pending")
    assert op.get("/admin/v1/me").status_code == 200
    status = "SELECT status FROM iam_user WHERE id = ?"
    assert s.query(status, op_id)[0]["status"] == "active"
    assert s.audit("user.disabled") == []
    r = admin.post("/admin/v1/approvals/%s/approve" % a["id"], {})
    assert r.status_code == 403 and err(r) == "approval_self"
    r = officer.post("/admin/v1/approvals/%s/approve" % a["id"], {"note": "HR confirmed"})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    assert s.query(status, op_id)[0]["status"] == "disabled"
    assert op.get("/admin/v1/me").status_code == 401
    assert Client(s, admin=True).login("opdisable", THIRD_PASSWORD).status_code == 401
    rec = s.audit("user.disabled")
    assert [(x["outcome"], x["actor_id"]) for x in rec] == [("success", officer_id)]
    details = json.loads(rec[0]["details"])
    assert details["approval_id"] == a["id"] and details["reason"] == "left the company"
    r = admin.post("/admin/v1/users/%s/enable" % op_id, {"reason": "came back"})
    assert r.status_code == 202 and r.json()["approval"]["type"] == "enable_staff", r.text
    assert s.query(status, op_id)[0]["status"] == "disabled"
    b = r.json()["approval"]
    assert b["number"] == a["number"] + 1
    r = officer.post("/admin/v1/approvals/%s/approve" % b["id"], {})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    assert s.query(status, op_id)[0]["status"] == "active"
    r = Client(s, admin=True, device="console-d").login("opdisable", THIRD_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text


def test_staff_account_requests_refused_for_oneself(staffed):
    """Nobody files a request about their own account (forbidden, also
    through the approval API), and nobody decides one about theirs
    (approval_self); each refusal changes nothing. req: IAM-ACCT-03,
    req: IAM-SOD-03, IAM-RBAC-04"""
    s, admin, _, officer, _ = staffed
    admin_id = admin.get("/admin/v1/me").json()["user"]["id"]
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/disable" % admin_id, {"reason": "self"})
    assert r.status_code == 403 and err(r) == "forbidden"
    r = admin.post("/admin/v1/approvals", {"type": "disable_staff",
                                           "payload": {"user_id": admin_id, "reason": "self"}})
    assert r.status_code == 403 and err(r) == "forbidden"
    assert s.query("SELECT COUNT(*) AS n FROM iam_approval")[0]["n"] == 0
    r = admin.post("/admin/v1/users/%s/disable" % officer_id, {"reason": "audit"})
    assert r.status_code == 202, r.text
    aid = r.json()["approval"]["id"]
    r = officer.post("/admin/v1/approvals/%s/approve" % aid, {})
    assert r.status_code == 403 and err(r) == "approval_self"
    assert s.query("SELECT status FROM iam_user WHERE id = ?", officer_id)[0]["status"] == \
        "active"
    assert s.query("SELECT status FROM iam_approval WHERE id = ?", aid)[0]["status"] == "pending"
    # The approval API takes staff types for staff accounts only.
    _, phone = register(s)
    cust = login_customer(s, phone, device="c-dis").get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/approvals", {"type": "disable_staff",
                                           "payload": {"user_id": cust, "reason": "x"}})
    assert r.status_code == 400 and r.json()["error"]["field"] == "user_id", r.text


def test_staff_validity_and_handover_take_two_people(staffed):
    """A new validity period and a handover of a staff account are filed
    (202) and change nothing until approved; the handover's checker types
    the new person's email again, and the temporary password goes only
    there. req: IAM-ACCT-03, IAM-ACCT-06, IAM-ACCT-12, IAM-PWD-12"""
    s, admin, _, officer, _ = staffed
    op, _, op_id = make_operator(s, admin, officer, "ophandover", device="console-h")
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    until = s.clock() + 20 * DAY_MS
    r = admin.post("/admin/v1/users/%s/validity" % op_id, {"expires_at_ms": until,
                                                          "reason": "contract ends"})
    assert r.status_code == 202 and r.json()["approval"]["type"] == "staff_validity", r.text
    expires = "SELECT expires_ms FROM iam_user WHERE id = ?"
    assert s.query(expires, op_id)[0]["expires_ms"] is None
    r = officer.post("/admin/v1/approvals/%s/approve" % r.json()["approval"]["id"], {})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    assert s.query(expires, op_id)[0]["expires_ms"] == until
    rec = s.audit("user.validity_changed")
    assert [(x["outcome"], x["actor_id"]) for x in rec] == [("success", officer_id)]
    new = "ophandover-next@example.test"
    r = admin.post("/admin/v1/users/%s/handover" % op_id, {
        "responsible_name": "王五", "email": new, "reason": "new shift lead"})
    assert r.status_code == 202 and r.json()["approval"]["type"] == "handover_staff", r.text
    aid = r.json()["approval"]["id"]
    assert new not in r.text
    assert op.get("/admin/v1/me").status_code == 200
    url = "/admin/v1/approvals/%s/approve" % aid
    r = officer.post(url, {})
    assert r.status_code == 400 and err(r) == "missing_field", r.text
    r = officer.post(url, {"confirm_email": "someone-else@example.test"})
    assert r.status_code == 409 and err(r) == "confirmation_mismatch", r.text
    assert op.get("/admin/v1/me").status_code == 200
    assert s.audit("user.handed_over") == []
    r = officer.post(url, {"confirm_email": new})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    assert op.get("/admin/v1/me").status_code == 401
    mail_wait(s, new, lambda b: "temporary password" in b or "临时密码" in b)
    temp = temporary_password([b for _, b, _ in mails_to(new)])
    r = Client(s, admin=True, device="console-n").login("ophandover", temp)
    assert r.status_code == 200 and "change_password" in r.json()["required_actions"], r.text
    rec = s.audit("user.handed_over")
    assert [(x["outcome"], x["actor_id"]) for x in rec] == [("success", officer_id)]
    assert json.loads(rec[0]["details"])["approval_id"] == aid
