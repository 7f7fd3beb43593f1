"""Fixtures: small deterministic spaces written under tmp_path, the app, its client, and a
validator that checks responses against openapi.yaml."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from service import create_app
from service.settings import Settings
from service.store import catalog
from service.store.tables import Table

ROOT = Path(__file__).resolve().parents[1]
# The real default spaces the end-to-end tests need, built once per test session.
REAL_SPACES = ("word2vec", "glove", "sentiment", "clickbait", "clickbait-w2v")


def toy_table(n_noise: int = 300, dim: int = 16, seed: int = 0) -> Table:
    """A table with known structure: king - man + woman = queen exactly, a cluster of
    mountain words near each other, a mixed-case key, and seeded noise words."""
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    person, male, female, royal, mountain = axes[:5]
    words = {
        "man": person + male,
        "woman": person + female,
        "king": person + male + 1.5 * royal,
        "queen": person + female + 1.5 * royal,
        "alps": 3 * mountain + 0.2 * axes[5],
        "pyrenees": 3 * mountain + 0.25 * axes[6],
        "himalaya": 3 * mountain + 0.3 * axes[7],
        "Paris": 2 * axes[8] + axes[9],
    }
    keys = list(words)
    vectors = [words[k] for k in keys]
    for i in range(n_noise):
        keys.append(f"noise{i}")
        vectors.append(rng.normal(size=dim) * 0.5 + 2 * axes[10 + i % 6])
    return Table(keys, np.array(vectors, dtype="float32"))


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


@pytest.fixture(scope="session")
def real_catalog(tmp_path_factory) -> Path:
    """REAL_SPACES built here from the packaged and vendored data (no learning curve), whatever
    the developer's ./indexes holds; takes minutes (word2vec is trained)."""
    from service.builder import runner
    from service.builder.recipes import BuildOptions

    reused = os.environ.get("WORDSPACE_TEST_REAL_CATALOG")
    if reused:  # a catalog of REAL_SPACES built by an earlier run; the tests only read it
        return Path(reused)
    cat = tmp_path_factory.mktemp("real-catalog")
    runner.run(BuildOptions(catalog=cat, spaces=REAL_SPACES, curve=None))
    return cat


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
