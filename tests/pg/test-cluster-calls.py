#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-cluster-calls.py — WebRTC calls on several `medsched serve` nodes
behind the shipped deploy/nginx-cluster.conf (TLS, the nodes' ports
rewritten), the nodes sharing one database and one media directory:

- every signalling socket of a booking reaches the node that holds its
  call: for each of 12 bookings the mediator's console
  (/ws/console/<id>) and the party's socket (the URL its join page gives,
  /ws/join/<token>?b=<id>) meet in one call — the console sees the party
  waiting — and the bookings spread over more than one node;
- a b= that is not the link's booking is refused (404) by the node;
- two calls on two nodes record into the shared media directory; the node
  of one is killed (SIGKILL) mid-recording; its participants reconnect
  through nginx, land together on another node, and the call records
  again; the recordings have distinct directories and
  `medsched recording verify` passes for each of them (from the CLI, as
  from any node).

The database here is SQLite (several processes on one machine share it);
the same nodes on PostgreSQL are tests/pg's other suites. Needs the build's
GStreamer plugin (meson sets the environment) and python3-aiortc. TAP."""

import asyncio
import html
import json
import os
import re
import signal
import ssl
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "http"))
sys.path.insert(0, os.path.join(TESTS, "webrtc"))

import websockets  # noqa: E402

import webrtcclient as wc  # noqa: E402
from httptest import Centre, Server, request, json_of  # noqa: E402
from medtest import Tap  # noqa: E402
from nginxcluster import ClusterNginx, tls_context  # noqa: E402

tap = Tap()
N_NODES = 3
N_BOOKINGS = 12


def ws_ssl():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Cluster:
    """A centre, N serve nodes on it sharing a media directory, nginx."""

    def __init__(self):
        self.centre = Centre(tap)
        self.media = os.path.join(self.centre.dir, "media")
        self.nodes = []
        for i in range(N_NODES):
            self.nodes.append(self.start_node(i))
        self.nginx = ClusterNginx(self.centre.dir)
        self.nginx.start_with([n.port for n in self.nodes])
        self.base = "wss://127.0.0.1:%d" % self.nginx.https_port

    def start_node(self, i):
        return Server(self.centre, "--media-dir", self.media,
                      access_log=self.access_log(i))

    def access_log(self, i):
        return os.path.join(self.centre.dir, "node%d-access.log" % i)

    def node_of(self, path):
        """Index of the node whose access log has the latest WebSocket
        upgrade (101) of path, or None."""
        latest = (None, "")
        for i in range(N_NODES):
            try:
                with open(self.access_log(i), encoding="utf-8") as f:
                    for line in f:
                        try:
                            e = json.loads(line)
                        except ValueError:
                            continue
                        if e.get("path") == path and e.get("status") == 101 \
                                and e.get("t", "") >= latest[1]:
                            latest = (i, e["t"])
            except OSError:
                pass
        return latest[0]

    def get(self, path, token=None):
        """(status, body) of a GET through nginx (TLS)."""
        import http.client
        conn = http.client.HTTPSConnection("127.0.0.1",
                                           self.nginx.https_port,
                                           context=tls_context(), timeout=30)
        h = {"Authorization": "Bearer " + token} if token else {}
        conn.request("GET", path, headers=h)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, body

    def close(self):
        self.nginx.stop()
        for n in self.nodes:
            if n.proc.poll() is None:
                n.stop()
        self.centre.close()


def setup_bookings(centre):
    """N_BOOKINGS bookings in the remote room, each with one remote party,
    recorded as hearings (recording starts with the first participant in
    the call, no consent asked)."""
    days, hours = (7, 8, 9, 10), (9, 10, 11)
    k = 0
    for d in days:
        for h in hours:
            k += 1
            centre.cli("case", "add", "--number", "(2026)藏0102民调%d号" % k,
                       "--kind", "wages",
                       "--party", "applicant,zh,remote,甲方%d" % k)
            centre.cli("case", "dispatch", str(k), "--department",
                       "court-mediation")
            centre.cli("book", str(k), "--at", "2026-12-%02dT%02d:00"
                       % (d, h), "--room", "4", "--mediator", "1")
            centre.cli("booking", "note", str(k), "recording: hearing")
    return list(range(1, k + 1))


def party_link(cl, booking):
    st, _, body = request(cl.nodes[0].port, "GET",
                          "/api/v1/bookings/%d/links" % booking,
                          token=cl.centre.tokens["admin"])
    if st != 200:
        tap.bail("links of %d: %d" % (booking, st))
    return json_of(body)[0]


def ws_url_of_page(cl, link):
    """The signalling URL the party's join page gives its script."""
    st, body = cl.get(link["path"])
    m = re.search(rb'data-ws="([^"]+)"', body)
    if st != 200 or not m:
        return None
    return html.unescape(m.group(1).decode())


