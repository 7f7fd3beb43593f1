"""Fixtures: small deterministic spaces written under tmp_path, the app, its client, and a
validator that checks responses against openapi.yaml."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
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


def _toy_spaces(cat: Path, table: Table) -> Path:
    catalog.write_space(cat, "toy", table, source={"format": "test"}, details={"kind": "test"})
    catalog.write_space(cat, "toy-hnsw", table, source={"format": "test"}, factory="HNSW32",
                        details={"kind": "test"})
    return cat


@pytest.fixture(scope="session")
def toy_template(tmp_path_factory) -> Path:
    """toy and toy-hnsw over the toy table, written once: each test gets a copy."""
    return _toy_spaces(tmp_path_factory.mktemp("toy") / "indexes", toy_table())


@pytest.fixture
def catalog_dir(tmp_path, table, toy_template) -> Path:
    """toy and toy-hnsw over `table` (a module may define its own), in the test's folder."""
    cat = tmp_path / "indexes"
    default = toy_table()
    if table.index_to_key == default.index_to_key and np.array_equal(table.vectors, default.vectors):
        shutil.copytree(toy_template, cat, symlinks=True)
        return cat
    return _toy_spaces(cat, table)


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


SESSION = "WORDSPACE_TEST_SESSION"  # a folder the session's processes share (xdist workers too)
_OWNER = pytest.StashKey[Path]()


def pytest_configure(config):
    if SESSION not in os.environ:  # the first process of the session: it owns the folder
        os.environ[SESSION] = tempfile.mkdtemp(prefix="wordspace-tests-")
        config.stash[_OWNER] = Path(os.environ[SESSION])
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the catalog's builder goes
        os.nice(5)                      # first, so it is done before the tests need it


def pytest_terminal_summary(terminalreporter, config):
    folder = config.stash.get(_OWNER, None)
    line = folder and realcat.report(folder / "real-catalog")
    if line:
        terminalreporter.write_line(line)


def pytest_unconfigure(config):
    folder = config.stash.get(_OWNER, None)
    if folder:
        realcat.stop(folder / "real-catalog")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(config, items):
    """The order the files run in (make test hands them to two workers in this order): first
    the files with slow tests, then those that need the session's real catalog (its build
    starts now, in the background, so it is done by then), then the fast files, the largest
    first, whose many short tests even out the two workers' ends."""
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    waiting = {m for m, its in modules.items()
               if any({"real_catalog", "real_glove"} & set(getattr(i, "fixturenames", ()))
                      for i in its)}
    if waiting and not (os.environ.get("WORDSPACE_TEST_REAL_CATALOG") or config.option.collectonly):
        realcat.start(Path(os.environ[SESSION]) / "real-catalog")

    def rank(module: str) -> tuple[int, int]:
        if module in waiting:
            return 1, 0
        slow = any(i.get_closest_marker("slow") for i in modules[module])
        return (0, 0) if slow else (2, -len(modules[module]))

    items[:] = [i for m in sorted(modules, key=rank) for i in modules[m]]


def _real(stage: str) -> Path:
    reused = os.environ.get("WORDSPACE_TEST_REAL_CATALOG")
    if reused:  # built earlier by `python -m tests.support.realcat DIR`; the tests only read it
        return Path(reused)
    return realcat.wait(Path(os.environ[SESSION]) / "real-catalog", stage)


@pytest.fixture(scope="session")
def real_catalog() -> Path:
    """The default spec's spaces made by the real runner, as small as the end-to-end tests
    allow (tests/support/realcat.py: a GloVe slice, word2vec and classifiers trained
    shorter); built once per session, in about a minute and a half on two cores, while the
    tests that need no catalog run."""
    return _real("all")


@pytest.fixture(scope="session")
def real_glove() -> Path:
    """The session's real catalog once its GloVe space is built (the first of its spaces):
    for the tests that need no other."""
    return _real("glove")


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
