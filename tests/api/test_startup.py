"""What anfud says and does when it cannot or must not start: a listener
address already in use, and simulator gateways in a production build.

The production-build tests run the anfud of ANFU_PROD_BUILD_DIR (built with
-Dtest_hooks=false) on a data directory made by the test build's `anfu init`.
"""
import os
import socket

import pytest

from conftest import PROD_BUILD

PROD_ANFUD = os.path.join(PROD_BUILD, "anfud")


def needs_prod_build():
    if not os.path.exists(PROD_ANFUD):
        pytest.skip("production build not present (meson setup build -Dtest_hooks=false)")


def held_port():
    """A socket listening on 127.0.0.1 at a kernel-chosen port, and the port."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    return holder, holder.getsockname()[1]


def state(s):
    """What a refused start must leave as it was: the audit log and the run
    file."""
    return {"audit": len(s.audit()), "run": (s.data / "run" / "anfud.json").exists()}


@pytest.mark.parametrize("listener,section", [("main", "http"), ("admin", "admin")])
def test_port_in_use_names_the_listener_address_and_what_to_do(make_server, listener, section):
    """Another process holds the port: anfud exits non-zero and says which
    listener, which address and port, that it is in use, and what to do."""
    holder, port = held_port()
    try:
        s = make_server({section: {"port": str(port)}}, start=False)
        rc = s.start(expect_fail=True)
        err = s.read_stderr()
    finally:
        holder.close()
    assert rc == 1, err
    assert ("%s listener: address 127.0.0.1 port %d is already in use (EADDRINUSE)"
            % (listener, port)) in err, err
    assert "stop it, or choose a free port with [%s] port in %s" % (
        section, s.data / "anfu.conf") in err, err
    assert "EIO" not in err
    assert not (s.data / "run" / "anfud.json").exists()


def test_production_build_refuses_a_simulator_gateway(make_server):
    """The default sms.gateway is the simulator, which writes codes and phone
    numbers in clear: a production anfud refuses to start with it, says why
    and what to do, and changes nothing. req: SDLC-04, DATA-ENC-03"""
    needs_prod_build()
    s = make_server(start=False, binary=PROD_ANFUD)
    before = state(s)
    rc = s.start(expect_fail=True)
    err = s.read_stderr()
    assert rc == 1, err
    assert "refusing to start: sms.gateway = simulator names a simulator" in err, err
    assert "set `allow_simulators = true` under [server] in %s" % (s.data / "anfu.conf") in err
    assert state(s) == before
    assert not (s.data / "notify" / "sms-outbox.jsonl").exists()


def test_production_build_runs_allowed_simulators_with_warnings(make_server):
    """With [server] allow_simulators = true a production anfud starts, warns
    on stderr and in its log, and /readyz (still 200) lists the simulator.
    req: SDLC-04"""
    needs_prod_build()
    s = make_server({"server": {"allow_simulators": "true"}}, binary=PROD_ANFUD)
    err = s.read_stderr()
    assert ("anfud: warning: sms.gateway = simulator (allowed by [server] "
            "allow_simulators = true)") in err, err
    r = s.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"
    assert r.json()["warnings"] == [{"code": "simulator_gateway", "option": "sms.gateway"}]
    log = (s.data / "log" / "anfud.log").read_text()
    assert "server.simulator" in log and "sms.gateway = simulator" in log
    assert s.stop() == 0


def test_test_hooks_build_runs_simulators_with_warnings(make_server):
    """A test-hooks build starts with the simulator (its tests need it) but
    warns like a production build that allows it. req: SDLC-04"""
    s = make_server()
    assert "anfud: warning: sms.gateway = simulator (test-hooks build)" in s.read_stderr()
    assert s.get("/readyz").json()["warnings"] == [
        {"code": "simulator_gateway", "option": "sms.gateway"}]
