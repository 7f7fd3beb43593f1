"""The task classifier whose Embedding layer becomes a task space (`sentiment`, `clickbait`,
and their `-w2v` twins started from word2vec).

    text -> TextVectorization -> Embedding(mask_zero) -> GlobalAveragePooling1D
         -> Dropout -> Dense(softmax over classes)

The vocabulary and starting rows come from service/builder/classifier_vocabulary.py (scratch,
or a pretrained table with the union vocabulary, or its training words only). Training runs on
the rows some training, validation or test text reads: Adam (no weight decay) leaves a row
whose gradient is always zero bit-identical, so the other rows are copied into the saved
model unchanged, as if they had been in the model all along, and the run costs what the
texts need instead of a step over every pretrained row. Early stopping counts optimizer
steps (service/builder/early_stopping.py).

The saved `.keras` model (string in, classes out) is exported with
service.builder.keras_table.read_keras; `embed.json`, written next to it, holds what
service/store/embed.py needs to reproduce the pooling layer's output in numpy.

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

from service.builder.task_data import Split
from service.builder.classifier_vocabulary import Start, Vocabulary, build_vocabulary, ids
from service.store.embed import EMBED_FILE, EMBED_FORMAT
from service.text import SETTINGS as TOKENIZER

log = logging.getLogger(__name__)

EMBEDDING_LAYER = "embedding"
POOLING_LAYER = "pooling"
SCRATCH = Start()


@dataclass(frozen=True)
class ClassifierSettings:
    embedding_dim: int = 100        # from scratch; a pretrained start uses its table's size
    max_tokens: int = 20_000        # training words kept (most frequent), with "" and [UNK]
    sequence_length: int | None = 100  # tokens kept per text
    batch_size: int = 32
    learning_rate: float = 2e-3     # Adam, no weight decay
    dropout: float = 0.3
    check_every: int = 25           # optimizer steps between validation checks
    patience: int = 250             # steps without a better validation accuracy before stopping
    min_steps: int = 250            # no run stops before this many steps
    max_steps: int = 6000
    seed: int = 0
    verbose: int = 0                # 1: log every validation check


@dataclass
class TrainResult:
    model_path: Path | None         # None when trained without an out_dir
    embed_path: Path | None
    init: dict                      # Start.describe()
    test_accuracy: float
    validation_accuracy: float
    steps: int                      # optimizer steps run
    best_step: int                  # the step whose weights were kept
    vocabulary: dict                # rows, trained, carried over, ...
    train_seconds: float
    test_correct: np.ndarray = field(repr=False, default=None)  # per test text

    def describe(self) -> dict:
        """The facts the manifest records."""
        d = asdict(self)
        for k in ("model_path", "embed_path", "test_correct"):
            d.pop(k)
        return d


def train_classifier(split: Split, out_dir: Path | None,
                     settings: ClassifierSettings = ClassifierSettings(),
                     start: Start = SCRATCH) -> TrainResult:
    """Train with early stopping on the validation set, evaluate on the test set, save
    `model.keras` and `embed.json` in out_dir (nothing is saved when out_dir is None)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from service.builder.early_stopping import StepStopping

    started = time.perf_counter()
    keras.utils.set_random_seed(settings.seed)
    dim = start.table.vector_size if start.table is not None else settings.embedding_dim
    vocab = build_vocabulary(split.train.texts, start, dim=dim, seed=settings.seed,
                             max_tokens=settings.max_tokens)
    key_to_index = {k: i for i, k in enumerate(vocab.keys)}
    x = {name: ids(part.texts, key_to_index, settings.sequence_length)
         for name, part in (("train", split.train), ("validation", split.validation), ("test", split.test))}
    # The rows some text reads; the others cannot change (see the module docstring).
    read = np.union1d(np.concatenate([v.ravel() for v in x.values()]), [0, 1])
    compact = np.zeros(len(vocab.keys), dtype="int32")
    compact[read] = np.arange(len(read), dtype="int32")
    x = {k: compact[v] for k, v in x.items()}

    n_classes = len(split.train.classes)
    model = _core(keras, len(read), dim, n_classes, settings, trainable=start.trainable)
    model.get_layer(EMBEDDING_LAYER).set_weights([vocab.weights[read]])
    model.compile(optimizer=optimizer(keras, settings), loss="sparse_categorical_crossentropy",
                  steps_per_execution=settings.check_every)
    train = (tf.data.Dataset.from_tensor_slices((x["train"], split.train.labels))
             .shuffle(len(split.train), seed=settings.seed, reshuffle_each_iteration=True)
             .repeat().batch(settings.batch_size).prefetch(2))
    stop = StepStopping(x["validation"], split.validation.labels, every=settings.check_every,
                        patience=settings.patience, min_steps=settings.min_steps,
                        verbose=settings.verbose)
    model.fit(train, steps_per_epoch=settings.max_steps, epochs=1, callbacks=[stop], verbose=0)
    correct = np.argmax(model.predict_on_batch(x["test"]), axis=1) == split.test.labels

    rows = vocab.weights.copy()
    rows[read] = model.get_layer(EMBEDDING_LAYER).get_weights()[0]
    # Word rows some training text reads (so fine-tuning moved them); the others are carried
    # over as they started (pretrained vectors, or the random start of a frozen layer).
    trained_rows = int((np.unique(x["train"]) >= 2).sum()) if start.trainable else 0
    composition = {"rows": len(vocab.words), **vocab.composition, "rows_trained": trained_rows,
                   "rows_carried_over": len(vocab.words) - trained_rows}
    model_path = embed_path = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        exported = _exported(keras, model, vocab.words, rows, n_classes, settings)
        model_path = out_dir / "model.keras"
        exported.save(model_path)
        embed_path = write_embed_config(out_dir / EMBED_FILE, rows, settings.sequence_length)
    result = TrainResult(
        model_path=model_path, embed_path=embed_path, init=start.describe(),
        test_accuracy=round(float(correct.mean()), 4), validation_accuracy=round(stop.best_accuracy, 4),
        steps=stop.steps, best_step=stop.best_step, vocabulary=composition,
        train_seconds=round(time.perf_counter() - started, 1), test_correct=correct)
    log.info("classifier (%s, %s): %d train texts, %d rows x %d (%d trained), %d steps "
             "(best %d), validation %.4f, test accuracy %.4f, %.1fs", start.name,
             result.init["vocabulary"], len(split.train), len(vocab.keys), dim, trained_rows,
             result.steps, result.best_step, result.validation_accuracy, result.test_accuracy,
             result.train_seconds)
    return result


