"""Transaction history and its CSV download (FUNC-PAY-14/15/16;
src/pay/history.c, src/pay/api/history.c; docs/payments.md "History and
download"): customers see their own payments, merchant users their
merchant's, operators with pay.transaction.read anyone's; filters by time,
type, status and counterparty; MAC'd cursors bound to the caller's scope;
CSV with masking, neutralised formulas, a row limit, and an audit record
of every download."""
import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Server
from pay import create_order, err, make_desk, merchant_staff, merchant_user, register_merchant
from test_wallet_transfers import PIN, customer

CN = timezone(timedelta(hours=8))
CSV_ROWS = 200  # ANFU_LIMIT_PAY_CSV_ROWS


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("payhistory"), init_args=("--admin", "opsadmin"),
               config={"lockout": {"ip_failures": "10000"},
                       "pay": {"expire_interval_s": "86400"},
                       "wallet": {"sms_confirm_over": "100000000000"}}).start()
    d = make_desk(s, "payhis")
    register_merchant(d, "mch_his", fee_bps=100)
    register_merchant(d, "mch_his2", fee_bps=0)
    d.boss = merchant_user(d, "mch_his")
    d.clerk = merchant_staff(d, d.boss)
    d.boss2 = merchant_user(d, "mch_his2")
    d.alice = customer(s, name="张三", funds=1000000)
    d.bob = customer(s, name="李四", funds=1000000)
    # alice pays mch_his three times and mch_his2 once; bob pays mch_his once.
    d.pays = []
    for who, m, amount, subject in ((d.alice, d.boss, 1000, "=HYPERLINK(\"http://x\")"),
                                    (d.alice, d.boss, 2000, "+1 龙井"),
                                    (d.alice, d.boss2, 3000, "@SUM(A1)"),
                                    (d.bob, d.boss, 4000, "-2 \"普洱\""),
                                    (d.alice, d.boss, 5000, "绿茶")):
        s.clock(advance_ms=60000)
        d.pays.append(pay(who, m, amount, subject))
    yield d
    s.stop()
    s.assert_stopped_cleanly()


