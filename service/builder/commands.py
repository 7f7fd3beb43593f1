"""What `wordspace build` and `wordspace experiment learning-curve` do, given their options
(service/cli/build.py parses them into a BuildOptions): the spaces of a spec end to end, and
the experiments that are their own artifacts.

`build` runs the spec's spaces with the runner, then the reduced learning curve for each task
the spec marks `curve = true`, published in the catalog as
`.experiments/learning-curve-TASK.json`. The curve's runs are cached apart from the spaces
(service/builder/learning_curve.py): changing an experiment setting never rebuilds a space.
"""
from __future__ import annotations

import dataclasses
import logging
import time

from service.builder import aftermath, runner, steps
from service.builder.learning_curve import INITS, experiment_name, learning_curve
from service.builder.recipe import BuildOptions, Context
from service.builder.spec import Spec, load_spec
from service.errors import InputError
from service.store import experiments
from service.store.kinds import kind_of

log = logging.getLogger("wordspace.build")

__all__ = ["build", "curve_artifact", "curve_starts", "with_default_starts"]


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
    spec, default = options.spec, load_spec()
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
    except KeyboardInterrupt as e:  # said in one line by the command (service/cli)
        raise KeyboardInterrupt(f"stopped during the learning curve of {task} (its finished "
                                "runs are cached: the next run does the rest)") from e
    experiments.write_experiment(options.catalog, experiment_name(task), result)
    return result, "built" if result["ran"] else "cached"


def quiet_libraries() -> None:
    # gensim logs a progress line a second at INFO; the build logs its own per epoch.
    logging.getLogger("gensim").setLevel(logging.WARNING)


def build(options: BuildOptions, jobs: int = 1, prune: bool = False
          ) -> tuple[list[dict], list[dict], list[str]]:
    """`wordspace build`: the spaces of options.spec, then the learning curve of each task
    the spec marks `curve = true` whose spaces this build made; (curves, summary rows, the
    lines that report the tasks' splits)."""
    quiet_libraries()
    built = runner.run(options)
    plan, rows = built.plan, built.rows
    # The curve runs for its tasks when the build made their spaces and the spaces it starts
    # from (`--spaces clickbait` alone trains no word2vec for it).
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
            curve, status = curve_artifact(options, task, jobs=jobs)
            curves.append(curve)
            rows.append({"space": f"(curve {task})", "status": status, "rows": None, "dim": None,
                         "score": None, "metric": "", "seconds": round(time.perf_counter() - t, 1)})
    try:  # the default start a curve used is named by the build, though not by the spec
        defaults = with_default_starts(options)[1] if options.curve else {}
    except InputError:
        defaults = {}  # said above, in the curve's warning
    aftermath.unnamed_spaces(options, set(defaults), prune)
    splits = aftermath.report_splits(options, [r.task for r in plan if r.task])
    return curves, rows, splits
