# SPDX-License-Identifier: GPL-3.0-or-later
"""medserver.py — the medsched side of bench-webrtc.py.

A centre built through the medsched CLI in the bench's temp dir (one
remote room, mediator, mediator user and one-party case per concurrent
session, all booked at the same hour so the calls can run at once), a
`medsched serve` on a free loopback port with its media under the temp
dir, and a two-party session driven through the signalling of
docs/webrtc.md: the mediator on /ws/console/<booking> (bearer token,
own origin) is admitted on connect, offers and starts the recording; the
party on /ws/join/<token> consents, waits, is admitted, offers.

The server's debug lines of the call (G_MESSAGES_DEBUG) give the instant a
participant's first keyframe enters its recorder:
`bench: booking=<id> participant=<id> join=<n> first-keyframe-recorded us=<µs>`.
"""

import asyncio
import glob
import json
import os
import re
import signal
import subprocess
import threading
import time

import aioice.ice

import medpeer

SETUP_NOW = "2026-12-07T08:00"  # the clerk books in the morning
NOW = "2026-12-07T09:05"  # the server runs during the sessions
BOOK_AT = "2026-12-07T09:00"


def die_with_parent():
    """preexec_fn: SIGKILL the server when the benchmark dies."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def host_ip():
    """The IPv4 host address aiortc's ICE gathers (loopback is never
    gathered by aioice); Janus is told to use the same one."""
    addrs = aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    return addrs[0] if addrs else "127.0.0.1"


class MedServer:
    def __init__(self, work, bookings, teardown="shutdown"):
        self.bin = os.environ.get("MEDSCHED")
        if not self.bin:
            raise RuntimeError("MEDSCHED is not set")
        self.dir = os.path.join(work, "medsched")
        self.media = os.path.join(self.dir, "media")
        os.makedirs(self.media)
        self.db = os.path.join(self.dir, "centre.db")
        self.env = dict(os.environ, MEDSCHED_NOW=SETUP_NOW, LC_ALL="C.UTF-8")
        self.bookings = []
        self.teardown = teardown
        self.setup(bookings)
        self.keyframes = {}  # (booking, participant, join) -> seconds
        self.lock = threading.Lock()
        self.proc = None
        self.stops = []  # True for each clean SIGTERM exit

    def cli(self, *args, input=None):
        p = subprocess.run([self.bin, "--db", self.db, *args], input=input,
                           capture_output=True, text=True, env=self.env,
                           timeout=120)
        if p.returncode != 0:
            raise RuntimeError("medsched %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def setup(self, n):
        self.cli("init", "--name", "基准测试中心", "--zone", "Asia/Shanghai",
                 "--layers", "CN", "--calendars",
                 os.environ["MEDSCHED_CALENDARS"])
        for i in range(1, n + 1):
            self.cli("room", "add", "--name", "远程调解室%d" % i, "--kind",
                     "remote", "--features", "video,recording")
            self.cli("mediator", "add", "--name", "M%d" % i, "--languages",
                     "zh", "--specialties", "wages", "--daily-cap", "8")
            self.cli("case", "add", "--number", "(2026)测%d号" % i, "--kind",
                     "wages", "--party", "applicant,zh,remote,P%d" % i)
            self.cli("case", "dispatch", str(i), "--department",
                     "court-mediation")
            b = json.loads(self.cli("book", str(i), "--at", BOOK_AT,
                                    "--room", str(i), "--mediator", str(i),
                                    "--duration", "120", "--json"))
            bid = b.get("id") or b.get("booking", {}).get("id")
            self.cli("user", "add", "m%d" % i, "--role", "mediator",
                     "--mediator", str(i), "--iterations", "1000",
                     input="password-m%d\n" % i)
            token = self.cli("user", "token", "m%d" % i).strip()
            ics = self.cli("invite", str(bid), "--for", "party:%d" % i)
            m = re.search(r"/join/([A-Za-z0-9_-]+)", ics.replace("\r\n ", ""))
            if not m:
                raise RuntimeError("no join link in the party's invite")
            self.bookings.append({"id": bid, "token": token,
                                  "link": m.group(1)})

    def start(self):
        self.log_path = os.path.join(self.dir, "serve.log")
        self.proc = subprocess.Popen(
            [self.bin, "--db", self.db, "serve", "--listen", "127.0.0.1:0",
             "--access-log", "off", "--media-dir", self.media],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=die_with_parent,
            env=dict(self.env, MEDSCHED_NOW=NOW, MEDSCHED_BENCH_LOG="1",
                     G_MESSAGES_DEBUG=os.environ.get(
                         "G_MESSAGES_DEBUG", "medsched-call medsched-media")))
        line = self.proc.stdout.readline()
        if "listening on port" not in line:
            raise RuntimeError("medsched serve did not start: %s" % line)
        self.port = int(line.rsplit(" ", 1)[1])
        self.origin = "http://127.0.0.1:%d" % self.port
        self.log = open(self.log_path, "a")
        # GLib's default writer puts debug and info lines on stdout.
        self.reader = threading.Thread(target=self.read_log,
                                       args=(self.proc.stderr,), daemon=True)
        self.reader.start()
        threading.Thread(target=self.read_log, args=(self.proc.stdout,),
                         daemon=True).start()

    def read_log(self, stream):
        pat = re.compile(r"bench: booking=(\d+) participant=(\S+) join=(\d+) "
                         r"first-keyframe-recorded us=(\d+)")
        for line in stream:
            self.log.write(line)
            m = pat.search(line)
            if m:
                with self.lock:
                    self.keyframes[(int(m.group(1)), m.group(2),
                                    int(m.group(3)))] = int(m.group(4)) / 1e6

    def pid(self):
        return self.proc.pid

    def stop(self, timeout=30):
        """SIGTERM, as an init system would; True when the server ended by
        itself within `timeout` s (it seals open recordings first)."""
        clean = True
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                clean = False
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.log.close()
        clean = clean and self.proc.returncode == 0
        self.stops.append(clean)
        return clean

    async def stop_async(self, timeout=30):
        return await asyncio.get_running_loop().run_in_executor(
            None, self.stop, timeout)

    def session(self, i, clip):
        return MedSession(self, self.bookings[i], clip)

    def party_recordings(self, booking="*"):
        """The parties' final recordings (sealed Matroska files)."""
        out = []
        for d in sorted(glob.glob(os.path.join(self.media,
                                               "booking-%s" % booking,
                                               "party-*"))):
            final = os.path.join(d, "recording.mkv")
            if os.path.exists(final):
                out.append(final)
        return out

    async def one_join(self, k, clip):
        """A party joins a call whose mediator is in and recording.
        Returns (answer → first decoded frame at the mediator, answer →
        first keyframe recorded) in seconds, either None if not seen."""
        if self.teardown == "shutdown" or self.proc is None:
            self.start()  # "leave": one server for every join
        s = MedSession(self, self.bookings[-1], clip)
        try:
            await s.start_mediator(record=True)
            await asyncio.sleep(0.5)
            await s.join_party()
        except Exception as e:
            if self.teardown == "shutdown":
                await self.stop_async(10)
            await s.stop()
            raise RuntimeError("booking %d, %s: %r" % (s.b["id"], s.step,
                                                       e)) from e
        t = await wait_first(s.mediator)
        answer = s.party.t.get("answer")
        key = None
        end = time.monotonic() + 5
        while time.monotonic() < end and key is None:
            with self.lock:
                hits = [v for (b, p, _), v in self.keyframes.items()
                        if b == s.b["id"] and p == s.party_id
                        and v >= answer - 1]
            if hits:
                key = min(hits) - answer
            else:
                await asyncio.sleep(0.05)
        await asyncio.sleep(6)  # a few seconds of recording for the A/V check
        if self.teardown == "shutdown":
            await self.stop_async(10)
        await s.stop()
        await self.wait_sealed(s.b["id"])
        return (t - answer if t is not None else None), key

    async def wait_sealed(self, booking, timeout=30, pause=True):
        """Until every recording folder of the booking has its final file
        (the call has ended and sealed), so the next join starts a new
        call; then a moment for the call to leave the server's table."""
        end = time.monotonic() + timeout
        pattern = os.path.join(self.media, "booking-%d" % booking, "*")
        while time.monotonic() < end:
            dirs = glob.glob(pattern)
            if all(os.path.exists(os.path.join(d, "recording.mkv"))
                   for d in dirs):
                break
            await asyncio.sleep(0.1)
        if pause:
            await asyncio.sleep(1.0)

    async def wait_all_sealed(self, timeout=60):
        for b in self.bookings:
            await self.wait_sealed(b["id"], timeout, pause=False)


