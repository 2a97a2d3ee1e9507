# SPDX-License-Identifier: GPL-3.0-or-later
"""nginxtest.py — Debian's nginx running the shipped deploy/nginx.conf in
front of a `medsched serve` of the tests: the config's ports, certificate
paths and upstream are rewritten to a temporary directory and free
loopback ports, TLS with a self-signed certificate made here (ECDSA P-256,
cheap enough for thousands of handshakes), nginx in the foreground with
-p/-c, its pid file and logs in that directory.

Standard library only."""

import os
import shutil
import signal
import socket
import ssl
import subprocess

from httptest import free_port, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def make_cert(d):
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=127.0.0.1"], check=True,
                   capture_output=True)
    return crt, key


def site_conf(d, upstream_port, https_port, http_port, crt, key,
              name="nginx.conf", conf=None):
    """deploy/nginx.conf with its ports, certificate and log paths
    rewritten (its logs become d/nginx-*.log). name: another site of
    deploy/; conf: its text, already changed (upstream_port None: its
    upstreams are left alone)."""
    if conf is None:
        with open(os.path.join(SOURCE_ROOT, "deploy", name),
                  encoding="utf-8") as f:
            conf = f.read()
    upstream = (("server 127.0.0.1:8080;", "server 127.0.0.1:%d;"
                 % upstream_port),) if upstream_port else ()
    for old, new in upstream + (
            ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;"
             % https_port),
            ("listen [::]:443 ssl http2;", ""),
            ("listen 80;", "listen 127.0.0.1:%d;" % http_port),
            ("listen [::]:80;", ""),
            ("/etc/ssl/medsched/fullchain.pem", crt),
            ("/etc/ssl/medsched/privkey.pem", key),
            ("/var/log/nginx/", d + "/nginx-")):
        if old not in conf:
            raise RuntimeError("deploy/%s no longer has %r" % (name, old))
        conf = conf.replace(old, new)
    return conf


class Nginx:
    """nginx with the shipped site; ports are chosen at once (a server
    behind it may need its public URL), the upstream with configure()."""

    def __init__(self, d):
        self.dir = d
        self.crt, self.key = make_cert(d)
        self.https_port, self.http_port = free_port(), free_port()
        self.access_log = os.path.join(d, "nginx-medsched-access.log")
        self.conf = os.path.join(d, "nginx.conf")
        self.proc = None

    def configure(self, upstream_port, worker_connections=1024):
        with open(os.path.join(self.dir, "medsched.conf"), "w",
                  encoding="utf-8") as f:
            f.write(site_conf(self.dir, upstream_port, self.https_port,
                              self.http_port, self.crt, self.key))
        main = """daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
{user}
events {{ worker_connections {wc}; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/medsched.conf;
}}
""".format(d=self.dir, wc=worker_connections,
           user="user root;" if os.geteuid() == 0 else "")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(main)
        return self.conf

    def check(self):
        """nginx -t: (ok, its stderr)."""
        p = subprocess.run([NGINX, "-t", "-p", self.dir, "-c", self.conf],
                           capture_output=True, text=True)
        return p.returncode == 0, p.stderr

    def start(self):
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.https_port),
                                         0.2).close()
                return True
            except OSError:
                return False
        if not wait_for(up, 15):
            raise RuntimeError("nginx did not start: %s"
                               % self.proc.stderr.read())

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def tls_socket(port, ctx=None, timeout=5):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return (ctx or tls_context()).wrap_socket(raw,
                                              server_hostname="127.0.0.1")