def pay(c, m, amount, subject):
    o = create_order(m, amount=amount, subject=subject)
    r = c.http.post("/api/v1/me/orders/%s/pay" % o["id"],
                    {"payment_password": PIN, "request_id": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    p = r.json()
    p["order"] = o
    return p


def ids(rows):
    return [t["id"] for t in rows]


def page(client, path, **q):
    r = client.get(path, params=q)
    assert r.status_code == 200, r.text
    return r.json()


def walk(client, path, limit, **q):
    """Every row, page by page; the pages' sizes."""
    rows, sizes, cursor = [], [], None
    while True:
        args = dict(q, limit=limit)
        if cursor:
            args["cursor"] = cursor
        j = page(client, path, **args)
        rows += j["transactions"]
        sizes.append(len(j["transactions"]))
        cursor = j.get("next_cursor")
        if not cursor:
            return rows, sizes


def downloads(s):
    return s.audit("pay.transactions.download")


def test_each_role_sees_only_its_own(d):
    """A customer sees only their payments, a merchant's users only their
    merchant's, another merchant only its own; newest first. req:
    FUNC-PAY-14, IAM-RBAC-01"""
    p = [x["id"] for x in d.pays]
    mine = page(d.alice.http, "/api/v1/me/payments")["transactions"]
    assert ids(mine) == [p[4], p[2], p[1], p[0]]
    assert ids(page(d.bob.http, "/api/v1/me/payments")["transactions"]) == [p[3]]
    for m in (d.boss, d.clerk):
        assert ids(page(m, "/api/v1/merchant/transactions")["transactions"]) == \
            [p[4], p[3], p[1], p[0]]
    assert ids(page(d.boss2, "/api/v1/merchant/transactions")["transactions"]) == [p[2]]
    # The other class's route: refused.
    r = d.alice.http.get("/api/v1/merchant/transactions")
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    r = d.boss.get("/api/v1/me/payments")
    assert r.status_code == 403 and err(r) == "forbidden", r.text


def test_rows_show_date_time_masked_party_and_amount(d):
    """Each row: date and time (Beijing), the masked counterparty, the
    amount in fen, CNY; merchants see the fee, customers do not; the payer's
    id and real name are not shown to merchants. req: FUNC-PAY-15,
    DATA-MASK-04"""
    p0 = d.pays[0]
    row = page(d.boss, "/api/v1/merchant/transactions", limit=5)["transactions"][-1]
    assert row["id"] == p0["id"] and row["order_id"] == p0["order"]["id"]
    assert row["amount"] == 1000 and row["currency"] == "CNY" and row["fee"] == 10
    assert row["type"] == "payment" and row["status"] == "paid"
    assert row["counterparty"] == "*三" and row["payer"] == "*三"
    assert "payer_id" not in row and d.alice.id not in json.dumps(row)
    t = datetime.fromtimestamp(row["time_ms"] / 1000, CN)
    assert row["date"] == t.strftime("%Y-%m-%d") and row["time"] == t.strftime("%H:%M:%S")
    mine = page(d.alice.http, "/api/v1/me/payments")["transactions"][-1]
    assert mine["id"] == p0["id"] and mine["counterparty"] == "茶叶小铺"
    assert "fee" not in mine and "out_trade_no" not in mine
    # The resulting balance of a customer's payment is in the wallet history
    # (the decision of docs/payments.md): its ledger row, with the balance.
    items = page(d.alice.http, "/api/v1/me/transactions", type="payment", limit=50)["items"]
    assert [i["amount"] for i in items] == [5000, 3000, 2000, 1000]
    assert [i["balance"] for i in items] == [1000000 - 11000, 1000000 - 6000, 1000000 - 3000,
                                             1000000 - 1000]


def test_filters_time_status_type_counterparty(d):
    """from (inclusive) and to (exclusive) on the payment time, status,
    type, and a customer's counterparty (merchant id). req: FUNC-PAY-14"""
    p = d.pays
    t1, t3 = p[1]["created_ms"], p[3]["created_ms"]
    got = page(d.boss, "/api/v1/merchant/transactions", **{"from": t1, "to": t3})
    assert ids(got["transactions"]) == [p[1]["id"]]
    got = page(d.boss, "/api/v1/merchant/transactions", **{"from": t1, "to": t3 + 1})
    assert ids(got["transactions"]) == [p[3]["id"], p[1]["id"]]
    assert page(d.boss, "/api/v1/merchant/transactions", status="paid",
                type="payment")["transactions"] != []
    assert page(d.boss, "/api/v1/merchant/transactions", status="closed")["transactions"] == []
    got = page(d.alice.http, "/api/v1/me/payments", counterparty="mch_his2")
    assert ids(got["transactions"]) == [p[2]["id"]]
    for q, field in (({"type": "transfer"}, "type"), ({"status": "lost"}, "status"),
                     ({"from": "-1"}, "from"), ({"to": "x"}, "to"),
                     ({"format": "pdf"}, "format"), ({"counterparty": "a b"}, "counterparty")):
        r = d.alice.http.get("/api/v1/me/payments", params=q)
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
        assert r.json()["error"]["field"] == field


def test_a_merchant_filters_by_the_payer_it_knows(d):
    """A merchant's payer filter takes what the customer tells the till (a
    mobile number, with or without +86): only that payer's rows of this
    merchant, masked as ever; a name that is no active customer, or a
    customer who never paid this merchant, both give an empty list (nobody
    learns which); 254 bytes pass, 255 are 400 invalid_field payer; the
    filter is the merchant's only (a customer's payer= does not filter).
    req: FUNC-PAY-14"""
    p = d.pays
    got = page(d.boss, "/api/v1/merchant/transactions", payer=d.alice.phone)
    assert ids(got["transactions"]) == [p[4]["id"], p[1]["id"], p[0]["id"]]
    assert all(t["payer"] == "*三" for t in got["transactions"])
    assert d.alice.id not in json.dumps(got)
    got = page(d.boss, "/api/v1/merchant/transactions", payer="+86" + d.bob.phone)
    assert ids(got["transactions"]) == [p[3]["id"]]
    got = page(d.boss2, "/api/v1/merchant/transactions", payer=d.bob.phone)
    assert got["transactions"] == []
    for nobody in ("13900000000", "no-such-login", "x" * 254):
        got = page(d.boss, "/api/v1/merchant/transactions", payer=nobody)
        assert got["transactions"] == [], nobody
    r = d.boss.get("/api/v1/merchant/transactions", params={"payer": "x" * 255})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    assert r.json()["error"]["field"] == "payer"
    r = d.boss.get("/api/v1/merchant/transactions", params={"payer": ""})
    assert r.status_code == 400 and r.json()["error"]["field"] == "payer", r.text
    # The CSV download takes the same filter.
    r = d.boss.get("/api/v1/merchant/transactions", params={"payer": d.bob.phone,
                                                            "format": "csv"})
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and p[3]["id"] in rows[1], rows
    mine = page(d.alice.http, "/api/v1/me/payments", payer=d.bob.phone)["transactions"]
    assert ids(mine) == [p[4]["id"], p[2]["id"], p[1]["id"], p[0]["id"]]


def test_a_merchants_balance_history_shows_the_balance_after_each_movement(d):
    """The merchant's balance (merchant_pending) and its movements newest
    first, each with the posted balance after it: every payment in, its
    fee out; the newest row's balance is the balance now and each older
    one is the next newer minus that row's effect; pages of one give the
    same rows; a type filter (fee) keeps the running balance; a changed
    cursor or another merchant's is 400 invalid_field cursor; limit
    1..100; customers are refused; the merchant's staff may read it.
    req: FUNC-PAY-15"""
    s = d.s
    bal = page(d.boss, "/api/v1/merchant/balance")
    acc = s.query("SELECT credits_posted - debits_posted AS posted, debits_pending AS held "
                  "FROM ledger_account WHERE kind = 'merchant_pending' AND owner_id = 'mch_his'")[0]
    assert bal["posted"] == acc["posted"] and bal["held"] == acc["held"]
    assert bal["available"] == bal["posted"] - bal["held"] and bal["currency"] == "CNY"
    j = page(d.boss, "/api/v1/merchant/statement", limit=100)
    rows = j["items"]
    assert j["balance"] == bal and j["next_cursor"] is None
    assert rows[0]["balance"] == bal["posted"]
    for newer, older in zip(rows, rows[1:]):
        sign = 1 if newer["direction"] == "in" else -1
        assert older["balance"] == newer["balance"] - sign * newer["amount"], (newer, older)
    last = rows[-1]
    assert last["balance"] == (last["amount"] if last["direction"] == "in" else -last["amount"])
    pays = [(r["type"], r["direction"], r["amount"]) for r in rows if r["type"] == "payment"]
    assert pays == [("payment", "in", 5000), ("payment", "in", 4000), ("payment", "in", 2000),
                    ("payment", "in", 1000)]
    fees = [r for r in rows if r["direction"] == "out"]
    assert [r["amount"] for r in fees] == [50, 40, 20, 10]
    t = datetime.fromtimestamp(rows[0]["time_ms"] / 1000, CN)
    assert rows[0]["date"] == t.strftime("%Y-%m-%d") and rows[0]["time"] == t.strftime("%H:%M:%S")
    # Pages of one: the same rows and balances.
    got, cursor = [], None
    while True:
        q = {"limit": 1}
        if cursor:
            q["cursor"] = cursor
        pg = page(d.clerk, "/api/v1/merchant/statement", **q)
        got += pg["items"]
        cursor = pg.get("next_cursor")
        if not cursor:
            break
    assert got == rows
    # A type filter keeps the balance after each kept row.
    only = page(d.boss, "/api/v1/merchant/statement", type=fees[0]["type"])["items"]
    assert only == [r for r in rows if r["type"] == fees[0]["type"]]
    # [from, to) on the writer's time.
    mid = rows[2]["time_ms"]
    assert page(d.boss, "/api/v1/merchant/statement", to=mid)["items"] == \
        [r for r in rows if r["time_ms"] < mid]
    assert page(d.boss, "/api/v1/merchant/statement", **{"from": mid})["items"] == \
        [r for r in rows if r["time_ms"] >= mid]
    # Cursors: a changed balance, or another merchant's, are refused.
    c1 = page(d.boss, "/api/v1/merchant/statement", limit=1)["next_cursor"]
    lc, balance, mac = c1.split(".")
    for bad in ("%s.%d.%s" % (lc, int(balance) + 1, mac), c1[:-1] + ("0" if c1[-1] != "0" else "1"),
                "x.y.z"):
        r = d.boss.get("/api/v1/merchant/statement", params={"cursor": bad})
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
        assert r.json()["error"]["field"] == "cursor"
    r = d.boss2.get("/api/v1/merchant/statement", params={"cursor": c1})
    assert r.status_code == 400 and r.json()["error"]["field"] == "cursor", r.text
    for q, code, field in (({"limit": 0}, "field_out_of_range", "limit"),
                           ({"limit": 101}, "field_out_of_range", "limit"),
                           ({"type": "Fee!"}, "invalid_field", "type"),
                           ({"from": "x"}, "invalid_field", "from")):
        r = d.boss.get("/api/v1/merchant/statement", params=q)
        assert r.status_code == 400 and err(r) == code and r.json()["error"]["field"] == field, \
            r.text
    assert len(page(d.boss, "/api/v1/merchant/statement", limit=100)["items"]) == len(rows)
    for path in ("/api/v1/merchant/balance", "/api/v1/merchant/statement"):
        r = d.alice.http.get(path)
        assert r.status_code == 403 and err(r) == "forbidden", r.text
    # Another merchant sees its own only.
    other = page(d.boss2, "/api/v1/merchant/statement")["items"]
    assert [r["amount"] for r in other if r["type"] == "payment"] == [3000]


def test_cursors_page_through_and_are_bound_to_the_scope(d):
    """limit 1..100; pages of one give every row once in order; a changed
    cursor, or one from another merchant, is refused. req: FUNC-PAY-14"""
    rows, sizes = walk(d.boss, "/api/v1/merchant/transactions", 1)
    assert ids(rows) == ids(page(d.boss, "/api/v1/merchant/transactions")["transactions"])
    assert sizes == [1, 1, 1, 1]
    rows, sizes = walk(d.boss, "/api/v1/merchant/transactions", 3)
    assert sizes == [3, 1] and len(set(ids(rows))) == 4
    full = page(d.boss, "/api/v1/merchant/transactions", limit=4)
    assert "next_cursor" not in full or full["next_cursor"] is None
    for lim in ("0", "101", "x"):
        r = d.boss.get("/api/v1/merchant/transactions", params={"limit": lim})
        assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
    assert len(page(d.boss, "/api/v1/merchant/transactions", limit=100)["transactions"]) == 4
    cur = page(d.boss, "/api/v1/merchant/transactions", limit=1)["next_cursor"]
    ms, pid, mac = cur.split(".")
    forged = "%d.%s.%s" % (int(ms) + 60000, pid, mac)
    for c in (forged, cur[:-1] + ("0" if cur[-1] != "0" else "1"), "garbage"):
        r = d.boss.get("/api/v1/merchant/transactions", params={"cursor": c})
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
        assert r.json()["error"]["field"] == "cursor"
    # Another merchant (and a customer) cannot use mch_his's cursor.
    r = d.boss2.get("/api/v1/merchant/transactions", params={"cursor": cur})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    r = d.alice.http.get("/api/v1/me/payments", params={"cursor": cur})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    # The staff member of the same merchant can.
    r = d.clerk.get("/api/v1/merchant/transactions", params={"cursor": cur})
    assert r.status_code == 200 and len(r.json()["transactions"]) == 3


def test_operators_need_the_permission(d):
    """/admin/v1/transactions: an operator without pay.transaction.read is
    refused; a risk officer with it queries by customer and merchant.
    req: FUNC-PAY-14, IAM-RBAC-01, IAM-LP-01"""
    p = d.pays
    r = d.op.get("/admin/v1/transactions", params={"customer": d.alice.id})
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    got = page(d.risk, "/admin/v1/transactions", customer=d.alice.id)
    assert ids(got["transactions"]) == [p[4]["id"], p[2]["id"], p[1]["id"], p[0]["id"]]
    assert got["transactions"][0]["payer_id"] == d.alice.id
    got = page(d.risk, "/admin/v1/transactions", customer=d.alice.id, merchant="mch_his2")
    assert ids(got["transactions"]) == [p[2]["id"]]
    assert len(page(d.risk, "/admin/v1/transactions")["transactions"]) == 5
    r = d.risk.get("/admin/v1/transactions", params={"customer": "usr x"})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text


def parse_csv(r):
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="transactions.csv"'
    assert r.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(r.content.decode("utf-8")[1:], newline="")))


