"""The client's optional dependencies, imported here once with an error that says what to
install: numpy for the KeyedVectors facade (the `numpy` extra), scipy for the correlations of
`evaluate_word_pairs` (the `evaluate` extra), gensim for `vectors_for_all`, which returns gensim's
own KeyedVectors (the `gensim` extra). The rest of the client needs httpx only.
"""
from __future__ import annotations

NUMPY_HINT = "pip install 'wordspace-client[numpy]'"
SCIPY_HINT = "pip install 'wordspace-client[evaluate]'"
GENSIM_HINT = "pip install 'wordspace-client[gensim]'"

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


def gensim_keyed_vectors():
    """gensim's own KeyedVectors class, which `vectors_for_all` returns a copy in."""
    try:
        from gensim.models import KeyedVectors
    except ImportError as e:
        raise ModuleNotFoundError("vectors_for_all returns gensim's own KeyedVectors and needs gensim, "
                                  f"which is not installed: {GENSIM_HINT}", name="gensim") from e
    return KeyedVectors


__all__ = ["np", "scipy_stats", "gensim_keyed_vectors", "NUMPY_HINT", "SCIPY_HINT", "GENSIM_HINT"]
