"""Sentence vectors follow the imported model: the service's numpy vector against the model's
own pooling layer output (a Keras sub-model from the text input to the pooling layer), on
100 held-out headlines; and where the model has layers the service does not compute, every
embed answer says what is computed instead."""
from __future__ import annotations

import numpy as np
import pytest

from service import cli, create_app
from service.builder.keras_table import read_keras
from service.settings import Settings
from service.store import catalog
from service.store.embed import EMBED_FILE, embed_texts, write_embed_config
from service.store.space import Space
from tests.support import keras_models as km

pytestmark = km.needs_keras


@pytest.fixture(scope="module")
def data():
    texts, labels = km.headlines(700)
    return texts[:600], labels[:600], texts[600:] + ["", "!!!", "Zyzzyva QUUX, the unheard-of words"]


def publish(folder, name, table) -> Space:
    details = dict(table.details)
    config = details.pop("embed")
    cat = folder / "cat"
    catalog.write_space(cat, name, table, source={"format": "keras"}, details=details,
                        extra_files={EMBED_FILE: write_embed_config(folder / EMBED_FILE, config)})
    return Space.load(cat, name)


@pytest.mark.slow
@pytest.mark.parametrize("pooling,mask_zero", [("average", False), ("average", True), ("max", False),
                                               ("max", True)])
def test_vectors_match_the_models_pooling_layer(tmp_path, data, pooling, mask_zero):
    texts, labels, held_out = data
    path = km.pooled(tmp_path, texts, labels, pooling=pooling, mask_zero=mask_zero)
    table = read_keras(path)
    assert table.details["sentence_vectors"]["exact"] is True
    space = publish(tmp_path, "mine", table)

    got = embed_texts(space, held_out)
    want = km.pooling_output(path, held_out)
    counted = [i for i, e in enumerate(got) if e.tokens]  # Keras's mean of nothing is NaN
    assert len(counted) == 101
    vectors = np.stack([got[i].vector for i in counted])
    cos = km.cosines(vectors, want[counted])
    print(f"{pooling} mask_zero={mask_zero}: min cosine {cos.min():.6f} on {len(counted)} texts, "
          f"max abs difference {np.abs(vectors - want[counted]).max():.2e}")
    assert cos.min() >= 0.999
    np.testing.assert_allclose(vectors, want[counted], atol=1e-5)
    assert got[-1].missing and got[-1].tokens == 5


@pytest.mark.slow
@pytest.mark.parametrize("settings", [{"split": "character"}, {"ngrams": 2, "max_tokens": 150},
                                      {"standardize": "lower", "ngrams": 2}])
def test_other_vectorizer_settings(tmp_path, data, settings):
    """A character split (the space character is a token) and bigrams: the tokens with
    whitespace travel in embed.json while they are few; many are counted as [UNK], said so."""
    texts, labels, held_out = data
    path = km.pooled(tmp_path, texts, labels, mask_zero=True, **settings)
    table = read_keras(path)
    extra = table.details["embed"]["extra_vectors"]
    got = np.stack([e.vector for e in embed_texts(publish(tmp_path, "mine", table), held_out[:100])])
    cos = km.cosines(got, km.pooling_output(path, held_out[:100]))
    print(f"{settings}: {len(extra)} tokens with spaces in embed.json, min cosine {cos.min():.6f}")
    if "max_tokens" in settings or settings.get("split") == "character":
        assert extra and table.details["sentence_vectors"]["exact"] is True
        assert cos.min() >= 0.999
    else:
        assert not extra and table.details["sentence_vectors"]["exact"] is False
        assert "tokens with spaces (n-grams) are not in the space" in (
            table.details["sentence_vectors"]["computed"])


@pytest.mark.slow
def test_custom_standardization_is_replayed_or_named(tmp_path, monkeypatch, data):
    """The tutorial's custom_standardization (lower, <br /> and punctuation by regex) gives the
    model's vectors exactly, <br /> included; a function the server cannot replay is named."""
    texts, labels, held_out = data
    function = km.user_function(tmp_path)
    path = km.pooled(tmp_path, texts, labels, standardize=function, mask_zero=True)
    km.forget_user_function()
    monkeypatch.chdir(tmp_path)
    table = read_keras(path, standardize="usertext:custom_standardization")
    assert table.details["sentence_vectors"]["exact"] is True
    space = publish(tmp_path, "replayed", table)
    queries = held_out[:100] + ["Best<br />Film EVER!!", "what<br />a <br />headline"]
    got = np.stack([e.vector for e in embed_texts(space, queries)])
    cos = km.cosines(got, km.pooling_output(path, queries))
    print(f"custom_standardization replayed: min cosine {cos.min():.6f} on {len(queries)} texts")
    assert cos.min() >= 0.999

    other = km.pooled(tmp_path, texts, labels, standardize=km.user_function(tmp_path, name="first_characters"),
                      name="other")
    said = read_keras(other).details["sentence_vectors"]
    assert said["computed"].startswith(
        "the model's GlobalAveragePooling1D output: mean of the Embedding rows of the tokens; "
        "the model's custom standardization 'first_characters' is not applied: lowercase "
        "and punctuation stripping instead")
    assert (said["exact"], said["method"]) == (False, "approximation")


@pytest.mark.slow
def test_embed_answers_say_what_is_computed_for_the_tutorial_model(tmp_path, monkeypatch, data):
    """build-index, then the served answers: the tutorial's Conv1D stack is served by its ONNX
    sub-model, the nested model by numpy pooling; the space's details, every embed answer and
    compare/sentences say which, and both are the model's own vectors."""
    texts, labels, held_out = data
    path = km.tutorial(tmp_path, texts, labels, km.user_function(tmp_path))
    nested = km.nested(tmp_path, texts, labels)
    cat = tmp_path / "cat"
    assert cli.main(["build-index", "tutorial", "--from", f"keras:{path}", "--catalog", str(cat)]) == 0
    assert cli.main(["build-index", "nested", "--from", f"keras:{nested}", "--catalog", str(cat)]) == 0
    client = create_app(Settings(catalog=cat)).test_client()

    space = client.get("/v1/spaces/tutorial").get_json()
    said = space["details"]["sentence_vectors"]
    assert (said["exact"], said["method"]) == (True, "onnx") and "by ONNX Runtime" in said["computed"]
    answer = client.post("/v1/spaces/tutorial/embed", json={"texts": held_out[:3]}).get_json()
    assert answer["computed"] == said["computed"] and answer["exact"] is True
    got = np.array([r["vector"] for r in answer["results"]])
    assert km.cosines(got, km.own_output(path, held_out[:3], said["layer"])).min() >= 0.999

    answer = client.post("/v1/spaces/nested/embed", json={"texts": held_out[:3]}).get_json()
    assert answer["exact"] is True
    assert client.get("/v1/spaces/nested").get_json()["details"]["sentence_vectors"]["method"] == "numpy"
    want = km.pooling_output(nested, held_out[:3])
    got = np.array([r["vector"] for r in answer["results"]])
    assert km.cosines(got, want).min() >= 0.999

    compared = client.post("/v1/compare/sentences", json={"sentences": held_out[:2],
                                                          "spaces": ["tutorial", "nested"]}).get_json()
    assert [(s["space"], s["exact"]) for s in compared["spaces"]] == [("tutorial", True), ("nested", True)]
    assert compared["spaces"][0]["computed"] == said["computed"]
