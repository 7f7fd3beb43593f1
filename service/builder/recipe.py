"""What a recipe is (service/builder/recipes.py has the three kinds and picks one per space).

A recipe (class Recipe) names a space, the spaces it is made from (`needs`), the inputs its
fingerprint is made of, and how to make its table (`make`, returning a Made). It reads only
through a Context: the build's options (BuildOptions), the spaces it needs as published, and
each task's data, read once for the task spaces and the scorecards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from service.builder import steps
from service.builder.classifier import ClassifierSettings
from service.builder.learning_curve import CurveSettings
from service.builder.spec import Spec, SpaceSpec, load_spec
from service.builder.task_data import Dataset, Split, load_task, split
from service.builder.word2vec import Word2VecSettings
from service.store.space import Space
from service.store.tables import Table


@dataclass(frozen=True)
class BuildOptions:
    catalog: Path
    spec: Spec = field(default_factory=load_spec)  # default: the repository's
    spaces: tuple[str, ...] = ()        # empty: every space of the spec
    limit: int | None = None            # use at most this many labelled texts of each task
    postprocess: str | None = None      # abtt:D[:norm] | none: replaces the default (trained
                                        # word2vec: Word2VecSettings.postprocess; a file: none)
    classifier: ClassifierSettings = ClassifierSettings()
    word2vec_settings: Word2VecSettings = Word2VecSettings()
    curve: CurveSettings | None = CurveSettings()  # the build's reduced grid; None: none
    force: bool = False
    record: bool = True                 # write the last build's summary in the catalog

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
                self._data[task] = load_task(self.options.spec.tasks[task], self.options.cache)
        return self._data[task]

    def task_split(self, task: str) -> Split:
        o = self.options
        return split(self.task_data(task), seed=o.classifier.seed, limit=o.limit)


class Recipe:
    """A space the runner makes (service/builder/runner.py): its name, the spaces it is made
    from (`needs`), its spec entry (kind and index options, in the fingerprint), the task whose
    data it is trained or scored on; `inputs` says what its fingerprint is made of (the runner
    adds the needs'), `make` makes its table. One subclass per way to make a space."""

    def __init__(self, name: str, needs: tuple[str, ...] = (), space: SpaceSpec | None = None):
        self.name, self.needs, self.space = name, needs, space

    @property
    def task(self) -> str | None:
        return self.space.task if self.space else None

    def check(self) -> None:
        """Refuse what can be refused before anything is read or written (the runner asks
        every recipe of the plan first)."""

    def inputs(self, ctx: Context) -> dict:
        raise NotImplementedError

    def make(self, ctx: Context) -> Made:
        raise NotImplementedError
