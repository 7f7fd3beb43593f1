"""Every v1 route and every error, in process, each response checked against openapi.yaml."""
from __future__ import annotations

from dataclasses import replace

import pytest

from service.store.catalog import resolve
from service.web.state import state

SP = "/v1/spaces/{space}"


@pytest.fixture
def call(client, check_spec):
    def do(method, url, template, *, json=None, data=None, status=200):
        r = client.open(url, method=method, json=json, data=data)
        assert r.status_code == status, r.get_data(as_text=True)
        body = r.get_json(force=True, silent=True)
        check_spec(template, method, r.status_code, body, r.content_type)
        if status >= 400:
            assert r.content_type == "application/problem+json"
            assert body["status"] == status and body["detail"]
        return body
    return do


def test_probes(call):
    assert call("GET", "/healthz", "/healthz") == {"status": "ok"}
    ready = call("GET", "/readyz", "/readyz")
    assert ready["ready"] is True and set(ready["spaces"]) == {"toy", "toy-hnsw"}


def test_spaces(call):
    spaces = call("GET", "/v1/spaces", "/v1/spaces")["spaces"]
    assert [s["name"] for s in spaces] == ["toy", "toy-hnsw"]
    toy = call("GET", "/v1/spaces/toy", SP)
    assert (toy["size"], toy["dimension"], toy["factory"], toy["exact"]) == (308, 16, "Flat", True)
    assert call("GET", "/v1/spaces/toy-hnsw", SP)["exact"] is False


def test_neighbors_get(call):
    body = call("GET", "/v1/spaces/toy/neighbors?word=ALPS&k=2", SP + "/neighbors")
    assert body["key"] == "alps" and body["k"] == 2
    assert [n["word"] for n in body["neighbors"]] == ["pyrenees", "himalaya"]


def test_neighbors_batch_words_and_vectors(call):
    body = call("POST", "/v1/spaces/toy/neighbors", SP + "/neighbors",
                json={"words": ["alps", "nothere", "king"], "k": 1})
    assert [r.get("found") for r in body["results"]] == [True, False, True]
    assert body["results"][0]["neighbors"][0]["word"] == "pyrenees"
    assert body["results"][1]["neighbors"] == []
    vec = call("GET", "/v1/spaces/toy/vectors/alps", SP + "/vectors/{word}")["vector"]
    body = call("POST", "/v1/spaces/toy/neighbors", SP + "/neighbors", json={"vectors": [vec], "k": 1})
    assert body["results"][0]["neighbors"][0]["word"] == "alps"


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy(call, method):
    body = call("GET", f"/v1/spaces/toy-hnsw/analogy?a=man&b=king&c=woman&k=3&method={method}",
                SP + "/analogy")
    assert body["answers"][0]["word"] == "queen"
    body = call("POST", "/v1/spaces/toy/analogy", SP + "/analogy",
                json={"positive": ["king", "woman"], "negative": ["man"], "k": 2, "method": method})
    assert body["answers"][0]["word"] == "queen"


def test_similarity(call):
    body = call("GET", "/v1/spaces/toy/similarity?a=alps&b=pyrenees", SP + "/similarity")
    assert 0.9 < body["similarity"] <= 1.0
    body = call("POST", "/v1/spaces/toy/similarity", SP + "/similarity",
                json={"pairs": [["alps", "himalaya"], ["alps", "zzz"]]})
    assert body["results"][0]["similarity"] > 0.9
    assert body["results"][1] == {"a": "alps", "b": "zzz", "similarity": None, "missing": ["zzz"]}


def test_vector(call, table):
    body = call("GET", "/v1/spaces/toy/vectors/Paris", SP + "/vectors/{word}")
    expected = table.vectors[table.index_to_key.index("Paris")]
    assert body["vector"] == pytest.approx(list(expected), rel=1e-5)


@pytest.mark.parametrize("url", [
    "/v1/spaces/toy/neighbors?word=alps&k=0",
    "/v1/spaces/toy/neighbors?word=alps&k=51",
    "/v1/spaces/toy/neighbors?word=alps&k=ten",
    "/v1/spaces/toy/neighbors",
    "/v1/spaces/toy/neighbors?word=%20",
    "/v1/spaces/toy/neighbors?word=" + "x" * 201,
    "/v1/spaces/toy/analogy?a=man&b=king",
    "/v1/spaces/toy/analogy?a=man&b=king&c=woman&method=cosine",
    "/v1/spaces/toy/similarity?a=alps",
])
def test_bad_query_is_400(call, url):
    template = SP + "/" + url.split("/")[4].split("?")[0]
    call("GET", url, template, status=400)


@pytest.mark.parametrize("body, detail", [
    ({"k": 1}, "exactly one of"),
    ({"words": ["a"], "vectors": [[1.0]]}, "exactly one of"),
    ({"words": []}, "non-empty list"),
    ({"words": "alps"}, "non-empty list"),
    ({"words": ["a"] * 9}, "at most 8"),
    ({"words": [3]}, "non-empty string"),
    ({"vectors": [[1.0, 2.0]]}, "dimension 16"),
    ({"words": ["alps"], "k": 1.5}, "'k'"),
    ({"words": ["alps"], "k": True}, "'k'"),
    ([1, 2], "JSON object"),
])
def test_bad_batch_is_400(call, body, detail):
    got = call("POST", "/v1/spaces/toy/neighbors", SP + "/neighbors", json=body, status=400)
    assert detail in got["detail"]


