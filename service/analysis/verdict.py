"""The answer to the question the service exists for, in one table and one sentence: which
space places words by meaning, which by the task.

Per space, a meaning score (WordSim353 and SimLex-999 Spearman ρ on the vocabulary every
compared space shares, so spaces with different vocabularies are scored on the same pairs)
and a task score (held-out accuracy of the linear probe on the task the build scored it on,
from the space's stored scorecard), each with a 95% interval. A space *leads* on meaning
when its WordSim353 interval overlaps the best space's and lies above zero; it leads on a
task when its probe interval overlaps the best one's on that task and lies above the
majority-class share. A task space (kind "task" with a `task` in its metadata, built-in or
imported) that has no task score says "no task data" rather than "neither". The sentence is
written from these numbers, never by hand; it rounds scores to two digits (the fields carry
them unrounded). `ranked` orders the spaces for comparisons that take only a few: the
leaders first, taking turns between meaning and each task, then the rest.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from service.analysis import scorecard

Z95 = 1.959964
METHOD = ("meaning: WordSim353 Spearman ρ on the words all compared spaces share, 95% interval "
          "by Fisher's z with variance 1.06/(n-3); task: linear-probe held-out accuracy, 95% "
          "Wilson interval. A space leads on a score when its interval overlaps the best "
          "space's and lies above zero (meaning) or above the majority-class share (task). "
          "A task space without a task score has no task data.")


@dataclass
class Score:
    value: float | None
    low: float | None    # 95% interval
    high: float | None
    n: int               # pairs the correlation is over, or held-out texts


@dataclass
class SpaceVerdict:
    space: str
    kind: str
    wordsim353: Score
    simlex999: Score
    task: str | None          # dataset the probe was scored on; None: no task score
    probe: Score | None
    baseline: float | None    # majority-class share of the probe's held-out texts
    places: str               # "meaning", "task", "both", "neither" or "no task data"
    trained_for: str | None = None  # a task space's task (its metadata's `task`); else None


@dataclass
class Verdict:
    sentence: str
    spaces: list[SpaceVerdict]
    vocabulary: int            # words every compared space has
    meaning: list[str]         # spaces leading on meaning, best first
    task: dict[str, list[str]]  # per task dataset, spaces leading on it, best first
    method: str = METHOD


def spearman_interval(rho: float | None, n: int) -> tuple[float | None, float | None]:
    """95% interval of a Spearman correlation (Fieller, Hartley and Pearson 1957)."""
    if rho is None or n <= 3:
        return None, None
    z, se = math.atanh(max(min(rho, 0.999999), -0.999999)), math.sqrt(1.06 / (n - 3))
    return math.tanh(z - Z95 * se), math.tanh(z + Z95 * se)


def wilson_interval(p: float, n: int) -> tuple[float | None, float | None]:
    """95% Wilson score interval of a proportion `p` over `n` trials."""
    if n <= 0:
        return None, None
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def compute(spaces: list, evaluations: scorecard.Evaluations) -> Verdict:
    """The verdict over loaded `spaces`: shared-vocabulary benchmarks (cached per space
    versions) and the task section of each space's stored scorecard."""
    shared = evaluations.shared(spaces, analogies=False)
    rows = []
    for s in spaces:
        described = s.describe()
        scores = shared["scores"][s.name]
        stored = evaluations.stored(s) or {}
        task = stored.get("task") or {}
        probe = task.get("probe") if task.get("computed") else None
        rows.append(SpaceVerdict(
            s.name, described["kind"], _correlation(scores["wordsim353"]),
            _correlation(scores["simlex999"]),
            task.get("dataset", "task") if probe else None,
            _accuracy(probe) if probe else None,
            probe.get("baseline") if probe else None, "neither", task_of(described)))
    return decide(rows, shared["vocabulary"])


def task_of(described: dict) -> str | None:
    """The task a space was trained for when it is a task space (kind "task" and a `task` in
    its metadata, as the build writes for built-in and imported models alike), else None."""
    details = described.get("details") or {}
    task = details.get("task") if described.get("kind") == "task" else None
    return str(task) if task else None


def _correlation(c: dict) -> Score:
    return Score(c["spearman"], *spearman_interval(c["spearman"], c["answered"]), c["answered"])


def _accuracy(probe: dict) -> Score:
    return Score(probe["accuracy"], *wilson_interval(probe["accuracy"], probe["test"]),
                 probe["test"])


