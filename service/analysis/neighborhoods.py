"""Two spaces compared over their whole shared vocabulary, as the Embedding Comparator does for
two models: for every word both spaces have (or a seeded sample of them), the Jaccard overlap
of its k nearest neighbours in each space, the neighbours taken among the shared words only.

The neighbours come from batched faiss searches: an exact index of the shared words' vectors
when they are at most 100,000 (BLAS makes that the fastest way, and exact), else each space's
own index with an ID selector that admits only the shared words.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from service.errors import InvalidRequest
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
    """Raises: InvalidRequest when the spaces share fewer than k + 1 words."""
    started = time.perf_counter()
    shared = sorted(set(a.key_to_index) & set(b.key_to_index), key=a.key_to_index.__getitem__)
    if len(shared) <= k:
        raise InvalidRequest(f"'{a.name}' and '{b.name}' share {len(shared)} words; "
                         f"comparing {k} neighbours needs at least {k + 1}")
    queries = np.arange(len(shared))
    if sample is not None and sample < len(shared):
        queries = np.sort(np.random.default_rng(seed).choice(len(shared), sample, replace=False))
    lists, seconds = {}, {}
    search = "exact" if len(shared) <= exact_limit else "index"
    for space in (a, b):
        t = time.perf_counter()
        lists[space.name] = _neighbor_ids(space, shared, queries, k, search)
        seconds[space.name] = round(time.perf_counter() - t, 3)
    na, nb = lists[a.name], lists[b.name]
    overlap, jac = _jaccard(na, nb)
    order = np.lexsort((queries, -jac))  # most similar first, then the more frequent word
    least = np.lexsort((queries, jac))

    def agreement(i: int) -> WordAgreement:
        return WordAgreement(shared[queries[i]], round(float(jac[i]), 4),
                             [shared[j] for j in na[i] if j >= 0], [shared[j] for j in nb[i] if j >= 0])

    counts = np.bincount(overlap, minlength=k + 1)
    histogram = [HistogramBin(o, round(o / (2 * k - o), 4), int(c)) for o, c in enumerate(counts)]
    return SpaceComparison(
        a.name, b.name, k, len(shared), len(queries), sample, seed if sample else None,
        round(float(jac.mean()), 4), round(float(np.median(jac)), 4), histogram,
        [agreement(i) for i in order[:n]], [agreement(i) for i in least[:n]],
        round(time.perf_counter() - started, 3), seconds, search)


def _neighbor_ids(space: Space, shared: list[str], queries: np.ndarray, k: int,
                  search: str) -> np.ndarray:
    """(queries, k) ids into `shared` of each query's k nearest shared words in `space`, the
    word itself left out; -1 where fewer were found."""
    rows = np.fromiter((space.key_to_index[w] for w in shared), dtype="int64", count=len(shared))
    ids = np.full(len(space), -1, dtype="int64")
    ids[rows] = np.arange(len(shared))
    searcher = subset_search if search == "exact" else index_search
    _, found = searcher(space, space.vectors[rows[queries]], k + 1, rows)
    found = np.where(found >= 0, ids[np.maximum(found, 0)], -1)
    keep = (found >= 0) & (found != queries[:, None])
    first = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(found, first, axis=1)
    return np.where(np.take_along_axis(keep, first, axis=1), picked, -1)


def _jaccard(na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(overlap counts, Jaccard values) of each row's two neighbour lists (-1 = none)."""
    overlap = np.empty(len(na), dtype="int64")
    for start in range(0, len(na), _CHUNK):
        a, b = na[start:start + _CHUNK], nb[start:start + _CHUNK]
        same = (a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)
        overlap[start:start + _CHUNK] = same.any(axis=2).sum(axis=1)
    union = (na >= 0).sum(axis=1) + (nb >= 0).sum(axis=1) - overlap
    return overlap, np.where(union > 0, overlap / np.maximum(union, 1), 1.0)
