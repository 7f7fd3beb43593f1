"""Run the app under gunicorn's stock gthread worker, configured from the Settings object
through gunicorn's documented settings and hooks (no config file).

Like `gunicorn --preload -k gthread -w N --threads T -b HOST:PORT 'service:create_app()'`,
plus:
- the app is created once in the master (preload): spaces are verified and mapped once,
  and forked workers share those pages;
- SIGHUP (or POST /v1/admin/reload) re-reads the catalog in the master, then gunicorn forks
  fresh workers and lets the old ones finish their requests: zero-downtime index updates;
- prometheus-client runs in multiprocess mode over a fresh folder, so /metrics adds up
  every worker;
- bound to a unix socket (`serve --socket`, which `serve --proxy` uses behind nginx), the
  client address comes from the X-Forwarded-For nginx appends (werkzeug's ProxyFix, one hop):
  only processes on this machine can reach the socket.

gthread hands a connection to a thread as soon as it is readable, so slow clients can hold
every thread: gunicorn's deployment docs put a buffering proxy in front, and `serve --proxy`
does (service/proxy.py). `serve` alone is for local use.
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

log = logging.getLogger(__name__)


class WordspaceServer(BaseApplication):
    def __init__(self, settings: Settings, socket: Path | None = None):
        self.settings = settings
        self.socket = socket
        super().__init__()

    def load_config(self):
        s = self.settings
        options = {
            "bind": f"unix:{self.socket}" if self.socket else s.bind,
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": "gthread",
            # gthread's main loop tells the master it is alive about once a second whatever
            # its threads do, so this kills a hung worker, never a busy request: requests are
            # bounded by the limits (max_k, max_batch, max_results, ...) instead.
            "timeout": s.timeout,
            "graceful_timeout": s.timeout,
            "keepalive": 5,
            "limit_request_line": s.max_header_line,
            "limit_request_field_size": s.max_header_line,
            # Behind nginx its header buffers bound the headers' size (service/proxy.py), so
            # the count is not limited again; alone, gunicorn's default count (100) stands.
            "limit_request_fields": 32768 if self.socket else 100,
            # The scheme headers (X-Forwarded-Proto) are trusted from loopback and the unix
            # socket only (gunicorn's default, said here).
            "forwarded_allow_ips": "127.0.0.1,::1",
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
        if self.socket:
            from werkzeug.middleware.proxy_fix import ProxyFix

            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
        return app

    def _reload_spaces(self, arbiter) -> None:
        """Runs in the master on SIGHUP, before the new workers are forked."""
        if self.callable is not None:
            log.info("SIGHUP: re-reading the catalog")
            self.callable.extensions["wordspace"].reload()


def _mark_worker_dead(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run(settings: Settings, socket: Path | None = None) -> None:
    """Serve on settings.host:settings.port, or on the unix socket `socket` behind a proxy."""
    _metrics_folder()
    WordspaceServer(settings, socket).run()


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
