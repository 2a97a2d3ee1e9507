#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench-media.py — the remote-session benchmarks of issue 5, each one
running medsched and the equivalent hand-written gst-launch-1.0 pipelines
in the same run (interleaved), so that the ratio stays fair on a shared,
loaded machine.

  bench-media.py BUILD_DIR live [--sessions N] [--seconds S] [--rounds R]
      N concurrent `medsched record start` sessions, each recording two
      live RTSP cameras (720p30 H.264 ~2 Mbit/s + Opus, served in real time
      by an RTSP server started here from a pre-encoded clip, so the
      sources cost almost nothing) without re-encoding; then N gst-launch
      pipelines (rtspsrc ! rtph264depay ! h264parse ! medrecorder). CPU of
      the recording processes only (wait4 rusage), per second of media
      recorded; sealed recordings counted.
  bench-media.py BUILD_DIR composite [--seconds S] [--rounds R] [--at-once K]
      One session of four simulated cameras (test://, each encoded once
      like a camera) with and without --composite (grid 1280x720@30,
      medstamp, audiomixer, one x264 encode, composite recorder, HLS), the
      hand-written gst-launch equivalent of both, then K composites at once
      (medsched, then gst-launch): real time kept, frames in the composite
      recording, sealed.
  bench-media.py BUILD_DIR kill [--trials T] [--stops S] [--lanes L]
      T trials killing `medsched record start` (test://av) with SIGKILL at
      a random moment, `medsched recording recover` after each: files that
      decode to their end, media lost (sent vs decoded); S normal stops
      (`medsched record stop`): time from stop to the sealed seekable file.

Prints the figures; exits 1 when a recording was lost or broken.
"""

import argparse
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(HERE))
NOW = "2026-12-07T08:00"


def log(*a):
    print(*a, flush=True)


def setup_env(build):
    env = os.environ
    env["GST_PLUGIN_PATH_1_0"] = os.path.join(build, "plugins")
    env.setdefault("GST_REGISTRY_1_0",
                   os.path.join(build, "tests", "media", "gst-registry.bin"))
    if "GST_PLUGIN_SYSTEM_PATH_1_0" not in env:
        env["GST_PLUGIN_SYSTEM_PATH_1_0"] = subprocess.run(
            ["pkg-config", "--variable=pluginsdir", "gstreamer-1.0"],
            stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    env.setdefault("LC_ALL", "C.UTF-8")
    Gst.init(None)


# ---------------------------------------------------------------- helpers

class Proc:
    """A child whose CPU time (user+sys, from wait4) is kept."""

    def __init__(self, argv, stdout=subprocess.DEVNULL, **kw):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=stdout,
                                  stderr=subprocess.PIPE, **kw)
        self.t0 = time.monotonic()
        self.cpu = None
        self.rc = None
        self.err = b""
        self._errt = threading.Thread(target=self._drain, daemon=True)
        self._errt.start()

    def _drain(self):
        self.err = self.p.stderr.read()

    def signal(self, sig):
        # not Popen.send_signal: it polls, and a reaped child loses its
        # rusage
        if self.rc is None:
            os.kill(self.p.pid, sig)

    def wait(self, timeout=None):
        """Reaps the child; SIGKILL once timeout seconds have passed since
        it was started."""
        deadline = None if timeout is None else self.t0 + timeout
        while self.rc is None:
            pid, status, ru = os.wait4(self.p.pid, os.WNOHANG)
            if pid == self.p.pid:
                self.rc = os.waitstatus_to_exitcode(status)
                self.p.returncode = self.rc
                self.cpu = ru.ru_utime + ru.ru_stime
                break
            if deadline is not None and time.monotonic() > deadline:
                self.p.kill()
                deadline = None
            time.sleep(0.05)
        self._errt.join(5)
        return self.rc


class Med:
    def __init__(self, exe, db, cwd):
        self.exe, self.db, self.cwd = exe, db, cwd

    def argv(self, *args):
        return [self.exe, "--db", self.db, "--now", NOW, "--actor", "bench"] \
            + [str(a) for a in args]

    def run(self, *args, timeout=120):
        p = subprocess.run(self.argv(*args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=self.cwd,
                           timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace") + \
            p.stderr.decode("utf-8", "replace")

    def must(self, *args):
        rc, out = self.run(*args)
        if rc != 0:
            sys.exit("setup failed: %s: %s" % (" ".join(map(str, args)), out))
        return out

    def setup(self, bookings):
        self.must("init", "--name", "Bench", "--zone", "Asia/Shanghai",
                  "--layers", "CN", "--calendars",
                  os.path.join(SRC_ROOT, "calendars"))
        self.must("room", "add", "--name", "R", "--kind", "remote",
                  "--features", "video,recording")
        for i in range(4):
            self.must("mediator", "add", "--name", "M%d" % i, "--languages",
                      "zh", "--specialties", "wages", "--daily-cap", "8")
        for k in range(1, bookings + 1):
            self.must("case", "add", "--number", "B%d" % k, "--kind", "wages",
                      "--party", "applicant,zh,remote,A%d" % k)
            self.must("case", "dispatch", k, "--department",
                      "court-mediation")
            self.must("book", k)

    def rows(self, sql, *args):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True,
                              timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def recording_of(self, d):
        r = self.rows("SELECT id, state, failure FROM recording WHERE dir = ?",
                      d)
        return r[-1] if r else None


def examine(path, decode=False):
    """Runs a Matroska file through matroskademux (and decoders when decode
    is set) to EOS. Returns (error or None, {kind: [buffers, first, end]})
    with times in seconds, kind 'video_0', 'audio_0', … per demuxer pad."""
    pipe = Gst.Pipeline.new()
    src = Gst.ElementFactory.make("filesrc")
    demux = Gst.ElementFactory.make("matroskademux")
    src.set_property("location", path)
    pipe.add(src)
    pipe.add(demux)
    src.link(demux)
    streams = {}

    def counted(name):
        st = streams.setdefault(name, [0, None, 0.0])

        def handoff(sink, buf, pad):
            st[0] += 1
            if buf.pts != Gst.CLOCK_TIME_NONE:
                t = buf.pts / Gst.SECOND
                if st[1] is None or t < st[1]:
                    st[1] = t
                d = buf.duration / Gst.SECOND \
                    if buf.duration != Gst.CLOCK_TIME_NONE else 0.0
                st[2] = max(st[2], t + d)
        return handoff

    def pad_added(el, pad):
        name = pad.get_name()
        chain = []
        if decode:
            chain.append(Gst.ElementFactory.make("decodebin"))
        q = Gst.ElementFactory.make("queue")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("signal-handoffs", True)
        sink.connect("handoff", counted(name))
        for e in chain + [q, sink]:
            pipe.add(e)
        if decode:
            dec = chain[0]

            def dec_pad(_d, dpad):
                dpad.link(q.get_static_pad("sink"))
            dec.connect("pad-added", dec_pad)
            pad.link(dec.get_static_pad("sink"))
        else:
            pad.link(q.get_static_pad("sink"))
        q.link(sink)
        for e in chain + [q, sink]:
            e.sync_state_with_parent()

    demux.connect("pad-added", pad_added)
    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    msg = bus.timed_pop_filtered(
        300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    error = None
    if msg is None:
        error = "timeout"
    elif msg.type == Gst.MessageType.ERROR:
        error = msg.parse_error()[0].message
    pipe.set_state(Gst.State.NULL)
    return error, streams


def span(streams, prefix="video"):
    """Seconds covered by the first stream whose name starts with prefix."""
    for name in sorted(streams):
        st = streams[name]
        if name.startswith(prefix) and st[1] is not None:
            return st[2] - st[1], st[0]
    return 0.0, 0


def discover(path):
    p = subprocess.run(["gst-discoverer-1.0", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    text = p.stdout.decode("utf-8", "replace")
    m = re.search(r"Duration: (\d+):(\d+):([\d.]+)", text)
    dur = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 +
           float(m.group(3))) if m else None
    return {
        "rc": p.returncode,
        "duration": dur,
        "video": len(re.findall(r"^\s+video #\d+", text, re.M)),
        "audio": len(re.findall(r"^\s+audio #\d+", text, re.M)),
        "seekable": re.search(r"Seekable: yes", text) is not None,
    }


def manifest_sealed(d):
    m = os.path.join(d, "manifest.jsonl")
    if not os.path.exists(m):
        return False
    with open(m, encoding="utf-8") as f:
        text = f.read()
    return '"seal"' in text


def target(what, ok, value):
    log("target %s: %s (%s)" % (what, "met" if ok else "MISSED", value))


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# ------------------------------------------------------------ RTSP server

def serve(port, clip):
    """The stand-in cameras: /cam1 and /cam2 each play the pre-encoded A/V
    clip in real time (shared media: one pipeline per mount whatever the
    number of clients), so the sources cost no encode."""
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GstRtspServer
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    mounts = server.get_mount_points()
    for cam in ("cam1", "cam2"):
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(
            "( filesrc location=%s ! matroskademux name=d "
            "d.video_0 ! queue ! h264parse ! "
            "rtph264pay name=pay0 pt=96 config-interval=-1 "
            "d.audio_0 ! queue ! opusparse ! rtpopuspay name=pay1 pt=97 )"
            % clip)
        f.set_shared(True)
        mounts.add_factory("/" + cam, f)
    if server.attach(None) == 0:
        sys.exit("cannot listen on %d" % port)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()


def make_clip(path, seconds):
    if os.path.exists(path):
        return
    log("making a %d s 720p30 H.264 (~2 Mbit/s, key frame every 2 s, "
        "moving zone plate) + Opus clip: %s" % (seconds, path))
    tmp = path + ".part"
    subprocess.run(
        ["gst-launch-1.0", "-q", "-e", "matroskamux", "name=m", "!",
         "filesink", "location=" + tmp,
         "videotestsrc", "num-buffers=%d" % (seconds * 30),
         "pattern=zone-plate", "kx2=20", "ky2=20", "kt=1",
         "!", "video/x-raw,width=1280,height=720,framerate=30/1,format=I420",
         "!", "x264enc", "bitrate=2000", "pass=cbr",
         "speed-preset=ultrafast", "key-int-max=60", "!", "h264parse", "!",
         "queue", "!", "m.",
         "audiotestsrc", "num-buffers=%d" % (seconds * 48000 // 1024),
         "wave=ticks", "volume=0.3", "!",
         "audio/x-raw,rate=48000,channels=2", "!", "audioconvert", "!",
         "opusenc", "!", "opusparse", "!", "queue", "!", "m."],
        check=True, stdout=subprocess.DEVNULL)
    os.rename(tmp, path)


# ------------------------------------------------------------------ live

def rtsp_knob_args():
    """The measurement knobs medsched's rtspsrc takes from the environment
    (src/media/med-input.c), given to the peer's rtspsrc too."""
    out = []
    for env, prop in (("MEDSCHED_RTSP_PROTOCOLS", "protocols"),
                      ("MEDSCHED_RTSP_BUFFER_MODE", "buffer-mode")):
        if os.environ.get(env):
            out.append("%s=%s" % (prop, os.environ[env]))
    return out


def launch_live(port, d, audio):
    """Two cameras, one medrecorder each: two independent live sources in
    one medrecorder made splitmuxsink fail ("Queued GOP time is negative")
    in the trial runs, which medsched's gates avoid (see BENCHMARKS.md)."""
    args = ["gst-launch-1.0", "-e"]
    for i, cam in enumerate(("cam1", "cam2")):
        sub = os.path.join(d, cam)
        os.makedirs(sub)
        args += ["medrecorder", "name=r%d" % i, "location=" + sub,
                 "rtspsrc", "location=rtsp://127.0.0.1:%d/%s" % (port, cam),
                 "latency=" + os.environ.get("MEDSCHED_RTSP_LATENCY", "200"),
                 "name=s%d" % i] + rtsp_knob_args()
        args += ["s%d." % i, "!", "application/x-rtp,media=video", "!",
                 "rtph264depay", "!", "h264parse", "config-interval=-1", "!",
                 "queue", "!", "r%d.video_0" % i,
                 "s%d." % i, "!", "application/x-rtp,media=audio", "!"]
        if audio:
            args += ["rtpopusdepay", "!", "opusparse", "!", "queue", "!",
                     "r%d.audio_0" % i]
        else:
            args += ["fakesink", "sync=false", "async=false"]
    return args


def run_live_batch(kind, n, seconds, med, port, work, tag, audio):
    procs = []
    for i in range(n):
        d = os.path.join(work, "%s-%s-%d" % (kind, tag, i))
        if kind == "medsched":
            argv = med.argv("record", "start", 1, "--regime", "hearing",
                            "--dir", d, "--duration", seconds,
                            "--input", "rtsp://127.0.0.1:%d/cam1" % port,
                            "--input", "rtsp://127.0.0.1:%d/cam2" % port)
        else:
            os.makedirs(d)
            argv = launch_live(port, d, audio)
        procs.append((d, Proc(argv, cwd=work)))
        time.sleep(0.1)
    if kind == "gst-launch":
        # medsched counts --duration from the first media; stop the peers
        # after the same time plus their start-up, and normalise by the
        # media each one recorded anyway.
        for d, p in procs:
            time.sleep(max(0.0, p.t0 + seconds + 3 - time.monotonic()))
            p.signal(signal.SIGINT)
    cpu = media = 0.0
    sealed = hung = 0
    lost = []
    tracks = "?"
    for d, p in procs:
        p.wait(timeout=seconds + 90)
        dirs = [d] if kind == "medsched" else \
            [os.path.join(d, "cam1"), os.path.join(d, "cam2")]
        ok, videos, audios, dur = p.rc == 0, 0, 0, None
        for sub in dirs:
            final = os.path.join(sub, "recording.mkv")
            ok = ok and os.path.exists(final) and manifest_sealed(sub)
            info = discover(final) if os.path.exists(final) else None
            if info and info["duration"]:
                videos += info["video"]
                audios += info["audio"]
                dur = info["duration"] if dur is None else \
                    min(dur, info["duration"])
        if kind == "gst-launch" and p.rc != 0:
            # gst-launch exits 1 on an error at teardown (rtspsrc's
            # TEARDOWN) and sometimes never exits after EOS: count the
            # files, report the exit
            hung += 1
            ok = all(manifest_sealed(sub) for sub in dirs)
        if ok and videos == 2 and dur and dur >= 0.75 * seconds:
            # CPU per media second over the sealed sessions only: a
            # failed one stops early and records little
            sealed += 1
            cpu += p.cpu or 0.0
            media += dur
        else:
            err = p.err.decode("utf-8", "replace")
            # the CRITICAL/ERROR lines name the element; the tail is often
            # only GLib's generic advice
            lines = err.splitlines()
            why = [" ".join(lines[i:i + 2]) for i, ln in enumerate(lines)
                   if "CRITICAL" in ln or "ERROR" in ln][:3]
            lost.append((os.path.basename(d), p.rc, dur, videos,
                         why or err[-200:]))
        if videos:
            tracks = "%d video + %d audio" % (videos, audios)
    return {"cpu": cpu, "media": media, "sealed": sealed, "n": n,
            "lost": lost, "tracks": tracks, "hung": hung}


def bench_live(args, med, work):
    port = 20000 + random.randrange(20000)
    clip = os.path.join(args.build, "tests", "media",
                        "bench-clip-%ds.mkv" % (args.seconds + 60))
    make_clip(clip, args.seconds + 60)
    med.setup(1)
    # does medsched record the cameras' audio? the peer does the same work
    audio = args.peer_audio == "yes"
    for r in range(args.rounds):
        srv = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                args.build, "serve", "--port", str(port),
                                "--clip", clip], stdout=subprocess.PIPE)
        if srv.stdout.readline().strip() != b"ready":
            sys.exit("the RTSP server did not start")
        if r == 0 and args.peer_audio == "auto":
            probe = run_live_batch("medsched", 1, 3, med, port, work,
                                   "probe", False)
            info = discover(os.path.join(work, "medsched-probe-0",
                                         "recording.mkv"))
            audio = info["audio"] > 0
            log("medsched records the RTSP cameras as %s; the gst-launch "
                "peer %s their audio" % (probe["tracks"],
                                        "records" if audio else "discards"))
        order = ["medsched", "gst-launch"] if r % 2 == 0 \
            else ["gst-launch", "medsched"]
        res = {}
        for kind in order:
            la = loadavg()
            res[kind] = run_live_batch(kind, args.sessions, args.seconds,
                                       med, port, work, "r%d" % r, audio)
            res[kind]["load"] = la
        srv.terminate()
        srv.wait(10)
        for kind in order:
            x = res[kind]
            per = x["cpu"] / x["media"] if x["media"] else float("nan")
            log("round %d %-10s: %d/%d sealed (%s), sealed ones: media %.0f "
                "s, CPU %.1f s, %.4f CPU-s per media-s => %.0f sessions "
                "per core (load avg before: %s)"
                % (r + 1, kind, x["sealed"], x["n"], x["tracks"], x["media"],
                   x["cpu"], per, 1 / per if per else 0, x["load"]))
            if x["hung"]:
                log("  %d gst-launch processes exited non-zero or did not "
                    "exit (killed %d s after start)"
                    % (x["hung"], args.seconds + 90))
            for lost in x["lost"]:
                log("  LOST: %s" % (lost,))
        a, b = res["medsched"], res["gst-launch"]
        if a["media"]:
            per = a["cpu"] / a["media"]
            target("round %d: >= 20 sessions of two cameras per core"
                   % (r + 1), per <= 0.05, "%.1f" % (1 / per))
        if a["media"] and b["media"] and b["cpu"]:
            log("round %d ratio medsched/gst-launch CPU per media-s: %.2f"
                % (r + 1, (a["cpu"] / a["media"]) / (b["cpu"] / b["media"])))
        args.failed |= bool(a["lost"] or b["lost"])


