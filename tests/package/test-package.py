#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-package.py — the Debian package, built and installed for real.

Builds medsched_<version>_amd64.deb with `dpkg-buildpackage -b -us -uc`
from a clean copy of the source tree (the files git knows, without build
directories), prints lintian's tags (none may be an error or a warning),
installs it with `apt-get install ./…deb` on this machine and checks what
a court's server gets: `gst-inspect-1.0 med` and `man -w` with no extra
environment, the medsched user, /var/lib/medsched (0700), the conffile
/etc/medsched/serve.conf (root:medsched 0640), the units enabled and
`systemd-analyze verify` clean. Then, as the medsched user:

  - `medsched init` without --calendars imports the installed holiday
    notices (2025–2026, national and Lhasa) and the scheduler uses them
    (the first slot after 国庆节 2026 is 8 October);
  - the installed `medsched serve` runs with the installed config as the
    unit's ExecStart= does (setpriv: medsched user, no capabilities, no new
    privileges, the unit's umask); a case and a session are booked through
    the API; `medsched record start … --input test://av` records into the
    installed media directory and serve lists the sealed recording;
  - serve runs again under the unit's whole sandbox as far as it applies
    without systemd (tests/package/sandbox.py: mount namespace with
    ProtectSystem=strict, PrivateTmp, ProtectHome, ProtectProc; seccomp with
    the unit's SystemCallFilter, RestrictAddressFamilies,
    MemoryDenyWriteExecute, RestrictNamespaces; no capabilities), with a
    [media] room of test://av inputs and a composite added to the
    installed config: it records that room's hearing by itself (GStreamer
    with ORC under MemoryDenyWriteExecute, the burned-in stamp's font) and
    carries a WebRTC call of two aiortc parties admitted from the console,
    recorded too; every recording is sealed, verifies and is readable by
    medsched only;
  - an upgrade (a second build with a higher version) keeps the database
    and the edited config;
  - `apt-get remove`, then `apt-get purge`: no medsched process is left,
    the configuration goes, /var/lib/medsched stays (and purge says so).

