"""Run the app under gunicorn's stock gthread worker, configured from the Settings object
through gunicorn's documented settings and hooks (no config file).

Like `gunicorn --preload -k gthread -w N --threads T -b HOST:PORT 'service:create_app()'`,
plus:
- the app is created once in the master (preload): spaces are verified and mapped once,
  and forked workers share those pages;
- every WORDSPACE_WATCH_SECONDS a thread in the master looks for new versions (an s3://
  catalog's pointer, by conditional GET, downloading and verifying what changed; a folder's
  links) and, when there are, sends the master SIGHUP (service/store/mirror.py);
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

import gc
import logging
import os
import signal
import tempfile
from pathlib import Path

from gunicorn.app.base import BaseApplication

from service.logconfig import configure as configure_logging
from service.logconfig import gunicorn_logconfig
from service.settings import KEEPALIVE_TIMEOUT, MAX_HEADER_FIELDS, Settings

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
            # gthread behind nginx too: sync workers (gunicorn's docs, behind a buffering
            # proxy) answered neighbours by word no faster there, in three runs of
            # bench/one_replica.py (docs/operations.md), and threads keep light requests
            # moving while a heavy one runs.
            "worker_class": "gthread",
            # gthread's main loop tells the master it is alive about once a second whatever
            # its threads do, so this kills a hung worker, never a busy request: requests are
            # bounded by the limits (max_k, max_batch, max_results, ...) instead.
            "timeout": s.timeout,
            "graceful_timeout": s.timeout,
            "keepalive": KEEPALIVE_TIMEOUT,
            "limit_request_line": s.max_header_line,
            "limit_request_field_size": s.max_header_line,
            # Behind nginx its header buffers bound the headers' size (service/proxy.py), so
            # the count is not limited again (gunicorn's most); alone, MAX_HEADER_FIELDS.
            "limit_request_fields": 32768 if self.socket else MAX_HEADER_FIELDS,
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
            "when_ready": self._watch_catalog,
            "pre_fork": _freeze_heap,
            "child_exit": _mark_worker_dead,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from service import create_app
        from service.web.state import state

        configure_logging(self.settings.log_level, self.settings.log_json)
        app = create_app(self.settings)
        state(app).master_pid = os.getpid()
        if self.socket:
            from service.web import trust_proxy

            trust_proxy(app)
        if self.settings.workers > 1:
            # matplotlib loaded here, before the fork, is shared by the workers; loaded by a
            # worker's first picture, it cost each worker about 30 MiB of its own (about a
            # second more to start: docs/operations.md, "One replica").
            from service.analysis import plots

            plots.warm()
        return app

    def _reload_spaces(self, arbiter) -> None:
        """Runs in the master on SIGHUP, before the new workers are forked."""
        if self.callable is not None:
            from service.web.state import state

            log.info("SIGHUP: re-reading the catalog")
            state(self.callable).registry.reload()

    def _watch_catalog(self, arbiter) -> None:
        """Runs in the master once it listens: the catalog's watch, whose news reach the
        workers through gunicorn's own SIGHUP reload."""
        from service.store.mirror import Watch, local_check
        from service.web.state import state

        mirror = state(self.callable).mirror if self.callable is not None else None
        check = mirror.sync if mirror is not None else local_check(self.settings.local_catalog)
        master = os.getpid()
        Watch(check, lambda: os.kill(master, signal.SIGHUP), self.settings.watch_seconds).start()


def _freeze_heap(server, worker) -> None:
    """Before each fork: the master's objects (the spaces' keys, their dicts) go to the garbage
    collector's permanent generation, so a worker's collections never write to them and their
    pages stay shared instead of being copied into every worker (CPython's gc.freeze docs)."""
    gc.freeze()


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


def run(settings: Settings, socket: Path | None = None) -> None:
    """Serve on settings.host:settings.port, or on the unix socket `socket` behind a proxy."""
    _metrics_folder()
    _malloc_for_numpy()
    WordspaceServer(settings, socket).run()


# glibc malloc, set in the master before the app loads (forked workers inherit it): blocks of
# 1 MiB and more (numpy's temporaries: a row of scores over a table, a block of a scan) are
# always mapped and unmapped, instead of glibc raising that threshold after the first such
# free and keeping later ones in its heaps; and two arenas, not eight per core for gthread's
# threads. A worker's private memory after a mixed load halved (docs/operations.md, "One
# replica"). MALLOC_MMAP_THRESHOLD_ or MALLOC_ARENA_MAX in the environment win.
MALLOC_MMAP_THRESHOLD = 1 << 20
MALLOC_ARENA_MAX = 2
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt's parameter numbers (glibc's malloc.h)


def _malloc_for_numpy() -> None:
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return  # not glibc (musl, macOS): its allocator is left as it is
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, MALLOC_ARENA_MAX)


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
