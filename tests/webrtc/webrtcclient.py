"""webrtcclient.py — test clients for the WebRTC signalling of `medsched
serve` (docs/webrtc.md): a party joining with Debian's python3-aiortc and
sending generated VP8 video and Opus audio, and a console (mediator) that
only signals. Used by test-webrtc.py; needs /usr/bin/python3 with
python3-aiortc and python3-websockets.
"""

import asyncio
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


class PatternVideo(MediaStreamTrack):
    """320×240 frames at 15 fps: a bar moving over a colour that changes
    every second, so every frame differs and the encoder works."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self._start = None
        self._n = 0

    async def recv(self):
        fps = 15
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self._n / fps
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        img = numpy.zeros((240, 320, 3), numpy.uint8)
        sec = self._n // fps
        img[:, :] = ((sec * 40) % 256, 90, (255 - sec * 40) % 256)
        x = (self._n * 7) % 300
        img[:, x:x + 20] = (255, 255, 255)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = int(self._n * VIDEO_RATE / fps)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self._n += 1
        return frame


class ToneAudio(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames, 48 kHz mono."""

    kind = "audio"

    def __init__(self):
        super().__init__()
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
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
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

    async def call(self, timeout=20.0, munge=True, video_codecs=None):
        """Offers audio+video, answers ICE; returns once connected.
        video_codecs: RTCRtpCodecCapability list to offer (default all)."""
        self.pc = RTCPeerConnection()
        self.received = {"video": 0, "audio": 0}

        @self.pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self._consume(track))

        self.pc.addTrack(PatternVideo())
        self.pc.addTrack(ToneAudio())
        if video_codecs:
            for t in self.pc.getTransceivers():
                if t.kind == "video":
                    t.setCodecPreferences(video_codecs)
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        sdp = self.pc.localDescription.sdp
        if munge:
            sdp = one_ice_credential(sdp)
        await self.sig.send({"type": "offer", "sdp": sdp})
        ans = await self.sig.expect_type("answer", timeout)
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=ans["sdp"], type="answer"))
        self._ice_task = asyncio.ensure_future(self._ice())
        deadline = time.monotonic() + timeout
        while self.pc.iceConnectionState not in ("completed", "connected"):
            if self.pc.iceConnectionState == "failed":
                raise RuntimeError("ICE failed")
            if time.monotonic() > deadline:
                raise TimeoutError("ICE did not connect (%s)"
                                   % self.pc.iceConnectionState)
            await asyncio.sleep(0.05)

    async def _consume(self, track):
        """Counts the decoded frames that arrive (what the others send)."""
        try:
            while True:
                await track.recv()
                self.received[track.kind] += 1
        except Exception:  # noqa: BLE001 — the track ended
            pass

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
    await sig.expect_type("welcome")
    return sig
