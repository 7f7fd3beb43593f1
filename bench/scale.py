"""Scale run: a synthetic table the size of GoogleNews word2vec (3,000,000 x 300) behind IVF.

It answers the issue's scale questions in one run, with the real code paths:
- build: `catalog.write_space` on the seeded table (the same call `wordspace build-index`
  makes), timed by stage (normalise, train, add, tune, write, checksums), with the peak RSS
  of the building process and the catalog's size on disk;
- ready: `wordspace serve` start to the first 200 on /readyz with the catalog prebuilt, with
  the files' pages dropped from the page cache first (cold) and then kept (warm); the
  checksum pass (`catalog.verify`) and mapping the space (`Space`) timed on their own;
- serving: PSS of the gunicorn master and workers (/proc/PID/smaps_rollup), and neighbours
  latency through HTTP by word (GET) and by vector (POST) at 1 and 16 connections;
- recall@10 against exact search on rows the build's tuning did not use, in-process over an
  nprobe sweep (with the single-query search time of each) and through HTTP.

The table is seeded and shaped like real embeddings rather than noise: 1,000 topic clusters
of varied spread in a 32-dimensional space (word vectors have a low intrinsic dimension),
mapped into 300 dimensions with a little noise on top. A row's nearest rows have cosine
about 0.85, and an IVF index has to probe several lists to find them: on a 300,000-row
sample with IVF410, recall@10 is 0.58 at nprobe 1, 0.96 at 4, 0.995 at 8.

    python bench/scale.py [--rows 3000000] [--catalog DIR --keep] [--json FILE]

Writes about 7.3 GB to the catalog (a temporary folder under /tmp unless --catalog) and
removes it at the end unless --keep; with --keep, a later run reuses the built space. The
build needs about 12 GB of memory. Everything binds 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import urllib.parse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/scale.py`: the repository, for bench.*
    sys.path.insert(0, str(ROOT))

from bench import recall as rc  # noqa: E402
from bench.load import drive, http_request, summarize  # noqa: E402
from bench.server import children, serve as served, wait_for_workers  # noqa: E402

SPACE = "synthetic"
TARGETS = {"ready_seconds": 5.0, "p50_ms": 10.0, "recall_at_10": 0.95}
log = logging.getLogger("scale")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    catalog_dir = args.catalog or Path(tempfile.mkdtemp(prefix="wordspace-scale-", dir="/tmp"))
    report = {"config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    try:
        report["build"] = ensure_built(catalog_dir, args)
        folder = (catalog_dir / SPACE).resolve()
        report["disk_bytes"] = {p.name: p.stat().st_size for p in sorted(folder.iterdir())}
        report["load"] = load_stages(catalog_dir)
        report["recall"] = recall_sweep(folder, args.recall_queries)
        report["serve"] = serve(catalog_dir, folder, args)
    finally:
        if not args.keep:
            shutil.rmtree(catalog_dir, ignore_errors=True)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    met = report["verdicts"]
    return 0 if all(met.values()) else 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=3_000_000)
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--factory", default="IVF4096,Flat", help="faiss factory string")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--catalog", type=Path, help="catalog folder (default: a new one under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the catalog (a later run reuses it)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--requests", type=int, default=4000, help="HTTP requests per latency window")
    p.add_argument("--recall-queries", type=int, default=1000)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--port", type=int, help="the server's port (default: a free one)")
    args = p.parse_args(argv)
    if args.catalog:
        args.catalog = args.catalog.resolve()
    return args


def synthesize(rows: int, dim: int, seed: int, topics: int = 1000, intrinsic: int = 32) -> np.ndarray:
    """Seeded vectors with the shape of real embeddings: topic clusters of varied spread in a
    32-dimensional space, mapped into `dim` dimensions, plus a little isotropic noise."""
    rng = np.random.default_rng(seed)
    centre = rng.standard_normal((topics, intrinsic), dtype=np.float32)
    spread = rng.uniform(0.5, 1.0, topics).astype(np.float32)
    basis = rng.standard_normal((intrinsic, dim), dtype=np.float32) / np.float32(np.sqrt(intrinsic))
    member = rng.integers(0, topics, rows)
    out = np.empty((rows, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, rows, step):
        m = member[start:start + step]
        z = centre[m] + spread[m, None] * rng.standard_normal((len(m), intrinsic), dtype=np.float32)
        out[start:start + step] = z @ basis + 0.05 * rng.standard_normal((len(m), dim), dtype=np.float32)
    return out


def ensure_built(catalog_dir: Path, args) -> dict:
    """Build the space unless this catalog already holds it from an earlier --keep run."""
    saved = catalog_dir / ".scale-build.json"
    if (catalog_dir / SPACE / "manifest.json").is_file() and saved.is_file():
        build = json.loads(saved.read_text())
        if (build["rows"], build["dim"], build["factory"], build["seed"]) == (args.rows, args.dim, args.factory, args.seed):
            print(f"reusing the space built in {catalog_dir}", flush=True)
            build["reused"] = True
            return build
    build = run_build(catalog_dir, args)
    saved.write_text(json.dumps(build, indent=2) + "\n")
    return build


def run_build(catalog_dir: Path, args) -> dict:
    from service.store import catalog, checksums
    from service.store import index as ix
    from service.store.tables import Table

    print(f"synthesizing {args.rows:,} x {args.dim} (seed {args.seed}) ...", flush=True)
    t = time.perf_counter()
    vectors = synthesize(args.rows, args.dim, args.seed)
    table = Table([f"w{i:07d}" for i in range(args.rows)], vectors)
    del vectors
    synth_s = time.perf_counter() - t
    rss_table = _maxrss_gb()
    stages: dict[str, float] = {}
    trained = []
    handler = _Capture(trained)
    logging.getLogger("service.store.index").addHandler(handler)
    logging.getLogger("service.store.index").setLevel(logging.INFO)
    digest = "file_entry"  # checksums.file_entry: the sha256 of each file write_space writes
    patched = {(ix, "normalize"), (ix, "build"), (ix, "tune"), (checksums, digest)}
    originals = {(m, n): getattr(m, n) for m, n in patched}
    for (m, n), fn in originals.items():
        setattr(m, n, _timed(stages, n, fn))
    adds = []

    def progress(done, total):
        adds.append((time.perf_counter(), done))
        if done == total or len(adds) % 5 == 0:
            print(f"  added {done:,}/{total:,} rows", flush=True)

    print(f"building {args.factory} with catalog.write_space (tune target recall "
          f"{ix.TARGET_RECALL}) ...", flush=True)
    try:
        t = time.perf_counter()
        folder = catalog.write_space(catalog_dir, SPACE, table, factory=args.factory,
                                     source={"format": "synthetic", "seed": args.seed},
                                     details={"kind": "synthetic"}, progress=progress)
        total_s = time.perf_counter() - t
    finally:
        for (m, n), fn in originals.items():
            setattr(m, n, fn)
        logging.getLogger("service.store.index").removeHandler(handler)
    manifest = catalog.read_manifest(folder.resolve())
    train_s = trained[0] if trained else None
    build_s = stages["build"]
    write_s = total_s - stages["normalize"] - build_s - stages["tune"]
    del table
    gc.collect()
    return {
        "rows": args.rows, "dim": args.dim, "factory": args.factory, "seed": args.seed,
        "synthesize_seconds": round(synth_s, 1),
        "write_space_seconds": round(total_s, 1),
        "stages_seconds": {
            "normalize": round(stages["normalize"], 1),
            "train": train_s,
            "add": round(build_s - (train_s or 0), 1),
            "tune": round(stages["tune"], 1),
            "write_files": round(write_s - stages[digest], 1),
            "checksums": round(stages[digest], 1),
        },
        "peak_rss_gb": {"after_synthesis": rss_table, "after_build": _maxrss_gb()},
        "search_params": manifest["search_params"],
        "tuned_recall_at_10": manifest["recall_at_10"],
        "target_recall": ix.TARGET_RECALL,
        "reused": False,
    }


class _Capture(logging.Handler):
    """Picks the training seconds out of service/store/index.py's log line."""

    def __init__(self, out):
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record):
        if record.msg.startswith("trained"):
            self.out.append(round(float(record.args[-1]), 1))


