"""Map one space onto another with orthogonal Procrustes, then ask where a word lands and
which words moved most.

The map W minimises ||X W - Y|| over the shared words (X: source unit vectors, Y: target
unit vectors) with W orthogonal, or semi-orthogonal when the dimensions differ: W = U V^T
from the SVD of X^T Y (Schönemann 1966). It uses the MAX_WORDS most frequent shared words;
a seeded HOLDOUT share of them is kept out of the fit to measure how well the map
generalises (precision@1 on PRECISION_QUERIES of them). Fitted maps are kept per pair of space versions in `Alignments`
(the app state's `alignments`).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from service.analysis.overlap import ranks_of
from service.errors import InvalidRequest
from service.store import keyset
from service.store.search import Neighbor

MAX_WORDS = 20_000
HOLDOUT = 0.1
MIN_WORDS = 10
DRIFT_NEIGHBORS = 5
PRECISION_QUERIES = 250  # held-out words whose nearest target word is looked up


@dataclass
class Alignment:
    source: str
    target: str
    shared: int              # words the two spaces share
    fit_words: int
    heldout_words: int
    fit_cosine: float        # mean cos(x W, y) over the fit words
    heldout_cosine: float | None
    heldout_precision_at_1: float | None  # x W's nearest target word is the word itself
    residual: float          # ||X W - Y||_F / ||Y||_F on the fit words
    seconds: float
    W: np.ndarray = field(repr=False)
    rows: np.ndarray = field(repr=False)        # the words' source rows, most frequent first
    target_rows: np.ndarray = field(repr=False)  # the same words' target rows
    cosines: np.ndarray = field(repr=False)     # cos(x W, y) per word of `rows`


# What the API shows of an Alignment (not W and the per-word arrays).
SUMMARY = ("source", "target", "shared", "fit_words", "heldout_words", "fit_cosine",
           "heldout_cosine", "heldout_precision_at_1", "residual", "seconds")


def fit(source, target, seed: int = 0) -> Alignment:
    """Raises: InvalidRequest when the spaces share fewer than MIN_WORDS words."""
    started = time.perf_counter()
    # Rows, not words: the keys' own objects stay untouched (service/store/keyset.py).
    rows_s, rows_t = keyset.shared_rows(source.key_hashes(), target.key_hashes())
    shared = len(rows_s)
    if shared < MIN_WORDS:
        raise InvalidRequest(f"spaces '{source.name}' and '{target.name}' share {shared} "
                             f"words; an alignment needs at least {MIN_WORDS}")
    # The most frequent first (by the rarer of its two ranks), ties by the source rank.
    first = np.lexsort((rows_s, np.maximum(rows_s, rows_t)))[:MAX_WORDS]
    rows_s, rows_t = rows_s[first], rows_t[first]
    X = np.asarray(source.vectors[rows_s], dtype="float64")
    Y = np.asarray(target.vectors[rows_t], dtype="float64")
    order = np.random.default_rng(seed).permutation(len(rows_s))
    n_held = int(len(rows_s) * HOLDOUT) if len(rows_s) >= 10 * MIN_WORDS else 0
    held, train = order[:n_held], order[n_held:]
    U, _, Vt = np.linalg.svd(X[train].T @ Y[train], full_matrices=False)
    W = U @ Vt
    mapped = _unit(X @ W)
    cosines = np.einsum("ij,ij->i", mapped, Y)
    residual = float(np.linalg.norm(X[train] @ W - Y[train]) / np.linalg.norm(Y[train]))
    p_at_1 = None
    if n_held:
        # A sample of the held-out words: each is a search of the whole target space (seconds
        # for 2,000 of them in a 100,000 x 300 exact index), and a fit runs in a request.
        probe = held[:PRECISION_QUERIES]
        hits = target.search(mapped[probe].astype("float32"), 1)
        p_at_1 = float(np.mean([bool(h) and h[0].word == target.index_to_key[rows_t[i]]
                                for h, i in zip(hits, probe)]))
    return Alignment(source.name, target.name, shared, len(train), n_held,
                     float(cosines[train].mean()),
                     float(cosines[held].mean()) if n_held else None, p_at_1, residual,
                     round(time.perf_counter() - started, 3), W.astype("float32"), rows_s,
                     rows_t, cosines.astype("float32"))


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


@dataclass
class Translation:
    word: str
    neighbors: list[Neighbor]  # target words nearest to the mapped vector
    self_rank: int | None      # rank of the same word among all target words; None: absent
    self_cosine: float | None


def translate(alignment: Alignment, source, target, row: int, k: int) -> Translation:
    word = source.index_to_key[row]
    query = _unit(np.asarray(source.vectors[row:row + 1], dtype="float32") @ alignment.W)
    found = target.search(query.astype("float32"), k)[0]
    same = target.find(word)
    rank = cosine = None
    if same is not None:
        scores = np.asarray(target.vectors @ query[0])
        rank, cosine = ranks_of(scores, [same])[0], float(scores[same])
    return Translation(word, found, rank, cosine)


@dataclass
class Drift:
    word: str
    cosine: float               # cos(x W, y): low means the word moved
    frequency_rank: int         # position among the shared words, most frequent first
    source_neighbors: list[str]
    target_neighbors: list[str]


def drift(alignment: Alignment, source, target, n: int) -> list[Drift]:
    """The n words whose aligned vectors agree least between the spaces."""
    worst = np.argsort(alignment.cosines, kind="stable")[:n]
    rows_s = [int(alignment.rows[i]) for i in worst]
    rows_t = [int(alignment.target_rows[i]) for i in worst]
    words = [source.index_to_key[r] for r in rows_s]
    near_s = source.neighbors(rows_s, DRIFT_NEIGHBORS) if words else []
    near_t = target.neighbors(rows_t, DRIFT_NEIGHBORS) if words else []
    return [Drift(w, float(alignment.cosines[i]), int(i) + 1, [x.word for x in a],
                  [x.word for x in b]) for w, i, a, b in zip(words, worst, near_s, near_t)]


class Alignments:
    """Fitted maps per (source version, target version), fitted on first use. With a `shelf`
    (service/store/shelf.py, made before gunicorn forks) a map is fitted once for every
    worker and memory-mapped from there."""

    def __init__(self, shelf=None):
        self.shelf = shelf
        self._cache: dict[tuple, Alignment] = {}
        self._lock = threading.Lock()

    def get(self, source, target) -> Alignment:
        key = (source.name, str(source.folder), target.name, str(target.folder))
        with self._lock:
            if key not in self._cache:
                shelved = self.shelf is not None and None not in (source.folder, target.folder)
                self._cache[key] = self._shelved(source, target) if shelved else fit(source, target)
            return self._cache[key]

    def _shelved(self, source, target) -> Alignment:
        """W in one file; the words' rows and cosines in another, written last, with the
        figures (SUMMARY) in its JSON."""
        versions = (source.folder, target.folder)
        path, path_w = self.shelf.path(versions, "align"), self.shelf.path(versions, "alignW")

        def make() -> tuple[np.ndarray, dict]:
            a = fit(source, target)
            words = np.empty(len(a.rows), dtype=_WORDS)
            words["rows"], words["target_rows"], words["cosines"] = a.rows, a.target_rows, a.cosines
            self.shelf.write(path_w, a.W, {})  # before the words' file, which says it is done
            return words, {k: getattr(a, k) for k in SUMMARY[2:]}

        words, figures = self.shelf.made(path, make)
        W, _ = self.shelf.read(path_w)
        return Alignment(source.name, target.name, **figures, W=W, rows=words["rows"],
                         target_rows=words["target_rows"], cosines=words["cosines"])


_WORDS = np.dtype([("rows", "int64"), ("target_rows", "int64"), ("cosines", "float32")])
