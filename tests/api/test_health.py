"""/healthz, /readyz and /metrics.

They are what an external monitor polls; the log-audit subsystem
(AUD-SYS-01) and alarmed 7x24 monitoring (RISK-MON-05) do not exist yet
(docs/security.md, "Requirements not yet met").
"""
import re


def test_readyz_reports_each_check(server):
    r = server.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready",
                        "checks": {"database": "ok", "schema": "ok", "audit": "ok"},
                        # The test build runs the SMS simulator (test_startup.py).
                        "warnings": [{"code": "simulator_gateway", "option": "sms.gateway"}]}


def test_metrics_are_prometheus_text(server):
    server.get("/healthz")
    server.get("/api/v1/nope")
    r = server.get("/metrics", admin=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert re.search(r'^anfu_http_requests_total\{method="GET",route="/healthz",status="200"\} \d+$',
                     text, re.M)
    assert re.search(r'^anfu_http_requests_total\{method="[A-Z]*",route="unmatched",status="404"\} \d+$',
                     text, re.M)
    assert re.search(r'^anfu_http_request_duration_seconds_bucket\{method="GET",route="/healthz",'
                     r'le="\+Inf"\} \d+$', text, re.M)
    assert re.search(r"^anfu_db_commit_duration_seconds_count\{\} \d+$", text, re.M)
    if server.pg_db is None:  # SQLite: the process's write lock
        m = re.search(r"^anfu_db_write_lock_wait_seconds_count\{\} (\d+)$", text, re.M)
        assert m and int(m.group(1)) >= 1
    m = re.search(r"^anfu_audit_chain_length (\d+)$", text, re.M)
    assert m and int(m.group(1)) >= 5


def test_metrics_are_served_only_on_the_admin_listener(server):
    """Operational data stays behind the admin allow-list. req: IAM-ADM-02"""
    assert server.get("/metrics", admin=True).status_code == 200
    assert server.get("/metrics").status_code == 404
