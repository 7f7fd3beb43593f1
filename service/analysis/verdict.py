"""The answer to the question the service exists for, in one table and one sentence: which
space places words by meaning, which by the task. No space's scores or status depend on
which other spaces are loaded; only who *leads* on meaning does, and the answer names who
beat whom.

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
95% Wilson interval, the majority-class share, and the task's own reference, stored with the
probe: the same probe on a bag of words of the task's texts (probe.reference; it depends on
the task alone, so it is the same for every space). Its status has an absolute bar too:

- no reference stored (a scorecard from before the bar): "no reference";
- the interval's lower end at least the lower end of the reference's 95% interval (and above
  the majority-class share): "by the task"; its upper end below it: "not by the task";
  between: "undetermined".

The spaces by the task on a task, best first, are that task's list (an ordering, not a
contest: adding a space changes no other space's status).

`places`: "meaning" (by meaning), "task" (by the task on some task), "both", "neither" (not
by meaning, and not by the task on any task it was probed on), "undetermined" (one side
undetermined, not enough pairs or no reference, and neither side settled yes), or "no task
data" (a task space never probed on its own task, and neither of the others). The sentence
is written from these numbers, never by hand (service/analysis/verdict_text.py). `ranked`
orders the spaces for comparisons that take only a few: the leaders first, taking turns
between meaning and each task, then the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from service.analysis import benchmarks, verdict_text
from service.analysis.intervals import difference_interval, spearman_interval, wilson_interval
from service.analysis.probe import POOLING, REFERENCE

__all__ = ["compute", "decide", "ranked", "spearman_interval", "wilson_interval", "Score",
           "Probe", "Reference", "SpaceVerdict", "Verdict", "number"]

BAR = 0.30       # ρ a space's interval must clear to place words by meaning
MIN_PAIRS = 50   # WordSim353 pairs a space must cover to be judged
COVER = 0.80     # share of a space's pairs a challenger must cover to beat it
BY_MEANING, NOT_MEANING, UNDETERMINED, TOO_FEW = (
    "by meaning", "not by meaning", "undetermined", "not enough pairs")
BY_TASK, NOT_TASK, NO_REFERENCE = "by the task", "not by the task", "no reference"
METHOD = (f"meaning: WordSim353 Spearman ρ on the pairs each space covers itself, 95% interval "
          f"by Fisher's z with variance 1.06/(n-3); by meaning when the interval's lower end "
          f"is at least {BAR:.2f}, not by meaning when its upper end is below {BAR:.2f}, "
          f"undetermined between, not enough pairs below {MIN_PAIRS}. A space by meaning "
          f"leads unless another space by meaning covering at least {COVER:.0%} of its pairs "
          f"beats it: the 95% interval of the difference of ρ on the pairs both cover (Zou "
          f"2007) above zero. Task: linear-probe held-out accuracy on every task of the build, "
          f"95% Wilson interval, sentence vectors the {POOLING}; by the task when the "
          f"interval's lower end is at least the lower end of the task's reference's 95% "
          f"interval and above the majority-class share, not by the task when its upper end is "
          f"below that, undetermined between. The reference, per task: {REFERENCE}.")
number, names = verdict_text.number, verdict_text.names


@dataclass
class Score:
    value: float | None
    low: float | None    # 95% interval
    high: float | None
    n: int               # pairs the correlation is over, or held-out texts


@dataclass
class Reference:
    method: str          # probe.REFERENCE
    accuracy: float      # held-out accuracy of the probe on a bag of words of the task's texts
    low: float | None    # its 95% Wilson interval; the lower end is the task's bar (task_bar)
    high: float | None


@dataclass
class Probe:
    task: str            # the task (dataset) the probe is on
    accuracy: Score
    baseline: float      # majority-class share of its held-out texts
    reference: Reference | None = None  # the task's own bar, stored with the probe
    status: str = NO_REFERENCE  # BY_TASK, NOT_TASK, UNDETERMINED or NO_REFERENCE
    leads: bool = False  # by the task on this task (kept for clients reading `leads`)


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
    task: dict[str, list[str]]  # per task, the spaces by the task on it, best first
    rule: dict = field(default_factory=lambda: {"bar": BAR, "min_pairs": MIN_PAIRS,
                                                 "cover": COVER, "pooling": POOLING,
                                                 "task_reference": REFERENCE})
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
    return [Probe(task, accuracy(t["probe"]), t["probe"]["baseline"], reference_of(t))
            for task, t in tasks.items()]


def reference_of(record: dict) -> Reference | None:
    """The task's reference stored with a probe (None in a scorecard from before it)."""
    ref = record.get("reference")
    return Reference(ref["method"], ref["accuracy"], ref.get("low"), ref.get("high")) if ref else None


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


def task_bar(reference: Reference) -> float:
    """The accuracy a space's probe interval must clear on a task: the lower end of the
    reference's 95% interval (docs/verdict.md gives its measured basis). Not the reference's
    point accuracy: a space exactly as good as the bag of words would stay undetermined
    however many texts, and none could clear a task whose bag of words is perfect."""
    return reference.accuracy if reference.low is None else reference.low


def task_status(p: Probe) -> str:
    """A probe's status from its own interval and its task's reference alone."""
    a = p.accuracy
    if p.reference is None:
        return NO_REFERENCE
    if a.low is None:
        return UNDETERMINED
    bar = max(task_bar(p.reference), p.baseline)
    if a.low >= bar and a.low > p.baseline:
        return BY_TASK
    return NOT_TASK if a.high < bar else UNDETERMINED


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
    for r in rows:
        for p in r.probes:
            p.status = task_status(p)
            p.leads = p.status == BY_TASK
    tasks: dict[str, list[str]] = {}
    for task in dict.fromkeys(p.task for r in rows for p in r.probes):
        by_task = [(r, p) for r in rows for p in r.probes if p.task == task and p.leads]
        tasks[task] = [r.space for r, p in sorted(by_task, key=lambda rp: -rp[1].accuracy.value)]
    for r in rows:
        r.places = places(r)
    return Verdict(verdict_text.sentence(rows, meaning, tasks), rows, meaning, tasks)


def places(r: SpaceVerdict) -> str:
    """A space's place from its own meaning status and its own probes' statuses."""
    on_task = any(p.status == BY_TASK for p in r.probes)
    if r.meaning == BY_MEANING:
        return "both" if on_task else "meaning"
    if on_task:
        return "task"
    if r.trained_for and r.trained_for not in {p.task for p in r.probes}:
        return "no task data"
    unsure_task = any(p.status in (UNDETERMINED, NO_REFERENCE) for p in r.probes)
    return "undetermined" if r.meaning in (UNDETERMINED, TOO_FEW) or unsure_task else "neither"


def ranked(v: Verdict) -> list[str]:
    """Every space of `v`, leaders first (the best on meaning, the best on each task, then
    the second best of each, ...), then the spaces by meaning, then the others in the
    verdict's order."""
    columns = [v.meaning, *v.task.values()]
    turns = [c[i] for i in range(max(map(len, columns), default=0)) for c in columns if i < len(c)]
    by_meaning = [r.space for r in v.spaces if r.meaning == BY_MEANING]
    return list(dict.fromkeys(turns + by_meaning + [r.space for r in v.spaces]))