def test_csv_download_is_masked_neutralised_and_audited(d):
    """The same query as CSV (UTF-8 with BOM, CRLF, every cell quoted):
    masked counterparty, amounts in yuan, formula cells prefixed with ';
    the download audited with who, the filter and the rows. req:
    FUNC-PAY-16, DATA-MASK-04"""
    s = d.s
    before = len(downloads(s))
    r = d.boss.get("/api/v1/merchant/transactions", params={"format": "csv"})
    rows = parse_csv(r)
    assert rows[0] == ["date", "time", "type", "id", "order_id", "counterparty", "amount_cny",
                       "currency", "status", "subject", "fee_cny", "out_trade_no",
                       "out_refund_no", "destination"]
    body = rows[1:]
    assert [x[3] for x in body] == [d.pays[i]["id"] for i in (4, 3, 1, 0)]
    by_id = {x[3]: x for x in body}
    first = by_id[d.pays[0]["id"]]
    assert first[5] == "*三" and first[6] == "10.00" and first[7] == "CNY" and first[10] == "0.10"
    assert first[9] == "'=HYPERLINK(\"http://x\")"
    assert by_id[d.pays[1]["id"]][9] == "'+1 龙井"
    assert by_id[d.pays[3]["id"]][9] == "'-2 \"普洱\"" and by_id[d.pays[3]["id"]][5] == "*四"
    assert by_id[d.pays[4]["id"]][9] == "绿茶"
    # The merchant's own order number; a payment has no refund number or
    # destination.
    assert first[11:] == [d.pays[0]["order"]["out_trade_no"], "", ""]
    assert d.alice.id not in r.text and "张三" not in r.text
    recs = downloads(s)[before:]
    assert len(recs) == 1
    a = recs[0]
    det = json.loads(a["details"])
    boss_id = d.boss.get("/api/v1/me").json()["user"]["id"]
    assert a["outcome"] == "success" and a["actor_id"] == boss_id
    assert det["rows"] == 4 and det["merchant"] == "mch_his" and det["scope"] == "m:mch_his"
    # A customer's CSV: their own rows, the merchant's name, no fee column;
    # with a filter, recorded in the audit record.
    r = d.alice.http.get("/api/v1/me/payments",
                         params={"format": "csv", "counterparty": "mch_his2"})
    rows = parse_csv(r)
    assert rows[0] == ["date", "time", "type", "id", "order_id", "counterparty", "amount_cny",
                       "currency", "status", "subject", "destination"]
    assert [x[3] for x in rows[1:]] == [d.pays[2]["id"]]
    assert rows[1][5] == "茶叶小铺" and rows[1][9] == "'@SUM(A1)" and rows[1][10] == ""
    rec = downloads(s)[-1]
    det = json.loads(rec["details"])
    assert rec["actor_id"] == d.alice.id and det["rows"] == 1
    assert det["merchant"] == "mch_his2" and det["customer"] == d.alice.id
    # Operators' downloads are audited too.
    r = d.risk.get("/admin/v1/transactions", params={"format": "csv", "customer": d.bob.id})
    assert [x[3] for x in parse_csv(r)[1:]] == [d.pays[3]["id"]]
    assert json.loads(downloads(s)[-1]["details"])["customer"] == d.bob.id


