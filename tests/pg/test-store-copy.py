#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-store-copy.py — `medsched store copy` moves a centre between a
SQLite file and PostgreSQL without losing a row.

A realistic province is built in a SQLite file: a centre the way
scripts/demo builds its own (scripts/demo-data.py: four rooms, six
mediators, an interpreter, thirty cases; every case dispatched, two days
scheduled, sessions held and settled, e-mail addresses, a note, leave,
users with tokens and sessions, feed links, a revoked join link, consent,
the outbox delivered through a stand-in MTA so that the ledger has rows, a
recording with its segments and events), and a second centre beside it
(`centre add`: rooms, mediators, cases, a day scheduled, a user with a
token, a feed link). It is copied into an empty PostgreSQL database and
from there into a new file. The three stores must hold the same rows in every table
(ids, the audit chain's hashes, password and token hashes, the join
secret), each must pass `check` and `audit verify`, and the same commands
must give the same answers (agenda, a party's invite with its join link).
A copy into a store that is not empty, over an existing file, or of a
source with a table the copy does not know is refused and writes nothing.

Runs under tests/pg/pgserver.py (suite postgresql). TAP."""

import difflib
import json
import os
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from medtest import (Med, StdinText, Tap, medsched_path,  # noqa: E402
                     new_db, psql, tempdir)

# Every table a store copy moves; the order does not matter here.
TABLES = ["centre", "room", "mediator", "mediator_leave", "interpreter",
          "mcase", "party", "booking", "calendar_notice", "calendar_day",
          "audit", "attendee_status", "outbox", "outbox_ledger",
          "external_busy", "app_user", "api_token", "web_session",
          "capability", "join_revoked", "join_generation", "recording",
          "recording_segment",
          "consent", "recording_event", "retention"]
NULL = "\\N"


def sqlite_columns(path, table):
    con = sqlite3.connect(path)
    try:
        return [r[1] for r in con.execute("PRAGMA table_info(%s)" % table)]
    finally:
        con.close()


def hexed(v):
    return NULL if v is None else str(v).encode("utf-8").hex()


def dump(db, columns):
    """Every row of every table as sorted tuples of strings (hex of the
    UTF-8 text of each value: notes and messages span lines)."""
    out = {}
    for table in TABLES:
        cols = columns[table]
        if db.startswith("postgresql://"):
            sel = ", ".join("CASE WHEN %s IS NULL THEN '%s' ELSE "
                            "encode(convert_to(%s::text, 'UTF8'), 'hex') END"
                            % (c, NULL, c) for c in cols)
            rows = psql(db, "SELECT %s FROM %s" % (sel, table))
            out[table] = sorted(tuple(r) for r in rows)
        else:
            con = sqlite3.connect(db)
            try:
                rows = con.execute("SELECT %s FROM %s"
                                   % (", ".join(cols), table)).fetchall()
            finally:
                con.close()
            out[table] = sorted(tuple(hexed(v) for v in r) for r in rows)
    secret = "SELECT value FROM medsched_meta WHERE key = 'join_secret'"
    out["join_secret"] = (psql(db, secret) if db.startswith("postgresql://")
                          else sqlite3.connect(db).execute(secret).fetchall())
    out["join_secret"] = [str(r[0]) for r in out["join_secret"]]
    return out


def build_centre(t, med, tmp):
    """The demo's centre and then some, in med.db (a file)."""
    def run(*args, now=None, stdin=None):
        r = med.run(*args, now=now, stdin=stdin)
        if r.rc != 0:
            t.diag(r.describe())
        return r

    data = subprocess.run([sys.executable,
                           os.path.join(ROOT, "scripts", "demo-data.py")],
                          stdout=subprocess.PIPE, check=True).stdout
    plan = subprocess.run([sys.executable,
                           os.path.join(ROOT, "scripts", "demo-data.py"),
                           "--dispatch-plan"], stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    doc = os.path.join(tmp, "demo-data.json")
    with open(doc, "wb") as f:
        f.write(data)
    ok = run("init", "--name", "拉萨市城关区一站式矛盾纠纷调处中心",
             "--layers", "CN,CN-XZ-LS", "--calendars",
             os.environ["MEDSCHED_CALENDARS"], "--mailbox",
             "tiaojie@chengguan.example.cn", "--public-url",
             "https://tiaojie.chengguan.example.cn",
             now="2026-12-07T08:00").rc == 0
    ok &= run("import", doc, now="2026-12-07T11:00").rc == 0
    for i in range(1, 7):
        ok &= run("mediator", "email", str(i),
                  "mediator%d@chengguan.example.cn" % i).rc == 0
    ok &= run("interpreter", "email", "1",
              "interpreter1@chengguan.example.cn").rc == 0
    ok &= run("mediator", "leave", "6", "--from", "2026-12-09T09:00",
              "--to", "2026-12-09T18:00").rc == 0
    for line in plan.splitlines():
        number, dept = line.split("\t")
        ok &= run("case", "dispatch", number, "--department", dept,
                  now="2026-12-07T11:30").rc == 0
    run("schedule", "2026-12-07", now="2026-12-07T11:30")
    run("schedule", "2026-12-08", now="2026-12-07T11:45")
    sessions = med.run("agenda", "--from", "2026-12-07", "--to",
                       "2026-12-08", "--json").json() or []
    ok &= len(sessions) >= 10
    held = []
    for s in sessions:
        if s["case_id"] not in held:
            held.append(s["case_id"])
    for case_id, outcome in zip(held[:3], ["settled", "settled",
                                            "not-settled"]):
        ok &= run("case", "status", str(case_id), "in-session",
                  now="2026-12-07T15:00").rc == 0
        ok &= run("case", "status", str(case_id), outcome,
                  now="2026-12-07T17:30").rc == 0
    later = sessions[-1]
    ok &= run("booking", "note", str(later["id"]), "请带身份证原件。\n第二行",
              "--notify").rc == 0
    ok &= run("cancel", str(sessions[-2]["id"]),
              now="2026-12-07T18:00").rc == 0
    # users, tokens, sessions of the server, feed links
    for name, role, extra in (("admin", "admin", []),
                              ("tashi", "mediator", ["--mediator", "1"])):
        ok &= run("user", "add", name, "--role", role, "--iterations",
                  "1000", *extra,
                  stdin=StdinText("password-%s\n" % name)).rc == 0
        ok &= run("user", "token", name).rc == 0
    ok &= run("feed-link", "room", "1").rc == 0
    ok &= run("feed-link", "centre", "1").rc == 0
    ok &= run("feed-link", "--revoke", "1").rc == 0
    ok &= build_second_centre(t, med, tmp)
    # a party's consent, a revoked join link
    show = med.run("case", "show", str(later["case_id"]), "--json").json()
    party = show["parties"][0]["id"]
    ok &= run("consent", str(later["id"]), str(party), "--given").rc == 0
    # the outbox through a stand-in MTA: some sent (ledger), one failed
    mta = os.path.join(tmp, "mta.sh")
    with open(mta, "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    os.chmod(mta, 0o755)
    r = med.run("outbox", "flush", "--sendmail", mta)
    if r.rc != 0:
        t.diag(r.describe())
    # rows of the media module, written as it would (no camera here)
    con = sqlite3.connect(med.db)
    con.execute("INSERT INTO recording (booking_id, regime, state, dir, "
                "manifest, head_hash, duration, bytes, pid, created_at, "
                "updated_at, failure) VALUES (?, 'mediation', 'sealed', "
                "'/srv/recordings/1', 'manifest.jsonl', ?, 3600000000000, "
                "123456789, 0, 1796608800, 1796612400, '')",
                (later["id"], "ab" * 32))
    con.execute("INSERT INTO recording_segment VALUES (1, 0, 'seg-0.mkv', "
                "?, 1000, 60000000000)", ("cd" * 32,))
    con.execute("INSERT INTO recording_event (recording_id, at, kind, "
                "detail) VALUES (1, 1796608800, 'start', '')")
    # and what the server and the ical commands would write: a web
    # session, a revoked join link, an attendee's answer, busy time
    con.execute("INSERT INTO web_session VALUES (?, 1, ?, 1796608800, "
                "1796695200)", ("ef" * 32, "c" * 32))
    con.execute("INSERT INTO join_revoked VALUES (?, ?, 1796608800)",
                (later["id"], party))
    con.execute("INSERT INTO join_generation VALUES (?, ?, 2, 1796608800)",
                (later["id"], party))
    uid = con.execute("SELECT uid, sequence FROM booking WHERE id = ?",
                      (later["id"],)).fetchone()
    con.execute("INSERT INTO attendee_status VALUES (?, "
                "'mediator1@chengguan.example.cn', 'ACCEPTED', ?, "
                "1796608800, 1796608800)", uid)
    con.execute("INSERT INTO external_busy (mediator_id, interpreter_id, "
                "source, start_at, end_at) VALUES (2, NULL, 'outlook', "
                "1796688000, 1796695200)")
    con.commit()
    con.close()
    return ok


def build_second_centre(t, med, tmp):
    """A province: centre 2 in the same file, with its rooms, mediators,
    cases, a day scheduled, a user with a token and a feed link."""
    def run(*args, stdin=None):
        r = med.run(*args, stdin=stdin)
        if r.rc != 0:
            t.diag(r.describe())
        return r.rc == 0

    doc = {"rooms": [{"name": "温馨调解室一", "kind": "warm", "capacity": 6},
                     {"name": "远程调解室", "kind": "remote",
                      "capacity": 4, "features": ["video"]}],
           "mediators": [{"name": "达瓦", "languages": ["zh", "bo"],
                          "specialties": ["wages", "neighbour", "land"],
                          "daily_cap": 6}],
           "cases": [{"number": "(2026)藏0202民调%d号" % i,
                      "kind": "wages", "department": "court-mediation",
                      "parties": [{"name": "次旺%d" % i,
                                   "role": "applicant", "language": "bo",
                                   "contact": "1390000%04d" % i}]}
                     for i in range(3)]}
    path = os.path.join(tmp, "centre-2.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    ok = run("centre", "add", "--name", "日喀则市桑珠孜区调解中心",
             "--layers", "CN,CN-XZ-LS", "--public-url",
             "https://sangzhuzi.example.cn", "--phone", "0892-8830000")
    ok &= run("--centre", "2", "import", path)
    ok &= run("--centre", "2", "schedule", "2026-12-08")
    ok &= run("--centre", "2", "user", "add", "clerk2", "--role", "clerk",
              "--iterations", "1000", stdin=StdinText("password-clerk2\n"))
    ok &= run("--centre", "2", "user", "token", "clerk2")
    rooms = med.run("--centre", "2", "room", "list", "--json").json() or []
    ok &= bool(rooms) and run("--centre", "2", "feed-link", "room",
                              str(rooms[0]["id"]))
    return ok


def main():
    tap = Tap()
    exe = medsched_path(tap)
    if not os.environ.get("MEDSCHED_TEST_PG"):
        tap.bail("no PostgreSQL: run under tests/pg/pgserver.py")
    with tempdir() as tmp:
        src = os.path.join(tmp, "centre.db")
        med = Med(exe, src, now="2026-12-07T18:30", cwd=tmp)
        tap.ok(build_centre(tap, med, tmp), "the demo centre is built")
        columns = {t: sqlite_columns(src, t) for t in TABLES}
        before = dump(src, columns)
        counts = {t: len(before[t]) for t in TABLES}
        tap.diag("rows: " + ", ".join("%s %d" % kv for kv in counts.items()))
        empty = [t for t in TABLES if counts[t] == 0]
        tap.ok(not empty, "the source has rows in every table", empty)

        pg = new_db(tmp, "copy")
        r = med.run("store", "copy", src, pg, no_globals=True)
        tap.ok(r.rc == 0 and "chain verified" in r.out,
               "store copy FILE postgresql://…", r.describe())
        back = os.path.join(tmp, "back.db")
        r = med.run("store", "copy", pg, "sqlite:" + back, no_globals=True)
        tap.ok(r.rc == 0, "store copy postgresql://… sqlite:FILE",
               r.describe())

        on_pg = dump(pg, columns)
        on_back = dump(back, columns)
        for t in TABLES + ["join_secret"]:
            tap.ok(on_pg[t] == before[t] and on_back[t] == before[t],
                   "%s: the same %d rows in all three stores"
                   % (t, len(before[t])),
                   "pg differs: %s\nback differs: %s"
                   % (on_pg[t] != before[t], on_back[t] != before[t]))

        heads = []
        for db in (src, pg, back):
            r = med.run("audit", "verify", db=db)
            tap.ok(r.rc == 0, "audit verify on %s" % db.split("?")[0],
                   r.describe())
            heads.append(r.out.strip().splitlines()[-1] if r.out else "")
            r = med.run("check", db=db)
            tap.ok(r.rc == 0, "check on %s" % db.split("?")[0], r.describe())
        tap.ok(len(set(heads)) == 1 and heads[0].startswith("head "),
               "one audit head everywhere", heads)

        # the same answers from the same commands
        agenda = [med.run("agenda", "--from", "2026-12-07", "--to",
                          "2026-12-08", "--json", db=db).out
                  for db in (src, pg, back)]
        tap.ok(agenda[0] and agenda[0] == agenda[1] == agenda[2],
               "the agenda is the same")
        agenda2 = [med.run("--centre", "2", "agenda", "--from", "2026-12-07",
                           "--to", "2026-12-08", "--json", db=db).out
                   for db in (src, pg, back)]
        tap.ok(len(json.loads(agenda2[0] or "[]")) >= 1
               and agenda2[0] != agenda[0]
               and agenda2[0] == agenda2[1] == agenda2[2],
               "centre 2's agenda is the same, and its own")
        centres = [med.run("centre", "list", "--json", db=db).out
                   for db in (src, pg, back)]
        tap.ok(centres[0].count('"id"') == 2
               and centres[0] == centres[1] == centres[2],
               "both centres, their users counted, in all three stores",
               centres[0])
        # a remote party's invite carries their join link
        who = b = None
        for s in json.loads(agenda[0]):
            case = med.run("case", "show", str(s["case_id"]), "--json").json()
            remote = [p for p in case["parties"]
                      if p["attendance"] == "remote"]
            if s.get("status") == "confirmed" and remote:
                b, who = s, "party:%d" % remote[0]["id"]
                break
        tap.ok(b is not None, "a session with a remote party")
        invites = [med.run("invite", str(b["id"]), "--for", who,
                           db=db).out for db in (src, pg, back)]
        tap.ok(invites[0] and invites[0] == invites[1] == invites[2]
               and "/join/" in invites[0],
               "a party's invite and its join link are the same",
               "\n".join(difflib.unified_diff(invites[0].splitlines(),
                                              invites[1].splitlines(),
                                              lineterm="")))

        # new rows after the copy take new ids on PostgreSQL
        r = med.run("case", "add", "--number", "(2026)藏0102民调99号",
                    "--kind", "wages", "--party",
                    "applicant,zh,in-person,新当事人,13800009999", db=pg)
        tap.ok(r.rc == 0 and r.out.split()[1] == str(counts["mcase"] + 1),
               "a case added on PostgreSQL gets the next id", r.describe())

        # refusals: nothing written
        r = med.run("store", "copy", src, pg, no_globals=True)
        tap.ok(r.rc != 0 and "not empty" in r.err,
               "a copy into a store that is not empty is refused",
               r.describe())
        r = med.run("store", "copy", pg, back, no_globals=True)
        tap.ok(r.rc != 0 and "exists" in r.err,
               "a copy over an existing file is refused", r.describe())
        odd = os.path.join(tmp, "odd.db")
        r = med.run("store", "copy", src, odd, no_globals=True)
        con = sqlite3.connect(odd)
        con.execute("CREATE TABLE notes_of_someone (x TEXT)")
        con.commit()
        con.close()
        empty = new_db(tmp, "empty")
        r = med.run("store", "copy", odd, empty, no_globals=True)
        tap.ok(r.rc != 0 and "notes_of_someone" in r.err,
               "a source table the copy does not know is refused",
               r.describe())
        n = psql(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                 "current_schema()")
        tap.ok(n == [["0"]], "… and the destination is left untouched", n)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