def test_malformed_json_and_bad_pairs(call):
    call("POST", "/v1/spaces/toy/neighbors", SP + "/neighbors", data="{not json", status=400)
    got = call("POST", "/v1/spaces/toy/similarity", SP + "/similarity", json={"pairs": [["a"]]}, status=400)
    assert "two words" in got["detail"]
    call("POST", "/v1/spaces/toy/analogy", SP + "/analogy", json={"negative": ["man"]}, status=400)


def test_body_too_large_is_413(call):
    got = call("POST", "/v1/spaces/toy/neighbors", SP + "/neighbors",
               json={"words": ["x" * 5000]}, status=413)
    assert got["title"] == "Content Too Large"  # as nginx says it (service/errors.py TITLES)


def test_unknown_word_404_names_word_space_and_suggests(call):
    got = call("GET", "/v1/spaces/toy/neighbors?word=himalayas", SP + "/neighbors", status=404)
    assert got["word"] == "himalayas" and got["space"] == "toy"
    assert got["suggestions"][0] == "himalaya"
    got = call("GET", "/v1/spaces/toy/analogy?a=man&b=kingg&c=woman", SP + "/analogy", status=404)
    assert got["word"] == "kingg"
    call("GET", "/v1/spaces/toy/vectors/nothere", SP + "/vectors/{word}", status=404)


def test_unknown_space_404_lists_spaces(call):
    got = call("GET", "/v1/spaces/nope/neighbors?word=alps", SP + "/neighbors", status=404)
    assert got["spaces"] == ["toy", "toy-hnsw"] and "toy-hnsw" in got["detail"]


def test_unknown_route_and_method_are_problem_json(client):
    r = client.get("/v2/whatever")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    r = client.delete("/v1/spaces/toy")
    assert r.status_code == 405 and r.content_type == "application/problem+json"
    assert "GET" in r.headers["Allow"]


def test_refused_space_serves_others_and_readyz_503(settings, catalog_dir, check_spec):
    from service import create_app

    (resolve(catalog_dir, "toy-hnsw") / "index.faiss").write_bytes(b"corrupt")
    client = create_app(replace(settings, api_keys=("k",))).test_client()
    key = {"Authorization": "Bearer k"}
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.get_json()
    check_spec("/readyz", "GET", 503, body, r.content_type)
    assert body["spaces"]["toy-hnsw"] == {"state": "failed"}  # no path, no reason without a key
    r = client.get("/readyz", headers=key)
    check_spec("/readyz", "GET", 503, r.get_json(), r.content_type)
    assert "index.faiss" in r.get_json()["spaces"]["toy-hnsw"]["error"]
    assert client.get("/v1/spaces/toy/neighbors?word=alps", headers=key).status_code == 200
    r = client.get("/v1/spaces/toy-hnsw/neighbors?word=alps", headers=key)
    assert r.status_code == 503 and r.content_type == "application/problem+json"
    assert r.get_json()["detail"].endswith("index.faiss: size 7, manifest says " +
                                           r.get_json()["detail"].rsplit(" ", 1)[1])
    assert str(catalog_dir) not in r.get_json()["detail"]


def test_configured_space_missing(catalog_dir):
    from service import create_app
    from service.settings import Settings

    client = create_app(Settings(catalog=catalog_dir, spaces=("toy", "ghost"))).test_client()
    body = client.get("/readyz").get_json()
    assert body["spaces"]["ghost"]["state"] == "missing" and body["ready"] is False
    assert [s["name"] for s in client.get("/v1/spaces").get_json()["spaces"]] == ["toy"]


def test_embed_word_space_mean_of_normalised_vectors(call, app):
    import numpy as np

    body = call("POST", "/v1/spaces/toy/embed", SP + "/embed",
                json={"texts": ["Alps, pyrenees!", "zzz qqq", ""]})
    space = state(app).registry.spaces["toy"]
    expected = (space.vectors[space.lookup("alps")] + space.vectors[space.lookup("pyrenees")]) / 2
    first, unknown, empty = body["results"]
    assert first["tokens"] == 2 and first["missing"] == []
    assert first["vector"] == pytest.approx(list(expected), abs=1e-6)
    assert unknown["tokens"] == 0 and unknown["missing"] == ["zzz", "qqq"]
    assert not np.any(unknown["vector"]) and empty["tokens"] == 0


@pytest.mark.parametrize("body, detail", [
    ({"texts": []}, "non-empty list"),
    ({"texts": [1]}, "must be a string"),
    ({"texts": ["x"] * 9}, "at most 8"),
])
def test_embed_bad_input(call, body, detail):
    got = call("POST", "/v1/spaces/toy/embed", SP + "/embed", json=body, status=400)
    assert detail in got["detail"]
