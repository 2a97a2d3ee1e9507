#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-spdx.py — every source file of the tree says its licence: an
`SPDX-License-Identifier: GPL-3.0-or-later` line near its top (C, headers,
Python, shell, JavaScript, CSS, meson files). What is not the project's
own (the Tibetan font subset) is named in debian/copyright instead, which
the test checks too. Lists the files that miss it. TAP output.

--self-test first runs the same checks over a planted tree (no .git: the
tarball's walk) with one untagged file and no font stanza, and fails
unless they find exactly those.

Usage: check-spdx.py [--self-test] SOURCE_ROOT"""

import os
import subprocess
import sys
import tempfile

TAG = "SPDX-License-Identifier: GPL-3.0-or-later"
CODE_EXT = (".c", ".h", ".py", ".js", ".mjs", ".css", ".sh")
CODE_NAMES = ("meson.build", "meson_options.txt")


def sources(root):
    out = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True,
                         text=True)
    if out.returncode == 0:
        names = out.stdout.split("\n")
    else:  # a copy without .git (a release tarball)
        names = [os.path.relpath(os.path.join(d, f), root)
                 for d, _, fs in os.walk(root) for f in fs]
    for name in names:
        if not name or "node_modules" in name or name.startswith(".git"):
            continue
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        if name.endswith(CODE_EXT) or os.path.basename(name) in CODE_NAMES:
            yield name, path
        elif name.startswith("scripts/"):
            yield name, path


def check(root):
    """(number of source files, those missing the tag, font named)"""
    n, missing = 0, []
    for name, path in sources(root):
        n += 1
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(400)
        if TAG not in head:
            missing.append(name)
    with open(os.path.join(root, "debian", "copyright"),
              encoding="utf-8") as f:
        copyright = f.read()
    font = "Files: src/http/resources/fonts/*" in copyright and \
        "License: OFL-1.1" in copyright
    return n, missing, font


def self_test():
    """The checks over a planted tree: TAP lines, True when they found it."""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "src"))
        os.makedirs(os.path.join(root, "debian"))
        for i in range(60):
            with open(os.path.join(root, "src", "f%d.c" % i), "w") as f:
                f.write("/* %s */\nint x%d;\n" % (TAG, i))
        with open(os.path.join(root, "src", "bad.c"), "w") as f:
            f.write("/* no licence line */\n")
        with open(os.path.join(root, "debian", "copyright"), "w") as f:
            f.write("Files: *\nLicense: GPL-3.0-or-later\n")
        n, missing, font = check(root)
    return n == 61 and missing == ["src/bad.c"] and not font, \
        (n, missing, font)


def main():
    args = sys.argv[1:]
    planted = None
    if args and args[0] == "--self-test":
        planted = self_test()
        args = args[1:]
    root = args[0]
    n, missing, font = check(root)
    print("ok 1 - the tree has source files (%d)" % n if n > 50 else
          "not ok 1 - only %d source files found under %s" % (n, root))
    print(("ok" if not missing else "not ok") +
          " 2 - every source file carries the SPDX line")
    for m in missing:
        print("# missing: %s" % m)
    print(("ok" if font else "not ok") +
          " 3 - debian/copyright names the font subset and its licence")
    ok = n > 50 and not missing and font
    if planted is not None:
        print(("ok" if planted[0] else "not ok") +
              " 4 - self-test: a planted untagged file and a copyright "
              "without the font are found (%r)" % (planted[1],))
        ok = ok and planted[0]
        print("1..4")
    else:
        print("1..3")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
