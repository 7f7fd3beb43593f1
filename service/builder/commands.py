"""`wordspace build` and `wordspace experiment learning-curve`: the spaces of a spec end to
end, and the experiments that are their own artifacts.

`build` reads a spec (service/builder/spec.py; the repository's by default, `--spec FILE` for
a user's), turns the older options (`--task-data`, `--word2vec`, `--corpus`) into entries of
it, runs its spaces with the runner, then the reduced learning curve for each task the spec
marks `curve = true`, published in the catalog as `.experiments/learning-curve-TASK.json`.
The curve's runs are cached apart from the spaces (service/builder/learning_curve.py): changing
an experiment setting never rebuilds a space.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from pathlib import Path

from service.builder import aftermath, runner, steps
from service.builder.classifier import ClassifierSettings
from service.builder.learning_curve import (FULL_GRID, INITS, CurveSettings, experiment_name,
                                        format_curve, learning_curve)
from service.builder.recipes import BuildOptions, Context, recipes_for
from service.builder.spec import DEFAULT_SPEC, Spec, SpaceSpec, TaskSpec, load_spec
from service.errors import InputError
from service.store import experiments, formats
from service.store.kinds import kind_of

log = logging.getLogger("wordspace.build")

__all__ = ["BuildOptions", "register", "curve_artifact", "spec_from_args"]


def register(subparsers, argv: list[str] | None = None) -> None:
    """Add `build` and `experiment learning-curve` to the wordspace command; their help
    lists the spaces and tasks of the spec `argv` names (`--spec FILE`), else the default's."""
    spec = _spec_in_use(sys.argv[1:] if argv is None else argv)
    p = subparsers.add_parser("build", help="build the spaces of a spec (default: "
                              f"{', '.join(spec.spaces)})")
    _data_options(p)
    p.add_argument("--spaces", default="",
                   help=f"comma-separated subset of {','.join(spec.spaces)} (default all)")
    p.add_argument("--no-learning-curve", action="store_true", help="skip the learning curve")
    p.add_argument("--force", action="store_true", help="rebuild spaces even if up to date")
    p.add_argument("--prune", action="store_true", help="remove the published spaces the spec "
                   "does not name (without it, the build names them in a warning)")
    p.set_defaults(func=run_build)

    p = sub_experiment = subparsers.add_parser("experiment", help="training experiments")
    sub = sub_experiment.add_subparsers(dest="experiment", required=True)
    p = sub.add_parser("learning-curve", help="test accuracy against training size for every "
                       "start of the Embedding, paired seeds, 95%% intervals")
    _data_options(p)
    p.add_argument("--task", help=f"a task of the spec: {', '.join(spec.tasks)}, or the name "
                   "of the --task-data file (default: the spec's first task with curve = true)")
    p.add_argument("--sizes", default=",".join(map(str, FULL_GRID.sizes)),
                   help="training sizes, 0 = all (default %(default)s)")
    p.add_argument("--starts", "--inits", dest="starts", default=",".join(FULL_GRID.inits),
                   help=f"comma-separated subset of {','.join(INITS)} (default all)")
    p.set_defaults(func=run_learning_curve)


def _spec_in_use(argv: list[str]) -> Spec:
    for i, arg in enumerate(argv):
        path = (argv[i + 1] if arg == "--spec" and i + 1 < len(argv)
                else arg.removeprefix("--spec=") if arg.startswith("--spec=") else None)
        if path:
            try:
                return load_spec(path)
            except InputError:
                break  # said again, as the command's error, when the command runs
    return load_spec(DEFAULT_SPEC)


def _data_options(p) -> None:
    d, c = ClassifierSettings(), CurveSettings()
    p.add_argument("--spec", metavar="FILE.toml",
                   help="the tasks and spaces to build (docs/catalog-spec.md; default: the "
                        "repository's six spaces)")
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
    p.add_argument("--seeds", "--curve-seeds", dest="curve_seeds", type=int, default=len(c.seeds),
                   metavar="N",
                   help="paired seeds per learning-curve point (default %(default)s)")
    p.add_argument("--glove-rows", type=int, default=c.glove_rows,
                   help="GloVe words in a GloVe start's vocabulary, most frequent first")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="learning-curve runs at once, one process each (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no line per validation check")


