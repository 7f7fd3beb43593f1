"""The tokenizer agrees with a real Keras TextVectorization layer on tricky strings."""
from __future__ import annotations

import pytest

from service.text import clean, tokenize
from tests.support.texts import TRICKY



def test_tokenize_plain():
    assert tokenize("It's a GREAT film, isn't it?") == ["its", "a", "great", "film", "isnt", "it"]


@pytest.mark.slow
def test_tokenize_matches_textvectorization():
    keras = pytest.importorskip("keras")
    layer = keras.layers.TextVectorization(output_mode="int")
    vocab = sorted({t for text in TRICKY for t in tokenize(text)})
    layer.set_vocabulary(vocab)
    ids = layer([clean(t) for t in TRICKY]).numpy()
    table = layer.get_vocabulary()
    for text, row in zip(TRICKY, ids):
        keras_tokens = [table[i] for i in row if i != 0]
        assert "[UNK]" not in keras_tokens, text
        assert keras_tokens == tokenize(text), text


def test_unicode_line_separators_split_tokens():
    # Keras would save "a\u2028b" as two vocabulary lines and fail to load the model.
    assert tokenize("a\u2028b c\x85d") == ["a", "b", "c", "d"]
