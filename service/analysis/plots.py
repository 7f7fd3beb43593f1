"""Pictures of the comparisons, as SVG or PNG bytes: words projected to 2-D per space, the
learning curve of the task experiment, and the scorecard as bars.

matplotlib is imported inside each function with the Agg backend (no display, thread-safe
when each figure is its own object), so serving text answers never loads it. Words are drawn
as text, never parsed as mathtext (`$x_$` is a word, not a formula).
"""
from __future__ import annotations

import io
import weakref

import numpy as np

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
BASIS_ROWS = 5_000  # frequent words the "frequent" projection is fitted on


def _figure(width: float, height: float, layout: str | None = "constrained"):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def _render(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=100)
    return buffer.getvalue()


def principal_axes(basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, the two principal axes) of the rows of `basis`, from the d x d covariance (an
    SVD of 5,000 x 300 rows computes a 5,000 x 300 factor it does not need)."""
    mean = basis.mean(axis=0)
    centred = basis - mean
    values, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, ::-1][:, :2].T * (values[::-1][:2] > 1e-12)[:, None]
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros((2 - len(axes), basis.shape[1]))])
    return mean, axes


# Per loaded space, forgotten with it (a reload must not keep old versions mapped).
_FREQUENT_AXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _frequent_axes(space) -> tuple[np.ndarray, np.ndarray]:
    """The principal axes of a space's BASIS_ROWS most frequent words, once per space."""
    found = _FREQUENT_AXES.get(space)
    if found is None:
        found = _FREQUENT_AXES[space] = principal_axes(
            np.asarray(space.vectors[:BASIS_ROWS], dtype="float64"))
    return found


def words_plot(spaces: list, words: list[str], basis: str, fmt: str) -> bytes:
    """One panel per space, the words that space has projected to 2-D with PCA over those
    words (`basis="words"`, needs 3 of them) or over its most frequent words; the same word
    has the same colour in every panel."""
    import matplotlib

    # A fixed layout: the constrained one measures every label first, which doubled the
    # cost of a picture of 40 words in 4 spaces.
    fig = _figure(4.2 * len(spaces), 4.2, layout=None)
    fig.subplots_adjust(left=0.04, right=0.98, top=0.86, bottom=0.14, wspace=0.2)
    colors = matplotlib.colormaps["tab20"]
    panels = fig.subplots(1, len(spaces), squeeze=False)[0]
    for ax, space in zip(panels, spaces):
        rows = {w: space.find(w) for w in words}
        present = [w for w in words if rows[w] is not None]
        points = np.asarray(space.vectors[[rows[w] for w in present]], dtype="float64")
        use_words = basis == "words" and len(present) >= 3
        mean, axes = principal_axes(points) if use_words else _frequent_axes(space)
        xy = (points - mean) @ axes.T if len(present) else np.zeros((0, 2))
        order = {w: i for i, w in enumerate(words)}
        # The dark shades of tab20 first, then the light ones.
        shades = [colors((2 * order[w] + (order[w] // 10) % 2) % 20) for w in present]
        if present:
            ax.scatter(xy[:, 0], xy[:, 1], color=shades, s=30)  # one artist for all points
        for (x, y), w, color in zip(xy, present, shades):
            ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", color=color,
                        fontsize=9, parse_math=False)
        lacking = [w for w in words if rows[w] is None]
        title = f"{space.name}\nPCA over {'these words' if use_words else 'frequent words'}"
        ax.set_title(title, fontsize=10, parse_math=False)
        if lacking:
            ax.set_xlabel("absent: " + ", ".join(lacking)[:80], fontsize=8, parse_math=False)
        ax.tick_params(labelsize=7)
        ax.margins(0.15)
    return _render(fig, fmt)


def learning_curve_plot(curves: dict[str, dict], fmt: str) -> bytes:
    """Test accuracy against training texts, one line per initialisation (mean ± std over
    seeds), from the learning-curve experiment the build publishes in the catalog."""
    fig = _figure(6, 4)
    ax = fig.subplots()
    seen = set()
    for curve in curves.values():
        by_init: dict[str, list[dict]] = {}
        for row in curve.get("rows", []):
            by_init.setdefault(row["init"], []).append(row)
        for init, rows in by_init.items():
            if init in seen:
                continue
            seen.add(init)
            rows.sort(key=lambda r: r["size"])
            x = [r["size"] for r in rows]
            mean = np.array([r["mean"] for r in rows])
            std = np.array([r["std"] for r in rows])
            ax.plot(x, mean, marker="o", label=f"Embedding from {init}")
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training texts")
    ax.set_ylabel("test accuracy")
    ax.set_title("Task classifier: scratch vs word2vec initialisation")
    ax.legend()
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
