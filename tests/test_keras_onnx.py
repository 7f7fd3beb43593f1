"""A Keras model's own sentence vectors, whatever sits between its Embedding and its sentence
layer (docs/keras-models.md): six shapes people build, each trained here (tiny, seeded, one
epoch), added with `build-index`, served, and checked against a Keras sub-model from the
Embedding's input to the sentence layer. Where numpy pooling is the model's (the legacy .h5),
numpy it stays; elsewhere the build exports the sub-model to ONNX and ONNX Runtime serves it.
A broken export (a weight changed, a wrong layer) is refused the label."""
from __future__ import annotations

import numpy as np
import pytest

from service import cli, create_app
from service.builder import keras_export
from service.builder.keras_table import read_keras
from service.settings import Settings
from service.store import catalog
from tests.support import keras_models as km

pytestmark = [pytest.mark.slow, km.needs_keras]

STANDARDIZE = "usertext:custom_standardization"
SHAPES = ("tutorial", "bilstm", "gru", "lstm_max", "mean_dense", "legacy")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{shape: (model file, build-index options, the sentence layer's name)}, the user's
    folder, and held-out texts."""
    import keras

    folder = tmp_path_factory.mktemp("user")
    texts, labels = km.headlines(300)
    train, y = texts[:240], labels[:240]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(km, "EPOCHS", 1)
        tutorial = km.tutorial(folder, train, y, km.user_function(folder))
        legacy, vocab = km.legacy_h5(folder, train, y)
        made = {"tutorial": (tutorial, ["--standardize", STANDARDIZE], None),
                "legacy": (legacy, ["--vocab", str(vocab)], "sentence")}
        for body in ("bilstm", "gru", "lstm_max", "mean_dense"):
            options = ["--sentence-layer", "sentence"] if body == "mean_dense" else []
            made[body] = (km.recurrent(folder, train, y, body, body), options, "sentence")
    km.forget_user_function()
    # The tutorial's sentence layer is its GlobalMaxPooling1D, named by Keras.
    model = keras.saving.load_model(tutorial, compile=False,
                                    custom_objects={"custom_standardization": km.user_function(folder)})
    pooling = next(lyr.name for lyr in km.all_layers(model)
                   if isinstance(lyr, keras.layers.GlobalMaxPooling1D))
    made["tutorial"] = (tutorial, made["tutorial"][1], pooling)
    return folder, made, texts[240:] + ["Best<br />Film EVER!!", "a", "zyzzyva quux"]


@pytest.fixture(scope="module")
def client(models, tmp_path_factory):
    folder, made, _ = models
    cat = tmp_path_factory.mktemp("cat")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the user's custom_standardization module is there
        for shape, (path, options, _) in made.items():
            assert cli.main(["build-index", shape, "--from", f"keras:{path}", *options,
                             "--catalog", str(cat)]) == 0
    km.forget_user_function()
    return create_app(Settings(catalog=cat)).test_client()


def reference(models, shape, texts):
    folder, made, _ = models
    path, options, layer = made[shape]
    vocab = folder / "legacy-vocab.txt" if shape == "legacy" else None
    if shape == "tutorial":
        km.user_function(folder)  # registered with Keras for the load
    try:
        return km.own_output(path, texts, layer, vocab=vocab)
    finally:
        km.forget_user_function()


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_gives_the_models_own_vectors(models, client, shape):
    _, made, held_out = models
    space = client.get(f"/v1/spaces/{shape}").get_json()
    said = space["details"]["sentence_vectors"]
    print(f"{shape}: {said}")
    assert said["exact"] is True and said["layer"] == made[shape][2]
    assert said["parity"]["texts"] >= 200 and said["parity"]["min_cosine"] >= 0.9999
    if shape == "legacy":  # numpy pooling is the model's own: no ONNX
        assert (said["method"], said["opset"]) == ("numpy", None)
        assert "the vectorizer is outside the model" in said["computed"]
    else:
        assert (said["method"], said["opset"]) == ("onnx", keras_export.OPSET)
        assert "by ONNX Runtime" in said["computed"]

    answer = client.post(f"/v1/spaces/{shape}/embed", json={"texts": held_out}).get_json()
    assert (answer["computed"], answer["exact"]) == (said["computed"], True)
    got = np.array([r["vector"] for r in answer["results"]])
    want = reference(models, shape, held_out)
    cos = km.cosines(got, want)
    print(f"{shape}: min cosine to the Keras sub-model {cos.min():.7f} on {len(held_out)} texts")
    assert cos.min() >= 0.999
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert answer["results"][-1]["missing"] == ["zyzzyva", "quux"]

    compared = client.post("/v1/compare/sentences", json={"sentences": held_out[:3],
                                                          "spaces": [shape]}).get_json()
    [row] = compared["spaces"]
    np.testing.assert_allclose(row["vectors"], got[:3], atol=1e-6)
    assert (row["computed"], row["exact"]) == (said["computed"], True)


def test_a_wrong_sentence_layer_lists_the_candidates(models, tmp_path, capsys):
    _, made, _ = models
    path = made["mean_dense"][0]
    assert cli.main(["build-index", "wrong", "--from", f"keras:{path}", "--sentence-layer",
                     "nope", "--catalog", str(tmp_path / "cat")]) == 2
    err = capsys.readouterr().err
    assert "no layer named 'nope'" in err and "'sentence'" in err
    assert "wrong" not in catalog.space_names(tmp_path / "cat")


def changed_weight(sub, path):
    """Keras's export, then one weight of the ONNX file changed."""
    import onnx
    from onnx import numpy_helper

    keras_export.export_onnx(sub, path)
    graph = onnx.load(str(path))
    weight = max(graph.graph.initializer, key=lambda t: np.prod(t.dims))
    array = numpy_helper.to_array(weight).copy()
    array.flat[: array.size // 2] += 0.5
    weight.CopyFrom(numpy_helper.from_array(array, weight.name))
    onnx.save(graph, str(path))


@pytest.mark.parametrize("broken", ["changed weight", "wrong layer"])
def test_a_broken_export_is_refused_the_label(models, tmp_path, monkeypatch, broken):
    """The parity check, not the export's success, earns `exact`: the served path keeps the
    honest label and says why. The wrong layer: the tutorial's sub-model up to the Dense after
    its GlobalMaxPooling1D (the same size, the model's own trained weights)."""
    import keras

    folder, made, _ = models
    path = made["tutorial"][0]
    monkeypatch.chdir(folder)
    model = keras.saving.load_model(path, compile=False, custom_objects={
        "custom_standardization": km.user_function(folder)})
    every = list(km.all_layers(model))
    pooling = next(i for i, lyr in enumerate(every) if lyr.name == made["tutorial"][2])
    dense = next(lyr for lyr in every[pooling:] if isinstance(lyr, keras.layers.Dense))

    def wrong_layer(sub, onnx_path):
        keras_export.export_onnx(keras.Model(sub.inputs, dense(sub.outputs[0])), onnx_path)

    export = changed_weight if broken == "changed weight" else wrong_layer
    try:
        table = read_keras(path, standardize=STANDARDIZE, export_to=tmp_path, export=export)
    finally:
        km.forget_user_function()
    said = table.details["sentence_vectors"]
    print(f"{broken}: {said}")
    assert said["exact"] is False and said["method"] == "approximation"
    assert said["parity"]["texts"] >= 200
    assert said["parity"]["min_cosine"] < keras_export.MIN_COSINE
    assert f"the ONNX sub-model up to {made['tutorial'][2]!r} differs from Keras" in said["computed"]
    assert "model" not in table.details["embed"]  # nothing to serve from it
