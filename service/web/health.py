"""Probes and the API contract: /healthz, /readyz and /openapi.yaml (no /v1 prefix, no auth)."""
from __future__ import annotations

from flask import Blueprint, Response

from service.store.registry import SpaceState
from service.web.auth import has_key
from service.web.state import state

bp = Blueprint("health", __name__)

@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Names and states for anyone (probes need no key); the version served, paths and the
    reasons a version was refused only for a caller with an API key (and in the logs)."""
    registry, keyed = state().registry, has_key()
    view = SpaceState.details if keyed else SpaceState.public
    states = {name: view(s) for name, s in sorted(registry.states.items())}
    body = {"ready": registry.ready, "spaces": states}
    if registry.required:
        body["required"] = list(registry.required)
    # Faults served through (service/store/health.py): shown, and counted, never unready.
    unreadable = registry.check_files()
    for name, fault in unreadable.items():
        states[name]["unreadable"] = {"since": fault.since}
        if keyed:
            states[name]["unreadable"]["error"] = registry.brief(fault.error)
    if registry.faults.reload is not None:
        body["reload"] = {"failed_since": registry.faults.reload.since}
        if keyed:
            body["reload"]["error"] = registry.brief(registry.faults.reload.error)
    state().metrics.faults(registry.faults, registry.names)
    return body, 200 if registry.ready else 503


@bp.get("/openapi.yaml")
def openapi():
    """openapi.yaml with the bounds this server enforces (service/web/contract.py)."""
    return Response(state().openapi, mimetype="application/yaml")
