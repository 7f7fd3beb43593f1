"""The one registry of file formats (service/store/formats.py), and the files people have:
a .npy matrix with a vocabulary file, a .npz, an old .h5 told from its first bytes, a
SavedModel folder, a word2vec header that disagrees with its rows, a folder that is no table.
The spec, build-index's help and the docs list exactly the registry's formats."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from service import cli
from service.builder.spec import SpecError, load_spec
from service.store import catalog, formats
from service.store.tables import read_table
from tests.support import keras_models as km
from tests.support.tables import toy_table

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_docs_the_help_and_the_spec_list_the_registry_s_formats(tmp_path, capsys):
    spec_doc = (DOCS / "catalog-spec.md").read_text()
    table = re.search(r"\| name \| kind \| what it reads \|(.*?)\n\n", spec_doc, re.S).group(1)
    assert re.findall(r"^\| `([a-z0-9]+)` \|", table, re.M) == list(formats.FORMATS)
    for f in formats.FORMATS.values():
        assert f"| `{f.name}` | `{f.kind}` |" in table
    with pytest.raises(SystemExit):
        cli.main(["build-index", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for f in formats.FORMATS.values():
        assert f"{f.name}: {f.describe}" in shown
    (tmp_path / "my.toml").write_text('[spaces.x]\nkind = "vectors"\nsource = "v"\nformat = "npy"\n')
    with pytest.raises(SpecError, match=f"allowed: {formats.names()}$"):
        load_spec(tmp_path / "my.toml")


def _errors(capsys) -> list[str]:
    """The error lines of a command (each one line; no traceback)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if " ERROR " in line]


def _npy(tmp_path, n=30):
    t = toy_table(n_noise=n)
    np.save(tmp_path / "m.npy", t.vectors)
    (tmp_path / "words.txt").write_text("\n".join(t.index_to_key) + "\n")
    return t


def test_a_npy_matrix_with_its_vocabulary_is_built_and_served_rows_as_given(tmp_path, capsys):
    t = _npy(tmp_path)
    cat = tmp_path / "cat"
    args = ["build-index", "mine", "--from", str(tmp_path / "m.npy"), "--catalog", str(cat)]
    assert cli.main(args) == 2
    [error] = _errors(capsys)
    assert "without its words; give its words with --vocab FILE" in error
    assert cli.main(args + ["--vocab", str(tmp_path / "words.txt")]) == 0
    assert "read as numpy (guessed from the file" in capsys.readouterr().out
    manifest = catalog.read_manifest(catalog.resolve(cat, "mine"))
    assert manifest["rows"] == len(t.index_to_key) and manifest["details"]["kind"] == "vectors"
    assert manifest["source"]["format"] == "numpy"


def test_a_npz_holds_its_words_or_says_what_is_missing(tmp_path):
    t = toy_table(n_noise=10)
    np.savez(tmp_path / "e.npz", vectors=t.vectors, words=np.array(t.index_to_key))
    assert formats.sniff(tmp_path / "e.npz") == "numpy"
    got = read_table("numpy", tmp_path / "e.npz")
    assert got.index_to_key == t.index_to_key
    np.testing.assert_array_equal(got.vectors, t.vectors)
    np.savez(tmp_path / "two.npz", a=t.vectors, b=t.vectors)
    with pytest.raises(ValueError, match="expected one 2-D matrix, found 2"):
        read_table("numpy", tmp_path / "two.npz")
    (tmp_path / "short.txt").write_text("a\nb\n")
    with pytest.raises(ValueError, match=f"{len(t.index_to_key)} rows but 2 words in"):
        read_table("numpy", tmp_path / "e.npz", vocab=tmp_path / "short.txt")
    with pytest.raises(ValueError, match="--vocab applies to the formats numpy, keras, savedmodel, not glove"):
        formats.read("glove", tmp_path / "e.npz", vocab=tmp_path / "short.txt")


