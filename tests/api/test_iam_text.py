"""Names and free text through the real API: control, format and line
separator characters are refused with 400 invalid_text and change nothing;
accepted text is stored in Unicode NFC (base/text.c behind the JSON decoder).

req: WEB-SQL-01
"""
import json

import pytest

from iam import Client, login_customer, new_phone, register, sms_code
from test_iam_admin import staffed  # noqa: F401  (fixture)


def err(r):
    return r.json()["error"]


BAD = [
    pytest.param("\u202e", id="U+202E-RLO"),
    pytest.param("\u2066", id="U+2066-LRI"),
    pytest.param("\u200b", id="U+200B-ZWSP"),
    pytest.param("\u00ad", id="U+00AD-soft-hyphen"),
    pytest.param("\ufeff", id="U+FEFF-BOM"),
    pytest.param("\u0085", id="U+0085-NEL"),
    pytest.param("\u007f", id="U+007F-DEL"),
    pytest.param("\n", id="U+000A-LF"),
    pytest.param("\u2028", id="U+2028-LS"),
]


def registration_code(server):
    phone = new_phone()
    c = Client(server, device="text-reg")
    assert c.send_code("register", "sms", phone, captcha=True).status_code == 202
    return c, phone, sms_code(server, phone)


@pytest.mark.parametrize("field", ["nickname", "real_name"])
@pytest.mark.parametrize("ch", BAD)
def test_registration_names_refuse_control_and_format_characters(server, field, ch):
    """req: WEB-SQL-01"""
    c, phone, code = registration_code(server)
    users = server.query("SELECT COUNT(*) AS n FROM iam_user")[0]["n"]
    registered = len(server.audit("user.registered"))
    body = {"login": phone, "code": code, "password": "Tq7#vLm9!zRw", field: "ab" + ch + "c"}
    r = c.post("/api/v1/auth/register", body, csrf=False)
    assert r.status_code == 400, r.text
    assert err(r)["code"] == "invalid_text" and err(r)["field"] == field
    # Nothing stored, nothing audited, and the code is not used up.
    assert server.query("SELECT COUNT(*) AS n FROM iam_user")[0]["n"] == users
    assert len(server.audit("user.registered")) == registered
    body[field] = "abc"
    assert c.post("/api/v1/auth/register", body, csrf=False).status_code == 201


def test_registration_names_are_stored_in_nfc(server):
    """A decomposed name is stored composed: the masks show the composed
    first and last characters. req: WEB-SQL-01"""
    _, phone = register(server, nickname="e\u0301mile", real_name="\u674ee\u0301")
    u = login_customer(server, phone, device="nfc-dev").get("/api/v1/me").json()["user"]
    assert u["nickname"] == "\u00e9**e"  # NFC "émile"; undone it would be "e**e"
    assert u["real_name"] == "*\u00e9"  # NFC "李é"; undone it would be "**\u0301"


def test_an_operators_reason_refuses_a_bidi_override_and_changes_nothing(staffed):
    """req: WEB-SQL-01"""
    s, admin, *_ = staffed
    _, phone = register(s)
    uid = login_customer(s, phone, device="reason-dev").get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/disable" % uid, {"reason": "fraud \u202egnp.exe"})
    assert r.status_code == 400, r.text
    assert err(r)["code"] == "invalid_text" and err(r)["field"] == "reason"
    assert s.query("SELECT status FROM iam_user WHERE id = ?", uid) == [{"status": "active"}]
    assert [x for x in s.audit("user.disabled") if x["object_id"] == uid] == []


def test_an_operators_reason_is_stored_in_nfc(staffed):
    """req: WEB-SQL-01"""
    s, admin, *_ = staffed
    _, phone = register(s)
    uid = login_customer(s, phone, device="reason-nfc").get("/api/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/users/%s/disable" % uid, {"reason": "Jose\u0301 asked"})
    assert r.status_code == 204, r.text
    rec = [x for x in s.audit("user.disabled") if x["object_id"] == uid]
    assert len(rec) == 1
    assert json.loads(rec[0]["details"])["reason"] == "Jos\u00e9 asked"


def test_an_approval_payloads_text_refuses_a_bidi_override_and_files_nothing(staffed):
    """A payload's strings (a reason, a new operator's name) follow the same
    rule as decoded fields, although the approval type parses the payload
    itself. req: WEB-SQL-01"""
    s, admin, _, officer, _ = staffed
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    before = s.query("SELECT COUNT(*) AS n FROM iam_approval")[0]["n"]
    filed = len(s.audit("approval.filed"))
    r = admin.post("/admin/v1/approvals", {"type": "disable_staff", "payload": {
        "user_id": officer_id, "reason": "left \u202egnp.exe"}})
    assert r.status_code == 400, r.text
    assert err(r)["code"] == "invalid_text" and err(r)["field"] == "reason"
    assert s.query("SELECT COUNT(*) AS n FROM iam_approval")[0]["n"] == before
    assert len(s.audit("approval.filed")) == filed


def test_an_approval_payloads_text_is_stored_in_nfc(staffed):
    """req: WEB-SQL-01"""
    s, admin, _, officer, _ = staffed
    officer_id = officer.get("/admin/v1/me").json()["user"]["id"]
    r = admin.post("/admin/v1/approvals", {"type": "disable_staff", "payload": {
        "user_id": officer_id, "reason": "Jose\u0301 left"}})
    assert r.status_code == 201, r.text
    aid = r.json()["approval"]["id"]
    shown = admin.get("/admin/v1/approvals/%s" % aid).json()["approval"]["payload"]
    # Shown from the stored (sealed) payload, so this is what was kept.
    assert shown["reason"] == "Jos\u00e9 left"