class Party(wc.Party):
    """webrtcclient's party over wss:// through nginx, at a given URL."""

    def __init__(self, url):
        super().__init__("", "")
        self.url = url

    async def connect(self, consent=None):
        ws = await websockets.connect(self.url, ssl=ws_ssl(),
                                      max_size=2 ** 22, open_timeout=10)
        self.sig = wc.Signal(ws)
        self.welcome = await self.sig.expect_type("welcome")
        if consent is not None:
            await self.sig.send({"type": "consent", "given": consent})
        await self.sig.send({"type": "ready"})
        return self.welcome


async def console(cl, booking):
    ws = await websockets.connect(
        "%s/ws/console/%d" % (cl.base, booking), ssl=ws_ssl(),
        extra_headers={"Authorization": "Bearer "
                       + cl.centre.tokens["tashi"]},
        max_size=2 ** 22, open_timeout=10)
    sig = wc.Signal(ws)
    sig.welcome = await sig.expect_type("welcome")
    return sig


async def meet(cl, booking, url):
    """Console and party of booking connect through nginx; returns (console,
    party) once the console sees the party waiting (one call, one node)."""
    con = await console(cl, booking)
    party = Party(url)
    w = await party.connect()
    await con.expect(lambda m: m.get("type") == "state"
                     and any(p["id"] == w["you"] for p in m["participants"]),
                     timeout=10, what="the party in the console's call")
    return con, party


async def status_of_upgrade(url):
    """The HTTP status a WebSocket upgrade to url gets (101 when it
    opens)."""
    try:
        ws = await websockets.connect(url, ssl=ws_ssl() if url.startswith(
            "wss") else None, open_timeout=10)
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code
    await ws.close()
    return 101


async def routing(cl, bookings, urls):
    where = {}
    for b in bookings:
        try:
            con, party = await meet(cl, b, urls[b])
        except (TimeoutError, OSError,
                websockets.exceptions.WebSocketException) as e:
            tap.ok(False, "booking %d: console and party meet in one call"
                   % b, str(e))
            continue
        where[b] = cl.node_of("/ws/console/%d" % b)
        await party.hangup()
        await con.close()
    tap.ok(len(where) == len(bookings),
           "each of %d bookings: the console and the party's socket "
           "(its join page's URL) meet in one call" % len(bookings))
    spread = {i: sorted(b for b in where if where[b] == i)
              for i in range(N_NODES)}
    tap.diag("bookings per node: %s" % spread)
    tap.ok(len({n for n in where.values() if n is not None}) >= 2,
           "the bookings' calls spread over more than one node")
    return where


async def wrong_booking(cl, bookings, urls):
    b, other = bookings[0], bookings[1]
    url = urls[b]
    token_url = url.split("?", 1)[0]
    node = cl.nodes[0].port
    direct = "ws://127.0.0.1:%d%s" % (node, token_url[token_url.index(
        "/ws/"):])
    tap.ok(await status_of_upgrade(direct + "?b=%d" % other) == 404,
           "a party socket naming another booking (b=) is refused: 404")
    tap.ok(await status_of_upgrade(direct + "?b=x1") == 404,
           "a party socket with a malformed b= is refused: 404")
    tap.ok(await status_of_upgrade(cl.base + token_url[token_url.index(
        "/ws/"):] + "?b=%d" % other) == 404,
        "… through nginx too")
    tap.ok(await status_of_upgrade(direct + "?b=%d" % b) == 101
           and await status_of_upgrade(direct) == 101,
           "the link's own booking, or no b= at all, opens the socket")


def recordings(cl, booking):
    con = __import__("sqlite3").connect("file:%s?mode=ro" % cl.centre.db,
                                        uri=True, timeout=30)
    try:
        return con.execute("SELECT id, state, dir FROM recording "
                           "WHERE booking_id = ? ORDER BY id",
                           (booking,)).fetchall()
    finally:
        con.close()


