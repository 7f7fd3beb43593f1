"""A space's words in frequency order, a page at a time, optionally those with a prefix.

Rows are in the order of the source table, which for word2vec, GloVe and the task
vocabularies is frequency order, most frequent first. Prefix look-ups bisect a sorted copy of
the keys, made once per loaded space on first use (about 0.3 s for 400,000 keys).
"""
from __future__ import annotations

import bisect

import numpy as np

_LAST = "\U0010ffff"  # sorts after every character a key may hold


class PrefixIndex:
    """The keys sorted, with their rows, so the keys with a prefix are one bisect away."""

    def __init__(self, index_to_key: list[str]):
        order = sorted(range(len(index_to_key)), key=index_to_key.__getitem__)
        self.keys = [index_to_key[i] for i in order]
        self.rows = np.asarray(order, dtype="int64")

    def rows_with(self, prefix: str) -> np.ndarray:
        """Rows of the keys starting with `prefix` (case-sensitive), in row order."""
        lo = bisect.bisect_left(self.keys, prefix)
        hi = bisect.bisect_left(self.keys, prefix + _LAST, lo)
        return np.sort(self.rows[lo:hi])


def page(index_to_key: list[str], offset: int, limit: int, prefix: str = "",
         prefixes: PrefixIndex | None = None) -> tuple[int, list[str]]:
    """(total, words): the words from `offset`, at most `limit`, of all words or of those
    starting with `prefix` (which needs the space's PrefixIndex)."""
    if not prefix:
        return len(index_to_key), index_to_key[offset:offset + limit]
    rows = prefixes.rows_with(prefix)
    return len(rows), [index_to_key[r] for r in rows[offset:offset + limit]]
