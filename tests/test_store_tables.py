"""Every table reader, on small files the tests write themselves."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from gensim.models import KeyedVectors

from service.store.tables import Table, parse_source, read_table


def _kv(table: Table) -> KeyedVectors:
    kv = KeyedVectors(table.vector_size)
    kv.add_vectors(table.index_to_key, table.vectors)
    return kv


@pytest.mark.parametrize("name, binary", [("v.bin", True), ("v.txt", False), ("v.vec", False)])
def test_word2vec_formats(tmp_path, table, name, binary):
    path = tmp_path / name
    _kv(table).save_word2vec_format(str(path), binary=binary)
    got = read_table("word2vec", path)
    assert got.index_to_key == table.index_to_key
    np.testing.assert_allclose(got.vectors, table.vectors, rtol=1e-5, atol=1e-6)
    assert got.vectors.flags["C_CONTIGUOUS"] and got.vectors.dtype == np.float32


def test_word2vec_bin_gz(tmp_path, table):
    plain = tmp_path / "v.bin"
    _kv(table).save_word2vec_format(str(plain), binary=True)
    packed = tmp_path / "v.bin.gz"
    with open(plain, "rb") as f, gzip.open(packed, "wb") as g:
        shutil.copyfileobj(f, g)
    got = read_table("word2vec", packed)
    assert got.index_to_key == table.index_to_key
    np.testing.assert_array_equal(got.vectors, table.vectors)


def test_word2vec_limit(tmp_path, table):
    path = tmp_path / "v.bin"
    _kv(table).save_word2vec_format(str(path), binary=True)
    assert read_table("word2vec", path, limit=5).index_to_key == table.index_to_key[:5]


def test_glove_text_has_no_header(tmp_path, table):
    path = tmp_path / "glove.txt"
    with open(path, "w") as f:
        for key, vec in zip(table.index_to_key, table.vectors):
            f.write(key + " " + " ".join(f"{x:.6f}" for x in vec) + "\n")
    got = read_table("glove", path)
    assert got.index_to_key == table.index_to_key
    np.testing.assert_allclose(got.vectors, table.vectors, atol=1e-5)


def test_gensim_saved_keyedvectors(tmp_path, table):
    path = tmp_path / "vectors.kv"
    _kv(table).save(str(path))
    got = read_table("gensim", path)
    assert got.index_to_key == table.index_to_key
    np.testing.assert_array_equal(got.vectors, table.vectors)


def test_kumo_layout_fortran_order(tmp_path, table):
    import pyarrow as pa
    import pyarrow.parquet as pq

    np.save(tmp_path / "emb.npy", np.asfortranarray(table.vectors))
    pq.write_table(pa.table({"index": table.index_to_key}), tmp_path / "index.parquet")
    got = read_table("kumo", tmp_path)
    assert got.vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(got.vectors, table.vectors)


def test_kumo_installed_package():
    got = read_table("kumo", limit=1000)
    assert got.vector_size == 50 and len(got.index_to_key) == 1000
    assert got.index_to_key[:3] == ["the", ",", "."]


def test_duplicates_and_blank_keys_dropped():
    t = Table(["a", "b", "a", "", "c d"], np.eye(5, 3, dtype="float32")).deduplicated()
    assert t.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(t.vectors, np.eye(5, 3, dtype="float32")[:2])


@pytest.mark.parametrize("fmt", ["word2vec", "glove", "gensim"])
def test_bad_file_is_a_clear_error(tmp_path, fmt):
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"\x00\x01not vectors at all\n\xff\xfe")
    with pytest.raises(ValueError, match="garbage.bin"):
        read_table(fmt, path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.bin"):
        read_table("word2vec", tmp_path / "nope.bin")


@pytest.mark.parametrize("spec, error", [("starspace:x.tsv", "unknown format"), ("word2vec", "names no file")])
def test_parse_source_errors(spec, error):
    with pytest.raises(ValueError, match=error):
        parse_source(spec)
