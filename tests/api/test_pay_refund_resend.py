"""A refund whose card credit failed is sent again, by an operator, to
another bound card of the payer (issue 11: "or to another account of the
payer when the original cannot take it"; WeChat Pay's abnormal refund,
异常退款; docs/payments.md "A failed refund sent again"; src/pay/refund.c
anfu_pay_refund_resend, card_result; src/bank/withdraw.c
anfu_bank_refund_credit_in's attempt; route POST
/admin/v1/refunds/{id}/resend), over HTTPS against a real anfud and the
real simulator bank.

The server of tests/api/test_pay_refund_card.py (card_desk: mch_rc at 60
bps, the rules approve up to 9000 fen), a finance officer and a merchant
clerk. Every payer has two bound cards (tests/api/test_pay_refund_card_choice.py
payer(): c.newest, the one a refund goes to without a choice, and c.older).
The last test moves both clocks.
"""
import json

import pytest

from iam import Client, sms_to
from pay import create_order, err, merchant_staff
from test_bank_topup import IDNO, NAME, bind, new_card, topup
from test_ledger_state import make_staff
from test_pay_escrow import escrow_row
from test_pay_general import pay
from test_pay_refund import ledger_move
from test_pay_refund_card import (AUTO_MAX, acct, books, card_desk, customer, moved, order_state,
                                  paid_order, refund, refund_row, serial, wallet_state)
from test_pay_refund_card_choice import payer, unchanged, verify


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    for d in card_desk(tmp_path_factory, "payrrs"):
        s = d.s
        d.fin = make_staff(s, d.admin, d.officer, "payrrsfin", "finance", "console-6")
        d.clerk = merchant_staff(d, d.boss)
        d.op_id = d.op.get("/admin/v1/me").json()["user"]["id"]
        # The bank's reserve covers the credits these tests have paid.
        funder = customer(d, funds=0)
        r = topup(funder.http, funder.card, 200000, "rrs-reserve")
        assert r.status_code == 201, r.text
        w = {"payment_id": r.json()["id"]}
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        yield d


def resend(who, refund_id, card_id):
    return who.post("/admin/v1/refunds/%s/resend" % refund_id, {"card_id": card_id})


def resent_records(d, refund_id):
    return [a for a in d.s.audit("pay.refund.resent") if a["object_id"] == refund_id]


def card_notices(d, c):
    return d.s.query("SELECT id FROM notify_message WHERE kind = 'pay.refund_card' AND "
                     "user_id = ?", c.id)


def failed_refund(d, c, amount, order_amount=None):
    """A refund of a new order paid by c whose credit to c's newest card the
    bank declined: failed, the money the merchant's again."""
    o = paid_order(d, c, order_amount or amount)
    wallet_state(d, c, "frozen")
    d.sim.behaviour(c.numbers[c.newest["id"]], "decline", once=True)
    x = refund(d, o["id"], amount).json()
    assert x["state"] == "failed", x
    return o, x


def credits(d, refund_id):
    return d.s.query("SELECT * FROM bank_withdrawal WHERE refund_id = ? ORDER BY created_ms, "
                     "request_id", refund_id)


