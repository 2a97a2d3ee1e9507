#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-kill.py — kill -9 in the middle of a batch must lose nothing but
the unfinished transaction.

A store with 7 rooms, 10 mediators, 2 interpreters and 300 dispatched cases
is imported once. Each trial copies it, runs `medsched schedule DATE` over
consecutive working days and SIGKILLs one of those runs after a random
delay (several trials, different delays; MEDSCHED_TEST_SEED picks another
sequence). Other trials SIGKILL an `import` of the 300 cases. After every
kill the store is checked with Python's sqlite3:

- PRAGMA integrity_check is "ok";
- no two confirmed bookings overlap in a room (block_start/block_end, the
  session plus the room's setup and cleanup), for a mediator or for an
  interpreter (start_at/end_at);
- every booking row is complete, and every confirmed booking's case is
  scheduled (and every scheduled case has a confirmed booking);
- an import is all or nothing;
- `medsched audit verify` and `medsched check` pass;
- the batch can be resumed and then places as many cases as a run that was
  never interrupted.

Prints TAP. Needs $MEDSCHED and $MEDSCHED_CALENDARS (meson test sets them).
"""

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time

from medtest import Med, Tap, calendars_dir, medsched_path, tempdir

NOW = "2026-12-07T08:00"
DATES = ["2026-12-%02d" % d for d in (7, 8, 9, 10, 11, 14, 15, 16, 17, 18,
                                      21, 22)]
N_CASES = 300
SCHEDULE_TRIALS = 8
IMPORT_TRIALS = 3

WARM_KINDS = ["wages", "neighbour", "contract", "land", "traffic",
              "consumer", "other"]
FAMILY_KINDS = ["divorce", "custody", "support", "inheritance"]
ALL_KINDS = WARM_KINDS + FAMILY_KINDS


def resources_doc():
    rooms = [{"name": "温馨调解室%d" % i, "kind": "warm", "capacity": 8,
              "setup_minutes": 10, "cleanup_minutes": 10}
             for i in range(1, 5)]
    rooms += [{"name": "家事调解室%d" % i, "kind": "family", "capacity": 6,
               "features": ["child-friendly"], "setup_minutes": 5,
               "cleanup_minutes": 15} for i in range(1, 3)]
    rooms.append({"name": "远程调解室", "kind": "remote", "capacity": 4,
                  "features": ["video", "recording"], "setup_minutes": 15,
                  "cleanup_minutes": 10})
    mediators = []
    for i in range(10):
        langs = ["zh", "bo"] if i % 3 == 0 else (["bo"] if i == 4
                                                 else ["zh"])
        spec = [ALL_KINDS[(i + j) % len(ALL_KINDS)] for j in range(5)]
        mediators.append({"name": "调解员%d ཞི་བདེ%d" % (i, i),
                          "languages": langs, "specialties": spec,
                          "daily_cap": 4})
    interpreters = [{"name": "译员%d" % i, "pairs": ["zh:bo"]}
                    for i in range(2)]
    return {"rooms": rooms, "mediators": mediators,
            "interpreters": interpreters}


def cases_doc():
    rng = random.Random(300)
    cases = []
    for i in range(N_CASES):
        family = i % 7 == 3
        kind = (FAMILY_KINDS if family else WARM_KINDS)[i % 4 if family
                                                        else i % 7]
        remote = i % 11 == 5
        langs = ("bo", "zh") if i % 5 == 0 else ("zh", "zh")
        cases.append({
            "number": "(2026)藏0102民调%d号" % (1000 + i),
            "kind": kind,
            "minors": family and i % 2 == 0,
            "urgent": i % 13 == 0,
            "intake_at": "2026-12-07T%02d:%02d" % (7, i % 60),
            "deadline": "2026-12-31",
            "duration_minutes": rng.choice([45, 60, 60, 90]),
            "summary": "压力测试案件 %d" % i,
            "department": "court-mediation",
            "parties": [
                {"name": "申请人%d" % i, "role": "applicant",
                 "language": langs[0], "attendance": "in-person",
                 "contact": "1380%07d" % (2 * i)},
                {"name": "被申请人%d" % i, "role": "respondent",
                 "language": langs[1],
                 "attendance": "remote" if remote else "in-person",
                 "contact": "1380%07d" % (2 * i + 1)},
            ],
        })
    return {"cases": cases}


def quote(name):
    return '"%s"' % name.replace('"', '""')


def case_table(con):
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for n in ("mcase", "case", "cases", "med_case"):
        if n in names:
            return n
    raise RuntimeError("no case table among %r" % names)


def checkpoint_copy(src, dst):
    con = sqlite3.connect(src, timeout=30)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(dst + suffix):
            os.unlink(dst + suffix)
    shutil.copyfile(src, dst)


def store_problems(db):
    """Everything wrong with a store after a crash, as a list of strings."""
    problems = []
    con = sqlite3.connect(db, timeout=30)
    try:
        ic = [r[0] for r in con.execute("PRAGMA integrity_check")]
        if ic != ["ok"]:
            problems.append("integrity_check: %s" % "; ".join(ic[:5]))
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append("foreign_key_check: %r" % fk[:5])
        ct = quote(case_table(con))

        def overlaps(what, col, start, end):
            rows = con.execute(
                "SELECT a.id, b.id FROM booking a JOIN booking b "
                "ON a.{c} = b.{c} AND a.id < b.id "
                "AND a.{s} < b.{e} AND b.{s} < a.{e} "
                "WHERE a.status = 'confirmed' AND b.status = 'confirmed' "
                "AND a.{c} IS NOT NULL AND a.{c} != 0"
                .format(c=col, s=start, e=end)).fetchall()
            if rows:
                problems.append("%s overlap between bookings %r"
                                % (what, rows[:5]))

        overlaps("room", "room_id", "block_start", "block_end")
        overlaps("mediator", "mediator_id", "start_at", "end_at")
        overlaps("interpreter", "interpreter_id", "start_at", "end_at")

        rows = con.execute(
            "SELECT id FROM booking WHERE case_id IS NULL "
            "OR room_id IS NULL OR mediator_id IS NULL "
            "OR start_at IS NULL OR end_at IS NULL "
            "OR block_start IS NULL OR block_end IS NULL "
            "OR status IS NULL OR status NOT IN ('confirmed', 'cancelled') "
            "OR uid IS NULL OR uid = '' OR sequence IS NULL "
            "OR start_at >= end_at OR block_start > start_at "
            "OR block_end < end_at").fetchall()
        if rows:
            problems.append("incomplete booking rows %r" % rows[:5])

        rows = con.execute(
            "SELECT b.id, c.status FROM booking b LEFT JOIN %s c "
            "ON c.id = b.case_id WHERE b.status = 'confirmed' "
            "AND (c.id IS NULL OR c.status != 'scheduled')" % ct).fetchall()
        if rows:
            problems.append("confirmed bookings whose case is not "
                            "scheduled %r" % rows[:5])
        rows = con.execute(
            "SELECT c.id FROM %s c WHERE c.status = 'scheduled' AND NOT "
            "EXISTS (SELECT 1 FROM booking b WHERE b.case_id = c.id AND "
            "b.status = 'confirmed')" % ct).fetchall()
        if rows:
            problems.append("scheduled cases without a confirmed booking %r"
                            % rows[:5])
    except sqlite3.Error as e:
        problems.append("sqlite3: %s" % e)
    finally:
        con.close()
    return problems


def count(db, sql):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def confirmed(db):
    return count(db, "SELECT count(*) FROM booking "
                     "WHERE status = 'confirmed'")


def n_cases(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM %s"
                           % quote(case_table(con))).fetchone()[0]
    finally:
        con.close()


def spawn(exe, db, *args):
    return subprocess.Popen(
        [exe, "--db", db, "--now", NOW, "--actor", "kill-test"] + list(args),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)


def run_to_end(exe, db, *args):
    p = spawn(exe, db, *args)
    _, err = p.communicate(timeout=300)
    return p.returncode, err.decode("utf-8", "backslashreplace")


def kill_after(exe, db, delay, *args):
    """Starts medsched, SIGKILLs it after delay seconds. True when the kill
    landed (the process was still running)."""
    p = spawn(exe, db, *args)
    try:
        p.wait(timeout=delay)
        p.communicate()
        return False
    except subprocess.TimeoutExpired:
        p.kill()  # SIGKILL
        p.communicate()
        return True


def check_after(tap, med, db, label):
    problems = store_problems(db)
    tap.ok(not problems, "%s: store consistent" % label,
           "\n".join(problems))
    for cmd in (("audit", "verify"), ("check",)):
        r = med.run(*cmd, db=db)
        tap.ok(r.rc == 0 and not r.forbidden(),
               "%s: medsched %s" % (label, " ".join(cmd)), r.describe())


def schedule_all(tap, med, db, dates, label):
    """Runs schedule over dates; returns the statuses."""
    bad = []
    for d in dates:
        r = med.run("schedule", d, db=db, timeout=300)
        # a day that cannot place everything may say so with status 1
        if r.rc not in (0, 1) or r.forbidden():
            bad.append(r.describe())
    tap.ok(not bad, "%s: schedule runs to the end" % label, "\n".join(bad))


def main():
    tap = Tap()
    exe = medsched_path(tap)
    seed = int(os.environ.get("MEDSCHED_TEST_SEED", "20261207"))
    rng = random.Random(seed)
    tap.diag("seed %d (set MEDSCHED_TEST_SEED to repeat another run)" % seed)

    with tempdir() as tmp:
        base = os.path.join(tmp, "base.db")
        med = Med(exe, base, now=NOW, cwd=tmp)
        r = med.run("init", "--name", "压力测试中心", "--zone", "Asia/Shanghai",
                    "--layers", "CN,CN-XZ-LS", "--calendars", calendars_dir())
        if not tap.ok(r.rc == 0, "init", r.describe()):
            return tap.done()
        res_path = os.path.join(tmp, "resources.json")
        cases_path = os.path.join(tmp, "cases.json")
        with open(res_path, "w", encoding="utf-8") as f:
            json.dump(resources_doc(), f, ensure_ascii=False)
        with open(cases_path, "w", encoding="utf-8") as f:
            json.dump(cases_doc(), f, ensure_ascii=False)
        r = med.run("import", res_path)
        tap.ok(r.rc == 0, "import rooms, mediators, interpreters",
               r.describe())
        resources_only = os.path.join(tmp, "resources.db")
        checkpoint_copy(base, resources_only)
        r = med.run("import", cases_path, timeout=300)
        tap.ok(r.rc == 0, "import %d dispatched cases" % N_CASES,
               r.describe())
        dispatched = med.run("case", "list", "--status", "dispatched",
                             "--json").json() or []
        if not tap.ok(len(dispatched) == N_CASES,
                      "%d cases are dispatched" % N_CASES,
                      "%d listed" % len(dispatched)):
            return tap.done()

        # an uninterrupted run: how long each day takes, how much it places
        ref = os.path.join(tmp, "reference.db")
        checkpoint_copy(base, ref)
        durations = []
        busy_days = []  # indexes of the days that place something
        for i, d in enumerate(DATES):
            before = confirmed(ref)
            t0 = time.monotonic()
            rc, err = run_to_end(exe, ref, "schedule", d)
            durations.append(time.monotonic() - t0)
            if rc not in (0, 1):
                tap.diag("reference schedule %s: status %d %s" % (d, rc, err))
            if confirmed(ref) > before:
                busy_days.append(i)
        placed = confirmed(ref)
        tap.diag("uninterrupted: %d bookings over %d days, %.0f ms per day "
                 "on average" % (placed, len(busy_days),
                                 1000 * sum(durations) / len(durations)))
        busy_days = busy_days or list(range(len(DATES)))
        tap.ok(placed >= N_CASES // 2,
               "the uninterrupted batch places most cases (%d of %d)"
               % (placed, N_CASES))
        check_after(tap, med, ref, "uninterrupted")

        landed = 0
        for trial in range(SCHEDULE_TRIALS):
            db = os.path.join(tmp, "trial-%d.db" % trial)
            checkpoint_copy(base, db)
            k = rng.choice(busy_days)
            # mostly inside the run, sometimes right at its start
            delay = rng.uniform(0.0, max(durations[k], 0.01) * 1.1)
            for d in DATES[:k]:
                rc, err = run_to_end(exe, db, "schedule", d)
            killed = kill_after(exe, db, delay, "schedule", DATES[k])
            landed += killed
            label = "schedule trial %d (%s, SIGKILL after %.0f ms%s)" % (
                trial, DATES[k], delay * 1000,
                "" if killed else ", finished first")
            check_after(tap, med, db, label)
            schedule_all(tap, med, db, DATES[k:], label + ", resumed")
            problems = store_problems(db)
            tap.ok(not problems, label + ", resumed: store consistent",
                   "\n".join(problems))
            got = confirmed(db)
            tap.ok(got == placed, label + ", resumed: %d bookings, as the "
                   "uninterrupted run" % placed, "got %d" % got)
        tap.ok(landed > 0, "at least one SIGKILL hit a running batch "
               "(%d of %d)" % (landed, SCHEDULE_TRIALS))

        # kill an import: all 300 cases or none
        t0 = time.monotonic()
        probe = os.path.join(tmp, "import-probe.db")
        checkpoint_copy(resources_only, probe)
        run_to_end(exe, probe, "import", cases_path)
        import_time = time.monotonic() - t0
        for trial in range(IMPORT_TRIALS):
            db = os.path.join(tmp, "import-%d.db" % trial)
            checkpoint_copy(resources_only, db)
            delay = rng.uniform(0.0, import_time)
            killed = kill_after(exe, db, delay, "import", cases_path)
            label = "import trial %d (SIGKILL after %.0f ms%s)" % (
                trial, delay * 1000, "" if killed else ", finished first")
            n = n_cases(db)
            tap.ok(n in (0, N_CASES), label + ": all or nothing imported "
                   "(%d)" % n, "%d cases" % n)
            check_after(tap, med, db, label)

        bad = [r.describe() for r in med.history
               if r.crashed() or r.forbidden()]
        tap.ok(not bad, "no medsched run crashed or printed CRITICAL/WARNING",
               "\n".join(bad[:10]))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
