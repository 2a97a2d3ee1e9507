#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-serve-media.py — `medsched serve` records sessions at booking times.

A store with three 10:00 bookings in rooms that have a test:// input in
the [media] group, and serve started with its clock at 10:29 (--now gives
serve a clock that starts there and ticks):

- booking 1 (note "recording: hearing", ends 10:30) is recorded at once
  and its recording is sealed by itself after the booking's end;
- booking 2 (mediation, the default; ends 11:00) is not recorded until its
  party consents, then is recorded; consent withdrawn stops and seals it,
  consent given again starts a second recording, which a private caucus
  (POST /api/v1/bookings/2/recordings {"caucus": true}, then false)
  pauses and resumes with both in its log, and SIGTERM to serve seals that
  before the process exits 0;
- booking 3 (hearing) is recorded and, cancelled while recording, stopped
  and sealed;
- the sealed recordings are served over HTTP to the clerk, and pass
  `recording verify`; a bad [media] group is refused before listening.
TAP."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from medtest import Tap, medsched_path, calendars_dir  # noqa: E402
from httptest import request  # noqa: E402

DOC = """{
 "rooms": [{"name": "温馨调解室一", "kind": "warm", "capacity": 8},
           {"name": "温馨调解室二", "kind": "warm", "capacity": 8},
           {"name": "温馨调解室三", "kind": "warm", "capacity": 8}],
 "mediators": [
   {"name": "扎西次仁", "languages": ["zh"], "specialties": ["wages"],
    "daily_cap": 24},
   {"name": "王芳", "languages": ["zh"], "specialties": ["wages"],
    "daily_cap": 24},
   {"name": "李明", "languages": ["zh"], "specialties": ["wages"],
    "daily_cap": 24}],
 "cases": [
   {"number": "S-1", "kind": "wages", "department": "court-mediation",
    "parties": [{"name": "甲", "role": "applicant", "language": "zh",
                 "contact": "13800000001"}]},
   {"number": "S-2", "kind": "wages", "department": "court-mediation",
    "parties": [{"name": "乙", "role": "applicant", "language": "zh",
                 "contact": "13800000002"}]},
   {"number": "S-3", "kind": "wages", "department": "court-mediation",
    "parties": [{"name": "丙", "role": "applicant", "language": "zh",
                 "contact": "13800000003"}]}]
}"""


def main():
    tap = Tap()
    exe = medsched_path(tap)
    with tempfile.TemporaryDirectory(prefix="medsched-serve-media-") as d:
        run(tap, exe, d)
    return tap.done()


def cli(tap, exe, db, *args, now="2026-12-07T08:00", check=True,
        stdin=None):
    env = dict(os.environ, MEDSCHED_NOW=now)
    p = subprocess.run([exe, "--db", db, *args], input=stdin,
                       capture_output=True, text=True, env=env, timeout=120)
    if check and p.returncode != 0:
        tap.bail("medsched %s: %s" % (" ".join(args), p.stderr))
    return p


def rows(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return {r[0]: {"booking": r[1], "state": r[2], "failure": r[3],
                       "dir": r[4]}
                for r in con.execute("SELECT id, booking_id, state, failure, "
                                     "dir FROM recording ORDER BY id")}
    finally:
        con.close()


def stop_detail(db, recording_id):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        r = con.execute("SELECT detail FROM recording_event WHERE "
                        "recording_id = ? AND kind = 'stop' ORDER BY id",
                        (recording_id,)).fetchall()
        return r[-1][0] if r else None
    finally:
        con.close()


def of_booking(db, booking):
    return [r for r in rows(db).values() if r["booking"] == booking]


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.25)
    return cond()


