"""word2vec: a real gensim model on a small seeded corpus, and the user's own vectors."""
from __future__ import annotations

import time

import numpy as np

from service.builder.corpus import Corpus
from service.builder.word2vec import Word2VecSettings, train_word2vec


def _corpus(n=600, seed=0) -> Corpus:
    """Two topics that never mix: animal words co-occur, vehicle words co-occur."""
    rng = np.random.default_rng(seed)
    topics = [["dog", "cat", "horse", "cow", "animal"], ["car", "bus", "train", "truck", "vehicle"]]
    sentences = [list(rng.choice(topics[i % 2], size=8)) for i in range(n)]
    tokens = sum(map(len, sentences))
    return Corpus(sentences, {"test": {"sentences": n, "tokens": tokens, "paths": []}})


def test_train_word2vec_table_and_details():
    # The raw rows: on two topics, all-but-the-top would remove the topic axis itself.
    settings = Word2VecSettings(vector_size=16, min_count=1, epochs=5, workers=1, window=3,
                                postprocess=None)
    corpus = _corpus()
    started = time.perf_counter()
    table = train_word2vec(corpus, settings)
    elapsed = time.perf_counter() - started
    assert sorted(table.index_to_key) == sorted(["dog", "cat", "horse", "cow", "animal",
                                                 "car", "bus", "train", "truck", "vehicle"])
    v = {k: table.vectors[i] / np.linalg.norm(table.vectors[i]) for i, k in enumerate(table.index_to_key)}
    assert v["dog"] @ v["cat"] > v["dog"] @ v["car"]
    d = table.details
    assert d["algorithm"] == "skip-gram" and d["hyperparameters"]["window"] == 3
    assert d["corpus"]["sources"]["test"]["tokens"] == 4800
    assert "wordsim353" not in d  # scored once, by the runner's scorecard
    # The training's own wall time, rounded to 0.1 s: within the call's, never more.
    assert isinstance(d["train_seconds"], float)
    assert 0 <= d["train_seconds"] <= round(elapsed, 1) + 0.05
    assert d["postprocess"] is None and d["hyperparameters"]["postprocess"] is None


def test_default_settings_post_process_and_record_it():
    settings = Word2VecSettings(vector_size=16, min_count=1, epochs=1, workers=1)
    assert settings.postprocess == "abtt:1:norm"
    raw = train_word2vec(_corpus(), Word2VecSettings(vector_size=16, min_count=1, epochs=1,
                                                     workers=1, postprocess=None))
    table = train_word2vec(_corpus(), settings)
    assert table.index_to_key == raw.index_to_key
    assert table.details["postprocess"] == {"d": 1, "keep_norm": True, "n_frequent": 20000,
                                            "method": "all-but-the-top"}
    assert table.details["hyperparameters"]["postprocess"] == "abtt:1:norm"
    # Each row keeps its norm; the rows' mean is gone.
    np.testing.assert_allclose(np.linalg.norm(table.vectors, axis=1),
                               np.linalg.norm(raw.vectors, axis=1), rtol=1e-4)
    assert np.linalg.norm(table.vectors.mean(axis=0)) < 0.5 * np.linalg.norm(raw.vectors.mean(axis=0))
