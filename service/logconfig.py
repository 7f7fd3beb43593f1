"""Log lines for every command and the server: plain text, or one JSON object per line.

No web framework here: the web layer (service/web/logs.py) sets REQUEST_ID for the request
a thread is answering, and every line logged meanwhile carries it.
"""
from __future__ import annotations

import contextvars
import logging
import sys
import time

import orjson

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    converter = time.gmtime
    _second = (None, "")  # the last whole second formatted, and its text: one strftime a second

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if self._second[0] != second:
            self._second = (second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S"))
        line = {
            "ts": f"{self._second[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line, not as it was when logging was configured:
    a command run in-process (the tests, with their captured and then closed streams) leaves
    no handler writing to a closed file."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(level: str = "info", as_json: bool = True) -> None:
    # No line shows the caller's file and line, thread or process names: skip collecting them
    # for every record (the logging HOWTO's "Optimization"; a stack walk per access line).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = StderrHandler()
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Warnings (numpy's RuntimeWarning, a library's DeprecationWarning) become log records
    # of the logger py.warnings, in the same format, not raw lines on stderr.
    logging.captureWarnings(True)


def gunicorn_logconfig(level: str, as_json: bool) -> dict:
    """gunicorn's own error log in the same format (its access log is off: ours replaces it)."""
    formatter = {"()": JsonFormatter} if as_json else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": level.upper(), "handlers": ["console"],
                                       "propagate": False}},
    }
