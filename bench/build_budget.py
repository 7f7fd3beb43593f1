"""What an HNSW efConstruction and a stored top-k table cost at build, and what they buy.

For each efConstruction: the graph's build CPU and wall seconds, the efSearch the build's
own tuning picks (service/store/index.py), recall@10 against exact search on 1,000 held-out
rows (none of the tuning rows) and on 1,000 frequent rows, and the CPU of one query at a time
in one thread (as a worker searches). For the top-k table: CPU and wall seconds of its exact
search for a number of rows, from which any other row count scales linearly.

    python bench/build_budget.py --vectors indexes/glove/vectors.npy --ef 80,120,200 --topk-rows 10000
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import faiss
import numpy as np

from service.store import index as ix
from service.store import topk as tk


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 1), round(time.process_time() - cpu, 1)


def exact_truth(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
    _, I = faiss.knn(np.ascontiguousarray(unit[rows]), unit, 11, metric=faiss.METRIC_INNER_PRODUCT)
    return np.array([[i for i in found if i != r][:10] for r, found in zip(rows, I)])


def recall(index, unit: np.ndarray, rows: np.ndarray, truth: np.ndarray) -> float:
    _, I = index.search(np.ascontiguousarray(unit[rows]), 11)
    return round(sum(len(set(t) & set(f)) for t, f in zip(truth, I)) / truth.size, 4)


def per_query_us(index, unit: np.ndarray, rows: np.ndarray) -> float:
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    started = time.process_time()
    for r in rows:
        index.search(unit[r:r + 1], 11)
    elapsed = time.process_time() - started
    faiss.omp_set_num_threads(threads)
    return round(elapsed / len(rows) * 1e6, 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vectors", type=Path, required=True, help="a space's vectors.npy (unit rows)")
    p.add_argument("--ef", default="80,120,200", help="efConstruction values")
    p.add_argument("--factory", default="HNSW32")
    p.add_argument("--topk-rows", type=int, default=10_000, help="rows of exact top-k to time")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    unit = np.ascontiguousarray(np.load(args.vectors))
    n = len(unit)
    tuning = set(ix.tuning_rows(n).tolist())
    rng = np.random.default_rng(1)
    held = np.array(sorted(rng.choice([r for r in range(n) if r not in tuning], 1000, replace=False)))
    frequent = np.array(sorted(rng.choice([r for r in range(100, 50_100) if r not in tuning], 1000,
                                          replace=False)))
    truths = {"held_out": (held, exact_truth(unit, held)), "frequent": (frequent, exact_truth(unit, frequent))}
    out = {"rows": n, "dimension": unit.shape[1], "threads": faiss.omp_get_max_threads(), "ef": []}
    for ef in (int(x) for x in args.ef.split(",")):
        ix.EF_CONSTRUCTION = ef
        index = ix._factory(unit.shape[1], args.factory)
        ix._hnsw(index).efConstruction = ef
        _, wall, cpu = timed(lambda: index.add(unit))
        params, tuned = ix.tune(index, unit)
        row = {"efConstruction": ef, "build_wall_s": wall, "build_cpu_s": cpu, **params,
               "recall_tuning_rows": tuned,
               **{f"recall_{k}": recall(index, unit, r, t) for k, (r, t) in truths.items()},
               "query_cpu_us": per_query_us(index, unit, held)}
        print(json.dumps(row), flush=True)
        out["ef"].append(row)
    _, wall, cpu = timed(lambda: tk.compute(unit, args.topk_rows))
    out["topk"] = {"rows": args.topk_rows, "k": tk.K, "wall_s": wall, "cpu_s": cpu}
    print(json.dumps(out["topk"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
