"""`wordspace serve --proxy`: nginx in front of gunicorn, two child processes watched by this one.

The interface (ports, folders, signals) is described in service/proxy.py. This process only
writes the config, starts both, forwards signals and waits: SIGTERM/SIGINT stop both
gracefully (exit 0), SIGHUP re-reads the catalog in gunicorn, and if either child exits on
its own the other is stopped and this exits 1.

Stopping drains from the front: nginx stops first (SIGQUIT: it closes its listening socket
and idle connections and finishes the requests it holds, which gunicorn still answers), then
gunicorn (SIGTERM), so no client meets a closed socket (502). A dead nginx's process group
(its workers) is killed at once. The children die with this process even when it is killed
with SIGKILL (Linux's PR_SET_PDEATHSIG, set in each child before it runs), and a socket left
by a crash is removed at start, so a restart always binds.
"""
from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket as sockets
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


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int, signum: int):
    """A preexec_fn: the child gets `signum` when `parent` dies (even by SIGKILL)."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, int(signum))
        if os.getppid() != parent:  # the parent died before the call: too late for the signal
            os._exit(1)
    return arrange


def _remove_stale(socket: Path) -> None:
    """Remove a socket a crashed server left (nobody listens on it), so that nginx does not
    start before gunicorn listens; refuse to start beside a server that does listen."""
    if not socket.is_socket():
        return
    with sockets.socket(sockets.AF_UNIX) as probe:
        try:
            probe.connect(str(socket))
        except (ConnectionRefusedError, FileNotFoundError):
            log.info("removing %s, left by a server that stopped without removing it", socket)
            socket.unlink(missing_ok=True)
            return
    raise InputError(f"a server already listens on {socket}: stop it, or give this one another "
                     "WORDSPACE_RUNTIME_DIR")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run(settings: Settings) -> int:
    nginx = find_nginx()
    made = not settings.runtime_dir
    runtime = Path(tempfile.mkdtemp(prefix="wordspace-") if made else settings.runtime_dir)
    started: list[subprocess.Popen] = []
    try:
        return _serve(settings, nginx, runtime, started)
    finally:
        if len(started) == 2:
            _kill_group(started[1].pid)  # what is left of nginx's group
        if made:
            shutil.rmtree(runtime, ignore_errors=True)


def _serve(settings: Settings, nginx: str, runtime: Path, started: list[subprocess.Popen]) -> int:
    conf = proxy.write_config(settings, runtime)
    nginx_cmd = [nginx, "-e", "stderr", "-c", str(conf), "-p", f"{runtime.resolve()}/"]
    checked = subprocess.run(nginx_cmd + ["-t", "-q"], capture_output=True, text=True)
    if checked.returncode:
        raise InputError(f"nginx refuses {conf}: {checked.stderr.strip()}")
    socket = runtime / proxy.SOCKET
    _remove_stale(socket)
    stopping: list[int] = []

    def stop(signum, frame):
        stopping.append(signum)
        if not started:
            return
        # The front first; gunicorn once nginx has drained (below), or now if nginx never ran.
        started[-1].send_signal(signal.SIGQUIT if len(started) == 2 else signal.SIGTERM)

    def reload(signum, frame):
        if started:
            started[0].send_signal(signal.SIGHUP)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    signal.signal(signal.SIGHUP, reload)
    started.append(subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--socket", str(socket),
                                     "--catalog", str(settings.catalog), "--workers", str(settings.workers)],
                                    preexec_fn=_die_with(os.getpid(), signal.SIGTERM)))
    # nginx starts once gunicorn listens, so its first clients are not answered 502.
    while not socket.exists() and started[0].poll() is None and not stopping:
        time.sleep(0.05)
    if started[0].poll() is not None:
        log.error("gunicorn exited (status %d) before it listened", started[0].returncode)
        return 0 if stopping else 1
    # Its own process group: nginx's workers outlive a killed master, and are killed with it.
    # SIGTERM when this process dies: nginx's fast stop, which stops its workers too.
    started.append(subprocess.Popen(nginx_cmd, process_group=0,
                                    preexec_fn=_die_with(os.getpid(), signal.SIGTERM)))
    if stopping:  # a signal came while the children were starting
        stop(stopping[0], None)
    gunicorn, front = started
    log.info("nginx on %s (pid %d) in front of gunicorn on %s (pid %d)",
             settings.bind, front.pid, socket, gunicorn.pid)
    children = {gunicorn.pid: ("gunicorn", gunicorn), front.pid: ("nginx", front)}
    pid, status = os.wait()
    name, _ = children.pop(pid)
    if name == "nginx":
        _kill_group(front.pid)  # a dead master's workers would keep answering (502)
    crashed = not stopping
    if crashed:
        log.error("%s exited (status %d): stopping the other", name, os.waitstatus_to_exitcode(status))
    ((other_name, other),) = children.values()
    other.send_signal(signal.SIGTERM if other is gunicorn else signal.SIGQUIT)
    try:
        other.wait(timeout=settings.timeout + 5)
    except subprocess.TimeoutExpired:
        log.error("%s did not stop in %ds: killed", other_name, settings.timeout + 5)
        other.kill()
        other.wait()
    return 1 if crashed else 0
