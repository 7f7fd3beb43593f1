"""End to end: the real service under gunicorn on a free loopback port, a test catalog with
the real GloVe space (its most frequent words, built by the runner as the default build builds
the full table: HNSW32 tuned to recall, a stored top-k table), a toy space and a corrupt one;
every route and every error over HTTP."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from service.store import catalog
from tests.support.tables import toy_table
from tests.support.realcat import glove_rows
from tests.support.server import children, serve

pytestmark = pytest.mark.slow
SP = "/v1/spaces/{space}"


@pytest.fixture(scope="session")
def glove_catalog(tmp_path_factory, real_glove) -> Path:
    """The real GloVe 6B 50d space of the session's catalog (its most frequent rows, HNSW32
    and a stored top-k table, tests/support/catalog.toml): a copy, so that a session builds it
    once. A slice answers as the full table would for the words asked here: a neighbour outside
    the slice is rarer than any inside it, and every word asked is inside."""
    cat = tmp_path_factory.mktemp("catalog")
    shutil.copytree(catalog.resolve(real_glove, "glove"), cat / "glove")
    return cat


@pytest.fixture(scope="module")
def server(glove_catalog):
    catalog.write_space(glove_catalog, "toy", toy_table(), source={"format": "test"})
    catalog.write_space(glove_catalog, "broken", toy_table(), source={"format": "test"})
    index = catalog.resolve(glove_catalog, "broken") / "index.faiss"
    data = bytearray(index.read_bytes())
    data[100:110] = b"\x00" * 10
    index.write_bytes(bytes(data))
    with serve(glove_catalog, workers=2, max_k=100, max_body_bytes=65536) as running:
        yield running.base, running.proc


@pytest.fixture
def call(server, check_spec):
    base, _ = server

    def do(method, url, template, *, json=None, data=None, status=200, headers=None):
        r = requests.request(method, base + url, json=json, data=data, headers=headers, timeout=30)
        assert r.status_code == status, r.text[:500]
        body = r.json()
        check_spec(template, method, r.status_code, body, r.headers["Content-Type"])
        if status >= 400 and template != "/readyz":
            assert r.headers["Content-Type"] == "application/problem+json"
            assert "Traceback" not in r.text
        return body
    return do


SP_NEIGHBORS = "/v1/spaces/{space}/neighbors"


def test_readyz_reports_the_corrupt_space(call, server):
    body = call("GET", "/readyz", "/readyz", status=503)
    assert body["spaces"]["glove"]["state"] == "loaded"
    assert body["spaces"]["broken"] == {"state": "failed"}  # no paths or reasons without a key
    refused = call("GET", "/v1/spaces/broken/neighbors?word=alps", SP_NEIGHBORS, status=503)
    assert refused["detail"].startswith("space 'broken' is failed: index.faiss: ")
    assert call("GET", "/healthz", "/healthz")["status"] == "ok"


def test_glove_alps_neighbours_include_pyrenees(call):
    body = call("GET", "/v1/spaces/glove/neighbors?word=alps&k=10", SP + "/neighbors")
    assert "pyrenees" in [n["word"] for n in body["neighbors"]]


def test_glove_king_man_woman_is_queen(call):
    for method in ("3cosadd", "3cosmul"):
        body = call("GET", f"/v1/spaces/glove/analogy?a=man&b=king&c=woman&method={method}",
                    SP + "/analogy")
        assert body["answers"][0]["word"] == "queen"


def test_every_route(call):
    spaces = call("GET", "/v1/spaces", "/v1/spaces")["spaces"]
    assert {s["name"] for s in spaces} == {"glove", "toy"}
    glove = call("GET", "/v1/spaces/glove", SP)
    assert (glove["size"], glove["dimension"], glove["factory"]) == (glove_rows(), 50, "HNSW32")
    assert glove["recall_at_10"] >= 0.99
    batch = call("POST", "/v1/spaces/glove/neighbors", SP + "/neighbors",
                 json={"words": ["Paris", "qqqzzz"], "k": 5})
    assert batch["results"][0]["key"] == "paris" and not batch["results"][1]["found"]
    vec = call("GET", "/v1/spaces/glove/vectors/france", SP + "/vectors/{word}")
    assert len(vec["vector"]) == 50
    near = call("POST", "/v1/spaces/glove/neighbors", SP + "/neighbors",
                json={"vectors": [vec["vector"]], "k": 1})
    assert near["results"][0]["neighbors"][0]["word"] == "france"
    post = call("POST", "/v1/spaces/glove/analogy", SP + "/analogy",
                json={"positive": ["paris", "germany"], "negative": ["france"], "k": 1})
    assert post["answers"][0]["word"] == "berlin"
    sim = call("GET", "/v1/spaces/glove/similarity?a=good&b=bad", SP + "/similarity")
    assert 0.5 < sim["similarity"] < 1
    pairs = call("POST", "/v1/spaces/glove/similarity", SP + "/similarity",
                 json={"pairs": [["cat", "dog"], ["cat", "qqqzzz"]]})
    assert pairs["results"][1]["missing"] == ["qqqzzz"]


def test_spec_served(server):
    r = requests.get(server[0] + "/openapi.yaml", timeout=5)
    assert r.status_code == 200 and r.text.startswith("openapi: 3.1")


@pytest.mark.parametrize("url, template, status", [
    ("/v1/spaces/glove/neighbors?word=alps&k=0", SP + "/neighbors", 400),
    ("/v1/spaces/glove/neighbors?word=alps&k=101", SP + "/neighbors", 400),
    ("/v1/spaces/glove/neighbors?word=himalayass", SP + "/neighbors", 404),
    ("/v1/spaces/nope/neighbors?word=alps", SP + "/neighbors", 404),
    ("/v1/spaces/broken/neighbors?word=alps", SP + "/neighbors", 503),
    ("/v1/spaces/glove/analogy?a=man&b=king&c=woman&method=x", SP + "/analogy", 400),
    ("/v1/spaces/glove/similarity?a=cat", SP + "/similarity", 400),
    ("/v1/spaces/glove/vectors/qqqzzz", SP + "/vectors/{word}", 404),
])
def test_errors_over_http(call, url, template, status):
    body = call("GET", url, template, status=status)
    if status == 404 and "himalayass" in url:
        assert "himalayas" in body["suggestions"]
    if "nope" in url:
        assert body["spaces"] == ["glove", "toy"]


def test_post_errors_over_http(call):
    call("POST", "/v1/spaces/glove/neighbors", SP + "/neighbors", data="{oops",
         headers={"Content-Type": "application/json"}, status=400)
    call("POST", "/v1/spaces/glove/neighbors", SP + "/neighbors",
         json={"vectors": [[1.0] * 49]}, status=400)
    call("POST", "/v1/spaces/glove/neighbors", SP + "/neighbors",
         json={"words": ["a"] * 1025}, status=400)
    call("POST", "/v1/spaces/glove/neighbors", SP + "/neighbors",
         json={"words": ["x" * 100] * 1000, "k": 1}, status=413)


def test_workers_never_load_tensorflow(server, call):
    base, proc = server
    call("GET", "/v1/spaces/glove/neighbors?word=alps", SP + "/neighbors")
    pids = [proc.pid] + children(proc.pid)
    assert len(pids) >= 3
    for pid in pids:
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "tensorflow" not in maps, f"process {pid} mapped TensorFlow"
        assert "faiss" in maps
