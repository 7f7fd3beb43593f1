"""Keras text classifiers as people build and save them (keras.io "Text classification from
scratch" and its variants), trained for a few steps on the vendored headlines and saved with
`model.save("x.keras")`. Small sizes keep each a few seconds: 2000 tokens, 5 epochs, 16 dims.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from service.builder.task_data import CLICKBAIT_DIR, load_clickbait

MAX_TOKENS, LENGTH, DIM = 2000, 40, 16
# The test modules import Keras (TensorFlow, seconds) inside the tests, not at collection.
needs_keras = pytest.mark.skipif(importlib.util.find_spec("keras") is None,
                                 reason="the [train] extra installs TensorFlow/Keras")
EPOCHS = 5  # 95 steps: enough to beat chance on held-out headlines

# The tutorial's custom standardization, verbatim, in the user's own module.
USER_MODULE = '''
import re
import string

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable()
def custom_standardization(input_data):
    lowercase = tf.strings.lower(input_data)
    stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
    return tf.strings.regex_replace(
        stripped_html, f"[{re.escape(string.punctuation)}]", ""
    )


@keras.saving.register_keras_serializable()
def first_characters(input_data):  # an op the server cannot replay
    return tf.strings.substr(tf.strings.lower(input_data), 0, 60)
'''


def headlines(n: int = 600, seed: int = 0) -> tuple[list[str], np.ndarray]:
    data = load_clickbait(CLICKBAIT_DIR)
    rows = np.random.default_rng(seed).permutation(len(data))[:n]
    return [data.texts[i] for i in rows], data.labels[rows].astype("int64")


def user_function(folder: Path, module: str = "usertext", name: str = "custom_standardization"):
    """Write the user's module into `folder` (the folder the user builds from) and import it."""
    (folder / f"{module}.py").write_text(USER_MODULE)
    sys.path.insert(0, str(folder))
    try:
        return getattr(importlib.import_module(module), name)
    finally:
        sys.path.remove(str(folder))


def forget_user_function(module: str = "usertext") -> None:
    """As in a fresh process: the function neither imported nor registered with Keras."""
    import keras

    sys.modules.pop(module, None)
    for name in ("custom_standardization", "first_characters"):
        keras.saving.get_custom_objects().pop(f"Custom>{name}", None)


def vectorizer(texts, *, max_tokens=MAX_TOKENS, standardize="lower_and_strip_punctuation",
               split="whitespace", ngrams=None):
    import keras

    keras.utils.set_random_seed(0)  # every model below starts here: seeded weights and dropout
    layer = keras.layers.TextVectorization(max_tokens=max_tokens, output_mode="int",
                                           output_sequence_length=LENGTH, standardize=standardize,
                                           split=split, ngrams=ngrams)
    layer.adapt(texts)
    return layer


def text_input(texts):
    """Texts as a (n, 1) string tensor, what a model with keras.Input(shape=(1,), dtype="string")
    takes (fit and predict refuse a numpy array of str)."""
    import tensorflow as tf

    return tf.constant([[t] for t in texts])


def pooling_output(path: Path, texts, layer: str = "pooling") -> np.ndarray:
    """The model's own sentence vector: its `layer` output (a global pooling), whether that
    layer is in the model or in a classifier nested in it after the vectorizer."""
    import keras

    model = keras.saving.load_model(path, compile=False)
    if any(isinstance(lyr, keras.Model) for lyr in model.layers):  # vectorizer, classifier
        vectorize, classifier = model.layers
        sub = keras.Model(classifier.inputs, classifier.get_layer(layer).output)
        return sub.predict(vectorize(text_input(texts)), verbose=0)
    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    return sub.predict(text_input(texts), verbose=0)


