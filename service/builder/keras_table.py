"""Export the table of a Keras model's Embedding layer, with the vocabulary of its
TextVectorization layer (or a vocabulary file, one word per line, in row order).

This is the only module that reads Keras models, and it runs at build time: serving
workers never import TensorFlow.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from service.errors import InputError, MissingInput
from service.store.tables import Table

# Rows TextVectorization reserves: padding ("") and the out-of-vocabulary token.
RESERVED = ("", "[UNK]")


def read_keras(path: Path, *, layer: str | None = None, vocab: str | Path | None = None) -> Table:
    """Raises:
    FileNotFoundError: the model or vocabulary file is missing.
    ValueError: no (or no single) Embedding layer, or vocabulary and table disagree.
    """
    if not path.exists():
        raise MissingInput(f"{path}: no such file")
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    try:
        model = keras.saving.load_model(str(path), compile=False)
    except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile) as e:
        # Keras says ValueError for a file that is no zip, KeyError for a zip without
        # config.json, TypeError for a class it cannot find, OSError from h5py.
        raise InputError(f"{path}: not a Keras model ({type(e).__name__}: {e})") from e
    embedding = _find_layer(model, keras.layers.Embedding, layer, path)
    weights = np.asarray(embedding.get_weights()[0], dtype="float32")
    if vocab is not None:
        vocab = Path(vocab)
        if not vocab.exists():
            raise MissingInput(f"{vocab}: no such vocabulary file")
        words = vocab.read_text(encoding="utf-8").splitlines()
    else:
        words = _vocabulary(model, keras, path)
    if len(words) != weights.shape[0]:
        raise InputError(
            f"{path}: vocabulary has {len(words)} words but layer {embedding.name!r} "
            f"has {weights.shape[0]} rows"
        )
    keep = [i for i, w in enumerate(words) if w not in RESERVED]
    details = {"format": "keras", "layer": embedding.name}
    return Table([words[i] for i in keep], weights[keep], details)


def _layers(model):
    for lyr in model.layers:
        yield lyr
        if hasattr(lyr, "layers"):  # nested Sequential / Functional models
            yield from _layers(lyr)


def _find_layer(model, kind, name, path):
    if name is not None:
        for lyr in _layers(model):
            if lyr.name == name:
                if not isinstance(lyr, kind):
                    raise InputError(f"{path}: layer {name!r} is a {type(lyr).__name__}, not Embedding")
                return lyr
        raise InputError(f"{path}: no layer named {name!r}")
    found = [lyr for lyr in _layers(model) if isinstance(lyr, kind)]
    if len(found) != 1:
        names = ", ".join(lyr.name for lyr in found) or "none"
        raise InputError(f"{path}: expected one Embedding layer, found {names}; name one with --layer")
    return found[0]


def _vocabulary(model, keras, path) -> list[str]:
    found = [lyr for lyr in _layers(model) if isinstance(lyr, keras.layers.TextVectorization)]
    if len(found) != 1:
        raise InputError(
            f"{path}: no single TextVectorization layer to take the vocabulary from; "
            "give a vocabulary file with --vocab"
        )
    return [str(w) for w in found[0].get_vocabulary()]
