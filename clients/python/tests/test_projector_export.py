"""A Projector export of GloVe (limit 10,000) through the client, read the way the TensorFlow
Embedding Projector reads its two files: vectors.tsv is one row of tab-separated numbers per
point, all of one length; metadata.tsv has one line per point, and a header line only when it
has more than one column (a single column, as here, has none)."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from wordspace_client import Client

pytestmark = pytest.mark.slow  # GloVe 20k behind HNSW, built and served


def parse_projector_tsv(vectors_tsv: str, metadata_tsv: str) -> tuple[np.ndarray, list[str]]:
    """Projector's parsing: split lines on newlines and fields on tabs; every field a number;
    one dimension for all rows; as many metadata lines as rows (plus a header if multi-column)."""
    rows = [line.split("\t") for line in vectors_tsv.split("\n") if line.strip()]
    dims = {len(r) for r in rows}
    assert len(dims) == 1, f"rows of different lengths: {sorted(dims)[:5]}"
    vectors = np.array([[float(x) for x in r] for r in rows], dtype="float32")
    lines = metadata_tsv.rstrip("\n").split("\n")
    if "\t" in lines[0]:
        lines = lines[1:]
    assert len(lines) == len(rows), f"{len(lines)} metadata lines for {len(rows)} vectors"
    return vectors, lines


def test_glove_projector_export_parses(glove_url, glove_table, tmp_path):
    with Client(glove_url) as c:
        out = c.space("glove").export(tmp_path / "glove.zip", format="projector", limit=10_000)
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["metadata.tsv", "vectors.tsv"]
        assert z.testzip() is None
        vectors, words = parse_projector_tsv(z.read("vectors.tsv").decode("utf-8"),
                                             z.read("metadata.tsv").decode("utf-8"))
    assert vectors.shape == (10_000, 50)
    assert words == glove_table.index_to_key[:10_000]
    assert all("\t" not in w and w for w in words)
    np.testing.assert_allclose(vectors, glove_table.vectors[:10_000], rtol=1e-5, atol=1e-5)
