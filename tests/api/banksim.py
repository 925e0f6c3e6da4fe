"""The simulator bank (anfu-banksim, src/banksim/) for the bank API tests:
a real process on its own data directory and port, its control API
(/sim/v1/...), and the anfud configuration that connects to it
(docs/bank.md, "The simulator").

    sim = BankSim(tmp_path)                 # started, port picked by the kernel
    s = make_server(config=sim.config())    # anfud with [bank] connector = simulator
    sim.peer(s)                             # where its callbacks go, anfud's key
    sim.add_card(number, name, idno, phone, balance)
    sim.behaviour(number, "decline")        # decline, fail, timeout, late, twice, replay
    sim.settle()                            # settle now and send the callbacks

Payments settle only when a test says so (settle()): no test sleeps for a
callback. Every simulator a test starts is stopped at teardown and must exit 0.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BUILD, assert_no_sanitizer_report, http_session

BANKSIM = os.path.join(BUILD, "src", "banksim", "anfu-banksim")


def luhn(prefix, length=16):
    """A Luhn-valid card number starting with prefix."""
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(len(digits) * 7 % 10)
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


class BankSim:
    """One anfu-banksim process."""

    def __init__(self, tmp_path, hang_ms=1500, bank_id="sim"):
        self.dir = tmp_path / "banksim"
        self.stderr_path = tmp_path / "banksim.stderr"
        self.bank_id = bank_id
        run_file = self.dir / "run" / "banksim.json"
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([BANKSIM, "--data", str(self.dir), "--port", "0",
                                      "--hang-ms", str(hang_ms), "--bank-id", bank_id],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 60
        while not run_file.exists():
            assert self.proc.poll() is None, "anfu-banksim exited: " + self.read_stderr()
            assert time.time() < deadline, "anfu-banksim did not start"
            time.sleep(0.02)
        info = json.loads(run_file.read_text())
        self.port = info["port"]
        self.cert = info["cert"]
        self.public_key = info["public_key"]
        self.http = http_session(self.cert)

    def read_stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def config(self, **bank):
        """The [bank] section of an anfud that uses this simulator."""
        sec = {"connector": "simulator", "bank_id": self.bank_id,
               "url": "https://127.0.0.1:%d" % self.port, "ca_file": self.cert,
               "public_key": self.public_key, "timeout_ms": "700"}
        sec.update({k: str(v) for k, v in bank.items()})
        return {"bank": sec}

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def post(self, path, body=None):
        return self.http.post(self.url(path), json=body, timeout=30)

    def get(self, path):
        return self.http.get(self.url(path), timeout=30)

    def peer(self, server):
        """Tells the simulator where anfud is and which key signs its requests."""
        r = self.post("/sim/v1/peer", {"url": "https://127.0.0.1:%d" % server.port,
                                       "ca_file": server.cert,
                                       "public_key": str(server.data / "keys" /
                                                         "bank-client.pub")})
        assert r.status_code == 200, r.text

    def add_card(self, number, holder_name, id_number, phone, balance=10000000):
        r = self.post("/sim/v1/cards", {"card_number": number, "holder_name": holder_name,
                                        "id_number": id_number, "phone": phone,
                                        "balance": balance})
        assert r.status_code == 201, r.text
        return r.json()

    def behaviour(self, number, mode, once=False):
        r = self.post("/sim/v1/behaviour", {"card_number": number, "behaviour": mode,
                                            "once": once})
        assert r.status_code == 200, r.text

    def sms(self, phone):
        r = self.get("/sim/v1/sms?phone=" + phone)
        assert r.status_code == 200, r.text
        return [m["text"] for m in r.json()["messages"]]

    def last_code(self, phone):
        texts = self.sms(phone)
        assert texts, "the bank sent no code to " + phone
        return texts[-1].rsplit(" ", 1)[1]

    def settle(self, serial=None, late=False):
        """Settles what is pending now and sends the callbacks: the list of
        {serial, status} (anfud's HTTP status for each callback)."""
        body = {"late": late}
        if serial:
            body["serial"] = serial
        r = self.post("/sim/v1/settle", body)
        assert r.status_code == 200, r.text
        return r.json()["callbacks"]

    def payment(self, serial):
        r = self.get("/sim/v1/payments/" + serial)
        assert r.status_code == 200, r.text
        return r.json()

    def clock(self, advance_ms):
        r = self.post("/sim/v1/clock", {"advance_ms": advance_ms})
        assert r.status_code == 200, r.text

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.proc = None
        self.stderr.close()
        assert_no_sanitizer_report("anfu-banksim", self.read_stderr())
        assert rc == 0, "anfu-banksim exited %d: %s" % (rc, self.read_stderr())


@pytest.fixture
def banksim(tmp_path):
    """A simulator bank of the test's own, stopped (exit 0) at teardown."""
    sim = BankSim(tmp_path)
    yield sim
    sim.stop()
