#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-churn.py — `medsched serve` under the connection churn of real use:
health checks, browsers and API clients that come and go, nginx's upstream
keep-alive pool, and clients that hang up at the worst moment.

CHURN_CONNECTIONS (default 20,000) short connections against serve
directly, then as many through Debian's nginx running the shipped
deploy/nginx.conf (TLS), each one of these kinds in turn:

  answered   one request, the answer read, the client closes while the
             connection is idle (the libsoup 3.2 leak: CLOSE-WAIT forever)
  closereq   one request with Connection: close
  keepalive  three requests on one connection, then closed while idle
  halfclose  the request, then the client shuts its sending side
  idlehalfclose  an answered request, then the next one and the shutdown
             of the sending side at once (bytes and end of file together
             on a connection the server watches while idle)
  midrequest half a request line and headers, then closed
  midbody    headers promising 200 bytes, 20 sent, then closed
  silent     connected and closed without a byte
  reset      answered, then closed with a reset (SO_LINGER 0)
  resetmid   half a request, then reset
  post       a JSON POST answered 4xx, then closed while idle

The server's open descriptors and resident memory after each phase end
where they began after a warm-up (±20 descriptors, ±5 MiB), and it still
answers. Through nginx the clients come from many loopback addresses
(127.0.x.y), as a court's users do, so that the shipped per-address rate
limits pass them. Then connections the client keeps open: silent ones are closed
by the server after request-timeout, answered ones after
keepalive-timeout. TAP."""

import os
import socket
import struct
import sys
import threading
import time

from httptest import Centre, Server, Tap, wait_for
from nginxtest import NGINX, Nginx, tls_context

N = int(os.environ.get("CHURN_CONNECTIONS", "20000"))
THREADS = 8
FD_SLACK = 20
RSS_SLACK_KIB = 5 * 1024
REQUEST_TIMEOUT = 4
KEEPALIVE_TIMEOUT = 4


def fds_of(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_answer(sock):
    """One HTTP/1.1 answer with a Content-Length: its status, or 0 when the
    connection ended first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = sock.recv(65536)
        if not b:
            return 0
        buf += b
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        b = sock.recv(65536)
        if not b:
            return 0
        rest += b
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def get(path, token=None, close=False):
    h = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
    if token:
        h += "Authorization: Bearer %s\r\n" % token
    if close:
        h += "Connection: close\r\n"
    return (h + "\r\n").encode()


def post(path, body, token):
    data = body.encode()
    return ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s"
            "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (path, token, len(data))).encode() + data


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


