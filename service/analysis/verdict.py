"""The answer to the question the service exists for, in one table and one sentence: which
space places words by meaning, which by the task. No space's scores or status depend on
which other spaces are loaded; only who *leads* does, and the answer names who beat whom.

Meaning, per space, on the WordSim353 pairs it covers itself (and SimLex-999, reported): the
Spearman ρ of its cosines with the human scores, a 95% interval and n, the pairs. Its status
has an absolute bar (docs/verdict.md gives its measured basis):

- fewer than MIN_PAIRS pairs: "not enough pairs";
- the interval's lower end at least BAR: "by meaning"; its upper end below BAR: "not by
  meaning"; anything between: "undetermined".

A space by meaning *leads* on meaning unless another space by meaning beats it on the pairs
both cover: the challenger covers at least COVER of the space's pairs, and the 95% interval
of the difference of their ρ (Zou 2007, service/analysis/intervals.py) lies above zero.

Task, per space and per task of the build: held-out accuracy of the linear probe (the build
probes every space on every task, with one pooling for all: service/analysis/probe.py), a
95% Wilson interval, and the majority-class share. A space leads on a task when its interval
overlaps the best one's on that task and lies above the majority-class share.

`places`: "meaning" (by meaning), "task" (leads on a task), "both", "neither", "undetermined"
(meaning undetermined or not enough pairs, and no task led), or "no task data" (a task space
never probed on its own task, and neither of the others). The sentence is written from these
numbers, never by hand (service/analysis/verdict_text.py). `ranked` orders the spaces for
comparisons that take only a few: the leaders first, taking turns between meaning and each
task, then the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from service.analysis import benchmarks, verdict_text
from service.analysis.intervals import difference_interval, spearman_interval, wilson_interval
from service.analysis.probe import POOLING

__all__ = ["compute", "decide", "ranked", "spearman_interval", "wilson_interval", "Score",
           "Probe", "SpaceVerdict", "Verdict", "number"]

BAR = 0.30       # ρ a space's interval must clear to place words by meaning
MIN_PAIRS = 50   # WordSim353 pairs a space must cover to be judged
COVER = 0.80     # share of a space's pairs a challenger must cover to beat it
BY_MEANING, NOT_MEANING, UNDETERMINED, TOO_FEW = (
    "by meaning", "not by meaning", "undetermined", "not enough pairs")
METHOD = (f"meaning: WordSim353 Spearman ρ on the pairs each space covers itself, 95% interval "
          f"by Fisher's z with variance 1.06/(n-3); by meaning when the interval's lower end "
          f"is at least {BAR:.2f}, not by meaning when its upper end is below {BAR:.2f}, "
          f"undetermined between, not enough pairs below {MIN_PAIRS}. A space by meaning "
          f"leads unless another space by meaning covering at least {COVER:.0%} of its pairs "
          f"beats it: the 95% interval of the difference of ρ on the pairs both cover (Zou "
          f"2007) above zero. Task: linear-probe held-out accuracy on every task of the build, "
          f"95% Wilson interval, sentence vectors the {POOLING}; a space leads on a task when "
          f"its interval overlaps the best one's and lies above the majority-class share.")
number, names = verdict_text.number, verdict_text.names


@dataclass
class Score:
    value: float | None
    low: float | None    # 95% interval
    high: float | None
    n: int               # pairs the correlation is over, or held-out texts


@dataclass
class Probe:
    task: str            # the task (dataset) the probe is on
    accuracy: Score
    baseline: float      # majority-class share of its held-out texts
    leads: bool = False  # leads on this task


@dataclass
class Beaten:
    by: str              # the space by meaning that beats this one by the most
    difference: Score    # ρ(by) - ρ(this) on the pairs both cover (n), 95% interval (Zou)


@dataclass
class SpaceVerdict:
    space: str
    kind: str
    wordsim353: Score         # on the pairs the space covers itself
    simlex999: Score
    probes: list[Probe]       # one per task it was probed on
    trained_for: str | None = None  # a task space's task (its metadata's `task`); else None
    meaning: str = UNDETERMINED     # BY_MEANING, NOT_MEANING, UNDETERMINED or TOO_FEW
    beaten_by: Beaten | None = None
    places: str = "neither"   # meaning, task, both, neither, undetermined, no task data


@dataclass
class Verdict:
    sentence: str
    spaces: list[SpaceVerdict]
    meaning: list[str]          # spaces leading on meaning, best first
    task: dict[str, list[str]]  # per task, spaces leading on it, best first
    rule: dict = field(default_factory=lambda: {"bar": BAR, "min_pairs": MIN_PAIRS,
                                                 "cover": COVER, "pooling": POOLING})
    method: str = METHOD


def compute(spaces: list, evaluations) -> Verdict:
    """The verdict over loaded `spaces`: each space's own benchmark pairs (cosines cached per
    space version) and the probes of its stored scorecard."""
    covered = {s.name: evaluations.pairs(s, benchmarks.WORDSIM) for s in spaces}
    rows = []
    for s in spaces:
        described = s.describe()
        rows.append(SpaceVerdict(
            s.name, described["kind"], correlation(covered[s.name]),
            correlation(evaluations.pairs(s, benchmarks.SIMLEX)),
            probes_of(evaluations.stored(s) or {}), task_of(described)))
    return decide(rows, lambda a, b: difference(covered[a], covered[b]))


def task_of(described: dict) -> str | None:
    """The task a space was trained for when it is a task space (kind "task" and a `task` in
    its metadata, as the build writes for built-in and imported models alike), else None."""
    details = described.get("details") or {}
    task = details.get("task") if described.get("kind") == "task" else None
    return str(task) if task else None


def correlation(covered: benchmarks.PairCosines) -> Score:
    n = len(covered.pairs)
    rho = benchmarks.spearman(covered.human, covered.model) if n >= 3 else None
    return Score(rho, *spearman_interval(rho, n), n)


def difference(challenger: benchmarks.PairCosines, space: benchmarks.PairCosines) -> Score | None:
    """ρ(challenger) - ρ(space) on the pairs both cover, with its 95% interval (Zou 2007);
    None when the challenger covers less than COVER of the space's pairs."""
    common, ci, si = np.intersect1d(challenger.pairs, space.pairs, return_indices=True)
    if not len(space.pairs) or len(common) < COVER * len(space.pairs) or len(common) <= 3:
        return None
    human, a, b = space.human[si], challenger.model[ci], space.model[si]
    r1, r2, r12 = (benchmarks.spearman(human, a), benchmarks.spearman(human, b),
                   benchmarks.spearman(a, b))
    if r1 is None or r2 is None or r12 is None:
        return None
    return Score(r1 - r2, *difference_interval(r1, r2, r12, len(common)), len(common))