def _timed(stages: dict, name: str, fn):
    def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - t
    return wrapper


def _maxrss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def drop_cache(folder: Path) -> None:
    """Evict this space's files (only them) from the page cache: a cold start."""
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def load_stages(catalog_dir: Path) -> dict:
    """Seconds for the checksum pass and for mapping the space, cold and warm, in-process."""
    from service.store import catalog
    from service.store.space import Space

    folder = (catalog_dir / SPACE).resolve()
    out = {}
    for state in ("cold", "warm"):
        if state == "cold":
            drop_cache(folder)
        t = time.perf_counter()
        manifest = catalog.verify(folder)
        verify_s = time.perf_counter() - t
        t = time.perf_counter()
        space = Space.open(SPACE, folder, manifest)
        map_s = time.perf_counter() - t
        del space
        gc.collect()
        out[state] = {"verify_seconds": round(verify_s, 2), "map_seconds": round(map_s, 2)}
        print(f"load ({state} cache): sha256 of every file {verify_s:.2f}s, keys + mapping "
              f"{map_s:.2f}s", flush=True)
    return out


def recall_sweep(folder: Path, queries: int, seed: int = 1) -> dict:
    """recall@10 and single-query search ms over nprobe, on rows the tuning did not pick."""
    from service.store import index as ix

    manifest = json.loads((folder / "manifest.json").read_text())
    unit = np.load(folder / "vectors.npy", mmap_mode="r")
    rows = rc.held_out_rows(len(unit), queries, seed)  # none the tuning used
    print(f"recall: exact search for {queries} rows over {len(unit):,} ...", flush=True)
    t = time.perf_counter()
    truth = rc.exact(unit, np.asarray(unit[rows]), 10, leave_out=rows)
    exact_s = time.perf_counter() - t
    index = ix.read(str(folder / "index.faiss"))
    xq = np.ascontiguousarray(unit[rows])
    sweep = []
    nlist = ix._ivf(index).nlist if ix._ivf(index) is not None else 0
    chosen = manifest.get("search_params", {})
    for nprobe in sorted({4, 8, 16, 32, 64, 128, 256, chosen.get("nprobe", 8)}):
        if nprobe > nlist:
            break
        ix.set_params(index, {"nprobe": nprobe})
        _, found = index.search(xq, 11)
        got = [[int(i) for i in f if i != r][:10] for r, f in zip(rows, found)]
        recall = sum(len(set(w) & set(g)) for w, g in zip(truth, got)) / (10 * queries)
        t = time.perf_counter()
        for q in xq[:200]:  # one query at a time, as the service searches for one word
            index.search(q[None, :], 11)
        ms = 1000 * (time.perf_counter() - t) / 200
        sweep.append({"nprobe": nprobe, "recall_at_10": round(recall, 4), "search_ms": round(ms, 2)})
        print(f"  nprobe {nprobe:>3}: recall@10 {recall:.4f}, {ms:.2f} ms per query", flush=True)
    at = next((s for s in sweep if s["nprobe"] == chosen.get("nprobe")), None)
    return {"queries": queries, "exact_search_seconds": round(exact_s, 1), "sweep": sweep,
            "search_params": chosen, "measured_at_search_params": at and at["recall_at_10"]}


