# SPDX-License-Identifier: GPL-3.0-or-later
"""medpeer.py — the WebRTC publisher used by the issue 6 benchmarks.

One python3-aiortc peer that sends a generated 640x480 VP8 + Opus stream
with a beep-and-flash pattern (a white frame and the onset of a 1 kHz beep
at the same instant, once a second) and receives what the server forwards.
It speaks two signalling protocols:

- medsched (docs/webrtc.md): a party on /ws/join/<token>, a mediator on
  /ws/console/<booking id>;
- Janus 1.1.2's JSON API over its WebSocket transport, VideoRoom plugin:
  a publisher per participant and a subscriber to the other side's feed.

The stream is encoded once per process (PyAV's libvpx and libopus) into a
clip of packets that every peer sends in real time through aiortc's
pass-through path (RTCRtpSender.pack), so twenty publishers cost what
packetising and SRTP cost, not twenty encoders. A picture-loss
indication from the server is answered as a browser would, with a keyframe
at the next frame: the clip's position jumps forward to its next keyframe
(a flash), audio and video together (the jump is a whole number of 40 ms
video frames, i.e. of 20 ms audio packets, so the pattern stays in sync).

Received video is decoded until the first frame (that instant is the
"first decoded frame" of the join-time benchmark) and only counted after
that, unless full decoding is asked for; the bench clients would otherwise
spend a core decoding twenty streams nobody looks at.

Standard library, python3-aiortc, python3-av, python3-numpy and
python3-websockets (all Debian packages); run with /usr/bin/python3.
"""

import asyncio
import fractions
import json
import re
import time

