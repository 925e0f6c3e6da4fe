"""Refunds of escrow orders (FUNC-SETL-08/10, FUNC-PAY-02/03), over HTTPS
against a real anfud (src/pay/refund.c's execution, src/pay/escrow.c's
anfu_pay_escrow_refund_in; docs/payments.md, "Refunds", "Escrow orders").

While the order is escrow_held a refund comes out of the escrow (the payer
has it back at once, no fee back: none was charged), through every refund
path (merchant application, customer request, operator review, batch); the
release (confirmation or the deadline) then moves only the rest to the
merchant and charges the fee on it; after the release a refund is an
ordinary one from the merchant's balance with a share of the release's
fee back. Balances are read on the ledger's accounts as (posted, pending).
"""
import json
import threading
import uuid

import pytest

from conftest import Server
from pay import create_order, err, make_desk, merchant_user, register_merchant
from test_pay_escrow import account, confirm, escrow_row, pay, release_job, state_of
from test_pay_refund import batch, item, refund, request, review
from test_receipts import keyfile_from_api, py_verify
from test_wallet_transfers import balance, customer

AUTO_MAX = 6000
DAY_MS = 86400 * 1000


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("payrfdesc"), init_args=("--admin", "opsadmin"),
               config={"lockout": {"ip_failures": "10000"},
                       "pay": {"expire_interval_s": "86400",
                               "refund_auto_max": str(AUTO_MAX),
                               "refund_four_eyes_min": "20000",
                               "refund_retry_interval_s": "600"},
                       "wallet": {"sms_confirm_over": "100000000000"}}).start()
    d = make_desk(s, "payrfe")
    register_merchant(d, "mch_rfe", fee_bps=100)
    register_merchant(d, "mch_rfe3", fee_bps=100, escrow_days=3)
    d.boss = merchant_user(d, "mch_rfe")
    d.boss3 = merchant_user(d, "mch_rfe3")
    yield d
    s.stop()
    out = s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    s.assert_stopped_cleanly()


def books(d, c, merchant="mch_rfe"):
    """(payer wallet, merchant_pending, platform_escrow, platform_fee)."""
    s = d.s
    return (account(s, "customer_wallet", c.id), account(s, "merchant_pending", merchant),
            account(s, "platform_escrow", "platform"), account(s, "platform_fee", "platform"))


def snapshot(d, c, merchant="mch_rfe"):
    s = d.s
    return (books(d, c, merchant),
            s.query("SELECT COUNT(*) AS n FROM ledger_transfer")[0]["n"],
            [tuple(r.values()) for r in s.query("SELECT * FROM pay_escrow ORDER BY order_id")],
            [tuple(r.values()) for r in s.query("SELECT * FROM pay_refund ORDER BY id")],
            [tuple(r.values()) for r in s.query(
                "SELECT id, state FROM pay_order WHERE state NOT IN ('created', 'closed')"
                " ORDER BY id")],
            # pay's own records (confirming verifies the PIN first: iam's),
            # but the expiry job's, which a move of the clock may run.
            len([a for a in s.audit() if a["action"].startswith("pay.")
                 and a["action"] != "pay.order.expired"]))


def held_order(d, c, amount, boss=None):
    o = create_order(boss or d.boss, amount=amount, kind="escrow")
    r = pay(c, o["id"])
    assert r.status_code == 201, r.text
    assert state_of(d, o["id"]) == "escrow_held"
    return o


def plus(acc, posted=0, pending=0):
    return (acc[0] + posted, acc[1] + pending)


def transfers(d, order_id):
    return [(t["idem_key"], t["amount"], t["code"]) for t in d.s.query(
        "SELECT idem_key, amount, code FROM ledger_transfer WHERE ref = ? ORDER BY seq",
        order_id)]


