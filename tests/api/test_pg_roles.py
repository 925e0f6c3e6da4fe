"""The PostgreSQL roles of an installation (docs/deployment.md, "Roles"):
`anfu init --postgresql` makes an owner role that owns the schema and runs
the migrations and an application role that anfud connects as, which has
no UPDATE or DELETE on the append-only tables and no DDL.

Needs the server in ANFU_TEST_PG_DSN (a superuser on the throwaway cluster
scripts/test.sh starts); without it every test here skips and says why.
Each test gets a database and two roles of its own (roles are per cluster,
so their names carry the process id), dropped at teardown.
"""
import itertools
import os
import stat

import pytest

from conftest import (BASE_CONFIG, PG_DSN, Server, merge, pg_connect, run_cli,
                      write_config)

pytestmark = pytest.mark.skipif(not PG_DSN, reason="ANFU_TEST_PG_DSN is not set: "
                                "no PostgreSQL server for these tests")

_COUNTER = itertools.count()

# The tables whose rows nobody may change or delete (their triggers call
# anfu_append_only() on UPDATE and DELETE).
APPEND_ONLY = ["audit_log", "audit_checkpoint", "ledger_transfer", "ledger_batch"]


def superuser(dbname=None):
    c = pg_connect(dbname)
    c.autocommit = True
    return c


def connect_as(user, dbname):
    import psycopg2
    return psycopg2.connect("%s dbname=%s user=%s" % (PG_DSN, dbname, user))


def sql1(dbname, sql, *args):
    """One row of sql, run as the cluster's superuser."""
    c = superuser(dbname)
    try:
        with c.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone() if cur.description else None
    finally:
        c.close()


class Install:
    """A database, its two roles and a data directory configured for them
    (not initialised yet)."""

    def __init__(self, tmp_path):
        self.db = "anfu_roles_%d_%d" % (os.getpid(), next(_COUNTER))
        self.owner = self.db + "_owner"
        self.app = self.db + "_app"
        self.dir = tmp_path
        self.data = tmp_path / "data"
        self.admin_dsn = "%s dbname=%s" % (PG_DSN, self.db)
        self.database = {
            "backend": "postgresql",
            "dsn": "%s dbname=%s user=%s" % (PG_DSN, self.db, self.app),
            "owner_dsn": "%s dbname=%s user=%s" % (PG_DSN, self.db, self.owner),
        }
        c = superuser()
        with c.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)
            cur.execute("CREATE DATABASE %s" % self.db)
        c.close()
        self.data.mkdir(mode=0o700)
        write_config(self.data / "anfu.conf",
                     merge(BASE_CONFIG, {"server": {"crypto": "intl"},
                                         "database": self.database}))

    def server(self, init_args=()):
        """anfu init (with init_args) and an anfud on it, not started."""
        s = Server(self.dir, config={"database": self.database}, backend="sqlite",
                   init_args=init_args)
        s.pg_db = self.db  # query() reads this database (as the superuser)
        return s

    def roles(self):
        return {r[0]: r[1:] for r in self.query_all(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, "
            "rolreplication, rolbypassrls FROM pg_roles WHERE rolname IN (%s, %s)",
            self.owner, self.app)}

    def query_all(self, sql, *args):
        c = superuser(self.db)
        try:
            with c.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        finally:
            c.close()

    def drop(self):
        c = superuser()
        with c.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)
            for role in (self.owner, self.app):
                cur.execute("DROP ROLE IF EXISTS %s" % role)
        c.close()


@pytest.fixture
def inst(tmp_path):
    i = Install(tmp_path)
    servers = []
    i.servers = servers
    yield i
    errors = []
    for s in servers:
        try:
            s.assert_stopped_cleanly()
        except AssertionError as e:
            errors.append(str(e))
    i.drop()
    assert not errors, "\n\n".join(errors)


@pytest.fixture
def roles_server(inst):
    """An installation made by `anfu init --postgresql --admin-dsn`, its
    anfud started (as the application role)."""
    s = inst.server(("--postgresql", "--admin-dsn", inst.admin_dsn))
    inst.servers.append(s)
    s.start()
    return inst, s


