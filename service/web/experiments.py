"""/v1/experiments/*: published experiment results as JSON (the learning curve per task).

The build publishes them in the catalog (service/builder/learning_curve.py); this only reads.
"""
from __future__ import annotations

from flask import Blueprint

from service.errors import NotFound
from service.store import experiments
from service.web import params

bp = Blueprint("experiments", __name__, url_prefix="/v1")


def curves() -> dict[str, dict]:
    """The learning curves asked for: the `task` one, or every task's.

    Raises:
        NotFound: none published, or none for that task (the detail lists the tasks).
    """
    found = experiments.learning_curves(params.settings().local_catalog)
    if not found:
        raise NotFound("no learning curve in the catalog; `wordspace build` (or `wordspace "
                       "experiment learning-curve --task TASK`) publishes one")
    task = params.arg("task")  # a Word, or absent (also when given empty)
    if task is None:
        return found
    if task not in found:
        raise NotFound(f"no learning curve for task '{task}'; published: {', '.join(found)}",
                       task=task, tasks=list(found))
    return {task: found[task]}


@bp.get("/experiments/learning-curve")
def learning_curve():
    return {"experiment": experiments.LEARNING_CURVE, "tasks": list(curves().values())}
