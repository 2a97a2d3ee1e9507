#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-http.py — throughput and latency of `medsched serve` with wrk
(Debian's package) at 64 connections: slot search for a case, agenda
reads, a cached calendar feed, and in the same run a bare libsoup handler
(bench-http-bare), the peer every endpoint is reported against twice: as
`X_ratio_to_bare` against the peer's fixed 16-byte answer (as since the
first measurement), and as `X_ratio_to_bare_same_size` against the peer
answering as many bytes as the endpoint does, measured right after it —
what medsched costs over libsoup for the same answer. Also the cold cost of a slot search (the store changed
since the last one, so nothing is cached), one request at a time.

Prints TAP and "# key value" lines quoted in BENCHMARKS.md. Timings are
reported, not asserted (the machine is shared and noisy); the run fails
only when a request fails.

Environment: MEDSCHED, MEDSCHED_CALENDARS, BENCH_HTTP_BARE (the peer),
BENCH_SECONDS (per wrk run, default 10)."""

import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from httptest import Centre, Server, Tap, json_of, request  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 64


def wrk(url, token=None, script=None):
    args = ["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % SECONDS,
            "--latency", "--timeout", "5s"]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True,
                         timeout=SECONDS + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return rps, float(p99.group(1)) * scale, (
        int(errors.group(1)) if errors else 0), sock.group(1) if sock else ""


def main():
    tap = Tap()
    bare_bin = os.environ.get("BENCH_HTTP_BARE")
    if not shutil.which("wrk") or not bare_bin:
        tap.bail("wrk and BENCH_HTTP_BARE are needed (scripts/deps)")
    centre = Centre(tap, n_cases=60)
    # a realistic week: two days scheduled
    for day in ("2026-12-07", "2026-12-08"):
        centre.cli("schedule", day)
    link = centre.cli("feed-link", "centre", "1").strip()
    feed_path = "/feeds/" + link.rsplit("/feeds/", 1)[1]
    srv = Server(centre, access_log="off")
    bare = subprocess.Popen([bare_bin], stdout=subprocess.PIPE, text=True)
    bare_port = int(bare.stdout.readline().rsplit(" ", 1)[1])
    token = centre.tokens["clerk"]
    base = "http://127.0.0.1:%d" % srv.port
    script = os.path.join(centre.dir, "rotate.lua")
    cases = [c["id"] for c in json_of(request(
        srv.port, "GET", "/api/v1/cases?status=dispatched", token=token)[2])]
    with open(script, "w") as f:
        f.write("local ids = {%s}\nlocal i = 0\n"
                "request = function()\n  i = i %% #ids + 1\n"
                "  return wrk.format('GET', '/api/v1/cases/' .. ids[i] .."
                " '/slots?count=3')\nend\n" % ",".join(map(str, cases)))
    try:
        results = {}
        for name, url, tok, scr in (
                ("bare", "http://127.0.0.1:%d/" % bare_port, None, None),
                ("slots", base + "/api/v1/cases/%d/slots?count=3" % cases[0],
                 token, None),
                ("slots_rotating", base, token, script),
                ("agenda", base + "/api/v1/agenda?from=2026-12-07"
                 "&to=2026-12-11", token, None),
                ("feed", base + feed_path, None, None),
                ("health", base + "/healthz", None, None)):
            rps, p99, bad, sock = wrk(url, tok, scr)
            results[name] = rps
            tap.ok(bad == 0, "%s: every response 2xx (%s)" % (name, sock))
            tap.diag("%s_requests_per_s %.0f" % (name, rps))
            tap.diag("%s_p99_ms %.2f" % (name, p99))
            if name == "bare":
                continue
            # the peer with an answer of the same size, right after
            probe = url if scr is None else (
                base + "/api/v1/cases/%d/slots?count=3" % cases[0])
            path = probe.split("/", 3)[3]
            size = len(request(srv.port, "GET", "/" + path, token=tok)[2])
            same, _, _, _ = wrk("http://127.0.0.1:%d/size/%d" % (bare_port,
                                                                  size))
            tap.diag("%s_bytes %d" % (name, size))
            tap.diag("%s_bare_same_size_requests_per_s %.0f" % (name, same))
            results[name + "@same"] = same
        for name, rps in results.items():
            if name != "bare" and not name.endswith("@same"):
                tap.diag("%s_ratio_to_bare %.2f" % (name, rps / results["bare"]))
                tap.diag("%s_ratio_to_bare_same_size %.2f"
                         % (name, rps / results[name + "@same"]))
        # cold slot searches: a write before each makes the cache stale
        cold = []
        for cid in cases[:40]:
            request(srv.port, "POST", "/api/v1/feed-links", token=token,
                    body={"kind": "room", "ref_id": 1})
            t0 = time.perf_counter()
            st, _, _ = request(srv.port, "GET",
                               "/api/v1/cases/%d/slots?count=3" % cid,
                               token=token)
            cold.append((time.perf_counter() - t0) * 1000)
            if st != 200:
                tap.ok(False, "cold slot search answered", st)
                break
        cold.sort()
        tap.diag("slots_cold_p50_ms %.2f" % cold[len(cold) // 2])
        tap.diag("slots_cold_max_ms %.2f" % cold[-1])
        tap.ok(True, "benchmark ran")
    finally:
        bare.terminate()
        bare.wait()
        srv.stop()
        centre.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