def test_csv_row_limit(d):
    """A download has at most ANFU_LIMIT_PAY_CSV_ROWS rows (limit names a
    smaller cap); a query matching more is refused (narrow the range),
    audited as a failure, and no file is sent. req: FUNC-PAY-16"""
    s = d.s
    r = d.boss.get("/api/v1/merchant/transactions",
                   params={"format": "csv", "limit": str(CSV_ROWS + 1)})
    assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
    assert r.json()["error"]["field"] == "limit"
    r = d.boss.get("/api/v1/merchant/transactions",
                   params={"format": "csv", "limit": str(CSV_ROWS)})
    assert len(parse_csv(r)) == 1 + 4
    r = d.boss.get("/api/v1/merchant/transactions", params={"format": "csv", "limit": "4"})
    assert len(parse_csv(r)) == 1 + 4
    before = len(downloads(s))
    r = d.boss.get("/api/v1/merchant/transactions", params={"format": "csv", "limit": "3"})
    assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
    assert r.json()["error"]["field"] == "to"
    recs = downloads(s)[before:]
    assert len(recs) == 1 and recs[0]["outcome"] == "failure"
    assert json.loads(recs[0]["details"])["rows"] == 0
    # A CSV takes no cursor.
    cur = page(d.boss, "/api/v1/merchant/transactions", limit=1)["next_cursor"]
    r = d.boss.get("/api/v1/merchant/transactions", params={"format": "csv", "cursor": cur})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text


