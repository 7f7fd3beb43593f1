"""The classifier's vocabulary and the rows its Embedding starts from.

- from scratch: the training texts' words, most frequent first (at most `max_tokens`), rows
  drawn uniformly in ±0.05 (Keras' default for an Embedding);
- from a pretrained table, "union" (the served spaces): the training words, then every word
  of the table (its `rows` most frequent when limited) that the training texts lack; a word
  the table has starts from its vector, a training word it lacks starts random at the
  table's scale. Fine-tuning moves only rows some training text reads, so the rest keep
  their pretrained vectors and the classifier reads a meaningful row for a word it never saw;
- from a pretrained table, "training" words only: the ablation the learning curve compares
  (a word the training texts lack is [UNK]), which shows what the union adds.

Only words the tokenizer can produce are taken from a table (GloVe's "u.s." never comes out
of service/text.py), so every row of the vocabulary can be read by some text.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from service.store.tables import Table
from service.text import tokenize

RESERVED = ("", "[UNK]")  # rows 0 and 1 of a TextVectorization vocabulary
UNIFORM = 0.05            # Keras' Embedding initialiser: uniform in ±0.05


@dataclass(frozen=True)
class Start:
    """Where the Embedding starts: from scratch (no table) or from a pretrained table."""
    name: str = "scratch"          # the space it starts from ("scratch", "word2vec", "glove")
    table: Table | None = None
    vocabulary: str = "union"      # "union" or "training" (words of the training texts only)
    trainable: bool = True         # False: the Embedding stays frozen
    rows: int | None = None        # keep the table's first (most frequent) rows only

    def describe(self) -> dict:
        return {"start": self.name, "vocabulary": self.vocabulary if self.table else "training",
                "trainable": self.trainable, "rows": self.rows}


@dataclass
class Vocabulary:
    words: list[str]        # row order without the two reserved rows
    weights: np.ndarray     # float32 (len(words) + 2, dim): the rows the Embedding starts from
    composition: dict       # training words (from the table or random), words only the table has

    @property
    def keys(self) -> list[str]:
        return [*RESERVED, *self.words]


def training_words(texts: list[str], max_tokens: int | None = None) -> list[str]:
    """The words of `texts`, most frequent first (ties alphabetical), at most max_tokens - 2."""
    counts = Counter(t for text in texts for t in tokenize(text))
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return words[:max_tokens - len(RESERVED)] if max_tokens else words


def build_vocabulary(texts: list[str], start: Start, *, dim: int, seed: int,
                     max_tokens: int | None) -> Vocabulary:
    """The vocabulary and initial rows for a classifier trained on `texts`."""
    rng = np.random.default_rng(seed)
    trained = training_words(texts, max_tokens)
    if start.table is None:
        weights = rng.uniform(-UNIFORM, UNIFORM, size=(len(trained) + 2, dim)).astype("float32")
        return Vocabulary(trained, weights, {"training_words": len(trained), "from_pretrained": 0,
                                            "random": len(trained), "pretrained_only": 0})
    table = start.table
    limit = len(table.index_to_key) if start.rows is None else min(start.rows, len(table.index_to_key))
    pretrained = {w: i for i, w in enumerate(table.index_to_key[:limit]) if _producible(w)}
    words = list(trained)
    if start.vocabulary == "union":
        have = set(trained)
        words += [w for w in pretrained if w not in have]
    elif start.vocabulary != "training":
        raise ValueError(f"vocabulary {start.vocabulary!r}: 'union' or 'training'")
    scale = float(np.asarray(table.vectors[:limit]).std())
    # Random rows first, for [UNK] and the training words the table lacks, in a fixed order.
    weights = np.zeros((len(words) + 2, table.vector_size), dtype="float32")
    weights[1] = rng.normal(0.0, scale, size=table.vector_size)
    found = 0
    for row, word in enumerate(trained, start=2):
        i = pretrained.get(word)
        if i is None:
            weights[row] = rng.normal(0.0, scale, size=table.vector_size)
        else:
            weights[row] = table.vectors[i]
            found += 1
    for row, word in enumerate(words[len(trained):], start=2 + len(trained)):
        weights[row] = table.vectors[pretrained[word]]
    return Vocabulary(words, weights, {
        "training_words": len(trained), "from_pretrained": found, "random": len(trained) - found,
        "pretrained_only": len(words) - len(trained)})


def _producible(word: str) -> bool:
    """True when the tokenizer turns `word` into exactly itself."""
    return tokenize(word) == [word]


def ids(texts: list[str], key_to_index: dict[str, int], length: int | None) -> np.ndarray:
    """Row numbers of each text's tokens ([UNK] = 1 for unknown ones), cut to `length`, padded
    with 0 to the longest text: what TextVectorization gives, without the padding past it."""
    rows = [[key_to_index.get(t, 1) for t in tokenize(text)][:length or None] for text in texts]
    out = np.zeros((len(rows), max([1, *map(len, rows)])), dtype="int32")
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def unseen_share(texts: list[str], known: set[str]) -> np.ndarray:
    """For each text, the share of its tokens that are not in `known` (0 for an empty text)."""
    shares = []
    for text in texts:
        tokens = tokenize(text)
        shares.append(sum(t not in known for t in tokens) / len(tokens) if tokens else 0.0)
    return np.array(shares)
