"""A saved Keras model's own accuracy on labelled texts, run whole at build time: the model as
the user trained it, scored on the task's test split next to the probe on its sentence vectors.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from service.builder import keras_model, keras_text
from service.errors import InputError
from service.text import tokenize_as


def model_accuracy(path: str | Path, texts: list[str], labels, *, standardize: str | None = None,
                   vocab: str | Path | None = None) -> float:
    """The saved model's accuracy on `texts`: an end-to-end model gets the raw texts; a model
    taking token ids gets them made from its vocabulary (the TextVectorization layer's, or
    `vocab`, one word per line) with TextVectorization's default tokenizer. A one-unit output
    is a sigmoid (threshold 0.5), a wider one is argmax. Labels are 0/1 or class ids.

    Raises:
        InputError: the model cannot be loaded, or its output does not fit the labels.
    """
    import tensorflow as tf

    model = keras_model.load(path, standardize)
    if keras_model.input_is_text(model):
        shape = model.inputs[0].shape
        x = tf.constant(texts if len(shape) == 1 else [[t] for t in texts])
    else:
        x = token_ids(model, texts, vocab, path)
    scores = np.asarray(model.predict(x, batch_size=256, verbose=0))
    if scores.ndim == 1 or scores.shape[-1] == 1:
        predicted = (scores.reshape(len(texts)) > 0.5).astype(int)
    else:
        predicted = scores.argmax(axis=-1)
    labels = np.asarray(labels).astype(int)
    if labels.max(initial=0) > max(1, scores.shape[-1] - 1):
        raise InputError(f"{path}: labels go up to {labels.max()} but the model has "
                         f"{scores.shape[-1]} outputs")
    return float((predicted == labels).mean())


def token_ids(model, texts: list[str], vocab, path) -> np.ndarray:
    """Texts as the int ids a model with its vectorizer outside expects: TextVectorization's
    default tokenizer, [UNK] (row 1) for unknown words, zero padding to the input length."""
    words = keras_text.vocabulary(model, vocab, path)
    index = {w: i for i, w in enumerate(words)}
    unk = index.get("[UNK]", 1)
    ids = [[index.get(t, unk) for t in tokenize_as(text, {"standardize": "lower_and_strip_punctuation",
                                                         "split": "whitespace"})] for text in texts]
    length = model.inputs[0].shape[1] or max(1, max(len(i) for i in ids))
    out = np.zeros((len(texts), length), dtype="int64")
    for row, seq in enumerate(ids):
        seq = seq[:length]
        out[row, :len(seq)] = seq
    return out
