"""Heavy routes: the ones whose answer costs seconds of CPU or streams a whole space. Each
worker runs at most `Settings.heavy_limit` of them at once (fewer than its threads), so the
probes and the quick routes always find a free thread; past the limit a heavy request is
answered 503 at once, with Retry-After, and counted (wordspace_busy_refusals).

The slot is held until the answer is sent: for a streamed export, until the stream closes.
"""
from __future__ import annotations

import threading

from flask import Flask, g, request

from service.errors import Busy

# Route rules, as Flask names them (request.url_rule.rule).
HEAVY_ROUTES = frozenset((
    "/v1/spaces/<space>/export",            # streams every row of a space
    "/v1/compare/spaces",                   # every shared word's neighbours in two spaces
    "/v1/compare/align",                    # fits an alignment of two spaces
    "/v1/compare/translate",                # the same, on first use of a pair
    "/v1/compare/drift",                    # neighbour searches of many words in two spaces
    "/v1/compare/evaluation",               # scorecards of every space
    "/v1/spaces/<space>/evaluation",        # a scorecard, computed if not yet warm
    "/v1/admin/spaces/<space>/evaluation",  # recomputes a scorecard
    "/v1/compare/plot",                     # pictures drawn by matplotlib
    "/v1/compare/plot/learning-curve",
    "/v1/compare/plot/scorecard",
))
RETRY_AFTER = 2  # seconds a refused client is told to wait


def register(app: Flask, limit: int, refusals) -> None:
    """Bound the heavy requests `app` runs at once to `limit`; `refusals(route)` counts one
    refused request (a prometheus Counter's labels(...).inc)."""
    slots = threading.BoundedSemaphore(limit)

    @app.before_request
    def _take_slot():
        rule = request.url_rule
        if rule is None or rule.rule not in HEAVY_ROUTES:
            return
        if not slots.acquire(blocking=False):
            refusals(rule.rule)
            raise Busy(f"this worker already runs {limit} heavy requests (exports, comparisons "
                       "of spaces, scorecards, pictures; WORDSPACE_HEAVY_REQUESTS): retry in "
                       f"{RETRY_AFTER} s", retry_after=RETRY_AFTER)
        g.heavy_slot = True

    @app.after_request
    def _hold_while_streaming(response):
        if g.get("heavy_slot") and response.is_streamed:
            g.heavy_slot = False  # released when the stream ends or is closed, not before
            release = _once(slots.release)
            response.response = _released_at_end(response.response, release)
            response.call_on_close(release)
        return response

    @app.teardown_request
    def _give_back(exc):
        if g.pop("heavy_slot", False):
            slots.release()


def _once(release):
    lock, done = threading.Lock(), []

    def call():
        with lock:
            if not done:
                done.append(True)
                release()
    return call


def _released_at_end(body, release):
    """The body as it is, calling `release` once it is exhausted or closed."""
    try:
        yield from body
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
        release()