def spec_from_args(args) -> Spec:
    """The spec of `--spec` (or the default), with `--word2vec`, `--corpus` and `--task-data`
    written into it: the vectors replace the word2vec spaces made here, the corpus files join
    theirs, and the task data adds a task and its spaces NAME and NAME-w2v.

    Raises:
        InputError: an option the spec cannot take (one line).
    """
    spec = load_spec(args.spec)
    spaces, tasks = dict(spec.spaces), dict(spec.tasks)
    trained = [s for s in spaces.values() if s.kind == "word2vec" and s.made_here]
    if (args.word2vec or args.corpus) and not trained:
        raise InputError(f"--word2vec/--corpus: {spec.path} has no word2vec space made here")
    for s in trained:
        if args.word2vec:
            fmt, path, _ = formats.resolve(args.word2vec)
            spaces[s.name] = dataclasses.replace(s, source=str(Path(path).resolve()), format=fmt)
        elif args.corpus:
            corpus = s.corpus + tuple(str(Path(c).resolve()) for c in args.corpus)
            spaces[s.name] = dataclasses.replace(s, corpus=corpus)
    if args.task_data:
        name = Path(args.task_data).stem
        start = spec.first_of_kind("word2vec")
        added = [SpaceSpec(name, "task", task=name)]
        if start:
            added.append(SpaceSpec(f"{name}-w2v", "task", task=name, start=start))
        taken = [n for n in (name, *(s.name for s in added)) if n in spaces or n in tasks]
        if taken:
            raise InputError(f"--task-data {args.task_data}: its task and spaces would be named "
                             f"{', '.join(dict.fromkeys(taken))}, which the spec already has; "
                             "rename the file")
        tasks[name] = TaskSpec(name, data=str(Path(args.task_data).resolve()))
        spaces.update((s.name, s) for s in added)
    return Spec(spec.path, tasks, spaces)


def options_from_args(args, *, spaces: tuple[str, ...] = (),
                      grid: CurveSettings | None = None) -> BuildOptions:
    classifier = ClassifierSettings(embedding_dim=args.embedding_dim, max_steps=args.max_steps,
                                    seed=args.seed, verbose=0 if args.quiet else 1)
    grid = grid or CurveSettings()
    curve = None if getattr(args, "no_learning_curve", False) else dataclasses.replace(
        grid, seeds=tuple(range(args.seed, args.seed + args.curve_seeds)), glove_rows=args.glove_rows)
    return BuildOptions(catalog=Path(args.catalog), spec=spec_from_args(args), spaces=spaces,
                        limit=args.limit, classifier=classifier, curve=curve,
                        force=getattr(args, "force", False),
                        postprocess=args.postprocess)


BUILD_HINT = "`wordspace build --no-learning-curve` builds without it"
EXPERIMENT_HINT = "leave out its starts with --starts"


def curve_starts(options: BuildOptions, hint: str = BUILD_HINT) -> dict[str, str]:
    """kind -> the space the curve's grid starts from (the spec's first space of that kind).

    Raises:
        InputError: the spec has no space of a kind the grid starts from (`hint`: what the
            command can do about it, naming only its own options).
    """
    out = {}
    for kind in sorted(options.curve.starts()):
        name = options.spec.first_of_kind(kind)
        if name is None:
            raise InputError(f"the learning curve starts from a {kind} space and "
                             f"{options.spec.path} declares none; {hint}")
        out[kind] = name
    return out


def with_default_starts(options: BuildOptions, hint: str = BUILD_HINT
                        ) -> tuple[BuildOptions, dict[str, str]]:
    """The options with a space of every kind the curve starts from: for a kind the spec
    lacks, the default spec's space of that kind (word2vec: trained on the packaged corpus;
    glove: the kumo package), under its name. The added ones, {name: how}: "catalog" when
    the catalog publishes a space of that name and kind (used as it is), else "build".

    Raises:
        InputError: the spec names a space or task as the default's, or the catalog publishes
            a space of that name of another kind.
    """
    spec, default = options.spec, load_spec(DEFAULT_SPEC)
    added, how = {}, {}
    for kind in sorted(options.curve.starts() if options.curve else ()):
        name = default.first_of_kind(kind)
        if spec.first_of_kind(kind) or name is None:
            continue
        if name in spec.spaces or name in spec.tasks:
            raise InputError(f"the learning curve starts from a {kind} space; {spec.path} "
                             f"declares none, and its {name!r} is not the default one to start "
                             f"from: rename it, or add a {kind} space; {hint}")
        manifest = steps.published(options.catalog, name)
        if manifest and kind_of(manifest.get("details", {}), manifest.get("source", {})) != kind:
            raise InputError(f"the learning curve starts from a {kind} space; {spec.path} "
                             f"declares none, and the catalog's {name!r} is not one; {hint}")
        added[name], how[name] = default.spaces[name], "catalog" if manifest else "build"
    if not added:
        return options, {}
    spec = Spec(spec.path, spec.tasks, {**spec.spaces, **added})
    return dataclasses.replace(options, spec=spec), how


