"""The client's optional dependencies, imported here once with an error that says what to
install: numpy for the KeyedVectors facade (the `numpy` extra), scipy for the correlations of
`evaluate_word_pairs` (the `evaluate` extra). The rest of the client needs httpx only.
"""
from __future__ import annotations

NUMPY_HINT = "pip install 'wordspace-client[numpy]'"
SCIPY_HINT = "pip install 'wordspace-client[evaluate]'"

try:
    import numpy as np
except ImportError as e:
    raise ModuleNotFoundError(f"the KeyedVectors facade needs numpy, which is not installed: {NUMPY_HINT}",
                              name="numpy") from e


def scipy_stats():
    """scipy.stats, for the correlations gensim reports (gensim uses the same functions)."""
    try:
        from scipy import stats
    except ImportError as e:
        raise ModuleNotFoundError(f"evaluate_word_pairs needs scipy, which is not installed: {SCIPY_HINT}",
                                  name="scipy") from e
    return stats


__all__ = ["np", "scipy_stats", "NUMPY_HINT", "SCIPY_HINT"]
