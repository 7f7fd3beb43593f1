"""Queries on a loaded space, parametrised over exact and approximate indexes."""
from __future__ import annotations

import numpy as np
import pytest

from service.errors import InvalidRequest, UnknownWord
from service.store.space import Space


@pytest.fixture(params=["toy", "toy-hnsw"])
def space(request, catalog_dir) -> Space:
    return Space.load(catalog_dir, request.param)


def test_neighbors_exclude_the_word_and_rank_by_cosine(space):
    found = space.neighbors([space.lookup("alps")], 5)[0]
    assert [n.word for n in found[:2]] == ["pyrenees", "himalaya"]
    assert "alps" not in [n.word for n in found]
    assert [n.rank for n in found] == [1, 2, 3, 4, 5]
    scores = [n.score for n in found]
    assert scores == sorted(scores, reverse=True)
    a, b = space.lookup("alps"), space.lookup("pyrenees")
    assert found[0].score == pytest.approx(space.similarity(a, b), abs=1e-5)


def test_lookup_exact_then_lower_case(space):
    assert space.index_to_key[space.lookup("Paris")] == "Paris"
    assert space.index_to_key[space.lookup("ALPS")] == "alps"
    with pytest.raises(UnknownWord) as e:
        space.lookup("paris")  # only "Paris" exists; lower-casing the query cannot reach it
    assert e.value.extra["suggestions"][0] == "Paris"


def test_unknown_word_suggests_close_spellings(space):
    with pytest.raises(UnknownWord) as e:
        space.lookup("alpz")
    assert "alps" in e.value.extra["suggestions"]
    assert len(e.value.extra["suggestions"]) <= 5
    assert "'alpz'" in e.value.detail and space.name in e.value.detail


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy_king_man_woman(space, method):
    rows = [space.lookup(w) for w in ("king", "woman", "man")]
    answers = space.analogy(rows[:2], rows[2:], 3, method)
    assert answers[0].word == "queen"
    assert not {"king", "woman", "man"} & {a.word for a in answers}


def test_search_by_vector_normalises(space):
    xq = space.check_vectors([list(space.raw_vector(space.lookup("alps")) * 7)])
    assert space.search(xq, 1)[0][0].word == "alps"


@pytest.mark.parametrize("bad, message", [
    ([[1.0, 2.0]], "dimension 16"),
    ([[0.0] * 16], "zero vector"),
    ([["x"] * 16], "numbers"),
    ([[float("nan")] * 16], "finite"),
    ([1.0] * 16, "dimension 16"),
])
def test_bad_vectors(space, bad, message):
    with pytest.raises(InvalidRequest, match=message):
        space.check_vectors(bad)


def test_raw_vector_round_trip(space, table):
    row = space.lookup("king")
    np.testing.assert_allclose(space.raw_vector(row), table.vectors[0 + table.index_to_key.index("king")], rtol=1e-5)
