"""The wallet tour and the payments tour (tools/tour.py, README.md "The
wallet tour", "The payments tour") walked end to end: a test-hooks anfud
with the real simulator bank (tests/api/banksim.py), the tour run as a
person would run it, with --captcha-hook instead of a person reading the
captchas (and the test clock moved to a fresh TOTP step instead of waiting
for it) and --settle-now instead of waiting for the simulator's delay. The
end state is checked through the API and the database, not through what
the tour printed."""
import json
import os
import subprocess

from banksim import banksim  # noqa: F401 (fixture)
from conftest import ANFU, ROOT
from iam import admin_password, login_customer

TOUR = os.path.join(ROOT, "tools", "tour.py")
TOPUP, TRANSFER, WITHDRAW = 100000, 20000, 30000
ORDER, REFUND = 12345, 2343


def run_tour(s, sim, tmp_path, *extra, first=True):
    """Runs the tour; first: with the administrator's initial password
    (later runs log the staff in from DATA/tour-staff.json)."""
    summary = tmp_path / "tour.json"
    if summary.exists():
        summary.unlink()
    admin = ["--admin-password=" + admin_password(s.init_out)] if first else []
    p = subprocess.run(["/usr/bin/python3", TOUR, "--base-url", s.url(""),
                        "--admin-url", s.url("", admin=True), "--bank-url", sim.url(""),
                        "--data", str(s.data), "--bank-ca", sim.cert, "--captcha-hook",
                        "--settle-now", "--summary", str(summary), *admin,
                        "--anfu", s.cli or ANFU, *extra],
                       capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    return p, json.loads(summary.read_text()) if summary.exists() else None


def wallet(s, uid):
    row = s.query("SELECT credits_posted - debits_posted AS bal, debits_pending AS held "
                  "FROM ledger_account WHERE owner_id = ? AND kind = 'customer_wallet'", uid)
    return row[0]["bal"], row[0]["held"]


def test_the_tour_walks_the_wallet_path(make_server, banksim, tmp_path):
    """req: FUNC-PAY-07, FUNC-PAY-08, FUNC-PAY-15, FUNC-ACCT-16 — the tour
    registers A and B, binds A's card, tops up (credited once the bank
    confirms), transfers to B, withdraws when the build has withdrawals, and
    each movement is a row of A's history with the balance after it."""
    s = make_server(config=banksim.config(), init_args=("--admin", "opsadmin"))
    banksim.peer(s)
    p, out = run_tour(s, banksim, tmp_path)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr
    a, b = out["a"], out["b"]

    # the top-up: the bank's payment succeeded and was A's, from A's card
    pay = s.query("SELECT user_id, card_id, kind, amount, state FROM bank_payment "
                  "WHERE id = ?", out["topup_id"])
    assert pay == [{"user_id": a["user_id"], "card_id": out["card_id"], "kind": "debit",
                    "amount": TOPUP, "state": "succeeded"}]
    card = s.query("SELECT user_id, state FROM bank_card WHERE id = ?", out["card_id"])
    assert card == [{"user_id": a["user_id"], "state": "bound"}]
    # the transfer A -> B
    trf = s.query("SELECT payer_id, payee_id, amount FROM wallet_transfer WHERE id = ?",
                  out["transfer_id"])
    assert trf == [{"payer_id": a["user_id"], "payee_id": b["user_id"], "amount": TRANSFER}]

    # the withdrawal, when this build has it: succeeded, amount + fee taken
    w = out["withdrawal"]
    if w is None:
        assert "withdrawal not available in this build" in p.stdout
        assert s.get("/api/v1/me/withdrawals").status_code == 404
        spent = 0
    else:
        assert w["state"] == "succeeded", w
        row = s.query("SELECT user_id, card_id, amount, fee, state FROM bank_withdrawal "
                      "WHERE id = ?", w["id"])
        assert [(r["user_id"], r["card_id"], r["amount"], r["state"]) for r in row] == [
            (a["user_id"], out["card_id"], WITHDRAW, "succeeded")]
        spent = WITHDRAW + row[0]["fee"]

    a_left = TOPUP - TRANSFER - spent  # after the wallet tour (step 10)
    a_end = a_left - ORDER + REFUND    # after the payments tour
    assert wallet(s, a["user_id"]) == (a_end, 0)
    assert wallet(s, b["user_id"]) == (TRANSFER, 0)
    assert (a["available"], b["available"]) == (a_left, TRANSFER)

    # A's history as A sees it: every movement with the balance after it
    c = login_customer(s, a["phone"], password=out["a"]["password"], device="check-a")
    items = c.get("/api/v1/me/transactions").json()["items"]
    rows = [(i["type"], i["direction"], i["amount"], i["balance"]) for i in items]
    expect = [("transfer_out", "out", TRANSFER, TOPUP - TRANSFER),
              ("top_up", "in", TOPUP, TOPUP)]
    if w is not None:
        expect.insert(0, ("withdrawal", "out", spent, a_left))
    expect[:0] = [("refund", "in", REFUND, a_end), ("payment", "out", ORDER, a_left - ORDER)]
    assert rows == expect
    assert c.get("/api/v1/me/balance").json()["available"] == a_end
    check_payments(s, out, a, c, tmp_path)
    c = login_customer(s, b["phone"], password=out["b"]["password"], device="check-b")
    items = c.get("/api/v1/me/transactions").json()["items"]
    assert [(i["type"], i["amount"], i["balance"]) for i in items] == [
        ("transfer_in", TRANSFER, TRANSFER)]

    s.stop()
    v = s.cli_run("ledger", "verify")
    assert v.returncode == 0 and v.stdout.startswith("OK"), v.stdout + v.stderr


def check_payments(s, out, a, c, tmp_path):
    """req: FUNC-PAY-01, FUNC-PAY-19, FUNC-SETL-08, WEB-KBD-01 — the payments
    tour: the merchant's order paid by A through the cashier page's keypad,
    refunded in part by the merchant, both receipts verifiable offline."""
    pay = out["payments"]
    order = s.query("SELECT merchant_id, amount, state FROM pay_order WHERE id = ?",
                    pay["order_id"])
    assert order == [{"merchant_id": pay["merchant_id"], "amount": ORDER,
                      "state": "partially_refunded"}]
    assert pay["order_state"] == "partially_refunded"
    row = s.query("SELECT id, payer_id, amount, fee FROM pay_payment WHERE order_id = ?",
                  pay["order_id"])
    assert row == [{"id": pay["payment_id"], "payer_id": a["user_id"], "amount": ORDER,
                    "fee": 74}]  # 0.6 % of 123.45 yuan, half up
    # The keypad the tour pressed (the cashier page's) was A's and is used up.
    kp = s.query("SELECT user_id, used FROM web_keypad WHERE user_id = ?", a["user_id"])
    assert kp == [{"user_id": a["user_id"], "used": 1}]
    ref = s.query("SELECT order_id, amount, state FROM pay_refund WHERE id = ?",
                  pay["refund_id"])
    assert ref == [{"order_id": pay["order_id"], "amount": REFUND, "state": "succeeded"}]
    assert pay["a_available"] == a["available"] - ORDER + REFUND
    # The merchant has one user, a merchant administrator, active (past its
    # first login and forced password change).
    u = s.query("SELECT u.kind, u.status, r.role FROM iam_user u JOIN iam_user_role r "
                "ON r.user_id = u.id WHERE u.merchant_id = ?", pay["merchant_id"])
    assert u == [{"kind": "merchant", "status": "active", "role": "merchant_admin"}]

    # Both receipts, downloaded again by A, verify with the Python verifier
    # (not the tour's word for it) and name the facts.
    keys = tmp_path / "keys.json"
    keys.write_bytes(s.get("/api/v1/receipts/keys").content)
    for kind, ref_id, amount in (("payment", pay["payment_id"], ORDER),
                                 ("refund", pay["refund_id"], REFUND)):
        r = c.get("/api/v1/me/receipts/%s/%s" % (kind, ref_id))
        assert r.status_code == 200, r.text
        f = tmp_path / ("%s.json" % kind)
        f.write_bytes(r.content)
        v = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "verify_receipt.py"),
                            str(f), "--key", str(keys)], capture_output=True, text=True)
        assert v.returncode == 0 and v.stdout.startswith("receipt verified"), v.stdout + v.stderr
        body = json.loads(r.content)["body"]
        assert body == pay["receipts"][kind]["body"]
        assert body["amount"] == amount and body["kind"] == kind, body


