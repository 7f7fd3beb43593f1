"""Neighbours benchmark on GloVe 400k x 50: the service against its own ceiling, through
its production stack (nginx in front), against a Chroma server and gensim, side by side in
one run.

Starts every contender itself on loopback (bench/contenders.py): the service through its CLI,
gunicorn alone (`serve`, clients straight to it) and behind nginx (`serve --proxy`), gensim
`most_similar` behind Flask, and `chroma run` on a folder loaded with the same normalised
table. The same load (wrk, a fixed number of keep-alive connections) runs against
each workload, interleaved over `--rounds` rounds, so a change in other load on the box hits
all alike:

- wordspace: `/healthz` (the server's ceiling), by word (GET), by word past the stored
  top-k table (GET, rows after 50,100), by vector (POST one vector), batch (POST 1,000
  words; reported in words/s);
- proxy (`serve --proxy`, same catalog, workers and threads): `/healthz`, by word, by vector
  (`--proxy-workloads`);
- chroma: its heartbeat, by vector (POST `query`) on the same vectors;
- gensim: by word.

It prints each median with its min and max, recall@10 of every contender through HTTP on
rows the index was not tuned on, the ratios the issue asks for, the time to ready and memory
per worker, and writes JSON and a Markdown table under bench/out/.

    python bench/neighbors.py [--catalog indexes] [--rounds 3] [--duration 10] [--connections 4]

Needs Debian's `wrk` and `nginx` and the bench extra (`pip install -e '.[bench]'`, for
chromadb).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/neighbors.py`: the repository, for bench.*
    sys.path.insert(0, str(ROOT))

from bench import contenders as cs, recall as rc, report, wrk  # noqa: E402
from bench.procs import busy_cpu_seconds, machine_load  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk.available():
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian), or `make bench` as root")
    if "proxy" in args.contenders and not shutil.which("nginx"):
        raise SystemExit("nginx is not installed (the proxy contender runs `wordspace serve --proxy`): "
                         "`apt-get install nginx` (Debian), or leave it out with --contenders chroma,gensim")
    folder = ensure_space(args.catalog)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    keys = (folder / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    unit = np.ascontiguousarray(np.load(folder / "vectors.npy"), dtype="float32")
    queries, load_rows = load_queries(keys, unit, args.words)
    started_load = machine_load()
    print(f"load before: {started_load['loadavg']} on {started_load['cores']} cores", flush=True)

    with tempfile.TemporaryDirectory(prefix="wordspace-bench-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        targets = start_all(args, folder, manifest, keys, unit, queries, logs, stack)
        plan = [(c, w) for c in targets.values() for w in c.workloads]
        print(f"warm-up: {args.warmup:.0f}s per workload", flush=True)
        for c, w in plan:
            wrk.run(c.port, c.workloads[w], seconds=args.warmup, connections=args.connections,
                    threads=args.wrk_threads)
        windows, loads = {(c.name, w): [] for c, w in plan}, []
        for r in range(args.rounds):
            loads.append(machine_load())
            print(f"round {r + 1}/{args.rounds} (load {loads[-1]['loadavg']}) ...", flush=True)
            for c, w in plan:
                windows[(c.name, w)].append(window(c, w, args))
                print(f"  {c.name:<9} {w:<10} {windows[(c.name, w)][-1]['rps']:>9.1f} req/s", flush=True)
        recalls = measure_recalls(targets, keys, unit, queries, load_rows, args)
        memory = targets["wordspace"].process.memory()
        if "proxy" in targets:
            memory["proxy"] = targets["proxy"].process.memory()
        ready = {name: round(c.process.ready, 3) for name, c in targets.items()}
    out = report.build(args, manifest, windows, recalls, memory, ready,
                       {"start": started_load, "rounds": loads, "end": machine_load()},
                       getattr(args, "chroma_load_seconds", None))
    report.show(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    args.markdown.write_text(report.markdown(out), encoding="utf-8")
    print(f"wrote {args.json} and {args.markdown}")
    return 1 if any(x["errors"] for ws in windows.values() for x in ws) else 0


def parse_args(argv):
    from service.settings import Settings

    defaults = Settings.from_env()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", type=Path, default=defaults.catalog,
                   help=f"catalog folder; glove is built there if missing (default {defaults.catalog})")
    p.add_argument("--rounds", type=int, default=3, help="measured windows per workload, interleaved")
    # Whole seconds: wrk reads no fractions.
    p.add_argument("--duration", type=int, default=10, help="seconds per measured window")
    p.add_argument("--warmup", type=int, default=2, help="seconds of load per workload before round 1")
    p.add_argument("--connections", type=int, default=4, help="wrk keep-alive connections")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads")
    p.add_argument("--words", type=int, default=2000, help="distinct query words (and vectors)")
    p.add_argument("--recall-queries", type=int, default=1000, help="held-out rows for recall@10")
    p.add_argument("--contenders", default="proxy,chroma,gensim",
                   help="the others to run beside wordspace (gunicorn alone): proxy (nginx in "
                        "front), chroma, gensim; any of them, or none")
    p.add_argument("--proxy-workloads", default="healthz,by-word,by-vector",
                   help="the proxy's workloads, of wordspace's: healthz, by-word, by-word-rare, "
                        "by-vector, batch-1000")
    p.add_argument("--chroma-path", type=Path,
                   help="Chroma's folder; reused when this bench already loaded the table there "
                        "(default: a fresh temporary folder, loaded every run)")
    p.add_argument("--ports", help="LO-HI: take the servers' ports from this range")
    p.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "bench.json")
    p.add_argument("--markdown", type=Path, default=ROOT / "bench" / "out" / "bench.md")
    args = p.parse_args(argv)
    args.catalog = args.catalog.resolve()
    args.contenders = [n.strip() for n in args.contenders.split(",") if n.strip()]
    args.proxy_workloads = [n.strip() for n in args.proxy_workloads.split(",") if n.strip()]
    args.ports = tuple(int(x) for x in args.ports.split("-")) if args.ports else None
    args.settings = defaults
    return args


def ensure_space(catalog: Path) -> Path:
    """The glove space folder, built with `wordspace build-index` if the catalog lacks it."""
    from service import cli
    from service.store.catalog import resolve

    if not (catalog / cs.SPACE / "manifest.json").is_file():
        print(f"building {cs.SPACE} in {catalog} (a few minutes) ...", flush=True)
        if cli.main(["--catalog", str(catalog), "build-index", cs.SPACE, "--from", "kumo"]) != 0:
            raise SystemExit(f"could not build {cs.SPACE} in {catalog}")
    return resolve(catalog, cs.SPACE)


def load_queries(keys, unit, n: int, seed: int = 0):
    """Seeded frequent alphabetic words (rows 100 to 50,100; none the index was tuned on)
    and their unit vectors as JSON; also the rows they came from. And as many rarer ones
    (rows past 50,100: past the service's stored table, so each is an index search)."""
    held = set(rc.held_out_rows(len(keys), len(keys)).tolist())
    rng = np.random.default_rng(seed)

    def draw(lo, hi):
        pool = [i for i in range(lo, min(hi, len(keys))) if keys[i].isalpha() and i in held]
        return [pool[i] for i in rng.choice(len(pool), min(n, len(pool)), replace=False)]

    rows, rare = draw(100, 50_100), draw(50_100, len(keys))
    return cs.Queries([keys[i] for i in rows], [cs.vector_json(unit[i]) for i in rows],
                      rare_words=[keys[i] for i in rare]), rows


def start_all(args, folder, manifest, keys, unit, queries, logs, stack) -> dict:
    """The service always (the ceiling and every ratio need it), then the others asked for;
    each one's stop is registered the moment it runs."""
    targets = {"wordspace": cs.start_wordspace(args.catalog, queries, logs, args.ports)}
    stack.callback(targets["wordspace"].process.stop)
    print(f"wordspace: ready on 127.0.0.1:{targets['wordspace'].port} in "
          f"{targets['wordspace'].process.ready:.2f}s", flush=True)
    if "proxy" in args.contenders:
        targets["proxy"] = c = cs.start_wordspace(args.catalog, queries, logs, args.ports, proxy=True,
                                                  workloads=args.proxy_workloads)
        stack.callback(c.process.stop)
        print(f"proxy: nginx on 127.0.0.1:{c.port}, ready in {c.process.ready:.2f}s", flush=True)
    if "chroma" in args.contenders:
        # Entered before the server's stop, so the folder goes after the server (last in, first out).
        path = args.chroma_path or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="wordspace-chroma-")))
        path.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        targets["chroma"] = c = cs.start_chroma(path, keys, unit, manifest["files"]["vectors.npy"]["sha256"],
                                                queries, logs, args.ports)
        stack.callback(c.process.stop)
        args.chroma_load_seconds = round(time.monotonic() - started, 1)
        print(f"chroma: ready on 127.0.0.1:{c.port} with {len(keys)} rows "
              f"({args.chroma_load_seconds:.0f}s)", flush=True)
    if "gensim" in args.contenders:
        targets["gensim"] = c = cs.start_gensim(args.settings.workers, args.settings.threads,
                                                queries, logs, args.ports)
        stack.callback(c.process.stop)
        print(f"gensim: ready on 127.0.0.1:{c.port} in {c.process.ready:.2f}s", flush=True)
    return targets


