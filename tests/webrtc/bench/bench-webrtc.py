#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-webrtc.py — issue 6's WebRTC benchmarks, medsched against Janus.

In one run, on one machine, with the same publishers (medpeer.py: aiortc
sending a pre-encoded 640x480 VP8 + Opus beep-and-flash stream):

  cpu   N concurrent two-party sessions (a party and a mediator, both
        publishing, each receiving the other) on `medsched serve`, every
        participant recorded; then the same N sessions on Janus 1.1.2's
        VideoRoom with `record = true` (a room per session, each participant
        a publisher plus a subscriber to the other). Phases alternate
        (medsched, Janus, medsched, Janus, ...) so both see the same load
        from the rest of the machine. CPU is the server process's
        user+sys time over a steady window, per recorded session.
  join  J joins, one at a time, alternating servers: the mediator is in
        the call (and, on medsched, recording); the party joins. Times from
        the party's answer to the first decoded video frame at the
        mediator and (medsched) to the party's first keyframe entering its
        recorder (the server's `first-keyframe-recorded` debug line).
  av    the beep-and-flash offset in the parties' final recordings of the
        cpu phase: flash frames and beep onsets found by decoding, paired
        within 0.2 s (flashes right after a keyframe jump left out).

Prints `# key value` lines (BENCHMARKS.md quotes them) and exits non-zero
only when something did not work (a session that failed to connect, no
recording); targets missed are reported, not failed.

Needs: /usr/bin/python3 with python3-aiortc, python3-av, python3-numpy,
python3-websockets; the `janus` package; MEDSCHED pointing to the built
medsched, GStreamer finding the build's plugins (meson sets all that when
run as `meson test -C BUILD --benchmark --suite webrtc`).
"""

import argparse
import asyncio
import glob
import json
import os
import pickle
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import medpeer  # noqa: E402
import medserver  # noqa: E402
import avcheck  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


TAP_N = [0]


def die_with_parent():
    """preexec_fn for the servers: SIGKILL them when this process dies, so
    a benchmark killed by its timeout leaves no server behind."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def out(key, value):
    print("# %s %s" % (key, value), flush=True)


def ok(cond, what):
    """A TAP result: something that must work (timings never fail)."""
    TAP_N[0] += 1
    print("%sok %d - %s" % ("" if cond else "not ", TAP_N[0], what),
          flush=True)
    return 0 if cond else 1


def note(text):
    print(text, flush=True)


