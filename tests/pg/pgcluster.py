# SPDX-License-Identifier: GPL-3.0-or-later
"""pgcluster.py — a real PostgreSQL 15 failover cluster for the tests, on
loopback, in a temporary directory, with nothing left behind: one etcd
member (Debian's etcd-server) and N PostgreSQL instances managed by
Patroni (Debian's patroni 3.0.2) in synchronous mode (one synchronous
standby), each server on free ports, Patroni's REST API on loopback.

    with Cluster(nodes=2) as c:
        leader = c.up()                # etcd, every Patroni, a primary and
                                       # a synchronous standby
        dsn = c.url()                  # the multi-host read-write URL
        t_kill = c.kill_postmaster(leader)
        new = c.wait_promotion(leader) # another node is primary and writable

PostgreSQL refuses to run as root. Run as root (as CI does), every server
runs as an unprivileged user instead — Debian's `postgres` system user
(postgresql-common creates it), else `nobody` — and the temporary
directory is given to it. Each server runs under tests/pg/reaper.py, a
small init that reaps the postmaster Patroni orphans (a container's PID 1
may not reap, and Patroni would take a zombie postmaster for a live one)
and kills whatever its server leaves behind. stop() ends every server,
sweeps any process still naming the temporary directory (there should be
none; `leftovers` says which there were) and removes the directory.

Logs: each server's stdout/stderr in <dir>/<name>.log; `keep_logs` copies
them to MEDSCHED_TEST_LOGS like tests/http/httptest.py does.

Patroni's timings here are the test's, not production's (docs/scale.md):
ttl 10 s, loop_wait 1 s, retry_timeout 3 s, and primary_start_timeout 0 —
a crashed primary fails over at once instead of restarting in place
(with synchronous replication no acknowledged commit is lost by that).

Standard library, psycopg2 (python3-psycopg2) for SQL."""

import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import psycopg2

from pgserver import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
PG_BIN = "/usr/lib/postgresql/15/bin"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
PATRONI = shutil.which("patroni") or "/usr/bin/patroni"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
REAPER = os.path.join(HERE, "reaper.py")

# Patroni's dynamic configuration for the tests (see the module comment)
TTL, LOOP_WAIT, RETRY_TIMEOUT = 10, 1, 3


def wait_for(cond, timeout, interval=0.05):
    """Polls cond() until it returns something true (returned) or timeout
    seconds pass (None)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def server_user():
    """The passwd entry to run servers as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise RuntimeError("running as root and no unprivileged user "
                       "(postgres, nobody) to run PostgreSQL as")


def traversable_by_all(path):
    """True when every directory above path lets others through."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def yaml_scalar(v):
    """A YAML scalar: JSON's quoting is valid YAML."""
    return json.dumps(v)


def to_yaml(obj, indent=0):
    """The few YAML shapes Patroni's config needs (dicts, lists, scalars);
    the standard library has no YAML writer."""
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append("%s%s: %s" % (pad, k, yaml_scalar(v)))
    else:
        for v in obj:
            if isinstance(v, dict):
                first = True
                for k, vv in v.items():
                    lead = "- " if first else "  "
                    first = False
                    lines.append("%s%s%s: %s" % (pad, lead, k,
                                                 yaml_scalar(vv)))
            else:
                lines.append("%s- %s" % (pad, yaml_scalar(v)))
    return "\n".join(lines)


def http_get(port, path, timeout=2):
    """(status, parsed JSON or None) of a GET on 127.0.0.1:port; status 0
    when nothing answered."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (OSError, ValueError):
        return 0, None
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


class Process:
    """One server under reaper.py, as the server user, in its own process
    group, its output in a log file."""

    def __init__(self, cluster, name, argv):
        self.name = name
        self.log = os.path.join(cluster.dir, name + ".log")
        self.argv = argv
        self.cluster = cluster
        self.proc = None

    def start(self):
        user = self.cluster.user
        with open(self.log, "ab") as log:
            if user:
                os.chown(self.log, user.pw_uid, user.pw_gid)
            kw = {}
            if user:
                kw = dict(user=user.pw_uid, group=user.pw_gid,
                          extra_groups=[])
            env = dict(os.environ, HOME=self.cluster.dir, LC_ALL="C.UTF-8")
            self.proc = subprocess.Popen([PYTHON, self.cluster.reaper,
                                          *self.argv],
                                         stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         cwd=self.cluster.dir, env=env,
                                         start_new_session=True, **kw)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM (the reaper forwards it), SIGKILL to the group after
        timeout seconds. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.wait()

    def kill(self):
        """SIGKILL to the whole process group (the reaper and the server;
        not a postmaster, which has its own session: its reaper's death
        orphans it to the sweep in Cluster.stop)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


