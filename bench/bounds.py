"""The most expensive requests the limits allow, and what eight of them at once cost, against
the real service (`wordspace serve`, default 2 workers x 4 threads) on a built catalog.

    .venv/bin/python bench/bounds.py --catalog /work/main/indexes --port 8400 \
        [--before-python /path/to/old/.venv/bin/python --before-port 8401] --json bench/out/bounds.json

Prints, as JSON: the unknown-word p50/p99 through HTTP (and, with --before-*, the same
queries against another checkout's server, interleaved request by request); the time of
each heaviest request (first call, then the median of 5; first calls fill caches such as
alignments); and the peak RSS of each worker while 8 clients send the largest neighbours
batch the limits allow, with /healthz latency meanwhile. Loopback only; bounded in count.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/bounds.py`: the repository, for bench.*
    sys.path.insert(0, str(ROOT))

from bench.server import children, serve  # noqa: E402
from bench.suggest import misspellings  # noqa: E402


def start(python: str, catalog: Path, port: int, cwd: Path):
    """`wordspace serve` of the checkout in `cwd` (run by `python`), ready once /readyz is 200."""
    return serve(catalog, python=python, cwd=cwd, port=port, ready="/readyz", ready_timeout=180,
                 log_level="warning", access_log="false")


def timed(session, method, url, **kw) -> tuple[float, int, int]:
    t = time.perf_counter()
    r = session.request(method, url, timeout=120, **kw)
    return time.perf_counter() - t, r.status_code, len(r.content)


def unknown_words(bases: dict[str, str], keys: list[str], n: int) -> dict:
    # Misspellings that both servers answer with 404 (a word can be absent from keys.txt's
    # exact keys and still be found by its lower-cased form).
    probe = requests.Session()
    queries = [q for q in misspellings(keys, n, seed=1)
               if probe.get(f"{bases['this']}/v1/spaces/glove/neighbors", params={"word": q},
                            timeout=60).status_code == 404]
    sessions = {name: requests.Session() for name in bases}
    times = {name: [] for name in bases}
    for i, q in enumerate(queries):
        order = list(bases) if i % 2 == 0 else list(reversed(bases))
        for name in order:
            dt, status, _ = timed(sessions[name], "GET", f"{bases[name]}/v1/spaces/glove/neighbors",
                                  params={"word": q, "k": 10})
            assert status == 404, status
            times[name].append(dt)
    return {name: {"p50_ms": round(1000 * statistics.median(v), 2),
                   "p99_ms": round(1000 * sorted(v)[int(0.99 * len(v))], 2), "n": len(v)}
            for name, v in times.items()}


def heaviest(base: str, keys: list[str]) -> list[dict]:
    words = [k for k in keys[200:5000] if k.isalpha()]
    rng = random.Random(0)
    pick = lambda n: rng.sample(words, n)  # noqa: E731
    plot_words = ",".join(pick(40))
    cases = [
        ("3cosmul, 10 positive + 10 negative, k=1000 (glove)", "POST", "/v1/spaces/glove/analogy",
         {"json": {"positive": pick(10), "negative": pick(10), "k": 1000, "method": "3cosmul"}}),
        ("3cosadd, 10 + 10 words, k=1000 (glove)", "POST", "/v1/spaces/glove/analogy",
         {"json": {"positive": pick(10), "negative": pick(10), "k": 1000}}),
        ("neighbours, 20 words x k=1000 (glove)", "POST", "/v1/spaces/glove/neighbors",
         {"json": {"words": pick(20), "k": 1000}}),
        ("neighbours, 1024 words x k=19 (glove)", "POST", "/v1/spaces/glove/neighbors",
         {"json": {"words": (words * 2)[:1024], "k": 19}}),
        ("compare neighbours, all spaces, k=1000", "GET", "/v1/compare/neighbors",
         {"params": {"word": "good", "k": 1000}}),
        ("compare analogy 3cosmul, all spaces, k=1000, expected", "GET", "/v1/compare/analogy",
         {"params": {"a": "man", "b": "king", "c": "woman", "k": 1000, "method": "3cosmul",
                     "expected": "queen"}}),
        ("plot 40 words, all spaces, png, frequent basis", "GET", "/v1/compare/plot",
         {"params": {"words": plot_words, "format": "png", "basis": "frequent"}}),
        ("plot 40 words, all spaces, svg", "GET", "/v1/compare/plot",
         {"params": {"words": plot_words, "format": "svg"}}),
        ("drift n=100 word2vec -> glove (first: fits the alignment)", "GET", "/v1/compare/drift",
         {"params": {"source": "word2vec", "target": "glove", "n": 100}}),
        ("translate k=1000 glove -> word2vec", "GET", "/v1/compare/translate",
         {"params": {"source": "glove", "target": "word2vec", "word": "good", "k": 1000}}),
        ("compare evaluation, all spaces", "GET", "/v1/compare/evaluation", {}),
        ("embed 100 texts of 10,000 characters (glove)", "POST", "/v1/spaces/glove/embed",
         {"json": {"texts": [" ".join(pick(1500))[:10000] for _ in range(100)]}}),
        ("compare sentences, 16 of 10,000 characters, all spaces", "POST", "/v1/compare/sentences",
         {"json": {"sentences": [" ".join(pick(1500))[:10000] for _ in range(16)]}}),
    ]
    out = []
    s = requests.Session()
    for name, method, path, kw in cases:
        first = timed(s, method, base + path, **kw)
        rest = [timed(s, method, base + path, **kw) for _ in range(5)]
        out.append({"request": name, "status": first[1], "bytes": first[2],
                    "first_s": round(first[0], 3),
                    "median_s": round(statistics.median(t for t, _, _ in rest), 3),
                    "max_s": round(max(t for t, _, _ in rest), 3)})
        print(json.dumps(out[-1]), file=sys.stderr)
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def eight_max_requests(base: str, master: int, keys: list[str], rounds: int = 5) -> dict:
    words = [k for k in keys[200:20000] if k.isalpha()]
    workers = children(master)
    before = {pid: rss_mib(pid) for pid in workers}
    peak = dict(before)
    stop_at = threading.Event()
    health: list[float] = []

    def sample():
        while not stop_at.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], rss_mib(pid))
            time.sleep(0.05)

    def probe():
        s = requests.Session()
        while not stop_at.is_set():
            health.append(timed(s, "GET", base + "/healthz")[0])
            time.sleep(0.2)

    statuses, sizes, durations = [], [], []

    def client(i: int):
        s = requests.Session()
        rng = random.Random(i)
        for _ in range(rounds):
            dt, status, size = timed(s, "POST", base + "/v1/spaces/glove/neighbors",
                                     json={"words": rng.sample(words, 20), "k": 1000})
            statuses.append(status)
            sizes.append(size)
            durations.append(dt)

    threads = [threading.Thread(target=f) for f in (sample, probe)]
    clients = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads + clients:
        t.start()
    for t in clients:
        t.join()
    stop_at.set()
    for t in threads:
        t.join()
    after = {pid: rss_mib(pid) for pid in workers}
    return {"requests": len(statuses), "statuses": sorted(set(statuses)),
            "answer_mb": round(max(sizes) / 1e6, 2), "request_median_s": round(statistics.median(durations), 3),
            "request_max_s": round(max(durations), 3),
            "worker_rss_mib": {str(p): {"before": round(before[p]), "peak": round(peak[p]),
                                        "after": round(after[p])} for p in workers},
            "healthz_max_s": round(max(health), 3), "healthz_n": len(health)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--port", type=int, default=8400)
    ap.add_argument("--before-python")
    ap.add_argument("--before-cwd", type=Path)
    ap.add_argument("--before-port", type=int, default=8401)
    ap.add_argument("--unknown", type=int, default=300)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    keys = (args.catalog / "glove" / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    with start(sys.executable, args.catalog, args.port, ROOT) as this:
        bases = {"this": this.base}
        with contextlib.ExitStack() as before:
            if args.before_python:
                bases["before"] = before.enter_context(start(
                    args.before_python, args.catalog, args.before_port, args.before_cwd or ROOT)).base
            result = {"unknown_word": unknown_words(bases, keys, args.unknown)}
        result["heaviest"] = heaviest(bases["this"], keys)
        result["eight_max_neighbour_batches"] = eight_max_requests(bases["this"], this.proc.pid, keys)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
