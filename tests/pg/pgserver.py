#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""pgserver.py — a throwaway PostgreSQL 15 for the tests: initdb in a
temporary directory, pg_ctl start on a unix socket (and a free loopback
port), no system service. Debian's postgresql-15 binaries
(/usr/lib/postgresql/15/bin); run as root, the server runs as an
unprivileged user (initdb refuses root): $MEDSCHED_PG_USER or nobody.

As a module: PgServer() starts one, .url(db) names a database on it,
.create_db() makes a fresh one, .psql(db, sql) runs SQL, .stop() removes
everything.

As a wrapper, `pgserver.py -- COMMAND ARGS…` starts a server, runs COMMAND
with MEDSCHED_TEST_DB=postgresql and MEDSCHED_TEST_PG=<url of the
server's postgres database> in its environment (the tests' fixtures then
create a fresh database per test), stops the server and exits with
COMMAND's status. The server's start-up time goes to stderr.

Standard library only (/usr/bin/python3)."""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = os.environ.get("MEDSCHED_PG_BIN", "/usr/lib/postgresql/15/bin")
SUPERUSER = "medsched"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, fast=True, extra_conf=None):
        for tool in ("initdb", "pg_ctl", "postgres", "psql"):
            if not os.access(os.path.join(BIN, tool), os.X_OK):
                raise RuntimeError("%s/%s is missing: install postgresql-15 "
                                   "(scripts/deps)" % (BIN, tool))
        self.tmp = tempfile.mkdtemp(prefix="medsched-pg-")
        os.chmod(self.tmp, 0o755)
        self.data = os.path.join(self.tmp, "data")
        self.sock = os.path.join(self.tmp, "sock")
        self.log = os.path.join(self.tmp, "server.log")
        os.mkdir(self.sock)
        self.runas = None
        if os.geteuid() == 0:
            name = os.environ.get("MEDSCHED_PG_USER", "nobody")
            pw = pwd.getpwnam(name)
            self.runas = name
            for d in (self.tmp, self.sock):
                os.chown(d, pw.pw_uid, pw.pw_gid)
        self.port = None
        self.counter = 0
        started = time.monotonic()
        self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U",
                   SUPERUSER, "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "'%s'" % self.sock,
            "max_connections": "200",
            "shared_buffers": "32MB",
            "log_min_messages": "warning",
            "log_min_error_statement": "panic",
        }
        if fast:
            # tests do not survive power cuts: no fsync
            conf.update({"fsync": "off", "synchronous_commit": "off",
                         "full_page_writes": "off"})
        conf.update(extra_conf or {})
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))
        for attempt in range(5):
            self.port = free_port()
            r = self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data,
                           "-l", self.log, "-o", "-p %d" % self.port, "-w",
                           "-t", "60", "start"], check=False)
            if r.returncode == 0:
                break
        else:
            raise RuntimeError("PostgreSQL did not start:\n" + self.tail())
        self.startup_seconds = time.monotonic() - started

    def _run(self, argv, check=True):
        if self.runas:
            argv = ["runuser", "-u", self.runas, "--"] + argv
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, cwd=self.tmp)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed:\n%s" % (
                " ".join(argv), r.stdout.decode(errors="replace")))
        return r

    def tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def url(self, db="postgres"):
        """A libpq URI for db over the unix socket."""
        q = urllib.parse.urlencode({"host": self.sock, "port": self.port,
                                    "user": SUPERUSER})
        return "postgresql:///%s?%s" % (db, q)

    def psql(self, db, sql, check=True):
        """Runs sql in db; returns the rows as lists of strings."""
        r = subprocess.run([os.path.join(BIN, "psql"), "-X", "-q", "-A",
                            "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url(db), "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr.decode(errors="replace"))
        out = r.stdout.decode()
        return [line.split("\x1f") for line in out.splitlines() if line]

    def create_db(self, prefix="t"):
        self.counter += 1
        name = "%s_%d_%d" % (prefix, os.getpid(), self.counter)
        self.psql("postgres", "CREATE DATABASE %s" % name)
        return name

    def stop(self):
        if self.port is not None:
            self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m",
                       "immediate", "-w", "stop"], check=False)
            self.port = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    if "--" not in argv:
        print("usage: pgserver.py -- COMMAND [ARGS…]", file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    try:
        srv = PgServer()
    except (RuntimeError, OSError) as e:
        # as a TAP test: a bail-out, so the failure is seen
        print("Bail out! no PostgreSQL for the test: %s" % e)
        return 1
    try:
        print("# PostgreSQL 15 on port %d, started in %.2f s"
              % (srv.port, srv.startup_seconds), file=sys.stderr)
        env = dict(os.environ)
        env["MEDSCHED_TEST_DB"] = "postgresql"
        env["MEDSCHED_TEST_PG"] = srv.url()
        env["MEDSCHED_TEST_PG_BIN"] = BIN
        return subprocess.run(cmd, env=env).returncode
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