async def wait_first(peer, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "first-video-decoded" in peer.t:
            return peer.t["first-video-decoded"]
        await asyncio.sleep(0.005)
    return None


class MedSession:
    """One booking's call: a mediator and a party, both publishing."""

    def __init__(self, server, booking, clip):
        self.srv = server
        self.b = booking
        self.clip = clip
        self.mediator = self.party = None
        self.msig = self.psig = None
        self.party_id = None
        self.step = "start"

    def ws(self, path):
        return "ws://127.0.0.1:%d%s" % (self.srv.port, path)

    async def start_mediator(self, record=True):
        self.step = "mediator connects"
        self.msig = await medpeer.MedSignal.connect(
            self.ws("/ws/console/%d" % self.b["id"]),
            headers={"Authorization": "Bearer " + self.b["token"]},
            origin=self.srv.origin)
        await self.msig.expect("welcome")
        self.step = "mediator offers"
        self.mediator = medpeer.Peer(self.clip, "mediator")
        await medpeer.med_negotiate(self.msig, self.mediator)
        self.record = record

    async def join_party(self):
        self.step = "party connects"
        self.psig = await medpeer.MedSignal.connect(
            self.ws("/ws/join/%s" % self.b["link"]))
        w = await self.psig.expect("welcome")
        self.party_id = w.get("you")
        if w.get("consent", {}).get("needed"):
            await self.psig.send({"type": "consent", "given": True})
        await self.psig.send({"type": "ready"})
        # the console sees the party waiting and admits it
        self.step = "party waits"
        await self.wait_state(lambda p: p.get("id") == self.party_id
                              and p.get("state") == "waiting")
        await self.msig.send({"type": "admit",
                              "participant": self.party_id})
        self.step = "party admitted"
        await self.psig.expect("admitted")
        if self.record:
            await self.msig.send({"type": "record", "action": "start"})
        self.step = "party offers"
        self.party = medpeer.Peer(self.clip, "party")
        await medpeer.med_negotiate(self.psig, self.party)
        self.step = "in call"

    async def wait_state(self, pred, timeout=20):
        end = time.monotonic() + timeout
        while True:
            msg = await self.msig.expect("state", end - time.monotonic())
            if any(pred(p) for p in msg.get("participants", [])):
                return msg

    async def start(self):
        try:
            await self.start_mediator(record=True)
            await self.join_party()
        except Exception as e:
            raise RuntimeError("booking %d, %s: %r" % (self.b["id"], self.step,
                                                       e)) from e

    def join_time(self):
        """The party's answer → the mediator's first decoded video frame."""
        if self.mediator is None or self.party is None:
            return None
        t = self.mediator.t.get("first-video-decoded")
        a = self.party.t.get("answer")
        return t - a if t and a else None

    def mediator_sees_party(self):
        return self.mediator is not None and \
            self.mediator.frames_in["video"] > 0

    def receivers_ok(self):
        return (self.mediator is not None and self.party is not None
                and self.mediator.frames_in["video"] > 0
                and self.party.frames_in["video"] > 0)

    async def stop(self):
        """Leaves as the pages do (teardown "leave"), or only closes the
        clients after the server has ended the call (teardown
        "shutdown")."""
        if self.srv.teardown == "leave":
            try:
                if self.msig:
                    await self.msig.send({"type": "record", "action": "stop"})
                if self.psig:
                    await self.psig.send({"type": "leave"})
                if self.msig:
                    await self.msig.send({"type": "leave"})
            except Exception:  # the socket may be gone already
                pass
        for p in (self.party, self.mediator):
            if p:
                await p.close()
        for s in (self.psig, self.msig):
            if s:
                await s.close()
