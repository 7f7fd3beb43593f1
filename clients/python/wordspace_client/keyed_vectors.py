"""A gensim 4 `KeyedVectors` look-alike answered by the server, so code written for gensim runs
by swapping the object: `kv = Client().space("glove").keyed_vectors()`.

Signatures and return shapes are gensim 4's: lists of (word, float) tuples, numpy arrays,
numpy float32 scores, `KeyError` for a missing key (an `UnknownWord`, which is one). What the
server computes (searches, exact ranks) is asked of it; what gensim computes from a handful of
vectors (means, n_similarity, doesnt_match) is computed here from the vectors the server sends.
What scans a whole table (`vectors`, `topn=None`, `distances(word)` with no other words, the
analogy evaluation) fetches its rows once and keeps them (rows.py, evaluate.py).

Differences, all documented on the methods: keys are exact for `in`, `key_to_index`,
`get_vector` and `kv[key]` as in gensim, while the searches (`most_similar`, `similarity`,
`rank`) also find a key lower-cased, as the server does; `topn` is at most WORDSPACE_MAX_K.
"""
from __future__ import annotations

import logging
from numbers import Integral

from wordspace_client import problems
from wordspace_client.copies import Copies
from wordspace_client.errors import ReadOnly, UnknownWord
from wordspace_client.evaluate import Evaluations
from wordspace_client.optional import np
from wordspace_client.read_only import ReadOnlyMethods
from wordspace_client.rows import Rows, TableArrays
from wordspace_client.vocabulary import IndexToKey, KeyToIndex

log = logging.getLogger(__name__)

_KEY_TYPES = (str, int, np.integer)
COSMUL_EPSILON = 1e-6  # gensim's, added to the product of the negative terms
_POOL_FACTOR = 2  # most_similar_cosmul rescored this many times topn candidates (plus 10)


def _ensure_list(value) -> list:
    """gensim's rule: one key or one 1-D vector becomes a list of one."""
    if value is None:
        return []
    if isinstance(value, _KEY_TYPES) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    return list(value)  # a list, or the rows of a 2-D array


def _unitvec(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v)
    return (v / norm).astype(np.float32) if norm > 0 else v.astype(np.float32)


