"""`wordspace serve --proxy`: nginx's config follows the settings (one source for the limits),
a missing nginx is named with its install step, signals reach both processes, a dead child
stops the other, and the client's address reaches the app's access log."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from service import proxy, supervise
from service.settings import Settings
from service.store import catalog
from tests.support.tables import toy_table
from tests.support.server import alive, children, group, roles, serve, until, wait_for_workers


def directives(conf: str) -> dict[str, str]:
    found = {}
    for line in conf.splitlines():
        m = re.match(r"\s*([a-z_]+) (.+);$", line)
        if m:
            found.setdefault(m[1], m[2])
    return found


def test_the_config_follows_the_settings(tmp_path):
    s = Settings(host="::1", port=8123, max_body_bytes=12345, read_timeout=7, max_header_line=4000,
                 timeout=33)
    conf = proxy.write_config(s, tmp_path)
    d = directives(conf.read_text())
    assert d["listen"] == "[::1]:8123 default_server"
    assert d["client_max_body_size"] == "12345"
    assert d["client_header_timeout"] == d["client_body_timeout"] == d["send_timeout"] == "7s"
    assert d["large_client_header_buffers"] == f"{proxy.HEADER_BUFFERS} 4002"
    assert d["proxy_read_timeout"] == "33s"
    assert d["server"] == f"unix:{tmp_path.resolve() / proxy.SOCKET}"
    assert d["proxy_request_buffering"] == d["proxy_buffering"] == "on"
    assert d["proxy_set_header"] == 'Connection ""'
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf.read_text()
    assert d["daemon"] == "off" and d["master_process"] == "on"
    assert d["access_log"] == "/dev/stdout refused if=$refused"  # nothing grows in RUNTIME
    for name in ("pid", *(f"{t}_temp_path" for t in proxy.TEMP_FOLDERS)):
        assert d[name].startswith(str(tmp_path.resolve())), name  # nothing outside the runtime folder
    for code, (shown, title, _) in proxy.REFUSALS.items():
        body = json.loads((tmp_path / proxy.PROBLEMS / f"{code}.json").read_text())
        assert body["status"] == shown and body["title"] == title
        assert f"error_page {code} ={shown} /{proxy.PROBLEMS}/{code}.json;" in conf.read_text()
    checked = subprocess.run([supervise.find_nginx(), "-e", "stderr", "-t", "-q", "-c", str(conf),
                              "-p", f"{tmp_path}/"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_gunicorn_takes_the_same_header_limit():
    from service.server import WordspaceServer

    s = Settings(max_header_line=4000)
    server = WordspaceServer(s)
    assert server.cfg.limit_request_line == server.cfg.limit_request_field_size == 4000
    assert server.cfg.worker_class_str == "gthread"


def test_a_missing_nginx_is_named_with_its_install_step(tmp_path):
    """`serve --proxy` where no nginx is found (shutil.which finds nothing): one line, exit 2."""
    code = ("import shutil, sys; shutil.which = lambda *a, **k: None; from service.cli import main; "
            f"sys.exit(main(['serve', '--proxy', '--catalog', {str(tmp_path)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WORDSPACE_LOG_JSON": "false"})
    err = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(err) == 1, done.stderr
    assert "apt-get install nginx" in err[0] and "make proxy-deps" in err[0]


@pytest.fixture
def cat(tmp_path) -> Path:
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    return cat


@pytest.mark.slow
def test_sighup_reloads_gunicorn_and_sigterm_stops_both(cat):
    with serve(cat, proxy=True) as s:
        masters = roles(s.proc.pid)
        workers = set(wait_for_workers(masters["gunicorn"], 2))  # both forked before the HUP
        os.kill(s.proc.pid, signal.SIGHUP)
        until(lambda: len(set(children(masters["gunicorn"])) - workers) == 2, what="two new workers")
        assert requests.get(s.url("/healthz"), timeout=5).status_code == 200
        assert roles(s.proc.pid) == masters  # nginx and gunicorn's master kept
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=60) == 0
    assert not alive(masters["gunicorn"]) and not alive(masters["nginx"])


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["nginx", "gunicorn"])
def test_a_dead_child_stops_the_other(cat, victim):
    with serve(cat, proxy=True) as s:
        masters = roles(s.proc.pid)
        os.kill(masters[victim], signal.SIGKILL)
        assert s.proc.wait(timeout=60) == 1
        assert not any(alive(pid) for pid in masters.values())
        assert not group(masters["nginx"]), "nginx workers outlived their master"
        assert f"{victim} exited" in s.log()


@pytest.mark.slow
def test_the_client_address_reaches_the_access_log(cat):
    """A client on 127.0.0.5 claiming to be 203.0.113.7: the app logs 127.0.0.5, the address
    nginx saw (gunicorn itself only sees a unix socket)."""
    with serve(cat, proxy=True, log_json="true") as s:
        port = int(s.base.rsplit(":", 1)[1])
        with socket.socket() as sock:
            sock.bind(("127.0.0.5", 0))
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /v1/spaces?from=edge HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n"
                         b"Connection: close\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
        until(lambda: '"path":"/v1/spaces"' in s.log(), 10, what="the access line in the log")
        lines = [json.loads(x) for x in s.log().splitlines() if '"path":"/v1/spaces"' in x]
    assert [line["remote"] for line in lines] == ["127.0.0.5"]
