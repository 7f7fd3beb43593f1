"""The catalog declared as data: a TOML spec of tasks and spaces (docs/catalog-spec.md).

    include = ["default"]              # optional: the default spec's tasks and spaces first

    [tasks.NAME]                       # labelled texts
    data = "reviews.csv"               # a csv (text,label) or a clickbait-style folder ...
    # dataset = "clickbait"            # ... or a packaged dataset (DATASETS)
    text_column = "text"               # the csv's columns, when they are named otherwise
    label_column = "label"
    curve = true                       # `wordspace build` runs the reduced learning curve

    [spaces.NAME]
    kind = "task"                      # service/store/kinds.py: task, word2vec, glove, vectors
    source = "model.keras"             # the file; none: made here (a task or word2vec space)
    format = "keras"                   # the file's format; guessed from the file when left out
    task = "reviews"                   # the task it is trained or scored on
    start = "word2vec"                 # a task space made here: its Embedding starts there

Paths are relative to the spec's folder. The repository's spec is default.toml, shipped with
the package. A mistake is one line naming the file, the entry, the key and what is allowed.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from service.errors import InputError
from service.store.index import TARGET_RECALL
from service.store import formats  # the registry of the file formats a source may have
from service.store.kinds import KINDS

DEFAULT_SPEC = Path(__file__).with_name("default.toml")
INCLUDES = {"default": DEFAULT_SPEC}
DATASETS = ("rotten-tomatoes", "clickbait")  # packaged: service/builder/task_data.py
MADE_HERE = ("task", "word2vec")  # the kinds a space without a source is made as


class SpecError(InputError):
    """A mistake in a spec file: one line."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    data: str | None = None          # a csv or a clickbait-style folder (absolute path)
    dataset: str | None = None       # or a packaged dataset
    text_column: str = "text"
    label_column: str = "label"
    curve: bool = False
    description: str = ""


@dataclass(frozen=True)
class SpaceSpec:
    name: str
    kind: str | None                 # None (build-index without --kind): the format's
    source: str | None = None        # a file (absolute path; build-index: its --from value);
                                     # None: made here
    format: str | None = None
    task: str | None = None
    start: str | None = None
    layer: str | None = None         # Keras: the Embedding layer
    vocab: str | None = None         # Keras: a vocabulary file, one word per line
    standardize: str | None = None   # Keras: the model's standardize function, module:function
    corpus: tuple[str, ...] = ()     # word2vec made here: extra plain-text files
    limit: int | None = None         # keep the first N rows
    factory: str | None = None       # faiss factory string (default by size)
    target_recall: float = TARGET_RECALL
    topk_rows: int | None = None
    sentence_layer: str | None = None  # Keras: the layer whose output is a sentence vector

    @property
    def made_here(self) -> bool:
        """Trained by the build (no file to read)."""
        return self.source is None and self.format is None

    def entry(self) -> dict:
        """What the spec says, for the fingerprint."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Spec:
    path: str
    tasks: dict[str, TaskSpec]
    spaces: dict[str, SpaceSpec]

    def curve_tasks(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks.values() if t.curve)

    def first_of_kind(self, kind: str) -> str | None:
        """The first space of `kind`: the one a learning curve's start of that kind uses."""
        return next((s.name for s in self.spaces.values() if s.kind == kind), None)


TASK_KEYS = {"data": str, "dataset": str, "text_column": str, "label_column": str,
             "curve": bool, "description": str}
SPACE_KEYS = {"kind": str, "source": str, "format": str, "task": str, "start": str,
              "layer": str, "vocab": str, "standardize": str, "corpus": list, "limit": int,
              "factory": str, "target_recall": float, "topk_rows": int, "sentence_layer": str}
TOP_KEYS = ("include", "tasks", "spaces")


def load_spec(path: str | Path | None = None) -> Spec:
    """The spec in `path` (default: the repository's), its includes first.

    Raises:
        SpecError: the file is missing, not TOML, or an entry is wrong.
    """
    path = Path(path) if path else DEFAULT_SPEC
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SpecError(f"{path}: not valid TOML ({e})") from e
    return parse(raw, path)


def parse(raw: dict, path: Path) -> Spec:
    where = path.name
    for key in raw:
        if key not in TOP_KEYS:
            raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(TOP_KEYS)}")
    tasks: dict[str, TaskSpec] = {}
    spaces: dict[str, SpaceSpec] = {}
    include = raw.get("include", [])
    if not isinstance(include, list) or any(i not in INCLUDES for i in include):
        raise SpecError(f"{where}: include = {include!r}; allowed: a list of "
                        f"{', '.join(map(repr, INCLUDES))}")
    for name in include:
        included = load_spec(INCLUDES[name])
        tasks.update(included.tasks)
        spaces.update(included.spaces)
    base = path.resolve().parent
    for section, read, into in (("tasks", _task, tasks), ("spaces", _space, spaces)):
        entries = raw.get(section, {})
        if not isinstance(entries, dict):
            raise SpecError(f"{where}: {section} must be tables [{section}.NAME]")
        for name, entry in entries.items():
            label = f"{where}: [{section}.{name}]"
            if name in into:
                raise SpecError(f"{label}: already declared (by an include); choose another name")
            if not isinstance(entry, dict):
                raise SpecError(f"{label}: must be a table of keys")
            _check_name(label, name)
            into[name] = read(label, name, _typed(label, entry, section), base)
    spec = Spec(str(path), tasks, spaces)
    for s in spaces.values():
        label = f"{where}: [spaces.{s.name}]"
        if s.task is not None and s.task not in tasks:
            raise SpecError(f"{label} task = {s.task!r}: no such task; allowed: "
                            f"{', '.join(tasks) or 'none declared ([tasks.NAME])'}")
        if s.start is not None and (s.start not in spaces or s.start == s.name):
            raise SpecError(f"{label} start = {s.start!r}: not another space; allowed: "
                            f"{', '.join(n for n in spaces if n != s.name)}")
    return spec


