#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""plan-peer.py — the reference for the day-planner benchmark: an exact
time-indexed integer programme under medsched's scheduling rules
(docs/scheduling.md), solved by CBC through PuLP (Debian python3-pulp,
coinor-cbc), and an independent checker of medsched's plans.

Written from the rules, not from medsched's code: it reads a day produced by
tests/bench/plan-gen.py and nothing else.

    plan-peer.py solve DAY.json [--time-limit S]   → JSON on stdout:
        {"optimum": n, "urgent": u, "bound": b, "status": "optimal"|…, "s": t}
    plan-peer.py check DAY.json PLAN.json          → every rule a plan
        breaks, one per line; exit 1 if any

The model. For each case c, the options are (t, room, unit) with t on the
slot grid of the day, inside one working window, not before the case's
earliest start (now + minimum notice, or now for an urgent case), ending by
its deadline; rooms of the preferred kind or of the centre's fallback kind,
with a video terminal when a party is remote, seating everyone present;
units are a mediator of the case's kind with an interpreter when the
parties need one. An option must be free of the bookings already made. Then

    y[c,t]   the case starts at t        sum_t y[c,t] <= 1
    x[c,t,p] in room pool p              sum_p x[c,t,p] = y[c,t]
    z[c,t,u] with unit u                 sum_u z[c,t,u] = y[c,t]