def test_refunds_of_a_held_order_come_out_of_the_escrow_and_the_release_takes_the_rest(
        d, tmp_path):
    """A merchant's refund, a customer's request the merchant accepts and a
    batch item, all during escrow: the payer has each back at once, no fee
    back, the order stays escrow_held, the merchant and the fee income do
    not move; the payer's confirmation releases amount - refunds less the
    fee on that only. Then refunds after the release are ordinary (from the
    merchant's balance, the release's fee back pro rata) until refunded.
    The escrow refund's receipt verifies.
    req: FUNC-PAY-02, FUNC-SETL-08, FUNC-SETL-09, FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=10000)
    o = held_order(d, c, 10000)
    w0, m0, e0, f0 = books(d, c)
    assert w0 == (10000, -10000)
    r = refund(d.boss, o["id"], 3000, reason="少发一件")
    assert r.status_code == 201, r.text
    x = r.json()
    assert x["state"] == "succeeded" and x["fee_back"] == 0 and x["reviewed_by"] == "rules"
    assert state_of(d, o["id"]) == "escrow_held"
    assert balance(c) == 3000
    # The hold's post of what stays (7000) gives 3000 back to the wallet.
    assert books(d, c) == ((3000, 0), m0, plus(e0, 7000, -10000), f0)
    assert transfers(d, o["id"])[1:] == [("pay.%s.escrow.post" % o["id"], 7000, "escrow_post")]
    assert x["ledger_transfer"] == s.query(
        "SELECT id FROM ledger_transfer WHERE idem_key = ?",
        "pay.%s.escrow.post" % o["id"])[0]["id"]
    assert escrow_row(d, o["id"])["refunded"] == 3000
    # A customer's request, accepted: out of the posted escrow.
    r = request(c, o["id"], 2000)
    assert r.status_code == 201 and r.json()["state"] == "requested", r.text
    rq = r.json()
    r = d.boss.post("/api/v1/merchant/refunds/%s/accept" % rq["id"], {})
    assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
    assert r.json()["fee_back"] == 0
    # A batch item.
    r = batch(d.boss, [item(o["id"], 1000)])
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert books(d, c) == ((6000, 0), m0, plus(e0, 4000, -10000), f0)
    assert transfers(d, o["id"])[2:] == [
        ("refund.%s" % rq["id"], 2000, "refund"),
        ("refund.%s" % r.json()["results"][0]["refund"]["id"], 1000, "refund")]
    assert state_of(d, o["id"]) == "escrow_held"
    assert escrow_row(d, o["id"])["refunded"] == 6000
    # The release: 4000 to the merchant, the fee 1% of 4000 only.
    r = confirm(c, o["id"])
    assert r.status_code == 200, r.text
    assert r.json()["escrow"]["left"] == 4000 and r.json()["escrow"]["fee"] == 40
    assert books(d, c) == ((6000, 0), plus(m0, 4000 - 40), plus(e0, 0, -10000), plus(f0, 40))
    assert state_of(d, o["id"]) == "escrow_released"
    # After the release: ordinary refunds, the release's fee back pro rata.
    r = refund(d.boss, o["id"], 1000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert r.json()["fee_back"] == 10
    e1 = plus(e0, 0, -10000)
    assert books(d, c) == ((7000, 0), plus(m0, 4000 - 40 - 1000 + 10), e1, plus(f0, 30))
    assert state_of(d, o["id"]) == "partially_refunded"
    r = refund(d.boss, o["id"], 3000)
    assert r.status_code == 201 and r.json()["fee_back"] == 30, r.text
    assert books(d, c) == ((10000, 0), m0, e1, f0)
    assert state_of(d, o["id"]) == "refunded"
    # Nothing is left: one fen more is refused.
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 1)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert snapshot(d, c) == before
    # The escrow refund's receipt, verified offline and by the CLI.
    r = c.http.get("/api/v1/me/receipts/refund/%s" % x["id"])
    assert r.status_code == 200, r.text
    body = r.json()["body"]
    assert body["kind"] == "refund" and body["amount"] == 3000 and body["memo"] == "少发一件"
    assert body["ledger_transfers"] == [x["ledger_transfer"]]
    _, keys = keyfile_from_api(s, tmp_path)
    doc = tmp_path / "escrow-refund.json"
    doc.write_bytes(r.content)
    p = py_verify(doc, keys)
    assert p.returncode == 0 and "receipt verified" in p.stdout, p.stderr
    p = s.cli_run("receipts", "verify", str(doc))
    assert "receipt verified" in p.stdout


def test_a_full_refund_of_a_held_order_voids_the_hold(d):
    """All of it during escrow: the hold is voided (the wallet has it all
    back, nothing posted), the order refunded; confirming is refused and
    nothing is ever released. req: FUNC-PAY-02, FUNC-SETL-08"""
    s = d.s
    c = customer(s, funds=800)
    o = held_order(d, c, 800)
    w0, m0, e0, f0 = books(d, c)
    r = refund(d.boss, o["id"], 800)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert state_of(d, o["id"]) == "refunded"
    assert books(d, c) == ((800, 0), m0, plus(e0, 0, -800), f0)
    assert [t[2] for t in transfers(d, o["id"])] == ["escrow_hold", "escrow_void"]
    acts = [a["action"] for a in s.audit() if a["object_id"] in (r.json()["id"], o["id"])]
    for a in ("pay.refund.applied", "pay.refund.approved", "pay.refund.succeeded",
              "pay.order.refunded"):
        assert acts.count(a) == 1, (a, acts)
    before = snapshot(d, c)
    r = confirm(c, o["id"])
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    r = refund(d.boss, o["id"], 1)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert snapshot(d, c) == before


def test_racing_refunds_of_a_held_order_cannot_both_pass(d):
    """Two refunds of 60% of one held order at once: the writer orders
    them; one comes out of the escrow, the other is refused.
    req: FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=4000)
    o = held_order(d, c, 4000)
    out = []

    def go():
        out.append(refund(d.boss, o["id"], 2400))

    ts = [threading.Thread(target=go) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(r.status_code for r in out) == [201, 409], [r.text for r in out]
    assert [err(r) for r in out if r.status_code == 409] == ["refund_amount_exceeded"]
    assert balance(c) == 2400
    assert escrow_row(d, o["id"])["refunded"] == 2400
    assert s.query("SELECT COUNT(*) AS n FROM pay_refund WHERE order_id = ?",
                   o["id"])[0]["n"] == 1
    assert state_of(d, o["id"]) == "escrow_held"


def test_refusals_of_escrow_refunds_change_nothing(d):
    """Over what is left after a refund during escrow, and an unpaid escrow
    order: refused with their codes; nothing moves (books, escrow rows,
    refunds, orders, audit). req: FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=3000)
    o = held_order(d, c, 3000)
    unpaid = create_order(d.boss, amount=500, kind="escrow")
    assert refund(d.boss, o["id"], 1000).status_code == 201
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 2001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    r = request(c, o["id"], 2001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    r = refund(d.boss, unpaid["id"], 100)
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    r = batch(d.boss, [item(o["id"], 2001), item(unpaid["id"], 1)])
    assert r.status_code == 200 and r.json()["refused"] == 2, r.text
    assert snapshot(d, c) == before


def test_an_operator_approves_a_held_refund_out_of_the_escrow_or_after_the_release(d):
    """Above the rules the refund waits in review (nothing moves, its
    amount counts against the order); approved while the order is held it
    comes out of the escrow; one still in review when the payer confirms
    is executed, once approved, from the merchant's balance with the
    release's fee back. req: FUNC-OPS-04, FUNC-SETL-08, FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=30000)
    o = held_order(d, c, 20000)
    w0, m0, e0, f0 = books(d, c)
    r = refund(d.boss, o["id"], AUTO_MAX + 1)
    assert r.status_code == 201 and r.json()["state"] == "reviewing", r.text
    x = r.json()
    assert books(d, c) == (w0, m0, e0, f0)
    r = refund(d.boss, o["id"], 20000 - AUTO_MAX)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    r = review(d.op, x["id"], "approve")
    assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
    assert r.json()["fee_back"] == 0
    assert state_of(d, o["id"]) == "escrow_held"
    assert books(d, c) == ((AUTO_MAX + 1 + 10000, 0), m0,
                           plus(e0, 20000 - AUTO_MAX - 1, -20000), f0)
    # Another in review across the release.
    y = refund(d.boss, o["id"], 7000).json()
    assert y["state"] == "reviewing"
    r = confirm(c, o["id"])
    assert r.status_code == 200, r.text
    left = 20000 - AUTO_MAX - 1  # 13999: the one in review is not deducted
    fee = r.json()["escrow"]["fee"]
    assert r.json()["escrow"]["left"] == left and fee == 140  # 139.99 rounds half up
    assert books(d, c)[1] == plus(m0, left - fee)
    r = review(d.op, y["id"], "approve")
    assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
    back = fee * 7000 // left  # 70
    assert r.json()["fee_back"] == back
    assert books(d, c) == ((AUTO_MAX + 1 + 10000 + 7000, 0), plus(m0, left - fee - 7000 + back),
                           plus(e0, 0, -20000), plus(f0, fee - back))
    assert state_of(d, o["id"]) == "partially_refunded"


def test_a_dispute_about_a_held_order_refunds_out_of_the_escrow(d):
    """The payer of a held order complains (not received); the operator's
    resolution refunds through the refund's command (origin dispute,
    above the rules too): out of the escrow, the order still held for the
    rest; resolving again changes nothing. req: FUNC-PAY-13, FUNC-PAY-02"""
    s = d.s
    c = customer(s, funds=9000)
    o = held_order(d, c, 9000)
    r = c.http.post("/api/v1/me/disputes", {"kind": "order", "ref": o["id"],
                                            "category": "not_received",
                                            "description": "没有收到 / not received"})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    s.clock(advance_ms=1)
    assert d.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    w0, m0, e0, f0 = books(d, c)
    body = {"resolution": "退款 70 元", "refund_amount": AUTO_MAX + 1000}
    r = d.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.status_code == 200, r.text
    assert r.json()["refund"] == {"amount": AUTO_MAX + 1000, "state": "done"}, r.text
    rows = s.query("SELECT origin, state, fee_back FROM pay_refund WHERE order_id = ?", o["id"])
    assert [tuple(x.values()) for x in rows] == [("dispute", "succeeded", 0)]
    assert books(d, c) == ((AUTO_MAX + 1000, 0), m0, plus(e0, 9000 - AUTO_MAX - 1000, -9000), f0)
    assert state_of(d, o["id"]) == "escrow_held"
    assert escrow_row(d, o["id"])["refunded"] == AUTO_MAX + 1000
    before = snapshot(d, c)
    again = d.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert again.status_code == 200, again.text
    assert snapshot(d, c) == before


def test_a_frozen_or_closed_wallet_refuses_an_escrow_refund_and_nothing_changes(d):
    """No bank here (so no bound card): the refund can go back to the
    payer's wallet only (with a card: tests/api/test_pay_refund_escrow_card.py;
    docs/payments.md, "Escrow orders"): a frozen wallet refuses
    the escrow's part (account_frozen), a closed one too (account_closed);
    the refund is not written, nothing moves; unfrozen, it passes.
    req: FUNC-SETL-08"""
    s = d.s
    c = customer(s, funds=1000)
    o = held_order(d, c, 1000)
    assert refund(d.boss, o["id"], 400).status_code == 201  # the hold posted: 600 held
    r = s.post("/test/v1/wallet/state", {"user_id": c.id, "state": "frozen"})
    assert r.status_code == 200 and r.json()["code"] is None, r.text
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 100)
    assert r.status_code == 409 and err(r) == "account_frozen", r.text
    assert snapshot(d, c) == before
    r = s.post("/test/v1/wallet/state", {"user_id": c.id, "state": "normal"})
    assert r.status_code == 200 and r.json()["code"] is None, r.text
    r = refund(d.boss, o["id"], 100)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    # Spent to zero, then closed: the escrow's money has nowhere to go.
    spend = create_order(d.boss, amount=500)
    assert pay(c, spend["id"]).status_code == 201 and balance(c) == 0
    r = s.post("/test/v1/wallet/state", {"user_id": c.id, "state": "closed"})
    assert r.status_code == 200 and r.json()["code"] is None, r.text
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 100)
    assert r.status_code == 409 and err(r) == "account_closed", r.text
    assert snapshot(d, c) == before
    assert escrow_row(d, o["id"])["refunded"] == 500 and state_of(d, o["id"]) == "escrow_held"