class Node:
    """One PostgreSQL instance and its Patroni."""

    def __init__(self, cluster, index):
        self.cluster = cluster
        self.name = "pg%d" % index
        self.dir = os.path.join(cluster.dir, self.name)
        self.data_dir = os.path.join(self.dir, "data")
        self.pg_port = free_port()
        self.api_port = free_port()
        self.config = os.path.join(cluster.dir, self.name + ".yml")
        self.process = Process(cluster, "patroni-" + self.name,
                               [PATRONI, self.config])

    def write_config(self):
        c = self.cluster
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        conf = {
            "scope": c.scope,
            "namespace": "/medsched-test/",
            "name": self.name,
            "restapi": {
                "listen": "127.0.0.1:%d" % self.api_port,
                "connect_address": "127.0.0.1:%d" % self.api_port,
            },
            "etcd3": {"hosts": ["127.0.0.1:%d" % c.etcd_port]},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL,
                    "loop_wait": LOOP_WAIT,
                    "retry_timeout": RETRY_TIMEOUT,
                    "maximum_lag_on_failover": 1048576,
                    "primary_start_timeout": 0,
                    "synchronous_mode": c.synchronous,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "max_connections": c.max_connections,
                            "shared_buffers": "64MB",
                            # a failed statement's text may hold personal
                            # data: it stays out of the kept logs
                            "log_min_error_statement": "panic",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"},
                           "data-checksums"],
            },
            "postgresql": {
                "listen": "127.0.0.1:%d" % self.pg_port,
                "connect_address": "127.0.0.1:%d" % self.pg_port,
                "data_dir": self.data_dir,
                "bin_dir": PG_BIN,
                "pgpass": os.path.join(self.dir, "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres",
                                  "password": c.password},
                    "replication": {"username": "replicator",
                                    "password": c.replication_password},
                    "rewind": {"username": "rewinder",
                               "password": c.replication_password},
                },
                "parameters": {"unix_socket_directories": self.dir},
                "pg_hba": [
                    "host replication replicator 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                ],
            },
            "watchdog": {"mode": "off"},
            "tags": {"nofailover": False, "noloadbalance": False,
                     "clonefrom": False, "nosync": False},
        }
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(to_yaml(conf) + "\n")
        os.chmod(self.config, 0o600)
        c.give(self.config)
        c.give(self.dir)

    def api(self, path):
        return http_get(self.api_port, path)

    def is_primary(self):
        """Patroni says this node is the running primary (GET /primary)."""
        return self.api("/primary")[0] == 200

    def postmaster_pid(self):
        """The postmaster's pid from postmaster.pid, or None."""
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return None
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            return None
        return pid if self.data_dir.encode() in cmd else None

    def url(self, **params):
        return self.cluster.url(nodes=[self], **params)

    def connect(self, **params):
        return psycopg2.connect(self.url(**params))


