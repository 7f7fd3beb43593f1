"""A synthetic sentiment task, a small pretrained table and small classifier settings, for the
tests that train a real Keras classifier in seconds."""
from __future__ import annotations

import numpy as np

from service.builder.task_data import Dataset
from service.store.tables import Table

POSITIVE = ["great", "superb", "lovely", "moving", "brilliant"]
NEGATIVE = ["awful", "dull", "boring", "clumsy", "tedious"]
NEUTRAL = ["the", "film", "plot", "actors", "was", "and", "story", "a", "scene", "music"]
ONLY_PRETRAINED = ["alps", "himalaya", "soups"]  # no training text has them


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


def pretrained(dim: int = 6, seed: int = 0) -> Table:
    """A table with the polarity words, words no text has, and one the tokenizer never makes."""
    words = POSITIVE + NEGATIVE + ["film"] + ONLY_PRETRAINED + ["u.s."]
    return Table(words, np.random.default_rng(seed).normal(size=(len(words), dim)).astype("float32"))


def small_settings(**kw):
    from service.builder.classifier import ClassifierSettings

    return ClassifierSettings(**{"embedding_dim": 8, "batch_size": 16, "learning_rate": 1e-2,
                                 "sequence_length": 12, "check_every": 10, "patience": 60,
                                 "min_steps": 80, "max_steps": 400, **kw})
