#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-webrtc.py — WebRTC calls end to end: a real `medsched serve`, two
parties joining with Debian's python3-aiortc (generated VP8 video and Opus
audio) through the WebSocket signalling of docs/webrtc.md, a mediator's
console admitting them and starting and stopping the recording. Each party
decodes the other's forwarded media; a caucus holds one side and pauses
the recording; a party that drops and rejoins gets a new recording with the
gap logged. The first party's recording is checked with gst-discoverer-1.0
(a VP8 and an Opus track, the recorded duration) and `medsched recording
verify`. Bad input: forged and revoked links, console without credentials
or from another origin, malformed, oversized and unknown frames, an offer
before admission, an offer without a common codec, a broken SDP, a second
connection replacing the first, 20 bad frames closing the socket, 50
reconnects in a row (then a recording that still seals and verifies),
record start without consent, ICE that never connects, an H.264-only
offer (answered and recorded as H.264). A three-way call (mediator and
both parties, each sending its own colour and tone and offering receive
slots): each sees and hears both others on the mids its `slots` message
names and never itself, through a party leaving and rejoining, and a
client with the old two-m-line offer gets exactly one other; each
participant's recording holds its own colour and tone. A party whose
video reaches the server up to 160 ms late is recorded with beep and
flash within 40 ms (the recording is timed by the sender's clock). Last,
SIGTERM
during a recorded call: the recording seals, the party gets bye. No token,
party name or phone number may reach the logs.

Runs under meson (suite webrtc) with GStreamer pointed at the build's
plugin; prints TAP."""

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

from httptest import Centre, Server, request, json_of  # noqa: E402
from medtest import Tap  # noqa: E402

import webrtcclient as wc  # noqa: E402
from aiortc import RTCPeerConnection, RTCRtpSender  # noqa: E402

# The beep-and-flash publisher and its A/V check (tests/webrtc/bench).
sys.path.insert(0, os.path.join(HERE, "bench"))
import avcheck  # noqa: E402
import medpeer  # noqa: E402

medpeer.FULL_DECODE = True  # the other tests decode what they receive

tap = Tap()


def db_rows(centre, sql, *args):
    con = sqlite3.connect("file:%s?mode=ro" % centre.db, uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def setup():
    centre = Centre(tap)
    media = os.path.join(centre.dir, "media")
    # Booking 1: the call (two parties); booking 2: a party without consent;
    # booking 3: "recording: hearing" in its note; booking 4: "录制: off";
    # booking 5: the three-way call; booking 6: revocations of open sockets;
    # booking 7: a hearing whose party's packets are delayed on their way.
    for k in (1, 2, 3, 4, 5, 6, 7):
        centre.cli("case", "add", "--number", "(2026)藏0102民调%d号" % k,
                   "--kind", "wages",
                   "--party", "applicant,zh,remote,甲方%d,13800000001" % k,
                   "--party", "respondent,zh,remote,乙方%d" % k)
        centre.cli("case", "dispatch", str(k), "--department",
                   "court-mediation")
        at = "2026-12-%02dT%02d:00" % (7 + (k - 1) // 2, 9 + (k - 1) % 2)
        if k == 5:
            at = "2026-12-07T11:00"
        if k == 6:
            at = "2026-12-07T15:00"
        if k == 7:
            at = "2026-12-08T11:00"
        centre.cli("book", str(k), "--at", at, "--room", "4",
                   "--mediator", "1")
    centre.cli("booking", "note", "3", "Remote hearing.\nrecording: hearing")
    centre.cli("booking", "note", "4", "录制: off")
    centre.cli("booking", "note", "7", "recording: hearing")
    return centre, media


def links(server, centre, booking):
    st, _, body = request(server.port, "GET",
                          "/api/v1/bookings/%d/links" % booking,
                          token=centre.tokens["admin"])
    if st != 200:
        tap.bail("links: %d %s" % (st, body))
    return json_of(body)


def http_status(port, path, headers=None):
    """Status of a WebSocket upgrade attempt (404 before the upgrade)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Connection": "Upgrade", "Upgrade": "websocket",
         "Sec-WebSocket-Version": "13",
         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    h.update(headers or {})
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status


def discover(path):
    p = subprocess.run(["gst-discoverer-1.0", "-v", path],
                       capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    m = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", out)
    dur = None
    if m:
        dur = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + \
            float(m.group(3))
    return out, dur


def recordings_of(centre, booking):
    return db_rows(centre, "SELECT id, state, dir, failure FROM recording "
                   "WHERE booking_id = ? ORDER BY id", booking)




async def stop_recording(mediator, centre, booking, before=(), timeout=30):
    """record stop, then the booking's recordings not in before once none
    of them records any more (or when timeout passed)."""
    await mediator.send({"type": "record", "action": "stop"})
    new = []
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        new = [r for r in recordings_of(centre, booking) if r[0] not in before]
        if new and all(r[1] != "recording" for r in new):
            break
        await asyncio.sleep(0.2)
    return new


def recording_log(centre, rec_id):
    return [r[0] for r in db_rows(
        centre, "SELECT kind FROM recording_event WHERE recording_id = ? "
        "ORDER BY id", rec_id)]


async def main_call(centre, server, base, lk):
    """Admit, record ~6 s, stop: the party's recording holds its media."""
    party = wc.Party(base, lk[0]["path"])
    other = lk[1]
    mediator = await wc.console(base, 1, centre.tokens["tashi"],
                                origin="http://127.0.0.1:%d" % server.port)
    welcome = await party.connect(consent=True)
    tap.ok(welcome.get("you") == "party-%d" % lk[0]["party_id"]
           and welcome.get("booking") == 1
           and welcome.get("regime") == "mediation"
           and welcome["consent"]["needed"] is True,
           "welcome names the participant, booking and regime",
           json.dumps(welcome, ensure_ascii=False))
    pid = welcome["you"]
    # The second party consents from its own link (mediation regime).
    p2 = wc.Party(base, other["path"])
    await p2.connect(consent=True)
    # An offer before admission is refused with error state.
    await party.sig.send({"type": "offer", "sdp": "v=0\r\n"})
    err = await party.sig.expect_type("error")
    tap.ok(err.get("code") in ("state", "bad_message"),
           "an offer before admission is an error", json.dumps(err))
    st = await mediator.expect(
        lambda m: m.get("type") == "state"
        and any(p["id"] == pid and p["state"] == "waiting"
                for p in m["participants"]), what="party waiting")
    names = [p["name"] for p in st["participants"]]
    tap.ok("甲方1" in names, "the mediator sees the party's name")
    # Both parties consented: the console's state says so, party by party.
    st = await mediator.expect(
        lambda m: m.get("type") == "state"
        and m.get("consent", {}).get("given") is True
        and {p["id"] for p in m["participants"] if p.get("consent") is True}
        >= {pid, p2.welcome["you"]}, timeout=15, what="consent in state")
    tap.ok(st["consent"] == {"needed": True, "given": True, "missing": 0},
           "the console's state shows every party's consent, each party's "
           "own answer included", json.dumps(st, ensure_ascii=False))
    # (the party's inbox was read past these states above: use all; the
    # state naming the other party may reach it a moment after the
    # console's)
    def party_states():
        return [m for m in party.sig.all if m.get("type") == "state"
                and any(p["id"] == p2.welcome["you"]
                        for p in m["participants"])]
    await until(lambda: party_states()
                and any(p["id"] == pid and p.get("consent") is True
                        for p in party_states()[-1]["participants"]), 10)
    pst = party_states()
    tap.ok(pst and all("consent" not in p for m in pst
                       for p in m["participants"] if p["id"] != pid)
           and any(p["id"] == pid and p.get("consent") is True
                   for p in pst[-1]["participants"]),
           "a party sees its own answer, not the other party's",
           json.dumps(pst[-1:], ensure_ascii=False))
    # Frames carry codes, not text (docs/webrtc.md): the party sees the
    # others without names, the other party by its role word, the mediator
    # by its role; its own entry has its name
    last = pst[-1]["participants"]
    me = [p for p in last if p["id"] == pid]
    others = [p for p in last if p["id"] != pid]
    tap.ok(me and me[0]["name"] == "甲方1"
           and me[0].get("party_role") == "applicant"
           and others and all(p["name"] == "" for p in others)
           and any(p["id"] == p2.welcome["you"]
                   and p.get("party_role") == "respondent" for p in others)
           and any(p["role"] == "mediator" and "party_role" not in p
                   for p in others),
           "a party's state: role codes for the others, no names",
           json.dumps(last, ensure_ascii=False))
    await mediator.send({"type": "admit", "participant": pid})
    await party.sig.expect_type("admitted")
    t0 = time.monotonic()
    await party.call()
    tap.ok(True, "aiortc connected to webrtcbin in %.2f s"
           % (time.monotonic() - t0))
    # Both forms of end-of-candidates are taken without an error: the
    # next error is the one for the frame sent after them.
    party.sig.drain()
    await party.sig.send({"type": "ice", "candidate": "", "sdpMLineIndex": 0})
    await party.sig.send({"type": "ice", "sdpMLineIndex": 0})
    await party.sig.send("not json")
    m = await party.sig.expect_type("error")
    tap.ok(m.get("message") and m["message"].isascii(),
           "an error frame's message is English: its code is what pages "
           "show", json.dumps(m, ensure_ascii=False))
    tap.ok(m.get("code") == "bad_message" and "candidate" not in json.dumps(m),
           "an empty or missing candidate is taken as end-of-candidates",
           json.dumps(m, ensure_ascii=False))
    await mediator.expect(
        lambda m: m.get("type") == "state"
        and any(p["id"] == pid and p["state"] == "in-call"
                and p["media"]["video"] for p in m["participants"]),
        timeout=15, what="party in-call with video")
    # The second party joins the call: each receives the other's media.
    await mediator.send({"type": "admit", "participant": p2.welcome["you"]})
    await p2.sig.expect_type("admitted")
    await p2.call()
    t = time.monotonic() + 15
    while time.monotonic() < t and not (
            party.received["video"] > 5 and p2.received["video"] > 5
            and party.received["audio"] > 5 and p2.received["audio"] > 5):
        await asyncio.sleep(0.1)
    tap.ok(party.received["video"] > 5 and p2.received["video"] > 5,
           "each party decodes the other's forwarded video",
           repr((party.received, p2.received)))
    tap.ok(party.received["audio"] > 5 and p2.received["audio"] > 5,
           "each party decodes the other's forwarded audio",
           repr((party.received, p2.received)))
    await mediator.send({"type": "record", "action": "start"})
    await mediator.expect(lambda m: m.get("type") == "state"
                          and m.get("recording") == "recording",
                          what="recording")
    t_start = time.monotonic()
    await asyncio.sleep(6)
    # The second party drops and rejoins with the same link: a new
    # participant-join recording, the gap logged.
    await p2.hangup()
    await asyncio.sleep(0.5)
    p2 = wc.Party(base, other["path"])
    await p2.connect(consent=None)
    await p2.sig.expect_type("admitted")
    await p2.call()
    await mediator.expect(
        lambda m: m.get("type") == "state"
        and any(p["id"] == p2.welcome["you"] and p["state"] == "in-call"
                for p in m["participants"]), timeout=15, what="rejoined")
    await asyncio.sleep(3)
    # A caucus with the first party: the second is held (no media to it),
    # the recording paused; then back.
    await mediator.send({"type": "caucus", "with": pid})
    await p2.sig.expect_type("held")
    st = await mediator.expect(lambda m: m.get("type") == "state"
                               and m.get("caucus") == pid, what="caucus")
    tap.ok(st["recording"] == "paused"
           and any(p["id"] == p2.welcome["you"] and p["state"] == "held"
                   for p in st["participants"]),
           "a caucus holds the other side and pauses the recording",
           json.dumps(st, ensure_ascii=False))
    await asyncio.sleep(0.5)
    held_from = p2.received["video"]
    await asyncio.sleep(1.5)
    tap.ok(p2.received["video"] - held_from <= 2,
           "the held party receives no video during the caucus",
           "%d frames" % (p2.received["video"] - held_from))
    await mediator.send({"type": "caucus", "with": None})
    await p2.sig.expect_type("admitted")
    await mediator.expect(lambda m: m.get("type") == "state"
                          and m.get("caucus") is None
                          and m.get("recording") == "recording",
                          what="caucus over")
    await asyncio.sleep(1)
    await mediator.send({"type": "record", "action": "stop"})
    t_stop = time.monotonic()
    await mediator.expect(lambda m: m.get("type") == "state"
                          and m.get("recording") == "off", what="off")
    recorded = t_stop - t_start
    p2_id = p2.welcome["you"]
    rows = []
    t = time.monotonic() + 30
    while time.monotonic() < t:
        rows = [r for r in recordings_of(centre, 1)
                if os.path.basename(r[2]) == "%s-1" % pid]
        if rows and rows[0][1] in ("sealed", "failed", "stopped"):
            break
        await asyncio.sleep(0.2)
    ok = tap.ok(rows and rows[0][1] == "sealed",
                "the party's recording sealed", repr(rows) + "\n" + (
                    "\n".join("%s %d" % (f, os.path.getsize(
                        os.path.join(rows[0][2], f)))
                        for f in os.listdir(rows[0][2])) if rows else ""))
    if ok:
        rid, _, rdir, _ = rows[0]
        final = os.path.join(rdir, "recording.mkv")
        out, dur = discover(final)
        tap.ok("vp8" in out.lower() or "VP8" in out,
               "the recording has a VP8 track", out[-1500:])
        tap.ok("opus" in out.lower(), "the recording has an Opus track",
               out[-1500:])
        # The file starts at the first keyframe after record start (a PLI
        # round trip, up to ~1 s with RTCP timing) and ends at the stop.
        if not tap.ok(dur is not None and -1.5 <= dur - recorded <= 0.5,
                      "duration %.2f s for %.2f s recorded"
                      % (dur or -1, recorded), out[-800:]) \
                and os.environ.get("W1_KEEP"):
            import shutil
            shutil.copytree(rdir, os.environ["W1_KEEP"], dirs_exist_ok=True)
        p = subprocess.run([centre.bin, "--db", centre.db, "recording",
                            "verify", str(rid)], capture_output=True,
                           text=True, env=centre.env, timeout=60)
        tap.ok(p.returncode == 0, "medsched recording verify %d" % rid,
               p.stdout + p.stderr)
        kinds = recording_log(centre, rid)
        tap.ok(kinds[:1] == ["start"] and "pause" in kinds
               and "resume" in kinds and kinds[-1] == "stop",
               "start, the caucus' pause and resume, and stop are in the "
               "recording log", repr(kinds))
    rows2 = []
    t = time.monotonic() + 30
    while time.monotonic() < t:
        rows2 = [r for r in recordings_of(centre, 1)
                 if os.path.basename(r[2]) in ("%s-1" % p2_id, "%s-2" % p2_id)]
        if len(rows2) == 2 and all(r[1] in ("sealed", "failed", "stopped")
                                   for r in rows2):
            break
        await asyncio.sleep(0.2)
    if not tap.ok(len(rows2) == 2 and all(r[1] == "sealed" for r in rows2),
                  "a rejoin makes a second participant-join recording, "
                  "both sealed", repr(rows2)) and os.environ.get("W1_KEEP"):
        import shutil
        for r in rows2:
            shutil.copytree(r[2], os.path.join(os.environ["W1_KEEP"],
                                               os.path.basename(r[2])))
    if len(rows2) == 2:
        tap.ok("gap" in recording_log(centre, rows2[1][0]),
               "the rejoin's gap is logged",
               repr(recording_log(centre, rows2[1][0])))
    await party.hangup()
    await p2.hangup()
    await mediator.close()
    return pid


SDP_NO_CODEC = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0",
    "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=mid:0",
    "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
    "a=setup:actpass", "a=rtcp-mux", "a=rtpmap:0 PCMU/8000", "a=sendrecv",
    ""])
