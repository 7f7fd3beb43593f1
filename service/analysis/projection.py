"""Words projected to 2-D in each space, for pictures that never break: each space projects
the words it has, and says which it lacks.

Two ways to choose the words: a list given by the user (the same words in every space), or
one word and its own k nearest neighbours in each space. The projection is PCA over the
projected words themselves (when at least 3 are present) or over the space's most frequent
words; axis signs are fixed (the largest loading of each axis is positive) so the same
request draws the same picture. service/analysis/plots.py draws these; the page draws them
from /v1/compare/projection.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

BASIS_ROWS = 5_000  # frequent words the "frequent" projection is fitted on
MIN_WORDS_BASIS = 3  # fewer present words than this: fit on the frequent words


@dataclass
class Point:
    word: str
    x: float
    y: float


@dataclass
class SpaceProjection:
    space: str
    basis: str                 # "words" (PCA over the projected words) or "frequent"
    points: list[Point] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # asked for, not in this space


def principal_axes(basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, the two principal axes, signed) of the rows of `basis`, from the d x d
    covariance: an SVD of 5,000 x 300 rows computes a 5,000 x 300 factor nobody needs, and
    took seconds of a request."""
    mean = basis.mean(axis=0)
    centred = basis - mean
    values, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, ::-1][:, :2].T * (values[::-1][:2] > 1e-12)[:, None]
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros((2 - len(axes), basis.shape[1]))])
    signs = np.sign(axes[np.arange(2), np.argmax(np.abs(axes), axis=1)])
    return mean, axes * np.where(signs == 0, 1, signs)[:, None]


# Per loaded space, forgotten with it (a reload must not keep old versions mapped).
_FREQUENT_AXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def frequent_axes(space) -> tuple[np.ndarray, np.ndarray]:
    """The principal axes of a space's BASIS_ROWS most frequent words, computed once."""
    found = _FREQUENT_AXES.get(space)
    if found is None:
        found = _FREQUENT_AXES[space] = principal_axes(
            np.asarray(space.vectors[:BASIS_ROWS], dtype="float64"))
    return found


def project(space, words: list[str], basis: str = "words") -> SpaceProjection:
    """The words `space` has among `words`, in 2-D; the others listed as absent."""
    rows = {w: space.find(w) for w in words}
    present = [w for w in words if rows[w] is not None]
    absent = [w for w in words if rows[w] is None]
    if not present:
        return SpaceProjection(space.name, basis, [], absent)
    points = np.asarray(space.vectors[[rows[w] for w in present]], dtype="float64")
    used = "words" if basis == "words" and len(present) >= MIN_WORDS_BASIS else "frequent"
    mean, axes = principal_axes(points) if used == "words" else frequent_axes(space)
    xy = (points - mean) @ axes.T
    return SpaceProjection(space.name, used,
                           [Point(w, float(x), float(y)) for w, (x, y) in zip(present, xy)],
                           absent)


def project_neighbors(space, word: str, k: int, basis: str = "words") -> SpaceProjection:
    """`word` and its own k nearest neighbours in `space` (absent: just the word)."""
    row = space.find(word)
    if row is None:
        return SpaceProjection(space.name, basis, [], [word])
    found = space.neighbors([row], k)[0]
    return project(space, [space.index_to_key[row]] + [n.word for n in found], basis)


def absent_from(projections: list[SpaceProjection]) -> dict[str, list[str]]:
    """Each missing word once, with the spaces that lack it."""
    lacking: dict[str, list[str]] = {}
    for p in projections:
        for w in p.absent:
            lacking.setdefault(w, []).append(p.space)
    return lacking
