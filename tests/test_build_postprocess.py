"""All-but-the-top on tiny arrays, and the record a post-processed word2vec carries."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from service.builder import runner
from service.builder.postprocess import PostProcess, all_but_the_top
from service.builder.recipe import BuildOptions
from service.builder.spec import Spec, SpaceSpec
from service.errors import InputError
from service.store import catalog
from service.store.space import Space
from service.store.tables import Table, read_table
from tests.support.tables import toy_table


def _rows(seed=0, n=200, dim=6):
    """Rows with a large common offset and one dominant direction, as word2vec's have."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    x[:, 0] *= 10  # the dominant direction: axis 0
    return (x + 5.0).astype("float32")  # the common offset: the mean row


def test_d0_only_removes_the_mean():
    x = _rows()
    out = all_but_the_top(x, 0)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out, x - x.mean(axis=0), atol=1e-4)


def test_top_direction_removed():
    x = _rows()
    out = all_but_the_top(x, 1)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    assert np.abs(out[:, 0]).max() < 0.5 < np.abs(x[:, 0] - x[:, 0].mean()).max()
    # What is left has no component along the removed principal direction.
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(out @ vt[0], 0, atol=1e-3)
    # ... and the other directions are untouched.
    np.testing.assert_allclose(out @ vt[1:].T, (x - x.mean(axis=0)) @ vt[1:].T, atol=1e-3)


def test_mean_and_directions_from_the_frequent_rows_only():
    x = _rows()
    x[100:] += 50  # rare rows far away must not move the mean
    out = all_but_the_top(x, 0, n_frequent=100)
    np.testing.assert_allclose(out[:100].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out[100:], x[100:] - x[:100].mean(axis=0), atol=1e-3)


def test_keep_norm_restores_each_norm_and_keeps_cosines():
    x = _rows()
    plain, kept = all_but_the_top(x, 2), all_but_the_top(x, 2, keep_norm=True)
    np.testing.assert_allclose(np.linalg.norm(kept, axis=1), np.linalg.norm(x, axis=1), rtol=1e-5)
    unit = plain / np.linalg.norm(plain, axis=1, keepdims=True)
    np.testing.assert_allclose(kept / np.linalg.norm(kept, axis=1, keepdims=True), unit, atol=1e-5)


def test_deterministic():
    x = _rows(seed=3)
    assert np.array_equal(all_but_the_top(x, 3), all_but_the_top(x.copy(), 3))


@pytest.mark.parametrize("spec", ["abtt", "abtt:x", "pca:2", "abtt:2:keep", "abtt:-1"])
def test_bad_spec_is_refused(spec):
    with pytest.raises(InputError):
        PostProcess.parse(spec)


def test_bad_d_is_refused():
    with pytest.raises(InputError):
        all_but_the_top(_rows(dim=4), 4)


def test_parse_and_apply_record_the_setting():
    p = PostProcess.parse("abtt:2:norm")
    assert (p.d, p.keep_norm, p.name) == (2, True, "abtt2-norm")
    table = p.apply(Table(["a", "b", "c", "d"], _rows(n=4), {"algorithm": "pretrained"}))
    assert table.details["algorithm"] == "pretrained"
    assert table.details["postprocess"] == {"d": 2, "keep_norm": True, "n_frequent": 20000,
                                            "method": "all-but-the-top"}


def _write_text(table: Table, path):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(table.index_to_key)} {table.vector_size}\n")
        for key, row in zip(table.index_to_key, table.vectors):
            f.write(key + " " + " ".join(f"{v:.6f}" for v in row) + "\n")


def test_user_vectors_post_processed_record_and_fingerprint(tmp_path):
    """--word2vec FILE --postprocess abtt:1: the manifest says how, the fingerprint changes
    with it (so the plain build is rebuilt), and the served rows are the processed ones."""
    toy = toy_table(n_noise=60)
    toy = Table([k.lower() for k in toy.index_to_key], toy.vectors)
    _write_text(toy, tmp_path / "vectors.txt")
    cat = tmp_path / "indexes"
    space = SpaceSpec("word2vec", "word2vec", source=str(tmp_path / "vectors.txt"), format="word2vec")
    plain = BuildOptions(catalog=cat, spec=Spec("user", {}, {"word2vec": space}),
                         spaces=("word2vec",), curve=None)

    [row] = runner.run(plain).rows
    assert row["status"] == "built"
    first = catalog.read_manifest(catalog.resolve(cat, "word2vec"))["details"]
    assert first.get("postprocess") is None and first["algorithm"] == "pretrained"

    post = dataclasses.replace(plain, postprocess="abtt:1")
    [row] = runner.run(post).rows
    assert row["status"] == "built"  # a new fingerprint: not "cached"
    details = catalog.read_manifest(catalog.resolve(cat, "word2vec"))["details"]
    assert details["postprocess"] == {"d": 1, "keep_norm": False, "n_frequent": 20000,
                                      "method": "all-but-the-top"}
    assert details["fingerprint"] != first["fingerprint"]
    space = Space.load(cat, "word2vec")
    expected = all_but_the_top(read_table("word2vec", tmp_path / "vectors.txt").vectors, 1)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(space.vectors, expected, atol=1e-4)
    assert runner.run(post).rows[0]["status"] == "cached"


def test_option_overrides_the_trained_default(tmp_path):
    """--postprocess replaces Word2VecSettings.postprocess for the trained word2vec, and the
    fingerprint's settings say which was used."""
    from service.builder.recipe import Context
    from service.builder.recipes import Word2Vec

    def settings(postprocess):
        options = BuildOptions(catalog=tmp_path, postprocess=postprocess)
        trained = options.spec.spaces[options.spec.first_of_kind("word2vec")]
        return Word2Vec(trained).inputs(Context(options))["settings"]["postprocess"]

    assert settings(None) == "abtt:1:norm"
    assert settings("none") is None
    assert settings("abtt:2") == "abtt:2"
    with pytest.raises(InputError):
        settings("abtt:two")
    assert PostProcess.option(None) is PostProcess.option("none") is None
