"""Close spellings of an unknown word, at a cost that does not grow with the space.

Scanning every key with Levenshtein costs 30-150 ms on 400,000 keys, so a burst of
misspellings could keep a server busy. Instead each space gets, once at load, an inverted
index of the character trigrams of its keys (with a boundary mark at each end, hashed into
2^20 buckets, held in two numpy arrays that gunicorn's workers share after the fork). An
unknown word is scored against the CANDIDATES keys that share most trigrams with it, plus
the FREQUENT most frequent keys (short words share few trigrams with anything), and only
those are ranked by Levenshtein distance: bounded work per word whatever the space's size.
"""
from __future__ import annotations

import numpy as np

SUGGESTIONS = 5
CANDIDATES = 256
FREQUENT = 2000
_BITS = 20
_SEP = "\x00"


def _buckets(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Hash trigrams of code points into 2^_BITS buckets (multiplicative hashing)."""
    h = (a * np.uint64(0x9E3779B1) + b) * np.uint64(0x85EBCA77)
    h = (h + c) * np.uint64(0xC2B2AE3D27D4EB4F)
    return (h >> np.uint64(64 - _BITS)).astype(np.int64)


def _trigrams(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(bucket, position of the middle character) of every trigram centred on a character
    that is not a separator, in `text` (keys joined and framed by separators)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    mid = np.arange(1, len(codes) - 1)
    mid = mid[codes[mid] != 0]
    return _buckets(codes[mid - 1], codes[mid], codes[mid + 1]), mid


def _unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique is many times slower than a sort on numpy 2.3)."""
    x = np.sort(x)
    return x[np.concatenate([[True], x[1:] != x[:-1]])] if len(x) else x


class Suggester:
    """Trigram candidates, then Levenshtein: the closest keys to a word that is not a key."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        # Lower-cased whole: the same as key by key (the separator is not a letter), and
        # a tenth of the time on 400,000 keys.
        text = (_SEP + _SEP.join(keys) + _SEP).lower()
        buckets, mid = _trigrams(text)
        codes_sep = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == 0
        rows = (np.cumsum(codes_sep) - 1)[mid]
        pairs = _unique((buckets << 32) | rows)  # one posting per (trigram, key)
        self.postings = (pairs & 0xFFFFFFFF).astype(np.int32)
        counts = np.bincount((pairs >> 32).astype(np.int64), minlength=1 << _BITS)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        for arr in (self.postings, self.offsets):
            arr.setflags(write=False)

    def candidates(self, word: str) -> np.ndarray:
        """Rows to score, in row order (most frequent first): the keys sharing most trigrams
        with `word` (ties to the more frequent) and the FREQUENT most frequent keys."""
        n = len(self.keys)
        buckets, _ = _trigrams(_SEP + word.lower() + _SEP)
        hits = [self.postings[self.offsets[b]:self.offsets[b + 1]] for b in _unique(buckets)]
        frequent = np.arange(min(FREQUENT, n))
        postings = np.sort(np.concatenate(hits)) if hits else frequent[:0]
        if not len(postings):  # no trigram of the word is in any key
            return frequent
        # The postings are tens of thousands at most, not the whole space.
        starts = np.flatnonzero(np.concatenate([[True], postings[1:] != postings[:-1]]))
        rows = postings[starts]
        if len(rows) > CANDIDATES:
            shared = np.diff(np.append(starts, len(postings)))
            rank = shared.astype(np.int64) * (n + 1) - rows
            rows = rows[np.argpartition(-rank, CANDIDATES)[:CANDIDATES]]
        return _unique(np.concatenate([rows, frequent]))

    def suggest(self, word: str, limit: int = SUGGESTIONS) -> list[str]:
        """Up to `limit` keys within Levenshtein distance max(2, len/2) of the lower-cased
        word, closest first, ties to the more frequent."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        choices = [self.keys[i] for i in self.candidates(word)]
        found = process.extract(word.lower(), choices, scorer=Levenshtein.distance,
                                limit=limit, score_cutoff=max(2, len(word) // 2))
        return [key for key, _, _ in found]