SDP_BARE = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def bad_input(centre, server, base, lk):
    port = server.port
    tok = lk[0]["path"].split("/")[-1]
    forged = tok[:-2] + ("AA" if tok[-2:] != "AA" else "BB")
    tap.ok(http_status(port, "/ws/join/" + forged) == 404,
           "a forged link is 404 before the upgrade")
    tap.ok(http_status(port, "/ws/join/") == 404
           and http_status(port, "/ws/nothing/x") == 404,
           "unknown WebSocket endpoints are 404")
    tap.ok(http_status(port, "/ws/console/1") == 401,
           "the console without credentials is 401")
    tap.ok(http_status(port, "/ws/console/1", {
        "Authorization": "Bearer " + centre.tokens["tashi"],
        "Origin": "http://evil.example"}) == 403,
        "the console from another origin is 403")
    # Revoke booking 2's respondent link: 404 like a forged one.
    lk2 = links(server, centre, 2)
    st, _, _ = request(port, "POST", "/api/v1/bookings/2/links/%d/revoke"
                       % lk2[1]["party_id"], token=centre.tokens["admin"])
    tap.ok(st == 204 and http_status(port, "/ws" + lk2[1]["path"]) == 404,
           "a revoked link is 404 before the upgrade", "revoke: %d" % st)

    # Malformed, oversized and unknown frames: an error each, the socket
    # stays, nothing changes.
    party = wc.Party(base, lk[0]["path"])
    await party.connect(consent=None)
    await party.sig.expect(lambda m: m.get("type") == "state", what="state")
    party.sig.drain()
    bad = ["not json", "[1,2]", "{\"type\":42}", "{}",
           json.dumps({"type": "teleport"}),
           json.dumps({"type": "ready", "extra": 1}),
           json.dumps({"type": "consent", "given": "yes"}),
           json.dumps({"type": "ice", "candidate": "candidate:\u0001x",
                       "sdpMLineIndex": 0}),
           json.dumps({"type": "ice", "candidate": "x", "sdpMLineIndex": 99}),
           "{\"type\":\"ready\",\"a\":" + "[" * 20 + "]" * 20 + "}",
           json.dumps({"type": "ready", "pad": "x" * (70 * 1024)}),
           json.dumps({"type": "admit", "participant": "party-2"}),
           json.dumps({"type": "record", "action": "start"}),
           b"\x00\x01binary"]
    codes = []
    for frame in bad:
        await party.sig.send(frame)
        m = await party.sig.expect_type("error")
        codes.append(m.get("code"))
    want = ["bad_message"] * 10 + ["too_large", "not_allowed", "not_allowed",
                                   "bad_message"]
    tap.ok(codes == want, "every bad frame is answered with its error",
           "got %r\nwant %r" % (codes, want))
    tap.ok(not party.sig.closed.is_set(), "the socket stays open")
    await party.sig.send({"type": "offer", "sdp": SDP_BARE})
    m = await party.sig.expect_type("error")
    tap.ok(m.get("code") == "state", "an offer before admission: error state",
           json.dumps(m))
    rows = recordings_of(centre, 1)
    n_before = len(rows)

    # Admitted: an offer without a common codec.
    mediator = await wc.console(base, 1, centre.tokens["tashi"])
    await mediator.send({"type": "admit", "participant": lk and
                         "party-%d" % lk[0]["party_id"]})
    await party.sig.expect_type("admitted")
    await party.sig.send({"type": "offer", "sdp": SDP_NO_CODEC})
    m = await party.sig.expect_type("error")
    tap.ok(m.get("code") == "no_common_codec",
           "an offer without a common codec: no_common_codec", json.dumps(m))
    await party.sig.send({"type": "offer", "sdp": "v=0\r\nthis is no sdp"})
    m = await party.sig.expect_type("error")
    tap.ok(m.get("code") == "bad_message", "a broken SDP: bad_message",
           json.dumps(m))

    # A second connection with the same link replaces the first.
    second = wc.Party(base, lk[0]["path"])
    await second.connect(consent=None)
    m = await party.sig.expect_type("bye")
    await asyncio.wait_for(party.sig.closed.wait(), 10)
    tap.ok(m.get("reason") == "replaced" and party.sig.closed.is_set(),
           "a second connection replaces the first (bye replaced)",
           json.dumps(m))
    await second.sig.expect_type("admitted")
    await second.sig.close()

    # 20 bad frames close the socket with 1008.
    noisy = wc.Party(base, lk[0]["path"])
    await noisy.connect(consent=None)
    for _ in range(20):
        await noisy.sig.send("garbage")
    await asyncio.wait_for(noisy.sig.closed.wait(), 10)
    tap.ok(noisy.sig.ws.close_code == 1008,
           "20 bad frames close the socket with 1008",
           repr(noisy.sig.ws.close_code))

    # 50 reconnects in a row: the server answers each and goes on.
    t0 = time.monotonic()
    welcomes = 0
    for i in range(50):
        p = wc.Party(base, lk[0]["path"])
        w = await p.connect(consent=None)
        welcomes += w.get("type") == "welcome"
        await p.sig.close()
    tap.ok(welcomes == 50, "50 reconnects in a row, each welcomed "
           "(%.1f s)" % (time.monotonic() - t0))
    st, _, body = request(port, "GET", "/healthz")
    tap.ok(st == 200, "the server still answers after the reconnects")
    tap.ok(len(recordings_of(centre, 1)) == n_before,
           "bad input made no recording")
    await mediator.close()

    # Booking 2: nobody consented; record start is refused.
    con2 = await wc.console(base, 2, centre.tokens["tashi"])
    await con2.send({"type": "record", "action": "start"})
    m = await con2.expect_type("error")
    tap.ok(m.get("code") == "no_consent",
           "record start without every consent: no_consent", json.dumps(m))
    tap.ok(recordings_of(centre, 2) == [], "no recording row without consent")
    await con2.close()