@pytest.fixture(scope="module")
def stopped_roles_server(tmp_path_factory):
    """One installation made like roles_server's, with a transfer in the
    ledger, its anfud stopped: shared by the tests that only try what the
    application role may do and check that nothing changed."""
    inst = Install(tmp_path_factory.mktemp("roles"))
    s = inst.server(("--postgresql", "--admin-dsn", inst.admin_dsn))
    try:
        s.start()
        reserve = open_account(s, "bank_reserve", "bank", "ICBC")
        transfer(s, "k1", reserve, open_account(s, "customer_wallet", "customer", "u1"), 5)
        s.stop()
        yield inst, s
    finally:
        s.assert_stopped_cleanly()
        inst.drop()


def open_account(s, kind, owner_type, owner_id):
    r = s.post("/test/v1/ledger/accounts", {"kind": kind, "asset": "CNY",
                                            "owner_type": owner_type, "owner_id": owner_id})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def transfer(s, key, dr, cr, amount):
    r = s.post("/test/v1/ledger/transfers", {
        "caller": "roles", "idem_key": key, "debit_account": dr, "credit_account": cr,
        "amount": amount, "asset": "CNY", "code": "payment"})
    assert r.status_code == 200, r.text
    assert r.json()["code"] is None, r.text
    return r.json()["id"]


def snapshot(inst):
    """What a refused statement must leave as it was."""
    out = {}
    for t in APPEND_ONLY:
        out[t] = inst.query_all("SELECT md5(string_agg(x::text, ',' ORDER BY x::text)), "
                                "count(*) FROM %s x" % t)[0]
    return out


