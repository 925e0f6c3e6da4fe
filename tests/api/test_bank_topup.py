"""Bank cards and top-ups through the real API with the real simulator bank
(anfu-banksim): binding (identity, the bank's code, one owner per card),
top-ups credited only when the bank confirms, every failure mode of the
bank, duplicate and replayed callbacks, the query of a lost answer, limits
at their boundary; each refusal changes nothing (docs/bank.md)."""
import pytest

from banksim import BankSim, banksim, luhn  # noqa: F401 (fixture)
from iam import login_customer, register

NAME = "张三丰"
# The bank's jobs whose work the tests run through test hooks, counting what
# each run did: the scheduler must not race them for it.
BANK_HOOK_JOBS = ("bank.query", "bank.withdraw_send")
IDNO = "11010519491231002X"


def start(make_server, sim, **bank):
    s = make_server(config=sim.config(**bank))
    sim.peer(s)
    # The tests run the query and the send through their hooks.
    return s.hold_jobs(*BANK_HOOK_JOBS)


def customer(s, name=NAME, idno=IDNO):
    _, phone = register(s, real_name=name, id_number=idno)
    c = login_customer(s, phone)
    return c, c.get("/api/v1/me").json()["user"]["id"]


def wallet(s, uid):
    row = s.query("SELECT credits_posted - debits_posted AS bal FROM ledger_account "
                  "WHERE owner_id = ? AND kind = 'customer_wallet'", uid)
    return row[0]["bal"]


def reserve(s, bank_id="sim"):
    row = s.query("SELECT debits_posted - credits_posted AS bal FROM ledger_account "
                  "WHERE owner_id = ? AND kind = 'bank_reserve'", bank_id)
    return row[0]["bal"]


_cards = {"n": 0}


def new_card():
    _cards["n"] += 1
    return luhn("622202%04d" % _cards["n"], 19)


def bind(s, sim, c, number=None, balance=10000000, bank_phone="13900001111"):
    number = number or new_card()
    sim.add_card(number, NAME, IDNO, bank_phone, balance)
    r = c.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                    "id_number": IDNO})
    assert r.status_code == 201, r.text
    card = r.json()
    r = c.post("/api/v1/me/cards/%s/confirm" % card["id"],
               {"code": sim.last_code(bank_phone)})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "bound"
    return number, card["id"]


def topup(c, card_id, amount, rid):
    return c.post("/api/v1/me/topups", {"card_id": card_id, "amount": amount,
                                        "currency": "CNY", "client_request_id": rid})


def serial_of(s, payment_id):
    return s.query("SELECT serial FROM bank_payment WHERE id = ?", payment_id)[0]["serial"]


def counts(s, uid):
    """What a refusal must leave as it was."""
    return {
        "payments": s.query("SELECT count(*) AS n FROM bank_payment WHERE user_id = ?",
                            uid)[0]["n"],
        "cards": s.query("SELECT count(*) AS n FROM bank_card WHERE user_id = ?", uid)[0]["n"],
        "audit": s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'bank.%'"
                         )[0]["n"],
        "transfers": s.query("SELECT count(*) AS n FROM ledger_transfer")[0]["n"],
        "wallet": wallet(s, uid),
    }


def test_bind_masks_the_card_and_seals_its_number(make_server, banksim):
    """req: FUNC-ACCT-16, DATA-MASK-07, DATA-ENC-03 — a bound card shows
    first 6 + last 4 only; the number is nowhere in the database in clear;
    the bank's code went to the phone the bank holds."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c, bank_phone="13900002222")
    cards = c.get("/api/v1/me/cards").json()["cards"]
    assert [(x["id"], x["card"], x["state"]) for x in cards] == [
        (card_id, number[:6] + "*" * (len(number) - 10) + number[-4:], "bound")]
    assert cards[0]["phone"].endswith("2222") and "13900002222" not in str(cards)
    assert number.encode() not in s.db_bytes()
    assert [a["action"] for a in s.audit() if a["action"].startswith("bank.card")] == [
        "bank.card.bind_started", "bank.card.bound"]
    log = (s.data / "log" / "anfud.log").read_text(errors="replace")
    assert number not in log


def test_bind_refuses_a_holder_that_is_not_the_customer(make_server, banksim):
    """req: FUNC-ACCT-16 — another name than the verified identity: 409
    identity_mismatch, nothing written, no code sent."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number = new_card()
    banksim.add_card(number, "李四", IDNO, "13900003333")
    before = counts(s, uid)
    r = c.post("/api/v1/me/cards", {"card_number": number, "holder_name": "李四",
                                    "id_number": IDNO})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "identity_mismatch"
    assert counts(s, uid) == before
    assert banksim.sms("13900003333") == []


