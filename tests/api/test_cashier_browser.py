"""The hosted cashier page in a real browser (headless Chromium through
chromium-driver and python3-selenium, as tests/api/test_web_browser.py):
a merchant user creates an order through the API, a funded customer opens
/pay/{id}, is sent to the login page, signs in (SMS second factor), sees
the bill and the reserved message, pays on the shuffled keypad, sees the
result and follows the link to the order's return URL; the money and the
order's state are checked through the API. A wrong PIN shows the
localized refusal and changes nothing; a refusal in Chinese; above the
PIN-only limit the second factor in the page (an SMS code read from the
SMS simulator's outbox, a wrong one, the new keypad; cashier-10..12) and
its fallback without a bound phone (cashier-13).

Screenshots of every step worth seeing are kept under
$ANFU_BUILD_DIR/browser-screenshots/cashier-*.png (the fixture's last page
as <test>.png). A pay-on-behalf link opened by another customer is paid
in the page too (cashier-7..9)."""
import os
import re

import pytest

from pay import create_order, make_desk, merchant_user, register_merchant
from test_wallet_transfers import PIN, balance, customer
from test_web_browser import (CONFIG, WAIT_S, browser, enter_name, go, press,  # noqa: F401
                              shoot, wait_text)

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("ANFU_TEST_BACKEND") == "postgresql",
                                reason="browser tests run in the SQLite pass only")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Server
    config = dict(CONFIG)
    config.update({"pay": {"expire_interval_s": "86400"},
                   "wallet": {"sms_confirm_over": "100000000000"}})
    s = Server(tmp_path_factory.mktemp("cashier"), init_args=("--admin", "opsadmin"),
               config=config).start()
    d = make_desk(s, "cashb")
    register_merchant(d, "mch_web", fee_bps=60)
    s.desk = d
    s.boss = merchant_user(d, "mch_web")
    yield s
    s.stop()
    out = s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    s.assert_stopped_cleanly()


def sign_in_from_cashier(d, s, c, order_id, lang, share=None):
    """Opens /pay/{id} (with a pay-on-behalf link's token when share)
    without a session: the login page (next kept), then the SMS second
    factor through the page, back on the cashier page."""
    from iam import GOOD_PASSWORD, sms_code, sms_mark
    go(d, "/pay/%s?%slang=%s" % (order_id, "share=%s&" % share if share else "", lang))
    WebDriverWait(d, WAIT_S).until(EC.url_contains("/login?next=%2Fpay%2F" + order_id))
    enter_name(d, c.phone)
    d.find_element(By.ID, "password").send_keys(GOOD_PASSWORD)
    d.find_element(By.ID, "login-submit").click()
    WebDriverWait(d, WAIT_S).until(EC.visibility_of_element_located((By.ID, "code-send")))
    s.sms_mark = sms_mark(s)
    d.find_element(By.ID, "code-send").click()
    WebDriverWait(d, WAIT_S).until(
        lambda drv: drv.find_element(By.ID, "login-msg").text.strip() != "")
    d.find_element(By.ID, "code").send_keys(sms_code(s, c.phone))
    d.find_element(By.ID, "code-submit").click()
    WebDriverWait(d, WAIT_S).until(EC.url_contains("/pay/" + order_id))
    WebDriverWait(d, WAIT_S).until(EC.presence_of_element_located((By.ID, "amount")))


def text(d, elem_id):
    return d.find_element(By.ID, elem_id).text


def scroll_to(d, elem_id):
    """Brings elem_id into the window (for the screenshot)."""
    d.execute_script("arguments[0].scrollIntoView({block: 'end'})",
                     d.find_element(By.ID, elem_id))


def order_state(s, order_id):
    r = s.boss.get("/api/v1/merchant/orders/%s" % order_id)
    assert r.status_code == 200, r.text
    return r.json()["state"]


