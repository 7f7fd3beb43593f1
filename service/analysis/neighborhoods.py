"""Two spaces compared over their whole shared vocabulary, as the Embedding Comparator does for
two models: for every word both spaces have (or a seeded sample of them), the Jaccard overlap
of its k nearest neighbours in each space, the neighbours taken among the shared words only.

The neighbours come from batched faiss searches: an exact index of the shared words' vectors
when they are at most 100,000 (BLAS makes that the fastest way, and exact), else each space's
own index with an ID selector that admits only the shared words.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from service.errors import InvalidRequest
from service.store import keyset
from service.store.index import EXACT_LIMIT
from service.store.restrict import index_search, subset_search
from service.store.space import Space

_CHUNK = 4096  # queries per step of the overlap count (k x k comparisons each)


@dataclass
class WordAgreement:
    word: str
    jaccard: float
    neighbors_a: list[str]
    neighbors_b: list[str]


@dataclass
class HistogramBin:
    overlap: int  # neighbours the two lists share, 0..k
    jaccard: float  # the Jaccard value of that overlap for two lists of k
    words: int


@dataclass
class SpaceComparison:
    a: str
    b: str
    k: int
    shared: int  # words both spaces have
    compared: int  # words whose neighbourhoods were compared (all shared, or the sample)
    sample: int | None
    seed: int | None
    mean_jaccard: float
    median_jaccard: float
    histogram: list[HistogramBin]
    most_similar: list[WordAgreement]
    least_similar: list[WordAgreement]
    seconds: float
    search_seconds: dict[str, float] = field(default_factory=dict)
    search: str = "exact"  # "exact" over the shared words, or "index" (each space's own, filtered)


def compare_spaces(a: Space, b: Space, k: int = 10, sample: int | None = None, seed: int = 0,
                   n: int = 20, exact_limit: int = EXACT_LIMIT) -> SpaceComparison:
    """The comparison of the sample's words alone (all shared words without one); Comparisons
    answers the web from each pair's whole vocabulary instead.

    Raises: InvalidRequest when the spaces share fewer than k + 1 words."""
    started = time.perf_counter()
    rows_a, rows_b = shared_rows(a, b, k)
    queries = sample_rows(len(rows_a), sample, seed)
    found = neighbor_lists(a, b, rows_a, rows_b, queries, k, exact_limit)
    return summarize(found, queries, np.arange(len(queries)), sample, seed, n, started)


@dataclass
class NeighborLists:
    """Each query word's k nearest shared words in two spaces (ids into `rows`, -1 where
    fewer were found), and how many of them the two lists share."""
    a: str
    b: str
    k: int
    keys: list[str]  # a's index_to_key
    rows: np.ndarray  # the shared words' rows in a, in a's order
    na: np.ndarray  # (queries, k) int32
    nb: np.ndarray
    overlap: np.ndarray  # (queries,) int16
    union: np.ndarray  # (queries,) int16
    search: str
    seconds: dict[str, float]

    @property
    def nbytes(self) -> int:
        return (self.rows.nbytes + self.na.nbytes + self.nb.nbytes + self.overlap.nbytes
                + self.union.nbytes)

    def word(self, i: int) -> str:
        """The i-th shared word."""
        return self.keys[self.rows[i]]


def shared_rows(a: Space, b: Space, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows in a and in b of the words both spaces have, in a's row order (Raises:
    InvalidRequest, k + 1 needed)."""
    rows_a, rows_b = keyset.shared_rows(a.key_hashes(), b.key_hashes())
    if len(rows_a) <= k:
        raise InvalidRequest(f"'{a.name}' and '{b.name}' share {len(rows_a)} words; "
                             f"comparing {k} neighbours needs at least {k + 1}")
    return rows_a, rows_b


def sample_rows(shared: int, sample: int | None, seed: int) -> np.ndarray:
    """The positions in the shared words compared: all of them, or `sample` drawn with `seed`."""
    if sample is not None and sample < shared:
        return np.sort(np.random.default_rng(seed).choice(shared, sample, replace=False))
    return np.arange(shared)


def neighbor_lists(a: Space, b: Space, rows_a: np.ndarray, rows_b: np.ndarray,
                   queries: np.ndarray, k: int, exact_limit: int = EXACT_LIMIT) -> NeighborLists:
    """The lists of the shared words `queries` (positions in rows_a / rows_b, the rows in a and
    in b of the words both have)."""
    lists, seconds = [], {}
    search = "exact" if len(rows_a) <= exact_limit else "index"
    for space, rows in ((a, rows_a), (b, rows_b)):
        t = time.perf_counter()
        lists.append(_neighbor_ids(space, rows, queries, k, search).astype("int32"))
        seconds[space.name] = round(time.perf_counter() - t, 3)
    overlap, union = _overlap(*lists)
    return NeighborLists(a.name, b.name, k, a.index_to_key, rows_a, lists[0], lists[1], overlap,
                         union, search, seconds)


def summarize(found: NeighborLists, queries: np.ndarray, at: np.ndarray, sample: int | None,
              seed: int, n: int, started: float) -> SpaceComparison:
    """The comparison over the shared words `queries`, whose lists are found's rows `at`."""
    k = found.k
    overlap, union = found.overlap[at].astype("int64"), found.union[at]
    jac = np.where(union > 0, overlap / np.maximum(union, 1), 1.0)
    order = np.lexsort((queries, -jac))  # most similar first, then the more frequent word
    least = np.lexsort((queries, jac))

    def agreement(i: int) -> WordAgreement:
        row = at[i]
        return WordAgreement(found.word(queries[i]), round(float(jac[i]), 4),
                             [found.word(j) for j in found.na[row] if j >= 0],
                             [found.word(j) for j in found.nb[row] if j >= 0])

    counts = np.bincount(overlap, minlength=k + 1)
    histogram = [HistogramBin(o, round(o / (2 * k - o), 4), int(c)) for o, c in enumerate(counts)]
    return SpaceComparison(
        found.a, found.b, k, len(found.rows), len(queries), sample, seed if sample else None,
        round(float(jac.mean()), 4), round(float(np.median(jac)), 4), histogram,
        [agreement(i) for i in order[:n]], [agreement(i) for i in least[:n]],
        round(time.perf_counter() - started, 3), found.seconds, found.search)