def test_build_index_refuses_an_option_the_format_does_not_take_before_reading(tmp_path, capsys):
    _npy(tmp_path)
    assert cli.main(["build-index", "x", "--from", f"numpy:{tmp_path / 'm.npy'}", "--layer", "emb",
                     "--catalog", str(tmp_path / "cat")]) == 2
    [error] = _errors(capsys)
    assert "--layer applies to the formats keras, savedmodel, not numpy" in error
    assert not (tmp_path / "cat").exists()  # refused before anything was read or written


def test_an_h5_is_told_from_its_first_bytes(tmp_path):
    import h5py

    with h5py.File(tmp_path / "old.h5", "w") as f:
        f["x"] = np.zeros(3)
    (tmp_path / "old.h5").rename(tmp_path / "model-2019")  # no suffix to go by
    assert formats.resolve(str(tmp_path / "model-2019")) == ("keras", str(tmp_path / "model-2019"), True)


def _word2vec_text(path: Path, header: str, rows: int = 999, dim: int = 5) -> Path:
    rng = np.random.default_rng(0)
    lines = [f"w{i} " + " ".join(f"{x:.4f}" for x in rng.random(dim)) for i in range(rows)]
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("header", ["1000 5", "998 5", "999 6"])
def test_a_word2vec_header_that_disagrees_with_its_rows_says_what_it_should_read(tmp_path, header):
    path = _word2vec_text(tmp_path / "v.txt", header)
    with pytest.raises(ValueError) as refused:
        read_table("word2vec", path)
    message = str(refused.value)
    assert f"the header says '{header}' but the file holds 999 rows of 5 numbers; make its " \
           "first line read '999 5'" in message and "\n" not in message
    with pytest.raises(ValueError, match=f"write word2vec:{path}"):  # glove: says word2vec:
        formats.resolve(f"glove:{path}")
    assert len(read_table("word2vec", _word2vec_text(tmp_path / "ok.txt", "999 5")).index_to_key) == 999


def test_a_folder_is_never_no_such_file(tmp_path, capsys):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("hello\n")
    assert cli.main(["build-index", "x", "--from", str(tmp_path / "stuff"),
                     "--catalog", str(tmp_path / "cat")]) == 2
    [error] = _errors(capsys)
    assert "cannot tell the format of" in error and "a folder with neither saved_model.pb" in error
    assert "no such file" not in error
    with pytest.raises(ValueError, match="is a folder, and word2vec reads a file"):
        read_table("word2vec", tmp_path / "stuff")


@km.needs_keras
@pytest.mark.slow
def test_a_savedmodel_folder_is_read_from_its_embedding_variable(tmp_path, capsys):
    import keras

    texts, labels = km.headlines(200)
    model = keras.saving.load_model(km.pooled(tmp_path, texts, labels), compile=False)
    [vectorize] = [lyr for lyr in model.layers if isinstance(lyr, keras.layers.TextVectorization)]
    words = vectorize.get_vocabulary()
    [embedding] = [lyr for lyr in model.layers if isinstance(lyr, keras.layers.Embedding)]
    rows = embedding.get_weights()[0]
    model.export(str(tmp_path / "exported"), verbose=False)
    saved = tmp_path / "exported"
    assert formats.sniff(saved) == "savedmodel"

    cat = tmp_path / "cat"
    assert cli.main(["build-index", "sm", "--from", str(saved), "--catalog", str(cat)]) == 2
    [error] = _errors(capsys)
    assert "keeps its vocabulary inside its graph; give its words with --vocab" in error
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    table = read_table("savedmodel", saved, vocab=tmp_path / "vocab.txt")
    keep = [i for i, w in enumerate(words) if w not in ("", "[UNK]") and " " not in w]
    assert table.index_to_key == [words[i] for i in keep]
    np.testing.assert_array_equal(table.vectors, rows[keep])
    with pytest.raises(ValueError, match=f"write savedmodel:{saved}"):
        formats.resolve(f"keras:{saved}")
    # tf.saved_model.save keeps no variable names: the checkpoint's keys name the embeddings
    import tensorflow as tf

    tf.saved_model.save(model, str(tmp_path / "plain"))
    plain = read_table("savedmodel", tmp_path / "plain", vocab=tmp_path / "vocab.txt")
    assert plain.index_to_key == table.index_to_key
    np.testing.assert_array_equal(plain.vectors, rows[keep])
