"""Exact nearest neighbours of the most frequent words, computed once at build time.

Most queries ask about common words, and embedding tables list their keys by frequency
(GloVe, word2vec, a task's vocabulary), so the first rows are the ones asked about. For the
first ROWS rows the build stores the exact K nearest rows (the row itself left out) with
their cosines; a query for one of those words with k <= K reads its answer from there: exact,
and without an index search. Other words, larger k and vector queries go to the index.

Files: topk_ids.npy (int32, rows x K) and topk_scores.npy (float32, rows x K), listed and
checksummed in the manifest like every file of the space; the manifest's "topk" records
{"rows": ..., "k": ..., "seconds": ...}, or null for a table too large for the build budget.
"""
from __future__ import annotations

import time
from pathlib import Path

import faiss
import numpy as np

ROWS = 50_000  # the most frequent words answered from the table (build-index --topk-rows)
K = 100  # neighbours stored per word: queries with k up to this use it
# At most this many multiply-adds of exact search at build: GloVe 400k x 50 spends all of it
# on its 50,000 rows (34 s wall, 68 s of CPU on this 2-core machine when idle: 4,096 rows
# took 2.8 s); a wider or longer table gets fewer rows, and below MIN_ROWS none (a 3M x 300
# table would get 1,111, so none). An explicit row count (build-index --topk-rows) is not
# held to this budget.
WORK = 50_000 * 400_000 * 50
MIN_ROWS = 5_000
IDS, SCORES = "topk_ids.npy", "topk_scores.npy"
_BLOCK = 4096  # query rows per exact search: bounds the memory of one faiss.knn call


def compute(unit: np.ndarray, rows: int | None = None, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The exact k nearest rows (by inner product of unit vectors, each row itself left
    out) of the first `rows` rows (default ROWS, K), and their scores."""
    n = min(ROWS if rows is None else rows, len(unit))
    k = min(K if k is None else k, len(unit) - 1)
    ids = np.empty((n, k), dtype="int32")
    scores = np.empty((n, k), dtype="float32")
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        D, I = faiss.knn(np.ascontiguousarray(unit[start:stop]), unit, k + 1,
                         metric=faiss.METRIC_INNER_PRODUCT)
        own = I == np.arange(start, stop)[:, None]
        # Drop the row itself; if ties pushed it out of the k + 1, drop the last instead.
        drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
        keep = np.ones_like(own)
        keep[np.arange(stop - start), drop] = False
        ids[start:stop] = I[keep].reshape(stop - start, k)
        scores[start:stop] = D[keep].reshape(stop - start, k)
    return ids, scores


def rows_for(shape: tuple[int, int]) -> int:
    """How many of the first rows a table of this shape gets within the WORK budget (0: none)."""
    n, d = shape
    rows = min(ROWS, n, WORK // max(1, n * d))
    return rows if rows >= min(MIN_ROWS, ROWS, n) and n > 1 else 0


def write(folder: Path, unit: np.ndarray, rows: int | None = None, k: int | None = None) -> dict | None:
    """Compute and save the table in `folder`; returns the manifest entry, or None when the
    table is too large for the budget (the space then answers every query from its index)."""
    rows = rows_for(unit.shape) if rows is None else min(rows, len(unit))
    if rows <= 0 or len(unit) < 2:
        return None
    started = time.perf_counter()
    ids, scores = compute(unit, rows, k)
    np.save(folder / IDS, ids)
    np.save(folder / SCORES, scores)
    return {"rows": int(ids.shape[0]), "k": int(ids.shape[1]),
            "seconds": round(time.perf_counter() - started, 2)}


class TopK:
    """The stored table of a loaded space (memory-mapped, shared by the workers)."""

    def __init__(self, ids: np.ndarray, scores: np.ndarray):
        # Plain ndarray views of the maps: np.memmap's own indexing is several times slower.
        self.ids, self.scores = ids.view(np.ndarray), scores.view(np.ndarray)
        self.rows, self.k = ids.shape

    def covers(self, row: int, k: int) -> bool:
        return row < self.rows and k <= self.k

    def get(self, rows: list[int], k: int) -> tuple[list[list[int]], list[list[float]]]:
        """The first k stored neighbours (row numbers) and scores of each of `rows`."""
        return self.ids[rows, :k].tolist(), self.scores[rows, :k].tolist()