async def after_reconnects(centre, server, base, lk):
    """After all that, a party still joins and is recorded intact."""
    party = wc.Party(base, lk[0]["path"])
    mediator = await wc.console(base, 1, centre.tokens["tashi"])
    w = await party.connect(consent=None)
    # A new call (the last one ended with its last connection): admit.
    await mediator.expect(
        lambda m: m.get("type") == "state"
        and any(p["id"] == w["you"] and p["state"] == "waiting"
                for p in m["participants"]), what="party waiting")
    await mediator.send({"type": "admit", "participant": w["you"]})
    await party.sig.expect_type("admitted")
    await party.call()
    before = {r[0] for r in recordings_of(centre, 1)}
    await mediator.send({"type": "record", "action": "start"})
    await asyncio.sleep(3)
    new = await stop_recording(mediator, centre, 1, before)
    ok = tap.ok(len(new) == 1 and new[0][1] == "sealed",
                "a recording after the reconnects seals", repr(new))
    if ok:
        p = subprocess.run([centre.bin, "--db", centre.db, "recording",
                            "verify", str(new[0][0])], capture_output=True,
                           text=True, env=centre.env, timeout=60)
        tap.ok(p.returncode == 0, "and verifies", p.stdout + p.stderr)
    await party.hangup()
    await mediator.close()


