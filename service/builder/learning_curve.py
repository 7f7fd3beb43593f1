"""Learning curve: when does starting the Embedding from a pretrained table help, and how much?

For each training size and seed a stratified sample of the task's training set is drawn
(the seed draws it), and every initialisation trains on that same sample with the same
seed (paired arms); all runs share the split's one validation set (early stopping counted
in optimizer steps) and one test set. Reported per size and init: mean test accuracy with a
95% interval, the paired difference to scratch with its interval, and the accuracy on the
test texts split by how many of their words the training sample lacks (none, some, most:
over half), the slice where a pretrained start should matter.

Each run is cached in a JSON-lines file keyed by everything it depends on, so the full grid
reuses the build's reduced grid (and an interrupted grid resumes); the published result
summarises every cached run of the current inputs. Runs go to `jobs` worker processes
(spawned, one TensorFlow thread each): small models keep one core busy at best.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.builder import steps
from service.builder.classifier import ClassifierSettings, train_classifier
from service.builder.intervals import mean_interval, paired_difference
from service.builder.task_data import Split
from service.builder.classifier_vocabulary import Start, training_words, unseen_share
from service.errors import InputError
from service.store import experiments
from service.store.tables import Table

log = logging.getLogger(__name__)

CURVE = experiments.LEARNING_CURVE  # published as .experiments/learning-curve-TASK.json
# name -> (the kind of space it starts from, vocabulary, trainable); the start of a kind is
# the spec's first space of that kind (service/builder/spec.py)
INITS = {
    "scratch": (None, "training", True),
    "word2vec": ("word2vec", "union", True),
    "word2vec-frozen": ("word2vec", "union", False),
    "glove": ("glove", "union", True),
    "glove-frozen": ("glove", "union", False),
    "word2vec-training-words": ("word2vec", "training", True),
}
SLICES = ("none", "some", "most")  # share of a test text's words the sample lacks: 0, ≤ ½, > ½


@dataclass(frozen=True)
class CurveSettings:
    """The grid. The default is the build's reduced grid; FULL_GRID is the experiment's."""
    sizes: tuple[int, ...] = (50, 100, 250, 1000)   # training texts; 0 means all of them
    inits: tuple[str, ...] = ("scratch", "word2vec")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    glove_rows: int = 100_000      # GloVe words in a GloVe start's vocabulary (most frequent)

    def starts(self) -> set[str]:
        """The kinds of space the grid starts from."""
        return {INITS[i][0] for i in self.inits} - {None}


FULL_GRID = CurveSettings(sizes=(50, 100, 250, 500, 1000, 4000, 0), inits=tuple(INITS))


def experiment_name(task: str) -> str:
    return f"{CURVE}-{task}"


def learning_curve(task: str, split: Split, tables: dict[str, Table], fingerprints: dict[str, str],
                   settings: ClassifierSettings, curve: CurveSettings, cache_file: Path,
                   jobs: int = 1) -> dict:
    """Run the grid's missing runs and summarise every cached run of these inputs.

    `tables` and `fingerprints` hold the spaces the inits start from (by kind); a run's cache
    key includes its start's fingerprint, so a rebuilt word2vec invalidates its runs only.
    """
    for name in curve.inits:
        if name not in INITS:
            raise InputError(f"unknown init {name!r}; choose from {', '.join(INITS)}")
    started = time.perf_counter()
    settings = dataclasses.replace(settings, verbose=0)
    base = {"task": task, "data": split.train.sha256, "split": split.describe()["split"],
            "split_seed": split.seed, "classifier": dataclasses.asdict(settings),
            "glove_rows": curve.glove_rows}
    sizes = sorted({min(s, len(split.train)) if s else len(split.train) for s in curve.sizes})

    def key(init: str, size: int, seed: int) -> str:
        start = INITS[init][0]
        return steps.fingerprint({**base, "init": init, "size": size, "seed": seed,
                                  "start": fingerprints.get(start) if start else None})

    done = _read_cache(cache_file)
    wanted = [(init, size, seed) for size in sizes for seed in curve.seeds for init in curve.inits]
    todo = [job for job in wanted if key(*job) not in done]
    log.info("learning curve %s: %d runs wanted, %d cached, %d to run with %d job(s)", task,
             len(wanted), len(wanted) - len(todo), len(todo), jobs)
    for n, (job, run) in enumerate(_execute(todo, split, tables, settings, curve, jobs), 1):
        run = {"key": key(*job), **run}
        done[run["key"]] = run
        _append_cache(cache_file, run)
        log.info("learning curve %s: %5d texts, %-23s seed %d: test accuracy %.4f, %d steps "
                 "(best %d), %.1fs [%d/%d]", task, run["size"], run["init"], run["seed"],
                 run["accuracy"], run["steps"], run["best_step"], run["seconds"], n, len(todo))
    # Every cached run of these inputs, whichever grid ran it (the full grid keeps its rows
    # when the build later asks for its reduced one).
    seen = {(r.get("init"), r.get("size"), r.get("seed")) for r in done.values()}
    runs = [done[k] for job in seen if job[0] in INITS and (k := key(*job)) in done]
    return {"experiment": CURVE, "task": task, "dataset": split.train.name,
            "split": split.describe()["split"], "classifier": dataclasses.asdict(settings),
            "inits": {n: dict(zip(("start", "vocabulary", "trainable"), INITS[n])) for n in INITS},
            "grid": {"sizes": sizes, "inits": list(curve.inits), "seeds": list(curve.seeds)},
            "glove_rows": curve.glove_rows, "rows": summarize(runs), "runs": len(runs),
            "ran": len(todo), "starts": {n: fingerprints.get(n) for n in sorted(curve.starts())},
            "seconds": round(time.perf_counter() - started, 1)}


def summarize(runs: list[dict]) -> list[dict]:
    """One row per (size, init): mean test accuracy and 95% interval over seeds, the paired
    difference to scratch, steps, and the unseen-word slices."""
    cells: dict[tuple[int, str], dict[int, dict]] = {}
    for r in runs:
        cells.setdefault((r["size"], r["init"]), {})[r["seed"]] = r
    order = list(INITS)
    rows = []
    for (size, init), by_seed in sorted(cells.items(), key=lambda c: (c[0][0], order.index(c[0][1]))):
        accuracy = {s: r["accuracy"] for s, r in by_seed.items()}
        scratch = {s: r["accuracy"] for s, r in cells.get((size, "scratch"), {}).items()}
        slices = {}
        for name in SLICES:
            counted = [r["slices"][name] for r in by_seed.values() if r["slices"][name]["texts"]]
            slices[name] = {
                "texts": round(float(np.mean([r["slices"][name]["texts"] for r in by_seed.values()])), 1),
                "accuracy": (mean_interval([c["accuracy"] for c in counted]) if counted else None)}
        rows.append({"size": size, "init": init, "seeds": sorted(by_seed),
                     **mean_interval(list(accuracy.values())),
                     "accuracies": [accuracy[s] for s in sorted(accuracy)],
                     "difference_to_scratch": (paired_difference(accuracy, scratch)
                                               if init != "scratch" else None),
                     "steps": round(float(np.mean([r["steps"] for r in by_seed.values()])), 1),
                     "unseen": slices})
    return rows


def subsample(split: Split, size: int, seed: int) -> Split:
    """A stratified sample of `size` training texts drawn by `seed`; validation and test
    unchanged. The whole training set when size reaches it."""
    if size >= len(split.train):
        return split
    rng = np.random.default_rng(seed)
    train = split.train
    rows = []
    for c in range(len(train.classes)):
        members = np.flatnonzero(train.labels == c)
        take = max(1, round(size * len(members) / len(train)))
        rows.append(rng.permutation(members)[:take])
    return Split(train.subset(rng.permutation(np.concatenate(rows))), split.validation,
                 split.test, split.seed)


def run_one(split: Split, tables: dict[str, Table], settings: ClassifierSettings,
            curve: CurveSettings, init: str, size: int, seed: int) -> dict:
    """Train one run of the grid; returns what the cache keeps of it."""
    cpu = time.process_time()
    sample = subsample(split, size, seed)
    kind, vocabulary, trainable = INITS[init]
    start = Start() if kind is None else Start(
        kind, tables[kind], vocabulary, trainable, curve.glove_rows if kind == "glove" else None)
    result = train_classifier(sample, None, dataclasses.replace(settings, seed=seed), start)
    share = unseen_share(split.test.texts, set(training_words(sample.train.texts)))
    buckets = {"none": share == 0, "some": (share > 0) & (share <= 0.5), "most": share > 0.5}
    slices = {k: {"texts": int(m.sum()),
                  "accuracy": round(float(result.test_correct[m].mean()), 4) if m.any() else None}
              for k, m in buckets.items()}
    return {"init": init, "size": size, "texts": len(sample.train), "seed": seed,
            "accuracy": result.test_accuracy, "validation_accuracy": result.validation_accuracy,
            "steps": result.steps, "best_step": result.best_step,
            "seconds": result.train_seconds, "cpu_seconds": round(time.process_time() - cpu, 1),
            "slices": slices}


def _execute(todo, split, tables, settings, curve, jobs):
    """(job, run) for each job, in the order they finish."""
    if jobs <= 1 or len(todo) <= 1:
        for job in todo:
            yield job, run_one(split, tables, settings, curve, *job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    used = {INITS[init][0] for init, _, _ in todo} - {None}
    context = multiprocessing.get_context("spawn")  # never fork a process that loaded TensorFlow
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                             initargs=(split, {n: tables[n] for n in used}, settings, curve)) as pool:
        futures = {pool.submit(_worker_run, *job): job for job in todo}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:  # Ctrl-C (or the consumer gone): the workers ignore SIGINT, so
            for child in multiprocessing.active_children():  # stop them rather than wait
                child.terminate()
            raise


_WORKER: dict = {}


def _worker_init(split, tables, settings, curve) -> None:
    import os
    import signal

    # Ctrl-C reaches the whole process group: the parent says it in one line and stops the
    # workers, which would otherwise each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _WORKER.update(split=split, tables=tables, settings=settings, curve=curve)


def _worker_run(init: str, size: int, seed: int) -> dict:
    w = _WORKER
    return run_one(w["split"], w["tables"], w["settings"], w["curve"], init, size, seed)


def _read_cache(path: Path) -> dict[str, dict]:
    runs = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                run = json.loads(line)
                runs[run["key"]] = run
            except (ValueError, KeyError):
                log.warning("learning-curve cache %s: skipping a damaged line", path)
    return runs


def _append_cache(path: Path, run: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(run) + "\n")


def format_curve(curve: dict) -> str:
    """Plain-text tables: accuracy (95% interval) per size and init, the paired difference to
    scratch, and the unseen-word slices."""
    rows = curve["rows"]
    inits = [i for i in INITS if any(r["init"] == i for r in rows)]
    sizes = sorted({r["size"] for r in rows})
    cell = {(r["size"], r["init"]): r for r in rows}

    def ci(m):
        return f"{m['mean']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]"

    lines = [f"{curve['task']}: test accuracy, mean [95% interval] over seeds ({curve['runs']} runs)",
             f"{'texts':>6}  " + "  ".join(f"{i:>24}" for i in inits)]
    for size in sizes:
        lines.append(f"{size:>6}  " + "  ".join(
            f"{ci(cell[(size, i)]) if (size, i) in cell else '-':>24}" for i in inits))
    lines += ["", "paired difference to scratch, mean [95% interval]",
              f"{'texts':>6}  " + "  ".join(f"{i:>24}" for i in inits[1:])]
    for size in sizes:
        lines.append(f"{size:>6}  " + "  ".join(
            f"{ci(d) if (d := (cell.get((size, i)) or {}).get('difference_to_scratch')) else '-':>24}"
            for i in inits[1:]))
    lines += ["", "accuracy by the share of a test text's words the sample lacks "
              "(none / some / most; texts per slice)"]
    for size in sizes:
        for i in inits:
            if (size, i) in cell:
                u = cell[(size, i)]["unseen"]
                parts = [f"{k} {u[k]['accuracy']['mean']:.3f} ({u[k]['texts']:.0f})"
                         if u[k]["accuracy"] else f"{k} - (0)" for k in SLICES]
                lines.append(f"{size:>6}  {i:<24}  " + "  ".join(parts))
    return "\n".join(lines)
