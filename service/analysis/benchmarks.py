"""The semantic benchmarks: WordSim353 and SimLex-999 (Spearman correlation with human
judgements) and the Google analogy set (3CosAdd and 3CosMul accuracy), read from the files
vendored beside this module (benchmark_data/: gensim's copies, with their sources and
licences), so nothing is downloaded and serving needs no test data of another package.

Words are case-folded to lower case before lookup (every default space is lower-cased).
The analogy candidates are the first `candidates` rows of a space (rows are in frequency
order in every format we read), as gensim's `restrict_vocab` does; a question counts only
when its four words are candidates. All questions are scored with matrix products over the
few hundred distinct question words, so the 19,544 questions take seconds, not minutes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

WORDSIM = "wordsim353.tsv"
SIMLEX = "simlex999.txt"
ANALOGIES = "questions-words.txt"
CANDIDATES = 30_000
_CHUNK = 128  # questions scored at once: 3 x 128 x 30k float32 = 46 MB


DATA = Path(__file__).resolve().parent / "benchmark_data"


def data_file(name: str) -> Path:
    """A benchmark file (WORDSIM, SIMLEX, ANALOGIES) of benchmark_data/."""
    return DATA / name


@lru_cache(maxsize=4)
def similarity_pairs(name: str) -> tuple[tuple[str, str, float], ...]:
    """(word, word, human score) of a WordSim353-style file, lower-cased."""
    pairs = []
    for line in data_file(name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        a, b, score = line.split("\t")[:3]
        pairs.append((a.lower(), b.lower(), float(score)))
    return tuple(pairs)


@lru_cache(maxsize=1)
def analogy_questions() -> tuple[tuple[str, tuple[str, str, str, str]], ...]:
    """(section, (a, b, c, d)) for every question, lower-cased; a : b :: c : d."""
    questions, section = [], ""
    for line in data_file(ANALOGIES).read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip():
            questions.append((section, tuple(line.lower().split())))
    return tuple(questions)


def is_syntactic(section: str) -> bool:
    return section.startswith("gram")


@lru_cache(maxsize=1)
def analogy_totals() -> dict[str, int]:
    """How many questions there are, overall and of each kind (counted once per process)."""
    questions = analogy_questions()
    syntactic = sum(is_syntactic(s) for s, _ in questions)
    return {"overall": len(questions), "semantic": len(questions) - syntactic,
            "syntactic": syntactic}


@dataclass
class Correlation:
    spearman: float | None  # None when fewer than 3 pairs are covered
    answered: int
    total: int


@dataclass(frozen=True)
class PairCosines:
    """The pairs of a benchmark file a space covers: their positions in the file, the human
    scores and the space's cosines (what the verdict compares two spaces on)."""
    pairs: np.ndarray   # int64 positions in similarity_pairs(name)
    human: np.ndarray   # float64
    model: np.ndarray   # float64 cosines


def pair_cosines(space, name: str, vocabulary: set[str] | None = None) -> PairCosines:
    """Cosine similarity of the pairs of file `name` whose two words are in the space (and in
    `vocabulary` when given)."""
    at, human, model = [], [], []
    for i, (a, b, score) in enumerate(similarity_pairs(name)):
        ra, rb = space.key_to_index.get(a), space.key_to_index.get(b)
        if ra is None or rb is None or (vocabulary is not None and not {a, b} <= vocabulary):
            continue
        at.append(i)
        human.append(score)
        model.append(float(space.vectors[ra] @ space.vectors[rb]))
    return PairCosines(np.array(at, dtype=np.int64), np.array(human, dtype="float64"),
                       np.array(model, dtype="float64"))


def word_similarity(space, name: str, vocabulary: set[str] | None = None) -> Correlation:
    """Spearman correlation between cosine similarity and the human scores of file `name`,
    over the pairs whose two words are in the space (and in `vocabulary` when given)."""
    covered = pair_cosines(space, name, vocabulary)
    rho = spearman(covered.human, covered.model) if len(covered.pairs) >= 3 else None
    return Correlation(rho, len(covered.pairs), len(similarity_pairs(name)))