async def regimes(centre, server, base):
    """The booking's note sets the call's regime, as for `serve`'s
    booking-time recordings."""
    # Hearing: no consent asked; recording starts by itself with the
    # first participant in the call.
    lk3 = links(server, centre, 3)
    mediator = await wc.console(base, 3, centre.tokens["tashi"])
    party = wc.Party(base, lk3[0]["path"])
    w = await party.connect(consent=None)
    tap.ok(w.get("regime") == "hearing"
           and w["consent"]["needed"] is False,
           "recording: hearing in the note makes a hearing call",
           json.dumps(w, ensure_ascii=False))
    await mediator.expect(
        lambda m: m.get("type") == "state"
        and any(p["id"] == w["you"] and p["state"] == "waiting"
                for p in m["participants"]), what="party waiting")
    tap.ok(recordings_of(centre, 3) == [],
           "nothing is recorded before anybody is in the call")
    await mediator.send({"type": "admit", "participant": w["you"]})
    await party.sig.expect_type("admitted")
    await party.call()
    st = await mediator.expect(
        lambda m: m.get("type") == "state" and m.get("recording")
        == "recording", timeout=15, what="recording by itself")
    rows = []
    t = time.monotonic() + 15
    while time.monotonic() < t and not rows:
        rows = recordings_of(centre, 3)
        await asyncio.sleep(0.2)
    tap.ok(st.get("recording") == "recording" and len(rows) >= 1,
           "the hearing records from the first participant in the call "
           "without consent", repr(rows))
    await asyncio.sleep(2)
    rows = await stop_recording(mediator, centre, 3)
    tap.ok(rows and all(r[1] == "sealed" for r in rows),
           "the hearing recording seals", repr(rows))
    await party.hangup()
    await mediator.close()

    # Off: record start is refused, nothing is recorded.
    con4 = await wc.console(base, 4, centre.tokens["tashi"])
    tap.ok(con4.welcome.get("regime") == "off"
           and con4.welcome.get("consent", {}).get("needed") is False,
           "the welcome says recording is off and asks no consent",
           json.dumps(con4.welcome, ensure_ascii=False))
    await con4.send({"type": "record", "action": "start"})
    m = await con4.expect_type("error")
    tap.ok(m.get("code") == "not_allowed",
           "recording: off in the note refuses record start", json.dumps(m))
    tap.ok(recordings_of(centre, 4) == [], "no recording row when off")
    await con4.close()


