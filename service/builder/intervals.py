"""95% intervals for the learning curve: a mean over seeds, and a paired difference.

With a handful of seeds the spread is estimated from the runs themselves, so the interval
uses Student's t with n - 1 degrees of freedom: mean ± t(0.975, n-1) · sd / √n. A paired
difference (the same training sample, shuffling and dropout seeds for both arms) is the
mean of the per-seed differences with the same interval; it is much narrower than the two
arms' intervals when the seeds move both arms together.
"""
from __future__ import annotations

import math

import numpy as np


def mean_interval(values) -> dict:
    """{"mean", "ci95": [low, high], "n"}; the interval is [mean, mean] for one value."""
    x = np.asarray(values, dtype="float64")
    n = len(x)
    if n == 0:
        raise ValueError("no values")
    mean = float(x.mean())
    half = 0.0
    if n > 1:
        from scipy import stats

        half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"mean": round(mean, 4), "ci95": [round(mean - half, 4), round(mean + half, 4)], "n": n}


def paired_difference(a: dict, b: dict) -> dict | None:
    """a - b over the seeds both have ({seed: value} each); None when they share none."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    return {**mean_interval([a[s] - b[s] for s in seeds]), "seeds": seeds}
