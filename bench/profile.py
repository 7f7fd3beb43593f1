"""Profile the service's workers under load: py-spy samples every gunicorn worker while wrk
drives one workload, then the functions are ranked by own (self) and inclusive samples.

    python bench/profile.py [--catalog indexes] [--workload by-word] [--seconds 20] [--top 25]

Needs py-spy (the bench extra) and the right to ptrace the workers (root, or
kernel.yama.ptrace_scope=0). Writes the collapsed stacks next to the summary under bench/out/.
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/profile.py`: the repository, for bench.*
    sys.path.insert(0, str(ROOT))

from bench import contenders as cs, wrk  # noqa: E402
from bench.neighbors import ensure_space, load_queries  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", type=Path, default=Path("indexes"))
    p.add_argument("--workload", default="by-word", help="healthz, by-word, by-vector or batch-1000")
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--ports", help="LO-HI: take the server's port from this range")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "profile")
    args = p.parse_args(argv)
    folder = ensure_space(args.catalog.resolve())
    keys = (folder / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    unit = np.load(folder / "vectors.npy", mmap_mode="r")
    queries, _ = load_queries(keys, unit, 2000)
    ports = tuple(int(x) for x in args.ports.split("-")) if args.ports else None
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wordspace-profile-") as tmp:
        c = cs.start_wordspace(args.catalog.resolve(), queries, Path(tmp), ports)
        try:
            wrk.run(c.port, c.workloads[args.workload], seconds=2, connections=args.connections)
            workers = [pid for pid in c.process.members() if pid != c.process.pid]
            spies = [subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--duration",
                                       str(args.seconds), "--rate", "100", "--format", "raw",
                                       "--output", str(args.out / f"{args.workload}-{pid}.txt")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for pid in workers]
            got = wrk.run(c.port, c.workloads[args.workload], seconds=args.seconds + 1,
                          connections=args.connections)
            for s in spies:
                s.wait(60)
        finally:
            c.process.stop()
    stacks = collapsed(args.out.glob(f"{args.workload}-*.txt"))
    text = summary(stacks, args.top, f"{args.workload}: {got['rps']:.0f} req/s under py-spy, "
                                     f"{len(workers)} workers, {args.seconds}s")
    (args.out / f"{args.workload}-top.txt").write_text(text)
    print(text)
    return 0


def collapsed(paths) -> collections.Counter:
    stacks = collections.Counter()
    for path in paths:
        for line in Path(path).read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack:
                stacks[stack] += int(count)
    return stacks


# Leaves where a thread waits rather than works: a gthread pool thread waiting for work,
# the poller waiting for sockets. py-spy cannot always tell these from busy threads.
IDLE = ("_worker (concurrent/futures/thread.py)", "EpollSelector.select (selectors.py)")


def summary(stacks: collections.Counter, top: int, title: str) -> str:
    """Top functions by own and by inclusive samples, as shares of the busy samples (those
    not waiting in a pool queue or the poller)."""
    own, inclusive = collections.Counter(), collections.Counter()
    total = sum(stacks.values())
    for stack, n in stacks.items():
        frames = [_short(f) for f in stack.split(";")]
        if frames[-1] in IDLE:
            continue
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    busy = sum(own.values())
    lines = [title, f"{total} samples, {busy} busy", "", "own %   function"]
    lines += [f"{100 * n / busy:5.1f}   {f}" for f, n in own.most_common(top)]
    lines += ["", "incl %  function"]
    lines += [f"{100 * n / busy:5.1f}   {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """'func (path/to/site-packages/pkg/mod.py:12)' -> 'func (pkg/mod.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path.replace(str(ROOT) + '/', '')})" if path else name


if __name__ == "__main__":
    sys.exit(main())