class Churn:
    """Runs the connection kinds against one endpoint; counts answers."""

    KINDS = ("answered", "closereq", "keepalive", "halfclose", "idlehalfclose",
             "midrequest", "midbody", "silent", "reset", "resetmid", "post")

    def __init__(self, port, token, tls=False):
        self.n = 0
        self.port = port
        self.token = token
        self.ctx = tls_context() if tls else None
        self.lock = threading.Lock()
        self.answers = {}  # kind -> [answered as expected, tried]
        self.errors = []

    def connect(self):
        if self.ctx is None:
            return socket.create_connection(("127.0.0.1", self.port),
                                            timeout=10)
        with self.lock:
            self.n += 1
            n = self.n
        source = ("127.0.%d.%d" % (1 + n // 250 % 250, 1 + n % 250), 0)
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10,
                                     source_address=source)
        return self.ctx.wrap_socket(s, server_hostname="127.0.0.1")

    def one(self, kind):
        s = self.connect()
        ok = True
        try:
            if kind == "answered":
                s.sendall(get("/healthz"))
                ok = read_answer(s) == 200
            elif kind == "closereq":
                s.sendall(get("/healthz", close=True))
                ok = read_answer(s) == 200
            elif kind == "keepalive":
                s.sendall(get("/healthz"))
                ok = read_answer(s) == 200
                s.sendall(get("/api/v1/rooms", self.token))
                ok = read_answer(s) == 200 and ok
                s.sendall(get("/login"))
                ok = read_answer(s) == 200 and ok
            elif kind == "halfclose":
                s.sendall(get("/healthz"))
                if self.ctx is None:
                    s.shutdown(socket.SHUT_WR)
                ok = read_answer(s) == 200
            elif kind == "idlehalfclose":
                # the second request and the end of file arrive together
                # on a watched idle connection: the request is answered
                s.sendall(get("/healthz"))
                ok = read_answer(s) == 200
                if self.ctx is None:
                    # held back until the shutdown: the request and the
                    # FIN leave in one segment
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                s.sendall(get("/healthz"))
                if self.ctx is None:
                    s.shutdown(socket.SHUT_WR)
                ok = read_answer(s) == 200 and ok
            elif kind == "midrequest":
                s.sendall(b"GET /api/v1/rooms HTTP/1.1\r\nHost: 12")
            elif kind == "midbody":
                s.sendall(b"POST /api/v1/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/json\r\n"
                          b"Content-Length: 200\r\n\r\n{\"name\":\"x\",")
            elif kind == "silent":
                pass
            elif kind == "reset":
                s.sendall(get("/healthz"))
                ok = read_answer(s) == 200
                reset(s)
                s = None
            elif kind == "resetmid":
                s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
                reset(s)
                s = None
            elif kind == "post":
                s.sendall(post("/api/v1/rooms", '{"name":"","kind":"x"}',
                               self.token))
                st = read_answer(s)
                ok = 400 <= st < 500
        except OSError as e:
            ok = False
            with self.lock:
                if len(self.errors) < 5:
                    self.errors.append("%s: %s" % (kind, e))
        finally:
            if s is not None:
                s.close()
        with self.lock:
            a = self.answers.setdefault(kind, [0, 0])
            a[0] += ok
            a[1] += 1

    def run(self, n):
        counter = iter(range(n))
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                self.one(self.KINDS[i % len(self.KINDS)])
        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def settle(pid, base_fds, timeout):
    """Waits until the descriptors come back near base_fds."""
    wait_for(lambda: fds_of(pid) <= base_fds + FD_SLACK, timeout)
    return fds_of(pid)


def phase(tap, name, srv_pid, churn, answer_port, answer_ctx):
    # warm up: caches, allocator arenas, libsoup's and GLib's lazy state
    churn.run(500)
    settle(srv_pid, 0, KEEPALIVE_TIMEOUT + 3)
    time.sleep(KEEPALIVE_TIMEOUT + 1)
    base_fds, base_rss = fds_of(srv_pid), rss_kib(srv_pid)
    churn.answers.clear()
    t0 = time.monotonic()
    churn.run(N)
    took = time.monotonic() - t0
    bad = {k: v for k, v in churn.answers.items() if v[0] != v[1]}
    tap.ok(not bad, "%s: %d connections (%s), every expected answer came "
           "(%.1f s)" % (name, N, ", ".join(Churn.KINDS), took),
           "short: %r; errors: %r" % (bad, churn.errors))
    during = fds_of(srv_pid)
    fds = settle(srv_pid, base_fds, KEEPALIVE_TIMEOUT + REQUEST_TIMEOUT + 5)
    rss = rss_kib(srv_pid)
    tap.ok(abs(fds - base_fds) <= FD_SLACK,
           "%s: the server's descriptors end where they began (%d → %d, "
           "%d right after)" % (name, base_fds, fds, during))
    tap.ok(abs(rss - base_rss) <= RSS_SLACK_KIB,
           "%s: its resident memory ends where it began (%d → %d KiB)"
           % (name, base_rss, rss))
    s = socket.create_connection(("127.0.0.1", answer_port), timeout=10)
    if answer_ctx is not None:
        s = answer_ctx.wrap_socket(s, server_hostname="127.0.0.1")
    s.sendall(get("/healthz", close=True))
    tap.ok(read_answer(s) == 200, "%s: and it still answers" % name)
    s.close()


def held(tap, port):
    """Connections the client keeps open: the server ends them."""
    silent = [socket.create_connection(("127.0.0.1", port), timeout=30)
              for _ in range(20)]
    idle = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(get("/healthz"))
        read_answer(s)
        idle.append(s)
    t0 = time.monotonic()
    ended = []
    for group in (silent, idle):
        n = 0
        for s in group:
            try:
                if s.recv(1) == b"":
                    n += 1
            except OSError:
                n += 1
            s.close()
        ended.append(n)
    took = time.monotonic() - t0
    tap.ok(ended == [20, 20] and took < REQUEST_TIMEOUT + KEEPALIVE_TIMEOUT
           + 10, "20 silent and 20 idle keep-alive connections left open by "
           "their clients are closed by the server (%s, after %.1f s; "
           "request-timeout %d s, keepalive-timeout %d s)"
           % (ended, took, REQUEST_TIMEOUT, KEEPALIVE_TIMEOUT))


def main():
    tap = Tap()
    if not os.path.exists(NGINX):
        tap.bail("nginx is not installed (scripts/deps installs it)")
    centre = Centre(tap)
    srv = nginx = None
    try:
        conf = os.path.join(centre.dir, "serve.conf")
        with open(conf, "w") as f:
            f.write("[server]\nrequest-timeout=%d\nkeepalive-timeout=%d\n"
                    % (REQUEST_TIMEOUT, KEEPALIVE_TIMEOUT))
        srv = Server(centre, "--config", conf, "--trust-proxy")
        pid = srv.proc.pid
        token = centre.tokens["clerk"]
        phase(tap, "direct", pid, Churn(srv.port, token), srv.port, None)
        held(tap, srv.port)
        nginx = Nginx(centre.dir)
        nginx.configure(srv.port)
        ok, err = nginx.check()
        tap.ok(ok, "nginx -t accepts deploy/nginx.conf", err)
        nginx.start()
        phase(tap, "through nginx", pid, Churn(nginx.https_port, token,
                                               tls=True),
              nginx.https_port, tls_context())
        code, err = srv.stop()
        srv = None
        tap.ok(code == 0, "serve stops cleanly after the churn", err[-2000:])
    finally:
        if nginx is not None:
            nginx.stop()
        if srv is not None:
            srv.stop()
        centre.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