def test_bind_refuses_a_card_the_bank_does_not_hold_for_that_holder(make_server, banksim):
    """The bank's holder differs from the customer: 409 card_declined."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number = new_card()
    banksim.add_card(number, "王五", "110105194912310029", "13900004444")
    before = counts(s, uid)
    r = c.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                    "id_number": IDNO})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "card_declined"
    assert counts(s, uid) == before


def test_bind_refuses_a_number_that_fails_luhn(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    good = new_card()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    r = c.post("/api/v1/me/cards", {"card_number": bad, "holder_name": NAME,
                                    "id_number": IDNO})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_field"


def test_wrong_code_does_not_bind(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    number = new_card()
    banksim.add_card(number, NAME, IDNO, "13900005555")
    card = c.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                       "id_number": IDNO}).json()
    code = banksim.last_code("13900005555")
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = c.post("/api/v1/me/cards/%s/confirm" % card["id"], {"code": wrong})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "code_invalid"
    assert s.query("SELECT state FROM bank_card WHERE id = ?", card["id"])[0]["state"] == \
        "pending"


def test_a_card_bound_by_one_customer_cannot_be_bound_by_another(make_server, banksim):
    """req: FUNC-ACCT-16 — the blind index keeps one bound owner per card."""
    s = start(make_server, banksim)
    c1, _ = customer(s)
    number, _ = bind(s, banksim, c1)
    c2, uid2 = customer(s)
    before = counts(s, uid2)
    r = c2.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                     "id_number": IDNO})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "card_bound_elsewhere"
    assert counts(s, uid2) == before
    r = c1.post("/api/v1/me/cards", {"card_number": number, "holder_name": NAME,
                                     "id_number": IDNO})
    assert r.json()["error"]["code"] == "card_already_bound"


def test_unbind(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    r = c.delete("/api/v1/me/cards/" + card_id)
    assert r.status_code == 200, r.text
    assert c.get("/api/v1/me/cards").json()["cards"] == []
    r = topup(c, card_id, 100, "after-unbind")
    assert r.status_code == 409 and r.json()["error"]["code"] == "card_not_bound"


def test_topup_credits_the_wallet_only_when_the_bank_confirms(make_server, banksim):
    """req: FUNC-PAY-08 — in transit after the request, the wallet unchanged;
    the bank's signed callback credits it (bank_reserve -> customer_wallet,
    top_up) with the payment's state in one command; audited; told."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    r = topup(c, card_id, 12345, "t-1")
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["state"], p["amount"], p["currency"]) == ("in_transit", 12345, "CNY")
    assert wallet(s, uid) == 0
    assert [cb["status"] for cb in banksim.settle()] == [200]
    assert wallet(s, uid) == 12345
    assert reserve(s) == 12345
    p = c.get("/api/v1/me/topups/" + p["id"]).json()
    assert p["state"] == "succeeded" and p["transfer_id"].startswith("trf_")
    t = s.query("SELECT code, amount, ref FROM ledger_transfer WHERE id = ?", p["transfer_id"])
    assert t == [{"code": "top_up", "amount": 12345, "ref": p["id"]}]
    actions = [a["action"] for a in s.audit() if a["object_id"] == p["id"]]
    assert actions == ["bank.topup.created", "bank.payment.in_transit",
                       "bank.payment.succeeded"]
    assert s.query("SELECT count(*) AS n FROM notify_message WHERE kind = "
                   "'bank.topup_succeeded' AND user_id = ?", uid)[0]["n"] == 1
    assert [x["id"] for x in c.get("/api/v1/me/topups").json()["topups"]] == [p["id"]]


