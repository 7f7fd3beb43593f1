"""Transfer that transfers, on the real spaces (built once per session, tests/conftest.py):
the clickbait space started from word2vec keeps every word2vec word, so the design's own
example can be asked of it, and it puts the seed figure's two climate headlines closest."""
from __future__ import annotations

import pytest

from service import create_app
from service.settings import Settings

pytestmark = pytest.mark.slow
SPACES = ("clickbait", "clickbait-w2v", "word2vec")
SEED_FIGURE = ["Here are 21 healthy fall soups to stock your freezer",   # a) clickbait
               "Himalaya might miss 50% of its ice in eighty years",     # b) news
               "Alps may lose 70% of snow by end of the century"]        # c) news


@pytest.fixture(scope="module")
def client(real_catalog):
    return create_app(Settings(catalog=real_catalog, spaces=SPACES)).test_client()


def test_the_two_climate_headlines_are_the_closest_pair_in_clickbait_w2v(client, check_spec):
    r = client.post("/v1/compare/sentences", json={"sentences": SEED_FIGURE, "spaces": list(SPACES)})
    assert r.status_code == 200
    check_spec("/v1/compare/sentences", "POST", 200, r.get_json(), r.content_type)
    matrices = {s["space"]: s["similarity"] for s in r.get_json()["spaces"]}
    m = matrices["clickbait-w2v"]
    pairs = {"a~b": m[0][1], "a~c": m[0][2], "b~c": m[1][2]}
    assert max(pairs, key=pairs.get) == "b~c", matrices


@pytest.mark.parametrize("word", ["himalaya", "alps", "soups"])
def test_words_the_headlines_never_had_are_answered(client, check_spec, word):
    r = client.get(f"/v1/spaces/clickbait-w2v/neighbors?word={word}&k=5")
    assert r.status_code == 200, r.get_json()
    check_spec("/v1/spaces/{space}/neighbors", "GET", 200, r.get_json(), r.content_type)
    assert len(r.get_json()["neighbors"]) == 5


def test_metadata_names_task_init_vocabulary_and_accuracy(client):
    listed = {s["name"]: s for s in client.get("/v1/spaces").get_json()["spaces"]}
    d, words = listed["clickbait-w2v"]["details"], listed["word2vec"]["size"]
    assert d["task"] == "clickbait" and d["init"]["start"] == "word2vec" and d["init"]["vocabulary"] == "union"
    v = d["vocabulary"]
    # every word2vec word, and more; the served table leaves out the few keys with whitespace
    served = listed["clickbait-w2v"]["size"]
    assert v["rows"] == served + d["dropped_keys"] and d["dropped_keys"] < 10 and served >= words
    assert v["rows_trained"] + v["rows_carried_over"] == v["rows"] and v["rows_carried_over"] > words // 2
    assert 0.9 < d["test_accuracy"] <= 1 and listed["clickbait"]["details"]["init"]["start"] == "scratch"
