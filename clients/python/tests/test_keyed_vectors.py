"""gensim parity: the same calls on gensim's KeyedVectors over a table and on the facade over the
real service holding that table. Words are equal up to the index's recall (exact where the
server scans exactly: restrict_vocab, ranks); scores agree within 1e-4.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors
from gensim.test.utils import datapath

from wordspace_client import Client, UnknownWord

pytestmark = pytest.mark.slow  # GloVe 20k behind HNSW, built and served

TOL = 1e-4
WORDS = ["king", "france", "computer", "river", "good", "music", "city", "water", "war", "run",
         "blue", "money", "science", "dog", "paris", "small", "university", "film", "game", "tree"]


def gensim_kv(table) -> GensimKeyedVectors:
    kv = GensimKeyedVectors(table.vector_size)
    kv.add_vectors(list(table.index_to_key), table.vectors)
    return kv


@pytest.fixture(scope="module")
def pair(glove_url, glove_table):
    client = Client(glove_url)
    yield gensim_kv(glove_table), client.space("glove").keyed_vectors()
    client.close()


@pytest.fixture(scope="module")
def toy_pair(toy_url, table):
    client = Client(toy_url)
    yield gensim_kv(table), client.space("toy").keyed_vectors()
    client.close()


def _same_up_to_recall(want: list, got: list, *, min_overlap: float) -> float:
    """Share of gensim's words the facade returned; the scores of shared words agree."""
    assert len(got) == len(want)
    w, g = dict(want), dict(got)
    for word in set(w) & set(g):
        assert g[word] == pytest.approx(w[word], abs=TOL), word
    overlap = len(set(w) & set(g)) / len(w)
    assert overlap >= min_overlap, (want, got)
    return overlap


def test_most_similar_over_an_approximate_index(pair):
    gkv, kv = pair
    overlaps = []
    for word in WORDS:
        overlaps.append(_same_up_to_recall(gkv.most_similar(word, topn=10), kv.most_similar(word, topn=10),
                                           min_overlap=0.8))
    for positive, negative in ((["king", "woman"], ["man"]), (["paris", "germany"], ["france"]),
                               (["good"], []), (["river", "bank"], ["money"])):
        want = gkv.most_similar(positive=positive, negative=negative, topn=10)
        got = kv.most_similar(positive=positive, negative=negative, topn=10)
        overlaps.append(_same_up_to_recall(want, got, min_overlap=0.8))
        assert got[0][0] == want[0][0]
    assert np.mean(overlaps) >= 0.97  # the index is tuned to recall@10 >= 0.99


def test_restrict_vocab_and_ranks_are_exact(pair):
    gkv, kv = pair
    for word in WORDS[:8]:
        want = gkv.most_similar(word, topn=10, restrict_vocab=3000)
        got = kv.most_similar(word, topn=10, restrict_vocab=3000)
        assert [w for w, _ in got] == [w for w, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=TOL)
    for a, b in (("king", "queen"), ("river", "water"), ("good", "bad"), ("dog", "film")):
        assert kv.rank(a, b) == gkv.rank(a, b)


def test_weighted_keys_and_vectors(pair):
    gkv, kv = pair
    want = gkv.most_similar(positive=[("king", 2.0), "woman"], negative=[("man", 0.5)], topn=10)
    _same_up_to_recall(want, kv.most_similar(positive=[("king", 2.0), "woman"], negative=[("man", 0.5)], topn=10),
                       min_overlap=0.8)
    vector = gkv["river"] + gkv["bank"]
    _same_up_to_recall(gkv.similar_by_vector(vector, topn=10), kv.similar_by_vector(vector, topn=10),
                       min_overlap=0.8)
    _same_up_to_recall(gkv.most_similar(positive=[vector, "money"], topn=10),
                       kv.most_similar(positive=[vector, "money"], topn=10), min_overlap=0.8)
    _same_up_to_recall(gkv.similar_by_word("music", topn=5), kv.similar_by_word("music", topn=5),
                       min_overlap=0.8)