def sweep_video_delay(period=4.0, peak=0.16):
    """A send delay for delay_sends: video packets late by 0 to peak
    seconds and back every period (the same for every packet of a frame,
    changing by a few ms per frame, so the jitter buffer keeps them all),
    audio by at most 8 ms."""
    start = time.monotonic()
    frames = {}

    def delay(kind, ts):
        if kind != "video":
            return 0.008 * ((ts // 960) % 3) / 2
        if ts not in frames:
            if len(frames) > 200:
                frames.clear()
            phase = ((time.monotonic() - start) % period) / period
            frames[ts] = peak * (1 - abs(2 * phase - 1))
        # what was delayed, for the test to see that the delay took hold
        delay.video_packets += 1
        delay.most = max(delay.most, frames[ts])
        return frames[ts]
    delay.video_packets = 0
    delay.most = 0.0
    return delay


async def jittered_av(centre, server, base):
    """The recording takes each track's time from the sender's RTP
    timestamps and reports, not from when packets arrived: a party whose
    video reaches the server up to 160 ms late (a sweep, audio nearly on
    time) is recorded with its beep and flash together."""
    lk7 = links(server, centre, 7)
    mediator = await wc.console(base, 7, centre.tokens["tashi"])
    party = await admitted_party(base, lk7[0]["path"], mediator)
    pattern = medpeer.Pattern(medpeer.make_clip())
    sweep = sweep_video_delay()
    await party.call(tracks=(medpeer.ClipVideoTrack(pattern),
                             medpeer.ClipAudioTrack(pattern)),
                     send_delay=sweep)
    await mediator.expect(
        lambda m: m.get("type") == "state"
        and m.get("recording") == "recording", timeout=15,
        what="the hearing records")
    await asyncio.sleep(16)
    rows = await stop_recording(mediator, centre, 7, timeout=60)
    # the delay patches aiortc's private send path: it must have worked
    tap.ok(sweep.video_packets >= 100 and sweep.most >= 0.1,
           "the party's video really went late (%d packets, up to %.0f ms)"
           % (sweep.video_packets, sweep.most * 1000))
    offsets, flashes, beeps = [], [], []
    if rows and rows[0][1] == "sealed":
        path = os.path.join(rows[0][2], "recording.mkv")
        flashes = avcheck.flashes(path)
        beeps = avcheck.beeps(path)
        offsets = [o * 1000 for o in avcheck.offsets(path)]
    worst = max((abs(o) for o in offsets), default=None)
    tap.ok(len(offsets) >= 8 and worst <= 40,
           "video delayed by a 0–160 ms sweep: beep and flash of the "
           "recording within 40 ms (%d pairs, worst %s ms)"
           % (len(offsets), "%.1f" % worst if worst is not None else "-"),
           "%r offsets %s flashes %s beeps %s" % (
               rows, ["%.1f" % o for o in offsets],
               ["%.2f" % x for x in flashes], ["%.2f" % x for x in beeps]))
    await party.hangup()
    await mediator.close()


async def admitted_party(base, path, mediator, consent=None):
    """A party connected and admitted (at once when it was before: the
    server's `admitted` may come a moment after the welcome, so wait for
    whichever comes first, that or the party waiting at the console)."""
    party = wc.Party(base, path)
    seen = len(mediator.all)
    w = await party.connect(consent=consent)
    deadline = time.monotonic() + 10
    while not any(m.get("type") == "admitted" for m in party.sig.all):
        if any(m.get("type") == "state"
               and any(p["id"] == w["you"] and p["state"] == "waiting"
                       for p in m["participants"])
               for m in mediator.all[seen:]):
            await mediator.send({"type": "admit", "participant": w["you"]})
            break
        if time.monotonic() > deadline:
            raise TimeoutError("party neither admitted nor waiting: %s"
                               % json.dumps(mediator.all[-3:],
                                            ensure_ascii=False))
        await asyncio.sleep(0.05)
    await party.sig.expect_type("admitted")
    return party


async def h264_only(centre, base, lk):
    """An offer with H.264 and no VP8 is answered with H.264 and recorded
    as such."""
    mediator = await wc.console(base, 1, centre.tokens["tashi"])
    party = await admitted_party(base, lk[0]["path"], mediator)
    caps = RTCRtpSender.getCapabilities("video")
    await party.call(video_codecs=[x for x in caps.codecs
                                   if x.mimeType == "video/H264"])
    answer = [m for m in party.sig.all if m.get("type") == "answer"][-1]
    tap.ok("H264/90000" in answer["sdp"] and "VP8" not in answer["sdp"],
           "an H.264-only offer is answered with H.264")
    before = {r[0] for r in recordings_of(centre, 1)}
    await mediator.send({"type": "record", "action": "start"})
    await asyncio.sleep(3)
    new = await stop_recording(mediator, centre, 1, before)
    out = ""
    if new and new[0][1] == "sealed":
        out, _ = discover(os.path.join(new[0][2], "recording.mkv"))
    tap.ok(("h264" in out.lower() or "h.264" in out.lower())
           and "opus" in out.lower(),
           "the H.264 call's recording has H.264 and Opus", repr(new))
    await party.hangup()
    await mediator.close()


async def ice_never_connects(centre, base, lk):
    """An offer whose only candidate is unreachable: ice_failed to the
    party and to the mediator."""
    mediator = await wc.console(base, 1, centre.tokens["tashi"])
    party = await admitted_party(base, lk[0]["path"], mediator)
    pc = RTCPeerConnection()
    pc.addTrack(wc.PatternVideo())
    pc.addTrack(wc.ToneAudio())
    await pc.setLocalDescription(await pc.createOffer())
    sdp = wc.one_ice_credential(pc.localDescription.sdp)
    sdp = re.sub(r"a=(candidate:|end-of-candidates)[^\r\n]*\r\n", "", sdp)
    sdp = sdp.replace("a=mid:0\r\n", "a=mid:0\r\na=candidate:1 1 udp "
                      "2130706431 127.0.0.1 9 typ host\r\n", 1)
    await party.sig.send({"type": "offer", "sdp": sdp})
    await party.sig.expect_type("answer")
    t0 = time.monotonic()
    e = await party.sig.expect_type("error", timeout=60)
    tap.ok(e.get("code") == "ice_failed",
           "ICE that never connects: ice_failed to the party (%.1f s)"
           % (time.monotonic() - t0), json.dumps(e))
    e = await mediator.expect_type("error", timeout=10)
    tap.ok(e.get("code") == "ice_failed", "and to the mediator",
           json.dumps(e))
    await pc.close()
    await party.sig.close()
    await mediator.close()


async def media_flows(peers, timeout=15):
    """True once every peer decoded > 5 video and audio frames."""
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if all(p.received["video"] > 5 and p.received["audio"] > 5
               for p in peers):
            return True
        await asyncio.sleep(0.1)
    return False


async def leave_and_rejoin(centre, server, base, lk, rounds=3):
    """Issue 6: the mediator in with media first, then the party joins (a
    call in progress); recording on, then record stop, the party's and the
    mediator's `leave` while media flows — rounds times. Each round both
    get media, the server keeps answering (a new console is welcomed) and
    the party's recordings all seal."""
    origin = "http://127.0.0.1:%d" % server.port
    before = {r[0] for r in recordings_of(centre, 1)}
    flowed = answering = 0
    for i in range(rounds):
        # The previous round's call ends once its recorders sealed; a
        # console that came in meanwhile gets bye and is closed.
        t = time.monotonic() + 30
        while time.monotonic() < t:
            msig = await wc.console(base, 1, centre.tokens["tashi"],
                                    origin=origin)
            await asyncio.sleep(1)
            if not msig.closed.is_set():
                break
        mediator = wc.Party(base, "/unused")
        mediator.sig = msig
        mid = msig.all[0]["you"]
        await mediator.call()
        await msig.expect(
            lambda m: m.get("type") == "state"
            and any(p["id"] == mid and p["state"] == "in-call"
                    and p["media"]["video"] for p in m["participants"]),
            timeout=15, what="mediator in-call with video")
        # Odd rounds record from before the party's offer (its recorder is
        # made with its answer), even ones once both are in.
        first = i % 2 == 1
        for step in ("record", "join") if first else ("join", "record"):
            if step == "record":
                await msig.send({"type": "record", "action": "start"})
                await msig.expect(lambda m: m.get("type") == "state"
                                  and m.get("recording") == "recording",
                                  what="recording")
                continue
            party = await admitted_party(base, lk[0]["path"], msig)
            await party.call()
            ok = await media_flows([party, mediator])
            flowed += ok
            if not ok:
                tap.diag("round %d: party %r mediator %r"
                         % (i, party.received, mediator.received))
        await asyncio.sleep(2)
        await msig.send({"type": "record", "action": "stop"})
        await party.sig.send({"type": "leave"})
        await msig.send({"type": "leave"})
        await asyncio.sleep(0.3)
        try:
            probe = await wc.console(base, 1, centre.tokens["tashi"],
                                     origin=origin)
            await probe.close()
            answering += 1
        except (TimeoutError, asyncio.TimeoutError, OSError) as e:
            tap.diag("round %d: no welcome after leave: %r" % (i, e))
        await party.hangup()
        await mediator.hangup()
        if answering <= i:
            break
        t = time.monotonic() + 30
        while time.monotonic() < t and any(
                r[1] == "recording" for r in recordings_of(centre, 1)):
            await asyncio.sleep(0.2)
    tap.ok(flowed == rounds,
           "a party joining a call in progress: both get media (%d/%d)"
           % (flowed, rounds))
    tap.ok(answering == rounds,
           "record stop then leave while media flows: the server keeps "
           "answering (%d/%d)" % (answering, rounds))
    new = []
    t = time.monotonic() + 30
    while time.monotonic() < t:
        new = [r for r in recordings_of(centre, 1) if r[0] not in before]
        if len(new) >= 2 * rounds and all(r[1] != "recording" for r in new):
            break
        await asyncio.sleep(0.2)
    parties = [r for r in new if os.path.basename(r[2]).startswith("party-")]
    tap.ok(len(parties) == rounds and all(r[1] == "sealed" for r in new),
           "each join's recording seals", repr(new))


# The three-way call: each participant's colour (sent as a flat picture)
# and tone, far apart so a decoded frame or a few hundred ms of audio tells
# whose media it is despite VP8/Opus loss.
PALETTE = {"red": (220, 30, 30), "green": (30, 200, 30),
           "blue": (30, 30, 220)}
TONES = {"red": 330, "green": 440, "blue": 660}


def colour_name(rgb):
    """The palette colour within 60 (RGB distance) of rgb, or None."""
    if rgb is None:
        return None
    for name, ref in PALETTE.items():
        if sum((a - b) ** 2 for a, b in zip(rgb, ref)) ** 0.5 < 60:
            return name
    return None


def tone_name(hz):
    """The palette colour whose tone is within 10 Hz of hz, or None."""
    for name, ref in TONES.items():
        if hz is not None and abs(hz - ref) <= 10:
            return name
    return None


def received_view(client, since):
    """What client gets by its latest slots message: participant ->
    (colour on that slot's video mid, colour of the tone on its audio mid),
    from the media that arrived after the monotonic time since."""
    view = {}
    for slot in client.slots() or []:
        v, a = slot.get("video"), slot.get("audio")
        view[slot.get("participant")] = (
            colour_name(client.mid_colour(v, since)) if v is not None
            else None,
            tone_name(client.mid_tone(a, since)) if a is not None else None)
    return view


def slots_valid(client, me, others):
    """The latest slots list exactly the others, each once, never me, on
    distinct mids of client's own offer of the right kinds."""
    slots = client.slots() or []
    kinds = {t.mid: t.kind for t in client.pc.getTransceivers()}
    mids = [x.get(k) for x in slots for k in ("video", "audio")]
    return (sorted(x.get("participant") for x in slots) == sorted(others)
            and me not in [x.get("participant") for x in slots]
            and len(set(mids)) == len(mids)
            and all(kinds.get(x.get("video")) == "video"
                    and kinds.get(x.get("audio")) == "audio"
                    for x in slots))


def unlisted_quiet(client, since):
    """The mids the latest slots leave out that got frames after since
    (mid -> how many); empty when they are all quiet."""
    listed = {x.get(k) for x in client.slots() or []
              for k in ("video", "audio")}
    return {mid: client.mid_frames(mid, since)
            for mid in client.by_mid if mid not in listed
            and client.mid_frames(mid, since)}


async def until(cond, timeout):
    """Polls cond every 0.2 s until it holds or timeout s passed; its last
    value."""
    t = time.monotonic() + timeout
    while True:
        got = cond()
        if got or time.monotonic() > t:
            return got
        await asyncio.sleep(0.2)


def recorded_media(path):
    """The colour most of a recording's decoded video frames have (and
    their number) and the colour of its audio's tone, decoded with PyAV."""
    import av
    colours, pcm = [], []
    with av.open(path) as f:
        streams = [x for x in f.streams if x.type in ("video", "audio")]
        for frame in f.decode(*streams):
            if isinstance(frame, av.VideoFrame):
                colours.append(colour_name(wc.frame_colour(frame)))
            else:
                pcm.append(wc.frame_pcm(frame))
    best = max(set(colours), key=colours.count) if colours else None
    share = colours.count(best) / len(colours) if colours else 0
    tone = None
    if pcm:
        import numpy
        pcm = numpy.concatenate(pcm)
        mid = len(pcm) // 2
        tone = tone_name(wc.peak_frequency(pcm[max(0, mid - 12000):
                                               mid + 12000]))
    return (best if share >= 0.9 else None), len(colours), tone


async def three_way(centre, server, base):
    """Booking 5: the mediator and both parties in one call, each sending
    its own colour and tone and offering four receive slots. Each sees and
    hears the two others on the mids its slots name, never itself; a party
    leaves (the others' slots drop it, its mids go quiet) and rejoins
    (listed again, its media back); a party with the old offer (one audio
    and one video m-line) gets exactly one other. Each recording holds its
    participant's colour and tone."""
    origin = "http://127.0.0.1:%d" % server.port
    lk5 = links(server, centre, 5)
    clients = []
    try:
        msig = await wc.console(base, 5, centre.tokens["tashi"],
                                origin=origin)
        med = wc.Party(base, "/unused")
        med.sig = msig
        clients.append(med)
        med_id = msig.all[0]["you"]
        await med.call(colour=PALETTE["red"], tone=TONES["red"], extra=4)
        a = await admitted_party(base, lk5[0]["path"], msig, consent=True)
        clients.append(a)
        await a.call(colour=PALETTE["green"], tone=TONES["green"], extra=4)
        b = await admitted_party(base, lk5[1]["path"], msig, consent=True)
        clients.append(b)
        await b.call(colour=PALETTE["blue"], tone=TONES["blue"], extra=4)
        a_id, b_id = a.welcome["you"], b.welcome["you"]
        colour_of = {med_id: "red", a_id: "green", b_id: "blue"}
        t_in = time.monotonic()
        await msig.send({"type": "record", "action": "start"})
        await msig.expect(lambda m: m.get("type") == "state"
                          and m.get("recording") == "recording",
                          what="recording")

        def want(ids):
            return {p: (colour_of[p], colour_of[p]) for p in ids}

        def everyone_sees(group, since):
            return all(received_view(c, since) == want(
                [p for p in group if p != me]) for me, c in group.items())

        group = {med_id: med, a_id: a, b_id: b}
        await until(lambda: everyone_sees(group, t_in), 25)
        views = {me: (c.slots(), received_view(c, t_in))
                 for me, c in group.items()}
        diag = json.dumps(views, ensure_ascii=False)
        tap.ok(all(slots_valid(c, me, [p for p in group if p != me])
                   for me, c in group.items()),
               "three-way: each one's slots list the two others, never "
               "itself, on mids of its offer", diag)
        tap.ok(all({p: v[0] for p, v in views[me][1].items()}
                   == {p: colour_of[p] for p in group if p != me}
                   for me in group),
               "three-way: each one sees both others' colours on the "
               "video mids of their slots", diag)
        tap.ok(all({p: v[1] for p, v in views[me][1].items()}
                   == {p: colour_of[p] for p in group if p != me}
                   for me in group),
               "three-way: each one hears both others' tones on the "
               "audio mids of their slots", diag)
        quiet = {me: unlisted_quiet(c, time.monotonic() - 1.5)
                 for me, c in group.items()}
        tap.ok(not any(quiet.values()),
               "three-way: nothing arrives on unlisted mids",
               json.dumps(quiet))

        # B leaves: the others' slots drop it and its mids go quiet; the
        # slot of the one who stays does not move.
        b_mids = {me: next(x for x in c.slots() if x["participant"] == b_id)
                  for me, c in group.items() if me != b_id}
        kept = {med_id: [x for x in med.slots() if x["participant"] == a_id],
                a_id: [x for x in a.slots() if x["participant"] == med_id]}
        await b.sig.send({"type": "leave"})
        await b.hangup()
        clients.remove(b)
        pair = {med_id: med, a_id: a}
        ok = await until(lambda: all(
            [x.get("participant") for x in c.slots() or []]
            == [p for p in pair if p != me] for me, c in pair.items()), 15)
        t_upd = time.monotonic() + 0.5
        await asyncio.sleep(2.0)
        tap.ok(ok and all(slots_valid(c, me, [p for p in pair if p != me])
                          for me, c in pair.items()),
               "three-way: when a party leaves, the others' slots list only "
               "the one who remains",
               json.dumps({me: c.slots() for me, c in pair.items()}))
        after = {me: (pair[me].mid_frames(x["video"], t_upd),
                      pair[me].mid_frames(x["audio"], t_upd))
                 for me, x in b_mids.items()}
        tap.ok(all(v <= 1 and s <= 2 for v, s in after.values()),
               "three-way: the leaver's slot stops (no video or audio on "
               "its mids)", json.dumps(after))
        views = {me: received_view(c, t_upd) for me, c in pair.items()}
        tap.ok(all(views[me] == want([p for p in pair if p != me])
                   for me in pair)
               and all([x for x in pair[me].slots()] == kept[me]
                       for me in pair),
               "three-way: the two who stay go on seeing and hearing each "
               "other on the same slot", json.dumps(views))

        # B rejoins with the same link: listed again, its media back.
        b = await admitted_party(base, lk5[1]["path"], msig)
        clients.append(b)
        await b.call(colour=PALETTE["blue"], tone=TONES["blue"], extra=4)
        t_back = time.monotonic()
        group = {med_id: med, a_id: a, b_id: b}
        await until(lambda: everyone_sees(group, t_back), 25)
        views = {me: (c.slots(), received_view(c, t_back))
                 for me, c in group.items()}
        tap.ok(all(slots_valid(c, me, [p for p in group if p != me])
                   and views[me][1] == want([p for p in group if p != me])
                   for me, c in group.items()),
               "three-way: the party rejoins: listed again, its colour and "
               "tone arrive again, and it gets both others",
               json.dumps(views, ensure_ascii=False))
        tap.ok(all([x for x in group[me].slots()
                    if x["participant"] != b_id] == kept[me]
                   for me in kept),
               "three-way: the slots of those who stayed did not move",
               json.dumps({me: group[me].slots() for me in kept}))
        # Nobody ever got their own colour, on any mid, all along (the
        # frames kept reach back to the call's start).
        own = {me: sum(1 for mid in c.by_mid for x in c.mid_colours(mid)
                       if colour_name(x) == colour_of[me])
               for me, c in group.items()}
        tap.ok(not any(own.values()),
               "three-way: nobody ever receives their own picture",
               json.dumps(own))

        # A comes back with the old offer (one video and one audio
        # m-line): one slot, one other participant, on mids 0 and 1.
        await a.hangup()
        clients.remove(a)
        a = await admitted_party(base, lk5[0]["path"], msig)
        clients.append(a)
        await a.call(colour=PALETTE["green"], tone=TONES["green"])
        t_old = time.monotonic()
        group = {med_id: med, a_id: a, b_id: b}

        def old_ok():
            slots = a.slots() or []
            if len(slots) != 1 or slots[0].get("participant") not in (
                    med_id, b_id):
                return False
            one = slots[0]["participant"]
            return (received_view(a, t_old) == want([one])
                    and all(received_view(c, t_old).get(a_id)
                            == (colour_of[a_id], colour_of[a_id])
                            for me, c in group.items() if me != a_id))
        await until(old_ok, 25)
        tap.ok(old_ok() and a.slots()[0].get("video") == "0"
               and a.slots()[0].get("audio") == "1",
               "three-way: a client with the old offer gets exactly one "
               "other's media and a slots message naming that one; the "
               "others get its media",
               json.dumps({me: (c.slots(), received_view(c, t_old))
                           for me, c in group.items()}))

        # Each participant's recordings (mediator: one; each party: one
        # per join) seal and hold its own colour and tone.
        await msig.send({"type": "record", "action": "stop"})
        for c in (a, b):
            await c.hangup()
            clients.remove(c)
        rows = []
        t = time.monotonic() + 30
        while time.monotonic() < t:
            rows = recordings_of(centre, 5)
            if len(rows) >= 5 and all(r[1] != "recording" for r in rows):
                break
            await asyncio.sleep(0.2)
        names = sorted(os.path.basename(r[2]) for r in rows)
        tap.ok(names == sorted(["%s-1" % med_id, "%s-1" % a_id,
                                "%s-2" % a_id, "%s-1" % b_id,
                                "%s-2" % b_id])
               and all(r[1] == "sealed" for r in rows),
               "three-way: a recording per participant and join, all "
               "sealed", repr(rows))
        found = {}
        for rid, state, rdir, _ in rows:
            if state != "sealed":
                continue
            final = os.path.join(rdir, "recording.mkv")
            out, _ = discover(final)
            p = subprocess.run([centre.bin, "--db", centre.db, "recording",
                                "verify", str(rid)], capture_output=True,
                               text=True, env=centre.env, timeout=60)
            who = os.path.basename(rdir).rsplit("-", 1)[0]
            found[os.path.basename(rdir)] = (
                "vp8" in out.lower() and "opus" in out.lower(),
                p.returncode == 0, colour_of.get(who), recorded_media(final))
        tap.ok(found and all(v[0] and v[1] for v in found.values()),
               "three-way: each recording has VP8 and Opus and verifies",
               repr(found))
        tap.ok(found and all(v[3][0] == v[2] and v[3][2] == v[2]
                             and v[3][1] > 5 for v in found.values()),
               "three-way: each recording holds its participant's colour "
               "and tone", repr(found))
    except (TimeoutError, asyncio.TimeoutError, RuntimeError, OSError,
            KeyError, StopIteration) as e:
        tap.ok(False, "three-way call ran through", repr(e))
    finally:
        for c in clients:
            await c.hangup()


async def expect_bye(sig, timeout=5.0):
    """The bye a socket gets (and its close), with the seconds it took."""
    t0 = time.monotonic()
    try:
        bye = await sig.expect_type("bye", timeout=timeout)
        await asyncio.wait_for(sig.closed.wait(), timeout)
    except (TimeoutError, asyncio.TimeoutError):
        return None, time.monotonic() - t0
    return bye, time.monotonic() - t0


def login_cookie(port, user, password):
    """A session cookie and its CSRF token from POST /login."""
    st, h, body = request(port, "GET", "/login")
    pre = re.search(r"medsched_login=([^;]+)", h.get("set-cookie", "")).group(1)
    import urllib.parse
    form = urllib.parse.urlencode({"username": user, "password": password,
                                   "csrf": pre, "next": "/api/v1/me"})
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "medsched_login=" + pre})
    r = conn.getresponse()
    r.read()
    st = r.status
    cookies = " ".join(r.headers.get_all("Set-Cookie") or [])
    conn.close()
    sid = re.search(r"medsched_session=([^;]+)", cookies)
    if st != 303 or not sid:
        tap.bail("login %s: %d" % (user, st))
    cookie = "medsched_session=" + sid.group(1)
    st, _, body = request(port, "GET", "/api/v1/me",
                          headers={"Cookie": cookie})
    return cookie, json_of(body)["csrf"]


