"""Searches limited to part of a space: the N most frequent rows (gensim's `restrict_vocab`),
a list of candidate rows, or (for comparing two spaces) the rows of a shared vocabulary.

The first two are exact scans of the rows allowed (service/store/search.py), so a restricted
answer is exactly gensim's. The third searches, in batches, either an exact index made of the
allowed rows (BLAS, seconds for 100,000 words) or, for more rows than that, the space's own
index with an ID selector.
"""
from __future__ import annotations

import faiss
import numpy as np

from service.store import index as ix
from service.store.space import Space


def allowed_rows(space: Space, candidates: list[int] | None, restrict_vocab: int | None) -> np.ndarray:
    """Rows an answer may come from, in row order: the candidates, the first N rows, or both."""
    limit = len(space) if restrict_vocab is None else min(restrict_vocab, len(space))
    if candidates is None:
        return np.arange(limit, dtype="int64")
    rows = np.unique(np.asarray(candidates, dtype="int64"))
    return rows[rows < limit]


def index_search(space: Space, xq: np.ndarray, k: int, allowed: np.ndarray,
                 batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest allowed rows for each unit query, through the space's
    faiss index with an ID selector (rows -1 where fewer are found), in batches of queries."""
    mask = np.zeros(len(space), dtype=bool)
    mask[allowed] = True
    selector = faiss.IDSelectorBitmap(np.packbits(mask, bitorder="little"))
    params = _search_parameters(space, selector)
    ix.single_thread()
    D = np.empty((len(xq), k), dtype="float32")
    I = np.empty((len(xq), k), dtype="int64")
    for start in range(0, len(xq), batch):
        chunk = np.ascontiguousarray(xq[start:start + batch], dtype="float32")
        D[start:start + len(chunk)], I[start:start + len(chunk)] = space.index.search(chunk, k, params=params)
    return D, I


def _search_parameters(space: Space, selector) -> faiss.SearchParameters:
    """The space's tuned efSearch or nprobe, with the selector (search parameters passed to a
    search replace the index's own, so they are set again here)."""
    tuned = space.manifest.get("search_params") or {}
    if "efSearch" in tuned:
        params = faiss.SearchParametersHNSW()
        params.efSearch = int(tuned["efSearch"])
    elif "nprobe" in tuned:
        params = faiss.SearchParametersIVF()
        params.nprobe = int(tuned["nprobe"])
    else:
        params = faiss.SearchParameters()
    params.sel = selector
    return params


def subset_search(space: Space, xq: np.ndarray, k: int, allowed: np.ndarray,
                  batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Like index_search, exactly: a flat inner-product index of the allowed rows' unit
    vectors, searched in batches (faiss uses BLAS for batches), rows mapped back."""
    sub = faiss.IndexFlatIP(space.vector_size)
    sub.add(np.ascontiguousarray(space.vectors[allowed], dtype="float32"))
    ix.single_thread()
    D = np.empty((len(xq), k), dtype="float32")
    I = np.empty((len(xq), k), dtype="int64")
    for start in range(0, len(xq), batch):
        chunk = np.ascontiguousarray(xq[start:start + batch], dtype="float32")
        D[start:start + len(chunk)], found = sub.search(chunk, k)
        I[start:start + len(chunk)] = np.where(found >= 0, allowed[np.maximum(found, 0)], -1)
    return D, I
