"""The hosted cashier page GET /pay/{order} and the keypad entry of
POST /api/v1/me/orders/{id}/pay {keypad_id, positions, request_id}
(src/pay/api/cashier.c, src/pay/cashier.c; docs/payments.md, "Cashier
page"), over HTTPS against a real anfud, on both backends. The browser side
is tests/api/test_cashier_browser.py.

"Nothing changed" on a refusal is checked on the balance, pay's and the
ledger's rows, the keypad row and the audit records.
"""
import html
import re
import uuid

import pytest

from pay import (create_order, err, make_desk, merchant_user, register_merchant, row_counts,
                 start_server, stop_server)
from test_wallet_transfers import PIN, balance, credit, customer
from test_web_pages import data_attr, keypad, positions_for


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "paycashier")
    d = make_desk(s, "paycash")
    register_merchant(d, "mch_cash", fee_bps=0)
    d.boss = merchant_user(d, "mch_cash")
    yield d
    stop_server(s)


def page(c, order_id, lang="en"):
    r = c.http.get("/pay/%s?lang=%s" % (order_id, lang), allow_redirects=False)
    assert r.headers["Cache-Control"] == "no-store"
    return r


def text_of(body, elem_id):
    m = re.search(r'id="%s"[^>]*>([^<]*)<' % elem_id, body)
    assert m, elem_id
    return html.unescape(m.group(1))


def keypad_pay(c, order_id, kid, positions, request_id=None, **extra):
    body = {"keypad_id": kid, "positions": positions,
            "request_id": request_id or uuid.uuid4().hex}
    body.update(extra)
    return c.http.post("/api/v1/me/orders/%s/pay" % order_id, body)


def snapshot(d, c, kid=None):
    s = d.s
    return (balance(c),
            *row_counts(s, "pay_payment", "ledger_transfer",
                        "pay_order WHERE state <> 'created'"),
            len(s.audit("pay.order.paid")),
            s.query("SELECT used FROM web_keypad WHERE id = ?", kid) if kid else None)


def test_without_a_session_the_page_sends_to_login_with_next(d):
    """req: WEB-REDIR-01"""
    o = create_order(d.boss)
    for lang in ("en", "zh"):
        r = d.s.get("/pay/%s?lang=%s" % (o["id"], lang), allow_redirects=False)
        assert r.status_code == 303
        assert r.headers["Location"] == "/login?next=%%2Fpay%%2F%s%%3Flang%%3D%s&lang=%s" % (
            o["id"], lang, lang)


