"""`make soak`'s long run: mixed load with faults, killing gunicorn workers with SIGKILL while it
runs. The load generator and the attribution of failures to kills are bench/load.py's
(tests/test_load_faults.py runs them in short); bench/server.py starts the server, as for the
tests.

    python bench/soak.py [--requests 200000] [--kills 5] [--kill-every 15] [--json FILE]

The long run serves the GloVe space (built in the catalog if missing, as bench/neighbors.py
does) with the default 2 workers x 4 threads, drives `--requests` mixed requests over 16
connections and kills the worker holding the most connections every `--kill-every` seconds,
at most `--kills` times. It exits 1 on any failure a kill does not explain. Everything binds
127.0.0.1 and stops by itself (`--timeout` bounds the load).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/soak.py`: the repository, for bench.*
    sys.path.insert(0, str(ROOT))

from bench.load import attribute, drive, kill_worker, mixed_requests, summarize  # noqa: E402
from bench.neighbors import ensure_space  # noqa: E402
from bench.server import children, serve  # noqa: E402


def sample_words(keys: list[str], n: int, seed: int = 0) -> list[str]:
    """A seeded sample of frequent alphabetic words, skipping the 100 most frequent."""
    import numpy as np

    pool = [k for k in keys[100:50_100] if k.isalpha()]
    return [pool[i] for i in np.random.default_rng(seed).choice(len(pool), min(n, len(pool)), replace=False)]


def main(argv: list[str] | None = None) -> int:
    from service.settings import Settings

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", type=Path, default=Settings.from_env().catalog)
    p.add_argument("--requests", type=int, default=200_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--clients", type=int, default=2)
    p.add_argument("--kills", type=int, default=5, help="most workers to kill")
    p.add_argument("--kill-every", type=float, default=15.0, help="seconds between kills")
    p.add_argument("--timeout", type=float, default=900.0, help="most seconds of load")
    p.add_argument("--json", type=Path)
    p.add_argument("--port", type=int, help="the server's port (default: a free one)")
    args = p.parse_args(argv)
    folder = ensure_space(args.catalog.resolve())
    keys = (folder / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    requests = mixed_requests("glove", sample_words(keys, 2000), args.requests)
    with serve(args.catalog.resolve(), ready="/readyz", ready_timeout=300, port=args.port, host="127.0.0.1",
               spaces="glove", workers=2, threads=4, api_keys="") as server:
        proc, port = server.proc, server.port
        print(f"ready in {server.ready_seconds:.2f}s; {args.requests:,} mixed requests over {args.concurrency} "
              f"connections, a worker killed every {args.kill_every:.0f}s (at most {args.kills}) ...",
              flush=True)

        def kills(t_start, finished):
            done = []
            for i in range(args.kills):
                while time.monotonic() < t_start + (i + 1) * args.kill_every and not finished():
                    time.sleep(0.1)
                if finished():
                    break
                done.append(kill_worker(proc.pid, port))
                print(f"  killed worker {done[-1]['victim']} holding {len(done[-1]['ports'])} "
                      f"connections; replaced in {done[-1]['respawn_seconds']}s", flush=True)
            return done

        result = drive(port, requests, concurrency=args.concurrency, clients=args.clients,
                       timeout=args.timeout, during=kills)
        alive = children(proc.pid)
    summary = summarize(result)
    events = result["during"]
    found = attribute(result["records"], events)
    report = {"summary": summary, "kills": [{**{k: v for k, v in e.items() if k not in ("t", "ports")},
                                             "held": len(e["ports"]), "failed": n}
                                            for e, n in zip(events, found["per_kill"])],
              "unexplained_failures": found["unexplained"][:20],
              "unexplained_count": len(found["unexplained"]), "workers_at_end": len(alive)}
    print(f"\n{summary['requests']:,} of {summary['asked']:,} requests in {summary['seconds']}s: "
          f"{summary['rps']} req/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms; "
          f"{summary['errors']} failed {summary['errors_by_status']}")
    for k in report["kills"]:
        print(f"kill -9 of worker {k['victim']}: it held {k['held']} of {args.concurrency} "
              f"connections, {k['failed']} requests failed, replaced in {k['respawn_seconds']}s")
    print(f"failures not explained by a kill: {report['unexplained_count']}; "
          f"workers at the end: {len(alive)}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    complete = summary["requests"] == summary["asked"]
    return 0 if complete and not report["unexplained_count"] and events else 1


if __name__ == "__main__":
    sys.exit(main())
