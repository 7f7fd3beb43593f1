"""One place for every limit: service/settings.py. GET /v1/spaces reports them all, the served
openapi.yaml states the ones the running server enforces, and the routes enforce the same."""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from service import create_app
from service.settings import FIXED_LIMITS, MAX_SPACES, MAX_SPACES_PARAM, Settings
from service.web.contract import BOUNDS, bound, marked

ROOT = Path(__file__).resolve().parent.parent


def served_spec(client) -> dict:
    r = client.get("/openapi.yaml")
    assert r.status_code == 200
    return yaml.safe_load(r.get_data(as_text=True))


def test_served_spec_follows_wordspace_max_batch(settings):
    """WORDSPACE_MAX_BATCH=2048: every batch bound of the served spec says 2048."""
    configured = Settings.from_env({"WORDSPACE_MAX_BATCH": "2048"}, catalog=settings.catalog)
    spec = served_spec(create_app(configured).test_client())
    batches = [s for s in marked(spec) if s["x-limit"] == "max_batch"]
    assert len(batches) == 6  # neighbours (words, vectors), similarity, embed, vectors, compare
    assert all(s["maxItems"] == 2048 for s in batches)
    assert "1024" not in yaml.safe_dump([s for s in batches])


def test_every_x_limit_names_a_limit(spec):
    names = Settings().limits()
    found = list(marked(spec))
    assert len(found) >= 25
    for schema in found:
        assert schema["x-limit"] in names, f"x-limit {schema['x-limit']} is no limit"
        field = {f.name for f in dataclasses.fields(Settings)}
        assert schema["x-limit"] in field or schema["x-limit"].upper() in FIXED_LIMITS
        # The file holds the default, so the file read alone is right for a default server.
        assert schema[bound(schema)] == names[schema["x-limit"]], schema


def test_no_bound_in_the_spec_that_equals_a_limit_goes_unmarked(spec):
    """A maxItems, maximum or maxLength that equals a limit's default is a limit written out
    by hand: it must carry its x-limit, or the served spec would not follow the setting."""
    values = set(Settings().limits().values())
    unmarked = []

    def walk(node, where):
        if isinstance(node, dict):
            for key in BOUNDS:
                if node.get(key) in values and "x-limit" not in node:
                    unmarked.append(f"{where}: {key} {node[key]}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec, "")
    assert not unmarked, unmarked


def test_the_spaces_pattern_allows_max_spaces_names(spec):
    schema = spec["components"]["parameters"]["someSpaces"]["schema"]
    assert schema["pattern"] == f"^[^,]*(,[^,]*){{0,{MAX_SPACES - 1}}}$"


def test_the_spaces_parameter_fits_the_request_line():
    # Percent-encoded (12 bytes for a 4-byte character), `spaces` keeps a URL under the
    # default request-line limit, with room for the path and the other parameters.
    assert 12 * MAX_SPACES_PARAM < Settings().max_header_line - 1024


def test_v1_spaces_reports_every_limit(settings):
    configured = Settings.from_env({"WORDSPACE_MAX_PAGE": "7", "WORDSPACE_READ_TIMEOUT": "3"},
                                   catalog=settings.catalog)
    limits = create_app(configured).test_client().get("/v1/spaces").json["limits"]
    assert limits == configured.limits()
    assert limits["max_page"] == 7 and limits["read_timeout"] == 3
    settable = {f.name for f in dataclasses.fields(Settings)
                if f.name.startswith("max_") or f.name.endswith("timeout")}
    assert settable | {n.lower() for n in FIXED_LIMITS} == set(limits)
    assert limits["max_spaces"] == 8 and limits["max_spaces_param"] == 520


@pytest.mark.parametrize("name, setting, request_at, allowed_at", [
    ("max_page", "WORDSPACE_MAX_PAGE", ("get", "/v1/spaces/toy/words?limit=6", None),
     ("get", "/v1/spaces/toy/words?limit=5", None)),
    ("max_analogy_words", "WORDSPACE_MAX_ANALOGY_WORDS",
     ("post", "/v1/spaces/toy/analogy", {"positive": ["alps"] * 6}),
     ("post", "/v1/spaces/toy/analogy", {"positive": ["alps"] * 5})),
    ("max_candidates", "WORDSPACE_MAX_CANDIDATES",
     ("post", "/v1/spaces/toy/neighbors", {"words": ["alps"], "candidates": ["alps"] * 6}),
     ("post", "/v1/spaces/toy/neighbors", {"words": ["alps"], "candidates": ["alps"] * 5})),
])
def test_a_configured_limit_is_enforced_and_served(settings, name, setting, request_at,
                                                   allowed_at):
    """Set to 5, the limit refuses 6 with a 400 saying 5, allows 5, and the served spec says 5."""
    client = create_app(Settings.from_env({setting: "5"}, catalog=settings.catalog)).test_client()
    method, url, body = request_at
    r = getattr(client, method)(url, json=body)
    assert r.status_code == 400 and r.content_type == "application/problem+json"
    assert re.search(r"(at most|to) 5\b", r.json["detail"]), r.json["detail"]
    method, url, body = allowed_at
    assert getattr(client, method)(url, json=body).status_code == 200
    bounds = [s[bound(s)] for s in marked(served_spec(client)) if s["x-limit"] == name]
    assert bounds and set(bounds) == {5}


def test_limits_are_defined_in_settings_only():
    """No module of the serving side (web, store, the top level) but service/settings.py
    assigns a MAX_* constant. (The analyses' and the build's own sizes, such as the words an
    alignment is fitted on, are parameters of a method, not limits on a request.)"""
    found = []
    service = ROOT / "service"
    for path in sorted([*service.glob("*.py"), *(service / "web").glob("*.py"),
                        *(service / "store").glob("*.py")]):
        if path == service / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {t.id}" for t in node.targets
                          if isinstance(t, ast.Name) and t.id.startswith("MAX_")]
    assert not found, found


def test_refusals_state_the_configured_numbers(settings, tmp_path):
    """A body over the limit is refused by the app (alone) or by nginx (`serve --proxy`) with
    a problem that says the number this server enforces, and names the variable."""
    from dataclasses import replace

    from service import proxy

    configured = replace(settings, max_body_bytes=3000, max_header_line=5000, read_timeout=7)
    r = create_app(configured).test_client().post("/v1/spaces/toy/neighbors",
                                                  json={"words": ["x" * 4000]})
    assert r.status_code == 413
    assert "3000 bytes (WORDSPACE_MAX_BODY_BYTES)" in r.json["detail"]
    proxy.write_config(configured, tmp_path)
    said = {code: (tmp_path / proxy.PROBLEMS / f"{code}.json").read_text() for code in proxy.REFUSALS}
    assert "3000 bytes" in said[413] and "5000 bytes" in said[414] and "5000 bytes" in said[494]
    assert "7 s" in said[408]
    assert not [text for text in said.values() if "{" in text[1:-1]]  # every name filled in
