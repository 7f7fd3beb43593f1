"""95% intervals of the verdict's scores: a Spearman correlation (Fisher's z with Fieller,
Hartley and Pearson's variance 1.06/(n-3)), a proportion (Wilson), and the difference of two
Spearman correlations that share one variable, the human scores, over the same pairs (Zou
2007: "Toward using confidence intervals to compare correlations", Psychological Methods
12(4), 399-413, the closed form for overlapping dependent correlations). The last takes
microseconds where a bootstrap takes seconds; tests/test_analysis_verdict.py checks it
against a paired bootstrap.
"""
from __future__ import annotations

import math

Z95 = 1.959964


def spearman_interval(rho: float | None, n: int) -> tuple[float | None, float | None]:
    """95% interval of a Spearman correlation over `n` pairs (Fieller, Hartley and Pearson
    1957)."""
    if rho is None or n <= 3:
        return None, None
    z, se = math.atanh(max(min(rho, 0.999999), -0.999999)), math.sqrt(1.06 / (n - 3))
    return math.tanh(z - Z95 * se), math.tanh(z + Z95 * se)


def wilson_interval(p: float, n: int) -> tuple[float | None, float | None]:
    """95% Wilson score interval of a proportion `p` over `n` trials."""
    if n <= 0:
        return None, None
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def difference_interval(r1: float, r2: float, r12: float, n: int) -> tuple[float, float]:
    """95% interval of r1 - r2, where r1 = ρ(human, a) and r2 = ρ(human, b) are over the same
    `n` pairs and r12 = ρ(a, b) (Zou 2007, overlapping correlations: each correlation's own
    interval, combined with the correlation between the two estimates)."""
    l1, u1 = spearman_interval(r1, n)
    l2, u2 = spearman_interval(r2, n)
    if l1 is None:
        raise ValueError(f"a difference of correlations needs more than 3 pairs, got {n}")
    clip = lambda r: max(min(r, 0.999999), -0.999999)  # noqa: E731
    r1, r2, r12 = clip(r1), clip(r2), clip(r12)
    c = ((r12 - 0.5 * r1 * r2) * (1 - r1 ** 2 - r2 ** 2 - r12 ** 2) + r12 ** 3) / (
        (1 - r1 ** 2) * (1 - r2 ** 2))
    low = r1 - r2 - math.sqrt(max((r1 - l1) ** 2 + (u2 - r2) ** 2 - 2 * c * (r1 - l1) * (u2 - r2), 0.0))
    high = r1 - r2 + math.sqrt(max((u1 - r1) ** 2 + (r2 - l2) ** 2 - 2 * c * (u1 - r1) * (r2 - l2), 0.0))
    return low, high
