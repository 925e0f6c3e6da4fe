"""Lists of refunds and the report of refunds waiting for funds
(src/pay/refund_list.c, src/pay/api/refund_list.c; docs/payments.md
"Refund lists"): a merchant's users list their merchant's refunds
(pay.refund.read), operators with pay.refund.list everyone's (the review
queue: status=reviewing; and status=waiting_funds; an auditor has no
such permission), a customer their own;
filters by state, order, time and party; MAC'd cursors bound to the
caller's scope. A refund that waits for the merchant's funds is told to the
merchant's users once (FUNC-OPS-05).

One server for the module with [pay] refund_auto_max = 6000 fen (above it
an operator reviews), refund_four_eyes_min = 8000 fen (above it two do)
and refund_retry_interval_s = 600.
"""
import json
import uuid

import pytest

from conftest import Server
from iam import mails_to
from pay import create_order, err, make_desk, merchant_staff, merchant_user, register_merchant
from test_pay_general import account, pay
from test_iam_admin import mail_wait
from test_ledger_state import make_staff
from test_pay_history import parse_csv
from test_pay_refund import account_id, ledger_move
# The card-refund fixtures (a bank simulator, customers with a bound card).
from test_pay_refund_card import card_desk, credit_row, paid_order, serial, wallet_state
from test_pay_refund_card import customer as card_customer, refund as card_refund
from test_wallet_transfers import balance, customer

