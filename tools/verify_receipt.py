#!/usr/bin/env python3
"""Verify an anfu electronic receipt (电子回单) offline (docs/receipts.md).

    tools/verify_receipt.py RECEIPT.json --key KEYFILE

KEYFILE is the receipt public key: the output of `anfu receipts key`
(PEM with "# anfu-key" comment lines), a plain PEM public key, or the JSON
of GET /api/v1/receipts/keys. The key id is computed from the key itself
("<alg>-" + 16 hex of SHA-256 of its SubjectPublicKeyInfo), never read from
a comment. Ed25519 is checked with python3-cryptography; SM2 (crypto=gm)
with the openssl command (SM3, the default SM2 id "1234567812345678").

The signature covers the canonical form of the document's "body":
json.dumps(body, sort_keys=True, separators=(",", ":"),
ensure_ascii=False) in UTF-8. Exit 0 and the facts for a good receipt;
1 with a message for a receipt that does not verify (tampered body or
signature, unknown key id, malformed document); 2 for a usage error.
"""
import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

MAX_BYTES = 16384  # ANFU_LIMIT_RECEIPT_BYTES
SM2_ID = "1234567812345678"
PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.S)


class Bad(Exception):
    pass


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Bad("malformed receipt: duplicate member %r" % k)
        d[k] = v
    return d


def spki_der(pem):
    """The DER SubjectPublicKeyInfo and algorithm name of a PEM key."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        key = serialization.load_pem_public_key(pem.encode())
        if isinstance(key, ed25519.Ed25519PublicKey):
            der = key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
            return der, "ed25519"
    except Exception:  # not a key cryptography knows (SM2): ask openssl
        pass
    r = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                       input=pem.encode(), capture_output=True)
    if r.returncode != 0:
        raise Bad("the key file holds no public key this tool can read")
    t = subprocess.run(["openssl", "pkey", "-pubin", "-noout", "-text"],
                       input=pem, capture_output=True, text=True)
    if "SM2" not in t.stdout:
        raise Bad("the key is neither Ed25519 nor SM2")
    return r.stdout, "sm2"


def load_keys(path):
    """{kid: (alg, pem)} of every public key in the file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    pems = []
    if text.lstrip().startswith("{"):
        pems = [k.get("public_key", "") for k in json.loads(text).get("keys", [])]
    else:
        pems = PEM_RE.findall(text)
    keys = {}
    for pem in pems:
        der, alg = spki_der(pem)
        kid = "%s-%s" % (alg, hashlib.sha256(der).hexdigest()[:16])
        keys[kid] = (alg, pem)
    if not keys:
        raise Bad("no public key in %s" % path)
    return keys


def verify_sm2(pem, msg, sig):
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, data in (("key.pem", pem.encode()), ("msg", msg), ("sig", sig)):
            paths[name] = os.path.join(d, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                            paths["key.pem"], "-rawin", "-in", paths["msg"], "-sigfile",
                            paths["sig"], "-digest", "sm3", "-pkeyopt", "distid:" + SM2_ID],
                           capture_output=True)
        return r.returncode == 0


def verify_ed25519(pem, msg, sig):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_public_key(pem.encode())
    try:
        key.verify(sig, msg)
        return True
    except InvalidSignature:
        return False


def verify(data, keys):
    """The body of a good receipt; raises Bad otherwise."""
    if len(data) > MAX_BYTES:
        raise Bad("malformed receipt: larger than %d bytes" % MAX_BYTES)
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad("malformed receipt: %s" % e)
    if (not isinstance(doc, dict) or set(doc) != {"alg", "body", "kid", "sig"}
            or not isinstance(doc["body"], dict)
            or not all(isinstance(doc[k], str) for k in ("alg", "kid", "sig"))):
        raise Bad("malformed receipt: not {alg, body, kid, sig}")
    if doc["kid"] not in keys:
        raise Bad("unknown key id %s: not the key given" % doc["kid"])
    alg, pem = keys[doc["kid"]]
    if doc["alg"] != alg:
        raise Bad("the receipt names algorithm %s, its key is %s" % (doc["alg"], alg))
    try:
        sig = base64.b64decode(doc["sig"], validate=True)
    except (binascii.Error, ValueError):
        raise Bad("bad signature: not base64")
    msg = canonical(doc["body"])
    ok = verify_sm2(pem, msg, sig) if alg == "sm2" else verify_ed25519(pem, msg, sig)
    if not ok:
        raise Bad("bad signature: the receipt was changed or not signed by key %s"
                  % doc["kid"])
    return doc["kid"], doc["body"]


def main():
    ap = argparse.ArgumentParser(description="Verify an anfu electronic receipt offline.")
    ap.add_argument("receipt")
    ap.add_argument("--key", required=True, help="the receipt public key file")
    a = ap.parse_args()
    try:
        keys = load_keys(a.key)
        with open(a.receipt, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        kid, body = verify(data, keys)
    except (Bad, OSError) as e:
        print("receipt NOT verified: %s" % e, file=sys.stderr)
        return 1
    print("receipt verified: signed by %s" % kid)
    for k in sorted(body):
        v = body[k]
        print("%s: %s" % (k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
