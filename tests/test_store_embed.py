"""Sentence vectors in numpy agree with the Keras model's pooling layer, and word spaces
average normalised word vectors."""
from __future__ import annotations

import numpy as np
import pytest

from service.store import catalog
from service.store.embed import embed_texts
from service.store.space import Space
from tests.support.tables import toy_table

TEXTS = [
    "The film was GREAT, great!",
    "an unseen word: zyzzyva and more unseen words",
    "one two three four five six seven eight nine ten eleven twelve thirteen",  # truncated
    "film",
]


@pytest.mark.slow
@pytest.mark.parametrize("start", ["scratch", "union"])
def test_task_space_matches_keras_pooling_output(tmp_path, start):
    """Also for a union vocabulary: a word no training text had but the pretrained table
    has (alps, himalaya) is looked up, not taken for [UNK], exactly as the model does."""
    keras = pytest.importorskip("keras", reason="the [train] extra installs TensorFlow/Keras")
    from service.builder.classifier import POOLING_LAYER, ClassifierSettings, train_classifier
    from service.builder.keras_table import read_keras
    from service.builder.task_data import split
    from service.builder.classifier_vocabulary import Start
    from tests.support.classifier import pretrained, sentiment_data

    settings = ClassifierSettings(embedding_dim=8, max_steps=100, min_steps=50, check_every=25,
                                  sequence_length=10, seed=0)
    init = Start("word2vec", pretrained()) if start == "union" else Start()
    result = train_classifier(split(sentiment_data(200), seed=0), tmp_path / "model", settings, init)
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "task", read_keras(result.model_path), source={"format": "keras"},
                        details={"kind": "task"}, extra_files={"embed.json": result.embed_path})
    space = Space.load(cat, "task")

    got = embed_texts(space, TEXTS + ["the alps and the himalaya"])

    model = keras.saving.load_model(result.model_path, compile=False)
    pooling = keras.Model(model.inputs, model.get_layer(POOLING_LAYER).output)
    import tensorflow as tf

    want = pooling.predict(tf.constant(TEXTS + ["the alps and the himalaya"])[:, None], verbose=0)
    np.testing.assert_allclose(np.stack([e.vector for e in got]), want, atol=1e-5)
    assert got[1].missing == ["an", "unseen", "word", "zyzzyva", "more", "unseen", "words"]
    assert got[2].tokens == 10 and got[3].tokens == 1
    assert got[4].missing == ([] if start == "union" else ["alps", "himalaya"])


def test_word_space_means_normalised_vectors(tmp_path):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(n_noise=20), source={"format": "test"})
    space = Space.load(cat, "toy")
    [both, none, empty] = embed_texts(space, ["King, and the queen!", "nothing known", ""])
    want = (space.vectors[space.find("king")] + space.vectors[space.find("queen")]) / 2
    np.testing.assert_allclose(both.vector, want, atol=1e-6)
    assert both.tokens == 2 and both.missing == ["and", "the"]
    assert none.tokens == 0 and not none.vector.any() and none.missing == ["nothing", "known"]
    assert empty.tokens == 0 and empty.missing == []
