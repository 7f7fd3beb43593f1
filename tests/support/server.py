"""Start the real service (`wordspace serve`, gunicorn; or `serve --proxy`, nginx in front) on a
free loopback port for tests."""
from __future__ import annotations

import contextlib
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
def serve(catalog: Path, *, ready_timeout: float = 60, proxy: bool = False, **settings):
    """Run `wordspace serve` (`--proxy`: behind nginx) with WORDSPACE_<KEY>=value for each
    keyword; yield a Server once /healthz answers; stop it (SIGTERM, then SIGKILL) and fail on
    a traceback in its log."""
    port = free_port()
    env = {**os.environ, "WORDSPACE_CATALOG": str(catalog), "WORDSPACE_PORT": str(port)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update({f"WORDSPACE_{k.upper()}": str(v) for k, v in settings.items()})
    # A file, not a pipe: an undrained pipe fills up and blocks the server's logging.
    logfile = tempfile.TemporaryFile(mode="w+")
    command = [sys.executable, "-m", "service.cli", "serve"] + (["--proxy"] if proxy else [])
    proc = subprocess.Popen(command, env=env,
                            stdout=logfile, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc, logfile)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                requests.get(server.url("/healthz"), timeout=1)
                break
            except requests.ConnectionError:  # (behind nginx: it starts once gunicorn listens)
                if proc.poll() is not None or time.monotonic() > deadline:
                    _stop(proc)
                    raise RuntimeError("server did not start:\n" + server.log())
                time.sleep(0.1)
        yield server
    finally:
        _stop(proc)
        log = server.log()
        logfile.close()
    assert "Traceback" not in log, log[-5000:]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (gunicorn workers of a master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
