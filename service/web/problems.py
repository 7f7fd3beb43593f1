"""The one handler that turns every error into application/problem+json (RFC 9457).

Views raise service/errors.py's ServiceError subclasses and hold no try/except; `register`
installs the handler that also converts werkzeug's HTTP errors (404 route, 405, 413) and
anything unexpected (500, logged, without a trace in the answer).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from service.errors import ServiceError
from service.web.state import state

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


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
        if getattr(e, "retry_after", None):
            response.headers["Retry-After"] = str(e.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        detail = e.description or e.name
        if e.code == 413:
            detail = (f"the request body is larger than {state().settings.max_body_bytes} bytes "
                      "(WORDSPACE_MAX_BODY_BYTES)")
        response = problem(e.code or 500, e.name, detail)
        if e.code == 405 and e.valid_methods:
            response.headers["Allow"] = ", ".join(e.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal error", "The server failed to answer; the error is logged.")
