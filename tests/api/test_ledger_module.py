"""The ledger module in a running anfud: its metrics on /metrics, its
jobs, wallets opened for customers (src/ledger/jobs.c, metrics.c).

The transfer rules themselves are proved in tests/unit/test_ledger.c (no
HTTP route submits transfers yet)."""
import re
import time

from iam import login_customer, register
from test_ledger_crash import open_account

FAMILIES = {
    "anfu_ledger_batch_transfers": "histogram",
    "anfu_ledger_batch_duration_seconds": "histogram",
    "anfu_ledger_batches_total": "counter",
    "anfu_ledger_transfers_total": "counter",
    "anfu_ledger_batch_waits_total": "counter",
    "anfu_ledger_queue_depth": "gauge",
    "anfu_ledger_refusals_total": "counter",
}
REFUSALS = ["account_not_found", "account_frozen", "account_closed", "asset_mismatch",
            "same_account", "amount_invalid", "insufficient_funds", "credit_limit_exceeded",
            "overflow", "idempotency_conflict", "pending_not_found", "pending_not_pending",
            "pending_amount_exceeded", "pending_mismatch", "linked_event_failed"]


def sample(text, name):
    m = re.findall(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert len(m) == 1, (name, text)
    return float(m[0])


def test_metrics_show_the_ledger_families(server):
    """/metrics (admin listener) has every ledger family with its type, a
    counter per refusal code, and the histograms' buckets consistent with
    their counts."""
    text = server.get("/metrics", admin=True).text
    for name, kind in FAMILIES.items():
        assert "# TYPE %s %s\n" % (name, kind) in text, name
    for code in REFUSALS:
        assert sample(text, 'anfu_ledger_refusals_total{code="%s"}' % code) >= 0
    assert sample(text, "anfu_ledger_queue_depth") >= 0
    assert sample(text, "anfu_ledger_batch_waits_total") >= 0
    committed = sample(text, 'anfu_ledger_batches_total{outcome="committed"}')
    assert sample(text, 'anfu_ledger_batch_transfers_bucket{le="+Inf"}') == committed
    assert sample(text, "anfu_ledger_batch_transfers_count") == committed
    assert sample(text, "anfu_ledger_batch_duration_seconds_count{}") >= committed
    assert sample(text, "anfu_ledger_transfers_total") == \
        sample(text, "anfu_ledger_batch_transfers_sum")


def test_a_registered_customer_gets_a_wallet_and_a_points_account(server):
    """req: FUNC-ACCT-05 — registration opens the customer's CNY wallet and
    points account (iam's post-commit call to the ledger), each audited
    once as the system; before the registration the customer has none."""
    before = server.query("SELECT count(*) AS n FROM ledger_account")[0]["n"]
    _, phone = register(server)
    uid = login_customer(server, phone).get("/api/v1/me").json()["user"]["id"]
    rows = server.query("SELECT kind, asset, owner_type, state, flags, debits_pending, "
                        "debits_posted, credits_pending, credits_posted, id "
                        "FROM ledger_account WHERE owner_id = ? ORDER BY kind", uid)
    assert [(r["kind"], r["asset"], r["owner_type"], r["state"]) for r in rows] == [
        ("customer_points", "POINTS", "customer", "normal"),
        ("customer_wallet", "CNY", "customer", "normal")]
    for r in rows:
        assert r["flags"] == 1  # debits must not exceed credits
        assert (r["debits_pending"], r["debits_posted"], r["credits_pending"],
                r["credits_posted"]) == (0, 0, 0, 0)
        audits = server.query("SELECT actor_id FROM audit_log WHERE action = "
                              "'ledger.account_opened' AND object_id = ?", r["id"])
        assert [a["actor_id"] for a in audits] == ["system"]
    assert server.query("SELECT count(*) AS n FROM ledger_account")[0]["n"] == before + 2


def test_customers_without_accounts_get_them_when_the_ledger_starts(make_server):
    """req: FUNC-ACCT-05 — a customer whose accounts are missing (from
    before the ledger, or a crash between the registration's commit and
    its call) gets both at the next start of anfud (the module's wallet
    sweep), audited as the system."""
    s = make_server()
    _, phone = register(s)
    uid = login_customer(s, phone).get("/api/v1/me").json()["user"]["id"]
    assert len(s.query("SELECT id FROM ledger_account WHERE owner_id = ?", uid)) == 2
    s.stop()
    with s.rw() as c:
        c.execute("DELETE FROM ledger_account WHERE owner_id = ?", uid)
    assert s.query("SELECT id FROM ledger_account WHERE owner_id = ?", uid) == []
    s.start()
    rows = s.query("SELECT kind, asset FROM ledger_account WHERE owner_id = ? ORDER BY kind",
                   uid)
    assert [(r["kind"], r["asset"]) for r in rows] == [("customer_points", "POINTS"),
                                                       ("customer_wallet", "CNY")]
    audits = s.query("SELECT actor_id FROM audit_log WHERE action = 'ledger.account_opened' "
                     "AND object_id IN (SELECT id FROM ledger_account WHERE owner_id = ?)",
                     uid)
    assert [a["actor_id"] for a in audits] == ["system", "system"]


def _batches(s):
    text = s.get("/metrics", admin=True).text
    return sample(text, 'anfu_ledger_batches_total{outcome="committed"}')


def _wait_expiry_pass(s, before):
    """Waits until the writer committed a batch after `before` (the only
    writer requests meanwhile are the expiry job's passes, which the clock
    move made due, when the test holds every other job): the job's pass,
    not a time, is what is awaited."""
    for _ in range(3000):
        if _batches(s) > before:
            return
        time.sleep(0.01)
    raise AssertionError("no ledger.hold_expiry pass after the clock moved")


def test_the_expiry_job_closes_due_holds_in_a_running_server(make_server):
    """req: FUNC-PAY-03 — in anfud, the scheduler's ledger.hold_expiry job
    closes holds on the injectable clock: before the timeout a run leaves
    them pending; past it the void-on-timeout hold is 'expired' (its
    amount back in the wallet) and the post-on-timeout hold 'posted' (the
    merchant credited), each by a 'ledger.expiry' journal row audited as
    the system; a caller can no longer void it."""
    s = make_server()
    reserve = open_account(s, "bank_reserve", "CNY", "bank", "ICBC")
    wallet = open_account(s, "customer_wallet", "CNY", "customer", "usr_e1")
    merchant = open_account(s, "merchant_pending", "CNY", "merchant", "mer_e1")

    def submit(**kw):
        body = {"caller": "t", "asset": "CNY", "code": "payment"}
        body.update(kw)
        r = s.post("/test/v1/ledger/transfers", body)
        assert r.status_code == 200, r.text
        return r.json()

    # Every other job held: the expiry job's passes are then the only
    # writer batches the clock moves below cause (_wait_expiry_pass).
    s.hold_jobs(*[r["name"] for r in s.query("SELECT name FROM job_schedule")
                  if r["name"] != "ledger.hold_expiry"])
    now = s.clock(freeze=True)
    assert submit(idem_key="fund", debit_account=reserve, credit_account=wallet,
                  amount=100)["code"] is None
    void = submit(idem_key="h1", debit_account=wallet, credit_account=merchant, amount=30,
                  flags=2, timeout_ms=60000, on_timeout="void")
    post = submit(idem_key="h2", debit_account=wallet, credit_account=merchant, amount=20,
                  flags=2, timeout_ms=60000, on_timeout="post")
    assert void["code"] is None and post["code"] is None
    b = _batches(s)
    s.clock(advance_ms=59999)
    _wait_expiry_pass(s, b)
    holds = {h["transfer_id"]: h["state"] for h in s.query("SELECT * FROM ledger_hold")}
    assert holds == {void["id"]: "pending", post["id"]: "pending"}
    b = _batches(s)
    s.clock(advance_ms=1000)
    _wait_expiry_pass(s, b)
    holds = {h["transfer_id"]: h["state"] for h in s.query("SELECT * FROM ledger_hold")}
    assert holds == {void["id"]: "expired", post["id"]: "posted"}
    acc = {a["id"]: a for a in s.query("SELECT * FROM ledger_account")}
    assert (acc[wallet]["debits_pending"], acc[wallet]["debits_posted"],
            acc[wallet]["credits_posted"]) == (0, 20, 100)
    assert (acc[merchant]["credits_pending"], acc[merchant]["credits_posted"]) == (0, 20)
    closing = s.query("SELECT id, pending_id, flags, amount FROM ledger_transfer "
                      "WHERE caller = 'ledger.expiry' ORDER BY pending_id")
    assert sorted((c["pending_id"], c["flags"], c["amount"]) for c in closing) == sorted(
        [(void["id"], 8, 30), (post["id"], 4, 20)])
    for c in closing:
        audits = s.query("SELECT actor_id FROM audit_log WHERE action = 'ledger.transfer' "
                         "AND object_id = ?", c["id"])
        assert [a["actor_id"] for a in audits] == ["system"]
    late = submit(idem_key="v1", debit_account=wallet, credit_account=merchant, amount=0,
                  flags=8, pending_id=void["id"])
    assert late["code"] == "pending_not_pending"
    assert now > 0
