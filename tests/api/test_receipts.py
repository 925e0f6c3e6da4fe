"""Electronic receipts (电子回单) over HTTPS against a real anfud
(src/receipt/; docs/receipts.md): a wallet transfer's receipt downloaded by
both parties, refused to everybody else, stored once and returned again
byte for byte, and verified offline by tools/verify_receipt.py and
`anfu receipts verify`, which refuse every tampering."""
import base64
import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from conftest import Server
from test_wallet_transfers import confirm, customer

ROOT = Path(__file__).resolve().parents[2]
VERIFY_PY = ROOT / "tools" / "verify_receipt.py"
SEQ = itertools.count(1)
MEMO = '午饭 "AA" \\ café'


def err(r):
    return r.json()["error"]["code"]


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("receipts"), config={
        "lockout": {"ip_failures": "10000"},
        "wallet": {"sms_confirm_over": "100000000000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


def transfer(s, amount=1234, memo=MEMO):
    """A completed transfer from a new payer to a new payee: (payer, payee,
    transfer id)."""
    a = customer(s, name="张三", funds=100000)
    b = customer(s, name="李四")
    r = a.http.post("/api/v1/me/transfers/preview",
                    {"to": b.phone, "amount": amount, "currency": "CNY", "memo": memo})
    assert r.status_code == 201, r.text
    s.clock(advance_ms=1)
    p = r.json()
    r = confirm(a, p["confirmation_id"], amount)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    return a, b, tid


def url(tid, kind="wallet_transfer"):
    return "/api/v1/me/receipts/%s/%s" % (kind, tid)


def receipts_of(s, tid):
    return s.query("SELECT * FROM receipt WHERE ref_id = ?", tid)


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def test_both_parties_download_one_stored_receipt(s):
    """The payer and the payee get the same document, an attachment named
    after its rct_ id; it is stored once (one row, one receipt.issue
    record) and every download is audited. The document is canonical JSON
    (what Python's json.dumps(sort_keys, compact, ensure_ascii=False)
    makes of it, with the Chinese memo, the quote and the backslash) and
    names the transfer's facts with the parties masked.
    req: PKI-SIG-01, TX-NR-01"""
    a, b, tid = transfer(s)
    issued = len(s.audit("receipt.issue"))
    downloads = len(s.audit("receipt.download"))
    r1 = a.http.get(url(tid))
    assert r1.status_code == 200, r1.text
    assert r1.headers["Content-Type"].startswith("application/json")
    s.clock(advance_ms=60_000)
    r2 = b.http.get(url(tid))
    assert r2.status_code == 200, r2.text
    assert r2.content == r1.content
    doc = json.loads(r1.content)
    body = doc["body"]
    rct = body["receipt_id"]
    assert r1.headers["Content-Disposition"] == 'attachment; filename="%s.json"' % rct
    assert canonical(doc) == r1.content
    row = s.query("SELECT * FROM wallet_transfer WHERE id = ?", tid)[0]
    assert body["kind"] == "wallet_transfer" and body["ref"] == tid
    assert body["amount"] == 1234 and body["currency"] == "CNY"
    assert body["memo"] == MEMO and body["state"] == "completed"
    assert body["ledger_transfers"] == [row["ledger_id"]]
    assert body["time_ms"] == row["created_ms"] and body["version"] == 1
    assert body["payer"]["type"] == "customer" and body["payee"]["type"] == "customer"
    assert "张三" not in r1.content.decode() and "李四" not in r1.content.decode()
    assert "*" in body["payer"]["name"] and "*" in body["payee"]["name"]
    rows = receipts_of(s, tid)
    assert len(rows) == 1 and rows[0]["id"] == rct and rows[0]["kind"] == "wallet_transfer"
    assert rows[0]["body"].encode() == canonical(body)
    assert len(s.audit("receipt.issue")) == issued + 1
    dl = s.audit("receipt.download")[downloads:]
    assert [(d["actor_id"], d["object_id"], d["outcome"]) for d in dl] == [
        (a.id, rct, "success"), (b.id, rct, "success")]


def test_the_stored_receipt_comes_back_unchanged(s):
    """Later downloads, after the clock moved on, return the stored
    document byte for byte (same id, issue time and signature); nothing
    new is issued. req: PKI-SIG-01"""
    a, _, tid = transfer(s)
    first = a.http.get(url(tid)).content
    issued = len(s.audit("receipt.issue"))
    for _ in range(2):
        s.clock(advance_ms=5 * 60_000)  # within the session's idle time
        r = a.http.get(url(tid))
        assert r.status_code == 200 and r.content == first
    assert len(receipts_of(s, tid)) == 1
    assert len(s.audit("receipt.issue")) == issued


def test_racing_first_requests_issue_one_receipt(s):
    """Both parties asking at once, several times each, before any receipt
    exists: one row, one receipt.issue record, the same bytes for all.
    req: TX-NR-01"""
    a, b, tid = transfer(s)
    issued = len(s.audit("receipt.issue"))
    got = []
    barrier = threading.Barrier(6)

    def fetch(c):
        barrier.wait()
        got.append(c.http.get(url(tid)))

    threads = [threading.Thread(target=fetch, args=(c,)) for c in (a, b) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in got] == [200] * 6, [r.text for r in got]
    assert len({r.content for r in got}) == 1
    assert len(receipts_of(s, tid)) == 1
    assert len(s.audit("receipt.issue")) == issued + 1


def test_others_get_404_and_nothing_is_issued(s):
    """A third customer, an unknown kind, an unknown or malformed reference:
    404 not_found alike; no receipt row, no record. req: PKI-SIG-01"""
    _, _, tid = transfer(s)
    c = customer(s, name="王五", pin=False)
    before = (s.query("SELECT COUNT(*) AS n FROM receipt")[0]["n"],
              len(s.audit("receipt.issue")), len(s.audit("receipt.download")))
    for path in (url(tid), url(tid, kind="payment"), url("wtr_nosuchtransfer00000000"),
                 url("wtr-bad"), url(tid, kind="Wallet")):
        r = c.http.get(path)
        assert r.status_code == 404 and err(r) == "not_found", (path, r.text)
    assert s.get(url(tid)).status_code == 401
    after = (s.query("SELECT COUNT(*) AS n FROM receipt")[0]["n"],
             len(s.audit("receipt.issue")), len(s.audit("receipt.download")))
    assert after == before
    assert receipts_of(s, tid) == []


def keyfile_from_api(s, tmp_path):
    r = s.get("/api/v1/receipts/keys")
    assert r.status_code == 200, r.text
    keys = r.json()["keys"]
    assert len(keys) == 1 and keys[0]["use"] == "receipt"
    p = tmp_path / "keys.json"
    p.write_text(r.text)
    return keys[0], p


def py_verify(receipt, key):
    return subprocess.run([sys.executable, str(VERIFY_PY), str(receipt), "--key", str(key)],
                          capture_output=True, text=True)


def tampered(doc, tmp_path, name, change):
    d = json.loads(doc)
    change(d)
    p = tmp_path / name
    p.write_bytes(canonical(d))
    return p


def flip_sig(d):
    sig = bytearray(base64.b64decode(d["sig"]))
    sig[5] ^= 1
    d["sig"] = base64.b64encode(bytes(sig)).decode()


def other_key(tmp_path):
    k = ed25519.Ed25519PrivateKey.generate().public_key()
    p = tmp_path / "other.pem"
    p.write_bytes(k.public_bytes(serialization.Encoding.PEM,
                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    return p


def check_verifiers(s, tmp_path, doc, alg):
    """Both verifiers accept doc with the served key and with `anfu
    receipts key`, and refuse each tampering with its own message."""
    key, keys_json = keyfile_from_api(s, tmp_path)
    assert key["alg"] == alg and json.loads(doc)["kid"] == key["kid"]
    assert key["kid"].startswith(alg + "-")
    cli_key = tmp_path / "receipt.pub"
    cli_key.write_text(s.cli_run("receipts", "key").stdout)
    assert ("id=%s alg=%s" % (key["kid"], alg)) in cli_key.read_text()
    good = tmp_path / "good.json"
    good.write_bytes(doc)
    body = json.loads(doc)["body"]
    for k in (keys_json, cli_key):
        p = py_verify(good, k)
        assert p.returncode == 0, p.stderr
        assert "receipt verified: signed by %s" % key["kid"] in p.stdout
        assert "ref: %s" % body["ref"] in p.stdout and "amount: %d" % body["amount"] in p.stdout
    for args in ((), ("--key", str(cli_key))):
        p = s.cli_run("receipts", "verify", str(good), *args)
        assert "receipt verified: signed by %s" % key["kid"] in p.stdout
        assert "ref: %s" % body["ref"] in p.stdout
    cases = [
        ("amount.json", lambda d: d["body"].__setitem__("amount", d["body"]["amount"] + 1),
         "bad signature"),
        ("memo.json", lambda d: d["body"].__setitem__("memo", d["body"]["memo"] + " "),
         "bad signature"),
        ("sig.json", flip_sig, "bad signature"),
        ("kid.json", lambda d: d.__setitem__("kid", alg + "-0000000000000000"),
         "unknown key id"),
        ("extra.json", lambda d: d.__setitem__("note", "x"), "malformed"),
    ]
    for name, change, why in cases:
        bad = tampered(doc, tmp_path, name, change)
        p = py_verify(bad, cli_key)
        assert p.returncode == 1 and why in p.stderr, (name, p.stdout, p.stderr)
        assert "verified: signed" not in p.stdout
        p = s.cli_run("receipts", "verify", str(bad), "--key", str(cli_key), check=False)
        assert p.returncode == 1 and why in p.stderr, (name, p.stdout, p.stderr)
        assert "verified: signed" not in p.stdout
    other = other_key(tmp_path)
    p = py_verify(good, other)
    assert p.returncode == 1 and "unknown key id" in p.stderr, p.stderr
    if alg == "ed25519":
        p = s.cli_run("receipts", "verify", str(good), "--key", str(other), check=False)
        assert p.returncode == 1 and "unknown key id" in p.stderr, p.stderr


def test_verifiers_accept_the_receipt_and_refuse_tampering(s, tmp_path):
    """tools/verify_receipt.py and `anfu receipts verify` accept a
    downloaded receipt with the served public key and with the CLI's, and
    refuse a changed amount or memo, a changed signature, another key id,
    an added member, and another key. req: PKI-SIG-02, TX-VER-01"""
    a, _, tid = transfer(s)
    r = a.http.get(url(tid))
    assert r.status_code == 200, r.text
    check_verifiers(s, tmp_path, r.content, "ed25519")


def test_gm_receipts_are_sm2_and_verify(make_server, tmp_path):
    """Under crypto=gm the receipt key is SM2 (SM3, the default SM2 id) and
    both verifiers (the Python one through the openssl command) accept and
    refuse alike. req: PKI-SIG-02, TX-VER-01, DATA-TX-07"""
    s = make_server(crypto="gm", config={
        "lockout": {"ip_failures": "10000"},
        "wallet": {"sms_confirm_over": "100000000000"}})
    a, _, tid = transfer(s)
    r = a.http.get(url(tid))
    assert r.status_code == 200, r.text
    assert json.loads(r.content)["alg"] == "sm2"
    check_verifiers(s, tmp_path, r.content, "sm2")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A server with an administrator, a security officer, an operator
    (receipt.read) and a finance officer (without it)."""
    from test_iam_admin import ADMIN_NEW, OFFICER_NEW, admin_password, first_login
    from test_ledger_state import make_staff

    srv = Server(tmp_path_factory.mktemp("rdesk"), init_args=("--admin", "rctadmin"), config={
        "lockout": {"ip_failures": "10000"},
        "wallet": {"sms_confirm_over": "100000000000"}}).start()
    admin, _ = first_login(srv, "rctadmin", admin_password(srv.init_out), ADMIN_NEW)
    out = srv.cli_run("staff", "bootstrap", "--name", "rctofficer", "--role",
                      "security_officer").stdout
    officer, _ = first_login(srv, "rctofficer", admin_password(out), OFFICER_NEW,
                             device="console-2")
    srv.op = make_staff(srv, admin, officer, "rctop", "operator", "console-3")
    srv.fin = make_staff(srv, admin, officer, "rctfin", "finance", "console-4")
    srv.op_id = srv.op.get("/admin/v1/me").json()["user"]["id"]
    yield srv
    srv.assert_stopped_cleanly()


def test_operators_with_receipt_read_get_any_receipt(desk):
    """An operator (receipt.read) gets any transaction's receipt, the same
    bytes its parties get, audited as the operator; the finance officer
    (no receipt.read) is refused 403 and a customer session does not reach
    the admin route; an unknown transaction is 404. req: IAM-RBAC-01"""
    s = desk
    a, _, tid = transfer(s)
    path = "/admin/v1/receipts/wallet_transfer/%s" % tid
    r = s.fin.get(path)
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    assert a.http.get(path).status_code == 404
    assert receipts_of(s, tid) == []
    r = s.op.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Disposition"].startswith('attachment; filename="rct_')
    assert a.http.get(url(tid)).content == r.content
    dl = s.audit("receipt.download")
    assert dl[0]["actor_id"] == s.op_id and dl[0]["object_id"] == receipts_of(s, tid)[0]["id"]
    r = s.op.get("/admin/v1/receipts/wallet_transfer/wtr_nosuchtransfer00000000")
    assert r.status_code == 404 and err(r) == "not_found", r.text
