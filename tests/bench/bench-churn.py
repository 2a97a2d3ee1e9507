#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-churn.py — a million connections through nginx in one run: wrk
(Debian's package) opens a new TLS connection to nginx (the shipped
deploy/nginx.conf) for every request ("Connection: close"), rotating
between a health check, an authenticated API read and a calendar feed,
from 64 at once; nginx keeps up to 32 idle connections to `medsched
serve` and opens and closes more as the load needs. The server's open
descriptors and resident memory are sampled every SAMPLE seconds and
printed as a table (quoted in BENCHMARKS.md), with the requests served so
far (from serve's access log).

Prints TAP and "# key value" lines. The run fails only when requests fail
or when the server's descriptors or memory end far from where they began
(±20 descriptors, ±5 MiB, as test-churn.py asks of 20,000 connections).

Environment: MEDSCHED, MEDSCHED_CALENDARS, BENCH_CONNECTIONS (default
1,000,000), BENCH_SAMPLE (seconds, default 30)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from httptest import Centre, Server, Tap  # noqa: E402
from nginxtest import Nginx  # noqa: E402

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "1000000"))
SAMPLE = int(os.environ.get("BENCH_SAMPLE", "30"))


def fds_of(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def statuses(path, *keys):
    """{"<status> <upstream>": count} of the JSON log lines whose status is
    not 2xx (the pair of keys given, as one string)."""
    out = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(rec, dict):
                    continue
                st = str(rec.get(keys[0], ""))
                if st.startswith("2"):
                    continue
                key = " ".join(str(rec.get(k, "")) for k in keys)
                out[key] = out.get(key, 0) + 1
    except OSError:
        pass
    return out


def lines_of(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def main():
    tap = Tap()
    if not shutil.which("wrk"):
        tap.bail("wrk is needed (scripts/deps)")
    centre = Centre(tap, n_cases=20)
    centre.cli("schedule", "2026-12-07")
    link = centre.cli("feed-link", "centre", "1").strip()
    feed = "/feeds/" + link.rsplit("/feeds/", 1)[1]
    token = centre.tokens["clerk"]
    log = os.path.join(centre.dir, "churn-access.log")
    srv = Server(centre, "--trust-proxy", access_log=log)
    nginx = Nginx(centre.dir)
    nginx.configure(srv.port, worker_connections=4096)
    # the shipped per-address limits would turn one benchmarking client
    # into 429s: the rates are raised for this run, nothing else changes
    conf = os.path.join(centre.dir, "medsched.conf")
    with open(conf, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"rate=\d+r/[sm]", "rate=1000000r/s", text)
    text = re.sub(r"limit_conn medsched_conn \d+;", "limit_conn "
                  "medsched_conn 4096;", text)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    script = os.path.join(centre.dir, "rotate.lua")
    with open(script, "w") as f:
        f.write("""local paths = {"/healthz", "/api/v1/rooms", "%s"}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Connection"] = "close",
      ["Authorization"] = "Bearer %s"})
end
""" % (feed, token))
    nginx.start()
    pid = srv.proc.pid
    try:
        # warm up, then the baseline
        subprocess.run(["wrk", "-t2", "-c64", "-d5s", "-s", script,
                        "https://127.0.0.1:%d/" % nginx.https_port],
                       capture_output=True, text=True, timeout=120)
        time.sleep(3)
        base_fds, base_rss = fds_of(pid), rss_kib(pid)
        served0 = lines_of(log)
        tap.diag("sample seconds connections_served server_fds "
                 "server_rss_kib")
        tap.diag("sample 0 0 %d %d" % (base_fds, base_rss))
        # wrk runs by time: enough slices to pass CONNECTIONS
        t0 = time.monotonic()
        samples = []
        failures = 0
        kinds = {"non-2xx": 0, "connect": 0, "read": 0, "write": 0,
                 "timeout": 0}
        while lines_of(log) - served0 < CONNECTIONS:
            out = subprocess.run(
                ["wrk", "-t2", "-c64", "-d%ds" % SAMPLE, "--timeout", "10s",
                 "-s", script, "https://127.0.0.1:%d/" % nginx.https_port],
                capture_output=True, text=True, timeout=SAMPLE + 120).stdout
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            failures += int(m.group(1)) if m else 0
            kinds["non-2xx"] += int(m.group(1)) if m else 0
            m = re.search(r"Socket errors: connect (\d+), read (\d+), "
                          r"write (\d+), timeout (\d+)", out)
            if m:
                failures += sum(int(v) for v in m.groups())
                for k, v in zip(("connect", "read", "write", "timeout"),
                                m.groups()):
                    kinds[k] += int(v)
            served = lines_of(log) - served0
            samples.append((time.monotonic() - t0, served, fds_of(pid),
                            rss_kib(pid)))
            tap.diag("sample %.0f %d %d %d" % samples[-1])
        took = time.monotonic() - t0
        time.sleep(3)
        end_fds, end_rss = fds_of(pid), rss_kib(pid)
        served = lines_of(log) - served0
        tap.diag("connections %d" % served)
        tap.diag("seconds %.0f" % took)
        tap.diag("connections_per_s %.0f" % (served / took))
        tap.diag("fds_begin_end %d %d" % (base_fds, end_fds))
        tap.diag("rss_kib_begin_end %d %d" % (base_rss, end_rss))
        tap.diag("fds_max %d" % max(s[2] for s in samples))
        tap.diag("rss_kib_max %d" % max(s[3] for s in samples))
        # what the failures were: wrk's counts, and the statuses nginx
        # and serve logged that were not 2xx (a timeout or a refused
        # connection leaves no status)
        tap.diag("wrk " + " ".join("%s %d" % kv for kv in kinds.items()))
        tap.diag("nginx statuses not 2xx: %s" % json.dumps(
            statuses(nginx.access_log, "status", "upstream_status")))
        tap.diag("serve statuses not 2xx: %s" % json.dumps(
            statuses(log, "status")))
        tap.ok(failures == 0, "every request answered 2xx (%d failed)"
               % failures)
        tap.ok(abs(end_fds - base_fds) <= 20 and
               abs(end_rss - base_rss) <= 5 * 1024,
               "descriptors and memory end where they began")
    finally:
        nginx.stop()
        srv.stop()
        centre.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