def test_init_creates_the_owner_and_the_application_role(inst):
    """req: IAM-LP-02"""
    s = inst.server(("--postgresql", "--admin-dsn", inst.admin_dsn))
    inst.servers.append(s)
    # Both can log in and have no attribute beyond that.
    assert inst.roles() == {inst.owner: (True, False, False, False, False, False),
                            inst.app: (True, False, False, False, False, False)}
    # The owner owns every table the migrations made.
    owners = inst.query_all("SELECT DISTINCT tableowner FROM pg_tables "
                            "WHERE schemaname = 'public'")
    assert owners == [(inst.owner,)]
    # Each role got a random password kept in a file only the owner reads;
    # it is in neither the output nor the command line.
    for name, role in (("db-owner-password", inst.owner), ("db-password", inst.app)):
        f = inst.data / name
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        pw = f.read_text().strip()
        assert len(pw) == 48 and pw not in s.init_out
        assert "db role      %s: password in %s (created)" % (role, f) in s.init_out
        verifier = inst.query_all("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                                  role)[0][0]
        assert verifier.startswith("SCRAM-SHA-256$")
    assert "db grants    owner %s, application role %s" % (inst.owner, inst.app) \
        in s.init_out


def test_init_again_keeps_the_roles_and_their_passwords(inst):
    s = inst.server(("--postgresql", "--admin-dsn", inst.admin_dsn))
    inst.servers.append(s)
    before = inst.query_all("SELECT rolname, rolpassword FROM pg_authid "
                            "WHERE rolname IN (%s, %s) ORDER BY 1", inst.owner, inst.app)
    p = run_cli("init", "--postgresql", "--admin-dsn", inst.admin_dsn, data=inst.data)
    assert "password in %s (exists, kept)" % (inst.data / "db-password") in p.stdout
    assert "0 migration(s) applied" in p.stdout
    after = inst.query_all("SELECT rolname, rolpassword FROM pg_authid "
                           "WHERE rolname IN (%s, %s) ORDER BY 1", inst.owner, inst.app)
    assert after == before


def test_print_sql_prints_the_roles_and_creates_nothing(inst):
    p = run_cli("init", "--postgresql", "--print-sql", data=inst.data)
    assert p.returncode == 0
    assert 'CREATE ROLE "%s" LOGIN' % inst.owner in p.stdout
    assert 'CREATE ROLE "%s" LOGIN' % inst.app in p.stdout
    assert 'ALTER SCHEMA public OWNER TO "%s"' % inst.owner in p.stdout
    for t in APPEND_ONLY:
        assert 'REVOKE UPDATE, DELETE ON public.%s FROM "%s"' % (t, inst.app) in p.stdout
    assert "PASSWORD" not in p.stdout.upper().replace("\\PASSWORD", "")
    assert inst.roles() == {}
    assert sorted(os.listdir(inst.data)) == ["anfu.conf"]


def test_print_sql_run_by_an_administrator_gives_the_same_privileges(inst):
    """The --print-sql path (psql as an administrator, then `anfu init` as
    the owner) ends where --admin-dsn ends."""
    p = run_cli("init", "--postgresql", "--print-sql", data=inst.data)
    c = superuser(inst.db)
    with c.cursor() as cur:
        cur.execute(p.stdout)
    c.close()
    s = inst.server()
    inst.servers.append(s)
    assert "db grants    owner %s" % inst.owner in s.init_out
    assert inst.query_all("SELECT has_table_privilege(%s, 'audit_log', 'UPDATE'), "
                          "has_table_privilege(%s, 'ledger_account', 'UPDATE'), "
                          "has_schema_privilege(%s, 'public', 'CREATE')",
                          inst.app, inst.app, inst.app) == [(False, True, False)]


@pytest.mark.parametrize("args, err", [
    (["--postgresql"], "--postgresql needs --print-sql or --admin-dsn DSN"),
    (["--print-sql"], "--print-sql, --admin-dsn and --readonly-role go with --postgresql"),
    (["--readonly-role", "ro"], "--print-sql, --admin-dsn and --readonly-role go with"),
    (["--postgresql", "--admin-dsn", "PASSWORD"], "contains a password"),
])
def test_init_postgresql_usage_errors_create_nothing(inst, args, err):
    args = [inst.admin_dsn + " password=secret" if a == "PASSWORD" else a for a in args]
    p = run_cli("init", *args, data=inst.data, check=False)
    assert p.returncode == 2
    assert err in p.stderr
    assert "secret" not in p.stderr + p.stdout
    assert inst.roles() == {}
    assert sorted(os.listdir(inst.data)) == ["anfu.conf"]


@pytest.mark.parametrize("name", ["Robert", "ro;drop", "OWNER", "APP"])
def test_init_postgresql_refuses_a_bad_readonly_role(inst, name):
    name = {"OWNER": inst.owner, "APP": inst.app}.get(name, name)
    p = run_cli("init", "--postgresql", "--print-sql", "--readonly-role", name,
                data=inst.data, check=False)
    assert p.returncode == 1
    assert "--readonly-role: a plain lower-case name other than" in p.stderr
    assert p.stdout == ""
    assert sorted(os.listdir(inst.data)) == ["anfu.conf"]


def test_config_check_refuses_a_password_in_owner_dsn(inst):
    write_config(inst.data / "anfu.conf", merge(BASE_CONFIG, {"database": dict(
        inst.database, owner_dsn=inst.database["owner_dsn"] + " password=secret")}))
    p = run_cli("config", "check", data=inst.data, check=False)
    assert p.returncode == 1
    assert "database dsn contains a password" in p.stderr + p.stdout
    assert "secret" not in p.stderr + p.stdout


def test_init_postgresql_refuses_a_configuration_without_owner_dsn(inst):
    write_config(inst.data / "anfu.conf", merge(BASE_CONFIG, {"database": {
        "backend": "postgresql", "dsn": inst.database["dsn"]}}))
    p = run_cli("init", "--postgresql", "--admin-dsn", inst.admin_dsn, data=inst.data,
                check=False)
    assert p.returncode == 1
    assert "needs [database] backend = postgresql, dsn" in p.stderr
    assert inst.roles() == {}


def test_anfud_runs_as_the_application_role(roles_server):
    """req: IAM-LP-02"""
    inst, s = roles_server
    assert s.get("/readyz").status_code == 200
    # A smoke flow: accounts and transfers (UPDATE of balances, INSERT into
    # the journal and the audit log) work with the application role's grants.
    reserve = open_account(s, "bank_reserve", "bank", "ICBC")
    w1 = open_account(s, "customer_wallet", "customer", "usr_r1")
    w2 = open_account(s, "customer_wallet", "customer", "usr_r2")
    transfer(s, "k1", reserve, w1, 500)
    transfer(s, "k2", w1, w2, 200)
    bal = {r["id"]: r["credits_posted"] - r["debits_posted"]
           for r in s.query("SELECT * FROM ledger_account")}
    assert bal[w1] == 300 and bal[w2] == 200
    users = inst.query_all("SELECT DISTINCT usename FROM pg_stat_activity "
                           "WHERE datname = %s AND application_name = 'anfud' "
                           "AND pid <> pg_backend_pid()", inst.db)
    assert users == [(inst.app,)]
    s.stop()
    assert run_cli("ledger", "verify", data=inst.data).stdout.startswith("OK: 2 transfers")
    assert run_cli("audit", "verify", data=inst.data).returncode == 0


@pytest.mark.parametrize("sql", [
    "UPDATE %s SET seq = seq",
    "DELETE FROM %s",
    "TRUNCATE %s",
])
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_application_role_cannot_change_append_only_tables(stopped_roles_server, table, sql):
    """req: IAM-LP-02, AUD-PROT-01 (audit_log, audit_checkpoint)"""
    import psycopg2
    inst, s = stopped_roles_server
    before = snapshot(inst)
    c = connect_as(inst.app, inst.db)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        with c.cursor() as cur:
            cur.execute(sql % table)
    c.close()
    assert snapshot(inst) == before


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_application_role_cannot_change_them_with_the_triggers_dropped(roles_server, table):
    """The privileges hold on their own: the owner drops the append-only
    triggers (which then no longer stop even the owner), and the
    application role still cannot update or delete a row.
    req: IAM-LP-02, AUD-PROT-01 (audit_log, audit_checkpoint)"""
    import psycopg2
    inst, s = roles_server
    reserve = open_account(s, "bank_reserve", "bank", "ICBC")
    transfer(s, "k1", reserve, open_account(s, "customer_wallet", "customer", "u1"), 5)
    s.stop()
    owner = connect_as(inst.owner, inst.db)
    owner.autocommit = True
    with owner.cursor() as cur:
        cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                    "AND NOT tgisinternal", (table,))
        triggers = [r[0] for r in cur.fetchall()]
        assert triggers
        for t in triggers:
            cur.execute("DROP TRIGGER %s ON %s" % (t, table))
    # The triggers are really gone: the owner could now change a row.
    owner.autocommit = False
    with owner.cursor() as cur:
        cur.execute("UPDATE %s SET seq = seq" % table)
        assert cur.rowcount > 0
    owner.rollback()
    owner.close()
    before = snapshot(inst)
    for sql in ("UPDATE %s SET seq = seq", "DELETE FROM %s", "TRUNCATE %s"):
        c = connect_as(inst.app, inst.db)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            with c.cursor() as cur:
                cur.execute(sql % table)
        c.close()
    assert snapshot(inst) == before


