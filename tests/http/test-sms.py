#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-sms.py — parties told by SMS through a real gammu-smsd (issue 12).

gammu-smsd runs here with gammu's dummy phone driver (`model = dummy`,
`connection = none`, `device = DIR/`: the "phone" is a directory) and its
"files" service on a spool in a temporary directory; a RunOnSent hook keeps
what the daemon handed to the phone — the number and the text it decoded
from the encoded parts — in a capture directory (not a log). medsched
writes into the spool; `medsched serve` delivers ([sms] group) and
`medsched outbox flush` too.

Checked: the booking, move and cancellation texts of a Tibetan remote party
(Tibetan script, their own absolute join link, which opens their session)
and of a Chinese in-person party (Chinese, the room and the address, no
link); the day-before reminder, once only, even when serve starts again;
a gateway that is down (gammu-smsd stopped): the attempt fails, the file is
taken back from the spool, nothing is due during the back-off, and once
gammu-smsd runs again the next flush delivers it; the spool keeps nothing
once delivered; no phone number or party name in any log (serve's, the
CLI's, gammu-smsd's own, configured as docs/sms.md says), and, for the
record, that gammu-smsd's own log file does name the recipient (why
docs/sms.md tells to leave its LogFile unset).

Logs go to build/tests/logs for tests/privacy/check-logs.py (httptest's
keep_logs). TAP.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from httptest import Centre, Server, Tap, json_of, keep_logs, request, \
    wait_for  # noqa: E402

tap = Tap()

PUBLIC = "https://mediation.example.org"
PHONE = "0891-6320000"
BO = ("次仁卓玛", "13812345601")
ZH = ("张建国", "13912345602")
TIBETAN = range(0x0F00, 0x1000)

ONSENT = """#!/bin/sh
# gammu-smsd RunOnSent: what was handed to the phone, as JSON, one file
# per message, renamed into place whole (the test reads them meanwhile);
# prints nothing: gammu-smsd would log it
exec /usr/bin/python3 -c '
import json, os, sys
env = {k: v for k, v in os.environ.items()
       if k.startswith(("SMS_", "DECODED_"))}
d = sys.argv[1]
n = len(os.listdir(d))
p = os.path.join(d, "%04d" % n)
with open(p + ".part", "w", encoding="utf-8") as f:
    json.dump(env, f, ensure_ascii=False)
os.rename(p + ".part", p + ".json")
' "{capture}" >/dev/null 2>&1
"""


