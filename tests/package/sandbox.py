#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""sandbox.py — runs a systemd service's ExecStart= under as much of the
unit's sandbox as can be applied without systemd as PID 1.

    sandbox.py [--set KEY=VALUE]... [--env NAME=VALUE]... [--replace]
               UNIT [-- ARG...]

Reads the [Service] section of UNIT (a unit file), applies the settings
below in this process (root, in a mount namespace of its own), then
executes ExecStart= with ARG... appended (with --replace: ARG... instead
of ExecStart=, to run another command in the same sandbox). --set adds or overrides a unit
setting (e.g. --set MemoryDenyWriteExecute=yes for an experiment); --env
passes an environment variable through (the service's environment is
otherwise systemd's: PATH, LANG, HOME, USER, LOGNAME, SHELL, and the
unit's Environment=).

Applied, the way systemd applies them (systemd.exec(5)):

  User=, Group=, SupplementaryGroups=   initgroups + setresgid/setresuid
  UMask=, LimitNOFILE=                  umask, setrlimit
  StateDirectory=, CacheDirectory=      created with their modes, owned by
                                        User=, writable under ProtectSystem=
  ReadWritePaths=                       writable under ProtectSystem=
  ProtectSystem=strict                  every mount read-only but /dev,
                                        /proc, /sys and the writable paths
  ProtectHome=yes                       /home, /root, /run/user empty, mode 0
  PrivateTmp=yes                        fresh tmpfs on /tmp and /var/tmp
  ProtectKernelTunables=, ProtectControlGroups=
                                        /proc/sys and /sys read-only
  ProtectProc=invisible, ProcSubset=pid a new /proc mounted with
                                        hidepid=invisible,subset=pid
  CapabilityBoundingSet=, AmbientCapabilities= (empty)
                                        bounding set emptied, no ambient
  NoNewPrivileges=yes                   PR_SET_NO_NEW_PRIVS
  SystemCallFilter=, SystemCallErrorNumber=
                                        the same allow list as systemd
                                        (groups expanded by `systemd-analyze
                                        syscall-filter`), deny lists
                                        subtracted, seccomp via libseccomp
  SystemCallArchitectures=native        only the native ABI in the filter
  RestrictAddressFamilies=              socket() of another family:
                                        EAFNOSUPPORT
  MemoryDenyWriteExecute=yes            mmap with PROT_WRITE|PROT_EXEC,
                                        mprotect/pkey_mprotect adding
                                        PROT_EXEC, shmat with SHM_EXEC: EPERM
                                        (systemd 252's seccomp rules); =prctl
                                        (an experiment, not a systemd value)
                                        uses the kernel's PR_SET_MDWE instead,
                                        as newer systemd does where the
                                        kernel (6.3+) has it
  RestrictNamespaces=yes                clone with CLONE_NEW*, unshare,
                                        setns: EPERM; clone3: ENOSYS
  LockPersonality=yes                   personality() other than a query
                                        or PER_LINUX: EPERM

Not applied (printed on stderr at start): DevicePolicy=/DeviceAllow= and
IPAddressAllow=/IPAddressDeny= (cgroup device and BPF programs that only
systemd attaches), ProtectKernelModules=/ProtectKernelLogs=/ProtectClock=
/ProtectHostname= beyond the syscalls the filter already refuses,
RestrictRealtime= and RestrictSUIDSGID= beyond the filter, RemoveIPC=.
"""

import ctypes
import errno
import grp
import os
import pwd
import resource
import shlex
import subprocess
import sys

import seccomp

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                       ctypes.c_ulong, ctypes.c_char_p]

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_MDWE = 24, 38, 65
PROT_WRITE, PROT_EXEC, SHM_EXEC = 2, 4, 0o100000
NS_FLAGS = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 |
            0x10000000 | 0x20000000 | 0x40000000 | 0x00000080)
FAMILIES = {"AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10,
            "AF_NETLINK": 16, "AF_PACKET": 17, "AF_BLUETOOTH": 31,
            "AF_ALG": 38, "AF_VSOCK": 40}
NOT_APPLIED = ("DevicePolicy", "DeviceAllow", "IPAddressAllow",
               "IPAddressDeny", "RemoveIPC")


def die(msg):
    sys.exit("sandbox: " + msg)


def check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        die("%s: %s" % (what, os.strerror(e)))


def mount(src, target, fstype, flags, data=None):
    check(libc.mount(src and src.encode(), target.encode(),
                     fstype and fstype.encode(), flags,
                     data and data.encode()), "mount %s" % target)


def read_unit(path):
    """The [Service] settings: name -> list of values, in order."""
    settings, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                k, v = line.split("=", 1)
                settings.setdefault(k.strip(), []).append(v.strip())
    return settings


def last(settings, key, default=None):
    vals = settings.get(key)
    return vals[-1] if vals else default


def yes(settings, key):
    return last(settings, key, "no").lower() in ("yes", "true", "1", "on")


def words(settings, key):
    """A list setting: values accumulate; an empty assignment resets."""
    out = []
    for v in settings.get(key, []):
        out = [] if v == "" else out + v.split()
    return out


def expand_group(name, seen=None):
    """The syscalls of a systemd syscall group, recursively."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager",
                          name], capture_output=True, text=True, check=True)
    calls = set()
    for line in out.stdout.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            calls |= expand_group(line, seen)
        else:
            calls.add(line)
    return calls


