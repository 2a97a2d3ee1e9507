#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-nginx.py — medsched as deployed: Debian's nginx with
deploy/nginx.conf (its ports, certificate paths and upstream rewritten to a
temporary directory and free loopback ports, TLS with a self-signed
certificate made here) in front of `medsched serve --trust-proxy`.

Shows that requests flow through it (health, an API call with a bearer
token, the HTTP→HTTPS redirect) and that nginx answers ambiguous framing
itself with 400 — two Content-Length headers, Content-Length together
with Transfer-Encoding: chunked — without forwarding it (medsched's access
log never sees those requests), and refuses bodies over
client_max_body_size with 413; that WebSocket upgrades pass /ws/ (a
made-up join link is 404 from medsched, a mediator console with a bearer
token gets 101 and its `welcome` frame). Redirects keep the public scheme
and port and ignore a forged Host header (medsched's, built from its
public-url; nginx's own, relative or to server_name), and nginx's access
log (the shipped redacting format) holds no capability token while
showing the redacted paths. nginx runs in the foreground as root with
-p/-c, its pid file and logs in the temporary directory (kept with the
test's logs, see httptest.py). TAP."""

import json
import os
import sqlite3
import socket
import sys
import time

from httptest import Centre, Server, Tap, raw_exchange, ws_handshake
from nginxtest import NGINX, Nginx, tls_socket

def https(port, method, path, token=None, body=None, extra=""):
    s = tls_socket(port)
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (
        method, path)
    if token:
        head += "Authorization: Bearer %s\r\n" % token
    data = b""
    if body is not None:
        data = body.encode()
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % (
            len(data))
    reply = raw_exchange(s, (head + extra + "\r\n").encode() + data)
    s.close()
    return reply


def ws_upgrade(port, path, token=None):
    """A WebSocket handshake over TLS through nginx: (status, first text
    frame's payload or None)."""
    return ws_handshake(tls_socket(port), path, token=token)


def status_of(reply):
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def main():
    tap = Tap()
    if not os.path.exists(NGINX):
        tap.bail("nginx is not installed (scripts/deps installs it)")
    centre = Centre(tap, n_cases=1)
    srv = nginx = None
    try:
        # A remote session for the WebSocket checks (room 4 is remote).
        centre.cli("case", "add", "--number", "(2026)藏0102民调9号", "--kind",
                   "wages", "--party", "applicant,zh,remote,甲方,13800000001")
        centre.cli("case", "dispatch", "2", "--department", "court-mediation")
        centre.cli("book", "2", "--at", "2026-12-07T09:00", "--room", "4",
                   "--mediator", "1")
        nginx = Nginx(centre.dir)
        https_port, http_port = nginx.https_port, nginx.http_port
        srv = Server(centre, "--trust-proxy", "--secure-cookies",
                     "--media-dir", os.path.join(centre.dir, "media"),
                     "--public-url", "https://127.0.0.1:%d" % https_port)
        nginx.configure(srv.port, worker_connections=256)
        ok, err = nginx.check()
        tap.ok(ok, "nginx -t accepts deploy/nginx.conf", err)
        try:
            nginx.start()
        except RuntimeError as e:
            tap.bail(str(e))
        run(tap, centre, srv, https_port, http_port)
    finally:
        if nginx is not None:
            nginx.stop()
        if srv is not None:
            srv.stop()
        centre.close()
    return tap.done()


def run(tap, centre, srv, port, http_port):
    r = https(port, "GET", "/healthz")
    tap.ok(status_of(r) == 200 and b'"status":"ok"' in r,
           "GET /healthz through nginx (TLS)", r[:300])
    tap.ok(b"Strict-Transport-Security" in r, "nginx adds HSTS")
    tap.ok(b"X-Content-Type-Options: nosniff" in r,
           "medsched's security headers pass through")
    r = https(port, "GET", "/api/v1/cases", token=centre.tokens["clerk"])
    tap.ok(status_of(r) == 200 and b"R-00000" in r,
           "an API call with a bearer token through nginx", r[:300])
    r = https(port, "GET", "/api/v1/cases")
    tap.ok(status_of(r) == 401, "without a token: 401 through nginx")
    s = socket.create_connection(("127.0.0.1", http_port), timeout=5)
    r = raw_exchange(s, b"GET /board HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Connection: close\r\n\r\n")
    s.close()
    tap.ok(status_of(r) == 301 and b"https://" in r,
           "plain HTTP is redirected to HTTPS", r[:200])
    # the login page's cookie is Secure behind TLS
    r = https(port, "GET", "/login")
    tap.ok(b"Secure" in r and b"HttpOnly" in r and b"SameSite=Strict" in r,
           "cookies are Secure, HttpOnly, SameSite=Strict", r[:800])

    # ambiguous framing, over a raw TLS socket
    tok = centre.tokens["clerk"]
    probes = {
        "/api/v1/probe-duplicate-cl": (
            "POST /api/v1/probe-duplicate-cl HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" % tok),
        "/api/v1/probe-cl-chunked": (
            "POST /api/v1/probe-cl-chunked HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
            "2\r\n{}\r\n0\r\n\r\n" % tok),
        "/api/v1/probe-bad-chunk": (
            "POST /api/v1/probe-bad-chunk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" % tok),
    }
    for path, raw in probes.items():
        s = tls_socket(port)
        r = raw_exchange(s, raw.encode())
        s.close()
        tap.ok(status_of(r) == 400, "nginx answers %s with 400" % path,
               r[:300])
    time.sleep(0.3)
    with open(srv.log, encoding="utf-8") as f:
        log = f.read()
    for path in probes:
        tap.ok(path not in log, "%s was not forwarded to medsched" % path,
               "\n".join(l for l in log.splitlines() if path in l))

    # bodies over client_max_body_size
    big = '{"name":"%s","kind":"warm"}' % ("x" * (2 * 1024 * 1024))
    r = https(port, "POST", "/api/v1/rooms", token=tok, body=big)
    tap.ok(status_of(r) == 413, "nginx refuses a 2 MiB body with 413")
    tap.ok("/api/v1/rooms" not in log, "and never forwards it")

    # WebSocket upgrades through nginx's location /ws/
    st, _ = ws_upgrade(port, "/ws/join/" + "x" * 43)
    tap.ok(st == 404, "a made-up join link is 404 through nginx",
           "status %d" % st)
    db = sqlite3.connect(centre.db)
    booking = db.execute("SELECT max(id) FROM booking").fetchone()[0]
    db.close()
    st, frame = ws_upgrade(port, "/ws/console/%d" % booking,
                           token=centre.tokens["tashi"])
    welcome = None
    try:
        welcome = json.loads(frame) if frame else None
    except ValueError:
        pass
    tap.ok(st == 101 and isinstance(welcome, dict)
           and welcome.get("type") == "welcome"
           and welcome.get("booking") == booking,
           "a console upgrade with a bearer token gets 101 and welcome "
           "through nginx", "status %d, frame %r" % (st, frame))

    # the client address medsched sees is the real one (X-Real-IP)
    tap.ok('"peer":"127.0.0.1"' in log, "medsched logged the proxied "
           "requests")
    tap.ok(tok not in log, "no token in medsched's access log")

    # Redirects: scheme and port of the public URL, never a forged Host.
    evil = "Host: evil.example:666\r\n"
    s = tls_socket(port)
    r = raw_exchange(s, ("GET /board HTTP/1.1\r\n%sConnection: close\r\n"
                         "\r\n" % evil).encode())
    s.close()
    want = b"Location: https://127.0.0.1:%d/login?next=/board\r\n" % port
    tap.ok(status_of(r) == 303 and want in r and b"evil" not in r,
           "medsched's redirect through nginx keeps https and the port and "
           "ignores a forged Host", r[:400])
    s = tls_socket(port)
    r = raw_exchange(s, ("GET /ws HTTP/1.1\r\n%sConnection: close\r\n\r\n"
                         % evil).encode())
    s.close()
    tap.ok(status_of(r) in (301, 302) and b"Location: /ws/\r\n" in r
           and b"evil" not in r,
           "nginx's own redirect (/ws → /ws/) is relative", r[:400])
    s = socket.create_connection(("127.0.0.1", http_port), timeout=5)
    r = raw_exchange(s, ("GET /board HTTP/1.1\r\n%sConnection: close\r\n"
                         "\r\n" % evil).encode())
    s.close()
    tap.ok(status_of(r) == 301
           and b"Location: https://mediation.example.org/board" in r
           and b"evil" not in r,
           "HTTP → HTTPS goes to server_name, not to the client's Host",
           r[:400])

    # Capabilities in URLs never reach nginx's access log (made-up ones of
    # the real shapes: 22-character join tokens, 43-character feed tokens).
    join_tok = "Zq3xTbW9kLmN0pQrStUv1w"
    feed_tok = "Fd8sKq2LmN4pQr6StUv8Wx0Yz1Ab3Cd5Ef7Gh9Ij2Kl"
    # any path segment shaped like a secret (nginx's generic rule; not a
    # route of medsched, whose own log redacts its capability routes)
    other_tok = "Ot5rHeRsEcReT0fSiXtEeNpLuS"
    for path in ("/join/" + join_tok, "/feeds/%s.ics" % feed_tok,
                 "/cases/1?msg=feed&feed=" + feed_tok,
                 "/login?next=/join/" + join_tok,
                 "/static/%s/x.js" % other_tok):
        https(port, "GET", path)
    ws_upgrade(port, "/ws/join/" + join_tok)
    time.sleep(0.5)
    ngx_log = os.path.join(centre.dir, "nginx-medsched-access.log")
    try:
        with open(ngx_log, encoding="utf-8") as f:
            nlog = f.read()
    except OSError as e:
        nlog = ""
        tap.diag("no nginx access log: %s" % e)
    lines = nlog.splitlines()
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pass
    tap.ok(lines and len(parsed) == len(lines),
           "nginx's access log is one JSON object per line",
           "%d of %d lines parse" % (len(parsed), len(lines)))
    paths = {(e.get("path"), e.get("query")) for e in parsed}
    tap.ok(("/join/…", "") in paths and ("/feeds/….ics", "") in paths
           and ("/ws/join/…", "") in paths and ("/cases/1", "?…") in paths
           and ("/login", "?…") in paths and ("/static/…", "") in paths,
           "it logs capability paths redacted", repr(sorted(paths))[:800])
    leaked = [t for t in (join_tok, feed_tok, other_tok, tok) if t in nlog]
    tap.ok(nlog and not leaked, "and holds no token", repr(leaked))
    with open(srv.log, encoding="utf-8") as f:
        log = f.read()
    tap.ok(join_tok not in log and feed_tok not in log,
           "nor does medsched's access log")


if __name__ == "__main__":
    sys.exit(main())
