#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-serve.py — `medsched serve` as a process: it starts on loopback,
answers health and API calls with CLI-made tokens, refuses a bad config,
and on SIGTERM stops accepting, lets the request in flight finish
(Connection: close), closes the store and exits 0; the store then passes
`medsched check` and `audit verify`.

Mail: serve delivers the outbox by itself through a recording MTA (a
script that files each message it gets): an invite booked through the API
arrives with no `outbox flush`; a failing MTA leaves a counted attempt and
a back-off in the outbox, and the message goes out at the next try; a stop
waits for a short MTA run and gives a long one's message back to the
queue; serve and a CLI `outbox flush` delivering at the same time hand
each message over once; serve's log names no party, phone number or
address, and carries the audit anchor. TAP."""

import email
import email.policy
import hashlib
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time

from httptest import (SOURCE_ROOT, Centre, Server, Tap, json_of, request,
                      wait_for)


def main():
    tap = Tap()
    centre = Centre(tap, n_cases=2)
    try:
        run(tap, centre)
    finally:
        centre.close()
    centre = Centre(tap, n_cases=24)
    try:
        run_mail(tap, centre)
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


# A recording MTA: files each message it gets on stdin as msg-*.eml in its
# directory, with the pid of the process that ran it (serve or the CLI) in
# msg-*.by. Flag files in the directory change its behaviour: "fail" (exit
# 75 as an MTA does when the relay is down), "slow" (wait that many tenths
# of a second first), "meet" (wait until two different processes have run
# it, so that two deliverers are surely at work at the same time).
RECORDING_MTA = """#!/bin/sh
dir=%s
if [ -f "$dir/fail" ]; then
  cat >/dev/null
  echo "smtp.example.cn: connection refused" >&2
  exit 75
fi
if [ -f "$dir/slow" ]; then
  i=0
  while [ $i -lt "$(cat "$dir/slow")" ]; do sleep 0.1; i=$((i + 1)); done
fi
if [ -f "$dir/meet" ]; then
  touch "$dir/ran-$PPID"
  i=0
  while [ "$(ls "$dir" | grep -c '^ran-')" -lt 2 ] && [ $i -lt 300 ]; do
    sleep 0.1; i=$((i + 1))
  done