async def revocations(centre, server, base):
    """Revocation reaches open sockets (booking 6): a party whose link is
    revoked gets bye revoked and its consent sent after the revocation is
    refused and not stored, while the other party stays; a console opened
    with a bearer token is closed after `medsched user revoke-tokens` in
    another process, one opened with a session cookie after sign-out, and
    a mediator's after the booking moves to another mediator."""
    port = server.port
    origin = "http://127.0.0.1:%d" % port
    lk6 = links(server, centre, 6)
    p1, p2 = wc.Party(base, lk6[0]["path"]), wc.Party(base, lk6[1]["path"])
    await p1.connect(consent=None)
    await p2.connect(consent=None)
    st, _, _ = request(port, "POST", "/api/v1/bookings/6/links/%d/revoke"
                       % lk6[0]["party_id"], token=centre.tokens["admin"])
    # sent after the revocation committed (its answer came back) and
    # before the server's periodic check could have seen it
    try:
        await p1.sig.send({"type": "consent", "given": True})
    except Exception:
        pass
    bye, took = await expect_bye(p1.sig)
    tap.ok(st == 204 and bye is not None and bye.get("reason") == "revoked",
           "a party whose link is revoked gets bye revoked and is closed",
           "revoke %d, bye %r after %.2f s" % (st, bye, took))
    tap.diag("bye revoked %.0f ms after the revocation (API)" % (took * 1000))
    rows = db_rows(centre, "SELECT given FROM consent WHERE booking_id = 6 "
                   "AND party_id = ?", lk6[0]["party_id"])
    tap.ok(rows == [], "its consent sent after the revocation is not stored",
           repr(rows))
    await asyncio.sleep(0.6)
    tap.ok(not p2.sig.closed.is_set()
           and not any(m.get("type") == "bye" for m in p2.sig.all),
           "the other party's socket stays open")
    await p2.sig.send({"type": "consent", "given": True})
    for _ in range(100):
        rows = db_rows(centre, "SELECT given FROM consent WHERE booking_id "
                       "= 6 AND party_id = ?", lk6[1]["party_id"])
        if rows:
            break
        await asyncio.sleep(0.05)
    tap.ok(rows == [(1,)], "and its consent is stored", repr(rows))
    # its link issued again (issue 12): the old one opens nothing, the
    # socket it opened is closed too
    st, _, _ = request(port, "POST", "/api/v1/bookings/6/links/%d/reissue"
                       % lk6[1]["party_id"], token=centre.tokens["admin"],
                       body={})
    bye, took = await expect_bye(p2.sig)
    tap.ok(st == 200 and bye is not None and bye.get("reason") == "revoked",
           "a party whose link is issued again gets bye revoked and is "
           "closed", "reissue %d, bye %r after %.2f s" % (st, bye, took))
    tap.ok(http_status(port, "/ws" + lk6[1]["path"]) == 404,
           "and its old link is 404 before the upgrade")
    await p1.hangup()

    # A clerk's console with a bearer token; revoke-tokens from the CLI.
    centre.cli("user", "add", "lhamo", "--role", "clerk", "--iterations",
               "1000", input="password-lhamo\n")
    tok = centre.cli("user", "token", "lhamo").strip()
    con = await wc.console(base, 6, tok, origin=origin)
    await asyncio.sleep(0.5)
    centre.cli("user", "revoke-tokens", "lhamo")
    bye, took = await expect_bye(con)
    tap.ok(bye is not None and bye.get("reason") == "revoked",
           "a console with a bearer token is closed after `user "
           "revoke-tokens` in another process", "%r after %.2f s"
           % (bye, took))
    tap.diag("bye revoked %.0f ms after revoke-tokens returned"
             % (took * 1000))
    await con.close()

    # A console opened with a session cookie: closed at sign-out.
    cookie, csrf = login_cookie(port, "clerk", "password-clerk")
    con = await wc.Signal.open("%s/ws/console/6" % base,
                               headers={"Cookie": cookie}, origin=origin)
    await con.expect_type("welcome")
    import urllib.parse
    st, _, _ = request(port, "POST", "/logout",
                       body=urllib.parse.urlencode({"csrf": csrf}),
                       ctype="application/x-www-form-urlencoded",
                       headers={"Cookie": cookie})
    bye, took = await expect_bye(con)
    tap.ok(st == 303 and bye is not None and bye.get("reason") == "revoked",
           "a console with a session cookie is closed when the session ends",
           "logout %d, %r after %.2f s" % (st, bye, took))
    await con.close()

    # The mediator's console: closed when the booking moves to another
    # mediator (the access rule), from the CLI.
    con = await wc.console(base, 6, centre.tokens["tashi"], origin=origin)
    centre.cli("reschedule", "6", "--at", "2026-12-07T15:00", "--room", "4",
               "--mediator", "2")
    bye, took = await expect_bye(con)
    tap.ok(bye is not None and bye.get("reason") == "revoked",
           "a mediator's console is closed when the session is no longer "
           "theirs", "%r after %.2f s" % (bye, took))
    await con.close()
    await p2.hangup()


