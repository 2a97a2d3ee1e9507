#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-cli.py — medsched end to end through its command line, in a
temporary directory: a centre is created, rooms, mediators, interpreters
and cases are added, cases are dispatched, booked, rescheduled and
cancelled, and every kind of bad input is thrown at it. Bad input must give
a non-zero exit status, one "medsched: …" line on stderr, no GLib CRITICAL
or WARNING, no crash, and no change to the database.

Prints TAP. Needs $MEDSCHED (the executable) and $MEDSCHED_CALENDARS (the
shipped calendars/ directory); meson test sets both.
"""

import json
import os
import shutil
import sqlite3
import sys

from medtest import (Med, Tap, audit_count, audit_table, calendars_dir,
                     connect_ro, copy_db, find, has_tables, ics_notices,
                     is_pg, medsched_path, new_db, pick, pg_db_url, psql,
                     query, StdinText, test_db_pg,
                     sha256, tempdir)

NOW = "2026-12-07T08:00"  # a Monday; default hours 09:00–12:00, 14:30–18:00

CENTRE = "城关区矛盾纠纷调处中心（测试）"
WARM1 = "温馨调解室一"
WARM2 = "温馨调解室二"
FAMILY = "家事调解室"
REMOTE = "远程调解室 རྒྱང་རིང་བར་འདུམ་ཁང་"
ZHAXI = "扎西次仁 བཀྲ་ཤིས་ཚེ་རིང"
LI = "李秀英"
WANG = "王建华"
GESANG = "格桑 སྐལ་བཟང"
TIBETAN_PARTY = "བསོད་ནམས་རྡོ་རྗེ"

# Every command and command group, for --help.
COMMANDS = [
    ["init"], ["room"], ["room", "add"], ["room", "list"],
    ["mediator"], ["mediator", "add"], ["mediator", "leave"],
    ["mediator", "list"], ["interpreter"], ["interpreter", "add"],
    ["interpreter", "list"], ["case"], ["case", "add"], ["case", "dispatch"],
    ["case", "status"], ["case", "show"], ["case", "list"], ["slots"],
    ["book"], ["reschedule"], ["cancel"], ["schedule"], ["agenda"],
    ["calendar"], ["calendar", "import"], ["calendar", "list"], ["import"],
    ["audit"], ["audit", "verify"], ["report"], ["report", "same-day"],
    ["check"], ["store"], ["store", "copy"],
]


class Suite:
    def __init__(self, tap, med, tmp):
        self.t = tap
        self.med = med
        self.tmp = tmp
        self.ids = {}

    # --- assertions ---------------------------------------------------

    def succeeds(self, name, *args, **kw):
        r = self.med.run(*args, **kw)
        self.t.ok(r.rc == 0 and not r.forbidden(), name, r.describe())
        return r

    def fails(self, name, *args, code=None, db=None, unchanged=True, **kw):
        """Runs a command that must fail cleanly and leave the store as it
        was (audit row count)."""
        dbpath = db if db is not None else self.med.db
        before = audit_count(dbpath) if unchanged else None
        r = self.med.run(*args, db=db, **kw)
        problems = []
        if r.crashed():
            problems.append("crashed or was killed")
        elif r.rc == 0:
            problems.append("exit status 0")
        elif code is not None and r.rc != code:
            problems.append("exit status %d, want %d" % (r.rc, code))
        if "medsched: " not in r.err:
            problems.append('no "medsched: " message on stderr')
        if r.forbidden():
            problems.append("printed %s" % ", ".join(r.forbidden()))
        if unchanged:
            after = audit_count(dbpath)
            if after != before:
                problems.append("audit rows %d → %d" % (before, after))
        self.t.ok(not problems, name, "; ".join(problems) + "\n"
                  + r.describe())
        return r

    def json_of(self, name, *args):
        r = self.med.run(*args)
        data = r.json()
        self.t.ok(r.rc == 0 and data is not None and not r.forbidden(),
                  name, r.describe())
        return data

    def listing(self, *args):
        r = self.med.run(*args)
        data = r.json()
        return data if isinstance(data, list) else []

    # --- helpers ------------------------------------------------------

    def case_obj(self, number):
        """case show --json: {"case": {…}, "parties": […], "bookings": […],
        …}, flattened into the case object with its parties and bookings."""
        r = self.med.run("case", "show", number, "--json")
        data = r.json() if r.rc == 0 else None
        if not isinstance(data, dict) or not isinstance(data.get("case"),
                                                        dict):
            return data
        obj = dict(data["case"])
        obj["parties"] = data.get("parties")
        obj["bookings"] = data.get("bookings")
        return obj

    def case_status(self, number):
        return pick(self.case_obj(number), "status")

    def agenda(self, *args):
        data = self.listing("agenda", *args, "--json")
        return [b for b in data if isinstance(b, dict)]

    def bookings_of(self, case_id, rows):
        return [b for b in rows if pick(b, "case_id") == case_id]

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(path, mode, **({} if mode == "wb" else
                                 {"encoding": "utf-8"})) as f:
            f.write(data)
        return path


# --------------------------------------------------------------------------

def test_help(s, exe):
    t = s.t
    top = s.med.run("--help", no_globals=True)
    t.ok(top.rc == 0 and "usage" in (top.out + top.err).lower()
         and not top.forbidden(), "medsched --help", top.describe())
    none = s.med.run(no_globals=True)
    t.ok(none.rc == 2 and "usage" in none.err.lower(),
         "medsched without a command: usage on stderr, exit 2",
         none.describe())
    os.makedirs(os.path.join(s.tmp, "help"))
    fresh = new_db(os.path.join(s.tmp, "help"), "never")
    bad = []
    for cmd in COMMANDS:
        r = s.med.run(*cmd, "--help", db=fresh)
        if r.rc != 0 or "usage" not in (r.out + r.err).lower() or \
                r.forbidden():
            bad.append(r.describe())
    t.ok(not bad, "--help on all %d commands exits 0 with usage"
         % len(COMMANDS), "\n".join(bad))
    t.ok(not has_tables(fresh), "--help creates no database")


def test_setup(s):
    t = s.t
    cal = calendars_dir()
    s.succeeds("init", "init", "--name", CENTRE, "--zone", "Asia/Shanghai",
               "--layers", "CN,CN-XZ-LS", "--calendars", cal)
    t.ok(has_tables(s.med.db), "init creates the database")

    # calendars: the shipped notices are all listed
    shipped = ics_notices(cal)
    t.ok(len(shipped) >= 2, "calendars/ ships notices (%d found)"
         % len(shipped))
    notices = s.json_of("calendar list --json", "calendar", "list", "--json")
    missing = []
    for name, jur, year in shipped:
        if not any(isinstance(n, dict) and pick(n, "jurisdiction") == jur
                   and str(pick(n, "year")) == str(year)
                   for n in (notices or [])):
            missing.append("%s (%s %s)" % (name, jur, year))
    t.ok(notices is not None and not missing,
         "calendar list shows every shipped notice",
         "missing: %s\nlisted: %s" % (", ".join(missing),
                                      json.dumps(notices, ensure_ascii=False)
                                      [:1500]))
    text = s.med.run("calendar", "list")
    t.ok(text.rc == 0 and all(j in text.out for _, j, _ in shipped if j),
         "calendar list (text) names the jurisdictions", text.describe())

    # rooms
    s.succeeds("room add warm", "room", "add", "--name", WARM1, "--kind",
               "warm", "--capacity", "8", "--features", "accessible",
               "--setup", "10", "--cleanup", "10")
    s.succeeds("room add second warm", "room", "add", "--name", WARM2,
               "--kind", "warm")
    s.succeeds("room add family", "room", "add", "--name", FAMILY, "--kind",
               "family", "--features", "child-friendly,accessible")
    s.succeeds("room add remote (Tibetan name)", "room", "add", "--name",
               REMOTE, "--kind", "remote", "--features", "video,recording")
    rooms = s.json_of("room list --json", "room", "list", "--json") or []
    got = [pick(r, "name") for r in rooms if isinstance(r, dict)]
    t.ok(got == [WARM1, WARM2, FAMILY, REMOTE],
         "room names round-trip exactly (Chinese and Tibetan)",
         "got %r" % got)
    w1 = find(rooms, name=WARM1) or {}
    t.ok(w1.get("kind") == "warm" and w1.get("capacity") == 8
         and w1.get("features") == ["accessible"]
         and w1.get("setup_minutes") == 10
         and w1.get("cleanup_minutes") == 10
         and isinstance(w1.get("id"), int),
         "room list --json has the import-format fields and id",
         json.dumps(w1, ensure_ascii=False))
    fam = find(rooms, name=FAMILY) or {}
    t.ok(sorted(fam.get("features") or []) == ["accessible", "child-friendly"]
         and fam.get("kind") == "family", "room features round-trip",
         json.dumps(fam, ensure_ascii=False))
    text = s.med.run("room", "list")
    t.ok(text.rc == 0 and all(n in text.out for n in got),
         "room list (text) shows the names unchanged", text.describe())
    for r in rooms:
        s.ids[pick(r, "name")] = pick(r, "id")

    # mediators
    s.succeeds("mediator add (zh, bo)", "mediator", "add", "--name", ZHAXI,
               "--languages", "zh,bo", "--specialties",
               "wages,neighbour,land", "--daily-cap", "4")
    s.succeeds("mediator add family specialist", "mediator", "add", "--name",
               LI, "--languages", "zh", "--specialties",
               "divorce,custody,support,inheritance")
    s.succeeds("mediator add contract specialist", "mediator", "add",
               "--name", WANG, "--languages", "zh", "--specialties",
               "contract,consumer,traffic,wages")
    meds = s.json_of("mediator list --json", "mediator", "list",
                     "--json") or []
    got = [pick(m, "name") for m in meds if isinstance(m, dict)]
    t.ok(got == [ZHAXI, LI, WANG], "mediator names round-trip exactly",
         "got %r" % got)
    z = find(meds, name=ZHAXI) or {}
    t.ok(z.get("languages") == ["zh", "bo"]
         and sorted(z.get("specialties") or []) ==
         ["land", "neighbour", "wages"] and z.get("daily_cap") == 4,
         "mediator languages, specialties and cap round-trip",
         json.dumps(z, ensure_ascii=False))
    for m in meds:
        s.ids[pick(m, "name")] = pick(m, "id")

    # interpreters
    s.succeeds("interpreter add", "interpreter", "add", "--name", GESANG,
               "--pairs", "zh:bo")
    its = s.json_of("interpreter list --json", "interpreter", "list",
                    "--json") or []
    g = find(its, name=GESANG) or {}
    t.ok(g.get("pairs") == ["zh:bo"] and isinstance(g.get("id"), int),
         "interpreter name and pairs round-trip",
         json.dumps(its, ensure_ascii=False))
    s.ids[GESANG] = g.get("id")


def add_case(s, number, kind, *extra, parties=None, name=None):
    parties = parties or [
        "applicant,zh,in-person,张伟,13800000001",
        "respondent,zh,in-person,刘洋,13800000002",
    ]
    args = ["case", "add", "--number", number, "--kind", kind] + list(extra)
    for p in parties:
        args += ["--party", p]
    return s.succeeds(name or "case add %s" % kind, *args)


def test_cases(s):
    t = s.t
    add_case(s, "(2026)藏0102民调1号", "wages", "--urgent", "--deadline",
             "2026-12-20", "--duration", "60", "--summary",
             "农民工追讨工程款欠薪\n第二行", parties=[
                 "applicant,bo,in-person,%s,13800000011" % TIBETAN_PARTY,
                 "respondent,zh,in-person,拉萨某建筑劳务公司,13800000012"],
             name="case add wages, Tibetan party, urgent")
    add_case(s, "(2026)藏0102民调2号", "custody", "--minors", "--duration",
             "90", parties=["applicant,zh,in-person,黄敏,13800000021",
                            "respondent,zh,in-person,周婷,13800000022"],
             name="case add custody with minors")
    add_case(s, "(2026)藏0102民调3号", "contract", "--duration", "60",
             parties=["applicant,zh,in-person,吴刚,13800000031",
                      "respondent,zh,remote,徐丽,13800000032"],
             name="case add contract with a remote party")
    add_case(s, "(2026)藏0102民调4号", "neighbour", "--duration", "60",
             parties=["applicant,zh,in-person,孙强,13800000041",
                      "respondent,zh,in-person,马俊,13800000042"])
    add_case(s, "(2026)藏0102民调5号", "wages", "--duration", "60",
             parties=["applicant,zh,in-person,胡芳,13800000051",
                      "respondent,zh,in-person,郭亮,13800000052"])
    add_case(s, "(2026)藏0102民调6号", "neighbour", "--duration", "45",
             parties=["applicant,zh,in-person,何琳,13800000061",
                      "respondent,zh,in-person,高峰,13800000062"])
    add_case(s, "(2026)藏0102民调7号", "consumer", "--duration", "45",
             parties=["applicant,zh,in-person,林晓,13800000071",
                      "respondent,zh,in-person,罗平,13800000072"])

    c1 = s.case_obj("(2026)藏0102民调1号") or {}
    parties = c1.get("parties") or []
    t.ok(c1.get("number") == "(2026)藏0102民调1号" and c1.get("kind") ==
         "wages" and c1.get("urgent") is True and c1.get("status") ==
         "intake" and c1.get("summary") == "农民工追讨工程款欠薪\n第二行",
         "case show --json round-trips the case",
         json.dumps(c1, ensure_ascii=False))
    t.ok([pick(p, "name") for p in parties] ==
         [TIBETAN_PARTY, "拉萨某建筑劳务公司"]
         and [pick(p, "language") for p in parties] == ["bo", "zh"]
         and [pick(p, "contact") for p in parties] ==
         ["13800000011", "13800000012"],
         "party names (Tibetan), languages and contacts round-trip",
         json.dumps(parties, ensure_ascii=False))
    by_id = s.case_obj(str(c1.get("id")))
    t.ok(pick(by_id, "number") == "(2026)藏0102民调1号",
         "case show by numeric id", json.dumps(by_id, ensure_ascii=False))
    lst = s.listing("case", "list", "--json")
    t.ok(len(lst) == 7 and all(pick(c, "status") == "intake" for c in lst),
         "case list --json lists the 7 cases at intake",
         json.dumps(lst, ensure_ascii=False)[:1500])
    for c in lst:
        s.ids[pick(c, "number")] = pick(c, "id")

    for n in range(1, 8):
        dept = "labour-inspection" if n == 5 else "court-mediation"
        s.succeeds("case dispatch %d → %s" % (n, dept), "case", "dispatch",
                   "(2026)藏0102民调%d号" % n, "--department", dept)
    c5 = s.case_obj("(2026)藏0102民调5号") or {}
    t.ok(c5.get("status") == "dispatched" and c5.get("department") ==
         "labour-inspection", "dispatch sets status and department",
         json.dumps(c5, ensure_ascii=False)[:800])
    d = s.listing("case", "list", "--status", "dispatched", "--json")
    t.ok(len(d) == 7, "case list --status dispatched", "%d listed" % len(d))


def test_booking(s):
    t = s.t
    c1, c2, c3, c4, c6 = ("(2026)藏0102民调%d号" % n for n in (1, 2, 3, 4, 6))
    warm1, warm2 = s.ids.get(WARM1), s.ids.get(WARM2)
    zhaxi, wang = s.ids.get(ZHAXI), s.ids.get(WANG)

    slots = s.json_of("slots --json", "slots", c1, "--from", "2026-12-07",
                      "--count", "3", "--json")
    t.ok(isinstance(slots, list) and 1 <= len(slots) <= 3,
         "slots proposes 1 to 3 slots", json.dumps(slots,
                                                   ensure_ascii=False)[:1500])
    first = slots[0] if isinstance(slots, list) and slots else {}
    t.ok(pick(first, "mediator_id") == zhaxi,
         "the Tibetan-speaking wages mediator is proposed for a bo party",
         json.dumps(first, ensure_ascii=False))
    text = s.med.run("slots", c1, "--count", "2")
    t.ok(text.rc == 0 and text.out.strip(), "slots (text)", text.describe())

    # earliest booking
    b1 = s.succeeds("book earliest slot", "book", c1, "--json")
    bj = b1.json() or {}
    t.ok(pick(bj, "start") == pick(first, "start")
         and pick(bj, "room_id") == pick(first, "room_id"),
         "book takes the first proposed slot",
         "slot %s\nbooking %s" % (json.dumps(first), json.dumps(bj)))
    t.ok(s.case_status(c1) == "scheduled", "booked case is scheduled")
    s.succeeds("book custody case (family room)", "book", c2)
    s.succeeds("book case with remote party", "book", c3)
    day = s.agenda("--from", "2026-12-07", "--to", "2026-12-31")
    fam = [b for b in day if pick(b, "case_id") == s.ids.get(c2)]
    t.ok(fam and pick(fam[0], "room_id") == s.ids.get(FAMILY),
         "minors go to the family room", json.dumps(day)[:1500])
    rem = [b for b in day if pick(b, "case_id") == s.ids.get(c3)]
    t.ok(rem and pick(rem[0], "room_id") == s.ids.get(REMOTE),
         "a remote party needs the video room", json.dumps(day)[:1500])

    # explicit booking, then conflicts
    b4 = s.succeeds("book --at explicit", "book", c4, "--at",
                    "2026-12-08T10:00", "--room", warm1, "--mediator", zhaxi,
                    "--duration", "60", "--json")
    b4id = pick(b4.json(), "id", "booking_id")
    t.ok(isinstance(b4id, int), "book --json returns the booking id",
         b4.describe())
    ag = s.agenda("2026-12-08")
    mine = [b for b in ag if pick(b, "id", "booking_id") == b4id]
    t.ok(mine and str(pick(mine[0], "start")).startswith("2026-12-08T10:00"),
         "agenda DATE --json shows the booking at 10:00",
         json.dumps(ag, ensure_ascii=False)[:1500])
    text = s.med.run("agenda", "2026-12-08")
    t.ok(text.rc == 0 and c4 in text.out and WARM1 in text.out,
         "agenda (text) shows case number and room name", text.describe())
    s.fails("same room and mediator at an overlapping time → conflict",
            "book", c6, "--at", "2026-12-08T10:30", "--room", warm1,
            "--mediator", zhaxi, "--duration", "45", code=3)
    s.fails("same mediator, other room → conflict", "book", c6, "--at",
            "2026-12-08T10:15", "--room", warm2, "--mediator", zhaxi,
            "--duration", "45", code=3)
    s.fails("room setup/cleanup buffer → conflict", "book", c6, "--at",
            "2026-12-08T11:05", "--room", warm1, "--mediator", zhaxi,
            "--duration", "45", code=3)
    s.fails("book --at outside opening hours (03:00)", "book", c6, "--at",
            "2026-12-08T03:00", "--room", warm2, "--mediator", zhaxi)
    s.fails("book --at over the lunch break", "book", c6, "--at",
            "2026-12-08T11:45", "--room", warm2, "--mediator", zhaxi,
            "--duration", "45")
    s.fails("book --at on a Saturday", "book", c6, "--at",
            "2026-12-12T10:00", "--room", warm2, "--mediator", zhaxi)
    s.fails("book --at in the past", "book", c6, "--at", "2026-12-01T10:00",
            "--room", warm2, "--mediator", zhaxi)
    s.fails("book --at with a mediator lacking the specialty", "book", c6,
            "--at", "2026-12-09T10:00", "--room", warm2, "--mediator",
            s.ids.get(LI))
    add_case(s, "(2026)藏0102民调10号", "consumer", "--duration", "45",
             name="case add (left at intake)")
    s.fails("book a case that is not dispatched", "book",
            "(2026)藏0102民调10号", "--at", "2026-12-09T10:00", "--room",
            warm2, "--mediator", wang)

    # reschedule and cancel
    s.succeeds("reschedule --at", "reschedule", b4id, "--at",
               "2026-12-08T14:30", "--room", warm1, "--mediator", zhaxi)
    ag = s.agenda("2026-12-08")
    mine = [b for b in ag if pick(b, "id", "booking_id") == b4id]
    t.ok(len(mine) == 1 and str(pick(mine[0], "start"))
         .startswith("2026-12-08T14:30"),
         "rescheduled booking keeps its id and moves to 14:30",
         json.dumps(ag, ensure_ascii=False)[:1500])
    s.succeeds("book into the freed 10:00 slot", "book", c6, "--at",
               "2026-12-08T10:00", "--room", warm1, "--mediator", zhaxi,
               "--duration", "45")
    s.succeeds("reschedule to the next earliest slot", "reschedule", b4id)
    s.succeeds("cancel", "cancel", b4id)
    t.ok(s.case_status(c4) == "dispatched",
         "a case whose only booking is cancelled is dispatched again")
    s.fails("cancel twice", "cancel", b4id)
    s.fails("reschedule a cancelled booking", "reschedule", b4id)
    with_cancelled = s.agenda("2026-12-08")
    t.ok(not any(pick(b, "id", "booking_id") == b4id
                 and pick(b, "status", default="confirmed") == "confirmed"
                 for b in with_cancelled),
         "the cancelled booking is no longer confirmed on the agenda")

    # status flow
    s.fails("invalid transition dispatched → settled", "case", "status",
            c4, "settled")
    s.succeeds("case status in-session", "case", "status", c1, "in-session",
               now="2026-12-07T10:00")
    s.succeeds("case status settled", "case", "status", c1, "settled",
               now="2026-12-07T11:00")

    # batch scheduling of a new day
    add_case(s, "(2026)藏0102民调8号", "land", "--duration", "60",
             parties=["applicant,bo,in-person,平措,13800000081",
                      "respondent,bo,in-person,尼玛,13800000082"])
    add_case(s, "(2026)藏0102民调9号", "traffic", "--duration", "60")
    for n in (8, 9):
        s.succeeds("dispatch %d" % n, "case", "dispatch",
                   "(2026)藏0102民调%d号" % n, "--department",
                   "court-mediation")
    sched = s.succeeds("schedule DATE --json", "schedule", "2026-12-09",
                       "--json")
    t.ok(sched.json() is not None, "schedule --json prints JSON",
         sched.describe())
    t.ok(all(s.case_status("(2026)藏0102民调%d号" % n) == "scheduled"
             for n in (8, 9)), "schedule places the dispatched cases")
    t.ok(s.case_status("(2026)藏0102民调5号") == "dispatched",
         "cases dispatched to labour inspection are not scheduled")
    rows = s.agenda("2026-12-09")
    t.ok(all(str(pick(b, "start", default="")).startswith("2026-12-09")
             for b in rows) and len(rows) >= 2,
         "the agenda of the scheduled day", json.dumps(rows)[:1500])
    s.succeeds("agenda --from --to", "agenda", "--from", "2026-12-07", "--to",
               "2026-12-09")
    s.succeeds("schedule (text)", "schedule", "2026-12-10")
    plan = s.succeeds("schedule --time-limit --seed --dry-run", "schedule",
                      "2026-12-11", "--time-limit", "0.2", "--seed", "7",
                      "--dry-run", "--json").json() or {}
    t.ok(plan.get("optimal") in (True, False) and "bound" in plan,
         "schedule --json says whether the plan is optimal, and its bound",
         json.dumps(plan, ensure_ascii=False)[:800])

    s.succeeds("mediator leave", "mediator", "leave", zhaxi, "--from",
               "2026-12-14T00:00", "--to", "2026-12-15T00:00")
    lv = find(s.listing("mediator", "list", "--json"), id=zhaxi) or {}
    t.ok(len(lv.get("leave") or []) == 1, "mediator list shows the leave",
         json.dumps(lv, ensure_ascii=False))

    rep = s.json_of("report same-day --json", "report", "same-day",
                    "--from", "2026-12-07", "--to", "2026-12-08", "--json")
    # case 1 was taken at intake at 08:00 and settled at 11:00 (--now) the
    # same day; every other case taken on the 7th is still open
    t.ok(isinstance(rep, dict) and rep.get("settled") == 1
         and rep.get("settled_same_day") == 1
         and isinstance(rep.get("cases"), int) and rep.get("cases") >= 9,
         "report same-day counts the case settled on its intake day "
         "(times from --now)", json.dumps(rep))
    s.succeeds("report same-day (text)", "report", "same-day")
    s.succeeds("audit verify", "audit", "verify")
    s.succeeds("check", "check")


def test_bad_arguments(s):
    d = "(2026)藏0102民调6号"
    s.fails("unknown command → usage error", "frobnicate", code=2)
    s.fails("unknown option → usage error", "room", "list", "--bogus",
            code=2)
    s.fails("missing --name → usage error", "room", "add", "--kind", "warm",
            code=2)
    s.fails("option without its value", "room", "add", "--name", code=2)
    s.fails("malformed --now", "room", "list", now="yesterday")
    s.fails("impossible --now date", "room", "list", now="2026-02-30T10:00")

    # unknown enum words
    s.fails("unknown room kind", "room", "add", "--name", "x", "--kind",
            "ballroom")
    s.fails("unknown room feature", "room", "add", "--name", "x", "--kind",
            "warm", "--features", "video,jacuzzi")
    s.fails("unknown specialty", "mediator", "add", "--name", "x",
            "--languages", "zh", "--specialties", "cooking")
    s.fails("bad language code", "mediator", "add", "--name", "x",
            "--languages", "Chinese", "--specialties", "wages")
    s.fails("bad interpreter pair", "interpreter", "add", "--name", "x",
            "--pairs", "zh-bo")
    s.fails("unknown case kind", "case", "add", "--number", "X-1", "--kind",
            "murder", "--party", "applicant,zh,in-person,张伟")
    s.fails("unknown party role", "case", "add", "--number", "X-1", "--kind",
            "wages", "--party", "judge,zh,in-person,张伟")
    s.fails("unknown attendance", "case", "add", "--number", "X-1", "--kind",
            "wages", "--party", "applicant,zh,teleport,张伟")
    s.fails("party spec with too few fields", "case", "add", "--number",
            "X-1", "--kind", "wages", "--party", "applicant,zh")
    s.fails("case add without parties", "case", "add", "--number", "X-1",
            "--kind", "wages")
    s.fails("unknown department", "case", "dispatch", d, "--department",
            "army")
    s.fails("unknown status", "case", "status", d, "flying")
    s.fails("unknown status filter", "case", "list", "--status", "lost")

    # lengths
    s.fails("overlong room name (300 bytes)", "room", "add", "--name",
            "x" * 300, "--kind", "warm")
    s.fails("overlong mediator name (100 Chinese characters = 300 bytes)",
            "mediator", "add", "--name", "调" * 100, "--languages", "zh",
            "--specialties", "wages")
    s.fails("overlong case number", "case", "add", "--number", "9" * 300,
            "--kind", "wages", "--party", "applicant,zh,in-person,张伟")
    s.fails("overlong party name", "case", "add", "--number", "X-2",
            "--kind", "wages", "--party",
            "applicant,zh,in-person," + "名" * 100)
    s.fails("overlong summary (4097 bytes)", "case", "add", "--number",
            "X-3", "--kind", "wages", "--summary", "s" * 4097, "--party",
            "applicant,zh,in-person,张伟")
    s.fails("65 parties", "case", "add", "--number", "X-4", "--kind",
            "wages", *sum((["--party", "applicant,zh,in-person,人%d" % i]
                           for i in range(65)), []))
    s.succeeds("a 256-byte name is accepted", "room", "add", "--name",
               "ཀ" * 85 + "x", "--kind", "warm")

    # encoding
    s.fails("invalid UTF-8 room name", "room", "add", "--name",
            b"\xff\xfe\xc3(", "--kind", "warm")
    s.fails("overlong UTF-8 encoding in a name", "mediator", "add", "--name",
            b"\xc0\xaf", "--languages", "zh", "--specialties", "wages")
    s.fails("UTF-16 surrogate in a case number", "case", "add", "--number",
            b"\xed\xa0\x80", "--kind", "wages", "--party",
            "applicant,zh,in-person,张伟")
    s.fails("invalid UTF-8 party name", "case", "add", "--number", "X-5",
            "--kind", "wages", "--party", b"applicant,zh,in-person,\xe5\xbc")
    s.fails("control character in a name", "room", "add", "--name",
            "a\x1bb", "--kind", "warm")
    s.fails("newline in a one-line name", "room", "add", "--name", "a\nb",
            "--kind", "warm")

    # numbers
    for opt, val in (("--capacity", "abc"), ("--capacity", "0"),
                     ("--capacity", "-3"),
                     ("--capacity", "99999999999999999999"),
                     ("--setup", "100000"), ("--cleanup", "-1")):
        s.fails("room add %s %s" % (opt, val), "room", "add", "--name", "x",
                "--kind", "warm", opt, val)
    s.fails("--daily-cap 0", "mediator", "add", "--name", "x",
            "--languages", "zh", "--specialties", "wages", "--daily-cap",
            "0")
    s.fails("case add --duration -10", "case", "add", "--number", "X-6",
            "--kind", "wages", "--duration", "-10", "--party",
            "applicant,zh,in-person,张伟")
    s.fails("slots --count -1", "slots", d, "--count", "-1")
    s.fails("slots --duration -30 (negative duration)", "slots", d,
            "--duration", "-30")
    s.fails("book --duration -30", "book", d, "--duration", "-30")
    s.fails("book --duration 481 (over 8 hours)", "book", d, "--duration",
            "481")
    s.fails("book --duration 5 (under the 15-minute minimum)", "book", d,
            "--duration", "5")

    # times
    zhaxi = s.ids.get(ZHAXI)
    s.fails("leave ending before it starts", "mediator", "leave", zhaxi,
            "--from", "2026-12-10T12:00", "--to", "2026-12-10T09:00")
    s.fails("leave of zero length", "mediator", "leave", zhaxi, "--from",
            "2026-12-10T12:00", "--to", "2026-12-10T12:00")
    s.fails("malformed --at", "book", d, "--at", "2026-13-45T99:00",
            "--room", s.ids.get(WARM2), "--mediator", zhaxi)
    s.fails("--at without --room/--mediator", "book", d, "--at",
            "2026-12-09T10:00")
    s.fails("malformed --deadline", "case", "add", "--number", "X-7",
            "--kind", "wages", "--deadline", "next week", "--party",
            "applicant,zh,in-person,张伟")
    s.fails("agenda --to before --from", "agenda", "--from", "2026-12-10",
            "--to", "2026-12-01")
    s.fails("schedule a malformed date", "schedule", "2026-12-99")
    for bad in ("0", "-1", "601", "nan", "inf", "1s", ""):
        s.fails("schedule --time-limit %r" % bad, "schedule", "2026-12-11",
                "--time-limit", bad, code=2)
    s.fails("schedule --seed -1", "schedule", "2026-12-11", "--seed", "-1",
            code=2)

    # unknown ids
    s.fails("case show unknown id", "case", "show", "999999")
    s.fails("case show unknown number", "case", "show", "(2026)不存在1号")
    s.fails("dispatch unknown case", "case", "dispatch", "999999",
            "--department", "court-mediation")
    s.fails("status of unknown case", "case", "status", "999999", "withdrawn")
    s.fails("slots for unknown case", "slots", "999999")
    s.fails("book unknown case", "book", "999999")
    s.fails("book with unknown room", "book", d, "--at", "2026-12-09T10:00",
            "--room", "999999", "--mediator", zhaxi)
    s.fails("book with unknown mediator", "book", d, "--at",
            "2026-12-09T10:00", "--room", s.ids.get(WARM2), "--mediator",
            "999999")
    s.fails("book with unknown interpreter", "book", d, "--at",
            "2026-12-09T10:00", "--room", s.ids.get(WARM2), "--mediator",
            zhaxi, "--interpreter", "999999")
    s.fails("reschedule unknown booking", "reschedule", "999999")
    s.fails("cancel unknown booking", "cancel", "999999")
    s.fails("cancel a non-numeric booking id", "cancel", "abc")
    s.fails("leave for unknown mediator", "mediator", "leave", "999999",
            "--from", "2026-12-10T09:00", "--to", "2026-12-10T12:00")
    s.fails("duplicate case number", "case", "add", "--number",
            "(2026)藏0102民调1号", "--kind", "wages", "--party",
            "applicant,zh,in-person,张伟")

    # injection-shaped text is stored as text
    evil = "'); DROP TABLE room; --"
    fmt = "%s%s%n%x 调解"
    s.succeeds("SQL-shaped name is accepted", "room", "add", "--name", evil,
               "--kind", "warm")
    s.succeeds("printf-shaped name is accepted", "mediator", "add", "--name",
               fmt, "--languages", "zh", "--specialties", "other")
    rooms = s.listing("room", "list", "--json")
    meds = s.listing("mediator", "list", "--json")
    s.t.ok(find(rooms, name=evil) is not None and
           find(meds, name=fmt) is not None,
           "injection-shaped names round-trip and the tables survive")


def good_doc(prefix, n):
    return {"cases": [{
        "number": "%s-%d" % (prefix, i), "kind": "wages",
        "intake_at": "2026-12-07T08:00", "deadline": "2026-12-31",
        "duration_minutes": 60, "summary": "导入",
        "parties": [{"name": "导入%d" % i, "role": "applicant",
                     "language": "zh", "attendance": "in-person",
                     "contact": "1380000%04d" % (9000 + i)}]}
        for i in range(n)]}


def test_import(s):
    t = s.t
    doc = {
        "rooms": [{"name": "导入调解室", "kind": "warm", "capacity": 4,
                   "features": [], "setup_minutes": 5,
                   "cleanup_minutes": 5}],
        "mediators": [{"name": "次仁多吉 ཚེ་རིང་རྡོ་རྗེ",
                       "languages": ["bo", "zh"],
                       "specialties": ["land", "inheritance"],
                       "daily_cap": 3,
                       "leave": [{"start": "2026-12-08T00:00",
                                  "end": "2026-12-09T00:00"}]}],
        "interpreters": [{"name": "央金", "pairs": ["zh:bo", "zh:en"]}],
        "cases": good_doc("IMP", 3)["cases"],
    }
    doc["cases"][0]["department"] = "court-mediation"
    before = len(s.listing("case", "list", "--json"))
    s.succeeds("import a good document", "import",
               s.write("good.json", json.dumps(doc, ensure_ascii=False)))
    cases = s.listing("case", "list", "--json")
    t.ok(len(cases) == before + 3, "import adds the 3 cases",
         "%d → %d" % (before, len(cases)))
    t.ok(pick(find(cases, number="IMP-0"), "status") == "dispatched"
         and pick(find(cases, number="IMP-1"), "status") == "intake",
         "a case with a department is imported dispatched")
    m = find(s.listing("mediator", "list", "--json"),
             name="次仁多吉 ཚེ་རིང་རྡོ་རྗེ")
    t.ok(m is not None and len(m.get("leave") or []) == 1,
         "imported mediator with leave", json.dumps(m, ensure_ascii=False))

    def nothing_imported(name, data, fname, code=1):
        path = s.write(fname, data)
        before_list = s.med.run("case", "list", "--json").outb
        before_rooms = s.med.run("room", "list", "--json").outb
        s.fails(name, "import", path, code=code)
        after_list = s.med.run("case", "list", "--json").outb
        after_rooms = s.med.run("room", "list", "--json").outb
        t.ok(before_list == after_list and before_rooms == after_rooms,
             name + ": case and room lists unchanged")

    bad = good_doc("MIX", 5)
    bad["rooms"] = [{"name": "不该出现的房间", "kind": "warm"}]
    bad["cases"][3]["kind"] = "murder"
    nothing_imported("one bad case among good ones",
                     json.dumps(bad, ensure_ascii=False), "mixed.json")
    dup = good_doc("DUP", 4)
    dup["cases"][2]["number"] = "(2026)藏0102民调1号"
    nothing_imported("one case number already in the store",
                     json.dumps(dup, ensure_ascii=False), "dup.json",
                     code=None)
    twice = good_doc("TWICE", 3)
    twice["cases"][2]["number"] = "TWICE-0"
    nothing_imported("a case number twice in the document",
                     json.dumps(twice), "twice.json")
    nothing_imported("truncated JSON", json.dumps(good_doc("T", 3))[:-7],
                     "truncated.json")
    nothing_imported("not JSON at all", "rooms: [warm]\n", "notjson.json")
    nothing_imported("empty file", "", "empty.json")
    nothing_imported("JSON array at the top", "[]", "array.json")
    nothing_imported("unknown top-level key", '{"rooms": [], "bogus": 1}',
                     "unknown.json")
    nothing_imported("unknown key in a case", json.dumps(
        {"cases": [dict(good_doc("U", 1)["cases"][0], colour="red")]}),
        "unknown-case-key.json")
    nothing_imported("wrong types", '{"rooms": [{"name": 7, "kind": []}]}',
                     "types.json")
    nothing_imported("rooms is an object", '{"rooms": {"name": "x"}}',
                     "object.json")
    nothing_imported("capacity as a string",
                     '{"rooms": [{"name": "x", "kind": "warm", '
                     '"capacity": "8"}]}', "capstr.json")
    nothing_imported("capacity as a float",
                     '{"rooms": [{"name": "x", "kind": "warm", '
                     '"capacity": 8.5}]}', "capfloat.json")
    nothing_imported("huge integer", '{"rooms": [{"name": "x", "kind": '
                     '"warm", "capacity": 1e400}]}', "huge.json")
    nothing_imported("invalid UTF-8 in a string",
                     b'{"rooms": [{"name": "\xff\xfe", "kind": "warm"}]}',
                     "badutf8.json")
    nothing_imported("a NUL escape in a name",
                     '{"rooms": [{"name": "a\\u0000b", "kind": "warm"}]}',
                     "nul.json")
    nothing_imported("deep nesting", "[" * 100000 + "]" * 100000,
                     "deep.json")
    nothing_imported("a case without parties", json.dumps(
        {"cases": [dict(good_doc("P", 1)["cases"][0], parties=[])]}),
        "noparties.json")
    nothing_imported("deadline before intake", json.dumps(
        {"cases": [dict(good_doc("D", 1)["cases"][0],
                        deadline="2026-12-01")]}), "deadline.json")
    nothing_imported("leave ending before it starts", json.dumps(
        {"mediators": [{"name": "x", "languages": ["zh"],
                        "leave": [{"start": "2026-12-09T00:00",
                                   "end": "2026-12-08T00:00"}]}]}),
        "leave.json")
    nothing_imported("an impossible date", json.dumps(
        {"cases": [dict(good_doc("I", 1)["cases"][0],
                        intake_at="2026-02-30T09:00")]}), "date.json")
    nothing_imported("overlong summary", json.dumps(
        {"cases": [dict(good_doc("S", 1)["cases"][0],
                        summary="s" * 4097)]}), "summary.json")
    nothing_imported("document over 16 MiB",
                     '{"rooms": []' + " " * (16 * 1024 * 1024 + 16) + "}",
                     "big.json")
    s.fails("import a missing file", "import",
            os.path.join(s.tmp, "no-such-file.json"))
    s.fails("import a directory", "import", s.tmp)


def test_calendar_import(s):
    t = s.t
    cal = calendars_dir()
    files = sorted(f for f in os.listdir(cal) if f.endswith(".ics"))
    src = os.path.join(cal, files[0]) if files else None
    def notices():
        data = s.med.run("calendar", "list", "--json").json()
        if not isinstance(data, list):
            return None
        return sorted(json.dumps(n, sort_keys=True, ensure_ascii=False)
                      for n in data)

    listing = notices()
    if src is None:
        t.ok(False, "a shipped .ics to work with")
        return
    with open(src, "rb") as f:
        data = f.read()
    s.succeeds("re-import a shipped notice", "calendar", "import", src)
    again = notices()
    t.ok(listing is not None and again == listing,
         "re-importing a notice replaces it",
         "before: %s\nafter: %s" % (listing, again))

    def rejected(name, content, fname):
        path = s.write(fname, content)
        s.fails(name, "calendar", "import", path)
        t.ok(notices() == listing, name + ": calendar list unchanged")

    rejected("truncated .ics", data[:len(data) // 2], "truncated.ics")
    rejected(".ics without END:VCALENDAR",
             data.replace(b"END:VCALENDAR", b""), "noend.ics")
    rejected("garbage bytes as .ics", bytes(range(256)) * 8, "garbage.ics")
    rejected("invalid UTF-8 in an .ics", data.replace(b"SUMMARY:",
                                                      b"SUMMARY:\xff\xfe", 1),
             "badutf8.ics")
    rejected("empty .ics", b"", "empty.ics")
    rejected("a notice without its jurisdiction", b"\n".join(
        l for l in data.split(b"\n")
        if not l.startswith(b"X-MED-JURISDICTION")), "nojur.ics")
    rejected("oversized .ics (5 MiB)", b"BEGIN:VCALENDAR\r\n" +
             b"X-PAD:" + b"a" * (5 * 1024 * 1024) + b"\r\nEND:VCALENDAR\r\n",
             "huge.ics")
    s.fails("calendar import a missing file", "calendar", "import",
            os.path.join(s.tmp, "nope.ics"))


def test_foreign_database(s):
    """PostgreSQL: a database of someone else is refused and left alone;
    one that does not exist is a clean failure."""
    t = s.t
    foreign = new_db(s.tmp, "foreign")
    psql(foreign, "CREATE TABLE foo (a INTEGER, b TEXT); "
         "INSERT INTO foo VALUES (1, 'keep me')")
    s.fails("a foreign database: room list", "room", "list", db=foreign,
            unchanged=False)
    s.fails("a foreign database: init", "init", "--name", "x",
            db=foreign, unchanged=False)
    s.fails("a foreign database: import", "import",
            s.write("small.json", "{}"), db=foreign, unchanged=False)
    rows = psql(foreign, "SELECT string_agg(tablename, ',') FROM pg_tables "
                "WHERE schemaname = current_schema()")
    t.ok(rows == [["foo"]], "the foreign database is unchanged", rows)
    s.fails("a database that does not exist", "room", "list",
            db=pg_db_url("no_such_database"), unchanged=False)
    fresh = new_db(s.tmp, "fresh")
    r = s.med.run("room", "add", "--name", "x", "--kind", "warm", db=fresh)
    t.ok(r.rc > 0 and not r.crashed() and "medsched: " in r.err,
         "adding a room before init fails cleanly", r.describe())


def test_foreign_files(s):
    t = s.t
    if is_pg(s.med.db):
        return test_foreign_database(s)
    foreign = os.path.join(s.tmp, "foreign.db")
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE foo (a INTEGER, b TEXT)")
    con.execute("INSERT INTO foo VALUES (1, 'keep me')")
    con.commit()
    con.close()
    h = sha256(foreign)
    s.fails("a foreign SQLite file: room list", "room", "list", db=foreign,
            unchanged=False)
    s.fails("a foreign SQLite file: init", "init", "--name", "x",
            db=foreign, unchanged=False)
    s.fails("a foreign SQLite file: import", "import",
            s.write("small.json", "{}"), db=foreign, unchanged=False)
    t.ok(sha256(foreign) == h, "the foreign file is unchanged")
    t.ok(not os.path.exists(foreign + "-wal") or
         os.path.getsize(foreign + "-wal") == 0,
         "no WAL written beside the foreign file")

    garbage = os.path.join(s.tmp, "garbage.db")
    with open(garbage, "wb") as f:
        f.write(bytes((i * 131 + 7) % 256 for i in range(8192)))
    h = sha256(garbage)
    s.fails("a garbage file: room list", "room", "list", db=garbage,
            unchanged=False)
    s.fails("a garbage file: init", "init", db=garbage, unchanged=False)
    t.ok(sha256(garbage) == h, "the garbage file is unchanged")

    text = s.write("notes.db", "这不是数据库\n" * 100)
    h = sha256(text)
    s.fails("a text file as database", "case", "list", db=text,
            unchanged=False)
    t.ok(sha256(text) == h, "the text file is unchanged")

    # a truncated copy of a real store
    real = s.med.db
    con = sqlite3.connect(real)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    cut = os.path.join(s.tmp, "cut.db")
    with open(real, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2])
    r = s.med.run("check", db=cut)
    t.ok(r.rc > 0 and not r.crashed() and not r.forbidden()
         and "medsched: " in r.err,
         "a truncated store: check reports it", r.describe())

    s.fails("a database in a missing directory", "room", "list",
            db=os.path.join(s.tmp, "no", "such", "dir", "x.db"),
            unchanged=False)
    s.fails("a directory as database", "room", "list", db=s.tmp,
            unchanged=False)
    fresh = os.path.join(s.tmp, "fresh.db")
    r = s.med.run("room", "add", "--name", "x", "--kind", "warm", db=fresh)
    t.ok(r.rc > 0 and not r.crashed() and "medsched: " in r.err,
         "adding a room before init fails cleanly", r.describe())


def test_audit_tamper(s):
    t = s.t
    if is_pg(s.med.db):
        copy = copy_db(s.med.db, s.tmp, "tamper")
        psql(copy, "ALTER TABLE audit DISABLE TRIGGER audit_no_change; "
             "UPDATE audit SET actor = 'mallory' WHERE id = "
             "(SELECT min(id) + 2 FROM audit)")
        r = s.med.run("audit", "verify", db=copy)
        t.ok(r.rc > 0 and not r.crashed() and "medsched: " in r.err,
             "audit verify detects an edited audit row", r.describe())
        return
    copy = os.path.join(s.tmp, "tamper.db")
    con = sqlite3.connect(s.med.db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(s.med.db, copy)
    con = sqlite3.connect(copy)
    table = audit_table(con)
    cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % table)]
    col = "actor" if "actor" in cols else "action"
    con.execute("DROP TRIGGER IF EXISTS %s_no_update" % table)
    for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = ?", (table,)).fetchall():
        con.execute('DROP TRIGGER "%s"' % name)
    con.execute("UPDATE %s SET %s = 'mallory' WHERE id = "
                "(SELECT min(id) + 2 FROM %s)" % (table, col, table))
    con.commit()
    con.close()
    r = s.med.run("audit", "verify", db=copy)
    t.ok(r.rc > 0 and not r.crashed() and "medsched: " in r.err,
         "audit verify detects an edited audit row", r.describe())


def test_province(s):
    """A second centre in the same store (centre add), and --centre: every
    command acts on its centre only; an unknown centre is an error, never
    an empty answer; one centre's ids are not found through the other."""
    t = s.t
    cal = calendars_dir()
    b_name = "日喀则市桑珠孜区调解中心"
    s.fails("init again is refused, naming centre add", "init", "--name",
            "x", "--calendars", cal, code=1)
    t.ok("centre add" in s.med.history[-1].err, "… and says centre add",
         s.med.history[-1].describe())
    s.fails("centre add needs --name and --layers", "centre", "add",
            "--name", b_name, code=2)
    s.fails("centre add refuses a bad layer list", "centre", "add", "--name",
            b_name, "--layers", "CN;CN-XZ-LS", code=1)
    s.fails("centre add refuses bad hours", "centre", "add", "--name",
            b_name, "--layers", "CN", "--hours", "25:00-26:00", code=1)
    r = s.succeeds("centre add", "centre", "add", "--name", b_name,
                   "--layers", "CN,CN-XZ-LS", "--zone", "Asia/Shanghai",
                   "--hours", "09:00-12:30,15:00-18:30", "--public-url",
                   "https://sangzhuzi.example.cn", "--phone", "0892-8830000")
    t.ok(r.out.startswith("added centre 2 "), "it is centre 2", r.out)
    s.fails("a second centre of the same name is refused", "centre", "add",
            "--name", b_name, "--layers", "CN", code=1)
    centres = s.json_of("centre list --json", "centre", "list", "--json")
    c2 = find(centres, id=2) or {}
    t.ok([pick(c, "id") for c in centres or []] == [1, 2]
         and c2.get("name") == b_name and c2.get("layers") == "CN,CN-XZ-LS"
         and c2.get("public_url") == "https://sangzhuzi.example.cn"
         and c2.get("phone") == "0892-8830000",
         "centre list shows both, with the new one's settings",
         json.dumps(centres, ensure_ascii=False))
    text = s.med.run("centre", "list")
    t.ok(text.rc == 0 and CENTRE in text.out and b_name in text.out,
         "centre list (text)", text.describe())
    rows = query(s.med.db, "SELECT action, entity_id FROM audit WHERE "
                 "entity = 'centre' AND entity_id = 2")
    t.ok(("centre.add", 2) in [(a, int(i)) for a, i in rows],
         "centre add is audited", rows)

    # an unknown centre: an error naming the centres, never an empty list
    for args in (["room", "list", "--json"], ["case", "list", "--json"],
                 ["agenda", "--from", "2026-12-07", "--json"],
                 ["user", "list", "--json"]):
        r = s.fails("--centre 3 %s is an error" % args[0], "--centre", "3",
                    *args, code=1)
        t.ok(r.out == "" and "no centre 3" in r.err and "1, 2" in r.err,
             "… with nothing on stdout, naming the centres 1 and 2",
             r.describe())
    s.fails("--centre 0 is a usage error", "--centre", "0", "room", "list",
            code=2)

    # centre 2's own rooms, mediators, cases and users
    doc = {"rooms": [{"name": WARM1, "kind": "warm", "capacity": 8}],
           "mediators": [{"name": "达瓦", "languages": ["zh", "bo"],
                          "specialties": ["wages"], "daily_cap": 8}],
           "cases": [{"number": "(2026)藏0202民调1号", "kind": "wages",
                      "department": "court-mediation",
                      "parties": [{"name": "次旺", "role": "applicant",
                                   "language": "bo",
                                   "contact": "13900000001"}]}]}
    path = s.write("centre-2.json", json.dumps(doc, ensure_ascii=False))
    s.succeeds("import into centre 2", "--centre", "2", "import", path)
    rooms2 = s.listing("--centre", "2", "room", "list", "--json")
    rooms1 = s.listing("room", "list", "--json")
    t.ok([r["name"] for r in rooms2] == [WARM1]
         and WARM1 in [r["name"] for r in rooms1]
         and rooms2[0]["id"] not in [r["id"] for r in rooms1],
         "room names repeat across centres, ids do not",
         (rooms1, rooms2))
    meds2 = s.listing("--centre", "2", "mediator", "list", "--json")
    room2, med2 = rooms2[0]["id"], meds2[0]["id"]
    cases2 = s.listing("--centre", "2", "case", "list", "--json")
    cases1 = s.listing("case", "list", "--json")
    t.ok(len(cases2) == 1 and cases2[0]["id"] not in
         [c["id"] for c in cases1], "each centre lists its own cases",
         (len(cases1), cases2))
    case1 = cases1[0]["id"]
    case2 = cases2[0]["id"]

    # the same time in both centres: no conflict
    agenda1 = s.agenda("--from", "2026-12-07", "--to", "2026-12-31")
    first = min((b for b in agenda1 if pick(b, "status") == "confirmed"),
                key=lambda b: pick(b, "start"), default={})
    at = (first.get("start") or "")[:16]
    r = s.succeeds("centre 2 books the time a booking of centre 1 holds",
                   "--centre", "2", "book", str(case2), "--at", at,
                   "--room", str(room2), "--mediator", str(med2), "--json")
    b2 = (r.json() or {}).get("id")
    agenda2 = s.listing("--centre", "2", "agenda", "--from", "2026-12-07",
                        "--to", "2026-12-31", "--json")
    t.ok([b.get("id") for b in agenda2] == [b2] and b2 not in
         [b.get("id") for b in s.agenda("--from", "2026-12-07", "--to",
                                        "2026-12-31")],
         "each agenda shows its own centre's sessions", agenda2)
    s.fails("centre 2 cannot book centre 1's room", "--centre", "2", "book",
            str(case2), "--at", "2026-12-09T10:00", "--room",
            str(rooms1[0]["id"]), "--mediator", str(med2))
    s.fails("centre 2 cannot book centre 1's mediator", "--centre", "2",
            "book", str(case2), "--at", "2026-12-09T10:00", "--room",
            str(room2), "--mediator", "1")

    # one centre's ids through the other: not found
    for name, args in (
            ("case show", ["case", "show", str(case1)]),
            ("case dispatch", ["case", "dispatch", str(case1),
                               "--department", "legal-aid"]),
            ("book", ["book", str(case1)]),
            ("cancel", ["cancel", str(first.get("id"))]),
            ("booking note", ["booking", "note", str(first.get("id")), "x"]),
            ("invite", ["invite", str(first.get("id"))]),
            ("mediator leave", ["mediator", "leave", "1", "--from",
                                "2026-12-20T09:00", "--to",
                                "2026-12-20T18:00"]),
            ("feed centre", ["feed", "centre", "1"]),
            ("feed-link room", ["feed-link", "room", str(rooms1[0]["id"])])):
        r = s.fails("--centre 2 %s of centre 1's id" % name, "--centre", "2",
                    *args, code=1)
        t.ok("in centre 2" in r.err or "here" in r.err or
             "not in centre 2" in r.err,
             "… says it is not centre 2's", r.describe())
    r = s.fails("centre 1 cannot see centre 2's case by id", "case", "show",
                str(case2), code=1)

    # users belong to their centre
    s.succeeds("user add --centre 2", "--centre", "2", "user", "add",
               "clerk2", "--role", "clerk", "--iterations", "1000",
               stdin=StdinText("password-clerk2\n"))
    s.fails("a mediator user of centre 1's mediator in centre 2", "--centre",
            "2", "user", "add", "med2", "--role", "mediator", "--mediator",
            "1", "--iterations", "1000", stdin=StdinText("password-med2\n"),
            code=1)
    users2 = s.listing("--centre", "2", "user", "list", "--json")
    users1 = s.listing("user", "list", "--json")
    t.ok([u["name"] for u in users2] == ["clerk2"]
         and "clerk2" not in [u["name"] for u in users1],
         "user list shows the centre's users", (users1, users2))
    r = s.fails("user token of centre 2's user without --centre 2", "user",
                "token", "clerk2", code=1)
    t.ok("--centre 2" in r.err, "… says to use --centre 2", r.describe())
    r = s.succeeds("user token --centre 2", "--centre", "2", "user",
                   "token", "clerk2")
    t.ok(len(r.out.strip()) >= 40, "prints the token", r.describe())


def main():
    tap = Tap()
    exe = medsched_path(tap)
    with tempdir() as tmp:
        med = Med(exe, new_db(tmp, "centre"), now=NOW, cwd=tmp)
        s = Suite(tap, med, tmp)
        test_help(s, exe)
        test_setup(s)
        test_cases(s)
        test_booking(s)
        test_bad_arguments(s)
        test_import(s)
        test_calendar_import(s)
        test_foreign_files(s)
        test_audit_tamper(s)
        test_province(s)
        s.succeeds("audit verify after everything", "audit", "verify")
        s.succeeds("check after everything", "check")
        if not is_pg(med.db):
            con = connect_ro(med.db)
            ic = con.execute("PRAGMA integrity_check").fetchone()[0]
            con.close()
            tap.ok(ic == "ok", "PRAGMA integrity_check", ic)
        bad = [r.describe() for r in med.history
               if r.crashed() or r.forbidden()]
        tap.ok(not bad, "no command crashed or printed CRITICAL/WARNING "
               "(%d commands run)" % len(med.history), "\n".join(bad[:10]))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