# ---- refunds in the history (wave 3) ----------------------------------------
# These run after the tests above (file order) and add refunds to the same
# server: the rows above stay as they are, refunds join them.

def refund_of(m, order_id, amount):
    r = m.post("/api/v1/merchant/orders/%s/refunds" % order_id,
               {"out_refund_no": "R" + uuid.uuid4().hex[:20], "amount": amount,
                "currency": "CNY", "reason": "退货"})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def hr(d):
    """Three refunds, a minute apart, after every payment: bob's order (p3)
    refunded in full, alice's p4 in part (both succeed: within the rules),
    and alice's request on p0 (requested: waits for the merchant)."""
    s, p = d.s, d.pays
    s.clock(advance_ms=60000)
    d.rb = refund_of(d.boss, p[3]["order"]["id"], 4000)
    s.clock(advance_ms=60000)
    d.ra = refund_of(d.boss, p[4]["order"]["id"], 1000)
    s.clock(advance_ms=60000)
    r = d.alice.http.post("/api/v1/me/orders/%s/refund-requests" % p[0]["order"]["id"],
                          {"amount": 500, "currency": "CNY", "reason": "不想要了"})
    assert r.status_code == 201, r.text
    d.rq = r.json()
    assert (d.rb["state"], d.ra["state"], d.rq["state"]) == \
        ("succeeded", "succeeded", "requested")
    return d


