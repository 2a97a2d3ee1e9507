#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-cluster-failover.py — medsched through a database failover: two
PostgreSQL 15 under Patroni with etcd (synchronous mode;
tests/pg/pgcluster.py), two `medsched serve` nodes on the multi-host URL
(target_session_attrs=read-write) behind deploy/nginx-cluster.conf, and
16 clients booking through nginx when the primary's postmaster is killed
(SIGKILL). Afterwards:

- every booking a client was told succeeded (201) is in the database, as
  it was told (case, room, mediator, start), confirmed;
- no overlap (`medsched check`), the audit chain verifies (`medsched
  audit verify`);
- each serve node books again within 30 s of the kill (asked directly,
  not through nginx);
- the time without writes (the longest stretch without a 201 around the
  kill) and what the clients got meanwhile are printed ("# key value").

Each client books its own cases into its own room with its own mediator
at its own times: no attempt competes with another, so every one that did
not succeed failed because of the failover.

    test-cluster-failover.py [--node]

--node kills the primary's Patroni with its postmaster (the machine is
gone) instead of the postmaster alone. TAP."""

import http.client
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "http"))

import psycopg2  # noqa: E402

from clusterload import (SLOTS, Client, answers, import_resources,  # noqa
                         jobs_for, longest_gap, use_store)
from httptest import Centre, Server, request  # noqa: E402
from medtest import Tap  # noqa: E402
from nginxcluster import ClusterNginx  # noqa: E402
from pgcluster import Cluster, wait_for  # noqa: E402

N_CLIENTS = 16
N_NODES = 2
DEADLINE_S = 30
PER_CLIENT = len(SLOTS)


def node_books_again(centre, node, token, case_id, room, med, start):
    """Monotonic time at which a booking directly on node succeeds."""
    def ok():
        try:
            st, _, _ = request(node.port, "POST", "/api/v1/bookings",
                               token=token, timeout=10,
                               body={"case_id": case_id, "start": start,
                                     "room_id": room, "mediator_id": med,
                                     "duration_minutes": 30})
        except (http.client.HTTPException, OSError):
            return False
        return st == 201
    return time.monotonic() if wait_for(ok, DEADLINE_S + 30, 0.1) else None


def main():
    tap = Tap()
    with Cluster(nodes=2) as c:
        try:
            c.up()
        except RuntimeError as e:
            tap.bail(str(e).splitlines()[0])
        use_store(c.query_url("postgres", target_session_attrs="read-write",
                              connect_timeout=3), c.password)
        n_cases = N_CLIENTS * PER_CLIENT + 2 * N_NODES
        centre = Centre(tap, n_cases=n_cases)
        tap.diag("store: %s" % centre.db.split("?")[0])
        import_resources(centre, N_CLIENTS)
        nodes, nginx = [], None
        try:
            for i in range(N_NODES):
                nodes.append(Server(centre, access_log=os.path.join(
                    centre.dir, "node%d-access.log" % i)))
            nginx = ClusterNginx(centre.dir)
            nginx.start_with([n.port for n in nodes], plain=True,
                             unlimited=True)
            run(tap, c, centre, nodes, nginx)
        finally:
            if nginx:
                nginx.stop()
            for n in nodes:
                code, err = n.stop()
                tap.ok(code == 0 and "CRITICAL" not in err,
                       "serve node stops cleanly (exit %s)" % code,
                       err[-800:])
            centre.close()
    tap.ok(not c.leftovers, "nothing left running after stop",
           "\n".join(c.leftovers))
    return tap.done()


def run(tap, c, centre, nodes, nginx):
    token = centre.tokens["clerk"]
    clients = [Client(nginx.plain_port, token, jobs_for(i, PER_CLIENT))
               for i in range(N_CLIENTS)]
    for cl in clients:
        cl.start()

    def told():
        return sum(len(cl.told) for cl in clients)
    tap.ok(wait_for(lambda: told() >= 100, 120),
           "16 clients book through nginx and %d serve nodes" % N_NODES)
    old = c.primary()
    t_kill = (c.kill_node if KIND == "node" else c.kill_postmaster)(old)
    new = None
    try:
        new = c.wait_promotion(old, timeout=90)
    except RuntimeError as e:
        tap.diag(str(e)[:2000])
    t_promoted = time.monotonic()
    tap.ok(new is not None, "the standby is promoted after SIGKILL to the "
           "primary's %s" % ("node (Patroni too)" if KIND == "node"
                             else "postmaster"))
    # each node books again (its own case, the centre's room 1 and
    # mediator 1, a morning of its own)
    back = []
    for i, n in enumerate(nodes):
        t = node_books_again(centre, n, token, N_CLIENTS * PER_CLIENT + 1 + i,
                             1 + i, 1 + i, "2026-12-%02dT09:00" % (7 + i))
        back.append(t - t_kill if t else None)
    tap.ok(all(b is not None and b <= DEADLINE_S for b in back),
           "every serve node books again within %d s of the kill: %s"
           % (DEADLINE_S, ", ".join("%.1f s" % b if b else "never"
                                    for b in back)))
    n_before = told()
    wait_for(lambda: told() >= n_before + 100 or
             not any(cl.is_alive() for cl in clients), 60)
    for cl in clients:
        cl.halt.set()
    for cl in clients:
        cl.join(60)

    promised = [t for cl in clients for t in cl.told]
    con = psycopg2.connect(c.url(dbname=centre.db.split("///")[1]
                                 .split("?")[0]), connect_timeout=5)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT id, case_id, room_id, mediator_id, start_at,"
                        " status FROM booking")
            rows = {r[0]: r for r in cur.fetchall()}
    finally:
        con.close()
    missing = [p for p in promised if p[0] not in rows
               or rows[p[0]][1:4] != (p[1], p[2], p[3])
               or rows[p[0]][5] != "confirmed"]
    tap.ok(promised and not missing,
           "every booking a client was told succeeded (%d) is there, "
           "confirmed, as told" % len(promised), repr(missing[:10]))
    tap.ok("database ok" in centre.cli("check"), "medsched check: no overlap")
    out = centre.cli("audit", "verify", check=False)
    tap.ok(out.startswith("audit log intact"),
           "medsched audit verify: %s" % out.strip().split("\n")[0])

    last, first = longest_gap([p[5] for p in promised], t_kill)
    others = answers(clients)
    extra = len(rows) - len(promised) - N_NODES
    for k, v in (
            ("failover_kill_to_promoted_s", t_promoted - t_kill),
            ("failover_time_without_writes_s",
             (first - last) if first and last else None),
            ("failover_kill_to_first_write_s",
             (first - t_kill) if first else None),
            ("failover_nodes_book_again_s",
             "/".join("%.2f" % b if b else "-" for b in back)),
            ("failover_told_succeeded", len(promised)),
            ("failover_not_told_but_committed", extra),
            ("failover_other_answers", json.dumps(others, sort_keys=True))):
        tap.diag("%s %s" % (k, "%.3f" % v if isinstance(v, float) else v))


if __name__ == "__main__":
    # --node: the primary's Patroni is killed with its postmaster (the
    # machine is gone; the standby waits for the leader key's ttl)
    KIND = "node" if "--node" in sys.argv[1:] else "postmaster"
    sys.exit(main())