def test_most_similar_cosmul(pair):
    gkv, kv = pair
    for positive, negative in ((["king", "woman"], ["man"]), (["paris", "italy"], ["france"]),
                               (["science"], [])):
        want = gkv.most_similar_cosmul(positive=positive, negative=negative, topn=10)
        got = kv.most_similar_cosmul(positive=positive, negative=negative, topn=10)
        _same_up_to_recall(want, got, min_overlap=1.0)  # rescored exactly from the candidates
        assert [w for w, _ in got] == [w for w, _ in want]


def test_similarities_and_vectors(pair):
    gkv, kv = pair
    assert kv.similarity("king", "queen") == pytest.approx(gkv.similarity("king", "queen"), abs=TOL)
    assert isinstance(kv.similarity("king", "queen"), np.float32)
    assert kv.distance("good", "bad") == pytest.approx(gkv.distance("good", "bad"), abs=TOL)
    assert kv.n_similarity(["king", "queen"], ["man", "woman", "nope"]) == pytest.approx(
        gkv.n_similarity(["king", "queen"], ["man", "woman", "nope"]), abs=TOL)
    np.testing.assert_allclose(kv.distances("river", ["water", "bank", "money"]),
                               gkv.distances("river", ["water", "bank", "money"]), atol=TOL)
    np.testing.assert_allclose(kv.get_vector("computer"), gkv.get_vector("computer"), atol=TOL)
    np.testing.assert_allclose(kv.get_vector("computer", norm=True), gkv.get_vector("computer", norm=True), atol=TOL)
    np.testing.assert_allclose(kv["dog"], gkv["dog"], atol=TOL)
    assert kv[["dog", "cat"]].shape == gkv[["dog", "cat"]].shape == (2, 50)
    np.testing.assert_allclose(kv.get_mean_vector(["dog", "cat"]), gkv.get_mean_vector(["dog", "cat"]), atol=TOL)
    assert kv.doesnt_match(["breakfast", "cereal", "dinner", "lunch", "car"]) == \
        gkv.doesnt_match(["breakfast", "cereal", "dinner", "lunch", "car"])
    assert kv.most_similar_to_given("king", ["queen", "car", "river"]) == \
        gkv.most_similar_to_given("king", ["queen", "car", "river"])


def test_vocabulary(pair, glove_table):
    gkv, kv = pair
    assert len(kv) == len(gkv) == 20_000 and kv.vector_size == gkv.vector_size == 50
    assert "king" in kv and "kingzz" not in kv and "King" not in kv  # exact keys, as gensim
    assert kv.index_to_key[:100] == gkv.index_to_key[:100]
    assert kv.index_to_key[-1] == gkv.index_to_key[-1] and kv.index_to_key[12345] == gkv.index_to_key[12345]
    assert kv.key_to_index["river"] == gkv.key_to_index["river"]
    assert kv.get_index("river") == gkv.get_index("river") and kv.get_index(7) == 7
    assert kv.get_index("kingzz", -1) == -1
    np.testing.assert_allclose(kv[0], gkv[0], atol=TOL)
    assert list(kv.key_to_index)[:3] == gkv.index_to_key[:3]


def test_missing_keys_raise_key_error_like_gensim(pair):
    gkv, kv = pair
    for call in (lambda m: m["kingzz"], lambda m: m.most_similar("kingzz"),
                 lambda m: m.similarity("kingzz", "king"), lambda m: m.get_index("kingzz"),
                 lambda m: m.key_to_index["kingzz"]):
        with pytest.raises(KeyError):
            call(gkv)
        with pytest.raises(KeyError):
            call(kv)
    with pytest.raises(UnknownWord) as e:
        kv.most_similar("kingzz")
    assert "king" in e.value.suggestions