def test_a_customer_pays_an_order_in_the_cashier_page(srv, browser):
    """End to end in English: login from the page, bill lines and reserved
    message shown, a wrong PIN refused with its message and nothing
    changed, the right PIN pays, the result page, the return URL.
    req: FUNC-PAY-01, FUNC-PAY-19, WEB-PHISH-01, WEB-KBD-01, WEB-REDIR-01"""
    s, d = srv, browser
    c = customer(s, funds=50000)
    assert c.http.req("PUT", "/api/v1/me/reserved-message",
                      {"message": "蓝色的猫"}).status_code == 200
    back = s.url("/static/back.html?shop=mch_web")
    o = create_order(s.boss, amount=12345, subject="Tea & cups",
                     lines=[{"name": "Longjing tea 250g", "quantity": 2, "unit_amount": 5000,
                             "amount": 10000},
                            {"name": "Cup", "quantity": 3, "unit_amount": 781,
                             "amount": 2343},
                            {"name": "Shipping", "quantity": 1, "unit_amount": 2,
                             "amount": 2}],
                     return_url=back)
    merchant0 = s.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()
    assert merchant0["state"] == "created"
    sign_in_from_cashier(d, s, c, o["id"], "en")
    assert text(d, "merchant-name") == "Tea Shop"
    assert text(d, "subject") == "Tea & cups"
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in d.find_elements(By.CSS_SELECTOR, "tr.bill-line")]
    assert rows == [["Longjing tea 250g", "2", "¥50.00", "¥100.00"],
                    ["Cup", "3", "¥7.81", "¥23.43"], ["Shipping", "1", "¥0.02", "¥0.02"]]
    assert text(d, "amount") == "¥123.45"
    assert text(d, "amount-words") == "壹佰贰拾叁元肆角伍分"
    assert text(d, "reserved") == "蓝色的猫"
    shoot(d, "cashier-1-bill-en")
    # A wrong PIN: the API's message in English; nothing moves.
    press(d, "000001" if PIN != "000001" else "000002")
    assert wait_text(d, "pay-msg", "incorrect") == "The payment password is incorrect"
    shoot(d, "cashier-2-wrong-pin-en")
    assert balance(c) == 50000 and order_state(s, o["id"]) == "created"
    assert s.query("SELECT COUNT(*) AS n FROM pay_payment WHERE order_id = ?", o["id"]) == \
        [{"n": 0}]
    # Try again: a new keypad (a keypad is single use), the right PIN.
    d.find_element(By.ID, "retry-link").click()
    WebDriverWait(d, WAIT_S).until(EC.presence_of_element_located((By.ID, "amount")))
    press(d, PIN)
    assert wait_text(d, "result-title", "successful") == "Payment successful"
    assert text(d, "result-amount") == "¥123.45"
    shoot(d, "cashier-3-paid-en")
    assert balance(c) == 50000 - 12345
    got = s.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()
    assert got["state"] == "paid" and got["fee"] == 74  # 0.6 % of 123.45, half up
    link = d.find_element(By.ID, "return-link")
    assert link.get_attribute("href") == back
    link.click()
    WebDriverWait(d, WAIT_S).until(EC.url_to_be(back))
    # Back on the page: paid, no keypad.
    go(d, "/pay/%s?lang=en" % o["id"])
    assert text(d, "order-state") == "This order has been paid."
    assert not d.find_elements(By.CSS_SELECTOR, ".keypad-box")
    shoot(d, "cashier-4-paid-page-en")


def test_refusals_in_chinese_and_the_step_up_message(srv, browser):
    """In Chinese: insufficient balance shows 余额不足 and moves nothing;
    above the PIN-only limit (the session's second factor no longer
    fresh) the page says a second factor is needed and opens its SMS step
    in the same page (no "sign in again" link). req: FUNC-PAY-01,
    WEB-ERR-02"""
    s, d = srv, browser
    c = customer(s, funds=100)
    o = create_order(s.boss, amount=1000)
    sign_in_from_cashier(d, s, c, o["id"], "zh")
    assert text(d, "merchant-name") == "茶叶小铺"
    assert text(d, "amount-words") == "壹拾元整"
    assert "尚未设置预留信息" in text(d, "reserved-hint")
    press(d, PIN)
    assert wait_text(d, "pay-msg", "余额不足") == "余额不足"
    shoot(d, "cashier-5-insufficient-zh")
    assert balance(c) == 100 and order_state(s, o["id"]) == "created"
    # PIN alone pays at most 100000 fen ([wallet] default); past the
    # session's fresh second factor a larger order needs a step-up.
    from test_wallet_transfers import credit
    credit(s, c, 200000)
    big = create_order(s.boss, amount=150000)
    s.clock(advance_ms=301_000)
    go(d, "/pay/%s?lang=zh" % big["id"])
    press(d, PIN)
    msg = wait_text(d, "pay-msg", "第二重验证")
    assert msg.startswith("此金额除支付密码外还需要第二重验证：请输入发送到您绑定手机的短信验证码")
    assert d.find_element(By.ID, "step-up").is_displayed()
    assert text(d, "step-up-send") == "获取验证码"
    assert not d.find_element(By.ID, "retry").is_displayed()
    assert not d.find_element(By.CSS_SELECTOR, ".keypad-box").is_displayed()
    scroll_to(d, "step-up")
    shoot(d, "cashier-6-step-up-zh")
    assert balance(c) == 200100 and order_state(s, big["id"]) == "created"


