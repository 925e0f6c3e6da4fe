"""The login page with the default [captcha] mode (always) in a real
browser (headless Chromium, as tests/api/test_web_browser.py): the page
shows the captcha at once from its same-origin image route (the CSP's
img-src 'self'; a CSP message in the console fails the test), a person
types what it shows (here: the answer read through the test hook the API
tests use), signs in with the SMS second factor and reaches the cashier
page; a wrong captcha answer shows the error, gives a new captcha and does
not sign in. SQLite pass only, like the other browser tests.

Screenshots: $ANFU_BUILD_DIR/browser-screenshots/captcha-*.png."""
import os
import re

import pytest

from iam import GOOD_PASSWORD, sms_code, sms_mark
from pay import create_order, make_desk, merchant_user, register_merchant
from test_wallet_transfers import customer
from test_web_browser import WAIT_S, browser, enter_name, go, shoot, wait_text  # noqa: F401

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("ANFU_TEST_BACKEND") == "postgresql",
                                reason="browser tests run in the SQLite pass only")
# No [captcha] section: the default mode, always.
CONFIG = {"lockout": {"ip_failures": "10000"},
          "pay": {"expire_interval_s": "86400"},
          "wallet": {"sms_confirm_over": "100000000000"}}
WRONG_ANSWER = "00000"  # 0 is not in the captcha alphabet: never right


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("captcha"), init_args=("--admin", "opsadmin"),
               config=CONFIG).start()
    d = make_desk(s, "capb")
    register_merchant(d, "mch_cap", fee_bps=60)
    s.boss = merchant_user(d, "mch_cap")
    yield s
    s.stop()


def shown_captcha(d, s, old=None):
    """Waits for the page's captcha (another than old), loaded from this
    origin; returns its id."""
    def ready(drv):
        img = drv.find_element(By.ID, "captcha-img")
        src = img.get_attribute("src") or ""
        m = re.search(r"/api/v1/captcha/(cap_[0-9A-Za-z]+)/image$", src)
        loaded = drv.execute_script(
            "var i = arguments[0]; return i.complete && i.naturalWidth;", img)
        return m and m.group(1) != old and img.is_displayed() and loaded and m.group(1)
    cid = WebDriverWait(d, WAIT_S).until(ready)
    img = d.find_element(By.ID, "captcha-img")
    assert img.get_attribute("src") == s.url("/api/v1/captcha/%s/image" % cid)
    assert d.execute_script("return arguments[0].naturalWidth;", img) == 160
    return cid


def answer(s, cid):
    r = s.get("/test/v1/captcha/" + cid)
    assert r.status_code == 200, r.text
    return r.json()["answer"]


def attempts(s, uid):
    """The account's login attempts as sorted (result, reason) pairs (the
    frozen clock gives them one time)."""
    return sorted((r["result"], r["reason"]) for r in
                  s.query("SELECT result, reason FROM iam_login_attempt WHERE user_id = ?", uid))


def sessions(s, uid):
    return s.query("SELECT COUNT(*) AS n FROM iam_session WHERE user_id = ?", uid)[0]["n"]


def test_default_captcha_login_reaches_the_cashier_page(srv, browser):
    """/pay/{id} without a session: the login page shows a captcha at once;
    the refresh button gives another; typed right (with the password and
    then the SMS code), the customer lands on the cashier page of the
    order. req: IAM-CAP-01, IAM-CAP-02, WEB-REDIR-01"""
    s, d = srv, browser
    c = customer(s, funds=50000)
    o = create_order(s.boss, amount=12345)
    go(d, "/pay/%s?lang=en" % o["id"])
    WebDriverWait(d, WAIT_S).until(EC.url_contains("/login?next=%2Fpay%2F" + o["id"]))
    enter_name(d, c.phone)
    first = shown_captcha(d, s)
    d.find_element(By.ID, "captcha-refresh").click()
    cid = shown_captcha(d, s, old=first)
    shoot(d, "captcha-1-login-en")
    d.find_element(By.ID, "password").send_keys(GOOD_PASSWORD)
    d.find_element(By.ID, "captcha-answer").send_keys(answer(s, cid).lower())
    d.find_element(By.ID, "login-submit").click()
    WebDriverWait(d, WAIT_S).until(EC.visibility_of_element_located((By.ID, "code-send")))
    assert s.query("SELECT used_ms IS NOT NULL AS used FROM iam_captcha WHERE id = ?",
                   cid) == [{"used": 1}]
    s.sms_mark = sms_mark(s)
    d.find_element(By.ID, "code-send").click()
    WebDriverWait(d, WAIT_S).until(
        lambda drv: drv.find_element(By.ID, "login-msg").text.strip() != "")
    d.find_element(By.ID, "code").send_keys(sms_code(s, c.phone))
    d.find_element(By.ID, "code-submit").click()
    WebDriverWait(d, WAIT_S).until(EC.url_contains("/pay/" + o["id"]))
    WebDriverWait(d, WAIT_S).until(EC.presence_of_element_located((By.ID, "amount")))
    assert d.find_element(By.ID, "amount").text == "¥123.45"
    shoot(d, "captcha-2-cashier-en")


@pytest.mark.parametrize("lang,text", [
    ("en", "The characters did not match or the image expired; try this one."),
    ("zh", "图形验证码错误或已过期，请输入新的一张。")])
def test_a_wrong_captcha_answer_is_told_and_signs_nobody_in(srv, browser, lang, text):
    """A wrong answer with the right password: the page tells it in its
    language, empties the password, shows a new captcha and stays on the
    login page; the server made no session, recorded the attempt as a
    captcha failure and used the captcha up. req: IAM-CAP-01, IAM-CAP-02,
    WEB-ERR-02, WEB-PWD-02"""
    s, d = srv, browser
    c = customer(s, pin=False)
    before = attempts(s, c.id)
    n0 = sessions(s, c.id)
    go(d, "/login?lang=%s&next=/account" % lang)
    enter_name(d, c.phone)
    cid = shown_captcha(d, s)
    d.find_element(By.ID, "password").send_keys(GOOD_PASSWORD)
    d.find_element(By.ID, "captcha-answer").send_keys(WRONG_ANSWER)
    d.find_element(By.ID, "login-submit").click()
    assert wait_text(d, "login-msg", text) == text
    again = shown_captcha(d, s, old=cid)
    shoot(d, "captcha-3-wrong-" + lang)
    assert again != cid
    assert d.find_element(By.ID, "password").get_attribute("value") == ""
    assert d.find_element(By.ID, "captcha-answer").get_attribute("value") == ""
    assert "/login" in d.current_url and not d.find_element(By.ID, "code-send").is_displayed()
    assert sessions(s, c.id) == n0
    assert attempts(s, c.id) == sorted(before + [("captcha_failed", "captcha")])
    assert s.query("SELECT used_ms IS NOT NULL AS used FROM iam_captcha WHERE id = ?",
                   cid) == [{"used": 1}]
    assert s.query("SELECT used_ms FROM iam_captcha WHERE id = ?", again) == \
        [{"used_ms": None}]