def curve_artifact(options: BuildOptions, task: str, jobs: int = 1,
                   hint: str = BUILD_HINT) -> tuple[dict, str]:
    """The learning curve of `task` over options.curve, published in the catalog;
    (result, "cached" | "built"). Builds the spaces the grid starts from when they are
    missing or stale (a spec without a word2vec space starts from the default one: taken from
    the catalog, or built), then runs what its cache lacks."""
    options, defaults = with_default_starts(options, hint)
    starts = curve_starts(options, hint)
    for name, how in defaults.items():
        log.info("learning curve %s: %s declares no %s space; starting from the default "
                 "spec's %r (%s)", task, options.spec.path, options.spec.spaces[name].kind, name,
                 "published in the catalog" if how == "catalog" else "built now")
    to_build = tuple(n for n in starts.values() if defaults.get(n) != "catalog")
    if to_build:
        runner.run(dataclasses.replace(options, spaces=to_build, force=False))
    ctx = Context(options)
    # Every published start, not only this grid's: a smaller grid still reports the runs a
    # bigger one cached from word2vec or glove.
    fingerprints = {}
    for kind in {k for k, _, _ in INITS.values() if k}:
        name = options.spec.first_of_kind(kind)
        manifest = (steps.published(options.catalog, name) or {}) if name else {}
        fingerprints[kind] = manifest.get("details", {}).get("fingerprint")
    data_split = ctx.task_split(task)
    try:
        with steps.step(f"learning curve {task}"):
            result = learning_curve(task, data_split, {k: ctx.table(n) for k, n in starts.items()},
                                    fingerprints, options.classifier, options.curve,
                                    options.cache / "experiments" / f"{experiment_name(task)}.jsonl",
                                    jobs=jobs)
    except KeyboardInterrupt as e:  # said in one line by the command (service/cli.py)
        raise KeyboardInterrupt(f"stopped during the learning curve of {task} (its finished "
                                "runs are cached: the next run does the rest)") from e
    experiments.write_experiment(options.catalog, experiment_name(task), result)
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
    curves = []
    for task in (options.spec.curve_tasks() if options.curve else ()):
        try:
            with_starts, defaults = with_default_starts(options)
            starts = set(curve_starts(with_starts).values()) - set(defaults)
        except InputError as e:
            log.warning("no learning curve for task %s: %s", task, e)
            continue
        if task in planned and starts <= planned:
            t = time.perf_counter()
            curve, status = curve_artifact(options, task, jobs=args.jobs)
            curves.append(curve)
            rows.append({"space": f"(curve {task})", "status": status, "rows": None, "dim": None,
                         "score": None, "metric": "", "seconds": round(time.perf_counter() - t, 1)})
    try:  # the default start a curve used is named by the build, though not by the spec
        defaults = with_default_starts(options)[1] if options.curve else {}
    except InputError:
        defaults = {}  # said above, in the curve's warning
    aftermath.unnamed_spaces(options, set(defaults), getattr(args, "prune", False))
    splits = aftermath.report_splits(options, [r.task for r in plan if r.task])
    sys.stdout.write("".join(format_curve(c) + "\n\n" for c in curves)
                     + steps.format_summary(rows, time.perf_counter() - started) + "\n"
                     + "".join(line + "\n" for line in splits))
    return 0


def run_learning_curve(args, settings=None) -> int:
    """`wordspace experiment learning-curve`: runs what the cache lacks, publishes, prints."""
    _quiet_libraries()
    grid = dataclasses.replace(FULL_GRID, sizes=tuple(int(s) for s in args.sizes.split(",")),
                               inits=tuple(i.strip() for i in args.starts.split(",") if i.strip()))
    unknown = [i for i in grid.inits if i not in INITS]
    if unknown:
        raise InputError(f"--starts {','.join(unknown)}: choose from {', '.join(INITS)}")
    options = options_from_args(args, grid=grid)
    tasks = options.spec.tasks
    task = args.task or next(iter(options.spec.curve_tasks() or tasks), None)
    if task not in tasks:
        raise InputError(f"--task {args.task}: choose from {', '.join(tasks) or 'none'} "
                         f"(the tasks of {options.spec.path}"
                         + (", and --task-data's)" if args.task_data else ")"))
    curve, _ = curve_artifact(options, task, jobs=args.jobs, hint=EXPERIMENT_HINT)
    sys.stdout.write(format_curve(curve) + "\n")
    return 0