class Cluster:
    """etcd and Patroni-managed PostgreSQL nodes in a temporary directory."""

    def __init__(self, nodes=2, max_connections=200, synchronous=True,
                 prefix="medsched-pg-"):
        self.user = server_user()
        self.synchronous = synchronous
        base = tempfile.gettempdir()
        if self.user and not traversable_by_all(base):
            base = "/tmp"
        self.dir = tempfile.mkdtemp(prefix=prefix, dir=base)
        self.give(self.dir)
        # a copy the server user can read wherever the source tree is
        self.reaper = os.path.join(self.dir, "reaper.py")
        shutil.copyfile(REAPER, self.reaper)
        os.chmod(self.reaper, 0o644)
        self.scope = "medsched-%d-%s" % (os.getpid(), secrets.token_hex(3))
        self.password = secrets.token_urlsafe(18)
        self.replication_password = secrets.token_urlsafe(18)
        self.max_connections = max_connections
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.etcd = Process(self, "etcd", [
            ETCD, "--name", "e0",
            "--data-dir", os.path.join(self.dir, "etcd"),
            "--listen-client-urls", "http://127.0.0.1:%d" % self.etcd_port,
            "--advertise-client-urls",
            "http://127.0.0.1:%d" % self.etcd_port,
            "--listen-peer-urls", "http://127.0.0.1:%d" % self.etcd_peer_port,
            "--initial-advertise-peer-urls",
            "http://127.0.0.1:%d" % self.etcd_peer_port,
            "--initial-cluster", "e0=http://127.0.0.1:%d"
            % self.etcd_peer_port,
            "--initial-cluster-state", "new",
            "--log-level", "warn"])
        self.nodes = [Node(self, i) for i in range(nodes)]
        self.leftovers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def give(self, path):
        """Hands path to the server user (when we run as root)."""
        if self.user:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    # -- starting and stopping --------------------------------------------

    def start(self, timeout=60):
        """etcd, then every node's Patroni; returns once etcd is healthy
        (the nodes bootstrap in the background: wait_leader)."""
        self.etcd.start()
        if not wait_for(lambda: http_get(self.etcd_port, "/health")[0] == 200,
                        timeout):
            raise RuntimeError("etcd did not become healthy:\n"
                               + self.tail(self.etcd.log))
        for i, n in enumerate(self.nodes):
            n.write_config()
            n.process.start()
            if i == 0:
                # the first bootstraps alone: the others then clone it
                # instead of racing it for the initialize key
                self.wait_leader(timeout)

    def up(self, timeout=90):
        """start(), then a writable primary and a synchronous standby (as
        wait_leader and wait_sync_standby); returns the primary. Raises
        RuntimeError (saying what is missing) after timeout seconds."""
        self.start(timeout)
        primary = self.wait_leader(timeout)
        self.wait_sync_standby(timeout)
        return primary

    def stop(self):
        """Every Patroni (each stops its PostgreSQL), then etcd; then the
        sweep and the directory. Idempotent."""
        if self.dir is None:
            return
        for n in self.nodes:
            n.process.stop(timeout=30)
        self.etcd.stop(timeout=15)
        self.leftovers = self.sweep()
        keep_logs(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def sweep(self):
        """SIGKILLs every process whose command line names our directory
        (ours by construction) and returns their command lines."""
        found = []
        mark = self.dir.encode()
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % name, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if mark in cmd:
                found.append(cmd.replace(b"\0", b" ").decode(
                    errors="replace"))
                try:
                    os.kill(int(name), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return found

    def tail(self, path, n=40):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- looking at the cluster -------------------------------------------

    def members(self):
        """Patroni's view (GET /cluster on the first node that answers):
        a list of {name, role, state, timeline, ...}, or []."""
        for n in self.nodes:
            status, doc = n.api("/cluster")
            if status == 200 and isinstance(doc, dict):
                return doc.get("members", [])
        return []

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def primary(self):
        """The node Patroni reports as the running primary, or None."""
        for n in self.nodes:
            if n.is_primary():
                return n
        return None

    def writable(self, node):
        """True when node's PostgreSQL takes a read-write session."""
        try:
            con = node.connect(target_session_attrs="read-write",
                               connect_timeout=2)
        except psycopg2.Error:
            return False
        con.close()
        return True

    def wait_leader(self, timeout=90, exclude=()):
        """The primary once one (not in exclude) is up and writable."""
        def up():
            p = self.primary()
            return p if p and p not in exclude and self.writable(p) else None
        p = wait_for(up, timeout, 0.1)
        if not p:
            raise RuntimeError("no leader after %ds; members %s\n%s" % (
                timeout, self.members(),
                "\n".join(self.tail(n.process.log) for n in self.nodes)))
        return p

    def sync_standbys(self, sync_only=True):
        """Names of the standbys the primary confirms as synchronous
        (pg_stat_replication.sync_state = 'sync', streaming); with
        sync_only False, every streaming standby."""
        p = self.primary()
        if not p:
            return []
        try:
            con = p.connect(connect_timeout=2)
        except psycopg2.Error:
            return []
        try:
            with con.cursor() as cur:
                cur.execute("SELECT application_name FROM pg_stat_replication"
                            " WHERE state = 'streaming'"
                            + (" AND sync_state = 'sync'" if sync_only
                               else ""))
                names = {n.name for n in self.nodes}
                # (pg_basebackup's walsender streams too while a node is
                # being cloned: only members count)
                return [r[0] for r in cur.fetchall() if r[0] in names]
        except psycopg2.Error:
            return []
        finally:
            con.close()

    def patroni_sync_standbys(self):
        """Names of the members Patroni has recorded as synchronous
        standbys (its /sync key in etcd): only those may be promoted in
        synchronous mode."""
        return [m.get("name") for m in self.members()
                if m.get("role") == "sync_standby"]

    def agreed_sync_standbys(self):
        """The synchronous standbys both the primary (pg_stat_replication)
        and Patroni (etcd) agree on — before Patroni has recorded one, a
        crashed primary is restarted in place instead of failing over. (In
        a cluster made with synchronous=False: the streaming standbys.)"""
        if not self.synchronous:
            return sorted(self.sync_standbys(sync_only=False))
        return sorted(set(self.sync_standbys())
                      & set(self.patroni_sync_standbys()))

    def wait_sync_standby(self, timeout=90):
        """agreed_sync_standbys() once there is one."""
        s = wait_for(self.agreed_sync_standbys, timeout, 0.1)
        if not s:
            raise RuntimeError("no synchronous standby after %ds; members %s"
                               % (timeout, self.members()))
        return s

    def url(self, nodes=None, dbname="postgres", user="postgres",
            password=None, **params):
        """A libpq URL naming nodes (default all) in order, e.g.
        url(target_session_attrs="read-write")."""
        nodes = nodes or self.nodes
        hosts = ",".join("127.0.0.1:%d" % n.pg_port for n in nodes)
        q = "&".join("%s=%s" % kv for kv in params.items())
        return "postgresql://%s:%s@%s/%s%s" % (
            user, password or self.password, hosts, dbname,
            "?" + q if q else "")

    def query_url(self, dbname="postgres", **params):
        """The same hosts as a URL whose every part is in the query
        (postgresql:///DB?host=…&port=…&user=postgres&…), the form
        tests/integration/medtest.py's new_db takes; no password in it
        (give PGPASSWORD=self.password in the environment)."""
        q = [("host", ",".join("127.0.0.1" for _ in self.nodes)),
             ("port", ",".join(str(n.pg_port) for n in self.nodes)),
             ("user", "postgres")] + list(params.items())
        return "postgresql:///%s?%s" % (dbname, "&".join(
            "%s=%s" % kv for kv in q))

    # -- failures ---------------------------------------------------------

    def kill_postmaster(self, node):
        """SIGKILL to node's postmaster; returns the monotonic time of the
        kill. Patroni stays up, finds its primary crashed and fails over
        (primary_start_timeout 0)."""
        pid = node.postmaster_pid()
        if pid is None:
            raise RuntimeError("%s has no running postmaster" % node.name)
        t = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        return t

    def kill_node(self, node):
        """SIGKILL to node's postmaster and its Patroni together (the
        machine is gone): the leader key then expires after ttl. Returns
        the monotonic time of the kill."""
        pid = node.postmaster_pid()
        t = time.monotonic()
        if pid:
            os.kill(pid, signal.SIGKILL)
        node.process.kill()
        return t

    def wait_promotion(self, old, timeout=60):
        """The node that replaced old as the writable primary."""
        return self.wait_leader(timeout, exclude=(old,))


def keep_logs(directory):
    """Copies the *.log files of directory to MEDSCHED_TEST_LOGS (when set)
    as <test>-<pid>/<name>, for tests/privacy/check-logs.py."""
    root = os.environ.get("MEDSCHED_TEST_LOGS")
    if not root:
        return
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "test"
    dest = os.path.join(root, "%s-%d" % (name, os.getpid()))
    for f in os.listdir(directory):
        if f.endswith(".log"):
            os.makedirs(dest, exist_ok=True)
            try:
                shutil.copyfile(os.path.join(directory, f),
                                os.path.join(dest, f))
            except OSError:
                pass
