"""What `wordspace build` says about the catalog once its spaces are built: each task's
held-out split (its sizes and seed, and the file holding it, to reproduce `test_accuracy`),
and the published spaces the spec no longer names (a warning; `--prune` removes them)."""
from __future__ import annotations

import csv
import logging
from pathlib import Path

from service.builder.recipe import BuildOptions, Context
from service.builder.task_data import Split
from service.store import catalog, locks

log = logging.getLogger("wordspace.build")

SPLITS = "splits"  # CATALOG/.cache/splits/TASK.csv


def report_splits(options: BuildOptions, tasks: list[str]) -> list[str]:
    """One line per task: its split's sizes and seed, written whole to a csv (text, label,
    part) in the catalog's cache."""
    ctx, lines = Context(options), []
    for task in dict.fromkeys(tasks):
        split = ctx.task_split(task)
        path = write_split(split, options.cache / SPLITS / f"{task}.csv")
        s = split.describe()["split"]
        limit = f", --limit {options.limit}" if options.limit else ""
        lines.append(f"task {task}: held-out split seed {split.seed}{limit} (stratified 70/10/20): "
                     f"{s['train']} train, {s['validation']} validation, {s['test']} test texts "
                     f"-> {path} (part = test is what test_accuracy is measured on)")
    return lines


def write_split(split: Split, path: Path) -> Path:
    """The split as a csv with columns text, label, part (train, validation, test)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part_file = path.with_name(path.name + ".part")
    with open(part_file, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", "label", "part"])
        for part in ("train", "validation", "test"):
            data = getattr(split, part)
            out.writerows((t, data.classes[i], part) for t, i in zip(data.texts, data.labels))
    part_file.replace(path)
    return path


def unnamed_spaces(options: BuildOptions, also: set[str], prune: bool) -> list[str]:
    """The published spaces neither the spec nor `also` names: a warning, or with `prune`
    each removed (catalog.remove, under its build lock). Returns them."""
    named = set(options.spec.spaces) | also
    stale = [n for n in catalog.space_names(options.catalog) if n not in named]
    if not stale:
        return []
    if not prune:
        log.warning("the catalog %s publishes spaces %s does not name: %s; `wordspace remove "
                    "NAME` removes one, `wordspace build --prune` all of them", options.catalog,
                    options.spec.path, ", ".join(stale))
        return stale
    for name in stale:
        with locks.hold(options.catalog, [name], "removed"):
            catalog.remove(options.catalog, name)
        log.warning("space %s removed (--prune: %s does not name it)", name, options.spec.path)
    return stale