class Comparisons:
    """GET /v1/compare/spaces answers. Each pair's neighbour lists over its whole shared
    vocabulary are computed once per k (one computation at a time per process) and kept
    while they fit in `budget` bytes; a sample with any seed is then a selection of rows,
    and answers are kept by the parameters that change them (`seed` only with a `sample`).

    With a `shelf` (service/store/shelf.py, made before gunicorn forks) the lists are
    computed once for every worker and memory-mapped from there, so they cost no worker
    private memory."""

    def __init__(self, budget: int = 256 * 1024 * 1024, answers: int = 64, shelf=None):
        self.budget, self.max_answers, self.shelf = budget, answers, shelf
        self.lists: OrderedDict[tuple, NeighborLists] = OrderedDict()
        self.answers: OrderedDict[tuple, dict] = OrderedDict()
        self.computed = 0  # whole-vocabulary computations made (what costs seconds of CPU)
        self._lock = threading.Lock()  # guards `answers`
        self._computing = threading.Lock()  # guards `lists` and the CPU

    def get(self, a: Space, b: Space, k: int, sample: int | None, seed: int, n: int) -> dict:
        pair = (a.name, str(a.folder), b.name, str(b.folder), k)
        key = (*pair, sample, seed if sample is not None else None, n)  # what changes the answer
        answer = self._answer(key)
        if answer is not None:
            return answer
        with self._computing:  # one at a time: each may take seconds of CPU and much memory
            answer = self._answer(key)  # made by another request meanwhile?
            if answer is not None:
                return answer
            started = time.perf_counter()
            found = self._lists(pair, a, b, k)
            queries = sample_rows(len(found.rows), sample, seed)
            answer = asdict(summarize(found, queries, queries, sample, seed, n, started))
        with self._lock:
            self.answers[key] = answer
            while len(self.answers) > self.max_answers:
                self.answers.popitem(last=False)
        return answer

    def _answer(self, key: tuple) -> dict | None:
        with self._lock:
            if key in self.answers:
                self.answers.move_to_end(key)
            return self.answers.get(key)

    def _lists(self, pair: tuple, a: Space, b: Space, k: int) -> NeighborLists:
        if pair in self.lists:
            self.lists.move_to_end(pair)
            return self.lists[pair]
        if self.shelf is not None and a.folder is not None and b.folder is not None:
            found = self._shelved(a, b, k)
        else:
            found = self._compute(a, b, k)
        if found.nbytes <= self.budget:
            self.lists[pair] = found
            while sum(f.nbytes for f in self.lists.values()) > self.budget:
                self.lists.popitem(last=False)
        return found


    def _compute(self, a: Space, b: Space, k: int) -> NeighborLists:
        rows_a, rows_b = shared_rows(a, b, k)
        self.computed += 1
        return neighbor_lists(a, b, rows_a, rows_b, np.arange(len(rows_a)), k)

    def _shelved(self, a: Space, b: Space, k: int) -> NeighborLists:
        """The lists from the shelf, computed and written there by the first process that
        needs them: one int32 table, a row per shared word (its row in a, overlap, union,
        then its k neighbours in a and in b)."""
        def make() -> tuple[np.ndarray, dict]:
            found = self._compute(a, b, k)
            table = np.column_stack([found.rows, found.overlap, found.union, found.na,
                                     found.nb]).astype("int32")
            return table, {"search": found.search,
                           "seconds": [found.seconds[a.name], found.seconds[b.name]]}

        table, meta = self.shelf.made(self.shelf.path((a.folder, b.folder), f"k{k}"), make)
        return NeighborLists(a.name, b.name, k, a.index_to_key, table[:, 0], table[:, 3:3 + k],
                             table[:, 3 + k:], table[:, 1], table[:, 2], meta["search"],
                             dict(zip((a.name, b.name), meta["seconds"])))


def _neighbor_ids(space: Space, rows: np.ndarray, queries: np.ndarray, k: int,
                  search: str) -> np.ndarray:
    """(queries, k) positions in `rows` (the shared words' rows in `space`) of each query's k
    nearest shared words in `space`, the word itself left out; -1 where fewer were found."""
    rows = np.asarray(rows, dtype="int64")
    ids = np.full(len(space), -1, dtype="int64")
    ids[rows] = np.arange(len(rows))
    searcher = subset_search if search == "exact" else index_search
    _, found = searcher(space, space.vectors[rows[queries]], k + 1, rows)
    found = np.where(found >= 0, ids[np.maximum(found, 0)], -1)
    keep = (found >= 0) & (found != queries[:, None])
    first = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(found, first, axis=1)
    return np.where(np.take_along_axis(keep, first, axis=1), picked, -1)


def _overlap(na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(overlap, union) sizes of each row's two neighbour lists (-1 = none)."""
    overlap = np.empty(len(na), dtype="int16")
    for start in range(0, len(na), _CHUNK):
        a, b = na[start:start + _CHUNK], nb[start:start + _CHUNK]
        same = (a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)
        overlap[start:start + _CHUNK] = same.any(axis=2).sum(axis=1)
    union = ((na >= 0).sum(axis=1) + (nb >= 0).sum(axis=1) - overlap).astype("int16")
    return overlap, union