def evaluate(model, x, labels) -> float:
    """Keras' own accuracy of a one-output sigmoid model on texts (a list) or its inputs."""
    if isinstance(x, list):
        x = text_input(x)
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    return float(model.evaluate(x, np.asarray(labels), verbose=0)[1])


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def fit(model, x, labels):
    import keras

    binary = model.outputs[0].shape[-1] == 1
    model.compile(loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
    model.fit(x, labels, epochs=EPOCHS, batch_size=32, verbose=0)
    return model


def tutorial(folder: Path, texts, labels, standardize) -> Path:
    """keras.io's model: a classifier on int ids trained first, then the end-to-end model
    (text in) that wraps it, the one the tutorial saves."""
    import keras
    from keras import layers

    vectorize_layer = vectorizer(texts, standardize=standardize)
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(MAX_TOKENS, DIM)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(DIM, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(DIM, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(DIM, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    model = fit(keras.Model(inputs, predictions), vectorize_layer(np.array(texts)[:, None]), labels)
    inputs = keras.Input(shape=(1,), dtype="string")
    indices = vectorize_layer(inputs)
    outputs = model(indices)
    end_to_end_model = keras.Model(inputs, outputs)
    path = folder / "tutorial.keras"
    end_to_end_model.save(path)
    return path


def pooled(folder: Path, texts, labels, *, pooling="average", mask_zero=False, name="pooled",
           max_tokens=MAX_TOKENS, rows=None, classes=1,
           standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None) -> Path:
    """Text in, TextVectorization, Embedding, Dropout, global pooling, Dense sigmoid (softmax
    for `classes` > 1)."""
    import keras
    from keras import layers

    vectorize = vectorizer(texts, max_tokens=max_tokens, standardize=standardize, split=split,
                           ngrams=ngrams)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = layers.Embedding(rows or len(vectorize.get_vocabulary()), DIM, mask_zero=mask_zero,
                         name="embedding")(vectorize(inputs))
    x = layers.Dropout(0.2)(x)
    pool = layers.GlobalAveragePooling1D if pooling == "average" else layers.GlobalMaxPooling1D
    x = pool(name="pooling")(x)
    output = layers.Dense(classes, activation="sigmoid" if classes == 1 else "softmax")(x)
    model = fit(keras.Model(inputs, output), text_input(texts), labels)
    path = folder / f"{name}.keras"
    model.save(path)
    return path


def ids_model(folder: Path, texts, labels, *, max_tokens=MAX_TOKENS, rows=None) -> tuple[Path, Path]:
    """The vectorizer outside: the saved model takes int ids; the vocabulary goes to a file."""
    import keras
    from keras import layers

    vectorize = vectorizer(texts, max_tokens=max_tokens)
    vocab = vectorize.get_vocabulary()
    model = keras.Sequential([
        keras.Input(shape=(LENGTH,), dtype="int64"),
        layers.Embedding(rows or len(vocab), DIM, name="embedding"),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid"),
    ])
    fit(model, vectorize(np.array(texts)[:, None]), labels)
    path, vocab_path = folder / "ids.keras", folder / "vocab.txt"
    model.save(path)
    vocab_path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return path, vocab_path


def nested(folder: Path, texts, labels) -> Path:
    """A Sequential whose first layer is the vectorizer and whose second is the classifier
    model (mask_zero, mean pooling), itself a Sequential."""
    import keras
    from keras import layers

    vectorize = vectorizer(texts)
    classifier = keras.Sequential([
        keras.Input(shape=(LENGTH,), dtype="int64"),
        layers.Embedding(len(vectorize.get_vocabulary()), DIM, mask_zero=True, name="words"),
        layers.GlobalAveragePooling1D(name="pooling"),
        layers.Dense(1, activation="sigmoid"),
    ], name="classifier")
    fit(classifier, vectorize(np.array(texts)[:, None]), labels)
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), vectorize, classifier])
    path = folder / "nested.keras"
    model.save(path)
    return path


def own_output(path: Path, texts, layer: str, *, vocab: Path | None = None) -> np.ndarray:
    """Keras itself: the model's sub-model from its Embedding's input to `layer` (found in
    nested models too), on the ids of the model's own TextVectorization, or, with the
    vectorizer outside, of a TextVectorization over the vocabulary file."""
    import keras

    model = keras.saving.load_model(path, compile=False)
    every = list(all_layers(model))
    embedding = next(lyr for lyr in every if isinstance(lyr, keras.layers.Embedding))
    target = next(lyr for lyr in every if lyr.name == layer)
    found = [lyr for lyr in every if isinstance(lyr, keras.layers.TextVectorization)]
    if vocab is None:
        vectorize = found[0]
    else:
        words = vocab.read_text(encoding="utf-8").splitlines()
        vectorize = keras.layers.TextVectorization(vocabulary=words[2:], output_sequence_length=LENGTH)
    ids = vectorize(text_input(texts))
    return keras.Model(embedding.input, target.output).predict(ids, verbose=0)


def all_layers(model):
    """Every layer, nested models' layers in place."""
    for lyr in model.layers:
        yield lyr
        if hasattr(lyr, "layers"):
            yield from all_layers(lyr)


def recurrent(folder: Path, texts, labels, body: str, name: str) -> Path:
    """Text in, TextVectorization, Embedding, then `body` up to the sentence layer (named
    "sentence"), Dense sigmoid: the recurrent and Dense shapes of docs/keras-models.md."""
    import keras
    from keras import layers

    vectorize = vectorizer(texts, max_tokens=500)
    inputs = keras.Input(shape=(1,), dtype="string")
    rows = len(vectorize.get_vocabulary())
    x = vectorize(inputs)
    if body == "bilstm":  # mask_zero: the LSTM skips the padding
        x = layers.Embedding(rows, DIM, mask_zero=True)(x)
        x = layers.Bidirectional(layers.LSTM(8), name="sentence")(x)
    elif body == "gru":
        x = layers.GRU(8, name="sentence")(layers.Embedding(rows, DIM)(x))
    elif body == "lstm_max":
        x = layers.LSTM(8, return_sequences=True)(layers.Embedding(rows, DIM)(x))
        x = layers.GlobalMaxPooling1D(name="sentence")(x)
    elif body == "mean_dense":
        x = layers.GlobalAveragePooling1D()(layers.Embedding(rows, DIM)(x))
        x = layers.Dense(64, activation="relu", name="sentence")(x)
    x = layers.Dropout(0.2)(x)
    model = fit(keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x)), text_input(texts), labels)
    path = folder / f"{name}.keras"
    model.save(path)
    return path


def legacy_h5(folder: Path, texts, labels) -> tuple[Path, Path]:
    """A Keras 2 style model: ids in (the vectorizer outside, its vocabulary in a file),
    Embedding, plain GlobalAveragePooling1D, saved as a legacy HDF5 .h5 file."""
    import keras
    from keras import layers

    vectorize = vectorizer(texts, max_tokens=500)
    vocab = vectorize.get_vocabulary()
    model = keras.Sequential([keras.Input(shape=(LENGTH,), dtype="int64"),
                              layers.Embedding(len(vocab), DIM),
                              layers.GlobalAveragePooling1D(name="sentence"),
                              layers.Dense(1, activation="sigmoid")])
    fit(model, vectorize(np.array(texts)[:, None]), labels)
    path, vocab_path = folder / "legacy.h5", folder / "legacy-vocab.txt"
    model.save(path)
    vocab_path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return path, vocab_path