def run(tap, exe, d):
    db = os.path.join(d, "centre.db")
    media = os.path.join(d, "media")
    cli(tap, exe, db, "init", "--name", "测试调解中心", "--layers",
        "CN,CN-XZ-LS", "--calendars", calendars_dir())
    doc = os.path.join(d, "centre.json")
    with open(doc, "w", encoding="utf-8") as f:
        f.write(DOC)
    cli(tap, exe, db, "import", doc)
    for case, dur in ((1, 30), (2, 60), (3, 60)):
        cli(tap, exe, db, "book", str(case), "--at", "2026-12-07T10:00",
            "--room", str(case), "--mediator", str(case), "--duration",
            str(dur))
    cli(tap, exe, db, "booking", "note", "1", "recording: hearing")
    cli(tap, exe, db, "booking", "note", "3", "录制: hearing")
    cli(tap, exe, db, "user", "add", "clerk", "--role", "clerk",
        "--iterations", "1000", stdin="password-clerk\n")
    token = cli(tap, exe, db, "user", "token", "clerk").stdout.strip()
    # the mediator of booking 1 (not of booking 2)
    cli(tap, exe, db, "user", "add", "med1", "--role", "mediator",
        "--mediator", "1", "--iterations", "1000", stdin="password-med1\n")
    token_m1 = cli(tap, exe, db, "user", "token", "med1").stdout.strip()

    # a bad [media] group is refused before listening
    bad = os.path.join(d, "bad.conf")
    for text, want in (("room-1 = http://example.com/x\n", "room-1"),
                       ("room-x = test://video\n", "unknown key room-x"),
                       ("room-9 = test://video\n", "no such room"),
                       ("composite = maybe\n", "composite")):
        with open(bad, "w") as f:
            f.write("[server]\nlisten=127.0.0.1:0\n[media]\n" + text)
        p = cli(tap, exe, db, "serve", "--config", bad, "--media-dir", media,
                check=False)
        tap.ok(p.returncode == 1 and want in p.stderr
               and "listening" not in p.stdout,
               "bad [media] refused: %s" % text.strip(), p.stderr)
    tap.ok(rows(db) == {}, "nothing recorded by a refused config")

    conf = os.path.join(d, "serve.conf")
    with open(conf, "w") as f:
        f.write("[server]\nlisten=127.0.0.1:0\naccess-log=off\n"
                "[media]\nroom-1 = test://video\nroom-2 = test://video\n"
                "room-3 = test://video ; \n")
    env = dict(os.environ, MEDSCHED_NOW="2026-12-07T10:29")
    started = time.monotonic()
    proc = subprocess.Popen([exe, "--db", db, "serve", "--config", conf,
                             "--media-dir", media],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        if "listening on port" not in line:
            tap.bail("serve did not start: %s %s" % (line,
                                                     proc.stderr.read()))
        port = int(line.rsplit(" ", 1)[1])
        check_sessions(tap, exe, db, proc, port, (token, token_m1), started)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def events(db, recording_id):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return [tuple(r) for r in con.execute(
            "SELECT kind, detail FROM recording_event WHERE recording_id = ? "
            "ORDER BY id", (recording_id,))]
    finally:
        con.close()


def check_caucus(tap, db, port, token, token_m1):
    """A private caucus pauses booking 2's room recording (serve's) until
    it ends: POST /api/v1/bookings/2/recordings {"caucus": true|false}."""
    path = "/api/v1/bookings/2/recordings"
    rid = [i for i, r in rows(db).items()
           if r["booking"] == 2 and r["state"] == "recording"][0]
    st, _, body = request(port, "POST", path, token=token_m1,
                          body={"caucus": True})
    tap.ok(st == 403, "another booking's mediator may not hold its caucus",
           (st, body))
    for bad in ({"caucus": "yes"}, {"caucus": True, "x": 1}, [True]):
        st, _, body = request(port, "POST", path, token=token, body=bad)
        tap.ok(st in (400, 422) and rows(db)[rid]["state"] == "recording",
               "a bad caucus request is refused and changes nothing: %s"
               % json.dumps(bad), (st, body))
    st, _, body = request(port, "POST", path, token=token,
                          body={"caucus": True})
    tap.ok(st == 200 and json.loads(body) == {
        "booking_id": 2, "recording_id": rid, "caucus": True},
        "a caucus in booking 2's room recording", (st, body))
    tap.ok(wait_for(lambda: rows(db)[rid]["state"] == "paused", 5),
           "the recording is paused during the caucus", rows(db)[rid])
    st, _, body = request(port, "POST", path, token=token,
                          body={"caucus": True})
    tap.ok(st == 409, "a second caucus at once: 409", (st, body))
    st, _, body = request(port, "POST", "/api/v1/bookings/3/recordings",
                          token=token, body={"caucus": False})
    tap.ok(st == 409, "no caucus to end in booking 3: 409", (st, body))
    time.sleep(2)
    st, _, body = request(port, "POST", path, token=token,
                          body={"caucus": False})
    tap.ok(st == 200 and rows(db)[rid]["state"] == "recording",
           "the caucus ends: recording again", (st, body, rows(db)[rid]))
    ev = [e for e in events(db, rid) if e[0] in ("pause", "resume")]
    tap.ok(ev == [("pause", "private caucus"),
                  ("resume", "private caucus ended")],
           "the caucus is in the recording's interruption log", repr(ev))


def check_sessions(tap, exe, db, proc, port, tokens, started):
    token, token_m1 = tokens
    r1 = wait_for(lambda: [r for r in of_booking(db, 1)
                           if r["state"] == "recording"], 20)
    tap.ok(r1, "booking 1 (hearing) is recorded while it is in progress",
           rows(db))
    r3 = wait_for(lambda: [r for r in of_booking(db, 3)
                           if r["state"] == "recording"], 20)
    tap.ok(r3, "booking 3 (hearing, note in Chinese) is recorded", rows(db))
    tap.ok(of_booking(db, 2) == [], "booking 2 (mediation) waits for "
           "consent: nothing recorded", rows(db))
    tap.ok(all(os.path.basename(r["dir"]) == "booking-%d-1" % b
               for b in (1, 3) for r in of_booking(db, b)),
           "recordings go to <media-dir>/booking-<id>-<n>", rows(db))

    cli(tap, exe, db, "consent", "2", "2", "--given",
        now="2026-12-07T10:29")
    r2 = wait_for(lambda: [r for r in of_booking(db, 2)
                           if r["state"] == "recording"], 20)
    tap.ok(r2, "booking 2 is recorded once its party consented", rows(db))
    time.sleep(3)
    cli(tap, exe, db, "consent", "2", "2", "--refused",
        now="2026-12-07T10:29")
    w2 = wait_for(lambda: [r["state"] for r in of_booking(db, 2)]
                  == ["sealed"], 40)
    tap.ok(w2, "consent withdrawn: booking 2's recording stopped and sealed, "
           "none restarted", rows(db))
    cli(tap, exe, db, "consent", "2", "2", "--given",
        now="2026-12-07T10:29")
    r2 = wait_for(lambda: [r["state"] for r in of_booking(db, 2)]
                  == ["sealed", "recording"], 20)
    tap.ok(r2 and os.path.basename(of_booking(db, 2)[1]["dir"])
           == "booking-2-2", "consent given again: a second recording in "
           "booking-2-2", rows(db))

    check_caucus(tap, db, port, token, token_m1)
    cli(tap, exe, db, "cancel", "3", now="2026-12-07T10:29")
    s3 = wait_for(lambda: [r for r in of_booking(db, 3)
                           if r["state"] == "sealed"], 40)
    tap.ok(s3, "booking 3 cancelled while recording: stopped and sealed",
           rows(db))

    # booking 1 ends at 10:30, a minute after serve's clock started
    left = 60 - (time.monotonic() - started)
    s1 = wait_for(lambda: [r for r in of_booking(db, 1)
                           if r["state"] == "sealed"], max(left, 0) + 40)
    tap.ok(s1, "booking 1 sealed after its end", rows(db))
    tap.ok(len(of_booking(db, 1)) == 1, "one recording for booking 1, no "
           "restart after the seal", rows(db))
    tap.ok([r["state"] for r in of_booking(db, 2)] == ["sealed", "recording"],
           "booking 2 (until 11:00) still recording", rows(db))
    tap.ok(proc.poll() is None, "serve still running")

    rec1 = [i for i, r in rows(db).items() if r["booking"] == 1][0]
    st, h, body = request(port, "GET", "/recordings/%d/file" % rec1,
                          token=token)
    tap.ok(st == 200 and len(body) > 1000 and body[:4] == b"\x1a\x45\xdf\xa3"
           and h.get("content-type") == "video/x-matroska",
           "the sealed recording is served (Matroska)", (st, h))

    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    tap.ok(proc.returncode == 0, "serve exits 0 on SIGTERM", err[-2000:])
    tap.ok([r["state"] for r in of_booking(db, 2)] == ["sealed", "sealed"],
           "SIGTERM during booking 2's session sealed it", rows(db))
    # The interruption log says why serve stopped each recording.
    whys = {}
    for rid, r in sorted(rows(db).items()):
        whys.setdefault(r["booking"], []).append(stop_detail(db, rid))
    tap.ok(whys.get(1) == ["booking ended"]
           and whys.get(2) == ["a party withdrew consent", "server stopping"]
           and whys.get(3) == ["booking cancelled"],
           "each stop's reason is in its recording's interruption log",
           repr(whys))
    tap.ok("甲" not in err and "13800000001" not in err,
           "no party names or phone numbers in the log")
    for rid, r in sorted(rows(db).items()):
        p = cli(tap, exe, db, "recording", "verify", str(rid), check=False,
                now="2026-12-07T11:30")
        tap.ok(p.returncode == 0, "recording %d (booking %d) verifies"
               % (rid, r["booking"]), p.stdout + p.stderr)


if __name__ == "__main__":
    sys.exit(main())
