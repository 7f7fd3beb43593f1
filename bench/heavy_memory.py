"""What a pod's memory peaks at when clients ask every heavy route at once, against the real
service (`wordspace serve --proxy`, default 2 workers x 4 threads, so WORDSPACE_HEAVY_REQUESTS
gives one heavy request per worker) on a built catalog. For the memory limit in
deploy/kubernetes/deployment.yaml and docs/operations.md.

    .venv/bin/python bench/heavy_memory.py --catalog /work/main/indexes --port 8500 \
        --a glove --b word2vec [--clients 16] [--seconds 60] [--json bench/out/heavy_memory.json]

Clients loop over the heavy routes (full exports in both formats, compare/spaces of two
spaces with k 10 and 100, scorecard and words pictures), honouring Retry-After. Meanwhile the
summed PSS of gunicorn's master and workers and nginx is sampled every 0.2 s; prints, as JSON,
PSS at rest, the peak, answers by status and the /healthz p50/p99 measured meanwhile.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.server import children, serve  # noqa: E402


def pss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children(p))
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--a", default="glove")
    ap.add_argument("--b", default="word2vec")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    routes = [f"/v1/spaces/{args.a}/export?format=word2vec",
              f"/v1/spaces/{args.a}/export?format=projector",
              f"/v1/compare/spaces?a={args.a}&b={args.b}&k=10",
              f"/v1/compare/spaces?a={args.a}&b={args.b}&k=100",
              "/v1/compare/plot/scorecard?format=png",
              f"/v1/compare/plot?word=king&k=20&spaces={args.a},{args.b}&format=png"]
    with serve(args.catalog, proxy=True, port=args.port, api_keys="", ready="/readyz") as s:
        time.sleep(2)  # let the workers settle after start (this measures, it is no test)
        pids = tree(s.proc.pid)[1:]
        rest = pss_mib(pids)
        stop, statuses, probes, peak = threading.Event(), {}, [], [rest]

        def client(i: int) -> None:
            with requests.Session() as session:
                n = i
                while not stop.is_set():
                    r = session.get(s.url(routes[n % len(routes)]), timeout=300)
                    _ = r.content
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    n += 1
                    if r.status_code == 503:
                        stop.wait(float(r.headers.get("Retry-After", 1)))

        def probe() -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    started = time.perf_counter()
                    session.get(s.url("/healthz"), timeout=30)
                    probes.append(time.perf_counter() - started)
                    stop.wait(0.1)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        threads.append(threading.Thread(target=probe))
        for t in threads:
            t.start()
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            peak.append(pss_mib(tree(s.proc.pid)[1:]))
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        after = pss_mib(tree(s.proc.pid)[1:])
    probes.sort()
    out = {"catalog": str(args.catalog), "clients": args.clients, "seconds": args.seconds,
           "pss_mib_at_rest": round(rest, 1), "pss_mib_peak": round(max(peak), 1),
           "pss_mib_after": round(after, 1), "answers": {str(k): v for k, v in statuses.items()},
           "healthz_p50_ms": round(1000 * statistics.median(probes), 1),
           "healthz_p99_ms": round(1000 * probes[int(0.99 * (len(probes) - 1))], 1)}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
