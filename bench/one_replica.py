"""One replica's own figures (issue 26, item 6): what nginx in front costs, and what memory each
extra gunicorn worker adds after a mixed load.

    python bench/one_replica.py throughput --catalog indexes [--rounds 5] [--duration 10]
    python bench/one_replica.py memory --catalog indexes [--workers 2] [--passes 2]

throughput: `wordspace serve` (gunicorn alone, clients straight to it) and `serve --proxy`
(nginx in front of the same gunicorn on a unix socket), same catalog, workers and threads,
both up at once; neighbours by word on GloVe (bench/neighbors.py's 2,000 words) with wrk, the
two interleaved over `--rounds` windows. It prints each round's req/s and the ratio proxy /
direct of each round, and their medians: a ratio measured within one round is what survives
other load on a shared machine. `--variant NAME:VAR=VALUE,...` adds a proxy started with those
environment variables (to compare settings side by side).

memory: `wordspace serve` with `--workers` workers on every space of the catalog, a mixed load
of every read route (neighbours, analogies, similarity, vectors, words by prefix, embed, and
every /v1/compare route: neighbours, similarity, sentences, analogy, verdict, evaluation,
spaces, align, translate, drift, projection, plots), `--passes` times over seeded words from
several threads; then Private_Dirty of the master and of each worker (/proc/PID/smaps_rollup):
what each extra worker adds, against the catalog's size on disk (the files of the versions
served).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/one_replica.py`: the repository, for bench.*
    sys.path.insert(0, str(ROOT))

from bench import contenders as cs, neighbors as nb, wrk  # noqa: E402
from bench.procs import Process, free_port  # noqa: E402



# --- throughput ----------------------------------------------------------------------------

def throughput(args) -> dict:
    folder = nb.ensure_space(args.catalog)
    keys = (folder / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    import numpy as np
    unit = np.load(folder / "vectors.npy", mmap_mode="r")
    queries, _ = nb.load_queries(keys, unit, args.words)
    variants = [("proxy", {})] + [_variant(v) for v in args.variant]
    with tempfile.TemporaryDirectory(prefix="wordspace-one-replica-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        targets = [cs.start_wordspace(args.catalog, queries, logs, args.ports, workloads=["by-word"])]
        stack.callback(targets[0].process.stop)
        for name, env in variants:
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                c = cs.start_wordspace(args.catalog, queries, logs, args.ports, proxy=True,
                                       workloads=["by-word"])
            finally:
                for k, v in saved.items():
                    os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
            c.name = name
            stack.callback(c.process.stop)
            targets.append(c)
        for c in targets:
            wrk.run(c.port, c.workloads["by-word"], seconds=args.warmup, connections=args.connections)
        rounds = {c.name: [] for c in targets}
        for r in range(args.rounds):
            order = targets if r % 2 == 0 else targets[::-1]  # alternate who goes first
            for c in order:
                got = wrk.run(c.port, c.workloads["by-word"], seconds=args.duration,
                              connections=args.connections)
                if got["errors"]:
                    raise SystemExit(f"{c.name}: errors {got['errors']}")
                rounds[c.name].append(round(got["rps"], 1))
            print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rounds.items())
                  + f" req/s (load {os.getloadavg()[0]:.1f})", flush=True)
    direct = rounds["wordspace"]
    out = {"workers": args.settings.workers, "threads": args.settings.threads,
           "connections": args.connections, "duration": args.duration, "rounds": rounds,
           "median_rps": {n: statistics.median(v) for n, v in rounds.items()}, "ratios": {}}
    for name, _ in variants:
        ratios = [round(p / d, 3) for p, d in zip(rounds[name], direct)]
        out["ratios"][name] = {"rounds": ratios, "median": statistics.median(ratios)}
        print(f"{name} / direct, by word: median {statistics.median(ratios):.3f} (rounds {ratios})")
    return out


def _variant(text: str) -> tuple[str, dict]:
    name, _, assignments = text.partition(":")
    return name, dict(a.split("=", 1) for a in assignments.split(",") if a)


# --- memory --------------------------------------------------------------------------------

def memory(args) -> dict:
    catalog = args.catalog.resolve()
    port = free_port(*args.ports) if args.ports else free_port()
    env = {"WORDSPACE_CATALOG": str(catalog), "WORDSPACE_HOST": "127.0.0.1",
           "WORDSPACE_PORT": str(port), "WORDSPACE_API_KEYS": "", "WORDSPACE_WORKERS": str(args.workers),
           "WORDSPACE_LOG_LEVEL": "warning", "WORDSPACE_ACCESS_LOG": "false"}
    with tempfile.TemporaryDirectory(prefix="wordspace-memory-") as tmp:
        server = Process("wordspace", [sys.executable, "-m", "service.cli", "serve"], env, port,
                         Path(tmp) / "server.log")
        try:
            server.wait_ready("/readyz")
            base = f"http://127.0.0.1:{port}"
            spaces = [s["name"] for s in _get(base, "/v1/spaces")["spaces"]]
            before = _private(server)
            urls = mixed_load(base, spaces, args.words, args.seed)
            failed = []
            for p in range(args.passes):
                with ThreadPoolExecutor(args.clients) as pool:
                    failed += [u for u, ok in zip(urls, pool.map(lambda u: _ok(base, u), urls)) if not ok]
                print(f"pass {p + 1}: {len(urls)} requests, {len(failed)} failed so far", flush=True)
            after = _private(server)
        finally:
            server.stop()
    disk = catalog_bytes(catalog, spaces)
    workers = [p for p in after if p["role"] == "worker"]
    extra = max(p["private_dirty_mib"] for p in workers)
    out = {"catalog": str(catalog), "spaces": spaces, "catalog_mib": round(disk / 2**20, 1),
           "workers": args.workers, "requests": len(urls) * args.passes, "failed": failed[:20],
           "before": before, "after": after, "extra_worker_private_mib": extra,
           "extra_worker_over_catalog": round(extra / (disk / 2**20), 3)}
    print(f"catalog on disk {out['catalog_mib']} MiB ({', '.join(spaces)}); after "
          f"{out['requests']} requests ({len(failed)} failed): Private_Dirty MiB "
          + ", ".join(f"{p['role']} {p['private_dirty_mib']}" for p in after)
          + f"; each extra worker adds at most {extra} MiB = {out['extra_worker_over_catalog']:.1%} "
          "of the catalog")
    return out


def mixed_load(base: str, spaces: list[str], n: int, seed: int) -> list[str]:
    """Every read route over `n` seeded words of the first space: GET paths, and POSTs as
    'POST PATH JSON'."""
    first = spaces[0]
    # At most 1,000 candidates: one /vectors request takes at most WORDSPACE_MAX_BATCH (1,024).
    page = f"/v1/spaces/{first}/words?offset=100&limit={min(20 * n, 1000)}"
    words = [w for w in _get(base, page)["words"] if w.isalpha()]
    for s in spaces[1:]:  # words every space has
        found = _post(base, f"/v1/spaces/{s}/vectors", {"words": words})["results"]
        words = [r["word"] for r in found if r["found"] and r["key"] == r["word"]]
    import random
    rng = random.Random(seed)
    words = rng.sample(words, min(n, len(words)))
    q = urllib.parse.quote
    urls = ["/v1/compare/verdict", "/v1/compare/evaluation", "/v1/compare/plot/scorecard",
            "/v1/compare/plot/learning-curve"]
    for a, b in combinations(spaces, 2):
        urls += [f"/v1/compare/spaces?a={a}&b={b}", f"/v1/compare/align?source={a}&target={b}",
                 f"/v1/compare/drift?source={a}&target={b}&n=50"]
    for i, w in enumerate(words):
        other = words[(i + 1) % len(words)]
        urls += [f"/v1/compare/neighbors?word={q(w)}&k=10",
                 f"/v1/compare/similarity?pairs={q(w)}:{q(other)}",
                 f"/v1/compare/analogy?a=man&b=king&c={q(w)}",
                 f"/v1/compare/projection?word={q(w)}&k=10",
                 f"/v1/compare/plot?word={q(w)}&k=10&format=svg",
                 "POST /v1/compare/sentences " + json.dumps({"sentences": [f"a {w} movie", f"the {other}"]})]
        s = spaces[i % len(spaces)]
        t = spaces[(i + 1) % len(spaces)]
        urls += [f"/v1/spaces/{s}/neighbors?word={q(w)}&k=10",
                 f"/v1/spaces/{s}/analogy?a=man&b=king&c={q(w)}",
                 f"/v1/spaces/{s}/similarity?a={q(w)}&b={q(other)}&rank=true",
                 f"/v1/spaces/{s}/vectors/{q(w)}",
                 f"/v1/spaces/{s}/words?prefix={q(w[:2])}&limit=100",
                 f"/v1/compare/translate?source={s}&target={t}&word={q(w)}",
                 f"POST /v1/spaces/{s}/embed " + json.dumps({"texts": [f"a {w} and {other}"]})]
    return urls


def _ok(base: str, request: str, retries: int = 200) -> bool:
    """Send one of mixed_load's requests ('PATH', or 'POST PATH JSON'); True on a 200. A 503
    with Retry-After (a worker already runs its heavy requests: service/web/heavy.py) is sent
    again after that wait, so every route of the load is really answered."""
    method, path, body = ("POST", *request[5:].split(" ", 1)) if request.startswith("POST ") \
        else ("GET", request, None)
    for _ in range(retries):
        req = urllib.request.Request(base + path, data=body.encode() if body else None,
                                     method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                r.read()
                return r.status == 200
        except urllib.error.HTTPError as e:
            wait = e.headers.get("Retry-After")
            if e.code != 503 or wait is None:
                return False
            time.sleep(float(wait))
        except OSError:
            return False
    return False


def _get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=60) as r:
        return json.loads(r.read())


def _post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _private(server: Process) -> list[dict]:
    """Private_Dirty, Pss and Rss (MiB) of the master and each worker (Process.memory)."""
    return [{**p, "role": "master" if p["role"] == "main" else "worker"}
            for p in server.memory()["processes"]]


def catalog_bytes(catalog: Path, spaces: list[str]) -> int:
    """Bytes of the files of the version each space serves."""
    return sum(f.stat().st_size for s in spaces for f in (catalog / s).resolve().iterdir() if f.is_file())


def main(argv=None) -> int:
    from service.settings import Settings

    settings = Settings.from_env()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("throughput", "memory"))
    p.add_argument("--catalog", type=Path, default=settings.catalog)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=10, help="seconds per window (wrk: whole seconds)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--words", type=int, default=2000, help="query words (memory: 60 by default)")
    p.add_argument("--variant", action="append", default=[], help="NAME:VAR=VALUE,... another proxy")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--passes", type=int, default=2)
    p.add_argument("--clients", type=int, default=4, help="memory: concurrent requests")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ports", help="LO-HI: take the servers' ports from this range")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    args.catalog = args.catalog.resolve()
    args.ports = tuple(int(x) for x in args.ports.split("-")) if args.ports else None
    args.settings = settings
    if args.what == "memory" and args.words == 2000:
        args.words = 60
    out = throughput(args) if args.what == "throughput" else memory(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