def test_refunds_are_rows_in_one_time_order_with_payments(hr):
    """A customer's, a merchant's and another merchant's history list
    refunds as their own rows (type refund: amount, state, the order; the
    merchant also its refund number; a succeeded one its receipt), newest
    first together with the payments. req: FUNC-PAY-14, FUNC-PAY-15"""
    d = hr
    p = [x["id"] for x in d.pays]
    ra, rb, rq = d.ra["id"], d.rb["id"], d.rq["id"]
    mine = page(d.alice.http, "/api/v1/me/payments")["transactions"]
    assert ids(mine) == [rq, ra, p[4], p[2], p[1], p[0]]
    assert ids(page(d.bob.http, "/api/v1/me/payments")["transactions"]) == [rb, p[3]]
    for m in (d.boss, d.clerk):
        assert ids(page(m, "/api/v1/merchant/transactions")["transactions"]) == \
            [rq, ra, rb, p[4], p[3], p[1], p[0]]
    assert ids(page(d.boss2, "/api/v1/merchant/transactions")["transactions"]) == [p[2]]
    row = page(d.boss, "/api/v1/merchant/transactions", limit=3)["transactions"][1]
    assert row["type"] == "refund" and row["id"] == ra and row["amount"] == 1000
    assert row["status"] == "succeeded" and row["currency"] == "CNY"
    assert row["order_id"] == d.pays[4]["order"]["id"]
    assert row["out_refund_no"] == d.ra["out_refund_no"] and row["fee"] == d.ra["fee_back"]
    assert row["receipt"] == {"kind": "refund", "ref": ra}
    assert row["counterparty"] == "*三" and d.alice.id not in json.dumps(row)
    assert row["destination"] == "wallet" and row["card"] is None
    assert "destination" not in page(d.boss, "/api/v1/merchant/transactions",
                                     type="payment", limit=1)["transactions"][0]
    first = page(d.boss, "/api/v1/merchant/transactions", limit=1)["transactions"][0]
    assert first["status"] == "requested" and "receipt" not in first
    # The customer: the merchant's name, no merchant refund number, no fee.
    c = mine[1]
    assert c["type"] == "refund" and c["counterparty"] == "茶叶小铺" and c["amount"] == 1000
    assert "out_refund_no" not in c and "fee" not in c
    assert c["destination"] == "wallet" and c["card"] is None
    assert c["receipt"] == {"kind": "refund", "ref": ra}
    # The receipt it names is the customer's to download.
    r = d.alice.http.get("/api/v1/me/receipts/refund/%s" % ra)
    assert r.status_code == 200, r.text
    # A payment's status stays its order's state now.
    assert mine[2]["type"] == "payment" and mine[2]["status"] == "partially_refunded"