class Gammu:
    """gammu-smsd on the dummy phone, the files service on spool/."""

    def __init__(self, root, logfile=None):
        self.root = root
        self.spool = os.path.join(root, "spool")
        self.capture = os.path.join(root, "capture")
        for d in ("inbox", "outbox", "sent", "error"):
            os.makedirs(os.path.join(self.spool, d), exist_ok=True)
        os.makedirs(os.path.join(root, "phone"), exist_ok=True)
        os.makedirs(self.capture, exist_ok=True)
        hook = os.path.join(root, "onsent.sh")
        with open(hook, "w") as f:
            f.write(ONSENT.replace("{capture}", self.capture))
        os.chmod(hook, 0o755)
        self.config = os.path.join(root, "smsdrc")
        # docs/sms.md: no LogFile (gammu-smsd then reports only its
        # errors, on stderr), DebugLevel 0
        lines = [
            "[gammu]", "model = dummy", "connection = none",
            "device = %s/" % os.path.join(root, "phone"), "",
            "[smsd]", "service = files", "debuglevel = 0",
            "inboxpath = %s/inbox/" % self.spool,
            "outboxpath = %s/outbox/" % self.spool,
            "sentsmspath = %s/sent/" % self.spool,
            "errorsmspath = %s/error/" % self.spool,
            "commtimeout = 1", "sendtimeout = 5", "loopsleep = 1",
            "checksecurity = 0", "checkbattery = 0", "checksignal = 0",
            "checknetwork = 0", "hardresetfrequency = 0",
            "resetfrequency = 0", "statusfrequency = 0",
            "runonsent = %s" % hook,
        ]
        if logfile:
            lines.append("logfile = %s" % logfile)
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self, stderr_path):
        self.err = open(stderr_path, "a")
        self.proc = subprocess.Popen(
            ["gammu-smsd", "-c", self.config], stdout=self.err,
            stderr=self.err, env=dict(os.environ, LC_ALL="C.UTF-8"))
        time.sleep(1.0)
        if self.proc.poll() is not None:
            tap.bail("gammu-smsd did not start (exit %s)" % self.proc.returncode)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "err", None):
            self.err.close()
            self.err = None

    def captured(self):
        """What the phone was given, oldest first: [(number, text)]."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.capture, "*.json"))):
            with open(path, encoding="utf-8") as f:
                env = json.load(f)
            if int(env.get("DECODED_PARTS", "0")) > 0:
                text = env.get("DECODED_1_TEXT", "")
            else:
                text = "".join(env.get("SMS_%d_TEXT" % (i + 1), "")
                               for i in range(int(env["SMS_MESSAGES"])))
            out.append((env.get("SMS_1_NUMBER", ""), text))
        return out


def english(text):
    """English words of a text, its link left out: none in a translated
    text (the case number S-1 has no word of three letters)."""
    return re.findall(r"[A-Za-z]{3,}", re.sub(r"https://\S+", "", text))


def in_tibetan(text, *words):
    """Tibetan through the bo catalogue: its words, no English."""
    return (any(ord(c) in TIBETAN for c in text) and not english(text)
            and all(w in text for w in words))


def in_chinese(text, *words):
    return (not any(ord(c) in TIBETAN for c in text) and not english(text)
            and all(w in text for w in words))


def by_number(msgs, number):
    return [t for n, t in msgs if n == number]


def wait_captured(gammu, n, timeout=40):
    wait_for(lambda: len(gammu.captured()) >= n, timeout)
    return gammu.captured()


def serve_config(centre, gammu, sms=True):
    path = os.path.join(centre.dir, "serve-%s.conf" % ("sms" if sms else "nosms"))
    with open(path, "w") as f:
        f.write("[mail]\nenabled=false\n\n[sms]\nenabled=%s\nspool=%s\n"
                "interval=1\ntimeout=10\nmax-attempts=6\n"
                % ("true" if sms else "false", gammu.spool))
    return path


def outbox(centre, now=None):
    env_now = ["--now", now] if now else []
    return json.loads(centre.cli(*env_now, "outbox", "list", "--json"))


def main():
    if shutil.which("gammu-smsd") is None:
        tap.bail("gammu-smsd is missing (scripts/deps installs it)")
    centre = Centre(tap)
    gammu = Gammu(os.path.join(centre.dir, "gammu"))
    gammu_log = os.path.join(centre.dir, "gammu-smsd-stderr.log")
    try:
        run(centre, gammu, gammu_log)
    finally:
        gammu.stop()
        keep_logs(centre.dir)
        centre.close()
    return tap.done()


def run(centre, gammu, gammu_log):
    centre.cli("centre", "set", "--public-url", PUBLIC, "--phone", PHONE)
    centre.cli("case", "add", "--number", "S-1", "--kind", "wages",
               "--party", "applicant,bo,remote,次仁卓玛,13812345601",
               "--party", "respondent,zh,in-person,张建国,13912345602")
    centre.cli("case", "dispatch", "S-1", "--department", "court-mediation")
    case_id = 1
    gammu.start(gammu_log)
    conf = serve_config(centre, gammu)
    srv = Server(centre, "--config", conf)
    token = centre.tokens["clerk"]

    # booked: two days ahead, in the remote room, so a reminder is due
    st, _, body = request(srv.port, "POST", "/api/v1/bookings", token,
                          {"case_id": case_id, "start": "2026-12-09T10:00",
                           "room_id": 4, "mediator_id": 1})
    tap.ok(st == 201, "a hybrid session is booked", body)
    booking = json_of(body)["booking"]["id"]
    st, _, body = request(srv.port, "GET",
                          "/api/v1/bookings/%d/links" % booking, token)
    links = {l["role"]: l for l in json_of(body)}
    url = links["applicant"]["url"]
    tap.ok(url.startswith(PUBLIC + "/join/") and len(url) ==
           len(PUBLIC) + 6 + 22, "the API gives the party's absolute link",
           url)
    msgs = wait_captured(gammu, 2)
    bo, zh = by_number(msgs, BO[1]), by_number(msgs, ZH[1])
    tap.ok(len(msgs) == 2 and len(bo) == 1 and len(zh) == 1,
           "gammu-smsd sent one booking SMS to each party", repr(msgs))
    tap.ok(bo and in_tibetan(bo[0], "བར་འདུམ་ཚོགས་འདུ", "གཞན་ལ་མ་སྤྲོད")
           and url in bo[0],
           "the Tibetan remote party's text is in Tibetan and carries "
           "their own absolute link", bo)
    tap.ok(bo and "S-1" in bo[0] and "ཟླ་12 ཚེས་09" in bo[0]
           and "ཁ་པར། " + PHONE in bo[0],
           "it names the case, the day and the centre's telephone", bo)
    tap.ok(zh and in_chinese(zh[0], "调解定于", "请准时到场", "咨询电话")
           and "/join/" not in zh[0] and "远程调解室" in zh[0]
           and "12月09日" in zh[0] and "10:00" in zh[0],
           "the Chinese in-person party's text is in Chinese with the time "
           "and the place, no link", zh)
    st, _, body = request(srv.port, "GET", url[len(PUBLIC):])
    tap.ok(st == 200 and "join.js" in body.decode(),
           "the link in the SMS opens the party's session page", st)
    spool_left = [f for d in ("outbox", "sent", "error")
                  for f in os.listdir(os.path.join(gammu.spool, d))]
    tap.ok(wait_for(lambda: not [f for d in ("outbox", "sent", "error")
                                 for f in os.listdir(os.path.join(
                                     gammu.spool, d))], 10),
           "the spool keeps no text or number once delivered", spool_left)

    # moved: a new time, the same link
    st, _, body = request(srv.port, "POST",
                          "/api/v1/bookings/%d/reschedule" % booking, token,
                          {"start": "2026-12-10T10:00"})
    tap.ok(st == 200, "the session is moved", body)
    msgs = wait_captured(gammu, 4)
    bo, zh = by_number(msgs[2:], BO[1]), by_number(msgs[2:], ZH[1])
    tap.ok(len(bo) == 1 and in_tibetan(bo[0], "བསྒྱུར་ཟིན", "ཚེས་10")
           and url in bo[0] and "10:00" in bo[0],
           "the Tibetan move text carries the same link and the new time", bo)
    tap.ok(len(zh) == 1 and in_chinese(zh[0], "已改至", "12月10日"),
           "the Chinese move text gives the new day", zh)
    reminders = [m for m in outbox(centre) if m["purpose"] == "reminder"]
    tap.ok(sorted(m["state"] for m in reminders)
           == ["pending", "pending", "superseded", "superseded"],
           "the move superseded the first reminders and queued new ones",
           repr(reminders))
    srv.stop()

    # the day before: serve started at the reminder's time sends it; a
    # second start at the same time sends nothing more
    centre.env["MEDSCHED_NOW"] = "2026-12-09T10:01"
    srv = Server(centre, "--config", conf)
    msgs = wait_captured(gammu, 6)
    bo, zh = by_number(msgs[4:], BO[1]), by_number(msgs[4:], ZH[1])
    tap.ok(len(msgs) == 6 and len(bo) == 1 and len(zh) == 1,
           "the day before, each party got one reminder", repr(msgs[4:]))
    tap.ok(bo and in_tibetan(bo[0], "དྲན་སྐུལ", "སང་ཉིན") and url in bo[0],
           "the Tibetan reminder says tomorrow and carries the link", bo)
    tap.ok(zh and in_chinese(zh[0], "提醒您", "明天", "12月10日", "远程调解室")
           and "/join/" not in zh[0],
           "the Chinese reminder says tomorrow, the day and the place", zh)
    srv.stop()
    srv = Server(centre, "--config", conf)
    time.sleep(3)
    tap.ok(len(gammu.captured()) == 6,
           "serve started again sends no reminder twice",
           repr(gammu.captured()[6:]))
    sent_reminders = [m for m in outbox(centre) if m["purpose"] == "reminder"
                      and m["state"] == "sent"]
    tap.ok(len(sent_reminders) == 2, "the outbox says each reminder went once",
           repr(sent_reminders))
    srv.stop()

    # a gateway that is down: the link sent by hand waits in the outbox
    gammu.stop()
    srv = Server(centre, "--config", serve_config(centre, gammu, sms=False))
    st, _, body = request(srv.port, "POST",
                          "/api/v1/bookings/%d/links/1/send" % booking, token,
                          {})
    tap.ok(st == 200 and json_of(body) == {"channel": "sms"},
           "the link is sent again by SMS", body)
    srv.stop()
    flush = ["outbox", "flush", "--channel", "sms", "--sms-spool",
             gammu.spool, "--sms-timeout", "2"]
    p = subprocess.run([centre.bin, "--db", centre.db, "--now",
                        "2026-12-09T11:00", *flush], capture_output=True,
                       text=True, env=centre.env, timeout=60)
    keep_cli_log(centre, "flush-down", p)
    tap.ok(p.returncode == 1 and "retry in 60 s" in p.stdout
           and "did not take the message" in p.stdout,
           "with gammu-smsd down the attempt fails and is retried after "
           "60 s", p.stdout + p.stderr)
    tap.ok(not os.listdir(os.path.join(gammu.spool, "outbox")),
           "the failed attempt's file is taken back from the spool")
    link = [m for m in outbox(centre) if m["purpose"] == "link"]
    tap.ok(len(link) == 1 and link[0]["state"] == "pending"
           and link[0]["attempts"] == 1
           and link[0]["next_attempt_at"] == "2026-12-09 11:01",
           "the outbox holds it for the back-off", repr(link))
    p = subprocess.run([centre.bin, "--db", centre.db, "--now",
                        "2026-12-09T11:00", *flush], capture_output=True,
                       text=True, env=centre.env, timeout=60)
    tap.ok(p.returncode == 0 and "0 sent, 0 to retry" in p.stdout,
           "nothing is due during the back-off", p.stdout + p.stderr)
    gammu.start(gammu_log)
    p = subprocess.run([centre.bin, "--db", centre.db, "--now",
                        "2026-12-09T11:01", *flush], capture_output=True,
                       text=True, env=centre.env, timeout=60)
    keep_cli_log(centre, "flush-up", p)
    tap.ok(p.returncode == 0 and "1 sent" in p.stdout,
           "with gammu-smsd back the next flush delivers it",
           p.stdout + p.stderr)
    msgs = wait_captured(gammu, 7)
    tap.ok(len(msgs) == 7 and msgs[6][0] == BO[1] and url in msgs[6][1]
           and in_tibetan(msgs[6][1], "ཞུགས་པར་ཁྱེད་རང་ཉིད་ཀྱི་འབྲེལ་མཐུད"),
           "the party got their link, in Tibetan", repr(msgs[6:]))

    # cancelled
    srv = Server(centre, "--config", conf)
    st, _, body = request(srv.port, "POST",
                          "/api/v1/bookings/%d/cancel" % booking, token, {})
    tap.ok(st == 200, "the session is cancelled", body)
    msgs = wait_captured(gammu, 9)
    bo, zh = by_number(msgs[7:], BO[1]), by_number(msgs[7:], ZH[1])
    tap.ok(len(bo) == 1 and in_tibetan(bo[0], "རྩིས་མེད་བཏང་ཟིན")
           and "/join/" not in bo[0] and PHONE in bo[0],
           "the Tibetan cancellation, without a link, with the centre's "
           "telephone", bo)
    tap.ok(len(zh) == 1 and in_chinese(zh[0], "已取消", "12月10日"),
           "the Chinese cancellation names the day", zh)
    st, _, body = request(srv.port, "GET", url[len(PUBLIC):])
    tap.ok(st == 404, "the link opens nothing once cancelled", st)
    srv.stop()
    gammu.stop()

    ledger = [m for m in outbox(centre) if m["state"] == "sent"]
    tap.ok(len(ledger) == 9, "nine texts went out, each once", repr(ledger))

    # privacy: no number, no name in any log of this test
    logs = [p for p in glob.glob(os.path.join(centre.dir, "**", "*.log"),
                                 recursive=True)]
    leaks = []
    for path in logs:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for secret in (BO[0], BO[1], ZH[0], ZH[1], url.rsplit("/", 1)[1]):
            if secret in text:
                leaks.append("%s in %s" % (secret[:3] + "…",
                                           os.path.basename(path)))
    tap.ok(logs and not leaks, "no phone number, party name or link in the "
           "%d logs (serve, CLI, gammu-smsd)" % len(logs), "\n".join(leaks))

    # why docs/sms.md leaves gammu-smsd's LogFile unset: its own log names
    # the recipient at DebugLevel 0 already
    other = Gammu(os.path.join(centre.dir, "gammu-logfile"),
                  logfile=os.path.join(centre.dir, "gammu-logfile",
                                       "smsd.txt"))
    other.start(os.path.join(centre.dir, "gammu-logfile", "stderr.txt"))
    with open(os.path.join(other.spool, "outbox", "OUTB20261209_120000_00_"
                           "+8600000000000_probe.txt"), "w") as f:
        f.write("probe")
    wait_for(lambda: other.captured(), 20)
    other.stop()
    with open(os.path.join(centre.dir, "gammu-logfile", "smsd.txt"),
              encoding="utf-8", errors="replace") as f:
        own = f.read()
    tap.ok("+8600000000000" in own,
           "gammu-smsd's own LogFile names the recipient even at DebugLevel "
           "0 (so medsched's setup leaves it unset)", own[-500:])


def keep_cli_log(centre, name, p):
    """The CLI's stderr among the logs checked for privacy."""
    with open(os.path.join(centre.dir, "cli-%s.log" % name), "w") as f:
        f.write(p.stderr)


if __name__ == "__main__":
    sys.exit(main())
