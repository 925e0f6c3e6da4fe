"""The payment PIN as a keyed MAC (issue 10, docs/security.md "Payment
PIN"): how it is stored, that wrong entries are counted, told and lock at
the limit exactly as before, that Argon2id PIN hashes of the old code are
converted at the next right entry, and that a record naming a key the
server does not hold fails closed. Runs on SQLite and on PostgreSQL."""
import ctypes
import json

from iam import login_customer, register, sms_to, sms_wait
from test_iam_self import err, stepped_up

PIN = "583016"
WRONG = "000001"
MAC_PREFIX = "$anfu-pin$v=1$k=pin-"
FAILED_SMS = "[anfu] A wrong payment password was entered"
LOCKED_SMS = "[anfu] Your payment password was entered wrongly"


def argon2id(pin):
    """An Argon2id hash of pin as the code before issue 10 stored it:
    libsodium's crypto_pwhash_str, with the test configuration's argon2
    parameters (opslimit 1, 8192 KiB)."""
    na = ctypes.CDLL("libsodium.so.23")
    assert na.sodium_init() >= 0
    out = ctypes.create_string_buffer(128)
    assert na.crypto_pwhash_str(out, pin.encode(), ctypes.c_ulonglong(len(pin)),
                                ctypes.c_ulonglong(1), ctypes.c_size_t(8192 * 1024)) == 0
    return out.value.decode()


def with_pin(s, device):
    """A stepped-up customer with PIN set: (client, phone, user id)."""
    _, phone = register(s)
    c = stepped_up(s, phone, device)
    assert c.post("/api/v1/me/payment-password", {"pin": PIN}).status_code == 204
    uid = s.query("SELECT id FROM iam_user WHERE pay_hash IS NOT NULL")[0]["id"]
    return c, phone, uid


def row(s, uid):
    return s.query("SELECT pay_hash, pay_failures, pay_locked_until_ms FROM iam_user"
                   " WHERE id = ?", uid)[0]


def history(s, uid):
    return [h["hash"] for h in s.query(
        "SELECT hash FROM iam_password_history WHERE user_id = ? AND kind = 'payment'", uid)]


def argon2_runs(s):
    return s.get("/test/v1/pwhash-total").json()["total"]


def verify(c, pin):
    return c.post("/api/v1/me/payment-password/verify", {"pin": pin})


def test_pin_is_a_keyed_mac_verified_without_argon2(make_server):
    """Stored as a MAC record naming its key, never the PIN; right and wrong
    entries run no Argon2id. req: IAM-PWD-14"""
    s = make_server()
    c, _, uid = with_pin(s, "pin-mac")
    stored = row(s, uid)["pay_hash"]
    assert stored.startswith(MAC_PREFIX) and PIN not in stored
    assert history(s, uid) == [stored]
    runs = argon2_runs(s)
    assert verify(c, PIN).status_code == 200
    r = verify(c, WRONG)
    assert r.status_code == 403 and err(r) == "payment_password_invalid"
    assert argon2_runs(s) == runs


