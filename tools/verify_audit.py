#!/usr/bin/python3
"""Independent verifier of anfu audit exports (format anfu-audit-export/1).

Usage:  /usr/bin/python3 tools/verify_audit.py EXPORT.jsonl PUBKEY.pem

Needs only the export and the audit public key (the "# anfu-key ..." comment
line that anfu puts above the PEM block is ignored), the Python standard
library and Debian's python3-cryptography. It shares no code with anfu: it
is written from docs/audit.md, so an auditor can read it against the
document and trust it without trusting anfu.

Checks, stopping at the first problem:
  * every line is strict, canonical JSON (compact, keys sorted, exactly the
    fields of its type, the right JSON types, lower-case hex of the right
    lengths; any other spelling of the same data is refused);
  * the first line is the header, and its key_id is the id recomputed from
    the public key given;
  * records run from seq 1 without gaps; each prev_hash is the hash of the
    record before (64 zeros for the first) and each hash is
    H(prev_hash_raw || canonical(record));
  * each checkpoint comes right after the record it covers, names the head
    hash of that record, and its signature verifies;
  * the last line is the trailer: its counts match, its digest is H of every
    byte before it, and its signature over "anfu-audit-export-v1:" + digest
    verifies.

Algorithms: Ed25519 and SHA-256 always. SM3 uses hashlib's "sm3" (OpenSSL
3 provides it). SM2 signatures (crypto=gm) are not supported by
python3-cryptography 38, so they are checked with the OpenSSL 3 command line
(`openssl pkeyutl -verify -rawin -digest sm3` with distinguishing id
1234567812345678); without an `openssl` binary they are reported as
unsupported.

Exit status: 0 and "OK: N records, M checkpoints" when everything verifies;
1 and "FAIL at seq S: reason" when it does not (S is the first bad sequence
number; for a problem that is not about one record, the sequence number the
verifier expected next); 2 and "ERROR: reason" when the check cannot be
made (bad usage, unreadable key, unsupported algorithm).
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FORMAT = "anfu-audit-export/1"
RECORD_TAG = b"anfu-audit-v1"
CHECKPOINT_TAG = b"anfu-audit-checkpoint-v1"
EXPORT_TAG = b"anfu-audit-export-v1:"
LINE_MAX = 64 * 1024
SIG_HEX_MAX = 256
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
SM2_ID = "1234567812345678"

# Record fields hashed after seq and ts_ms, in this order.
RECORD_FIELDS = [
    "actor_id", "actor_type", "actor_role", "source_ip", "device",
    "request_id", "action", "object_type", "object_id", "outcome", "details",
]

HEX64 = re.compile(r"[0-9a-f]{64}")
SIGHEX = re.compile(r"(?:[0-9a-f]{2}){1,%d}" % (SIG_HEX_MAX // 2))
KID = re.compile(r"[a-z0-9_-]{1,63}")

# DER object identifiers that name the key type inside SubjectPublicKeyInfo.
OID_ED25519 = bytes.fromhex("06032b6570")
OID_SM2_CURVE = bytes.fromhex("06082a811ccf5501822d")


class Fail(Exception):
    def __init__(self, seq, reason):
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


class Error(Exception):
    pass


# ---- strict lines ---------------------------------------------------------

def is_int(v):
    return type(v) is int and INT64_MIN <= v <= INT64_MAX


def check_kind(kind, v):
    if kind in ("type", "text"):
        return isinstance(v, str)
    if kind == "int":
        return is_int(v)
    if kind == "pos":
        return is_int(v) and v >= 1
    if kind == "nonneg":
        return is_int(v) and v >= 0
    if kind == "hex64":
        return isinstance(v, str) and HEX64.fullmatch(v) is not None
    if kind == "sig":
        return isinstance(v, str) and SIGHEX.fullmatch(v) is not None
    if kind == "hash_alg":
        return v in ("sha256", "sm3")
    if kind == "sig_alg":
        return v in ("ed25519", "sm2")
    if kind == "format":
        return v == FORMAT
    if kind == "kid":
        return isinstance(v, str) and KID.fullmatch(v) is not None
    return False


SPECS = {
    "header": {"created_ms": "int", "format": "format", "hash_alg": "hash_alg",
               "key_id": "kid", "sig_alg": "sig_alg", "type": "type"},
    "record": dict({f: "text" for f in RECORD_FIELDS},
                   hash="hex64", prev_hash="hex64", seq="pos", ts_ms="int",
                   type="type"),
    "checkpoint": {"hash_alg": "hash_alg", "head": "hex64", "key_id": "kid",
                   "seq": "pos", "sig": "sig", "ts_ms": "int", "type": "type"},
    "trailer": {"checkpoints": "nonneg", "digest": "hex64", "records": "nonneg",
                "sig": "sig", "type": "type"},
}


def no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError("duplicate key")
        obj[k] = v
    return obj


def reject_constant(name):
    raise ValueError("not JSON: " + name)


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def parse_line(raw):
    """raw: the bytes of one line without its newline. Returns the object,
    or None when the line is not a valid export line."""
    if not raw or len(raw) > LINE_MAX:
        return None
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text, object_pairs_hook=no_duplicates,
                         parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    spec = SPECS.get(obj.get("type")) if isinstance(obj.get("type"), str) else None
    if spec is None or set(obj) != set(spec):
        return None
    if not all(check_kind(kind, obj[name]) for name, kind in spec.items()):
        return None
    if canonical_json(obj) != text:
        return None
    return obj


# ---- hashes, keys, signatures ----------------------------------------------

def new_hash(name):
    if name == "sha256":
        return hashlib.sha256()
    try:
        return hashlib.new("sm3")
    except ValueError:
        raise Error("unsupported: this Python's hashlib has no SM3") from None


def H(name, data):
    h = new_hash(name)
    h.update(data)
    return h.digest()


def lp(b):
    return len(b).to_bytes(4, "big") + b


def record_hash(alg, prev_raw, rec):
    enc = RECORD_TAG + lp(str(rec["seq"]).encode()) + lp(str(rec["ts_ms"]).encode())
    for f in RECORD_FIELDS:
        enc += lp(rec[f].encode("utf-8"))
    return H(alg, prev_raw + enc)


def checkpoint_message(c):
    return (CHECKPOINT_TAG + lp(str(c["seq"]).encode()) + lp(c["head"].encode())
            + lp(str(c["ts_ms"]).encode()) + lp(c["key_id"].encode())
            + lp(c["hash_alg"].encode()))


class PublicKey:
    def __init__(self, path):
        try:
            with open(path, "r", encoding="ascii") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise Error("cannot read the public key: %s" % e) from None
        start = text.find("-----BEGIN PUBLIC KEY-----")
        end = text.find("-----END PUBLIC KEY-----")
        if start < 0 or end < start:
            raise Error("no PEM public key in %s" % path)
        self.pem = text[start:end + len("-----END PUBLIC KEY-----")] + "\n"
        body = "".join(text[start:end].splitlines()[1:])
        try:
            self.der = base64.b64decode(body, validate=True)
        except ValueError:
            raise Error("the public key's PEM is not base64") from None
        if OID_ED25519 in self.der:
            self.alg = "ed25519"
        elif OID_SM2_CURVE in self.der:
            self.alg = "sm2"
        else:
            raise Error("unsupported public key type (not Ed25519 or SM2)")
        self.kid = self.alg + "-" + hashlib.sha256(self.der).hexdigest()[:16]
        self._ed = None
        if self.alg == "ed25519":
            from cryptography.hazmat.primitives.serialization import load_der_public_key
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            key = load_der_public_key(self.der)
            if not isinstance(key, Ed25519PublicKey):
                raise Error("the public key is not an Ed25519 key")
            self._ed = key
        elif shutil.which("openssl") is None:
            raise Error("unsupported: SM2 signatures need the openssl command, "
                        "which is not installed")

    def verify(self, sig, msg):
        if self._ed is not None:
            from cryptography.exceptions import InvalidSignature
            try:
                self._ed.verify(sig, msg)
                return True
            except InvalidSignature:
                return False
        return self._verify_sm2(sig, msg)

    def _verify_sm2(self, sig, msg):
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, data in (("key.pem", self.pem.encode()), ("msg", msg), ("sig", sig)):
                paths[name] = os.path.join(d, name)
                with open(paths[name], "wb") as f:
                    f.write(data)
            p = subprocess.run(
                ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"],
                 "-rawin", "-digest", "sm3", "-pkeyopt", "distid:" + SM2_ID,
                 "-in", paths["msg"], "-sigfile", paths["sig"]],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            return p.returncode == 0


# ---- the export -------------------------------------------------------------

class Verifier:
    def __init__(self, key):
        self.key = key
        self.next_seq = 1
        self.prev_hex = "0" * 64
        self.alg = None
        self.digest = None
        self.records = 0
        self.checkpoints = 0
        self.last_ckpt = 0
        self.line_no = 0
        self.done = False

    def bad(self, reason):
        raise Fail(self.next_seq, "line %d: %s" % (self.line_no, reason))

    def header(self, o):
        if self.line_no != 1:
            self.bad("a second header")
        if o["key_id"] != self.key.kid:
            self.bad("the export is signed by key %s, not by the key given (%s)"
                     % (o["key_id"], self.key.kid))
        if o["sig_alg"] != self.key.alg:
            self.bad("sig_alg does not match the public key")
        self.alg = o["hash_alg"]
        self.digest = new_hash(self.alg)

    def record(self, o):
        seq = o["seq"]
        if seq > self.next_seq:
            raise Fail(self.next_seq, "record %d is missing (the next record is %d)"
                       % (self.next_seq, seq))
        if seq < self.next_seq:
            raise Fail(self.next_seq, "record %d is out of order (expected %d)"
                       % (seq, self.next_seq))
        if o["prev_hash"] != self.prev_hex:
            raise Fail(seq, "record %d: prev_hash is not the hash of record %d"
                       % (seq, seq - 1))
        h = record_hash(self.alg, bytes.fromhex(self.prev_hex), o).hex()
        if h != o["hash"]:
            raise Fail(seq, "record %d: hash does not match its content" % seq)
        self.prev_hex = h
        self.next_seq += 1
        self.records += 1

    def checkpoint(self, o):
        seq, covers = o["seq"], self.next_seq - 1
        if seq != covers or covers == 0 or seq == self.last_ckpt:
            raise Fail(seq, "checkpoint %d is not right after its record" % seq)
        if o["head"] != self.prev_hex:
            raise Fail(seq, "checkpoint %d does not match the chain" % seq)
        if o["key_id"] != self.key.kid or o["hash_alg"] != self.alg:
            raise Fail(seq, "checkpoint %d names another key or hash" % seq)
        if not self.key.verify(bytes.fromhex(o["sig"]), checkpoint_message(o)):
            raise Fail(seq, "checkpoint %d: signature does not verify" % seq)
        self.last_ckpt = seq
        self.checkpoints += 1

    def trailer(self, o):
        if o["records"] != self.records or o["checkpoints"] != self.checkpoints:
            self.bad("the trailer's counts do not match the export")
        d = self.digest.hexdigest()
        if o["digest"] != d:
            self.bad("the digest does not match the export's bytes")
        if not self.key.verify(bytes.fromhex(o["sig"]), EXPORT_TAG + d.encode()):
            self.bad("the trailer's signature does not verify")
        self.done = True

    def line(self, raw):
        self.line_no += 1
        if self.done:
            self.bad("data after the trailer")
        if not raw.endswith(b"\n"):
            self.bad("the last line has no newline: the export is truncated")
        o = parse_line(raw[:-1])
        if o is None:
            self.bad("not a valid export line")
        if self.alg is None and o["type"] != "header":
            self.bad("the export does not start with a header")
        getattr(self, o["type"])(o)
        if not self.done:
            self.digest.update(raw)

    def finish(self):
        if not self.done:
            raise Fail(self.next_seq, "no trailer: the export is truncated or empty")


def verify(export_path, key):
    v = Verifier(key)
    with open(export_path, "rb") as f:
        while True:
            raw = f.readline(LINE_MAX + 2)
            if not raw:
                break
            if len(raw) > LINE_MAX + 1 or (len(raw) == LINE_MAX + 1 and not raw.endswith(b"\n")):
                v.line_no += 1
                v.bad("line too long")
            v.line(raw)
    v.finish()
    return v


def main(argv):
    if len(argv) != 3:
        print("usage: verify_audit.py EXPORT.jsonl PUBKEY.pem", file=sys.stderr)
        return 2
    try:
        key = PublicKey(argv[2])
        v = verify(argv[1], key)
    except Fail as e:
        print("FAIL at seq %d: %s" % (e.seq, e.reason))
        return 1
    except Error as e:
        print("ERROR: %s" % e)
        return 2
    except OSError as e:
        print("ERROR: cannot read the export: %s" % e)
        return 2
    print("OK: %d records, %d checkpoints" % (v.records, v.checkpoints))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
