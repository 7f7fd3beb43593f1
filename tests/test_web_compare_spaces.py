"""Space against space: one pair table over every space, and the Jaccard overlap of every shared
word's neighbourhood, checked against a brute-force count in numpy."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from service.store import catalog
from service.web.state import state
from tests.support.tables import toy_table


def test_similarity_table_over_every_space(client, table, check_spec):
    r = client.get("/v1/compare/similarity?pairs=king:queen,alps:nope,Paris:alps")
    check_spec("/v1/compare/similarity", "GET", 200, r.json, r.content_type)
    assert r.json["spaces"] == ["toy", "toy-hnsw"]
    rows = r.json["results"]
    assert [(x["a"], x["b"]) for x in rows] == [("king", "queen"), ("alps", "nope"), ("Paris", "alps")]
    unit = table.vectors / np.linalg.norm(table.vectors, axis=1, keepdims=True)
    expected = float(unit[2] @ unit[3])
    assert rows[0]["scores"] == pytest.approx({"toy": expected, "toy-hnsw": expected}, abs=1e-6)
    assert rows[1]["scores"] == {"toy": None, "toy-hnsw": None}
    assert rows[1]["missing"] == {"toy": ["nope"], "toy-hnsw": ["nope"]}
    r = client.post("/v1/compare/similarity", json={"pairs": [["king", "queen"]], "spaces": ["toy"]})
    check_spec("/v1/compare/similarity", "POST", 200, r.json, r.content_type)
    assert r.json["spaces"] == ["toy"] and r.json["results"][0]["scores"]["toy"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("query", ["", "pairs=king", "pairs=king:queen:man", "pairs=" + "a:b," * 300])
def test_similarity_table_bad_pairs(client, query, check_spec):
    r = client.get(f"/v1/compare/similarity?{query}")
    check_spec("/v1/compare/similarity", "GET", 400, r.json, r.content_type)
    assert r.json["parameter"] == "pairs"


def _brute_force_jaccard(a, b, k: int) -> dict[str, float]:
    """Each shared word's k nearest shared words in each table (exact), and their Jaccard."""
    shared = [w for w in a.index_to_key if w in set(b.index_to_key)]
    out = {}
    lists = []
    for t in (a, b):
        rows = [t.index_to_key.index(w) for w in shared]
        unit = t.vectors[rows] / np.linalg.norm(t.vectors[rows], axis=1, keepdims=True)
        sims = unit @ unit.T
        np.fill_diagonal(sims, -np.inf)
        lists.append(np.argsort(-sims, axis=1, kind="stable")[:, :k])
    for i, w in enumerate(shared):
        sa, sb = set(lists[0][i]), set(lists[1][i])
        out[w] = len(sa & sb) / len(sa | sb)
    return out


@pytest.fixture
def two_spaces(tmp_path):
    """Two different tables sharing all but a few words, one behind HNSW."""
    a, b = toy_table(seed=0), toy_table(seed=5)
    b.index_to_key[-3:] = ["only-b-1", "only-b-2", "only-b-3"]
    cat = tmp_path / "two"
    catalog.write_space(cat, "a", a, source={"format": "test"})
    catalog.write_space(cat, "b", b, source={"format": "test"}, factory="HNSW32")
    catalog.write_space(cat, "a-hnsw", a, source={"format": "test"}, factory="HNSW32")
    return cat, a, b


def test_compare_spaces_matches_brute_force(two_spaces, check_spec):
    from service import create_app
    from service.settings import Settings

    cat, a, b = two_spaces
    client = create_app(Settings(catalog=cat)).test_client()
    r = client.get("/v1/compare/spaces?a=a&b=b&k=5&n=3")
    check_spec("/v1/compare/spaces", "GET", 200, r.json, r.content_type)
    got = r.json
    truth = _brute_force_jaccard(a, b, 5)
    assert got["shared"] == got["compared"] == len(truth) == 305
    # HNSW on b is approximate (recall@10 >= 0.99), so the mean may move a little
    assert got["mean_jaccard"] == pytest.approx(np.mean(list(truth.values())), abs=0.01)
    assert sum(h["words"] for h in got["histogram"]) == 305
    assert [h["overlap"] for h in got["histogram"]] == list(range(6))
    best = got["most_similar"][0]
    assert best["jaccard"] == pytest.approx(max(truth.values()), abs=1e-4)
    assert got["least_similar"][0]["jaccard"] == pytest.approx(min(truth.values()), abs=1e-4)
    assert len(best["neighbors_a"]) == len(best["neighbors_b"]) == 5
    assert not {"only-b-1", "only-b-2", "only-b-3"} & set(best["neighbors_b"])
    # the same table behind two indexes agrees almost everywhere
    same = client.get("/v1/compare/spaces?a=a&b=a-hnsw&k=10").json
    assert same["mean_jaccard"] > 0.97


