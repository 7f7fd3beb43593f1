"""A space written out for other tools: the TensorFlow Embedding Projector's two TSV files in
a zip, or word2vec's text format. Both are produced in chunks, so the web layer streams them
and `wordspace export` writes them, with the same bytes.

Vectors are the stored ones as read (unit vector times norm), at 7 significant digits, which
is float32's precision; rows are in frequency order, so `limit` keeps the most frequent words.
"""
from __future__ import annotations

import io
import zipfile
from typing import Iterator

import numpy as np

from service.store.space import Space

FORMATS = {"projector": "application/zip", "word2vec": "text/plain; charset=utf-8"}
SUFFIX = {"projector": ".zip", "word2vec": ".txt"}
_ROWS_PER_CHUNK = 1024


def export(space: Space, fmt: str, limit: int | None = None) -> Iterator[bytes]:
    """The space in `fmt` ("projector" or "word2vec"), the first `limit` rows, in chunks."""
    rows = len(space) if limit is None else min(limit, len(space))
    if fmt == "projector":
        return _projector(space, rows)
    if fmt == "word2vec":
        return _word2vec(space, rows)
    raise ValueError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")


def _lines(space: Space, rows: int, sep: str, with_key: bool) -> Iterator[str]:
    for start in range(0, rows, _ROWS_PER_CHUNK):
        stop = min(start + _ROWS_PER_CHUNK, rows)
        raw = np.asarray(space.vectors[start:stop]) * np.asarray(space.norms[start:stop])[:, None]
        keys = space.index_to_key[start:stop] if with_key else None
        # A list joined once, not a StringIO (which holds 4 bytes per character): a chunk in
        # flight is a few hundred KB, so concurrent exports keep a worker's memory flat.
        lines = [sep.join(f"{x:.7g}" for x in vector.tolist()) for vector in raw]
        if with_key:
            lines = [key + sep + line for key, line in zip(keys, lines)]
        yield "\n".join(lines) + "\n"


def _word2vec(space: Space, rows: int) -> Iterator[bytes]:
    yield f"{rows} {space.vector_size}\n".encode()
    for text in _lines(space, rows, " ", with_key=True):
        yield text.encode("utf-8")


class _Spool(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come: zipfile writes into it
    (with data descriptors, as it cannot seek) and the generator yields what it holds."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.buffer += b
        return len(b)

    def take(self) -> bytes:
        data, self.buffer = bytes(self.buffer), bytearray()
        return data


def _projector(space: Space, rows: int) -> Iterator[bytes]:
    """vectors.tsv (one row of tab-separated numbers per word, no header) and metadata.tsv
    (one word per line: a single column has no header line in Projector's format)."""
    spool = _Spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("vectors.tsv", "w", force_zip64=True) as f:
            for text in _lines(space, rows, "\t", with_key=False):
                f.write(text.encode("utf-8"))
                yield spool.take()
        with zf.open("metadata.tsv", "w", force_zip64=True) as f:
            for start in range(0, rows, _ROWS_PER_CHUNK * 4):
                keys = space.index_to_key[start:min(start + _ROWS_PER_CHUNK * 4, rows)]
                f.write(("\n".join(keys) + "\n").encode("utf-8"))
                yield spool.take()
    yield spool.take()
