"""Faults the service serves through are visible (issue 29): a reload that cannot read the
catalog, and a served space whose files can no longer be read, show in /readyz (which space,
since when; the error to a caller with a key) and in the metrics; neither makes the service
unready (docs/operations.md, "Readiness")."""
from __future__ import annotations

import dataclasses
import shutil

import pytest

from service import create_app
from service.store import catalog
from service.web.state import state

KEY = "faults-key"


@pytest.fixture
def keyed(settings):
    app = create_app(dataclasses.replace(settings, api_keys=(KEY,)))
    return app, app.test_client()


def metric(client, name: str) -> dict[str, float]:
    found = {}
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(name):
            labels, value = line.rsplit(" ", 1)
            found[labels] = float(value)
    return found


def test_a_reload_that_cannot_read_the_catalog_shows(keyed, catalog_dir):
    app, client = keyed
    auth = {"Authorization": f"Bearer {KEY}"}
    versions = catalog_dir / catalog.VERSIONS
    versions.rename(catalog_dir / "moved")
    versions.write_text("not a folder")  # .versions cannot be listed
    state(app).registry.reload()
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_json()  # still serving what it loaded
    since = r.get_json()["reload"]["failed_since"]
    assert since.endswith("+00:00") and "error" not in r.get_json()["reload"]
    detail = client.get("/readyz", headers=auth).get_json()["reload"]
    assert detail["failed_since"] == since and ".versions" in detail["error"]
    assert str(catalog_dir) not in detail["error"]  # no server paths in an answer
    assert metric(client, "wordspace_reload_failed ") == {"wordspace_reload_failed": 1.0}
    assert client.get("/v1/spaces/toy/neighbors?word=alps", headers=auth).status_code == 200
    state(app).registry.reload()  # still failing: the same since
    assert client.get("/readyz").get_json()["reload"]["failed_since"] == since
    versions.unlink()
    (catalog_dir / "moved").rename(versions)
    state(app).registry.reload()
    assert "reload" not in client.get("/readyz").get_json()
    assert metric(client, "wordspace_reload_failed ") == {"wordspace_reload_failed": 0.0}


def test_a_served_space_whose_files_went_away_shows(keyed, catalog_dir):
    app, client = keyed
    auth = {"Authorization": f"Bearer {KEY}"}
    served = catalog.resolve(catalog_dir, "toy")
    shutil.rmtree(served)  # a clean-up job, a lost volume: the space serves from memory
    r = client.get("/readyz")
    assert r.status_code == 200
    spaces = r.get_json()["spaces"]
    since = spaces["toy"]["unreadable"]["since"]
    assert "unreadable" not in spaces["toy-hnsw"]
    detail = client.get("/readyz", headers=auth).get_json()["spaces"]["toy"]["unreadable"]
    assert detail["since"] == since and "manifest.json" in detail["error"]
    gauges = metric(client, "wordspace_space_unreadable")
    assert gauges['wordspace_space_unreadable{space="toy"}'] == 1.0
    assert gauges['wordspace_space_unreadable{space="toy-hnsw"}'] == 0.0
    assert client.get("/v1/spaces/toy/neighbors?word=alps", headers=auth).status_code == 200
    assert client.get("/readyz").get_json()["spaces"]["toy"]["unreadable"]["since"] == since
