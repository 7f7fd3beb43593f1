"""One error hierarchy and one handler that turns every error into application/problem+json.

Views raise these and hold no try/except; `register` installs the handler that also converts
werkzeug's HTTP errors (404 route, 405, 413) and anything unexpected (500, without a trace).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


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


def problem(status: int, title: str, detail: str, type_: str = "about:blank", **extra):
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(e: ServiceError):
        response = problem(e.status, e.title, e.detail, e.type, **e.extra)
        if e.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="wordspace"'
        return response

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        detail = e.description or e.name
        response = problem(e.code or 500, e.name, detail)
        if e.code == 405 and e.valid_methods:
            response.headers["Allow"] = ", ".join(e.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal error", "The server failed to answer; the error is logged.")
