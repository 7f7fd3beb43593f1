"""The Keras reader: a tiny model saved and reloaded, vocabulary from TextVectorization."""
from __future__ import annotations

import numpy as np
import pytest

from service.builder.sources import read_table

keras = pytest.importorskip("keras", reason="the [train] extra installs TensorFlow/Keras")


def _model(tmp_path, with_vectorizer=True):
    texts = ["good film", "bad film", "great acting", "awful plot"]
    inputs = keras.Input(shape=(1,), dtype="string")
    vectorize = keras.layers.TextVectorization(max_tokens=20, name="vectorize")
    vectorize.adapt(texts)
    vocab_size = len(vectorize.get_vocabulary())
    x = vectorize(inputs)
    x = keras.layers.Embedding(vocab_size, 4, name="embedding")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "model.keras"
    model.save(path)
    return path, vectorize.get_vocabulary(), model.get_layer("embedding").get_weights()[0]


@pytest.mark.slow
def test_keras_embedding_with_textvectorization_vocab(tmp_path):
    path, vocab, weights = _model(tmp_path)
    got = read_table("keras", path)
    assert "" not in got.index_to_key and "[UNK]" not in got.index_to_key
    assert got.index_to_key == vocab[2:]
    np.testing.assert_array_equal(got.vectors, weights[2:])

    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(f"w{i}" for i in range(len(vocab))) + "\n")
    named = read_table("keras", path, layer="embedding", vocab=vocab_file)
    assert named.index_to_key == [f"w{i}" for i in range(len(vocab))]

    with pytest.raises(ValueError, match="no layer named 'nope'"):
        read_table("keras", path, layer="nope")
    short = tmp_path / "short.txt"
    short.write_text("a\nb\n")
    with pytest.raises(ValueError, match="vocabulary has 2 words"):
        read_table("keras", path, vocab=short)


def test_not_a_keras_file(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.keras"):
        read_table("keras", bad)
