"""Run the app under gunicorn with settings from the Settings object (no config file).

Like `gunicorn --preload -k gthread -w N --threads T -b HOST:PORT 'service:create_app()'`,
plus four things the plain command lacks:
- the worker (service/worker.py) reads each request whole before a thread takes it, so slow
  clients hold no thread, and answers gunicorn's own errors (414, 431, 400, 408) as
  problem+json;
- the app is created once in the master (preload): spaces are verified and mapped once,
  and forked workers share those pages;
- SIGHUP (or POST /v1/admin/reload) re-reads the catalog in the master, then gunicorn forks
  fresh workers and lets the old ones finish their requests: zero-downtime index updates;
- prometheus-client runs in multiprocess mode over a fresh folder, so /metrics adds up
  every worker.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from gunicorn.app.base import BaseApplication

from service.logconfig import configure as configure_logging
from service.logconfig import gunicorn_logconfig
from service.settings import Settings
from service.worker import BufferingWorker

log = logging.getLogger(__name__)


class WordspaceServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        s = self.settings
        options = {
            "bind": s.bind,
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": BufferingWorker,
            # gthread's main loop tells the master it is alive about once a second whatever
            # its threads do, so this kills a hung worker, never a busy request: requests are
            # bounded by the limits (max_k, max_batch, max_results, ...) instead.
            "timeout": s.timeout,
            "graceful_timeout": s.timeout,
            "keepalive": 5,
            # The longest request line gunicorn allows (its default is 4094): every query
            # parameter is bounded well below this, so the app answers overlong ones itself.
            "limit_request_line": 8190,
            "preload_app": True,
            "loglevel": s.log_level,
            "accesslog": None,  # service/web/logs.py writes one JSON access line per request
            "errorlog": "-",
            "logconfig_dict": gunicorn_logconfig(s.log_level, s.log_json),
            "proc_name": "wordspace",
            # Each worker touches a heartbeat file on every turn of its event loop; on a disk
            # filesystem that utime was a fifth of a busy worker's samples (bench/profile.py).
            # gunicorn's docs advise a tmpfs; /dev/shm is one on Linux and in containers.
            "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
            # gunicorn 24+ opens a control socket under ~/.gunicorn by default: two servers on
            # one host would share it, and the container user has no home. Signals suffice.
            "control_socket_disable": True,
            "on_reload": self._reload_spaces,
            "child_exit": _mark_worker_dead,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from service import create_app

        configure_logging(self.settings.log_level, self.settings.log_json)
        app = create_app(self.settings)
        app.extensions["wordspace.master_pid"] = os.getpid()
        return app

    def _reload_spaces(self, arbiter) -> None:
        """Runs in the master on SIGHUP, before the new workers are forked."""
        if self.callable is not None:
            log.info("SIGHUP: re-reading the catalog")
            self.callable.extensions["wordspace"].reload()


DEAD_WORKERS_COUNTED = 16  # dead workers whose metrics files are kept (their counts)


def _mark_worker_dead(server, worker) -> None:
    """prometheus-client's clean-up for a dead worker (its live gauges), then the files of
    all but the DEAD_WORKERS_COUNTED workers that died last: their counts stay in /metrics through a reload
    or a replaced worker, and churn cannot make /metrics read ever more files."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    alive = {os.getpid(), *server.WORKERS}
    dead: dict[int, list[Path]] = {}
    for path in Path(folder).glob("*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and int(pid) not in alive:
            dead.setdefault(int(pid), []).append(path)

    def last_written(pid: int) -> float:
        return max((f.stat().st_mtime for f in dead[pid] if f.exists()), default=0.0)

    for pid in sorted(dead, key=last_written, reverse=True)[DEAD_WORKERS_COUNTED:]:
        for path in dead[pid]:
            path.unlink(missing_ok=True)


def run(settings: Settings) -> None:
    _metrics_folder()
    WordspaceServer(settings).run()


def _metrics_folder() -> None:
    """A fresh folder for this server's metric files (prometheus-client reads the variable)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="wordspace-metrics-")
