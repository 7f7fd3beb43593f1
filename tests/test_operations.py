"""API keys, CORS, request ids, JSON logs, metrics and catalog reload, in process."""
from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from service import create_app
from service.logconfig import JsonFormatter
from service.store import catalog
from service.web.state import state
from tests.support.tables import toy_table


@pytest.fixture
def keyed(settings):
    return create_app(dataclasses.replace(settings, api_keys=("k1", "secret-two"))).test_client()


def test_api_key_needed_on_v1_only(keyed):
    r = keyed.get("/v1/spaces")
    assert r.status_code == 401 and r.content_type == "application/problem+json"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert keyed.get("/v1/spaces", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert keyed.get("/v1/spaces", headers={"Authorization": "Basic k1"}).status_code == 401
    for key in ("k1", "secret-two"):
        assert keyed.get("/v1/spaces", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    for open_path in ("/healthz", "/readyz", "/metrics", "/openapi.yaml"):
        assert keyed.get(open_path).status_code == 200, open_path


def test_admin_reload_off_without_keys(client):
    for headers in ({}, {"Authorization": "Bearer anything"}):
        r = client.post("/v1/admin/reload", headers=headers)
        assert r.status_code == 401 and "WORDSPACE_API_KEYS" in r.get_json()["detail"]


def test_admin_reload_needs_key(keyed):
    assert keyed.post("/v1/admin/reload").status_code == 401
    r = keyed.post("/v1/admin/reload", headers={"Authorization": "Bearer k1"})
    assert r.status_code == 200 and r.get_json()["spaces"]["toy"]["state"] == "loaded"


def test_cors_off_by_default_and_configurable(client, settings):
    r = client.get("/v1/spaces", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in r.headers
    app = create_app(dataclasses.replace(settings, cors_origins=("https://ok.example",)))
    c = app.test_client()
    r = c.get("/v1/spaces", headers={"Origin": "https://ok.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://ok.example"
    r = c.get("/v1/spaces", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = c.options("/v1/spaces/toy/neighbors", headers={"Origin": "https://ok.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200 and "POST" in r.headers["Access-Control-Allow-Methods"]


def test_request_id_echoed_or_made(client):
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32


def test_access_log_is_json_with_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="wordspace.access"):
        client.get("/v1/spaces/toy/neighbors?word=alps", headers={"X-Request-ID": "rid-1"})
    record = [r for r in caplog.records if r.name == "wordspace.access"][-1]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "rid-1" and line["status"] == 200
    assert line["route"] == "/v1/spaces/<space>/neighbors" and line["duration_ms"] >= 0


def test_metrics_count_requests_searches_and_spaces(client):
    client.get("/v1/spaces/toy/neighbors?word=alps")  # answered from the stored exact top-k
    client.post("/v1/spaces/toy/neighbors", json={"vectors": [[1.0] + [0.0] * 15]})  # searches
    client.get("/v1/spaces/toy/neighbors?word=nothere")
    client.get("/v1/spaces/made-up-name/neighbors?word=alps")
    text = client.get("/metrics").get_data(as_text=True)
    assert ('wordspace_requests_total{method="GET",route="/v1/spaces/<space>/neighbors",'
            'space="toy",status="200"} 1.0') in text
    assert 'space="toy",status="404"} 1.0' in text
    assert 'space="unknown",status="404"} 1.0' in text and "made-up-name" not in text
    assert 'wordspace_index_search_seconds_count{space="toy"} 1.0' in text
    assert 'wordspace_space_rows{space="toy"} 308.0' in text
    assert "wordspace_spaces_loaded 2.0" in text
    assert 'wordspace_build_info{version="0.1.0"} 1.0' in text


def test_reload_brings_in_new_keeps_old_on_corruption_drops_removed(app, catalog_dir):
    registry = state(app).registry
    old_toy = registry.spaces["toy"]
    catalog.write_space(catalog_dir, "fresh", toy_table(n_noise=10), source={})
    rebuilt = catalog.write_space(catalog_dir, "toy", toy_table(n_noise=20), source={}).resolve()
    (rebuilt / "vectors.npy").write_bytes(b"corrupt")
    (catalog_dir / "toy-hnsw").unlink()

    registry.reload()
    assert set(registry.spaces) == {"fresh", "toy"}
    assert registry.spaces["toy"] is old_toy  # the bad rebuild is refused; the old one serves
    assert "vectors.npy" in registry.states["toy"].error and registry.ready
    client = app.test_client()
    assert client.get("/v1/spaces/fresh/neighbors?word=alps").status_code == 200
    assert client.get("/v1/spaces/toy-hnsw").status_code == 404
    body = client.get("/readyz").get_json()
    assert body["spaces"]["toy"] == {"state": "loaded", "fallback": True}  # details need a key

    catalog.write_space(catalog_dir, "toy", toy_table(n_noise=20), source={})
    registry.reload()
    assert len(registry.spaces["toy"]) == 28 and registry.states["toy"].error is None
