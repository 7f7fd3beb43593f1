"""Sentence vectors from a loaded space, in numpy: serving never imports TensorFlow.

- A task space (its folder holds `embed.json`, written by the build) gives exactly what the
  classifier's GlobalAveragePooling1D layer outputs: the mean of the Embedding rows of the
  text's tokens, unknown tokens taking the [UNK] row, padding left out, the text cut to
  the model's sequence length. The rows are the space's raw vectors (unit vector * norm).
- A word space gives the mean of the normalised vectors of the tokens it has.

Both tokenize with service/text.py, the tokenizer of Keras TextVectorization.

The build scores a task space before publishing it: it hands over a view of the table
(service/analysis/scorecard.py's `as_space`) whose `embed_config` attribute holds the embed.json
it is about to publish, so the scores use the same pooling the published space will.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.text import SETTINGS as TOKENIZER
from service.text import tokenize

EMBED_FILE = "embed.json"
EMBED_FORMAT = "wordspace-embed v1"


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
    unk = np.asarray(config["unk_vector"], dtype="float32")
    length = config.get("sequence_length")
    return [_pooled(space, text, unk, length) for text in texts]


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


def check_embed_config(config: dict, where: str, dimension: int | None = None) -> dict:
    """Raises: ValueError naming what in `config` this code cannot honour: format, tokenizer,
    pooling, an [UNK] vector that is not `dimension` finite numbers, a bad sequence length."""
    if not isinstance(config, dict) or config.get("format") != EMBED_FORMAT:
        got = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise ValueError(f"{where}: format {got!r}, expected {EMBED_FORMAT!r}")
    if config.get("tokenizer") != TOKENIZER or config.get("pooling") != "mean":
        raise ValueError(f"{where}: tokenizer {config.get('tokenizer')} with pooling "
                         f"{config.get('pooling')!r}; this service embeds with {TOKENIZER} and mean")
    unk = config.get("unk_vector")
    if not isinstance(unk, list) or not all(type(x) in (int, float) for x in unk) or (
            dimension is not None and len(unk) != dimension) or not np.isfinite(unk).all():
        raise ValueError(f"{where}: unk_vector must be {dimension or 'the dimension'} finite numbers")
    length = config.get("sequence_length")
    if length is not None and (type(length) is not int or length < 1):
        raise ValueError(f"{where}: sequence_length must be a positive integer or null")
    return config


def _pooled(space, text: str, unk: np.ndarray, length: int | None) -> Embedding:
    tokens = tokenize(text)
    if length:
        tokens = tokens[:length]  # TextVectorization truncates to output_sequence_length
    rows = [space.key_to_index.get(t) for t in tokens]
    missing = [t for t, r in zip(tokens, rows) if r is None]
    if not tokens:
        return Embedding(np.zeros(space.vector_size, dtype="float32"), 0, [])
    total = np.zeros(space.vector_size, dtype="float64")
    for row in rows:
        total += unk if row is None else space.raw_vector(row)
    return Embedding((total / len(tokens)).astype("float32"), len(tokens), missing)


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


