"""A loaded space: keys, normalised vectors and a FAISS index, answering word queries.

Results are small dataclasses; JSON is made in service/web/spaces.py. Arrays are read-only and
memory-mapped, so gunicorn workers share their pages.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from service.errors import BadIndex, InvalidRequest, UnknownWord, shorten
from service.store import catalog
from service.store import index as ix
from service.store import topk as tk
from service.store.embed import EMBED_FILE, check_embed_config
from service.store.kinds import kind_of
from service.store.suggest import Suggester
from service.store.tables import Table


log = logging.getLogger(__name__)

# Scores computed at once in an exact scan: queries x allowed rows (64 MiB of float32).
_SCAN_CELLS = 16 * 1024 * 1024


@dataclass(slots=True)  # not frozen: a frozen dataclass costs twice as much to make, and
class Neighbor:          # a batch answer makes 10,000 of them
    word: str
    score: float
    rank: int


Hits = tuple[list[str], list[float]]  # keys and their cosines, best first


def as_neighbors(hits: Hits) -> list[Neighbor]:
    return [Neighbor(w, d, r) for r, (w, d) in enumerate(zip(*hits), 1)]


def as_hits(found: list[Neighbor]) -> Hits:
    return [n.word for n in found], [n.score for n in found]


class Space:
    """Keys, unit vectors with their norms, and a faiss index over the unit vectors.

    `Space.load` maps a published space from the catalog; `Space.from_table` wraps a table
    not yet published (the build scores it before writing it) with an exact in-memory index,
    so the analyses read both the same way."""

    def __init__(self, name: str, index_to_key: list[str], vectors: np.ndarray,
                 norms: np.ndarray, index, manifest: dict, folder: Path | None = None,
                 embed_config: dict | None = None, topk: tk.TopK | None = None):
        self.name = name
        self.folder = folder
        self.manifest = manifest
        self.index_to_key = index_to_key
        self.key_to_index = {k: i for i, k in enumerate(index_to_key)}
        self.vectors, self.norms, self.index = vectors, norms, index
        # A task space's sentence-vector settings (service/store/embed.py), read once.
        self.embed_config = embed_config
        self.topk = topk  # exact neighbours of the most frequent words (service/store/topk.py)
        self.observe_search = None  # set by service/web/metrics.py: called with seconds per search
        self._suggester: Suggester | None = None
        self._suggester_lock = threading.Lock()

    @classmethod
    def load(cls, catalog_dir: Path, name: str, full_checksums: bool = False) -> "Space":
        """Verify checksums (sampled for very large files unless full_checksums), then map
        the files.

        Raises:
            BadIndex: naming the missing or corrupt file.
        """
        return cls.load_folder(name, catalog.space_folder(catalog_dir, name), full_checksums)

    @classmethod
    def load_folder(cls, name: str, folder: Path, full_checksums: bool = False) -> "Space":
        """Verify and map one version folder of space `name` (Raises: BadIndex)."""
        started = time.perf_counter()
        manifest = catalog.verify(folder, full=full_checksums)
        space = cls.open(name, folder, manifest)
        space.suggester()  # built before gunicorn forks, so the workers share it
        log.info("loaded space %s from %s: %d rows in %.2fs", name, folder, len(space),
                 time.perf_counter() - started)
        return space

    @classmethod
    def open(cls, name: str, folder: Path, manifest: dict) -> "Space":
        """Map the files of a verified space folder and check them against the manifest.

        Raises:
            BadIndex: naming the file that disagrees with the manifest.
        """
        try:
            index_to_key = (folder / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
        except UnicodeDecodeError as e:
            raise BadIndex(folder / "keys.txt", f"not UTF-8 text ({e})") from None
        vectors = _load_npy(folder / "vectors.npy", ndim=2)
        norms = _load_npy(folder / "norms.npy", ndim=1)
        try:
            index = ix.read(str(folder / "index.faiss"))
            ix.set_params(index, manifest.get("search_params") or {})
        except RuntimeError as e:
            raise BadIndex(folder / "index.faiss", f"faiss cannot read it ({_last_line(e)})") from None
        rows, dimension = manifest["rows"], manifest["dimension"]
        for what, n in (("keys.txt", len(index_to_key)), ("vectors.npy", len(vectors)),
                        ("norms.npy", len(norms)), ("index.faiss", index.ntotal)):
            if n != rows:
                raise BadIndex(folder / what, f"{n} rows, manifest says {rows}")
        for what, d in (("vectors.npy", vectors.shape[1]), ("index.faiss", index.d)):
            if d != dimension:
                raise BadIndex(folder / what, f"dimension {d}, manifest says {dimension}")
        documents = _json_files(folder, manifest)
        embed_config = documents.get(EMBED_FILE)
        if embed_config is not None:
            try:
                check_embed_config(embed_config, EMBED_FILE, dimension)
            except ValueError as e:
                raise BadIndex(folder / EMBED_FILE, str(e)) from None
        space = cls(name, index_to_key, vectors, norms, index, manifest, folder, embed_config,
                    _load_topk(folder, manifest))
        if len(space.key_to_index) != len(index_to_key):
            seen = set()
            repeated = next(k for k in index_to_key if k in seen or seen.add(k))
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
        """Row of `word`: the exact key first, then the lower-cased key."""
        row = self.key_to_index.get(word)
        if row is None:
            row = self.key_to_index.get(word.lower())
        return row

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

    def suggest(self, word: str) -> list[str]:
        """Up to 5 keys spelled like `word`, closest first (bounded work per word)."""
        return self.suggester().suggest(word)

    def raw_vector(self, row: int) -> np.ndarray:
        return self.vectors[row] * self.norms[row]

    def search(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None) -> list[list[Neighbor]]:
        """k nearest keys for each query row (unit vectors), leaving out excluded rows."""
        return [as_neighbors(h) for h in self.search_hits(xq, k, exclude)]

    def search_hits(self, xq: np.ndarray, k: int, exclude: list[set[int]] | None = None) -> list[Hits]:
        """`search` as (keys, scores) per query: what the HTTP layer writes out, without an
        object per neighbour (a 1,000-word batch makes 10,000)."""
        xq = np.ascontiguousarray(xq, dtype="float32")
        extra = max((len(e) for e in exclude), default=0) if exclude else 0
        ix.single_thread()
        started = time.perf_counter()
        D, I = self.index.search(xq, min(k + extra, len(self)))
        if self.observe_search:
            self.observe_search(time.perf_counter() - started)
        keys, results = self.index_to_key, []
        for ids, scores, skip in zip(I.tolist(), D.tolist(), exclude or repeat(())):
            if skip or (ids and ids[-1] < 0):  # faiss pads with -1 when it finds fewer
                kept = [(i, d) for i, d in zip(ids, scores) if i >= 0 and i not in skip][:k]
                ids, scores = [i for i, _ in kept], [d for _, d in kept]
            results.append(([keys[i] for i in ids[:k]], scores[:k]))
        return results

    def neighbors(self, rows: list[int], k: int, allowed: np.ndarray | None = None) -> list[list[Neighbor]]:
        """The k nearest words of each row, the row itself left out; among the `allowed` rows
        only (an exact scan) if given. Otherwise from the stored exact table for frequent words
        (when k fits), from the index for the others."""
        return [as_neighbors(h) for h in self.neighbor_hits(rows, k, allowed)]

    def neighbor_hits(self, rows: list[int], k: int, allowed: np.ndarray | None = None) -> list[Hits]:
        """`neighbors` as (keys, scores) per row."""
        if allowed is not None:
            return [as_hits(found) for found in self.scan(self.vectors[rows], k, allowed,
                                                          [{r} for r in rows])]
        topk = self.topk
        covered = [row for row in rows if topk is not None and topk.covers(row, k)]
        if not covered:
            return self.search_hits(self.vectors[rows], k, exclude=[{r} for r in rows])
        keys, results, rest = self.index_to_key, [], []
        stored = iter(zip(*topk.get(covered, k)))
        for row in rows:
            if topk.covers(row, k):
                ids, scores = next(stored)
                results.append(([keys[i] for i in ids], scores))
            else:
                results.append(None)
                rest.append(row)
        if rest:
            found = iter(self.search_hits(self.vectors[rest], k, exclude=[{r} for r in rest]))
            results = [r if r is not None else next(found) for r in results]
        return results

    def scan(self, xq: np.ndarray, k: int, allowed: np.ndarray,
             exclude: list[set[int]] | None = None) -> list[list[Neighbor]]:
        """Exact search among the `allowed` rows (sorted): the k highest cosines to each unit
        query, best first, ties in row order; `exclude[q]` rows are left out for query q.
        What restrict_vocab and candidates use, so those answers are exactly gensim's."""
        xq = np.ascontiguousarray(xq, dtype="float32")
        if len(allowed) == 0:
            return [[] for _ in xq]
        contiguous = allowed[-1] - allowed[0] + 1 == len(allowed)
        base = np.asarray(self.vectors[allowed[0]:allowed[-1] + 1] if contiguous else self.vectors[allowed])
        step = max(1, _SCAN_CELLS // len(allowed))
        results = []
        for start in range(0, len(xq), step):
            for q, scores in enumerate(xq[start:start + step] @ base.T, start):
                skip = exclude[q] if exclude else set()
                take = min(k + len(skip), len(allowed))
                top = np.argpartition(-scores, take - 1)[:take] if take < len(allowed) else np.arange(take)
                top = top[np.lexsort((top, -scores[top]))]
                hits = [(int(allowed[i]), float(scores[i])) for i in top if int(allowed[i]) not in skip][:k]
                results.append([Neighbor(self.index_to_key[r], s, n) for n, (r, s) in enumerate(hits, 1)])
        return results

    def check_vectors(self, vectors) -> np.ndarray:
        """Coerce query vectors once, at the boundary, and normalise them.

        Raises:
            InvalidRequest: wrong dimension, not numbers, zero or non-finite vectors.
        """
        try:
            xq = np.asarray(vectors, dtype="float32")
        except (TypeError, ValueError):
            raise InvalidRequest("'vectors' must be a list of lists of numbers") from None
        if xq.ndim != 2 or xq.shape[1] != self.vector_size:
            got = xq.shape[1] if xq.ndim == 2 else "ragged or flat"
            raise InvalidRequest(f"vectors must have dimension {self.vector_size} for space "
                                 f"'{self.name}'; got {got}")
        if not np.isfinite(xq).all():
            raise InvalidRequest("vectors must be finite numbers")
        unit, norms = ix.normalize(xq)
        if (norms == 0).any():
            raise InvalidRequest("a zero vector has no direction to search from")
        return unit

    def analogy(self, positive: list[int], negative: list[int], k: int, method: str,
                allowed: np.ndarray | None = None) -> list[Neighbor]:
        """Levy and Goldberg (2014): 3CosAdd searches the index with the normalised
        sum; 3CosMul scores every row with cosines shifted to [0, 1]. With `allowed`, only
        those rows can answer (searched exactly)."""
        exclude = set(positive) | set(negative)
        if method == "3cosadd":
            query = self.vectors[positive].sum(axis=0) - self.vectors[negative].sum(axis=0)
            norm = np.linalg.norm(query)
            if norm == 0:
                raise InvalidRequest("the positive and negative words cancel out")
            if allowed is not None:
                return self.scan((query / norm)[None, :], k, allowed, exclude=[exclude])[0]
            return self.search((query / norm)[None, :], k, exclude=[exclude])[0]
        eps = 1e-3
        score = np.ones(len(self), dtype="float32")
        for row in positive:
            score *= (self.vectors @ self.vectors[row] + 1) / 2
        for row in negative:
            score /= (self.vectors @ self.vectors[row] + 1) / 2 + eps
        score[list(exclude)] = -np.inf
        if allowed is not None:
            outside = np.ones(len(self), dtype=bool)
            outside[allowed] = False
            score[outside] = -np.inf
        top = np.argpartition(-score, min(k, len(score) - 1))[:k]
        top = top[np.argsort(-score[top])]
        return [Neighbor(self.index_to_key[i], float(score[i]), r)
                for r, i in enumerate(top, 1) if np.isfinite(score[i])]

    def similarity(self, a: int, b: int) -> float:
        return float(self.vectors[a] @ self.vectors[b])

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


def _load_topk(folder: Path, manifest: dict) -> tk.TopK | None:
    """The stored exact neighbours of the frequent words, when the space has them.

    Raises:
        BadIndex: a file missing, unreadable or of another shape than the manifest says.
    """
    entry = manifest.get("topk")
    if not entry:
        return None
    ids = _load_npy(folder / tk.IDS, ndim=2, dtype=np.int32)
    scores = _load_npy(folder / tk.SCORES, ndim=2)
    shape = (entry["rows"], entry["k"])
    for path, arr in ((tk.IDS, ids), (tk.SCORES, scores)):
        if arr.shape != shape:
            raise BadIndex(folder / path, f"shape {arr.shape}, manifest says {shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= manifest["rows"]):
        raise BadIndex(folder / tk.IDS, "row numbers outside the space")
    return tk.TopK(ids, scores)


def _load_npy(path: Path, ndim: int, dtype=np.float32) -> np.ndarray:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise BadIndex(path, f"unreadable ({e})") from None
    if arr.dtype != dtype or arr.ndim != ndim:
        raise BadIndex(path, f"{arr.dtype} array of {arr.ndim} dimensions; expected "
                             f"{np.dtype(dtype).name} with {ndim}")
    return arr


def _last_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[-1] if lines else type(e).__name__


def _json_files(folder: Path, manifest: dict) -> dict[str, dict]:
    """Every JSON file the space carries besides its manifest (embed.json, evaluation.json),
    parsed now so that a bad one refuses the space at load, not a request later.

    Raises:
        BadIndex: naming a file that is not a JSON object.
    """
    found = {}
    for fname in manifest.get("files") or {}:
        if not fname.endswith(".json") or fname == catalog.MANIFEST:
            continue
        path = folder / fname
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BadIndex(path, f"not valid JSON ({e})") from None
        if not isinstance(data, dict):
            raise BadIndex(path, f"holds a JSON {type(data).__name__}, not an object")
        found[fname] = data
    if (folder / EMBED_FILE).is_file() and EMBED_FILE not in found:
        raise BadIndex(folder / EMBED_FILE, "not listed in the manifest")
    return found
