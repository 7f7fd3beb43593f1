"""Results published beside the spaces, one JSON file each in the catalog's .experiments
folder: `wordspace experiment` results, the learning curves, and the last build's summary.
Each is written atomically (a reader sees the old file or the new one, never half of one).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from service.store.catalog import check_name, write_json

log = logging.getLogger(__name__)

EXPERIMENTS = ".experiments"  # results of `wordspace experiment`, one JSON file each
LEARNING_CURVE = "learning-curve"  # learning-curve-TASK there, one file per task
LAST_BUILD = "last-build"  # there too: the duration and summary of the last build that made a space


def write_experiment(catalog: Path, name: str, data: dict) -> Path:
    """Publish an experiment's result as EXPERIMENTS/NAME.json, atomically (a reader sees the
    old file or the new one, never half of one)."""
    check_name(name)
    folder = catalog / EXPERIMENTS
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{name}.json"
    tmp = folder / f".{name}.json.{os.getpid()}"
    write_json(tmp, data)
    os.replace(tmp, final)
    return final


def read_experiment(catalog: Path, name: str) -> dict | None:
    """An experiment's published result, or None when there is none (or it is unreadable,
    which is logged)."""
    path = catalog / EXPERIMENTS / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.error("experiment %s: unreadable %s (%s)", name, path, e)
        return None


def experiments(catalog: Path, prefix: str = "") -> list[str]:
    """The names of the published experiments that start with `prefix`, sorted."""
    folder = catalog / EXPERIMENTS
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"{prefix}*.json") if not p.name.startswith("."))


def learning_curves(catalog: Path) -> dict[str, dict]:
    """The published learning curves by task (learning-curve-TASK.json), readable ones only."""
    curves = {}
    for name in experiments(catalog, LEARNING_CURVE + "-"):
        curve = read_experiment(catalog, name)
        if curve and curve.get("rows"):
            curves[name[len(LEARNING_CURVE) + 1:]] = curve
    return curves
