"""Nearest neighbours in a space: the faiss index, the stored exact table of the frequent
words (service/store/topk.py), exact scans among allowed rows, and analogies.

`Search` is a part of service/store/space.py's `Space`: it reads the space's `vectors` (unit
rows), `index`, `index_to_key`, `topk` and `observe_search`. Results are small dataclasses
(`Neighbor`) or, where the HTTP layer writes them straight out, (keys, scores) pairs (`Hits`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from service.errors import InvalidRequest
from service.store import index as ix

# Scores computed at once in an exact scan: queries x allowed rows (64 MiB of float32).
_SCAN_CELLS = 16 * 1024 * 1024


@dataclass(slots=True)  # not frozen: a frozen dataclass costs twice as much to make, and
class Neighbor:          # a batch answer makes 10,000 of them
    word: str
    score: float
    rank: int


Hits = tuple[list[str], list[float]]  # keys and their cosines, best first


def as_neighbors(hits: Hits) -> list[Neighbor]:
    return [Neighbor(w, d, r) for r, (w, d) in enumerate(zip(*hits), 1)]


def as_hits(found: list[Neighbor]) -> Hits:
    return [n.word for n in found], [n.score for n in found]


class Search:
    """Searches over a space's unit vectors (a part of `Space`)."""

    def search(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None) -> list[list[Neighbor]]:
        """k nearest keys for each query row (unit vectors), leaving out excluded rows."""
        return [as_neighbors(h) for h in self.search_hits(xq, k, exclude)]

    def search_hits(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None) -> list[Hits]:
        """`search` as (keys, scores) per query: what the HTTP layer writes out, without an
        object per neighbour (a 1,000-word batch makes 10,000)."""
        xq = np.ascontiguousarray(xq, dtype="float32")
        extra = max((len(e) for e in exclude), default=0) if exclude else 0
        ix.single_thread()
        started = time.perf_counter()
        D, I = self.index.search(xq, min(k + extra, len(self)))
        if self.observe_search:
            self.observe_search(time.perf_counter() - started)
        keys, results = self.index_to_key, []
        for ids, scores, skip in zip(I.tolist(), D.tolist(), exclude or repeat(())):
            if skip or (ids and ids[-1] < 0):  # faiss pads with -1 when it finds fewer
                kept = [(i, d) for i, d in zip(ids, scores) if i >= 0 and i not in skip][:k]
                ids, scores = [i for i, _ in kept], [d for _, d in kept]
            results.append(([keys[i] for i in ids[:k]], scores[:k]))
        return results

    def neighbors(self, rows: list[int], k: int, allowed: np.ndarray | None = None) -> list[list[Neighbor]]:
        """The k nearest words of each row, the row itself left out; among the `allowed` rows
        only (an exact scan) if given. Otherwise from the stored exact table for frequent words
        (when k fits), from the index for the others."""
        return [as_neighbors(h) for h in self.neighbor_hits(rows, k, allowed)]

    def neighbor_hits(self, rows: list[int], k: int, allowed: np.ndarray | None = None) -> list[Hits]:
        """`neighbors` as (keys, scores) per row."""
        if allowed is not None:
            return [as_hits(found) for found in self.scan(self.vectors[rows], k, allowed,
                                                          [{r} for r in rows])]
        topk = self.topk
        covered = [row for row in rows if topk is not None and topk.covers(row, k)]
        if not covered:
            return self.search_hits(self.vectors[rows], k, exclude=[{r} for r in rows])
        keys, results, rest = self.index_to_key, [], []
        stored = iter(zip(*topk.get(covered, k)))
        for row in rows:
            if topk.covers(row, k):
                ids, scores = next(stored)
                results.append(([keys[i] for i in ids], scores))
            else:
                results.append(None)
                rest.append(row)
        if rest:
            found = iter(self.search_hits(self.vectors[rest], k, exclude=[{r} for r in rest]))
            results = [r if r is not None else next(found) for r in results]
        return results

    def rank(self, a: int, b: int) -> int:
        """gensim's rank(a, b): 1 + the rows other than `a` strictly more similar to `a` than
        `b` is, counted exactly over the whole table (so rank(a, a) is 1)."""
        scores = np.asarray(self.vectors @ self.vectors[a])
        nearer = scores > scores[b]
        nearer[a] = False
        return 1 + int(np.count_nonzero(nearer))

    def scan(self, xq: np.ndarray, k: int, allowed: np.ndarray,
             exclude: list[set[int]] | None = None) -> list[list[Neighbor]]:
        """Exact search among the `allowed` rows (sorted): the k highest cosines to each unit
        query, best first, ties in row order; `exclude[q]` rows are left out for query q.
        What restrict_vocab and candidates use, so those answers are exactly gensim's."""
        xq = np.ascontiguousarray(xq, dtype="float32")
        if len(allowed) == 0:
            return [[] for _ in xq]
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
                results.append([Neighbor(self.index_to_key[r], s, n) for n, (r, s) in enumerate(hits, 1)])
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
            if allowed is not None:
                return self.scan((query / norm)[None, :], k, allowed, exclude=[exclude])[0]
            return self.search((query / norm)[None, :], k, exclude=[exclude])[0]
        eps = 1e-3
        score = np.ones(len(self), dtype="float32")
        for row in positive:
            score *= (self.vectors @ self.vectors[row] + 1) / 2
        for row in negative:
            score /= (self.vectors @ self.vectors[row] + 1) / 2 + eps
        score[list(exclude)] = -np.inf
        if allowed is not None:
            outside = np.ones(len(self), dtype=bool)
            outside[allowed] = False
            score[outside] = -np.inf
        top = np.argpartition(-score, min(k, len(score) - 1))[:k]
        top = top[np.argsort(-score[top])]
        return [Neighbor(self.index_to_key[i], float(score[i]), r)
                for r, i in enumerate(top, 1) if np.isfinite(score[i])]
