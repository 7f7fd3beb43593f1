"""How much two ranked neighbour lists agree: Jaccard@k, rank-biased overlap, exact ranks.

Pure functions over lists and arrays, so the side-by-side comparisons (service/analysis/sidebyside.py)
and the tests share one definition of each measure.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

# Rank-biased overlap's persistence: the weight of the top d ranks is 1 - p**d, so with
# p = 0.9 the first 10 ranks carry about 65% of the score (Webber et al. 2010).
RBO_P = 0.9


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    """|A ∩ B| / |A ∪ B| of the two lists taken as sets; 1.0 for two empty lists."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 1.0


def rbo(a: Sequence[str], b: Sequence[str], p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap of two top-k lists (Webber, Moffat and Zobel 2010,
    eq. 32): agreement at each depth d, weighted by p**d, the agreement at the last depth
    assumed to hold below it. 1.0 for identical lists, 0.0 for disjoint ones.
    """
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    depth = max(len(a), len(b))
    if depth == 0:
        return 1.0
    seen_a: set[str] = set()
    seen_b: set[str] = set()
    overlap, total = 0, 0.0
    for d in range(1, depth + 1):
        if d <= len(a):
            seen_a.add(a[d - 1])
            overlap += a[d - 1] in seen_b
        if d <= len(b):
            seen_b.add(b[d - 1])
            overlap += b[d - 1] in seen_a
        total += overlap / d * p ** d
    return float(overlap / depth * p ** depth + (1 - p) / p * total)


def ranks_of(scores: np.ndarray, rows: Sequence[int], exclude: Sequence[int] = ()) -> list[int]:
    """1-based rank of each row when all rows are sorted by `scores` (best first), the
    `exclude` rows left out of the ranking; ties share the better rank."""
    scores = np.array(scores, dtype="float32")
    if len(exclude):
        scores[list(exclude)] = -np.inf
    ordered = np.sort(scores)
    # rank = 1 + number of rows scoring strictly higher
    return [int(len(ordered) - np.searchsorted(ordered, scores[r], side="right") + 1) for r in rows]
