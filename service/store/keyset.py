"""Which keys two spaces share, found without touching each key's Python object.

Under gunicorn the spaces' keys are str objects made in the master before the fork, and the
workers share their pages; whatever takes a reference to a key (a set of the keys, a dict
lookup's result) writes its reference count and so copies the page into the worker, and a
worker comparing every pair of spaces ended up with a private copy of every key. So a space
also keeps its keys as one numpy array of 128-bit hashes, made in the master when the space
loads, and two spaces' shared keys are an intersection of those arrays.

Each hash is two of Python's str hashes (SipHash, keyed once per process, so the same in the
master and in its forked workers; never written anywhere): of the key, and of the key with a
NUL appended. Two different keys agree on both with a probability of about 2**-128.
"""
from __future__ import annotations

import numpy as np

from service.store.keys import Keys


def key_hashes(keys: Keys) -> np.ndarray:
    """(rows,) read-only 16-byte hashes of the keys, in row order (the first half is the hash
    the Keys already hold)."""
    n = len(keys)
    pairs = np.empty((n, 2), dtype="int64")
    pairs[:, 0] = keys.row_hashes()
    pairs[:, 1] = np.fromiter((hash(k + "\0") for k in keys), dtype="int64", count=n)
    hashes = pairs.view("S16").reshape(n)
    hashes.setflags(write=False)
    return hashes


def shared_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows in `a` and in `b` (two spaces' key_hashes) of the keys both have, in a's row order."""
    _, rows_a, rows_b = np.intersect1d(a, b, assume_unique=True, return_indices=True)
    order = np.argsort(rows_a, kind="stable")
    return rows_a[order], rows_b[order]