@pytest.mark.parametrize("sql", [
    "CREATE TABLE evil (x int)",
    "CREATE TEMP TABLE evil (x int)",
    "CREATE VIEW evil AS SELECT 1",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER USER",
    "ALTER TABLE ledger_account ADD COLUMN evil int",
    "DROP TABLE ledger_transfer",
    "CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    "INSERT INTO schema_version (module, version, name, applied_ms) VALUES ('x', 1, 'x', 0)",
])
def test_application_role_has_no_ddl(stopped_roles_server, sql):
    """req: IAM-LP-02"""
    import psycopg2
    inst, s = stopped_roles_server
    tables = inst.query_all("SELECT count(*) FROM pg_class")
    triggers = inst.query_all("SELECT count(*) FROM pg_trigger WHERE tgenabled = 'O'")
    c = connect_as(inst.app, inst.db)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        with c.cursor() as cur:
            cur.execute(sql)
    c.close()
    assert inst.query_all("SELECT count(*) FROM pg_class") == tables
    assert inst.query_all("SELECT count(*) FROM pg_trigger WHERE tgenabled = 'O'") == triggers
    assert inst.query_all("SELECT count(*) FROM schema_version WHERE module = 'x'") == [(0,)]


def test_every_append_only_trigger_is_backed_by_a_privilege(stopped_roles_server):
    """Every table whose trigger refuses UPDATE or DELETE (anfu_append_only,
    anfu_approval_archived for DELETE) is missing that privilege for the
    application role too, and nobody but the owner may TRUNCATE anything:
    a new append-only table left out of the list in src/cli/cmd_db_roles.c
    fails here. req: IAM-LP-02"""
    inst, s = stopped_roles_server
    rows = inst.query_all(
        "SELECT c.relname, p.proname, t.tgtype FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE NOT t.tgisinternal AND p.proname IN ('anfu_append_only', "
        "'anfu_approval_archived')")
    must_deny = set()
    for table, fn, tgtype in rows:
        if tgtype & 8:
            must_deny.add((table, "DELETE"))
        if tgtype & 16 and fn == "anfu_append_only":
            must_deny.add((table, "UPDATE"))
    assert ("audit_log", "UPDATE") in must_deny and ("ledger_batch", "DELETE") in must_deny
    assert ("iam_approval", "DELETE") in must_deny and ("audit_head", "DELETE") in must_deny
    for table, priv in sorted(must_deny):
        assert inst.query_all("SELECT has_table_privilege(%s, %s, %s)",
                              inst.app, table, priv) == [(False,)], (table, priv)
    assert inst.query_all(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' "
        "AND has_table_privilege(%s, c.oid, 'TRUNCATE')", inst.app) == [(0,)]
    # The other tables are the application's to change.
    for table in ("ledger_account", "iam_session", "audit_head", "ledger_head"):
        assert inst.query_all("SELECT has_table_privilege(%s, %s, 'UPDATE')",
                              inst.app, table) == [(True,)], table


