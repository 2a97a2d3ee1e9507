# SPDX-License-Identifier: GPL-3.0-or-later
"""webrtcclient.py — test clients for the WebRTC signalling of `medsched
serve` (docs/webrtc.md): a party joining with Debian's python3-aiortc and
sending generated VP8 video and Opus audio, and a console (mediator) that
only signals. For calls of more than two, a client sends a flat colour and
a tone of its own, offers extra receive-only m-lines (receive slots) and
keeps what arrives on each of its mids (mean colour of the decoded frames,
the decoded audio) so a test can tell whose media came on which mid.
Used by test-webrtc.py; needs /usr/bin/python3 with python3-aiortc and
python3-websockets.
"""

import asyncio
import collections
import fractions
import json
import math
import time

import av
import numpy
import websockets
from aiortc import (MediaStreamTrack, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc.sdp import candidate_from_sdp

VIDEO_RATE = 90000
AUDIO_RATE = 48000


class PacedVideo(MediaStreamTrack):
    """Frames at 15 fps in real time; a subclass paints frame n."""

    kind = "video"
    FPS = 15

    def __init__(self):
        super().__init__()
        self._start = None
        self._n = 0

    def paint(self, n):
        raise NotImplementedError

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._n / self.FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = av.VideoFrame.from_ndarray(self.paint(self._n),
                                           format="rgb24")
        frame.pts = int(self._n * VIDEO_RATE / self.FPS)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self._n += 1
        return frame


class PatternVideo(PacedVideo):
    """320×240: a bar moving over a colour that changes every second, so
    every frame differs and the encoder works."""

    def paint(self, n):
        img = numpy.zeros((240, 320, 3), numpy.uint8)
        sec = n // self.FPS
        img[:, :] = ((sec * 40) % 256, 90, (255 - sec * 40) % 256)
        x = (n * 7) % 300
        img[:, x:x + 20] = (255, 255, 255)
        return img


class FlatVideo(PacedVideo):
    """160×120 of one flat colour (an RGB triple) with a small white bar
    moving along the top eighth, so every frame differs while the rest of
    the picture keeps the colour (see frame_colour)."""

    def __init__(self, colour):
        super().__init__()
        self.colour = tuple(colour)

    def paint(self, n):
        img = numpy.empty((120, 160, 3), numpy.uint8)
        img[:, :] = self.colour
        x = (n * 5) % 150
        img[:12, x:x + 10] = (255, 255, 255)
        return img


def frame_colour(frame):
    """Mean RGB of a decoded video frame below its top quarter (where
    FlatVideo's bar runs), on every fourth pixel."""
    img = frame.to_ndarray(format="rgb24")
    h = img.shape[0]
    return tuple(float(c) for c in img[h // 4::4, ::4].reshape(-1, 3)
                 .mean(axis=0))


def frame_pcm(frame):
    """The first channel of a decoded audio frame as float samples."""
    arr = frame.to_ndarray()
    if frame.format.is_planar:
        return arr[0].astype(numpy.float64)
    return arr.reshape(-1)[::len(frame.layout.channels)].astype(
        numpy.float64)


def peak_frequency(pcm, rate=AUDIO_RATE):
    """The frequency (Hz) of the strongest FFT bin of pcm (Hann window)."""
    pcm = numpy.asarray(pcm, numpy.float64)
    if len(pcm) < 256:
        return None
    spec = numpy.abs(numpy.fft.rfft(pcm * numpy.hanning(len(pcm))))
    spec[0] = 0
    return float(numpy.argmax(spec)) * rate / len(pcm)


class ToneAudio(MediaStreamTrack):
    """A tone (440 Hz unless told) in 20 ms frames, 48 kHz mono."""

    kind = "audio"

    def __init__(self, freq=440):
        super().__init__()
        self.freq = freq
        self._start = None
        self._samples = 0

    async def recv(self):
        n = AUDIO_RATE // 50
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self._samples / AUDIO_RATE
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (numpy.arange(n) + self._samples) / AUDIO_RATE
        pcm = (numpy.sin(2 * math.pi * self.freq * t) * 8000).astype(
            numpy.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16",
                                           layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._samples += n
        return frame


def one_ice_credential(sdp):
    """aiortc 1.4 gives every m-line its own ICE credentials; webrtcbin
    with max-bundle refuses that. Use the first m-line's for all, and its
    candidates only (the others belong to transports bundling drops)."""
    lines = sdp.splitlines()
    ufrag = pwd = None
    media_no = -1
    out = []
    for line in lines:
        if line.startswith("m="):
            media_no += 1
        if line.startswith("a=ice-ufrag:") and ufrag is None:
            ufrag = line
        if line.startswith("a=ice-pwd:") and pwd is None:
            pwd = line
    media_no = -1
    for line in lines:
        if line.startswith("m="):
            media_no += 1
        if line.startswith("a=ice-ufrag:"):
            line = ufrag
        elif line.startswith("a=ice-pwd:"):
            line = pwd
        elif line.startswith("a=candidate:") and media_no > 0:
            continue
        out.append(line)
    return "\r\n".join(out) + "\r\n"


class Signal:
    """One WebSocket with a queue of the messages that came in."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = asyncio.Queue()
        self.ice = asyncio.Queue()
        self.all = []
        self.closed = asyncio.Event()
        self._task = asyncio.ensure_future(self._reader())

    @classmethod
    async def open(cls, url, headers=None, origin=None):
        ws = await websockets.connect(url, extra_headers=headers or {},
                                      origin=origin, max_size=2 ** 22,
                                      open_timeout=10)
        return cls(ws)

    async def _reader(self):
        try:
            async for text in self.ws:
                msg = json.loads(text)
                self.all.append(msg)
                if isinstance(msg, dict) and msg.get("type") == "ice":
                    await self.ice.put(msg)
                else:
                    await self.inbox.put(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, (str, bytes))
                           else json.dumps(obj))

    async def expect(self, pred, timeout=10.0, what="a message"):
        """The first message (from now on) for which pred holds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %s within %.0f s (got %s)"
                                   % (what, timeout, json.dumps(
                                       self.all[-4:], ensure_ascii=False)))
            try:
                msg = await asyncio.wait_for(self.inbox.get(), left)
            except asyncio.TimeoutError:
                continue
            if pred(msg):
                return msg

    async def expect_type(self, type_, timeout=10.0):
        return await self.expect(lambda m: m.get("type") == type_, timeout,
                                 "'%s'" % type_)

    def drain(self):
        while not self.inbox.empty():
            self.inbox.get_nowait()

    async def close(self):
        await self.ws.close()
        try:
            await asyncio.wait_for(self._task, 5)
        except asyncio.TimeoutError:
            self._task.cancel()


def delay_sends(pc, delay):
    """Makes pc's outgoing RTP reach the network late, as a congested path
    would: delay(kind, rtp_timestamp) gives each packet's delay in seconds
    ("video" or "audio"; RTCP goes at once). The sender does not wait for
    it: its pacing, RTP timestamps and sender reports (stamped when a
    packet left aiortc's RTP loop) stay as they were, only the packets
    are handed to the socket later."""
    from aiortc.rtp import is_rtcp
    loop = asyncio.get_event_loop()
    kinds = {t.sender._ssrc: t.kind for t in pc.getTransceivers()
             if t.sender is not None}
    dtls = pc.getTransceivers()[0].sender.transport

    def send_later(data):
        async def send():
            try:
                await dtls.transport._send(data)
            except Exception:  # noqa: BLE001 — closed meanwhile
                pass
        asyncio.ensure_future(send())

    async def delayed(data):
        if is_rtcp(data) or len(data) < 12:
            return await real(data)
        if dtls._state.name != "CONNECTED":
            raise ConnectionError("not connected")
        ssrc = int.from_bytes(data[8:12], "big")
        ts = int.from_bytes(data[4:8], "big")
        d = delay(kinds.get(ssrc, "video"), ts)
        enc = dtls._tx_srtp.protect(data)
        if d <= 0:
            await dtls.transport._send(enc)
        else:
            loop.call_later(d, send_later, enc)

    real = dtls._send_rtp
    dtls._send_rtp = delayed


class Party:
    """A party: consent, waiting room, and an aiortc peer once admitted."""

    def __init__(self, base, path):
        self.url = base + "/ws" + path  # path is /join/<token>
        self.sig = None
        self.pc = None
        self.welcome = None

    async def connect(self, consent=True):
        self.sig = await Signal.open(self.url)
        self.welcome = await self.sig.expect_type("welcome")
        if consent is not None:
            await self.sig.send({"type": "consent", "given": consent})
        await self.sig.send({"type": "ready"})
        return self.welcome

    async def call(self, timeout=20.0, munge=True, video_codecs=None,
                   colour=None, tone=440, extra=0, tracks=None,
                   send_delay=None):
        """Offers audio+video, answers ICE; returns once connected.
        video_codecs: RTCRtpCodecCapability list to offer (default all).
        colour: send FlatVideo of that RGB colour (default PatternVideo);
        tone: the frequency of the audio sent; extra: how many receive
        slots to offer beyond the own m-lines (a recvonly video and a
        recvonly audio m-line each, in that order). tracks: (video, audio)
        to send instead (a track with a `sender` attribute gets its
        RTCRtpSender). send_delay: see delay_sends."""
        self.pc = RTCPeerConnection()
        self.received = {"video": 0, "audio": 0}
        # mid -> {"kind", "frames", "video": [(t, rgb)], "audio": [(t, pcm)]}
        self.by_mid = {}

        @self.pc.on("track")
        def on_track(track):
            mid = next((t.mid for t in self.pc.getTransceivers()
                        if t.receiver.track is track), None)
            asyncio.ensure_future(self._consume(track, mid))

        if tracks is None:
            tracks = (FlatVideo(colour) if colour else PatternVideo(),
                      ToneAudio(tone))
        for track in tracks:
            sender = self.pc.addTrack(track)
            if hasattr(track, "sender"):
                track.sender = sender
        if video_codecs:
            for t in self.pc.getTransceivers():
                if t.kind == "video":
                    t.setCodecPreferences(video_codecs)
        for _ in range(extra):
            self.pc.addTransceiver("video", direction="recvonly")
            self.pc.addTransceiver("audio", direction="recvonly")
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        sdp = self.pc.localDescription.sdp
        if munge:
            sdp = one_ice_credential(sdp)
        await self.sig.send({"type": "offer", "sdp": sdp})
        ans = await self.sig.expect_type("answer", timeout)
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=ans["sdp"], type="answer"))
        if send_delay is not None:
            delay_sends(self.pc, send_delay)
        self._ice_task = asyncio.ensure_future(self._ice())
        deadline = time.monotonic() + timeout
        while self.pc.iceConnectionState not in ("completed", "connected"):
            if self.pc.iceConnectionState == "failed":
                raise RuntimeError("ICE failed")
            if time.monotonic() > deadline:
                raise TimeoutError("ICE did not connect (%s)"
                                   % self.pc.iceConnectionState)
            await asyncio.sleep(0.05)

    async def _consume(self, track, mid=None):
        """Counts the decoded frames that arrive (what the others send) and
        keeps, per mid, the last of them with their arrival times: each
        video frame's mean colour (40 s), each audio frame's samples
        (5 s)."""
        rec = self.by_mid.setdefault(mid, {
            "kind": track.kind, "frames": 0,
            "video": collections.deque(maxlen=600),
            "audio": collections.deque(maxlen=250)})
        try:
            while True:
                frame = await track.recv()
                self.received[track.kind] += 1
                rec["frames"] += 1
                now = time.monotonic()
                if track.kind == "video":
                    rec["video"].append((now, frame_colour(frame)))
                else:
                    rec["audio"].append((now, frame_pcm(frame)))
        except Exception:  # noqa: BLE001 — the track ended
            pass

    def mid_frames(self, mid, since=0.0):
        """How many frames arrived on mid after the monotonic time since
        (within the kept window)."""
        rec = self.by_mid.get(mid)
        if not rec:
            return 0
        return sum(1 for t, _ in rec[rec["kind"]] if t >= since)

    def mid_colour(self, mid, since=0.0, frames=10):
        """Mean colour of the last frames video frames on mid that arrived
        after since, or None when fewer came."""
        rec = self.by_mid.get(mid)
        got = [c for t, c in (rec["video"] if rec else ()) if t >= since]
        if len(got) < frames:
            return None
        return tuple(float(x) for x in numpy.mean(got[-frames:], axis=0))

    def mid_colours(self, mid, since=0.0):
        """Every kept frame colour on mid that arrived after since."""
        rec = self.by_mid.get(mid)
        return [c for t, c in (rec["video"] if rec else ()) if t >= since]

    def mid_tone(self, mid, since=0.0, seconds=0.4):
        """FFT peak (Hz) of the last seconds of audio on mid that arrived
        after since, or None when less came."""
        rec = self.by_mid.get(mid)
        got = [p for t, p in (rec["audio"] if rec else ()) if t >= since]
        n = int(seconds * AUDIO_RATE)
        if sum(len(p) for p in got) < n:
            return None
        return peak_frequency(numpy.concatenate(got)[-n:])

    def slots(self):
        """The latest `slots` message's list, or None before one came."""
        got = [m for m in self.sig.all if isinstance(m, dict)
               and m.get("type") == "slots"]
        return got[-1]["slots"] if got else None

    async def _ice(self):
        while True:
            msg = await self.sig.ice.get()
            cand = msg.get("candidate") or ""
            if not cand:
                continue
            c = candidate_from_sdp(cand.split(":", 1)[1])
            c.sdpMLineIndex = 0
            c.sdpMid = self.pc.getTransceivers()[0].mid
            try:
                await self.pc.addIceCandidate(c)
            except Exception:  # noqa: BLE001 — a candidate it cannot use
                pass

    async def hangup(self):
        if getattr(self, "_ice_task", None):
            self._ice_task.cancel()
        if self.pc:
            await self.pc.close()
            self.pc = None
        if self.sig:
            await self.sig.close()


async def console(base, booking, token, origin=None):
    """A mediator's console connection (bearer token)."""
    sig = await Signal.open("%s/ws/console/%d" % (base, booking),
                            headers={"Authorization": "Bearer " + token},
                            origin=origin)
    sig.welcome = await sig.expect_type("welcome")
    return sig