def test_exact_and_index_searches_agree(two_spaces):
    """Above 100,000 shared words the spaces' own indexes are searched with an ID selector;
    forced here on small spaces, it finds what the exact search finds, up to HNSW's recall."""
    from service.analysis.neighborhoods import compare_spaces
    from service.store.space import Space

    cat, a, b = two_spaces
    sa, sb = Space.load(cat, "a-hnsw"), Space.load(cat, "b")
    exact = compare_spaces(sa, sb, k=10, exact_limit=10**6)
    index = compare_spaces(sa, sb, k=10, exact_limit=0)
    assert (exact.search, index.search) == ("exact", "index")
    assert index.mean_jaccard == pytest.approx(exact.mean_jaccard, abs=0.01)
    truth = _brute_force_jaccard(a, b, 10)
    assert exact.mean_jaccard == pytest.approx(np.mean(list(truth.values())), abs=1e-4)


def test_compare_spaces_sample_is_seeded(two_spaces):
    from service import create_app
    from service.settings import Settings

    client = create_app(Settings(catalog=two_spaces[0])).test_client()
    one = client.get("/v1/compare/spaces?a=a&b=b&sample=50&seed=3&n=50").json
    two = client.get("/v1/compare/spaces?a=a&b=b&sample=50&seed=3&n=50").json
    other = client.get("/v1/compare/spaces?a=a&b=b&sample=50&seed=4&n=50").json
    assert one["compared"] == 50 and one["sample"] == 50 and one["seed"] == 3
    assert [w["word"] for w in one["most_similar"]] == [w["word"] for w in two["most_similar"]]
    assert {w["word"] for w in one["most_similar"]} != {w["word"] for w in other["most_similar"]}


@pytest.mark.parametrize("query", ["a=toy&b=toy", "a=toy&b=nope", "a=toy", "a=toy&b=toy-hnsw&k=0",
                                   "a=toy&b=toy-hnsw&k=101", "a=toy&b=toy-hnsw&sample=0"])
def test_compare_spaces_bad_parameters(client, query, check_spec):
    r = client.get(f"/v1/compare/spaces?{query}")
    check_spec("/v1/compare/spaces", "GET", r.status_code, r.json, r.content_type)
    assert r.status_code in (400, 404)


def test_compare_spaces_computes_each_pair_once_whatever_the_seed(two_spaces):
    """Issue 19: each new seed cost a whole computation even without `sample`. Now the pair's
    whole vocabulary is computed once per k; seeds without a sample share one answer, and a
    sample with any seed is a selection of those lists, equal to computing the sample alone."""
    from service import create_app
    from service.analysis.neighborhoods import compare_spaces
    from service.settings import Settings
    from service.store.space import Space

    app = create_app(Settings(catalog=two_spaces[0]))
    client = app.test_client()
    first = client.get("/v1/compare/spaces?a=a&b=b&k=5&seed=1").json
    comparisons = state(app).comparisons
    assert comparisons.computed == 1 and len(comparisons.answers) == 1
    again = client.get("/v1/compare/spaces?a=a&b=b&k=5&seed=2").json
    assert again is first or again == first
    assert len(comparisons.answers) == 1 and first["seed"] is None
    for seed in (3, 4, 5):
        sampled = client.get(f"/v1/compare/spaces?a=a&b=b&k=5&sample=40&seed={seed}&n=7").json
        assert sampled["compared"] == 40 and sampled["seed"] == seed
    assert comparisons.computed == 1  # every sample came from the lists computed once
    alone = compare_spaces(Space.load(two_spaces[0], "a"), Space.load(two_spaces[0], "b"),
                           k=5, sample=40, seed=5, n=7)
    for field in ("mean_jaccard", "median_jaccard", "histogram", "most_similar", "least_similar"):
        assert sampled[field] == [asdict(x) for x in getattr(alone, field)] \
            if isinstance(sampled[field], list) else sampled[field] == getattr(alone, field)
    client.get("/v1/compare/spaces?a=a&b=b&k=6")
    assert comparisons.computed == 2  # another k is another computation