def test_the_page_shows_the_bill_and_the_reserved_message_escaped(d):
    """Merchant name in the page's language, subject, every bill line,
    amount in figures and capital numerals, the reserved message, a
    keypad of the customer's; values escaped. req: FUNC-PAY-19,
    WEB-PHISH-01, WEB-XSS-01, WEB-KBD-01"""
    c = customer(d.s, funds=0)
    o = create_order(d.boss, amount=10084, subject="<b>茶</b>&\"x'",
                     lines=[{"name": "龙井<i>", "quantity": 2, "unit_amount": 5000,
                             "amount": 10000},
                            {"name": "运费", "quantity": 1, "unit_amount": 84, "amount": 84}])
    r = page(c, o["id"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    t = r.text
    assert text_of(t, "merchant-name") == "Tea Shop"
    assert text_of(t, "subject") == "<b>茶</b>&\"x'" and "<b>茶" not in t
    assert "龙井&lt;i&gt;" in t and "<i>" not in t
    rows = re.findall(r'<tr class="bill-line">(.*?)</tr>', t)
    assert [re.findall(r"<td>([^<]*)</td>", row) for row in rows] == \
        [["龙井&lt;i&gt;", "2", "¥50.00", "¥100.00"], ["运费", "1", "¥0.84", "¥0.84"]]
    assert text_of(t, "amount") == "¥100.84"
    assert text_of(t, "amount-words") == "壹佰元捌角肆分"
    assert data_attr(t, "order") == o["id"]
    # No reserved message yet: the hint to set one.
    assert "You have not set a reserved message" in text_of(t, "reserved-hint")
    assert "<script>" not in t and "style=" not in t
    assert c.http.req("PUT", "/api/v1/me/reserved-message",
                      {"message": "蓝猫<3"}).status_code == 200
    t = page(c, o["id"], "zh").text
    assert text_of(t, "reserved") == "蓝猫<3" and "蓝猫&lt;3" in t
    assert text_of(t, "merchant-name") == "茶叶小铺"
    kid, _ = keypad(t)
    assert d.s.query("SELECT user_id, used FROM web_keypad WHERE id = ?", kid) == \
        [{"user_id": c.id, "used": 0}]


@pytest.mark.parametrize("fen,words", [
    (5, "伍分"), (50, "伍角"), (1000, "壹拾元整"), (100005, "壹仟元零伍分"),
    (10000000, "壹拾万元整"), (1000500, "壹万零伍元整"), (1010000, "壹万零壹佰元整"),
    (12345678901, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元零壹分"),
    (10000000001, "壹亿元零壹分"), (1234, "壹拾贰元叁角肆分")])
def test_the_amount_in_capital_numerals(d, fen, words):
    """The amount as on a bill (大写金额); 0 and the bounds are in
    tests/unit/test_pay_cashier.c. req: FUNC-PAY-19"""
    c = customer(d.s)
    o = create_order(d.boss, amount=fen)
    assert text_of(page(c, o["id"], "zh").text, "amount-words") == words


def test_paying_with_the_keypad_and_the_paid_page(d):
    """The keypad's positions pay the order (the same service as
    payment_password); the keypad is spent; the paid order's page shows
    its state and the return link, no keypad. req: FUNC-PAY-01, WEB-KBD-01"""
    s = d.s
    c = customer(s, funds=20000)
    o = create_order(d.boss, amount=1234)
    kid, layout = keypad(page(c, o["id"]).text)
    r = keypad_pay(c, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == 1234 and r.json()["order_id"] == o["id"]
    assert balance(c) == 20000 - 1234
    assert s.query("SELECT used FROM web_keypad WHERE id = ?", kid) == [{"used": 1}]
    assert d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()["state"] == "paid"
    t = page(c, o["id"]).text
    assert text_of(t, "order-state") == "This order has been paid."
    assert "keypad-box" not in t
    assert re.search(r'<a id="return-link" href="https://shop.example/return">', t)
    # Another customer: not found, and nothing of the order shown.
    other = customer(s)
    r = page(other, o["id"])
    assert r.status_code == 404 and "Tea Shop" not in r.text and "keypad-box" not in r.text


def test_a_wrong_pin_a_spent_keypad_or_half_an_entry_change_nothing(d):
    """req: WEB-KBD-01, IAM-LOCK-03"""
    s = d.s
    c = customer(s, funds=20000)
    other = customer(s, funds=5000)
    o = create_order(d.boss, amount=700)
    kid, layout = keypad(page(c, o["id"]).text)
    before = snapshot(d, c)
    wrong = "000001" if PIN != "000001" else "000002"
    r = keypad_pay(c, o["id"], kid, positions_for(layout, wrong))
    assert r.status_code == 403 and err(r) == "payment_password_invalid", r.text
    assert snapshot(d, c) == before
    # The keypad is single use, even after a wrong PIN.
    r = keypad_pay(c, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 409 and err(r) == "keypad_used", r.text
    assert snapshot(d, c) == before
    kid, layout = keypad(page(c, o["id"]).text)
    for body, code, field in (
            ({"keypad_id": kid}, "invalid_field", "positions"),
            ({"positions": positions_for(layout, PIN)}, "invalid_field", "keypad_id"),
            ({"keypad_id": kid, "positions": positions_for(layout, PIN),
              "payment_password": PIN}, "invalid_field", "payment_password"),
            ({}, "missing_field", "payment_password"),
            ({"keypad_id": kid, "positions": "12a"}, "keypad_positions_invalid", "positions"),
            ({"keypad_id": "kpd_" + "a" * 20, "positions": "123456"}, "keypad_not_found",
             None)):
        body["request_id"] = uuid.uuid4().hex
        r = c.http.post("/api/v1/me/orders/%s/pay" % o["id"], body)
        assert r.status_code in (400, 404) and err(r) == code, (body, r.text)
        if field:
            assert r.json()["error"].get("field") == field, r.text
        assert snapshot(d, c, kid) == before[:5] + ([{"used": 0}],)
    # Another customer's keypad is not found.
    r = keypad_pay(other, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 404 and err(r) == "keypad_not_found", r.text
    assert snapshot(d, c, kid) == before[:5] + ([{"used": 0}],)
    r = keypad_pay(c, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 201, r.text


def test_an_expired_or_closed_order_shows_its_state_and_no_keypad(d):
    """req: FUNC-PAY-06"""
    s = d.s
    c = customer(s)
    o = create_order(d.boss, ttl_s=60)
    s.clock(advance_ms=60_000)
    t = page(c, o["id"], "zh").text
    assert text_of(t, "order-state") == "该订单已过期，无法支付。" and "keypad-box" not in t
    o2 = create_order(d.boss)
    assert d.boss.post("/api/v1/merchant/orders/%s/cancel" % o2["id"]).status_code == 200
    t = page(c, o2["id"]).text
    assert text_of(t, "order-state") == \
        "This order has been closed and can no longer be paid." and "keypad-box" not in t
    assert s.query("SELECT COUNT(*) AS n FROM web_keypad WHERE user_id = ?", c.id) == \
        [{"n": 0}]


def test_merchant_users_and_unknown_orders_get_no_keypad(d):
    o = create_order(d.boss)
    r = d.boss.get("/pay/%s?lang=en" % o["id"], allow_redirects=False)
    assert r.status_code == 404 and "Only a customer" in r.text and "keypad-box" not in r.text
    c = customer(d.s)
    for path in ("/pay/ord_" + "b" * 24, "/pay/nonsense"):
        r = c.http.get(path + "?lang=en", allow_redirects=False)
        assert r.status_code == 404 and "There is no such order." in r.text, r.text


# ---- pay-on-behalf links on the page; the keypad spent by every attempt ----

def share_link(c, order_id):
    r = c.http.post("/api/v1/me/orders/%s/share" % order_id, {})
    assert r.status_code == 201, r.text
    return r.json()


def link_page(c, link, lang="en"):
    r = c.http.get("%s&lang=%s" % (link, lang), allow_redirects=False)
    assert r.headers["Cache-Control"] == "no-store"
    return r


def keypads_of(d, c):
    return d.s.query("SELECT COUNT(*) AS n FROM web_keypad WHERE user_id = ?", c.id)[0]["n"]


def test_a_shared_link_opens_the_page_for_another_customer_who_pays_on_it(d):
    """The share link /pay/{order}?share=shr_... opens the cashier page for
    another logged-in customer: the shared notice, the bill, THEIR reserved
    message and keypad, data-share for the script; the keypad's positions
    pay through the pay-on-behalf route; the order is the payer's, the
    requester sees it paid (API and the link's page), a third customer
    sees nothing. Without a session the login keeps the link.
    req: FUNC-PAY-17, FUNC-PAY-19, WEB-PHISH-01, WEB-KBD-01, WEB-REDIR-01"""
    s = d.s
    a = customer(s, funds=0)
    b = customer(s, funds=20000)
    assert a.http.req("PUT", "/api/v1/me/reserved-message",
                      {"message": "A的狗"}).status_code == 200
    assert b.http.req("PUT", "/api/v1/me/reserved-message",
                      {"message": "B的猫"}).status_code == 200
    o = create_order(d.boss, amount=1234,
                     lines=[{"name": "龙井", "quantity": 1, "unit_amount": 1234,
                             "amount": 1234}])
    sh = share_link(a, o["id"])
    assert sh["link"] == "/pay/%s?share=%s" % (o["id"], sh["token"])
    # No session: the login page comes back to the link, language kept.
    r = s.get("%s&lang=zh" % sh["link"], allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == \
        "/login?next=%%2Fpay%%2F%s%%3Fshare%%3D%s%%26lang%%3Dzh&lang=zh" % (
            o["id"], sh["token"])
    r = link_page(b, sh["link"])
    assert r.status_code == 200, r.text
    t = r.text
    assert "shared this order with you" in text_of(t, "shared")
    assert text_of(t, "merchant-name") == "Tea Shop" and text_of(t, "amount") == "¥12.34"
    assert re.findall(r'<tr class="bill-line"><td>([^<]*)</td>', t) == ["龙井"]
    assert text_of(t, "reserved") == "B的猫" and "A的狗" not in t
    assert data_attr(t, "share") == sh["token"] and data_attr(t, "order") == o["id"]
    # The language switch keeps the link.
    assert re.search(r'id="lang-switch" href="/pay/%s\?lang=zh&amp;share=%s"' % (
        o["id"], sh["token"]), t)
    kid, layout = keypad(t)
    assert s.query("SELECT user_id, used FROM web_keypad WHERE id = ?", kid) == \
        [{"user_id": b.id, "used": 0}]
    # The plain page (no link) has no share for the script.
    assert data_attr(page(b, o["id"]).text, "share") == ""
    r = b.http.post("/api/v1/me/shared-orders/%s/pay" % sh["token"],
                    {"keypad_id": kid, "positions": positions_for(layout, PIN),
                     "request_id": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    assert r.json()["order_id"] == o["id"] and r.json()["amount"] == 1234
    assert balance(b) == 20000 - 1234 and balance(a) == 0
    assert s.query("SELECT used FROM web_keypad WHERE id = ?", kid) == [{"used": 1}]
    assert s.query("SELECT payer_id FROM pay_order WHERE id = ?", o["id"]) == \
        [{"payer_id": b.id}]
    seen = a.http.get("/api/v1/me/orders/%s" % o["id"]).json()
    assert seen["state"] == "paid" and not seen["paid_by_me"] and seen["requested_by_me"]
    assert b.http.get("/api/v1/me/orders/%s" % o["id"]).json()["paid_by_me"]
    # The requester's link page and the payer's: paid, no keypad; the
    # shared notice is for the payer only.
    for c in (a, b):
        t = link_page(c, sh["link"]).text
        assert text_of(t, "order-state") == "This order has been paid.", t
        assert "keypad-box" not in t
        assert ('id="shared"' in t) == (c is b)
    # A third customer: nothing of the order, even with the link.
    other = customer(s)
    r = link_page(other, sh["link"])
    assert r.status_code == 404 and "Tea Shop" not in r.text and "keypad-box" not in r.text


def test_unknown_replaced_foreign_or_expired_links_show_no_order_and_no_keypad(d):
    """An unknown token, one not shaped as a token, another order's, a
    replaced one: 404 "not valid"; an expired one (at expires_ms exactly,
    1 ms before it still pays): 410 "expired"; in English and Chinese,
    without the order or a keypad, no keypad stored. req: FUNC-PAY-17"""
    s = d.s
    a = customer(s, funds=0)
    b = customer(s, funds=5000)
    o1 = create_order(d.boss, amount=300)
    o2 = create_order(d.boss, amount=300)
    sh1 = share_link(a, o1["id"])
    sh2 = share_link(a, o2["id"])
    old = share_link(a, o1["id"])
    sh1 = share_link(a, o1["id"])
    assert old["token"] != sh1["token"]
    for path in ("/pay/%s?share=shr_%s" % (o1["id"], "c" * 24),
                 "/pay/%s?share=nonsense" % o1["id"],
                 "/pay/%s?share=%s" % (o1["id"], sh2["token"]),
                 old["link"]):
        for lang, words in (("en", "This payment link is not valid"),
                            ("zh", "此代付链接无效")):
            r = link_page(b, path, lang)
            assert r.status_code == 404, (path, r.text)
            assert words in text_of(r.text, "order-state")
            assert "Tea Shop" not in r.text and "茶叶小铺" not in r.text
            assert "keypad-box" not in r.text and data_attr(r.text, "order") == ""
    assert keypads_of(d, b) == 0
    # Expiry: the link dies with its order here (ttl 120 s < share_ttl_s).
    s.clock(freeze=True)
    try:
        o3 = create_order(d.boss, amount=300, ttl_s=120)
        sh3 = share_link(a, o3["id"])
        now = s.clock(advance_ms=0)
        s.clock(advance_ms=sh3["expires_ms"] - 1 - now)
        t = link_page(b, sh3["link"]).text
        assert "keypad-box" in t and data_attr(t, "share") == sh3["token"]
        n = keypads_of(d, b)
        s.clock(advance_ms=1)
        for lang, words in (("en", "This payment link has expired."),
                            ("zh", "此代付链接已过期。")):
            r = link_page(b, sh3["link"], lang)
            assert r.status_code == 410 and text_of(r.text, "order-state") == words
            assert "keypad-box" not in r.text and "Tea Shop" not in r.text
        assert keypads_of(d, b) == n
    finally:
        s.clock(freeze=False)


def test_a_payment_refused_for_money_spends_its_keypad_and_changes_nothing_else(d):
    """The rule (docs/web.md, "Keypad"): a keypad display is spent by the
    first attempt that sends its positions, whatever follows (a wrong PIN,
    a refusal for money or limits, success): the take commits before the
    PIN check, so every guess needs a new display. A payment refused for
    insufficient funds spends the keypad and changes nothing else; the
    same keypad replayed is keypad_used, on the pay route and on the
    pay-on-behalf route, and changes nothing. req: WEB-KBD-01, FUNC-PAY-01"""
    s = d.s
    c = customer(s, funds=100)
    o = create_order(d.boss, amount=1000)
    kid, layout = keypad(page(c, o["id"]).text)
    before = snapshot(d, c)
    r = keypad_pay(c, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 409 and err(r) == "insufficient_funds", r.text
    assert snapshot(d, c, kid) == before[:5] + ([{"used": 1}],)
    credit(s, c, 5000)
    before = snapshot(d, c, kid)
    r = keypad_pay(c, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 409 and err(r) == "keypad_used", r.text
    assert snapshot(d, c, kid) == before
    # The same on a shared order's route.
    a = customer(s)
    sh = share_link(a, o["id"])
    r = c.http.post("/api/v1/me/shared-orders/%s/pay" % sh["token"],
                    {"keypad_id": kid, "positions": positions_for(layout, PIN),
                     "request_id": uuid.uuid4().hex})
    assert r.status_code == 409 and err(r) == "keypad_used", r.text
    assert snapshot(d, c, kid) == before
    # A new display pays.
    kid2, layout2 = keypad(link_page(c, sh["link"]).text)
    r = c.http.post("/api/v1/me/shared-orders/%s/pay" % sh["token"],
                    {"keypad_id": kid2, "positions": positions_for(layout2, PIN),
                     "request_id": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    assert balance(c) == 5100 - 1000


STEP_UP_BOX = {
    "en": ("Send code", "SMS verification code", "Verify"),
    "zh": ("获取验证码", "短信验证码", "验证"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_carries_the_in_page_step_up_hidden_in_its_language(d, lang):
    """The payable page holds the SMS step-up (hidden until a payment
    answers step_up_required) in the page's language, its strings and the
    code's resend interval (mfa.code_resend, 60 s by default) as data-
    attributes, no inline script or style; a paid order's page has no
    step-up. The script's behaviour is tests/api/test_cashier_browser.py."""
    c = customer(d.s, funds=5000)
    o = create_order(d.boss, amount=100)
    t = page(c, o["id"], lang).text
    box = re.search(r'<section id="step-up" class="hidden">(.*?)</section>', t, re.S)
    assert box, t
    send, label, verify = STEP_UP_BOX[lang]
    assert text_of(box.group(1), "step-up-send") == send
    assert re.search(r'<label for="step-up-code">%s</label>' % label, box.group(1))
    assert '<input type="text" id="step-up-code" inputmode="numeric" ' \
        'autocomplete="one-time-code" maxlength="6">' in box.group(1)
    assert text_of(box.group(1), "step-up-verify") == verify
    assert data_attr(t, "resend-s") == "60"
    want = {
        "en": {"step-up": "This amount needs a second factor besides the payment password: "
                          "confirm with the SMS code sent to your bound phone, then enter the "
                          "payment password again.",
               "code-sent": "A code was sent to {to}.",
               "code-wait": "Send again in {n} s",
               "verified": "Verified. Enter your payment password again on the new keypad."},
        "zh": {"step-up": "此金额除支付密码外还需要第二重验证：请输入发送到您绑定手机的短信验证码，"
                          "然后重新输入支付密码。",
               "code-sent": "验证码已发送至 {to}。",
               "code-wait": "{n} 秒后可重新获取",
               "verified": "验证成功，请在新的键盘上重新输入支付密码。"},
    }[lang]
    for name, value in want.items():
        assert data_attr(t, name) == value, name
    assert data_attr(t, "step-up-signin").startswith(
        {"en": "This amount needs a second factor", "zh": "此金额除支付密码外还需要第二重验证"}[lang])
    assert "<script>" not in t and "style=" not in t
    kid, layout = keypad(t)
    assert keypad_pay(c, o["id"], kid, positions_for(layout, PIN)).status_code == 201
    assert 'id="step-up"' not in page(c, o["id"], lang).text


def test_the_resend_interval_on_the_page_is_the_configured_one(tmp_path_factory):
    """[mfa] code_resend = 15: the page's data-resend-s says 15 (the
    script's wait before a second "Send code")."""
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("paycash-resend"), init_args=("--admin", "opsadmin"),
               config={"lockout": {"ip_failures": "10000"}, "mfa": {"code_resend": "15"},
                       "pay": {"expire_interval_s": "86400"}}).start()
    try:
        desk = make_desk(s, "paycash2")
        register_merchant(desk, "mch_cash2", fee_bps=0)
        boss = merchant_user(desk, "mch_cash2")
        c = customer(s)
        o = create_order(boss, amount=100)
        assert data_attr(page(c, o["id"]).text, "resend-s") == "15"
    finally:
        stop_server(s)


def test_the_page_s_step_up_then_a_new_keypad_pays_above_the_pin_only_limit(d):
    """The server side of the page's step-up: above the PIN-only limit
    (the session's second factor older than second_factor_fresh_s) the
    keypad entry is refused step_up_required, nothing moves and the keypad
    is spent; a step_up SMS code (POST /api/v1/auth/codes), a wrong one
    refused code_invalid and counted (auth.step_up_failed), the right one
    through POST /api/v1/auth/step-up; a NEW page's keypad then pays, as
    PIN + second factor. req: RISK-LIM-01, WEB-KBD-01"""
    from iam import sms_code, sms_mark
    s = d.s
    c = customer(s, funds=200000)
    o = create_order(d.boss, amount=150000, ttl_s=3600)
    s.clock(advance_ms=300_001)
    kid, layout = keypad(page(c, o["id"]).text)
    before = snapshot(d, c)
    r = keypad_pay(c, o["id"], kid, positions_for(layout, PIN))
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert snapshot(d, c) == before
    assert s.query("SELECT used FROM web_keypad WHERE id = ?", kid) == [{"used": 1}]
    s.sms_mark = sms_mark(s)
    r = c.http.send_code("step_up", "sms")
    assert r.status_code == 202, r.text
    code = sms_code(s, c.phone)
    failed = len(s.audit("auth.step_up_failed"))
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = c.http.post("/api/v1/auth/step-up", {"method": "sms", "code": wrong},
                    headers={"Accept-Language": "zh"})
    assert r.status_code == 400 and err(r) == "code_invalid", r.text
    assert r.json()["error"]["message"].startswith("验证码错误")
    assert len(s.audit("auth.step_up_failed")) == failed + 1
    assert snapshot(d, c) == before
    r = c.http.step_up("sms", code)
    assert r.status_code == 200, r.text
    kid2, layout2 = keypad(page(c, o["id"]).text)
    assert kid2 != kid
    r = keypad_pay(c, o["id"], kid2, positions_for(layout2, PIN))
    assert r.status_code == 201 and r.json()["auth"] == "pin_otp", r.text
    assert balance(c) == 200000 - 150000
