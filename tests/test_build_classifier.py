"""The Keras classifier, really trained on tiny seeded data: from scratch, from a pretrained
table with the union vocabulary (every pretrained word kept, untouched rows bit-identical),
the training-words-only ablation, a frozen start, and early stopping counted in steps."""
from __future__ import annotations

import json

import numpy as np
import pytest

from service.builder.sources import read_table
from service.builder.task_data import split
from service.builder.classifier_vocabulary import (Start, build_vocabulary, ids, training_words,
                                                   unseen_share)
from tests.support.classifier import ONLY_PRETRAINED, pretrained, sentiment_data, small_settings
from tests.support.keras_models import needs_keras

pytestmark = [pytest.mark.slow, needs_keras]


def test_train_from_scratch_saves_model_and_embed_config(tmp_path):
    from service.builder.classifier import train_classifier

    result = train_classifier(split(sentiment_data(), seed=0), tmp_path, small_settings())
    assert result.test_accuracy > 0.9 and result.init["start"] == "scratch"
    assert 80 <= result.steps <= 400 and result.best_step % 10 == 0 and 0 < result.best_step <= result.steps
    assert result.test_correct.shape == (80,) and result.test_correct.mean() == result.test_accuracy
    table = read_table("keras", result.model_path)
    assert table.vector_size == 8 and "great" in table.index_to_key and "alps" not in table.index_to_key
    assert result.vocabulary["rows"] == len(table.index_to_key) == result.vocabulary["rows_trained"]
    config = json.loads(result.embed_path.read_text())
    assert config["pooling"] == "mean" and config["sequence_length"] == 12
    assert len(config["unk_vector"]) == 8


def test_union_start_keeps_every_pretrained_word_with_its_vector(tmp_path):
    from service.builder.classifier import train_classifier

    init = pretrained()
    result = train_classifier(split(sentiment_data(), seed=1), tmp_path, small_settings(embedding_dim=99),
                              Start("word2vec", init))
    assert result.init == {"start": "word2vec", "vocabulary": "union", "trainable": True, "rows": None}
    assert result.test_accuracy > 0.9
    table = read_table("keras", result.model_path)
    assert table.vector_size == 6  # the table's size wins
    rows = {w: table.vectors[i] for i, w in enumerate(table.index_to_key)}
    for word in ONLY_PRETRAINED:  # carried over, bit for bit
        np.testing.assert_array_equal(rows[word], init.vectors[init.index_to_key.index(word)])
    for word in ("great", "dull", "film"):  # trained: moved away from the pretrained vector
        assert not np.array_equal(rows[word], init.vectors[init.index_to_key.index(word)])
    assert "u.s." not in rows  # no text can produce it
    v = result.vocabulary
    assert v["pretrained_only"] == len(ONLY_PRETRAINED) and v["from_pretrained"] == 11
    assert v["rows"] == v["training_words"] + v["pretrained_only"] == len(table.index_to_key)
    assert v["rows_carried_over"] == len(ONLY_PRETRAINED) and v["rows_trained"] == v["training_words"]


def test_training_words_ablation_and_frozen_start(tmp_path):
    from service.builder.classifier import train_classifier

    init, data = pretrained(), split(sentiment_data(), seed=2)
    ablation = train_classifier(data, tmp_path / "a", small_settings(), Start("word2vec", init, "training"))
    assert "alps" not in read_table("keras", ablation.model_path).index_to_key
    assert ablation.vocabulary["pretrained_only"] == 0

    frozen = train_classifier(data, tmp_path / "f", small_settings(), Start("word2vec", init, trainable=False))
    table = read_table("keras", frozen.model_path)
    start = build_vocabulary(data.train.texts, Start("word2vec", init), dim=6, seed=0, max_tokens=20_000)
    np.testing.assert_array_equal(table.vectors, start.weights[2:])  # nothing moved
    assert frozen.vocabulary["rows_trained"] == 0 and frozen.test_accuracy > 0.6  # chance 0.5


def test_rows_no_text_reads_stay_bit_identical_under_the_optimizer():
    """Why training on the rows the texts read is the same as training the whole table: with
    the project's optimizer, a row whose gradient is always zero does not move at all."""
    import keras

    from service.builder.classifier import _core, optimizer

    settings = small_settings()
    keras.utils.set_random_seed(0)
    table = np.random.default_rng(0).normal(size=(50, 8)).astype("float32")
    model = _core(keras, 50, 8, 2, settings)
    model.get_layer("embedding").set_weights([table])
    model.compile(optimizer=optimizer(keras, settings), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(1).integers(2, 20, size=(64, 5)).astype("int32")  # rows 2..19 only
    y = (x.sum(axis=1) % 2).astype("int32")
    model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    after = model.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(after[20:], table[20:])
    assert not np.array_equal(after[2:20], table[2:20])


def test_vocabulary_helpers():
    texts = ["The Alps, the alps!", "soups and THE alps"]
    assert training_words(texts) == ["alps", "the", "and", "soups"]
    assert training_words(texts, max_tokens=4) == ["alps", "the"]
    key_to_index = {"": 0, "[UNK]": 1, "alps": 2, "the": 3}
    assert ids(["the alps of old", "alps"], key_to_index, 3).tolist() == [[3, 2, 1], [2, 0, 0]]
    np.testing.assert_allclose(unseen_share(["the alps", "new words here", ""], {"the", "alps", "here"}),
                               [0.0, 2 / 3, 0.0])
