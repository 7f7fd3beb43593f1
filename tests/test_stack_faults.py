"""The production stack (`wordspace serve --proxy`) as an operator meets it (issue 29): no API
key in any log whatever way a client sends one, and nothing growing in the runtime folder;
a stop under load answers no 502; a socket left by a crash is removed at start; the children
die with a supervisor killed by SIGKILL and a restart binds; a dead nginx's workers stop at
once.

Figures are printed (`pytest -s`); the ones in docs/operations.md come from these tests.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from service import proxy
from service.store import catalog
from tests.support import load
from tests.support.server import alive, children, free_port, group, roles, serve, until, wait_for_workers
from tests.support.tables import toy_table

pytestmark = pytest.mark.slow
SECRET = "s3cr3t-Key-4f9c1a"


@pytest.fixture
def cat(tmp_path) -> Path:
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    return cat


@pytest.fixture
def runtime():
    """A WORDSPACE_RUNTIME_DIR nginx's workers (nobody, when run as root) can reach: under
    /tmp, not under pytest's private tmp_path."""
    folder = Path(tempfile.mkdtemp(prefix="wordspace-test-run-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def test_no_key_in_any_log_and_nothing_grows_in_the_runtime_folder(cat, runtime):
    with serve(cat, proxy=True, api_keys=SECRET, runtime_dir=runtime, log_json="true") as s:
        url, port = s.base, s.port
        before = folder_bytes(runtime)
        auth = {"Authorization": f"Bearer {SECRET}"}
        statuses = [
            requests.get(url + "/v1/spaces", headers=auth, timeout=10).status_code,
            requests.get(url + "/v1/spaces", headers={"Authorization": f"Bearer {SECRET}x"},
                         timeout=10).status_code,
            requests.get(url + f"/v1/spaces?api_key={SECRET}", timeout=10).status_code,
            requests.get(url + f"/v1/nowhere?api_key={SECRET}", headers=auth, timeout=10).status_code,
            requests.post(url + f"/v1/admin/reload?key={SECRET}", timeout=10).status_code,
            requests.get(url + "/v1/spaces", timeout=10,
                         headers={"X-Api-Key": SECRET, "Cookie": f"api_key={SECRET}",
                                  "Referer": f"http://app.example/?api_key={SECRET}",
                                  "User-Agent": f"client {SECRET}"}).status_code,
            # Refused by nginx itself: a URI too long, a header too large, a body too large.
            requests.get(url + f"/v1/spaces?api_key={SECRET}&pad=" + "a" * 9000,
                         timeout=10).status_code,
            requests.get(url + f"/v1/spaces?api_key={SECRET}", timeout=10,
                         headers={"X-Pad": "b" * 9000, "Authorization": f"Bearer {SECRET}"}).status_code,
            requests.post(url + f"/v1/spaces/toy/neighbors?api_key={SECRET}", headers=auth,
                          data=b"x" * (2 * 1024 * 1024), timeout=30).status_code,
        ]
        assert statuses == [200, 401, 401, 404, 401, 401, 414, 431, 413], statuses
        malformed = raw(port, f"GET /v1/spaces?api_key={SECRET} HTTP/1.1 junk\r\n\r\n".encode())
        assert malformed.startswith(b"HTTP/1.1 400")
        # 200 refused 8 KB URLs: they are logged (to stdout), not kept in the runtime folder.
        long = f"GET /v1/spaces?api_key={SECRET}&pad={'c' * 8000} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        for _ in range(200):
            assert raw(port, long.encode()).startswith(b"HTTP/1.1 401")
        until(lambda: s.log().count('"logger":"nginx.access"') >= 207, 10,
              what=f"nginx's access lines ({s.log().count('nginx.access')})")
        grown = folder_bytes(runtime) - before
        files = {str(f): f.read_bytes() for f in runtime.rglob("*") if f.is_file()}
        log = s.log()
    print(f"\nruntime folder grew {grown} bytes; log {len(log)} characters")
    assert grown < 4096, f"the runtime folder grew {grown} bytes"
    assert SECRET not in log, [line for line in log.splitlines() if SECRET in line][:3]
    for name, data in files.items():
        assert SECRET.encode() not in data, name
    # What was refused is still logged, as JSON, without its query string.
    nginx_lines = [json.loads(line) for line in log.splitlines() if '"logger":"nginx.access"' in line]
    assert {line["status"] for line in nginx_lines} >= {401, 413, 414, 431}
    assert all("?" not in line["path"] for line in nginx_lines)


def test_sigterm_under_load_answers_no_502(cat, runtime):
    """nginx drains before gunicorn closes its socket: connections refused once nginx stops
    listening are fine (a load balancer has moved on), a 502 is not."""
    words = [w for w in toy_table().index_to_key if w.isalpha()]
    work = load.mixed_requests("toy", words, 40_000, seed=3)
    with serve(cat, proxy=True, api_keys="", runtime_dir=runtime, log_json="true") as s:
        wait_for_workers(roles(s.proc.pid)["gunicorn"], 2)

        def stop(t_start, finished):
            until(lambda: s.log().count('"logger":"wordspace.access"') > 1000 or finished(),
                  60, what="the load under way")
            s.proc.send_signal(signal.SIGTERM)
            return {"t": time.monotonic(), "exit": s.proc.wait(timeout=90)}

        result = load.drive(s.port, work, concurrency=16, clients=2, timeout=120, during=stop)
    event = result["during"]
    records = result["records"]
    before = [r for r in records if r[2] < event["t"]]
    by_status: dict[int, int] = {}
    for r in records:
        by_status[r[4]] = by_status.get(r[4], 0) + 1
    print(f"\nstop under load: {json.dumps({str(k): v for k, v in by_status.items()})}")
    assert event["exit"] == 0
    assert len(before) > 500, "the stop came before the load was under way"
    assert set(by_status) <= {200, 0}, by_status  # no 502, no 5xx at all


def test_a_stale_socket_is_removed_at_start(cat, runtime):
    """A socket left by a crash: nginx must not start (and answer 502) before gunicorn listens."""
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(runtime / proxy.SOCKET))
    stale.close()  # the file stays, nobody listens
    port = free_port()
    env = {**os.environ, "WORDSPACE_CATALOG": str(cat), "WORDSPACE_PORT": str(port),
           "WORDSPACE_RUNTIME_DIR": str(runtime), "WORDSPACE_API_KEYS": ""}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--proxy"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    seen = []
    try:
        deadline = time.monotonic() + 60
        while not seen or seen[-1] != 200:
            assert time.monotonic() < deadline and proc.poll() is None, seen[-5:]
            try:
                seen.append(requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code)
            except requests.ConnectionError:
                time.sleep(0.02)  # polls another process's start: it sends no event
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert 502 not in seen, f"{seen.count(502)} answers 502 before gunicorn listened"


def test_kill_9_of_the_supervisor_takes_its_children_and_a_restart_binds(cat, runtime):
    port = free_port()
    with serve(cat, proxy=True, api_keys="", runtime_dir=runtime, port=port) as s:
        masters = roles(s.proc.pid)
        gunicorn_workers = wait_for_workers(masters["gunicorn"], 2)
        nginx_workers = group(masters["nginx"])
        assert len(nginx_workers) >= 2
        s.proc.kill()
        s.proc.wait()
        everyone = [*masters.values(), *gunicorn_workers, *nginx_workers]
        until(lambda: not any(alive(pid) for pid in everyone), 30,
              what="gunicorn and nginx gone after their supervisor")
    with serve(cat, proxy=True, api_keys="", runtime_dir=runtime, port=port) as again:
        assert requests.get(again.url("/readyz"), timeout=10).status_code == 200


def test_a_dead_nginx_s_workers_stop_at_once(cat):
    """kill -9 of nginx's master: its workers are killed before gunicorn is even stopped (they
    would answer 502 while it stops)."""
    with serve(cat, proxy=True, api_keys="") as s:
        masters = roles(s.proc.pid)
        assert group(masters["nginx"])
        os.kill(masters["nginx"], signal.SIGKILL)
        order = []
        deadline = time.monotonic() + 60
        while len(order) < 2 and time.monotonic() < deadline:
            if "nginx" not in order and not group(masters["nginx"]):
                order.append("nginx")
            if "gunicorn" not in order and not alive(masters["gunicorn"]):
                order.append("gunicorn")
            time.sleep(0.005)  # polls /proc: the processes send no event
        assert s.proc.wait(timeout=60) == 1
    assert order == ["nginx", "gunicorn"], order
