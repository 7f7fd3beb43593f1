"""The first rows of a remote space as numpy arrays, fetched once and kept: what gensim holds in
memory (`vectors`, `get_normed_vectors()`) and what the facade scans locally (whole-table
searches, `evaluate_word_analogies`).

They come from the server's word2vec export (`GET /v1/spaces/{space}/export?format=word2vec&limit=N`),
one streamed request for any number of rows: the stored vectors at 7 significant digits
(float32's precision), most frequent first. A fetch above `WARN_ROWS` rows or `WARN_BYTES` bytes
of float32 warns first (a UserWarning), as it takes memory and time (GloVe's 400,000 x 50 is
80 MB and about a minute here). The arrays are read-only: they are the cache.
"""
from __future__ import annotations

import inspect
import logging
import warnings
from pathlib import Path

from wordspace_client import calls
from wordspace_client.optional import np

log = logging.getLogger(__name__)

WARN_ROWS = 1_000_000
WARN_BYTES = 100 * 2**20
_PACKAGE = str(Path(__file__).parent)


def _caller_level() -> int:
    """The `stacklevel` that points a warning at the first caller outside this package."""
    frame, level = inspect.currentframe().f_back, 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def fetch(space, rows: int, dimension: int) -> tuple[list[str], np.ndarray]:
    """The first `rows` keys and their stored vectors (float32), in one export request."""
    size = rows * dimension * 4
    if rows > WARN_ROWS or size > WARN_BYTES:
        warnings.warn(f"fetching {rows:,} vectors of space {space.name!r} ({size / 2**20:,.0f} MB of "
                      f"float32): this takes memory and time", stacklevel=_caller_level())
    text = space._run(calls.export(space.name, "word2vec", rows)).decode("utf-8")
    lines = text.split("\n")
    count, dim = (int(x) for x in lines[0].split())
    lines = lines[1:count + 1]
    if not lines:
        return [], np.zeros((0, dim), np.float32)
    # The numbers are the last `dim` fields, what precedes them is the key; when no key holds
    # a space (the count says so), that is the first field, which is quicker to split off.
    spaced_keys = text.count(" ") != count * dim + 1
    keys, numbers = zip(*(_split_key(line, dim) if spaced_keys else line.split(" ", 1) for line in lines))
    vectors = np.loadtxt(numbers, dtype=np.float32, ndmin=2, comments=None)
    log.debug("fetched %d rows of space %r", len(keys), space.name)
    return list(keys), vectors


def _split_key(line: str, dim: int) -> tuple[str, str]:
    key, *numbers = line.rsplit(" ", dim)
    return key, " ".join(numbers)


class Rows:
    """A growing prefix of the space's rows: asking for more rows than held fetches them all
    again once (one request beats many), asking for fewer slices what is held."""

    def __init__(self, space, size: int, dimension: int, on_fetch=None):
        self._space = space
        self._size = size
        self._dimension = dimension
        self._on_fetch = on_fetch  # told the keys fetched, to fill index_to_key and key_to_index
        self._keys: list[str] = []
        self._vectors = np.zeros((0, dimension), np.float32)
        self._norms = self._unit = None

    def _held(self, limit: int | None) -> int:
        n = self._size if limit is None else max(0, min(int(limit), self._size))
        if n > len(self._keys):
            keys, vectors = fetch(self._space, n, self._dimension)
            vectors.setflags(write=False)
            self._keys, self._vectors, self._norms, self._unit = keys, vectors, None, None
            if self._on_fetch:
                self._on_fetch(keys)
        return n

    def keys(self, limit: int | None = None) -> list[str]:
        n = self._held(limit)  # first: it may replace self._keys
        return self._keys[:n]

    def vectors(self, limit: int | None = None) -> np.ndarray:
        """The stored vectors of the first `limit` rows (all by default)."""
        n = self._held(limit)
        return self._vectors[:n]

    def norms(self, limit: int | None = None) -> np.ndarray:
        n = self._held(limit)
        if self._norms is None:
            self._norms = np.linalg.norm(self._vectors, axis=1)
            self._norms.setflags(write=False)
        return self._norms[:n]

    def unit(self, limit: int | None = None) -> np.ndarray:
        """The unit vectors of the first `limit` rows (a zero vector stays zero)."""
        n = len(self.norms(limit))
        if self._unit is None:
            self._unit = self._vectors / np.where(self._norms > 0, self._norms, 1)[:, None]
            self._unit.setflags(write=False)
        return self._unit[:n]


class TableArrays:
    """gensim's arrays for the KeyedVectors facade, which sets `self._rows` (a Rows)."""

    _rows: Rows

    @property
    def vectors(self) -> np.ndarray:
        """Every stored vector, rows as `index_to_key`: fetched once and kept (read-only). A
        table above WARN_ROWS rows or WARN_BYTES bytes warns before the fetch."""
        return self._rows.vectors()

    @property
    def norms(self) -> np.ndarray:
        """The length of every stored vector (fetched once, as `vectors`)."""
        return self._rows.norms()

    def get_normed_vectors(self) -> np.ndarray:
        """Every vector at unit length (fetched once, as `vectors`)."""
        return self._rows.unit()

    def _table(self, limit=None) -> tuple[list[str], np.ndarray]:
        """The first `limit` keys (all by default) and their unit vectors, fetched once."""
        return self._rows.keys(limit or None), self._rows.unit(limit or None)
