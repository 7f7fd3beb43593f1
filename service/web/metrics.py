"""Prometheus metrics at GET /metrics: requests and latency by route, method, space and status,
index search latency, loaded spaces and their rows, spaces serving an older version because
the newer one was refused (wordspace_space_fallback), a failed reload and unreadable served
files (wordspace_reload_failed, wordspace_space_unreadable), heavy requests refused
(wordspace_busy_refusals), build info.

Under gunicorn the server points PROMETHEUS_MULTIPROC_DIR at a fresh folder before any
worker starts, and /metrics aggregates every worker's values (prometheus-client's
multiprocess mode); in a single process (tests) the app's own registry is exposed.
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from service.web.state import state

# The HTTP methods counted by name; any other method a caller sends is counted as "other",
# so label values stay bounded whatever callers send.
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"))
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("wordspace_requests", "HTTP requests answered",
                                ["route", "method", "space", "status"], registry=r)
        self.latency = Histogram("wordspace_request_seconds", "HTTP request latency",
                                 ["route", "method", "space", "status"], buckets=_BUCKETS, registry=r)
        self.search = Histogram("wordspace_index_search_seconds", "FAISS index search latency",
                                ["space"], buckets=_BUCKETS, registry=r)
        self.rows = Gauge("wordspace_space_rows", "Rows of each loaded space", ["space"],
                          multiprocess_mode="livemax", registry=r)
        self.loaded = Gauge("wordspace_spaces_loaded", "Spaces loaded and serving",
                            multiprocess_mode="livemax", registry=r)
        self.fallback = Gauge("wordspace_space_fallback", "1 while a space serves an older version "
                              "because its newer one was refused", ["space"],
                              multiprocess_mode="livemax", registry=r)
        self.reload_failed = Gauge("wordspace_reload_failed", "1 while the last reload could not "
                                   "read the catalog (the spaces loaded before still serve)",
                                   multiprocess_mode="livemax", registry=r)
        self.unreadable = Gauge("wordspace_space_unreadable", "1 while a served space's files "
                                "cannot be read (it serves from memory)", ["space"],
                                multiprocess_mode="livemax", registry=r)
        self.busy = Counter("wordspace_busy_refusals", "Heavy requests refused (503) because "
                            "the worker ran WORDSPACE_HEAVY_REQUESTS of them", ["route"], registry=r)
        self.info = Gauge("wordspace_build_info", "Version of the running service", ["version"],
                          multiprocess_mode="livemax", registry=r)
        self._children = {}  # label values -> (counter, histogram): labels() once per combination

    def count(self, labels: tuple[str, str, str, str], seconds: float) -> None:
        """One answered request with its (route, method, space, status)."""
        children = self._children.get(labels)
        if children is None:
            children = self._children[labels] = (self.requests.labels(*labels),
                                                 self.latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    def spaces_changed(self, spaces: dict, states: dict) -> None:
        self.loaded.set(len(spaces))
        for name, loaded in states.items():
            self.fallback.labels(space=name).set(1 if loaded.fallback else 0)
        for name, space in spaces.items():
            self.rows.labels(space=name).set(len(space))

    def search_observer(self, space: str):
        """What a space's searcher calls with the seconds of each index search."""
        return self.search.labels(space=space).observe

    def faults(self, faults, served: list[str]) -> None:
        """The faults served through (service/store/health.py's Faults), as gauges."""
        self.reload_failed.set(1 if faults.reload is not None else 0)
        for name in served:
            self.unreadable.labels(space=name).set(1 if name in faults.spaces else 0)

    def expose(self) -> Response:
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        # content_type, not mimetype: Flask would append a second charset to a text/ type.
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def register(app: Flask, version: str) -> Metrics:
    metrics = Metrics()
    metrics.info.labels(version=version).set(1)

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        req = request._get_current_object()  # once: each read through the proxy is a lookup
        route = req.url_rule.rule if req.url_rule else "unmatched"
        space = (req.view_args or {}).get("space", "")
        if space and space not in state().registry.states:
            space = "unknown"  # keep label values bounded whatever callers send
        started = g.get("metrics_started")
        method = req.method if req.method in METHODS else "other"
        metrics.count((route, method, space, str(response.status_code)),
                      time.perf_counter() - started if started is not None else 0.0)
        return response

    @app.get("/metrics")
    def metrics_route():
        registry = state().registry
        registry.check_files()
        metrics.faults(registry.faults, registry.names)
        return metrics.expose()

    return metrics
