"""The routes gensim users look for: the word list, many vectors at once, neighbours restricted
to candidates or to the most frequent words, exact ranks, limits, and exports; every answer
checked against openapi.yaml and against numpy over the same table."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from service.store import index as ix


def _unit(table):
    return table.vectors / np.linalg.norm(table.vectors, axis=1, keepdims=True)


def test_spaces_list_carries_the_limits(client, settings, check_spec):
    r = client.get("/v1/spaces")
    check_spec("/v1/spaces", "GET", 200, r.json, r.content_type)
    assert r.json["limits"]["max_batch"] == settings.max_batch == 8
    assert r.json["limits"]["max_k"] == settings.max_k


def test_words_are_paged_in_frequency_order(client, table, check_spec):
    r = client.get("/v1/spaces/toy/words?offset=2&limit=5")
    check_spec("/v1/spaces/{space}/words", "GET", 200, r.json, r.content_type)
    assert r.json["words"] == table.index_to_key[2:7]
    assert r.json["total"] == len(table.index_to_key)
    pages = [client.get(f"/v1/spaces/toy/words?offset={o}&limit=100").json["words"]
             for o in range(0, 400, 100)]
    assert sum(pages, []) == table.index_to_key


def test_words_by_prefix(client, table):
    r = client.get("/v1/spaces/toy/words?prefix=noise2&limit=10000").json
    expected = [k for k in table.index_to_key if k.startswith("noise2")]
    assert r["words"] == expected and r["total"] == len(expected) == 111
    assert client.get("/v1/spaces/toy/words?prefix=Par").json["words"] == ["Paris"]
    assert client.get("/v1/spaces/toy/words?prefix=zzz").json == {
        "space": "toy", "prefix": "zzz", "offset": 0, "limit": 1000, "total": 0, "words": []}


@pytest.mark.parametrize("query", ["limit=0", "limit=10001", "offset=-1", "limit=x"])
def test_words_bad_paging_is_a_400(client, query, check_spec):
    r = client.get(f"/v1/spaces/toy/words?{query}")
    check_spec("/v1/spaces/{space}/words", "GET", 400, r.json, r.content_type)
    assert r.json["parameter"] in ("limit", "offset")


def test_vectors_batch(client, table, check_spec):
    r = client.post("/v1/spaces/toy/vectors", json={"words": ["queen", "nope", "KING"]})
    check_spec("/v1/spaces/{space}/vectors", "POST", 200, r.json, r.content_type)
    queen, nope, king = r.json["results"]
    assert nope == {"word": "nope", "found": False}
    assert queen["index"] == 3 and king["key"] == "king" and king["index"] == 2
    np.testing.assert_allclose(queen["vector"], table.vectors[3], rtol=1e-5, atol=1e-6)
    assert queen["norm"] == pytest.approx(float(np.linalg.norm(table.vectors[3])), rel=1e-6)
    r = client.post("/v1/spaces/toy/vectors", json={"words": [f"noise{i}" for i in range(9)]})
    assert r.status_code == 400 and "at most 8" in r.json["detail"]


def test_restrict_vocab_is_gensim_exact(client, table):
    unit = _unit(table)
    for word, n in (("king", 5), ("noise7", 120)):
        row = table.index_to_key.index(word)
        scores = unit[:n] @ unit[row]
        scores[row] = -np.inf if row < n else 0
        order = [i for i in np.argsort(-scores, kind="stable") if i != row][:4]
        r = client.get(f"/v1/spaces/toy-hnsw/neighbors?word={word}&k=4&restrict_vocab={n}").json
        assert [x["word"] for x in r["neighbors"]] == [table.index_to_key[i] for i in order]
        np.testing.assert_allclose([x["score"] for x in r["neighbors"]], scores[order], atol=1e-5)


def test_candidates_restrict_words_and_vectors(client, table, check_spec):
    body = {"words": ["alps", "nope"], "k": 3, "candidates": ["himalaya", "king", "Paris", "zz"]}
    r = client.post("/v1/spaces/toy/neighbors", json=body)
    check_spec("/v1/spaces/{space}/neighbors", "POST", 200, r.json, r.content_type)
    assert [n["word"] for n in r.json["results"][0]["neighbors"]][0] == "himalaya"
    assert {n["word"] for n in r.json["results"][0]["neighbors"]} <= {"himalaya", "king", "Paris"}
    assert r.json["results"][1]["found"] is False and r.json["unknown_candidates"] == ["zz"]
    vec = table.vectors[table.index_to_key.index("queen")].tolist()
    r = client.post("/v1/spaces/toy/neighbors",
                    json={"vectors": [vec], "k": 2, "candidates": ["man", "queen"], "restrict_vocab": 3})
    assert [n["word"] for n in r.json["results"][0]["neighbors"]] == ["man"]


def test_analogy_accepts_empty_negative_and_restrictions(client, check_spec):
    r = client.post("/v1/spaces/toy/analogy", json={"positive": ["king"], "negative": [], "k": 3})
    check_spec("/v1/spaces/{space}/analogy", "POST", 200, r.json, r.content_type)
    assert r.json["answers"][0]["word"] == "queen" and r.json["negative"] == []
    for method in ("3cosadd", "3cosmul"):
        r = client.post("/v1/spaces/toy/analogy", json={
            "positive": ["king", "woman"], "negative": ["man"], "k": 2, "method": method,
            "candidates": ["queen", "alps", "noise1"]})
        assert [a["word"] for a in r.json["answers"]][0] == "queen"
        assert {a["word"] for a in r.json["answers"]} <= {"queen", "alps", "noise1"}
        r = client.post("/v1/spaces/toy/analogy", json={
            "positive": ["king", "woman"], "negative": ["man"], "k": 5, "method": method,
            "restrict_vocab": 3})
        assert [a["word"] for a in r.json["answers"]] == []  # the 3 most frequent are the inputs


def test_rank_counts_every_nearer_word(client, table, check_spec):
    unit = _unit(table)
    for a, b in (("king", "queen"), ("alps", "noise3"), ("man", "Paris")):
        ra, rb = table.index_to_key.index(a), table.index_to_key.index(b)
        sims = unit @ unit[ra]
        expected = 1 + int(sum(1 for i, s in enumerate(sims) if i != ra and s > sims[rb]))
        r = client.get(f"/v1/spaces/toy-hnsw/similarity?a={a}&b={b}&rank=true")
        check_spec("/v1/spaces/{space}/similarity", "GET", 200, r.json, r.content_type)
        assert r.json["rank"] == expected
    assert "rank" not in client.get("/v1/spaces/toy/similarity?a=king&b=queen").json


def test_a_word_with_itself_as_gensim(client, table):
    """gensim: rank(w, w) == 1, similarity(w, w) == 1.0 exactly (so distance 0), however the
    stored unit vector rounds."""
    unit = ix.normalize(table.vectors)[0]  # as the build stores them
    rounded = [w for i, w in enumerate(table.index_to_key) if float(unit[i] @ unit[i]) != 1.0]
    assert rounded  # the dot of a stored unit vector with itself is not always 1.0
    for word in ["king", "alps", rounded[0]]:
        r = client.get(f"/v1/spaces/toy-hnsw/similarity?a={word}&b={word}&rank=true")
        assert (r.json["similarity"], r.json["rank"]) == (1.0, 1)
        r = client.post("/v1/spaces/toy/similarity", json={"pairs": [[word, word]]})
        assert r.json["results"][0]["similarity"] == 1.0


@pytest.mark.parametrize("body", [{"words": ["alps"], "candidates": []},
                                  {"words": ["alps"], "candidates": "alps"},
                                  {"words": ["alps"], "restrict_vocab": 0},
                                  {"words": ["alps"], "restrict_vocab": 2.5},
                                  {"words": ["alps"], "restrict_vocab": True}])
def test_bad_restrictions_are_400s(client, body, check_spec):
    r = client.post("/v1/spaces/toy/neighbors", json=body)
    check_spec("/v1/spaces/{space}/neighbors", "POST", 400, r.json, r.content_type)
    assert r.json["parameter"] in ("candidates", "restrict_vocab")


def test_projector_export_parses_as_projector_files(client, table, check_spec):
    r = client.get("/v1/spaces/toy/export?format=projector&limit=100")
    check_spec("/v1/spaces/{space}/export", "GET", 200, None, r.content_type)
    assert r.headers["Content-Disposition"] == 'attachment; filename="toy-projector.zip"'
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        assert sorted(z.namelist()) == ["metadata.tsv", "vectors.tsv"]
        rows = z.read("vectors.tsv").decode().rstrip("\n").split("\n")
        words = z.read("metadata.tsv").decode().rstrip("\n").split("\n")
    assert words == table.index_to_key[:100]
    vectors = np.array([[float(x) for x in row.split("\t")] for row in rows])
    np.testing.assert_allclose(vectors, table.vectors[:100], rtol=1e-5, atol=1e-6)


def test_word2vec_export_loads_in_gensim(client, table, tmp_path, check_spec):
    from gensim.models import KeyedVectors

    r = client.get("/v1/spaces/toy/export?format=word2vec")
    check_spec("/v1/spaces/{space}/export", "GET", 200, None, r.content_type)
    (tmp_path / "toy.txt").write_bytes(r.data)
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "toy.txt"))
    assert list(kv.index_to_key) == table.index_to_key
    np.testing.assert_allclose(kv.vectors, table.vectors, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("query", ["format=csv", "limit=0", "limit=x"])
def test_bad_export_is_a_400(client, query):
    r = client.get(f"/v1/spaces/toy/export?{query}")
    assert r.status_code == 400 and r.json["parameter"] in ("format", "limit")
