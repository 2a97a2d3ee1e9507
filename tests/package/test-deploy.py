#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-deploy.py — what `meson install` adds besides the program, checked
in the build tree without installing anything:

  - medsched(1), generated from --help, has a subsection for every command
    `medsched --help` lists and names every option each command's --help
    prints; medsched-serve.conf(5) documents every key the server's
    configuration loader accepts ([server] keys from the `known` list of
    med_http_config_load in src/http/med-http-server.c, and [media]'s
    room-<id> and composite) and every key deploy/serve.conf sets; both
    pages format without a groff or man warning;
  - the systemd units, as meson configured them, pass `systemd-analyze
    verify` without a word (ExecStart= pointed at the built binary, since
    the configured prefix is not installed here);
  - the units keep the sandbox promises deploy/README.md makes: no
    IPAddressDeny= in medsched.service (WebRTC media comes from anywhere),
    no PrivateDevices= (cameras), AF_NETLINK allowed (libnice's interface
    list), MemoryDenyWriteExecute=yes kept, and ExecStart= of the backup
    service is the `medsched backup` command line.

Environment (set by meson): MEDSCHED, MEDSCHED_MAN1, MEDSCHED_MAN5,
MEDSCHED_UNITS_DIR (the configured units), MEDSCHED_BINDIR (the configured
bindir). Prints TAP.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))

from medtest import Tap  # noqa: E402

tap = Tap()
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "MANWIDTH": "100",
       "MEDSCHED_DB": "/nonexistent/medsched.db"}


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def commands(exe):
    """The commands `medsched --help` lists, each as a word list: a line's
    first two words when they answer --help as one command, else the
    first."""
    rc, out, _ = run([exe, "--help"])
    lines = out.split("Commands:", 1)[1].split("\n\n", 1)[0].splitlines()
    found = []
    for line in lines:
        w = line.split()
        if not w:
            continue
        for cand in (w[:2], w[:1]):
            rc, h, _ = run([exe, *cand, "--help"])
            usage = h.split("Usage:", 1)[-1].strip().split("\n", 1)[0]
            if rc == 0 and usage.startswith(" ".join(cand) + " "):
                found.append(cand)
                break
        else:
            found.append(None)
    return found


def options(exe, cmd):
    rc, out, _ = run([exe, *cmd, "--help"])
    opts = []
    block = out.split("Application Options:", 1)
    if len(block) == 2:
        for line in block[1].splitlines():
            m = re.match(r"\s+(--\S+)", line)
            if m:
                opts.append(m.group(1))
    return opts


def render(page):
    rc, out, err = run(["man", "--warnings", "-l", page])
    return rc, out, err


def check_man1(exe, page):
    rc, text, err = render(page)
    tap.ok(rc == 0 and not err.strip(), "medsched.1 formats without a "
           "warning", err)
    cmds = commands(exe)
    tap.ok(len(cmds) > 40 and None not in cmds,
           "medsched --help lists %d commands, each answering --help"
           % len(cmds), repr(cmds))
    heads = {line.strip() for line in text.splitlines()
             if line.startswith("   ") and not line.startswith("    ")}
    missing = [" ".join(c) for c in cmds if c and " ".join(c) not in heads]
    tap.ok(not missing, "medsched(1) has a subsection for every command",
           "missing: %s" % ", ".join(missing))
    sections = re.split(r"\n   (?=\S)", text)
    by_head = {s.split("\n", 1)[0].strip(): s for s in sections}
    bad = []
    for c in cmds:
        if not c:
            continue
        body = by_head.get(" ".join(c), "")
        for o in options(exe, c):
            if o not in body:
                bad.append("%s %s" % (" ".join(c), o))
    tap.ok(not bad, "every option of every command is in its subsection",
           "\n".join(bad[:30]))