def probes_of(card: dict) -> list[Probe]:
    """The probes of a stored scorecard: every task of its build (section "probes"); a
    scorecard from before every space was probed on every task has its one task section."""
    tasks = (card.get("probes") or {}).get("tasks")
    if tasks is None:
        section = card.get("task") or {}
        tasks = {section.get("dataset", "task"): section} if section.get("computed") else {}
    return [Probe(task, accuracy(t["probe"]), t["probe"]["baseline"]) for task, t in tasks.items()]


def accuracy(probe: dict) -> Score:
    return Score(probe["accuracy"], *wilson_interval(probe["accuracy"], probe["test"]),
                 probe["test"])


def status(score: Score) -> str:
    """A space's meaning status from its own WordSim353 score alone."""
    if score.n < MIN_PAIRS or score.low is None:
        return TOO_FEW
    if score.low >= BAR:
        return BY_MEANING
    return NOT_MEANING if score.high < BAR else UNDETERMINED


def decide(rows: list[SpaceVerdict], compare) -> Verdict:
    """Each row's status and `places`, the leaders on meaning and on each task, the sentence.
    `compare(challenger, space)` is difference() of the two spaces' pairs, by name."""
    for r in rows:
        r.meaning = status(r.wordsim353)
        r.beaten_by = None
    judged = [r for r in rows if r.meaning == BY_MEANING]
    for r in judged:
        beats = [Beaten(c.space, d) for c in judged if c is not r
                 for d in [compare(c.space, r.space)] if d is not None and d.low > 0]
        r.beaten_by = max(beats, key=lambda b: b.difference.value, default=None)
    meaning = [r.space for r in sorted(judged, key=lambda r: -r.wordsim353.value)
               if r.beaten_by is None]
    tasks: dict[str, list[str]] = {}
    for task in dict.fromkeys(p.task for r in rows for p in r.probes):
        tasks[task] = _leaders([(r, p) for r in rows for p in r.probes if p.task == task])
    for r in rows:
        on_task = any(p.leads for p in r.probes)
        if r.meaning == BY_MEANING:
            r.places = "both" if on_task else "meaning"
        elif on_task:
            r.places = "task"
        elif r.trained_for and r.trained_for not in {p.task for p in r.probes}:
            r.places = "no task data"
        else:
            r.places = "undetermined" if r.meaning in (UNDETERMINED, TOO_FEW) else "neither"
    return Verdict(verdict_text.sentence(rows, meaning, tasks), rows, meaning, tasks)


def _leaders(probes: list[tuple[SpaceVerdict, Probe]]) -> list[str]:
    have = [(r, p) for r, p in probes if p.accuracy.value is not None]
    if not have:
        return []
    best = max(have, key=lambda rp: rp[1].accuracy.value)[1].accuracy
    lead = [(r, p) for r, p in have if p.accuracy.high is not None and best.low is not None
            and p.accuracy.high >= best.low and p.accuracy.low > p.baseline]
    for _, p in lead:
        p.leads = True
    return [r.space for r, p in sorted(lead, key=lambda rp: -rp[1].accuracy.value)]


def ranked(v: Verdict) -> list[str]:
    """Every space of `v`, leaders first (the best on meaning, the best on each task, then
    the second best of each, ...), then the spaces by meaning, then the others in the
    verdict's order."""
    columns = [v.meaning, *v.task.values()]
    turns = [c[i] for i in range(max(map(len, columns), default=0)) for c in columns if i < len(c)]
    by_meaning = [r.space for r in v.spaces if r.meaning == BY_MEANING]
    return list(dict.fromkeys(turns + by_meaning + [r.space for r in v.spaces]))
