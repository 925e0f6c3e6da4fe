"""The SMS code of a large transfer, bound to its confirmation (src/wallet/
transfer.c, src/iam/txcode.c; docs/wallet.md "Large transfers").

One server with the default [wallet] options: sms_confirm_over equals
pin_single_max (100000 fen), so a transfer above it needs a step-up (the
PIN-only limit) and the code the preview texted, whose text names the
amount and the masked payee. Refusals leave balances, the wallet's and the
ledger's rows and the audit records as they were (test_wallet_transfers'
state()).
"""
import re

import pytest

from conftest import Server
from iam import message_kinds, outbox, settle, sms_code
from test_wallet_transfers import confirm, customer, err, previewed, state, step_up

OVER = 100000  # the default sms_confirm_over (= pin_single_max)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("wallet-txotp"), config={
        "lockout": {"ip_failures": "10000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


def tx_texts(s, c):
    """The texts of the transaction-code SMS sent to c, oldest first."""
    settle(s)
    kinds = message_kinds(s)
    return [m["text"] for m in outbox(s)
            if m["to"].endswith(c.phone[-11:]) and kinds.get(m.get("id"), ("",))[0] == "code.tx"]


def tx_code(text):
    return re.findall(r"(?<!\d)(\d{6})(?!\d)", text)[-1]


def code_row(s, conf_id):
    return s.query("SELECT attempts, used_ms FROM iam_code WHERE purpose = 'tx' AND context = ?",
                   conf_id)


def test_above_threshold_needs_the_texted_code(s):
    """Without the code, with a wrong one: refused, nothing moves (a wrong
    one counts an attempt on the code); with the code the preview texted:
    done, and the code is used up. req: IAM-MFA-11, TX-CONFIRM-02"""
    a = customer(s, funds=300000)
    b = customer(s, name="李四")
    p = previewed(s, a, b.phone, OVER + 1)
    assert p["sms_code_required"] is True
    texts = tx_texts(s, a)
    assert len(texts) == 1
    code = tx_code(texts[0])
    step_up(s, a)
    before = state(s, a, b)
    r = confirm(a, p["confirmation_id"], OVER + 1)
    assert r.status_code == 400 and err(r) == "code_invalid", r.text
    assert r.json()["error"]["field"] == "sms_code"
    assert state(s, a, b) == before
    assert code_row(s, p["confirmation_id"]) == [{"attempts": 0, "used_ms": None}]
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = a.http.post("/api/v1/me/transfers", {
        "confirmation_id": p["confirmation_id"], "request_id": "w1", "amount": OVER + 1,
        "payment_pin": "583016", "sms_code": wrong})
    assert r.status_code == 400 and err(r) == "code_invalid", r.text
    assert state(s, a, b) == before
    assert code_row(s, p["confirmation_id"]) == [{"attempts": 1, "used_ms": None}]
    r = a.http.post("/api/v1/me/transfers", {
        "confirmation_id": p["confirmation_id"], "request_id": "r1", "amount": OVER + 1,
        "payment_pin": "583016", "sms_code": code})
    assert r.status_code == 201 and r.json()["amount"] == OVER + 1, r.text
    assert r.json()["auth"] == "pin_otp"
    row = code_row(s, p["confirmation_id"])
    assert row[0]["attempts"] == 2 and row[0]["used_ms"] is not None


def test_the_text_names_amount_and_masked_payee(s):
    """req: IAM-MFA-11, DATA-MASK-01"""
    a = customer(s, funds=300000)
    b = customer(s, name="王小五")
    p = previewed(s, a, b.phone, 123456)
    texts = tx_texts(s, a)
    assert len(texts) == 1
    # In the payer's language (English here): the amount in figures.
    assert p["amount_text"] == "1234.56" and "CNY 1234.56" in texts[0], texts[0]
    assert p["payee"]["name"] in texts[0] and "王小五" not in texts[0], texts[0]
    # Stored hashed only: the digits are not in the code's row.
    code = tx_code(texts[0])
    rows = s.query("SELECT code_hash FROM iam_code WHERE purpose = 'tx' AND context = ?",
                   p["confirmation_id"])
    assert len(rows) == 1 and code not in rows[0]["code_hash"]


def test_code_of_another_confirmation_is_refused(s):
    """Two previews, two codes: each confirms only its own. req: IAM-MFA-11"""
    a = customer(s, funds=500000)
    b = customer(s)
    p1 = previewed(s, a, b.phone, OVER + 5)
    code1 = tx_code(tx_texts(s, a)[-1])
    p2 = previewed(s, a, b.phone, OVER + 7)
    code2 = tx_code(tx_texts(s, a)[-1])
    step_up(s, a)
    before = state(s, a, b)
    if code1 != code2:
        r = a.http.post("/api/v1/me/transfers", {
            "confirmation_id": p2["confirmation_id"], "request_id": "x2", "amount": OVER + 7,
            "payment_pin": "583016", "sms_code": code1})
        assert r.status_code == 400 and err(r) == "code_invalid", r.text
        assert state(s, a, b) == before
        assert code_row(s, p2["confirmation_id"]) == [{"attempts": 1, "used_ms": None}]
    r = a.http.post("/api/v1/me/transfers", {
        "confirmation_id": p1["confirmation_id"], "request_id": "x1", "amount": OVER + 5,
        "payment_pin": "583016", "sms_code": code1})
    assert r.status_code == 201, r.text
    # A used code does not come back for its confirmation's next request.
    r = a.http.post("/api/v1/me/transfers", {
        "confirmation_id": p1["confirmation_id"], "request_id": "x3", "amount": OVER + 5,
        "payment_pin": "583016", "sms_code": code1})
    assert r.status_code == 409 and err(r) == "confirmation_used", r.text


def test_at_the_threshold_no_code(s):
    """req: TX-CONFIRM-02"""
    a = customer(s, funds=300000)
    b = customer(s)
    p = previewed(s, a, b.phone, OVER)
    assert p["sms_code_required"] is False
    assert tx_texts(s, a) == []
    assert code_row(s, p["confirmation_id"]) == []
    r = confirm(a, p["confirmation_id"], OVER)
    assert r.status_code == 201 and r.json()["auth"] == "pin", r.text


def test_expired_with_its_confirmation(s):
    """The code goes with its confirmation: once the confirmation has
    expired the right code confirms nothing (the confirmation's expiry is
    checked first). req: TX-CONFIRM-01"""
    a = customer(s, funds=300000)
    b = customer(s)
    p = previewed(s, a, b.phone, OVER + 1)
    code = tx_code(tx_texts(s, a)[-1])
    step_up(s, a)
    s.clock(advance_ms=p["expires_ms"] - p["created_ms"])
    before = state(s, a, b)
    r = a.http.post("/api/v1/me/transfers", {
        "confirmation_id": p["confirmation_id"], "request_id": "e1", "amount": OVER + 1,
        "payment_pin": "583016", "sms_code": code})
    assert r.status_code == 409 and err(r) == "confirmation_expired", r.text
    assert state(s, a, b) == before
    # The right code was not used up by the refused request.
    assert code_row(s, p["confirmation_id"]) == [{"attempts": 0, "used_ms": None}]


def test_no_bound_phone_is_refused_at_preview(s):
    """A payer without a bound phone cannot be sent the code: the preview
    is refused and writes nothing (no confirmation, no code, no audit
    record). req: TX-CONFIRM-02"""
    a = customer(s, funds=300000)
    b = customer(s)
    # Behind anfud's back: as if the account had never bound a phone.
    with s.rw() as db:
        db.execute("UPDATE iam_user SET phone_enc = NULL, phone_index = NULL WHERE id = ?", a.id)
    confs = s.query("SELECT COUNT(*) AS n FROM wallet_confirmation")[0]["n"]
    codes = s.query("SELECT COUNT(*) AS n FROM iam_code WHERE purpose = 'tx'")[0]["n"]
    previews = len(s.audit("wallet.transfer.previewed"))
    r = a.http.post("/api/v1/me/transfers/preview",
                    {"to": b.phone, "amount": OVER + 1, "currency": "CNY"})
    assert r.status_code == 409 and err(r) == "no_delivery_channel", r.text
    assert r.json()["error"]["field"] == "sms_code"
    assert s.query("SELECT COUNT(*) AS n FROM wallet_confirmation")[0]["n"] == confs
    assert s.query("SELECT COUNT(*) AS n FROM iam_code WHERE purpose = 'tx'")[0]["n"] == codes
    assert len(s.audit("wallet.transfer.previewed")) == previews
    # At the threshold no code is needed: the preview is made.
    r = a.http.post("/api/v1/me/transfers/preview",
                    {"to": b.phone, "amount": OVER, "currency": "CNY"})
    assert r.status_code == 201, r.text
