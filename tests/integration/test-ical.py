#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-ical.py — invites, feeds and their delivery through the medsched
command line, in a temporary directory.

A centre with e-mail addresses for its mediators, interpreters and some
parties books, reschedules, annotates and cancels sessions; every step must
leave exactly the iMIP messages RFC 5546 asks for in the outbox (one per
attendee with an address, in the same transaction as the change):
REQUEST at SEQUENCE 0, REQUEST at SEQUENCE 1 with the same UID and a later
DTSTAMP after a reschedule, nothing after a text-only note (unless
--notify: same SEQUENCE, later DTSTAMP), CANCEL at SEQUENCE 2 with
STATUS:CANCELLED. `outbox flush` hands them to a fake sendmail that records
them (the ledger holds their SHA-256) and to one that fails (attempts,
back-off, giving up, requeueing: nothing lost). Replies are stored, stale
ones refused. Feeds are byte-identical for identical state. Hostile .ics
files given to `reply import` and `busy-import` fail cleanly and change
nothing; an imported recurring busy calendar keeps `slots` away from those
times. Every .ics file the CLI writes passes `medsched ics lint`.

Prints TAP. Needs $MEDSCHED and $MEDSCHED_CALENDARS (meson test sets both).
"""

import email
import email.policy
import hashlib
import json
import os
import re
import sqlite3
import stat

from medtest import (Med, Tap, audit_count, calendars_dir, connect_ro,
                     medsched_path, tempdir)

NOW = "2026-12-07T08:00"  # a Monday

CENTRE = "城关区矛盾纠纷调处中心（测试）"
MAILBOX = "tiaojie@example.cn"
PUBLIC_URL = "https://tiaojie.example.cn/medsched"
ZHAXI = "扎西次仁 བཀྲ་ཤིས་ཚེ་རིང"
LI = "李秀英"
GESANG = "格桑 སྐལ་བཟང"
DOLMA = "卓玛 Dolma"
SONAM = "བསོད་ནམས་རྡོ་རྗེ"
ZHANG = "张伟"
SMITH = "John Smith"
CASE_A = "(2026)藏0102民调1号"  # wages: Tibetan party with e-mail
CASE_B = "(2026)藏0102民调2号"  # neighbour: remote party, English party
CASE_C = "(2026)藏0102民调3号"  # custody: only 李秀英 handles it

FAKE_SENDMAIL = """#!/bin/sh
# records one message per run in $FAKE_MAIL_DIR (args and stdin)
dir=${FAKE_MAIL_DIR:?}
mkdir -p "$dir"
n=$(ls "$dir" | grep -c '\\.eml$')
printf '%s\\n' "$@" >"$dir/$n.args"
cat >"$dir/$n.eml"
"""

FAILING_SENDMAIL = """#!/bin/sh
cat >/dev/null
echo "smtp.example.cn: connection refused" >&2
exit 75
"""


# ---- iCalendar and MIME helpers --------------------------------------------

def unfold(text):
    """Content lines of iCalendar text (CRLF or LF), folds joined."""
    out = []
    for line in re.split(r"\r?\n", text):
        if line[:1] in (" ", "\t") and out:
            out[-1] += line[1:]
        elif line:
            out.append(line)
    return out


def split_line(line):
    """(name, params text, value) of a content line."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1:]
            name, _, params = head.partition(";")
            return name.upper(), params, value
    return line.upper(), "", ""


def props(text, name, component="VEVENT"):
    """(params, value) of every name property directly in component."""
    found, stack = [], []
    for line in unfold(text):
        n, params, value = split_line(line)
        if n == "BEGIN":
            stack.append(value.upper())
        elif n == "END":
            if stack:
                stack.pop()
        elif n == name and stack and stack[-1] == component:
            found.append((params, value))
    return found


def prop(text, name, component="VEVENT"):
    p = props(text, name, component)
    return p[0][1] if p else None


