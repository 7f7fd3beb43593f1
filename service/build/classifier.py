"""The task classifier whose Embedding layer becomes the `task` and `task-w2v` spaces.

    text -> TextVectorization -> Embedding(mask_zero) -> GlobalAveragePooling1D
         -> Dropout -> Dense(softmax over classes)

Trained from scratch, or with the Embedding initialised from word2vec and fine-tuned.
The saved `.keras` model is exported with service.build.keras_table.read_keras; `embed.json`,
written next to it, holds what service/store/embed.py needs to reproduce the pooling layer's
output in numpy (tokenizer settings, sequence length, the [UNK] row).

TensorFlow/Keras are imported inside the functions: importing this module stays cheap.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from service.build.task_data import Split
from service.store.embed import EMBED_FILE, EMBED_FORMAT
from service.store.tables import Table
from service.text import SETTINGS as TOKENIZER
from service.text import clean

log = logging.getLogger(__name__)

EMBEDDING_LAYER = "embedding"
POOLING_LAYER = "pooling"


@dataclass(frozen=True)
class ClassifierSettings:
    embedding_dim: int = 100        # replaced by the word2vec dimension when initialising from it
    max_tokens: int = 20_000        # vocabulary cap, including "" and [UNK]
    sequence_length: int | None = 100  # tokens kept per text (None: pad to the longest in a batch)
    epochs: int = 15                # at most; early stopping on validation accuracy
    patience: int = 3
    batch_size: int = 32
    learning_rate: float = 2e-3
    dropout: float = 0.3
    seed: int = 0
    verbose: int = 0                # Keras fit() progress: 0 silent, 2 one line per epoch


@dataclass
class TrainResult:
    model_path: Path | None         # None when trained without an out_dir
    embed_path: Path | None
    init: str                       # "scratch" or "word2vec"
    test_accuracy: float
    validation_accuracy: float
    epochs: int                     # epochs run
    best_epoch: int
    vocabulary: int
    train_seconds: float
    init_coverage: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """The facts the manifest records."""
        d = asdict(self)
        d.pop("model_path"), d.pop("embed_path")
        return d


def train_classifier(split: Split, out_dir: Path | None, settings: ClassifierSettings = ClassifierSettings(),
                     *, init: Table | None = None) -> TrainResult:
    """Train, evaluate on the held-out test set, save `model.keras` and `embed.json` in
    out_dir (nothing is saved when out_dir is None)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    started = time.perf_counter()
    keras.utils.set_random_seed(settings.seed)
    n_classes = len(split.train.classes)
    vectorize = keras.layers.TextVectorization(
        max_tokens=settings.max_tokens, output_sequence_length=settings.sequence_length,
        name="vectorize")
    vectorize.adapt(tf.constant([clean(t) for t in split.train.texts]))
    vocab = vectorize.get_vocabulary()
    dim = init.vector_size if init is not None else settings.embedding_dim
    weights, coverage = (None, {}) if init is None else _initial_weights(vocab, init, settings.seed)

    inputs = keras.Input(shape=(1,), dtype="string", name="text")
    x = vectorize(inputs)
    x = keras.layers.Embedding(len(vocab), dim, mask_zero=True, name=EMBEDDING_LAYER)(x)
    x = keras.layers.GlobalAveragePooling1D(name=POOLING_LAYER)(x)
    x = keras.layers.Dropout(settings.dropout, seed=settings.seed)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes")(x)
    model = keras.Model(inputs, outputs, name="task_classifier")
    if weights is not None:
        model.get_layer(EMBEDDING_LAYER).set_weights([weights])
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=settings.patience,
                                         restore_best_weights=True)
    history = model.fit(
        _batches(tf, split.train, settings, shuffle=True),
        validation_data=_batches(tf, split.validation, settings),
        epochs=settings.epochs, callbacks=[stop], verbose=settings.verbose,
        shuffle=False)  # the tf.data pipeline shuffles, seeded
    val = history.history["val_accuracy"]
    best = int(np.argmax(val))
    _, test_accuracy = model.evaluate(_batches(tf, split.test, settings), verbose=0)

    model_path = embed_path = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        model_path = out_dir / "model.keras"
        model.save(model_path)
        embed_path = write_embed_config(out_dir / EMBED_FILE, model, settings.sequence_length)
    result = TrainResult(
        model_path=model_path, embed_path=embed_path,
        init="scratch" if init is None else "word2vec",
        test_accuracy=round(float(test_accuracy), 4), validation_accuracy=round(float(val[best]), 4),
        epochs=len(val), best_epoch=best + 1, vocabulary=len(vocab),
        train_seconds=round(time.perf_counter() - started, 1), init_coverage=coverage,
        history={k: [round(float(v), 4) for v in vs] for k, vs in history.history.items()})
    log.info("classifier (%s): %d train texts, vocabulary %d x %d, %d epochs (best %d), "
             "validation %.4f, test accuracy %.4f, %.1fs", result.init, len(split.train),
             len(vocab), dim, result.epochs, result.best_epoch, result.validation_accuracy,
             result.test_accuracy, result.train_seconds)
    return result


def write_embed_config(path: Path, model, sequence_length: int | None) -> Path:
    """embed.json: how to turn text into the pooling layer's output without TensorFlow."""
    table = model.get_layer(EMBEDDING_LAYER).get_weights()[0]
    config = {
        "format": EMBED_FORMAT,
        "tokenizer": TOKENIZER,
        "pooling": "mean",           # GlobalAveragePooling1D over the non-padding tokens
        "mask_zero": True,
        "sequence_length": sequence_length,
        "unk_token": "[UNK]",
        "unk_vector": [float(v) for v in table[1]],  # row 1 of a TextVectorization vocabulary
    }
    path.write_text(json.dumps(config) + "\n", encoding="utf-8")
    return path


def _initial_weights(vocab: list[str], init: Table, seed: int) -> tuple[np.ndarray, dict]:
    """word2vec rows for the words it knows; random rows of the same scale for the others."""
    rng = np.random.default_rng(seed)
    key_to_index = {k: i for i, k in enumerate(init.index_to_key)}
    scale = float(init.vectors.std())
    weights = rng.normal(0.0, scale, size=(len(vocab), init.vector_size)).astype("float32")
    found = 0
    for row, word in enumerate(vocab):
        i = key_to_index.get(word)
        if i is not None:
            weights[row] = init.vectors[i]
            found += 1
    words = len(vocab) - 2  # without "" and [UNK]
    log.info("classifier: %d of %d vocabulary words initialised from word2vec (%.1f%%)",
             found, words, 100 * found / max(words, 1))
    return weights, {"initialised": found, "vocabulary": words,
                     "percent": round(100 * found / max(words, 1), 2)}


def _batches(tf, data, settings: ClassifierSettings, *, shuffle: bool = False):
    texts = tf.constant([clean(t) for t in data.texts])[:, None]
    ds = tf.data.Dataset.from_tensor_slices((texts, data.labels))
    if shuffle:
        ds = ds.shuffle(len(data), seed=settings.seed, reshuffle_each_iteration=True)
    return ds.batch(settings.batch_size).prefetch(2)
