"""numpy files as tables: a .npy matrix with a vocabulary file (one word per line, in row
order), or a .npz holding the matrix and, optionally, its words (`np.savez(f, vectors=...,
words=...)`). Read with numpy's own loader, pickles refused (allow_pickle=False)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from service.errors import InputError, MissingInput
from service.store.tables import Table

_HINT = "give its words with --vocab FILE (spec key vocab), one word per line in row order"


def read_words(path: str | Path) -> list[str]:
    """One word per line (the line break stripped, nothing else).

    Raises:
        MissingInput: no such file.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingInput(f"{path}: no such vocabulary file")
    return path.read_text(encoding="utf-8").splitlines()


def read_numpy(path: Path, *, vocab: str | Path | None = None) -> Table:
    """The matrix of a .npy or .npz file and its words.

    Raises:
        InputError: not a numpy file, no 2-D numeric matrix (or several in a .npz), no words,
            or as many words as rows not given.
    """
    words = read_words(vocab) if vocab is not None else None
    try:
        loaded = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(f"{path}: not a numpy .npy or .npz file ({e})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            vectors, words = _from_npz(path, loaded, words)
    else:
        vectors = loaded
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.number):
        raise InputError(f"{path}: holds a {vectors.dtype} array of shape {vectors.shape}; "
                         "expected a 2-D matrix, one row per word")
    if words is None:
        raise InputError(f"{path}: a matrix of {vectors.shape[0]} rows without its words; {_HINT}")
    if len(words) != vectors.shape[0]:
        raise InputError(f"{path}: {vectors.shape[0]} rows but {len(words)} words "
                         f"{'in ' + str(vocab) if vocab else 'in the file'}; one word per row")
    return Table(words, vectors, {"format": "numpy"})


def _from_npz(path: Path, npz, words: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    try:
        arrays = {name: npz[name] for name in npz.files}
    except ValueError as e:  # an object array, which would need a pickle
        raise InputError(f"{path}: holds an array numpy reads only as a pickle ({e}); store the "
                         "words as strings (np.array(words, dtype=str))") from None
    matrices = [n for n, a in arrays.items() if a.ndim == 2 and np.issubdtype(a.dtype, np.number)]
    texts = [n for n, a in arrays.items() if a.ndim == 1 and a.dtype.kind in "US"]
    if len(matrices) != 1:
        raise InputError(f"{path}: expected one 2-D matrix, found {len(matrices)} "
                         f"({', '.join(matrices) or 'none'}) among {', '.join(arrays)}")
    if words is None and len(texts) == 1:
        found = arrays[texts[0]]
        words = [w.decode("utf-8") if isinstance(w, bytes) else str(w) for w in found]
    elif words is None and texts:
        raise InputError(f"{path}: several arrays of words ({', '.join(texts)}); keep one, or {_HINT}")
    return np.asarray(arrays[matrices[0]]), words
