"""A space's words in frequency order, a page at a time, optionally those with a prefix.

Rows are in the order of the source table, which for word2vec, GloVe and the task
vocabularies is frequency order, most frequent first. Prefix look-ups bisect the rows in the
keys' sorted order, made once per loaded space in gunicorn's master (about 0.3 s for 400,000
keys).
"""
from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from service.text import normal_form

_LAST = "\U0010ffff"  # sorts after every character a key may hold


class PrefixIndex:
    """The keys' rows in the keys' sorted order, so the keys with a prefix are one bisect away
    (the keys are read from the space's Keys as the bisect asks for them: no str per key is
    held, service/store/keys.py)."""

    def __init__(self, index_to_key: Sequence[str]):
        keys = list(index_to_key)  # decoded once, for the sort only
        self.rows = np.asarray(sorted(range(len(keys)), key=keys.__getitem__), dtype="int64")
        self.rows.setflags(write=False)
        self.keys = _InOrder(index_to_key, self.rows)

    def rows_with(self, prefix: str) -> np.ndarray:
        """Rows of the keys starting with `prefix` (case-sensitive), in row order."""
        lo = bisect.bisect_left(self.keys, prefix)
        hi = bisect.bisect_left(self.keys, prefix + _LAST, lo)
        return np.sort(self.rows[lo:hi])


class _InOrder(Sequence):
    """The keys in sorted order, each read when asked for."""

    def __init__(self, index_to_key: Sequence[str], rows: np.ndarray):
        self._keys, self._rows = index_to_key, rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: int) -> str:
        return self._keys[int(self._rows[i])]


def page(index_to_key: list[str], offset: int, limit: int, prefix: str = "",
         prefixes: PrefixIndex | None = None) -> tuple[int, list[str]]:
    """(total, words): the words from `offset`, at most `limit`, of all words or of those
    starting with `prefix` (which needs the space's PrefixIndex)."""
    if not prefix:
        return len(index_to_key), index_to_key[offset:offset + limit]
    rows = prefixes.rows_with(prefix)
    if normal_form(prefix) != prefix:  # typed in another Unicode normal form than NFC keys
        rows = np.union1d(rows, prefixes.rows_with(normal_form(prefix)))
    return len(rows), [index_to_key[r] for r in rows[offset:offset + limit]]