def config_keys():
    with open(os.path.join(SOURCE_ROOT, "src", "http",
                           "med-http-server.c"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"med_http_config_load \(.*?known\[\]\s*=\s*\{(.*?)\}",
                  src, re.S)
    server = re.findall(r'"([a-z-]+)"', m.group(1)) if m else []
    media = []
    if 'g_str_has_prefix (keys[i], "room-")' in src:
        media.append("room-")
    if '"composite"' in src:
        media.append("composite")
    # [mail] and [sms] are read where serve starts its deliveries
    # (med-cli-serve.c): every known-keys array there
    with open(os.path.join(SOURCE_ROOT, "src", "cli", "med-cli-serve.c"),
              encoding="utf-8") as f:
        src = f.read()
    for m in re.finditer(r'known\[\]\s*=\s*\{([^}]*)\}', src):
        media += [k for k in re.findall(r'"([a-z-]+)"', m.group(1))
                  if k not in media]
    return server, media


def check_man5(page):
    rc, text, err = render(page)
    tap.ok(rc == 0 and not err.strip(), "medsched-serve.conf.5 formats "
           "without a warning", err)
    with open(page, encoding="utf-8") as f:
        roff = f.read().replace("\\-", "-")
    documented = set(re.findall(r"^\.B[IR]? ([a-z-]+)=", roff, re.M))
    documented |= {"room-"} if re.search(r"^\.BI room- ", roff, re.M) \
        else set()
    server, media = config_keys()
    tap.ok(len(server) >= 17, "the loader's [server] keys were found (%d)"
           % len(server), repr(server))
    missing = [k for k in server + media if k not in documented]
    tap.ok(not missing, "medsched-serve.conf(5) documents every key the "
           "server accepts", "missing: %s" % ", ".join(missing))
    extra = sorted(documented - set(server) - set(media))
    tap.ok(not extra, "and no key the server does not accept",
           ", ".join(extra))
    with open(os.path.join(SOURCE_ROOT, "deploy", "serve.conf"),
              encoding="utf-8") as f:
        shipped = re.findall(r"^([a-z-]+)\s*=", f.read(), re.M)
    tap.ok(shipped and set(shipped) <= documented,
           "every key of deploy/serve.conf is documented",
           ", ".join(sorted(set(shipped) - documented)))


def unit_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith("#")]


def check_units(units_dir, bindir, exe):
    tmp = tempfile.mkdtemp(prefix="medsched-units-")
    try:
        names = ["medsched.service", "medsched-backup.service"]
        for n in names:
            with open(os.path.join(units_dir, n), encoding="utf-8") as f:
                text = f.read()
            with open(os.path.join(tmp, n), "w", encoding="utf-8") as f:
                f.write(text.replace(bindir + "/medsched", exe))
        shutil.copy(os.path.join(SOURCE_ROOT, "deploy",
                                 "medsched-backup.timer"), tmp)
        paths = [os.path.join(tmp, n) for n in sorted(os.listdir(tmp))]
        # the manual pages are not installed here: --man=no
        rc, out, err = run(["systemd-analyze", "verify", "--man=no"] + paths)
        tap.ok(rc == 0 and not (out + err).strip(),
               "systemd-analyze verify: the configured units are clean",
               out + err)
    finally:
        shutil.rmtree(tmp)
    svc = unit_lines(os.path.join(units_dir, "medsched.service"))
    tap.ok("ExecStart=%s/medsched serve --config " % bindir in
           " ".join(svc), "medsched.service runs the configured binary "
           "with the configured serve.conf")
    tap.ok(not any(line.startswith("IPAddressDeny=") for line in svc),
           "medsched.service has no IPAddressDeny= (WebRTC media)")
    tap.ok(not any(line == "PrivateDevices=yes" for line in svc)
           and "DeviceAllow=char-video4linux rw" in svc,
           "medsched.service keeps the v4l2 cameras reachable")
    fams = [line for line in svc if line.startswith(
        "RestrictAddressFamilies=")]
    tap.ok(fams and "AF_NETLINK" in fams[-1].split("=", 1)[1].split(),
           "medsched.service allows AF_NETLINK (libnice lists addresses)",
           repr(fams))
    tap.ok("MemoryDenyWriteExecute=yes" in svc,
           "medsched.service keeps MemoryDenyWriteExecute=yes (ORC maps "
           "its code through a file)")
    tap.ok("ConditionPathExists=/var/lib/medsched/medsched.db" in svc,
           "medsched.service starts only once the database exists")
    backup = unit_lines(os.path.join(units_dir, "medsched-backup.service"))
    tap.ok("ExecStart=%s/medsched --db /var/lib/medsched/medsched.db backup "
           "--dir /var/lib/medsched/backups --keep 14" % bindir in backup,
           "medsched-backup.service runs the nightly backup command line")


def main():
    exe = os.environ.get("MEDSCHED")
    if not exe:
        tap.bail("MEDSCHED is not set: run through meson test")
    for tool in ("man", "systemd-analyze"):
        if shutil.which(tool) is None:
            tap.bail("%s is missing (scripts/deps installs it)" % tool)
    check_man1(exe, os.environ["MEDSCHED_MAN1"])
    check_man5(os.environ["MEDSCHED_MAN5"])
    check_units(os.environ["MEDSCHED_UNITS_DIR"],
                os.environ["MEDSCHED_BINDIR"], exe)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
