"""fastText files: a tiny model trained here with gensim, saved as fastText's .bin (read for its
full-word vectors) and as .vec text; the format guessed from the file, and a wrong prefix
answered with the right one."""
from __future__ import annotations

import numpy as np
import pytest

from service import cli
from service.store import catalog, formats
from service.store.tables import read_table
from service.text import tokenize
from tests.support import keras_models as km


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    texts, _ = km.headlines(2000)
    folder = tmp_path_factory.mktemp("fasttext")
    model = FastText(vector_size=8, window=3, min_count=3, bucket=5000, min_n=3, max_n=5, seed=0,
                     workers=1)
    sentences = [tokenize(t) for t in texts]
    model.build_vocab(corpus_iterable=sentences)
    model.train(corpus_iterable=sentences, total_examples=len(sentences), epochs=2)
    save_facebook_model(model, str(folder / "headlines.bin"))
    model.wv.save_word2vec_format(str(folder / "headlines.vec"))
    (folder / "glove.txt").write_text("the 0.1 0.2\nof 0.3 0.4\n")
    return model.wv, folder


def test_bin_gives_the_full_word_vectors(model_files):
    wv, folder = model_files
    table = read_table("fasttext", folder / "headlines.bin")
    assert table.index_to_key == wv.index_to_key and len(table.index_to_key) > 100
    np.testing.assert_allclose(table.vectors, wv.vectors, atol=1e-6)
    word = wv.index_to_key[5]
    np.testing.assert_allclose(table.vectors[5], wv[word], atol=1e-6)
    assert table.details["format"] == "fasttext" and table.details["min_n"] == 3


def test_vec_text(model_files):
    wv, folder = model_files
    table = read_table("fasttext", folder / "headlines.vec")
    assert table.index_to_key == wv.index_to_key and table.details["format"] == "fasttext"
    np.testing.assert_allclose(table.vectors, wv.vectors, atol=1e-5)
    assert read_table("word2vec", folder / "headlines.vec").index_to_key == wv.index_to_key


def test_format_guessed_and_wrong_prefixes_corrected(model_files):
    _, folder = model_files
    binary, vec, glove = folder / "headlines.bin", folder / "headlines.vec", folder / "glove.txt"
    assert formats.resolve(str(binary)) == ("fasttext", str(binary), True)
    assert formats.resolve(str(vec)) == ("fasttext", str(vec), True)
    assert formats.resolve(f"word2vec:{vec}") == ("word2vec", str(vec), False)
    assert formats.dimension("fasttext", str(vec)) == 8 and formats.dimension("fasttext", str(binary)) is None
    with pytest.raises(ValueError, match=f"looks like fastText .*; write fasttext:{binary}"):
        formats.resolve(f"word2vec:{binary}")
    with pytest.raises(ValueError, match=f"write fasttext:{vec}"):
        formats.resolve(f"glove:{vec}")
    with pytest.raises(ValueError, match=f"write glove:{glove}"):
        formats.resolve(f"fasttext:{glove}")


def test_a_truncated_bin_is_refused_naming_it(model_files, tmp_path):
    _, folder = model_files
    cut = tmp_path / "cut.bin"
    cut.write_bytes((folder / "headlines.bin").read_bytes()[:200])
    with pytest.raises(ValueError, match=f"{cut}: not a fastText .bin model"):
        read_table("fasttext", cut)


def test_build_index_from_a_bare_bin(model_files, tmp_path, capsys):
    wv, folder = model_files
    cat = tmp_path / "cat"
    assert cli.main(["build-index", "ft", "--from", str(folder / "headlines.bin"),
                     "--catalog", str(cat)]) == 0
    assert "read as fasttext (guessed from the file" in capsys.readouterr().out
    manifest = catalog.read_manifest(catalog.resolve(cat, "ft"))
    assert manifest["rows"] == len(wv.index_to_key) and manifest["details"]["kind"] == "vectors"
    assert manifest["source"]["format"] == "fasttext"