def test_readonly_role_reads_every_table_and_changes_nothing(inst):
    """--readonly-role: a third account for read-only work (reports,
    auditors), beside the read-write application role. req: IAM-LP-02"""
    import psycopg2
    ro = inst.db + "_ro"
    try:
        s = inst.server(("--postgresql", "--admin-dsn", inst.admin_dsn,
                         "--readonly-role", ro))
        inst.servers.append(s)
        assert "db role      %s: read-only" % ro in s.init_out
        # The migrations ran after the role was made: default privileges
        # gave it every table, and nothing but SELECT.
        privs = inst.query_all(
            "SELECT c.relname, has_table_privilege(%s, c.oid, 'SELECT'), "
            "has_table_privilege(%s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'", ro, ro)
        assert len(privs) > 20
        assert [p for p in privs if p[1:] != (True, False)] == []
        audit = inst.query_all("SELECT count(*) FROM audit_log")
        c = connect_as(ro, inst.db)
        with c.cursor() as cur:
            cur.execute("SELECT count(*) FROM audit_log")
            assert [cur.fetchone()] == audit
        c.rollback()
        for sql in ("INSERT INTO iam_counter (name, value) VALUES ('x', 0)",
                    "UPDATE ledger_head SET last_ts_us = 1", "DELETE FROM iam_session",
                    "CREATE TABLE evil (x int)"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                with c.cursor() as cur:
                    cur.execute(sql)
            c.rollback()
        c.close()
        assert inst.query_all("SELECT count(*) FROM iam_counter WHERE name = 'x'") == [(0,)]
        assert inst.query_all("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                              "WHERE rolname = %s", ro) == [(False, False, False)]
    finally:
        # The database goes first: the role's privileges are in it.
        inst.drop()
        sql1(None, "DROP ROLE IF EXISTS %s" % ro)


def test_db_migrate_grants_again_as_the_owner(roles_server):
    """A grant that drifted (here given by hand) is taken back by the next
    `anfu db migrate`, which runs as the owner. req: IAM-LP-02"""
    inst, s = roles_server
    s.stop()
    sql1(inst.db, "GRANT UPDATE, DELETE ON audit_log TO %s" % inst.app)
    p = run_cli("db", "migrate", data=inst.data)
    assert p.stdout == ("migrations applied: 0\n"
                        "grants:             application role %s (owner %s)\n"
                        % (inst.app, inst.owner))
    assert inst.query_all("SELECT has_table_privilege(%s, 'audit_log', 'UPDATE'), "
                          "has_table_privilege(%s, 'audit_log', 'DELETE')",
                          inst.app, inst.app) == [(False, False)]


def test_anfud_refuses_to_start_on_a_schema_behind(roles_server):
    """With an owner role anfud never migrates (it could not: no DDL); a
    schema behind the binary stops it with the command that fixes it, and
    nothing is changed."""
    inst, s = roles_server
    s.stop()
    sql1(inst.db, "DELETE FROM schema_version WHERE module = 'ledger' AND version = 4")
    versions = inst.query_all("SELECT module, version FROM schema_version ORDER BY 1, 2")
    audit = inst.query_all("SELECT count(*), max(seq) FROM audit_log")
    rc = s.start(expect_fail=True)
    assert rc != 0
    err = s.read_stderr()
    assert "1 migration(s) of this anfu not applied" in err
    assert "the owner role runs them: `anfu db migrate`" in err
    assert inst.query_all("SELECT module, version FROM schema_version ORDER BY 1, 2") \
        == versions
    assert inst.query_all("SELECT count(*), max(seq) FROM audit_log") == audit