The machine is left as found: the package is purged, and the data, cache
and user this test created are removed, also when a check fails. Needs
root; refuses to run when a medsched package or /var/lib/medsched is
already there. Registered in meson's suite `package`, not in parallel with
other tests: while it runs, the installed plugin is in GStreamer's system
directory. Prints TAP.
"""

import asyncio
import glob
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "http"))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "webrtc"))

from medtest import Tap  # noqa: E402
from httptest import json_of, request  # noqa: E402

tap = Tap()

PKG = "medsched"
STATE = "/var/lib/medsched"
CACHE = "/var/cache/medsched"
DB = STATE + "/medsched.db"
CONF = "/etc/medsched/serve.conf"
UNIT_DIR = "/lib/systemd/system"
UNITS = ("medsched.service", "medsched-backup.service",
         "medsched-backup.timer")
BIN = "/usr/bin/medsched"
SANDBOX = os.path.join(HERE, "sandbox.py")
PY = "/usr/bin/python3"
# The service's clock in the test (MEDSCHED_NOW): Monday 2026-12-07.
NOW_INTAKE = "2026-12-07T08:00"
NOW_SANDBOX = "2026-12-07T10:00"
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
             "LC_ALL": "C.UTF-8"}
DEB_BUILD_OPTIONS = "nocheck parallel=2 noautodbgsym"

started = []  # subprocess.Popen objects this test started


def run(argv, timeout=600, env=None, input=None, cwd=None, user=None,
        log=None):
    """Runs argv (as user via runuser when given); (rc, out, err)."""
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    full_env = dict(CLEAN_ENV)
    full_env.update(env or {})
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           env=full_env, input=input, cwd=cwd or "/",
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return 124, e.stdout or "", "timed out after %ds" % timeout
    if log:
        with open(log, "w", encoding="utf-8") as f:
            f.write(p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def med(*args, now=NOW_INTAKE, input=None, env=None):
    """The installed medsched as the medsched user, on the installed DB."""
    e = {"MEDSCHED_NOW": now}
    e.update(env or {})
    return run([BIN, "--db", DB, *args], user="medsched", env=e,
               input=input, timeout=180)


def must_med(what, *args, **kw):
    rc, out, err = med(*args, **kw)
    if not tap.ok(rc == 0, what, out + err):
        raise Abort(what)
    return out


class Abort(Exception):
    """A step that later steps depend on failed."""


def installed_version():
    rc, out, _ = run(["dpkg-query", "-W", "-f=${Status} ${Version}", PKG])
    if rc != 0 or not out.startswith("install ok installed"):
        return None
    return out.split()[-1]


def unit_service(name):
    """The [Service] settings of an installed unit: key -> [values]."""
    settings, section = {}, None
    with open(os.path.join(UNIT_DIR, name), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and \
                    not line.startswith("#"):
                k, v = line.split("=", 1)
                settings.setdefault(k, []).append(v)
    return settings


def medsched_processes():
    """Pids of processes running an installed medsched binary (or one
    deleted by the package's removal)."""
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            exe = os.readlink(d + "/exe")
        except OSError:
            continue
        if exe == BIN or exe == BIN + " (deleted)":
            pids.append(int(os.path.basename(d)))
    return pids


# ---- build -----------------------------------------------------------------

def copy_tree(dest):
    """The source tree as git sees it (tracked and new files, nothing git
    ignores: no build directories), or without git a copy minus build*/,
    demo/ and node_modules/."""
    rc, out, _ = run(["git", "-C", SOURCE_ROOT, "ls-files", "-z", "--cached",
                      "--others", "--exclude-standard"])
    if rc == 0 and out:
        names = [n for n in out.split("\0") if n]
        for n in names:
            src = os.path.join(SOURCE_ROOT, n)
            if not os.path.lexists(src):
                continue  # deleted in the work tree
            os.makedirs(os.path.dirname(os.path.join(dest, n)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, n), follow_symlinks=False)
        return len(names)
    skip = shutil.ignore_patterns("build*", "demo", "node_modules", ".git",
                                  "__pycache__", "*.pyc")
    shutil.copytree(SOURCE_ROOT, dest, ignore=skip, dirs_exist_ok=True)
    return sum(len(f) for _, _, f in os.walk(dest))


def build(tree, work, tag):
    t0 = time.monotonic()
    rc, out, err = run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=tree,
                       env={"DEB_BUILD_OPTIONS": DEB_BUILD_OPTIONS,
                            "HOME": work},
                       timeout=1800, log=os.path.join(work, tag + ".log"))
    _, version, _ = run(["dpkg-parsechangelog", "-S", "Version"], cwd=tree)
    version = version.strip()
    deb = os.path.join(os.path.dirname(tree),
                       "%s_%s_amd64.deb" % (PKG, version))
    ok = tap.ok(rc == 0 and os.path.exists(deb),
                "dpkg-buildpackage -b -us -uc builds %s (%.0f s)"
                % (os.path.basename(deb), time.monotonic() - t0),
                (out + err)[-3000:])
    if not ok:
        raise Abort("build")
    return deb, version


def lintian(changes):
    rc, out, err = run(["lintian", "--info", "--display-experimental",
                        "--pedantic", "--show-overrides", "--color", "never",
                        changes], timeout=600)
    tags = [line for line in (out + err).splitlines()
            if re.match(r"^[EWIPXO]: ", line)]
    tap.diag("lintian %s:" % os.path.basename(changes))
    for line in tags or ["(no tags)"]:
        tap.diag("  " + line)
    bad = [t for t in tags if t.startswith(("E:", "W:"))]
    tap.ok(rc in (0, 2) and not bad and "error" not in err.lower(),
           "lintian: no error and no warning (%d tags shown, overridden "
           "ones included)" % len(tags),
           "\n".join(bad) or err)


# ---- installed files ---------------------------------------------------------

