"""`wordspace build` and `wordspace experiment learning-curve`: their parsers, the spec their
options make (service/builder/spec.py; the repository's by default, `--spec FILE` for a
user's, with `--task-data`, `--word2vec` and `--corpus` written into it) and their handlers,
which hand the work to service/builder/commands.py.

The help names the spaces and tasks of the spec in use, read when the help is shown (never
while the parsers are built); a command reads its spec once, when it runs.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from service.builder import commands, steps
from service.builder.classifier import ClassifierSettings
from service.builder.learning_curve import FULL_GRID, INITS, CurveSettings, format_curve
from service.builder.recipe import BuildOptions
from service.builder.spec import Spec, SpaceSpec, TaskSpec, load_spec
from service.errors import InputError


def register(subparsers, settings=None, argv: list[str] | None = None) -> None:
    """Add `build` and `experiment learning-curve` to the wordspace command; their help
    lists the spaces and tasks of the spec `argv` names (`--spec FILE`), else the default's,
    read when the help is shown."""
    argv = sys.argv[1:] if argv is None else argv
    p = subparsers.add_parser("build", help="build the spaces of a spec (default: the "
                              "repository's, service/builder/default.toml)", add_help=False)
    shown = _spec_help(p, argv)
    _data_options(p)
    shown.fill(p.add_argument("--spaces", default="", help="comma-separated subset of the spec's "
                              "spaces (default all)"),
               "comma-separated subset of {spaces} (default all)")
    p.add_argument("--no-learning-curve", action="store_true", help="skip the learning curve")
    p.add_argument("--force", action="store_true", help="rebuild spaces even if up to date")
    p.add_argument("--prune", action="store_true", help="remove the published spaces the spec "
                   "does not name (without it, the build names them in a warning)")
    p.set_defaults(func=run_build)

    p = sub_experiment = subparsers.add_parser("experiment", help="training experiments")
    sub = sub_experiment.add_subparsers(dest="experiment", required=True)
    p = sub.add_parser("learning-curve", help="test accuracy against training size for every "
                       "start of the Embedding, paired seeds, 95%% intervals", add_help=False)
    shown = _spec_help(p, argv)
    _data_options(p)
    shown.fill(p.add_argument("--task", help="a task of the spec, or the name of the --task-data "
                              "file (default: the spec's first task with curve = true)"),
               "a task of the spec: {tasks}, or the name of the --task-data file (default: "
               "the spec's first task with curve = true)")
    p.add_argument("--sizes", default=",".join(map(str, FULL_GRID.sizes)),
                   help="training sizes, 0 = all (default %(default)s)")
    p.add_argument("--starts", "--inits", dest="starts", default=",".join(FULL_GRID.inits),
                   help=f"comma-separated subset of {','.join(INITS)} (default all)")
    p.set_defaults(func=run_learning_curve)


class _SpecHelp(argparse.Action):
    """-h/--help of a command with --spec: fills the help of the options that name the spec's
    spaces or tasks from the spec in use, then shows the help."""

    def __init__(self, option_strings, dest, argv=(), **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                         nargs=0, help="show this help message and exit")
        self.argv, self.filled = list(argv), []

    def fill(self, action: argparse.Action, template: str) -> None:
        self.filled.append((action, template))

    def __call__(self, parser, namespace, values, option_string=None):
        spec = _spec_in_use(self.argv)
        if spec is not None:
            for action, template in self.filled:
                action.help = template.format(spaces=",".join(spec.spaces),
                                              tasks=", ".join(spec.tasks))
        parser.print_help()
        parser.exit()


def _spec_help(p: argparse.ArgumentParser, argv: list[str]) -> _SpecHelp:
    return p.add_argument("-h", "--help", action=_SpecHelp, argv=argv)


def _spec_in_use(argv: list[str]) -> Spec | None:
    """The spec `--spec` names in argv, else the default; None when neither reads (the
    command says why when it runs)."""
    for i, arg in enumerate(argv):
        path = (argv[i + 1] if arg == "--spec" and i + 1 < len(argv)
                else arg.removeprefix("--spec=") if arg.startswith("--spec=") else None)
        if path:
            try:
                return load_spec(path)
            except InputError:
                break  # said again, as the command's error, when the command runs
    try:
        return load_spec()
    except InputError:
        return None


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
        if args.word2vec:  # FORMAT:PATH or a path: resolved by its recipe
            spaces[s.name] = dataclasses.replace(s, source=args.word2vec, format=None)
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


def run_build(args, settings=None) -> int:
    """`wordspace build` (cli passes the parsed args and the service settings)."""
    started = time.perf_counter()
    spaces = tuple(s.strip() for s in args.spaces.split(",") if s.strip())
    options = options_from_args(args, spaces=spaces)
    curves, rows, splits = commands.build(options, jobs=args.jobs, prune=args.prune)
    sys.stdout.write("".join(format_curve(c) + "\n\n" for c in curves)
                     + steps.format_summary(rows, time.perf_counter() - started) + "\n"
                     + "".join(line + "\n" for line in splits))
    return 0


def run_learning_curve(args, settings=None) -> int:
    """`wordspace experiment learning-curve`: runs what the cache lacks, publishes, prints."""
    commands.quiet_libraries()
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
    curve, _ = commands.curve_artifact(options, task, jobs=args.jobs, hint=commands.EXPERIMENT_HINT)
    sys.stdout.write(format_curve(curve) + "\n")
    return 0
