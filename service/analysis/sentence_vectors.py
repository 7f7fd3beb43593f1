"""Sentence vectors as arrays, for the comparisons: service/store/embed.py's `embed_texts` stacked
into one matrix, plus the tokens each text lost.

`embed_texts` defines a sentence vector (the classifier's pooling for task spaces, the mean
of unit word vectors for word spaces). A table not yet published (the build pipeline scores
it before writing the space) is seen through service/analysis/scorecard.py's `as_space`, which
carries the embed.json the build is about to publish: the same pooling as once published.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.store.embed import Embedding, embed_texts
from service.store.onnx_sentences import sentence_vectors


@dataclass(frozen=True)
class Embedded:
    vectors: np.ndarray        # (texts, dimension) float32; zero rows when no token counted
    missing: list[list[str]]   # tokens the space lacks, per text
    found: list[int]           # tokens that went into each mean


def embed(space, texts: list[str]) -> Embedded:
    """Word rows pooled as service/store/embed.py defines it (what the task probe scores)."""
    return _stacked(space, embed_texts(space, texts))


def model_vectors(space, texts: list[str]) -> Embedded:
    """The space's sentence vectors as its answers give them: a Keras model's own through its
    ONNX sub-model where the build exported one (service/store/onnx_sentences.py)."""
    return _stacked(space, sentence_vectors(space, texts))


def _stacked(space, embedded: list[Embedding]) -> Embedded:
    # A model's sentence layer (a Dense(64), a Bidirectional LSTM) may differ in size from its words.
    dimension = len(embedded[0].vector) if embedded else space.vector_size
    vectors = np.zeros((len(embedded), dimension), dtype="float32")
    for i, e in enumerate(embedded):
        vectors[i] = e.vector
    return Embedded(vectors, [list(e.missing) for e in embedded], [e.tokens for e in embedded])


def cosine_matrix(vectors: np.ndarray) -> list[list[float | None]]:
    """Pairwise cosine similarities; None where a row is a zero vector."""
    norms = np.linalg.norm(vectors, axis=1)
    ok = norms > 0
    unit = vectors / np.where(ok, norms, 1)[:, None]
    sims = unit @ unit.T
    return [[float(sims[i, j]) if ok[i] and ok[j] else None for j in range(len(vectors))]
            for i in range(len(vectors))]
