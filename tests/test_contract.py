"""openapi.yaml read as an integrator's generator reads it (issue 30): every schema key is a
JSON Schema or OpenAPI keyword, every object says what it holds, every key-protected
operation declares its 401, and the server answers what the contract says (a 413 leaves the
connection usable, a body that is not JSON is a 415). The generated clients themselves are
tests/test_clients.py."""
from __future__ import annotations

import json

import httpx
import pytest

from service import create_app
from service.settings import Settings
from service.store import catalog
from tests.support.server import serve
from tests.support.tables import toy_table

# Every keyword a schema here may use (JSON Schema 2020-12 and OpenAPI's own).
SCHEMA_KEYWORDS = {
    "$ref", "type", "const", "enum", "default", "description", "title", "examples", "example",
    "properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
    "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "pattern", "format", "oneOf", "anyOf", "allOf", "not",
    "contentMediaType", "minProperties", "maxProperties", "propertyNames", "deprecated",
    "readOnly", "writeOnly", "multipleOf",
}


def schemas(node, path="#"):
    """(path, schema) of every schema in the spec: under `schema`, `schemas`, `properties`,
    `items`, `additionalProperties` and the combinators."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}/{key}"
            if key in ("schema", "items", "additionalProperties", "not") and isinstance(value, dict):
                yield where, value
            elif key in ("schemas", "properties") and isinstance(value, dict):
                for name, sub in value.items():
                    if isinstance(sub, dict):
                        yield f"{where}/{name}", sub
            elif key in ("oneOf", "anyOf", "allOf", "prefixItems") and isinstance(value, list):
                for i, sub in enumerate(value):
                    yield f"{where}/{i}", sub
            yield from schemas(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from schemas(value, f"{path}/{i}")


def test_every_schema_key_is_a_keyword(spec):
    """A YAML flow mapping splits a plain description at its commas ({type: string,
    description: Why the space, or its newer version, was refused.}): the pieces become
    stray keys, which generators and linters refuse, and the description is cut short."""
    stray = [f"{path}: {key!r}" for path, schema in schemas(spec) for key in schema
             if key not in SCHEMA_KEYWORDS and not key.startswith("x-")]
    assert not stray, stray


def test_no_boolean_const(spec):
    """`const: true` makes openapi-python-client write `!= Trueand` (a SyntaxError): a flag
    that is only ever true is still a boolean."""
    found = [path for path, schema in schemas(spec) if isinstance(schema.get("const"), bool)]
    assert not found, found


def test_every_object_declares_what_it_holds(spec):
    """A bare `type: object` is `Record<string, never>` in TypeScript: nothing in it can be
    read without a cast (details.test_accuracy, which the README points to)."""
    def object_type(schema):
        kind = schema.get("type")
        return kind == "object" or (isinstance(kind, list) and "object" in kind)

    bare = [path for path, schema in schemas(spec) if object_type(schema)
            and not {"properties", "additionalProperties", "$ref", "oneOf", "anyOf", "allOf"} & set(schema)]
    assert not bare, bare


def test_every_keyed_operation_declares_401(spec):
    """With WORDSPACE_API_KEYS set every /v1 route needs a key (service/web/auth.py)."""
    missing = [f"{method.upper()} {path}" for path, item in spec["paths"].items()
               if path.startswith("/v1/") for method, op in item.items()
               if method != "parameters" and "401" not in op["responses"]]
    assert not missing, missing


def test_keyed_routes_answer_the_declared_401(catalog_dir, check_spec):
    client = create_app(Settings(catalog=catalog_dir, api_keys=("k",))).test_client()
    for path in ("/v1/compare/verdict", "/v1/compare/evaluation", "/v1/experiments/learning-curve"):
        r = client.get(path)
        assert r.status_code == 401
        check_spec(path, "GET", 401, r.get_json(), r.content_type)


def test_rank_is_a_boolean(spec, client, check_spec):
    op = spec["paths"]["/v1/spaces/{space}/similarity"]["get"]
    rank = next(p for p in op["parameters"] if p.get("name") == "rank")
    assert rank["schema"] == {"type": "boolean", "default": False}
    url = "/v1/spaces/toy/similarity?a=king&b=queen&rank="
    ranked, plain = client.get(url + "true").get_json(), client.get(url + "false").get_json()
    assert isinstance(ranked["rank"], int) and "rank" not in plain
    check_spec("/v1/spaces/{space}/similarity", "GET", 200, ranked, "application/json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "text/plain; charset=utf-8"])
def test_a_body_that_is_not_json_is_415(client, check_spec, content_type):
    path = "/v1/spaces/{space}/neighbors"
    r = client.post("/v1/spaces/toy/neighbors", data=json.dumps({"words": ["king"]}),
                    content_type=content_type)
    assert r.status_code == 415 and r.mimetype == "application/problem+json"
    assert "Content-Type: application/json" in r.get_json()["detail"]
    check_spec(path, "POST", 415, r.get_json(), r.content_type)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/merge-patch+json", None])
def test_json_bodies_are_read(client, content_type):
    r = client.post("/v1/spaces/toy/neighbors", data=json.dumps({"words": ["king"], "k": 2}),
                    content_type=content_type)
    assert r.status_code == 200, r.get_json()


@pytest.fixture(scope="module")
def toy_catalog(tmp_path_factory):
    cat = tmp_path_factory.mktemp("contract") / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"}, details={"kind": "test"})
    return cat


@pytest.mark.slow
@pytest.mark.parametrize("proxy", [False, True], ids=["gunicorn", "nginx"])
def test_a_413_leaves_the_pooled_connection_usable(toy_catalog, proxy):
    """A pooled client (httpx) posts a body over the limit, then asks again on the same
    connection: the next request is answered. (gunicorn drops only 64 KiB of an unread body
    and then closes a connection it has said keep-alive on; the app reads the rest.)"""
    big = json.dumps({"words": ["x" * 300_000]}).encode()
    with serve(toy_catalog, proxy=proxy, max_body_bytes=4096, workers=1) as s, \
            httpx.Client(base_url=s.base, timeout=30,
                         limits=httpx.Limits(max_connections=1)) as client:
        answers = []
        for _ in range(10):
            r = client.post("/v1/spaces/toy/neighbors", content=big,
                            headers={"Content-Type": "application/json"})
            assert r.status_code == 413 and r.json()["status"] == 413
            answers.append(client.get("/v1/spaces/toy/neighbors?word=king&k=2").status_code)
        assert answers == [200] * 10


# Issue 27, item 1: a parameter is defined once, in openapi.yaml; the server enforces what the
# served spec says (service/web/inputs.py).
SAMPLE = {"word": "king", "a": "king", "b": "queen", "c": "man", "source": "toy",
          "target": "toy-hnsw", "pairs": "king:queen", "words": "king,queen", "space": "toy"}


def _integer_bounds(served: dict):
    """(path, name, maximum, required names) of every bounded integer query parameter."""
    from service.web.inputs import resolve

    for path, item in served["paths"].items():
        op = item.get("get")
        if not op:
            continue
        ps = [resolve(p, served) for p in item.get("parameters", []) + op.get("parameters", [])]
        for p in ps:
            if p["in"] == "query" and p["schema"].get("type") == "integer" and "maximum" in p["schema"]:
                yield path, p["name"], p["schema"]["maximum"], [q["name"] for q in ps if q.get("required")]


def test_every_bound_is_the_served_specs(client):
    """Each bounded integer parameter of every GET is held to the maximum the served spec
    states (with the fixture's settings: max_k 50), and the answer names it."""
    import yaml

    served = yaml.safe_load(client.get("/openapi.yaml").get_data(as_text=True))
    checked = []
    for path, name, maximum, required in _integer_bounds(served):
        url = path.replace("{space}", "toy").replace("{word}", "king")
        query = "&".join(f"{n}={SAMPLE[n]}" for n in required if n not in ("space", "word") or
                         f"{{{n}}}" not in path)
        if path == "/v1/compare/spaces":
            query = "a=toy&b=toy-hnsw"
        over = client.get(f"{url}?{query}&{name}={maximum + 1}")
        assert over.status_code == 400, (path, name, over.get_json())
        assert over.get_json()["parameter"] == name and str(maximum) in over.get_json()["detail"]
        at = client.get(f"{url}?{query}&{name}={maximum}")
        assert at.status_code != 400 or at.get_json().get("parameter") != name, (path, name)
        checked.append((path, name, maximum))
    assert ("/v1/spaces/{space}/neighbors", "k", 50) in checked and len(checked) >= 8


def test_candidates_are_looked_up_once(client, monkeypatch):
    from service.store.space import Space

    asked = []
    find = Space.find
    monkeypatch.setattr(Space, "find", lambda self, word: asked.append(word) or find(self, word))
    r = client.post("/v1/spaces/toy/neighbors",
                    json={"words": ["king"], "k": 2, "candidates": ["queen", "man", "zzz"]})
    assert r.status_code == 200 and r.get_json()["unknown_candidates"] == ["zzz"]
    assert sorted(w for w in asked if w != "king") == ["man", "queen", "zzz"]
