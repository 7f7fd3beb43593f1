"""Issue 14's hostile inputs, in process: each is a clear 4xx problem+json that agrees with
openapi.yaml (never a 500), types are held to the spec, echoes and work are bounded, plots
draw words as text, readiness tells states to anyone and details only with a key."""
from __future__ import annotations

from dataclasses import replace

import pytest

from service import create_app
from service.store import catalog
from tests.support.tables import toy_table

SP = "/v1/spaces/{space}"
NEIGHBORS = "/v1/spaces/toy/neighbors"


def problem(client, check_spec, method, url, template, status, **kw):
    r = client.open(url, method=method, **kw)
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    assert r.content_type == "application/problem+json"
    body = r.get_json()
    check_spec(template, method, status, body, r.content_type)
    return body


@pytest.mark.parametrize("raw, says", [
    (b'{"words": ["king"], "k": Infinity}', "Infinity"),
    (b'{"words": ["king"], "k": -Infinity}', "Infinity"),
    (b'{"words": ["king"], "k": NaN}', "NaN"),
    (b'{"words": ["king"], "k": 1e400}', "out of range"),
    (b'{"vectors": [[1e400, 0]], "k": 1}', "out of range"),
    (b'{"words": ["king"], "k": 1' + b"0" * 5000 + b"}", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "deeper than"),
    (b'{"words": ' + b"[" * 5000 + b"]" * 5000 + b"}", "deeper than"),
    (b'{"words": ["k\xff"]}', "UTF-8"),
    (b'{"words": ["king"]', "not valid JSON"),
    (b'{"words": ["\\ud800"]}', "lone UTF-16 surrogate"),
])
def test_json_body_is_finite_and_shallow(catalog_dir, check_spec, raw, says):
    from service.settings import Settings

    client = create_app(Settings(catalog=catalog_dir)).test_client()  # default 1 MiB body limit
    body = problem(client, check_spec, "POST", NEIGHBORS, SP + "/neighbors", 400, data=raw,
                   content_type="application/json")
    assert says in body["detail"]


@pytest.mark.parametrize("raw", [
    b'{"k": 123456789012345678901234}', b'{"k": -1234567890123456789, "v": [1e2]}',
    b'{"v": [0.00123456789012345678912, 1e-300, -0.0, 12345678901234567.5]}',
    b'{"w": "\\ud83d\\ude00"}', b'{"a": 1, "a": 2}', b'{"w": "1234567890123456789012"}',
])
def test_both_json_readers_agree(raw):
    # orjson reads most bodies; the standard library those with integers past 64 bits (kept
    # integers, not floats) and those orjson refuses: the result must not depend on which.
    import json

    from service.web.params import decode_json

    got, want = decode_json(raw), json.loads(raw)
    assert got == want and repr(got) == repr(want)


def test_nesting_in_strings_does_not_count(client):
    r = client.post(NEIGHBORS, json={"words": ["[" * 150], "k": 1})
    assert r.status_code == 200 and r.get_json()["results"][0]["found"] is False


@pytest.mark.parametrize("k", ["5", True, False, 1.5, None, [5], {"k": 5}])
def test_json_k_must_be_an_integer(client, check_spec, k):
    body = problem(client, check_spec, "POST", NEIGHBORS, SP + "/neighbors", 400,
                   json={"words": ["alps"], "k": k})
    assert body["parameter"] == "k"


def test_json_k_integral_number_is_an_integer(client):
    # JSON Schema's integer includes 5.0: the spec accepts it, so does the service.
    assert client.post(NEIGHBORS, json={"words": ["alps"], "k": 5.0}).get_json()["k"] == 5


@pytest.mark.parametrize("vectors", [
    [[True] * 16], [[False, 1.0] * 8], [["1.5"] * 16], [[None] * 16], [[[1.0]] * 16],
])
def test_vectors_must_be_numbers(client, check_spec, vectors):
    body = problem(client, check_spec, "POST", NEIGHBORS, SP + "/neighbors", 400,
                   json={"vectors": vectors, "k": 1})
    assert body["parameter"] == "vectors"


@pytest.mark.parametrize("k", ["\u0665", "%205%20", "1_0", "+5", "5.0", "0x5", "\uff15", "1e1",
                               "99999999999999999999"])
def test_query_k_is_ascii_digits(client, check_spec, k):
    body = problem(client, check_spec, "GET", f"{NEIGHBORS}?word=alps&k={k}", SP + "/neighbors", 400)
    assert body["parameter"] == "k"


