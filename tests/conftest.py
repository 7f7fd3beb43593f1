"""Fixtures: small deterministic spaces written under tmp_path, the app, its client, and a
validator that checks responses against openapi.yaml."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from service import create_app
from service.settings import Settings
from service.store import catalog
from service.store.tables import Table
from tests.support import ROOT, browser, realcat
from tests.support.tables import toy_table

@pytest.fixture
def table() -> Table:
    return toy_table()


@pytest.fixture
def catalog_dir(tmp_path, table) -> Path:
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", table, source={"format": "test"}, details={"kind": "test"})
    catalog.write_space(cat, "toy-hnsw", table, source={"format": "test"}, factory="HNSW32",
                        details={"kind": "test"})
    return cat


@pytest.fixture
def settings(catalog_dir) -> Settings:
    return Settings(catalog=catalog_dir, max_k=50, max_batch=8, max_body_bytes=4096)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def base_url(request, app, settings):
    if request.node.get_closest_marker("with_api_key"):
        import dataclasses

        from service import create_app

        app = create_app(dataclasses.replace(settings, api_keys=(browser.KEY,)))
    with browser.serving(app) as url:
        yield url


@pytest.fixture(scope="session")
def real_catalog(tmp_path_factory) -> Path:
    """The default spec's spaces made by the real runner, as small as the end-to-end tests
    allow (tests/support/realcat.py: a GloVe slice, word2vec and classifiers trained
    shorter); built once per session, in about a minute on two cores."""
    reused = os.environ.get("WORDSPACE_TEST_REAL_CATALOG")
    if reused:  # built earlier by `python -m tests.support.realcat DIR`; the tests only read it
        return Path(reused)
    return realcat.build(tmp_path_factory.mktemp("real-catalog"))


@pytest.fixture(scope="session")
def spec() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


@pytest.fixture(scope="session")
def check_spec(spec):
    """check_spec(path_template, method, status, body, content_type): the response agrees
    with openapi.yaml (status declared, content type declared, body valid)."""
    import jsonschema

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = _ref(spec, node["$ref"])
        return node

    def check(path: str, method: str, status: int, body, content_type: str) -> None:
        op = spec["paths"][path][method.lower()]
        responses = op["responses"]
        assert str(status) in responses, f"{method} {path}: status {status} not in the spec"
        declared = resolve(responses[str(status)])["content"]
        media = content_type.split(";")[0].strip()
        assert media in declared, f"{method} {path} {status}: {media} not in {list(declared)}"
        schema = declared[media]["schema"]
        if media.endswith("json"):
            validator = jsonschema.Draft202012Validator(
                {**schema, "components": spec["components"]}
            )
            validator.validate(body)

    return check


@pytest.fixture
def get(client, check_spec):
    """get(url, path_template, status=200): a GET whose answer must agree with openapi.yaml;
    returns the JSON body (or the bytes of a picture)."""
    def do(url, template, status=200):
        r = client.get(url)
        assert r.status_code == status, r.get_data(as_text=True)[:400]
        body = r.get_json() if r.is_json else r.data
        check_spec(template, "GET", r.status_code, body, r.content_type)
        return body
    return do


def _ref(spec: dict, ref: str):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node
