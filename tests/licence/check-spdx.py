#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-spdx.py — every source file of the tree says its licence: an
`SPDX-License-Identifier: GPL-3.0-or-later` line near its top (C, headers,
Python, shell, JavaScript, CSS, meson files). What is not the project's
own (the Tibetan font subset) is named in debian/copyright instead, which
the test checks too. Lists the files that miss it. TAP output.

Usage: check-spdx.py SOURCE_ROOT"""

import os
import subprocess
import sys

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


def main():
    root = sys.argv[1]
    n, missing = 0, []
    for name, path in sources(root):
        n += 1
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(400)
        if TAG not in head:
            missing.append(name)
    print("ok 1 - the tree has source files (%d)" % n if n > 50 else
          "not ok 1 - only %d source files found under %s" % (n, root))
    print(("ok" if not missing else "not ok") +
          " 2 - every source file carries the SPDX line")
    for m in missing:
        print("# missing: %s" % m)
    with open(os.path.join(root, "debian", "copyright"),
              encoding="utf-8") as f:
        copyright = f.read()
    font = "Files: src/http/resources/fonts/*" in copyright and \
        "License: OFL-1.1" in copyright
    print(("ok" if font else "not ok") +
          " 3 - debian/copyright names the font subset and its licence")
    print("1..3")
    return 0 if n > 50 and not missing and font else 1


if __name__ == "__main__":
    sys.exit(main())