def start_server(catalog_dir: Path, args):
    """`wordspace serve` over the synthetic space, ready once /readyz answers 200."""
    return served(catalog_dir, ready="/readyz", ready_timeout=300, port=args.port, host="127.0.0.1",
                  spaces=SPACE, workers=args.workers, threads=args.threads, api_keys="")


def pss(master: int) -> dict:
    """PSS (and its anonymous and file parts) of the master and its workers, in MB."""
    total = {"pss": 0, "pss_anon": 0, "pss_file": 0, "rss": 0}
    pids = [master, *children(master)]
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in total:
                total[key] += int(value.split()[0])
    return {"processes": len(pids), **{k: round(v / 1024) for k, v in total.items()}}


def serve(catalog_dir: Path, folder: Path, args) -> dict:
    """Ready times (cold, then warm), memory, latency windows and recall through HTTP."""
    out = {"ready_seconds": {}}
    keys = (folder / "keys.txt").read_text().split("\n")[:-1]
    rng = np.random.default_rng(2)
    words = [keys[i] for i in rng.choice(len(keys), 2000, replace=False)]
    unit = np.load(folder / "vectors.npy", mmap_mode="r")
    vectors = np.asarray(unit[np.sort(rng.choice(len(unit), 500, replace=False))])
    vectors += rng.normal(0, 0.01, vectors.shape).astype("float32")  # not stored rows
    route = f"/v1/spaces/{SPACE}/neighbors"
    by_word = [("word", http_request("GET", f"{route}?word={w}&k=10")) for w in words]
    by_vector = [("vector", http_request("POST", route, {"vectors": [[round(float(x), 6) for x in v]],
                                                              "k": 10})) for v in vectors]
    for state in ("cold", "warm"):
        if state == "cold":
            drop_cache(folder)
        with start_server(catalog_dir, args) as server:
            out["ready_seconds"][state] = round(server.ready_seconds, 2)
            wait_for_workers(server.proc.pid, args.workers)
            print(f"ready ({state} cache): {server.ready_seconds:.2f}s from `wordspace serve` start "
                  f"to /readyz 200", flush=True)
            if state == "cold":
                continue
            out["memory_mb"] = {"after_start": pss(server.proc.pid)}
            windows = {}
            for name, requests in (("by_word", by_word), ("by_vector", by_vector)):
                for conc in (1, 16):
                    n = args.requests // (4 if conc == 1 else 1)
                    result = drive(server.port, _cycle(requests, n), concurrency=conc,
                                   clients=1 if conc == 1 else 2, timeout=300)
                    windows[f"{name}_c{conc}"] = s = summarize(result)
                    print(f"{name}, {conc} connection(s): {s['requests']} requests, "
                          f"{s['errors']} errors, {s['rps']} req/s, p50 {s['p50_ms']} ms, "
                          f"p99 {s['p99_ms']} ms", flush=True)
            out["latency"] = windows
            out["memory_mb"]["after_load"] = pss(server.proc.pid)
            print("recall@10 through HTTP (200 words vs exact search) ...", flush=True)
            out["http_recall_at_10"] = http_recall(server.port, words[:200], keys, unit)
    return out


