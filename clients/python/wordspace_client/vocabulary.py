"""index_to_key and key_to_index of a remote space, fetched lazily: a page of words when an
index is first read, one look-up when a key is first asked for. Both are cached."""
from __future__ import annotations

from collections.abc import Mapping, Sequence


class IndexToKey(Sequence):
    """The space's words in row (frequency) order, read from the server a page at a time."""

    def __init__(self, space, size: int, page_size: int):
        self._space = space
        self._size = size
        self._page_size = page_size
        self._pages: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._size))]
        i = int(i)
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(f"index {i} out of range for {self._size} words")
        page = self._page(i // self._page_size)
        return page[i % self._page_size]

    def __iter__(self):
        for p in range((self._size + self._page_size - 1) // self._page_size):
            yield from self._page(p)

    def fill(self, keys: list[str]) -> None:
        """Hold the first len(keys) words, fetched with the vectors, so that both agree."""
        for p in range(0, len(keys), self._page_size):
            page = keys[p:p + self._page_size]
            if len(page) == self._page_size or p + len(page) == self._size:
                self._pages[p // self._page_size] = page

    def _page(self, p: int) -> list[str]:
        if p not in self._pages:
            self._pages[p] = self._space.words(offset=p * self._page_size,
                                               limit=self._page_size).words
        return self._pages[p]

    def __repr__(self) -> str:
        return f"<{self._size} keys of space {self._space.name!r}, fetched lazily>"


class KeyToIndex(Mapping):
    """word -> row, exact keys as in gensim (no lower-case fallback), asked for on first use."""

    def __init__(self, space, index_to_key: IndexToKey):
        self._space = space
        self._index_to_key = index_to_key
        self._known: dict[str, int | None] = {}

    def lookup(self, keys) -> dict[str, int]:
        """Rows of the keys the space has exactly, in one batch for those not cached yet."""
        todo = [k for k in dict.fromkeys(keys) if isinstance(k, str) and k not in self._known]
        if todo:
            for v in self._space.vectors(todo):
                self._known[v.word] = v.index if v.found and v.key == v.word else None
        return {k: self._known[k] for k in keys if isinstance(k, str) and self._known.get(k) is not None}

    def fill(self, keys: list[str]) -> None:
        """Hold the rows of the first len(keys) words, fetched with the vectors."""
        self._known.update((k, i) for i, k in enumerate(keys))

    def __getitem__(self, key: str) -> int:
        found = self.lookup([key])
        if key not in found:
            raise KeyError(key)
        return found[key]

    def __contains__(self, key) -> bool:
        return key in self.lookup([key])

    def __len__(self) -> int:
        return len(self._index_to_key)

    def __iter__(self):
        return iter(self._index_to_key)

    def __repr__(self) -> str:
        return f"<key_to_index of space {self._space.name!r}, looked up lazily>"