def optimizer(keras, settings: ClassifierSettings):
    """The optimizer every run uses: Adam without weight decay, so a row no text reads
    keeps its value exactly (its moments stay 0 and its update is 0)."""
    return keras.optimizers.Adam(settings.learning_rate)


def _core(keras, rows: int, dim: int, n_classes: int, settings: ClassifierSettings, *,
          trainable: bool = True):
    """The classifier on row numbers: Embedding -> mean -> Dropout -> Dense."""
    return keras.Sequential([
        keras.Input(shape=(None,), dtype="int32", name="rows"),
        keras.layers.Embedding(rows, dim, mask_zero=True, name=EMBEDDING_LAYER, trainable=trainable),
        keras.layers.GlobalAveragePooling1D(name=POOLING_LAYER),
        keras.layers.Dropout(settings.dropout, seed=settings.seed),
        keras.layers.Dense(n_classes, activation="softmax", name="classes"),
    ], name="task_classifier_rows")


def _exported(keras, trained, words: list[str], rows: np.ndarray, n_classes: int,
              settings: ClassifierSettings):
    """The saved model: text in, with the whole vocabulary and every row."""
    inputs = keras.Input(shape=(1,), dtype="string", name="text")
    x = keras.layers.TextVectorization(vocabulary=words, output_sequence_length=settings.sequence_length,
                                       name="vectorize")(inputs)
    embedding = keras.layers.Embedding(len(rows), rows.shape[1], mask_zero=True, name=EMBEDDING_LAYER)
    x = keras.layers.GlobalAveragePooling1D(name=POOLING_LAYER)(embedding(x))
    x = keras.layers.Dropout(settings.dropout, seed=settings.seed)(x)
    classes = keras.layers.Dense(n_classes, activation="softmax", name="classes")
    model = keras.Model(inputs, classes(x), name="task_classifier")
    embedding.set_weights([rows])
    classes.set_weights(trained.get_layer("classes").get_weights())
    return model


def write_embed_config(path: Path, rows: np.ndarray, sequence_length: int | None) -> Path:
    """embed.json: how to turn text into the pooling layer's output without TensorFlow."""
    config = {
        "format": EMBED_FORMAT,
        "tokenizer": TOKENIZER,
        "pooling": "mean",           # GlobalAveragePooling1D over the non-padding tokens
        "mask_zero": True,
        "sequence_length": sequence_length,
        "unk_token": "[UNK]",
        "unk_vector": [float(v) for v in rows[1]],  # row 1 of a TextVectorization vocabulary
    }
    path.write_text(json.dumps(config) + "\n", encoding="utf-8")
    return path


__all__ = ["ClassifierSettings", "TrainResult", "Start", "Vocabulary", "train_classifier"]