def test_refund_rows_filter_by_type_status_time_and_party(hr):
    """type payment | refund, status (an order state for payments, a
    refund state for refunds), from/to on the refund's time, a customer's
    counterparty, an operator's customer and merchant. req: FUNC-PAY-14"""
    d = hr
    p = [x["id"] for x in d.pays]
    ra, rb, rq = d.ra["id"], d.rb["id"], d.rq["id"]
    mt = "/api/v1/merchant/transactions"
    assert ids(page(d.boss, mt, type="refund")["transactions"]) == [rq, ra, rb]
    assert ids(page(d.boss, mt, type="payment")["transactions"]) == [p[4], p[3], p[1], p[0]]
    assert ids(page(d.boss, mt, status="succeeded")["transactions"]) == [ra, rb]
    assert ids(page(d.boss, mt, status="requested")["transactions"]) == [rq]
    assert ids(page(d.boss, mt, status="refunded")["transactions"]) == [p[3]]
    assert page(d.boss, mt, type="payment", status="succeeded")["transactions"] == []
    t = d.ra["created_ms"]
    assert ids(page(d.boss, mt, **{"from": t, "to": t + 1})["transactions"]) == [ra]
    assert ids(page(d.alice.http, "/api/v1/me/payments", type="refund",
                    counterparty="mch_his2")["transactions"]) == []
    assert ids(page(d.alice.http, "/api/v1/me/payments", type="refund",
                    counterparty="mch_his")["transactions"]) == [rq, ra]
    got = page(d.risk, "/admin/v1/transactions", customer=d.bob.id)["transactions"]
    assert ids(got) == [rb, p[3]] and got[0]["payer_id"] == d.bob.id
    assert ids(page(d.risk, "/admin/v1/transactions", type="refund",
                    merchant="mch_his2")["transactions"]) == []
    assert ids(page(d.risk, "/admin/v1/transactions", type="refund")["transactions"]) == \
        [rq, ra, rb]
    r = d.op.get("/admin/v1/transactions", params={"type": "refund"})
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    for q, field in (({"type": "refunds"}, "type"), ({"status": "refunding"}, "status")):
        r = d.boss.get(mt, params=q)
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
        assert r.json()["error"]["field"] == field


