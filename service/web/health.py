"""Probes and the API contract: /healthz, /readyz and /openapi.yaml (no /v1 prefix, no auth)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

from service.store.registry import SpaceState
from service.web.auth import has_key
from service.web.state import state

bp = Blueprint("health", __name__)

# service/openapi.yaml is a link to the repository's openapi.yaml, so the installed
# package carries the same file.
OPENAPI = Path(__file__).resolve().parent.parent / "openapi.yaml"


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Names and states for anyone (probes need no key); the version served, paths and the
    reasons a version was refused only for a caller with an API key (and in the logs)."""
    registry = state().registry
    view = SpaceState.details if has_key() else SpaceState.public
    states = {name: view(s) for name, s in sorted(registry.states.items())}
    body = {"ready": registry.ready, "spaces": states}
    if registry.required:
        body["required"] = list(registry.required)
    return body, 200 if registry.ready else 503


@bp.get("/openapi.yaml")
def openapi():
    return Response(OPENAPI.read_text(encoding="utf-8"), mimetype="application/yaml")
