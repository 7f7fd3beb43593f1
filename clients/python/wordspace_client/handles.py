"""The methods both clients offer, written once: each is one request or one batch.

`Client` runs them and returns the result; `AsyncClient` runs them and returns an awaitable
of the same result. What needs several round trips (paging, downloads) is written for each
client in client.py and async_client.py.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from wordspace_client import calls, transport
from wordspace_client import comparisons as cmp
from wordspace_client.results import (Embedding, Evaluation, Limits, Neighbor, Neighbors,
                                      PairSimilarity, Readiness, SpaceInfo, Vector, WordPage)


def _plain(values) -> list:
    """numpy arrays and tuples to lists, for JSON."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _is_one_vector(value) -> bool:
    first = value[0] if len(value) else None
    return first is not None and not hasattr(first, "__len__")


class ClientCalls:
    """What both clients share: their settings, and the service-wide methods (with
    AsyncClient each returns an awaitable). A client sets the httpx class it sends with and
    its compare handle's class.

    Args:
        url: the server, default WORDSPACE_URL or http://localhost:8000.
        api_key: sent as a bearer token, default WORDSPACE_API_KEY.
        timeout: seconds to wait for each answer.
        retries: how many times to try again on 429, 502, 503, 504 or a failed connection
            (default 0: retries are opt-in); waits follow Retry-After, else `backoff` doubled.
        batch_size: most items per request in batch calls (default the server's limit).
    """

    _http_class: type
    _compare_class: type

    def __init__(self, url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 30.0, retries: int = 0, backoff: float = 0.5,
                 batch_size: int | None = None):
        self._opts = transport.options(url, api_key, timeout, retries, backoff)
        self._http = self._http_class(base_url=self._opts.url, headers=self._opts.headers,
                                      timeout=timeout)
        self._batch_size = batch_size
        self._limits = None
        self.compare = self._compare_class(self)

    @property
    def url(self) -> str:
        return self._opts.url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _run(self, call):  # pragma: no cover - each client defines it
        raise NotImplementedError

    def _with_batch_size(self, limits: Limits) -> Limits:
        """The server's limits, with max_batch lowered to the client's batch_size if given."""
        if self._batch_size is None:
            return limits
        if self._batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        return dataclasses.replace(limits, max_batch=min(self._batch_size, limits.max_batch))

    def health(self) -> bool:
        """True while the server process is up (GET /healthz)."""
        return self._run(calls.health())

    def ready(self) -> Readiness:
        """Whether every configured space is loaded, with each space's state (GET /readyz)."""
        return self._run(calls.ready())

    def spaces(self) -> list[SpaceInfo]:
        """Every loaded space with its metadata (GET /v1/spaces)."""
        return self._run(calls.spaces())

    def reload(self) -> dict:
        """Ask the server to re-read its catalog (needs an API key; POST /v1/admin/reload)."""
        return self._run(calls.reload())


