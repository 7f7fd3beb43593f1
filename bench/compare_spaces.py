"""How long GET /v1/compare/spaces takes for two published spaces, by the two ways it can
search: an exact flat index of the shared words' vectors (what it does up to 100,000 shared
words) and each space's own index with an ID selector (what it does above that).

Rounds alternate between the two ways, so other load on the box hits both alike; it prints
the median seconds of each, their ratio, and whether they found the same overlaps. Queries are
a seeded sample of the shared words (`--sample`, default 5,000; 0 = all of them), searched
among all shared words, on one thread as in a request.

    python bench/compare_spaces.py --a word2vec --b glove [--catalog indexes] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.analysis.neighborhoods import compare_spaces  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.store.space import Space  # noqa: E402

WAYS = {"exact": 10**12, "index": 0}  # exact_limit that picks each way


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", type=Path, default=Settings.from_env().catalog)
    p.add_argument("--a", default="word2vec")
    p.add_argument("--b", default="glove")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--sample", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    a, b = Space.load(args.catalog, args.a), Space.load(args.catalog, args.b)
    seconds = {way: [] for way in WAYS}
    results = {}
    for _ in range(args.rounds):
        for way, limit in WAYS.items():
            started = time.perf_counter()
            results[way] = compare_spaces(a, b, args.k, args.sample or None, 0, 20, exact_limit=limit)
            seconds[way].append(time.perf_counter() - started)
    medians = {way: round(statistics.median(s), 2) for way, s in seconds.items()}
    exact, index = results["exact"], results["index"]
    report = {
        "a": args.a, "b": args.b, "k": args.k, "shared": exact.shared, "compared": exact.compared,
        "rounds": args.rounds, "median_seconds": medians,
        "index_over_exact": round(medians["index"] / medians["exact"], 1),
        "mean_jaccard": {"exact": exact.mean_jaccard, "index": index.mean_jaccard},
        "search_seconds_last_round": {"exact": exact.search_seconds, "index": index.search_seconds},
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