def test_duplicate_callbacks_credit_once(make_server, banksim):
    """The bank sends its callback twice (each signed, new nonce): both
    accepted, one credit."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "twice")
    p = topup(c, card_id, 500, "dup").json()
    assert [cb["status"] for cb in banksim.settle()] == [200, 200]
    assert wallet(s, uid) == 500
    assert s.query("SELECT count(*) AS n FROM ledger_transfer WHERE ref = ?",
                   p["id"])[0]["n"] == 1


def test_a_replayed_callback_is_refused(make_server, banksim):
    """The same signed message twice (same nonce): the second 409 replayed."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "replay")
    topup(c, card_id, 700, "replay")
    assert [cb["status"] for cb in banksim.settle()] == [200, 409]
    assert wallet(s, uid) == 700


def test_decline_leaves_the_wallet_untouched_and_tells_the_customer(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "decline")
    r = topup(c, card_id, 900, "declined")
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "failed"
    assert banksim.settle() == []
    assert wallet(s, uid) == 0
    assert s.query("SELECT count(*) AS n FROM notify_message WHERE kind = "
                   "'bank.topup_failed' AND user_id = ?", uid)[0]["n"] == 1


def test_a_failure_by_callback_credits_nothing(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "fail")
    p = topup(c, card_id, 900, "fails").json()
    assert p["state"] == "in_transit"
    assert [cb["status"] for cb in banksim.settle()] == [200]
    assert c.get("/api/v1/me/topups/" + p["id"]).json()["state"] == "failed"
    assert wallet(s, uid) == 0
    assert s.query("SELECT count(*) AS n FROM notify_message WHERE kind = "
                   "'bank.topup_failed' AND user_id = ?", uid)[0]["n"] == 1


def test_a_timeout_is_resolved_by_querying_never_by_sending_again(make_server, banksim):
    """No answer within [bank] timeout_ms: unknown; the query job (after
    query_after_s on the clock) asks the bank, which settled it: credited
    once, the bank saw one request."""
    s = start(make_server, banksim, query_after_s=60)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "timeout", once=True)
    p = topup(c, card_id, 2500, "slow").json()
    assert p["state"] == "unknown"
    serial = serial_of(s, p["id"])
    assert banksim.payment(serial)["status"] == "pending"
    r = s.post("/test/v1/bank/query")
    assert r.json()["queried"] == 0  # not yet due
    s.clock(advance_ms=61000)
    banksim.clock(61000)
    r = s.post("/test/v1/bank/query")
    assert r.json() == {"queried": 1, "resolved": 0, "unanswered": 0}  # pending: in transit
    assert c.get("/api/v1/me/topups/" + p["id"]).json()["state"] == "in_transit"
    assert [cb["status"] for cb in banksim.settle()] == [200]
    assert wallet(s, uid) == 2500


def test_a_late_confirmation_found_by_the_query_then_its_callback_credits_once(
        make_server, banksim):
    s = start(make_server, banksim, query_after_s=60)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "late")
    p = topup(c, card_id, 3100, "late").json()
    assert banksim.settle() == []  # settled at the bank, callback held back
    assert wallet(s, uid) == 0
    s.clock(advance_ms=61000)
    banksim.clock(61000)
    assert s.post("/test/v1/bank/query").json()["resolved"] == 1
    assert wallet(s, uid) == 3100
    assert [cb["status"] for cb in banksim.settle(late=True)] == [200]
    assert wallet(s, uid) == 3100
    assert s.query("SELECT count(*) AS n FROM ledger_transfer WHERE ref = ?",
                   p["id"])[0]["n"] == 1


