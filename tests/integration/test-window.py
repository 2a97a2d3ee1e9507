#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-window.py — the CLI reads bookings in growing windows (14 days, 8
weeks, the whole horizon) instead of a year at once. This checks that the
answer is the one a search over the whole horizon gives:

  - the family room is booked solid for four weeks, the warm room is free:
    a divorce case whose deadline lies beyond those weeks still gets the
    family room (the preferred kind), not the free warm room as a fallback
    found inside the first window;
  - with a deadline inside the busy weeks the fallback is right, and says so;
  - a hand-picked slot far in the future is checked against the bookings of
    its own day (a room taken then is refused with exit 3).
"""

import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from medtest import Med, Tap, calendars_dir, medsched_path, tempdir  # noqa

NOW = "2026-03-02T08:00"  # a Monday


def working_days(start, n):
    """n weekdays from start (the March–April 2026 range has no national
    holiday on a weekday except 04-06, which is skipped)."""
    d = start
    out = []
    while len(out) < n:
        if d.weekday() < 5 and d != datetime.date(2026, 4, 6):
            out.append(d)
        d += datetime.timedelta(days=1)
    return out


def main():
    tap = Tap()
    exe = medsched_path(tap)
    with tempdir() as tmp:
        med = Med(exe, os.path.join(tmp, "w.db"), now=NOW, cwd=tmp)
        r = med.run("init", "--name", "窗口测试", "--calendars",
                    calendars_dir(), now="2026-03-01T08:00")
        tap.ok(r.rc == 0, "init", r.describe())
        fillers = []
        for i in range(60):
            fillers.append({
                "number": "F%d" % i, "kind": "divorce",
                "department": "court-mediation",
                "parties": [{"name": "甲", "role": "applicant",
                             "language": "zh", "contact": "1390000%04d" % i}],
            })
        doc = {
            "rooms": [
                {"name": "温馨调解室", "kind": "warm", "capacity": 6},
                {"name": "家事调解室", "kind": "family", "capacity": 6},
            ],
            "mediators": [
                {"name": "甲调解员", "languages": ["zh"],
                 "specialties": ["divorce"], "daily_cap": 8},
                {"name": "乙调解员", "languages": ["zh"],
                 "specialties": ["divorce"], "daily_cap": 8},
            ],
            "cases": fillers + [
                {"number": "LATE", "kind": "divorce",
                 "department": "court-mediation", "deadline": "2026-05-29",
                 "parties": [{"name": "乙", "role": "applicant",
                              "language": "zh"}]},
                {"number": "SOON", "kind": "divorce",
                 "department": "court-mediation", "deadline": "2026-03-20",
                 "parties": [{"name": "丙", "role": "applicant",
                              "language": "zh"}]},
            ],
        }
        path = os.path.join(tmp, "doc.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        r = med.run("import", path)
        tap.ok(r.rc == 0, "import", r.describe())

        # Book the family room (id 2) solid with mediator 2 for 25 working
        # days from 2026-03-02.
        days = working_days(datetime.date(2026, 3, 2), 25)
        ok = True
        for i, d in enumerate(days):
            for start, minutes in (("09:00", 180), ("14:30", 210)):
                r = med.run("book", "F%d" % (i * 2 + (start == "14:30")),
                            "--at", "%sT%s" % (d.isoformat(), start),
                            "--room", "2", "--mediator", "2",
                            "--duration", str(minutes))
                if r.rc != 0:
                    ok = tap.ok(False, "fill %s %s" % (d, start),
                                r.describe())
                    break
        tap.ok(ok, "family room booked solid for 25 working days")
        last_busy = days[-1]

        r = med.run("slots", "LATE", "--json", "--count", "1")
        slots = r.json() or []
        first = slots[0] if slots else {}
        tap.ok(r.rc == 0 and first.get("room_kind") == "family"
               and first.get("fallback") is False
               and first.get("start", "") > last_busy.isoformat(),
               "deadline beyond the busy weeks: the family room after them, "
               "no fallback inside the first window", r.describe())

        r = med.run("slots", "SOON", "--json", "--count", "1")
        slots = r.json() or []
        first = slots[0] if slots else {}
        tap.ok(r.rc == 0 and first.get("room_kind") == "warm"
               and first.get("fallback") is True
               and "fallback" in first.get("explanation", ""),
               "deadline inside the busy weeks: the warm room, explained as a "
               "fallback", r.describe())

        # A hand-picked slot 5 months ahead, over a booking of that day.
        far = "2026-08-03"
        r = med.run("book", "F59", "--at", far + "T10:00", "--room", "1",
                    "--mediator", "1")
        tap.ok(r.rc == 0, "book a session far ahead", r.describe())
        r = med.run("book", "F58", "--at", far + "T10:30", "--room", "1",
                    "--mediator", "2")
        tap.ok(r.rc == 3 and "medsched: " in r.err,
               "a far-ahead hand-picked slot over a booked room: exit 3",
               r.describe())
        r = med.run("check")
        tap.ok(r.rc == 0, "check", r.describe())
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
