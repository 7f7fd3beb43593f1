"""`wordspace serve --proxy`: nginx in front of gunicorn, two child processes watched by this one.

The interface (ports, folders, signals) is described in service/proxy.py. This process only
writes the config, starts both, forwards signals and waits: SIGTERM/SIGINT stop both
gracefully (exit 0), SIGHUP re-reads the catalog in gunicorn, and if either child exits on
its own the other is stopped and this exits 1.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service import proxy
from service.errors import InputError
from service.settings import Settings

log = logging.getLogger("wordspace.proxy")
INSTALL = "nginx is not installed: apt-get install nginx (or `make proxy-deps` as root)"


def find_nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise InputError(INSTALL)
    return found


def run(settings: Settings) -> int:
    nginx = find_nginx()
    made = not settings.runtime_dir
    runtime = Path(tempfile.mkdtemp(prefix="wordspace-") if made else settings.runtime_dir)
    started: list[subprocess.Popen] = []
    try:
        return _serve(settings, nginx, runtime, started)
    finally:
        if len(started) == 2:
            try:
                os.killpg(started[1].pid, signal.SIGKILL)  # what is left of nginx's group
            except ProcessLookupError:
                pass
        if made:
            shutil.rmtree(runtime, ignore_errors=True)


def _serve(settings: Settings, nginx: str, runtime: Path, started: list[subprocess.Popen]) -> int:
    conf = proxy.write_config(settings, runtime)
    nginx_cmd = [nginx, "-e", "stderr", "-c", str(conf), "-p", f"{runtime.resolve()}/"]
    checked = subprocess.run(nginx_cmd + ["-t", "-q"], capture_output=True, text=True)
    if checked.returncode:
        raise InputError(f"nginx refuses {conf}: {checked.stderr.strip()}")
    socket = runtime / proxy.SOCKET
    stopping: list[int] = []

    def stop(signum, frame):
        stopping.append(signum)
        for child, how in zip(started, (signal.SIGTERM, signal.SIGQUIT)):
            child.send_signal(how)  # both let the requests they hold finish

    def reload(signum, frame):
        if started:
            started[0].send_signal(signal.SIGHUP)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    signal.signal(signal.SIGHUP, reload)
    started.append(subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--socket", str(socket),
                                     "--catalog", str(settings.catalog), "--workers", str(settings.workers)]))
    # nginx starts once gunicorn listens, so its first clients are not answered 502.
    while not socket.exists() and started[0].poll() is None and not stopping:
        time.sleep(0.05)
    if started[0].poll() is not None:
        log.error("gunicorn exited (status %d) before it listened", started[0].returncode)
        return 0 if stopping else 1
    # Its own process group: nginx's workers outlive a killed master, and are stopped with it.
    started.append(subprocess.Popen(nginx_cmd, process_group=0))
    if stopping:  # a signal came while the children were starting
        stop(stopping[0], None)
    gunicorn, front = started
    log.info("nginx on %s (pid %d) in front of gunicorn on %s (pid %d)",
             settings.bind, front.pid, socket, gunicorn.pid)
    children = {gunicorn.pid: ("gunicorn", gunicorn), front.pid: ("nginx", front)}
    pid, status = os.wait()
    name, _ = children.pop(pid)
    crashed = not stopping
    if crashed:
        log.error("%s exited (status %d): stopping the other", name, os.waitstatus_to_exitcode(status))
        stop(signal.SIGTERM, None)
    ((other_name, other),) = children.values()
    try:
        other.wait(timeout=settings.timeout + 5)
    except subprocess.TimeoutExpired:
        log.error("%s did not stop in %ds: killed", other_name, settings.timeout + 5)
        other.kill()
        other.wait()
    return 1 if crashed else 0