@pytest.mark.parametrize("n", ["\u0665", "1_0", " 5"])
def test_query_n_is_ascii_digits(client, check_spec, n):
    body = problem(client, check_spec, "GET", f"/v1/compare/drift?source=toy&target=toy-hnsw&n={n}",
                   "/v1/compare/drift", 400)
    assert body["parameter"] == "n"


def test_unknown_space_name_is_not_echoed_whole(client, check_spec):
    name = "x" * 5000
    body = problem(client, check_spec, "GET", f"/v1/spaces/{name}/neighbors?word=alps",
                   SP + "/neighbors", 404)
    assert len(body["space"]) <= 64 and len(body["detail"]) < 200
    assert len(str(body)) < 1000


@pytest.mark.parametrize("word", ["\x1c", "a\x1f", "\x85", "\x1e\x1d"])
def test_words_the_spec_allows_are_not_refused(client, check_spec, spec, word):
    import jsonschema

    jsonschema.validate(word, spec["components"]["schemas"]["Word"])  # schema-valid ...
    body = problem(client, check_spec, "GET", f"{NEIGHBORS}?word={word}", SP + "/neighbors", 404)
    assert body["type"] == "/problems/unknown-word"  # ... so looked up, not refused as blank


@pytest.mark.parametrize("word", [" ", "\t\n", "\u00a0", "\u3000\u2002"])
def test_blank_words_are_refused_like_the_spec(client, check_spec, spec, word):
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(word, spec["components"]["schemas"]["Word"])
    problem(client, check_spec, "GET", f"{NEIGHBORS}?word={word}", SP + "/neighbors", 400)


@pytest.mark.parametrize("spaces", [",", ",,", " , "])
def test_spaces_naming_none_means_all(client, spaces):
    r = client.get(f"/v1/compare/neighbors?word=alps&k=2&spaces={spaces}")
    assert r.status_code == 200 and {s["space"] for s in r.get_json()["spaces"]} == {"toy", "toy-hnsw"}


def test_k_description_says_the_schema_default(spec):
    k = spec["components"]["parameters"]["k"]
    assert spec["components"]["schemas"]["K"]["default"] == 10
    assert "default 1000" not in k["description"] and "10 when absent" in k["description"]


@pytest.mark.parametrize("body", [
    {"words": ["alps"] * 8, "k": 50},  # 400 results, over the test's max_results of 300
    {"vectors": [[1.0] * 16] * 7, "k": 50},
])
def test_results_per_request_are_bounded(catalog_dir, check_spec, body):
    from service.settings import Settings

    client = create_app(Settings(catalog=catalog_dir, max_k=50, max_batch=8,
                                 max_results=300)).test_client()
    got = problem(client, check_spec, "POST", NEIGHBORS, SP + "/neighbors", 400, json=body)
    assert got["parameter"] == "k" and "WORDSPACE_MAX_RESULTS" in got["detail"]
    ok = dict(body, k=300 // len(body.get("words") or body["vectors"]))
    assert client.post(NEIGHBORS, json=ok).status_code == 200


@pytest.mark.parametrize("positive, negative", [
    (["alps"] * 11, []), (["alps"], ["king"] * 11), (["a"] * 300, ["k"] * 300),
])
def test_analogy_lists_are_bounded(client, check_spec, positive, negative):
    problem(client, check_spec, "POST", "/v1/spaces/toy/analogy", SP + "/analogy", 400,
            json={"positive": positive, "negative": negative, "method": "3cosmul"})


@pytest.mark.parametrize("url", ["/v1/spaces/toy/evaluation?refresh=true",
                                 "/v1/compare/evaluation?refresh=1&spaces=toy"])
def test_evaluation_refresh_is_not_for_anyone(client, url):
    r = client.get(url)
    assert r.status_code == 400 and "/v1/admin/spaces/{space}/evaluation" in r.get_json()["detail"]


def test_evaluation_refresh_is_an_admin_route(settings, check_spec):
    keyed = create_app(replace(settings, api_keys=("k",))).test_client()
    path = "/v1/admin/spaces/{space}/evaluation"
    r = keyed.post("/v1/admin/spaces/toy/evaluation")
    assert r.status_code == 401
    r = keyed.post("/v1/admin/spaces/toy/evaluation", headers={"Authorization": "Bearer k"})
    assert r.status_code == 200
    check_spec(path, "POST", 200, r.get_json(), r.content_type)
    assert "wordsim353" in r.get_json()["refreshed"]
    assert create_app(settings).test_client().post("/v1/admin/spaces/toy/evaluation").status_code == 401


@pytest.fixture
def odd_catalog(tmp_path):
    """A space whose keys are what matplotlib would read as mathtext."""
    table = toy_table()
    keys = ["$\\foo$", "$x_$", "$^^$", "a$b"] + table.index_to_key[4:]
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "odd", type(table)(keys, table.vectors), source={"format": "test"})
    catalog.write_space(cat, "toy", table, source={"format": "test"})
    return cat