AUTO_MAX = 6000
FOUR_EYES = 8000
NOTICE = "pay.refund.waiting_funds"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("payrefundlist"), init_args=("--admin", "opsadmin"),
               config={"lockout": {"ip_failures": "10000"},
                       "pay": {"expire_interval_s": "86400",
                               "refund_auto_max": str(AUTO_MAX),
                               "refund_four_eyes_min": str(FOUR_EYES),
                               "refund_retry_interval_s": "600"},
                       "wallet": {"sms_confirm_over": "100000000000"}}).start()
    d = make_desk(s, "payrl")
    # Staff without pay.refund.list (an auditor reads the audit log only).
    d.auditor = make_staff(s, d.admin, d.officer, "payrlaud", "auditor", "console-5")
    register_merchant(d, "mch_rl", fee_bps=0)
    register_merchant(d, "mch_rl2", fee_bps=0)
    d.boss = merchant_user(d, "mch_rl")
    d.clerk = merchant_staff(d, d.boss)
    d.boss2 = merchant_user(d, "mch_rl2")
    d.clerk2 = merchant_staff(d, d.boss2)
    # A staff member of mch_rl2 made from a Chinese request (its notices in
    # zh-CN); it never logs in.
    d.zh_email = "payrlzh@shop.example.test"
    r = d.boss2.post("/api/v1/merchant/users", {"username": "payrlzh", "email": d.zh_email},
                     headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 201, r.text
    d.zh_id = r.json()["user"]["id"]
    d.alice = customer(s, name="张三", funds=1000000)
    d.bob = customer(s, name="李四", funds=1000000)
    # r1 alice/mch_rl succeeded, r2 alice/mch_rl reviewing (above the
    # rules), r3 bob/mch_rl succeeded, r4 alice/mch_rl2 succeeded; a
    # minute apart.
    d.orders, d.refunds = [], []
    for who, m, amount, back in ((d.alice, d.boss, 10000, 3000),
                                 (d.alice, d.boss, 30000, 10000),
                                 (d.bob, d.boss, 5000, 2000),
                                 (d.alice, d.boss2, 4000, 1000)):
        s.clock(advance_ms=10000)
        o = create_order(m, amount=amount)
        r = pay(who, o["id"])
        assert r.status_code == 201, r.text
        r = refund(m, o["id"], back)
        assert r.status_code == 201, r.text
        d.orders.append(o)
        d.refunds.append(r.json())
    assert [x["state"] for x in d.refunds] == ["succeeded", "reviewing", "succeeded",
                                               "succeeded"]
    yield d
    s.stop()
    out = s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    s.assert_stopped_cleanly()


def refund(m, order_id, amount):
    return m.post("/api/v1/merchant/orders/%s/refunds" % order_id,
                  {"out_refund_no": "R" + uuid.uuid4().hex[:20], "amount": amount,
                   "currency": "CNY", "reason": "七天无理由退货"})


def ids(rows):
    return [x["id"] for x in rows]


def page(client, path, **q):
    r = client.get(path, params=q)
    assert r.status_code == 200, r.text
    return r.json()


def listed(client, path, **q):
    return ids(page(client, path, **q)["refunds"])


def rid(d, *i):
    return [d.refunds[k]["id"] for k in i]


MR = "/api/v1/merchant/refunds"
AR = "/admin/v1/refunds"
CR = "/api/v1/me/refunds"


def test_each_role_lists_only_what_it_may(d):
    """Both merchant roles list their merchant's refunds (newest first), not
    another merchant's; a customer lists their own of any merchant; an
    operator with pay.refund.list lists all, one without it is refused;
    each class is refused the other classes' routes. req: FUNC-SETL-08,
    FUNC-OPS-04, IAM-RBAC-01"""
    for m in (d.boss, d.clerk):
        assert listed(m, MR) == rid(d, 2, 1, 0)
    assert listed(d.boss2, MR) == rid(d, 3)
    assert listed(d.clerk2, MR) == rid(d, 3)
    # An item is the refund as its own route shows it.
    x = page(d.clerk, MR, limit=1)["refunds"][0]
    assert x == page(d.clerk, MR + "/" + x["id"])
    assert x["amount"] == 2000 and x["state"] == "succeeded"
    assert x["order_id"] == d.orders[2]["id"] and x["currency"] == "CNY"
    assert x["out_refund_no"] == d.refunds[2]["out_refund_no"]
    # Another merchant's order as a filter: nothing of it.
    assert listed(d.boss2, MR, order=d.orders[0]["id"]) == []
    assert listed(d.alice.http, CR) == rid(d, 3, 1, 0)
    assert listed(d.bob.http, CR) == rid(d, 2)
    assert listed(d.op, AR) == rid(d, 3, 2, 1, 0)
    assert listed(d.risk, AR) == rid(d, 3, 2, 1, 0)
    r = d.auditor.get(AR)
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    r = d.alice.http.get(MR)
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    for m in (d.boss, d.clerk):
        r = m.get(CR)
        assert r.status_code == 403 and err(r) == "forbidden", r.text


def test_the_review_queue_and_the_filters(d):
    """status (a refund state; reviewing is the operators' review queue),
    order, from (inclusive) / to (exclusive) on the refund's creation, an
    operator's merchant and customer, a customer's counterparty; bad values
    are 400 naming the parameter. req: FUNC-OPS-04, FUNC-SETL-08"""
    assert listed(d.op, AR, status="reviewing") == rid(d, 1)
    assert listed(d.boss, MR, status="reviewing") == rid(d, 1)
    assert listed(d.boss, MR, status="succeeded") == rid(d, 2, 0)
    assert listed(d.boss2, MR, status="reviewing") == []
    assert listed(d.alice.http, CR, status="reviewing") == rid(d, 1)
    assert listed(d.boss, MR, order=d.orders[0]["id"]) == rid(d, 0)
    t1, t2 = d.refunds[1]["created_ms"], d.refunds[2]["created_ms"]
    assert listed(d.boss, MR, **{"from": t1, "to": t2}) == rid(d, 1)
    assert listed(d.boss, MR, **{"from": t1, "to": t2 + 1}) == rid(d, 2, 1)
    assert listed(d.op, AR, merchant="mch_rl2") == rid(d, 3)
    assert listed(d.op, AR, customer=d.bob.id) == rid(d, 2)
    assert listed(d.op, AR, customer=d.alice.id, merchant="mch_rl") == rid(d, 1, 0)
    assert listed(d.alice.http, CR, counterparty="mch_rl2") == rid(d, 3)
    for client, path, q, field in (
            (d.boss, MR, {"status": "paid"}, "status"),
            (d.boss, MR, {"order": "a b"}, "order"),
            (d.boss, MR, {"from": "-1"}, "from"),
            (d.boss, MR, {"to": "x"}, "to"),
            (d.op, AR, {"merchant": "m;x"}, "merchant"),
            (d.op, AR, {"customer": "usr x"}, "customer"),
            (d.alice.http, CR, {"counterparty": "a/b"}, "counterparty")):
        r = client.get(path, params=q)
        assert r.status_code == 400 and err(r) == "invalid_field", (q, r.text)
        assert r.json()["error"]["field"] == field
    for lim in ("0", "101", "x"):
        r = d.boss.get(MR, params={"limit": lim})
        assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
        assert r.json()["error"]["field"] == "limit"


def test_the_queue_shows_operators_the_first_approval_of_four_eyes(d):
    """An operator's item carries the payer and approved_by; after the first
    of two approvals the refund stays in the queue (reviewing) naming that
    operator, so the second can tell; merchants' items are the refund as
    its route shows it, without them. req: FUNC-OPS-04"""
    x = d.refunds[1]
    (item,) = page(d.op, AR, status="reviewing")["refunds"]
    assert item["id"] == x["id"] and item["approved_by"] is None
    assert item["payer_id"] == d.alice.id
    r = d.op.post("/admin/v1/refunds/%s/approve" % x["id"], {})
    assert r.status_code == 200 and r.json()["state"] == "reviewing", r.text
    op_id = d.op.get("/admin/v1/me").json()["user"]["id"]
    (item,) = page(d.op, AR, status="reviewing")["refunds"]
    assert item["id"] == x["id"] and item["approved_by"] == op_id
    (mine,) = page(d.boss, MR, status="reviewing")["refunds"]
    assert "approved_by" not in mine and "payer_id" not in mine


def test_cursors_page_through_and_are_bound_to_the_scope(d):
    """Pages of one give every refund once, in order; a changed cursor, one
    of another merchant, of a customer or of the transaction history is
    refused; the other user of the same merchant can use it. req:
    FUNC-OPS-04"""
    rows, cursor, sizes = [], None, []
    while True:
        q = {"limit": 1}
        if cursor:
            q["cursor"] = cursor
        j = page(d.op, AR, **q)
        rows += ids(j["refunds"])
        sizes.append(len(j["refunds"]))
        cursor = j.get("next_cursor")
        if not cursor:
            break
    assert rows == rid(d, 3, 2, 1, 0) and sizes == [1, 1, 1, 1]
    full = page(d.boss, MR, limit=3)
    assert full.get("next_cursor") is None
    cur = page(d.boss, MR, limit=1)["next_cursor"]
    ms, x, mac = cur.split(".")
    assert x == rid(d, 2)[0]
    for c in ("%d.%s.%s" % (int(ms) + 1, x, mac), cur[:-1] + ("0" if cur[-1] != "0" else "1"),
              "garbage"):
        r = d.boss.get(MR, params={"cursor": c})
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
        assert r.json()["error"]["field"] == "cursor"
    for client, path in ((d.boss2, MR), (d.alice.http, CR), (d.op, AR)):
        r = client.get(path, params={"cursor": cur})
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
    hist = page(d.boss, "/api/v1/merchant/transactions", limit=1)["next_cursor"]
    r = d.boss.get(MR, params={"cursor": hist})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    assert listed(d.clerk, MR, cursor=cur) == rid(d, 1, 0)


def notices(s, user_id=None):
    if user_id:
        return s.query("SELECT user_id FROM notify_message WHERE kind = ? AND user_id = ?",
                       NOTICE, user_id)
    return s.query("SELECT user_id FROM notify_message WHERE kind = ?", NOTICE)


def uid(client):
    return client.get("/api/v1/me").json()["user"]["id"]


def test_a_refund_waiting_for_funds_is_reported_once(d):
    """Last in the module (it moves the clock). A refund the merchant's
    balance cannot cover waits (waiting_funds): each user of the merchant
    gets one notice in their language (zh-CN, English), no one else does;
    it is in the waiting lists; retries while still short, and the success,
    add no notice. req: FUNC-OPS-05"""
    s = d.s
    s.hold_jobs("pay.refund_retry")
    try:
        c = customer(s, funds=10000)
        sink = customer(s)
        o = create_order(d.boss2, amount=4000)
        assert pay(c, o["id"]).status_code == 201
        mch = account_id(s, "merchant_pending", "mch_rl2")
        wal = account_id(s, "customer_wallet", sink.id)
        held = account(s, "merchant_pending", "mch_rl2")
        ledger_move(s, "drain-" + o["id"], mch, wal, held)
        assert notices(s) == []
        c0 = balance(c)
        r = refund(d.boss2, o["id"], 3000)
        assert r.status_code == 201 and r.json()["state"] == "waiting_funds", r.text
        x = r.json()
        assert balance(c) == c0
        boss2, clerk2 = uid(d.boss2), uid(d.clerk2)
        others = [uid(d.boss), uid(d.clerk)]
        assert sorted(n["user_id"] for n in notices(s)) == sorted([boss2, clerk2, d.zh_id])
        mail_wait(s, d.boss2.email, lambda b: x["id"] in b)
        mail_wait(s, d.zh_email, lambda b: x["id"] in b)
        # The administrator was made from an English request, one staff
        # member from a Chinese one: each gets their language.
        lang = {r["id"]: r["lang"] for r in s.query(
            "SELECT id, lang FROM iam_user WHERE id IN (?, ?)", boss2, d.zh_id)}
        assert lang == {boss2: "en", d.zh_id: "zh"}
        zh = [m for m in mails_to(d.zh_email) if x["id"] in m[1]]
        assert len(zh) == 1 and zh[0][0] == "退款待处理通知"
        assert "商户余额不足" in zh[0][1] and "30.00 元" in zh[0][1]
        assert o["out_trade_no"] in zh[0][1]
        en = [m for m in mails_to(d.boss2.email) if x["id"] in m[1]]
        assert len(en) == 1 and en[0][0] == "Refund waiting for funds"
        assert "merchant balance is short" in en[0][1] and "CNY 30.00" in en[0][1]
        # In the lists of refunds waiting for funds.
        assert listed(d.op, AR, status="waiting_funds") == [x["id"]]
        assert listed(d.boss2, MR, status="waiting_funds") == [x["id"]]
        assert listed(d.boss, MR, status="waiting_funds") == []
        # Still short: the retry (the job's own run) reports nothing again.
        s.clock(advance_ms=601_000)
        r = s.post("/test/v1/pay/refund-retry")
        assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text
        assert len(notices(s)) == 3
        ledger_move(s, "back-" + o["id"], wal, mch, held)
        r = s.post("/test/v1/pay/refund-retry")
        assert r.status_code == 200 and r.json()["succeeded"] == 1, r.text
        assert balance(c) == c0 + 3000 and len(notices(s)) == 3
        assert s.query("SELECT state FROM pay_refund WHERE id = ?", x["id"])[0]["state"] == \
            "succeeded"
        assert others and all(notices(s, u) == [] for u in others)
    finally:
        s.release_jobs("pay.refund_retry")


# ---- where a customer's refund went (wave 4) ---------------------------------
# On a server of tests/api/test_pay_refund_card.py's kind (its card_desk).

@pytest.fixture(scope="module")
def rc(tmp_path_factory):
    yield from card_desk(tmp_path_factory, "payrlrc")


def test_a_customer_sees_whether_a_refund_went_to_the_wallet_or_the_card(rc):
    """A customer's own refund views (GET /api/v1/me/refunds, the refund
    rows of /api/v1/me/payments and its CSV) name where the money went:
    destination wallet (card null), or card with the card's masked number
    once the wallet could not take it (frozen) — as the merchant's refund
    JSON.
    req: FUNC-SETL-08, FUNC-PAY-15, DATA-MASK-07, DATA-MASK-08"""
    c = card_customer(rc, funds=10000)
    o = paid_order(rc, c, 6000)
    r = card_refund(rc, o["id"], 1000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    w = r.json()
    assert w["destination"] == "wallet"
    wallet_state(rc, c, "frozen")  # frozen for credits: the next refund goes to the card
    r = card_refund(rc, o["id"], 2000)
    assert r.status_code == 201 and r.json()["state"] == "sending", r.text
    k = r.json()
    assert k["destination"] == "card" and k["card"] == c.masked

    def views(state):
        mine = {x["id"]: x for x in page(c.http, CR)["refunds"]}
        assert set(mine) == {w["id"], k["id"]}
        assert (mine[w["id"]]["destination"], mine[w["id"]]["card"]) == ("wallet", None)
        assert (mine[k["id"]]["destination"], mine[k["id"]]["card"]) == ("card", c.masked)
        assert mine[k["id"]]["state"] == state
        rows = {x["id"]: x for x in page(c.http, "/api/v1/me/payments",
                                         type="refund")["transactions"]}
        assert set(rows) == {w["id"], k["id"]}
        assert (rows[w["id"]]["destination"], rows[w["id"]]["card"]) == ("wallet", None)
        assert (rows[k["id"]]["destination"], rows[k["id"]]["card"]) == ("card", c.masked)
        assert rows[k["id"]]["status"] == state
        # The full card number is never shown, nor the payer's id.
        assert c.number not in json.dumps([mine, rows])
        return mine

    views("sending")
    [cr] = credit_row(rc, k["id"])
    assert [cb["status"] for cb in rc.sim.settle(serial(rc, cr))] == [200]
    views("succeeded")
    # The CSV: the customer's and the merchant's name the destination.
    rows = parse_csv(c.http.get("/api/v1/me/payments", params={"format": "csv", "type": "refund"}))
    assert rows[0][-1] == "destination"
    assert {x[3]: x[-1] for x in rows[1:]} == {w["id"]: "wallet", k["id"]: "card"}
    r = rc.boss.get("/api/v1/merchant/transactions",
                    params={"format": "csv", "type": "refund", "from": o["created_ms"]})
    rows = parse_csv(r)
    got = {x[3]: (x[12], x[13]) for x in rows[1:]}
    assert got[w["id"]] == (w["out_refund_no"], "wallet")
    assert got[k["id"]] == (k["out_refund_no"], "card")
    assert c.number not in r.text and c.id not in r.text