def test_a_missing_key_carries_the_servers_suggestions(pair):
    _, kv = pair
    for call in (lambda: kv["kingzz"], lambda: kv[["dog", "kingzz"]], lambda: kv.get_index("kingzz"),
                 lambda: kv.get_vector("kingzz", norm=True)):
        with pytest.raises(KeyError) as e:
            call()
        assert isinstance(e.value, UnknownWord)
        assert "king" in e.value.suggestions and e.value.word == "kingzz" and e.value.space == "glove"
        assert str(e.value).startswith("Key 'kingzz' not present in space 'glove'; close keys: ")
    with pytest.raises(UnknownWord) as e:
        kv["King"]  # exact keys as in gensim; the server has it lower-cased
    assert e.value.suggestions == ["king"]
    with pytest.raises(UnknownWord) as e:
        kv[10**9]
    assert e.value.suggestions == []


def test_vectors_and_normed_vectors_are_fetched_once(toy_pair, table):
    gkv, kv = toy_pair
    vectors = kv.vectors
    assert vectors.shape == gkv.vectors.shape and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, gkv.vectors, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(kv.get_normed_vectors(), gkv.get_normed_vectors(), atol=1e-6)
    np.testing.assert_allclose(kv.norms, np.linalg.norm(gkv.vectors, axis=1), rtol=1e-6)
    assert np.shares_memory(kv.vectors, vectors)  # kept, not fetched again
    assert not vectors.flags.writeable
    # index_to_key and key_to_index name the rows of vectors
    assert list(kv.index_to_key) == gkv.index_to_key
    for key in ("king", "Paris", "noise7", gkv.index_to_key[-1]):
        assert kv.index_to_key[kv.key_to_index[key]] == key
        np.testing.assert_allclose(kv.vectors[kv.key_to_index[key]], kv[key], atol=1e-6)


def test_a_large_fetch_warns(toy_url, monkeypatch):
    from wordspace_client import rows
    with Client(toy_url) as client:
        kv = client.space("toy").keyed_vectors()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            kv.get_normed_vectors()  # below the limits: no warning
        monkeypatch.setattr(rows, "WARN_ROWS", 100)
        kv = client.space("toy").keyed_vectors()
        with pytest.warns(UserWarning, match=r"fetching 308 vectors of space 'toy'") as caught:
            kv.vectors
        assert caught[0].filename == __file__  # points at the caller's line
        with pytest.warns(UserWarning, match="fetching 308 vectors"):
            client.space("toy").keyed_vectors().evaluate_word_analogies(datapath("questions-words.txt"))


def test_toy_space_closer_than_and_whole_table_calls(toy_pair):
    gkv, kv = toy_pair
    # pairs with no exact ties (orthogonal toy words tie at 0 up to float noise)
    for a, b in (("king", "queen"), ("alps", "noise40"), ("queen", "noise17")):
        assert kv.closer_than(a, b) == gkv.closer_than(a, b)
        assert kv.rank(a, b) == gkv.rank(a, b)
    np.testing.assert_allclose(kv.distances("alps"), gkv.distances("alps"), atol=TOL)
    np.testing.assert_allclose(kv.most_similar("king", topn=None), gkv.most_similar("king", topn=None), atol=TOL)
    assert kv.most_similar("king", topn=0) == gkv.most_similar("king", topn=0) == []
    want = gkv.most_similar_cosmul(positive=[gkv["king"]], negative=["man"], topn=5)
    got = kv.most_similar_cosmul(positive=[kv["king"]], negative=["man"], topn=5)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=TOL)


def test_vectors_of_keys_holding_spaces(tmp_path, serve):
    """The export's word2vec text separates fields with spaces: a key may hold some too. No
    file `build-index` reads keeps such keys, so the catalog is written with the installed
    service's own writer."""
    from service.store import catalog
    from service.store.tables import Table

    keys = ["new york", "a b c", "plain", " lead", "x"]
    vectors = np.random.default_rng(1).normal(size=(len(keys), 6)).astype(np.float32)
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "spaced", Table(keys, vectors), source={"format": "test"},
                        details={"kind": "test"})
    with serve(cat, workers=1, log_level="warning") as url, Client(url) as client:
        kv = client.space("spaced").keyed_vectors()
        np.testing.assert_allclose(kv.vectors, vectors, rtol=1e-6)
        assert list(kv.index_to_key) == keys and kv.key_to_index["a b c"] == 1
