"""The notices of a transfer (src/wallet/transfer.c notice()), sent through
iam (anfu_iam_notify_user: the user's bound channels, the user's language)
over HTTPS against a real anfud: each party is told, by their own SMS, of
the other by masked name only (docs/wallet.md).

The wallet knows people only through iam (issue 10, "payee"): it reads no
iam table and reveals no phone or email itself.
"""
import uuid

import pytest

from conftest import Server
from iam import login_customer, register, sms_code, sms_to, sms_wait


PIN = "583016"


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("walletnotice"), config={
        "lockout": {"ip_failures": "10000"},
        # The SMS code of large transfers off: test_wallet_txotp.py.
        "wallet": {"sms_confirm_over": "100000000000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


def customer(s, name, device):
    """A registered customer (English: the test clients' language) with a
    session and a payment PIN; (client, id, phone)."""
    _, phone = register(s, real_name=name)
    c = login_customer(s, phone, device=device)
    uid = c.get("/api/v1/me").json()["user"]["id"]
    s.clock(advance_ms=1)
    assert c.send_code("step_up", "sms").status_code == 202
    assert c.step_up("sms", sms_code(s, phone)).status_code == 200
    s.clock(advance_ms=1)
    r = c.post("/api/v1/me/payment-password", {"pin": PIN})
    assert r.status_code == 204, r.text
    s.clock(advance_ms=1)
    return c, uid, phone


def test_each_party_is_told_of_the_other_masked_in_their_language(s):
    """req: FUNC-PAY-07, DATA-MASK-01"""
    a, a_id, a_phone = customer(s, "张三", "notice-a")
    b, b_id, b_phone = customer(s, "李四", "notice-b")
    r = s.post("/test/v1/wallet/credit", {"user_id": a_id, "amount": 50000,
                                          "key": uuid.uuid4().hex})
    assert r.status_code == 200, r.text
    r = a.post("/api/v1/me/transfers/preview", {"to": b_phone, "amount": 12345,
                                                "currency": "CNY"})
    assert r.status_code == 201, r.text
    s.clock(advance_ms=1)
    r = a.post("/api/v1/me/transfers", {"confirmation_id": r.json()["confirmation_id"],
                                        "request_id": uuid.uuid4().hex, "amount": 12345,
                                        "payment_pin": PIN})
    assert r.status_code == 201, r.text
    # The payee hears of the payer by the payer's masked name, in English.
    sms_wait(s, b_phone, lambda t: any(x.startswith("[anfu] *三 sent you CNY 123.45 at ")
                                       for x in t))
    # The payer hears of the payee by the name they confirmed.
    sms_wait(s, a_phone, lambda t: any(x.startswith("[anfu] You sent CNY 123.45 to *四 at ")
                                       for x in t))
    # No clear name, and no one else's number, in either party's texts.
    for phone, other in ((a_phone, b_phone), (b_phone, a_phone)):
        for text in sms_to(s, phone):
            assert "张三" not in text and "李四" not in text and other not in text
    # One notice each, on the one channel each has bound.
    rows = s.query("SELECT user_id, kind, channel FROM notify_message"
                   " WHERE kind LIKE 'wallet.%' AND user_id IN (?, ?) ORDER BY kind",
                   a_id, b_id)
    assert rows == [{"user_id": b_id, "kind": "wallet.transfer_in", "channel": "sms"},
                    {"user_id": a_id, "kind": "wallet.transfer_out", "channel": "sms"}]
