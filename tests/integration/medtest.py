# SPDX-License-Identifier: GPL-3.0-or-later
"""medtest.py — what the integration tests share: a TAP writer, a runner for
the medsched executable named by $MEDSCHED, where a test's store lives
(new_db: a SQLite file, or under tests/pg/pgserver.py a fresh PostgreSQL
database) and read-only looks into it (Python's sqlite3 module, or psql).

Standard library only; the tests run under Debian's /usr/bin/python3. The
tests never skip: without $MEDSCHED they bail out (a failure), because a
test that silently does nothing hides a broken build.
"""

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))

# Markers of something that must never reach a user: GLib criticals and
# warnings (G_DEBUG=fatal-criticals turns criticals into aborts anyway), and
# sanitizer reports when the executable is instrumented.
FORBIDDEN = (
    "CRITICAL",
    "WARNING",
    "AddressSanitizer",
    "LeakSanitizer",
    "runtime error:",
    "Segmentation fault",
)


class Tap:
    """TAP output: one line per check, the plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace",
                               line_buffering=True)

    def ok(self, cond, name, diag=None):
        self.n += 1
        name = name.replace("#", "\\#").replace("\n", " ")
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            # stderr too: meson test --print-errorlogs shows it
            print("not ok %d - %s" % (self.n, name), file=sys.stderr)
            if diag:
                self.diag(diag)
                for line in str(diag).splitlines():
                    print("    " + line, file=sys.stderr)
        return bool(cond)

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line)

    def bail(self, why):
        print("Bail out! " + why.replace("\n", " "))
        sys.exit(1)

    def done(self):
        print("1..%d" % self.n)
        if self.failed:
            print("%d of %d checks failed" % (self.failed, self.n),
                  file=sys.stderr)
        return 1 if self.failed else 0


def medsched_path(tap):
    path = os.environ.get("MEDSCHED")
    if not path:
        tap.bail("MEDSCHED is not set: run through meson test, or set it "
                 "to the medsched executable")
    if not os.access(path, os.X_OK):
        tap.bail("MEDSCHED=%s is not an executable file" % path)
    return path


def calendars_dir():
    return os.environ.get("MEDSCHED_CALENDARS",
                          os.path.join(SOURCE_ROOT, "calendars"))


def as_text(b):
    return b.decode("utf-8", errors="backslashreplace")


class Result:
    def __init__(self, argv, rc, outb, errb):
        self.argv = argv
        self.rc = rc
        self.outb = outb
        self.errb = errb
        self.out = as_text(outb)
        self.err = as_text(errb)

    def json(self):
        """The parsed stdout, or None when it is not JSON."""
        try:
            return json.loads(self.outb.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def crashed(self):
        return self.rc < 0 or self.rc >= 128

    def forbidden(self):
        return [m for m in FORBIDDEN if m in self.err or m in self.out]

    def describe(self):
        argv = " ".join(a if isinstance(a, str) else repr(a)
                        for a in self.argv[1:])
        lines = ["command: medsched " + argv, "exit status: %d" % self.rc]
        if self.rc < 0:
            try:
                lines.append("killed by " + signal.Signals(-self.rc).name)
            except ValueError:
                pass
        if self.out:
            lines.append("stdout: " + self.out[:1500])
        if self.err:
            lines.append("stderr: " + self.err[:1500])
        return "\n".join(lines)


class Med:
    """Runs medsched on one database with a fixed clock and actor."""

    def __init__(self, exe, db, now="2026-12-07T08:00", cwd=None):
        self.exe = exe
        self.db = db
        self.now = now
        self.cwd = cwd
        self.history = []

    def run(self, *args, now=None, db=None, timeout=120, stdin=None,
            no_globals=False, env=None):
        """env: variables to set (None as a value removes one). LANGUAGE
        is removed unless given: the suites run under LC_ALL=C.UTF-8 and
        read the English messages, and glibc (so medsched) honours
        LANGUAGE under C.UTF-8."""
        argv = [self.exe]
        if not no_globals:
            argv += ["--db", db if db is not None else self.db,
                     "--now", now if now is not None else self.now,
                     "--actor", "test"]
        argv += [str(a) if isinstance(a, int) else a for a in args]
        run_env = dict(os.environ)
        run_env.setdefault("G_DEBUG", "fatal-criticals")
        run_env.pop("LANGUAGE", None)
        for k, v in (env or {}).items():
            if v is None:
                run_env.pop(k, None)
            else:
                run_env[k] = v
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL
                               if stdin is None else stdin,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, cwd=self.cwd, env=run_env)
            r = Result(argv, p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired as e:
            r = Result(argv, -int(signal.SIGKILL), e.stdout or b"",
                       (e.stderr or b"") + b"\n[timed out]")
        self.history.append(r)
        return r


class StdinText:
    """Text for a command's standard input (Med.run(stdin=…)): a
    temporary file holding it."""

    def __init__(self, text):
        self.f = tempfile.TemporaryFile()
        self.f.write(text.encode())
        self.f.seek(0)

    def fileno(self):
        return self.f.fileno()


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---- where the store lives ------------------------------------------------

def test_db_pg():
    """True under tests/pg/pgserver.py: stores are PostgreSQL databases."""
    return os.environ.get("MEDSCHED_TEST_DB") == "postgresql"


def is_pg(db):
    return db.startswith("postgresql://") or db.startswith("postgres://")


def psql(url, sql):
    """Runs sql on the PostgreSQL database url; the rows as lists of
    strings. Raises RuntimeError on an error."""
    bindir = os.environ.get("MEDSCHED_TEST_PG_BIN",
                            "/usr/lib/postgresql/15/bin")
    p = subprocess.run([os.path.join(bindir, "psql"), "-X", "-q", "-A",
                        "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-c", sql],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("psql: " + p.stderr.decode(errors="replace"))
    return [line.split("\x1f")
            for line in p.stdout.decode().splitlines() if line]


_pg_dbs = [0]


def pg_db_url(name):
    """The URL of database name on the test server."""
    base = os.environ["MEDSCHED_TEST_PG"]
    return base.replace("///postgres?", "///%s?" % name, 1)


def new_db(tmp, name):
    """A new, empty store for a test: tmp/NAME.db, or under
    tests/pg/pgserver.py a fresh PostgreSQL database (its URL)."""
    if not test_db_pg():
        return os.path.join(tmp, name + ".db")
    _pg_dbs[0] += 1
    db = "t%d_%d_%s" % (os.getpid(), _pg_dbs[0],
                        re.sub("[^a-z0-9]", "_", name.lower())[:30])
    psql(os.environ["MEDSCHED_TEST_PG"], "CREATE DATABASE %s" % db)
    return pg_db_url(db)


def copy_db(db, tmp, name):
    """A copy of store db (not in use) for tampering: a file copy, or a
    PostgreSQL database made from it as a template."""
    if not is_pg(db):
        import shutil
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        path = os.path.join(tmp, name + ".db")
        shutil.copyfile(db, path)
        return path
    _pg_dbs[0] += 1
    src = db.split("///", 1)[1].split("?", 1)[0]
    dst = "t%d_%d_%s" % (os.getpid(), _pg_dbs[0], name)
    psql(os.environ["MEDSCHED_TEST_PG"],
         "CREATE DATABASE %s TEMPLATE %s" % (dst, src))
    return pg_db_url(dst)


def query(db, sql):
    """Rows of a read-only query on store db (values are strings on
    PostgreSQL)."""
    if is_pg(db):
        return [tuple(r) for r in psql(db, sql)]
    con = connect_ro(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def has_tables(db):
    """Whether store db has any table (for a file: whether it exists)."""
    if is_pg(db):
        return int(psql(db, "SELECT count(*) FROM pg_tables WHERE "
                        "schemaname = current_schema()")[0][0]) > 0
    return os.path.exists(db)


def connect_ro(db):
    """A read-only connection (WAL readers still need the -shm file, which
    SQLite creates beside the database if missing)."""
    return sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)


def tables(con):
    return [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]


def audit_table(con):
    names = tables(con)
    for n in ("audit", "audit_log", "audit_entry"):
        if n in names:
            return n
    for n in names:
        if "audit" in n:
            return n
    raise RuntimeError("no audit table among %r" % names)


def audit_count(db):
    if is_pg(db):
        if not has_tables(db):
            return 0
        return int(psql(db, "SELECT count(*) FROM audit")[0][0])
    con = connect_ro(db)
    try:
        return con.execute("SELECT count(*) FROM %s"
                           % audit_table(con)).fetchone()[0]
    finally:
        con.close()


def find(items, **match):
    """The first dict in items whose members equal match, or None."""
    if not isinstance(items, list):
        return None
    for it in items:
        if isinstance(it, dict) and all(it.get(k) == v
                                        for k, v in match.items()):
            return it
    return None


def pick(d, *keys, default=None):
    """The first of keys present in dict d."""
    if isinstance(d, dict):
        for k in keys:
            if k in d:
                return d[k]
    return default


def ics_notices(directory):
    """(file, jurisdiction, year) of every shipped .ics notice."""
    out = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".ics"):
            continue
        jur = year = None
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.startswith("X-MED-JURISDICTION:"):
                    jur = line.split(":", 1)[1].strip()
                elif line.startswith("X-MED-YEAR:"):
                    year = line.split(":", 1)[1].strip()
        out.append((name, jur, year))
    return out


def tempdir():
    return tempfile.TemporaryDirectory(prefix="medsched-test-")