def test_a_failed_refund_is_sent_again_to_another_card_and_paid(d):
    """The bank declined the credit to the newest card: the refund failed,
    the merchant's balance as before. An operator re-sends it to the older
    card: the money moves again as the first send moved it (the fee back,
    the amount held on the merchant's balance into the bank's clearing
    account), a NEW bank credit with its own request id refund:<id>:2 to
    that card (the first, refund:<id>, stays failed), the refund sending
    (attempt 2, the card masked) and counting against the amount paid
    again; audited pay.refund.resent (the operator, the masked cards, the
    attempt; no full number); the payer told again (pay.refund_card) naming
    the new card. The bank pays: succeeded, the order refunded, the
    receipt names the card that took it, the books balance.
    req: FUNC-SETL-08, FUNC-SETL-10, FUNC-OPS-05, DATA-MASK-07, AUD-CNT-03"""
    s = d.s
    c = payer(d, funds=8000)
    o, x = failed_refund(d, c, 8000)
    b0 = books(d)
    assert len(card_notices(d, c)) == 1
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200, r.text
    y = r.json()
    assert (y["state"], y["destination"], y["card"], y["attempt"], y["fee_back"]) == \
        ("sending", "card", c.older["masked"], 2, 48), y
    assert y["payer_id"] == c.id
    old, new = credits(d, x["id"])
    assert (old["request_id"], old["state"], old["card_id"]) == \
        ("refund:" + x["id"], "failed", c.newest["id"]), old
    assert (new["request_id"], new["state"], new["card_id"], new["amount"]) == \
        ("refund:%s:2" % x["id"], "sent", c.older["id"], 8000), new
    row = refund_row(d, x["id"])
    assert (row["withdrawal_id"], row["ledger_id"], row["attempt"]) == \
        (new["id"], new["hold_id"], 2), row
    assert d.sim.payment(serial(d, new))["amount"] == 8000
    assert serial(d, new) != serial(d, old)
    assert books(d) == moved(b0, merchant=48, merchant_held=8000, clearing_pending=8000,
                             fee=-48)
    # It counts against the amount paid again: nothing is left to refund.
    r = refund(d, o["id"], 1)
    assert (r.status_code, err(r)) == (409, "refund_amount_exceeded"), r.text
    [rec] = resent_records(d, x["id"])
    det = json.loads(rec["details"])
    assert (rec["actor_id"], rec["outcome"]) == (d.op_id, "success"), rec
    assert (det["card_id"], det["card"], det["failed_card"], det["attempt"], det["from"],
            det["to"], det["withdrawal"]) == \
        (c.older["id"], c.older["masked"], c.newest["masked"], 2, "failed", "sending",
         new["id"]), det
    assert not any(n in rec["details"] for n in c.numbers.values()), rec
    assert len(card_notices(d, c)) == 2
    texts = [t for t in sms_to(s, c.phone, min_count=3)
             if c.older["masked"] in t and ("重新退往" in t or "paid again" in t)]
    assert len(texts) == 1, sms_to(s, c.phone)
    assert not any(n in texts[0] for n in c.numbers.values()), texts
    assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "refunded"
    assert books(d) == moved(b0, merchant=-8000 + 48, reserve=-8000, fee=-48)
    body = c.http.get("/api/v1/me/receipts/refund/%s" % x["id"]).json()["body"]
    assert c.older["masked"] in body["payee"].values(), body
    assert c.newest["masked"] not in json.dumps(body, ensure_ascii=False), body
    verify(d)


