#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""plan-gen.py — generates working days for the day-planner benchmark.

Each day is one JSON file: a centre's settings, its rooms, mediators,
interpreters and the day's dispatched cases in medsched's own import format
(docs/import-format.md) under "import", the bookings already made that day,
the date to plan and the moment the plan is made ("now"). Both sides of the
benchmark read the same file: medsched (tests/bench/bench-plan.c, through
med_import_doc_parse) and the exact MIP peer (tests/bench/plan-peer.py).

The days are meant to be hard in the ways a real centre is: one or two
family rooms for the family and minors cases, long sessions, a few
interpreters for Tibetan-speaking parties, mediators with narrow
specialties, daily caps, half-day leave, setup and cleanup buffers, a party
in two cases, urgent cases planned the same morning (they ignore the
minimum notice), deadlines that end at noon, and more cases than the day
holds. Sizes follow issue 13: 3–12 rooms, 4–30 mediators, 10–96 cases, plus
a 100-case day and a 1,000-case province day.

    plan-gen.py --seed 13 --days 33 --out DIR     # day-01.json … day-33.json,
                                                  # day-100.json, province.json
    plan-gen.py --seed 7 --days 0 --province 0 --out DIR   # only day-100

Deterministic: the same seed gives byte-identical files. Party names are
invented placeholders (当事人1, ཐོ་ཁོངས1), contacts are sequence numbers."""

import argparse
import json
import os
import random

KINDS = ["wages", "neighbour", "contract", "land", "traffic", "consumer",
         "divorce", "custody", "support", "inheritance", "other"]
FAMILY_KINDS = {"divorce", "custody", "support", "inheritance"}
# how often each kind reaches the centre (a county centre in Tibet: wages
# and neighbour disputes first, then family matters)
KIND_WEIGHTS = [18, 14, 9, 8, 6, 5, 10, 6, 7, 5, 4]
# dates in December 2026 that are ordinary working days (no holiday, no
# make-up day), so both sides agree on the windows without a calendar
DATES = ["2026-12-%02d" % d for d in (7, 8, 9, 10, 11, 14, 15, 16, 17, 18,
                                      21, 22, 23, 24, 25, 28, 29, 30, 31)]
HOURS = ["09:00-12:00,14:30-18:00", "09:30-13:00,15:30-18:30",
         "09:00-12:00,13:30-17:30"]


def hm(minutes):
    return "%02d:%02d" % (minutes // 60, minutes % 60)


def parse_hours(spec):
    out = []
    for part in spec.split(","):
        a, b = part.split("-")
        out.append((int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])))
    return out


def make_day(rng, name, date, n_rooms, n_med, n_cases, n_interp=None,
             province=False):
    hours = rng.choice(HOURS) if not province else HOURS[0]
    windows = parse_hours(hours)
    slot = rng.choice([15, 15, 15, 10, 30]) if not province else 15
    notice = rng.choice([30, 60, 60, 120])
    centre = {"hours": hours, "min_notice_minutes": notice,
              "slot_minutes": slot, "default_duration_minutes": 60,
              "allow_fallback": rng.random() < 0.85 or province}

    # rooms: few family rooms, at least one remote room on most days
    rooms = []
    n_family = max(1, round(n_rooms * rng.uniform(0.1, 0.3)))
    n_remote = 0 if rng.random() < 0.1 else max(1, round(n_rooms * 0.15))
    n_remote = min(n_remote, n_rooms - n_family - 1)
    kinds = ["family"] * n_family + ["remote"] * max(n_remote, 0)
    kinds += ["warm"] * (n_rooms - len(kinds))
    for i, kind in enumerate(kinds):
        feats = []
        if kind == "family" and rng.random() < 0.3:
            feats.append("video")
        if kind == "warm" and rng.random() < 0.15:
            feats.append("video")
        if kind == "family":
            feats.append("child-friendly")
        rooms.append({
            "name": {"warm": "温馨调解室", "family": "家事调解室",
                     "remote": "远程调解室"}[kind] + str(i + 1),
            "kind": kind, "capacity": rng.choice([4, 5, 6, 6, 8, 10, 12]),
            "features": feats,
            "setup_minutes": rng.choice([0, 0, 5, 10, 15]),
            "cleanup_minutes": rng.choice([0, 5, 10])})

    # mediators: narrow specialties, a third to a half speak Tibetan
    mediators = []
    bo_share = rng.uniform(0.2, 0.5)
    day_start = windows[0][0]
    day_end = windows[-1][1]
    for i in range(n_med):
        langs = []
        if rng.random() < 0.92:
            langs.append("zh")
        if rng.random() < bo_share or not langs:
            langs.append("bo")
        if rng.random() < 0.05:
            langs.append("en")
        spec = [k for k in KINDS if rng.random() < rng.choice([0.25, 0.4, 0.6])]
        if not spec:
            spec = [rng.choice(KINDS)]
        m = {"name": "调解员%d" % (i + 1), "languages": langs,
             "specialties": spec, "daily_cap": rng.choice([2, 3, 3, 4, 4, 5, 6])}
        r = rng.random()
        if r < 0.06:
            m["leave"] = [{"start": date + "T00:00",
                           "end": date + "T23:59"}]
        elif r < 0.22:
            # half-day leave, morning or afternoon
            if rng.random() < 0.5:
                a, b = day_start - 30, windows[0][1]
            else:
                a, b = windows[-1][0], day_end + 30
            m["leave"] = [{"start": "%sT%s" % (date, hm(a)),
                           "end": "%sT%s" % (date, hm(b))}]
        mediators.append(m)
    # every kind has at least one specialist most days
    for k in KINDS:
        if rng.random() < 0.9 and not any(k in m["specialties"]
                                          for m in mediators):
            rng.choice(mediators)["specialties"].append(k)

    if n_interp is None:
        n_interp = rng.choice([0, 1, 1, 2, 2, 3])
    interpreters = []
    for i in range(n_interp):
        pairs = ["zh:bo"] if rng.random() < 0.85 else ["zh:en", "bo:en"]
        interpreters.append({"name": "译员%d" % (i + 1), "pairs": pairs})

    # cases
    cases = []
    contacts = []
    seq = [0]

    def new_contact():
        seq[0] += 1
        return "1390891%04d" % seq[0]

    for i in range(n_cases):
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        minors = rng.random() < (0.35 if kind in ("custody", "support",
                                                  "divorce") else 0.05)
        d = rng.choices([30, 45, 60, 90, 120, 150, 180, 240],
                        [8, 10, 30, 22, 14, 6, 7, 3])[0]
        urgent = rng.random() < 0.12
        bo_case = rng.random() < rng.uniform(0.25, 0.45)
        parties = []
        for p in range(rng.choice([2, 2, 2, 3, 3, 4])):
            lang = "bo" if (bo_case and rng.random() < 0.7) else "zh"
            if rng.random() < 0.03:
                lang = "en"
            remote = rng.random() < 0.10
            if contacts and rng.random() < 0.04:
                # the same person in two cases (never twice in one case)
                contact = rng.choice(contacts)
                if any(x["contact"] == contact for x in parties):
                    contact = new_contact()
            else:
                contact = new_contact()
                contacts.append(contact)
            pname = ("ཐོ་ཁོངས%d" if lang == "bo" else "当事人%d") % (i * 4 + p)
            parties.append({"name": pname,
                            "role": "applicant" if p == 0 else
                            ("respondent" if p == 1 else "third-party"),
                            "language": lang,
                            "attendance": "remote" if remote else "in-person",
                            "contact": contact})
        c = {"number": "(2026)藏0102民调%d号" % (i + 1), "kind": kind,
             "minors": minors, "urgent": urgent,
             "intake_at": "2026-11-%02dT%s" % (rng.randint(1, 30),
                                               hm(rng.randint(540, 1080))),
             "duration_minutes": d, "department": "court-mediation",
             "parties": parties}
        if rng.random() < 0.08:
            c["deadline"] = "%sT%s" % (date, hm(rng.choice(
                [windows[0][1], windows[-1][0] + 90, day_end])))
        cases.append(c)

    # when the plan is made: the evening before (notice does not bind) or
    # the same morning (urgent cases may start before the notice)
    if rng.random() < 0.55 and not province:
        now = "%sT%s" % (date, hm(rng.choice([day_start - 90, day_start - 30,
                                               day_start + 30,
                                               day_start + 75])))
    else:
        y, mo, dd = (int(x) for x in date.split("-"))
        now = "%04d-%02d-%02dT17:30" % (y, mo, dd - 1) if dd > 1 else \
            "%04d-%02d-01T06:00" % (y, mo)

    # bookings already made for the day (earlier plans, hand bookings)
    bookings = []
    if rng.random() < 0.35:
        busy_r = {i: [] for i in range(len(rooms))}
        busy_m = {i: [] for i in range(len(mediators))}
        cap_used = {i: 0 for i in range(len(mediators))}
        for _ in range(rng.randint(1, max(1, n_rooms // 2 + 2))):
            r = rng.randrange(len(rooms))
            m = rng.randrange(len(mediators))
            if "leave" in mediators[m] or \
                    cap_used[m] >= mediators[m]["daily_cap"] - 1:
                continue
            w = rng.choice(windows)
            dur = rng.choice([60, 90, 120])
            start = w[0] + slot * rng.randrange(max(1, (w[1] - w[0] - dur)
                                                    // slot + 1))
            end = start + dur
            if end > w[1]:
                continue
            room = rooms[r]
            a, b = start - room["setup_minutes"], end + room["cleanup_minutes"]
            if any(a < y2 and x2 < b for x2, y2 in busy_r[r]):
                continue
            if any(start < y2 and x2 < end for x2, y2 in busy_m[m]):
                continue
            busy_r[r].append((a, b))
            busy_m[m].append((start, end))
            cap_used[m] += 1
            bookings.append({"room": r, "mediator": m, "interpreter": None,
                             "start": "%sT%s" % (date, hm(start)),
                             "end": "%sT%s" % (date, hm(end))})

    return {"generator": "tests/bench/plan-gen.py", "name": name,
            "date": date, "now": now, "centre": centre,
            "import": {"rooms": rooms, "mediators": mediators,
                       "interpreters": interpreters, "cases": cases},
            "bookings": bookings}


def working_day(rng, i):
    n_rooms = rng.randint(3, 12)
    n_med = rng.randint(max(4, n_rooms), min(30, max(4, n_rooms * 3)))
    # demand: 0.8–1.6 of what the rooms can hold (about 5 sessions a room)
    n_cases = int(n_rooms * 5 * rng.uniform(0.8, 1.6))
    n_cases = max(10, min(96, n_cases))
    return make_day(rng, "day-%02d" % (i + 1), DATES[i % len(DATES)],
                    n_rooms, n_med, n_cases)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--days", type=int, default=33)
    ap.add_argument("--hundred", type=int, default=1,
                    help="how many 100-case days (12 rooms, 30 mediators)")
    ap.add_argument("--province", type=int, default=1,
                    help="how many 1,000-case province days")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    days = []
    for i in range(a.days):
        days.append(working_day(random.Random(a.seed * 1000 + i), i))
    for i in range(a.hundred):
        rng = random.Random(a.seed * 1000 + 500 + i)
        days.append(make_day(rng, "day-100" + ("" if i == 0 else "-%d" % i),
                             DATES[i % len(DATES)], 12, 30, 100, n_interp=3))
    for i in range(a.province):
        rng = random.Random(a.seed * 1000 + 900 + i)
        days.append(make_day(rng, "province" + ("" if i == 0 else "-%d" % i),
                             DATES[(i + 3) % len(DATES)], 120, 300, 1000,
                             n_interp=24, province=True))
    for d in days:
        with open(os.path.join(a.out, d["name"] + ".json"), "w",
                  encoding="utf-8") as f:
            json.dump(d, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write("\n")
    print("\n".join(d["name"] for d in days))


if __name__ == "__main__":
    main()