@pytest.mark.parametrize("words", ["$\\foo$", "$x_$", "$^^$", "$\\foo$,$x_$,$^^$,a$b",
                                   "$\\frac{a}{$,alps,himalaya"])
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_plot_words_are_text_not_mathtext(odd_catalog, words, fmt):
    from urllib.parse import quote

    from service.settings import Settings

    client = create_app(Settings(catalog=odd_catalog)).test_client()
    r = client.get(f"/v1/compare/plot?words={quote(words)}&format={fmt}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.content_type.startswith("image/")


def test_readyz_tells_states_to_anyone_and_details_with_a_key(settings, check_spec):
    app = create_app(replace(settings, api_keys=("k",)))
    client = app.test_client()
    public = client.get("/readyz").get_json()
    check_spec("/readyz", "GET", 200, public, "application/json")
    assert public["spaces"] == {"toy": {"state": "loaded"}, "toy-hnsw": {"state": "loaded"}}
    assert str(settings.catalog) not in str(public)
    wrong = client.get("/readyz", headers={"Authorization": "Bearer nope"}).get_json()
    assert wrong == public
    keyed = client.get("/readyz", headers={"Authorization": "Bearer k"}).get_json()
    check_spec("/readyz", "GET", 200, keyed, "application/json")
    assert keyed["spaces"]["toy"]["path"].startswith(".versions/toy.")  # relative to the catalog
    assert keyed["spaces"]["toy"]["version"].startswith("toy.")


def test_readyz_without_keys_configured_shows_no_details(client):
    assert client.get("/readyz", headers={"Authorization": "Bearer x"}).get_json()["spaces"]["toy"] == {
        "state": "loaded"}


@pytest.mark.parametrize("required, ready", [((), False), (("toy",), True), (("toy-hnsw",), False),
                                             (("ghost",), False)])
def test_readiness_rule_names_the_spaces_that_must_load(settings, catalog_dir, required, ready):
    (catalog.resolve(catalog_dir, "toy-hnsw") / "index.faiss").write_bytes(b"corrupt")
    client = create_app(replace(settings, required_spaces=required)).test_client()
    r = client.get("/readyz")
    assert r.status_code == (200 if ready else 503) and r.get_json()["ready"] is ready
    assert r.get_json()["spaces"]["toy-hnsw"] == {"state": "failed"}
    if required:
        assert r.get_json()["required"] == list(required)


def test_metrics_content_type_has_one_charset(client):
    r = client.get("/metrics")
    assert r.headers["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"


@pytest.mark.parametrize("origin", [None, "https://allowed.example", "https://other.example"])
def test_vary_origin_whenever_cors_is_configured(settings, origin):
    client = create_app(replace(settings, cors_origins=("https://allowed.example",))).test_client()
    headers = {"Origin": origin} if origin else {}
    r = client.get("/v1/spaces/toy/neighbors?word=alps&k=1", headers=headers)
    assert "Origin" in r.headers.get("Vary", "")
    allowed = r.headers.get("Access-Control-Allow-Origin")
    assert allowed == (origin if origin == "https://allowed.example" else None)


@pytest.mark.parametrize("url, parameter", [
    ("/v1/compare/drift?source=toy&target=toy-hnsw&n=101", "n"),
    ("/v1/compare/plot?spaces=toy,toy-hnsw&words=" + ",".join(f"noise{i}" for i in range(81)), "words"),
])
def test_expensive_views_are_bounded(client, check_spec, url, parameter):
    template = url.split("?")[0]
    body = problem(client, check_spec, "GET", url, template, 400)
    assert body["parameter"] == parameter


@pytest.mark.parametrize("query", ["words=alps&word=king", "words=alps&k=x", "words=alps&k=31"])
@pytest.mark.parametrize("route", ["/v1/compare/projection", "/v1/compare/plot"])
def test_projection_parameters_are_checked_even_when_unused(client, check_spec, route, query):
    problem(client, check_spec, "GET", f"{route}?{query}", route, 400)


@pytest.mark.parametrize("extra", [{"restrict_vocab": None}, {"restrict_vocab": "5"},
                                   {"restrict_vocab": True}, {"restrict_vocab": 0},
                                   {"candidates": None}, {"candidates": "alps"}])
def test_new_body_members_are_typed_too(client, check_spec, extra):
    body = problem(client, check_spec, "POST", NEIGHBORS, SP + "/neighbors", 400,
                   json={"words": ["alps"], "k": 2, **extra})
    assert body["parameter"] == next(iter(extra))


@pytest.mark.parametrize("value", ["\u0665", "1_0", " 5", "0", "-3"])
def test_query_restrict_vocab_is_ascii_digits(client, check_spec, value):
    body = problem(client, check_spec, "GET", f"{NEIGHBORS}?word=alps&restrict_vocab={value}",
                   SP + "/neighbors", 400)
    assert body["parameter"] == "restrict_vocab"


def test_huge_integers_are_refused_without_echoing_them(client, check_spec):
    body = problem(client, check_spec, "GET", f"{NEIGHBORS}?word=alps&k={'9' * 3000}",
                   SP + "/neighbors", 400)
    assert len(body["detail"]) < 120


def test_unbounded_integers_take_any_size(client):
    r = client.get(f"{NEIGHBORS}?word=alps&k=2&restrict_vocab={'9' * 40}")
    assert r.status_code == 200
    r = client.get(f"/v1/spaces/toy/words?limit=1&offset={'9' * 30}")
    assert r.status_code == 200 and r.get_json()["words"] == []


def test_unknown_http_methods_are_one_metrics_label(client):
    """500 made-up methods leave /metrics as it was after the first few: the method label
    takes the standard methods and "other" only (issue 19: 5,000 grew it to 10.7 MB; with a
    label per method, 500 would add hundreds of series, far over the 1,000 bytes allowed)."""
    import random

    from prometheus_client.parser import text_string_to_metric_families

    rng = random.Random(0)

    def made_up():
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(3, 12)))

    def series():
        text = client.get("/metrics").get_data(as_text=True)
        return {(s.name, tuple(sorted(s.labels.items())))
                for family in text_string_to_metric_families(text) for s in family.samples
                if s.name.startswith("wordspace_request") and s.labels["route"] != "/metrics"}, len(text)

    for method in ("GET", "POST", "BREW", "PROPFIND"):
        client.open("/v1/spaces/toy", method=method)
        client.open("/no/such/route", method=method)
    series()
    before, size = series()
    for _ in range(500):
        client.open(rng.choice(["/v1/spaces/toy", "/no/such/route"]), method=made_up())
    after, grown = series()
    assert after == before and grown < size + 1000
    methods = {dict(labels).get("method") for _, labels in after} - {None}
    assert methods == {"GET", "POST", "other"}


