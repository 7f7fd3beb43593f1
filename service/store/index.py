"""FAISS indexes over normalised vectors: choose, build, tune, measure recall, read.

Cosine similarity is inner product on L2-normalised vectors, so every index uses
METRIC_INNER_PRODUCT and every score is a cosine. An index is described by its faiss
factory string; search-time parameters (efSearch, nprobe) are chosen at build time to reach
a target recall@10 and stored with it.
"""
from __future__ import annotations

import logging
import math
import re
import threading
import time

import faiss
import numpy as np

from service.errors import InputError

log = logging.getLogger(__name__)

EXACT_LIMIT = 100_000  # rows up to which the default index is exact
GRAPH_LIMIT = 1_000_000  # rows up to which the default is HNSW; IVF above (faster to build)
TARGET_RECALL = 0.99
# Tuning aims this far above the target: recall measured on 1,000 queries has a standard
# error of about 0.001, so a fresh sample of queries still lands at or above the target.
RECALL_MARGIN = 0.003
RECALL_QUERIES = 1000
# HNSW graphs are built with at least this efConstruction. On GloVe 400k x 50 (HNSW32, this
# 2-core machine, bench/build_budget.py): 80 costs 142 s of CPU and needs efSearch 224 for
# recall@10 0.99; 120 costs 208 s and needs efSearch 160 (a search about a fifth cheaper);
# 200 needs only efSearch 80 but costs about 357 s, too much for the default build's budget
# (the CI container step gives `build-index glove` 300 s).
EF_CONSTRUCTION = 120
_SWEEPS = {
    "efSearch": (16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 224, 256, 320, 384, 512, 768, 1024),
    "nprobe": (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024),
}


def default_factory(rows: int) -> str:
    if rows <= EXACT_LIMIT:
        return "Flat"
    if rows <= GRAPH_LIMIT:
        return "HNSW32"
    nlist = 1 << round(math.log2(2 * math.sqrt(rows)))  # 3M rows: 4096 lists
    return f"IVF{nlist},Flat"


def normalize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit vectors, original norms); zero rows stay zero."""
    x = np.ascontiguousarray(vectors, dtype="float32")
    norms = np.linalg.norm(x, axis=1).astype("float32")
    unit = x / np.maximum(norms, np.finfo("float32").tiny)[:, None]
    return np.ascontiguousarray(unit, dtype="float32"), norms


def is_exact(factory: str) -> bool:
    return factory.replace(" ", "") in ("Flat", "IDMap,Flat")


def build(unit: np.ndarray, factory: str, *, progress=None) -> faiss.Index:
    """Train (if the factory needs it) and fill an inner-product index.

    Raises:
        ValueError: a factory string faiss does not accept, or one that needs more rows.
    """
    d = unit.shape[1]
    index = _factory(d, factory)
    hnsw = _hnsw(index)
    if hnsw is not None:
        hnsw.efConstruction = max(hnsw.efConstruction, EF_CONSTRUCTION)
    if not index.is_trained:
        t = time.perf_counter()
        sample = _sample(unit, min(len(unit), 256 * 1024))
        try:
            index.train(sample)
        except RuntimeError as e:
            raise InputError(f"cannot train {factory!r} on {len(sample)} rows: {_reason(e)}") from None
        log.info("trained %s on %d rows in %.1fs", factory, len(sample), time.perf_counter() - t)
    step = 100_000
    for start in range(0, len(unit), step):
        index.add(unit[start:start + step])
        if progress:
            progress(min(start + step, len(unit)), len(unit))
    return index


def tune(index: faiss.Index, unit: np.ndarray, target: float = TARGET_RECALL) -> tuple[dict, float]:
    """Pick the smallest search parameter reaching `target` recall@10 (plus a margin);
    returns (params, measured recall). An exact index (Flat) has recall 1 by construction:
    nothing to tune, and no exact search of it against itself (seconds on 400,000 rows)."""
    if isinstance(faiss.downcast_index(index), faiss.IndexFlat):
        return {}, 1.0
    xq, truth = _ground_truth(unit)
    goal = min(target + RECALL_MARGIN, 1.0)
    name = "efSearch" if _hnsw(index) is not None else "nprobe" if _ivf(index) is not None else None
    if name is None:
        return {}, recall_at_10(index, xq, truth)
    best = {}, 0.0
    for value in _SWEEPS[name]:
        params = {name: value}
        if name == "nprobe" and value > _ivf(index).nlist:
            break
        set_params(index, params)
        recall = recall_at_10(index, xq, truth)
        best = params, recall
        if recall >= goal:
            break
    set_params(index, best[0])
    return best


def set_params(index: faiss.Index, params: dict) -> None:
    if params:
        faiss.ParameterSpace().set_index_parameters(
            index, ",".join(f"{k}={v}" for k, v in params.items())
        )


def recall_at_10(index: faiss.Index, xq: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact 10 nearest (the query row itself left out) the index returns."""
    _, found = index.search(xq, 11)
    hits = sum(len((set(want) - {-1}) & set(got)) for want, got in zip(truth, found))
    return round(hits / max(1, int((truth >= 0).sum())), 4)


