"""The exact neighbours stored at build time for the most frequent words (service/store/topk.py):
the same answers as exact search, used only when they cover the query, checked at load."""
from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from service.errors import BadIndex
from service.store import catalog
from service.store import topk as tk
from service.store.space import Space


def exact(space: Space, row: int, k: int) -> list[str]:
    _, found = faiss.knn(np.ascontiguousarray(space.vectors[[row]]), np.ascontiguousarray(space.vectors),
                         k + 1, metric=faiss.METRIC_INNER_PRODUCT)
    return [space.index_to_key[i] for i in found[0] if i != row][:k]


def test_compute_leaves_the_row_out_and_matches_exact_search(table):
    space = Space.from_table(table)
    ids, scores = tk.compute(space.vectors, rows=50, k=20)
    assert ids.shape == scores.shape == (50, 20)
    assert not (ids == np.arange(50)[:, None]).any()
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    for row in (0, 7, 49):
        assert [space.index_to_key[i] for i in ids[row]] == exact(space, row, 20)


@pytest.mark.parametrize("name", ["toy", "toy-hnsw"])
def test_space_answers_frequent_words_from_the_table_and_others_from_the_index(catalog_dir, name):
    searches = []
    space = Space.load(catalog_dir, name, observe_search=searches.append)
    assert space.manifest["topk"]["rows"] == len(space)  # the toy table is smaller than ROWS
    found = space.neighbors([space.lookup("alps"), space.lookup("queen")], 5)
    assert [n.word for n in found[0]] == exact(space, space.lookup("alps"), 5)
    assert [n.rank for n in found[1]] == [1, 2, 3, 4, 5]
    assert searches == []  # no index search for words the table covers
    beyond = space.topk.k + 1
    assert len(space.neighbors([space.lookup("alps")], beyond)[0]) == beyond
    assert len(searches) == 1  # a k the table does not cover goes to the index


def test_partly_covered_batch_keeps_the_order(table, tmp_path, monkeypatch):
    monkeypatch.setattr(tk, "ROWS", 4)
    catalog.write_space(tmp_path, "toy", table, source={})
    space = Space.load(tmp_path, "toy")
    assert space.topk.rows == 4
    rows = [space.lookup(w) for w in ("alps", "man", "pyrenees", "woman")]  # rows 4, 0, 5, 1
    got = space.neighbors(rows, 3)
    assert [[n.word for n in r] for r in got] == [exact(space, r, 3) for r in rows]


def test_table_of_another_shape_is_refused_naming_the_file(catalog_dir):
    folder = catalog.resolve(catalog_dir, "toy")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["topk"]["k"] += 1
    with pytest.raises(BadIndex, match=tk.IDS):
        Space.open("toy", folder, manifest)


def test_build_budget_bounds_the_rows_and_skips_very_large_tables(tmp_path):
    assert tk.rows_for((400_000, 50)) == tk.ROWS
    assert tk.rows_for((300, 16)) == 300  # small tables: every row
    assert tk.MIN_ROWS <= tk.rows_for((100_000, 300)) < tk.ROWS
    assert tk.rows_for((3_000_000, 300)) == 0  # 444 rows would not be worth ten minutes
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, dtype="float32"), (3_000_000, 300), (0, 0))
    assert tk.write(tmp_path, huge) is None and not list(tmp_path.iterdir())
