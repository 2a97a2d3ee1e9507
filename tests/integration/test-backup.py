#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-backup.py — backups, restores and audit anchors through the medsched
command line, while `medsched serve` is running and writing.

A client keeps taking cases through the API while the nightly timer's
command line (`medsched --db DB backup --dir DIR --keep 14`) runs sixteen
times: every backup is one consistent snapshot that restores into a fresh
database, passes `check` and `audit verify --anchor` its own anchor, and
later backups hold more rows; fourteen are kept. A restore over the
database serve has open is refused and changes nothing; after serve stops
it replaces the database (the old one kept beside it) and serve starts on
it. Deleting the newest audit rows with the sqlite3 shell leaves the chain
whole (`audit verify` passes) but `audit verify --anchor` — with the
backup's anchor file or the ID:HASH serve logged — fails. Damaged and
tampered backups are refused, bad arguments are usage errors.

Prints TAP. Needs $MEDSCHED and $MEDSCHED_CALENDARS (meson test sets both).
"""

import os
import re
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from httptest import Centre, Server, Tap, json_of, request  # noqa: E402

KEEP = 14


class Writer(threading.Thread):
    """Takes cases through the API until stopped."""

    def __init__(self, port, token):
        super().__init__(daemon=True)
        self.port = port
        self.token = token
        self.written = 0
        self.errors = []
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        n = 0
        while not self.stop.is_set() and n < 5000:
            body = {"number": "B-%05d" % n, "kind": "wages",
                    "parties": [{"name": "乙%d" % n, "role": "applicant",
                                 "language": "zh",
                                 "contact": "1390000%04d" % n}]}
            try:
                st, _, data = request(self.port, "POST", "/api/v1/cases",
                                      token=self.token, body=body)
            except OSError as e:
                self.errors.append(repr(e))
                break
            if st == 201:
                with self.progress:
                    self.written += 1
                    self.progress.notify_all()
            elif st != 503:  # a busy store is retried
                self.errors.append("%d %s" % (st, data[:200]))
                break
            n += 1

    def wait_more(self, than, timeout=60):
        with self.progress:
            return self.progress.wait_for(lambda: self.written > than
                                          or self.errors, timeout)


def run(centre, *args, db=None):
    p = subprocess.run([centre.bin, "--db", db or centre.db, *args],
                       capture_output=True, text=True, env=centre.env,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def anchor_id(path):
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                return int(line.split(":", 1)[0])
    return -1


def sqlite3_shell(db, sql):
    return subprocess.run(["sqlite3", db, sql], capture_output=True,
                          text=True, timeout=60)


def main():
    tap = Tap()
    centre = Centre(tap, n_cases=4)
    try:
        test(tap, centre)
    finally:
        centre.close()
    return tap.done()


def test(tap, centre):
    bk = os.path.join(centre.dir, "backups")
    os.mkdir(bk)
    srv = Server(centre)
    writer = Writer(srv.port, centre.tokens["clerk"])
    writer.start()

    # the nightly timer's command line, sixteen times while cases arrive
    taken = []
    for i in range(16):
        tap.ok(writer.wait_more(writer.written), "writes go on (%d)" % i,
               writer.errors)
        rc, out, err = run(centre, "backup", "--dir", bk, "--keep",
                           str(KEEP))
        m = re.search(r"^backup (\S+)$", out, re.M)
        tap.ok(rc == 0 and m and "audit anchor " in out,
               "backup --dir --keep %d while serve writes (%d)" % (KEEP, i),
               out + err)
        if m:
            taken.append(m.group(1))
    writer.stop.set()
    writer.join(60)
    tap.ok(not writer.errors and writer.written >= 16,
           "the API took %d cases meanwhile" % writer.written, writer.errors)
    names = sorted(n for n in os.listdir(bk) if n.endswith(".db"))
    tap.ok(len(names) == KEEP and all(os.path.exists(os.path.join(
        bk, n + ".anchor")) for n in names),
           "%d backups kept, each with its anchor" % KEEP, repr(names))
    kept = [p for p in taken if os.path.exists(p)]
    tap.ok(kept == taken[-KEEP:], "the newest ones", repr((kept, taken)))
    ids = [anchor_id(p + ".anchor") for p in kept]
    tap.ok(all(a < b for a, b in zip(ids, ids[1:])),
           "each backup holds more audit rows than the one before", repr(ids))

    # every kept backup restores, checks and verifies against its anchor
    good = 0
    for i, path in enumerate(kept):
        target = os.path.join(centre.dir, "r%d.db" % i)
        rc, out, err = run(centre, "restore", path, "--db", target)
        rc2, out2, err2 = run(centre, "check", db=target)
        rc3, out3, err3 = run(centre, "audit", "verify", "--anchor",
                              path + ".anchor", db=target)
        good += (rc == 0 and "with its anchor" in out and rc2 == 0
                 and rc3 == 0 and "still holding" in out3)
        if rc or rc2 or rc3:
            tap.diag(out + err + out2 + err2 + out3 + err3)
    tap.ok(good == len(kept), "%d of %d backups restore and pass check and "
           "audit verify --anchor" % (good, len(kept)))

    # a restore over the database serve has open is refused
    before = run(centre, "audit", "verify")[1]
    rc, out, err = run(centre, "restore", kept[0])
    tap.ok(rc == 1 and "in use" in err and "nothing was changed" in err,
           "restore refuses a database in use", out + err)
    st, _, body = request(srv.port, "GET", "/api/v1/cases",
                          token=centre.tokens["clerk"])
    tap.ok(st == 200 and len(json_of(body) or []) == 4 + writer.written
           and run(centre, "audit", "verify")[1] == before,
           "serve and its data are untouched")
    tap.ok(not [n for n in os.listdir(centre.dir)
                if ".restore-" in n or ".replaced-" in n],
           "and nothing was left beside it")
    rc, err = srv.stop()
    tap.ok(rc == 0, "serve stops", err)
    logged = re.findall(r"audit anchor (\d+:[0-9a-f]{64})", err)
    tap.ok(len(logged) == 1, "serve logged the audit anchor once at start",
           err)

    # the newest audit rows deleted with the sqlite3 shell
    victim = os.path.join(centre.dir, "r%d.db" % (len(kept) - 1))
    p = sqlite3_shell(victim, "DROP TRIGGER audit_no_delete; DELETE FROM "
                      "audit WHERE id > (SELECT max(id) - 3 FROM audit);")
    tap.ok(p.returncode == 0, "sqlite3 deletes the last three audit rows",
           p.stderr)
    rc, out, err = run(centre, "audit", "verify", db=victim)
    tap.ok(rc == 0 and "intact" in out,
           "plain audit verify cannot tell", out + err)
    rc, out, err = run(centre, "audit", "verify", "--anchor",
                       kept[-1] + ".anchor", db=victim)
    tap.ok(rc == 1 and "newest rows were removed" in err,
           "audit verify --anchor FILE can", out + err)
    with open(kept[-1] + ".anchor") as f:
        pair = [line.strip() for line in f if line[0] != "#"][0]
    rc, out, err = run(centre, "audit", "verify", "--anchor", pair,
                       db=victim)
    tap.ok(rc == 1 and "newest rows were removed" in err,
           "and --anchor ID:HASH", out + err)
    rc, out, err = run(centre, "restore", kept[-1], "--db",
                       os.path.join(centre.dir, "fine.db"))
    tap.ok(rc == 0, "the untouched backup still restores", out + err)
    # serve's logged anchor against the live database and the victim
    if logged:
        rc, out, err = run(centre, "audit", "verify", "--anchor", logged[0])
        tap.ok(rc == 0, "the live database holds the anchor serve logged",
               out + err)
        cut = os.path.join(centre.dir, "cut.db")
        shutil.copy(centre.db, cut)
        sqlite3_shell(cut, "DROP TRIGGER audit_no_delete; DELETE FROM audit "
                      "WHERE id >= %s;" % logged[0].split(":")[0])
        rc, out, err = run(centre, "audit", "verify", "--anchor", logged[0],
                           db=cut)
        rc0 = run(centre, "audit", "verify", db=cut)[0]
        tap.ok(rc == 1 and rc0 == 0 and "newest rows were removed" in err,
               "a copy cut back past serve's anchor fails only with it",
               out + err)

    # tampered and damaged backups are refused, the database unchanged
    forged = os.path.join(centre.dir, "forged.db")
    shutil.copy(kept[-1], forged)
    p = sqlite3_shell(forged, "DROP TRIGGER booking_no_overlap_insert; "
                      "INSERT INTO booking (case_id, room_id, mediator_id, "
                      "start_at, end_at, block_start, block_end, mode, "
                      "status, uid, sequence, created_at, updated_at) "
                      "VALUES (1, 1, 1, 100, 200, 100, 200, 'in-person', "
                      "'confirmed', 'f1', 0, 0, 0), (2, 1, 2, 150, 250, 150, "
                      "250, 'in-person', 'confirmed', 'f2', 0, 0, 0);")
    tap.ok(p.returncode == 0, "sqlite3 forges two overlapping bookings",
           p.stderr)
    head = run(centre, "audit", "verify")[1]
    rc, out, err = run(centre, "restore", forged)
    tap.ok(rc != 0 and "fails its checks" in err and "room" in err,
           "restore refuses a backup with overlapping bookings", out + err)
    junk = os.path.join(centre.dir, "junk.db")
    with open(junk, "wb") as f:
        f.write(b"SQLite format 3\x00" + os.urandom(5000))
    rc, out, err = run(centre, "restore", junk)
    tap.ok(rc == 1 and err.startswith("medsched: ") and "CRITICAL" not in err,
           "restore refuses a damaged file", out + err)
    rc, out, err = run(centre, "restore", os.path.join(centre.dir, "nope"))
    tap.ok(rc == 1 and "no such backup" in err, "and a missing one", err)
    tap.ok(run(centre, "audit", "verify")[1] == head
           and not [n for n in os.listdir(centre.dir) if ".restore-" in n],
           "none of that changed the database or left files")

    # serve stopped: the restore replaces the database, serve runs on it
    n_cases = len(json_of(subprocess.run(
        [centre.bin, "--db", os.path.join(centre.dir, "fine.db"), "case",
         "list", "--json"], capture_output=True, env=centre.env).stdout) or [])
    rc, out, err = run(centre, "restore", kept[-1])
    m = re.search(r"kept as (\S+)", out)
    tap.ok(rc == 0 and m and os.path.exists(m.group(1)),
           "restore replaces the stopped database and keeps the old one",
           out + err)
    rc, out, err = run(centre, "audit", "verify", "--anchor",
                       kept[-1] + ".anchor")
    tap.ok(rc == 0 and run(centre, "check")[0] == 0,
           "the restored database passes check and its anchor", out + err)
    srv = Server(centre)
    st, _, body = request(srv.port, "GET", "/api/v1/cases",
                          token=centre.tokens["clerk"])
    tap.ok(st == 200 and len(json_of(body) or []) == n_cases > 4,
           "serve runs on the restored database (%d cases)" % n_cases,
           body[:300])
    rc, err = srv.stop()
    tap.ok(rc == 0, "and stops cleanly", err)

    # usage errors
    for args, what in ((["backup"], "backup without FILE or --dir"),
                       (["backup", "x.db", "--dir", bk], "FILE and --dir"),
                       (["backup", "x.db", "--keep", "3"], "--keep without "
                        "--dir"),
                       (["backup", "--dir", bk, "--keep", "-1"], "--keep -1"),
                       (["restore"], "restore without FILE"),
                       (["audit", "verify", "--anchor", "12:zz"],
                        "a malformed anchor")):
        rc, out, err = run(centre, *args)
        tap.ok(rc == 2 and "CRITICAL" not in err, what + " is a usage error",
               out + err)
    rc, out, err = run(centre, "backup", kept[-1])
    tap.ok(rc == 1 and "never replaces" in err,
           "backup refuses to overwrite a file", err)


if __name__ == "__main__":
    sys.exit(main())
