"""Refunds out of a held escrow to the payer's bound card when their wallet
cannot take them, and the payer's notice of a refund to their card
(docs/payments.md, "Refunds to a bound card", "Escrow orders";
src/pay/refund.c escrow_card_in / card_in / card_failed, src/pay/escrow.c
pay_escrow_card_in / pay_escrow_card_failed_in and the release's skip),
over HTTPS against a real anfud and the real simulator bank (the server of
tests/api/test_pay_refund_card.py: mch_rc charges 60 bps, escrow days the
default 10, the rules approve refunds up to 9000 fen at once).

A closed wallet has no hold naming it, so a payer whose wallet is closed
had the escrow's hold posted by a first refund (to the wallet, before it
closed); the card's credit then holds the refund on platform_escrow.
"""
import pytest

from iam import sms_to
from pay import create_order, err
from test_pay_escrow import confirm, escrow_row, release_job
from test_pay_general import pay
from test_pay_refund_card import (acct, actions, books, card_desk, credit_row, customer,
                                  failed_notices, failed_texts, moved, order_state, paid_order,
                                  refund, refund_row, serial, snapshot, wallet_state)

NOTICE = "pay.refund_card"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    yield from card_desk(tmp_path_factory, "payrec")


def ebooks(d):
    """books() with platform_escrow: posted balance, its debits pending (a
    card credit's hold) and its credits pending (payers' holds not yet
    posted)."""
    b = books(d)
    e = acct(d, "platform_escrow", "platform")
    b.update({"escrow": e["credits_posted"] - e["debits_posted"],
              "escrow_out": e["debits_pending"], "escrow_in": e["credits_pending"]})
    return b


def esnapshot(d, order_id):
    return (snapshot(d), ebooks(d), escrow_row(d, order_id),
            d.s.query("SELECT count(*) AS n FROM notify_message")[0]["n"])


def notices(d, c):
    return d.s.query("SELECT id FROM notify_message WHERE kind = ? AND user_id = ?",
                     NOTICE, c.id)


def verify(d):
    out = d.s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def held_then_closed(d, amount, first, lang=None):
    """An escrow order of amount paid by a new customer (lang: their
    account's language) with a bound card; a first refund (to the wallet)
    posts the hold; the wallet spent to zero and closed."""
    c = customer(d, funds=amount, lang=lang)
    o = create_order(d.boss, amount=amount, kind="escrow")
    assert pay(c, o["id"]).status_code == 201
    r = refund(d, o["id"], first)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert escrow_row(d, o["id"])["posted"] == 1
    paid_order(d, c, first)  # the wallet empty: it may close
    wallet_state(d, c, "closed")
    assert notices(d, c) == []  # the refund to the wallet: no card notice
    return c, o


def test_a_held_escrow_refund_to_a_closed_wallet_is_paid_to_the_card_and_the_release_takes_the_rest(d):
    """The escrow refund refused (account_closed), a bound card: the credit
    holds the refund on platform_escrow (no fee back), the refund sending
    to the card, the escrow row counts it at once, the order escrow_held.
    The bank pays: the hold posted (escrow -> clearing -> reserve), the
    refund succeeded, the order still escrow_held (refund_partial). The
    payer's confirmation releases amount - refunds to the merchant with the
    fee on that only. req: FUNC-SETL-08, FUNC-PAY-02"""
    s = d.s
    c, o = held_then_closed(d, 10000, 1000)
    b0 = ebooks(d)
    r = refund(d, o["id"], 3000)
    assert r.status_code == 201, r.text
    x = r.json()
    assert (x["state"], x["destination"], x["card"], x["fee_back"]) == \
        ("sending", "card", c.masked, 0), x
    [w] = credit_row(d, x["id"])
    assert (w["state"], w["amount"], w["fee"], w["user_id"], w["card_id"]) == \
        ("sent", 3000, 0, c.id, c.card)
    assert w["hold_account"] == acct(d, "platform_escrow", "platform")["id"]
    assert x["ledger_transfer"] == w["hold_id"]
    assert ebooks(d) == moved(b0, escrow_out=3000, clearing_pending=3000)
    assert escrow_row(d, o["id"])["refunded"] == 4000
    assert order_state(d, o["id"]) == "escrow_held"
    assert d.sim.payment(serial(d, w))["amount"] == 3000
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert credit_row(d, x["id"])[0]["state"] == "succeeded"
    assert ebooks(d) == moved(b0, escrow=-3000, reserve=-3000)
    assert order_state(d, o["id"]) == "escrow_held"
    assert escrow_row(d, o["id"])["refunded"] == 4000
    acts = actions(d, x["id"])
    for a in ("pay.refund.sending", "pay.refund.succeeded"):
        assert acts.count(a) == 1, (a, acts)
    verify(d)
    # The release: 10000 - 4000 to the merchant, the fee (60 bps) on 6000.
    b1 = ebooks(d)
    r = confirm(c, o["id"])
    assert r.status_code == 200, r.text
    assert order_state(d, o["id"]) == "escrow_released"
    assert ebooks(d) == moved(b1, escrow=-6000, merchant=6000 - 36, fee=36)
    assert escrow_row(d, o["id"])["fee"] == 36
    verify(d)