def keypad_id(d):
    return d.find_element(By.CSS_SELECTOR, ".keypad-box").get_attribute("data-keypad")


def test_the_step_up_is_an_sms_code_in_the_page_then_a_new_keypad(srv, browser):
    """Above the PIN-only limit, in Chinese: the page's SMS step sends a
    step_up code to the bound phone and shows where and the wait before
    another (mfa.code_resend, the button disabled); a wrong code shows the
    API's message (验证码错误), is counted (auth.step_up_failed) and moves
    nothing; the right code verifies, the page comes back with a NEW
    keypad and says so; the PIN on it pays, as PIN + second factor.
    req: FUNC-PAY-01, WEB-KBD-01, RISK-LIM-01"""
    from iam import sms_code, sms_mark
    from test_wallet_transfers import credit
    s, d = srv, browser
    c = customer(s, funds=100)
    credit(s, c, 200000)
    o = create_order(s.boss, amount=150000)
    sign_in_from_cashier(d, s, c, o["id"], "zh")
    s.clock(advance_ms=301_000)
    go(d, "/pay/%s?lang=zh" % o["id"])
    first = keypad_id(d)
    press(d, PIN)
    wait_text(d, "pay-msg", "第二重验证")
    WebDriverWait(d, WAIT_S).until(EC.visibility_of_element_located((By.ID, "step-up")))
    s.sms_mark = sms_mark(s)
    d.find_element(By.ID, "step-up-send").click()
    sent = wait_text(d, "step-up-msg", "验证码已发送至")
    assert sent == "验证码已发送至 ****%s。" % c.phone[-4:], sent
    send = d.find_element(By.ID, "step-up-send")
    assert not send.is_enabled()
    waiting = re.fullmatch(r"(\d+) 秒后可重新获取", send.text)
    assert waiting and 50 <= int(waiting.group(1)) <= 60, send.text
    # The wait counts down (the browser's own timer: a second of real time).
    WebDriverWait(d, WAIT_S).until(lambda drv: re.fullmatch(
        r"(\d+) 秒后可重新获取", send.text) and int(
            re.fullmatch(r"(\d+) 秒后可重新获取", send.text).group(1)) < int(waiting.group(1)))
    assert not send.is_enabled()
    code = sms_code(s, c.phone)
    # A wrong code: the API's message in the page's language, counted.
    failed = len(s.audit("auth.step_up_failed"))
    d.find_element(By.ID, "step-up-code").send_keys("%06d" % ((int(code) + 1) % 1000000))
    d.find_element(By.ID, "step-up-verify").click()
    assert wait_text(d, "step-up-msg", "验证码错误").startswith("验证码错误")
    assert d.find_element(By.ID, "step-up-code").get_attribute("value") == ""
    scroll_to(d, "step-up-msg")
    shoot(d, "cashier-10-step-up-code-zh")
    assert len(s.audit("auth.step_up_failed")) == failed + 1
    assert balance(c) == 200100 and order_state(s, o["id"]) == "created"
    # The right code: the page again, a new keypad, the PIN once more.
    d.find_element(By.ID, "step-up-code").send_keys(code)
    d.find_element(By.ID, "step-up-verify").click()
    # The page is loaded again (the old one's nodes go away meanwhile).
    WebDriverWait(d, WAIT_S, ignored_exceptions=(WebDriverException,)).until(
        lambda drv: keypad_id(drv) != first)
    assert wait_text(d, "pay-msg", "验证成功") == "验证成功，请在新的键盘上重新输入支付密码。"
    assert not d.find_element(By.ID, "step-up").is_displayed()
    scroll_to(d, "pay-msg")
    shoot(d, "cashier-11-step-up-verified-zh")
    assert balance(c) == 200100 and order_state(s, o["id"]) == "created"
    press(d, PIN)
    assert wait_text(d, "result-title", "支付成功") == "支付成功"
    shoot(d, "cashier-12-step-up-paid-zh")
    assert balance(c) == 200100 - 150000 and order_state(s, o["id"]) == "paid"
    r = c.http.get("/api/v1/me/orders/%s" % o["id"])
    assert r.status_code == 200 and r.json()["state"] == "paid", r.text
    assert s.query("SELECT auth FROM pay_payment WHERE order_id = ?", o["id"]) == \
        [{"auth": "pin_otp"}]
    # The wrong code counted as a failure from this address: past
    # [lockout] ip_window, the next test's login asks no captcha.
    s.clock(advance_ms=601_000)


