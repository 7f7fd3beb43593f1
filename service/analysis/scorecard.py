"""The scorecard of a space: semantic benchmarks, task-side scores and geometry, computed at
build time and kept with the space as `evaluation.json`, or on first request and cached.

The build (service/builder/runner.py) scores each table it is about to publish:
`evaluate_space(as_space(table, name, embed_config=...), task=..., source="build")`, then
`write_evaluation`, then catalog.write_space(extra_files={"evaluation.json": ...}). The
result is a plain dict (the format of evaluation.json, version EVALUATION_VERSION); each
section records the seconds it took, `source` says where it was computed. `Evaluations` (on
the app state as `evaluations`) serves them: from the space's
evaluation.json when there is one, else computed once per space version and kept in memory
(spaces built before scorecards existed, without the task section: serving never reads
training data; the build scores the task section on the texts it trained on, and the
"probes" section, the verdict's task scores, on the texts of every task of its spec, each
with the one pooling of service/analysis/probe.py). `refresh` recomputes the cheap sections (word
similarity and geometry: about a second each) and the others (analogies: 19,544 questions
over 30,000 candidates take 1-6 s; task scores: 1-5 s to embed 12,752 reviews) only when
they took at most REFRESH_BUDGET seconds last time, and says which it kept.
`shared_scores` restricts the benchmarks to the words every compared space has, so spaces
with different vocabularies are compared on the same items.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from service.analysis import benchmarks, geometry, probe
from service.store.space import Space

log = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"
EVALUATION_VERSION = 1
REFRESH_BUDGET = 2.0  # seconds the analogy section may have taken to be recomputed
SECTIONS = ("wordsim353", "simlex999", "analogy", "geometry", "task", "probes")
BUILD_ONLY = ("task", "probes")  # scored on the build's texts; serving holds none
ALWAYS_CHEAP = ("wordsim353", "simlex999", "geometry")  # about a second each


def settings(candidates: int = benchmarks.CANDIDATES) -> dict:
    return {"case_folding": "lower-case benchmark words, exact key lookup",
            "analogy_candidates": f"first {candidates} rows of the space (most frequent words)",
            "analogy_excludes": "a, b and c are never an answer",
            "similarity": "cosine", "probe_holdout": probe.HOLDOUT,
            "geometry": {"pairs": geometry.PAIRS, "hubness_rows": geometry.HUB_ROWS,
                         "hubness_k": geometry.HUB_K}}


def evaluate_space(space, task: tuple[list[str], list] | None = None, *,
                   sections=SECTIONS, candidates: int = benchmarks.CANDIDATES,
                   task_name: str | None = None, source: str = "request",
                   tasks: dict[str, tuple[list[str], list]] | None = None,
                   references: dict[str, dict] | None = None) -> dict:
    """Score `space` (a Space, a Table, or `as_space` of a Table) on `sections`.

    `task` is (texts, labels) of the task the space was trained for, `task_name` the
    dataset's name (recorded in the task section); without a task the task section says
    it was not computed. `tasks` maps every task of the build to its (texts, labels): the
    "probes" section probes the space on each (the verdict's task scores); without them it
    says it was not computed. `references` maps a task to its bag-of-words reference
    (probe.reference, computed once per task by the build); a task without one has it
    computed here. `source` is recorded: "build" or "request"."""
    space = as_space(space)
    if task is not None and task_name and tasks is not None:
        tasks = {task_name: task, **tasks}
    out = {"format_version": EVALUATION_VERSION, "space": space.name, "source": source,
           "computed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "rows": len(space), "settings": settings(candidates), "seconds": {}}
    for section in sections:
        started = time.perf_counter()
        out[section] = (_probes(space, tasks, out.get("task"), references) if section == "probes"
                        else _section(space, section, task, candidates))
        if section == "task" and task_name and out[section]["computed"]:
            out[section]["dataset"] = task_name
        out["seconds"][section] = round(time.perf_counter() - started, 3)
        log.info("space %s: %s in %.2fs", space.name, section, out["seconds"][section])
    return out


def _section(space, section: str, task, candidates: int):
    if section in ("wordsim353", "simlex999"):
        name = benchmarks.WORDSIM if section == "wordsim353" else benchmarks.SIMLEX
        return asdict(benchmarks.word_similarity(space, name))
    if section == "analogy":
        return asdict(benchmarks.analogies(space, benchmarks.candidate_rows(space, candidates)))
    if section == "geometry":
        return asdict(geometry.geometry(space))
    if task is None:
        return {"computed": False, "reason": "no task data: build a task space (`wordspace "
                                             "build`) so the catalog holds its labelled texts"}
    texts, labels = task
    return {"computed": True, "documents": len(texts),
            "probe": asdict(probe.linear_probe(space, texts, labels)),
            "purity": asdict(probe.neighborhood_purity(space, probe.class_words(texts, labels)))}


def _probes(space, tasks: dict | None, task: dict | None, references: dict | None = None) -> dict:
    """The linear probe on every task of the build, with the one pooling of every space, and
    the task's own bag-of-words reference (the verdict's task bar); the task section's probe
    is reused when it is on one of them (same texts, same pooling)."""
    if not tasks:
        return {"computed": False, "reason": "no task data: `wordspace build` probes every "
                                             "space on every task of its spec"}
    out = {}
    for name, (texts, labels) in tasks.items():
        if task and task.get("computed") and task.get("dataset") == name:
            out[name] = {"documents": task["documents"], "probe": task["probe"]}
        else:
            out[name] = {"documents": len(texts),
                         "probe": asdict(probe.linear_probe(space, texts, labels))}
        out[name]["reference"] = (references or {}).get(name) or probe.reference(texts, labels)
    return {"computed": True, "pooling": probe.POOLING, "tasks": out}


def shared_scores(spaces: list, candidates: int = benchmarks.CANDIDATES,
                  analogies: bool = True) -> dict:
    """WordSim353, SimLex-999 and (with `analogies`, the slow part: seconds per space)
    analogies for each space, restricted to the vocabulary all `spaces` share; the analogy
    candidates are the shared words, most frequent first (by their worst row in any space),
    at most `candidates` of them."""
    started = time.perf_counter()
    vocabulary = set(spaces[0].index_to_key)
    for s in spaces[1:]:
        vocabulary &= set(s.index_to_key)
    words = sorted(vocabulary)
    worst = np.max([s.key_to_index.many(words) for s in spaces], axis=0) if words else []
    chosen = [words[i] for i in np.argsort(worst, kind="stable")[:candidates]] if analogies else []
    scores = {}
    for s in spaces:
        scores[s.name] = {
            "wordsim353": asdict(benchmarks.word_similarity(s, benchmarks.WORDSIM, vocabulary)),
            "simlex999": asdict(benchmarks.word_similarity(s, benchmarks.SIMLEX, vocabulary)),
        }
        if analogies:
            rows = s.key_to_index.many(chosen)
            scores[s.name]["analogy"] = asdict(benchmarks.analogies(s, rows))
    return {"spaces": [s.name for s in spaces], "vocabulary": len(vocabulary),
            "candidates": len(chosen), "settings": settings(candidates), "scores": scores,
            "seconds": round(time.perf_counter() - started, 3)}


class Evaluations:
    """Scorecards per space version, read from evaluation.json or computed once and kept."""

    def __init__(self):
        self._cache: dict[tuple, dict] = {}
        self._lock = threading.Lock()  # one computation at a time: they are CPU-bound

    def get(self, space, refresh: bool = False) -> dict:
        """The scorecard, with `refreshed` and `kept`: the sections this call recomputed
        and the ones it returned from before."""
        key = (space.name, str(space.folder))
        with self._lock:
            current = self._cache.get(key) or read_evaluation(space)
            if current is None:
                current, refreshed = evaluate_space(space), list(SECTIONS)
            elif refresh:
                current, refreshed = self._refresh(space, current)
            else:
                refreshed = []
            self._cache[key] = current
        kept = [s for s in SECTIONS if s not in refreshed]
        return {**current, "refreshed": refreshed, "kept": kept}

    def stored(self, space) -> dict | None:
        """The scorecard held in memory or stored with the space, never computed here (the
        task section comes only from the build, which has the training texts)."""
        with self._lock:
            return self._cache.get((space.name, str(space.folder))) or read_evaluation(space)

    def _refresh(self, space, previous: dict) -> tuple[dict, list[str]]:
        # The service holds no training texts: task sections the build scored are kept.
        kept = {s for s in BUILD_ONLY if (previous.get(s) or {}).get("computed")}
        cheap = [s for s in SECTIONS if s not in kept and (
            s in ALWAYS_CHEAP or previous.get("seconds", {}).get(s, float("inf")) <= REFRESH_BUDGET)]
        fresh = evaluate_space(space, sections=cheap)
        # `source` stays where the scorecard came from; `refreshed` says what is newer.
        merged = {**previous, **{k: v for k, v in fresh.items() if k not in ("seconds", "source")}}
        merged["seconds"] = {**previous.get("seconds", {}), **fresh["seconds"]}
        return merged, cheap

    def pairs(self, space, name: str) -> benchmarks.PairCosines:
        """The cosines of the pairs of benchmark `name` the space covers, once per space
        version (the verdict's meaning scores and comparisons; milliseconds)."""
        key = ("pairs", name, space.name, str(space.folder))
        with self._lock:
            if key not in self._cache:
                self._cache[key] = benchmarks.pair_cosines(space, name)
            return self._cache[key]

    def shared(self, spaces: list, analogies: bool = True, compute: bool = True) -> dict | None:
        """The benchmarks on the vocabulary `spaces` share, once per set of space versions
        (with analogies: seconds of CPU); with compute=False, None unless already computed."""
        key = ("shared", analogies) + tuple((s.name, str(s.folder)) for s in spaces)
        with self._lock:
            # The scores with analogies (what warm() computes in the master) hold those without:
            # a worker reuses them rather than touching every key of every space again.
            full = ("shared", True) + tuple(sorted(key[2:]))
            if not analogies and full in self._cache:
                return self._cache[full]
            if key not in self._cache and compute:
                self._cache[key] = shared_scores(spaces, analogies=analogies)
            return self._cache.get(key)

    def warm(self, spaces: list) -> None:
        """Compute what requests would otherwise compute: the scorecard of every space (read
        from evaluation.json when stored) and the shared scores of all of them together.
        Called when the spaces load, in gunicorn's master before it forks, so no request
        spends seconds on it and every worker shares the result."""
        started = time.perf_counter()
        for space in spaces:
            self.get(space)
            for name in (benchmarks.WORDSIM, benchmarks.SIMLEX):  # the verdict's
                self.pairs(space, name)
        if len(spaces) > 1:
            self.shared(sorted(spaces, key=lambda s: s.name))
        log.info("scorecards of %d spaces ready in %.2fs", len(spaces), time.perf_counter() - started)


def read_evaluation(space) -> dict | None:
    """The evaluation.json stored with the space (checksummed with it), if any."""
    if EVALUATION_FILE not in (space.manifest.get("files") or {}):
        return None
    data = json.loads((space.folder / EVALUATION_FILE).read_text(encoding="utf-8"))
    return data if data.get("format_version") == EVALUATION_VERSION else None


def write_evaluation(result: dict, path: Path) -> Path:
    """Write an evaluate_space result, for catalog.write_space(extra_files=...)."""
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return path


def as_space(space_or_table, name: str = "table", embed_config: dict | None = None):
    """A Space as it is; a Table as it will be published (`embed_config`: the content of the
    embed.json a task space will carry)."""
    if hasattr(space_or_table, "key_to_index"):
        return space_or_table
    return Space.from_table(space_or_table, getattr(space_or_table, "name", name), embed_config)