def test_a_card_refund_of_all_that_is_held_refunds_the_order(d):
    """The card refund reaches the amount paid: paid by the bank, the order
    refunded (refund_full); nothing is left to release (confirmation:
    order_state_invalid, nothing changes). req: FUNC-SETL-08, FUNC-SETL-10"""
    c, o = held_then_closed(d, 5000, 1000)
    b0 = ebooks(d)
    x = refund(d, o["id"], 4000).json()
    assert x["state"] == "sending", x
    # Sending, it counts against the amount paid: one fen more is refused.
    r = refund(d, o["id"], 1)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "refunded"
    assert escrow_row(d, o["id"])["refunded"] == 5000
    assert ebooks(d) == moved(b0, escrow=-4000, reserve=-4000)
    before = esnapshot(d, o["id"])
    r = confirm(c, o["id"])
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    assert esnapshot(d, o["id"]) == before
    verify(d)


def test_a_failed_card_refund_leaves_the_amount_in_the_escrow_for_the_release(d):
    """The bank takes the credit, then reports it failed: the hold on
    platform_escrow voided (the amount there again, not on the merchant's
    balance), the escrow row counts it no more, the refund failed, the
    order escrow_held; the payer's confirmation then releases it to the
    merchant with the rest, the fee on all of it. req: FUNC-SETL-08,
    FUNC-PAY-02"""
    c, o = held_then_closed(d, 6000, 1000)
    d.sim.behaviour(c.number, "fail", once=True)
    b0 = ebooks(d)
    x = refund(d, o["id"], 2000).json()
    assert x["state"] == "sending", x
    assert escrow_row(d, o["id"])["refunded"] == 3000
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert credit_row(d, x["id"])[0]["state"] == "returned"
    y = refund_row(d, x["id"])
    assert (y["state"], y["fee_back"]) == ("failed", 0), y
    assert ebooks(d) == b0
    assert escrow_row(d, o["id"])["refunded"] == 1000
    assert order_state(d, o["id"]) == "escrow_held"
    assert actions(d, x["id"]).count("pay.refund.failed") == 1
    verify(d)
    r = confirm(c, o["id"])
    assert r.status_code == 200, r.text
    assert ebooks(d) == moved(b0, escrow=-5000, merchant=5000 - 30, fee=30)
    assert escrow_row(d, o["id"])["fee"] == 30
    verify(d)


def test_a_failed_escrow_card_credit_tells_the_payer_the_money_is_in_the_escrow(d):
    """An escrow order's refund to the card fails at the bank (reported
    later; one payer in English, one in Chinese): one notice
    pay.refund_card_failed each, in their language, with the amount, the
    order and the masked card only, saying what really happens: the money
    is back in the order's escrow, goes to the merchant at the payer's
    confirmation or the escrow's end, and the merchant may refund again
    until then (not "back to the merchant"). req: FUNC-OPS-05, TX-NOTIF-01"""
    for lang, words, amount, back in ((None, "did not go through", "CNY 20.00",
                                       "back in the order's escrow"),
                                      ("zh-CN", "未成功", "20.00 元", "款项已回到订单的担保资金中")):
        c, o = held_then_closed(d, 6000, 1000, lang=lang)
        d.sim.behaviour(c.number, "fail", once=True)
        x = refund(d, o["id"], 2000).json()
        assert x["state"] == "sending", x
        assert failed_notices(d, c) == []
        [w] = credit_row(d, x["id"])
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        assert refund_row(d, x["id"])["state"] == "failed"
        assert escrow_row(d, o["id"])["refunded"] == 1000
        assert len(failed_notices(d, c)) == 1
        assert len(notices(d, c)) == 1  # the one of the refund to the card
        texts = failed_texts(d, c, words)
        assert len(texts) == 1, sms_to(d.s, c.phone)
        t = texts[0]
        assert amount in t and o["id"] in t and back in t, t
        assert c.number not in t and "went back to the merchant" not in t, t
        assert "退回商户" not in t, t
    verify(d)


