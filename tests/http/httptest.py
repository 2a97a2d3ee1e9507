# SPDX-License-Identifier: GPL-3.0-or-later
"""httptest.py — what the HTTP integration tests share: a store seeded
through the medsched CLI (a centre on the shipped calendars, rooms,
mediators, users with tokens), a `medsched serve` subprocess on a free
loopback port, and small HTTP helpers on the standard library.

Logs are kept: the server's stderr goes to a file beside its access log in
the centre's directory, and when MEDSCHED_TEST_LOGS is set (meson sets it to
build/tests/logs) every *.log file of that directory (access logs, stderr,
nginx's logs) is copied to MEDSCHED_TEST_LOGS/<test>-<pid>/ before the
directory goes, for tests/privacy/check-logs.py.

Standard library only; TAP comes from tests/integration/medtest.py.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))

from medtest import Tap, new_db  # noqa: E402

NOW = "2026-12-07T08:00"

CENTRE_DOC = {
    "rooms": [
        {"name": "温馨调解室一", "kind": "warm", "capacity": 8},
        {"name": "温馨调解室二", "kind": "warm", "capacity": 8},
        {"name": "家事调解室", "kind": "family", "capacity": 6},
        {"name": "远程调解室", "kind": "remote", "capacity": 6},
    ],
    "mediators": [
        {"name": "扎西次仁", "languages": ["zh", "bo"],
         "specialties": ["wages", "neighbour", "contract", "land"],
         "daily_cap": 24},
        {"name": "王芳", "languages": ["zh"],
         "specialties": ["wages", "contract", "divorce"], "daily_cap": 24},
    ],
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Centre:
    """A store in a temporary directory and the CLI to change it."""

    def __init__(self, tap, n_cases=0, now=NOW):
        self.tap = tap
        self.bin = os.environ.get("MEDSCHED")
        if not self.bin:
            tap.bail("MEDSCHED is not set")
        self.tmp = tempfile.TemporaryDirectory(prefix="medsched-http-")
        self.dir = self.tmp.name
        # a file, or a fresh PostgreSQL database under tests/pg/pgserver.py
        self.db = new_db(self.dir, "centre")
        self.env = dict(os.environ, MEDSCHED_NOW=now, LC_ALL="C.UTF-8")
        self.cli("init", "--name", "测试调解中心", "--layers", "CN,CN-XZ-LS",
                 "--calendars", os.environ["MEDSCHED_CALENDARS"])
        doc = dict(CENTRE_DOC)
        doc["cases"] = [{
            "number": "R-%05d" % i, "kind": "wages",
            "department": "court-mediation",
            "parties": [{"name": "甲%d" % i, "role": "applicant",
                         "language": "zh", "contact": "1380000%04d" % i}],
        } for i in range(n_cases)]
        path = os.path.join(self.dir, "centre.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        self.cli("import", path)
        self.tokens = {}
        for name, role, extra in (("admin", "admin", []),
                                  ("clerk", "clerk", []),
                                  ("tashi", "mediator", ["--mediator", "1"])):
            self.cli("user", "add", name, "--role", role, "--iterations",
                     "1000", *extra, input="password-%s\n" % name)
            self.tokens[name] = self.cli("user", "token", name).strip()

    def cli(self, *args, input=None, check=True):
        p = subprocess.run([self.bin, "--db", self.db, *args], input=input,
                           capture_output=True, text=True, env=self.env,
                           timeout=120)
        if check and p.returncode != 0:
            self.tap.bail("medsched %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def close(self):
        keep_logs(self.dir)
        self.tmp.cleanup()


class Server:
    """`medsched serve` on a free loopback port; globals go before the
    command (("--centre", "2") serves another centre of the store)."""

    def __init__(self, centre, *extra, port=0, access_log=None, globals=()):
        self.centre = centre
        self.log = access_log or os.path.join(centre.dir, "medsched-access.log")
        Server.started += 1
        self.err_path = os.path.join(centre.dir, "medsched-stderr-%d.log"
                                     % Server.started)
        args = [centre.bin, "--db", centre.db, *globals, "serve", "--listen",
                "127.0.0.1:%d" % port, "--access-log", self.log, *extra]
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                         stderr=err, text=True,
                                         env=centre.env)
        line = self.proc.stdout.readline()
        if "listening on port" not in line:
            centre.tap.bail("medsched serve did not start: %s %s"
                            % (line, self.stderr()))
        self.port = int(line.rsplit(" ", 1)[1])

    started = 0

    def stderr(self):
        """What the server wrote to stderr so far."""
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
        return self.proc.returncode, self.stderr()


def keep_logs(directory):
    """Copies the *.log files under directory to MEDSCHED_TEST_LOGS (when
    set) as <test>-<pid>/<relative path>."""
    root = os.environ.get("MEDSCHED_TEST_LOGS")
    if not root:
        return
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "test"
    dest = os.path.join(root, "%s-%d" % (name, os.getpid()))
    for top, _, files in os.walk(directory):
        for f in files:
            if not f.endswith(".log"):
                continue
            src = os.path.join(top, f)
            rel = os.path.relpath(src, directory)
            os.makedirs(os.path.dirname(os.path.join(dest, rel)),
                        exist_ok=True)
            try:
                shutil.copyfile(src, os.path.join(dest, rel))
            except OSError:
                pass


def request(port, method, path, token=None, body=None,
            ctype="application/json", headers=None, timeout=30):
    """One request on a new connection: (status, headers dict, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        h["Content-Type"] = ctype
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def ws_handshake(sock, path, host="127.0.0.1", token=None, cookie=None,
                 origin=None, timeout=10):
    """A WebSocket handshake on a connected socket (plain or TLS), which it
    closes: (status, the first text frame's payload when the upgrade
    succeeded — another frame as its repr — else None; status 0 when no
    answer came)."""
    import base64
    key = base64.b64encode(os.urandom(16)).decode()
    head = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n" % (path, host, key))
    if token:
        head += "Authorization: Bearer %s\r\n" % token
    if cookie:
        head += "Cookie: %s\r\n" % cookie
    if origin:
        head += "Origin: %s\r\n" % origin
    buf = b""
    st = 0
    try:
        sock.settimeout(timeout)
        sock.sendall((head + "\r\n").encode())
        while b"\r\n\r\n" not in buf:
            b = sock.recv(4096)
            if not b:
                break
            buf += b
        try:
            st = int(buf.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return 0, None
        rest = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
        if st != 101:
            return st, None
        # one unmasked server frame: FIN+opcode, length (7/16/64 bit)
        while True:
            if len(rest) >= 2:
                n = rest[1] & 0x7F
                hl = 2 + (2 if n == 126 else 8 if n == 127 else 0)
                if len(rest) >= hl:
                    if n >= 126:
                        n = int.from_bytes(rest[2:hl], "big")
                    if len(rest) >= hl + n:
                        if rest[0] & 0x0F == 1:
                            return st, rest[hl:hl + n].decode("utf-8",
                                                              "replace")
                        return st, repr(rest[:hl + n])
            b = sock.recv(65536)
            if not b:
                return st, None
            rest += b
    except OSError:
        return st, None
    finally:
        sock.close()


def ws_upgrade(port, path, token=None, cookie=None, timeout=10):
    """ws_handshake with a serve on loopback; a cookie goes with the
    server's own Origin, as a browser sends it."""
    host = "127.0.0.1:%d" % port
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return 0, None
    return ws_handshake(s, path, host=host, token=token, cookie=cookie,
                        origin="http://" + host if cookie else None,
                        timeout=timeout)


def json_of(data):
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def raw_exchange(sock, data, timeout=5.0):
    """Sends bytes and reads until the peer closes or goes quiet."""
    sock.settimeout(timeout)
    sock.sendall(data)
    chunks = []
    try:
        while True:
            b = sock.recv(65536)
            if not b:
                break
            chunks.append(b)
    except socket.timeout:
        pass
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def wait_for(cond, timeout=10.0):
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if cond():
            return True
        time.sleep(0.05)
    return False
