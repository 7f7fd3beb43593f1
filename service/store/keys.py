"""A space's keys with no Python object per key: one UTF-8 buffer, and numpy arrays.

Under gunicorn the spaces load in the master and the workers share its pages. A list of str
and a dict of str to int would hold an object per key and per row number, and each look-up
writes the reference count of the object it returns (the row's int, the neighbour's str):
the page holding it is then copied into the worker. A worker that had looked up a few
thousand words across the spaces held 20-25 MiB of such copies (docs/operations.md, "Memory
per worker"). Here a key is decoded from the buffer when asked for, into a str of the
worker's own, and a row is found by its key's hash in a sorted numpy array, so the shared
pages are only read.

Hashes are Python's str hashes (keyed once per process, so the same in the master and in its
forked workers; never written anywhere). A hash found is checked against the key itself, so
two keys with the same hash are told apart.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

_BLOCK = 4096  # keys decoded at a time when iterating
_hash = hash  # the keys' hash (tests give it collisions)


class Keys(Sequence):
    """The keys in row order. `keys[row]` is the key; `keys.rows` finds a key's row."""

    def __init__(self, data: bytes, starts: np.ndarray, ends: np.ndarray):
        self._data, self._starts, self._ends = data, starts, ends
        hashes = np.fromiter(map(_hash, self), dtype=np.int64, count=len(starts))
        self._order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[self._order]
        for a in (self._starts, self._ends, self._order, self._hashes):
            a.setflags(write=False)
        self.rows = KeyRows(self)

    @classmethod
    def from_lines(cls, data: bytes) -> "Keys":
        """The keys of keys.txt's bytes: each key followed by a line feed (bytes after the
        last line feed are no key).

        Raises:
            UnicodeDecodeError: the bytes are not UTF-8.
        """
        data.decode("utf-8")
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
        starts = np.concatenate([[0], ends + 1])[:len(ends)].astype(np.int64)
        return cls(data, starts, ends.astype(np.int64))

    @classmethod
    def from_list(cls, keys: Iterable[str]) -> "Keys":
        """The keys, in row order.

        Raises:
            ValueError: a key holds a line feed (Table.check_keys refuses such tables).
        """
        if isinstance(keys, Keys):
            return keys
        keys = list(keys)
        made = cls.from_lines("".join(f"{k}\n" for k in keys).encode("utf-8"))
        if len(made) != len(keys):
            raise ValueError(f"{len(made) - len(keys)} line feeds in the keys")
        return made

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError("key row out of range")
        return self._data[self._starts[row]:self._ends[row]].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        for first in range(0, len(self), _BLOCK):
            last = min(first + _BLOCK, len(self)) - 1
            yield from self._data[self._starts[first]:self._ends[last]].decode("utf-8").split("\n")

    def __contains__(self, key) -> bool:
        return key in self.rows

    def index(self, key, start: int = 0, stop: int | None = None) -> int:
        row = self.rows.get(key)
        if row is None or row < start or (stop is not None and row >= stop):
            raise ValueError(f"{key!r} is not a key")
        return row

    def __eq__(self, other) -> bool:
        if isinstance(other, Keys):
            return self._data == other._data
        return isinstance(other, (list, tuple)) and list(self) == list(other)

    __hash__ = None  # compared by value, like a list

    def __reduce__(self):
        # The hashes are this process's: another process hashes the keys again.
        return Keys.from_lines, (self.text(),)

    def __repr__(self) -> str:
        return f"Keys({len(self)} keys)"

    def text(self) -> bytes:
        """keys.txt's bytes: each key followed by a line feed."""
        return self._data if not len(self) else self._data[:self._ends[-1] + 1]

    def row_hashes(self) -> np.ndarray:
        """(rows,) int64: each key's hash, in row order."""
        hashes = np.empty_like(self._hashes)
        hashes[self._order] = self._hashes
        return hashes

    def non_ascii_rows(self) -> np.ndarray:
        """Rows of the keys holding a byte above 0x7F, in row order."""
        at = np.flatnonzero(np.frombuffer(self._data, dtype=np.uint8) >= 0x80)
        return np.unique(np.searchsorted(self._ends, at))

    def repeated(self) -> str | None:
        """A key that appears more than once, or None."""
        same = np.flatnonzero(self._hashes[1:] == self._hashes[:-1])
        seen: set[str] = set()
        for row in np.unique(self._order[np.concatenate([same, same + 1])]).tolist():
            if (key := self[row]) in seen:
                return key
            seen.add(key)
        return None

    def _row(self, key: str, default):
        h = _hash(key)
        at = int(np.searchsorted(self._hashes, h))
        while at < len(self._hashes) and self._hashes[at] == h:
            row = int(self._order[at])
            if self[row] == key:
                return row
            at += 1
        return default


class KeyRows(Mapping):
    """key -> row of a Keys, like the dict it replaces (`get`, `in`, `[]`, iteration)."""

    def __init__(self, keys: Keys):
        self._keys = keys

    def get(self, key, default=None):
        return self._keys._row(key, default) if isinstance(key, str) else default

    def __getitem__(self, key) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def many(self, words: Sequence[str]) -> np.ndarray:
        """(len(words),) int64: the row of each word, -1 where it is no key."""
        keys = self._keys
        wanted = np.fromiter(map(_hash, words), dtype=np.int64, count=len(words))
        at = np.minimum(np.searchsorted(keys._hashes, wanted), max(len(keys) - 1, 0))
        rows = np.full(len(words), -1, dtype=np.int64)
        if not len(keys):
            return rows
        hit = np.flatnonzero(keys._hashes[at] == wanted)
        for i in hit:  # the hash agrees: the key itself decides (another key, another try)
            row = int(keys._order[at[i]])
            rows[i] = row if keys[row] == words[i] else keys._row(words[i], -1)
        return rows