# ------------------------------------------------------------- composite

CAMS = ["test://av", "test://video?pattern=ball", "test://video?pattern=snow",
        "test://video?pattern=smpte"]
PATTERNS = ["smpte", "ball", "snow", "smpte"]


def launch_composite(d, composite):
    """The hand-written equivalent of medsched's session pipeline for the
    four CAMS inputs (docs/media.md): each camera encoded once and recorded
    untouched; with composite, raw video of each camera into a 2x2 grid,
    medstamp, one x264 encode teed to a composite medrecorder and hlssink2,
    the audio through audiomixer and opusenc."""
    a = ["gst-launch-1.0", "-e", "medrecorder", "name=r", "location=" + d]
    enc = ["videoconvert", "!", "video/x-raw,format=I420", "!", "x264enc",
           "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30",
           "bitrate=1500", "!", "h264parse", "!", "queue", "!"]
    for i, pat in enumerate(PATTERNS):
        a += ["videotestsrc", "is-live=true", "pattern=" + pat, "!",
              "video/x-raw,width=640,height=360,framerate=30/1", "!"]
        if composite:
            a += ["tee", "name=vt%d" % i, "!", "queue", "!"]
        a += enc + ["r.video_%d" % i]
        if composite:
            a += ["vt%d." % i, "!", "queue", "leaky=2",
                  "max-size-time=1000000000", "!", "videoscale", "!",
                  "c.sink_%d" % i]
    a += ["audiotestsrc", "is-live=true", "wave=ticks", "volume=0.3", "!",
          "audio/x-raw,rate=48000,channels=2", "!"]
    if composite:
        a += ["tee", "name=at", "!", "queue", "!"]
    a += ["audioconvert", "!", "opusenc", "!", "opusparse", "!", "queue", "!",
          "r.audio_0"]
    if composite:
        cd = os.path.join(d, "composite")
        hd = os.path.join(d, "hls")
        os.makedirs(cd)
        os.makedirs(hd)
        a += ["medrecorder", "name=rc", "location=" + cd,
              "compositor", "name=c", "background=black"]
        for i in range(4):
            a += ["sink_%d::xpos=%d" % (i, (i % 2) * 640),
                  "sink_%d::ypos=%d" % (i, (i // 2) * 360),
                  "sink_%d::width=640" % i, "sink_%d::height=360" % i]
        a += ["!", "video/x-raw,width=1280,height=720,framerate=30/1", "!",
              "videoconvert", "!", "medstamp", "case-id=B1", "room=R",
              "zone=Asia/Shanghai", "!", "videoconvert", "!",
              "video/x-raw,format=I420", "!", "x264enc", "tune=zerolatency",
              "speed-preset=ultrafast", "key-int-max=30", "bitrate=2000", "!",
              "tee", "name=ct", "!", "queue", "!", "h264parse", "!",
              "rc.video_0",
              "ct.", "!", "queue", "leaky=2", "!", "h264parse", "!",
              "hlssink2", "name=hls", "target-duration=2", "max-files=10",
              "location=" + os.path.join(hd, "segment%05d.ts"),
              "playlist-location=" + os.path.join(hd, "live.m3u8"),
              "at.", "!", "queue", "!", "audiomixer", "!", "audioconvert",
              "!", "opusenc", "!", "opusparse", "!", "queue", "!",
              "rc.audio_0"]
    return a


def run_composite_batch(kind, composite, k, seconds, med, work, tag):
    procs = []
    for i in range(k):
        d = os.path.join(work, "%s-%s-%s-%d" % (
            kind, "comp" if composite else "cams", tag, i))
        if kind == "medsched":
            argv = med.argv("record", "start", i + 1, "--regime", "hearing",
                            "--dir", d, "--duration", seconds)
            for c in CAMS:
                argv += ["--input", c]
            if composite:
                argv.append("--composite")
        else:
            os.makedirs(d)
            argv = launch_composite(d, composite)
        procs.append((d, Proc(argv, cwd=work)))
    if kind == "gst-launch":
        for d, p in procs:
            time.sleep(max(0.0, p.t0 + seconds + 0.5 - time.monotonic()))
            p.signal(signal.SIGINT)
    out = []
    for d, p in procs:
        p.wait(timeout=seconds + 120)
        wall = time.monotonic() - p.t0
        row = {"dir": d, "rc": p.rc, "cpu": p.cpu, "wall": wall,
               "sealed": p.rc == 0 and manifest_sealed(d) and
               os.path.exists(os.path.join(d, "recording.mkv")),
               "err": p.err[-300:].decode("utf-8", "replace")}
        cams = os.path.join(d, "recording.mkv")
        row["media"] = (discover(cams)["duration"] or 0.0) \
            if os.path.exists(cams) else 0.0
        if composite:
            cd = os.path.join(d, "composite")
            cf = os.path.join(cd, "recording.mkv")
            row["sealed"] = row["sealed"] and manifest_sealed(cd) and \
                os.path.exists(cf)
            if os.path.exists(cf):
                err, st = examine(cf)
                secs, frames = span(st, "video")
                row["comp_s"], row["comp_frames"] = secs, frames
                row["comp_err"] = err
            hls = os.path.join(d, "hls", "live.m3u8")
            row["hls"] = os.path.exists(hls) and os.path.getsize(hls) > 0
        out.append(row)
    return out


def show_composite(tag, kind, composite, rows):
    for x in rows:
        extra = ""
        if composite:
            fps = x.get("comp_frames", 0) / x["comp_s"] \
                if x.get("comp_s") else 0
            extra = ", composite %.1f s, %d frames = %.1f fps%s, HLS %s" % (
                x.get("comp_s", 0), x.get("comp_frames", 0), fps,
                " (" + x["comp_err"] + ")" if x.get("comp_err") else "",
                "yes" if x.get("hls") else "NO")
        log("%s %-10s %-9s: %s, CPU %.1f s over %.1f s wall = %.0f %% of a "
            "core (%.0f %% per second recorded), %.1f s recorded%s"
            % (tag, kind, "composite" if composite else "cameras",
               "sealed" if x["sealed"] else "NOT SEALED rc=%s %s"
               % (x["rc"], x["err"]), x["cpu"], x["wall"],
               100 * x["cpu"] / x["wall"],
               100 * x["cpu"] / x["media"] if x["media"] else 0,
               x["media"], extra))


def bench_composite(args, med, work):
    med.setup(max(args.at_once, 1))
    S = args.seconds
    for r in range(args.rounds):
        tag = "round %d" % (r + 1)
        kinds = ["medsched", "gst-launch"] if r % 2 == 0 \
            else ["gst-launch", "medsched"]
        share = {}
        for kind in kinds:
            for composite in (False, True):
                rows = run_composite_batch(kind, composite, 1, S, med, work,
                                           "r%d" % r)
                show_composite(tag, kind, composite, rows)
                x = rows[0]
                share[(kind, composite)] = x["cpu"] / x["wall"]
                args.failed |= not x["sealed"]
        for kind in kinds:
            log("%s %-10s: the composite itself (with - without) = %.0f %% "
                "of a core" % (tag, kind, 100 * (share[(kind, True)] -
                                                 share[(kind, False)])))
        own = share[("medsched", True)] - share[("medsched", False)]
        target("%s: the composite itself <= 50 %% of a core" % tag,
               own <= 0.5, "%.0f %%" % (100 * own))
        log("%s ratio medsched/gst-launch CPU, cameras: %.2f, with "
            "composite: %.2f, composite itself: %.2f"
            % (tag, share[("medsched", False)] / share[("gst-launch", False)],
               share[("medsched", True)] / share[("gst-launch", True)],
               own / max(1e-9, share[("gst-launch", True)] -
                         share[("gst-launch", False)])))
        if args.at_once > 1:
            for kind in kinds:
                la = loadavg()
                rows = run_composite_batch(kind, True, args.at_once, S, med,
                                           work, "k%d" % r)
                log("%s %d at once, %s (load avg before %s):"
                    % (tag, args.at_once, kind, la))
                show_composite(tag, kind, True, rows)
                args.failed |= not all(x["sealed"] for x in rows)


# ------------------------------------------------------------------ kill

def kill_trial(med, work, lane, t, booking, lo, hi):
    d = os.path.join(work, "kill-%d-%d" % (lane, t))
    p = Proc(med.argv("record", "start", booking, "--regime", "hearing",
                      "--dir", d, "--input", "test://av"),
             stdout=subprocess.PIPE, cwd=work)
    line = p.p.stdout.readline()  # "recording N of booking B in DIR"
    t_line = time.monotonic()
    at = random.uniform(lo, hi)
    time.sleep(max(0.0, t_line + at - time.monotonic()))
    p.signal(signal.SIGKILL)
    sent = time.monotonic() - t_line
    p.wait(30)
    rc, out = med.run("recording", "recover")
    rec = med.recording_of(d)
    res = {"dir": d, "sent": sent, "started": bool(line),
           "recovered": rc == 0 and rec is not None and rec[1] == "stopped",
           "files": 0, "bad": [], "decoded": 0.0}
    if rec is not None:
        vrc, vout = med.run("recording", "verify", rec[0])
        res["verified"] = vrc == 0
        if vrc != 0:
            res["verify_out"] = vout[-400:]
    else:
        res["verified"] = False
    segs = sorted(f for f in os.listdir(d) if f.startswith("segment-")) \
        if os.path.isdir(d) else []
    for s in segs:
        err, st = examine(os.path.join(d, s), decode=True)
        secs, frames = span(st, "video")
        res["files"] += 1
        if err or frames == 0:
            res["bad"].append((s, err, frames))
        res["decoded"] += secs
    shutil.rmtree(d, ignore_errors=True)
    return res


def stop_trial(med, work, lane, t, booking, lo, hi):
    d = os.path.join(work, "stop-%d-%d" % (lane, t))
    p = Proc(med.argv("record", "start", booking, "--regime", "hearing",
                      "--dir", d, "--input", "test://av"),
             stdout=subprocess.PIPE, cwd=work)
    p.p.stdout.readline()
    t_line = time.monotonic()
    at = random.uniform(lo, hi)
    time.sleep(max(0.0, t_line + at - time.monotonic()))
    t_stop = time.monotonic()
    rc, out = med.run("record", "stop", booking)
    took = time.monotonic() - t_stop
    p.wait(60)
    final = os.path.join(d, "recording.mkv")
    info = discover(final) if os.path.exists(final) else None
    rec = med.recording_of(d)
    res = {"took": took, "rc": rc, "sent": t_stop - t_line,
           "ok": rc == 0 and rec is not None and rec[1] == "sealed" and
           info is not None and info["seekable"] and info["rc"] == 0,
           "duration": info["duration"] if info else None,
           "out": out[-300:]}
    shutil.rmtree(d, ignore_errors=True)
    return res


def bench_kill(args, med, work):
    med.setup(args.lanes)
    kills, stops = [], []
    lock = threading.Lock()

    def lane(n):
        booking = n + 1
        while True:
            with lock:
                if len(kills) < args.trials:
                    results, slot = kills, len(kills)
                elif len(stops) < args.stops:
                    results, slot = stops, len(stops)
                else:
                    return
                results.append(None)
            if results is kills:
                res = kill_trial(med, work, n, slot, booking, 1.5, 25.0)
            else:
                res = stop_trial(med, work, n, slot, booking, 3.0, 20.0)
            with lock:
                results[slot] = res
                done = sum(1 for k in results if k is not None)
            if results is kills and done % 10 == 0:
                log("  %d kill trials done" % done)

    threads = [threading.Thread(target=lane, args=(n,))
               for n in range(args.lanes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Normal stops give the offset between the "recording … in DIR" line
    # and the first recorded frame (start-up, first key frame): the media
    # "sent" before it never existed, so it is not counted as lost.
    offsets = [s["sent"] - s["duration"] for s in stops
               if s["ok"] and s["duration"]]
    offset = max(0.0, statistics.median(offsets)) if offsets else 0.0
    started = [k for k in kills if k["files"] > 0]
    files = sum(k["files"] for k in kills)
    bad = [b for k in kills for b in k["bad"]]
    lost_raw = [k["sent"] - k["decoded"] for k in started]
    lost = [max(0.0, x - offset) for x in lost_raw]
    log("kill -9: %d trials (kill at 1.5-25 s after the start line, %d "
        "lanes)" % (len(kills), args.lanes))
    log("  recovered (row stopped): %d/%d, manifest verifies: %d/%d"
        % (sum(k["recovered"] for k in kills), len(kills),
           sum(k["verified"] for k in kills), len(kills)))
    log("  trials with media on disk: %d/%d; segment files %d, decoding to "
        "their end without error: %d (%.1f %%)"
        % (len(started), len(kills), files, files - len(bad),
           100.0 * (files - len(bad)) / files if files else 0))
    for b in bad:
        log("  BAD: %s" % (b,))
    for k in kills:
        if not k["verified"]:
            log("  NOT VERIFIED: %s (killed at %.1f s): %s"
                % (os.path.basename(k["dir"]), k["sent"],
                   k.get("verify_out", "no recording row")))
    log("  start-up offset (from normal stops, median): %.2f s" % offset)
    log("  media lost, sent minus decoded, minus the offset: p50 %.2f s, "
        "p90 %.2f s, p99 %.2f s, max %.2f s (raw p50 %.2f, p99 %.2f)"
        % (pct(lost, 50), pct(lost, 90), pct(lost, 99),
           max(lost) if lost else float("nan"), pct(lost_raw, 50),
           pct(lost_raw, 99)))
    took = [s["took"] for s in stops]
    log("normal stops: %d, sealed with a seekable recording.mkv: %d; "
        "`record stop` to sealed: p50 %.2f s, p99 %.2f s, max %.2f s"
        % (len(stops), sum(s["ok"] for s in stops), pct(took, 50),
           pct(took, 99), max(took) if took else float("nan")))
    target("100 % of segment files decode to their end", files and not bad,
           "%d/%d" % (files - len(bad), files))
    target("media lost p99 <= 1 s", lost and pct(lost, 99) <= 1.0,
           "%.2f s" % pct(lost, 99))
    target("sealed seekable file <= 5 s after stop (max)",
           took and max(took) <= 5.0, "%.2f s" % max(took) if took else "-")
    for s in stops:
        if not s["ok"]:
            log("  STOP FAILED: %s" % (s,))
    args.failed |= bool(bad) or not all(k["recovered"] for k in kills) or \
        not all(k["verified"] for k in kills) or \
        not all(s["ok"] for s in stops)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("what", choices=["live", "composite", "kill", "serve"])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--at-once", type=int, default=3)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--stops", type=int, default=5)
    ap.add_argument("--lanes", type=int, default=2)
    ap.add_argument("--peer-audio", choices=["auto", "yes", "no"],
                    default="auto")
    ap.add_argument("--port", type=int)
    ap.add_argument("--clip")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    setup_env(args.build)
    if args.what == "serve":
        serve(args.port, args.clip)
        return 0
    exe = os.environ.get("MEDSCHED") or os.path.join(args.build, "src",
                                                     "medsched")
    work = tempfile.mkdtemp(prefix="medsched-media-bench-")
    med = Med(exe, os.path.join(work, "db"), work)
    args.failed = False
    log("bench %s, %s, load average %s, %d cores"
        % (args.what, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           loadavg(), os.cpu_count()))
    try:
        {"live": bench_live, "composite": bench_composite,
         "kill": bench_kill}[args.what](args, med, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log("kept " + work)
    return 1 if args.failed else 0


if __name__ == "__main__":
    sys.exit(main())
