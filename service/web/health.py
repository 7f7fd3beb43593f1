"""Probes and the API contract: /healthz, /readyz and /openapi.yaml (no /v1 prefix, no auth)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app

bp = Blueprint("health", __name__)

# service/openapi.yaml is a link to the repository's openapi.yaml, so the installed
# package carries the same file.
OPENAPI = Path(__file__).resolve().parent.parent / "openapi.yaml"


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    registry = current_app.extensions["wordspace"]
    states = {name: {k: v for k, v in vars(s).items() if v is not None and k != "name"}
              for name, s in sorted(registry.states.items())}
    body = {"ready": registry.ready, "spaces": states}
    return body, 200 if registry.ready else 503


@bp.get("/openapi.yaml")
def openapi():
    return Response(OPENAPI.read_text(encoding="utf-8"), mimetype="application/yaml")
