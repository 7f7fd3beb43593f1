"""Admin routes (need an API key; off without one): reload the catalog, recompute a scorecard.

Under gunicorn the reload is done by the master on SIGHUP (which this route sends): it
re-reads the catalog once, then forks fresh workers and lets the old ones finish their
requests, so every worker serves the new catalog and no request fails. In a single process
the reload happens here and the new states are returned.
"""
from __future__ import annotations

import os
import signal

from flask import Blueprint

from service.web.compare import evaluations
from service.web.state import state

bp = Blueprint("admin", __name__, url_prefix="/v1/admin")


@bp.post("/reload")
def reload():
    master = state().master_pid
    if master and master != os.getpid():
        os.kill(master, signal.SIGHUP)
        return {"status": "reloading",
                "detail": "the server re-reads the catalog and replaces its workers; "
                          "GET /readyz shows each space's state"}, 202
    registry = state().registry.reload()
    return {"status": "reloaded",
            "spaces": {name: state.details() for name, state in sorted(registry.states.items())}}


@bp.post("/spaces/<space>/evaluation")
def refresh_evaluation(space):
    """Recompute the space's cheap scorecard sections (seconds of CPU, one at a time), in the
    worker that answers; GET /v1/spaces/{space}/evaluation serves the stored scorecard."""
    return evaluations().get(state().registry.get(space), refresh=True)