def read(path: str) -> faiss.Index:
    """Memory-mapped where faiss allows it, so workers share pages and start-up stays flat."""
    try:
        return faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError as e:
        reason = last_line(e)
    index = faiss.read_index(path, faiss.IO_FLAG_READ_ONLY)  # a corrupt file raises here too
    log.info("%s: faiss cannot memory-map it (%s); read into memory instead", path, reason)
    return index


def tuning_rows(rows: int) -> np.ndarray:
    """The rows whose queries tune the search parameters (sorted), so a benchmark can
    measure recall on others."""
    return np.sort(np.random.default_rng(0).choice(rows, min(RECALL_QUERIES, rows), replace=False))


def _ground_truth(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = tuning_rows(len(unit))
    xq = np.ascontiguousarray(unit[ids])
    _, exact = faiss.knn(xq, unit, min(11, len(unit)), metric=faiss.METRIC_INNER_PRODUCT)
    truth = np.full((len(xq), 10), -1, dtype="int64")
    for row, (qid, found) in enumerate(zip(ids, exact)):
        rest = [i for i in found if i != qid][:10]
        truth[row, :len(rest)] = rest
    return xq, truth


def _sample(unit: np.ndarray, n: int) -> np.ndarray:
    if n >= len(unit):
        return unit
    ids = np.sort(np.random.default_rng(0).choice(len(unit), n, replace=False))
    return np.ascontiguousarray(unit[ids])


def _hnsw(index):
    try:
        return faiss.downcast_index(index).hnsw
    except AttributeError:
        return None


def _ivf(index):
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def check_factory(factory: str, d: int) -> None:
    """Check a factory string before any table is read.

    Raises:
        ValueError: one sentence saying why faiss refuses it for d-dimensional vectors.
    """
    _factory(d, factory)


def _factory(d: int, factory: str) -> faiss.Index:
    try:
        return faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as e:
        reason = _reason(e)
        if reason.startswith("could not parse index string"):
            raise InputError(f"faiss does not accept the index factory {factory!r} (not a factory "
                             "string it can read); write one like Flat, HNSW32, IVF4096,Flat or "
                             "IVF1024,PQ16") from None
        raise InputError(f"faiss does not accept the index factory {factory!r} for "
                         f"{d}-dimensional vectors: {reason}") from None


def _reason(e: Exception) -> str:
    """faiss's C++ message without its source location: 'Error in f() at x.cpp:64: Error:
    '!(d % M == 0)' failed: The dimension ...' -> 'The dimension ...'."""
    text = re.sub(r"^Error in .*? at \S+:\d+: ", "", last_line(e))
    return re.sub(r"^Error: '.*?' failed: ", "", text).rstrip(".")


def last_line(e: Exception) -> str:
    """The last non-empty line of an exception's message (faiss's C++ errors end with the
    reason), else the exception's type."""
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    return lines[-1].strip() if lines else type(e).__name__


_thread_state = threading.local()


def single_thread() -> None:
    """OpenMP's thread count is per calling thread: set it once in each thread that searches,
    so a search uses its own thread only (gunicorn's workers and threads already fill the
    cores). The one place faiss threads are set up."""
    if not getattr(_thread_state, "omp_set", False):
        faiss.omp_set_num_threads(1)
        _thread_state.omp_set = True
