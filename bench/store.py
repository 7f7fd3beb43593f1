"""Past one machine, measured: a catalog served from an S3 API server (moto's server mode, on
this machine), for docs/operations.md.

    python bench/store.py --catalog indexes [--spaces glove] [--port 8300] [--json FILE]

1. publishes the catalog (`--spaces`, default all) to the store: seconds and bytes;
2. starts a replica on an empty cache (cold start): seconds to /readyz 200, bytes downloaded,
   the cache's disk use, and its PSS (master + workers, /proc/PID/smaps_rollup) after a load;
3. starts two more, puts one nginx upstream in front of the three (round-robin) and, under
   load through it, publishes a new version of the first space (the same files under a new
   version name: the whole space is downloaded again): seconds until each replica serves it,
   and every request's status meanwhile (the goal: none lost);
4. the caches' disk use afterwards (the serving version and the one before).
Ports: the store on PORT, the replicas on PORT+1..PORT+3, nginx on PORT+4.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests/support: the store, the server and the balancer
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from service.store import catalog, objects, publish  # noqa: E402
from bench import objectstore  # noqa: E402
from bench.balancer import Load, balancer  # noqa: E402
from bench.server import children, serve, until  # noqa: E402

KEY = {"Authorization": "Bearer bench"}


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def pss_mib(master: int) -> float:
    """PSS of a gunicorn master and its workers, in MiB."""
    total = 0
    for pid in [master, *children(master)]:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        total += next(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))
    return round(total / 1024, 1)


def sample_words(server, space: str, n: int = 200) -> tuple[str, ...]:
    r = requests.get(server.url(f"/v1/spaces/{space}/words?limit={n}"), headers=KEY, timeout=30)
    r.raise_for_status()
    return tuple(w for w in r.json()["words"] if w.isascii() and w.isalnum())


def version_of(server, space: str) -> str | None:
    r = requests.get(server.url("/readyz"), headers=KEY, timeout=10)
    return r.json()["spaces"].get(space, {}).get("version")


def new_version(source: Path, space: str, staging: Path) -> str:
    """The space's current files under a new version name, in a local catalog `staging`."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    folder = staging / catalog.VERSIONS / f"{space}.{stamp}"
    shutil.copytree(catalog.space_folder(source, space), folder)
    os.symlink(os.path.relpath(folder, staging), staging / space)
    return folder.name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", type=Path, required=True)
    p.add_argument("--spaces", default="", help="comma-separated (default all)")
    p.add_argument("--port", type=int, default=8300)
    p.add_argument("--watch", type=int, default=2, help="WORDSPACE_WATCH_SECONDS")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    names = tuple(n for n in args.spaces.split(",") if n) or tuple(catalog.space_names(args.catalog))
    out: dict = {"catalog": str(args.catalog), "spaces": list(names), "cpus": os.cpu_count(),
                 "loadavg": os.getloadavg()}
    work = Path(tempfile.mkdtemp(prefix="wordspace-store-bench-"))
    store = objectstore.Store(None, args.port)
    store.start()
    os.environ.update(store.env)
    try:
        with contextlib.ExitStack() as stack:
            url = store.bucket()
            started = time.monotonic()
            publish.publish(args.catalog, url, names)
            out["publish_seconds"] = round(time.monotonic() - started, 1)
            out["published_bytes"] = sum(
                o["Size"] for o in objects.listing(objects.client(), objects.parse(url), "").values())

            def replica(i: int):
                return stack.enter_context(serve(
                    url, ready="/readyz", ready_timeout=900, port=args.port + i, api_keys="bench",
                    watch_seconds=args.watch, cache=work / f"cache{i}", spaces=",".join(names)))

            first = replica(1)
            out["cold_start_seconds"] = round(first.ready_seconds, 1)
            out["cold_cache_bytes"] = disk_bytes(work / "cache1")
            space = names[0]
            words = sample_words(first, space)
            replicas = [first, replica(2), replica(3)]
            base = stack.enter_context(balancer([r.port for r in replicas], port=args.port + 4))
            with Load(base, KEY, words, space=space) as load:
                load.more(500)
                out["pss_mib_after_load"] = pss_mib(first.proc.pid)
                version = new_version(args.catalog, space, work / "staging")
                published = time.monotonic()
                publish.publish(work / "staging", url, (space,))
                out["republish_seconds"] = round(time.monotonic() - published, 1)
                seconds: dict[int, float] = {}

                def converged() -> bool:
                    for i, r in enumerate(replicas):
                        if i not in seconds and version_of(r, space) == version:
                            seconds[i] = round(time.monotonic() - published, 1)
                    return len(seconds) == len(replicas)

                until(converged, timeout=900, what=f"every replica serving {version}")
                out["converged_seconds"] = [seconds[i] for i in range(len(replicas))]
                load.more(500)
            out["requests"] = len(load.ok) + len(load.failed)
            out["requests_failed"] = len(load.failed)
            out["failures"] = [str(f) for f in load.failed[:5]]
            out["cache_bytes_after"] = [disk_bytes(work / f"cache{i}") for i in (1, 2, 3)]
            out["space_bytes"] = disk_bytes(catalog.space_folder(args.catalog, space))
    finally:
        store.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 1 if out.get("requests_failed") else 0


if __name__ == "__main__":
    sys.exit(main())
