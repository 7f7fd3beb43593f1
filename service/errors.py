"""The one error hierarchy: what can go wrong, as domain errors with no web framework in sight.

`ServiceError` subclasses carry the HTTP status and problem type they answer with;
service/web/problems.py is the one handler that turns them into application/problem+json.
`BadIndex` is a space folder that cannot be loaded (store and build raise it). `InputError` is
a mistake of whoever runs a command (a bad option, file or setting): the command line answers
it with one line and exit code 2, while any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations


ECHO_LIMIT = 64  # characters of a caller's input an error message repeats


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` cut to `limit` characters (with an ellipsis), so an error never echoes a huge input."""
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


class InputError(ValueError):
    """A bad option, input file or setting given by whoever runs the service or a command."""


class MissingInput(InputError, FileNotFoundError):
    """An input file (or package) named by whoever runs the command is not there."""


class NoSpace(InputError):
    """The disk filled up while writing: the message names the folder and the bytes needed."""


class ServiceError(Exception):
    status = 500
    title = "Internal error"
    type = "about:blank"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidRequest(ServiceError):
    status = 400
    title = "Invalid request"
    type = "/problems/invalid-request"


class UnknownSpace(ServiceError):
    status = 404
    title = "Unknown space"
    type = "/problems/unknown-space"


class UnknownWord(ServiceError):
    status = 404
    title = "Unknown word"
    type = "/problems/unknown-word"


class Unauthorized(ServiceError):
    status = 401
    title = "Unauthorized"
    type = "/problems/unauthorized"


class NotFound(ServiceError):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class SpaceNotReady(ServiceError):
    status = 503
    title = "Space not ready"
    type = "/problems/space-not-ready"


class Busy(ServiceError):
    """Too many heavy requests at once in this worker: retry after `retry_after` seconds."""
    status = 503
    title = "Busy"
    type = "/problems/busy"

    def __init__(self, detail: str, retry_after: int, **extra):
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class BadIndex(Exception):
    """A space folder that cannot be loaded: missing or corrupt file, wrong format version."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
