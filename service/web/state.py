"""What the app holds: one typed object under app.extensions["wordspace"], made by create_app.

Views reach it through `state()`; nothing else is stored on the app.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from flask import Flask, current_app

from service.analysis.alignment import Alignments
from service.analysis.neighborhoods import Comparisons
from service.analysis.scorecard import Evaluations
from service.settings import Settings
from service.store.mirror import Mirror
from service.store.registry import Registry

KEY = "wordspace"


@dataclass
class AppState:
    settings: Settings
    registry: Registry            # the loaded spaces and every space's state
    evaluations: Evaluations      # scorecards, warmed whenever the spaces (re)load
    metrics: object               # service/web/metrics.py's Metrics (imported by create_app)
    keys: list[bytes]             # API keys, compared in constant time (service/web/auth.py)
    openapi: str                  # the spec served, bounds from settings (service/web/contract.py)
    inputs: object = None         # service/web/inputs.py's Operations: requests checked against the spec
    master_pid: int | None = None  # gunicorn's master (service/server.py); None in one process
    alignments: Alignments = field(default_factory=Alignments)  # pairs of spaces aligned
    comparisons: Comparisons = field(default_factory=Comparisons)  # /v1/compare/spaces answers
    prefixes: WeakKeyDictionary = field(default_factory=WeakKeyDictionary)  # space -> PrefixIndex
    mirror: Mirror | None = None  # an s3:// catalog's local copy (service/store/mirror.py)


def state(app: Flask | None = None) -> AppState:
    """The state of `app`, by default of the app handling the current request."""
    return (app or current_app).extensions[KEY]