fi
f=$(mktemp "$dir/tmp-XXXXXX")
cat >"$f"
echo "$PPID" >"$f.by"
mv "$f.by" "${f%%/tmp-*}/msg-${f##*/tmp-}.by"
mv "$f" "${f%%/tmp-*}/msg-${f##*/tmp-}.eml"
"""


def recorded(maildir):
    """{name: (message bytes, pid)} of what the recording MTA got."""
    out = {}
    for n in sorted(os.listdir(maildir)):
        if n.startswith("msg-") and n.endswith(".eml"):
            with open(os.path.join(maildir, n), "rb") as f:
                body = f.read()
            try:
                with open(os.path.join(maildir, n[:-4] + ".by")) as f:
                    pid = int(f.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            out[n] = (body, pid)
    return out


def calendar_of(message):
    """The text/calendar part of an iMIP message, folds joined."""
    msg = email.message_from_bytes(message, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            text = part.get_payload(decode=True).decode("utf-8", "replace")
            return text.replace("\r\n ", "").replace("\r\n", "\n")
    return ""


def outbox(centre):
    """The e-mail outbox (the parties' SMS are tests/http/test-sms.py's)."""
    return [m for m in json_of(centre.cli("outbox", "list",
                                          "--json").encode()) or []
            if m.get("channel", "mail") == "mail"]


def ledger(centre):
    con = sqlite3.connect("file:%s?mode=ro" % centre.db, uri=True)
    try:
        return con.execute("SELECT outbox_id, sha256 FROM outbox_ledger "
                           "ORDER BY id").fetchall()
    finally:
        con.close()


def flag(maildir, name, value=None):
    path = os.path.join(maildir, name)
    if value is None:
        if os.path.exists(path):
            os.unlink(path)
    else:
        with open(path, "w") as f:
            f.write(str(value))


def mail_server(centre, conf, now):
    centre.env["MEDSCHED_NOW"] = now
    return Server(centre, "--config", conf)


def run_mail(tap, centre):
    maildir = os.path.join(centre.dir, "mail")
    os.mkdir(maildir)
    mta = os.path.join(centre.dir, "recording-mta")
    with open(mta, "w") as f:
        f.write(RECORDING_MTA % maildir)
    os.chmod(mta, os.stat(mta).st_mode | stat.S_IXUSR)
    centre.cli("mediator", "email", "1", "tashi@example.cn")
    centre.cli("mediator", "email", "2", "wang@example.cn")
    conf = os.path.join(centre.dir, "mail.conf")
    with open(conf, "w") as f:
        f.write("[server]\nlisten=127.0.0.1:0\nshutdown-grace=3\n"
                "[mail]\nsendmail=%s -t -i\ninterval=1\nmax-attempts=4\n"
                % mta)
    bad = os.path.join(centre.dir, "bad-mail.conf")
    with open(bad, "w") as f:
        f.write("[server]\nlisten=127.0.0.1:0\n[mail]\ninterval=0\n")
    p = subprocess.run([centre.bin, "--db", centre.db, "serve", "--config",
                        bad], capture_output=True, text=True, env=centre.env,
                       timeout=60)
    tap.ok(p.returncode != 0 and "interval" in p.stderr,
           "a bad [mail] interval is refused before serving", p.stderr)
    # the shipped deploy/serve.conf (its listen and database lines
    # rewritten) is accepted, [mail] included
    shipped = os.path.join(SOURCE_ROOT, "deploy", "serve.conf")
    with open(shipped) as f:
        text = f.read()
    text = text.replace("listen=127.0.0.1:8080", "listen=127.0.0.1:0")
    text = text.replace("database=/var/lib/medsched/medsched.db",
                        "database=" + centre.db)
    mine = os.path.join(centre.dir, "shipped.conf")
    with open(mine, "w") as f:
        f.write(text)
    tap.ok("[mail]" in text and "127.0.0.1:0" in text and centre.db in text,
           "deploy/serve.conf has a [mail] group")
    srv = Server(centre, "--config", mine)
    rc, err = srv.stop(timeout=30)
    tap.ok(rc == 0 and "unknown" not in err, "serve runs with it", err)
    logs = []

    # booked through the API: the invite arrives with no outbox flush
    srv = mail_server(centre, conf, "2026-12-07T08:00")
    st, h, body = request(srv.port, "POST", "/api/v1/bookings",
                          token=centre.tokens["clerk"], body={"case_id": 1})
    booking = (json_of(body) or {}).get("booking", {})
    tap.ok(st == 201 and booking.get("id"), "a booking through the API",
           body)
    tap.ok(wait_for(lambda: recorded(maildir), 30),
           "serve hands the invite to the MTA by itself")
    got = recorded(maildir)
    msgs = [x for x in outbox(centre) if x["booking_id"] == booking.get("id")]
    tap.ok(len(got) == 1 and len(msgs) == 1 and msgs[0]["state"] == "sent"
           and msgs[0]["attempts"] == 1,
           "one message, marked sent after one attempt",
           json.dumps(msgs, ensure_ascii=False))
    body0, pid0 = next(iter(got.values()), (b"", 0))
    cal = calendar_of(body0)
    tap.ok(pid0 == srv.proc.pid and "METHOD:REQUEST" in cal
           and "UID:%s" % booking.get("uid", "?") in cal,
           "it is the booking's iMIP REQUEST, run by serve",
           repr(booking) + cal)
    tap.ok([r[1] for r in ledger(centre)]
           == [hashlib.sha256(body0).hexdigest()],
           "the ledger holds the SHA-256 of what the MTA got")

    # a failing MTA: an attempt counted, the back-off visible in the outbox
    flag(maildir, "fail", 1)
    st, h, body = request(srv.port, "POST", "/api/v1/bookings",
                          token=centre.tokens["clerk"], body={"case_id": 2})
    b2 = (json_of(body) or {}).get("booking", {}).get("id")
    tap.ok(st == 201, "a second booking", body)

    def failed_once():
        m = [x for x in outbox(centre) if x["booking_id"] == b2]
        return m and m[0]["attempts"] == 1 and m
    tap.ok(wait_for(failed_once, 30), "serve tried the failing MTA")
    m = (failed_once() or [{}])[0]
    tap.ok(m.get("state") == "pending"
           and "connection refused" in m.get("last_error", "")
           and m.get("next_attempt_at") == "2026-12-07 08:01",
           "the message stays pending with the MTA's error and its next "
           "attempt a minute later", json.dumps(m, ensure_ascii=False))
    time.sleep(1.5)  # two more ticks of serve: not due yet, not tried again
    m2 = [x for x in outbox(centre) if x["booking_id"] == b2]
    tap.ok(m2 and m2[0]["attempts"] == 1, "nothing is retried within the "
           "back-off", json.dumps(m2, ensure_ascii=False))
    rc, err = srv.stop(timeout=30)
    logs.append(err)
    tap.ok(rc == 0, "serve stops", err)

    # a minute later (a new serve on a later clock), the MTA works again
    flag(maildir, "fail")
    srv = mail_server(centre, conf, "2026-12-07T08:02")
    tap.ok(wait_for(lambda: len(recorded(maildir)) == 2, 30),
           "the retry goes out once due")
    m3 = [x for x in outbox(centre) if x["booking_id"] == b2]
    tap.ok(m3 and m3[0]["state"] == "sent" and m3[0]["attempts"] == 2,
           "sent at the second attempt", json.dumps(m3, ensure_ascii=False))

    # stopping while the MTA works: a short run is waited for ...
    flag(maildir, "slow", 10)
    st, h, body = request(srv.port, "POST", "/api/v1/bookings",
                          token=centre.tokens["clerk"], body={"case_id": 3})
    b3 = (json_of(body) or {}).get("booking", {}).get("id")
    tap.ok(wait_for(lambda: os.path.exists(os.path.join(maildir, "slow"))
                    and any(x["booking_id"] == b3 and x["next_attempt_at"]
                            != "2026-12-07 08:02" for x in outbox(centre)),
                    30), "serve claimed the third invite")
    rc, err = srv.stop(timeout=30)
    logs.append(err)
    m4 = [x for x in outbox(centre) if x["booking_id"] == b3]
    tap.ok(rc == 0 and m4 and m4[0]["state"] == "sent"
           and len(recorded(maildir)) == 3,
           "a stop waits for an MTA that finishes within shutdown-grace",
           err + json.dumps(m4, ensure_ascii=False))

    # ... a long one is ended and its message given back, due at once
    flag(maildir, "slow", 600)
    srv = mail_server(centre, conf, "2026-12-07T08:03")
    st, h, body = request(srv.port, "POST", "/api/v1/bookings",
                          token=centre.tokens["clerk"], body={"case_id": 4})
    b4 = (json_of(body) or {}).get("booking", {}).get("id")
    tap.ok(wait_for(lambda: any(x["booking_id"] == b4
                                and x["next_attempt_at"] != "2026-12-07 08:03"
                                for x in outbox(centre)), 30),
           "serve claimed the fourth invite")
    rc, err = srv.stop(timeout=60)
    logs.append(err)
    m5 = [x for x in outbox(centre) if x["booking_id"] == b4]
    tap.ok(rc == 0 and m5 and m5[0]["state"] == "pending"
           and m5[0]["attempts"] == 0
           and m5[0]["next_attempt_at"] == "2026-12-07 08:03"
           and "queued again" in err and len(recorded(maildir)) == 3,
           "a stop after shutdown-grace ends the MTA and queues the message "
           "again, no attempt counted", err + json.dumps(m5,
                                                         ensure_ascii=False))
    flag(maildir, "slow")

    # serve and a CLI flush delivering at the same time: each message once
    for i in range(4, 24):
        centre.cli("book", "R-%05d" % i)
    pending = [x for x in outbox(centre) if x["state"] == "pending"]
    flag(maildir, "meet", 1)
    before = set(recorded(maildir))
    srv = mail_server(centre, conf, "2026-12-07T08:04")
    flush = subprocess.run([centre.bin, "--db", centre.db, "outbox", "flush",
                            "--sendmail", mta], capture_output=True, text=True,
                           env=centre.env, timeout=120)
    tap.ok(flush.returncode == 0, "the CLI flush succeeds next to serve",
           flush.stdout + flush.stderr)
    tap.ok(wait_for(lambda: not [x for x in outbox(centre)
                                 if x["state"] == "pending"], 60),
           "every message went out")
    rc, err = srv.stop(timeout=30)
    logs.append(err)
    new = {k: v for k, v in recorded(maildir).items() if k not in before}
    bodies = [v[0] for v in new.values()]
    by = {v[1] for v in new.values()}
    sent = [x for x in outbox(centre) if x["id"] in {p["id"] for p in pending}]
    tap.ok(len(pending) >= 20 and len(bodies) == len(pending)
           and len(set(bodies)) == len(bodies)
           and all(x["state"] == "sent" and x["attempts"] == 1 for x in sent),
           "%d messages, each handed over exactly once" % len(pending),
           "%d pending, %d recorded, %d distinct" % (
               len(pending), len(bodies), len(set(bodies))))
    tap.ok(srv.proc.pid in by and len(by) == 2,
           "both serve and the CLI delivered some of them", repr(by))
    led = ledger(centre)
    tap.ok(len(led) == len({r[0] for r in led})
           and {r[1] for r in led} >= {hashlib.sha256(b).hexdigest()
                                       for b in bodies},
           "one ledger row per message")

    log = "\n".join(logs)
    tap.ok("handed to the MTA" in log and "audit anchor " in log,
           "serve logs deliveries by id and the audit anchor", log)
    tap.ok("甲" not in log and "1380000" not in log and "@" not in log
           and "CRITICAL" not in log,
           "no party name, phone number or address in serve's log", log)
    tap.ok("database ok" in centre.cli("check")
           and "intact" in centre.cli("audit", "verify"),
           "the store passes check and audit verify")


if __name__ == "__main__":
    sys.exit(main())
