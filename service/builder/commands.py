"""`wordspace build` and `wordspace experiment learning-curve`: the default spaces end to end,
and the experiments that are their own artifacts.

`build` runs the recipes (service/builder/recipes.py) with the runner, then the reduced
learning curve for each task of CurveSettings.tasks, published in the catalog as
`.experiments/learning-curve-TASK.json`. Its runs are cached apart from the spaces
(service/builder/experiment.py): changing an experiment setting never rebuilds a space.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from pathlib import Path

from service.builder import runner, steps
from service.builder.classifier import ClassifierSettings
from service.builder.experiment import (FULL_GRID, INITS, CurveSettings, experiment_name,
                                      format_curve, learning_curve)
from service.builder.recipes import SPACES, BuildOptions, Context, recipes_for
from service.builder.task_data import TASKS
from service.errors import InputError
from service.store import catalog

log = logging.getLogger("wordspace.build")

__all__ = ["SPACES", "BuildOptions", "register", "curve_artifact"]


def register(subparsers) -> None:
    """Add `build` and `experiment learning-curve` to the wordspace command."""
    p = subparsers.add_parser("build", help=f"build the default spaces ({', '.join(SPACES)})")
    _data_options(p)
    p.add_argument("--spaces", default="",
                   help=f"comma-separated subset of {','.join(SPACES)} (default all)")
    p.add_argument("--no-learning-curve", action="store_true", help="skip the learning curve")
    p.add_argument("--force", action="store_true", help="rebuild spaces even if up to date")
    p.set_defaults(func=run_build)

    p = subparsers.add_parser("experiment", help="training experiments")
    sub = p.add_subparsers(dest="experiment", required=True)
    p = sub.add_parser("learning-curve", help="test accuracy against training size for every "
                       "initialisation of the Embedding, paired seeds, 95%% intervals")
    _data_options(p)
    p.add_argument("--task", default="clickbait",
                   help=f"{' or '.join(TASKS)}, or the name of the --task-data file (default %(default)s)")
    p.add_argument("--sizes", default=",".join(map(str, FULL_GRID.sizes)),
                   help="training sizes, 0 = all (default %(default)s)")
    p.add_argument("--inits", default=",".join(FULL_GRID.inits),
                   help=f"comma-separated subset of {','.join(INITS)} (default all)")
    p.set_defaults(func=run_learning_curve)


def _data_options(p) -> None:
    d, c = ClassifierSettings(), CurveSettings()
    p.add_argument("--task-data", metavar="FILE.csv|DIR",
                   help="one more task: a csv with text,label columns, or a clickbait-style "
                        "folder; its spaces are named after the file (NAME, NAME-w2v)")
    p.add_argument("--limit", type=int, help="use at most N labelled texts of each task")
    p.add_argument("--word2vec", metavar="FORMAT:PATH",
                   help="use these vectors instead of training word2vec (word2vec:FILE.bin, glove:FILE, ...)")
    p.add_argument("--corpus", type=Path, action="append", default=[], metavar="FILE",
                   help="extra plain text for word2vec, one sentence per line (repeatable)")
    p.add_argument("--postprocess", metavar="abtt:D[:norm]",
                   help="all-but-the-top on word2vec's rows: remove the mean and the top D "
                        "principal directions (':norm' keeps each row's norm), or 'none'; "
                        "default abtt:1:norm for the trained word2vec, none for --word2vec FILE")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for split, init and shuffling")
    p.add_argument("--max-steps", type=int, default=d.max_steps,
                   help="classifier optimizer steps, at most (early stopping ends most runs sooner)")
    p.add_argument("--embedding-dim", type=int, default=d.embedding_dim,
                   help="classifier embedding size from scratch (a pretrained start uses its size)")
    p.add_argument("--curve-seeds", type=int, default=len(c.seeds),
                   help="paired seeds per learning-curve point (default %(default)s)")
    p.add_argument("--glove-rows", type=int, default=c.glove_rows,
                   help="GloVe words in a GloVe start's vocabulary, most frequent first")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="learning-curve runs at once, one process each (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no line per validation check")


def options_from_args(args, *, spaces: tuple[str, ...] = (),
                      grid: CurveSettings | None = None) -> BuildOptions:
    classifier = ClassifierSettings(embedding_dim=args.embedding_dim, max_steps=args.max_steps,
                                    seed=args.seed, verbose=0 if args.quiet else 1)
    grid = grid or CurveSettings()
    curve = None if getattr(args, "no_learning_curve", False) else dataclasses.replace(
        grid, seeds=tuple(range(args.seed, args.seed + args.curve_seeds)), glove_rows=args.glove_rows)
    return BuildOptions(catalog=Path(args.catalog), spaces=spaces, task_data=args.task_data,
                        limit=args.limit, word2vec=args.word2vec, corpus=tuple(args.corpus),
                        postprocess=args.postprocess,
                        classifier=classifier, curve=curve, force=getattr(args, "force", False))


def curve_artifact(options: BuildOptions, task: str, jobs: int = 1) -> tuple[dict, str]:
    """The learning curve of `task` over options.curve, published in the catalog;
    (result, "cached" | "built"). Builds the spaces the grid starts from when they are
    missing (word2vec, glove), then runs what its cache lacks."""
    curve = options.curve
    starts = tuple(sorted(curve.starts()))
    if starts:
        runner.run(dataclasses.replace(options, spaces=starts, force=False))
    ctx = Context(options)
    # Every published start, not only this grid's: a smaller grid still reports the runs a
    # bigger one cached from word2vec or glove.
    every_start = {s for s, _, _ in INITS.values() if s}
    fingerprints = {n: (steps.published(options.catalog, n) or {}).get("details", {}).get("fingerprint")
                    for n in every_start}
    data_split = ctx.task_split(task)
    with steps.step(f"learning curve {task}"):
        result = learning_curve(task, data_split, {n: ctx.table(n) for n in starts}, fingerprints,
                                options.classifier, curve,
                                options.cache / "experiments" / f"{experiment_name(task)}.jsonl",
                                jobs=jobs)
    catalog.write_experiment(options.catalog, experiment_name(task), result)
    log.info("%s", format_curve(result))
    return result, "built" if result["ran"] else "cached"


def _quiet_libraries() -> None:
    # gensim logs a progress line a second at INFO; the build logs its own per epoch.
    logging.getLogger("gensim").setLevel(logging.WARNING)


def run_build(args, settings=None) -> int:
    """`wordspace build` (cli passes the parsed args and the service settings)."""
    _quiet_libraries()
    started = time.perf_counter()
    spaces = tuple(s.strip() for s in args.spaces.split(",") if s.strip())
    options = options_from_args(args, spaces=spaces)
    rows = runner.run(options)
    # The curve runs for its tasks when the build made their spaces and the spaces it starts
    # from (`--spaces clickbait` alone trains no word2vec for it).
    plan = runner.ordered(recipes_for(options), spaces)
    planned = {r.task for r in plan if r.task} | {r.name for r in plan}
    for task in (options.curve.tasks if options.curve else ()):
        if task in planned and options.curve.starts() <= planned:
            t = time.perf_counter()
            _, status = curve_artifact(options, task, jobs=args.jobs)
            rows.append({"space": f"(curve {task})", "status": status, "rows": None, "dim": None,
                         "score": None, "metric": "", "seconds": round(time.perf_counter() - t, 1)})
    sys.stdout.write(steps.format_summary(rows, time.perf_counter() - started) + "\n")
    return 0


def run_learning_curve(args, settings=None) -> int:
    """`wordspace experiment learning-curve`: runs what the cache lacks, publishes, prints."""
    _quiet_libraries()
    grid = dataclasses.replace(FULL_GRID, sizes=tuple(int(s) for s in args.sizes.split(",")),
                               inits=tuple(i.strip() for i in args.inits.split(",") if i.strip()))
    options = options_from_args(args, grid=grid)
    if args.task not in TASKS and args.task != options.user_task:
        raise InputError(f"--task {args.task}: choose from {', '.join(TASKS)}"
                         + (f" or {options.user_task}" if options.user_task else ""))
    curve, _ = curve_artifact(options, args.task, jobs=args.jobs)
    sys.stdout.write(format_curve(curve) + "\n")
    return 0
