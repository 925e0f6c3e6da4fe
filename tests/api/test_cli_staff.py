"""The host operator's staff commands: the first administrator on a second
`anfu init`, `anfu staff bootstrap` once a checker exists, and the
break-glass `anfu staff unlock`.

req: IAM-ADM-01, IAM-ACCT-10, IAM-LOCK-02, IAM-SOD-03, AUD-CNT-02
"""
import json

from iam import Client
from test_iam_admin import OFFICER_NEW, staff_login, staffed  # noqa: F401 (fixture)


def test_second_init_keeps_the_first_administrator(make_server):
    """req: IAM-ADM-01"""
    s = make_server(init_args=("--admin", "opsadmin"), start=False)
    p = s.cli_run("init", "--admin", "another")
    assert "exists already; none created" in p.stdout
    assert s.query("SELECT COUNT(*) AS n FROM iam_user WHERE kind = 'staff'")[0]["n"] == 1


def test_staff_bootstrap_is_refused_once_someone_can_approve(staffed):  # noqa: F811
    """Afterwards staff are created only by four-eyes approval. req: IAM-SOD-03"""
    s, *_ = staffed
    p = s.cli_run("staff", "bootstrap", "--name", "sneaky", "--role", "security_officer",
                  check=False)
    assert p.returncode == 1
    assert "someone can approve staff creation already; use the approval API" in p.stderr
    assert "initial password" not in p.stdout
    assert s.query("SELECT COUNT(*) AS n FROM iam_user WHERE kind = 'staff'")[0]["n"] == 2
    assert len(s.audit("user.bootstrap_staff")) == 1  # the officer's, from the fixture


def test_break_glass_unlock_of_a_locked_staff_account(staffed):  # noqa: F811
    """req: IAM-LOCK-02, AUD-CNT-02"""
    s, admin, admin_secret, officer, officer_secret = staffed
    c = Client(s, admin=True)
    for _ in range(3):
        assert c.login("secofficer", "Wr0ng#Passw9x").status_code == 401
    assert Client(s, admin=True).login("secofficer", OFFICER_NEW).status_code == 401
    p = s.cli_run("staff", "unlock", "--name", "secofficer")
    assert "unlocked" in p.stdout
    staff_login(s, "secofficer", OFFICER_NEW, officer_secret, device="console-2")
    rec = s.audit("user.unlocked")[-1]
    assert rec["actor_id"] == "system" and json.loads(rec["details"])["via"] == "cli"
    p = s.cli_run("staff", "unlock", "--name", "secofficer", check=False)
    assert p.returncode == 1 and "not locked" in p.stderr
    p = s.cli_run("staff", "unlock", "--name", "nobody", check=False)
    assert p.returncode == 1 and "no such staff account" in p.stderr
