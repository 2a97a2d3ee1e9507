#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-cluster-race.py — three `medsched serve` nodes on one PostgreSQL
behind the shipped deploy/nginx-cluster.conf:

- the booking race across nodes: N clients (each its own keep-alive
  connection to nginx, which spreads them over the nodes) book the same 10
  slots for different cases; every slot has exactly one winner (201),
  every other attempt got 409, all three nodes took part, the store holds
  one confirmed booking per slot, `medsched check` and `medsched audit
  verify` are clean, and the schema's exclusion constraints are all there,
  validated, and still refuse an overlapping row written by hand;
- a cache on node A sees a booking made on node B within one second: A
  answers the agenda from its cache (a change written to the database
  without a NOTIFY stays invisible on A while node C, asked for the first
  time, shows it), then a booking through B reaches A's agenda, the
  NOTIFY of B's commit having dropped A's cache.

    test-cluster-race.py [--clients 64] [--attempts 2000] [--cases 200]

Run under tests/pg/pgserver.py (meson does): the centre is a fresh
PostgreSQL database. The benchmark runs 100,000 attempts and prints
"# key value" lines. TAP."""

import argparse
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "http"))

from clusterload import import_script  # noqa: E402
from httptest import Centre, Server, request, json_of  # noqa: E402
from medtest import Tap, psql, test_db_pg  # noqa: E402
from nginxcluster import ClusterNginx  # noqa: E402

# tests/http/test-race.py's race, its checks and its slots
test_race = import_script("test_race", os.path.join(TESTS, "http",
                                                    "test-race.py"))

N_NODES = 3


def node_posts(log):
    """How many POST /api/v1/bookings a node's access log holds."""
    n = 0
    try:
        with open(log, encoding="utf-8") as f:
            for line in f:
                if '"POST"' in line and '"/api/v1/bookings"' in line:
                    n += 1
    except OSError:
        pass
    return n


def race(tap, centre, port, logs, args):
    """tests/http/test-race.py's race and checks, its clients going to
    nginx; then how nginx spread them."""
    tap.diag("seed %d" % args.seed)
    tap.diag("race_nodes %d" % N_NODES)
    test_race.run(tap, centre, types.SimpleNamespace(port=port), args)
    per_node = [node_posts(log) for log in logs]
    tap.ok(all(n > 0 for n in per_node) and sum(per_node) == args.attempts,
           "nginx spread the attempts over all %d nodes: %s"
           % (N_NODES, per_node))
    tap.diag("race_per_node %s" % "/".join(map(str, per_node)))


def store_intact(tap, centre):
    """Beyond test-race's checks (medsched check, one confirmed booking
    per slot): the audit chain and the exclusion constraints."""
    out = centre.cli("audit", "verify", check=False)
    tap.ok(out.startswith("audit log intact"),
           "medsched audit verify: the chain holds (%s)"
           % out.strip().split("\n")[0])
    cons = psql(centre.db, "SELECT conrelid::regclass, conname, convalidated "
                "FROM pg_constraint WHERE contype = 'x' ORDER BY conname")
    tap.ok(len(cons) >= 4 and all(c[2] == "t" for c in cons),
           "the exclusion constraints are all there and validated: %s"
           % ", ".join("%s.%s" % (c[0], c[1]) for c in cons))
    # an overlapping copy of a winner, written past medsched: refused
    try:
        psql(centre.db, "INSERT INTO booking (case_id, room_id, "
             "mediator_id, start_at, end_at, block_start, block_end, mode, "
             "status, uid, sequence, created_at, updated_at) "
             "SELECT (SELECT min(id) FROM mcase WHERE id <> b.case_id), "
             "room_id, mediator_id, start_at, end_at, block_start, "
             "block_end, mode, status, uid || '-x', 0, created_at, "
             "updated_at FROM booking b WHERE status = 'confirmed' LIMIT 1")
        refused = ""
    except RuntimeError as e:
        refused = str(e)
    tap.ok("exclusion constraint" in refused or "conflicting key" in refused,
           "an overlapping booking written by hand is refused by the "
           "database", refused[:400])


def agenda(port, token):
    st, h, body = request(port, "GET",
                          "/api/v1/agenda?from=2026-12-07&to=2026-12-11",
                          token=token)
    return st, h.get("etag"), json_of(body) or []


def cache_across_nodes(tap, centre, nodes):
    a, b, c = nodes
    token = centre.tokens["clerk"]
    st, etag, before = agenda(a.port, token)
    tap.ok(st == 200 and before, "node A answers the agenda")
    target = before[0]
    # a change behind the nodes' backs: no NOTIFY goes with it
    psql(centre.db, "UPDATE booking SET sequence = sequence + 1000 "
         "WHERE id = %d" % target["id"])
    _, etag2, stale = agenda(a.port, token)
    _, _, fresh = agenda(c.port, token)

    def seq(rows):
        return next((r["sequence"] for r in rows if r["id"] == target["id"]),
                    None)
    tap.ok(etag2 == etag and seq(stale) == target["sequence"]
           and seq(fresh) == target["sequence"] + 1000,
           "node A answers from its cache (a change without NOTIFY is not "
           "seen there, node C reads it)",
           "A %s, C %s" % (seq(stale), seq(fresh)))
    # a booking through node B
    st, _, body = request(b.port, "POST", "/api/v1/bookings", token=token,
                          body={"case_id": 150, "start": "2026-12-08T09:00",
                                "room_id": 3, "mediator_id": 2})
    booked = (json_of(body) or {}).get("booking") or {}
    t0 = time.monotonic()
    tap.ok(st == 201 and booked.get("id"), "node B books (201)",
           body[:300])
    seen = None
    while time.monotonic() - t0 < 1.0:
        _, _, rows = agenda(a.port, token)
        if any(r["id"] == booked.get("id") for r in rows):
            seen = time.monotonic() - t0
            break
        time.sleep(0.01)
    tap.ok(seen is not None and seq(rows) == target["sequence"] + 1000,
           "node A's cache sees node B's booking within one second "
           "(LISTEN/NOTIFY)")
    if seen is not None:
        tap.diag("notify_seen_after_ms %.1f" % (seen * 1000))
    psql(centre.db, "UPDATE booking SET sequence = sequence - 1000 "
         "WHERE id = %d" % target["id"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--attempts", type=int, default=2000)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tap = Tap()
    if not test_db_pg():
        tap.bail("run under tests/pg/pgserver.py: the nodes share one "
                 "PostgreSQL")
    centre = Centre(tap, n_cases=args.cases)
    nodes, logs = [], []
    nginx = None
    try:
        for i in range(N_NODES):
            logs.append(os.path.join(centre.dir, "node%d-access.log" % i))
            nodes.append(Server(centre, access_log=logs[-1]))
        nginx = ClusterNginx(centre.dir)
        nginx.start_with([n.port for n in nodes], plain=True, unlimited=True,
                         worker_connections=4096)
        race(tap, centre, nginx.plain_port, logs, args)
        store_intact(tap, centre)
        cache_across_nodes(tap, centre, nodes)
    finally:
        if nginx:
            nginx.stop()
        for n in nodes:
            n.stop()
        centre.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
