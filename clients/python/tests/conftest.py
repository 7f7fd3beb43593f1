"""Fixtures: the real service (gunicorn, `wordspace serve`) on loopback, over a toy catalog and
over GloVe's 20,000 most frequent words, started once per test session.

The server side comes from the repository: its tests/server.py starts the service, its
tests/conftest.py makes the toy table, so the repository root goes on sys.path here.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLIENT = Path(__file__).resolve().parents[1]
# This checkout's client, not one installed elsewhere (an editable install of another checkout).
for path in (ROOT, CLIENT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from service.store import catalog  # noqa: E402
from service.store.tables import read_kumo  # noqa: E402
from tests.conftest import toy_table  # noqa: E402
from tests.server import serve  # noqa: E402

GLOVE_ROWS = 20_000
API_KEY = "client-test-key"


@pytest.fixture(scope="session")
def table():
    return toy_table()


@pytest.fixture(scope="session")
def toy_url(tmp_path_factory, table):
    """toy (exact) and toy-hnsw, small limits so batches must be split: 8 items and 4 KiB."""
    cat = tmp_path_factory.mktemp("client-toy") / "indexes"
    catalog.write_space(cat, "toy", table, source={"format": "test"}, details={"kind": "test"})
    catalog.write_space(cat, "toy-hnsw", table, source={"format": "test"}, factory="HNSW32",
                        details={"kind": "test"})
    with serve(cat, workers=1, max_batch=8, max_body_bytes=4096, log_level="warning") as server:
        yield server.base


@pytest.fixture(scope="session")
def keyed_url(tmp_path_factory, table):
    """The toy space behind an API key."""
    cat = tmp_path_factory.mktemp("client-key") / "indexes"
    catalog.write_space(cat, "toy", table, source={"format": "test"}, details={"kind": "test"})
    with serve(cat, workers=1, api_keys=API_KEY, log_level="warning") as server:
        yield server.base


@pytest.fixture(scope="session")
def glove_table():
    return read_kumo(limit=GLOVE_ROWS)


@pytest.fixture(scope="session")
def glove_url(tmp_path_factory, glove_table):
    """GloVe 6B 50d, its 20,000 most frequent words, behind HNSW32 as the default build would
    put a large table (approximate, tuned to recall@10 >= 0.99)."""
    cat = tmp_path_factory.mktemp("client-glove") / "indexes"
    catalog.write_space(cat, "glove", glove_table, source={"format": "kumo"}, factory="HNSW32",
                        details={"kind": "kumo"})
    with serve(cat, workers=1, log_level="warning") as server:
        yield server.base
