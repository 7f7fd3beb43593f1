"""Export the table of a Keras model's Embedding layer, with the vocabulary of its
TextVectorization layer (or a vocabulary file, one word per line, in row order), and what the
server needs to compute the model's sentence vectors (details["embed"], published as
embed.json; service/builder/keras_text.py).

The Keras modules (this one, keras_model.py, keras_text.py, keras_accuracy.py) are the only ones that read Keras
models, and they run at build time: serving workers never import TensorFlow.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from service.builder import keras_export, keras_model, keras_text
from service.builder.keras_accuracy import model_accuracy
from service.errors import InputError
from service.store.tables import Table

log = logging.getLogger(__name__)

# Rows TextVectorization reserves: padding ("") and the out-of-vocabulary token.
RESERVED = ("", "[UNK]")


def unused_rows(path, layer: str, words: list[str], weights: np.ndarray) -> int:
    """The rows past the vocabulary (never looked up, left out), said in a warning.

    Raises:
        InputError: the vocabulary has more words than the layer has rows.
    """
    if len(words) > weights.shape[0]:
        raise InputError(f"{path}: vocabulary has {len(words)} words but layer {layer!r} "
                         f"has {weights.shape[0]} rows")
    unused = weights.shape[0] - len(words)
    if unused:
        log.warning("%s: layer %r has %d rows but the vocabulary has %d words: the last %d rows "
                    "are never looked up and are left out", path, layer,
                    weights.shape[0], len(words), unused)
    return unused


def read_keras(path: Path, *, layer: str | None = None, vocab: str | Path | None = None,
               standardize: str | None = None, sentence_layer: str | None = None,
               texts: list[str] | None = None, export_to: Path | None = None,
               export=None) -> Table:
    """The Embedding's rows the vocabulary indexes. `standardize` names the model's custom
    standardization function as "module:function". details: format, layer, unused_rows (rows
    past the vocabulary, never looked up), sentence_vectors (what `embed` computes, whether it
    is exactly the model's, and how the build checked it), embed (the content of embed.json).

    The model's sentence vectors are checked against Keras on `texts` (the task's held-out
    texts; sample texts when None) and, where numpy pooling is not the model's, exported to
    ONNX into `export_to` (service/builder/keras_export.py; `sentence_layer` names the layer,
    `export` replaces Keras's exporter).

    Raises:
        FileNotFoundError: the model or vocabulary file is missing.
        ValueError: not a Keras model, a custom function not given, no (or no single)
            Embedding layer, or a vocabulary longer than the table.
    """
    path = Path(path)
    model = keras_model.load(path, standardize)
    embedding = find_embedding(model, layer, path)
    weights = np.asarray(embedding.get_weights()[0], dtype="float32")
    words = keras_text.vocabulary(model, vocab, path)
    unused = unused_rows(path, embedding.name, words, weights)
    weights = weights[:len(words)]
    embed = keras_text.embed_config(model, embedding, words, weights)
    keep = [i for i, w in enumerate(words) if w not in RESERVED]
    details = {"format": "keras", "layer": embedding.name, "unused_rows": unused}
    # Keys with whitespace (n-grams) are dropped as from every table; embed.json carries a few.
    # How many is recorded: the model's vocabulary counts them, the served table does not.
    table = Table([words[i] for i in keep], weights[keep], details)
    served = table.deduplicated()
    details["dropped_keys"] = len(table.index_to_key) - len(served.index_to_key)
    embed = keras_export.sentence_vectors(model, embedding, words, embed, served, path=path,
                                          name=sentence_layer, texts=texts, folder=export_to,
                                          export=export)
    details["sentence_vectors"] = {"computed": embed["computed"], "exact": embed["exact"],
                                   **embed["sentence"]}
    details["embed"] = embed
    return served


def find_embedding(model, name: str | None, path):
    """The Embedding layer named `name`, or the model's only one.

    Raises:
        InputError: naming the Embedding layers the model has.
    """
    import keras

    found = [lyr for lyr in keras_model.layers(model) if isinstance(lyr, keras.layers.Embedding)]
    names = ", ".join(repr(lyr.name) for lyr in found) or "none"
    if name is not None:
        for lyr in found:
            if lyr.name == name:
                return lyr
        other = next((lyr for lyr in keras_model.layers(model) if lyr.name == name), None)
        what = f"layer {name!r} is a {type(other).__name__}" if other else f"no layer named {name!r}"
        raise InputError(f"{path}: {what}; the Embedding layers are: {names}")
    if len(found) != 1:
        raise InputError(f"{path}: expected one Embedding layer, found {names}; name one with --layer")
    return found[0]


__all__ = ["read_keras", "model_accuracy", "find_embedding"]
