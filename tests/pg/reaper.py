#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""reaper.py — a tiny init for one test server: runs COMMAND as its child,
becomes the "child subreaper" of everything under it, reaps every orphan
at once, forwards SIGTERM/SIGINT/SIGQUIT/SIGHUP to COMMAND, and when
COMMAND ends kills (SIGKILL) and reaps whatever it left behind, then exits
with COMMAND's status.

    reaper.py COMMAND [ARG...]

Why: Patroni starts the postmaster the way pg_ctl does (a helper process
forks it and exits, so the postmaster is an orphan). On a machine whose
PID 1 does not reap (a container's), a killed postmaster stays a zombie,
psutil still sees it "running", and Patroni never notices the crash.
Under this reaper the postmaster is our descendant: it is reaped the
moment it dies, and it cannot outlive the test.

Standard library only (prctl through ctypes)."""

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children(pid):
    """The pids whose parent is pid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(name))
    return out


def main():
    if len(sys.argv) < 2:
        print("usage: reaper.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("reaper.py: prctl(PR_SET_CHILD_SUBREAPER): %s"
              % os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1

    child = os.fork()
    if child == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(s, forward)

    status = 1
    while True:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            break
        if pid == child:
            status = os.waitstatus_to_exitcode(st)
            break

    # COMMAND is gone: nothing of its may outlive it
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = children(os.getpid())
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
