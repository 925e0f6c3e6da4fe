"""Ledger account states changed by operators through four eyes, over HTTPS
against a real anfud (src/ledger/api/admin.c, approvals.c; the change
itself: src/ledger/account_state.c, proved rule by rule in
tests/unit/test_ledger_state.c).

One server for the module: the first administrator (security_admin +
sysadmin), a bootstrapped security officer, and through create_operator an
operator (the maker), a risk officer (the checker) and a finance officer.
Each test opens accounts of its own through the test hooks, so tests do
not see each other's rows; the clock is frozen (no step-up runs out).
"""
import itertools

import pytest

from conftest import Server
from iam import THIRD_PASSWORD, register, login_customer
from test_iam_admin import (ADMIN_NEW, OFFICER_NEW, admin_password, admin_password_from_mail,
                            approve_operator, create_operator_request, first_login)
from test_ledger_crash import open_account

SEQ = itertools.count(1)


def err(r):
    return r.json()["error"]["code"]


def make_staff(s, admin, officer, name, role, device):
    a = create_operator_request(admin, name, roles=(role,)).json()["approval"]
    r = approve_operator(officer, a["id"], name)
    assert r.json()["approval"]["status"] == "executed", r.text
    initial = admin_password_from_mail("%s@staff.example.test" % name)
    s.clock(advance_ms=30_000)  # a fresh TOTP step
    c, _ = first_login(s, name, initial, THIRD_PASSWORD, device=device)
    return c


class Desk:
    pass


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("lstate"), init_args=("--admin", "opsadmin")).start()
    s.clock(freeze=True)
    d = Desk()
    d.s = s
    d.admin, _ = first_login(s, "opsadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "secofficer", "--role",
                    "security_officer").stdout
    d.officer, _ = first_login(s, "secofficer", admin_password(out), OFFICER_NEW,
                               device="console-2")
    d.op = make_staff(s, d.admin, d.officer, "ledgerop", "operator", "console-3")
    d.risk = make_staff(s, d.admin, d.officer, "ledgerrisk", "risk_officer", "console-4")
    d.fin = make_staff(s, d.admin, d.officer, "ledgerfin", "finance", "console-5")
    d.op_id = d.op.get("/admin/v1/me").json()["user"]["id"]
    d.risk_id = d.risk.get("/admin/v1/me").json()["user"]["id"]
    d.reserve = open_account(s, "bank_reserve", "CNY", "bank", "ICBC")
    d.merchant = open_account(s, "merchant_pending", "CNY", "merchant", "mer_state")
    yield d
    s.assert_stopped_cleanly()


def wallet(d, funds=0):
    """A customer wallet of its own, funded with funds fen from the reserve."""
    acc = open_account(d.s, "customer_wallet", "CNY", "customer", "usr_state%d" % next(SEQ))
    if funds:
        assert transfer(d, d.reserve, acc, funds) is None
    return acc


def transfer(d, dr, cr, amount):
    """Submits one transfer; returns its refusal code, None when applied."""
    r = d.s.post("/test/v1/ledger/transfers", {
        "caller": "tests", "idem_key": "k%d" % next(SEQ), "debit_account": dr,
        "credit_account": cr, "amount": amount, "asset": "CNY", "code": "payment"})
    assert r.status_code == 200, r.text
    return r.json()["code"]


def ask(maker, acc, state, reason="customer fraud report 17"):
    return maker.post("/admin/v1/ledger/accounts/%s/state" % acc,
                      {"state": state, "reason": reason})


def approve(checker, aid, acc, state, note=None):
    body = {"confirm_account_id": acc, "confirm_state": state}
    if note:
        body["note"] = note
    return checker.post("/admin/v1/ledger/approvals/%s/approve" % aid, body)


def row(d, acc):
    return d.s.query("SELECT * FROM ledger_account WHERE id = ?", acc)[0]


def state_records(d, acc):
    return [x for x in d.s.audit("ledger.account.state") if x["object_id"] == acc]


def snapshot(d, acc):
    """What a refusal must leave as it was: the account row, the ledger's
    audit records and every approval row."""
    return (row(d, acc),
            d.s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'ledger.%'"),
            d.s.query("SELECT id, status, checker_id FROM iam_approval ORDER BY id"))


def filed(d, acc, state, reason="customer fraud report 17"):
    r = ask(d.op, acc, state, reason)
    assert r.status_code == 202, r.text
    a = r.json()["approval"]
    assert a["status"] == "pending" and a["maker_id"] == d.op_id
    return a


