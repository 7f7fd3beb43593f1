"""Sentence vectors from a loaded space, in numpy: serving never imports TensorFlow.

- A task space or an imported Keras model (its folder holds `embed.json`, written by the
  build) gives what the model's pooling layer outputs: the Embedding rows of the text's
  tokens (unknown tokens taking the [UNK] row, the text cut to the model's sequence length,
  padding rows where the model sees them), pooled by mean, max or sum. The rows are the
  space's raw vectors (unit vector * norm). The tokens are those of the model's
  TextVectorization settings (service/text.py's `tokenize_as`).
- A word space gives the mean of the normalised vectors of the tokens it has.

Where the model does more between its Embedding and its pooling than numpy can do here (a
Conv1D, an LSTM) or standardizes text with its own TensorFlow function, embed.json says what
is computed instead (`computed`, `exact`: false), and `describe` hands that to every answer.

The build scores a task space before publishing it: it hands over a view of the table
(service/analysis/scorecard.py's `as_space`) whose `embed_config` attribute holds the embed.json
it is about to publish, so the scores use the same pooling the published space will.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.text import SETTINGS as TOKENIZER
from service.text import SPLIT, STANDARDIZE, STEPS, tokenize, tokenize_as

EMBED_FILE = "embed.json"
EMBED_FORMAT = "wordspace-embed v1"
POOLING = ("mean", "max", "sum")
WORD_SPACE = "mean of the normalised vectors of the tokens the space has"
TASK_SPACE = ("the classifier's pooling output: mean of the Embedding rows of the tokens "
              "(unknown tokens take the [UNK] row)")


@dataclass(frozen=True)
class Embedding:
    vector: np.ndarray   # float32, the space's dimension; zeros when no token counted
    tokens: int          # tokens that went into the mean (for task spaces, [UNK] ones too)
    missing: list[str]   # tokens the space does not have (task spaces: mapped to [UNK])


def embed_texts(space, texts: list[str]) -> list[Embedding]:
    """One Embedding per text, in order. `space` needs key_to_index, vector_size and, for a
    word space, find and vectors; for a task space, raw_vector.

    Raises:
        ValueError: the space's embed.json is of another format or tokenizer.
    """
    config = read_embed_config(space)
    if config is None:
        return [word_mean(space, text) for text in texts]
    pooling = Pooling.from_config(config)
    return [pooling.pool(space, text) for text in texts]


def describe(space) -> dict:
    """What a sentence vector of this space is: {"computed": a sentence, "exact": true when it
    is exactly the model's pooled vector, false when something else is computed instead,
    null for a word space (no model)}."""
    config = read_embed_config(space)
    if config is None:
        return {"computed": WORD_SPACE, "exact": None}
    return {"computed": config.get("computed", TASK_SPACE), "exact": config.get("exact", True)}


def read_embed_config(space) -> dict | None:
    """The space's embed settings: its `embed_config` attribute (a loaded Space reads
    embed.json once; a table not yet published carries them), else its folder's embed.json;
    None for a word space.

    Raises:
        ValueError: embed settings this code cannot honour.
    """
    if hasattr(space, "embed_config"):  # a loaded Space, or a table as evaluation sees it
        config = space.embed_config
        return None if config is None else check_embed_config(config, f"space {getattr(space, 'name', '?')}")
    folder = getattr(space, "folder", None)
    if folder is None or not (folder / EMBED_FILE).is_file():
        return None
    return load_embed_config(folder / EMBED_FILE)


def load_embed_config(path: Path) -> dict:
    """An embed.json file, checked (the build reads the one it is about to publish).

    Raises:
        ValueError: an embed.json this code cannot honour.
    """
    return check_embed_config(json.loads(path.read_text(encoding="utf-8")), str(path))


def write_embed_config(path: Path, config: dict) -> Path:
    """Write `config` (checked) as embed.json."""
    check_embed_config(config, str(path))
    path.write_text(json.dumps(config) + "\n", encoding="utf-8")
    return path


def check_embed_config(config: dict, where: str, dimension: int | None = None) -> dict:
    """Raises: ValueError naming what in `config` this code cannot honour: format, tokenizer,
    pooling, an [UNK] or padding vector that is not `dimension` finite numbers, a bad
    sequence length."""
    if not isinstance(config, dict) or config.get("format") != EMBED_FORMAT:
        got = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise ValueError(f"{where}: format {got!r}, expected {EMBED_FORMAT!r}")
    tokenizer = config.get("tokenizer")
    if not isinstance(tokenizer, dict) or tokenizer.get("standardize") not in STANDARDIZE or (
            tokenizer.get("split") not in SPLIT) or tokenizer.get("clean", TOKENIZER["clean"]) != (
            TOKENIZER["clean"]) or not _count_or_none(tokenizer.get("ngrams")):
        raise ValueError(f"{where}: tokenizer {tokenizer!r}; this service tokenizes with standardize "
                         f"in {STANDARDIZE}, split in {SPLIT}, ngrams a positive integer or null")
    if tokenizer["standardize"] == "steps" and not _steps_ok(tokenizer.get("steps")):
        raise ValueError(f"{where}: tokenizer steps must be a list of {', '.join(STEPS)} steps "
                         "with valid regular expressions")
    if config.get("pooling") not in POOLING:
        raise ValueError(f"{where}: pooling {config.get('pooling')!r}; this service pools with "
                         f"{', '.join(POOLING)}")
    for key, required in (("unk_vector", True), ("pad_vector", False)):
        vector = config.get(key)
        if vector is None and not required:
            continue
        if not isinstance(vector, list) or not all(type(x) in (int, float) for x in vector) or (
                dimension is not None and len(vector) != dimension) or not np.isfinite(vector).all():
            raise ValueError(f"{where}: {key} must be {dimension or 'the dimension'} finite numbers")
    extra = config.get("extra_vectors", {})
    if not isinstance(extra, dict) or not all(
            isinstance(v, list) and all(type(x) in (int, float) for x in v)
            and (dimension is None or len(v) == dimension) and np.isfinite(v).all()
            for v in extra.values()):
        raise ValueError(f"{where}: extra_vectors must map tokens to {dimension or 'dimension'} "
                         "finite numbers")
    if not _count_or_none(config.get("sequence_length")):
        raise ValueError(f"{where}: sequence_length must be a positive integer or null")
    if type(config.get("mask_zero", True)) is not bool or type(config.get("exact", True)) is not bool:
        raise ValueError(f"{where}: mask_zero and exact must be true or false")
    if "model" in config and not _model_ok(config["model"]):
        raise ValueError(f"{where}: model must name its file, vocabulary (a list of tokens), "
                         "dimension, opset and sequence_length (service/store/onnx_sentences.py)")
    return config


def _model_ok(model) -> bool:
    """The ONNX sentence model's entry: a file name in the space's folder and its inputs."""
    return (isinstance(model, dict) and isinstance(model.get("file"), str)
            and all(isinstance(f, str) and "/" not in f and f not in ("", ".", "..")
                    for f in (model["file"], model.get("data", "x")))
            and isinstance(model.get("vocabulary"), list)
            and all(isinstance(w, str) for w in model["vocabulary"])
            and type(model.get("dimension")) is int and model["dimension"] >= 1
            and type(model.get("opset")) is int and _count_or_none(model.get("sequence_length"))
            and _count_or_none(model.get("min_length")))


def _steps_ok(steps) -> bool:
    if not isinstance(steps, list):
        return False
    for step in steps:
        if not isinstance(step, dict) or step.get("op") not in STEPS:
            return False
        if step["op"] == "regex_replace":
            if not isinstance(step.get("pattern"), str) or not isinstance(step.get("rewrite"), str):
                return False
            try:
                re.compile(step["pattern"])
            except re.error:
                return False
    return True


def _count_or_none(value) -> bool:
    return value is None or (type(value) is int and value >= 1)


@dataclass(frozen=True)
class Pooling:
    """What a model does from its text input to its pooled vector, as embed.json records it."""
    tokenizer: dict
    pooling: str                 # mean, max or sum over the sequence
    mask_zero: bool              # padding positions left out of a mean or sum
    length: int | None           # TextVectorization's output_sequence_length
    unk: np.ndarray              # the [UNK] row
    pad: np.ndarray | None       # the padding row (row 0), when the model sees it
    extra: dict                  # rows of tokens no space holds as keys (with whitespace)

    @classmethod
    def from_config(cls, config: dict) -> "Pooling":
        pad = config.get("pad_vector")
        return cls(config["tokenizer"], config["pooling"], config.get("mask_zero", True),
                   config.get("sequence_length"), np.asarray(config["unk_vector"], dtype="float64"),
                   None if pad is None else np.asarray(pad, dtype="float64"),
                   {k: np.asarray(v, dtype="float64") for k, v in config.get("extra_vectors", {}).items()})

    def pool(self, space, text: str) -> Embedding:
        tokens = tokenize_as(text, self.tokenizer)
        if self.length:
            tokens = tokens[:self.length]  # TextVectorization truncates to output_sequence_length
        rows = [space.key_to_index.get(t) for t in tokens]
        missing = [t for t, r in zip(tokens, rows) if r is None and t not in self.extra]
        vectors = [np.asarray(space.raw_vector(r), dtype="float64") if r is not None
                   else self.extra.get(t, self.unk) for t, r in zip(tokens, rows)]
        # Padding positions: the model pads to its sequence length. A mean or sum leaves them
        # out when the Embedding masks zeros; GlobalMaxPooling1D takes no mask and sees them.
        padding = (self.length - len(tokens)) if self.length and self.pad is not None else 0
        if padding and (self.pooling == "max" or not self.mask_zero):
            vectors.append(self.pad)
        else:
            padding = 0
        if not tokens:
            return Embedding(np.zeros(space.vector_size, dtype="float32"), 0, missing)
        stacked = np.stack(vectors)
        if self.pooling == "max":
            vector = stacked.max(axis=0)
        else:
            weights = np.ones(len(stacked))
            if padding:
                weights[-1] = padding
            vector = weights @ stacked
            if self.pooling == "mean":
                vector = vector / weights.sum()
        return Embedding(vector.astype("float32"), len(tokens), missing)


def word_mean(space, text: str) -> Embedding:
    """The word-space definition: mean of the normalised vectors of the tokens found."""
    tokens = tokenize(text)
    rows = [space.find(t) for t in tokens]
    found = [r for r in rows if r is not None]
    missing = [t for t, r in zip(tokens, rows) if r is None]
    if not found:
        return Embedding(np.zeros(space.vector_size, dtype="float32"), 0, missing)
    vector = np.asarray(space.vectors[found], dtype="float64").mean(axis=0)
    return Embedding(vector.astype("float32"), len(found), missing)