def test_wrong_pins_are_counted_and_told_and_lock_at_the_limit(make_server):
    """Each wrong PIN below the limit is counted and told to the customer
    (SMS, with the entries left); the fifth locks payments and is told as
    the lock; the lock refuses the right PIN and ends after
    lockout.pay_minutes. req: IAM-LOCK-03, IAM-LOCK-04"""
    s = make_server()
    c, phone, uid = with_pin(s, "pin-lock")
    for i in range(1, 5):
        r = verify(c, WRONG)
        assert r.status_code == 403 and err(r) == "payment_password_invalid"
        assert row(s, uid)["pay_failures"] == i
    texts = sms_wait(s, phone, lambda t: sum(x.startswith(FAILED_SMS) for x in t) == 4)
    failed = [x for x in texts if x.startswith(FAILED_SMS)]
    assert ["%d more wrong entries" % n in x for n, x in zip((4, 3, 2, 1), failed)] == [True] * 4
    assert not any(x.startswith(LOCKED_SMS) for x in texts)
    # At the limit: locked.
    r = verify(c, WRONG)
    assert r.status_code == 423 and err(r) == "payment_locked"
    assert row(s, uid)["pay_locked_until_ms"] is not None
    r = verify(c, PIN)
    assert r.status_code == 423 and err(r) == "payment_locked"
    texts = sms_wait(s, phone, lambda t: any(x.startswith(LOCKED_SMS) for x in t))
    assert sum(x.startswith(FAILED_SMS) for x in texts) == 4
    assert len(s.audit("payment.password_failed")) == 4
    assert len(s.audit("payment.locked")) == 1
    assert s.audit("payment.password_verified") == []
    s.clock(advance_ms=30 * 60_000)
    c = login_customer(s, phone, device="pin-lock")  # the old session idled out
    assert verify(c, PIN).status_code == 200
    assert row(s, uid)["pay_failures"] == 0


def test_argon2_pin_is_converted_at_the_next_right_entry(make_server):
    """A PIN hash of the old code (Argon2id) still verifies; a wrong entry
    converts nothing; the right one rewrites iam_user and the history row to
    a MAC record (audited), after which no Argon2id runs. req: IAM-PWD-14"""
    s = make_server()
    c, _, uid = with_pin(s, "pin-conv")
    old = argon2id(PIN)
    with s.rw() as db:
        db.execute("UPDATE iam_user SET pay_hash = ? WHERE id = ?", old, uid)
        db.execute("UPDATE iam_password_history SET hash = ? WHERE user_id = ?"
                   " AND kind = 'payment'", old, uid)
    r = verify(c, WRONG)
    assert r.status_code == 403 and err(r) == "payment_password_invalid"
    assert row(s, uid)["pay_hash"] == old and history(s, uid) == [old]
    assert verify(c, PIN).status_code == 200
    new = row(s, uid)["pay_hash"]
    assert new.startswith(MAC_PREFIX) and history(s, uid) == [new]
    assert row(s, uid)["pay_failures"] == 0
    conv = s.audit("user.payment_password_converted")
    assert len(conv) == 1 and json.loads(conv[0]["details"])["from"] == "argon2id"
    runs = argon2_runs(s)
    assert verify(c, PIN).status_code == 200
    assert verify(c, WRONG).status_code == 403
    assert argon2_runs(s) == runs
    assert row(s, uid)["pay_hash"] == new
    assert len(s.audit("user.payment_password_converted")) == 1


def test_a_record_under_an_unknown_key_fails_closed(make_server):
    """A stored record naming a PIN key the server does not hold accepts no
    PIN, not even the right one (500 payment_password_unverifiable), and
    counts, converts and tells nothing; each refusal is audited.
    req: IAM-PWD-14, AUD-CNT-02"""
    s = make_server()
    c, phone, uid = with_pin(s, "pin-kid")
    stored = row(s, uid)["pay_hash"]
    kid = stored[len("$anfu-pin$v=1$k="):].split("$")[0]
    forged = stored.replace(kid, "pin-0000000000000000")
    assert forged != stored
    with s.rw() as db:
        db.execute("UPDATE iam_user SET pay_hash = ? WHERE id = ?", forged, uid)
    for pin in (PIN, WRONG):
        r = verify(c, pin)
        assert r.status_code == 500 and err(r) == "payment_password_unverifiable", r.text
    assert row(s, uid) == {"pay_hash": forged, "pay_failures": 0, "pay_locked_until_ms": None}
    assert s.audit("payment.password_verified") == []
    assert s.audit("payment.password_failed") == []
    assert s.audit("user.payment_password_converted") == []
    refused = s.audit("payment.password_refused")
    assert [(x["outcome"], json.loads(x["details"])["reason"]) for x in refused] == [
        ("denied", "payment_password_unverifiable")] * 2
    assert not any(x.startswith(FAILED_SMS) for x in sms_to(s, phone, wait=0))