def syscall_sets(settings):
    """(allowed, denied) from the SystemCallFilter= lines, in order."""
    allowed, denied = None, set()
    for v in settings.get("SystemCallFilter", []):
        deny = v.startswith("~")
        names = set()
        for w in v.lstrip("~").split():
            names |= expand_group(w) if w.startswith("@") else {w}
        if deny:
            if allowed is not None:
                allowed -= names
            else:
                denied |= names
        else:
            allowed = names if allowed is None else allowed | names
    return allowed, denied


def build_filter(settings):
    allowed, denied = syscall_sets(settings)
    err = last(settings, "SystemCallErrorNumber")
    deny_action = (seccomp.ERRNO(getattr(errno, err)) if err
                   else seccomp.KILL_PROCESS)
    if allowed is None:
        f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        allowed = None
    else:
        f = seccomp.SyscallFilter(defaction=deny_action)
    families = words(settings, "RestrictAddressFamilies")
    mdwe = yes(settings, "MemoryDenyWriteExecute")
    restrict_ns = last(settings, "RestrictNamespaces", "no") == "yes"
    lock_pers = yes(settings, "LockPersonality")
    # Syscalls whose arguments decide: handled below, never allowed whole.
    special = set()
    if families:
        special.add("socket")
    if mdwe:
        special |= {"mmap", "mprotect", "pkey_mprotect", "shmat"}
    if restrict_ns:
        special |= {"clone", "clone3", "unshare", "setns"}
    if lock_pers:
        special.add("personality")

    def rule(action, name, *args):
        try:
            f.add_rule(action, name, *args)
        except (RuntimeError, ValueError):
            pass  # unknown to libseccomp on this architecture

    def permitted(name):
        return allowed is None or name in allowed

    if allowed is not None:
        for name in sorted(allowed - special):
            rule(seccomp.ALLOW, name)
    else:
        for name in sorted(denied - special):
            rule(deny_action, name)
    ok = seccomp.ALLOW
    if families and permitted("socket"):
        nums = {FAMILIES[a] for a in families}
        for fam in range(64):
            if fam in nums:
                if allowed is not None:
                    rule(ok, "socket", seccomp.Arg(0, seccomp.EQ, fam))
            else:
                rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                     seccomp.Arg(0, seccomp.EQ, fam))
    if mdwe:
        wx = PROT_WRITE | PROT_EXEC
        for name in ("mmap",):
            if permitted(name):
                for v in (0, PROT_WRITE, PROT_EXEC):
                    if allowed is not None:
                        rule(ok, name, seccomp.Arg(2, seccomp.MASKED_EQ, wx, v))
                rule(seccomp.ERRNO(errno.EPERM), name,
                     seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
        for name in ("mprotect", "pkey_mprotect"):
            if permitted(name):
                if allowed is not None:
                    rule(ok, name,
                         seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, 0))
                rule(seccomp.ERRNO(errno.EPERM), name,
                     seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
        if permitted("shmat"):
            if allowed is not None:
                rule(ok, "shmat",
                     seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, 0))
            rule(seccomp.ERRNO(errno.EPERM), "shmat",
                 seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    if restrict_ns:
        if permitted("clone"):
            if allowed is not None:
                rule(ok, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, NS_FLAGS, 0))
            for bit in range(32):
                if NS_FLAGS & (1 << bit):
                    rule(seccomp.ERRNO(errno.EPERM), "clone",
                         seccomp.Arg(0, seccomp.MASKED_EQ, 1 << bit, 1 << bit))
        rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        for name in ("unshare", "setns"):
            rule(seccomp.ERRNO(errno.EPERM), name)
    if lock_pers and permitted("personality"):
        for v in (0, 0xFFFFFFFF):
            if allowed is not None:
                rule(ok, "personality", seccomp.Arg(0, seccomp.EQ, v))
    return f


