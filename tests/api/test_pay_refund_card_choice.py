"""An operator chooses which of the payer's bound cards a refund goes to
when it must go to a card (docs/payments.md "Refunds to a bound card", "An
operator chooses the card"; src/pay/refund.c anfu_pay_refund_choose_card,
card_in; src/bank/cards.c anfu_bank_card_bound_in, src/bank/withdraw.c
anfu_bank_refund_credit_in's card; route POST /admin/v1/refunds/{id}/card),
over HTTPS against a real anfud and the real simulator bank.

The server of tests/api/test_pay_refund_card.py (card_desk: mch_rc at 60
bps, the rules approve up to 9000 fen) with four eyes above 20000 fen, a
second operator, a finance officer and a merchant clerk. Every payer here
has two bound cards; with the clock frozen both are bound at the same ms,
so "the newest" is the one the bank module orders first (bound_ms, then
id, descending): the tests read it from the table the same way and choose
the other one.
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
from test_pay_refund_card import (AUTO_MAX, acct, books, card_desk, credit_row, customer, moved,
                                  order_state, paid_order, refund, refund_row, serial,
                                  wallet_state)

FOUR_EYES = 20000  # fen: above it two operators approve


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    for d in card_desk(tmp_path_factory, "payrcc", refund_four_eyes_min=str(FOUR_EYES)):
        s = d.s
        d.op2 = make_staff(s, d.admin, d.officer, "payrccop2", "operator", "console-5")
        d.fin = make_staff(s, d.admin, d.officer, "payrccfin", "finance", "console-6")
        d.clerk = merchant_staff(d, d.boss)
        d.op_id = d.op.get("/admin/v1/me").json()["user"]["id"]
        # The bank's reserve covers the credits these tests have paid.
        funder = customer(d, funds=0)
        r = topup(funder.http, funder.card, 200000, "rcc-reserve")
        assert r.status_code == 201, r.text
        w = {"payment_id": r.json()["id"]}
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        yield d


def verify(d):
    out = d.s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def payer(d, funds, lang=None):
    """A customer with two bound cards: c.newest the one a refund goes to
    without a choice, c.older the other ({id, masked}); c.numbers their
    full numbers by id."""
    c = customer(d, funds=funds, lang=lang)
    number2, card2 = bind(d.s, d.sim, c.http)
    c.numbers = {c.card: c.number, card2: number2}
    cards = d.s.query("SELECT id, masked FROM bank_card WHERE user_id = ? AND state = 'bound' "
                      "ORDER BY bound_ms DESC, id DESC", c.id)
    assert len(cards) == 2, cards
    c.newest, c.older = cards
    return c


def choose(who, refund_id, card_id):
    return who.post("/admin/v1/refunds/%s/card" % refund_id, {"card_id": card_id})


def approve(who, refund_id):
    return who.post("/admin/v1/refunds/%s/approve" % refund_id, {})


def in_review(d, c, amount, order_amount=None):
    """A refund of amount (above the rules) of a new order paid by c."""
    o = paid_order(d, c, order_amount or amount)
    r = refund(d, o["id"], amount)
    assert r.status_code == 201 and r.json()["state"] == "reviewing", r.text
    return o, r.json()


def chosen_records(d, refund_id):
    return [a for a in d.s.audit("pay.refund.card_chosen") if a["object_id"] == refund_id]


def unchanged(d):
    """What a refused choice (or a refused execution) must leave as it was:
    the balances, every refund row whole, the bank's cards, credits and
    payments, the transfers, the refunds' and withdrawals' records."""
    s = d.s
    return (books(d),
            s.query("SELECT * FROM pay_refund ORDER BY id"),
            s.query("SELECT id, state FROM pay_order ORDER BY id"),
            s.query("SELECT id, user_id, state FROM bank_card ORDER BY id"),
            s.query("SELECT id, state, card_id FROM bank_withdrawal ORDER BY id"),
            s.query("SELECT count(*) AS n FROM bank_payment")[0]["n"],
            s.query("SELECT count(*) AS n FROM ledger_transfer")[0]["n"],
            s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'pay.refund.%' "
                    "OR action LIKE 'bank.withdrawal.%'")[0]["n"],
            s.query("SELECT count(*) AS n FROM notify_message")[0]["n"])


def test_an_operator_chooses_the_card_and_the_refund_is_paid_to_it(d):
    """A refund in review, the payer's wallet closed: an operator chooses
    the payer's older card (first the newest, then the older: the later
    choice replaces the earlier); the refund stays in review, nothing
    moves. The approval sends it to the chosen card, not the newest: the
    bank credit names it, the refund JSON, the operators' list, the
    payer's notice and the receipt name it masked (first 6 + last 4; the
    number nowhere). Each choice is audited with the operator and the
    masked card. Merchants and customers do not see the choice.
    req: FUNC-SETL-08, FUNC-OPS-04, FUNC-OPS-05, DATA-MASK-07, AUD-CNT-03"""
    s = d.s
    c = payer(d, funds=12000)
    o, x = in_review(d, c, AUTO_MAX + 1000, 12000)
    wallet_state(d, c, "closed")
    b0 = books(d)
    r = choose(d.op, x["id"], c.newest["id"])
    assert r.status_code == 200, r.text
    r = choose(d.op, x["id"], c.older["id"])
    assert r.status_code == 200, r.text
    y = r.json()
    assert (y["state"], y["chosen_card_id"], y["chosen_card"], y["destination"], y["card"]) == \
        ("reviewing", c.older["id"], c.older["masked"], "wallet", None), y
    assert y["payer_id"] == c.id
    assert books(d) == b0 and credit_row(d, x["id"]) == []
    row = refund_row(d, x["id"])
    assert (row["chosen_card_id"], row["chosen_card"]) == (c.older["id"], c.older["masked"])
    recs = chosen_records(d, x["id"])
    assert len(recs) == 2, recs
    for rec, card, replaced in ((recs[0], c.newest, None),
                                (recs[1], c.older, c.newest["masked"])):
        det = json.loads(rec["details"])
        assert (rec["actor_id"], rec["outcome"]) == (d.op_id, "success"), rec
        assert (det["card_id"], det["card"], det.get("replaced"), det["state"]) == \
            (card["id"], card["masked"], replaced, "reviewing"), det
        assert not any(n in rec["details"] for n in c.numbers.values()), rec
    # Operators see the choice in their list; merchants and the payer do not.
    [item] = d.op.get("/admin/v1/refunds?order=" + o["id"]).json()["refunds"]
    assert (item["chosen_card_id"], item["chosen_card"]) == (c.older["id"], c.older["masked"])
    got = d.boss.get("/api/v1/merchant/refunds/" + x["id"]).json()
    assert "chosen_card" not in got and "chosen_card_id" not in got, got
    [mine] = c.http.get("/api/v1/me/refunds").json()["refunds"]
    assert "chosen_card" not in mine and "chosen_card_id" not in mine, mine
    # The approval: to the chosen card.
    r = approve(d.op, x["id"])
    assert r.status_code == 200, r.text
    y = r.json()
    assert (y["state"], y["destination"], y["card"]) == ("sending", "card", c.older["masked"]), y
    [w] = credit_row(d, x["id"])
    assert (w["card_id"], w["amount"]) == (c.older["id"], AUTO_MAX + 1000), w
    assert d.sim.payment(serial(d, w))["amount"] == AUTO_MAX + 1000
    texts = [t for t in sms_to(s, c.phone, min_count=1) if "refund" in t or "退款" in t]
    assert len(texts) == 1 and c.older["masked"] in texts[0], texts
    assert c.newest["masked"] not in texts[0], texts
    assert not any(n in texts[0] for n in c.numbers.values()), texts
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "partially_refunded"
    body = c.http.get("/api/v1/me/receipts/refund/%s" % x["id"]).json()["body"]
    assert c.older["masked"] in body["payee"].values(), body
    assert c.newest["masked"] not in json.dumps(body, ensure_ascii=False), body
    verify(d)


def test_without_a_choice_the_newest_bound_card_is_credited(d):
    """No operator chose: the refund goes to the payer's newest bound card,
    as before (an operator's approval and the rules' alike).
    req: FUNC-SETL-08"""
    c = payer(d, funds=10000)
    o, x = in_review(d, c, AUTO_MAX + 1, 10000)
    wallet_state(d, c, "closed")
    r = approve(d.op, x["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["card"], r.json()["chosen_card"]) == (c.newest["masked"], None), r.text
    [w] = credit_row(d, x["id"])
    assert w["card_id"] == c.newest["id"]
    y = refund(d, o["id"], 500).json()
    assert (y["state"], y["card"]) == ("sending", c.newest["masked"]), y
    assert credit_row(d, y["id"])[0]["card_id"] == c.newest["id"]
    for z in (x, y):
        [w] = credit_row(d, z["id"])
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        assert refund_row(d, z["id"])["state"] == "succeeded"
    verify(d)


def test_a_card_that_is_not_the_payers_bound_card_is_refused_and_nothing_changes(d):
    """Another customer's bound card, the payer's own card unbound, the
    payer's card still pending (binding started, not confirmed), a card id
    nobody has: 409 refund_card_invalid (field card_id), the same answer
    for each (nothing tells whose a card is); a malformed id, no card_id,
    an unknown field: 400. Nothing changes: the refund's row (state and
    choice), balances, the bank's rows, transfers, records, notices; the
    approval then goes to the newest card. req: FUNC-SETL-08, IAM-RBAC-01"""
    c = payer(d, funds=12000)
    other = customer(d, funds=0)
    o, x = in_review(d, c, AUTO_MAX + 1, 12000)
    # A third card of the payer, unbound; a fourth left pending.
    _, gone = bind(d.s, d.sim, c.http)
    assert c.http.delete("/api/v1/me/cards/" + gone).status_code in (200, 204)
    number = new_card()
    d.sim.add_card(number, NAME, IDNO, "13900001111", 10000000)
    r = c.http.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                         "id_number": IDNO})
    assert r.status_code == 201, r.text
    pending = r.json()["id"]
    assert d.s.query("SELECT state FROM bank_card WHERE id = ?", pending)[0]["state"] == \
        "pending"
    wallet_state(d, c, "closed")
    before = unchanged(d)
    cases = [other.card, gone, pending, "bcd_" + "Z" * 22]
    for card in cases:
        r = choose(d.op, x["id"], card)
        assert (r.status_code, err(r)) == (409, "refund_card_invalid"), (card, r.text)
        assert r.json()["error"].get("field") == "card_id", r.text
    for body, status, code in (({"card_id": "card_1"}, 400, "invalid_field"),
                               ({"card_id": c.older["id"] + "x"}, 400, "invalid_field"),
                               ({}, 400, "missing_field"),
                               ({"card_id": c.older["id"], "x": 1}, 400, "unknown_field")):
        r = d.op.post("/admin/v1/refunds/%s/card" % x["id"], body)
        assert (r.status_code, err(r)) == (status, code), (body, r.text)
    assert unchanged(d) == before
    assert chosen_records(d, x["id"]) == []
    r = approve(d.op, x["id"])
    assert r.status_code == 200 and r.json()["card"] == c.newest["masked"], r.text
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    verify(d)


def test_a_choice_only_in_review_or_while_waiting_for_funds(d):
    """The refund table allows a choice in reviewing and waiting_funds only:
    a refund succeeded (to the wallet), rejected, sending, failed, or a
    customer's request the merchant has not answered is refused with 409
    refund_state_invalid; an unknown refund 404 refund_not_found; nothing
    changes. req: FUNC-SETL-08, FUNC-OPS-04"""
    c = payer(d, funds=30000)
    done = refund(d, paid_order(d, c, 1000)["id"], 1000).json()  # the wallet takes it
    assert done["state"] == "succeeded", done
    _, rej = in_review(d, c, AUTO_MAX + 1)
    assert d.op.post("/admin/v1/refunds/%s/reject" % rej["id"], {}).json()["state"] == \
        "rejected"
    o = paid_order(d, c, 2000)
    r = c.http.post("/api/v1/me/orders/%s/refund-requests" % o["id"],
                    {"amount": 2000, "currency": "CNY", "reason": "不想要了"})
    assert r.status_code == 201, r.text
    asked = r.json()
    q = paid_order(d, c, 3000)
    wallet_state(d, c, "frozen")
    sending = refund(d, q["id"], 1000).json()
    assert sending["state"] == "sending", sending
    d.sim.behaviour(c.numbers[c.newest["id"]], "decline", once=True)
    failed = refund(d, q["id"], 1000).json()
    assert failed["state"] == "failed", failed
    before = unchanged(d)
    for x in (done, rej, asked, sending, failed):
        r = choose(d.op, x["id"], c.older["id"])
        assert (r.status_code, err(r)) == (409, "refund_state_invalid"), (x["state"], r.text)
    r = choose(d.op, "rfd_" + "y" * 22, c.older["id"])
    assert (r.status_code, err(r)) == (404, "refund_not_found"), r.text
    assert unchanged(d) == before
    [w] = credit_row(d, sending["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    verify(d)


def test_a_refund_waiting_for_funds_goes_to_the_card_chosen_meanwhile(d):
    """The rules approved the refund but the merchant's balance was short
    (waiting_funds); the payer's wallet is closed. An operator chooses the
    older card (the refund still waiting_funds, nothing moves); while the
    balance is short the job leaves it waiting; once it is enough the job
    pay.refund_retry sends it to the chosen card, the bank pays, it
    succeeds. req: FUNC-OPS-05, FUNC-SETL-08"""
    s = d.s
    s.hold_jobs("pay.refund_retry")
    try:
        c = payer(d, funds=5000)
        sink = customer(d, funds=0, card=False)
        o = paid_order(d, c, 5000)
        b = books(d)
        short = b["merchant"] - b["merchant_held"]
        mch = acct(d, "merchant_pending", "mch_rc")["id"]
        out = acct(d, "customer_wallet", sink.id)["id"]
        ledger_move(s, "rcc-drain-" + o["id"], mch, out, short)
        x = refund(d, o["id"], 3000).json()
        assert x["state"] == "waiting_funds", x
        wallet_state(d, c, "closed")
        before = unchanged(d)
        r = choose(d.op, x["id"], c.older["id"])
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["chosen_card"]) == ("waiting_funds",
                                                                c.older["masked"]), r.text
        assert books(d) == before[0] and credit_row(d, x["id"]) == []
        assert len(chosen_records(d, x["id"])) == 1
        r = s.post("/test/v1/pay/refund-retry")
        assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text
        assert refund_row(d, x["id"])["state"] == "waiting_funds"
        assert credit_row(d, x["id"]) == []
        ledger_move(s, "rcc-back-" + o["id"], out, mch, short)
        b1 = books(d)
        r = s.post("/test/v1/pay/refund-retry")
        assert r.status_code == 200, r.text
        y = refund_row(d, x["id"])
        assert (y["state"], y["card"]) == ("sending", c.older["masked"]), y
        [w] = credit_row(d, x["id"])
        assert w["card_id"] == c.older["id"]
        assert books(d) == moved(b1, merchant=18, merchant_held=3000, clearing_pending=3000,
                                 fee=-18)
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        assert refund_row(d, x["id"])["state"] == "succeeded"
        assert books(d) == moved(b1, merchant=-3000 + 18, reserve=-3000, fee=-18)
        verify(d)
    finally:
        s.release_jobs("pay.refund_retry")


def test_a_chosen_card_unbound_before_the_execution_refuses_it_never_another_card(d):
    """The operator chose the older card, then the payer unbound it: the
    approval is refused with 409 refund_card_invalid and nothing changes
    (still reviewing, no credit, no transfer: the money never goes to a
    card nobody chose, nor is the refusal the wallet's); an operator
    chooses again (the newest) and the approval sends it there.
    req: FUNC-SETL-08, FUNC-OPS-04"""
    c = payer(d, funds=12000)
    o, x = in_review(d, c, AUTO_MAX + 1, 12000)
    wallet_state(d, c, "closed")
    assert choose(d.op, x["id"], c.older["id"]).status_code == 200
    assert c.http.delete("/api/v1/me/cards/" + c.older["id"]).status_code in (200, 204)
    before = unchanged(d)
    r = approve(d.op, x["id"])
    assert (r.status_code, err(r)) == (409, "refund_card_invalid"), r.text
    assert unchanged(d) == before
    assert refund_row(d, x["id"])["state"] == "reviewing"
    r = choose(d.op, x["id"], c.older["id"])
    assert (r.status_code, err(r)) == (409, "refund_card_invalid"), r.text
    assert choose(d.op, x["id"], c.newest["id"]).status_code == 200
    r = approve(d.op, x["id"])
    assert r.status_code == 200 and r.json()["card"] == c.newest["masked"], r.text
    [w] = credit_row(d, x["id"])
    assert w["card_id"] == c.newest["id"]
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    verify(d)


def test_a_waiting_refund_whose_chosen_card_was_unbound_waits_on(d):
    """A refund waiting for funds with the older card chosen; the payer
    unbinds it. Once the merchant's balance is enough the job does not send
    the refund to the newest card the operator did not choose: it stays
    waiting_funds, nothing moves (no credit, no transfer, no notice); an
    operator chooses the newest, and the next run sends it there.
    req: FUNC-OPS-05, FUNC-SETL-08"""
    s = d.s
    s.hold_jobs("pay.refund_retry")
    try:
        c = payer(d, funds=4000)
        sink = customer(d, funds=0, card=False)
        o = paid_order(d, c, 4000)
        b = books(d)
        short = b["merchant"] - b["merchant_held"]
        mch = acct(d, "merchant_pending", "mch_rc")["id"]
        out = acct(d, "customer_wallet", sink.id)["id"]
        ledger_move(s, "rcc-drain-" + o["id"], mch, out, short)
        x = refund(d, o["id"], 2000).json()
        assert x["state"] == "waiting_funds", x
        wallet_state(d, c, "closed")
        assert choose(d.op, x["id"], c.older["id"]).status_code == 200
        assert c.http.delete("/api/v1/me/cards/" + c.older["id"]).status_code in (200, 204)
        ledger_move(s, "rcc-back-" + o["id"], out, mch, short)
        before = unchanged(d)
        r = s.post("/test/v1/pay/refund-retry")
        assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text
        assert unchanged(d) == before
        assert refund_row(d, x["id"])["state"] == "waiting_funds"
        assert choose(d.op, x["id"], c.newest["id"]).status_code == 200
        r = s.post("/test/v1/pay/refund-retry")
        assert r.status_code == 200, r.text
        y = refund_row(d, x["id"])
        assert (y["state"], y["card"]) == ("sending", c.newest["masked"]), y
        [w] = credit_row(d, x["id"])
        assert w["card_id"] == c.newest["id"]
        assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
        assert refund_row(d, x["id"])["state"] == "succeeded"
        verify(d)
    finally:
        s.release_jobs("pay.refund_retry")


def test_four_eyes_approve_the_refund_with_the_card_chosen(d):
    """Above refund_four_eyes_min: the maker approves (still reviewing) and
    chooses the card; the choice is no approval (the maker again is
    refund_checker_is_maker); the checker's approval sends the refund to
    the chosen card. req: FUNC-OPS-04, FUNC-SETL-08"""
    c = payer(d, funds=FOUR_EYES + 1000)
    o, x = in_review(d, c, FOUR_EYES + 1, FOUR_EYES + 1000)
    wallet_state(d, c, "frozen")
    r = approve(d.op, x["id"])
    assert r.status_code == 200 and r.json()["state"] == "reviewing", r.text
    assert r.json()["approved_by"] == d.op_id
    r = choose(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["approved_by"] == d.op_id, r.text
    r = approve(d.op, x["id"])
    assert (r.status_code, err(r)) == (409, "refund_checker_is_maker"), r.text
    r = approve(d.op2, x["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["card"]) == ("sending", c.older["masked"]), r.text
    [w] = credit_row(d, x["id"])
    assert w["card_id"] == c.older["id"]
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    verify(d)


def test_an_escrow_refund_goes_to_the_card_chosen(d):
    """A held escrow order (its hold posted by a first refund to the
    wallet, then the wallet closed): a refund in review with the older
    card chosen goes out of the escrow to that card.
    req: FUNC-SETL-08, FUNC-PAY-02"""
    c = payer(d, funds=12000)
    o = create_order(d.boss, amount=12000, kind="escrow")
    assert pay(c, o["id"]).status_code == 201
    r = refund(d, o["id"], 1000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    paid_order(d, c, 1000)  # the wallet empty: it may close
    wallet_state(d, c, "closed")
    x = refund(d, o["id"], AUTO_MAX + 1).json()
    assert x["state"] == "reviewing", x
    assert choose(d.op, x["id"], c.older["id"]).status_code == 200
    r = approve(d.op, x["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["card"]) == ("sending", c.older["masked"]), r.text
    [w] = credit_row(d, x["id"])
    assert w["card_id"] == c.older["id"]
    assert w["hold_account"] == acct(d, "platform_escrow", "platform")["id"]
    assert escrow_row(d, o["id"])["refunded"] == 1000 + AUTO_MAX + 1
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "escrow_held"
    verify(d)


def test_every_role_class_on_the_card_choice(d):
    """Only operators (pay.refund.review, the role that reviews refunds)
    choose: no session 401; the risk officer and finance (who may list
    refunds), the security administrator and officer 403 forbidden; the
    payer, the merchant's administrator and clerk do not reach the
    operators' routes (404); nothing changes. The operator's choice then
    passes. req: IAM-RBAC-01, IAM-LP-01, FUNC-OPS-04"""
    c = payer(d, funds=12000)
    o, x = in_review(d, c, AUTO_MAX + 1, 12000)
    before = unchanged(d)
    r = Client(d.s, admin=True).post("/admin/v1/refunds/%s/card" % x["id"],
                                     {"card_id": c.older["id"]})
    assert r.status_code == 401, r.text
    for who in (d.risk, d.fin, d.admin, d.officer):
        r = choose(who, x["id"], c.older["id"])
        assert (r.status_code, err(r)) == (403, "forbidden"), r.text
    for who in (c.http, d.boss, d.clerk):
        r = choose(who, x["id"], c.older["id"])
        assert r.status_code == 404, r.text
    assert unchanged(d) == before
    assert chosen_records(d, x["id"]) == []
    r = choose(d.op, x["id"], c.older["id"])
    assert r.status_code == 200 and r.json()["chosen_card"] == c.older["masked"], r.text
    r = d.op.post("/admin/v1/refunds/%s/reject" % x["id"], {})
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