import av
import numpy as np
from aiortc import (RTCConfiguration, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc import rtcrtpreceiver
from aiortc.sdp import candidate_from_sdp
from aiortc.mediastreams import MediaStreamTrack
import websockets

FPS = 25
WIDTH = 640
HEIGHT = 480
RATE = 48000
APKT = 960  # samples per 20 ms Opus packet
APF = 2  # audio packets per video frame (40 ms)
BEEP_HZ = 1000
BEEP_MS = 100
VIDEO_TB = fractions.Fraction(1, 90000)
AUDIO_TB = fractions.Fraction(1, RATE)


# ---------------------------------------------------------------- the clip

class Clip:
    """Pre-encoded packets: video[i] = (bytes, keyframe), audio[k] = bytes,
    len(audio) == APF * len(video); flash frames at i % FPS == 0, beep
    onsets at the same instants."""

    def __init__(self, video, audio, audio_shift):
        self.video = video
        self.audio = audio
        self.audio_shift = audio_shift
        self.keys = [i for i, (_, k) in enumerate(video) if k]
        self.bytes_per_s = (sum(len(d) for d, _ in video)
                            + sum(len(d) for d in audio)) / (len(video) / FPS)

    def next_key(self, pos):
        n = len(self.video)
        for k in self.keys:
            if k >= pos:
                return k
        return self.keys[0] + n


def make_frame(i, texture):
    """Frame i as yuv420p planes in one (H*3/2, W) array."""
    y = np.empty((HEIGHT, WIDTH), np.uint8)
    if i % FPS == 0:
        y[:] = 255
        uv = np.full((HEIGHT // 2, WIDTH), 128, np.uint8)
    else:
        # A scrolling, textured picture at a realistic bitrate, never
        # brighter than 170 so a flash stands out.
        y[:] = np.roll(texture, 6 * i, axis=1)
        uv = np.full((HEIGHT // 2, WIDTH), 128, np.uint8)
        uv[:, :] = (96 + (np.arange(WIDTH) + 3 * i) % 64)[None, :]
    return np.concatenate([y, uv])


def make_pcm(n_samples, shift):
    """Mono s16: a 1 kHz beep of BEEP_MS starting at every whole second,
    moved `shift` samples earlier (the Opus encoder's delay); the clip
    loops, so the first beep's head wraps to the end."""
    length = RATE * BEEP_MS // 1000
    beep = 0.5 * np.sin(2 * np.pi * BEEP_HZ * np.arange(length) / RATE)
    pcm = np.zeros(n_samples, np.float64)
    for s in range(0, n_samples, RATE):
        pcm[(s - shift + np.arange(length)) % n_samples] = beep
    return (pcm * 32767).astype(np.int16)


def encode_audio(pcm):
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate = RATE
    enc.layout = "mono"
    enc.format = "s16"
    enc.bit_rate = 48000
    enc.time_base = AUDIO_TB
    enc.options = {"frame_duration": "20", "application": "lowdelay"}
    out = []
    for k in range(len(pcm) // APKT):
        frame = av.AudioFrame.from_ndarray(
            pcm[k * APKT:(k + 1) * APKT].reshape(1, -1), format="s16",
            layout="mono")
        frame.sample_rate = RATE
        frame.pts = k * APKT
        frame.time_base = AUDIO_TB
        out += [bytes(p) for p in enc.encode(frame)]
    out += [bytes(p) for p in enc.encode(None)]
    return out


def audio_onsets(samples, rate=RATE):
    """Beep onsets (seconds) in float mono samples: the first sample above
    0.1 after at least 300 ms below it."""
    loud = np.flatnonzero(np.abs(samples) > 0.1)
    onsets = []
    last = -rate
    for s in loud:
        if s - last > 0.3 * rate:
            onsets.append(s / rate)
        last = s
    return onsets


def decode_opus(packets):
    dec = av.CodecContext.create("opus", "r")
    dec.sample_rate = RATE
    dec.layout = "mono"
    chunks = []
    for data in packets:
        for f in dec.decode(av.Packet(data)):
            a = f.to_ndarray().astype(np.float64)
            if a.dtype.kind == "i" or np.abs(a).max() > 2:
                a = a / 32768.0
            chunks.append(a.mean(axis=0) if a.ndim == 2 and a.shape[0] < 8
                          else a.reshape(-1))
    return np.concatenate(chunks)


def make_clip(seconds=8, gop_s=2, bitrate=700000):
    """Encodes the pattern once; the Opus encoder's delay is measured on
    the first pass and the beep moved earlier by it, so the decoded clip
    has its beep onsets on the flash instants."""
    rng = np.random.default_rng(6)
    texture = (rng.integers(0, 60, (HEIGHT, WIDTH))
               + (np.arange(WIDTH) * 110 // WIDTH)[None, :]).astype(np.uint8)
    enc = av.CodecContext.create("libvpx", "w")
    enc.width = WIDTH
    enc.height = HEIGHT
    enc.pix_fmt = "yuv420p"
    enc.time_base = fractions.Fraction(1, FPS)
    enc.framerate = FPS
    enc.bit_rate = bitrate
    enc.gop_size = FPS * gop_s
    enc.options = {"deadline": "realtime", "cpu-used": "8",
                   "lag-in-frames": "0", "auto-alt-ref": "0",
                   "keyint_min": str(FPS * gop_s)}
    video = []
    n = FPS * seconds
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(make_frame(i, texture),
                                           format="yuv420p")
        frame.pts = i
        frame.time_base = enc.time_base
        for p in enc.encode(frame):
            video.append((bytes(p), p.is_keyframe))
    for p in enc.encode(None):
        video.append((bytes(p), p.is_keyframe))
    assert len(video) == n and video[0][1], "VP8 encoder dropped frames"

    shift = 0
    for _ in range(2):
        audio = encode_audio(make_pcm(n * APF * APKT, shift))
        audio = audio[:n * APF]
        onsets = audio_onsets(decode_opus(audio))
        err = [o - round(o) for o in onsets
               if o > 0.05 and abs(o - round(o)) < 0.2]
        delay = int(round(float(np.median(err)) * RATE)) if err else 0
        if abs(delay) <= 48:  # within 1 ms
            break
        shift += delay
    return Clip(video, audio, shift)


# ---------------------------------------------------------------- tracks

class Pattern:
    """Where one publisher is in the clip: output frame j shows clip frame
    (j + skip) mod n. Shared by its audio and video tracks."""

    def __init__(self, clip):
        self.clip = clip
        self.start = None
        self.skip = 0
        self.audio_skips = [(0, 0)]  # (from audio index, skip in frames)
        self.keyframes_sent = 0
        self.first_sent = None

    def t0(self):
        if self.start is None:
            self.start = time.monotonic()
        return self.start

    def skip_for_audio(self, m):
        while len(self.audio_skips) > 1 and self.audio_skips[1][0] <= m:
            self.audio_skips.pop(0)
        return self.audio_skips[0][1]


class ClipVideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, pattern):
        super().__init__()
        self.pattern = pattern
        self.sender = None
        self.j = 0
        self.pending = None  # (frame index, skip) of a keyframe to come

    async def recv(self):
        p = self.pattern
        delay = p.t0() + self.j / FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        n = len(p.clip.video)
        if self.pending is not None and self.pending[0] == self.j:
            p.skip = self.pending[1]
            self.pending = None
        pos = (self.j + p.skip) % n
        if self.sender is not None and getattr(
                self.sender, "_RTCRtpSender__force_keyframe", False):
            # A keyframe request: like an encoder, answer on the next
            # frame. Deciding one frame ahead lets the audio track (which
            # is at most one packet past this frame) switch at exactly the
            # same instant.
            self.sender._RTCRtpSender__force_keyframe = False
            nxt = (pos + 1) % n
            if not p.clip.video[nxt][1] and self.pending is None:
                k = p.clip.next_key(nxt)
                skip = p.skip + (k - nxt)
                self.pending = (self.j + 1, skip)
                p.audio_skips.append(((self.j + 1) * APF, skip))
        data, key = p.clip.video[pos]
        if key:
            p.keyframes_sent += 1
        if p.first_sent is None:
            p.first_sent = time.time()
        pkt = av.Packet(data)
        pkt.pts = self.j * (90000 // FPS)
        pkt.time_base = VIDEO_TB
        self.j += 1
        return pkt


class ClipAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, pattern):
        super().__init__()
        self.pattern = pattern
        self.m = 0

    async def recv(self):
        p = self.pattern
        delay = p.t0() + self.m * APKT / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        n = len(p.clip.audio)
        data = p.clip.audio[(self.m + APF * p.skip_for_audio(self.m)) % n]
        pkt = av.Packet(data)
        pkt.pts = self.m * APKT
        pkt.time_base = AUDIO_TB
        self.m += 1
        return pkt


class FirstFrameDecoder:
    """Decodes until the first picture comes out, then only counts."""

    def __init__(self, real):
        self.real = real
        self.done = False
        self.frames = 0

    def decode(self, encoded_frame):
        self.frames += 1
        if self.done:
            return []
        out = self.real.decode(encoded_frame)
        if out:
            self.done = True
            return out[:1]
        return []


FULL_DECODE = False
_real_get_decoder = rtcrtpreceiver.get_decoder


def _bench_get_decoder(codec):
    real = _real_get_decoder(codec)
    if FULL_DECODE or codec.mimeType.lower() != "video/vp8":
        return real
    return FirstFrameDecoder(real)


rtcrtpreceiver.get_decoder = _bench_get_decoder


def one_ice_credentials(sdp):
    """aiortc 1.4 gives each m-line its own ICE ufrag/pwd (and candidates)
    even in a BUNDLE offer; webrtcbin refuses that. Keep the first m-line's
    credentials everywhere and its candidates only: the answer's BUNDLE
    makes aiortc use that m-line's transport alone."""
    ufrag = re.search(r"^a=ice-ufrag:(\S+)", sdp, re.M)
    pwd = re.search(r"^a=ice-pwd:(\S+)", sdp, re.M)
    if not ufrag or not pwd:
        return sdp
    lines = []
    m_lines = 0
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            m_lines += 1
        elif line.startswith("a=ice-ufrag:"):
            line = "a=ice-ufrag:" + ufrag.group(1)
        elif line.startswith("a=ice-pwd:"):
            line = "a=ice-pwd:" + pwd.group(1)
        elif line.startswith("a=candidate:") and m_lines > 1:
            continue
        lines.append(line)
    return "\r\n".join(lines)


class Peer:
    """One participant: a publisher of the clip that also receives (and,
    for video, decodes to the first frame) what the server sends."""

    def __init__(self, clip, label, send=True):
        self.label = label
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pattern = Pattern(clip)
        self.t = {}  # event -> time.time()
        self.frames_in = {"audio": 0, "video": 0}
        self.candidates_in = []
        self.tasks = []
        self.video = self.audio = None
        if send:
            self.video = ClipVideoTrack(self.pattern)
            self.audio = ClipAudioTrack(self.pattern)
            self.pc.addTrack(self.audio)
            self.video.sender = self.pc.addTrack(self.video)

        @self.pc.on("track")
        def track_received(track):
            self.tasks.append(asyncio.ensure_future(self.consume(track)))

        @self.pc.on("connectionstatechange")
        def state_changed():
            self.t.setdefault("pc-" + self.pc.connectionState, time.time())

    async def consume(self, track):
        while True:
            try:
                await track.recv()
            except Exception:  # MediaStreamError when the track ends
                return
            self.frames_in[track.kind] += 1
            if track.kind == "video":
                self.t.setdefault("first-video-decoded", time.time())

    async def offer(self):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return one_ice_credentials(self.pc.localDescription.sdp)

    async def take_answer(self, sdp):
        self.t.setdefault("answer", time.time())
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))

    async def add_candidate(self, line):
        """A trickled remote candidate ("candidate:..."), for the bundle
        transport (mid of the first m-line); "" ends the candidates."""
        if not line:
            return
        c = candidate_from_sdp(line.split(":", 1)[1])
        c.sdpMid = self.pc.getTransceivers()[0].mid
        try:
            await self.pc.addIceCandidate(c)
            self.candidates_in.append(line)
        except Exception as e:  # one aiortc cannot use (e.g. TCP)
            self.candidates_in.append("refused %r: %s" % (e, line))

    async def answer_offer(self, sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.t.setdefault("answer", time.time())
        return self.pc.localDescription.sdp

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


# ---------------------------------------------------------------- medsched

class MedSignal:
    """A medsched signalling WebSocket (docs/webrtc.md)."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = asyncio.Queue()
        self.welcome = None
        self.peer = None  # gets the server's trickled candidates
        self.reader = asyncio.ensure_future(self.read())

    @classmethod
    async def connect(cls, url, headers=None, origin=None):
        ws = await websockets.connect(url, extra_headers=headers or {},
                                      origin=origin, max_size=2 ** 20,
                                      open_timeout=20)
        return cls(ws)

    async def read(self):
        try:
            async for msg in self.ws:
                obj = json.loads(msg)
                if obj.get("type") == "ice" and self.peer is not None:
                    await self.peer.add_candidate(obj.get("candidate") or "")
                    continue
                await self.inbox.put(obj)
        except websockets.ConnectionClosed:
            pass
        await self.inbox.put({"type": "closed"})

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def expect(self, type_, timeout=30):
        """The next message of type_ (others are skipped, errors and
        closing raise)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %s message" % type_)
            msg = await asyncio.wait_for(self.inbox.get(), left)
            if msg.get("type") == type_:
                return msg
            if msg.get("type") in ("error", "bye", "closed"):
                raise RuntimeError("expected %s, got %s" % (type_, msg))
            if msg.get("type") == "welcome":
                self.welcome = msg

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def med_negotiate(sig, peer, timeout=30):
    """Offer, wait for the answer, feed it to the peer. aiortc gathers its
    candidates before the offer is made (they go in it); the server's
    are trickled after the answer and added as they come."""
    sdp = await peer.offer()
    peer.t["offer"] = time.time()
    sig.peer = peer
    await sig.send({"type": "offer", "sdp": sdp})
    ans = await sig.expect("answer", timeout)
    await peer.take_answer(ans["sdp"])


# ---------------------------------------------------------------- Janus

class Janus:
    """Janus JSON API over its WebSocket transport."""

    def __init__(self, ws):
        self.ws = ws
        self.pending = {}
        self.events = {}  # handle id -> asyncio.Queue
        self.session = None
        self.n = 0
        self.reader = asyncio.ensure_future(self.read())
        self.keeper = None

    @classmethod
    async def connect(cls, url):
        ws = await websockets.connect(url, subprotocols=["janus-protocol"],
                                      max_size=2 ** 22, open_timeout=20)
        j = cls(ws)
        r = await j.call({"janus": "create"})
        j.session = r["data"]["id"]
        j.keeper = asyncio.ensure_future(j.keepalive())
        return j

    async def read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                tr = msg.get("transaction")
                kind = msg.get("janus")
                if tr in self.pending and kind != "ack":
                    self.pending.pop(tr).set_result(msg)
                elif msg.get("sender") in self.events and kind != "ack":
                    await self.events[msg["sender"]].put(msg)
        except websockets.ConnectionClosed:
            pass

    async def keepalive(self):
        while True:
            await asyncio.sleep(20)
            await self.ws.send(json.dumps({"janus": "keepalive",
                                           "session_id": self.session,
                                           "transaction": "ka"}))

    async def call(self, body, timeout=30):
        self.n += 1
        tr = "t%d" % self.n
        body = dict(body, transaction=tr)
        if self.session is not None:
            body["session_id"] = self.session
        fut = asyncio.get_running_loop().create_future()
        self.pending[tr] = fut
        await self.ws.send(json.dumps(body))
        msg = await asyncio.wait_for(fut, timeout)
        if msg.get("janus") == "error":
            raise RuntimeError("janus: %s" % msg["error"])
        return msg

    async def attach(self):
        r = await self.call({"janus": "attach",
                             "plugin": "janus.plugin.videoroom"})
        h = r["data"]["id"]
        self.events[h] = asyncio.Queue()
        return h

    async def message(self, handle, body, jsep=None, timeout=30):
        """A plugin request; returns the plugin's event (sync or async)."""
        req = {"janus": "message", "handle_id": handle, "body": body}
        if jsep:
            req["jsep"] = jsep
        msg = await self.call(req, timeout)
        data = msg.get("plugindata", {}).get("data", {})
        if data.get("error"):
            raise RuntimeError("videoroom: %s" % data["error"])
        return msg

    async def event(self, handle, pred, timeout=30):
        q = self.events[handle]
        end = time.monotonic() + timeout
        while True:
            msg = await asyncio.wait_for(q.get(), end - time.monotonic())
            if pred(msg):
                return msg

    async def close(self):
        if self.keeper:
            self.keeper.cancel()
        try:
            await self.call({"janus": "destroy"}, timeout=5)
        except Exception:
            pass
        await self.ws.close()
        self.reader.cancel()


async def janus_publish(j, room, peer, display):
    """Joins `room` as a publisher and publishes the peer's clip; returns
    (handle, feed id)."""
    h = await j.attach()
    r = await j.message(h, {"request": "join", "ptype": "publisher",
                            "room": room, "display": display})
    feed = r["plugindata"]["data"]["id"]
    sdp = await peer.offer()
    peer.t["offer"] = time.time()
    r = await j.message(h, {"request": "publish", "audio": True,
                            "video": True},
                        jsep={"type": "offer", "sdp": sdp})
    await peer.take_answer(r["jsep"]["sdp"])
    # A feed can be subscribed to once its PeerConnection is up.
    await j.event(h, lambda m: m.get("janus") == "webrtcup")
    return h, feed


async def janus_subscribe(j, room, feed, peer):
    """Subscribes the peer (receive side) to `feed`; Janus offers."""
    h = await j.attach()
    r = await j.message(h, {"request": "join", "ptype": "subscriber",
                            "room": room, "streams": [{"feed": feed}]})
    sdp = await peer.answer_offer(r["jsep"]["sdp"])
    await j.message(h, {"request": "start"},
                    jsep={"type": "answer", "sdp": sdp})
    return h


# ---------------------------------------------------------------- by hand

async def run_one(args):
    clip = make_clip()
    peer = Peer(clip, "cli")
    if args.janus:
        j = await Janus.connect(args.janus)
        await janus_publish(j, args.room, peer, "medpeer")
        closers = [j.close]
    else:
        headers = {}
        if args.bearer:
            headers["Authorization"] = "Bearer " + args.bearer
        sig = await MedSignal.connect(args.url, headers=headers,
                                      origin=args.origin)
        w = await sig.expect("welcome")
        if w.get("role") == "party":
            if w.get("consent", {}).get("needed"):
                await sig.send({"type": "consent", "given": True})
            await sig.send({"type": "ready"})
            print("waiting to be admitted", flush=True)
            await sig.expect("admitted", timeout=3600)
        await med_negotiate(sig, peer)
        closers = [sig.close]
    print("answered; sending for %d s" % args.seconds, flush=True)
    await asyncio.sleep(args.seconds)
    print("state %s, frames in %s, keyframes sent %d" % (
        peer.pc.connectionState, peer.frames_in,
        peer.pattern.keyframes_sent), flush=True)
    await peer.close()
    for c in closers:
        await c()


def main():
    import argparse
    ap = argparse.ArgumentParser(
        description="Publish the beep-and-flash stream to medsched "
        "(URL = ws://HOST/ws/join/TOKEN or ws://HOST/ws/console/BOOKING "
        "with --bearer and --origin) or to a Janus VideoRoom (--janus "
        "ws://HOST:PORT/ --room N).")
    ap.add_argument("url", nargs="?")
    ap.add_argument("--bearer")
    ap.add_argument("--origin")
    ap.add_argument("--janus")
    ap.add_argument("--room", type=int, default=1234)
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    if not args.url and not args.janus:
        ap.error("a medsched WebSocket URL or --janus URL is needed")
    asyncio.run(run_one(args))


if __name__ == "__main__":
    main()
