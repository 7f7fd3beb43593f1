"""The verdict's sentence, written from its numbers (service/analysis/verdict.py), never by
hand: who places words by meaning, who by the task (each task claim names its task, the
probe and the task's bag-of-words reference), who does both, who beats whom on meaning,
whose pairs or probes cannot tell, and who has no task data. Scores are rounded to two digits
(the verdict's fields carry them unrounded).
"""
from __future__ import annotations


def number(x: float | None, sign: bool = False) -> str:
    """Two digits without the leading zero (.60, -.05, with `sign` +.16); never "-.00"."""
    if x is None:
        return "–"
    text = f"{x:+.2f}" if sign else f"{x:.2f}"
    text = text.replace("0.", ".", 1)
    return {"-.00": ".00", "+-.00": ".00"}.get(text, text)


def names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _verb(group, one, many):
    return one if len(group) == 1 else many


def sentence(rows: list, meaning: list[str], tasks: dict[str, list[str]]) -> str:
    by = {r.space: r for r in rows}

    def ws(group, interval=False):
        return "WordSim353 " + ", ".join(
            number(by[n].wordsim353.value) + (f" [{number(by[n].wordsim353.low)}, "
                                               f"{number(by[n].wordsim353.high)}]" if interval else "")
            for n in group)

    def probes(group):
        parts = []
        for task in tasks:
            on = [p for n in group for p in by[n].probes if p.task == task and p.leads]
            if on:
                # one reference per task and build; spaces from other builds may hold another
                refs = dict.fromkeys(number(p.reference.accuracy) for p in on)
                parts.append(f"{task} probe " + ", ".join(number(p.accuracy.value) for p in on)
                             + " vs bag of words " + ", ".join(refs))
        return "; ".join(parts)

    def unsure_probes(group):
        return "; ".join(f"{p.task} probe {number(p.accuracy.value)} [{number(p.accuracy.low)}, "
                         f"{number(p.accuracy.high)}] vs bag of words {number(p.reference.accuracy)} "
                         f"[{number(p.reference.low)}, {number(p.reference.high)}]"
                         for n in group for p in by[n].probes if p.status == "undetermined"
                         and p.reference is not None)

    def placed(how):
        return [r.space for r in rows if r.places == how]

    rho = lambda n: -(by[n].wordsim353.value or 0)  # noqa: E731
    led = list(dict.fromkeys(n for leaders in tasks.values() for n in leaders))
    only_meaning = sorted(placed("meaning"), key=rho)
    only_task = [n for n in led if by[n].places == "task"]
    both = sorted(placed("both"), key=rho)
    parts = []
    if only_meaning:
        parts.append(f"{names(only_meaning)} {_verb(only_meaning, 'places', 'place')} words by "
                     f"meaning ({ws(only_meaning)})")
    if only_task:
        them = "them" if only_meaning else "words"
        parts.append(f"{names(only_task)} {_verb(only_task, 'places', 'place')} {them} by the "
                     f"task ({probes(only_task)}; {ws(only_task)})")
    if both:
        parts.append(f"{names(both)} {_verb(both, 'does', 'do')} both ({ws(both)}; {probes(both)})")
    if not parts:
        parts.append("No space places words by meaning or by a task")
    for r in rows:
        if r.beaten_by:
            d = r.beaten_by.difference
            parts.append(f"{r.beaten_by.by} beats {r.space} on meaning (ρ {number(d.value, True)} "
                         f"[{number(d.low, True)}, {number(d.high, True)}] on the {d.n} pairs "
                         "both cover)")
    unsure = [n for n in placed("undetermined") if by[n].meaning == "undetermined"]
    if unsure:
        parts.append(f"the pairs cannot tell whether {names(unsure)} "
                     f"{_verb(unsure, 'places', 'place')} words by meaning ({ws(unsure, True)})")
    few = [n for n in placed("undetermined") if by[n].meaning == "not enough pairs"]
    if few:
        parts.append(f"{names(few)} {_verb(few, 'covers', 'cover')} too few WordSim353 pairs "
                     f"to judge (" + ", ".join(str(by[n].wordsim353.n) for n in few) + ")")
    unsure_task = [r.space for r in rows if r.places == "undetermined" and any(
        p.status == "undetermined" and p.reference is not None for p in r.probes)]
    if unsure_task:
        parts.append(f"the probes cannot tell whether {names(unsure_task)} "
                     f"{_verb(unsure_task, 'places', 'place')} words by the task "
                     f"({unsure_probes(unsure_task)})")
    unjudged = [r.space for r in rows if r.places == "undetermined"
                and any(p.status == "no reference" for p in r.probes)]
    if unjudged:
        parts.append(f"{names(unjudged)} {_verb(unjudged, 'has', 'have')} probes without the "
                     "task's reference to judge them (scored before the task bar: `wordspace "
                     "build --force`)")
    neither = placed("neither")
    if neither:
        parts.append(f"{names(neither)} {_verb(neither, 'does', 'do')} neither ({ws(neither, True)})")
    no_data = placed("no task data")
    if no_data:
        parts.append(f"{names(no_data)} {_verb(no_data, 'has', 'have')} no task data "
                     f"({ws(no_data)})")
    return "; ".join(parts) + "."
