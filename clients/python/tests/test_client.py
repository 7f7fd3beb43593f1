"""The synchronous client against the real service (gunicorn on loopback): typed results for
every route, batches split to the server's limits and joined in order, problem types as
exceptions, environment defaults."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from wordspace_client import (Client, Embedding, InvalidRequest, Neighbor, Neighbors,
                              SpaceInfo, Unauthorized, UnknownSpace, UnknownWord, Vector,
                              WordspaceError)
from wordspace_client import comparisons as cmp


@pytest.fixture
def client(toy_url):
    with Client(toy_url) as c:
        yield c


def test_spaces_and_limits_are_typed(client):
    spaces = client.spaces()
    assert [s.name for s in spaces] == ["toy", "toy-hnsw"]
    assert isinstance(spaces[0], SpaceInfo) and spaces[0].dimension == 16 and spaces[0].size == 308
    assert client.space("toy-hnsw").info().factory == "HNSW32"
    limits = client.limits()
    assert (limits.max_batch, limits.max_body_bytes) == (8, 4096)
    assert client.health() is True and client.ready().ready is True


def test_neighbors_of_one_word_and_of_many_in_order(client, table):
    toy = client.space("toy")
    one = toy.neighbors("alps", k=2)
    assert isinstance(one, Neighbors) and one.key == "alps"
    assert one.words == ["pyrenees", "himalaya"] and isinstance(one.neighbors[0], Neighbor)
    words = table.index_to_key[:25] + ["nope"] + table.index_to_key[25:30]
    many = toy.neighbors(words, k=3)  # 31 words: four requests of at most 8
    assert [n.word for n in many] == words
    assert many[25].found is False and many[25].neighbors == []
    for word, result in zip(words, many):
        if word != "nope":
            assert result.words == toy.neighbors(word, k=3).words


def test_restricted_neighbors(client, table):
    toy = client.space("toy")
    found = toy.neighbors("alps", k=5, candidates=["himalaya", "king", "nope"])
    assert found.words == ["himalaya", "king"]
    assert toy.neighbors("king", k=2, restrict_vocab=4).words == ["queen", "man"]
    assert toy.neighbors(["king", "queen"], k=1, restrict_vocab=4)[1].words == ["king"]
    with pytest.raises(UnknownWord):
        toy.neighbors("nope", candidates=["alps"])


def test_neighbors_by_vector(client, table):
    toy = client.space("toy")
    queen = table.vectors[3]
    one = toy.neighbors_by_vector(queen, k=1)
    assert one.words == ["queen"] and one.word is None
    many = toy.neighbors_by_vector(np.vstack([table.vectors[i] for i in range(20)]), k=1)
    assert [n.words[0] for n in many] == table.index_to_key[:20]  # 20 vectors, 3 requests
    assert toy.neighbors_by_vector(queen.tolist(), k=1, candidates=["man", "alps"]).words == ["man"]


def test_analogy_similarity_rank(client):
    toy = client.space("toy")
    assert toy.analogy(["king", "woman"], ["man"], k=1)[0].word == "queen"
    assert toy.analogy(["king", "woman"], ["man"], k=1, method="3cosmul")[0].word == "queen"
    assert toy.analogy(["king"], k=1)[0].word == "queen"  # negative [] is accepted
    assert toy.similarity("alps", "pyrenees") > 0.9
    pairs = toy.similarities([("alps", "pyrenees")] * 9 + [("alps", "nope")])
    assert len(pairs) == 10 and pairs[-1].similarity is None and pairs[-1].missing == ["nope"]
    assert toy.rank("king", "queen") == 1
    assert toy.rank("alps", "himalaya") == 2


def test_vectors_words_embed(client, table):
    toy = client.space("toy")
    v = toy.vector("queen")
    assert isinstance(v, Vector) and v.index == 3
    np.testing.assert_allclose(v.vector, table.vectors[3], rtol=1e-5, atol=1e-6)
    many = toy.vectors(table.index_to_key[:20] + ["nope"])
    assert [x.index for x in many[:20]] == list(range(20)) and many[20].found is False
    page = toy.words(offset=5, limit=3)
    assert page.words == table.index_to_key[5:8] and page.total == 308
    assert list(toy.iter_words(page_size=50)) == table.index_to_key
    assert list(toy.iter_words("noise29")) == ["noise29"] + [f"noise{i}" for i in range(290, 300)]
    # 8 texts of 1,000 characters do not fit one 4 KiB body: split by size, not only by count
    texts = [("king queen alps " * 70)[:1000]] * 8
    vectors = toy.embed(texts)
    assert len(vectors) == 8 and isinstance(vectors[0], Embedding) and vectors[0].tokens > 100


def test_export_both_formats(client, table, tmp_path):
    out = client.space("toy").export(tmp_path / "toy.zip", limit=50)
    with zipfile.ZipFile(out) as z:
        assert z.read("metadata.tsv").decode().split("\n")[:50] == table.index_to_key[:50]
    text = client.space("toy").export(tmp_path / "toy.txt", format="word2vec").read_text()
    assert text.startswith("308 16\nman ")
    assert not list(tmp_path.glob("*.part"))


def test_compare_routes(client):
    table = client.compare.similarity("king:queen,alps:nope")
    assert isinstance(table, cmp.SimilarityTable) and table.spaces == ["toy", "toy-hnsw"]
    assert table.score("alps", "nope", "toy") is None
    assert table.score("king", "queen", "toy") == pytest.approx(table.score("king", "queen", "toy-hnsw"))
    many = client.compare.similarity([("king", "queen")] * 12)  # split in two requests
    assert len(many.rows) == 12
    same = client.compare.spaces("toy", "toy-hnsw", k=5)
    assert isinstance(same, cmp.SpaceComparison) and same.shared == 308
    assert same.mean_jaccard > 0.95 and sum(h.words for h in same.histogram) == 308
    side = client.compare.neighbors("alps", k=2)
    assert [s.space for s in side.spaces] == ["toy", "toy-hnsw"] and side.pairs[0].jaccard == 1.0
    assert client.compare.analogy("man", "king", "woman", k=1).spaces[0].answers[0].word == "queen"
    assert client.compare.sentences(["the king", "the queen"]).spaces[0].similarity[0][0] == pytest.approx(1.0)
    assert client.compare.plot(["king", "queen", "alps"]).lstrip().startswith(b"<?xml")
    assert client.compare.translate("alps", "toy", "toy-hnsw", k=1).self_rank == 1


def test_problems_become_exceptions(client):
    toy = client.space("toy")
    with pytest.raises(KeyError) as e:
        toy.neighbors("alpz")
    assert isinstance(e.value, UnknownWord) and isinstance(e.value, WordspaceError)
    assert (e.value.word, e.value.space, e.value.status) == ("alpz", "toy", 404)
    assert "alps" in e.value.suggestions and "'alpz' is not in space 'toy'" in str(e.value)
    with pytest.raises(UnknownSpace) as e:
        client.space("nope").info()
    assert e.value.spaces == ["toy", "toy-hnsw"]
    with pytest.raises(InvalidRequest) as e:
        toy.neighbors("alps", k=0)
    assert e.value.parameter == "k" and e.value.status == 400


def test_api_key_from_the_environment(keyed_url, monkeypatch):
    monkeypatch.setenv("WORDSPACE_URL", keyed_url)
    monkeypatch.delenv("WORDSPACE_API_KEY", raising=False)
    with Client() as c, pytest.raises(Unauthorized) as e:
        c.spaces()
    assert e.value.status == 401 and c.url == keyed_url
    monkeypatch.setenv("WORDSPACE_API_KEY", "client-test-key")
    with Client() as c:
        assert [s.name for s in c.spaces()] == ["toy"]
    with Client(api_key="wrong") as c, pytest.raises(Unauthorized):
        c.space("toy").neighbors("alps")


def test_context_manager_closes(toy_url):
    with Client(toy_url) as c:
        c.health()
    with pytest.raises(RuntimeError):
        c.health()  # httpx refuses a closed client


def test_batches_also_fit_the_servers_results_per_request():
    """The server answers at most max_results (k x items) per request: a batch of neighbours
    is split by that too, not only by max_batch and the body size."""
    from wordspace_client.calls import neighbors_batch
    from wordspace_client.results import Limits

    batch = neighbors_batch("toy", "words", [f"w{i}" for i in range(20)], k=10)
    sizes = [len(c.body["words"]) for c in batch.calls(Limits(max_batch=8, max_results=30))]
    assert sizes == [3, 3, 3, 3, 3, 3, 2]
    sizes = [len(c.body["words"]) for c in batch.calls(Limits(max_batch=8, max_results=20000))]
    assert sizes == [8, 8, 4]
