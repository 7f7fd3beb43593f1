"""The same query put to several spaces at once: neighbours, analogies, sentence similarities.

Each function takes loaded Space objects and returns dataclasses; a space that lacks a word
gets a result saying so instead of failing the whole comparison. JSON is made in
service/web/compare.py. Pairs of words get their cosine in every space in one table, and a
word no space has gets the close spellings of every space.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from service.analysis.overlap import RBO_P, jaccard, ranks_of, rbo
from service.analysis.sentence_vectors import cosine_matrix, model_vectors
from service.store.embed import describe
from service.store.search import Neighbor


@dataclass
class RankedNeighbor:
    word: str
    score: float
    rank: int
    ranks: dict[str, int | None]  # the word's rank around W in each other space; None: absent


@dataclass
class SpaceNeighbors:
    space: str
    found: bool
    key: str | None = None
    neighbors: list[RankedNeighbor] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


@dataclass
class PairOverlap:
    a: str
    b: str
    jaccard: float
    rbo: float
    shared: list[str]


@dataclass
class NeighborComparison:
    word: str
    k: int
    p: float
    spaces: list[SpaceNeighbors]
    absent: list[str]       # compared spaces that lack the word
    shared: list[str]       # words in every found space's list, in the first one's order
    pairs: list[PairOverlap]
    suggestions: list[str] = field(default_factory=list)  # close spellings in the absent spaces


def compare_neighbors(spaces: list, word: str, k: int, p: float = RBO_P) -> NeighborComparison:
    """Each space's k neighbours of `word`, each neighbour's exact rank in the other spaces
    (None when the other space lacks it), and Jaccard@k and RBO for every pair of spaces."""
    rows = {s.name: s.find(word) for s in spaces}
    have = [s for s in spaces if rows[s.name] is not None]
    scores = {s.name: np.asarray(s.vectors @ s.vectors[rows[s.name]]) for s in have}
    lists = {s.name: s.neighbors([rows[s.name]], k)[0] for s in have}
    results = []
    close = {s.name: s.suggest(word) for s in spaces if rows[s.name] is None}
    for s in spaces:
        if rows[s.name] is None:
            results.append(SpaceNeighbors(s.name, False, suggestions=close[s.name]))
            continue
        others = {o.name: _cross_ranks(o, scores[o.name], rows[o.name], lists[s.name])
                  for o in have if o is not s}
        ranked = [RankedNeighbor(n.word, n.score, n.rank, {o: others[o][i] for o in others})
                  for i, n in enumerate(lists[s.name])]
        results.append(SpaceNeighbors(s.name, True, s.index_to_key[rows[s.name]], ranked))
    words = {name: [n.word for n in found] for name, found in lists.items()}
    first = words[have[0].name] if have else []
    shared = [w for w in first if all(w in ws for ws in words.values())]
    pairs = [PairOverlap(a, b, jaccard(words[a], words[b]), rbo(words[a], words[b], p),
                         [w for w in words[a] if w in set(words[b])])
             for a, b in combinations([s.name for s in have], 2)]
    return NeighborComparison(word, k, p, results, list(close), shared, pairs,
                              merge_suggestions(word, close.values()))


def suggest_everywhere(spaces: list, word: str) -> list[str]:
    """The closest spellings of `word` present in any of `spaces`."""
    return merge_suggestions(word, [s.suggest(word) for s in spaces])


def merge_suggestions(word: str, lists, limit: int = 5) -> list[str]:
    """Several spaces' suggestions as one list, closest first (edit distance, then how many
    spaces have the word)."""
    from rapidfuzz.distance import Levenshtein

    found: dict[str, int] = {}
    for keys in lists:
        for key in keys:
            found[key] = found.get(key, 0) + 1
    ranked = sorted(found, key=lambda key: (Levenshtein.distance(word.lower(), key.lower()),
                                            -found[key]))
    return ranked[:limit]


def _cross_ranks(space, scores: np.ndarray, row: int, neighbors: list[Neighbor]) -> list[int | None]:
    wanted = [space.find(n.word) for n in neighbors]
    present = [r for r in wanted if r is not None]
    found = iter(ranks_of(scores, present, exclude=[row]) if present else [])
    return [None if r is None else next(found) for r in wanted]


@dataclass
class SpaceAnalogy:
    space: str
    found: bool
    answers: list[Neighbor] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    expected_rank: int | None = None  # None: no expected word, or the space lacks it


def compare_analogy(spaces: list, a: str, b: str, c: str, k: int, method: str,
                    expected: str | None = None) -> list[SpaceAnalogy]:
    """a : b :: c : ? in every space, with the exact rank of `expected` among all words."""
    results = []
    for s in spaces:
        rows = {w: s.find(w) for w in (a, b, c)}
        missing = [w for w, r in rows.items() if r is None]
        if missing:
            results.append(SpaceAnalogy(s.name, False, missing=missing))
            continue
        ra, rb, rc = rows[a], rows[b], rows[c]
        answers = s.analogy([rb, rc], [ra], k, method)
        rank = None
        target = s.find(expected) if expected else None
        if target is not None:
            rank = ranks_of(analogy_scores(s.vectors, ra, rb, rc, method), [target],
                            exclude=[ra, rb, rc])[0]
        results.append(SpaceAnalogy(s.name, True, answers, expected_rank=rank))
    return results


def analogy_scores(vectors: np.ndarray, a: int, b: int, c: int, method: str) -> np.ndarray:
    """Every row's score for a : b :: c : ? (the order Space.analogy ranks by)."""
    sa, sb, sc = (np.asarray(vectors @ vectors[r]) for r in (a, b, c))
    if method == "3cosadd":
        return sb - sa + sc
    return ((sb + 1) / 2) * ((sc + 1) / 2) / ((sa + 1) / 2 + 1e-3)


@dataclass
class PairSimilarity:
    a: str
    b: str
    scores: dict[str, float | None]    # cosine per space; None where a word is missing
    missing: dict[str, list[str]]      # per space, the words of the pair it lacks


def compare_similarity(spaces: list, pairs: list[tuple[str, str]]) -> list[PairSimilarity]:
    """The cosine similarity of every pair in every space, in input order."""
    results = []
    for a, b in pairs:
        scores, missing = {}, {}
        for s in spaces:
            ra, rb = s.find(a), s.find(b)
            missing[s.name] = [w for w, r in ((a, ra), (b, rb)) if r is None]
            scores[s.name] = None if missing[s.name] else s.similarity(ra, rb)
        results.append(PairSimilarity(a, b, scores, missing))
    return results


@dataclass
class SpaceSentences:
    space: str
    vectors: list[list[float]]
    similarity: list[list[float | None]]
    missing: list[list[str]]
    found: list[int]
    computed: str          # what a sentence vector of this space is (service/store/embed.py)
    exact: bool | None     # exactly the model's pooled vector; null for a word space


def compare_sentences(spaces: list, sentences: list[str]) -> list[SpaceSentences]:
    """Each space's sentence vectors and their pairwise cosine similarity matrix."""
    results = []
    for s in spaces:
        e = model_vectors(s, sentences)
        what = describe(s)
        results.append(SpaceSentences(s.name, e.vectors.tolist(), cosine_matrix(e.vectors),
                                      e.missing, e.found, what["computed"], what["exact"]))
    return results
