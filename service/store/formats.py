"""Which table format a file holds, told from its first bytes, before anything is read in full:
to guess the format when `--from` names a file with no FORMAT: prefix, and to say which prefix
to use when the one given does not fit the file (a GloVe file given as word2vec:, or the
other way round), instead of the reader's own error halfway through.
"""
from __future__ import annotations

import gzip
from pathlib import Path

from service.errors import InputError, MissingInput
from service.store.tables import FASTTEXT_MAGIC, FORMATS

_DESCRIBE = {
    "word2vec": "word2vec (a header line 'rows dimension' first)",
    "glove": "GloVe text (a word and its numbers on the first line, no header)",
    "fasttext": "fastText (a .bin model, or .vec text with a header line)",
    "gensim": "a saved gensim model (a Python pickle)",
    "keras": "a Keras model (a .keras zip)",
    "kumo": "the kumo GloVe package folder (.npy and .parquet)",
}


def resolve(spec: str) -> tuple[str, str, bool]:
    """(format, path, guessed) for a `--from` value: FORMAT:PATH, `kumo`, or a bare path whose
    format is guessed from its contents.

    Raises:
        MissingInput (a FileNotFoundError): a bare path that does not exist.
        InputError (a ValueError): an unknown prefix, a file whose format cannot be told, or a file that
            holds the other of word2vec and GloVe (naming the prefix to use).
    """
    prefix, sep, rest = spec.partition(":")
    if spec == "kumo" or (sep and prefix in FORMATS):
        fmt, path = ("kumo", "") if spec == "kumo" else (prefix, rest)
        if not path and fmt != "kumo":
            raise InputError(f"{spec!r} names no file; write {fmt}:PATH")
        if path and Path(path).exists():
            check(fmt, Path(path))
        return fmt, path, False
    path = Path(spec)
    if not path.exists():
        if sep:
            raise InputError(f"unknown format {prefix!r} in {spec!r} (and no such file); "
                             f"formats: {', '.join(FORMATS)}")
        raise MissingInput(f"{spec}: no such file")
    fmt = sniff(path)
    if fmt is None:
        raise InputError(f"cannot tell the format of {spec}; write FORMAT:{spec} with FORMAT one "
                         f"of {', '.join(FORMATS)}")
    return fmt, spec, True


def check(fmt: str, path: Path) -> None:
    """Raises: ValueError when `path` holds another of the word2vec, GloVe and fastText formats,
    naming its prefix. fastText's .vec is word2vec text, and the fasttext reader reads word2vec
    files too: only a fastText .bin given as word2vec is refused between those two."""
    found = sniff(path)
    if fmt not in _TEXT_OR_FASTTEXT or found not in _TEXT_OR_FASTTEXT or found == fmt:
        return
    if {fmt, found} == {"word2vec", "fasttext"} and not (fmt == "word2vec" and _fasttext_bin(path)):
        return
    raise InputError(f"{path} is not {fmt}: it looks like {_DESCRIBE[found]}; write {found}:{path}")


_TEXT_OR_FASTTEXT = ("word2vec", "glove", "fasttext")


def _fasttext_bin(path: Path) -> bool:
    if path.is_dir():
        return False
    with path.open("rb") as f:
        return f.read(4) == FASTTEXT_MAGIC


def sniff(path: Path) -> str | None:
    """The format `path` looks like, from its first bytes; None when it cannot be told."""
    if path.is_dir():
        has = {p.suffix for p in path.iterdir()}
        return "kumo" if {".npy", ".parquet"} <= has else None
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        return "keras" if path.suffix == ".keras" else None
    if head[:1] == b"\x80":
        return "gensim"
    if head == FASTTEXT_MAGIC:
        return "fasttext"
    tokens = _first_line(path).split()
    if len(tokens) == 2 and all(t.isdigit() for t in tokens):
        return "fasttext" if path.suffix == ".vec" else "word2vec"  # .vec: fastText's text output
    if len(tokens) >= 2 and all(_is_number(t) for t in tokens[1:]):
        return "glove"
    return None


def dimension(fmt: str, path: str) -> int | None:
    """The vectors' dimension, when the first line tells it (word2vec, GloVe, fastText .vec);
    else None."""
    if fmt not in _TEXT_OR_FASTTEXT or not path or not Path(path).is_file() or _fasttext_bin(Path(path)):
        return None
    tokens = _first_line(Path(path)).split()
    if fmt in ("word2vec", "fasttext") and len(tokens) == 2 and all(t.isdigit() for t in tokens):
        return int(tokens[1])
    return len(tokens) - 1 if fmt == "glove" and len(tokens) > 1 else None


def _first_line(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.readline(1 << 20).decode("utf-8", errors="replace")
    except (OSError, EOFError):
        return ""


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
