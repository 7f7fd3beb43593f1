"""Unknown-word cost: p50/p99 of a 404 with suggestions, in process, on a catalog space.

    .venv/bin/python bench/suggest.py --catalog /work/main/indexes --space glove [--old]

Queries are misspellings of 300 random keys (one character changed, inserted or dropped;
none of them a key), plus 100 random strings. `--old` times the rapidfuzz scan over every
key that served before the candidate index (for the before/after figure); both arms run
in the same process, interleaved, and the agreement of their top-5 is reported.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import time
from pathlib import Path

from service.store.space import Space


def misspellings(keys: list[str], n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    present = set(keys)
    words = [k for k in keys[:50_000] if k.isalpha() and len(k) >= 3]
    out = []
    while len(out) < n:
        w = rng.choice(words)
        i = rng.randrange(len(w))
        c = rng.choice(string.ascii_lowercase)
        edit = rng.choice(("sub", "ins", "del"))
        m = w[:i] + c + w[i + 1:] if edit == "sub" else w[:i] + c + w[i:] if edit == "ins" else w[:i] + w[i + 1:]
        if m not in present and m.lower() not in present:
            out.append(m)
    for _ in range(n // 3):
        out.append("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 14))))
    return out


def old_suggest(space, word: str) -> list[str]:
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    found = process.extract(word.lower(), space.index_to_key, scorer=Levenshtein.distance,
                            limit=5, score_cutoff=max(2, len(word) // 2))
    return [key for key, _, _ in found]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--space", default="glove")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    t = time.perf_counter()
    space = Space.load(args.catalog, args.space)
    load = time.perf_counter() - t
    queries = misspellings(space.index_to_key, args.n)
    arms = {"new": space.suggest, "old": lambda w: old_suggest(space, w)}
    times = {a: [] for a in arms}
    answers = {a: {} for a in arms}
    for r in range(args.rounds):
        for q in queries:
            for a in (arms if r % 2 == 0 else list(reversed(arms))):
                t = time.perf_counter()
                answers[a][q] = arms[a](q)
                times[a].append(time.perf_counter() - t)
    same_top = sum(bool(answers["new"][q]) == bool(answers["old"][q]) and
                   answers["new"][q][:1] == answers["old"][q][:1] for q in queries) / len(queries)
    overlap = statistics.mean(len(set(answers["new"][q]) & set(answers["old"][q])) / max(1, len(answers["old"][q]))
                              for q in queries)
    out = {"space": args.space, "rows": len(space), "load_seconds": round(load, 2),
           "queries": len(queries), "rounds": args.rounds,
           **{f"{a}_p50_ms": round(1000 * statistics.median(v), 3) for a, v in times.items()},
           **{f"{a}_p99_ms": round(1000 * sorted(v)[int(0.99 * len(v))], 3) for a, v in times.items()},
           "same_best_suggestion": round(same_top, 3), "top5_overlap": round(overlap, 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
