# SPDX-License-Identifier: GPL-3.0-or-later
"""nginxcluster.py — Debian's nginx running the shipped
deploy/nginx-cluster.conf in front of several `medsched serve` nodes of the
tests: like tests/http/nginxtest.py (which it builds on: the certificate,
the main file, starting and stopping), with the site's two upstream lists
(`medsched`, `medsched_call`) rewritten to the nodes' loopback ports.

Standard library only."""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

import nginxtest  # noqa: E402
from nginxtest import SOURCE_ROOT, tls_context  # noqa: E402,F401

SERVER_LINE = re.compile(r"^(\s*)server 10\.0\.1\.\d+:8080( [^;]*)?;\n",
                         re.M)


def cluster_conf(d, upstream_ports, https_port, http_port, crt, key,
                 plain_port=None, unlimited=False):
    """deploy/nginx-cluster.conf with every upstream's server lines
    replaced by the nodes on upstream_ports (same parameters), its ports,
    certificate and log paths rewritten by nginxtest.site_conf.
    plain_port: the HTTPS site also listens without TLS there (load tests:
    TLS is not what they measure). unlimited: the per-address request and
    connection limits raised out of the way (load tests: every client is
    127.0.0.1)."""
    with open(os.path.join(SOURCE_ROOT, "deploy", "nginx-cluster.conf"),
              encoding="utf-8") as f:
        conf = f.read()
    blocks = 0

    def nodes(m):
        indent, params = m.group(1), m.group(2) or ""
        return "".join("%sserver 127.0.0.1:%d%s;\n" % (indent, p, params)
                       for p in upstream_ports)
    out, pos = [], 0
    # each upstream's run of server lines becomes the test's node list
    for block in re.finditer(r"upstream \w+ \{.*?\n\}", conf, re.S):
        text = block.group(0)
        first = SERVER_LINE.search(text)
        if not first:
            continue
        text = SERVER_LINE.sub("", text)
        text = text[:first.start()] + nodes(first) + text[first.start():]
        out.append(conf[pos:block.start()] + text)
        pos = block.end()
        blocks += 1
    conf = "".join(out) + conf[pos:]
    if blocks != 2:
        raise RuntimeError("deploy/nginx-cluster.conf: expected two "
                           "upstreams with server lines, found %d" % blocks)
    conf = nginxtest.site_conf(d, None, https_port, http_port, crt, key,
                               "nginx-cluster.conf", conf)
    for old, new in (
            ("limit_conn medsched_conn 64;", "limit_conn medsched_conn %d;"
             % (60000 if unlimited else 64)),
            ("rate=50r/s;", "rate=%dr/s;" % (1000000 if unlimited else 50))):
        if old not in conf:
            raise RuntimeError("deploy/nginx-cluster.conf no longer has %r"
                               % old)
        conf = conf.replace(old, new)
    if plain_port:
        tls = "listen 127.0.0.1:%d ssl http2;" % https_port
        conf = conf.replace(tls, tls + "\n    listen 127.0.0.1:%d;"
                            % plain_port)
    return conf


class ClusterNginx(nginxtest.Nginx):
    """nginx with the cluster site; configure() takes the nodes' ports."""

    plain_port = None

    def configure(self, upstream_ports, worker_connections=1024,
                  plain=False, unlimited=False):
        """plain: also plain HTTP on self.plain_port; unlimited: see
        cluster_conf."""
        conf = super().configure(upstream_ports[0], worker_connections)
        if plain:
            self.plain_port = nginxtest.free_port()
        with open(os.path.join(self.dir, "medsched.conf"), "w",
                  encoding="utf-8") as f:
            f.write(cluster_conf(self.dir, upstream_ports, self.https_port,
                                 self.http_port, self.crt, self.key,
                                 self.plain_port, unlimited))
        return conf

    def start_with(self, upstream_ports, **kw):
        """configure(upstream_ports, **kw), nginx -t, start; RuntimeError
        with nginx's complaint when the configuration does not pass."""
        self.configure(upstream_ports, **kw)
        ok, err = self.check()
        if not ok:
            raise RuntimeError("nginx -t: " + err)
        self.start()