def test_a_wallet_frozen_both_ways_refuses_the_post_and_nothing_changes(d):
    """The hold not posted yet and the wallet frozen (both ways): the post
    of the whole hold is refused, so the refund stays refused
    (account_frozen): no refund, no credit, no notice, the escrow row and
    every balance as they were; the whole untouched hold still voids back
    to the wallet. With the hold posted, a frozen wallet's refund goes to
    the card (as a general order's). req: FUNC-SETL-08"""
    c = customer(d, funds=3000)
    o = create_order(d.boss, amount=3000, kind="escrow")
    assert pay(c, o["id"]).status_code == 201
    wallet_state(d, c, "frozen")
    before = esnapshot(d, o["id"])
    r = refund(d, o["id"], 1000)
    assert r.status_code == 409 and err(r) == "account_frozen", r.text
    assert esnapshot(d, o["id"]) == before
    assert d.s.query("SELECT count(*) AS n FROM bank_withdrawal WHERE user_id = ?",
                     c.id)[0]["n"] == 0
    r = refund(d, o["id"], 3000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert order_state(d, o["id"]) == "refunded" and notices(d, c) == []
    # The hold posted by a first refund, then frozen: to the card.
    u = customer(d, funds=2000)
    p = create_order(d.boss, amount=2000, kind="escrow")
    assert pay(u, p["id"]).status_code == 201
    assert refund(d, p["id"], 500).json()["state"] == "succeeded"
    wallet_state(d, u, "frozen")
    x = refund(d, p["id"], 500).json()
    assert (x["state"], x["destination"]) == ("sending", "card"), x
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert escrow_row(d, p["id"])["refunded"] == 1000
    verify(d)


def test_the_payer_is_told_once_that_a_refund_went_to_their_card(d):
    """A refund to the card (a general order's and an escrow order's): one
    notice each to the payer (kind pay.refund_card) in their language,
    naming the amount and the masked card, never the full number; the bank
    paying adds none; a refund to the wallet sends none. req: FUNC-OPS-05,
    TX-NOTIF-01"""
    s = d.s
    c = customer(d, funds=4000)
    o = paid_order(d, c, 2000)
    assert refund(d, o["id"], 500).json()["state"] == "succeeded"  # to the wallet
    assert notices(d, c) == []
    wallet_state(d, c, "frozen")
    x = refund(d, o["id"], 1234).json()
    assert x["state"] == "sending", x
    assert len(notices(d, c)) == 1
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert len(notices(d, c)) == 1
    texts = [t for t in sms_to(s, c.phone, min_count=1) if c.masked in t]
    assert len(texts) == 1, sms_to(s, c.phone)
    assert "12.34" in texts[0] and c.number not in texts[0], texts
    # An escrow order's refund to the card: one more.
    e, q = held_then_closed(d, 3000, 1000)
    y = refund(d, q["id"], 700).json()
    assert y["state"] == "sending", y
    assert len(notices(d, e)) == 1
    texts = [t for t in sms_to(s, e.phone, min_count=1) if e.masked in t]
    assert len(texts) == 1 and "7.00" in texts[0] and e.number not in texts[0], texts
    [w] = credit_row(d, y["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert len(notices(d, e)) == 1
    verify(d)


def test_no_release_while_a_refund_is_sending(d):
    """While one of the order's refunds is on its way to the card, the
    payer's confirmation answers order_state_invalid and the release job
    skips the order past its deadline (pay.escrow_release held, run through
    its hook), nothing changes; once the bank paid, the job releases
    amount - refunds with the fee on that. Last in the module: it moves
    the clock by days. req: FUNC-PAY-02, FUNC-PAY-03, FUNC-SETL-08"""
    s = d.s
    s.hold_jobs("pay.escrow_release")
    try:
        c, o = held_then_closed(d, 4000, 1000)
        x = refund(d, o["id"], 1000).json()
        assert x["state"] == "sending", x
        before = esnapshot(d, o["id"])
        r = confirm(c, o["id"])
        assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
        assert esnapshot(d, o["id"]) == before
        due = escrow_row(d, o["id"])["release_ms"]
        now = s.clock(advance_ms=0)
        s.clock(advance_ms=due - now)
        d.sim.clock(due - now)
        # The earlier tests' held orders are due as well: the job releases
        # those, not this one.
        others = [r["id"] for r in s.query(
            "SELECT id FROM pay_order WHERE state = 'escrow_held' AND id <> ?", o["id"])]
        b0 = ebooks(d)
        row, mine = escrow_row(d, o["id"]), refund_row(d, x["id"])
        assert release_job(d) == len(others)
        assert [order_state(d, i) for i in others] == ["escrow_released"] * len(others)
        assert order_state(d, o["id"]) == "escrow_held"
        assert escrow_row(d, o["id"]) == row and refund_row(d, x["id"]) == mine
        assert actions(d, o["id"]).count("pay.escrow.released") == 0
        released = sum(escrow_row(d, i)["amount"] - escrow_row(d, i)["refunded"]
                       for i in others)
        fees = sum(escrow_row(d, i)["fee"] for i in others)
        assert ebooks(d) == moved(b0, escrow=-released, merchant=released - fees, fee=fees)
        assert release_job(d) == 0
        [w] = credit_row(d, x["id"])
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        assert refund_row(d, x["id"])["state"] == "succeeded"
        b1 = ebooks(d)
        assert release_job(d) == 1
        assert order_state(d, o["id"]) == "escrow_released"
        assert ebooks(d) == moved(b1, escrow=-2000, merchant=2000 - 12, fee=12)
        row = escrow_row(d, o["id"])
        assert (row["released_by"], row["refunded"], row["fee"]) == ("deadline", 2000, 12)
        verify(d)
    finally:
        s.release_jobs("pay.escrow_release")
