"""The one runner: orders recipes by need, skips what is fresh, makes and publishes the rest.

Every space goes through it: the spaces of `wordspace build`'s spec and the one entry of
`wordspace build-index`. A space's fingerprint is its spec entry (kind, source, task, index
options, ...), its recipe's inputs and the fingerprints of the spaces it needs, so
rebuilding word2vec rebuilds what was made from it. Every space is published with its
scorecard (service/analysis/scorecard.py) as `evaluation.json`, scored on the table before
it is written, and probed on every task of the spec (the verdict's task scores: identical
rows score identically, whatever the space's kind); a task space also with its `embed.json`,
so its sentence vectors are the classifier's pooling. A space whose spec entry is the
default spec's entry of that name is recorded as built in (`details["built_in"]`), so the
page can tell the user's spaces from the ones the repository defines.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from service.analysis import probe, scorecard
from service.builder import steps
from service.builder.recipe import BuildOptions, Context, Made, Recipe
from service.builder.recipes import recipes_for
from service.builder.spec import DEFAULT_SPEC, load_spec
from service.errors import InputError
from service.store import catalog, experiments, locks
from service.store.embed import EMBED_FILE, load_embed_config

log = logging.getLogger("wordspace.build")


@dataclass
class Built:
    """What a run did: its plan (the wanted recipes and what they need, each after its needs,
    in the order run) and a summary row per space (space, status, rows, dim, score, metric,
    seconds)."""
    plan: list[Recipe]
    rows: list[dict]


def ordered(recipes: tuple[Recipe, ...], wanted: tuple[str, ...]) -> list[Recipe]:
    """The wanted recipes and everything they need, each after its needs.

    Raises:
        ValueError: an unknown name, or recipes that need each other in a circle.
    """
    by_name = {r.name: r for r in recipes}
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise InputError(f"unknown space(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    out: list[Recipe] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(r.name == name for r in out):
            return
        if name in visiting:
            raise ValueError(f"recipes need each other in a circle at {name}")
        visiting.add(name)
        for need in by_name[name].needs:
            visit(need)
        out.append(by_name[name])

    for name in wanted or tuple(by_name):
        visit(name)
    return out


def run(options: BuildOptions, recipes: tuple[Recipe, ...] | None = None) -> Built:
    """Build the requested spaces (and what they need) into the catalog; returns the plan it
    ran and the summary rows.

    Raises:
        ValueError, FileNotFoundError: bad options or missing inputs.
    """
    started = time.perf_counter()
    ctx = Context(options)
    plan = ordered(recipes_for(options) if recipes is None else recipes, options.spaces)
    tasks = [r.task for r in plan if r.task]
    task_texts = _ScoredTexts(ctx, tasks[0] if tasks else None)
    every_task = tuple(dict.fromkeys([*tasks, *options.spec.tasks]))
    defaults = load_spec(DEFAULT_SPEC).spaces
    digests: dict[str, str] = {}
    rows = []
    for recipe in plan:  # a source that cannot be read as it says: refused before any work
        recipe.check()
    # One build at a time per space name (service/store/locks.py): refused before any work.
    with locks.hold(options.catalog, [r.name for r in plan]):
        for recipe in plan:
            try:
                rows.append(_build_one(recipe, options, ctx, digests, task_texts,
                                        every_task, defaults))
            except KeyboardInterrupt as e:  # said in one line by the command (service/cli)
                done = [r["space"] for r in rows if r["status"] == "built"]
                kept = ("keeps the version it had" if steps.published(options.catalog, recipe.name)
                        else "is not published")
                raise KeyboardInterrupt(
                    f"stopped while building {recipe.name}, which {kept}"
                    + (f"; this build published {', '.join(done)}" if done else "")) from e
    seconds = time.perf_counter() - started
    log.info("build finished in %.1fs", seconds)
    if options.record and any(r["status"] == "built" for r in rows):  # the README quotes how long a build takes
        experiments.write_experiment(options.catalog, experiments.LAST_BUILD, {
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(seconds, 1), "spaces": rows})
    return Built(plan, rows)


def _build_one(recipe: Recipe, options: BuildOptions, ctx: Context, digests: dict,
               task_texts: "_ScoredTexts", every_task: tuple, defaults: dict) -> dict:
    """Make and publish one space unless its published fingerprint matches, probed on
    every task; its summary row."""
    t = time.perf_counter()
    inputs = {"recipe": recipe.name, **recipe.inputs(ctx),
              "needs": {n: digests[n] for n in recipe.needs}}
    if recipe.space:
        inputs["entry"] = recipe.space.entry()
    digest = digests[recipe.name] = steps.fingerprint(inputs)
    manifest = None if options.force else steps.up_to_date(options.catalog, recipe.name, digest)
    if manifest:
        log.info("space %s: up to date (fingerprint %s), not rebuilt; --force rebuilds",
                 recipe.name, digest[:12])
        status = "cached"
    else:
        made = recipe.make(ctx)
        # A classifier named no task is not scored on another task's texts.
        untasked = recipe.space and recipe.space.kind == "task" and not recipe.task
        texts = None if untasked else task_texts(recipe.task)
        probes = {t: task_texts(t)[1:] for t in every_task}
        references = {t: task_texts.reference(t) for t in every_task}
        built_in = bool(recipe.space) and defaults.get(recipe.name) == recipe.space
        manifest = publish(recipe, made, options, texts, digest, probes, built_in, references)
        ctx.keep(recipe.name, made.table)
        status = "built"
    return steps.summary_row(recipe.name, manifest, status, time.perf_counter() - t)


def publish(recipe: Recipe, made: Made, options: BuildOptions, task: tuple | None,
            digest: str, probes: dict | None = None, built_in: bool = False,
            references: dict | None = None) -> dict:
    """Score the table (and probe it on each task of `probes`: name -> (texts, labels), with
    each task's bag-of-words reference of `references`),
    then index and publish it with its details, its scorecard and extra files, with the
    index options of its spec entry."""
    name, space = recipe.name, recipe.space
    embed_path = made.extra_files.get(EMBED_FILE)
    embed_config = load_embed_config(embed_path) if embed_path else None
    card = score(name, made, options, task, embed_config, probes, references)
    details = space_details(recipe, made, digest, card, built_in)
    extra = {**made.extra_files, scorecard.EVALUATION_FILE: card["path"]}
    index = {"factory": space.factory, "target_recall": space.target_recall,
             "topk_rows": space.topk_rows} if space else {}
    with steps.step(f"index {name}: {len(made.table.index_to_key)} rows x {made.table.vector_size}"):
        folder = catalog.write_space(options.catalog, name, made.table, source=made.source,
                                     details=details, extra_files=extra,
                                     progress=steps.progress(name), **index)
    return catalog.read_manifest(folder)


def space_details(recipe: Recipe, made: Made, digest: str, card: dict,
                  built_in: bool = False) -> dict:
    """The manifest's details of a space, put together here only: what its recipe made (its
    training or reading facts), its fingerprint, what its spec entry says it is (kind, task,
    and whether it is the default spec's entry: built_in), and the WordSim353 of its
    scorecard (one figure for the build summary, the manifest and the scorecard)."""
    details = {**made.details, "fingerprint": digest}
    if recipe.space:
        details["kind"] = recipe.space.kind
        details["built_in"] = built_in
        if recipe.task:
            details["task"] = recipe.task
    details["wordsim353"] = card["wordsim353"]
    return details


def score(name: str, made: Made, options: BuildOptions, task: tuple | None,
          embed_config: dict | None, probes: dict | None = None,
          references: dict | None = None) -> dict:
    """The scorecard of the table as space `name` will be published, written to the cache;
    returns it with its "path"."""
    folder = options.cache / "scorecards"
    folder.mkdir(parents=True, exist_ok=True)
    return score_table(name, made.table, folder, task, embed_config, probes, references)


def score_table(name: str, table, folder: Path, task: tuple | None = None,
                embed_config: dict | None = None, probes: dict | None = None,
                references: dict | None = None) -> dict:
    """The scorecard of `table` as space `name` will be published, written to
    folder/NAME.json (build and build-index publish it as evaluation.json, so a server
    reads it at start instead of computing it); returns it with its "path"."""
    dataset, texts, labels = task or (None, [], [])
    with steps.step(f"scorecard {name}"):
        result = scorecard.evaluate_space(
            scorecard.as_space(table, name, embed_config), (texts, labels) if texts else None,
            task_name=dataset, source="build", tasks=probes or None, references=references)
    t, a = result["task"], result["analogy"]["methods"]["3cosadd"]["overall"]
    log.info("space %s scorecard: WordSim353 %s, analogy 3CosAdd %s, probe %s; seconds %s",
             name, _score(result["wordsim353"]["spearman"]), _score(a["accuracy"]),
             _score(t["probe"]["accuracy"] if t["computed"] else None), result["seconds"])
    return {**result, "path": scorecard.write_evaluation(result, folder / f"{name}.json")}


def _score(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


class _ScoredTexts:
    """(dataset name, texts, labels) for the scorecards' task section: a task space is scored
    on the texts its classifier trains on (all, or the --limit subset), a word space on those
    of the first task of the build. None when the build has no task: scoring word2vec or
    glove alone reads no task data."""

    def __init__(self, ctx: Context, default: str | None):
        self.ctx, self.default = ctx, default
        self.values: dict[str, tuple] = {}
        self.references: dict[str, dict] = {}

    def __call__(self, task: str | None) -> tuple | None:
        task = task or self.default
        if task is None:
            return None
        if task not in self.values:
            data, o = self.ctx.task_data(task), self.ctx.options
            parts = [data]
            if o.limit:
                s = self.ctx.task_split(task)
                parts = [s.train, s.validation, s.test]
            self.values[task] = (data.name, [t for p in parts for t in p.texts],
                                 [data.classes[i] for p in parts for i in p.labels])
        return self.values[task]

    def reference(self, task: str) -> dict:
        """The task's bag-of-words reference (the verdict's task bar), once per task and build:
        every space of the build is probed against the same figure."""
        if task not in self.references:
            _, texts, labels = self(task)
            self.references[task] = probe.reference(texts, labels)
        return self.references[task]