def test_freeze_unfreeze_and_close_take_two_people(desk):
    """The operator files, the risk officer approves (typing the account and
    state again), the change runs through the writer: audited with the
    reason and the approval, transfers refused in the frozen direction only,
    allowed again after the unfreeze, and an emptied account closed.
    req: FUNC-ACCT-05, FUNC-ACCT-06, FUNC-ACCT-07, IAM-SOD-03"""
    d = desk
    acc = wallet(d, 100)
    a = filed(d, acc, "frozen_debit")
    assert a["type"] == "freeze_account" and acc in a["summary"]
    # Nothing changes before the approval.
    assert row(d, acc)["state"] == "normal" and state_records(d, acc) == []
    r = approve(d.risk, a["id"], acc, "frozen_debit", note="checked the report")
    assert r.status_code == 200, r.text
    done = r.json()["approval"]
    assert done["status"] == "executed" and done["checker_id"] == d.risk_id
    assert done["result"] == {"account_id": acc, "from": "normal", "to": "frozen_debit"}
    assert row(d, acc)["state"] == "frozen_debit"
    recs = state_records(d, acc)
    assert len(recs) == 1
    assert (recs[0]["actor_id"], recs[0]["actor_type"], recs[0]["outcome"]) == \
        (d.risk_id, "staff", "success")
    assert '"reason":"customer fraud report 17"' in recs[0]["details"]
    assert '"approval_id":"%s"' % a["id"] in recs[0]["details"]
    assert '"from":"normal"' in recs[0]["details"] and '"to":"frozen_debit"' in recs[0]["details"]
    # The operators' read of the account shows it.
    r = d.op.get("/admin/v1/ledger/accounts/%s" % acc)
    assert r.status_code == 200 and r.json()["account"]["state"] == "frozen_debit"
    assert r.json()["account"]["credits_posted"] == 100
    # Frozen for debits: a debit refused, a credit taken.
    assert transfer(d, acc, d.merchant, 1) == "account_frozen"
    assert transfer(d, d.reserve, acc, 1) is None

    a = filed(d, acc, "normal", "report withdrawn")
    assert a["type"] == "unfreeze_account"
    assert approve(d.risk, a["id"], acc, "normal").json()["approval"]["status"] == "executed"
    assert row(d, acc)["state"] == "normal"
    assert transfer(d, acc, d.merchant, 101) is None

    a = filed(d, acc, "closed", "customer asked to close")
    assert a["type"] == "close_account"
    assert approve(d.risk, a["id"], acc, "closed").json()["approval"]["status"] == "executed"
    assert row(d, acc)["state"] == "closed"
    assert transfer(d, d.reserve, acc, 1) == "account_closed"
    assert [x["details"].count('"to":"%s"' % t) for x, t in
            zip(state_records(d, acc), ("frozen_debit", "normal", "closed"))] == [1, 1, 1]


def test_each_freeze_kind_refuses_its_direction(desk):
    """frozen_credit refuses credits and takes debits; frozen refuses both.
    req: FUNC-ACCT-06"""
    d = desk
    acc = wallet(d, 10)
    a = filed(d, acc, "frozen_credit")
    assert approve(d.risk, a["id"], acc, "frozen_credit").json()["approval"]["status"] == \
        "executed"
    assert transfer(d, d.reserve, acc, 1) == "account_frozen"
    assert transfer(d, acc, d.merchant, 1) is None
    a = filed(d, acc, "frozen")
    assert approve(d.risk, a["id"], acc, "frozen").json()["approval"]["status"] == "executed"
    assert transfer(d, d.reserve, acc, 1) == "account_frozen"
    assert transfer(d, acc, d.merchant, 1) == "account_frozen"


def test_the_maker_cannot_decide_their_own_request(desk):
    """The operator who filed may neither approve nor reject it (they do not
    hold the approve permission: nobody holds both halves of one type), and
    nothing changes. req: IAM-SOD-03, IAM-SOD-01"""
    d = desk
    acc = wallet(d)
    a = filed(d, acc, "frozen")
    before = snapshot(d, acc)
    r = approve(d.op, a["id"], acc, "frozen")
    assert r.status_code == 403 and err(r) == "forbidden"
    r = d.op.post("/admin/v1/ledger/approvals/%s/reject" % a["id"], {})
    assert r.status_code == 403 and err(r) == "forbidden"
    assert snapshot(d, acc) == before
    assert d.s.query("SELECT status FROM iam_approval WHERE id = ?", a["id"])[0]["status"] == \
        "pending"


def test_roles_without_the_permission_are_refused(desk):
    """Each role class: administrators (security_admin + sysadmin, the
    security officer) and the finance officer may not file, decide or read;
    the risk officer may not file; a customer session does not reach the
    admin listener. Nothing changes. req: IAM-RBAC-01, IAM-LP-01, IAM-SOD-02"""
    d = desk
    acc = wallet(d)
    a = filed(d, acc, "frozen")
    _, phone = register(d.s)  # opens the customer's accounts: before the snapshot
    c = login_customer(d.s, phone, device="cust-state")
    before = snapshot(d, acc)
    for who in (d.admin, d.officer, d.fin):
        r = ask(who, acc, "frozen")
        assert r.status_code == 403 and err(r) == "forbidden", r.text
        r = approve(who, a["id"], acc, "frozen")
        assert r.status_code == 403 and err(r) == "forbidden", r.text
        r = who.post("/admin/v1/ledger/approvals/%s/reject" % a["id"], {})
        assert r.status_code == 403 and err(r) == "forbidden", r.text
        assert who.get("/admin/v1/ledger/accounts/%s" % acc).status_code == 403
    r = ask(d.risk, acc, "frozen")
    assert r.status_code == 403 and err(r) == "forbidden"
    assert d.risk.get("/admin/v1/ledger/accounts/%s" % acc).status_code == 200
    assert c.get("/admin/v1/ledger/accounts/%s" % acc).status_code == 404
    assert c.post("/admin/v1/ledger/accounts/%s/state" % acc,
                  {"state": "frozen", "reason": "x"}).status_code == 404
    assert snapshot(d, acc) == before


