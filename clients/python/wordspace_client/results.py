"""Typed results: small frozen dataclasses made from the server's JSON, one per answer shape.

`from_json` reads the fields it knows and ignores the rest, so a newer server that adds a
field does not break an older client.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _known(cls, data: dict, **nested) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    values.update(nested)
    return cls(**values)


@dataclass(frozen=True)
class Limits:
    """What one request may hold; the batch helpers split long lists to fit."""
    max_k: int = 1000
    max_batch: int = 1024
    max_body_bytes: int = 1024 * 1024
    max_word_length: int = 200
    max_text_length: int = 10000
    max_page: int = 10000
    max_results: int = 20000  # k x items per request

    @classmethod
    def from_json(cls, data: dict | None) -> "Limits":
        return _known(cls, data or {})


@dataclass(frozen=True)
class SpaceInfo:
    name: str
    kind: str
    dimension: int
    size: int
    factory: str
    metric: str
    exact: bool
    source: dict = field(default_factory=dict)
    search_params: dict = field(default_factory=dict)
    recall_at_10: float | None = None
    built_at: str | None = None
    details: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> "SpaceInfo":
        return _known(cls, data)


@dataclass(frozen=True)
class Neighbor:
    word: str
    score: float
    rank: int

    @classmethod
    def many(cls, items: list[dict]) -> list["Neighbor"]:
        return [cls(n["word"], float(n["score"]), int(n["rank"])) for n in items]


@dataclass(frozen=True)
class Neighbors:
    """The neighbours of one query: a word (`word`, the `key` that matched) or a vector."""
    neighbors: list[Neighbor]
    word: str | None = None
    key: str | None = None
    found: bool = True

    @classmethod
    def from_json(cls, data: dict) -> "Neighbors":
        return cls(Neighbor.many(data["neighbors"]), data.get("word"), data.get("key"),
                   data.get("found", True))

    @property
    def words(self) -> list[str]:
        return [n.word for n in self.neighbors]


@dataclass(frozen=True)
class PairSimilarity:
    a: str
    b: str
    similarity: float | None
    missing: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> "PairSimilarity":
        return _known(cls, data)


@dataclass(frozen=True)
class Vector:
    """A word's stored vector (as read, before normalisation), its norm and its row."""
    word: str
    found: bool = True
    key: str | None = None
    index: int | None = None
    vector: list[float] | None = None
    norm: float | None = None

    @classmethod
    def from_json(cls, data: dict) -> "Vector":
        return _known(cls, {"found": True, **data})


@dataclass(frozen=True)
class Embedding:
    """A sentence vector, the number of tokens that went into it, and the tokens missing."""
    vector: list[float]
    tokens: int
    missing: list[str]

    @classmethod
    def from_json(cls, data: dict) -> "Embedding":
        return _known(cls, data)


@dataclass(frozen=True)
class WordPage:
    """One page of a space's words, most frequent first."""
    space: str
    words: list[str]
    offset: int
    limit: int
    total: int
    prefix: str = ""

    @classmethod
    def from_json(cls, data: dict) -> "WordPage":
        return _known(cls, {"prefix": "", **data})


@dataclass(frozen=True)
class Correlation:
    spearman: float | None
    answered: int
    total: int


@dataclass(frozen=True)
class Evaluation:
    """A space's scorecard; the sections the client does not type are plain dicts."""
    space: str
    rows: int
    wordsim353: Correlation
    simlex999: Correlation
    analogy: dict
    geometry: dict
    task: dict
    data: dict = field(repr=False, default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> "Evaluation":
        return cls(data["space"], data["rows"], _known(Correlation, data["wordsim353"]),
                   _known(Correlation, data["simlex999"]), data["analogy"], data["geometry"],
                   data["task"], data)


@dataclass(frozen=True)
class Readiness:
    ready: bool
    spaces: dict

    @classmethod
    def from_json(cls, data: dict) -> "Readiness":
        return _known(cls, data)
