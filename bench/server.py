"""The one way to start the real service (`wordspace serve`, gunicorn; or `serve --proxy`, nginx
in front) on a free loopback port, for the benches (soak.py, scale.py, bounds.py), the tests,
the client's tests and docs/figures.py; the process ids of its workers; and `until`, the poll
for state another process changes without telling.

It lives in bench/ because the benches own their harness and never import the tests; the
tests reach it through tests/support/server.py, their door to it."""
from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    logfile: object
    ready_seconds: float = 0.0      # from the command's start to the ready answer

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def url(self, path: str) -> str:
        return self.base + path

    def log(self) -> str:
        self.logfile.seek(0)
        return self.logfile.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(catalog: Path, *, ready_timeout: float = 60, proxy: bool = False,
          ready: str = "/healthz", python: str = sys.executable, cwd: Path | None = None,
          port: int | None = None, **settings):
    """Run `wordspace serve` (`--proxy`: behind nginx) with WORDSPACE_<KEY>=value for each
    keyword, with `python` in `cwd` (default: this interpreter, here); yield a Server once
    `ready` answers 200 (/readyz: every space loaded); stop it (SIGTERM, then SIGKILL) and fail
    on a traceback in its log."""
    port = port or free_port()
    env = {**os.environ, "WORDSPACE_CATALOG": str(catalog), "WORDSPACE_PORT": str(port)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update({f"WORDSPACE_{k.upper()}": str(v) for k, v in settings.items()})
    # A file, not a pipe: an undrained pipe fills up and blocks the server's logging.
    logfile = tempfile.TemporaryFile(mode="w+")
    # O_APPEND: nginx opens /dev/stdout anew (its own offset), so every writer adds at the end.
    fcntl.fcntl(logfile.fileno(), fcntl.F_SETFL, fcntl.fcntl(logfile.fileno(), fcntl.F_GETFL) | os.O_APPEND)
    command = [python, "-m", "service.cli", "serve"] + (["--proxy"] if proxy else [])
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=logfile, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc, logfile)
    try:
        deadline = started + ready_timeout
        while not _answers(server.url(ready)):
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                raise RuntimeError("server did not start:\n" + server.log()[-5000:])
            time.sleep(0.05)  # polls another process's state: it sends no event
        server.ready_seconds = time.monotonic() - started
        yield server
    finally:
        _stop(proc)
        log = server.log()
        logfile.close()
    assert "Traceback" not in log, log[-5000:]


def _answers(url: str) -> bool:
    """200 from `url` (behind nginx: a 502 until gunicorn listens)."""
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def _processes():
    """(pid, the fields of /proc/PID/stat after the command) of every process there is."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (gunicorn workers of a master), in order."""
    return sorted(p for p, fields in _processes() if int(fields[1]) == pid)


def group(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (zombies left out)."""
    return sorted(p for p, fields in _processes() if int(fields[2]) == pgid and fields[0] != "Z")


def alive(pid: int) -> bool:
    """The process runs (it is there and not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def roles(supervisor: int) -> dict[str, int]:
    """{'gunicorn': master pid, 'nginx': master pid} under `serve --proxy`."""
    found = {}
    for pid in children(supervisor):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        found["gunicorn" if b"--socket" in cmd else "nginx"] = pid
    return found


def wait_for_workers(master: int, n: int, timeout: float = 30) -> list[int]:
    """The workers once gunicorn has forked `n` of them (it forks them one after another)."""
    deadline = time.monotonic() + timeout
    while len(found := children(master)) < n and time.monotonic() < deadline:
        time.sleep(0.05)  # polls /proc: gunicorn sends no event when a worker is up
    return found


def until(condition, timeout: float = 30, what: str = "the condition") -> None:
    """Poll `condition()` until it is true; fail after `timeout` seconds. For state another
    process or thread changes without telling (requests answered, workers replaced)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.05)