class KeyedVectors(TableArrays, Evaluations, Copies, ReadOnlyMethods):
    """gensim's KeyedVectors over a space of a wordspace server (see the module docstring);
    `vectors`, `get_normed_vectors()` (rows.py), the evaluations (evaluate.py),
    `vectors_for_all` and `get_vecattr` (copies.py) are mixed in, and gensim's mutating
    methods, which raise `ReadOnly` (read_only.py)."""

    def __init__(self, space):
        self._space = space
        info = space.info()
        self._max_k = space._client.limits().max_k
        self.vector_size = info.dimension
        self.index_to_key = IndexToKey(space, info.size, space._client.limits().max_page)
        self.key_to_index = KeyToIndex(space, self.index_to_key)
        self._rows = Rows(space, info.size, info.dimension, on_fetch=self._fill)

    def _fill(self, keys: list[str]) -> None:
        self.index_to_key.fill(keys)
        self.key_to_index.fill(keys)

    def __repr__(self) -> str:
        return f"<KeyedVectors of space {self._space.name!r}: {len(self)} keys x {self.vector_size}>"

    # --- keys and vectors ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

    def get_index(self, key, default=None) -> int:
        if isinstance(key, str) and key in self.key_to_index:
            return self.key_to_index[key]
        if isinstance(key, (int, np.integer)) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise self._missing(key)

    def _missing(self, key) -> UnknownWord:
        """gensim's KeyError, with the keys the server suggests (a key it has in another case
        is the suggestion when it found the key lower-cased)."""
        problem = {"word": str(key), "space": self._space.name, "suggestions": []}
        if isinstance(key, str):
            try:
                problem["suggestions"] = [self._space.vector(key).key]
            except UnknownWord as e:
                problem = {**e.problem, **problem, "suggestions": e.suggestions}
        close = f"; close keys: {', '.join(problem['suggestions'])}" if problem["suggestions"] else ""
        return UnknownWord(f"Key '{key}' not present in space '{self._space.name}'{close}", status=404,
                           type=problems.UNKNOWN_WORD, problem=problem)

    def _key(self, key) -> str:
        if isinstance(key, (int, np.integer)):
            return self.index_to_key[self.get_index(key)]
        return key

    def _vectors(self, keys, norm: bool, ignore_missing: bool = False) -> dict:
        """key -> vector (raw, or unit with norm) for the keys the space has exactly."""
        names = {k: self._key(k) for k in keys if isinstance(k, _KEY_TYPES)
                 and not (ignore_missing and isinstance(k, (int, np.integer)) and not 0 <= k < len(self))}
        wanted = list(dict.fromkeys(names.values()))
        found = {v.word: v for v in (self._space.vectors(wanted) if wanted else [])
                 if v.found and v.key == v.word}
        out = {}
        for key, name in names.items():
            if name not in found:
                if ignore_missing:
                    continue
                raise self._missing(key)
            v = np.asarray(found[name].vector, dtype=np.float32)
            out[key] = v / np.float32(found[name].norm) if norm and found[name].norm else v
        return out

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        result = self._vectors([key], norm)[key]
        result.setflags(write=False)
        return result

    word_vec = get_vector  # gensim's deprecated alias

    def __getitem__(self, key_or_keys) -> np.ndarray:
        if isinstance(key_or_keys, _KEY_TYPES):
            return self.get_vector(key_or_keys)
        found = self._vectors(key_or_keys, norm=False)
        return np.vstack([found[k] for k in key_or_keys])

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True,
                        post_normalize: bool = False, ignore_missing: bool = True) -> np.ndarray:
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        weights = np.ones(len(keys), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        if len(keys) != weights.shape[0]:
            raise ValueError("keys and weights array must have same number of elements")
        found = self._vectors([k for k in keys if not isinstance(k, np.ndarray)], pre_normalize,
                              ignore_missing=ignore_missing)
        mean = np.zeros(self.vector_size, np.float32)
        total = 0.0
        for key, w in zip(keys, weights):
            vec = key if isinstance(key, np.ndarray) else found.get(key)
            if vec is not None:
                mean += w * vec
                total += abs(w)
        if total > 0:
            mean = mean / total
        return _unitvec(mean) if post_normalize else mean

    # --- searches ----------------------------------------------------------------------------

    def most_similar(self, positive=None, negative=None, topn=10, clip_start=0, clip_end=None,
                     restrict_vocab=None, indexer=None):
        """The topn keys nearest the weighted mean of positive minus negative keys or vectors.

        Plain keys go to the server's analogy route in one request; weighted keys and vectors
        are combined here and searched by vector. `indexer` is ignored (the server's index is
        the indexer); `clip_start` above 0 and `topn=None` score the whole table here.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        keys, weights = [], []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                if isinstance(item, (*_KEY_TYPES, np.ndarray)):
                    keys.append(item)
                    weights.append(sign)
                else:
                    keys.append(item[0])
                    weights.append(item[1])
        if not topn or clip_start:
            mean = self.get_mean_vector(keys, weights, True, True, ignore_missing=False)
            keys_, unit = self._table(clip_end)
            dists = unit[clip_start:] @ mean
            if not topn:
                return dists
            exclude = {self._key(k) for k in keys if isinstance(k, _KEY_TYPES)}
            best = np.argsort(-dists, kind="stable")
            return [(keys_[clip_start + i], float(dists[i])) for i in best
                    if keys_[clip_start + i] not in exclude][:topn]
        plain = all(isinstance(k, str) for k in keys) and weights == [1.0] * len(positive) + [-1.0] * len(negative)
        if plain and positive:
            found = self._space.analogy(positive, negative, k=topn, restrict_vocab=clip_end)
            return [(n.word, n.score) for n in found]
        mean = self.get_mean_vector(keys, weights, True, True, ignore_missing=False)
        exclude = {self._key(k) for k in keys if isinstance(k, _KEY_TYPES)}
        found = self._space.neighbors_by_vector(mean, k=min(topn + len(exclude), self._max_k),
                                                restrict_vocab=clip_end)
        return [(n.word, n.score) for n in found.neighbors if n.word not in exclude][:topn]

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """3CosMul with gensim's formula and scores: the server's 3cosmul proposes candidates
        (its epsilon is Levy and Goldberg's 1e-3 per term), which are rescored here with
        gensim's (1e-6 on the product). Vectors among the inputs score the whole table here.
        Unlike gensim 4, which ignores it, `restrict_vocab` is honoured."""
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        if not positive:
            raise ValueError("cannot compute similarity with no input")
        words = [w for w in positive + negative if not isinstance(w, np.ndarray)]
        units = self._vectors(words, norm=True)
        pos = [units[w] if not isinstance(w, np.ndarray) else w for w in positive]
        neg = [units[w] if not isinstance(w, np.ndarray) else w for w in negative]
        exclude = {self._key(w) for w in words}
        if not topn or len(words) < len(positive) + len(negative):
            keys, unit = self._table(restrict_vocab)
        else:
            pool = self._space.analogy([self._key(w) for w in positive], [self._key(w) for w in negative],
                                       k=min(_POOL_FACTOR * (topn + len(exclude)) + 10, self._max_k),
                                       method="3cosmul", restrict_vocab=restrict_vocab)
            keys = [n.word for n in pool]
            found = self._vectors(keys, norm=True)
            unit = np.vstack([found[k] for k in keys]) if keys else np.zeros((0, self.vector_size), np.float32)
        dists = np.prod([(1 + unit @ t) / 2 for t in pos], axis=0)
        dists = dists / (np.prod([(1 + unit @ t) / 2 for t in neg], axis=0) + COSMUL_EPSILON)
        if not topn:
            return dists
        best = np.argsort(-dists, kind="stable")
        return [(keys[i], float(dists[i])) for i in best if keys[i] not in exclude][:topn]

    # --- similarities ------------------------------------------------------------------------

    def similarity(self, w1, w2) -> np.float32:
        return np.float32(self._space.similarity(self._key(w1), self._key(w2)))

    def distance(self, w1, w2) -> np.float32:
        return 1 - self.similarity(w1, w2)

    def relative_cosine_similarity(self, wa, wb, topn=10) -> float:
        """gensim's (Leeuwenberg et al. 2016): similarity(wa, wb) over the sum of the
        similarities of wa's topn nearest keys."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("Cannot calculate relative cosine similarity without any similar words.")
        return float(self.similarity(wa, wb)) / sum(sim for _, sim in sims)

    def n_similarity(self, ws1, ws2) -> np.float32:
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        mean1 = self.get_mean_vector(ws1, pre_normalize=False)
        mean2 = self.get_mean_vector(ws2, pre_normalize=False)
        return np.dot(_unitvec(mean1), _unitvec(mean2))

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        norm = np.linalg.norm(vector_1)
        all_norms = np.linalg.norm(vectors_all, axis=1)
        return np.dot(vectors_all, vector_1) / (norm * all_norms)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """Cosine distances to `other_words`; with none, to every key (a whole-table read)."""
        vector = self.get_vector(word_or_vector) if isinstance(word_or_vector, _KEY_TYPES) else word_or_vector
        if not other_words:
            others = self._table()[1]
        else:
            found = self._vectors(other_words, norm=False)
            others = np.vstack([found[w] for w in other_words])
        return 1 - self.cosine_similarities(vector, others)

    def most_similar_to_given(self, key1, keys_list):
        scores = self._space.similarities([(self._key(key1), self._key(k)) for k in keys_list])
        return keys_list[int(np.argmax([-np.inf if s.similarity is None else s.similarity for s in scores]))]

    def rank_by_centrality(self, words, use_norm: bool = True) -> list:
        found = self._vectors(words, norm=use_norm, ignore_missing=True)
        used = [w for w in words if w in found]
        if len(used) != len(words):
            log.warning("vectors for words %s are not present in the model, ignoring these words",
                        set(words) - set(used))
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.vstack([found[w] for w in used]).astype(np.float32)
        mean = _unitvec(vectors.mean(axis=0))
        return sorted(zip(vectors @ mean, used), reverse=True)

    def doesnt_match(self, words):
        return self.rank_by_centrality(words)[-1][1]

    def rank(self, key1, key2) -> int:
        """1 + the number of keys nearer to key1 than key2 is, counted exactly by the server."""
        return self._space.rank(self._key(key1), self._key(key2))

    def closer_than(self, key1, key2) -> list[str]:
        """Keys nearer to key1 than key2 is, in row order, as gensim returns them.

        Raises:
            ValueError: more keys are nearer than the server answers at once (WORDSPACE_MAX_K).
        """
        count = self.rank(key1, key2) - 1
        if count == 0:
            return []
        if count > self._max_k:
            raise ValueError(f"{count} keys are nearer to {key1!r} than {key2!r}; the server answers "
                             f"at most {self._max_k} neighbours at once")
        found = self._space.neighbors(self._key(key1), k=count, restrict_vocab=len(self))
        rows = self.key_to_index.lookup(found.words)
        return sorted(rows, key=rows.get)

    words_closer_than = closer_than  # gensim's deprecated alias

    # gensim names kept for code that calls them; norms are computed when the rows are fetched.
    def fill_norms(self, force: bool = False) -> None:
        pass

    def init_sims(self, replace: bool = False) -> None:
        if replace:
            raise ReadOnly(f"the KeyedVectors of space {self._space.name!r} are read-only: init_sims("
                           "replace=True) would normalise them in place; get_normed_vectors() gives "
                           "the unit vectors")
