"""Every route of the service as a description of one request and how to read its answer.

Both clients send these: `Client` with httpx.Client, `AsyncClient` with httpx.AsyncClient, so
the two cannot drift apart. A `Batched` is a list too long for one request: it is split to the
server's limits (count and body size) and the answers are joined back in input order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar
from urllib.parse import quote

from wordspace_client import comparisons as cmp
from wordspace_client.errors import UnknownWord
from wordspace_client.results import (Embedding, Evaluation, Limits, Neighbor, Neighbors,
                                      PairSimilarity, Readiness, SpaceInfo, Vector, WordPage)

T = TypeVar("T")

# Room left in each body for everything but the list being split (k, candidates, ...).
_BODY_MARGIN = 1024


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict | None = None
    body: Any = None
    raw: bool = False  # the answer is bytes (an image), not JSON
    retry: bool = True  # safe to send again (every query is; a reload is not)
    accept: tuple[int, ...] = (200,)  # statuses that are answers rather than errors


@dataclass(frozen=True)
class Batched(Generic[T]):
    """`items` sent in as few requests as the limits allow; `call(chunk)` makes one request,
    `combine(answers)` joins the parsed answers in order."""
    items: list
    call: Callable[[list], Call]
    combine: Callable[[list], T]
    results_per_item: int = 1  # k for neighbours: the server allows max_results per request

    def calls(self, limits: Limits) -> list[Call]:
        room = limits.max_body_bytes - len(json.dumps(self.call([]).body)) - _BODY_MARGIN
        most = max(1, min(limits.max_batch, limits.max_results // self.results_per_item))
        chunks, chunk, size = [], [], 0
        for item in self.items:
            item_size = len(json.dumps(item)) + 2
            if chunk and (len(chunk) == most or size + item_size > room):
                chunks.append(chunk)
                chunk, size = [], 0
            chunk.append(item)
            size += item_size
        if chunk or not chunks:
            chunks.append(chunk)
        return [self.call(c) for c in chunks]


def _flatten(parts: list[list]) -> list:
    return [x for part in parts for x in part]


def _path(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


def _space(space: str, *rest: str) -> str:
    return "/v1/spaces/" + _path(space, *rest)


def _options(**values) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _names(spaces: Sequence[str] | None) -> str | None:
    return ",".join(spaces) if spaces else None


# --- service -----------------------------------------------------------------------------

def health() -> Call[bool]:
    return Call("GET", "/healthz", lambda d: d.get("status") == "ok")


def ready() -> Call[Readiness]:
    return Call("GET", "/readyz", Readiness.from_json, accept=(200, 503))


def reload() -> Call[dict]:
    return Call("POST", "/v1/admin/reload", lambda d: d, retry=False, accept=(200, 202))


def spaces() -> Call[list[SpaceInfo]]:
    return Call("GET", "/v1/spaces", lambda d: [SpaceInfo.from_json(s) for s in d["spaces"]])


def limits() -> Call[Limits]:
    return Call("GET", "/v1/spaces", lambda d: Limits.from_json(d.get("limits")))


# --- one space ---------------------------------------------------------------------------

def space_info(space: str) -> Call[SpaceInfo]:
    return Call("GET", _space(space), SpaceInfo.from_json)


def neighbors(space: str, word: str, k: int, candidates=None, restrict_vocab=None) -> Call[Neighbors]:
    if candidates is not None:
        body = _options(words=[word], k=k, candidates=list(candidates), restrict_vocab=restrict_vocab)
        return Call("POST", _space(space, "neighbors"),
                    lambda d: _found_or_raise(space, Neighbors.from_json(d["results"][0])), body=body)
    return Call("GET", _space(space, "neighbors"), Neighbors.from_json,
                params=_options(word=word, k=k, restrict_vocab=restrict_vocab))


def _found_or_raise(space: str, result: Neighbors) -> Neighbors:
    # A batch answers found=false for a missing word; a single-word call raises as GET does.
    if not result.found:
        raise UnknownWord(f"'{result.word}' is not in space '{space}'", status=404,
                          problem={"word": result.word, "space": space})
    return result


def neighbors_batch(space: str, key: str, items: list, k: int, candidates=None,
                    restrict_vocab=None) -> Batched[list[Neighbors]]:
    """`key` is "words" or "vectors"."""
    extra = _options(k=k, candidates=list(candidates) if candidates is not None else None,
                     restrict_vocab=restrict_vocab)

    def call(chunk):
        return Call("POST", _space(space, "neighbors"),
                    lambda d: [Neighbors.from_json(r) for r in d["results"]],
                    body={key: chunk, **extra})
    return Batched(items, call, _flatten, results_per_item=k)


def analogy(space: str, positive: list[str], negative: list[str], k: int, method: str,
            candidates=None, restrict_vocab=None) -> Call[list[Neighbor]]:
    body = _options(positive=list(positive), negative=list(negative), k=k, method=method,
                    candidates=list(candidates) if candidates is not None else None,
                    restrict_vocab=restrict_vocab)
    return Call("POST", _space(space, "analogy"), lambda d: Neighbor.many(d["answers"]), body=body)


def similarity(space: str, a: str, b: str) -> Call[float]:
    return Call("GET", _space(space, "similarity"), lambda d: float(d["similarity"]),
                params={"a": a, "b": b})


def rank(space: str, a: str, b: str) -> Call[int]:
    return Call("GET", _space(space, "similarity"), lambda d: int(d["rank"]),
                params={"a": a, "b": b, "rank": "true"})


def similarities(space: str, pairs: list) -> Batched[list[PairSimilarity]]:
    def call(chunk):
        return Call("POST", _space(space, "similarity"),
                    lambda d: [PairSimilarity.from_json(r) for r in d["results"]],
                    body={"pairs": chunk})
    return Batched([list(p) for p in pairs], call, _flatten)


def vector(space: str, word: str) -> Call[Vector]:
    return Call("GET", _space(space, "vectors", word), Vector.from_json)


def vectors(space: str, words: list[str]) -> Batched[list[Vector]]:
    def call(chunk):
        return Call("POST", _space(space, "vectors"),
                    lambda d: [Vector.from_json(r) for r in d["results"]], body={"words": chunk})
    return Batched(list(words), call, _flatten)


def embed(space: str, texts: list[str]) -> Batched[list[Embedding]]:
    def call(chunk):
        return Call("POST", _space(space, "embed"),
                    lambda d: [Embedding.from_json(r) for r in d["results"]], body={"texts": chunk})
    return Batched(list(texts), call, _flatten)


def words(space: str, prefix: str | None, offset: int, limit: int) -> Call[WordPage]:
    return Call("GET", _space(space, "words"), WordPage.from_json,
                params=_options(prefix=prefix or None, offset=offset, limit=limit))


def export(space: str, format: str, limit: int | None) -> Call[bytes]:
    return Call("GET", _space(space, "export"), lambda b: b, raw=True,
                params=_options(format=format, limit=limit))


def evaluation(space: str, refresh: bool) -> Call[Evaluation]:
    return Call("GET", _space(space, "evaluation"), Evaluation.from_json,
                params={"refresh": "true"} if refresh else None)


# --- several spaces ----------------------------------------------------------------------

def compare_neighbors(word: str, k: int, spaces) -> Call[cmp.NeighborComparison]:
    return Call("GET", "/v1/compare/neighbors", cmp.NeighborComparison.from_json,
                params=_options(word=word, k=k, spaces=_names(spaces)))


def compare_similarity(pairs: list, spaces) -> Batched[cmp.SimilarityTable]:
    def call(chunk):
        return Call("POST", "/v1/compare/similarity", cmp.SimilarityTable.from_json,
                    body=_options(pairs=chunk, spaces=list(spaces) if spaces else None))

    def combine(tables):
        return cmp.SimilarityTable(tables[0].spaces, _flatten([t.rows for t in tables]))
    return Batched([list(p) for p in pairs], call, combine)


def compare_spaces(a: str, b: str, k: int, sample: int | None, seed: int | None,
                   n: int | None) -> Call[cmp.SpaceComparison]:
    return Call("GET", "/v1/compare/spaces", cmp.SpaceComparison.from_json,
                params=_options(a=a, b=b, k=k, sample=sample, seed=seed, n=n))


def compare_analogy(a, b, c, k, method, expected, spaces) -> Call[cmp.AnalogyComparison]:
    return Call("GET", "/v1/compare/analogy", cmp.AnalogyComparison.from_json,
                params=_options(a=a, b=b, c=c, k=k, method=method, expected=expected,
                                spaces=_names(spaces)))


def compare_sentences(sentences: list[str], spaces) -> Call[cmp.SentenceComparison]:
    return Call("POST", "/v1/compare/sentences", cmp.SentenceComparison.from_json,
                body=_options(sentences=list(sentences), spaces=list(spaces) if spaces else None))


def compare_evaluation(spaces, refresh: bool) -> Call[cmp.EvaluationComparison]:
    return Call("GET", "/v1/compare/evaluation", cmp.EvaluationComparison.from_json,
                params=_options(spaces=_names(spaces), refresh="true" if refresh else None))


def align(source: str, target: str) -> Call[cmp.Alignment]:
    return Call("GET", "/v1/compare/align", cmp.Alignment.from_json,
                params={"source": source, "target": target})


def translate(word: str, source: str, target: str, k: int) -> Call[cmp.Translation]:
    return Call("GET", "/v1/compare/translate", cmp.Translation.from_json,
                params={"word": word, "source": source, "target": target, "k": k})


def drift(source: str, target: str, n: int) -> Call[cmp.Drift]:
    return Call("GET", "/v1/compare/drift", cmp.Drift.from_json,
                params={"source": source, "target": target, "n": n})


def plot(path: str, fmt: str, spaces, **params) -> Call[bytes]:
    return Call("GET", "/v1/compare/" + path, lambda b: b, raw=True,
                params=_options(format=fmt, spaces=_names(spaces), **params))
