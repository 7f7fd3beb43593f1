"""Structured logs: one JSON object per line, each request's lines carrying its request id.

The request id comes from the caller's X-Request-ID (when it is a sane token) or is made
here, and goes back in the response's X-Request-ID header. One access line per request.
"""
from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, g, request

from service.logconfig import REQUEST_ID

access = logging.getLogger("wordspace.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def register(app: Flask, access_log: bool = True) -> None:
    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else os.urandom(16).hex()
        REQUEST_ID.set(g.request_id)
        g.started = time.perf_counter()

    @app.teardown_request
    def _forget(exc):
        REQUEST_ID.set(None)

    @app.after_request
    def _finish(response):
        # The proxies resolved once: each attribute read through them costs a lookup.
        req, ctx = request._get_current_object(), g._get_current_object()
        request_id = ctx.get("request_id", "")
        response.headers["X-Request-ID"] = request_id
        if not access_log or not access.isEnabledFor(logging.INFO):
            return response
        started = ctx.get("started")
        fields = {
            "method": req.method,
            "path": req.path,
            "route": req.url_rule.rule if req.url_rule else None,
            "status": response.status_code,
            "duration_ms": 0.0,
            "remote": req.remote_addr,
            "bytes": None,
        }

        def line(sent: int | None) -> None:
            elapsed = time.perf_counter() - started if started is not None else 0.0
            fields["duration_ms"], fields["bytes"] = round(elapsed * 1000, 2), sent
            access.info("%s %s %s", fields["method"], fields["path"], fields["status"],
                        extra={"request_id": request_id, "fields": fields})

        if response.is_streamed:
            # Logged when the server closes the stream, with what was sent: asking the length
            # of a streamed body (calculate_content_length) would read it whole into memory.
            sent = _Counted(response.response)
            response.response = sent
            response.call_on_close(lambda: line(sent.bytes))
        else:
            line(response.calculate_content_length())
        return response


class _Counted:
    """A response body passed through as it is, counting its bytes; closing it closes the
    body (stream_with_context's generator then leaves its request context)."""

    def __init__(self, body):
        self.body, self.bytes = body, 0

    def __iter__(self):
        for chunk in self.body:
            self.bytes += len(chunk)
            yield chunk

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
