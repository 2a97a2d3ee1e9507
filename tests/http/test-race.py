#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-race.py — the booking race over HTTP: N concurrent clients (each
its own keep-alive connection) try to book the same few slots for
different cases through POST /api/v1/bookings. Afterwards every slot has
exactly one winner (201), every other attempt got 409, and the store
holds no overlap (`medsched check`) and exactly one confirmed booking per
slot.

    test-race.py [--clients 16] [--attempts 2000] [--cases 200]

The defaults are the small run of `meson test` / scripts/check; the
benchmark runs 64 clients and 100,000 attempts and prints "# key value"
lines. Each slot is a (start, room, mediator) that suits every case.
TAP."""

import argparse
import http.client
import json
import random
import sys
import threading
import time

from httptest import Centre, Server, Tap

# Monday 2026-12-07: five starts × (warm room 1 with mediator 1, warm room
# 2 with mediator 2) = ten slots
STARTS = ["2026-12-07T09:00", "2026-12-07T10:00", "2026-12-07T11:00",
          "2026-12-07T14:30", "2026-12-07T15:30"]
SLOTS = [(s, 1, 1) for s in STARTS] + [(s, 2, 2) for s in STARTS]


def client(port, token, jobs, results, lock, latencies):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": "Bearer " + token,
               "Content-Type": "application/json"}
    mine = []
    lat = []
    for case_id, slot in jobs:
        start, room, med = slot
        body = json.dumps({"case_id": case_id, "start": start,
                           "room_id": room, "mediator_id": med})
        t0 = time.perf_counter()
        for attempt in range(3):
            try:
                conn.request("POST", "/api/v1/bookings", body=body,
                             headers=headers)
                r = conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=60)
        else:
            mine.append((case_id, slot, 0, b"connection failed"))
            continue
        lat.append(time.perf_counter() - t0)
        mine.append((case_id, slot, r.status, data))
    conn.close()
    with lock:
        results.extend(mine)
        latencies.extend(lat)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--attempts", type=int, default=2000)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tap = Tap()
    centre = Centre(tap, n_cases=args.cases)
    srv = Server(centre, access_log="off")
    try:
        run(tap, centre, srv, args)
    finally:
        srv.stop()
        centre.close()
    return tap.done()


def run(tap, centre, srv, args):
    rnd = random.Random(args.seed)
    token = centre.tokens["clerk"]
    jobs = [[] for _ in range(args.clients)]
    for i in range(args.attempts):
        c = i % args.clients
        # each client books for its own cases (ids are 1..cases)
        case_id = 1 + (c + args.clients * rnd.randrange(
            max(1, args.cases // args.clients))) % args.cases
        jobs[c].append((case_id, rnd.choice(SLOTS)))
    results, latencies, lock = [], [], threading.Lock()
    threads = [threading.Thread(target=client, args=(srv.port, token, j,
                                                     results, lock, latencies))
               for j in jobs]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0

    tap.ok(len(results) == args.attempts, "every attempt was answered "
           "(%d)" % len(results))
    by_status = {}
    for _, _, st, _ in results:
        by_status[st] = by_status.get(st, 0) + 1
    winners = {}
    for case_id, slot, st, data in results:
        if st == 201:
            winners.setdefault(slot, []).append(case_id)
    others = {st: n for st, n in by_status.items() if st not in (201, 409)}
    tap.ok(not others, "every attempt got 201 or 409", others)
    if others:
        for _, _, st, data in results:
            if st not in (201, 409):
                tap.diag("%s %s" % (st, data[:300]))
                break
    tap.ok(len(winners) == len(SLOTS)
           and all(len(w) == 1 for w in winners.values()),
           "exactly one winner per slot (%d slots)" % len(SLOTS), winners)
    tap.ok(by_status.get(409, 0) == args.attempts - len(SLOTS),
           "every loser got 409 (%d)" % by_status.get(409, 0))
    tap.ok("database ok" in centre.cli("check"), "medsched check: no overlaps")
    agenda = json.loads(centre.cli("agenda", "2026-12-07", "--json"))
    tap.ok(len([b for b in agenda if b["status"] == "confirmed"])
           == len(SLOTS), "the store holds one confirmed booking per slot")
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1,
                                int(q * len(latencies)))] * 1000
    tap.diag("race_clients %d" % args.clients)
    tap.diag("race_attempts %d" % args.attempts)
    tap.diag("race_seconds %.2f" % wall)
    tap.diag("race_attempts_per_s %.0f" % (args.attempts / wall))
    tap.diag("race_p50_ms %.2f" % p(0.5))
    tap.diag("race_p99_ms %.2f" % p(0.99))
    tap.diag("race_winners %d" % sum(len(w) for w in winners.values()))


if __name__ == "__main__":
    sys.exit(main())
