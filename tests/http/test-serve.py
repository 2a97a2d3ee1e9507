#!/usr/bin/env python3
"""test-serve.py — `medsched serve` as a process: it starts on loopback,
answers health and API calls with CLI-made tokens, refuses a bad config,
and on SIGTERM stops accepting, lets the request in flight finish
(Connection: close), closes the store and exits 0; the store then passes
`medsched check` and `audit verify`. TAP."""

import os
import signal
import socket
import sys
import time

from httptest import Centre, Server, Tap, json_of, request, wait_for


def main():
    tap = Tap()
    centre = Centre(tap, n_cases=2)
    try:
        run(tap, centre)
    finally:
        centre.close()
    return tap.done()


def run(tap, centre):
    # CLI side of users and feed links
    listing = centre.cli("user", "list", "--json")
    users = json_of(listing.encode())
    tap.ok([u["role"] for u in users] == ["admin", "clerk", "mediator"],
           "user list shows the roles")
    tap.ok("password" not in listing and "pbkdf2" not in listing,
           "user list never shows password hashes")
    p = centre.cli("user", "add", "x y", "--role", "clerk", input="pw123456\n",
                   check=False)
    tap.ok(p == "", "a user name with a space is refused")
    link = centre.cli("feed-link", "room", "1").strip()
    tap.ok("/feeds/" in link and link.endswith(".ics"), "feed-link prints "
           "the link once")
    token = link.rsplit("/feeds/", 1)[1][:-4]

    # a bad config file fails before listening
    bad = os.path.join(centre.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write("[server]\nlisten=127.0.0.1:0\nsurprise=1\n")
    p = os.popen("'%s' --db '%s' serve --config '%s' 2>&1; echo rc=$?"
                 % (centre.bin, centre.db, bad)).read()
    tap.ok("unknown key surprise" in p and "rc=1" in p,
           "an unknown config key is an error", p)
    good = os.path.join(centre.dir, "good.conf")
    with open(good, "w") as f:
        f.write("[server]\nlisten=127.0.0.1:0\nrequest-timeout=20\n"
                "shutdown-grace=10\n")

    srv = Server(centre, "--config", good)
    port = srv.port
    st, h, body = request(port, "GET", "/healthz")
    tap.ok(st == 200 and json_of(body) == {"status": "ok"}, "GET /healthz")
    st, h, body = request(port, "GET", "/api/v1/cases",
                          token=centre.tokens["clerk"])
    tap.ok(st == 200 and len(json_of(body)) == 2, "the clerk's CLI token "
           "works on the API")
    st, h, body = request(port, "GET", "/feeds/%s.ics" % token)
    tap.ok(st == 200 and body.startswith(b"BEGIN:VCALENDAR"),
           "the CLI's feed link serves the room feed")
    tap.ok(h.get("etag", "").startswith('"') and len(h["etag"]) == 66,
           "the feed has a strong SHA-256 ETag")
    st, h, body = request(port, "GET", "/feeds/%s.ics" % token,
                          headers={"If-None-Match": h.get("etag", "")})
    tap.ok(st == 304, "If-None-Match gives 304")

    # another writer holds the database: 503 with Retry-After, not a hang
    import sqlite3
    db = sqlite3.connect(centre.db, timeout=1, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    st, h, body = request(port, "POST", "/api/v1/cases/2/status",
                          token=centre.tokens["clerk"],
                          body={"status": "withdrawn"})
    db.execute("ROLLBACK")
    db.close()
    tap.ok(st == 503 and h.get("retry-after") == "1"
           and json_of(body)["error"]["code"] == "busy",
           "a locked database answers 503 busy", (st, body))

    # a request in flight when SIGTERM comes: headers and half the body
    s = socket.create_connection(("127.0.0.1", port))
    body = b'{"department":"court-mediation"}'
    head = ("POST /api/v1/cases/1/status HTTP/1.1\r\nHost: x\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (centre.tokens["clerk"],
                                            len(b'{"status":"withdrawn"}')))
    s.sendall(head.encode() + b'{"status":')
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    refused = False
    try:
        c2 = socket.create_connection(("127.0.0.1", port), timeout=2)
        c2.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        refused = c2.recv(100) == b""
        c2.close()
    except OSError:
        refused = True
    tap.ok(refused, "after SIGTERM new connections are refused")
    s.sendall(b'"withdrawn"}')
    s.settimeout(10)
    reply = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            reply += b
    except socket.timeout:
        pass
    s.close()
    tap.ok(reply.startswith(b"HTTP/1.1 200"), "the request in flight was "
           "answered", reply[:200])
    tap.ok(b"Connection: close" in reply, "with Connection: close")
    rc, err = srv.stop(timeout=20)
    tap.ok(rc == 0, "serve exits 0 after SIGTERM", "rc %s: %s" % (rc, err))
    tap.ok("stopped" in err and "CRITICAL" not in err and "WARNING" not in err,
           "a clean stop", err)
    tap.ok("withdrawn" in centre.cli("case", "show", "1"),
           "the change made in flight was committed")
    tap.ok("database ok" in centre.cli("check"), "medsched check passes")
    tap.ok("intact" in centre.cli("audit", "verify"), "the audit chain holds")
    with open(srv.log, encoding="utf-8") as f:
        log = f.read()
    tap.ok(token not in log and centre.tokens["clerk"] not in log,
           "no token in the access log")
    tap.ok("甲0" not in log and "1380000" not in log,
           "no party names or phone numbers in the access log")


if __name__ == "__main__":
    sys.exit(main())
