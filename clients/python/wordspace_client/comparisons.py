"""Typed results of the /v1/compare routes: several spaces side by side."""
from __future__ import annotations

from dataclasses import dataclass, field

from wordspace_client.results import Evaluation, Neighbor, _known


@dataclass(frozen=True)
class RankedNeighbor:
    """A neighbour in one space, with its rank around the same word in the other spaces."""
    word: str
    score: float
    rank: int
    ranks: dict[str, int | None]


@dataclass(frozen=True)
class SpaceNeighbors:
    space: str
    found: bool
    neighbors: list[RankedNeighbor]
    key: str | None = None
    suggestions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Overlap:
    a: str
    b: str
    jaccard: float
    rbo: float
    shared: list[str]


@dataclass(frozen=True)
class NeighborComparison:
    word: str
    k: int
    spaces: list[SpaceNeighbors]
    pairs: list[Overlap]
    shared: list[str]
    absent: list[str]

    @classmethod
    def from_json(cls, data: dict) -> "NeighborComparison":
        spaces = [_known(SpaceNeighbors, s, neighbors=[_known(RankedNeighbor, n) for n in s["neighbors"]])
                  for s in data["spaces"]]
        return cls(data["word"], data["k"], spaces, [_known(Overlap, p) for p in data["pairs"]],
                   data["shared"], data["absent"])


@dataclass(frozen=True)
class SimilarityRow:
    """One pair and its cosine similarity in each space (None where a word is missing)."""
    a: str
    b: str
    scores: dict[str, float | None]
    missing: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SimilarityTable:
    spaces: list[str]
    rows: list[SimilarityRow]

    @classmethod
    def from_json(cls, data: dict) -> "SimilarityTable":
        return cls(data["spaces"], [_known(SimilarityRow, r) for r in data["results"]])

    def score(self, a: str, b: str, space: str) -> float | None:
        for row in self.rows:
            if (row.a, row.b) == (a, b):
                return row.scores[space]
        raise KeyError(f"pair {a}:{b} is not in the table")


@dataclass(frozen=True)
class WordAgreement:
    """How far one word's k nearest neighbours agree between two spaces."""
    word: str
    jaccard: float
    neighbors_a: list[str]
    neighbors_b: list[str]


@dataclass(frozen=True)
class HistogramBin:
    overlap: int  # neighbours in common, 0..k
    jaccard: float
    words: int


@dataclass(frozen=True)
class SpaceComparison:
    """Jaccard overlap of every shared word's k nearest neighbours in two spaces."""
    a: str
    b: str
    k: int
    shared: int
    compared: int
    mean_jaccard: float
    median_jaccard: float
    histogram: list[HistogramBin]
    most_similar: list[WordAgreement]
    least_similar: list[WordAgreement]
    seconds: float
    sample: int | None = None
    seed: int | None = None

    @classmethod
    def from_json(cls, data: dict) -> "SpaceComparison":
        return _known(cls, data, histogram=[_known(HistogramBin, h) for h in data["histogram"]],
                      most_similar=[_known(WordAgreement, w) for w in data["most_similar"]],
                      least_similar=[_known(WordAgreement, w) for w in data["least_similar"]])


@dataclass(frozen=True)
class SpaceAnalogy:
    space: str
    found: bool
    answers: list[Neighbor]
    missing: list[str]
    expected_rank: int | None


@dataclass(frozen=True)
class AnalogyComparison:
    a: str
    b: str
    c: str
    k: int
    method: str
    expected: str | None
    spaces: list[SpaceAnalogy]

    @classmethod
    def from_json(cls, data: dict) -> "AnalogyComparison":
        spaces = [_known(SpaceAnalogy, s, answers=Neighbor.many(s["answers"])) for s in data["spaces"]]
        return _known(cls, data, spaces=spaces)


@dataclass(frozen=True)
class SpaceSentences:
    space: str
    vectors: list[list[float]]
    similarity: list[list[float | None]]
    missing: list[list[str]]
    found: list[int]


@dataclass(frozen=True)
class SentenceComparison:
    sentences: list[str]
    spaces: list[SpaceSentences]

    @classmethod
    def from_json(cls, data: dict) -> "SentenceComparison":
        return cls(data["sentences"], [_known(SpaceSentences, s) for s in data["spaces"]])


@dataclass(frozen=True)
class Alignment:
    """An orthogonal Procrustes map from source to target and how well it fits."""
    source: str
    target: str
    shared: int
    fit_words: int
    heldout_words: int
    fit_cosine: float
    heldout_cosine: float | None
    heldout_precision_at_1: float | None
    residual: float
    seconds: float

    @classmethod
    def from_json(cls, data: dict) -> "Alignment":
        return _known(cls, data)


@dataclass(frozen=True)
class Translation:
    source: str
    target: str
    k: int
    word: str
    neighbors: list[Neighbor]
    self_rank: int | None
    self_cosine: float | None
    alignment: Alignment

    @classmethod
    def from_json(cls, data: dict) -> "Translation":
        return _known(cls, data, neighbors=Neighbor.many(data["neighbors"]),
                      alignment=Alignment.from_json(data["alignment"]))


@dataclass(frozen=True)
class DriftWord:
    word: str
    cosine: float
    frequency_rank: int
    source_neighbors: list[str]
    target_neighbors: list[str]


@dataclass(frozen=True)
class Drift:
    source: str
    target: str
    n: int
    words: list[DriftWord]
    alignment: Alignment

    @classmethod
    def from_json(cls, data: dict) -> "Drift":
        return _known(cls, data, words=[_known(DriftWord, w) for w in data["words"]],
                      alignment=Alignment.from_json(data["alignment"]))


@dataclass(frozen=True)
class SharedScores:
    """The benchmarks on the vocabulary every compared space has (None for one space)."""
    spaces: list[str]
    vocabulary: int
    candidates: int
    scores: dict
    settings: dict = field(default_factory=dict)
    seconds: float | None = None


@dataclass(frozen=True)
class EvaluationComparison:
    spaces: list[Evaluation]
    shared: SharedScores | None

    @classmethod
    def from_json(cls, data: dict) -> "EvaluationComparison":
        shared = _known(SharedScores, data["shared"]) if data.get("shared") else None
        return cls([Evaluation.from_json(e) for e in data["spaces"]], shared)