def test_topup_is_idempotent_per_client_request_id(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    first = topup(c, card_id, 1000, "same")
    again = topup(c, card_id, 1000, "same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    before = counts(s, uid)
    r = topup(c, card_id, 1001, "same")
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_conflict"
    assert counts(s, uid) == before


def test_per_transaction_limit_at_the_boundary(make_server, banksim):
    """req: RISK-LIM-02 — at the limit passes, one fen over is refused."""
    s = start(make_server, banksim, topup_max=10000)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    before = counts(s, uid)
    r = topup(c, card_id, 10001, "over")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "topup_limit_per_transaction"
    assert counts(s, uid) == before
    assert topup(c, card_id, 10000, "at").status_code == 201


def test_daily_limit_at_the_boundary(make_server, banksim):
    """req: RISK-LIM-03 — the day's top-ups (failed ones not counted) up to
    the limit pass; one fen over is refused; the next Shanghai day starts
    again."""
    s = start(make_server, banksim, topup_daily_max=30000)
    _, phone = register(s, real_name=NAME, id_number=IDNO)
    c = login_customer(s, phone)
    uid = c.get("/api/v1/me").json()["user"]["id"]
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "decline", once=True)
    assert topup(c, card_id, 30000, "d0").json()["state"] == "failed"
    assert topup(c, card_id, 20000, "d1").status_code == 201
    before = counts(s, uid)
    r = topup(c, card_id, 10001, "d2")
    assert r.status_code == 409 and r.json()["error"]["code"] == "topup_limit_daily"
    assert counts(s, uid) == before
    assert topup(c, card_id, 10000, "d3").status_code == 201
    s.clock(advance_ms=24 * 3600 * 1000)
    banksim.clock(24 * 3600 * 1000)
    c = login_customer(s, phone, device="next-day")
    assert topup(c, card_id, 10001, "d4").status_code == 201


def test_a_callback_with_a_bad_signature_changes_nothing(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    p = topup(c, card_id, 800, "forged").json()
    body = '{"amount":800,"bank_ref":"x","currency":"CNY","serial":"%s","status":"succeeded"}' \
        % serial_of(s, p["id"])
    before = counts(s, uid)
    r = s.post("/bank/v1/callbacks/sim", data=body, headers={
        "Content-Type": "application/json", "X-Anfu-Timestamp": "1",
        "X-Anfu-Nonce": "0" * 32, "X-Anfu-Signature": "AAAA"})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "signature_invalid"
    assert counts(s, uid) == before


def test_ledger_verifies_after_topups(make_server, banksim):
    s = start(make_server, banksim)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    topup(c, card_id, 100, "v1")
    topup(c, card_id, 200, "v2")
    banksim.settle()
    s.stop()
    out = s.cli_run("ledger", "verify")
    assert out.returncode == 0, out.stdout + out.stderr


def test_without_a_bank_cards_and_topups_answer_bank_unavailable(make_server):
    """[bank] connector = none (the default): 503 bank_unavailable, nothing
    written."""
    s = make_server()
    c, uid = customer(s)
    before = counts(s, uid)
    r = c.post("/api/v1/me/cards", {"card_number": new_card(), "holder_name": NAME,
                                    "id_number": IDNO})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "bank_unavailable"
    assert counts(s, uid) == before


def test_a_malformed_card_id_is_refused_before_anything_else(make_server):
    """req: WEB-SQL-01 — a card id that is not a card id's shape answers
    404 not_found (field card_id) before the bank is asked for anything:
    even with no bank ([bank] connector = none), where a well-formed card
    id answers 503 bank_unavailable; nothing written."""
    s = make_server()
    c, uid = customer(s)
    card = "bcd_" + "A" * 22
    before = counts(s, uid)
    for bad in (card[:-1], card + "0", card[:-1] + "-", "usr" + card[3:], "bcd-" + card[4:]):
        r = topup(c, bad, 1000, "malformed")
        assert r.status_code == 404, (bad, r.text)
        assert r.json()["error"]["code"] == "not_found"
        assert r.json()["error"]["field"] == "card_id", r.text
    r = topup(c, card, 1000, "well-formed")
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "bank_unavailable"
    assert counts(s, uid) == before


def test_production_build_runs_the_simulator_bank_only_when_allowed(make_server, banksim):
    """req: SDLC-04 — a production anfud takes [bank] connector = simulator
    with [server] allow_simulators = true, and says so in its log."""
    import os
    from conftest import PROD_BUILD
    prod = os.path.join(PROD_BUILD, "anfud")
    if not os.path.exists(prod):
        pytest.skip("no production build")
    cfg = banksim.config()
    cfg["server"] = {"allow_simulators": "true"}
    s = make_server(config=cfg, binary=prod)
    log = (s.data / "log" / "anfud.log").read_text()
    assert "[bank] connector = simulator" in log
    assert s.stop() == 0