def window(c, workload: str, args) -> dict:
    """One measured wrk window, with the server's CPU and everyone else's over it."""
    cpu0, box0 = c.process.cpu_seconds(), busy_cpu_seconds()
    got = wrk.run(c.port, c.workloads[workload], seconds=args.duration,
                  connections=args.connections, threads=args.wrk_threads)
    cpu1, box1 = c.process.cpu_seconds(), busy_cpu_seconds()
    server = cpu1 - cpu0
    got["server_cpu_ms_per_request"] = round(1000 * server / max(1, got["requests"]), 3)
    got["server_cores"] = round(server / got["seconds"], 2)
    got["other_cores"] = round(max(0.0, (box1 - box0) - server - got["client_cpu"]) / got["seconds"], 2)
    return got


def measure_recalls(targets, keys, unit, queries, load_rows, args) -> dict:
    """recall@10 through HTTP of every (contender, workload) on held-out rows, and on the
    first `--recall-queries` words of the load."""
    rows = rc.held_out_rows(len(keys), args.recall_queries)
    sets = {"held_out": (rows, [keys[i] for i in rows], [cs.vector_json(unit[i]) for i in rows]),
            "load_words": (np.array(load_rows[:args.recall_queries]),
                           queries.words[:args.recall_queries], queries.vectors[:args.recall_queries])}
    out = {}
    for set_name, (rws, words, vectors) in sets.items():
        by_word = rc.exact(unit, unit[rws], queries.k, leave_out=rws)
        xq = np.array([json.loads(v) for v in vectors], dtype="float32")
        xq /= np.linalg.norm(xq, axis=1, keepdims=True)
        by_vector = rc.exact(unit, xq, queries.k)
        for c in targets.values():
            for w in c.workloads:
                if w in ("healthz", "by-word-rare"):  # by word's held-out rows are rare ones
                    continue
                truth = by_vector if w == "by-vector" else by_word
                got = rc.answers(c, w, words, vectors, queries.k, queries.batch)
                out.setdefault(f"{c.name} {w}", {})[set_name] = rc.recall(got, truth, keys, queries.k)
    print("recall@10 (held-out rows, load words): " + "; ".join(
        f"{n} {v['held_out']}, {v['load_words']}" for n, v in out.items()), flush=True)
    return out


if __name__ == "__main__":
    sys.exit(main())
