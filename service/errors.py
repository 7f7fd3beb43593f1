"""The one error hierarchy: what can go wrong, as domain errors with no web framework in sight.

`ServiceError` subclasses carry the HTTP status and problem type they answer with;
service/web/problems.py is the one handler that turns them into application/problem+json.
`BadIndex` is a space folder that cannot be loaded (store and build raise it).
"""
from __future__ import annotations


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


class BadIndex(Exception):
    """A space folder that cannot be loaded: missing or corrupt file, wrong format version."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