def test_without_a_bound_phone_the_step_up_falls_back_to_signing_in_again(srv, browser):
    """A customer whose account has no phone (the phone taken off the row
    behind anfud's back, as an account without one): "Send code" answers
    method_unavailable, the SMS step closes and the page says to sign in
    again, linking to the login page with this page as next (English);
    no code is sent and nothing moves. req: FUNC-PAY-01"""
    from iam import sms_mark, sms_to
    s, d = srv, browser
    c = customer(s, funds=200000)
    o = create_order(s.boss, amount=150000)
    sign_in_from_cashier(d, s, c, o["id"], "en")
    with s.rw() as db:
        db.execute("UPDATE iam_user SET phone_enc = NULL WHERE id = ?", c.id)
    s.clock(advance_ms=301_000)
    go(d, "/pay/%s?lang=en" % o["id"])
    press(d, PIN)
    WebDriverWait(d, WAIT_S).until(EC.visibility_of_element_located((By.ID, "step-up")))
    mark = sms_mark(s)
    d.find_element(By.ID, "step-up-send").click()
    msg = wait_text(d, "pay-msg", "no phone")
    assert msg.startswith("This amount needs a second factor besides the payment password, "
                          "and your account has no phone for an SMS code: sign in again"), msg
    assert not d.find_element(By.ID, "step-up").is_displayed()
    href = d.find_element(By.ID, "retry-link").get_attribute("href")
    assert href.endswith("/login?lang=en&next=%2Fpay%2F" + o["id"] + "%3Flang%3Den"), href
    scroll_to(d, "retry")
    shoot(d, "cashier-13-step-up-no-phone-en")
    assert sms_to(s, c.phone, since=mark, wait=0) == []
    assert balance(c) == 200000 and order_state(s, o["id"]) == "created"


def test_another_customer_pays_a_shared_link_in_the_cashier_page(srv, browser):
    """Customer A shares an order; customer B opens the link in the
    browser, signs in, sees the shared notice, the bill and B's own
    reserved message; the page pays through the link (a link A replaced
    meanwhile is refused, nothing moves); with the new link B pays on the
    keypad; A sees the order paid by B (API). An unknown link shows its
    page without a keypad. req: FUNC-PAY-17, WEB-PHISH-01, WEB-KBD-01"""
    s, d = srv, browser
    a = customer(s, funds=0)
    b = customer(s, funds=30000)
    assert b.http.req("PUT", "/api/v1/me/reserved-message",
                      {"message": "代付的猫"}).status_code == 200
    o = create_order(s.boss, amount=2500, subject="Gift tea",
                     lines=[{"name": "Longjing tea 100g", "quantity": 1, "unit_amount": 2500,
                             "amount": 2500}])
    r = a.http.post("/api/v1/me/orders/%s/share" % o["id"], {})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    sign_in_from_cashier(d, s, b, o["id"], "en", share=token)
    assert "share=" + token in d.current_url
    assert "shared this order with you" in text(d, "shared")
    assert text(d, "merchant-name") == "Tea Shop" and text(d, "amount") == "¥25.00"
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in d.find_elements(By.CSS_SELECTOR, "tr.bill-line")]
    assert rows == [["Longjing tea 100g", "1", "¥25.00", "¥25.00"]]
    assert text(d, "reserved") == "代付的猫"
    shoot(d, "cashier-7-shared-en")
    # The page pays through the link: A replaces it, B's entry is refused
    # with the API's message and nothing moves.
    r = a.http.post("/api/v1/me/orders/%s/share" % o["id"], {})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    press(d, PIN)
    assert wait_text(d, "pay-msg", "link") == "The pay-on-behalf link is not valid"
    assert balance(b) == 30000 and order_state(s, o["id"]) == "created"
    # The new link, in the page: paid.
    go(d, "/pay/%s?share=%s&lang=en" % (o["id"], token))
    WebDriverWait(d, WAIT_S).until(EC.presence_of_element_located((By.ID, "shared")))
    press(d, PIN)
    assert wait_text(d, "result-title", "successful") == "Payment successful"
    shoot(d, "cashier-8-shared-paid-en")
    assert balance(b) == 30000 - 2500 and balance(a) == 0
    seen = a.http.get("/api/v1/me/orders/%s" % o["id"]).json()
    assert seen["state"] == "paid" and seen["requested_by_me"] and not seen["paid_by_me"]
    assert s.query("SELECT payer_id FROM pay_order WHERE id = ?", o["id"]) == \
        [{"payer_id": b.id}]
    go(d, "/pay/%s?share=shr_%s&lang=zh" % (o["id"], "d" * 24))
    assert text(d, "order-state").startswith("此代付链接无效")
    assert not d.find_elements(By.CSS_SELECTOR, ".keypad-box")
    shoot(d, "cashier-9-link-not-valid-zh")