def test_a_second_run_logs_the_same_staff_in(make_server, banksim, tmp_path):
    """The payments tour again on the same data: the staff of the first run
    (DATA/tour-staff.json, mode 0600) log in with password + TOTP, no new
    staff are made, and a second merchant's order is paid and refunded.
    Without the file and without --admin-password it is skipped, said so.
    req: IAM-MFA-13"""
    s = make_server(config=banksim.config(), init_args=("--admin", "opsadmin"))
    banksim.peer(s)
    p, _ = run_tour(s, banksim, tmp_path, first=False)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr
    assert "The payments tour is skipped" in p.stdout
    staff = "SELECT COUNT(*) AS n FROM iam_user WHERE kind = 'staff'"
    assert s.query(staff) == [{"n": 1}] and s.query("SELECT COUNT(*) AS n FROM pay_order") == \
        [{"n": 0}]
    p, one = run_tour(s, banksim, tmp_path)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr
    kept = s.data / "tour-staff.json"
    assert os.stat(kept).st_mode & 0o777 == 0o600
    names = {k: v["name"] for k, v in json.loads(kept.read_text()).items()}
    assert sorted(names) == ["admin", "officer", "operator"] and names["admin"] == "opsadmin"
    assert s.query(staff) == [{"n": 3}]
    p, two = run_tour(s, banksim, tmp_path, first=False)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr
    assert s.query(staff) == [{"n": 3}]
    assert {k: v["name"] for k, v in json.loads(kept.read_text()).items()} == names
    assert one["payments"]["merchant_id"] != two["payments"]["merchant_id"]
    for run in (one, two):
        pay = run["payments"]
        assert s.query("SELECT state FROM pay_order WHERE id = ?", pay["order_id"]) == [
            {"state": "partially_refunded"}]