async def recording_call(cl, booking, url):
    """A call with the party's media, recording (hearing regime)."""
    con, party = await meet(cl, booking, url)
    await con.send({"type": "admit", "participant": party.welcome["you"]})
    await party.sig.expect_type("admitted")
    await party.call()
    await con.expect(lambda m: m.get("type") == "state"
                     and m.get("recording") == "recording", timeout=20,
                     what="recording")
    return con, party


async def shared_media(cl, where, urls):
    by_node = {}
    for b, n in sorted(where.items()):
        by_node.setdefault(n, b)
    if len(by_node) < 2:
        tap.ok(False, "two bookings on two nodes for the recording part")
        return
    (na, ba), (nb, bb) = list(by_node.items())[:2]
    try:
        a_con, a_party = await recording_call(cl, ba, urls[ba])
        b_con, b_party = await recording_call(cl, bb, urls[bb])
    except (TimeoutError, OSError, RuntimeError,
            websockets.exceptions.WebSocketException) as e:
        tap.ok(False, "two recorded calls on two nodes", str(e))
        return
    tap.ok(True, "booking %d records on node %d, booking %d on node %d, "
           "into one media directory" % (ba, na, bb, nb))
    # past the first 10 s segment: the dead node leaves a finished one
    await asyncio.sleep(12)

    # node na dies mid-recording; its participants come back through nginx
    cl.nodes[na].proc.send_signal(signal.SIGKILL)
    cl.nodes[na].proc.wait()
    await a_party.hangup()
    await a_con.close()
    t0 = time.monotonic()
    try:
        a_con, a_party = await recording_call(cl, ba, urls[ba])
        moved = cl.node_of("/ws/console/%d" % ba)
        tap.ok(moved is not None and moved != na,
               "after SIGKILL to node %d, booking %d's console and party "
               "meet again on node %s and it records again (%.1f s)"
               % (na, ba, moved, time.monotonic() - t0))
    except (TimeoutError, OSError, RuntimeError,
            websockets.exceptions.WebSocketException) as e:
        tap.ok(False, "booking %d's call forms again on another node" % ba,
               str(e))
        a_con = a_party = None
    await asyncio.sleep(3)
    for con in (a_con, b_con):
        if con is not None:
            await con.send({"type": "record", "action": "stop"})
    deadline = time.monotonic() + 40
    rows = []
    while time.monotonic() < deadline:
        rows = recordings(cl, ba) + recordings(cl, bb)
        # the dead node's recording stays "recording" (nobody sealed it)
        live = [r for r in rows if r[1] == "recording"]
        if len(live) <= 1:
            break
        await asyncio.sleep(0.3)
    for p in (a_party, b_party):
        if p is not None:
            await p.hangup()
    for con in (a_con, b_con):
        if con is not None:
            await con.close()
    dirs = [r[2] for r in rows]
    tap.ok(len(rows) >= 3 and len(set(dirs)) == len(dirs),
           "three recordings (two of booking %d, one per node) with "
           "distinct directories" % ba, repr(rows))
    media = os.path.realpath(cl.media)
    tap.ok(all(os.path.realpath(d).startswith(media + os.sep) for d in dirs),
           "all of them in the shared media directory", repr(dirs))
    sealed = [r for r in rows if r[1] == "sealed"]
    tap.ok(len(sealed) >= 2, "the two calls still running seal their "
           "recordings", repr(rows))
    for rid, state, _ in rows:
        out = cl.centre.cli("--actor", "test", "recording", "verify",
                            str(rid), check=False)
        m = re.match(r"ok: (\d+) segments", out)
        tap.ok(m and int(m.group(1)) >= 1,
               "recording verify %d (%s) from the CLI: %s"
               % (rid, state, out.strip()))


async def main_async(cl):
    bookings = setup_bookings(cl.centre)
    urls = {}
    for b in bookings:
        page_url = ws_url_of_page(cl, party_link(cl, b))
        urls[b] = cl.base + page_url if page_url else None
    tap.ok(all(u and u.endswith("?b=%d" % b) for b, u in urls.items()),
           "each join page gives its script /ws/join/<token>?b=<booking>")
    where = await routing(cl, bookings, urls)
    await wrong_booking(cl, bookings, urls)
    await shared_media(cl, where, urls)


def main():
    cl = Cluster()
    try:
        asyncio.run(main_async(cl))
    finally:
        cl.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