def decide(rows: list[SpaceVerdict], vocabulary: int) -> Verdict:
    """Leaders on meaning and on each task, each row's `places`, and the sentence."""
    meaning = _leaders([(r, r.wordsim353) for r in rows], floor=lambda r: 0.0)
    tasks: dict[str, list[str]] = {}
    for dataset in dict.fromkeys(r.task for r in rows if r.task):
        tasks[dataset] = _leaders([(r, r.probe) for r in rows if r.task == dataset],
                                  floor=lambda r: r.baseline or 0.0)
    on_task = {name for names in tasks.values() for name in names}
    for r in rows:
        r.places = {(True, True): "both", (True, False): "meaning", (False, True): "task",
                    (False, False): "neither"}[(r.space in meaning, r.space in on_task)]
        if r.places == "neither" and r.trained_for and r.probe is None:
            r.places = "no task data"
    return Verdict(sentence(rows, meaning, tasks, vocabulary), rows, vocabulary, meaning, tasks)


def ranked(v: Verdict) -> list[str]:
    """Every space of `v`, leaders first (the best on meaning, the best on each task, then
    the second best of each, ...), then the others in the verdict's order."""
    columns = [v.meaning, *v.task.values()]
    turns = [c[i] for i in range(max(map(len, columns), default=0)) for c in columns if i < len(c)]
    return list(dict.fromkeys(turns + [r.space for r in v.spaces]))


def _leaders(scored: list[tuple[SpaceVerdict, Score | None]], floor) -> list[str]:
    have = [(r, s) for r, s in scored if s is not None and s.value is not None]
    if not have:
        return []
    _, best = max(have, key=lambda rs: rs[1].value)
    lead = [(r, s) for r, s in have if s.high is not None and best.low is not None
            and s.high >= best.low and s.low > floor(r)]
    return [r.space for r, s in sorted(lead, key=lambda rs: -rs[1].value)]


def number(x: float | None) -> str:
    """Two digits without the leading zero (.60, -.05); never "-.00"."""
    if x is None:
        return "–"
    text = f"{x:.2f}".replace("0.", ".", 1)
    return ".00" if text == "-.00" else text


def names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(rows: list[SpaceVerdict], meaning: list[str], tasks: dict[str, list[str]],
             vocabulary: int) -> str:
    by_name = {r.space: r for r in rows}

    def ws(group):
        return "WordSim353 " + ", ".join(number(by_name[n].wordsim353.value) for n in group)

    def probe(group):
        datasets = list(dict.fromkeys(by_name[n].task for n in group))
        return "; ".join(f"{d} probe " + ", ".join(number(by_name[n].probe.value)
                                                    for n in group if by_name[n].task == d)
                         for d in datasets)

    def verb(group, one, many):
        return one if len(group) == 1 else many

    order = [r.space for r in rows]
    on_task = [n for names_ in tasks.values() for n in names_]
    only_meaning = [n for n in meaning if n not in on_task]
    only_task = [n for n in on_task if n not in meaning]
    both = [n for n in meaning if n in on_task]
    no_data = [r.space for r in rows if r.trained_for and r.probe is None]
    neither = [n for n in order if n not in meaning and n not in on_task and n not in no_data]
    parts = []
    if only_meaning:
        parts.append(f"{names(only_meaning)} {verb(only_meaning, 'places', 'place')} words by "
                     f"meaning ({ws(only_meaning)})")
    if only_task:
        them = "them" if only_meaning else "words"
        parts.append(f"{names(only_task)} {verb(only_task, 'places', 'place')} {them} by the "
                     f"task ({probe(only_task)}; {ws(only_task)})")
    if both:
        parts.append(f"{names(both)} {verb(both, 'does', 'do')} both ({ws(both)}; {probe(both)})")
    if neither and parts:
        with_task = [n for n in neither if by_name[n].probe]
        detail = ws(neither) + (f"; {probe(with_task)}" if with_task else "")
        parts.append(f"{names(neither)} {verb(neither, 'leads', 'lead')} on neither ({detail})")
    missing = (f"{names(no_data)} {verb(no_data, 'has', 'have')} no task data "
               f"({ws(no_data)})") if no_data else ""
    if not parts:
        scored = [n for n in order if n not in no_data]
        lead = (f"No space stands out on meaning or on a task ({ws(scored)}, over the "
                f"{vocabulary:,} words all spaces share)") if scored else ""
        return "; ".join(p for p in (lead, missing) if p) + "."
    return "; ".join(parts + ([missing] if missing else [])) + "."
