"""A TensorFlow SavedModel folder (`tf.saved_model.save`, Keras 2's `model.save("dir")`,
Keras 3's `model.export("dir")`) as a table: the rows of its Embedding variable, read with
TensorFlow's public loaders (tf.saved_model.load, else tf.train.load_checkpoint), and the words
of a vocabulary file. A SavedModel keeps its TextVectorization's vocabulary inside its graph,
where no public API reads it back, so the words come from `--vocab`.

Imported at build time only: it imports TensorFlow.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from service.builder.keras_table import RESERVED, unused_rows
from service.errors import InputError
from service.store.arrays import read_words
from service.store.tables import Table

HOW = ("give its words with --vocab FILE (spec key vocab), one per line in row order, as "
       "model.get_layer(NAME).get_vocabulary() lists them; or load the model where it was made "
       "and save it as .keras (model.save('model.keras')) to read it as keras:")


def read_savedmodel(path: Path, *, layer: str | None = None,
                    vocab: str | Path | None = None) -> Table:
    """The Embedding's rows the vocabulary indexes ("" and "[UNK]" left out, as for a .keras).

    Raises:
        InputError: no vocabulary file, not a SavedModel, no (or no single) Embedding
            variable, or more words than rows.
    """
    if vocab is None:
        raise InputError(f"{path}: a SavedModel keeps its vocabulary inside its graph; {HOW}")
    words = read_words(vocab)
    found = embeddings(Path(path))
    names = ", ".join(found) or "none"
    if layer is not None:
        found = {n: w for n, w in found.items() if layer in n.split("/")}
        if not found:
            raise InputError(f"{path}: no Embedding variable of a layer {layer!r}; found: {names}")
    if len(found) != 1:
        raise InputError(f"{path}: expected one Embedding variable, found {names}; "
                         "name its layer with --layer")
    [(name, weights)] = found.items()
    unused = unused_rows(path, name, words, weights)
    keep = [i for i, w in enumerate(words) if w not in RESERVED]
    return Table([words[i] for i in keep], weights[keep],
                 {"format": "savedmodel", "layer": name, "unused_rows": unused})


def embeddings(path: Path) -> dict[str, np.ndarray]:
    """name -> matrix of every 2-D variable called `embeddings`: by the variables' own names
    (the layer's, as Keras saved them), else by their keys in the checkpoint.

    Raises:
        InputError: TensorFlow cannot load the folder.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(path))
    except (ValueError, OSError, tf.errors.OpError) as e:
        raise InputError(f"{path}: not a SavedModel TensorFlow can load "
                         f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    found = {}
    for v in getattr(loaded, "variables", None) or ():
        name = v.name.removesuffix(":0")
        if name.rpartition("/")[2] == "embeddings" and len(v.shape) == 2:
            found[name] = np.asarray(v.numpy(), dtype="float32")
    if found:
        return found
    reader = tf.train.load_checkpoint(str(path / "variables" / "variables"))
    for key, shape in reader.get_variable_to_shape_map().items():
        if len(shape) == 2 and any(p.lstrip("_") == "embeddings" for p in key.split("/")):
            found[key.removesuffix("/.ATTRIBUTES/VARIABLE_VALUE")] = np.asarray(
                reader.get_tensor(key), dtype="float32")
    return found