@pytest.mark.parametrize("extra, parameter", [
    ('"restrict_vocab": 200', "restrict_vocab"),
    ('"restrict_vocab": 1' + "0" * 30, "restrict_vocab"),  # clamped to the space's 308 rows
    ('"candidates": [' + ",".join(f'"noise{i}"' for i in range(200)) + "]", "candidates"),
])
def test_restricted_scans_are_bounded(settings, check_spec, extra, parameter):
    """Issue 19: restrict_vocab=400000 for 1,000 words cost 5.3 s. Rows allowed times words
    is held to WORDSPACE_MAX_SCAN_ROWS (here 1,000), with a problem saying the limit."""
    import json

    client = create_app(replace(settings, max_scan_rows=1000)).test_client()
    words = ["alps", "king", "queen", "man", "woman", "Paris", "pyrenees", "himalaya"]

    def ask(items):
        return '{"k": 2, %s, %s}' % (items, extra)

    body = problem(client, check_spec, "POST", NEIGHBORS, SP + "/neighbors", 400,
                   data=ask('"words": ' + json.dumps(words)), content_type="application/json")
    assert body["parameter"] == parameter
    assert "at most 1000" in body["detail"] and "WORDSPACE_MAX_SCAN_ROWS" in body["detail"]
    vectors = client.post(NEIGHBORS, data=ask('"vectors": ' + json.dumps([[1.0] * 16] * 8)),
                          content_type="application/json")
    assert vectors.status_code == 400 and vectors.get_json()["parameter"] == parameter
    within = client.post(NEIGHBORS, data=ask('"words": ' + json.dumps(words[:3])),
                         content_type="application/json")  # 3 x at most 308 rows
    assert within.status_code == 200, within.get_data(as_text=True)
    assert client.get("/v1/spaces").get_json()["limits"]["max_scan_rows"] == 1000
