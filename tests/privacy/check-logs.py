#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-logs.py — no party name, phone number or capability token in any
log the test suites produce (issue 10: "nothing in a log names a party, a
phone number or a capability token").

It scans the files and directories named on the command line (meson's
testlog.txt with every test's output, and build/tests/logs/ where the tests
keep medsched's access logs and stderr and nginx's logs; text files only)
for

- the parties of the test fixtures: their names and contacts, read from
  the test sources themselves (`--party role,lang,attendance,NAME[,CONTACT]`
  arguments, JSON parties with a "role", "contact" values), so that a new
  fixture is covered without editing this file; a name that is too short to
  tell from ordinary text (one character, or ASCII under four) is skipped,
  and staff names of the fixtures (mediators, interpreters) are masked
  first, since a party name may be part of one (次仁 in 扎西次仁);
- phone numbers: any mainland mobile number (11 digits, 1[3-9]…);
- capability tokens by shape: a run of exactly 22 (party join links) or 43
  (feeds, bearer tokens, sessions: 256 bits) base64url characters with both
  upper- and lower-case letters, standing alone;
- a `feed=` query value that is not redacted.

What it finds is reported masked (its kind, the file and line, the first
characters), since its own output is a log too. Exit status 1 when
anything is found. --self-test first plants each kind of leak in a
temporary directory and fails unless every one is found and the clean file
beside them is not flagged (the check of the check). TAP output.

Usage: check-logs.py [--self-test] [--sources DIR] PATH..."""

import argparse
import os
import re
import sys
import tempfile

TOKEN = re.compile(r"(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{22})"
                   r"(?![A-Za-z0-9_-])")
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
FEED = re.compile(r"[?&]feed=(?!…|%E2%80%A6)([^&\s\"']+)")
PARTY_ARG = re.compile(
    r"(?:applicant|respondent|third-party|agent|judge),[a-z]{2,3},"
    r"[a-z-]+,([^,\"'\s]+)(?:,([^\"'\s]+))?")
PARTY_JSON = re.compile(
    r"\\?\"name\\?\"\s*:\s*\\?\"([^\"\\]+)\\?\"(?:\s*%\s*\w+)?\s*,\s*"
    r"\\?\"role\\?\"\s*:\s*\\?\"(?:applicant|respondent|third-party|agent)")
CONTACT = re.compile(r"\\?\"contact\\?\"\s*:\s*\\?\"([^\"\\]+)")
STAFF_JSON = re.compile(
    r"\\?\"name\\?\"\s*:\s*\\?\"([^\"\\]+)\\?\"\s*,\s*"
    r"\\?\"(?:languages|pairs)\\?\"")
SOURCE_EXT = (".py", ".c", ".mjs", ".sh", ".json")
TEXT_EXT = (".log", ".txt", ".json", ".tap")
MAX_BYTES = 256 * 1024 * 1024


WORD = re.compile(r"[A-Z]?[a-z]{2,}|[A-Z]{2,}")


def is_token(s):
    """A run of base64url characters with both cases that is not made of
    words: a GLib log domain (medsched-store-Message), a systemd setting
    (MemoryDenyWriteExecute) or a temporary directory of the tests
    (medsched-…) reads as words; 128 random bits almost never do."""
    if not (any(c.isupper() for c in s) and any(c.islower() for c in s)):
        return False
    if s.startswith("medsched-"):
        return False
    pieces = [p for p in re.split(r"[-_]", s) if p]
    worded = all(WORD.sub("", p) == "" and
                 all(len(w) >= 3 and re.search(r"[aeiouyAEIOUY]", w)
                     for w in WORD.findall(p))
                 for p in pieces)
    return not worded


def pattern_of(name):
    """A regex for a fixture name (%d → digits), or None when the name
    cannot be told from ordinary text."""
    if "%s" in name or "{" in name or "%(" in name or "\\" in name:
        return None
    literal = re.sub(r"%0?\d*d", "", name)
    if len(literal) < 2 or (literal.isascii() and len(literal) < 4):
        return None
    out = ""
    pos = 0
    for m in re.finditer(r"%(0?)(\d*)d", name):
        out += re.escape(name[pos:m.start()])
        # a fixed width prints exactly that many digits
        out += r"\d{%s}" % m.group(2) if m.group(1) and m.group(2) else r"\d+"
        pos = m.end()
    out += re.escape(name[pos:])
    # a number is a whole number: 1380%07d is not the 13809 of a timestamp
    if name[:1].isdigit():
        out = r"(?<!\d)" + out
    if name[-1:].isdigit() or name.endswith("d"):
        out += r"(?!\d)"
    return out


def fixtures(sources):
    """(party name regexes, contact regexes, staff names) of the tests."""
    names, contacts, staff = set(), set(), set()
    for top in sources:
        for base, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in ("node_modules", ".git")]
            for f in files:
                if not f.endswith(SOURCE_EXT):
                    continue
                try:
                    with open(os.path.join(base, f), encoding="utf-8",
                              errors="replace") as fh:
                        text = fh.read()
                except OSError:
                    continue
                for m in PARTY_ARG.finditer(text):
                    names.add(m.group(1))
                    if m.group(2):
                        contacts.add(m.group(2))
                for m in PARTY_JSON.finditer(text):
                    names.add(m.group(1))
                for m in CONTACT.finditer(text):
                    contacts.add(m.group(1))
                for m in STAFF_JSON.finditer(text):
                    staff.add(m.group(1))
    name_re = sorted({p for p in map(pattern_of, names) if p})
    contact_re = sorted({p for p in map(pattern_of, contacts) if p})
    staff = {n for n in staff if pattern_of(n) and "%" not in n}
    return name_re, contact_re, sorted(staff, key=len, reverse=True)


def mask(s):
    return (s[:3] + "…(%d chars)" % len(s)) if len(s) > 3 else "…"


class Checker:
    def __init__(self, names, contacts, staff):
        self.names = [re.compile(p) for p in names]
        self.contacts = [re.compile(p) for p in contacts]
        self.staff = staff

    def line_findings(self, line):
        out = []
        for m in TOKEN.finditer(line):
            if is_token(m.group(1)):
                out.append(("token", m.group(1)))
        for m in FEED.finditer(line):
            out.append(("feed= secret", m.group(1)))
        for m in PHONE.finditer(line):
            out.append(("phone number", m.group(0)))
        masked = line
        for s in self.staff:
            masked = masked.replace(s, "<staff>")
        for rx in self.names:
            m = rx.search(masked)
            if m:
                out.append(("party name", m.group(0)))
        for rx in self.contacts:
            m = rx.search(masked)
            if m:
                out.append(("party contact", m.group(0)))
        return out

    def scan_file(self, path, report):
        try:
            if os.path.getsize(path) > MAX_BYTES:
                report.append((path, 0, "too large to scan", ""))
                return
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            report.append((path, 0, "unreadable: %s" % e.strerror, ""))
            return
        if b"\0" in data[:8192]:
            return  # binary
        text = data.decode("utf-8", errors="replace")
        for no, line in enumerate(text.splitlines(), 1):
            for kind, what in self.line_findings(line):
                report.append((path, no, kind, what))

    def scan(self, paths):
        report, files = [], 0
        for p in paths:
            if os.path.isdir(p):
                for base, _, names in os.walk(p):
                    for n in sorted(names):
                        if n.endswith(TEXT_EXT):
                            files += 1
                            self.scan_file(os.path.join(base, n), report)
            elif os.path.isfile(p):
                files += 1
                self.scan_file(p, report)
        return files, report


def self_test(checker, tap):
    """Plants one leak of each kind and a clean file; each leak must be
    found, the clean file must pass."""
    leaks = {
        "party name": "booking 3: party 张三 joined",
        "phone number": "sms to 13912345678 queued",
        "token": "GET /join/Zq3xTbW9kLmN0pQrStUv1w HTTP/1.1",
        "token ": "Authorization: Bearer "
                  "Fd8sKq2LmN4pQr6StUv8Wx0Yz1Ab3Cd5Ef7Gh9Ij2Kl",
        # one without a digit is still a token
        "token  ": "GET /join/ZqxTbWkLmNpQrStUvwAbCd HTTP/1.1",
        "feed= secret": "GET /cases/7?msg=feed&feed=abc HTTP/1.1",
    }
    clean = "\n".join([
        '{"path":"/join/…","status":404}',
        '{"path":"/feeds/….ics","query":"?…"}',
        "GET /cases/7?msg=feed&feed=… HTTP/1.1",
        "booking 3: party-12 connected; mediator 扎西次仁 (staff)",
        "sha256 0b1c7e9a4f2d3c5b6a7988a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7",
        "seed R02S6d6c28be604e356a3114cad1799c56bd",
        "ok 1 /http/auth/login-growing-delay",
        "(medsched:1234): medsched-store-Message: 01:02:03.456: opened",
        "MemoryDenyWriteExecute=yes kept: ORC runs",
        "/tmp/medsched-test-jgKe2kf3/db.sqlite",
    ]) + "\n"
    with tempfile.TemporaryDirectory(prefix="medsched-privacy-") as d:
        with open(os.path.join(d, "clean.log"), "w", encoding="utf-8") as f:
            f.write(clean)
        _, report = checker.scan([os.path.join(d, "clean.log")])
        tap("self-test: a clean log passes", not report,
            "; ".join("%s: %s" % (k, mask(w)) for _, _, k, w in report))
        for kind, line in leaks.items():
            path = os.path.join(d, "leak.log")
            with open(path, "w", encoding="utf-8") as f:
                f.write(clean + line + "\n")
            _, report = checker.scan([d])
            found = [r for r in report if r[2] == kind.strip()
                     and r[0] == path]
            tap("self-test: a planted %s is found" % kind.strip(),
                len(found) == 1 and found[0][1] == clean.count("\n") + 1,
                repr([(os.path.basename(r[0]), r[1], r[2])
                      for r in report]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--sources", action="append", default=[],
                    help="where the fixtures are (default: the project's "
                    "tests/ and scripts/)")
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    sources = args.sources or [os.path.join(root, "tests"),
                               os.path.join(root, "scripts")]
    names, contacts, staff = fixtures(sources)
    checker = Checker(names, contacts, staff)
    n = failed = 0

    def tap(name, ok, diag=""):
        nonlocal n, failed
        n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
        if not ok:
            failed += 1
            for line in str(diag).splitlines():
                print("# " + line)

    print("# %d party names, %d contacts and %d staff names from the "
          "fixtures" % (len(names), len(contacts), len(staff)))
    tap("the fixtures name parties", len(names) >= 5,
        "only %d names found in %s" % (len(names), sources))
    if args.self_test:
        self_test(checker, tap)
    files, report = checker.scan(args.paths)
    kinds = {}
    for path, no, kind, what in report:
        kinds.setdefault(kind, []).append((path, no, what))
    diag = []
    for kind, hits in sorted(kinds.items()):
        diag.append("%d × %s" % (len(hits), kind))
        for path, no, what in hits[:10]:
            diag.append("  %s:%d: %s" % (path, no, mask(what)))
    # no log read is no check: a missing directory must not pass
    tap("no party name, phone number or token in %d log files" % files,
        files > 0 and not report,
        "\n".join(diag) if files else "no log file found in %s"
        % " ".join(args.paths))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
