"""Heavy routes in one process (issue 29): past WORDSPACE_HEAVY_REQUESTS a heavy request is
answered 503 with Retry-After and counted; a streamed export holds its slot until its stream
is closed; the access log records a stream's real bytes; the contract declares the answer."""
from __future__ import annotations

import dataclasses
import logging
import re

from service import create_app
from service.settings import Settings
from service.web.heavy import HEAVY_ROUTES, RETRY_AFTER

EXPORT = "/v1/spaces/toy/export?format=word2vec"


def busy_count(client) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("wordspace_busy_refusals_total{"))


def test_the_limit_follows_the_threads():
    assert Settings(threads=4).heavy_limit == 1
    assert Settings(threads=8).heavy_limit == 2
    assert Settings(threads=1).heavy_limit == 1
    assert Settings(threads=8, heavy_requests=5).heavy_limit == 5
    assert Settings.from_env({"WORDSPACE_HEAVY_REQUESTS": "0"}).heavy_requests == 0


def test_past_the_limit_a_heavy_route_is_busy_until_the_stream_closes(settings):
    app = create_app(dataclasses.replace(settings, heavy_requests=1))
    client = app.test_client()
    held = client.get(EXPORT, buffered=False)  # streamed, not read yet: it holds the slot
    assert held.status_code == 200
    refused = client.get(EXPORT)
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == str(RETRY_AFTER)
    assert refused.get_json()["type"] == "/problems/busy"
    assert "WORDSPACE_HEAVY_REQUESTS" in refused.get_json()["detail"]
    assert client.get("/v1/compare/spaces?a=toy&b=toy-hnsw").status_code == 503
    assert client.get("/healthz").status_code == 200  # light routes are not limited
    assert client.get("/v1/spaces/toy/neighbors?word=alps").status_code == 200
    assert busy_count(client) == 2
    body = b"".join(held.response)
    held.close()
    assert body.startswith(b"308 16\n")
    again = client.get(EXPORT)
    assert again.status_code == 200 and again.data == body
    again.close()  # as a WSGI server does once it has sent the body
    assert client.get("/v1/compare/spaces?a=toy&b=toy-hnsw").status_code == 200


def test_a_refused_or_failed_heavy_request_gives_its_slot_back(settings):
    client = create_app(dataclasses.replace(settings, heavy_requests=1)).test_client()
    for _ in range(3):
        assert client.get("/v1/compare/spaces?a=toy&b=nope").status_code == 404
    assert client.get("/v1/compare/spaces?a=toy&b=toy-hnsw").status_code == 200
    with client.get(EXPORT) as response:
        assert response.status_code == 200


def test_the_access_log_has_a_streams_bytes_when_it_ends(client, caplog):
    caplog.set_level(logging.INFO, logger="wordspace.access")
    response = client.get(EXPORT, buffered=False)
    assert not [r for r in caplog.records if r.name == "wordspace.access"]  # not before the end
    body = b"".join(response.response)
    response.close()
    [record] = [r for r in caplog.records if r.name == "wordspace.access"]
    assert record.fields["bytes"] == len(body) > 10_000
    assert record.fields["route"] == "/v1/spaces/<space>/export"


def test_every_heavy_route_is_served_and_declares_its_busy_answer(app, spec):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert HEAVY_ROUTES <= rules
    for rule in HEAVY_ROUTES:
        path = re.sub(r"<(?:path:)?(\w+)>", r"{\1}", rule)
        operations = [op for op in spec["paths"][path].values() if isinstance(op, dict)]
        for op in operations:
            answer = op["responses"]["503"]
            assert answer == {"$ref": "#/components/responses/NotReadyOrBusy"}, path
    assert "Retry-After" in spec["components"]["responses"]["NotReadyOrBusy"]["headers"]
