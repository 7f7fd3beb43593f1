"""The contenders of bench/neighbors.py, each started here on loopback and stopped by its pid:

- wordspace: the service through its CLI (`python -m service.cli serve`: gunicorn alone,
  clients straight to it), with the settings it would serve with (WORDSPACE_* from the
  environment, else the defaults);
- proxy: the production stack, `python -m service.cli serve --proxy` (nginx in front of the
  same gunicorn on a unix socket), on the same catalog with the same settings;
- gensim: `most_similar` behind one Flask route (baseline_app.py) under gunicorn, with the
  service's workers and threads, one BLAS thread per request thread;
- chroma: a Chroma server (`chroma run --path DIR`, HNSW, inner product) holding the same
  normalised GloVe table, ids being the words; loaded through its Python client.

Each contender lists its workloads as wrk requests built from the same words and vectors.
"""
from __future__ import annotations

import json
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Process, free_port
from bench.wrk import Request

BENCH = Path(__file__).resolve().parent
SPACE = "glove"
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
CHROMA_COLLECTION = "glove"
CHROMA_QUERY = ("/api/v2/tenants/default_tenant/databases/default_database/collections/{id}/query")
CHROMA_HNSW = {"space": "ip"}  # Chroma's defaults otherwise: M 16, ef_construction 100, ef_search 100


@dataclass
class Queries:
    """What every contender is asked: words, their unit vectors as JSON text, and k."""
    words: list[str]
    vectors: list[str]  # each a JSON array of the word's unit vector, 7 significant digits
    k: int = 10
    batch: int = 1000
    # Words past the service's stored top-k table (rows after 50,100): by word, but every
    # answer an index search, as for most words of a large vocabulary.
    rare_words: list[str] = field(default_factory=list)


@dataclass
class Contender:
    name: str
    process: Process
    workloads: dict[str, list[Request]] = field(default_factory=dict)
    chroma_id: str | None = None

    @property
    def port(self) -> int:
        return self.process.port


def vector_json(v) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in v) + "]"


def _port(ports) -> int:
    return free_port(*ports) if ports else free_port()


def start_wordspace(catalog: Path, q: Queries, logs: Path, ports=None, proxy: bool = False,
                    workloads: list[str] | None = None) -> Contender:
    """The service on `catalog`: gunicorn alone, or (`proxy`) nginx in front listening on the
    port; `workloads` keeps only those named (default: all)."""
    port = _port(ports)
    name = "proxy" if proxy else "wordspace"
    env = {"WORDSPACE_CATALOG": str(catalog), "WORDSPACE_SPACES": SPACE,
           "WORDSPACE_HOST": "127.0.0.1", "WORDSPACE_PORT": str(port),
           "WORDSPACE_API_KEYS": ""}  # the bench sends no Authorization header
    cmd = [sys.executable, "-m", "service.cli", "serve"] + (["--proxy"] if proxy else [])
    c = Contender(name, Process(name, cmd, env, port, logs / f"{name}.log"))
    _ready(c, "/readyz")
    route = f"/v1/spaces/{SPACE}/neighbors"
    c.workloads = {
        "healthz": [Request("GET", "/healthz")],
        "by-word": [Request("GET", f"{route}?word={urllib.parse.quote(w)}&k={q.k}") for w in q.words],
        "by-word-rare": [Request("GET", f"{route}?word={urllib.parse.quote(w)}&k={q.k}")
                         for w in q.rare_words],
        "by-vector": [Request("POST", route, f'{{"vectors":[{v}],"k":{q.k}}}') for v in q.vectors],
        f"batch-{q.batch}": [Request("POST", route, json.dumps({"words": q.words[i:i + q.batch],
                                                                "k": q.k}))
                             for i in range(0, len(q.words) - q.batch + 1, q.batch)],
    }
    if workloads is not None:
        c.workloads = {w: r for w, r in c.workloads.items() if w in workloads}
    return c


def start_gensim(workers: int, threads: int, q: Queries, logs: Path, ports=None) -> Contender:
    port = _port(ports)
    cmd = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(workers),
           "--threads", str(threads), "--keep-alive", "5", "--preload",
           "--bind", f"127.0.0.1:{port}", "--chdir", str(BENCH), "baseline_app:create_app()"]
    env = {"PYTHONPATH": str(BENCH.parent), **ONE_BLAS_THREAD}
    c = Contender("gensim", Process("gensim", cmd, env, port, logs / "gensim.log"))
    _ready(c, "/neighbors?word=the&k=1")
    c.workloads = {"by-word": [Request("GET", f"/neighbors?word={urllib.parse.quote(w)}&k={q.k}")
                               for w in q.words]}
    return c


def start_chroma(path: Path, keys: list[str], unit, fingerprint: str, q: Queries, logs: Path,
                 ports=None) -> Contender:
    """`chroma run` on `path`, loaded with (keys, unit) unless a previous run of this bench
    already loaded exactly this table there (same fingerprint and count)."""
    from bench.chroma_load import load

    port = _port(ports)
    cmd = [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(path),
           "--host", "127.0.0.1", "--port", str(port)]
    c = Contender("chroma", Process("chroma", cmd, {"ANONYMIZED_TELEMETRY": "False"}, port,
                                    logs / "chroma.log"))
    _ready(c, "/api/v2/heartbeat")
    try:
        c.chroma_id = load(port, path, keys, unit, fingerprint, CHROMA_COLLECTION, CHROMA_HNSW)
    except BaseException:
        c.process.stop()
        raise
    route = CHROMA_QUERY.format(id=c.chroma_id)
    c.workloads = {
        "healthz": [Request("GET", "/api/v2/heartbeat")],
        "by-vector": [Request("POST", route, f'{{"query_embeddings":[{v}],"n_results":{q.k},'
                                             f'"include":["distances"]}}') for v in q.vectors],
    }
    return c


def _ready(c: Contender, probe: str) -> None:
    try:
        c.process.wait_ready(probe)
    except BaseException:
        c.process.stop()
        raise
