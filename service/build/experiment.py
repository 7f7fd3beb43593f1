"""Learning curve: does starting from word2vec help the classifier, and when?

Trains the classifier from scratch and from word2vec on growing, stratified subsets of the
training set (the validation and test sets stay the same), with several seeds each, and
reports test accuracy mean and standard deviation per (size, init). Small subsets get more
epochs so every run sees a similar number of optimizer steps before early stopping.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.build.classifier import ClassifierSettings, train_classifier
from service.build.task_data import Split
from service.store import catalog
from service.store.tables import Table

log = logging.getLogger(__name__)

CURVE = catalog.LEARNING_CURVE  # published as .experiments/learning-curve.json


@dataclass(frozen=True)
class CurveSettings:
    sizes: tuple[int, ...] = (250, 1000, 4000, 0)  # training texts; 0 means all of them
    seeds: tuple[int, ...] = (0, 1)
    min_steps: int = 600     # optimizer steps each run may take, at least
    max_epochs: int = 60


def learning_curve(split: Split, word2vec: Table | None, settings: ClassifierSettings,
                   curve: CurveSettings = CurveSettings(), work_dir: Path | None = None,
                   known: dict | None = None) -> dict:
    """Run the grid; returns {"rows": [...], "settings": {...}, "seconds": s} for the manifest.

    Each row: {"size", "init", "runs", "mean", "std", "accuracies"}. Without a word2vec
    table only the scratch rows are computed. `known` maps (init, size, seed, epochs) to a
    test accuracy already measured with these settings (the build's own full-size runs),
    which is reused instead of training again.
    """
    known = known or {}
    started = time.perf_counter()
    inits = [("scratch", None)] + ([("word2vec", word2vec)] if word2vec is not None else [])
    sizes = sorted({min(s, len(split.train)) if s else len(split.train) for s in curve.sizes})
    rows = []
    for size in sizes:
        steps_per_epoch = math.ceil(size / settings.batch_size)
        epochs = min(curve.max_epochs, max(settings.epochs, math.ceil(curve.min_steps / steps_per_epoch)))
        for name, table in inits:
            accuracies = []
            for seed in curve.seeds:
                if (name, size, seed, epochs) in known:
                    accuracies.append(known[(name, size, seed, epochs)])
                    continue
                sub = _subsample(split, size, seed)
                run = dataclasses.replace(settings, seed=seed, epochs=epochs, verbose=0)
                result = train_classifier(sub, work_dir / f"{name}-{size}-{seed}" if work_dir else None,
                                          run, init=table)
                accuracies.append(result.test_accuracy)
            row = {"size": size, "init": name, "runs": len(accuracies),
                   "mean": round(float(np.mean(accuracies)), 4),
                   "std": round(float(np.std(accuracies)), 4), "accuracies": accuracies}
            rows.append(row)
            log.info("learning curve: %5d texts, %-8s test accuracy %.4f +- %.4f (%d seeds), %.0fs",
                     size, name, row["mean"], row["std"], row["runs"], time.perf_counter() - started)
    return {"rows": rows, "settings": dataclasses.asdict(curve),
            "seconds": round(time.perf_counter() - started, 1)}


def format_curve(curve: dict) -> str:
    """A plain-text table: one line per size, scratch and word2vec side by side."""
    by_size: dict[int, dict[str, dict]] = {}
    for row in curve["rows"]:
        by_size.setdefault(row["size"], {})[row["init"]] = row
    lines = [f"{'train texts':>11}  {'scratch':>15}  {'word2vec':>15}"]
    for size, cells in sorted(by_size.items()):
        text = [f"{c['mean']:.4f} ± {c['std']:.4f}" if (c := cells.get(k)) else "-"
                for k in ("scratch", "word2vec")]
        lines.append(f"{size:>11}  {text[0]:>15}  {text[1]:>15}")
    return "\n".join(lines)


def _subsample(split: Split, size: int, seed: int) -> Split:
    """A stratified subset of `size` training texts; validation and test unchanged."""
    if size >= len(split.train):
        return split
    rng = np.random.default_rng(seed)
    train = split.train
    rows = []
    for c in range(len(train.classes)):
        members = np.flatnonzero(train.labels == c)
        take = max(1, round(size * len(members) / len(train)))
        rows.append(rng.permutation(members)[:take])
    return Split(train.subset(rng.permutation(np.concatenate(rows))), split.validation,
                 split.test, split.seed)

