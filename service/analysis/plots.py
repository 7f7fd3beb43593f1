"""Pictures of the comparisons, as SVG or PNG bytes: words projected to 2-D per space, the
learning curve of the task experiment, and the scorecard as bars.

matplotlib is imported inside each function with the Agg backend (no display), so serving
text answers never loads it. Each process draws in one thread of its own (`drawn`): matplotlib
keeps its fonts and text caches per thread, so a worker whose four request threads drew in
turn held four copies of them. Words are drawn as text, never parsed as mathtext (`$x_$` is a
word, not a formula).
"""
from __future__ import annotations

import functools
import gc
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}

_drawer: tuple[int, ThreadPoolExecutor] | None = None  # (the pid it was made in, the thread)
_drawer_lock = threading.Lock()


def drawn(draw):
    """`draw`, run in the process's one drawing thread (made on first use in each process:
    a thread of gunicorn's master does not survive the fork into its workers)."""
    @functools.wraps(draw)
    def in_drawing_thread(*args, **kwargs):
        global _drawer
        with _drawer_lock:
            if _drawer is None or _drawer[0] != os.getpid():
                _drawer = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="draw"))
            thread = _drawer[1]
        return thread.submit(_collected, draw, *args, **kwargs).result()
    return in_drawing_thread


def _collected(draw, *args, **kwargs):
    """`draw`, then a collection: a figure is a knot of reference cycles that only a pass
    over the oldest generation frees, and until then the figures of a worker's pictures piled
    up in its heap (20 word pictures: about 13 MiB). The pass skips what the master froze
    before the fork (service/server.py), so it costs a few milliseconds."""
    try:
        return draw(*args, **kwargs)
    finally:
        gc.collect()


def _figure(width: float, height: float, layout: str | None = "constrained"):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def _render(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=100)
    return buffer.getvalue()


@drawn
def words_plot(projections: list, fmt: str) -> bytes:
    """One panel per projection (service/analysis/projection.py), in the order given; the
    same word has the same colour in every panel; the words a space lacks are listed once,
    under the panels, with the spaces that lack them."""
    import textwrap

    import matplotlib

    from service.analysis.projection import absent_from

    lacking = absent_from(projections)
    note = "; ".join(f"{w}: not in {', '.join(spaces)}" for w, spaces in lacking.items())
    lines = textwrap.wrap(note, width=int(24 * len(projections)) + 40) if note else []
    fig = _figure(4.2 * len(projections), 4.2 + 0.22 * len(lines))
    colors = matplotlib.colormaps["tab20"]
    order = list(dict.fromkeys(pt.word for p in projections for pt in p.points))
    panels = fig.subplots(1, len(projections), squeeze=False)[0]
    for ax, p in zip(panels, projections):
        index = {w: i for i, w in enumerate(order)}
        # The dark shades of tab20 first, then the light ones.
        shades = [colors((2 * index[pt.word] + (index[pt.word] // 10) % 2) % 20) for pt in p.points]
        if p.points:  # one artist for all the points of a panel
            ax.scatter([pt.x for pt in p.points], [pt.y for pt in p.points], color=shades, s=30)
        for pt, color in zip(p.points, shades):
            ax.annotate(pt.word, (pt.x, pt.y), xytext=(4, 3), textcoords="offset points",
                        color=color, fontsize=9, parse_math=False)
        if not p.points:
            ax.text(0.5, 0.5, "none of these words", ha="center", va="center",
                    transform=ax.transAxes, color="#888")
        basis = "these words" if p.basis == "words" else "frequent words"
        ax.set_title(f"{p.space}\nPCA over {basis}", fontsize=10, parse_math=False)
        ax.tick_params(labelsize=7)
        ax.margins(0.15)
    if lines:
        fig.supxlabel("\n".join(lines), fontsize=8, color="#555", parse_math=False)
    return _render(fig, fmt)


@drawn
def learning_curve_plot(curves: dict[str, dict], fmt: str) -> bytes:
    """One panel per task: test accuracy against training texts, one line per
    initialisation with its 95% interval over seeds as a band, from the learning curves the
    build publishes in the catalog."""
    fig = _figure(6.2 * len(curves), 4.6)
    panels = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (task, curve) in zip(panels, curves.items()):
        by_init: dict[str, list[dict]] = {}
        for row in curve.get("rows", []):
            by_init.setdefault(row["init"], []).append(row)
        for i, (init, rows) in enumerate(by_init.items()):
            rows.sort(key=lambda r: r["size"])
            x = [r["size"] for r in rows]
            mean = np.array([r["mean"] for r in rows])
            low = np.array([r["ci95"][0] for r in rows])
            high = np.array([r["ci95"][1] for r in rows])
            seeds = max(len(r["seeds"]) for r in rows)
            ax.plot(x, mean, marker="o", markersize=3, color=f"C{i}", label=f"{init} ({seeds} seeds)")
            ax.fill_between(x, low, high, color=f"C{i}", alpha=0.18, linewidth=0)
        ax.set_xscale("log")
        sizes = sorted({r["size"] for r in curve.get("rows", [])})
        ax.set_xticks(sizes, [f"{s:,}" for s in sizes], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("training texts")
        ax.set_ylabel("test accuracy (mean, 95% interval)")
        ax.set_title(f"{task}: Embedding initialisation vs training size", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
    return _render(fig, fmt)


SCORES = (  # label, path into an evaluation
    ("WordSim353 ρ", ("wordsim353", "spearman")),
    ("SimLex-999 ρ", ("simlex999", "spearman")),
    ("analogy 3CosAdd", ("analogy", "methods", "3cosadd", "overall", "accuracy")),
    ("analogy 3CosMul", ("analogy", "methods", "3cosmul", "overall", "accuracy")),
    ("probe accuracy", ("task", "probe", "accuracy")),
    ("neighbour purity", ("task", "purity", "purity")),
)


def score(evaluation: dict, path: tuple) -> float | None:
    node = evaluation
    for part in path:
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    return float(node)


@drawn
def scorecard_plot(evaluations: dict[str, dict], fmt: str) -> bytes:
    """Grouped bars: each score of SCORES for every space (missing scores left out)."""
    fig = _figure(max(6, 1.4 * len(SCORES) + 0.3 * len(evaluations) * len(SCORES)), 4)
    ax = fig.subplots()
    width = 0.8 / max(len(evaluations), 1)
    x = np.arange(len(SCORES))
    for i, (name, evaluation) in enumerate(evaluations.items()):
        values = [score(evaluation, path) for _, path in SCORES]
        have = [j for j, v in enumerate(values) if v is not None]
        ax.bar(x[have] + i * width - 0.4 + width / 2, [values[j] for j in have], width,
               label=name, color=f"C{i}")
    ax.set_xticks(x, [label for label, _ in SCORES], fontsize=8)
    ax.set_ylim(min(0, ax.get_ylim()[0]), 1)
    ax.set_ylabel("score")
    ax.set_title("Scorecard: semantic benchmarks (left) and task-side scores (right)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _render(fig, fmt)


def warm() -> None:
    """Draw one small picture in each format: matplotlib's modules, its font list and the font
    it draws with are then loaded. gunicorn's master calls this before the fork
    (service/server.py), so the workers share those pages instead of each loading its own."""
    for fmt in FORMATS:
        fig = _figure(1, 1, layout=None)
        fig.subplots().set_title("warm", fontsize=9)
        _render(fig, fmt)