def mounts():
    """Mount points of this namespace, parents first."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            p = line.split()[4].encode().decode("unicode_escape")
            points.append(p)
    return sorted(set(points), key=len)


def under(path, prefixes):
    return any(path == p or path.startswith(p.rstrip("/") + "/")
               for p in prefixes)


def apply_mounts(settings, user):
    outside = os.readlink("/proc/self/ns/mnt")
    if libc.unshare(CLONE_NEWNS) != 0:
        die("unshare(CLONE_NEWNS): %s" % os.strerror(ctypes.get_errno()))
    if os.readlink("/proc/self/ns/mnt") == outside:
        die("no mount namespace of its own: nothing is changed")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    writable = []
    for key, base in (("StateDirectory", "/var/lib"),
                      ("CacheDirectory", "/var/cache")):
        mode = int(last(settings, key + "Mode", "0755"), 8)
        for d in words(settings, key):
            path = os.path.join(base, d)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
            os.chown(path, user.pw_uid, user.pw_gid)
            writable.append(path)
    writable += [p.lstrip("-") for p in words(settings, "ReadWritePaths")]
    private_tmp = yes(settings, "PrivateTmp")
    strict = last(settings, "ProtectSystem") == "strict"
    tunables = yes(settings, "ProtectKernelTunables")
    # Writable paths become mounts of their own before the rest is made
    # read-only, so the read-only remount does not reach them.
    for p in writable:
        if os.path.isdir(p):
            mount(p, p, None, MS_BIND | MS_REC)
    if strict:
        keep = writable + ["/dev", "/proc", "/sys", "/run/user"]
        for p in mounts():
            if under(p, keep):
                continue
            try:
                mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except SystemExit:
                # a mount we may not touch (e.g. a locked one): it stays
                # as it is, and says so
                print("sandbox: could not make %s read-only" % p,
                      file=sys.stderr)
    if private_tmp:
        for p in ("/tmp", "/var/tmp"):
            mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if last(settings, "ProtectHome") in ("yes", "true"):
        for p in ("/home", "/root", "/run/user"):
            if os.path.isdir(p):
                mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "mode=000")
                mount(None, p, None,
                      MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    proc_opts = []
    if last(settings, "ProtectProc") == "invisible":
        proc_opts.append("hidepid=invisible")
    if last(settings, "ProcSubset") == "pid":
        proc_opts.append("subset=pid")
    if proc_opts:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              ",".join(proc_opts))
    if tunables or yes(settings, "ProtectControlGroups"):
        targets = ["/sys"] + (["/proc/sys"] if tunables and os.path.isdir(
            "/proc/sys") else [])
        for p in targets:
            mount(p, p, None, MS_BIND | MS_REC)
            for q in mounts():
                if under(q, [p]):
                    try:
                        mount(None, q, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
                    except SystemExit:
                        pass


def main():
    args = sys.argv[1:]
    overrides, passenv, extra = [], {}, []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1:]
    replace = False
    while args and args[0] in ("--set", "--env", "--replace"):
        if args[0] == "--replace":
            replace, args = True, args[1:]
            continue
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == "--set":
            overrides.append(val)
        else:
            k, v = val.split("=", 1)
            passenv[k] = v
    if len(args) != 1:
        die(__doc__)
    settings = read_unit(args[0])
    for o in overrides:
        k, v = o.split("=", 1)
        settings.setdefault(k, []).append(v)
    skipped = [k for k in NOT_APPLIED if k in settings]
    if skipped:
        print("sandbox: not applied without systemd: %s" % ", ".join(skipped),
              file=sys.stderr)
    argv = extra if replace else shlex.split(last(settings, "ExecStart")) + extra
    user = pwd.getpwnam(last(settings, "User", "root"))
    gid = grp.getgrnam(last(settings, "Group")).gr_gid \
        if last(settings, "Group") else user.pw_gid
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                   "/sbin:/bin",
           "LANG": "C.UTF-8", "HOME": user.pw_dir, "USER": user.pw_name,
           "LOGNAME": user.pw_name, "SHELL": user.pw_shell}
    for v in settings.get("Environment", []):
        for w in shlex.split(v):
            k, val = w.split("=", 1)
            env[k] = val
    env.update(passenv)

    with open("/proc/sys/kernel/cap_last_cap") as f:
        cap_last = int(f.read())
    apply_mounts(settings, user)
    nofile = last(settings, "LimitNOFILE")
    if nofile:
        n = int(nofile)
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    os.umask(int(last(settings, "UMask", "0022"), 8))
    filt = build_filter(settings) if (
        "SystemCallFilter" in settings or "RestrictAddressFamilies" in settings
        or yes(settings, "MemoryDenyWriteExecute")) else None
    groups = [gid] + [g.gr_gid for g in grp.getgrall()
                      if user.pw_name in g.gr_mem]
    for name in words(settings, "SupplementaryGroups"):
        groups.append(grp.getgrnam(name).gr_gid)
    if "CapabilityBoundingSet" in settings and \
            words(settings, "CapabilityBoundingSet") == []:
        for cap in range(cap_last + 1):
            check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0),
                  "PR_CAPBSET_DROP")
    os.setgroups(sorted(set(groups)))
    os.setresgid(gid, gid, gid)
    os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
    if yes(settings, "NoNewPrivileges") or filt is not None:
        check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "NO_NEW_PRIVS")
    os.chdir(last(settings, "WorkingDirectory", "/"))
    sys.stdout.flush()
    sys.stderr.flush()
    if last(settings, "MemoryDenyWriteExecute") == "prctl":
        check(libc.prctl(PR_SET_MDWE, 1, 0, 0, 0), "PR_SET_MDWE")
    if filt is not None:
        filt.load()
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
