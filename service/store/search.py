"""Nearest neighbours in a space: the faiss index, the stored exact table of the frequent
words (service/store/topk.py), exact scans among allowed rows, and analogies.

A `Searcher` is what a `Space` (service/store/space.py) hands its searches to, as gensim's
`KeyedVectors.most_similar(..., indexer=...)` hands them to an indexer: it is given the unit
vectors, the keys, the index, the stored table and a callback that is told how long each
index search took (the metrics), and owns them. One method per operation: `search` by query
vectors, `neighbors` of rows, `analogy`; each answers with lists of `Neighbor`, the one
result type. JSON is made from it in the web layer (service/web/spaces.py).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from service.errors import InvalidRequest
from service.store import index as ix
from service.store import topk as tk

# Scores computed at once in an exact scan: queries x allowed rows (64 MiB of float32).
_SCAN_CELLS = 16 * 1024 * 1024


@dataclass(slots=True)  # not frozen: a frozen dataclass costs twice as much to make, and
class Neighbor:          # a batch answer makes 10,000 of them
    word: str
    score: float
    rank: int


Found = tuple[list[int], list[float]]  # rows and their cosines, best first (inside this module)


class Searcher:
    """Searches over unit vectors: the faiss index, the stored table, exact scans."""

    def __init__(self, vectors: np.ndarray, index_to_key: list[str], index,
                 topk: tk.TopK | None = None, observe: Callable[[float], None] | None = None):
        self.vectors, self.index_to_key, self.index, self.topk = vectors, index_to_key, index, topk
        self.observe = observe  # called with the seconds of each index search (the metrics)

    def _neighbors(self, found: Found) -> list[Neighbor]:
        ids, scores = found
        # map, not a comprehension: a fifth cheaper for a batch answer's 10,000 neighbours.
        return list(map(Neighbor, map(self.index_to_key.__getitem__, ids), scores, range(1, len(ids) + 1)))

    def search(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None,
               allowed: np.ndarray | None = None) -> list[list[Neighbor]]:
        """k nearest keys for each query row (unit vectors), leaving out `exclude[q]` rows for
        query q; among the `allowed` rows only (an exact scan) if given, else from the index."""
        if allowed is not None:
            return [self._neighbors(f) for f in self._scan(xq, k, allowed, exclude)]
        return [self._neighbors(f) for f in self._search_index(xq, k, exclude)]

    def _search_index(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None) -> list[Found]:
        xq = np.ascontiguousarray(xq, dtype="float32")
        extra = max((len(e) for e in exclude), default=0) if exclude else 0
        ix.single_thread()
        started = time.perf_counter()
        D, I = self.index.search(xq, min(k + extra, len(self.index_to_key)))
        if self.observe:
            self.observe(time.perf_counter() - started)
        results = []
        for ids, scores, skip in zip(I.tolist(), D.tolist(), exclude or repeat(())):
            if skip or (ids and ids[-1] < 0):  # faiss pads with -1 when it finds fewer
                kept = [(i, d) for i, d in zip(ids, scores) if i >= 0 and i not in skip][:k]
                ids, scores = [i for i, _ in kept], [d for _, d in kept]
            results.append((ids[:k], scores[:k]))
        return results

    def neighbors(self, rows: list[int], k: int, allowed: np.ndarray | None = None) -> list[list[Neighbor]]:
        """The k nearest words of each row, the row itself left out; among the `allowed` rows
        only (an exact scan) if given. Otherwise from the stored exact table for frequent words
        (when k fits), from the index for the others."""
        if allowed is not None:
            return self.search(self.vectors[rows], k, [{r} for r in rows], allowed)
        topk = self.topk
        covered = [row for row in rows if topk is not None and topk.covers(row, k)]
        if not covered:
            return self.search(self.vectors[rows], k, exclude=[{r} for r in rows])
        results, rest = [], []
        stored = iter(zip(*topk.get(covered, k)))
        for row in rows:
            if topk.covers(row, k):
                results.append(self._neighbors(next(stored)))
            else:
                results.append(None)
                rest.append(row)
        if rest:
            found = iter(self.search(self.vectors[rest], k, exclude=[{r} for r in rest]))
            results = [r if r is not None else next(found) for r in results]
        return results

    def rank(self, a: int, b: int) -> int:
        """gensim's rank(a, b): 1 + the rows other than `a` strictly more similar to `a` than
        `b` is, counted exactly over the whole table (so rank(a, a) is 1)."""
        scores = np.asarray(self.vectors @ self.vectors[a])
        nearer = scores > scores[b]
        nearer[a] = False
        return 1 + int(np.count_nonzero(nearer))

    def _scan(self, xq: np.ndarray, k: int, allowed: np.ndarray,
              exclude: list[set[int]] | None = None) -> list[Found]:
        """Exact search among the `allowed` rows (sorted): the k highest cosines to each unit
        query, best first, ties in row order; `exclude[q]` rows are left out for query q.
        What restrict_vocab and candidates use, so those answers are exactly gensim's."""
        xq = np.ascontiguousarray(xq, dtype="float32")
        if len(allowed) == 0:
            return [([], []) for _ in xq]
        contiguous = allowed[-1] - allowed[0] + 1 == len(allowed)
        base = np.asarray(self.vectors[allowed[0]:allowed[-1] + 1] if contiguous else self.vectors[allowed])
        step = max(1, _SCAN_CELLS // len(allowed))
        results = []
        for start in range(0, len(xq), step):
            for q, scores in enumerate(xq[start:start + step] @ base.T, start):
                skip = exclude[q] if exclude else set()
                take = min(k + len(skip), len(allowed))
                top = np.argpartition(-scores, take - 1)[:take] if take < len(allowed) else np.arange(take)
                top = top[np.lexsort((top, -scores[top]))]
                hits = [(int(allowed[i]), float(scores[i])) for i in top if int(allowed[i]) not in skip][:k]
                results.append(([r for r, _ in hits], [s for _, s in hits]))
        return results

    def analogy(self, positive: list[int], negative: list[int], k: int, method: str,
                allowed: np.ndarray | None = None) -> list[Neighbor]:
        """Levy and Goldberg (2014): 3CosAdd searches the index with the normalised
        sum; 3CosMul scores every row with cosines shifted to [0, 1]. With `allowed`, only
        those rows can answer (searched exactly)."""
        exclude = set(positive) | set(negative)
        if method == "3cosadd":
            query = self.vectors[positive].sum(axis=0) - self.vectors[negative].sum(axis=0)
            norm = np.linalg.norm(query)
            if norm == 0:
                raise InvalidRequest("the positive and negative words cancel out")
            return self.search((query / norm)[None, :], k, [exclude], allowed)[0]
        eps = 1e-3
        n = len(self.index_to_key)
        score = np.ones(n, dtype="float32")
        for row in positive:
            score *= (self.vectors @ self.vectors[row] + 1) / 2
        for row in negative:
            score /= (self.vectors @ self.vectors[row] + 1) / 2 + eps
        score[list(exclude)] = -np.inf
        if allowed is not None:
            outside = np.ones(n, dtype=bool)
            outside[allowed] = False
            score[outside] = -np.inf
        top = np.argpartition(-score, min(k, len(score) - 1))[:k]
        top = top[np.argsort(-score[top])]
        return [Neighbor(self.index_to_key[i], float(score[i]), r)
                for r, i in enumerate(top, 1) if np.isfinite(score[i])]