def http_recall(port: int, words: list[str], keys: list[str], unit) -> float:
    """recall@10 of the neighbours the server answers by word, against exact search."""
    key_to_index = {k: i for i, k in enumerate(keys)}
    rows = np.array([key_to_index[w] for w in words])
    truth = rc.exact(unit, np.asarray(unit[rows]), 10, leave_out=rows)
    route = f"/v1/spaces/{SPACE}/neighbors"
    client = rc.Client(port)
    try:
        got = [[n["word"] for n in client.get(f"{route}?word={urllib.parse.quote(w)}&k=10")["neighbors"]]
               for w in words]
    finally:
        client.close()
    return rc.recall(got, truth, keys, 10)


def _cycle(items: list, n: int) -> list:
    return [items[i % len(items)] for i in range(n)]


def print_report(r: dict) -> None:
    b, load, rec, s = r["build"], r["load"], r["recall"], r["serve"]
    st = b["stages_seconds"]
    disk = sum(r["disk_bytes"].values())
    print(f"\nScale: {b['rows']:,} x {b['dim']} synthetic (seed {b['seed']}), {b['factory']}, "
          f"{os.cpu_count()} cores")
    print(f"build: {b['write_space_seconds']}s in write_space (normalise {st['normalize']}, train "
          f"{st['train']}, add {st['add']}, tune {st['tune']}, write {st['write_files']}, "
          f"checksums {st['checksums']}); table synthesis {b['synthesize_seconds']}s")
    print(f"build memory: peak RSS {b['peak_rss_gb']['after_build']} GB "
          f"({b['peak_rss_gb']['after_synthesis']} GB with the table alone)")
    print(f"catalog on disk: {disk / 1e9:.2f} GB (" + ", ".join(
        f"{k} {v / 1e9:.2f}" for k, v in r["disk_bytes"].items() if v > 1e7) + ")")
    print(f"tuning: {b['search_params']} reached recall@10 {b['tuned_recall_at_10']} "
          f"(target {b['target_recall']})")
    print("ready to serve: cold cache {cold}s, warm cache {warm}s".format(**s["ready_seconds"]))
    print(f"  of which sha256 of every file: cold {load['cold']['verify_seconds']}s, warm "
          f"{load['warm']['verify_seconds']}s; keys + mapping: cold {load['cold']['map_seconds']}s, "
          f"warm {load['warm']['map_seconds']}s")
    m = s["memory_mb"]
    for when in ("after_start", "after_load"):
        x = m[when]
        print(f"server memory {when.replace('_', ' ')}: PSS {x['pss']} MB over {x['processes']} "
              f"processes (anon {x['pss_anon']}, file {x['pss_file']}); RSS sum {x['rss']} MB")
    print("HTTP latency (k=10):")
    for name, w in s["latency"].items():
        print(f"  {name:<14} {w['requests']:>6} req {w['errors']:>3} err {w['rps']:>8} req/s  "
              f"p50 {w['p50_ms']:>7} ms  p99 {w['p99_ms']:>7} ms")
    print("recall@10 vs exact (in-process, rows not used by tuning):")
    for x in rec["sweep"]:
        mark = "  <- served" if x["nprobe"] == rec["search_params"].get("nprobe") else ""
        print(f"  nprobe {x['nprobe']:>3}: {x['recall_at_10']:.4f}, {x['search_ms']} ms/query{mark}")
    print(f"recall@10 through HTTP: {s['http_recall_at_10']}")
    ready = max(s["ready_seconds"].values())
    p50 = s["latency"]["by_word_c1"]["p50_ms"]
    recall = rec["measured_at_search_params"] or s["http_recall_at_10"]
    r["verdicts"] = {"ready_seconds": ready <= TARGETS["ready_seconds"],
                     "p50_ms": p50 <= TARGETS["p50_ms"],
                     "recall_at_10": recall >= TARGETS["recall_at_10"],
                     "no_errors": not any(w["errors"] for w in s["latency"].values())}
    print("targets: " + "; ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in r["verdicts"].items())
          + f" (ready <= {TARGETS['ready_seconds']}s worst of cold/warm: {ready}s; p50 <= "
            f"{TARGETS['p50_ms']} ms by word at 1 connection: {p50} ms; recall >= "
            f"{TARGETS['recall_at_10']}: {recall})")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    sys.exit(main())
