"""`tokenize_as` gives the tokens a TextVectorization layer with the same settings looks up,
for every standardize, split and ngrams setting an imported model may have."""
from __future__ import annotations

import pytest

from service.text import replay, tokenize_as
from tests.support.texts import TRICKY

SETTINGS = [(standardize, split, ngrams)
            for standardize in ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
            for split in ("whitespace", "character", None)
            for ngrams in (None, 2)
            if not (split is None and ngrams)]  # ngrams need a split


def test_plain_settings():
    assert tokenize_as("It's GREAT, great", {"standardize": "lower", "split": "whitespace"}) == [
        "it's", "great,", "great"]
    assert tokenize_as("Ab c", {"standardize": "none", "split": "character"}) == ["A", "b", " ", "c"]
    assert tokenize_as("a b c", {"standardize": "none", "split": "whitespace", "ngrams": 2}) == [
        "a", "b", "c", "a b", "b c"]
    assert tokenize_as("A, b", {"standardize": "strip_punctuation", "split": "none"}) == ["A b"]


@pytest.mark.slow
@pytest.mark.parametrize("standardize,split,ngrams", SETTINGS)
def test_tokens_match_textvectorization(standardize, split, ngrams):
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    texts = [t for t in TRICKY if t.strip()]
    settings = {"standardize": standardize or "none", "split": split or "none", "ngrams": ngrams}
    vocab = sorted({t for text in texts for t in tokenize_as(text, settings)} - {""})
    layer = keras.layers.TextVectorization(standardize=standardize, split=split, ngrams=ngrams,
                                           output_mode="int", vocabulary=vocab)
    table = layer.get_vocabulary()
    for text in texts:
        ids = layer(tf.constant([[text]])).numpy().reshape(-1)
        keras_tokens = [table[i] for i in ids if i != 0]
        assert "[UNK]" not in keras_tokens, text
        assert keras_tokens == tokenize_as(text, settings), text


def test_replay_of_traced_string_ops():
    steps = [{"op": "lower", "encoding": ""},
             {"op": "regex_replace", "pattern": "<br />", "rewrite": " ", "global": True},
             {"op": "regex_replace", "pattern": r"(\w+)@(\w+)", "rewrite": r"\2 at \1", "global": False}]
    assert replay("ÉCOLE<br />Me@Here a@b", steps) == "École here at me a@b"  # ASCII lower, once
    assert replay("x\\y", [{"op": "regex_replace", "pattern": r"\\", "rewrite": "\\\\", "global": True}]) == "x\\y"
    settings = {"standardize": "steps", "split": "whitespace", "steps": steps}
    assert tokenize_as("Best<br />Film", settings) == ["best", "film"]


@pytest.mark.parametrize("steps", [None, [{"op": "upper"}], [{"op": "regex_replace", "pattern": "(",
                                                              "rewrite": ""}]])
def test_bad_steps_refused(steps):
    from service.store.embed import EMBED_FORMAT, check_embed_config

    config = {"format": EMBED_FORMAT, "pooling": "mean", "unk_vector": [0.0],
              "tokenizer": {"standardize": "steps", "split": "whitespace", "steps": steps}}
    with pytest.raises(ValueError, match="tokenizer steps"):
        check_embed_config(config, "embed.json")
