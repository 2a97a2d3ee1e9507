#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-layering.py — the front ends change data only through the service.

    check-layering.py PORT_HEADER STORE_LIB SERVICE_LIB FRONTEND_LIB…

Reads every function the store's write port declares
(src/store/port/med-store-write.h) and lists, with nm, the undefined
symbols of each front end's static library (src/http, src/cli): a front
end that calls a store write — through a stray declaration, a copied
prototype, anything the compiler let through — fails here, named by its
object file. The compiler already refuses the header itself (it is not on
the front ends' include path); this looks at what was really built.

Checks that the check can fail: the port declares a few dozen writes, the
store library defines every one of them, and the service library (which
may call them) is seen referencing some. TAP."""

import re
import subprocess
import sys


def writes_of(header):
    text = open(header, encoding="utf-8").read()
    # declarations start at the beginning of a line: TYPE med_store_x (
    names = re.findall(r"^[A-Za-z][^\n;(]*?\b(med_store_[a-z0-9_]+) \(",
                       text, re.M)
    return set(names)


def nm(lib, *flags):
    """(object file, symbol) pairs of nm's output for lib."""
    p = subprocess.run(["nm", "-A", *flags, lib], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("nm %s: %s" % (lib, p.stderr))
    out = []
    for line in p.stdout.splitlines():
        # lib.a:member.o:  U symbol   or   lib.a:member.o:0000 T symbol
        head, _, rest = line.rpartition(": ")
        if not head:
            head, _, rest = line.rpartition(":")
        parts = rest.split()
        if parts:
            member = head.split(":")[-1] if ":" in head else head
            out.append((member, parts[-1]))
    return out


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    header, store_lib, service_lib, fronts = argv[0], argv[1], argv[2], argv[3:]
    n = 0
    failed = 0

    def ok(cond, name, diag=""):
        nonlocal n, failed
        n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
        if not cond:
            failed += 1
            for line in diag.splitlines():
                print("# " + line)

    writes = writes_of(header)
    ok(len(writes) >= 40, "the write port declares %d functions" % len(writes))
    defined = {s for _, s in nm(store_lib, "--defined-only", "-g")}
    missing = sorted(writes - defined)
    ok(not missing, "the store library defines every write of the port",
       "missing: " + ", ".join(missing))
    used = {s for _, s in nm(service_lib, "-u")} & writes
    ok(len(used) >= 10, "the service library is seen calling %d writes"
       % len(used))
    for lib in fronts:
        calls = sorted({"%s calls %s" % (obj, s)
                        for obj, s in nm(lib, "-u") if s in writes})
        ok(not calls, "%s calls no store write" % lib.rsplit("/", 1)[-1],
           "\n".join(calls))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