class SpaceCalls:
    """A handle on one space; no request is made until a method is called."""

    def __init__(self, client, name: str):
        self._client = client
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _run(self, call):
        return self._client._run(call)

    def info(self) -> SpaceInfo:
        return self._run(calls.space_info(self.name))

    def neighbors(self, word_or_words: str | Sequence[str], k: int = 10, *, candidates=None,
                  restrict_vocab: int | None = None) -> Neighbors | list[Neighbors]:
        """The k nearest words to a word (a Neighbors), or to each of many words (a list, in
        order; a missing word gives found=False instead of failing the batch).

        `candidates` restricts the answers to those words; `restrict_vocab=N` to the N most
        frequent words (gensim's meaning). Both are searched exactly.

        Raises:
            UnknownWord: a single word the space lacks.
        """
        if isinstance(word_or_words, str):
            return self._run(calls.neighbors(self.name, word_or_words, k, candidates, restrict_vocab))
        return self._run(calls.neighbors_batch(self.name, "words", list(word_or_words), k,
                                               candidates, restrict_vocab))

    def neighbors_by_vector(self, vector_or_vectors, k: int = 10, *, candidates=None,
                            restrict_vocab: int | None = None) -> Neighbors | list[Neighbors]:
        """The k nearest words to a vector (a Neighbors) or to each of many (a list)."""
        values = _plain(vector_or_vectors)
        one = _is_one_vector(values)
        rows = [values] if one else [_plain(v) for v in values]
        found = self._run(calls.neighbors_batch(self.name, "vectors", rows, k, candidates,
                                                restrict_vocab))
        return _first(found) if one else found

    def analogy(self, positive: Sequence[str], negative: Sequence[str] = (), k: int = 10, *,
                method: str = "3cosadd", candidates=None,
                restrict_vocab: int | None = None) -> list[Neighbor]:
        """Words nearest to positive minus negative (gensim style): man : king :: woman : ?
        is analogy(["king", "woman"], ["man"]). `method` is 3cosadd or 3cosmul."""
        return self._run(calls.analogy(self.name, list(positive), list(negative), k, method,
                                       candidates, restrict_vocab))

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words. Raises: UnknownWord."""
        return self._run(calls.similarity(self.name, a, b))

    def similarities(self, pairs: Sequence[Sequence[str]]) -> list[PairSimilarity]:
        """Cosine similarity of many pairs, in order; a pair with a missing word gets None."""
        return self._run(calls.similarities(self.name, list(pairs)))

    def rank(self, a: str, b: str) -> int:
        """1 + the number of words nearer to `a` than `b` is (gensim's rank). Exact."""
        return self._run(calls.rank(self.name, a, b))

    def vector(self, word: str) -> Vector:
        """The stored vector (before normalisation), its norm and row. Raises: UnknownWord."""
        return self._run(calls.vector(self.name, word))

    def vectors(self, words: Sequence[str]) -> list[Vector]:
        """Many vectors, in order; a missing word gives found=False."""
        return self._run(calls.vectors(self.name, list(words)))

    def embed(self, texts: Sequence[str]) -> list[Embedding]:
        """One sentence vector per text, in order."""
        return self._run(calls.embed(self.name, list(texts)))

    def words(self, prefix: str | None = None, offset: int = 0, limit: int = 1000) -> WordPage:
        """One page of the space's words, most frequent first, optionally by prefix."""
        return self._run(calls.words(self.name, prefix, offset, limit))

    def evaluation(self, refresh: bool = False) -> Evaluation:
        """The space's scorecard (word similarity, analogies, task scores, geometry)."""
        return self._run(calls.evaluation(self.name, refresh))


def _first(found):
    # Sync: a list; async: an awaitable of a list.
    if isinstance(found, list):
        return found[0]

    async def first():
        return (await found)[0]
    return first()


class CompareCalls:
    """The /v1/compare routes: several spaces side by side."""

    def __init__(self, client):
        self._client = client

    def _run(self, call):
        return self._client._run(call)

    def neighbors(self, word: str, k: int = 10, spaces: Sequence[str] | None = None) -> cmp.NeighborComparison:
        return self._run(calls.compare_neighbors(word, k, spaces))

    def similarity(self, pairs: Sequence[Sequence[str]] | str,
                   spaces: Sequence[str] | None = None) -> cmp.SimilarityTable:
        """Every pair in every space, one table. `pairs` is [(a, b), ...] or "a:b,c:d"."""
        if isinstance(pairs, str):
            pairs = [p.split(":", 1) for p in pairs.split(",") if p.strip()]
        return self._run(calls.compare_similarity(list(pairs), spaces))

    def spaces(self, a: str, b: str, k: int = 10, *, sample: int | None = None,
               seed: int | None = None, n: int | None = None) -> cmp.SpaceComparison:
        """Jaccard overlap of the k nearest neighbours of every shared word (or a seeded
        sample) in two spaces, its histogram, and the n most and least similar words."""
        return self._run(calls.compare_spaces(a, b, k, sample, seed, n))

    def analogy(self, a: str, b: str, c: str, k: int = 10, *, method: str = "3cosadd",
                expected: str | None = None, spaces: Sequence[str] | None = None) -> cmp.AnalogyComparison:
        return self._run(calls.compare_analogy(a, b, c, k, method, expected, spaces))

    def sentences(self, sentences: Sequence[str], spaces: Sequence[str] | None = None) -> cmp.SentenceComparison:
        return self._run(calls.compare_sentences(list(sentences), spaces))

    def evaluation(self, spaces: Sequence[str] | None = None, refresh: bool = False) -> cmp.EvaluationComparison:
        return self._run(calls.compare_evaluation(spaces, refresh))

    def align(self, source: str, target: str) -> cmp.Alignment:
        return self._run(calls.align(source, target))

    def translate(self, word: str, source: str, target: str, k: int = 10) -> cmp.Translation:
        return self._run(calls.translate(word, source, target, k))

    def drift(self, source: str, target: str, n: int = 50) -> cmp.Drift:
        return self._run(calls.drift(source, target, n))

    def plot(self, words: Sequence[str], spaces: Sequence[str] | None = None, *,
             format: str = "svg", basis: str = "words") -> bytes:
        """The words projected to 2-D, one panel per space (SVG or PNG bytes)."""
        return self._run(calls.plot("plot", format, spaces, words=",".join(words), basis=basis))

    def plot_learning_curve(self, spaces: Sequence[str] | None = None, *, format: str = "svg") -> bytes:
        return self._run(calls.plot("plot/learning-curve", format, spaces))

    def plot_scorecard(self, spaces: Sequence[str] | None = None, *, format: str = "svg") -> bytes:
        return self._run(calls.plot("plot/scorecard", format, spaces))
