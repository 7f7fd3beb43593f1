"""A small catalog whose verdict is known by construction, each space with the scorecard a build
would store (computed here, on a synthetic task):

- `meaning` (kind word2vec): WordSim353 pairs placed so cosine rises with the human score;
  every sentiment word has one and the same vector, so the task probe cannot beat chance.
- `task` (kind task): the WordSim353 words at random; sentiment words split along one axis.
- `blend` (kind task): both.

All three also hold the toy words of tests/support/tables.py toy_table (king, queen, alps, pyrenees, ...,
`task` lacks himalaya) and the polarity words of the page's preset. Each is probed, as a build
probes every space on every task, on DATASET and on OTHER (the same kind of texts, two in
three of one class, so its majority-class line sits elsewhere). All are built in
(`details["built_in"]`), as the default spec's spaces are.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from service.analysis import scorecard
from service.store import catalog
from service.store.tables import Table
from tests.support.tables import bench_table, task_table, task_texts, toy_table

DATASET = "toy-reviews"
OTHER = "toy-headlines"
POLARITY = ("terrible", "boring")  # near "bad", beside task_table's good/great/... bad/awful/...


def _blocks(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Word vectors of several groups side by side in orthogonal blocks of coordinates."""
    dims = [len(next(iter(p.values()))) for p in parts]
    out: dict[str, np.ndarray] = {}
    offset = 0
    for part, dim in zip(parts, dims):
        for word, v in part.items():
            out.setdefault(word, np.zeros(sum(dims), dtype="float32"))
            out[word][offset:offset + dim] += v
        offset += dim
    return out


def _sentiment(separated: bool) -> dict[str, np.ndarray]:
    t = task_table(separated)
    words = dict(zip(t.index_to_key, t.vectors))
    for i, word in enumerate(POLARITY):
        words[word] = words["bad"] + 0.1 * np.random.default_rng(i).normal(size=32)
    if not separated:  # every sentiment word the same: the text's label is invisible
        for word in ("good", "great", "superb", "lovely", "bad", "awful", "dull", "poor", *POLARITY):
            words[word] = words["good"].copy()
    return words


def _wordsim(meaningful: bool) -> dict[str, np.ndarray]:
    table, _ = bench_table()
    vectors = table.vectors if meaningful else \
        np.random.default_rng(5).normal(size=table.vectors.shape).astype("float32")
    return dict(zip(table.index_to_key, vectors))


def _toy(drop: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    t = toy_table()
    return {k: v for k, v in zip(t.index_to_key, t.vectors) if k not in drop}


SPACES = {  # name: (kind, WordSim353 words meaningful, sentiment separated, toy words dropped)
    "meaning": ("word2vec", True, False, ()),
    "task": ("task", False, True, ("himalaya",)),
    "blend": ("task", True, True, ()),
}


def tasks() -> dict[str, tuple[list[str], list]]:
    """The two tasks every space is probed on: DATASET (balanced) and OTHER (2:1)."""
    texts, labels = task_texts()
    more, more_labels = task_texts(n=450, seed=2)
    kept = [i for i, label in enumerate(more_labels) if label == "fresh" or i % 4 == 0]
    return {DATASET: (texts, labels),
            OTHER: ([more[i] for i in kept], [more_labels[i] for i in kept])}


def write_scored_catalog(cat: Path, tmp: Path) -> Path:
    texts, labels = task_texts()
    for name, (kind, meaningful, separated, drop) in SPACES.items():
        words = _blocks(_wordsim(meaningful), _sentiment(separated), _toy(drop))
        table = Table(list(words), np.array(list(words.values()), dtype="float32"))
        card = scorecard.evaluate_space(scorecard.as_space(table, name), (texts, labels),
                                        task_name=DATASET, source="build", tasks=tasks())
        path = scorecard.write_evaluation(card, tmp / f"{name}.json")
        details = {"kind": kind, "built_in": True,
                   **({"task": DATASET, "dataset": DATASET} if kind == "task" else {})}
        catalog.write_space(cat, name, table, source={"format": "test"}, details=details,
                            extra_files={scorecard.EVALUATION_FILE: path})
    return cat
