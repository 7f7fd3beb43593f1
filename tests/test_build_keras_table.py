"""The Keras reader on models as people save them (tests/support/keras_models.py): the keras.io tutorial
with its custom standardization, the vectorizer outside with a vocabulary file, a vocabulary
smaller than the Embedding, a nested model; a wrong layer or a file that is no model refused
in one line; the model's own accuracy."""
from __future__ import annotations

import logging
import zipfile

import numpy as np
import pytest

from service import cli
from service.builder.keras_table import model_accuracy, read_keras
from service.builder.sources import read_table
from service.store import catalog
from tests.support import keras_models as km

pytestmark = km.needs_keras

STANDARDIZE = "usertext:custom_standardization"


@pytest.fixture(scope="module")
def data():
    return km.headlines(600)


def _vocabulary_and_rows(path, layer, **custom):
    import keras

    model = keras.saving.load_model(path, compile=False, **custom)
    [vectorize] = [lyr for lyr in _all(model) if isinstance(lyr, keras.layers.TextVectorization)]
    rows = next(lyr for lyr in _all(model) if lyr.name == layer).get_weights()[0]
    return vectorize.get_vocabulary(), rows, model


def _all(model):
    for lyr in model.layers:
        yield lyr
        if hasattr(lyr, "layers"):
            yield from _all(lyr)


@pytest.mark.slow
def test_tutorial_model_with_its_custom_standardization(tmp_path, monkeypatch, data):
    texts, labels = data
    function = km.user_function(tmp_path)
    path = km.tutorial(tmp_path, texts, labels, function)
    km.forget_user_function()
    monkeypatch.chdir(tmp_path)  # the user's module is in the folder they build from

    with pytest.raises(ValueError) as refused:
        read_keras(path)
    message = str(refused.value)
    assert "custom function 'Custom>custom_standardization'" in message
    assert "--standardize module:function" in message and "\n" not in message and len(message) < 250

    table = read_keras(path, standardize=STANDARDIZE)
    words, rows, model = _vocabulary_and_rows(
        path, table.details["layer"], custom_objects={"custom_standardization": function})
    assert table.index_to_key == words[2:]
    np.testing.assert_array_equal(table.vectors, rows[2:len(words)])
    assert table.details["unused_rows"] == km.MAX_TOKENS - len(words) == 0  # 600 headlines fill it
    said = table.details["sentence_vectors"]  # its Conv1D stack: the ONNX sub-model
    [pooling] = [lyr.name for lyr in km.all_layers(model) if type(lyr).__name__ == "GlobalMaxPooling1D"]
    assert (said["exact"], said["method"], said["layer"]) == (True, "onnx", pooling)
    assert table.details["embed"]["model"]["vocabulary"] == words  # ids in the Embedding's order
    tokenizer = table.details["embed"]["tokenizer"]  # the function, replayed from its ops
    assert tokenizer["standardize"] == "steps" and tokenizer["custom"] == "custom_standardization"
    assert [s["op"] for s in tokenizer["steps"]] == ["lower", "regex_replace", "regex_replace"]

    got = model_accuracy(path, texts, labels, standardize=STANDARDIZE)
    assert got == pytest.approx(km.evaluate(model, texts, labels), abs=1e-6)

    with pytest.raises(ValueError, match="usertext has no function 'nope'"):
        read_keras(path, standardize="usertext:nope")
    with pytest.raises(ValueError, match="write module:function"):
        read_keras(path, standardize="usertext")


@pytest.mark.slow
def test_vectorizer_outside_vocabulary_file_smaller_than_the_table(tmp_path, data, caplog):
    """The issue's case: max_tokens=20000 on a small dataset, the vocabulary in a file. The
    rows the vocabulary indexes are read, the rest reported, through build-index too."""
    import keras

    texts, labels = data
    path, vocab = km.ids_model(tmp_path, texts, labels, max_tokens=20000, rows=20000)
    words = vocab.read_text().splitlines()
    with caplog.at_level(logging.WARNING):
        table = read_keras(path, vocab=vocab)
    assert f"the last {20000 - len(words)} rows are never looked up" in caplog.text
    rows = keras.saving.load_model(path, compile=False).get_layer("embedding").get_weights()[0]
    assert table.index_to_key == words[2:]
    np.testing.assert_array_equal(table.vectors, rows[2:len(words)])
    assert table.details["unused_rows"] == 20000 - len(words)
    assert "the vectorizer is outside the model" in table.details["sentence_vectors"]["computed"]
    assert table.details["embed"]["sequence_length"] == km.LENGTH

    vectorize = keras.layers.TextVectorization(vocabulary=words[2:], output_sequence_length=km.LENGTH)
    model = keras.saving.load_model(path, compile=False)
    want = km.evaluate(model, vectorize(np.array(texts)[:, None]), labels)
    assert model_accuracy(path, texts, labels, vocab=vocab) == pytest.approx(want, abs=1e-6)

    cat = tmp_path / "cat"
    assert cli.main(["build-index", "mine", "--from", f"keras:{path}", "--vocab", str(vocab),
                     "--catalog", str(cat)]) == 0
    manifest = catalog.read_manifest(catalog.resolve(cat, "mine"))
    assert manifest["rows"] == len(words) - 2
    assert manifest["details"]["unused_rows"] == 20000 - len(words)
    assert "embed" not in manifest["details"] and "embed.json" in manifest["files"]

    longer = tmp_path / "longer.txt"
    longer.write_text("\n".join(f"w{i}" for i in range(20001)))
    with pytest.raises(ValueError, match="vocabulary has 20001 words but layer 'embedding' has 20000 rows"):
        read_keras(path, vocab=longer)


