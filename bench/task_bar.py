"""The verdict's task bar measured on a built default catalog (docs/verdict.md quotes this output).

    .venv/bin/python bench/task_bar.py --catalog indexes [--cache DIR] [--seeds 5] [--out FILE.json]

Reads the catalog (never writes into it) and the tasks' texts of the default spec, then per
task: the bag-of-words reference (service/analysis/probe.py `reference`: the same probe on
the mean of one-hot rows over the task's vocabulary), every default space's probe with its
95% Wilson interval and its status against the bar (service/analysis/verdict.py
`task_status`), seeded random vectors over the task's vocabulary (50, 100 and 300
dimensions), and each default's task status judged alone against judged with the other five.
All figures are the probes' held-out 20%, the split every probe and the reference share.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.verdict import DEFAULTS, Probed, tasks_texts  # noqa: E402
from service.analysis import probe, verdict  # noqa: E402
from service.analysis.intervals import wilson_interval  # noqa: E402
from service.store.space import Space  # noqa: E402
from service.store.tables import Table  # noqa: E402
from service.text import tokenize  # noqa: E402


def scored(p: probe.Probe, reference: dict) -> dict:
    low, high = wilson_interval(p.accuracy, p.test)
    row = verdict.Probe("", verdict.Score(p.accuracy, low, high, p.test), p.baseline,
                        verdict.Reference(**{k: reference[k] for k in ("method", "accuracy", "low", "high")}))
    return {"accuracy": round(p.accuracy, 4), "low": round(low, 4), "high": round(high, 4),
            "baseline": round(p.baseline, 4), "status": verdict.task_status(row)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="where the task data is (default CATALOG/.cache)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    spaces = {n: Space.load(args.catalog, n) for n in DEFAULTS}
    texts = tasks_texts(args.cache or args.catalog / ".cache")
    report, records = {}, {n: {} for n in spaces}
    for task, (tx, lb) in texts.items():
        started = time.perf_counter()
        ref = probe.reference(tx, lb)
        seconds = time.perf_counter() - started
        bar = verdict.task_bar(verdict.Reference(ref["method"], ref["accuracy"], ref["low"], ref["high"]))
        row = {"reference": {**{k: v for k, v in ref.items() if k != "method"},
                             "seconds": round(seconds, 2)}, "bar": bar}
        print(f"\n{task}: {len(tx)} texts, bag of words over {ref['features']} words: "
              f"{ref['accuracy']:.3f} [{ref['low']:.3f}, {ref['high']:.3f}] on {ref['test']} held out "
              f"({seconds:.1f} s); bar {row['bar']:.3f}", flush=True)
        for name, s in spaces.items():
            p = probe.linear_probe(s, tx, lb)
            records[name][task] = {"documents": len(tx), "probe": p.__dict__, "reference": ref}
            row[name] = scored(p, ref)
            print(f"  {name:14s} {p.accuracy:.3f} [{row[name]['low']:.3f}, {row[name]['high']:.3f}] "
                  f"majority {p.baseline:.3f}  {row[name]['status']}", flush=True)
        words = sorted({w for t in tx for w in tokenize(t)})
        for dim in (50, 100, 300):
            draws = []
            for seed in range(args.seeds):
                vectors = np.random.default_rng(seed).normal(size=(len(words), dim)).astype("float32")
                draws.append(scored(probe.linear_probe(
                    Space.from_table(Table(words, vectors), f"random-{dim}"), tx, lb), ref))
            row[f"random-{dim}d"] = draws
            print(f"  random {dim:3d}-d  " + " ".join(f"{d['accuracy']:.3f}" for d in draws)
                  + f"  highest upper end {max(d['high'] for d in draws):.3f}; statuses "
                  + json.dumps(sorted({d['status'] for d in draws})), flush=True)
        report[task] = row
    evals = Probed(records)
    together = {r.space: r for r in verdict.compute(list(spaces.values()), evals).spaces}
    report["alone_vs_together"] = {}
    for name, s in spaces.items():
        [alone] = verdict.compute([s], evals).spaces
        same = ([p.status for p in alone.probes] == [p.status for p in together[name].probes]
                and alone.places == together[name].places)
        report["alone_vs_together"][name] = {"places_alone": alone.places,
                                             "places_together": together[name].places, "same": same}
        print(f"  {name:14s} alone {alone.places:8s} with the five others "
              f"{together[name].places:8s} same statuses {same}")
    v = verdict.compute(list(spaces.values()), evals)
    report["sentence"] = v.sentence
    print("\nthe six defaults:", v.sentence)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