def test_the_deadline_releases_only_what_the_refunds_left(d):
    """A refund during escrow, then the deadline (the merchant's 3 days):
    a millisecond before the job releases nothing; at it, amount - refund
    goes to the merchant less the fee on that; the order refunded in full
    earlier is never released. Last in the module: it moves the clock by
    days. req: FUNC-PAY-02, FUNC-PAY-03"""
    s = d.s
    s.hold_jobs("pay.escrow_release")
    try:
        c = customer(s, funds=5000)
        o = held_order(d, c, 5000, boss=d.boss3)
        assert refund(d.boss3, o["id"], 1000).status_code == 201
        vc = customer(s, funds=300)
        voided = held_order(d, vc, 300, boss=d.boss3)["id"]
        assert refund(d.boss3, voided, 300).status_code == 201
        vbooks = books(d, vc, "mch_rfe3")
        w0, m0, e0, f0 = books(d, c, "mch_rfe3")
        due = escrow_row(d, o["id"])["release_ms"]
        now = s.clock(advance_ms=0)
        s.clock(advance_ms=due - 1 - now)
        before = snapshot(d, c, "mch_rfe3")
        assert release_job(d) == 0
        assert snapshot(d, c, "mch_rfe3") == before
        s.clock(advance_ms=1)
        assert release_job(d) == 1
        assert state_of(d, o["id"]) == "escrow_released"
        assert books(d, c, "mch_rfe3") == (w0, plus(m0, 4000 - 40), plus(e0, -4000),
                                           plus(f0, 40))
        row = escrow_row(d, o["id"])
        assert row["released_by"] == "deadline" and row["fee"] == 40
        rec = [json.loads(a["details"]) for a in s.audit("pay.escrow.released")
               if a["object_id"] == o["id"]]
        assert len(rec) == 1 and rec[0]["refunded"] == 1000 and rec[0]["released"] == 4000
        # The one refunded in full during escrow: never released.
        assert state_of(d, voided) == "refunded" and escrow_row(d, voided)["released_ms"] is None
        assert books(d, vc, "mch_rfe3")[0] == vbooks[0] == (300, 0)
    finally:
        s.release_jobs("pay.escrow_release")
