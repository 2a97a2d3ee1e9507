# SPDX-License-Identifier: GPL-3.0-or-later
"""clusterload.py — bookings that never compete, for the cluster tests
and benchmarks: each client books its own cases into its own room with
its own mediator at its own times, one after the other, so every attempt
that does not succeed failed for another reason than a lost race (a
failover, a busy database). Used by test-cluster-failover.py and
bench-cluster.py.

Standard library only."""

import http.client
import importlib.util
import json
import os
import threading
import time

from httptest import json_of

# Mondays to Fridays of December 2026 from the 7th (no holiday), every
# half hour of the morning and afternoon opening hours
DAYS = [d for d in range(7, 32) if (d - 7) % 7 < 5]
TIMES = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
         "14:30", "15:00", "15:30", "16:00"]
SLOTS = ["2026-12-%02dT%s" % (d, t) for d in DAYS for t in TIMES]
# the centre of tests/http/httptest.py has 4 rooms and 2 mediators: the
# clients' come after them
FIRST_ROOM, FIRST_MEDIATOR = 5, 3


def import_script(name, path):
    """A Python file whose name is no module name (test-race.py) as a
    module."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def use_store(url=None, password=None):
    """Where the next httptest.Centre keeps its store: a SQLite file (url
    None), or a fresh database on the PostgreSQL server url names
    (medtest.new_db's form, postgresql:///postgres?…), the password in
    the environment of medsched's processes, not in the URL."""
    for k in ("MEDSCHED_TEST_DB", "MEDSCHED_TEST_PG", "PGPASSWORD"):
        os.environ.pop(k, None)
    if url:
        os.environ["MEDSCHED_TEST_DB"] = "postgresql"
        os.environ["MEDSCHED_TEST_PG"] = url
    if password:
        os.environ["PGPASSWORD"] = password


def import_resources(centre, n_clients):
    """A warm room and a mediator (wages, the highest daily cap) for each
    client, imported into centre."""
    doc = {
        "rooms": [{"name": "温馨调解室%d" % (i + 10), "kind": "warm",
                   "capacity": 6} for i in range(n_clients)],
        "mediators": [{"name": "调解员%d" % i, "languages": ["zh"],
                       "specialties": ["wages"], "daily_cap": 24}
                      for i in range(n_clients)],
    }
    path = os.path.join(centre.dir, "resources.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    centre.cli("import", path)


def jobs_for(i, per_client, first_case=1):
    """Client i's jobs: (case id, room id, mediator id, start)."""
    return [(first_case + i * per_client + k, FIRST_ROOM + i,
             FIRST_MEDIATOR + i, s)
            for k, s in enumerate(SLOTS[:per_client])]


class Client(threading.Thread):
    """Books its jobs through port one after the other, never the same
    twice. told: [(booking id, case, room, mediator, start, monotonic
    time of the 201)]; others: [(status, error code)] (status 0: the
    connection failed)."""

    def __init__(self, port, token, jobs):
        super().__init__(daemon=True)
        self.port, self.token, self.jobs = port, token, jobs
        self.told, self.others = [], []
        self.halt = threading.Event()

    def run(self):
        conn = None
        headers = {"Authorization": "Bearer " + self.token,
                   "Content-Type": "application/json"}
        for case_id, room, med, start in self.jobs:
            if self.halt.is_set():
                break
            body = json.dumps({"case_id": case_id, "start": start,
                               "room_id": room, "mediator_id": med,
                               "duration_minutes": 30})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                      timeout=60)
                conn.request("POST", "/api/v1/bookings", body=body,
                             headers=headers)
                r = conn.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError) as e:
                self.others.append((0, type(e).__name__))
                conn.close()
                conn = None
                time.sleep(0.05)
                continue
            if r.status == 201:
                bk = (json_of(data) or {}).get("booking") or {}
                self.told.append((bk.get("id"), case_id, room, med, start,
                                  time.monotonic()))
            else:
                err = (json_of(data) or {}).get("error") or {}
                self.others.append((r.status, err.get("code")))
                if r.status >= 500:
                    time.sleep(0.05)
        if conn is not None:
            conn.close()


def answers(clients):
    """{"STATUS CODE": count} of what the clients got besides 201."""
    out = {}
    for cl in clients:
        for st, code in cl.others:
            k = "%s %s" % (st, code)
            out[k] = out.get(k, 0) + 1
    return out


def longest_gap(times, t):
    """The longest stretch between consecutive times that ends after t:
    (start, end), (None, None) when there is none."""
    times = sorted(times)
    best = (None, None)
    for a, b in zip(times, times[1:]):
        if b > t and (best[0] is None or b - a > best[1] - best[0]):
            best = (a, b)
    return best