def check_installed(version):
    tap.ok(installed_version() == version, "apt-get installed %s %s"
           % (PKG, version))
    home = tempfile.mkdtemp(prefix="medsched-gst-home-")
    try:
        # no GST_* variables, a fresh registry: the system plugin directory
        rc, out, err = run(["gst-inspect-1.0", "med"], env={"HOME": home})
    finally:
        shutil.rmtree(home, ignore_errors=True)
    tap.ok(rc == 0 and "medstamp" in out and "medrecorder" in out,
           "gst-inspect-1.0 med finds the installed plugin with no "
           "environment", out + err)
    for page, section in (("medsched", "1"), ("medsched-serve.conf", "5")):
        rc, out, err = run(["man", "-w", section, page])
        tap.ok(rc == 0 and out.strip().endswith(".%s.gz" % section),
               "man -w %s %s: %s" % (section, page, out.strip()), err)
    rc, out, _ = run(["man", "1", "medsched"], env={"MANWIDTH": "80"})
    tap.ok(rc == 0 and "record start" in out and "serve" in out
           and "--calendars=DIR" in out,
           "man medsched shows the commands with their options",
           out[:500])
    cals = sorted(os.path.basename(p) for p in
                  glob.glob("/usr/share/medsched/calendars/*.ics"))
    tap.ok(len(cals) == 4, "the holiday notices are installed in "
           "/usr/share/medsched/calendars", repr(cals))
    try:
        pw = pwd.getpwnam("medsched")
    except KeyError:
        pw = None
    tap.ok(pw is not None and pw.pw_dir == STATE and pw.pw_uid < 1000
           and pw.pw_shell.endswith("nologin"),
           "a medsched system user with home %s and no shell" % STATE,
           repr(pw))
    rc, out, _ = run(["id", "-nG", "medsched"])
    tap.ok("video" in out.split(), "medsched is in group video (cameras)",
           out)
    st = os.stat(STATE) if os.path.isdir(STATE) else None
    tap.ok(st is not None and (st.st_mode & 0o777) == 0o700 and pw
           and st.st_uid == pw.pw_uid,
           "%s exists, mode 0700, owned by medsched" % STATE,
           oct(st.st_mode) if st else "missing")
    rc, out, _ = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG])
    st = os.stat(CONF) if os.path.exists(CONF) else None
    tap.ok(CONF in out, "%s is a conffile" % CONF, out)
    tap.ok(st is not None and (st.st_mode & 0o777) == 0o640
           and st.st_uid == 0 and pw and st.st_gid == pw.pw_gid,
           "%s is root:medsched 0640 (it may hold the TURN password)" % CONF,
           oct(st.st_mode) if st else "missing")
    wants = {"medsched.service": "multi-user.target.wants",
             "medsched-backup.timer": "timers.target.wants"}
    for unit, target in wants.items():
        link = "/etc/systemd/system/%s/%s" % (target, unit)
        tap.ok(os.path.islink(link), "%s is enabled (%s)" % (unit, link))
    rc, out, err = run(["systemd-analyze", "verify"] +
                       [os.path.join(UNIT_DIR, u) for u in UNITS])
    tap.ok(rc == 0 and not (out + err).strip(),
           "systemd-analyze verify: the installed units are clean",
           out + err)
    svc = unit_service("medsched.service")
    tap.ok(any("ConditionPathExists=" + DB in line for line in
               open(os.path.join(UNIT_DIR, "medsched.service"))),
           "medsched.service waits for the database (ConditionPathExists)")
    backup = unit_service("medsched-backup.service")
    tap.ok(backup.get("ExecStart") == [
        "%s --db %s backup --dir %s/backups --keep 14" % (BIN, DB, STATE)],
        "medsched-backup.service runs the nightly backup command",
        repr(backup.get("ExecStart")))
    return svc


# ---- the centre, as the administrator makes it -------------------------------