def spearman(a, b) -> float | None:
    """Spearman's ρ: Pearson's r of the ranks, ties given their average rank (scipy's
    `spearmanr`, without importing scipy.stats: seconds per worker on a first request).
    None when either side is constant."""
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    ranks = np.empty(len(x))
    ranks[np.argsort(x, kind="mergesort")] = np.arange(1, len(x) + 1)
    _, tie, count = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(tie, weights=ranks) / count)[tie]


@dataclass
class Accuracy:
    accuracy: float | None  # among the answered questions; None when none is answered
    correct: int
    answered: int
    total: int


@dataclass
class AnalogyScores:
    methods: dict[str, dict[str, Accuracy]]  # method -> overall | semantic | syntactic
    candidates: int
    seconds: float
    settings: dict = field(default_factory=dict)


@lru_cache(maxsize=1)
def _question_arrays() -> tuple[list[str], np.ndarray, np.ndarray]:
    """The four-word questions as indexes into their distinct words, and which are syntactic
    (made once per process; a space's load then looks up only the distinct words)."""
    four = [(sec, q) for sec, q in analogy_questions() if len(q) == 4]
    words = sorted({w for _, q in four for w in q})
    number = {w: i for i, w in enumerate(words)}
    return (words, np.array([[number[w] for w in q] for _, q in four], dtype=np.int64).reshape(-1, 4),
            np.array([is_syntactic(sec) for sec, _ in four], dtype=bool))


def candidate_rows(space, limit: int = CANDIDATES) -> np.ndarray:
    return np.arange(min(limit, len(space)))


def analogies(space, rows: np.ndarray | None = None) -> AnalogyScores:
    """Google analogy accuracy with 3CosAdd and 3CosMul over candidate `rows` (by default
    the space's CANDIDATES most frequent rows); a, b and c are never an answer."""
    started = time.perf_counter()
    rows = candidate_rows(space) if rows is None else np.asarray(rows)
    position = {space.index_to_key[r]: i for i, r in enumerate(rows)}
    words, question_words, question_syntactic = _question_arrays()
    at = np.array([position.get(w, -1) for w in words], dtype=np.int64)[question_words]
    covered = (at >= 0).all(axis=1)
    kept = at[covered]  # the questions whose four words are candidates, in file order
    counts = {m: {"overall": [0, 0], "semantic": [0, 0], "syntactic": [0, 0]}
              for m in ("3cosadd", "3cosmul")}
    if len(kept):
        idx = kept
        used = np.unique(idx)
        where = np.searchsorted(used, idx)  # question words -> rows of S
        cand = np.ascontiguousarray(space.vectors[rows])
        S = cand[used] @ cand.T           # (distinct question words, candidates)
        syntactic = question_syntactic[covered]
        for method in counts:
            right = np.zeros(len(kept), dtype=bool)
            if method == "3cosadd":
                first = second = third = S
            else:  # Levy and Goldberg's shift of cosines to [0, 1], eps = 1e-3
                first = (S + 1) / 2
                second, third = first, 1 / (first + 1e-3)
            for lo in range(0, len(kept), _CHUNK):
                w, q = where[lo:lo + _CHUNK], idx[lo:lo + _CHUNK]
                score = first[w[:, 1]]
                if method == "3cosadd":
                    score += second[w[:, 2]]
                    score -= third[w[:, 0]]
                else:
                    score *= second[w[:, 2]]
                    score *= third[w[:, 0]]
                n = np.arange(len(w))
                for j in range(3):
                    score[n, q[:, j]] = -np.inf
                right[lo:lo + _CHUNK] = score.argmax(axis=1) == q[:, 3]
            for part, mask in (("overall", np.ones_like(syntactic)), ("semantic", ~syntactic),
                               ("syntactic", syntactic)):
                counts[method][part] = [int(right[mask].sum()), int(mask.sum())]
    totals = analogy_totals()
    methods = {m: {part: Accuracy(c / n if n else None, c, n, totals[part])
                   for part, (c, n) in parts.items()} for m, parts in counts.items()}
    return AnalogyScores(methods, len(rows), round(time.perf_counter() - started, 3))
