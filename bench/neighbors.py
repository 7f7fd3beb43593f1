"""Neighbours benchmark on the GloVe space: the service under gunicorn against gensim.

One run builds the GloVe space if the catalog lacks it, measures recall@10 of its index
against exact search, then starts both targets under gunicorn on free loopback ports with
the same workers and threads (timing start to ready for each) and drives the same seeded
words at both through keep-alive connections from client processes. Load windows alternate
between the targets (`--rounds`), so a change in other load on the box hits both alike.
It prints requests/s, p50/p99 latency, errors and server CPU per request for each, their
ratio, recall@10 and the time to ready; `--json FILE` also writes them.

    python bench/neighbors.py [--catalog indexes] [--rounds 2] [--duration 10] [--json FILE]

Targets (the issue): >= 10x the baseline's requests/s at recall@10 >= 0.99, and ready
within 2 s of start with the index prebuilt. Linux only (reads /proc for CPU time).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from loadgen import drive  # bench/ is on sys.path when this file runs

BENCH = Path(__file__).resolve().parent
SPACE = "glove"
TARGET_RATIO, TARGET_RECALL, TARGET_READY = 10.0, 0.99, 2.0
# The baseline gets one BLAS thread per request thread, its fastest setting on a small box
# (multi-threaded BLAS under 8 request threads only oversubscribes the cores). The service
# runs with the environment it is given, as `wordspace serve` would.
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = ensure_space(args.catalog)
    keys = (folder / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    words = sample_words(keys, args.words)
    print(f"recall@10: exact search for {args.recall_queries} rows ...", flush=True)
    recall = measure_recall(folder, args.recall_queries)
    with tempfile.TemporaryDirectory(prefix="wordspace-bench-") as logs, ExitStack() as stack:
        servers = {}
        for name in ("wordspace", "gensim"):
            servers[name] = server = Server.start(name, args, Path(logs) / f"{name}.log")
            stack.callback(server.stop)
            print(f"{name}: ready on 127.0.0.1:{server.port} in {server.ready:.2f}s", flush=True)
        windows = {name: [] for name in servers}
        for r in range(args.rounds):
            for name, server in servers.items():
                print(f"round {r + 1}/{args.rounds}, {name}: {args.warmup:.0f}s warm-up, "
                      f"{args.duration:.0f}s measured ...", flush=True)
                paths = [f"{server.route}?word={urllib.parse.quote(w)}&k=10" for w in words]
                windows[name].append(drive(server.port, paths, server.cpu_seconds,
                                           concurrency=args.concurrency, clients=args.clients,
                                           warmup=args.warmup, duration=args.duration))
        results = {name: summarize(server, windows[name], words, keys, folder)
                   for name, server in servers.items()}
    report = print_report(results, recall, args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["errors"] for r in results.values()) else 0


def parse_args(argv):
    from service.settings import Settings

    defaults = Settings.from_env()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", type=Path, default=defaults.catalog,
                   help=f"catalog folder; glove is built there if missing (default {defaults.catalog})")
    p.add_argument("--workers", type=int, default=defaults.workers, help="gunicorn workers, both targets")
    p.add_argument("--threads", type=int, default=defaults.threads, help="threads per worker, both targets")
    p.add_argument("--concurrency", type=int, default=16, help="open keep-alive connections")
    p.add_argument("--clients", type=int, default=2, help="client processes sharing the connections")
    p.add_argument("--rounds", type=int, default=2, help="measured windows per target, alternating")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of load before each window")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured window")
    p.add_argument("--words", type=int, default=2000, help="distinct query words")
    p.add_argument("--recall-queries", type=int, default=1000, help="rows for recall@10")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    args.catalog = args.catalog.resolve()
    return args


def ensure_space(catalog: Path) -> Path:
    """The glove space folder, built with `wordspace build-index` if the catalog lacks it."""
    from service import cli
    from service.store.catalog import resolve

    if not (catalog / SPACE / "manifest.json").is_file():
        print(f"building {SPACE} in {catalog} (about a minute) ...", flush=True)
        if cli.main(["--catalog", str(catalog), "build-index", SPACE, "--from", "kumo"]) != 0:
            raise SystemExit(f"could not build {SPACE} in {catalog}")
    return resolve(catalog, SPACE)


def sample_words(keys: list[str], n: int, seed: int = 0) -> list[str]:
    """A seeded sample of frequent alphabetic words, skipping the 100 most frequent."""
    import numpy as np

    pool = [k for k in keys[100:50_100] if k.isalpha()]
    return [pool[i] for i in np.random.default_rng(seed).choice(len(pool), n, replace=False)]


def exact_top10(unit, rows) -> list[list[int]]:
    """The exact 10 nearest rows by cosine for each row, the row itself left out."""
    import faiss
    import numpy as np

    _, found = faiss.knn(np.ascontiguousarray(unit[rows]), unit, 11, metric=faiss.METRIC_INNER_PRODUCT)
    return [[int(i) for i in f if i != row][:10] for row, f in zip(rows, found)]


def measure_recall(folder: Path, queries: int, seed: int = 1) -> dict:
    """recall@10 of the index with its manifest search parameters against exact search,
    the query row left out of both, as the service leaves it out of its answer."""
    import numpy as np

    from service.store import index as ix

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    unit = np.ascontiguousarray(np.load(folder / "vectors.npy"), dtype="float32")
    index = ix.read(str(folder / "index.faiss"))
    ix.set_params(index, manifest.get("search_params") or {})
    rows = np.sort(np.random.default_rng(seed).choice(len(unit), queries, replace=False))
    _, found = index.search(np.ascontiguousarray(unit[rows]), 11)
    got = [[int(i) for i in f if i != row][:10] for row, f in zip(rows, found)]
    hits = sum(len(set(w) & set(g)) for w, g in zip(exact_top10(unit, rows), got))
    return {"measured": round(hits / (10 * queries), 4), "queries": queries,
            "manifest": manifest.get("recall_at_10"), "factory": manifest.get("factory"),
            "search_params": manifest.get("search_params")}


class Server:
    """One target under gunicorn in its own process group, on a free loopback port."""

    def __init__(self, name, proc, port, route, ready):
        self.name, self.proc, self.port, self.route, self.ready = name, proc, port, route, ready

    @classmethod
    def start(cls, name: str, args, log_path: Path) -> "Server":
        port = free_port()
        if name == "wordspace":
            cmd = [sys.executable, "-m", "service.cli", "serve"]
            env = {"WORDSPACE_CATALOG": str(args.catalog), "WORDSPACE_SPACES": SPACE,
                   "WORDSPACE_HOST": "127.0.0.1", "WORDSPACE_PORT": str(port),
                   "WORDSPACE_WORKERS": str(args.workers), "WORDSPACE_THREADS": str(args.threads),
                   "WORDSPACE_API_KEYS": ""}  # the bench sends no Authorization header
            route, probe = f"/v1/spaces/{SPACE}/neighbors", "/readyz"
        else:
            cmd = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
                   "--workers", str(args.workers), "--threads", str(args.threads),
                   "--keep-alive", "5", "--preload", "--bind", f"127.0.0.1:{port}",
                   "--chdir", str(BENCH), "baseline_app:create_app()"]
            env = {"PYTHONPATH": str(BENCH.parent), **ONE_BLAS_THREAD}
            route, probe = "/neighbors", "/neighbors?word=the&k=1"
        with open(log_path, "wb") as log:
            started = time.monotonic()
            proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log,
                                    stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        server = cls(name, proc, port, route, None)
        try:
            server.ready = server.wait_ready(probe, started, log_path)
        except BaseException:
            server.stop()
            raise
        return server

    def wait_ready(self, probe: str, started: float, log_path: Path, timeout: float = 180.0) -> float:
        """Seconds from process start to the first 200 on `probe`, polled every 10 ms."""
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}:\n{tail(log_path)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{probe}", timeout=5) as r:
                    if r.status == 200:
                        return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.01)
        raise SystemExit(f"{self.name} not ready after {timeout:.0f}s:\n{tail(log_path)}")

    def stop(self) -> None:
        """SIGTERM the process group (master and workers), SIGKILL after 15 s."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the live processes in the group."""
        total = 0
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    fields = Path(entry.path, "stat").read_text().rpartition(")")[2].split()
                except OSError:
                    continue
                if int(fields[2]) == self.proc.pid:
                    total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def summarize(server: Server, windows: list[dict], words, keys, folder) -> dict:
    latencies = sorted(x for w in windows for x in w["latencies"])
    n, seconds = len(latencies), sum(w["seconds"] for w in windows)
    return {
        "requests": n,
        "errors": sum(w["errors"] for w in windows),
        "rps": round(n / seconds, 1),
        "rps_per_window": [round(len(w["latencies"]) / w["seconds"], 1) for w in windows],
        "p50_ms": round(1000 * latencies[n // 2], 2) if n else None,
        "p99_ms": round(1000 * latencies[min(n - 1, int(n * 0.99))], 2) if n else None,
        "server_cpu_ms_per_request": round(1000 * sum(w["server_cpu"] for w in windows) / max(1, n), 3),
        "client_cpu_cores": round(sum(w["client_cpu"] for w in windows) / seconds, 2),
        "other_cpu_cores": round(sum(w["other_cpu"] for w in windows) / seconds, 2),
        "ready_seconds": round(server.ready, 3),
        "http_recall_at_10": http_recall(server, words[:200], keys, folder),
    }


def http_recall(server: Server, words: list[str], keys: list[str], folder: Path) -> float:
    """recall@10 of the answers the server gives, against exact search over the space's vectors."""
    import numpy as np

    unit = np.load(folder / "vectors.npy")
    key_to_index = {k: i for i, k in enumerate(keys)}
    rows = [key_to_index[w] for w in words]
    hits = 0
    for word, want in zip(words, exact_top10(unit, rows)):
        url = f"http://127.0.0.1:{server.port}{server.route}?word={urllib.parse.quote(word)}&k=10"
        with urllib.request.urlopen(url, timeout=30) as r:
            got = {n["word"] for n in json.load(r)["neighbors"]}
        hits += len(got & {keys[i] for i in want})
    return round(hits / (10 * len(words)), 4)


def print_report(results: dict, recall: dict, args) -> dict:
    ours, base = results["wordspace"], results["gensim"]
    ratio = round(ours["rps"] / base["rps"], 2) if base["rps"] else None
    cpu_ratio = round(base["server_cpu_ms_per_request"] / ours["server_cpu_ms_per_request"], 2)
    print(f"\nGloVe 400k x 50, k=10, {args.workers} gunicorn workers x {args.threads} threads "
          f"(gthread) each; {args.concurrency} keep-alive connections from {args.clients} client "
          f"processes; {args.words} words; {args.rounds} x {args.duration:.0f}s per target, "
          f"alternating; {os.cpu_count()} cores")
    row = "{:<10} {:>9} {:>6} {:>8} {:>8} {:>8} {:>7} {:>9} {:>8} {:>8} {:>8}"
    print(row.format("target", "requests", "errors", "req/s", "p50 ms", "p99 ms", "ready s",
                     "CPU ms/req", "client", "other", "recall"))
    for name, r in results.items():
        print(row.format(name, r["requests"], r["errors"], f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}",
                         f"{r['p99_ms']:.2f}", f"{r['ready_seconds']:.2f}",
                         f"{r['server_cpu_ms_per_request']:.3f}", f"{r['client_cpu_cores']:.2f}",
                         f"{r['other_cpu_cores']:.2f}", f"{r['http_recall_at_10']:.4f}"))
    print("(req/s per window: " + "; ".join(f"{n} {r['rps_per_window']}" for n, r in results.items())
          + ". CPU ms/req: server processes' CPU per answered request. client/other: cores used "
          "by the load generator / by anything else on the box. recall: recall@10 of 200 HTTP "
          "answers vs exact search)")
    if max(r["other_cpu_cores"] for r in results.values()) > 0.1:
        print("warning: other processes used CPU during the windows; absolute numbers are low")

    def verdict(ok):
        return "met" if ok else "MISSED"

    print(f"throughput ratio wordspace/gensim: {ratio}x (target >= {TARGET_RATIO:.0f}x: "
          f"{verdict(ratio is not None and ratio >= TARGET_RATIO)}); "
          f"server CPU per request ratio gensim/wordspace: {cpu_ratio}x")
    print(f"recall@10 of the index ({recall['factory']}, {recall['search_params']}): "
          f"{recall['measured']} on {recall['queries']} rows vs exact search; manifest says "
          f"{recall['manifest']} (target >= {TARGET_RECALL}: {verdict(recall['measured'] >= TARGET_RECALL)})")
    print(f"wordspace ready to serve: {ours['ready_seconds']:.2f}s from process start "
          f"(target <= {TARGET_READY:.0f}s: {verdict(ours['ready_seconds'] <= TARGET_READY)})")
    return {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "results": results, "ratio": ratio, "cpu_per_request_ratio": cpu_ratio,
            "recall_at_10": recall,
            "targets": {"ratio": TARGET_RATIO, "recall_at_10": TARGET_RECALL,
                        "ready_seconds": TARGET_READY}}


if __name__ == "__main__":
    sys.exit(main())