def setup_centre(work):
    out = must_med("medsched init without --calendars", "init", "--name",
                   "测试调解中心", "--layers", "CN,CN-XZ-LS",
                   "--public-url", "https://mediation.example.org")
    tap.ok("imported 4 holiday notices" in out,
           "init imports the 4 installed holiday notices", out)
    notices = json.loads(must_med("calendar list --json", "calendar",
                                  "list", "--json"))
    got = sorted((n.get("jurisdiction"), n.get("year")) for n in notices)
    tap.ok(got == [("CN", 2025), ("CN", 2026), ("CN-XZ-LS", 2025),
                   ("CN-XZ-LS", 2026)],
           "national and Lhasa notices of 2025 and 2026 are loaded",
           repr(got))
    doc = {
        "rooms": [
            {"name": "远程调解室一", "kind": "remote", "capacity": 6,
             "features": ["video", "recording"]},
            {"name": "远程调解室二", "kind": "remote", "capacity": 6,
             "features": ["video", "recording"]},
        ],
        "mediators": [
            {"name": "扎西次仁", "languages": ["zh", "bo"],
             "specialties": ["wages", "neighbour", "contract"],
             "daily_cap": 24},
            {"name": "王芳", "languages": ["zh"],
             "specialties": ["wages", "contract"], "daily_cap": 24},
        ],
    }
    path = os.path.join(work, "centre.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    os.chmod(path, 0o644)
    must_med("import rooms and mediators", "import", path)
    must_med("user add admin", "user", "add", "admin", "--role", "admin",
             "--iterations", "1000", input="password-admin\n")
    token = must_med("user token admin", "user", "token", "admin").strip()
    # The installed calendars at work: 1–7 October 2026 are 国庆节
    # holidays, so the first slot after 30 September is on the 8th.
    must_med("case add (holiday check)", "case", "add", "--number",
             "(2026)藏0102调1号", "--kind", "wages", "--party",
             "applicant,zh,remote,张三", now="2026-09-30T17:00")
    must_med("case dispatch", "case", "dispatch", "1", "--department",
             "court-mediation", now="2026-09-30T17:00")
    out = must_med("slots after the National Day holidays", "slots", "1",
                   "--count", "1", "--json", now="2026-09-30T17:00")
    tap.ok('"2026-10-08' in out, "the scheduler skips 国庆节 1–7 Oct 2026 "
           "(first slot on the 8th)", out)
    return token


# ---- serve as ExecStart= runs it ---------------------------------------------

def service_env(svc, extra=None):
    """The environment systemd gives the service (User=, Environment=)."""
    pw = pwd.getpwnam("medsched")
    env = dict(CLEAN_ENV, HOME=pw.pw_dir, USER="medsched", LOGNAME="medsched",
               SHELL=pw.pw_shell)
    for v in svc.get("Environment", []):
        for w in shlex.split(v):
            k, val = w.split("=", 1)
            env[k] = val
    env.update(extra or {})
    return env


def prepare_dirs(svc):
    """What systemd does before ExecStart=: StateDirectory= and
    CacheDirectory= with their modes, owned by User=."""
    pw = pwd.getpwnam("medsched")
    for key, base in (("StateDirectory", "/var/lib"),
                      ("CacheDirectory", "/var/cache")):
        for d in svc.get(key, []):
            path = os.path.join(base, d)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, int(svc.get(key + "Mode", ["0755"])[-1], 8))
            os.chown(path, pw.pw_uid, pw.pw_gid)


