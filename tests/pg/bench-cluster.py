#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-cluster.py — one run, every figure of BENCHMARKS.md's "A province
on PostgreSQL" section: `medsched serve` nodes behind
deploy/nginx-cluster.conf (plain HTTP to nginx, the per-address limits
raised: every client is 127.0.0.1) on

- sqlite: one SQLite file (WAL, synchronous=FULL: the shipped setting);
- postgresql: one PostgreSQL 15 (tests/pg/pgserver.py, fsync and
  synchronous_commit on: durable like the SQLite file);
- postgresql+standby: a primary and a synchronous standby under Patroni
  (tests/pg/pgcluster.py), each commit flushed on both;

with 1 and 2 nodes each:

- committed bookings/s: 16 clients booking bookings that never compete
  (tests/pg/clusterload.py), BENCH_BOOKINGS in all;
- slot search: wrk (2 threads, 64 connections, BENCH_SECONDS) rotating
  over 60 dispatched cases, GET /api/v1/cases/N/slots?count=3;

then the booking race at BENCH_RACE_ATTEMPTS (100,000) attempts by 64
clients on 10 slots across 3 nodes on the durable PostgreSQL
(tests/pg/test-cluster-race.py, its checks included).

The machine has 2 cores shared by nginx, the nodes, the database and the
load generators: a second node adds no CPU, so the 1 → 2 node figures show
what spreading costs, not what it gains on real machines. Prints TAP and
"# key value" lines; fails only when a request fails or a check does.

Environment: MEDSCHED, MEDSCHED_CALENDARS, BENCH_SECONDS (default 10),
BENCH_BOOKINGS (default 3040: 16 × 190), BENCH_RACE_ATTEMPTS (default 100000)."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "http"))

from clusterload import (SLOTS, Client, answers, import_resources,  # noqa
                         import_script, jobs_for, use_store)
from httptest import Centre, Server, json_of, request  # noqa: E402
from medtest import Tap  # noqa: E402
from nginxcluster import ClusterNginx  # noqa: E402
from pgcluster import Cluster  # noqa: E402
from pgserver import PgServer  # noqa: E402

bench_http = import_script("bench_http", os.path.join(TESTS, "bench",
                                                     "bench-http.py"))

N_CLIENTS = 16
N_SEARCH_CASES = 60
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "3040"))
RACE_ATTEMPTS = int(os.environ.get("BENCH_RACE_ATTEMPTS", "100000"))
# (at most one booking per client per slot of clusterload.SLOTS)
PER_CLIENT = min(BOOKINGS // N_CLIENTS, len(SLOTS))


def measure(tap, label, n_nodes):
    """Bookings/s and slot-search req/s with n_nodes behind nginx on the
    store use_store() chose."""
    centre = Centre(tap, n_cases=N_CLIENTS * PER_CLIENT + N_SEARCH_CASES)
    import_resources(centre, N_CLIENTS)
    nodes, nginx = [], None
    key = "%s_%dnode" % (label, n_nodes)
    try:
        nodes = [Server(centre, access_log="off") for _ in range(n_nodes)]
        nginx = ClusterNginx(centre.dir)
        nginx.start_with([n.port for n in nodes], plain=True, unlimited=True)
        token = centre.tokens["clerk"]
        clients = [Client(nginx.plain_port, token, jobs_for(i, PER_CLIENT))
                   for i in range(N_CLIENTS)]
        t0 = time.perf_counter()
        for cl in clients:
            cl.start()
        for cl in clients:
            cl.join()
        wall = time.perf_counter() - t0
        told = sum(len(cl.told) for cl in clients)
        tap.ok(told == N_CLIENTS * PER_CLIENT,
               "%s: every booking committed (%d), none refused"
               % (key, told), answers(clients))
        tap.diag("%s_bookings_per_s %.0f" % (key, told / wall))

        # slot search over the cases nobody booked
        first = N_CLIENTS * PER_CLIENT + 1
        ids = range(first, first + N_SEARCH_CASES)
        st, _, body = request(nodes[0].port, "GET", "/api/v1/cases/%d/slots"
                              "?count=3" % first, token=token)
        tap.ok(st == 200 and json_of(body), "%s: a slot search answers" % key)
        script = os.path.join(centre.dir, "rotate.lua")
        with open(script, "w") as f:
            f.write("local ids = {%s}\nlocal i = 0\n"
                    "request = function()\n  i = i %% #ids + 1\n"
                    "  return wrk.format('GET', '/api/v1/cases/' .. ids[i] .."
                    " '/slots?count=3')\nend\n" % ",".join(map(str, ids)))
        rps, p99, bad, sock = bench_http.wrk(
            "http://127.0.0.1:%d" % nginx.plain_port, token, script)
        tap.ok(bad == 0, "%s: every slot search 2xx (%s)" % (key, sock))
        tap.diag("%s_slots_requests_per_s %.0f" % (key, rps))
        tap.diag("%s_slots_p99_ms %.2f" % (key, p99))
        return told / wall, rps
    finally:
        if nginx:
            nginx.stop()
        for n in nodes:
            n.stop()
        centre.close()


def race(tap, pg):
    """test-cluster-race.py at full size on the durable server."""
    env = dict(os.environ, MEDSCHED_TEST_DB="postgresql",
               MEDSCHED_TEST_PG=pg.url())
    env.pop("PGPASSWORD", None)
    p = subprocess.run(["/usr/bin/python3",
                        os.path.join(HERE, "test-cluster-race.py"),
                        "--clients", "64", "--attempts", str(RACE_ATTEMPTS),
                        "--cases", "640"], env=env, capture_output=True,
                       text=True, timeout=7200)
    failed = [line for line in p.stdout.splitlines()
              if line.startswith("not ok") or line.startswith("Bail out")]
    tap.ok(p.returncode == 0 and not failed,
           "the race at %d attempts across 3 nodes passes its checks"
           % RACE_ATTEMPTS, "\n".join(failed) + p.stderr[-2000:])
    for line in p.stdout.splitlines():
        if line.startswith("# race_") or line.startswith("# notify_"):
            print(line)


def main():
    tap = Tap()
    results = {}
    use_store(None)
    for n in (1, 2):
        results[("sqlite", n)] = measure(tap, "sqlite", n)
    pg = PgServer(fast=False)
    try:
        use_store(pg.url())
        for n in (1, 2):
            results[("postgresql", n)] = measure(tap, "postgresql", n)
        with Cluster(nodes=2) as c:
            c.up()
            use_store(c.query_url("postgres",
                                  target_session_attrs="read-write"),
                      c.password)
            for n in (1, 2):
                results[("standby", n)] = measure(tap, "pgstandby", n)
        use_store(None)
        race(tap, pg)
    finally:
        use_store(None)
        pg.stop()
    base = results[("sqlite", 1)]
    for (label, n), (bps, rps) in sorted(results.items()):
        tap.diag("%s_%dnode_bookings_ratio_to_sqlite_1node %.2f"
                 % (label, n, bps / base[0]))
        tap.diag("%s_%dnode_slots_ratio_to_sqlite_1node %.2f"
                 % (label, n, rps / base[1]))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
