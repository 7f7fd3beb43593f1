"""Shape facts about a space that explain its benchmark scores: anisotropy (how far random
words point the same way), hubness (a few words being everyone's neighbour) and the spread
of the raw vector norms.

Every sample is seeded, so the same space always gives the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAIRS = 20_000        # random pairs for the mean cosine
HUB_ROWS = 5_000      # most frequent rows used as queries and candidates for hubness
HUB_K = 10
_CHUNK = 1_000


@dataclass
class Geometry:
    mean_cosine: float        # over PAIRS random pairs of distinct rows (anisotropy)
    cosine_pairs: int
    hubness_skew: float | None  # skewness of the k-occurrence distribution
    hubness_k: int
    hubness_rows: int
    max_k_occurrence: int
    antihub_share: float      # share of rows in nobody's k-neighbourhood
    norm_mean: float
    norm_std: float
    norm_cv: float            # std / mean
    norm_min: float
    norm_p5: float
    norm_median: float
    norm_p95: float
    norm_max: float


def geometry(space, seed: int = 0) -> Geometry:
    rng = np.random.default_rng(seed)
    n = len(space)
    i = rng.integers(0, n, PAIRS)
    j = (i + rng.integers(1, max(n, 2), PAIRS)) % n  # never the same row
    vectors = space.vectors
    mean_cos = float(np.einsum("ij,ij->i", vectors[i], vectors[j]).mean()) if n > 1 else 1.0
    skew, rows, top, anti = _hubness(np.asarray(vectors[:HUB_ROWS]), HUB_K)
    norms = np.asarray(space.norms, dtype="float64")
    p5, median, p95 = np.percentile(norms, [5, 50, 95])
    return Geometry(mean_cos, PAIRS, skew, HUB_K, rows, top, anti, float(norms.mean()),
                    float(norms.std()), float(norms.std() / norms.mean()) if norms.mean() else 0.0,
                    float(norms.min()), float(p5), float(median), float(p95), float(norms.max()))


def _hubness(vectors: np.ndarray, k: int) -> tuple[float | None, int, int, float]:
    """Radovanović et al. (2010): skewness of N_k, how often each row is among the k nearest
    neighbours of the others. Near 0 for a uniform space; large and positive with hubs."""
    from scipy.stats import skew

    n = len(vectors)
    if n <= k + 1:
        return None, n, 0, 0.0
    counts = np.zeros(n, dtype=np.int64)
    for lo in range(0, n, _CHUNK):
        sims = vectors[lo:lo + _CHUNK] @ vectors.T
        sims[np.arange(len(sims)), np.arange(lo, lo + len(sims))] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        np.add.at(counts, top.ravel(), 1)
    return float(skew(counts)), n, int(counts.max()), float((counts == 0).mean())