def _check_name(label: str, name: str) -> None:
    from service.store.catalog import check_name

    try:
        check_name(name)
    except InputError as e:
        raise SpecError(f"{label}: {e}") from e


def _typed(label: str, entry: dict, section: str) -> dict:
    allowed = TASK_KEYS if section == "tasks" else SPACE_KEYS
    for key, value in entry.items():
        if key not in allowed:
            raise SpecError(f"{label}: unknown key {key!r}; allowed: {', '.join(allowed)}")
        want = allowed[key]
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) if want is float
              else isinstance(value, want) and not (want is int and isinstance(value, bool)))
        if not ok or (want is list and not all(isinstance(v, str) for v in value)):
            shown = {str: "a string", bool: "true or false", int: "an integer",
                     float: "a number", list: "a list of strings"}[want]
            raise SpecError(f"{label} {key} = {value!r}: must be {shown}")
    return entry


def _task(label: str, name: str, e: dict, base: Path) -> TaskSpec:
    if ("data" in e) == ("dataset" in e):
        raise SpecError(f"{label}: give one of data (a csv with text,label columns or a "
                        f"clickbait-style folder) or dataset ({', '.join(DATASETS)})")
    if "dataset" in e and e["dataset"] not in DATASETS:
        raise SpecError(f"{label} dataset = {e['dataset']!r}: allowed: {', '.join(DATASETS)}")
    data = str(base / e["data"]) if "data" in e else None
    return TaskSpec(name, data, e.get("dataset"), e.get("text_column", "text"),
                    e.get("label_column", "label"), e.get("curve", False),
                    e.get("description", ""))


def _space(label: str, name: str, e: dict, base: Path) -> SpaceSpec:
    if "kind" not in e:
        raise SpecError(f"{label}: kind is required; allowed: {', '.join(KINDS)}")
    kind = e["kind"]
    if kind not in KINDS:
        raise SpecError(f"{label} kind = {kind!r}: allowed: {', '.join(KINDS)} "
                        "(the file's format goes in `format`)")
    fmt = e.get("format")
    if fmt is not None and fmt not in formats.FORMATS:
        raise SpecError(f"{label} format = {fmt!r}: allowed: {formats.names()}")
    source = str(base / e["source"]) if "source" in e else None
    if source is None and fmt is not None and formats.FORMATS[fmt].path != "optional":
        raise SpecError(f"{label}: format = {fmt!r} needs a source (the file to read)")
    if source is None and fmt is None and kind not in MADE_HERE:
        raise SpecError(f"{label}: a {kind} space needs a source (the file to read); only "
                        f"{' and '.join(MADE_HERE)} spaces are made here without one")
    if kind == "task" and source is None and "task" not in e:
        raise SpecError(f"{label}: a task space made here needs task = the task it is trained on")
    made_here = source is None and fmt is None
    if "start" in e and not (made_here and kind == "task"):
        raise SpecError(f"{label}: start applies only to a task space made here (no source)")
    if "corpus" in e and not (made_here and kind == "word2vec"):
        raise SpecError(f"{label}: corpus applies only to a word2vec space made here (no source)")
    models = [f.name for f in formats.FORMATS.values() if f.kind == "task"]
    if kind == "task" and fmt is not None and fmt not in models:
        raise SpecError(f"{label} format = {fmt!r}: a task space read from a file is a model; "
                        f"allowed: {', '.join(models)}")
    # The formats the file may be: the one named, else those of the kind (a guessed format
    # is checked again when the file is read).
    could_be = ([fmt] if fmt else [f for f in formats.FORMATS if (f in models) == (kind == "task")])
    for key in ("layer", "vocab", "standardize", "sentence_layer"):
        if key in e and not set(could_be) & set(formats.taking(key)):
            raise SpecError(f"{label}: {key} applies only to the formats "
                            f"{', '.join(formats.taking(key))} (format = ...)")
    for key in ("limit", "topk_rows"):
        if key in e and e[key] < 0:
            raise SpecError(f"{label} {key} = {e[key]}: must be 0 or more")
    if not 0 < e.get("target_recall", TARGET_RECALL) <= 1:
        raise SpecError(f"{label} target_recall = {e['target_recall']}: must be in (0, 1]")
    vocab = str(base / e["vocab"]) if "vocab" in e else None
    return SpaceSpec(name, kind, source, fmt, e.get("task"), e.get("start"), e.get("layer"),
                     vocab, e.get("standardize"), tuple(str(base / c) for c in e.get("corpus", ())),
                     e.get("limit"), e.get("factory"), float(e.get("target_recall", TARGET_RECALL)),
                     e.get("topk_rows"), sentence_layer=e.get("sentence_layer"))

