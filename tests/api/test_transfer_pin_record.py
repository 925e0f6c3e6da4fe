"""The right payment PIN of a transfer is recorded once, with the transfer
(issue 10, docs/benchmarks.md §8: one durable commit less per transfer).

A right PIN with nothing to change (no failure count, no record to
convert) is recorded by the transfer's own writer command
(src/iam/self.c anfu_iam_verify_payment_password_deferred, src/wallet/
transfer.c confirm_fn); when that command does not commit (a refusal
before or inside the writer, a replay) it is recorded on its own. Either
way the audit has exactly one payment.password_verified per right entry,
by the payer, from the request's IP.
"""
import uuid

import pytest

from conftest import Server
from test_wallet_transfers import PIN, confirm, customer, err, previewed, state


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("pinrec"), config={
        "lockout": {"ip_failures": "10000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


def verified(s, c):
    return [x for x in s.audit("payment.password_verified") if x["actor_id"] == c.id]


def test_confirmed_transfer_records_the_right_pin_once_before_it(s):
    """req: AUD-CNT-02, AUD-CNT-03"""
    a = customer(s, funds=50000)
    b = customer(s)
    p = previewed(s, a, b.phone, 100)
    r = confirm(a, p["confirmation_id"], 100)
    assert r.status_code == 201, r.text
    (v,) = verified(s, a)
    assert v["outcome"] == "success" and v["object_id"] == a.id
    assert v["source_ip"] == "127.0.0.1"
    (t,) = [x for x in s.audit("wallet.transfer") if x["actor_id"] == a.id]
    assert v["seq"] < t["seq"] and v["request_id"] == t["request_id"] != ""
    assert s.query("SELECT pay_failures FROM iam_user WHERE id = ?", a.id) == \
        [{"pay_failures": 0}]


def _changed_amount(s, a, b):
    """Refused before the writer."""
    p = previewed(s, a, b.phone, 100)
    return confirm(a, p["confirmation_id"], 101)


def _spent_after_preview(s, a, b):
    """Refused inside the writer (the ledger: not enough money)."""
    p1 = previewed(s, a, b.phone, 40000)
    p2 = previewed(s, a, b.phone, 40000)
    assert confirm(a, p1["confirmation_id"], 40000).status_code == 201
    s.state_before = state(s, a, b)
    s.verified_before = len(verified(s, a))
    return confirm(a, p2["confirmation_id"], 40000)


@pytest.mark.parametrize("make,code", [
    (_changed_amount, "confirmation_mismatch"),
    (_spent_after_preview, "insufficient_funds"),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_refused_transfer_still_records_the_right_pin_once(s, make, code):
    """The refusal changes nothing else. req: AUD-CNT-02, FUNC-PAY-07"""
    a = customer(s, funds=50000)
    b = customer(s)
    s.state_before = None
    s.verified_before = 0
    before = state(s, a, b)
    r = make(s, a, b)
    assert r.status_code == 409 and err(r) == code, r.text
    assert state(s, a, b) == (s.state_before or before)
    assert len(verified(s, a)) == s.verified_before + 1


def test_replayed_confirmation_records_each_right_entry(s):
    """The same request again: the earlier transfer is answered, the PIN
    entry is recorded again (it is a new entry). req: AUD-CNT-02"""
    a = customer(s, funds=50000)
    b = customer(s)
    p = previewed(s, a, b.phone, 100)
    rid = uuid.uuid4().hex
    r1 = confirm(a, p["confirmation_id"], 100, request_id=rid)
    r2 = confirm(a, p["confirmation_id"], 100, request_id=rid, pin=PIN)
    assert r1.status_code == 201 and r2.status_code in (200, 201), (r1.text, r2.text)
    assert r2.json()["id"] == r1.json()["id"]
    assert len(verified(s, a)) == 2
    assert len([x for x in s.audit("wallet.transfer") if x["actor_id"] == a.id]) == 1
