"""Run the app under gunicorn with settings from the Settings object (no config file).

Equivalent to `gunicorn -w N --threads T -b HOST:PORT --preload 'service:create_app()'`.
The app is created once in the master (--preload): spaces are verified and mapped once,
and forked workers share those pages.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from service import configure_logging, create_app
from service.settings import Settings


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
            "worker_class": "gthread",
            "timeout": s.timeout,
            "graceful_timeout": s.timeout,
            "keepalive": 5,
            "preload_app": True,
            "loglevel": s.log_level,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "wordspace",
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        configure_logging(self.settings.log_level)
        return create_app(self.settings)


def run(settings: Settings) -> None:
    WordspaceServer(settings).run()