def cpu_seconds(pid):
    """User + system CPU of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def load_clip(cache):
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    clip = medpeer.make_clip()
    if cache:
        with open(cache + ".tmp", "wb") as f:
            pickle.dump(clip, f)
        os.replace(cache + ".tmp", cache)
    return clip


# ---------------------------------------------------------------- Janus

class JanusServer:
    """janus with our own configuration folder under a temp dir: loopback
    WebSocket API on a free port, VideoRoom only, one recorded room per
    session."""

    LIB = "/usr/lib/x86_64-linux-gnu/janus"

    def __init__(self, work, rooms, ice_ip):
        self.dir = os.path.join(work, "janus")
        self.conf = os.path.join(self.dir, "conf")
        self.rec = os.path.join(self.dir, "rec")
        os.makedirs(self.conf)
        os.makedirs(self.rec)
        self.port = free_port()
        lib = self.LIB
        if not os.path.isdir(lib):
            out_ = subprocess.run(["dpkg", "-L", "janus"], capture_output=True,
                                  text=True).stdout.split()
            lib = next((p for p in out_ if p.endswith("/janus/plugins")),
                       lib + "/plugins").rsplit("/", 1)[0]
        base = 20000 + (os.getpid() % 200) * 100
        subst = {"@CONF_DIR@": self.conf, "@LIB_DIR@": lib,
                 "@WS_PORT@": str(self.port), "@REC_DIR@": self.rec,
                 "@ICE_IFACE@": ice_ip,
                 "@RTP_PORTS@": "%d-%d" % (base, base + 99),
                 "@ADMIN_KEY@": "bench-%d" % os.getpid()}
        tmpl = os.path.join(HERE, "janus")
        for name in ("janus.jcfg", "janus.transport.websockets.jcfg",
                     "janus.plugin.videoroom.jcfg"):
            text = open(os.path.join(tmpl, name + ".in")).read()
            if name == "janus.plugin.videoroom.jcfg":
                room = open(os.path.join(tmpl, "room.jcfg.in")).read()
                for r in rooms:
                    text += room.replace("@ROOM@", str(r))
            for k, v in subst.items():
                text = text.replace(k, v)
            with open(os.path.join(self.conf, name), "w") as f:
                f.write(text)
        self.log = open(os.path.join(self.dir, "janus.log"), "w")
        self.proc = subprocess.Popen(
            ["janus", "-F", self.conf, "-C",
             os.path.join(self.conf, "janus.jcfg"), "-o"],
            stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent)
        self.url = "ws://127.0.0.1:%d/" % self.port
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("janus exited: see %s" % self.log.name)
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("janus did not listen on %d" % self.port)

    def recordings(self):
        return [p for p in glob.glob(os.path.join(self.rec, "*.mjr"))]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class JanusSession:
    """Two participants in one VideoRoom room, each publishing and
    subscribed to the other."""

    def __init__(self, server, room, clip):
        self.server = server
        self.room = room
        self.clip = clip
        self.peers = []
        self.conns = []

    async def start_mediator(self):
        self.mj = await medpeer.Janus.connect(self.server.url)
        self.conns.append(self.mj)
        self.mpub = medpeer.Peer(self.clip, "mediator")
        self.peers.append(self.mpub)
        _, self.mfeed = await medpeer.janus_publish(self.mj, self.room,
                                                    self.mpub, "mediator")

    async def join_party(self):
        """Party publishes; the mediator subscribes to it (and the party
        to the mediator). Returns the party publisher and the mediator's
        subscriber peer."""
        self.pj = await medpeer.Janus.connect(self.server.url)
        self.conns.append(self.pj)
        self.ppub = medpeer.Peer(self.clip, "party")
        self.peers.append(self.ppub)
        _, pfeed = await medpeer.janus_publish(self.pj, self.room, self.ppub,
                                               "party")
        self.msub = medpeer.Peer(self.clip, "mediator-sub", send=False)
        self.psub = medpeer.Peer(self.clip, "party-sub", send=False)
        self.peers += [self.msub, self.psub]
        await medpeer.janus_subscribe(self.mj, self.room, pfeed, self.msub)
        await medpeer.janus_subscribe(self.pj, self.room, self.mfeed,
                                      self.psub)
        return self.ppub, self.msub

    async def close(self):
        for p in self.peers:
            await p.close()
        for c in self.conns:
            await c.close()


# ---------------------------------------------------------------- phases

async def wait_media(sessions, what, timeout=30):
    """Until every receiving side has video frames in (or timeout)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(s.receivers_ok() for s in sessions):
            return True
        await asyncio.sleep(0.25)
    note("# %s: %d of %d sessions had media both ways after %d s" % (
        what, sum(s.receivers_ok() for s in sessions), len(sessions),
        timeout))
    return False


def receivers_ok_janus(self):
    return (self.msub.frames_in["video"] > 0
            and self.psub.frames_in["video"] > 0)


def mediator_sees_party_janus(self):
    return self.msub.frames_in["video"] > 0


def join_time_janus(self):
    t = self.msub.t.get("first-video-decoded")
    return t - self.ppub.t["answer"] if t else None


JanusSession.receivers_ok = receivers_ok_janus
JanusSession.mediator_sees_party = mediator_sees_party_janus
JanusSession.join_time = join_time_janus


async def cpu_phase(kind, make_session, n, seconds, pid):
    """Connects n sessions, waits for media both ways, measures the server
    process's CPU over `seconds`, then tears down. Returns a dict."""
    if hasattr(make_session, "before_start"):
        make_session.before_start()
        pid = make_session.pid()
    sessions = [make_session(i) for i in range(n)]
    t0 = time.monotonic()
    res = await asyncio.gather(*[s.start() for s in sessions],
                               return_exceptions=True)
    failed = [r for r in res if isinstance(r, Exception)]
    for r in failed[:3]:
        note("# %s: session failed: %r" % (kind, r))
    live = [s for s, r in zip(sessions, res) if not isinstance(r, Exception)]
    ok = await wait_media(live, kind)
    setup = time.monotonic() - t0
    await asyncio.sleep(3)  # past the keyframe bursts of the joins
    c0 = cpu_seconds(pid)
    s0 = cpu_seconds(os.getpid())
    w0 = time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - w0
    c1 = cpu_seconds(pid)
    s1 = cpu_seconds(os.getpid())
    connected = sum(s.receivers_ok() for s in live)
    one_way = sum(s.mediator_sees_party() for s in live)
    joins = [s.join_time() for s in live]
    if hasattr(make_session, "before_stop"):
        await make_session.before_stop()
    await asyncio.gather(*[asyncio.wait_for(s.stop(), 20) for s in live],
                         return_exceptions=True)
    if hasattr(make_session, "after"):
        await make_session.after()
    return {"kind": kind, "n": n, "connected": connected, "ok": ok,
            "one_way": one_way, "joins": [j for j in joins if j is not None],
            "failed": len(failed), "setup_s": setup, "wall": wall,
            "server_cpu": c1 - c0, "client_cpu": s1 - s0}