@pytest.mark.slow
def test_nested_end_to_end_model(tmp_path, data):
    texts, labels = data
    path = km.nested(tmp_path, texts, labels)
    table = read_table("keras", path)
    words, rows, model = _vocabulary_and_rows(path, "words")
    assert table.details["layer"] == "words" and table.index_to_key == words[2:]
    np.testing.assert_array_equal(table.vectors, rows[2:])
    assert table.details["unused_rows"] == 0
    said = table.details["sentence_vectors"]
    assert (said["computed"], said["exact"], said["method"]) == (
        "the model's GlobalAveragePooling1D output: mean of the Embedding rows of the tokens", True,
        "numpy")
    assert said["parity"]["min_cosine"] >= 0.9999 and said["parity"]["texts"] >= 200
    assert table.details["embed"]["mask_zero"] is True
    want = km.evaluate(model, texts, labels)
    assert model_accuracy(path, texts, labels) == pytest.approx(want, abs=1e-6)


@pytest.mark.slow
def test_softmax_model_accuracy_is_argmax(tmp_path, data):
    import keras

    texts, labels = data
    path = km.pooled(tmp_path, texts, labels, classes=2)
    model = keras.saving.load_model(path, compile=False)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    want = float(model.evaluate(km.text_input(texts), labels, verbose=0)[1])
    assert model_accuracy(path, texts, labels) == pytest.approx(want, abs=1e-6)
    with pytest.raises(ValueError, match="labels go up to 2 but the model has 2 outputs"):
        model_accuracy(path, texts, np.full(len(texts), 2))


@pytest.mark.slow
def test_wrong_layer_lists_the_embedding_layers(tmp_path, data):
    texts, labels = data
    path = km.nested(tmp_path, texts, labels)
    with pytest.raises(ValueError, match=r"no layer named 'embedding'; the Embedding layers are: 'words'"):
        read_keras(path, layer="embedding")
    with pytest.raises(ValueError, match=r"layer 'pooling' is a GlobalAveragePooling1D; the Embedding "
                                         r"layers are: 'words'"):
        read_keras(path, layer="pooling")


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 truncated", "zip"])
def test_not_a_keras_file_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.keras"
    if content == "zip":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("notes.txt", "no config.json here")
    else:
        bad.write_bytes(content)
    with pytest.raises(ValueError) as refused:
        read_table("keras", bad)
    message = str(refused.value)
    assert message.startswith(f"{bad}: not a Keras model (")
    assert "\n" not in message and len(message) < len(str(bad)) + 100


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_table("keras", tmp_path / "none.keras")


@pytest.mark.slow
def test_a_lambda_or_an_unknown_class_is_one_line(tmp_path):
    import keras

    inputs = keras.Input(shape=(4,), dtype="int64")
    x = keras.layers.Embedding(10, 3)(inputs)
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(x))
    lambda_model.save(tmp_path / "lambda.keras")

    @keras.saving.register_keras_serializable(package="mine")
    class Doubled(keras.layers.Layer):
        def call(self, t):
            return t * 2

    inputs = keras.Input(shape=(4,), dtype="int64")
    keras.Model(inputs, Doubled()(keras.layers.Embedding(10, 3)(inputs))).save(tmp_path / "class.keras")
    keras.saving.get_custom_objects().pop("mine>Doubled")
    for name, reason in (("lambda", "holds Python code (a Lambda layer)"),
                         ("class", "uses the custom class 'Doubled', which is not known here")):
        with pytest.raises(ValueError) as refused:
            read_keras(tmp_path / f"{name}.keras")
        assert reason in str(refused.value) and "\n" not in str(refused.value)
