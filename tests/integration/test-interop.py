#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-interop.py — do other calendar software read what medsched writes
the way medsched means it?

interop/gen-corpus (a C program on libmedsched, fixed seed) writes well
over a thousand .ics files through medsched's ical module — invites with
1–30 attendees, feeds with 0–60 events, free/busy, and external busy
calendars with RRULE, EXDATE and RECURRENCE-ID — in Chinese, Tibetan and
English with long descriptions, and a manifest of the UTC instants each
must yield; it checks them with libical itself. Then every file must:

- pass `medsched ics lint` (one run over all of them);
- read in Debian's python3-icalendar and python3-vobject
  (interop/check-corpus.py, under /usr/bin/python3);
- read in ical.js, the parser Thunderbird uses (interop/check-corpus.mjs
  under node; the npm package is pinned by interop/package-lock.json and
  installed by scripts/deps);

each time with no floating time and the same instants as the manifest,
and for the busy calendars the same occurrences medsched expands.

Prints TAP. Needs $MEDSCHED and $MEDSCHED_INTEROP_GEN (meson test sets
both). Never skips: a missing parser is a failure that says how to get it.
"""

import json
import os
import shutil
import subprocess
import sys

from medtest import Tap, medsched_path, tempdir

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(HERE, "interop")
MIN_FILES = 1000


def run(argv, timeout=900, cwd=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def report(t, parser, rc, out, err, n_files):
    try:
        data = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        t.ok(False, "%s reads the corpus" % parser,
             "exit %d\nstdout: %s\nstderr: %s" % (rc, out[-2000:],
                                                 err[-2000:]))
        return
    problems = data.get("problems", [])
    t.ok(rc == 0 and not problems and data.get("files") == n_files,
         "%s: %d files, %d events/periods, %d busy occurrences, same UTC "
         "instants as the manifest, nothing floating"
         % (parser, data.get("files", 0), data.get("events", 0),
            data.get("occurrences", 0)),
         "%d problems, first ones:\n%s\n%s" % (len(problems),
                                               "\n".join(problems[:20]),
                                               err[-1500:]))


def main():
    t = Tap()
    exe = medsched_path(t)
    gen = os.environ.get("MEDSCHED_INTEROP_GEN")
    if not gen or not os.access(gen, os.X_OK):
        t.bail("MEDSCHED_INTEROP_GEN is not the gen-corpus executable: run "
               "through meson test")
    with tempdir() as tmp:
        corpus = os.path.join(tmp, "corpus")
        rc, out, err = run([gen, corpus])
        t.ok(rc == 0, "gen-corpus writes the corpus and libical reads every "
             "file back with the manifest's instants, lint-clean",
             out + err[-4000:])
        try:
            with open(os.path.join(corpus, "manifest.json"),
                      encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            t.bail("no manifest: %s" % e)
        files = [e["file"] for e in manifest["files"]]
        kinds = {}
        for e in manifest["files"]:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        t.ok(len(files) >= MIN_FILES,
             "%d files (%s)" % (len(files), ", ".join(
                 "%d %s" % (n, k) for k, n in sorted(kinds.items()))))
        atts = [e["attendees"] for e in manifest["files"]
                if e["kind"] == "invite"]
        evs = [len(e["events"]) for e in manifest["files"]
               if e["kind"] == "feed"]
        t.ok(atts and min(atts) == 1 and max(atts) == 30 and evs
             and min(evs) == 0,
             "invites with 1–30 attendees, feeds with 0–%d events"
             % (max(evs) if evs else 0))

        rc, out, err = run([exe, "ics", "lint"]
                           + [os.path.join(corpus, f) for f in files])
        clean = out.count(": clean")
        dirty = [line for line in out.splitlines()
                 if not line.endswith(": clean")]
        t.ok(rc == 0 and clean == len(files),
             "medsched ics lint: %d of %d clean" % (clean, len(files)),
             "\n".join(dirty[:40]) + "\n" + err[-1500:])

        for parser in ("icalendar", "vobject"):
            rc, out, err = run(["/usr/bin/python3",
                                os.path.join(INTEROP, "check-corpus.py"),
                                corpus, parser])
            report(t, "python3-" + parser, rc, out, err, len(files))

        node = shutil.which("node")
        if node is None:
            t.ok(False, "ical.js reads the corpus",
                 "node is not installed: run scripts/deps")
        elif not os.path.isdir(os.path.join(INTEROP, "node_modules",
                                            "ical.js")):
            t.ok(False, "ical.js reads the corpus",
                 "ical.js is not installed in %s: run scripts/deps "
                 "(npm ci there)" % INTEROP)
        else:
            rc, out, err = run([node, os.path.join(INTEROP,
                                                   "check-corpus.mjs"),
                                corpus], cwd=INTEROP)
            report(t, "ical.js", rc, out, err, len(files))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