def ics_unescape(value):
    return (value.replace("\\n", "\n").replace("\\N", "\n")
            .replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\"))


def calendar_part(message_text):
    """(content type header, calendar text) of an iMIP message."""
    msg = email.message_from_bytes(message_text.encode("utf-8"),
                                   policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            return part, payload.decode("utf-8")
    return None, None


def parse_message(message_text):
    return email.message_from_bytes(message_text.encode("utf-8"),
                                    policy=email.policy.default)


class Suite:
    def __init__(self, tap, med, tmp):
        self.t = tap
        self.med = med
        self.tmp = tmp
        self.ids = {}
        self.written = []  # every .ics the CLI wrote, for the lint pass

    def succeeds(self, name, *args, **kw):
        r = self.med.run(*args, **kw)
        self.t.ok(r.rc == 0 and not r.forbidden(), name, r.describe())
        return r

    def fails(self, name, *args, code=None, unchanged=True, expect=None,
              **kw):
        before = audit_count(self.med.db) if unchanged else None
        r = self.med.run(*args, **kw)
        problems = []
        if r.crashed():
            problems.append("crashed or was killed")
        elif r.rc == 0:
            problems.append("exit status 0")
        elif code is not None and r.rc != code:
            problems.append("exit status %d, want %d" % (r.rc, code))
        if "medsched: " not in r.err:
            problems.append('no "medsched: " message on stderr')
        if expect and expect not in r.err:
            problems.append("stderr does not say %r" % expect)
        if r.forbidden():
            problems.append("printed %s" % ", ".join(r.forbidden()))
        if unchanged and audit_count(self.med.db) != before:
            problems.append("audit rows %d → %d"
                            % (before, audit_count(self.med.db)))
        self.t.ok(not problems, name, "; ".join(problems) + "\n"
                  + r.describe())
        return r

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return p

    def output(self, name, *args, **kw):
        """Runs a command writing an .ics with -o; returns its text."""
        p = self.path(name)
        r = self.med.run(*args, "-o", p, **kw)
        ok = r.rc == 0 and not r.forbidden() and os.path.exists(p)
        # the test's name is a log: a party's e-mail address stays out
        shown = " ".join("<e-mail>" if "@" in str(a) else str(a) for a in args)
        self.t.ok(ok, "%s → %s" % (shown, name), r.describe())
        if not ok:
            return ""
        self.written.append(p)
        with open(p, "rb") as f:
            return f.read().decode("utf-8")

    # the e-mail channel of the outbox: the parties' SMS are
    # tests/http/test-sms.py's
    def outbox(self):
        r = self.med.run("outbox", "list", "--json")
        data = r.json()
        return [m for m in data if m.get("channel") == "mail"] \
            if isinstance(data, list) else []

    def messages(self, booking=None):
        """Outbox rows (e-mail) with their message text, oldest first."""
        con = connect_ro(self.med.db)
        try:
            con.row_factory = sqlite3.Row
            rows = [dict(r) for r in con.execute(
                "SELECT * FROM outbox WHERE channel = 'mail' ORDER BY id")]
        finally:
            con.close()
        return [r for r in rows if booking is None
                or r["booking_id"] == booking]

    def ledger(self):
        con = connect_ro(self.med.db)
        try:
            return con.execute("SELECT outbox_id, recipient_addr, method, "
                               "sequence, sha256 FROM outbox_ledger "
                               "ORDER BY id").fetchall()
        finally:
            con.close()

    def booking_row(self, bid):
        con = connect_ro(self.med.db)
        try:
            return con.execute("SELECT uid, sequence, status, updated_at "
                               "FROM booking WHERE id = ?",
                               (bid,)).fetchone()
        finally:
            con.close()


# ---- setup -------------------------------------------------------------------

def setup(s):
    s.succeeds("init with mailbox and public URL", "init", "--name", CENTRE,
               "--layers", "CN,CN-XZ-LS", "--calendars", calendars_dir(),
               "--mailbox", MAILBOX, "--address", "拉萨市城关区北京中路1号",
               "--public-url", PUBLIC_URL + "/")
    s.succeeds("room add warm", "room", "add", "--name", "温馨调解室一",
               "--kind", "warm", "--setup", "10", "--cleanup", "10")
    s.succeeds("room add second warm", "room", "add", "--name",
               "温馨调解室二", "--kind", "warm")
    s.succeeds("room add remote", "room", "add", "--name",
               "远程调解室 རྒྱང་རིང་", "--kind", "remote")
    s.succeeds("room add family", "room", "add", "--name", "家事调解室",
               "--kind", "family", "--features", "child-friendly")
    for r in s.med.run("room", "list", "--json").json() or []:
        s.ids[r["name"]] = r["id"]
    s.succeeds("mediator add --email", "mediator", "add", "--name", ZHAXI,
               "--languages", "zh,bo", "--specialties",
               "wages,neighbour,land", "--email", "tashi@example.cn")
    s.succeeds("mediator add without e-mail", "mediator", "add", "--name",
               LI, "--languages", "zh", "--specialties",
               "divorce,custody,support,inheritance")
    s.fails("mediator add with a bad --email changes nothing", "mediator",
            "add", "--name", "王五", "--languages", "zh", "--specialties",
            "wages", "--email", "wang@example.cn\r\nBcc: x@evil.example")
    s.succeeds("interpreter add --email", "interpreter", "add", "--name",
               GESANG, "--pairs", "zh:bo", "--email", "gesang@example.cn")
    s.succeeds("interpreter add zh:en", "interpreter", "add", "--name",
               DOLMA, "--pairs", "zh:en")
    s.succeeds("interpreter email", "interpreter", "email", "2",
               "dolma@example.cn")
    for m in s.med.run("mediator", "list", "--json").json() or []:
        s.ids[m["name"]] = m["id"]
    s.succeeds("case add A (Tibetan party with e-mail)", "case", "add",
               "--number", CASE_A, "--kind", "wages", "--duration", "60",
               "--party", "applicant,bo,in-person,%s,sonam@example.org"
               % SONAM,
               "--party", "respondent,zh,in-person,拉萨某建筑公司,13800000012")
    s.succeeds("case add B (remote party, English party)", "case", "add",
               "--number", CASE_B, "--kind", "neighbour", "--duration", "60",
               "--party", "applicant,zh,remote,%s,zhangwei@example.com"
               % ZHANG,
               "--party", "respondent,en,in-person,%s,john@example.com"
               % SMITH)
    s.succeeds("case add C (custody)", "case", "add", "--number", CASE_C,
               "--kind", "custody", "--minors", "--duration", "60",
               "--party", "applicant,zh,in-person,黄敏,13800000021",
               "--party", "respondent,zh,in-person,周婷,13800000022")
    for n in (CASE_A, CASE_B, CASE_C):
        s.succeeds("dispatch %s" % n, "case", "dispatch", n, "--department",
                   "court-mediation")
    cases = s.med.run("case", "list", "--json").json() or []
    for c in cases:
        s.ids[c["number"]] = c["id"]
    con = connect_ro(s.med.db)
    s.ids["parties"] = {name: pid for pid, name in con.execute(
        "SELECT id, name FROM party")}
    con.close()


def test_help(s):
    cmds = [["invite"], ["feed"], ["freebusy"], ["outbox"],
            ["outbox", "list"], ["outbox", "flush"], ["outbox", "retry"],
            ["reply"], ["reply", "import"], ["ics"], ["ics", "lint"],
            ["booking"], ["booking", "note"], ["mediator", "busy-import"],
            ["interpreter", "busy-import"], ["mediator", "email"],
            ["interpreter", "email"]]
    bad = []
    for c in cmds:
        r = s.med.run(*c, "--help")
        if r.rc != 0 or "usage" not in (r.out + r.err).lower():
            bad.append(r.describe())
    s.t.ok(not bad, "--help on the %d new commands" % len(cmds),
           "\n".join(bad))


# ---- the invite life cycle ----------------------------------------------------

def check_copies(s, rows, method, seq, uid, name):
    """Each row's message: MIME method = METHOD, SEQUENCE, UID, TZID."""
    bad = []
    for r in rows:
        part, cal = calendar_part(r["message"])
        if cal is None:
            bad.append("#%d has no text/calendar part" % r["id"])
            continue
        msg = parse_message(r["message"])
        if msg.get_content_type() != "multipart/alternative":
            bad.append("#%d is %s" % (r["id"], msg.get_content_type()))
        if not any(p.get_content_type() == "text/plain"
                   for p in msg.walk()):
            bad.append("#%d has no text/plain part" % r["id"])
        if part.get_param("method") != method \
                or (part.get_param("charset") or "").upper() != "UTF-8":
            bad.append("#%d Content-Type %s" % (r["id"], part["Content-Type"]))
        if prop(cal, "METHOD", "VCALENDAR") != method:
            bad.append("#%d METHOD %s" % (r["id"],
                                          prop(cal, "METHOD", "VCALENDAR")))
        if prop(cal, "SEQUENCE") != str(seq) or r["sequence"] != seq:
            bad.append("#%d SEQUENCE %s" % (r["id"], prop(cal, "SEQUENCE")))
        if prop(cal, "UID") != uid:
            bad.append("#%d UID %s" % (r["id"], prop(cal, "UID")))
        if r["recipient_addr"].lower() not in cal.lower():
            bad.append("#%d does not name its recipient" % r["id"])
        start = props(cal, "DTSTART")
        if not start or "TZID=Asia/Shanghai" not in start[0][0]:
            bad.append("#%d DTSTART %r" % (r["id"], start))
        if prop(cal, "TZID", "VTIMEZONE") != "Asia/Shanghai":
            bad.append("#%d VTIMEZONE %s" % (r["id"],
                                             prop(cal, "TZID", "VTIMEZONE")))
        if r["method"] != method:
            bad.append("#%d outbox method %s" % (r["id"], r["method"]))
    s.t.ok(rows and not bad, name, "\n".join(bad) or "no messages")


def dtstamp_of(row):
    _, cal = calendar_part(row["message"])
    return prop(cal, "DTSTAMP") if cal else None


def test_lifecycle(s):
    t = s.t
    warm1 = s.ids["温馨调解室一"]
    zhaxi = s.ids[ZHAXI]
    r = s.succeeds("book case A", "book", CASE_A, "--at", "2026-12-08T10:00",
                   "--room", warm1, "--mediator", zhaxi, "--json")
    bid = (r.json() or {}).get("id")
    s.ids["A"] = bid
    uid, seq, status, _ = s.booking_row(bid)
    rows = s.messages(bid)
    t.ok(sorted(x["recipient_addr"] for x in rows)
         == ["sonam@example.org", "tashi@example.cn"]
         and all(x["state"] == "pending" for x in rows),
         "booking queues one REQUEST per attendee with an e-mail address",
         json.dumps([(x["recipient_addr"], x["state"]) for x in rows]))
    check_copies(s, rows, "REQUEST", 0, uid, "the REQUESTs: SEQUENCE 0, "
                 "same UID, MIME method = METHOD, TZID with its VTIMEZONE")
    first_stamp = dtstamp_of(rows[0]) if rows else None
    sonam_row = [x for x in rows if x["recipient_addr"].startswith("sonam")]
    if sonam_row:
        _, cal = calendar_part(sonam_row[0]["message"])
        desc = ics_unescape("".join(v for _, v in props(cal, "DESCRIPTION")))
        t.ok("གྱོད་དོན" in desc and "案号" not in desc,
             "the Tibetan party's copy is in Tibetan (po/bo.po)", desc)
        msg = parse_message(sonam_row[0]["message"])
        t.ok(CASE_A in str(msg["Subject"]),
             "the subject names the case", str(msg["Subject"]))
    ob = s.outbox()
    t.ok(len(ob) == 2 and all(o.get("method") == "REQUEST"
                               and o.get("sequence") == 0 for o in ob),
         "outbox list --json", json.dumps(ob, ensure_ascii=False)[:1500])
    text = s.med.run("outbox", "list")
    t.ok(text.rc == 0 and "sonam@example.org" in text.out,
         "outbox list (text)", text.describe())

    # invite --for each attendee, and the organiser's copy
    parties = s.ids["parties"]
    org = s.output("invite-A-organiser.ics", "invite", bid)
    t.ok(prop(org, "METHOD", "VCALENDAR") == "REQUEST"
         and len(props(org, "ATTENDEE")) == 3 and "CONFERENCE" not in org,
         "the organiser's copy lists 3 attendees, no join link", org[:2000])
    for who in ("mediator:%d" % zhaxi, "party:%d" % parties[SONAM],
                "party:%d" % parties["拉萨某建筑公司"], "SONAM@example.org"):
        s.output("invite-A-%s.ics" % who.replace(":", "-"), "invite", bid,
                 "--for", who)
    s.fails("invite --for someone not invited", "invite", bid, "--for",
            "party:%d" % parties[ZHANG], code=1)
    s.fails("invite --for a malformed attendee", "invite", bid, "--for",
            "nobody", code=2)
    s.fails("invite of a booking that does not exist", "invite", "999",
            code=1)
    r = s.med.run("invite", bid, "--for", "tashi@example.cn", "--imip")
    part, cal = calendar_part(r.out) if r.rc == 0 else (None, None)
    t.ok(r.rc == 0 and cal is not None
         and part.get_param("method") == "REQUEST",
         "invite --imip prints the whole iMIP message", r.describe())

    # reschedule: SEQUENCE 1, same UID, later DTSTAMP
    s.succeeds("reschedule case A", "reschedule", bid, "--at",
               "2026-12-09T10:00", now="2026-12-07T09:00")
    rows = [x for x in s.messages(bid) if x["sequence"] == 1]
    check_copies(s, rows, "REQUEST", 1, uid,
                 "reschedule → REQUEST SEQUENCE 1, same UID")
    t.ok(rows and first_stamp and all(dtstamp_of(x) > first_stamp
                                       for x in rows),
         "the new REQUESTs have a later DTSTAMP",
         "%s → %s" % (first_stamp, [dtstamp_of(x) for x in rows]))
    t.ok(all(x["state"] == "superseded" for x in s.messages(bid)
             if x["sequence"] == 0),
         "the unsent SEQUENCE 0 messages are superseded")

    # a text-only note: SEQUENCE unchanged, nothing queued
    n_before = len(s.messages(bid))
    s.succeeds("booking note", "booking", "note", bid,
               "请带身份证原件 / please bring your ID", now="2026-12-07T09:10")
    uid2, seq2, _, _ = s.booking_row(bid)
    t.ok(seq2 == 1 and uid2 == uid and len(s.messages(bid)) == n_before,
         "a note edit keeps SEQUENCE 1 and queues nothing",
         "sequence %s, %d → %d messages" % (seq2, n_before,
                                             len(s.messages(bid))))
    org = s.output("invite-A-note.ics", "invite", bid)
    desc = ics_unescape("".join(v for _, v in props(org, "DESCRIPTION")))
    t.ok("请带身份证原件" in desc and prop(org, "SEQUENCE") == "1",
         "the invite carries the note at SEQUENCE 1", desc)
    s.succeeds("booking note --notify", "booking", "note", bid,
               "请带身份证原件和合同", "--notify", now="2026-12-07T09:20")
    notified = [x for x in s.messages(bid) if x["id"] > max(
        r["id"] for r in rows)] if rows else []
    check_copies(s, notified, "REQUEST", 1, uid,
                 "note --notify → REQUEST at the same SEQUENCE 1")
    t.ok(notified and all(dtstamp_of(x) > dtstamp_of(rows[0])
                          for x in notified),
         "… with a later DTSTAMP")
    s.fails("a note on a booking that does not exist", "booking", "note",
            "999", "x", code=1)

    # replies: ACCEPTED, then a stale one
    reply = reply_ics(uid, 1, "sonam@example.org", "ACCEPTED",
                      "20261207T020000Z")
    s.succeeds("reply import ACCEPTED", "reply", "import",
               s.write("reply-accepted.ics", reply))
    org = s.output("invite-A-after-reply.ics", "invite", bid)
    att = [p for p, v in props(org, "ATTENDEE")
           if v.lower() == "mailto:sonam@example.org"]
    t.ok(att and "PARTSTAT=ACCEPTED" in att[0],
         "the organiser's copy shows the stored PARTSTAT", org[:3000])
    s.fails("a reply to SEQUENCE 0 is refused as stale", "reply", "import",
            s.write("reply-stale.ics",
                    reply_ics(uid, 0, "sonam@example.org", "DECLINED",
                              "20261207T030000Z")),
            code=1, expect="stale")
    s.fails("a reply from someone not invited", "reply", "import",
            s.write("reply-stranger.ics",
                    reply_ics(uid, 1, "mallory@example.org", "ACCEPTED",
                              "20261207T030000Z")), code=1)
    s.fails("a reply for an unknown UID", "reply", "import",
            s.write("reply-unknown.ics",
                    reply_ics("nope@medsched", 0, "sonam@example.org",
                              "ACCEPTED", "20261207T030000Z")), code=1)

    # cancel: CANCEL at SEQUENCE 2, STATUS:CANCELLED
    s.succeeds("cancel case A", "cancel", bid, now="2026-12-07T09:30")
    rows = [x for x in s.messages(bid) if x["sequence"] == 2]
    check_copies(s, rows, "CANCEL", 2, uid, "cancel → CANCEL SEQUENCE 2")
    t.ok(rows and all(prop(calendar_part(x["message"])[1], "STATUS")
                      == "CANCELLED" for x in rows)
         and len(rows) == 2, "the CANCELs say STATUS:CANCELLED")
    s.output("invite-A-cancelled.ics", "invite", bid)

    # case B: a remote party gets their own join link, nobody else does
    remote = s.ids["远程调解室 རྒྱང་རིང་"]
    r = s.succeeds("book case B (remote)", "book", CASE_B, "--json")
    bid_b = (r.json() or {}).get("id")
    s.ids["B"] = bid_b
    t.ok((r.json() or {}).get("room_id") == remote,
         "case B is in the remote room", r.describe())
    zhang = s.output("invite-B-zhang.ics", "invite", bid_b, "--for",
                     "party:%d" % parties[ZHANG])
    smith = s.output("invite-B-smith.ics", "invite", bid_b, "--for",
                     "john@example.com")
    org = s.output("invite-B-organiser.ics", "invite", bid_b)
    conf = props(zhang, "CONFERENCE")
    link = conf[0][1] if conf else ""
    t.ok(link.startswith(PUBLIC_URL + "/join/") and len(link.rsplit("/", 1)
                                                          [1]) >= 22
         and "FEATURE=VIDEO" in conf[0][0] and '"' not in conf[0][0]
         and prop(zhang, "URL") == link,
         "the remote party's copy has CONFERENCE (FEATURE=VIDEO, unquoted) "
         "and URL with their own join link", zhang[:3000])
    t.ok(link and link not in smith and link not in org,
         "no other copy carries that link")
    desc = ics_unescape("".join(v for _, v in props(smith, "DESCRIPTION")))
    t.ok("Mediation" in desc or "Case" in desc,
         "the English-speaking party's copy has English", desc)
    again = s.output("invite-B-zhang-again.ics", "invite", bid_b, "--for",
                     "party:%d" % parties[ZHANG])
    t.ok(again == zhang, "an invite is the same bytes for the same state")


def reply_ics(uid, seq, addr, partstat, stamp):
    return ("BEGIN:VCALENDAR\r\nPRODID:-//test//EN\r\nVERSION:2.0\r\n"
            "METHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%d\r\n"
            "DTSTAMP:%s\r\nDTSTART:20261209T020000Z\r\n"
            "ORGANIZER:mailto:%s\r\n"
            "ATTENDEE;PARTSTAT=%s:mailto:%s\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n" % (uid, seq, stamp, MAILBOX, partstat, addr))


# ---- delivery -------------------------------------------------------------------

def script(s, name, text):
    p = s.path(name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR)
    return p


def test_flush(s):
    t = s.t
    fake = script(s, "fake-sendmail", FAKE_SENDMAIL)
    bad = script(s, "failing-sendmail", FAILING_SENDMAIL)
    maildir = s.path("mail")
    os.environ["FAKE_MAIL_DIR"] = maildir
    pending = [x for x in s.messages() if x["state"] == "pending"]

    # a failing MTA: attempts counted, back-off, nothing lost
    r = s.med.run("outbox", "flush", "--sendmail", bad, "--max-attempts",
                  "3", now="2026-12-07T10:00")
    rows = {x["id"]: x for x in s.messages()}
    t.ok(r.rc == 1 and "medsched: " in r.err and not r.forbidden()
         and all(rows[x["id"]]["attempts"] == 1
                 and rows[x["id"]]["state"] == "pending"
                 and "connection refused" in rows[x["id"]]["last_error"]
                 for x in pending),
         "a failing MTA: exit 1, one attempt each, the error kept",
         r.describe())
    due = {x["next_attempt_at"] for x in pending}
    nxt = {rows[x["id"]]["next_attempt_at"] - x["next_attempt_at"]
           for x in pending}
    t.ok(len(nxt) >= 1, "retry times recorded", repr((due, nxt)))
    r = s.med.run("outbox", "flush", "--sendmail", bad,
                  now="2026-12-07T10:00")
    t.ok(r.rc == 0 and "0 sent, 0 to retry" in r.out,
         "nothing is due again within the back-off", r.describe())
    r = s.med.run("outbox", "flush", "--sendmail", bad, "--max-attempts",
                  "3", now="2026-12-07T10:01")
    rows2 = {x["id"]: x for x in s.messages()}
    t.ok(r.rc == 1 and all(rows2[x["id"]]["attempts"] == 2 for x in pending)
         and all(rows2[x["id"]]["next_attempt_at"]
                 - rows[x["id"]]["next_attempt_at"] >= 300 - 60
                 for x in pending),
         "the second attempt after 1 min, the next one 5 min later",
         r.describe())
    r = s.med.run("outbox", "flush", "--sendmail", bad, "--max-attempts",
                  "3", now="2026-12-07T10:07")
    rows3 = {x["id"]: x for x in s.messages()}
    t.ok(r.rc == 1 and "gave up" in r.out
         and all(rows3[x["id"]]["state"] == "failed"
                 and rows3[x["id"]]["attempts"] == 3 for x in pending),
         "after max attempts the messages are failed and kept",
         r.describe())
    for x in pending:
        s.succeeds("outbox retry #%d" % x["id"], "outbox", "retry",
                   x["id"], now="2026-12-07T10:08")
    s.fails("outbox retry of a message that did not fail", "outbox",
            "retry", "999", code=1)

    # a missing MTA is a failed attempt, not a crash
    r = s.med.run("outbox", "flush", "--sendmail",
                  s.path("no-such-sendmail"), now="2026-12-07T10:08")
    t.ok(r.rc == 1 and not r.crashed() and not r.forbidden(),
         "a missing MTA is recorded as a failed attempt", r.describe())

    # the working MTA (from $MEDSCHED_SENDMAIL)
    os.environ["MEDSCHED_SENDMAIL"] = fake + " -t -i"
    try:
        r = s.med.run("outbox", "flush", now="2026-12-07T10:10")
    finally:
        del os.environ["MEDSCHED_SENDMAIL"]
    rows = s.messages()
    sent = [x for x in rows if x["state"] == "sent"]
    emls = sorted(f for f in os.listdir(maildir) if f.endswith(".eml")) \
        if os.path.isdir(maildir) else []
    t.ok(r.rc == 0 and len(sent) == len(pending) == len(emls),
         "flush hands every due message to $MEDSCHED_SENDMAIL once",
         "%d pending, %d sent, %d recorded\n%s" % (len(pending), len(sent),
                                                  len(emls), r.describe()))
    t.ok(all(x["state"] in ("sent", "superseded") for x in rows),
         "nothing lost: every message is sent or superseded",
         json.dumps([(x["id"], x["state"]) for x in rows]))
    with open(os.path.join(maildir, "0.args")) as f:
        args = f.read().split()
    t.ok(args == ["-t", "-i"], "the MTA gets its arguments", repr(args))
    ledger = s.ledger()
    hashes = set()
    for e in emls:
        with open(os.path.join(maildir, e), "rb") as f:
            hashes.add(hashlib.sha256(f.read()).hexdigest())
    t.ok(len(ledger) == len(sent)
         and {row[4] for row in ledger} == hashes
         and {(row[0], row[2], row[3]) for row in ledger}
         == {(x["id"], x["method"], x["sequence"]) for x in sent},
         "one ledger row per message: recipient, METHOD, SEQUENCE, SHA-256 "
         "of what the MTA got", repr(ledger))
    recorded = []
    for e in emls:
        with open(os.path.join(maildir, e), "rb") as f:
            _, cal = calendar_part(f.read().decode("utf-8"))
        recorded.append(prop(cal, "METHOD", "VCALENDAR") if cal else None)
    t.ok(sorted(recorded) == sorted(x["method"] for x in sent),
         "the recorded messages are the iMIP messages", repr(recorded))
    r = s.med.run("outbox", "flush", "--sendmail", fake,
                  now="2026-12-07T10:30")
    t.ok(r.rc == 0 and len(os.listdir(maildir)) == 2 * len(emls),
         "a second flush sends nothing again", r.describe())
    s.fails("flush with an unparsable --sendmail", "outbox", "flush",
            "--sendmail", "'unterminated", code=2)
    s.fails("flush with --max-attempts 0", "outbox", "flush",
            "--max-attempts", "0", code=2)


# ---- feeds, free/busy, lint ----------------------------------------------------

def test_feeds(s):
    t = s.t
    warm1, warm2 = s.ids["温馨调解室一"], s.ids["温馨调解室二"]
    zhaxi, li = s.ids[ZHAXI], s.ids[LI]
    s.succeeds("book case C in the family room", "book", CASE_C)
    # a session in warm room 1 for the room feed
    r = s.succeeds("book case A again", "book", CASE_A, "--at",
                   "2026-12-10T10:00", "--room", warm1, "--mediator", zhaxi,
                   "--json")
    again = (r.json() or {}).get("id")
    a = s.output("feed-room-1.ics", "feed", "room", warm1)
    b = s.output("feed-room-1-again.ics", "feed", "room", warm1)
    t.ok(a and a == b, "a feed is byte-identical for identical state")
    t.ok(prop(a, "METHOD", "VCALENDAR") is None
         and prop(a, "NAME", "VCALENDAR")
         and prop(a, "X-WR-CALNAME", "VCALENDAR")
         and prop(a, "REFRESH-INTERVAL", "VCALENDAR")
         and prop(a, "X-PUBLISHED-TTL", "VCALENDAR")
         and len(props(a, "TZID", "VTIMEZONE")) == 1,
         "feed: no METHOD; NAME, X-WR-CALNAME, REFRESH-INTERVAL, "
         "X-PUBLISHED-TTL, one VTIMEZONE", a[:1500])
    t.ok(props(a, "CLASS") and all(v == "CONFIDENTIAL"
                                   for _, v in props(a, "CLASS"))
         and SONAM not in a and ZHAXI.split()[0] not in a
         and CASE_A not in a,
         "the public room board: CLASS:CONFIDENTIAL, no names, no case",
         a[:3000])
    # something unrelated to that room changes (case B's session is moved
    # before it begins: a finished session is not moved)
    s.succeeds("book case B elsewhere (unrelated to room 1)", "reschedule",
               s.ids["B"], "--at", "2026-12-11T14:30",
               now="2026-12-07T08:30")
    s.succeeds("a note on a session in another room", "booking", "note",
               s.ids["B"], "带上合同", now="2026-12-07T11:05")
    c = s.output("feed-room-1-after-unrelated.ics", "feed", "room", warm1,
                 now="2026-12-07T11:10")
    t.ok(c == a, "an unrelated change leaves the room feed byte-identical")
    s.succeeds("move the room-1 session", "reschedule", again, "--at",
               "2026-12-10T14:30", "--room", warm1, "--mediator", zhaxi,
               now="2026-12-07T11:20")
    d = s.output("feed-room-1-after-move.ics", "feed", "room", warm1,
                 now="2026-12-07T11:20")
    t.ok(d and d != a and prop(d, "SEQUENCE") == "1",
         "a change in the room changes its feed (SEQUENCE 1)", d[:2000])

    staff = s.output("feed-mediator.ics", "feed", "mediator", zhaxi)
    t.ok(CASE_A in staff and "CONFIDENTIAL" not in staff,
         "the mediator's (staff) feed names the cases", staff[:2000])
    s.output("feed-mediator-li.ics", "feed", "mediator", li)
    s.output("feed-centre.ics", "feed", "centre", "1")
    s.output("feed-room-staff.ics", "feed", "room", warm2, "--audience",
             "staff")
    party = s.output("feed-case-party.ics", "feed", "case", CASE_B,
                     "--audience", "party", "--party",
                     s.ids["parties"][ZHANG])
    t.ok(CASE_B in party and CASE_A not in party and CASE_C not in party,
         "a party's feed shows only their own case", party[:2000])
    s.fails("a party feed of someone else's case", "feed", "case", CASE_A,
            "--audience", "party", "--party", s.ids["parties"][ZHANG],
            code=1)
    s.fails("a party feed of a room", "feed", "room", warm1, "--audience",
            "party", "--party", "1", code=2)
    s.fails("feed of an unknown kind", "feed", "building", "1", code=2)
    s.fails("feed of a room that does not exist", "feed", "room", "99",
            code=1)

    fb = s.output("freebusy-room-1.ics", "freebusy", "room", warm1,
                  "--from", "2026-12-07", "--to", "2026-12-11")
    t.ok(any("20261210T062000Z/20261210T074000Z" in v
             for _, v in props(fb, "FREEBUSY", "VFREEBUSY")),
         "room free/busy: the session with its setup and cleanup",
         fb[:2000])
    s.output("freebusy-mediator.ics", "freebusy", "mediator", zhaxi,
             "--from", "2026-12-07", "--to", "2026-12-31")
    s.fails("freebusy without --to", "freebusy", "room", warm1, "--from",
            "2026-12-07", code=2)


def test_lint(s):
    t = s.t
    r = s.med.run("ics", "lint", *s.written)
    t.ok(r.rc == 0 and r.out.count(": clean") == len(s.written),
         "ics lint passes on all %d files the CLI wrote" % len(s.written),
         r.describe())
    # the messages' calendars too
    bad = []
    for i, x in enumerate(s.messages()):
        _, cal = calendar_part(x["message"])
        p = s.write("outbox-%d.ics" % i, cal.encode("utf-8"))
        r = s.med.run("ics", "lint", p)
        if r.rc != 0:
            bad.append(r.describe())
    t.ok(not bad, "ics lint passes on every queued message's calendar",
         "\n".join(bad[:3]))
    lf = s.write("lf-only.ics", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
                 "METHOD:REQUEST\nBEGIN:VEVENT\nUID:x\nDTSTAMP:20261207\n"
                 "DTSTART;TZID=Nowhere/City:20261207T090000\n"
                 "END:VEVENT\nEND:VCALENDAR\n")
    r = s.med.run("ics", "lint", lf)
    t.ok(r.rc == 1 and "line" in r.out and "medsched: " in r.err,
         "ics lint lists the problems of a sloppy file, exit 1",
         r.describe())
    s.fails("ics lint of a missing file", "ics", "lint",
            s.path("missing.ics"), code=1, unchanged=False)


# ---- hostile input and busy time -------------------------------------------

VTZ = ("BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\nBEGIN:STANDARD\r\n"
       "TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nTZNAME:CST\r\n"
       "DTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")


def busy_ics():
    """李秀英's other calendar: weekday mornings 09:00–12:00 from
    2026-12-07, except Wednesday 12-09 (EXDATE), and Thursday 12-10's
    morning moved to the afternoon 14:30–18:00 (RECURRENCE-ID)."""
    return ("BEGIN:VCALENDAR\r\nPRODID:-//test//EN\r\nVERSION:2.0\r\n" + VTZ
            + "BEGIN:VEVENT\r\nUID:court-duty@example.cn\r\n"
            "DTSTAMP:20261201T000000Z\r\n"
            "DTSTART;TZID=Asia/Shanghai:20261207T090000\r\n"
            "DTEND;TZID=Asia/Shanghai:20261207T120000\r\n"
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n"
            "EXDATE;TZID=Asia/Shanghai:20261209T090000\r\n"
            "SUMMARY:法庭值班\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:court-duty@example.cn\r\n"
            "DTSTAMP:20261201T000000Z\r\n"
            "RECURRENCE-ID;TZID=Asia/Shanghai:20261210T090000\r\n"
            "DTSTART;TZID=Asia/Shanghai:20261210T143000\r\n"
            "DTEND;TZID=Asia/Shanghai:20261210T180000\r\n"
            "SUMMARY:法庭值班（下午）\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n")


def hostile_files():
    good = busy_ics()
    nested = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
              + "BEGIN:VEVENT\r\n" * 5000 + "END:VEVENT\r\n" * 5000
              + "END:VCALENDAR\r\n")
    huge = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-PAD:"
            + "x" * (5 * 1024 * 1024) + "\r\nEND:VCALENDAR\r\n")
    return [
        ("truncated", good[:len(good) // 2].encode("utf-8")),
        ("oversized (5 MiB)", huge.encode("ascii")),
        ("wrong charset (GB18030)", good.encode("gb18030")),
        ("Latin-1 bytes", good.encode("utf-8").replace(
            "法庭值班".encode("utf-8"), b"\xe9t\xe9")),
        ("unknown zone", good.replace("TZID=Asia/Shanghai",
                                      "TZID=Mars/Olympus_Mons")
         .encode("utf-8")),
        ("deeply nested", nested.encode("ascii")),
        ("not iCalendar", b"<html><body>hello</body></html>\n"),
        ("binary", bytes(range(256)) * 64),
        ("empty", b""),
    ]


def injection_reply():
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
            "PRODID:x'); DROP TABLE booking;--\r\n"
            "METHOD:REPLY\r\nBEGIN:VEVENT\r\n"
            "UID:' OR 1=1 --\r\nSEQUENCE:0\r\n"
            "DTSTAMP:20261207T000000Z\r\n"
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n").encode("utf-8")


def test_hostile(s):
    li = s.ids[LI]
    for name, data in hostile_files():
        p = s.write("hostile-%s.ics" % re.sub(r"\W+", "-", name), data)
        s.fails("reply import of a hostile file: %s" % name, "reply",
                "import", p, code=1)
        s.fails("busy-import of a hostile file: %s" % name, "mediator",
                "busy-import", li, p, code=1)
    s.fails("reply import of an injection-shaped reply", "reply", "import",
            s.write("hostile-injection.ics", injection_reply()), code=1)
    s.fails("busy-import for a mediator that does not exist", "mediator",
            "busy-import", "99", s.write("busy.ics", busy_ics()), code=1)
    s.fails("busy-import of a missing file", "mediator", "busy-import", li,
            s.path("nope.ics"), code=1)
    s.fails("reply import of a missing file", "reply", "import",
            s.path("nope.ics"), code=1)
    s.succeeds("audit verify after all the hostile input", "audit", "verify")


def local_hm(text):
    """"2026-12-08T09:30" → (date, minutes)"""
    d, hm = text.split("T")
    h, m = hm[:5].split(":")
    return d, int(h) * 60 + int(m)


def test_busy_import(s):
    t = s.t
    li = s.ids[LI]
    # Without the busy calendar case C-2 would go on the first morning.
    s.succeeds("case add C-2 (custody)", "case", "add", "--number",
               "(2026)藏0102民调4号", "--kind", "divorce", "--duration", "60",
               "--party", "applicant,zh,in-person,孙强,13800000041",
               "--party", "respondent,zh,in-person,马俊,13800000042")
    s.succeeds("dispatch C-2", "case", "dispatch", "(2026)藏0102民调4号",
               "--department", "court-mediation")
    before = s.med.run("slots", "(2026)藏0102民调4号", "--count", "1",
                       "--json").json() or []
    t.ok(before and local_hm(before[0]["start"])[1] < 12 * 60,
         "before the import the earliest slot is a morning",
         json.dumps(before, ensure_ascii=False))
    s.succeeds("busy-import with RRULE, EXDATE and RECURRENCE-ID",
               "mediator", "busy-import", li,
               s.write("li-court-duty.ics", busy_ics()), "--source",
               "court-duty")
    r = s.med.run("slots", "(2026)藏0102民调4号", "--count", "30",
                  "--from", "2026-12-08", "--json")
    slots = r.json() or []
    clash = []
    for sl in slots:
        if sl.get("mediator_id") != li:
            continue
        day, start = local_hm(sl["start"])
        _, end = local_hm(sl["end"])
        if day == "2026-12-10":
            busy = (14 * 60 + 30, 18 * 60)  # the moved occurrence
        elif day == "2026-12-09":
            busy = None  # EXDATE
        else:
            busy = (9 * 60, 12 * 60)
        if busy and start < busy[1] and end > busy[0]:
            clash.append(sl["start"])
    days = {local_hm(sl["start"])[0] for sl in slots}
    t.ok(r.rc == 0 and slots and not clash,
         "slots avoid the imported busy time",
         "clashes %s\n%s" % (clash, r.describe()))
    t.ok(any(sl["start"].startswith("2026-12-09T09") for sl in slots)
         and any(sl["start"].startswith("2026-12-10T09") for sl in slots),
         "the EXDATE morning and the moved occurrence's morning are free",
         json.dumps(sorted(days)))
    s.fails("book --at inside the imported busy time is refused", "book",
            "(2026)藏0102民调4号", "--at", "2026-12-08T09:00", "--room",
            s.ids["家事调解室"], "--mediator", li)
    fb = s.output("freebusy-li.ics", "freebusy", "mediator", li, "--from",
                  "2026-12-07", "--to", "2026-12-11")
    t.ok(len(props(fb, "FREEBUSY", "VFREEBUSY")) >= 4,
         "the mediator's free/busy shows the imported time", fb[:2000])
    # importing the same source again replaces it
    empty = ("BEGIN:VCALENDAR\r\nPRODID:-//test//EN\r\nVERSION:2.0\r\n"
             "END:VCALENDAR\r\n")
    s.succeeds("busy-import of an empty calendar replaces the source",
               "mediator", "busy-import", li, s.write("empty.ics", empty),
               "--source", "court-duty")
    after = s.med.run("slots", "(2026)藏0102民调4号", "--count", "1",
                      "--json").json() or []
    t.ok(after and after[0].get("start") == before[0].get("start"),
         "with the source replaced the morning is free again",
         json.dumps(after, ensure_ascii=False))


def main():
    tap = Tap()
    exe = medsched_path(tap)
    with tempdir() as tmp:
        med = Med(exe, os.path.join(tmp, "centre.db"), now=NOW, cwd=tmp)
        s = Suite(tap, med, tmp)
        setup(s)
        test_help(s)
        test_lifecycle(s)
        test_flush(s)
        test_feeds(s)
        test_hostile(s)
        test_busy_import(s)
        test_lint(s)
        s.succeeds("check", "check")
        s.succeeds("audit verify", "audit", "verify")
    return tap.done()


if __name__ == "__main__":
    raise SystemExit(main())
