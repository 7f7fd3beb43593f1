"""A loaded space: keys, normalised vectors and a FAISS index, answering word queries.

Here: loading, lookup and spelling suggestions, query vectors, similarity, description.
Reading and checking the files: service/store/folder.py; neighbours, scans and analogies are
handed to the space's `searcher` (service/store/search.py), as gensim hands `most_similar` to
an indexer. Results are `Neighbor` dataclasses; JSON is made in service/web/spaces.py. Arrays
are read-only and memory-mapped, so gunicorn workers share their pages.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from service.errors import BadIndex, InvalidRequest, UnknownWord, shorten
from service.store import catalog
from service.store import index as ix
from service.store import topk as tk
from service.store.folder import read_folder
from service.store.keys import Keys
from service.store.keyset import key_hashes
from service.store.kinds import kind_of
from service.store.search import Neighbor, Searcher
from service.store.suggest import Suggester
from service.store.tables import Table
from service.text import normal_form

log = logging.getLogger(__name__)


class Space:
    """Keys, unit vectors with their norms, and a faiss index over the unit vectors.

    `Space.load` maps a published space from the catalog; `Space.from_table` wraps a table
    not yet published (the build scores it before writing it) with an exact in-memory index,
    so the analyses read both the same way."""

    def __init__(self, name: str, index_to_key: list[str], vectors: np.ndarray,
                 norms: np.ndarray, index, manifest: dict, folder: Path | None = None,
                 embed_config: dict | None = None, topk: tk.TopK | None = None,
                 observe_search: Callable[[float], None] | None = None):
        self.name = name
        self.folder = folder
        self.manifest = manifest
        # No Python object per key (service/store/keys.py): what keeps a worker's look-ups
        # from copying the master's pages.
        self.index_to_key = Keys.from_list(index_to_key)
        self.key_to_index = self.index_to_key.rows
        # Keys not in the normal form queries are compared in (service/text.py), by their
        # normal form; usually none (ASCII keys are in every form).
        self.normal_to_index: dict[str, int] = {}
        for i in self.index_to_key.non_ascii_rows().tolist():
            if (n := normal_form(k := self.index_to_key[i])) != k:
                self.normal_to_index.setdefault(n, i)
        self.vectors, self.norms, self.index = vectors, norms, index
        # A task space's sentence-vector settings (service/store/embed.py), read once.
        self.embed_config = embed_config
        self.topk = topk  # exact neighbours of the most frequent words (service/store/topk.py)
        # Nearest neighbours and analogies; observe_search is told the seconds of each index
        # search (the metrics).
        self.searcher = Searcher(vectors, self.index_to_key, index, topk, observe_search)
        self._suggester: Suggester | None = None
        self._suggester_lock = threading.Lock()
        self._key_hashes: np.ndarray | None = None

    @classmethod
    def load(cls, catalog_dir: Path, name: str, full_checksums: bool = False,
             observe_search: Callable[[float], None] | None = None) -> "Space":
        """Verify checksums (sampled for very large files unless full_checksums), then map
        the files; `observe_search` is told the seconds of each index search.

        Raises:
            BadIndex: naming the missing or corrupt file.
        """
        return cls.load_folder(name, catalog.space_folder(catalog_dir, name), full_checksums,
                               observe_search)

    @classmethod
    def load_folder(cls, name: str, folder: Path, full_checksums: bool = False,
                    observe_search: Callable[[float], None] | None = None) -> "Space":
        """Verify and map one version folder of space `name` (Raises: BadIndex)."""
        started = time.perf_counter()
        manifest = catalog.verify(folder, full=full_checksums)
        space = cls.open(name, folder, manifest, observe_search)
        space.suggester()  # built before gunicorn forks, so the workers share it
        space.key_hashes()  # likewise (service/store/keyset.py)
        log.info("loaded space %s from %s: %d rows in %.2fs", name, folder, len(space),
                 time.perf_counter() - started)
        return space

    @classmethod
    def open(cls, name: str, folder: Path, manifest: dict,
             observe_search: Callable[[float], None] | None = None) -> "Space":
        """Map the files of a verified space folder and check them against the manifest
        (service/store/folder.py).

        Raises:
            BadIndex: naming the file that disagrees with the manifest.
        """
        space = cls(name, manifest=manifest, folder=folder, observe_search=observe_search,
                    **read_folder(folder, manifest))
        repeated = space.index_to_key.repeated()
        if repeated is not None:
            raise BadIndex(folder / "keys.txt", f"the key {shorten(repeated)!r} appears twice")
        return space

    @classmethod
    def from_table(cls, table: Table, name: str = "table",
                   embed_config: dict | None = None) -> "Space":
        """A table as it will be published (the same unit vectors and norms), with an exact
        index in memory; `embed_config` is the embed.json a task space will carry."""
        unit, norms = ix.normalize(table.vectors)
        return cls(name, list(table.index_to_key), unit, norms, ix.build(unit, "Flat"),
                   {"rows": len(unit), "dimension": int(unit.shape[1]), "details": table.details},
                   embed_config=embed_config)

    def table(self) -> Table:
        """The raw vectors (unit vector times norm) as a Table, e.g. to train from."""
        return Table(list(self.index_to_key), self.vectors * self.norms[:, None],
                     dict(self.manifest.get("details", {})))

    def __len__(self) -> int:
        return len(self.index_to_key)

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def find(self, word: str) -> int | None:
        """Row of `word`: the exact key first, then the lower-cased key; each also compared in
        one Unicode normal form (NFC, service/text.py), so a word typed in another form
        ("e" + U+0301 for "é") finds the key that looks the same."""
        for w in (word, word.lower()):
            row = self.key_to_index.get(w)
            if row is not None:
                return row
        if word.isascii():
            return None
        n = normal_form(word)
        for w in (n, n.lower()):
            row = self.key_to_index.get(w, self.normal_to_index.get(w))
            if row is not None:
                return row
        return None

    def lookup(self, word: str) -> int:
        """Raises: UnknownWord, with the closest spellings present."""
        row = self.find(word)
        if row is None:
            raise UnknownWord(
                f"'{word}' is not in space '{self.name}'",
                word=word, space=self.name, suggestions=self.suggest(word),
            )
        return row

    def suggester(self) -> Suggester:
        """The space's spelling index (service/store/suggest.py), built once."""
        with self._suggester_lock:
            if self._suggester is None:
                self._suggester = Suggester(self.index_to_key)
            return self._suggester

    def key_hashes(self) -> np.ndarray:
        """The keys' 128-bit hashes (service/store/keyset.py), made once: what finds the keys
        two spaces share without touching the keys themselves."""
        with self._suggester_lock:
            if self._key_hashes is None:
                self._key_hashes = key_hashes(self.index_to_key)
            return self._key_hashes

    def suggest(self, word: str) -> list[str]:
        """Up to 5 keys spelled like `word`, closest first (bounded work per word)."""
        return self.suggester().suggest(word)

    def raw_vector(self, row: int) -> np.ndarray:
        return self.vectors[row] * self.norms[row]

    def check_vectors(self, vectors) -> np.ndarray:
        """Coerce query vectors once, at the boundary, and normalise them.

        Raises:
            InvalidRequest: wrong dimension, not numbers, zero or non-finite vectors.
        """
        try:
            xq = np.asarray(vectors, dtype="float64")
        except (TypeError, ValueError):
            raise InvalidRequest("'vectors' must be a list of lists of numbers") from None
        except OverflowError:  # an integer of more digits than float64 holds
            raise InvalidRequest(f"vectors must be finite numbers, at most "
                                 f"{np.finfo('float64').max:.4g} in magnitude") from None
        if xq.ndim != 2 or xq.shape[1] != self.vector_size:
            got = xq.shape[1] if xq.ndim == 2 else "ragged or flat"
            raise InvalidRequest(f"vectors must have dimension {self.vector_size} for space "
                                 f"'{self.name}'; got {got}")
        if not np.isfinite(xq).all():
            raise InvalidRequest("vectors must be finite numbers")
        return unit_vectors(xq)

    def similarity(self, a: int, b: int) -> float:
        """Cosine of two rows; a row with itself is exactly 1.0 (0.0 for a zero vector), as
        gensim's `similarity(w, w)` is, not the rounded dot of a stored unit vector."""
        if a == b:
            return 1.0 if self.norms[a] > 0 else 0.0
        return float(self.vectors[a] @ self.vectors[b])

    def search(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None,
               allowed: np.ndarray | None = None) -> list[list[Neighbor]]:
        """The k nearest keys of each unit query row: `Searcher.search`."""
        return self.searcher.search(xq, k, exclude, allowed)

    def neighbors(self, rows: list[int], k: int, allowed: np.ndarray | None = None) -> list[list[Neighbor]]:
        """The k nearest words of each row, the row left out: `Searcher.neighbors`."""
        return self.searcher.neighbors(rows, k, allowed)

    def analogy(self, positive: list[int], negative: list[int], k: int, method: str,
                allowed: np.ndarray | None = None) -> list[Neighbor]:
        """3CosAdd or 3CosMul answers: `Searcher.analogy`."""
        return self.searcher.analogy(positive, negative, k, method, allowed)

    def rank(self, a: int, b: int) -> int:
        """gensim's rank(a, b): `Searcher.rank` (so rank(a, a) is 1)."""
        return self.searcher.rank(a, b)

    def describe(self) -> dict:
        m = self.manifest
        return {
            "name": self.name,
            "kind": kind_of(m.get("details", {}), m["source"]),
            "source": m["source"],
            "dimension": m["dimension"],
            "size": m["rows"],
            "factory": m["factory"],
            "metric": m["metric"],
            "exact": m["exact"],
            "search_params": m.get("search_params", {}),
            "recall_at_10": m.get("recall_at_10"),
            "built_at": m.get("built_at"),
            "details": m.get("details", {}),
        }


def unit_vectors(xq: np.ndarray) -> np.ndarray:
    """Finite float64 rows as float32 unit vectors, whatever their scale: each row is divided
    by its largest component first, so its norm can neither overflow (1e200 squared) nor
    underflow (1e-200 squared) to a zero that would hide the direction.

    Raises:
        InvalidRequest: a zero vector.
    """
    largest = np.abs(xq).max(axis=1, keepdims=True)
    if (largest == 0).any():
        raise InvalidRequest("a zero vector has no direction to search from")
    scaled = xq / largest
    return np.ascontiguousarray(scaled / np.linalg.norm(scaled, axis=1, keepdims=True),
                                dtype="float32")
