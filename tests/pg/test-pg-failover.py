#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-pg-failover.py — the failover harness proved without medsched:
etcd + two PostgreSQL 15 under Patroni (synchronous mode, one synchronous
standby; tests/pg/pgcluster.py), writers committing rows through the
multi-host URL with target_session_attrs=read-write, and the primary
killed twice:

  1. SIGKILL to the primary's postmaster (Patroni stays up, sees the
     crash, fails over at once: primary_start_timeout 0);
  2. SIGKILL to the new primary's postmaster and its Patroni together (the
     machine is gone: the standby waits for the leader key to expire).

After each: the standby was promoted, the writers carried on through the
same URL, every row whose INSERT was acknowledged is on the new primary
(synchronous replication's promise), the old primary rejoins as the
synchronous standby and holds the same rows. At the end the cluster stops
with no process left behind. The time without writes (last acknowledged
commit before the kill to the first after it) is printed as "# key value"
lines, not asserted (docs/scale.md records them).

    test-pg-failover.py [--writers 4] [--rounds 1] [--asynchronous]

--asynchronous is the control experiment: the same kills with Patroni's
synchronous mode off, where acknowledged rows can be lost and the test
then fails (docs/scale.md has what it showed).

TAP."""

import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import psycopg2  # noqa: E402

from medtest import Tap  # noqa: E402
from pgcluster import Cluster, wait_for  # noqa: E402


class Writer(threading.Thread):
    """Inserts (writer, seq) rows in autocommit through url until told to
    stop. acked: seq → monotonic time the INSERT returned; uncertain: seqs
    whose INSERT failed (committed or not: unknown to the client)."""

    def __init__(self, url, wid):
        super().__init__(daemon=True)
        self.url = url
        self.wid = wid
        self.acked = {}
        self.uncertain = set()
        self.errors = 0
        self.last_error = None
        self.halt = threading.Event()

    def run(self):
        con = None
        seq = 0
        while not self.halt.is_set():
            if con is None:
                try:
                    con = psycopg2.connect(self.url, connect_timeout=2,
                                           application_name="writer%d"
                                           % self.wid)
                    con.autocommit = True
                except psycopg2.Error:
                    self.errors += 1
                    time.sleep(0.05)
                    continue
            seq += 1
            try:
                with con.cursor() as cur:
                    cur.execute("INSERT INTO acked (writer, seq) "
                                "VALUES (%s, %s)", (self.wid, seq))
                self.acked[seq] = time.monotonic()
            except psycopg2.Error as e:
                self.uncertain.add(seq)
                self.errors += 1
                self.last_error = str(e).strip()
                try:
                    con.close()
                except psycopg2.Error:
                    pass
                con = None
        if con is not None:
            con.close()

    def stop(self):
        self.halt.set()
        self.join(30)


def total_acked(writers):
    return sum(len(w.acked) for w in writers)


def acked_after(writers, t):
    return sum(1 for w in writers for at in list(w.acked.values()) if at > t)


def rows_on(node):
    """{(writer, seq)} on node (a standby answers reads too)."""
    con = node.connect(connect_timeout=5)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT writer, seq FROM acked")
            return set(cur.fetchall())
    finally:
        con.close()


def write_gap(writers, t_kill):
    """The longest stretch without an acknowledged commit (from any
    writer) that ends after t_kill: (its start, its end). A commit the
    server acknowledged just before the kill may reach its client a few
    milliseconds after it, so the stretch is not simply "kill to first
    write"."""
    times = sorted(t for w in writers for t in w.acked.values())
    best = (None, None)
    for a, b in zip(times, times[1:]):
        if b > t_kill and (best[0] is None or b - a > best[1] - best[0]):
            best = (a, b)
    return best


def failover_round(tap, c, url, kind, label, first_writer):
    """Writers on, the primary killed (kind: 'postmaster' or 'node'),
    writes resume, every acknowledged row is there. Returns the figures."""
    old = c.wait_leader()
    tap.diag("%s: primary %s, synchronous standby %s"
             % (label, old.name, c.wait_sync_standby()))
    writers = [Writer(url, first_writer + i) for i in range(ARGS.writers)]
    for w in writers:
        w.start()
    tap.ok(wait_for(lambda: total_acked(writers) >= 200, 60),
           "%s: writers commit through the multi-host URL" % label)

    if kind == "postmaster":
        t_kill = c.kill_postmaster(old)
    else:
        t_kill = c.kill_node(old)
    new = None
    try:
        new = c.wait_promotion(old, timeout=90)
    except RuntimeError as e:
        tap.diag(str(e))
    t_promoted = time.monotonic()
    tap.ok(new is not None and new is not old,
           "%s: the standby is promoted after SIGKILL to the primary's %s"
           % (label, kind))
    # writes resume through the same URL: enough after the kill to see it
    resumed = wait_for(lambda: acked_after(writers, t_promoted) >= 200, 60)
    for w in writers:
        w.stop()
    tap.ok(resumed, "%s: the writers carry on through the same URL" % label)
    if new is None:
        return None

    present = rows_on(new)
    acked = {(w.wid, s) for w in writers for s in w.acked}
    lost = acked - present
    tap.ok(not lost, "%s: every acknowledged row (%d) is on the new primary"
           % (label, len(acked)),
           "lost: %s" % sorted(lost)[:20])
    uncertain = {(w.wid, s) for w in writers for s in w.uncertain}
    ours = {w.wid for w in writers}
    stray = {r for r in present if r[0] in ours} - acked - uncertain
    tap.ok(not stray, "%s: no row that nobody wrote" % label,
           "stray: %s" % sorted(stray)[:20])

    last, first = write_gap(writers, t_kill)
    figures = {
        "kill_to_promoted_s": t_promoted - t_kill,
        "time_without_writes_s": (first - last) if first else None,
        "kill_to_writes_again_s": (first - t_kill) if first else None,
        "acked": len(acked),
        "uncertain": len(uncertain),
        "uncertain_committed": len(uncertain & present),
        "writer_errors": sum(w.errors for w in writers),
        "last_error": (writers[0].last_error or "").split("\n")[0],
    }
    for k, v in figures.items():
        tap.diag("%s.%s %s" % (kind, k,
                              "%.3f" % v if isinstance(v, float) else v))

    # the old primary comes back as the synchronous standby (a node whose
    # Patroni died is restarted, as its service manager would)
    if not old.process.running():
        old.process.start()
    back = wait_for(lambda: old.name in c.agreed_sync_standbys(), 120, 0.2)
    tap.ok(back, "%s: the old primary rejoins as the synchronous standby"
           % label, "members: %s" % c.members())
    if back:
        # the standby replays what the primary committed
        target = rows_on(new)
        same = wait_for(lambda: rows_on(old) == target, 30, 0.2)
        tap.ok(same, "%s: the rejoined standby holds the same rows" % label)
    return figures


def main():
    tap = Tap()
    with Cluster(nodes=2, synchronous=not ARGS.asynchronous) as c:
        try:
            c.up()
        except RuntimeError as e:
            tap.bail(str(e).splitlines()[0])
        tap.ok(True, "etcd and two Patroni-managed PostgreSQL 15 are up "
               "with a synchronous standby")
        con = c.primary().connect()
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("SHOW synchronous_commit")
            sc = cur.fetchone()[0]
            cur.execute("SHOW synchronous_standby_names")
            ssn = cur.fetchone()[0]
            cur.execute("CREATE TABLE acked (writer int, seq int, "
                        "at timestamptz DEFAULT now(), "
                        "PRIMARY KEY (writer, seq))")
        con.close()
        tap.ok(sc == "on" and (ssn or ARGS.asynchronous),
               "the primary waits for its standby (synchronous_commit %s, "
               "synchronous_standby_names %s)" % (sc, ssn))
        url = c.url(target_session_attrs="read-write")
        for r in range(ARGS.rounds):
            failover_round(tap, c, url, "postmaster",
                           "round %d, postmaster killed" % (r + 1),
                           (2 * r) * ARGS.writers)
            failover_round(tap, c, url, "node",
                           "round %d, node killed" % (r + 1),
                           (2 * r + 1) * ARGS.writers)
    tap.ok(not c.leftovers, "nothing left running after stop",
           "\n".join(c.leftovers))
    return tap.done()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=1)
    # the control experiment (docs/scale.md): Patroni without synchronous
    # mode, where a kill may lose acknowledged rows and this test fails
    ap.add_argument("--asynchronous", action="store_true")
    ARGS = ap.parse_args()
    sys.exit(main())
