"""The one handler that turns every error into application/problem+json (RFC 9457).

Views raise service/errors.py's ServiceError subclasses and hold no try/except; `register`
installs the handler that also converts werkzeug's HTTP errors (404 route, 405, 413) and
anything unexpected (500, logged, without a trace in the answer). Titles come from the one
table, service/errors.py's TITLES, which nginx's own refusals use too (service/proxy.py).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from service.errors import TITLES, ServiceError
from service.web.state import state

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
DRAIN_BYTES = 64 * 2**20  # the most of a refused body read to keep its connection usable


def problem(status: int, title: str, detail: str, type_: str = "about:blank", **extra):
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def _drain(stream) -> None:
    """Read and drop what is left of a refused body (at most DRAIN_BYTES), so that the
    connection, answered with keep-alive, carries the client's next request: gunicorn itself
    drops only 64 KiB of an unread body, then closes the connection without a word, and a
    pooled client's next request on it fails. A longer body still closes it; behind
    `serve --proxy` nginx refuses such bodies before they reach the app."""
    if stream is None or (request.content_length or 0) > DRAIN_BYTES:
        return
    left = DRAIN_BYTES
    while left > 0:
        chunk = stream.read(min(65536, left))
        if not chunk:
            return
        left -= len(chunk)


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
            _drain(request.environ.get("wsgi.input"))
        status = e.code or 500
        response = problem(status, TITLES.get(status, e.name), detail)
        if e.code == 405 and e.valid_methods:
            response.headers["Allow"] = ", ".join(e.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unhandled error")
        return problem(500, TITLES[500], "The server failed to answer; the error is logged.")