def test_bad_requests_are_refused_with_their_codes(desk):
    """Malformed or impossible requests are refused at filing with a stable
    code and file nothing. req: FUNC-ACCT-05"""
    d = desk
    acc = wallet(d)
    before = snapshot(d, acc)
    cases = [
        ({"state": "thawed", "reason": "x"}, 400, "invalid_field"),
        ({"state": "frozen"}, 400, "missing_field"),
        ({"state": "frozen", "reason": ""}, 400, "field_out_of_range"),
        ({"state": "frozen", "reason": "r" * 201}, 400, "field_out_of_range"),
        ({"state": "frozen", "reason": "two\nlines"}, 400, "invalid_text"),
        ({"state": "normal", "reason": "not frozen"}, 409, "account_state_invalid"),
    ]
    for body, status, code in cases:
        r = d.op.post("/admin/v1/ledger/accounts/%s/state" % acc, body)
        assert (r.status_code, err(r)) == (status, code), (body, r.text)
    r = ask(d.op, "acc_" + "Z" * 22, "frozen")
    assert (r.status_code, err(r)) == (404, "account_not_found")
    r = ask(d.op, "acc_short", "frozen")
    assert (r.status_code, err(r)) == (404, "not_found")
    assert d.op.get("/admin/v1/ledger/accounts/acc_" + "Z" * 22).status_code == 404
    assert snapshot(d, acc) == before
    # The longest reason the API takes is filed.
    assert ask(d.op, acc, "frozen", "r" * 200).status_code == 202


def test_confirmation_must_match_and_the_request_stays_pending(desk):
    """The checker types the account and the state again: missing or
    different leaves the request pending and the account as it was.
    req: IAM-SOD-03"""
    d = desk
    acc, other = wallet(d), wallet(d)
    a = filed(d, acc, "frozen")
    before = snapshot(d, acc)
    r = d.risk.post("/admin/v1/ledger/approvals/%s/approve" % a["id"], {})
    assert (r.status_code, err(r)) == (400, "missing_field")
    r = d.risk.post("/admin/v1/ledger/approvals/%s/approve" % a["id"],
                    {"confirm_account_id": acc})
    assert (r.status_code, err(r)) == (400, "missing_field")
    r = approve(d.risk, a["id"], other, "frozen")
    assert (r.status_code, err(r)) == (409, "confirmation_mismatch")
    r = approve(d.risk, a["id"], acc, "frozen_debit")
    assert (r.status_code, err(r)) == (409, "confirmation_mismatch")
    assert snapshot(d, acc) == before
    assert approve(d.risk, a["id"], acc, "frozen").json()["approval"]["status"] == "executed"


def test_close_with_a_balance_fails_and_changes_nothing(desk):
    """A close is filed, but at approval the ledger finds money on the
    account: the request fails with account_not_empty and the account stays
    as it was (no state record). req: FUNC-ACCT-06"""
    d = desk
    acc = wallet(d, 5)
    a = filed(d, acc, "closed")
    before_row = row(d, acc)
    r = approve(d.risk, a["id"], acc, "closed")
    assert r.status_code == 200, r.text
    got = r.json()["approval"]
    assert got["status"] == "failed" and got["result"] == {"error": "account_not_empty"}
    assert row(d, acc) == before_row and state_records(d, acc) == []
    failed = [x for x in d.s.audit("approval.failed") if x["object_id"] == a["id"]]
    assert len(failed) == 1 and "account_not_empty" in failed[0]["details"]


def test_rejected_request_changes_nothing(desk):
    """A rejected request changes no account; it cannot be approved later.
    req: IAM-SOD-03"""
    d = desk
    acc = wallet(d)
    a = filed(d, acc, "frozen")
    before_row = row(d, acc)
    r = d.risk.post("/admin/v1/ledger/approvals/%s/reject" % a["id"], {"note": "no grounds"})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "rejected"
    assert row(d, acc) == before_row and state_records(d, acc) == []
    r = approve(d.risk, a["id"], acc, "frozen")
    assert (r.status_code, err(r)) == (409, "approval_not_pending")
    assert row(d, acc) == before_row


def test_closed_is_terminal(desk):
    """Nothing is filed for a closed account. req: FUNC-ACCT-05"""
    d = desk
    acc = wallet(d)
    a = filed(d, acc, "closed")
    assert approve(d.risk, a["id"], acc, "closed").json()["approval"]["status"] == "executed"
    before = snapshot(d, acc)
    for state in ("normal", "frozen", "closed"):
        r = ask(d.op, acc, state)
        assert (r.status_code, err(r)) == (409, "account_closed"), state
    assert snapshot(d, acc) == before