def test_cursor_pages_through_payments_and_refunds(hr):
    """Pages of one walk payments and refunds in one order, each row once;
    the cursor of a refund row is bound to the scope like any. req:
    FUNC-PAY-14"""
    d = hr
    mt = "/api/v1/merchant/transactions"
    rows, sizes = walk(d.boss, mt, 1)
    assert ids(rows) == ids(page(d.boss, mt)["transactions"]) and sizes == [1] * 7
    rows, sizes = walk(d.alice.http, "/api/v1/me/payments", 4)
    assert sizes == [4, 2] and len(set(ids(rows))) == 6
    cur = page(d.boss, mt, limit=1)["next_cursor"]
    assert cur.split(".")[1] == d.rq["id"]
    r = d.boss2.get(mt, params={"cursor": cur})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    got = page(d.clerk, mt, cursor=cur)["transactions"]
    assert ids(got)[0] == d.ra["id"]


def test_csv_download_has_refund_rows_masked_and_audited(hr):
    """The CSV lists refund rows (type refund, its state, the amount in
    yuan, the fee given back), the payer masked; the download is audited
    with the type filter. req: FUNC-PAY-16, DATA-MASK-04"""
    d = hr
    s = d.s
    before = len(downloads(s))
    r = d.boss.get("/api/v1/merchant/transactions", params={"format": "csv", "type": "refund"})
    rows = parse_csv(r)
    assert rows[0][2] == "type" and len(rows) == 1 + 3
    by_id = {x[3]: x for x in rows[1:]}
    b = by_id[d.rb["id"]]
    assert b[2] == "refund" and b[4] == d.pays[3]["order"]["id"] and b[5] == "*四"
    assert b[6] == "40.00" and b[8] == "succeeded"
    assert b[10] == "%d.%02d" % (d.rb["fee_back"] // 100, d.rb["fee_back"] % 100)
    assert by_id[d.rq["id"]][8] == "requested"
    # What the merchant reconciles a refund by: the order's number, its own
    # refund number, where the money went (to the card: the card's tests).
    assert b[11:] == [d.pays[3]["order"]["out_trade_no"], d.rb["out_refund_no"], "wallet"]
    rq_no = d.boss.get("/api/v1/merchant/refunds/" + d.rq["id"]).json()["out_refund_no"]
    assert by_id[d.rq["id"]][12] == rq_no and rq_no.startswith("customer-")
    assert d.bob.id not in r.text and "李四" not in r.text
    recs = downloads(s)[before:]
    assert len(recs) == 1 and recs[0]["outcome"] == "success"
    det = json.loads(recs[0]["details"])
    assert det["type"] == "refund" and det["rows"] == 3 and det["scope"] == "m:mch_his"
    # A customer's file: their refunds and payments, the merchant's name.
    rows = parse_csv(d.bob.http.get("/api/v1/me/payments", params={"format": "csv"}))
    assert [(x[2], x[3]) for x in rows[1:]] == [("refund", d.rb["id"]),
                                                 ("payment", d.pays[3]["id"])]
    assert rows[1][5] == "茶叶小铺"
    assert rows[1][10] == "wallet" and rows[2][10] == ""
