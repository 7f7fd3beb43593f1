"""The Keras classifier, really trained on tiny seeded data: from scratch and from word2vec."""
from __future__ import annotations

import json

import numpy as np
import pytest

from service.build.sources import read_table
from service.build.task_data import Dataset, split
from service.store.tables import Table

pytest.importorskip("keras", reason="the [train] extra installs TensorFlow/Keras")
pytestmark = pytest.mark.slow

POSITIVE = ["great", "superb", "lovely", "moving", "brilliant"]
NEGATIVE = ["awful", "dull", "boring", "clumsy", "tedious"]
NEUTRAL = ["the", "film", "plot", "actors", "was", "and", "story", "a", "scene", "music"]


def sentiment_data(n: int = 400, seed: int = 0) -> Dataset:
    """Texts of neutral words with two or three words of one polarity: the label."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(NEUTRAL, size=6)) + list(rng.choice([POSITIVE, NEGATIVE][label], size=2))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ("!" if i % 50 else "\u2028ok\x85"))
        labels.append(label)
    return Dataset("sentiment", texts, np.array(labels, dtype="int32"), ["pos", "neg"], "0" * 64, "test")


def small_settings(**kw):
    from service.build.classifier import ClassifierSettings

    return ClassifierSettings(**{"embedding_dim": 8, "epochs": 12, "batch_size": 16,
                                 "learning_rate": 1e-2, "sequence_length": 12, **kw})


def test_train_from_scratch_saves_model_and_embed_config(tmp_path):
    from service.build.classifier import train_classifier

    result = train_classifier(split(sentiment_data(), seed=0), tmp_path, small_settings())
    assert result.test_accuracy > 0.9 and result.init == "scratch"
    assert 1 <= result.best_epoch <= result.epochs <= 12
    table = read_table("keras", result.model_path)
    assert table.vector_size == 8 and "great" in table.index_to_key
    config = json.loads(result.embed_path.read_text())
    assert config["pooling"] == "mean" and config["sequence_length"] == 12
    assert len(config["unk_vector"]) == 8


def test_word2vec_init_rows_then_fine_tuned(tmp_path):
    from service.build.classifier import _initial_weights, train_classifier

    rng = np.random.default_rng(0)
    words = POSITIVE + NEGATIVE + ["unused"]
    init = Table(words, rng.normal(size=(len(words), 6)).astype("float32"))
    weights, coverage = _initial_weights(["", "[UNK]", "great", "film", "dull"], init, seed=0)
    np.testing.assert_array_equal(weights[2], init.vectors[0])
    np.testing.assert_array_equal(weights[4], init.vectors[words.index("dull")])
    assert coverage == {"initialised": 2, "vocabulary": 3, "percent": 66.67}

    result = train_classifier(split(sentiment_data(), seed=1), tmp_path,
                              small_settings(embedding_dim=99), init=init)
    assert result.init == "word2vec" and result.test_accuracy > 0.9
    assert result.init_coverage["initialised"] == 10
    assert read_table("keras", result.model_path).vector_size == 6  # word2vec's size wins


def test_learning_curve_small_grid():
    from service.build.experiment import CurveSettings, format_curve, learning_curve

    rng = np.random.default_rng(0)
    words = POSITIVE + NEGATIVE
    init = Table(words, rng.normal(size=(len(words), 8)).astype("float32"))
    curve = learning_curve(split(sentiment_data(300), seed=0), init, small_settings(epochs=4),
                           CurveSettings(sizes=(40, 0), seeds=(0,), min_steps=20, max_epochs=6))
    assert [(r["size"], r["init"], r["runs"]) for r in curve["rows"]] == [
        (40, "scratch", 1), (40, "word2vec", 1), (210, "scratch", 1), (210, "word2vec", 1)]
    assert all(0 <= r["mean"] <= 1 and r["std"] >= 0 for r in curve["rows"])
    assert "210" in format_curve(curve)