def test_a_resend_that_fails_again_then_a_third_attempt_is_paid(d):
    """The second attempt (to the older card) fails later at the bank: the
    refund failed again, its fee back returned once more (its own undo
    key), the merchant's balance as before the refund. A third attempt may
    go back to the first card (only the card that just failed is
    refused): request id refund:<id>:3, paid. Three credits, one per
    attempt, each its own request id; two pay.refund.resent records.
    req: FUNC-SETL-08, FUNC-OPS-05"""
    s = d.s
    c = payer(d, funds=6000)
    o, x = failed_refund(d, c, 3000, 6000)
    b0 = books(d)
    d.sim.behaviour(c.numbers[c.older["id"]], "fail", once=True)
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["state"] == "sending", r.text
    second = credits(d, x["id"])[1]
    assert [cb["status"] for cb in d.sim.settle(serial(d, second))] == [200]
    y = refund_row(d, x["id"])
    assert (y["state"], y["fee_back"], y["attempt"]) == ("failed", 0, 2), y
    assert books(d) == b0
    undo = s.query("SELECT idem_key, amount FROM ledger_transfer WHERE idem_key LIKE ? "
                   "ORDER BY seq", "refund.%s.fee.undo%%" % x["id"])
    assert [(u["idem_key"], u["amount"]) for u in undo] == \
        [("refund.%s.fee.undo" % x["id"], 18), ("refund.%s.fee.undo.2" % x["id"], 18)], undo
    r = resend(d.op, x["id"], c.older["id"])
    assert (r.status_code, err(r)) == (409, "refund_card_invalid"), r.text
    r = resend(d.op, x["id"], c.newest["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["card"], r.json()["attempt"]) == \
        ("sending", c.newest["masked"], 3), r.text
    ws = credits(d, x["id"])
    assert [(w["request_id"], w["state"], w["card_id"]) for w in ws] == [
        ("refund:" + x["id"], "failed", c.newest["id"]),
        ("refund:%s:2" % x["id"], "returned", c.older["id"]),
        ("refund:%s:3" % x["id"], "sent", c.newest["id"])], ws
    assert [cb["status"] for cb in d.sim.settle(serial(d, ws[2]))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "partially_refunded"
    assert books(d) == moved(b0, merchant=-3000 + 18, reserve=-3000, fee=-18)
    assert [json.loads(a["details"])["attempt"] for a in resent_records(d, x["id"])] == [2, 3]
    assert len(card_notices(d, c)) == 3
    verify(d)


def test_the_fifth_credit_is_the_last(d):
    """A refund makes at most ANFU_LIMIT_PAY_REFUND_ATTEMPTS (5) bank
    credits: the first and four re-sends. Here the bank declines each
    credit at once, the re-sends alternating between the payer's two cards
    (only the card that just failed is refused): attempts 2, 3, 4 and 5,
    each failed again with the books as before. A fifth re-send, to either
    card, is 409 refund_attempts_exhausted and changes nothing: the refund
    failed at attempt 5, five credits, four pay.refund.resent records, the
    notices, the books. req: FUNC-SETL-08, FUNC-OPS-05"""
    c = payer(d, funds=5000)
    o, x = failed_refund(d, c, 1000, 5000)
    b0 = books(d)
    for attempt in range(2, 6):
        card = (c.older, c.newest)[attempt % 2]
        d.sim.behaviour(c.numbers[card["id"]], "decline", once=True)
        r = resend(d.op, x["id"], card["id"])
        assert r.status_code == 200, r.text
        assert (r.json()["attempt"], r.json()["card"]) == (attempt, card["masked"]), r.text
        assert refund_row(d, x["id"])["state"] == "failed"
        assert books(d) == b0
    assert len(credits(d, x["id"])) == 5
    before = (unchanged(d), refund_row(d, x["id"]), credits(d, x["id"]),
              len(resent_records(d, x["id"])), len(card_notices(d, c)))
    assert before[1]["attempt"] == 5 and before[3] == 4, before
    for card in (c.older, c.newest):
        r = resend(d.op, x["id"], card["id"])
        assert (r.status_code, err(r)) == (409, "refund_attempts_exhausted"), r.text
    assert (unchanged(d), refund_row(d, x["id"]), credits(d, x["id"]),
            len(resent_records(d, x["id"])), len(card_notices(d, c))) == before
    assert books(d) == b0
    assert order_state(d, o["id"]) == "paid"
    verify(d)


def test_a_resend_only_from_failed(d):
    """The refund table has a resend row from failed only: a refund
    succeeded (to the wallet), rejected, in review, waiting for funds, a
    customer's request not answered, a refund sending (also a second
    re-send while the first is on its way) answer 409
    refund_state_invalid; an unknown refund 404 refund_not_found; nothing
    changes. req: FUNC-SETL-08, FUNC-OPS-05"""
    s = d.s
    s.hold_jobs("pay.refund_retry")
    try:
        c = payer(d, funds=60000)
        done = refund(d, paid_order(d, c, 1000)["id"], 1000).json()  # the wallet takes it
        assert done["state"] == "succeeded", done
        rej = refund(d, paid_order(d, c, AUTO_MAX + 1)["id"], AUTO_MAX + 1).json()
        r = d.op.post("/admin/v1/refunds/%s/reject" % rej["id"], {})
        assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
        rev = refund(d, paid_order(d, c, AUTO_MAX + 1)["id"], AUTO_MAX + 1).json()
        assert rev["state"] == "reviewing", rev
        q = paid_order(d, c, 2000)
        r = c.http.post("/api/v1/me/orders/%s/refund-requests" % q["id"],
                        {"amount": 2000, "currency": "CNY", "reason": "不想要了"})
        assert r.status_code == 201, r.text
        asked = r.json()
        # Waiting for funds: the merchant's balance drained for a moment.
        sink = customer(d, funds=0, card=False)
        w = paid_order(d, c, 3000)
        b = books(d)
        short = b["merchant"] - b["merchant_held"]
        mch = acct(d, "merchant_pending", "mch_rc")["id"]
        out = acct(d, "customer_wallet", sink.id)["id"]
        ledger_move(s, "rrs-drain-" + w["id"], mch, out, short)
        waiting = refund(d, w["id"], 3000).json()
        assert waiting["state"] == "waiting_funds", waiting
        ledger_move(s, "rrs-back-" + w["id"], out, mch, short)
        # A refund sent again and on its way: a second re-send is refused.
        _, x = failed_refund(d, c, 2000)
        assert resend(d.op, x["id"], c.older["id"]).status_code == 200
        before = unchanged(d)
        states = []
        for y in (done, rej, rev, asked, waiting, x):
            states.append(refund_row(d, y["id"])["state"])
            for card in (c.older["id"], c.newest["id"]):
                r = resend(d.op, y["id"], card)
                assert (r.status_code, err(r)) == (409, "refund_state_invalid"), (y, r.text)
        assert states == ["succeeded", "rejected", "reviewing", "requested", "waiting_funds",
                          "sending"], states
        r = resend(d.op, "rfd_" + "y" * 22, c.older["id"])
        assert (r.status_code, err(r)) == (404, "refund_not_found"), r.text
        assert unchanged(d) == before
        [new] = [w for w in credits(d, x["id"]) if w["state"] == "sent"]
        assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
        assert refund_row(d, x["id"])["state"] == "succeeded"
        r = resend(d.op, x["id"], c.newest["id"])
        assert (r.status_code, err(r)) == (409, "refund_state_invalid"), r.text
        verify(d)
    finally:
        s.release_jobs("pay.refund_retry")


def test_a_card_that_is_not_another_bound_card_of_the_payer_is_refused(d):
    """Another customer's bound card, the payer's card unbound, the payer's
    card still pending, a card id nobody has, and the very card that
    failed (sending there again is pointless): 409 refund_card_invalid
    (field card_id), one answer for all; a malformed id, no card_id, an
    unknown field: 400. Nothing changes (the refund failed, balances, the
    bank's rows, transfers, records, notices); the older card then passes.
    req: FUNC-SETL-08, IAM-RBAC-01"""
    c = payer(d, funds=5000)
    other = customer(d, funds=0)
    o, x = failed_refund(d, c, 5000)
    _, gone = bind(d.s, d.sim, c.http)
    assert c.http.delete("/api/v1/me/cards/" + gone).status_code in (200, 204)
    number = new_card()
    d.sim.add_card(number, NAME, IDNO, "13900001111", 10000000)
    r = c.http.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                         "id_number": IDNO})
    assert r.status_code == 201, r.text
    pending = r.json()["id"]
    before = unchanged(d)
    for card in (other.card, gone, pending, "bcd_" + "Z" * 22, c.newest["id"]):
        r = resend(d.op, x["id"], card)
        assert (r.status_code, err(r)) == (409, "refund_card_invalid"), (card, r.text)
        assert r.json()["error"].get("field") == "card_id", r.text
    for body, status, code in (({"card_id": "card_1"}, 400, "invalid_field"),
                               ({"card_id": c.older["id"] + "x"}, 400, "invalid_field"),
                               ({}, 400, "missing_field"),
                               ({"card_id": c.older["id"], "x": 1}, 400, "unknown_field")):
        r = d.op.post("/admin/v1/refunds/%s/resend" % x["id"], body)
        assert (r.status_code, err(r)) == (status, code), (body, r.text)
    assert unchanged(d) == before
    assert resent_records(d, x["id"]) == []
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["card"] == c.older["masked"], r.text
    [new] = [w for w in credits(d, x["id"]) if w["state"] == "sent"]
    assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    verify(d)


def test_a_short_merchant_balance_or_a_new_refund_meanwhile_refuses_it(d):
    """The merchant's balance cannot hold the amount again: 409
    insufficient_funds, nothing changes (no credit, no transfer, no
    record, no notice; the refund failed). Once the balance is enough it
    passes. A merchant that refunded the order again meanwhile (a new
    number for the whole amount): the failed refund would exceed the
    amount paid, 409 refund_amount_exceeded, nothing changes.
    req: FUNC-SETL-10, FUNC-OPS-05"""
    s = d.s
    c = payer(d, funds=9000)
    sink = customer(d, funds=0, card=False)
    o, x = failed_refund(d, c, 4000, 5000)
    b = books(d)
    short = b["merchant"] - b["merchant_held"]
    mch = acct(d, "merchant_pending", "mch_rc")["id"]
    out = acct(d, "customer_wallet", sink.id)["id"]
    # 3975 fen left: with the fee back of 24 (30 * 4000 / 5000), one short.
    ledger_move(s, "rrs-short-" + x["id"], mch, out, short - 3975)
    before = unchanged(d)
    r = resend(d.op, x["id"], c.older["id"])
    assert (r.status_code, err(r)) == (409, "insufficient_funds"), r.text
    assert unchanged(d) == before
    assert resent_records(d, x["id"]) == []
    # One fen more: 3976 + 24 holds the 4000 exactly.
    ledger_move(s, "rrs-fen-" + x["id"], out, mch, 1)
    b1 = books(d)
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["state"] == "sending", r.text
    assert books(d) == moved(b1, merchant=24, merchant_held=4000, clearing_pending=4000,
                             fee=-24)
    ledger_move(s, "rrs-back-" + x["id"], out, mch, short - 3976)
    [new] = [w for w in credits(d, x["id"]) if w["state"] == "sent"]
    assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    # Refunded again meanwhile: the failed refund does not fit any more.
    wallet_state(d, c, "normal")
    p, y = failed_refund(d, c, 4000)
    wallet_state(d, c, "normal")
    z = refund(d, p["id"], 4000).json()
    assert z["state"] == "succeeded", z
    before = unchanged(d)
    r = resend(d.op, y["id"], c.older["id"])
    assert (r.status_code, err(r)) == (409, "refund_amount_exceeded"), r.text
    assert unchanged(d) == before
    verify(d)


def test_an_escrow_refund_that_failed_is_sent_again_out_of_the_escrow(d):
    """A held escrow order (its hold posted by a first refund to the
    wallet, then the wallet closed): a refund to the newest card declined
    gives the amount back to the escrow (the escrow row counts it no
    more). Re-sent to the older card: held on platform_escrow again, no
    fee back, the escrow row counts it again; paid, succeeded, the order
    still escrow_held. req: FUNC-SETL-08, FUNC-PAY-02"""
    c = payer(d, funds=12000)
    o = create_order(d.boss, amount=12000, kind="escrow")
    assert pay(c, o["id"]).status_code == 201
    r = refund(d, o["id"], 1000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    paid_order(d, c, 1000)  # the wallet empty: it may close
    wallet_state(d, c, "closed")
    d.sim.behaviour(c.numbers[c.newest["id"]], "decline", once=True)
    x = refund(d, o["id"], 3000).json()
    assert x["state"] == "failed", x
    assert escrow_row(d, o["id"])["refunded"] == 1000
    esc = acct(d, "platform_escrow", "platform")
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["card"], r.json()["fee_back"]) == \
        ("sending", c.older["masked"], 0), r.text
    [new] = [w for w in credits(d, x["id"]) if w["state"] == "sent"]
    assert (new["card_id"], new["hold_account"]) == (c.older["id"], esc["id"])
    assert escrow_row(d, o["id"])["refunded"] == 4000
    assert acct(d, "platform_escrow", "platform")["debits_pending"] == \
        esc["debits_pending"] + 3000
    assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "escrow_held"
    verify(d)


def test_every_role_class_on_the_resend(d):
    """Only operators (pay.refund.review) re-send: no session 401; the risk
    officer and finance, the security administrator and officer 403
    forbidden; the payer, the merchant's administrator and clerk do not
    reach the operators' route (404); nothing changes. The operator's
    re-send then passes. req: IAM-RBAC-01, IAM-LP-01, FUNC-OPS-05"""
    c = payer(d, funds=3000)
    o, x = failed_refund(d, c, 3000)
    before = unchanged(d)
    r = Client(d.s, admin=True).post("/admin/v1/refunds/%s/resend" % x["id"],
                                     {"card_id": c.older["id"]})
    assert r.status_code == 401, r.text
    for who in (d.risk, d.fin, d.admin, d.officer):
        r = resend(who, x["id"], c.older["id"])
        assert (r.status_code, err(r)) == (403, "forbidden"), r.text
    for who in (c.http, d.boss, d.clerk):
        r = resend(who, x["id"], c.older["id"])
        assert r.status_code == 404, r.text
    assert unchanged(d) == before
    assert resent_records(d, x["id"]) == []
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["state"] == "sending", r.text
    [new] = [w for w in credits(d, x["id"]) if w["state"] == "sent"]
    assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
    verify(d)


def test_the_old_attempts_late_answer_does_not_touch_the_new_attempt(d):
    """The first credit's bank answer is held back (the bank settled it
    failed, its callback late); the query finds it failed: the refund
    failed. Re-sent to the older card (attempt 2, sending). Then the old
    attempt's callback arrives: anfud takes it (200) and nothing changes:
    the new attempt still sending, its credit sent, the balances as they
    were, no second failure; then the bank pays the new one. Moves both
    clocks: last. req: FUNC-SETL-08"""
    s = d.s
    c = payer(d, funds=2000)
    o = paid_order(d, c, 2000)
    wallet_state(d, c, "closed")
    number = c.numbers[c.newest["id"]]
    d.sim.add_card(number, NAME, IDNO, "13900001111", balance=-10**12)
    d.sim.behaviour(number, "late", once=True)
    x = refund(d, o["id"], 2000).json()
    assert x["state"] == "sending", x
    [old] = credits(d, x["id"])
    assert d.sim.settle(serial(d, old)) == []  # settled failed, the callback held
    s.clock(advance_ms=61000)
    d.sim.clock(61000)
    assert s.post("/test/v1/bank/query").json()["queried"] >= 1
    assert refund_row(d, x["id"])["state"] == "failed"
    r = resend(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["attempt"] == 2, r.text
    before = unchanged(d)
    assert [cb["status"] for cb in d.sim.settle(serial(d, old), late=True)] == [200]
    assert unchanged(d) == before
    y = refund_row(d, x["id"])
    assert (y["state"], y["attempt"], y["card"]) == ("sending", 2, c.older["masked"]), y
    new = [w for w in credits(d, x["id"]) if w["id"] == y["withdrawal_id"]][0]
    assert new["state"] == "sent"
    assert [a["action"] for a in s.audit() if a["object_id"] == x["id"]].count(
        "pay.refund.failed") == 1
    assert [cb["status"] for cb in d.sim.settle(serial(d, new))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    verify(d)