def quiet_exceptions(loop, ctx):
    """aiortc 1.4 leaves a task failing with InvalidStateError behind when
    a bundled transport is closed; that is its teardown, not our error."""
    exc = ctx.get("exception")
    if exc is not None and type(exc).__name__ == "InvalidStateError":
        return
    loop.default_exception_handler(ctx)


async def run(args):
    asyncio.get_running_loop().set_exception_handler(quiet_exceptions)
    work = tempfile.mkdtemp(prefix="medsched-bench-webrtc-")
    keep = args.keep
    clip = load_clip(args.clip_cache)
    out("clip", "%dx%d@%d VP8 %.0f kbit/s incl. Opus, keyframe every %d s, "
        "opus delay compensation %d samples" % (
            medpeer.WIDTH, medpeer.HEIGHT, medpeer.FPS,
            clip.bytes_per_s * 8 / 1000, clip.keys[1] // medpeer.FPS
            if len(clip.keys) > 1 else 0, clip.audio_shift))
    ice_ip = args.ice_ip or medserver.host_ip()
    n = args.sessions
    rooms = list(range(1001, 1001 + n + 1))
    janus = med = None
    status = 0
    try:
        janus = JanusServer(work, rooms, ice_ip)
        if not args.janus_only:
            med = medserver.MedServer(work, bookings=n + 1,
                                      teardown=args.teardown)
        note("# load average at start: %s" % open("/proc/loadavg").read()
             .strip())
        results = []
        if args.rounds:
            for r in range(args.rounds):
                order = ["medsched", "janus"] if r % 2 == 0 else ["janus",
                                                                  "medsched"]
                for kind in order:
                    if kind == "janus":
                        mk = lambda i: JanusPhaseSession(janus, rooms[i],
                                                         clip)
                        pid = janus.proc.pid
                    elif med is not None:
                        def mk(i):
                            return med.session(i, clip)
                        mk.after = med.wait_all_sealed
                        mk.pid = med.pid
                        pid = None
                        if med.teardown == "shutdown":
                            # a server per phase, ended by SIGTERM
                            mk.before_start = med.start
                            mk.before_stop = med.stop_async
                        elif med.proc is None:
                            med.start()
                    else:
                        continue
                    res = await cpu_phase(kind, mk, n, args.seconds, pid)
                    results.append(res)
                    share = res["server_cpu"] / res["wall"]
                    note("# round %d %s: %d/%d sessions with media both ways"
                         " (%d with the party's video at the mediator),"
                         " server %.1f %% of a core (%.2f %% per session), "
                         "clients %.1f %%, setup %.1f s" % (
                             r + 1, kind, res["connected"], n,
                             res["one_way"], share * 100,
                             share * 100 / n,
                             res["client_cpu"] / res["wall"] * 100,
                             res["setup_s"]))
                    status |= ok(res["connected"] == n,
                                 "round %d %s: %d of %d sessions with media "
                                 "both ways" % (r + 1, kind,
                                                res["connected"], n))
            for kind in ("medsched", "janus"):
                # per session with media flowing (the party's video reached
                # the mediator through the server, so it was recorded)
                rs = [x for x in results if x["kind"] == kind
                      and x["one_way"] > 0]
                if not rs:
                    out("%s-cpu-per-session-pct" % kind, "unmeasured (no "
                        "phase with a session up)")
                    continue
                per = [x["server_cpu"] / x["wall"] / x["one_way"] * 100
                       for x in rs]
                out("%s-sessions-up" % kind, " ".join(
                    "%d/%d" % (x["one_way"], x["n"]) for x in rs))
                out("%s-cpu-per-session-pct" % kind, " ".join(
                    "%.2f" % p for p in per))
                out("%s-cpu-per-session-pct-mean" % kind,
                    "%.2f" % statistics.mean(per))
                out("%s-client-cpu-pct-mean" % kind, "%.1f" % statistics.mean(
                    [x["client_cpu"] / x["wall"] * 100 for x in rs]))
                ms = [j * 1000 for x in results if x["kind"] == kind
                      for j in x["joins"]]
                if ms:
                    out("%s-concurrent-join-to-first-frame-ms" % kind,
                        "p50 %.0f p95 %.0f min %.0f max %.0f n %d" % (
                            pct(ms, 50), pct(ms, 95), min(ms), max(ms),
                            len(ms)))
            m = [x for x in results if x["kind"] == "medsched"
                 and x["one_way"] > 0]
            j = [x for x in results if x["kind"] == "janus"
                 and x["one_way"] > 0]
            if m and j:
                mm = statistics.mean(x["server_cpu"] / x["wall"] / x["one_way"]
                                     for x in m)
                jj = statistics.mean(x["server_cpu"] / x["wall"] / x["one_way"]
                                     for x in j)
                out("cpu-ratio-medsched-to-janus", "%.2f" % (mm / jj)
                    if jj > 0 else "inf")
            recs = janus.recordings()
            big = sum(os.path.getsize(p) > 1024 for p in recs)
            out("janus-recordings", "%d .mjr files, %d non-empty" % (
                len(recs), big))
            status |= ok(big >= 4 * n * args.rounds,
                         "Janus recorded every publisher's audio and video")
        if args.joins:
            status |= await join_bench(args, clip, janus, med, rooms[n])
            if med is not None:
                status |= av_report(med, 1, "medsched-av-offset-one-call-ms",
                                    [med.bookings[-1]["id"]])
        if med is not None and args.rounds:
            status |= av_report(med, n * args.rounds, bookings=[
                x["id"] for x in med.bookings[:n]])
        if args.rounds:
            janus_av_report(janus)
        out("load-average-end", " ".join(
            open("/proc/loadavg").read().split()[0:3]))
    except Exception as e:
        status |= ok(False, "benchmark ran: %r" % e)
    finally:
        if janus:
            janus.stop()
        if med:
            if med.proc is not None and med.proc.poll() is None:
                med.stop()
            status |= ok(all(med.stops), "medsched serve ended cleanly on "
                         "SIGTERM, %d of %d times" % (sum(med.stops),
                                                      len(med.stops)))
        if keep:
            note("# kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("1..%d" % TAP_N[0], flush=True)
    return status


class JanusPhaseSession(JanusSession):
    async def start(self):
        await self.start_mediator()
        await self.join_party()

    async def stop(self):
        await self.close()


async def join_bench(args, clip, janus, med, janus_room):
    """One party joins at a time; alternating servers."""
    status = 0
    times = {"medsched": {"frame": [], "key": []}, "janus": {"frame": []}}
    kinds = ["medsched", "janus"] if med is not None else ["janus"]
    failures = {kind: 0 for kind in kinds}
    for k in range(args.joins):
        for kind in kinds:
            if failures[kind] >= 3:
                continue  # three in a row: the server is not answering
            try:
                if kind == "janus":
                    s = JanusSession(janus, janus_room, clip)
                    await s.start_mediator()
                    await asyncio.sleep(0.5)
                    ppub, msub = await s.join_party()
                    t = await wait_first(msub)
                    if t is not None:
                        times["janus"]["frame"].append(
                            t - ppub.t["answer"])
                    await asyncio.wait_for(s.close(), 20)
                else:
                    frame, key = await asyncio.wait_for(
                        med.one_join(k, clip), 90)
                    if frame is not None:
                        times["medsched"]["frame"].append(frame)
                    if key is not None:
                        times["medsched"]["key"].append(key)
                failures[kind] = 0
            except Exception as e:  # reported, counted as a failed join
                note("# join %d on %s failed: %r" % (k, kind, e))
                failures[kind] += 1
                if failures[kind] >= 3:
                    note("# %s: three joins failed in a row, no more" % kind)
    for kind in kinds:
        got = len(times[kind]["frame"])
        status |= ok(got == args.joins, "%s: %d of %d joins reached a "
                     "decoded frame at the mediator" % (kind, got,
                                                        args.joins))
    for kind, d in times.items():
        for what, v in d.items():
            if not v:
                continue
            ms = [x * 1000 for x in v]
            out("%s-join-to-%s-ms" % (kind, "first-frame" if what == "frame"
                                      else "first-recorded-keyframe"),
                "p50 %.0f p95 %.0f min %.0f max %.0f n %d" % (
                    pct(ms, 50), pct(ms, 95), min(ms), max(ms), len(ms)))
    return status


async def wait_first(peer, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "first-video-decoded" in peer.t:
            return peer.t["first-video-decoded"]
        await asyncio.sleep(0.005)
    return None


def av_report(med, expected, key="medsched-av-offset-ms", bookings=None):
    offsets = []
    files = []
    for b in bookings or ["*"]:
        files += med.party_recordings(b)
    ok(len(files) >= expected, "medsched sealed %d of %d party recordings"
       % (len(files), expected))
    for path in files:
        try:
            offsets += avcheck.offsets(path)
        except Exception as e:
            note("# av: %s: %r" % (path, e))
    if not offsets:
        out(key, "unmeasured (%d recordings)" % len(files))
        return ok(False, "beep/flash pairs found in the parties' recordings")
    ok(True, "beep/flash pairs found in %d party recordings" % len(files))
    ms = [o * 1000 for o in offsets]
    out(key,
        "p50 %.1f p95 %.1f p99 %.1f min %.1f max %.1f |max| %.1f "
        "|p99| %.1f n %d files %d" % (
            pct(ms, 50), pct(ms, 95), pct(ms, 99), min(ms), max(ms),
            max(abs(x) for x in ms), pct([abs(x) for x in ms], 99), len(ms),
            len(files)))
    return 0


def mjr_first_packet(path):
    """Wall-clock µs of the first packet Janus wrote to an .mjr ("u")."""
    p = subprocess.run(["janus-pp-rec", "-j", path], capture_output=True,
                       text=True, timeout=30)
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)["u"] / 1e6
    raise RuntimeError("no header in %s" % path)


def janus_av_report(janus, limit=20):
    """Janus records each stream on its own (.mjr); janus-pp-rec turns them
    into a .webm and an .opus, each starting at its first packet, and the
    .mjr headers say when that packet was written: flash and beep times
    are put on that common clock before pairing."""
    if not shutil.which("janus-pp-rec"):
        out("janus-av-offset-ms", "unmeasured (janus-pp-rec from janus-tools"
            " is not installed)")
        return 0
    users = {}
    for path in janus.recordings():
        m = re.search(r"-user-(\d+)-\d+-(audio|video)-\d+\.mjr$", path)
        if m:
            users.setdefault(m.group(1), {})[m.group(2)] = path
    pp = os.path.join(janus.dir, "pp")
    os.makedirs(pp, exist_ok=True)
    ms = []
    done = 0
    for uid, d in sorted(users.items()):
        if done >= limit or "audio" not in d or "video" not in d:
            continue
        v = os.path.join(pp, uid + ".webm")
        a = os.path.join(pp, uid + ".opus")
        for src, dst in ((d["video"], v), (d["audio"], a)):
            subprocess.run(["janus-pp-rec", src, dst], capture_output=True,
                           timeout=120)
        if not (os.path.exists(v) and os.path.exists(a)):
            continue
        tv = mjr_first_packet(d["video"])
        ta = mjr_first_packet(d["audio"])
        f = [tv + t for t in avcheck.flashes(v) if t >= avcheck.SETTLE]
        b = [ta + t for t in avcheck.beeps(a)]
        ms += [x * 1000 for x in avcheck.pair(f, b)]
        done += 1
    if not ms:
        out("janus-av-offset-ms", "unmeasured (%d publishers)" % len(users))
        return 0
    out("janus-av-offset-ms",
        "p50 %.1f p95 %.1f p99 %.1f min %.1f max %.1f |max| %.1f |p99| %.1f "
        "n %d publishers %d" % (
            pct(ms, 50), pct(ms, 95), pct(ms, 99), min(ms), max(ms),
            max(abs(x) for x in ms), pct([abs(x) for x in ms], 99), len(ms),
            done))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20,
                    help="CPU window per phase")
    ap.add_argument("--rounds", type=int, default=2,
                    help="medsched/Janus phase pairs")
    ap.add_argument("--joins", type=int, default=20,
                    help="joins per server for the join-time figures")
    ap.add_argument("--janus-only", action="store_true")
    ap.add_argument("--teardown", choices=("shutdown", "leave"),
                    default="shutdown",
                    help="how medsched calls end: SIGTERM to a server "
                    "started per phase / per join (default), or record stop"
                    " + leave messages on one server")
    ap.add_argument("--ice-ip", help="host address for Janus's ICE")
    ap.add_argument("--clip-cache", default=os.environ.get(
        "MED_BENCH_CLIP", os.path.join(tempfile.gettempdir(),
                                       "medsched-bench-clip.pickle")))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