class Serve:
    """The installed `medsched serve` on a free loopback port (the one
    change to ExecStart=: --listen 127.0.0.1:0, since tests never use a
    fixed port), started by argv_prefix (setpriv or sandbox.py)."""

    def __init__(self, argv, env, work, name):
        self.err_path = os.path.join(work, name + ".err")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=env,
                                     cwd="/")
        started.append(self.proc)
        line = self.proc.stdout.readline()
        self.port = None
        if "listening on port" in line:
            self.port = int(line.rsplit(" ", 1)[1])

    def stderr(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, timeout=45):
        """SIGTERM as `systemctl stop` sends it; TimeoutStopSec=45."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        self.err.close()
        return self.proc.returncode


def execstart(svc):
    return shlex.split(svc["ExecStart"][-1]) + ["--listen", "127.0.0.1:0"]


def serve_setpriv(svc, work):
    umask = int(svc.get("UMask", ["0022"])[-1], 8)
    argv = ["setpriv", "--reuid=medsched", "--regid=medsched",
            "--init-groups", "--no-new-privs", "--inh-caps=-all",
            "--bounding-set=-all", "--", "sh", "-c",
            "umask %03o && exec \"$@\"" % umask, "sh"] + execstart(svc)
    return Serve(argv, service_env(svc, {"MEDSCHED_NOW": NOW_INTAKE}), work,
                 "serve-setpriv")


def book_through_api(srv, token):
    st, _, body = request(srv.port, "POST", "/api/v1/cases", token=token,
                          body={"number": "(2026)藏0102调2号",
                                "kind": "wages",
                                "department": "court-mediation",
                                "parties": [
                                    {"name": "李四", "role": "applicant",
                                     "language": "zh",
                                     "attendance": "remote"}]})
    case = (json_of(body) or {}).get("case", {})
    tap.ok(st == 201 and case.get("id"), "POST /api/v1/cases: intake and "
           "dispatch through the API", body[:400])
    st, _, body = request(srv.port, "POST", "/api/v1/bookings", token=token,
                          body={"case_id": case.get("id"),
                                "start": "2026-12-07T09:00", "room_id": 1,
                                "mediator_id": 1})
    booking = (json_of(body) or {}).get("booking", {})
    tap.ok(st == 201 and booking.get("id"), "POST /api/v1/bookings books a "
           "session through the API", body[:400])
    return booking.get("id")


def record_cli(booking):
    """`medsched record start` as the medsched user into the installed
    media directory (recordings/ beside the database)."""
    rc, out, err = med("record", "start", str(booking), "--input", "test://av",
                       "--duration", "4", "--segment", "2", "--regime",
                       "hearing", now="2026-12-07T09:05",
                       env={"MEDSCHED_RECORDINGS": STATE + "/recordings"})
    tap.ok(rc == 0 and "sealed" in out, "medsched record start --input "
           "test://av records as medsched", out + err[-2000:])
    rows = json.loads(med("recording", "list", "--json", "--booking",
                          str(booking))[1] or "[]")
    rec = rows[-1] if rows else {}
    rdir = rec.get("dir") or ""
    tap.ok(rec.get("state") == "sealed"
           and rdir.startswith(STATE + "/recordings/")
           and os.path.exists(os.path.join(rdir, "recording.mkv")),
           "the recording is sealed in %s/recordings" % STATE, repr(rows))
    if rec.get("id"):
        rc, out, err = med("recording", "verify", str(rec["id"]))
        tap.ok(rc == 0, "medsched recording verify %s" % rec["id"],
               out + err)
    return rec.get("id")


# ---- serve inside the unit's sandbox: room recording and a WebRTC call ------

def edit_config(room):
    """The administrator's edit: a room terminal with test inputs and the
    composite (kept across the upgrade below)."""
    with open(CONF, "a", encoding="utf-8") as f:
        f.write("\n# added by tests/package: a room terminal\n"
                "[media]\nroom-%d=test://av\ncomposite=true\n" % room)


async def webrtc_call(srv, token, booking):
    import webrtcclient as wc

    base = "ws://127.0.0.1:%d" % srv.port
    st, _, body = request(srv.port, "GET",
                          "/api/v1/bookings/%d/links" % booking, token=token)
    links = json_of(body) or []
    if not tap.ok(st == 200 and len(links) == 2, "the call's two join links",
                  body[:300]):
        return False
    console = await wc.console(base, booking, token,
                               origin="http://127.0.0.1:%d" % srv.port)
    parties = [wc.Party(base, lk["path"]) for lk in links]
    for p in parties:
        await p.connect(consent=True)
    for p in parties:
        pid = p.welcome["you"]
        await console.expect(
            lambda m, pid=pid: m.get("type") == "state" and any(
                q["id"] == pid and q["state"] == "waiting"
                for q in m["participants"]), timeout=15, what="waiting")
        await console.send({"type": "admit", "participant": pid})
        await p.sig.expect_type("admitted")
        await p.call(timeout=30)
    t = time.monotonic() + 20
    while time.monotonic() < t and not all(
            p.received["video"] > 5 and p.received["audio"] > 5
            for p in parties):
        await asyncio.sleep(0.1)
    tap.ok(all(p.received["video"] > 5 and p.received["audio"] > 5
               for p in parties),
           "a WebRTC call through the sandboxed serve: each party decodes "
           "the other's video and audio",
           repr([p.received for p in parties]))
    try:
        pair = parties[0].pc.getTransceivers()[0].receiver.transport \
            .transport._connection._nominated
        tap.diag("ICE pairs of party 1: %s" % ", ".join(
            "%s -> %s" % (p.local_candidate.host, p.remote_candidate.host)
            for p in pair.values()))
    except Exception:  # noqa: BLE001 — aioice internals, a diagnostic only
        pass
    await console.send({"type": "record", "action": "start"})
    await console.expect(lambda m: m.get("type") == "state"
                         and m.get("recording") == "recording",
                         timeout=15, what="recording")
    await asyncio.sleep(4)
    await console.send({"type": "record", "action": "stop"})
    await console.expect(lambda m: m.get("type") == "state"
                         and m.get("recording") == "off", timeout=30,
                         what="recording off")
    for p in parties:
        await p.hangup()
    await console.close()
    return True


def recordings_of(booking):
    rc, out, _ = med("recording", "list", "--json", "--booking",
                     str(booking))
    try:
        return json.loads(out) if rc == 0 else []
    except ValueError:
        return []


def wait_sealed(booking, n, timeout=60):
    t = time.monotonic() + timeout
    rows = []
    while time.monotonic() < t:
        rows = recordings_of(booking)
        if len(rows) >= n and all(r.get("state") in ("sealed", "failed",
                                                     "stopped")
                                  for r in rows):
            break
        time.sleep(0.5)
    return rows


def serve_sandboxed(svc, work, token):
    # Two more sessions at 10:00: one in the room with a terminal (a
    # hearing: serve records it by itself), one a call of two remote
    # parties in the other room.
    ids = []
    for k, (room, mediator, parties) in enumerate(
            ((1, 1, ["applicant,zh,remote,王五"]),
             (2, 2, ["applicant,zh,remote,赵六", "respondent,zh,remote,钱七"])),
            start=3):
        args = ["case", "add", "--number", "(2026)藏0102调%d号" % k,
                "--kind", "wages"]
        for p in parties:
            args += ["--party", p]
        must_med("case %d" % k, *args)
        must_med("dispatch %d" % k, "case", "dispatch", str(k),
                 "--department", "court-mediation")
        out = must_med("book %d" % k, "book", str(k), "--at",
                       "2026-12-07T10:00", "--room", str(room), "--mediator",
                       str(mediator), "--json")
        ids.append(json.loads(out)["id"])
    hearing, call_booking = ids
    must_med("booking note: a hearing", "booking", "note", str(hearing),
             "recording: hearing")
    edit_config(1)
    # PACKAGE_TEST_UNIT_SET="Key=Value;Key=Value" tries a variant of the
    # unit (e.g. "RestrictAddressFamilies=;RestrictAddressFamilies=AF_INET
    # AF_INET6 AF_UNIX" to see what AF_NETLINK is for).
    sets = []
    for kv in filter(None, os.environ.get("PACKAGE_TEST_UNIT_SET",
                                          "").split(";")):
        sets += ["--set", kv]
        tap.diag("unit variant: " + kv)
    unit = os.path.join(UNIT_DIR, "medsched.service")
    # The emulation is in force: a shell in the same sandbox.
    probe = ("touch /etc/medsched/probe 2>/dev/null && echo etc-rw; "
             "touch /usr/probe 2>/dev/null && echo usr-rw; "
             "touch %s/probe && rm %s/probe && echo state-rw; "
             "ls /root >/dev/null 2>&1 && echo home-visible; "
             "test -e /proc/1/status && echo pid1-visible; "
             "grep -E '^(NoNewPrivs|Seccomp|CapBnd|Uid):' /proc/self/status"
             % (STATE, STATE))
    rc, out, err = run([PY, SANDBOX, *sets, "--replace", unit, "--",
                        "/bin/sh", "-c", probe])
    uid = pwd.getpwnam("medsched").pw_uid
    tap.ok(rc == 0 and out.split("\n")[0] == "state-rw"
           and re.search(r"NoNewPrivs:\s+1", out)
           and re.search(r"Seccomp:\s+2", out)
           and re.search(r"CapBnd:\s+0+\n", out)
           and re.search(r"Uid:\s+%d\s" % uid, out),
           "the sandbox is in force: only %s writable, /root and other "
           "users' processes hidden, no new privileges, seccomp, no "
           "capabilities, uid medsched" % STATE, out + err)
    argv = [PY, SANDBOX, "--env", "MEDSCHED_NOW=" + NOW_SANDBOX,
            "--env", "ORC_DEBUG=3", *sets,
            unit, "--", "--listen", "127.0.0.1:0"]
    srv = Serve(argv, dict(CLEAN_ENV), work, "serve-sandbox")
    if not tap.ok(srv.port is not None, "serve starts inside the unit's "
                  "sandbox (tests/package/sandbox.py)", srv.stderr()[-2000:]):
        srv.stop()
        raise Abort("sandboxed serve")
    tap.diag(srv.stderr().splitlines()[0] if srv.stderr() else "")
    try:
        ok = asyncio.run(asyncio.wait_for(
            webrtc_call(srv, token, call_booking), 120))
    except Exception as e:  # noqa: BLE001 — reported, then cleaned up
        ok = tap.ok(False, "the WebRTC call", repr(e))
    time.sleep(2)  # the room recording keeps going meanwhile
    rc = srv.stop()
    err = srv.stderr()
    tap.ok(rc == 0, "SIGTERM stops the sandboxed serve (exit %s)" % rc,
           err[-2000:])
    bad = [line for line in err.splitlines()
           if re.search(r"CRITICAL|Failed to create write and exec|"
                        r"ORC: ERROR|Operation not permitted|"
                        r"Address family not supported", line)]
    tap.ok(not bad, "nothing in serve's log says the sandbox refused "
           "something", "\n".join(bad[:20]))
    compiled = len(re.findall(r"orc_program_compile_full\(\): finished "
                              r"compiling \(success\)", err))
    tap.ok(compiled > 0, "ORC compiled %d programs inside the sandbox "
           "(MemoryDenyWriteExecute=yes)" % compiled)
    room = wait_sealed(hearing, 1)
    tap.ok(room and all(r.get("state") == "sealed" for r in room),
           "serve recorded the room's hearing (test://av + composite) "
           "inside the sandbox, sealed", repr(room))
    if room:
        comp = os.path.join(room[0]["dir"], "composite", "recording.mkv")
        tap.ok(os.path.exists(comp), "the stamped composite was recorded "
               "(medstamp, compositor, x264enc under "
               "MemoryDenyWriteExecute)", comp)
    call = wait_sealed(call_booking, 2) if ok else []
    tap.ok(len(call) >= 2 and all(r.get("state") == "sealed" for r in call),
           "both parties of the call were recorded and sealed", repr(call))
    for r in room + call:
        rc, out, err = med("recording", "verify", str(r["id"]))
        tap.ok(rc == 0, "recording verify %s (%s)" % (r["id"], r.get("dir")),
               out + err)
    loose, n = [], 0
    for r in room + call:
        for top, dirs, files in os.walk(r["dir"]):
            for name in dirs + files:
                p = os.path.join(top, name)
                n += 1
                if os.stat(p).st_mode & 0o077:
                    loose.append(p)
    tap.ok(n > 0 and not loose, "every file serve recorded is readable by "
           "medsched only (UMask=0077; %d files)" % n, "\n".join(loose[:10]))


# ---- upgrade, remove, purge ------------------------------------------------

def second_build(tree, version):
    """The same tree with a changelog entry of a higher version."""
    new = version + "+pkgtest1"
    with open(os.path.join(tree, "debian", "changelog"), encoding="utf-8") as f:
        old = f.read()
    entry = ("%s (%s) unstable; urgency=medium\n\n"
             "  * Upgrade test build (tests/package/test-package.py).\n\n"
             " -- medsched maintainers <maintainers@users.noreply."
             "r-seed-d17f808d.example>  Mon, 07 Dec 2026 12:00:00 +0000\n\n"
             % (PKG, new))
    with open(os.path.join(tree, "debian", "changelog"), "w",
              encoding="utf-8") as f:
        f.write(entry + old)
    return new


def apt(*args):
    # another apt on this machine may hold the lock for a while: wait
    return run(["apt-get", "-y", "-q", "--no-install-recommends",
                "-o", "DPkg::Lock::Timeout=600", *args],
               env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=900)


def upgrade(tree, work, version):
    with open(CONF, encoding="utf-8") as f:
        conf_before = f.read()
    bookings_before = med("agenda", "--from", "2026-12-07", "--to",
                          "2026-12-07", "--json")[1]
    second_build(tree, version)
    deb2, version2 = build(tree, work, "build2")
    rc, out, err = apt("install", deb2)
    tap.ok(rc == 0 and installed_version() == version2,
           "apt-get install upgrades to %s" % version2, (out + err)[-2000:])
    with open(CONF, encoding="utf-8") as f:
        conf_after = f.read()
    tap.ok(conf_after == conf_before and "[media]" in conf_after,
           "the upgrade keeps the edited %s" % CONF, conf_after)
    tap.ok(not glob.glob(CONF + ".dpkg-*"), "no .dpkg-dist/.dpkg-new left "
           "beside it", repr(glob.glob(CONF + ".dpkg-*")))
    after = med("agenda", "--from", "2026-12-07", "--to", "2026-12-07",
                "--json")[1]
    tap.ok(after == bookings_before and after.count('"id"') >= 3,
           "the upgrade keeps the database (the day's bookings)", after[:500])
    rc, out, err = med("check")
    tap.ok(rc == 0, "medsched check after the upgrade", out + err)
    st = os.stat(CONF)
    tap.ok((st.st_mode & 0o777) == 0o640, "the config is still 0640 after "
           "the upgrade", oct(st.st_mode))


def remove_and_purge():
    rc, out, err = apt("remove", PKG)
    tap.ok(rc == 0 and installed_version() is None
           and not os.path.exists(BIN), "apt-get remove medsched",
           (out + err)[-2000:])
    tap.ok(os.path.exists(CONF) and os.path.exists(DB),
           "remove keeps the configuration and the database")
    tap.ok(not medsched_processes(), "no medsched process runs after "
           "remove", repr(medsched_processes()))
    rc, out, err = apt("purge", PKG)
    _, status, _ = run(["dpkg-query", "-W", "-f=${Status}", PKG])
    tap.ok(rc == 0 and "install ok" not in status,
           "apt-get purge medsched", (out + err)[-2000:])
    tap.ok(not os.path.exists("/etc/medsched"), "purge removes /etc/medsched")
    tap.ok(os.path.exists(DB) and "/var/lib/medsched" in out + err,
           "purge keeps %s and says so" % STATE, (out + err)[-1000:])
    rc, out, _ = run(["dpkg-statoverride", "--list", CONF])
    tap.ok(rc != 0, "purge removes the statoverride of the config", out)
    tap.ok(not glob.glob("/etc/systemd/system/*.wants/medsched*"),
           "purge removes the units' enablement links")
    tap.ok(not medsched_processes(), "no medsched process runs after purge",
           repr(medsched_processes()))


# ---- main --------------------------------------------------------------------

def cleanup(user_existed):
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()
    if installed_version() is not None or run(
            ["dpkg-query", "-W", PKG])[0] == 0:
        apt("purge", PKG)
    shutil.rmtree(STATE, ignore_errors=True)
    shutil.rmtree(CACHE, ignore_errors=True)
    if not user_existed:
        run(["userdel", "medsched"])
        run(["groupdel", "medsched"])


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP the package test installs a package: needs root")
        return 77
    missing = [t for t in ("dpkg-buildpackage", "dh", "lintian", "apt-get",
                           "runuser", "setpriv", "systemd-analyze", "man")
               if shutil.which(t) is None]
    if missing:
        tap.bail("missing %s (scripts/deps installs them)" % " ".join(missing))
    if run(["dpkg-query", "-W", PKG])[0] == 0:
        tap.bail("a %s package is already on this machine; the test would "
                 "purge it: remove it first" % PKG)
    if os.path.exists(STATE):
        tap.bail("%s exists; the test would use and delete it: move it "
                 "away first" % STATE)
    try:
        pwd.getpwnam("medsched")
        user_existed = True
    except KeyError:
        user_existed = False
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="medsched-package-")
    os.chmod(work, 0o755)
    try:
        rc, version, _ = run(["dpkg-parsechangelog", "-S", "Version",
                              "-l", os.path.join(SOURCE_ROOT, "debian",
                                                 "changelog")])
        tree = os.path.join(work, "%s-%s" % (PKG, version.strip()))
        n = copy_tree(tree)
        tap.ok(not glob.glob(os.path.join(tree, "build*")),
               "a clean copy of the tree: %d files, no build directory" % n)
        deb, version = build(tree, work, "build1")
        lintian(deb.replace(".deb", ".changes"))
        rc, out, err = apt("install", deb)
        if not tap.ok(rc == 0, "apt-get install ./%s"
                      % os.path.basename(deb), (out + err)[-3000:]):
            raise Abort("install")
        svc = check_installed(version)
        token = setup_centre(work)
        prepare_dirs(svc)
        srv = serve_setpriv(svc, work)
        if not tap.ok(srv.port is not None, "the installed serve starts as "
                      "medsched with %s (setpriv, no capabilities, no new "
                      "privileges)" % CONF, srv.stderr()[-2000:]):
            srv.stop()
            raise Abort("serve")
        st, _, body = request(srv.port, "GET", "/healthz")
        tap.ok(st == 200, "GET /healthz", body)
        booking = book_through_api(srv, token)
        rec = record_cli(booking)
        st, _, body = request(srv.port, "GET",
                              "/api/v1/bookings/%s/recordings" % booking,
                              token=token)
        got = json_of(body) or []
        tap.ok(st == 200 and any(r.get("id") == rec and
                                 r.get("state") == "sealed" for r in got),
               "serve lists the sealed recording of the booking", body[:400])
        rc = srv.stop()
        tap.ok(rc == 0, "SIGTERM stops serve with exit status 0 (%s)" % rc,
               srv.stderr()[-1000:])
        serve_sandboxed(svc, work, token)
        upgrade(tree, work, version)
        remove_and_purge()
    except Abort as e:
        tap.diag("stopped after a failed step: %s" % e)
    finally:
        cleanup(user_existed)
        tap.ok(installed_version() is None and not os.path.exists(STATE)
               and not medsched_processes(),
               "the machine is left as found (package purged, no process, "
               "no %s)" % STATE)
        shutil.rmtree(work, ignore_errors=True)
        tap.diag("package test took %.0f s" % (time.monotonic() - t0))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
