"""The pause points' test-hook route (src/api/testpause.c; docs/testing.md,
"Pause points"): POST /test/v1/pause/{name}/{action} arms a named point
(each arming numbered, for the log line a test waits for) or releases it
(a point no request reached is disarmed). A request stopping at a point is
shown by the pay race tests (tests/api/test_pay_race.py); the point's own
rules (one caller, bounded, not armed: no stop) by tests/unit/test_pausepoint.c.
"""


def hook(server, name, action):
    return server.post("/test/v1/pause/%s/%s" % (name, action))


def test_arm_numbers_each_arming_and_release_disarms(server):
    """Arm answers the point and a new number each time; release of an
    armed point no request reached disarms it (released), a second release
    finds nothing (released false)."""
    r = hook(server, "test.route", "arm")
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["name"] == "test.route" and first["arm"] >= 1
    r = hook(server, "test.route", "arm")
    assert r.status_code == 200 and r.json()["arm"] > first["arm"], r.text
    r = hook(server, "test.route", "resume")
    assert r.status_code == 200 and r.json() == {"name": "test.route", "released": True}
    r = hook(server, "test.route", "resume")
    assert r.status_code == 200 and r.json() == {"name": "test.route", "released": False}


def test_an_unknown_action_or_overlong_name_is_refused(server):
    """An action other than arm and release is 404; a name over 48 bytes
    (ANFU_LIMIT_PAUSE_NAME) is 400 field_out_of_range (field name), and
    nothing is armed."""
    r = hook(server, "test.route2", "wait")
    assert r.status_code == 404, r.text
    r = hook(server, "n" * 49, "arm")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "field_out_of_range"
    assert r.json()["error"]["field"] == "name"
    r = hook(server, "n" * 48, "arm")
    assert r.status_code == 200, r.text
    r = hook(server, "n" * 48, "resume")
    assert r.status_code == 200 and r.json()["released"] is True
    r = hook(server, "test.route2", "resume")
    assert r.status_code == 200 and r.json()["released"] is False