async def shutdown_during_call(centre, server, base, lk):
    """SIGTERM while recording: the recorder seals, the party gets bye."""
    mediator = await wc.console(base, 1, centre.tokens["tashi"])
    party = await admitted_party(base, lk[0]["path"], mediator)
    await party.call()
    before = {r[0] for r in recordings_of(centre, 1)}
    await mediator.send({"type": "record", "action": "start"})
    await mediator.expect(lambda m: m.get("type") == "state"
                          and m.get("recording") == "recording",
                          what="recording")
    await asyncio.sleep(2)
    loop = asyncio.get_running_loop()
    stopping = loop.run_in_executor(None, server.stop)
    bye = await party.sig.expect_type("bye", timeout=30)
    rc, err = await stopping
    tap.ok(bye.get("reason") == "ended",
           "on shutdown the party gets bye ended", json.dumps(bye))
    new = [r for r in recordings_of(centre, 1) if r[0] not in before]
    tap.ok(rc == 0 and len(new) == 1 and new[0][1] == "sealed",
           "SIGTERM during a call seals its recording and exits 0",
           "rc %d %r\n%s" % (rc, new, err[-1500:]))
    await party.hangup()
    await mediator.close()
    return rc, err


async def run():
    centre, media = setup()
    server = Server(centre, "--media-dir", media)
    base = "ws://127.0.0.1:%d" % server.port
    stopped = None
    try:
        lk = links(server, centre, 1)
        await main_call(centre, server, base, lk)
        await bad_input(centre, server, base, lk)
        await after_reconnects(centre, server, base, lk)
        await regimes(centre, server, base)
        await jittered_av(centre, server, base)
        await h264_only(centre, base, lk)
        await ice_never_connects(centre, base, lk)
        await leave_and_rejoin(centre, server, base, lk)
        await three_way(centre, server, base)
        await revocations(centre, server, base)
        stopped = await shutdown_during_call(centre, server, base, lk)
    finally:
        rc, err = stopped if stopped else server.stop()
        if os.environ.get("W1_SERVER_LOG"):
            with open(os.environ["W1_SERVER_LOG"], "w") as f:
                f.write(err)
        tap.ok(rc == 0, "the server stopped cleanly", err[-2000:])
        crit = [l for l in err.splitlines() if "CRITICAL" in l]
        tap.ok(not crit, "no CRITICAL from the server", "\n".join(crit))
        with open(server.log, encoding="utf-8") as f:
            alog = f.read()
        secrets = [x["path"].split("/")[-1] for x in lk] + \
            [centre.tokens["tashi"]]
        leaked = [t for t in secrets if t in alog or t in err]
        tap.ok("/ws/join/" in alog and not leaked,
               "no link token or bearer token in the logs",
               "%d leaked" % len(leaked))
        names = [n for n in ("甲方1", "乙方1", "13800000001")
                 if n in err or n in alog]
        tap.ok(not names, "no party names or phone numbers in the logs",
               repr(names))
        centre.close()


asyncio.run(run())
tap.done()