rooms with identical kind, features, seats, buffers and bookings are pooled
(interval graphs are perfect, so "at most n at any moment" is exact for n
identical rooms). At every moment a room pool holds at most its size
(sessions widened by setup and cleanup), a mediator and an interpreter at
most one session, a person in two cases is in one session; a mediator holds
at most his daily cap minus the sessions already booked. The objective is
lexicographic in one sum: (cases + 1) per urgent case placed, plus one per
case placed."""

import argparse
import json
import os
import sys
import tempfile
import time

FAMILY_KINDS = {"divorce", "custody", "support", "inheritance"}

# bench-plan.py keys its cache of CBC's answers by the day and this: bump
# it whenever the rules or the model below change
MODEL_VERSION = "2"


def minutes(date, text):
    """Minutes of a local "YYYY-MM-DDTHH:MM" from the day's local midnight
    (Asia/Shanghai has no daylight saving time)."""
    d, _, t = text.partition("T")
    base = 0
    if d != date:
        # only the evening before or after the planned day occurs
        base = -1440 if d < date else 1440
    if not t:
        return base
    return base + int(t[:2]) * 60 + int(t[3:5])


class Day:
    def __init__(self, doc):
        self.doc = doc
        self.name = doc["name"]
        date = self.date = doc["date"]
        c = doc["centre"]
        self.slot = c["slot_minutes"]
        self.notice = c["min_notice_minutes"]
        self.allow_fallback = c["allow_fallback"]
        self.default_duration = c["default_duration_minutes"]
        self.windows = []
        for part in c["hours"].split(","):
            a, b = part.split("-")
            self.windows.append((int(a[:2]) * 60 + int(a[3:]),
                                 int(b[:2]) * 60 + int(b[3:])))
        self.now = minutes(date, doc["now"])
        imp = doc["import"]
        self.rooms = imp["rooms"]
        self.meds = imp["mediators"]
        self.interps = imp["interpreters"]
        self.cases = imp["cases"]
        # bookings already made
        self.room_busy = [[] for _ in self.rooms]
        self.med_busy = [[] for _ in self.meds]
        self.int_busy = [[] for _ in self.interps]
        self.med_booked = [0] * len(self.meds)
        for b in doc["bookings"]:
            s, e = minutes(date, b["start"]), minutes(date, b["end"])
            r = self.rooms[b["room"]]
            self.room_busy[b["room"]].append(
                (s - r["setup_minutes"], e + r["cleanup_minutes"]))
            self.med_busy[b["mediator"]].append((s, e))
            self.med_booked[b["mediator"]] += 1
            if b.get("interpreter") is not None:
                self.int_busy[b["interpreter"]].append((s, e))
        self.med_away = [False] * len(self.meds)
        for i, m in enumerate(self.meds):
            for lv in m.get("leave", []):
                a, b = minutes(date, lv["start"]), minutes(date, lv["end"])
                self.med_busy[i].append((a, b))
                if a <= self.windows[0][0] and b >= self.windows[-1][1]:
                    self.med_away[i] = True
        self.prepare()

    # ---- the rules, case by case ----

    def video(self, r):
        return r["kind"] == "remote" or "video" in r.get("features", [])

    def room_sets(self, c):
        """(preferred rooms, fallback rooms) as index lists."""
        remote = any(p.get("attendance") == "remote" for p in c["parties"])
        in_person = 1 + sum(p.get("attendance", "in-person") == "in-person"
                            for p in c["parties"])
        minors = c.get("minors", False)
        if minors or c["kind"] in FAMILY_KINDS:
            pref = "family"
        elif remote:
            pref = "remote"
        else:
            pref = "warm"

        def ok(r):
            return (not remote or self.video(r)) and r["capacity"] >= in_person

        prefs = [i for i, r in enumerate(self.rooms)
                 if r["kind"] == pref and ok(r)]
        fb = []
        if self.allow_fallback:
            if pref == "family":
                # minors: never a warm room; the remote room only when no
                # family room with a terminal seats the session
                if remote and not (minors and prefs):
                    fb = [i for i, r in enumerate(self.rooms)
                          if r["kind"] == "remote" and ok(r)]
                elif not remote and not minors:
                    fb = [i for i, r in enumerate(self.rooms)
                          if r["kind"] == "warm" and ok(r)]
            elif pref == "warm":
                fb = [i for i, r in enumerate(self.rooms)
                      if r["kind"] == "family" and ok(r)]
            else:
                fb = [i for i, r in enumerate(self.rooms)
                      if r["kind"] != "remote" and self.video(r) and ok(r)]
        return prefs, fb

    def covers(self, it, a, b):
        for pair in it["pairs"]:
            x, y = pair.split(":")
            if (x, y) in ((a, b), (b, a)):
                return True
        return False

    def units(self, c):
        out = []
        for m, med in enumerate(self.meds):
            if c["kind"] not in med.get("specialties", []):
                continue
            if self.med_away[m] or self.med_booked[m] >= med["daily_cap"]:
                continue
            missing = sorted({p["language"] for p in c["parties"]
                              if p["language"] not in med["languages"]})
            if not missing:
                out.append((m, None))
                continue
            for i, it in enumerate(self.interps):
                if all(any(self.covers(it, ml, lang)
                           for ml in med["languages"]) for lang in missing):
                    out.append((m, i))
        return out

    def duration(self, c):
        return c.get("duration_minutes") or self.default_duration

    def starts(self, c):
        d = self.duration(c)
        nb = max(0, self.now + (0 if c.get("urgent") else self.notice))
        nb = max(nb, self.now)
        dl = minutes(self.date, c["deadline"]) if c.get("deadline") else None
        out = []
        for a, b in self.windows:
            end = b if dl is None else min(b, dl)
            t = max(a, nb)
            t = -(-t // self.slot) * self.slot  # up to the grid
            while t + d <= end:
                out.append(t)
                t += self.slot
        return out

    def prepare(self):
        self.opts = []  # per case: list of (t, [rooms], [fallback rooms], [units])
        for c in self.cases:
            d = self.duration(c)
            prefs, fb = self.room_sets(c)
            units = self.units(c)
            per_t = []
            for t in self.starts(c):
                def room_free(r):
                    room = self.rooms[r]
                    a = t - room["setup_minutes"]
                    b = t + d + room["cleanup_minutes"]
                    return not any(a < y and x < b for x, y in
                                   self.room_busy[r])

                def unit_free(u):
                    m, i = u
                    if any(t < y and x < t + d for x, y in self.med_busy[m]):
                        return False
                    return i is None or not any(
                        t < y and x < t + d for x, y in self.int_busy[i])
                rp = [r for r in prefs if room_free(r)]
                rf = [r for r in fb if room_free(r)]
                us = [u for u in units if unit_free(u)]
                if (rp or rf) and us:
                    per_t.append((t, rp, rf, us))
            self.opts.append(per_t)

    # ---- the independent check of a plan ----

    def check(self, plan):
        bad = []
        seen = {}
        room_use = [list(x) for x in self.room_busy]
        med_use = [list(x) for x in self.med_busy]
        int_use = [list(x) for x in self.int_busy]
        med_count = list(self.med_booked)
        contact_use = {}
        for it in plan["items"]:
            ci = it["case"]
            c = self.cases[ci]
            if ci in seen:
                bad.append("%s placed twice" % c["number"])
            seen[ci] = True
            t = minutes(self.date, it["start"])
            d = self.duration(c)
            if minutes(self.date, it["end"]) != t + d:
                bad.append("%s: wrong length" % c["number"])
            r, m = it["room"], it["mediator"]
            i = it.get("interpreter")
            opts = [o for o in self.opts[ci] if o[0] == t]
            if t not in self.starts(c):
                bad.append("%s: start %s not allowed (window, grid, notice "
                           "or deadline)" % (c["number"], it["start"]))
            prefs, fb = self.room_sets(c)
            if r not in prefs and r not in fb:
                bad.append("%s: room %d does not suit" % (c["number"], r))
            if bool(it.get("fallback")) != (r not in prefs):
                bad.append("%s: fallback flag wrong" % c["number"])
            if (m, i) not in self.units(c):
                bad.append("%s: mediator %d / interpreter %s cannot take it"
                           % (c["number"], m, i))
            room = self.rooms[r]
            a, b = t - room["setup_minutes"], t + d + room["cleanup_minutes"]
            if any(a < y and x < b for x, y in room_use[r]):
                bad.append("%s: room %d double-booked" % (c["number"], r))
            room_use[r].append((a, b))
            if any(t < y and x < t + d for x, y in med_use[m]):
                bad.append("%s: mediator %d busy" % (c["number"], m))
            med_use[m].append((t, t + d))
            med_count[m] += 1
            if med_count[m] > self.meds[m]["daily_cap"]:
                bad.append("%s: mediator %d over the daily cap"
                           % (c["number"], m))
            if i is not None:
                if any(t < y and x < t + d for x, y in int_use[i]):
                    bad.append("%s: interpreter %d busy" % (c["number"], i))
                int_use[i].append((t, t + d))
            for k in sorted({p.get("contact") for p in c["parties"]
                             if p.get("contact")}):
                if any(t < y and x < t + d for x, y in
                       contact_use.get(k, [])):
                    bad.append("%s: a party is in two sessions" % c["number"])
                contact_use.setdefault(k, []).append((t, t + d))
            del opts
        return bad

    # ---- the MIP ----

    def solve(self, time_limit, threads=1, solver_name="cbc"):
        import pulp
        n = len(self.cases)
        prob = pulp.LpProblem("day", pulp.LpMaximize)
        # room pools: identical rooms
        pool_of = {}
        pools = []
        for r, room in enumerate(self.rooms):
            key = (room["kind"], self.video(room), room["capacity"],
                   room["setup_minutes"], room["cleanup_minutes"],
                   tuple(sorted(self.room_busy[r])))
            if key not in pool_of:
                pool_of[key] = len(pools)
                pools.append([])
            pools[pool_of[key]].append(r)
        room_pool = {}
        for p, rs in enumerate(pools):
            for r in rs:
                room_pool[r] = p
        y = {}
        room_terms = {}  # pool → list of (a, b, var)
        med_terms = {}
        int_terms = {}
        med_all = {}
        contact_terms = {}
        obj = []
        for ci, c in enumerate(self.cases):
            d = self.duration(c)
            w = (n + 1 if c.get("urgent") else 0) + 1
            ys = []
            for (t, rp, rf, us) in self.opts[ci]:
                v = pulp.LpVariable("y_%d_%d" % (ci, t), cat="Binary")
                y[ci, t] = v
                ys.append(v)
                obj.append(w * v)
                xs = []
                for p in sorted({room_pool[r] for r in rp + rf}):
                    xv = pulp.LpVariable("x_%d_%d_%d" % (ci, t, p),
                                         cat="Binary")
                    xs.append(xv)
                    room = self.rooms[pools[p][0]]
                    room_terms.setdefault(p, []).append(
                        (t - room["setup_minutes"],
                         t + d + room["cleanup_minutes"], xv))
                prob += pulp.lpSum(xs) == v
                zs = []
                for (m, i) in us:
                    zv = pulp.LpVariable("z_%d_%d_%d_%s" % (ci, t, m, i),
                                         cat="Binary")
                    zs.append(zv)
                    med_terms.setdefault(m, []).append((t, t + d, zv))
                    med_all.setdefault(m, []).append(zv)
                    if i is not None:
                        int_terms.setdefault(i, []).append((t, t + d, zv))
                prob += pulp.lpSum(zs) == v
                for k in sorted({p.get("contact") for p in c["parties"]
                                 if p.get("contact")}):
                    contact_terms.setdefault(k, {}).setdefault(
                        ci, []).append((t, t + d, v))
            if ys:
                prob += pulp.lpSum(ys) <= 1

        def cliques(terms, cap):
            for tau in sorted({a for a, _, _ in terms}):
                cover = [v for a, b, v in terms if a <= tau < b]
                if len(cover) > cap:
                    prob.addConstraint(pulp.lpSum(cover) <= cap)

        for p, terms in room_terms.items():
            cliques(terms, len(pools[p]))
        for m, terms in med_terms.items():
            cliques(terms, 1)
            left = self.meds[m]["daily_cap"] - self.med_booked[m]
            if len(med_all[m]) > left:
                prob += pulp.lpSum(med_all[m]) <= left
        for i, terms in int_terms.items():
            cliques(terms, 1)
        for k, by_case in contact_terms.items():
            if len(by_case) < 2:
                continue
            terms = [x for v in by_case.values() for x in v]
            cliques(terms, 1)
        prob += pulp.lpSum(obj)
        t0 = time.time()
        if solver_name == "glpk":
            # the same model through GLPK (glpsol, Debian glpk-utils): to
            # measure whether an embedded GLPK could plan a day in time
            status = prob.solve(pulp.GLPK_CMD(msg=False, timeLimit=int(
                max(1, time_limit))))
            took = time.time() - t0
            # PuLP reads glpsol's "INTEGER NON-OPTIMAL" (stopped on the
            # time limit) as optimal: a run that used the whole limit is not
            optimal = pulp.LpStatus[status] == "Optimal" and \
                took < max(1, time_limit) - 0.5
            placed = sum(1 for v in y.values()
                         if v.value() is not None and v.value() > 0.5)
            return {"day": self.name, "cases": n, "solver": "glpk",
                    "optimum": placed if optimal else None,
                    "status": "optimal" if optimal else "stopped",
                    "s": round(took, 2)}
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "cbc.log")
            solver = pulp.COIN_CMD(msg=False, timeLimit=time_limit,
                                   threads=threads, logPath=log,
                                   options=["randomSeed 1"])
            status = prob.solve(solver)
            with open(log, encoding="utf-8", errors="replace") as f:
                text = f.read()
        took = time.time() - t0
        # CBC's best bound on the objective, when it stopped early
        obj_bound = None
        for line in text.splitlines():
            if line.startswith(("Lower bound:", "Upper bound:")):
                try:
                    obj_bound = abs(float(line.split(":")[1]))
                except ValueError:
                    pass
        # PuLP reports a time-limited run as feasible even when CBC found
        # nothing; CBC's own log says which
        optimal = prob.sol_status == pulp.LpSolutionOptimal and \
            "Result - Optimal solution found" in text
        feasible = optimal or (
            prob.sol_status == pulp.LpSolutionIntegerFeasible
            and "No feasible solution found" not in text)
        placed = urgent = None
        if feasible:
            placed = urgent = 0
            for (ci, t), v in y.items():
                if v.value() is not None and v.value() > 0.5:
                    placed += 1
                    urgent += bool(self.cases[ci].get("urgent"))
        if optimal:
            obj_bound = (n + 1) * urgent + placed
        self.solution = []
        if feasible:
            for (ci, t), v in y.items():
                if v.value() is not None and v.value() > 0.5:
                    self.solution.append((ci, t))
        return {"day": self.name, "cases": n,
                "optimum": placed if optimal else None,
                "incumbent": placed, "urgent": urgent,
                # CBC's best bound on (cases + 1) * urgent + placed: with
                # u urgent cases placed by any plan, no lexicographic
                # optimum places more than bound - (cases + 1) * u
                "objective_bound": obj_bound,
                "status": "optimal" if optimal else
                ("feasible" if feasible else "no solution"),
                "cbc": " / ".join(x.strip() for x in text.splitlines()
                                  if x.startswith(("Result -",
                                                   "Objective value:",
                                                   "No feasible"))),
                "vars": len(prob.variables()),
                "rows": len(prob.constraints), "s": round(took, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("solve")
    s.add_argument("day")
    s.add_argument("--time-limit", type=float, default=600)
    s.add_argument("--solver", choices=["cbc", "glpk"], default="cbc")
    s.add_argument("--starts", help="write the cases placed and their "
                   "starts (minutes) to this JSON file")
    k = sub.add_parser("check")
    k.add_argument("day")
    k.add_argument("plan")
    a = ap.parse_args()
    with open(a.day, encoding="utf-8") as f:
        day = Day(json.load(f))
    if a.cmd == "solve":
        print(json.dumps(day.solve(a.time_limit, solver_name=a.solver)))
        if a.starts:
            with open(a.starts, "w") as f:
                json.dump(sorted(getattr(day, "solution", [])), f)
        return 0
    with open(a.plan, encoding="utf-8") as f:
        plan = json.load(f)
    bad = day.check(plan)
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
