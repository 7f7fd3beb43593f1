"""Tables with known structure for the tests: the toy table (analogies and a mountain cluster
exact by construction), WordSim353/analogy tables whose benchmark scores are known, and a
synthetic sentiment task with tables that do or do not separate it."""
from __future__ import annotations

from collections import Counter

import numpy as np

from service.analysis import benchmarks
from service.store.tables import Table


def toy_table(n_noise: int = 300, dim: int = 16, seed: int = 0) -> Table:
    """A table with known structure: king - man + woman = queen exactly, a cluster of
    mountain words near each other, a mixed-case key, and seeded noise words."""
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    person, male, female, royal, mountain = axes[:5]
    words = {
        "man": person + male,
        "woman": person + female,
        "king": person + male + 1.5 * royal,
        "queen": person + female + 1.5 * royal,
        "alps": 3 * mountain + 0.2 * axes[5],
        "pyrenees": 3 * mountain + 0.25 * axes[6],
        "himalaya": 3 * mountain + 0.3 * axes[7],
        "Paris": 2 * axes[8] + axes[9],
    }
    keys = list(words)
    vectors = [words[k] for k in keys]
    for i in range(n_noise):
        keys.append(f"noise{i}")
        vectors.append(rng.normal(size=dim) * 0.5 + 2 * axes[10 + i % 6])
    return Table(keys, np.array(vectors, dtype="float32"))



DIM = 256


def unit_vector(rng, dim=DIM):
    v = rng.normal(size=dim)
    return v / np.linalg.norm(v)


def bench_table(seed: int = 0, drop: tuple[str, ...] = ()) -> tuple[Table, int]:
    """WordSim353 pairs with disjoint words whose cosine rises with the human score (Spearman
    1 on them), plus the capital-common-countries analogies as capital = country + offset.
    Returns the table and how many WordSim353 pairs it covers."""
    rng = np.random.default_rng(seed)
    words: dict[str, np.ndarray] = {}
    pairs = benchmarks.similarity_pairs(benchmarks.WORDSIM)
    uses = Counter(w for a, b, _ in pairs for w in (a, b))
    for a, b, score in pairs:  # only pairs of words used once, so no other pair is covered
        if uses[a] > 1 or uses[b] > 1 or a in drop or b in drop:
            continue
        u, v = unit_vector(rng), unit_vector(rng)
        v -= (v @ u) * u
        angle = (1 - score / 10) * np.pi / 2
        words[a], words[b] = u, np.cos(angle) * u + np.sin(angle) * v / np.linalg.norm(v)
    covered = len(words) // 2
    offset = 0.8 * unit_vector(rng)
    for section, (capital, country, _, _) in benchmarks.analogy_questions():
        if section != "capital-common-countries":
            break
        words.setdefault(country, unit_vector(rng))
        words.setdefault(capital, words[country] + offset)
    keys = [k for k in words if k not in drop]
    return Table(keys, np.array([words[k] for k in keys], dtype="float32")), covered


def task_texts(n: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    good, bad = ["good", "great", "superb", "lovely"], ["bad", "awful", "dull", "poor"]
    neutral = ["the", "film", "plot", "actor", "story", "scene"]
    texts, labels = [], []
    for i in range(n):
        label = "fresh" if i % 2 else "rotten"
        pool = good if label == "fresh" else bad
        texts.append(" ".join(rng.choice(neutral, 4).tolist() + rng.choice(pool, 2).tolist()))
        labels.append(label)
    return texts, labels


def task_table(separated: bool, seed: int = 0) -> Table:
    rng = np.random.default_rng(seed)
    axis = unit_vector(rng, 32)
    keys = ["good", "great", "superb", "lovely", "bad", "awful", "dull", "poor",
            "the", "film", "plot", "actor", "story", "scene"]
    vectors = []
    for i, _ in enumerate(keys):
        sign = 1 if i < 4 else -1 if i < 8 else 0
        vectors.append(unit_vector(rng, 32) + (3 * sign * axis if separated else 0))
    return Table(keys, np.array(vectors, dtype="float32"))
