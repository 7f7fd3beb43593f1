"""Task-side scores: how much of the task label a space's geometry carries.

- `linear_probe`: a logistic regression (numpy + scipy's L-BFGS, no scikit-learn) on
  sentence vectors of the task texts, trained on a seeded 80% and scored on the other 20%
  (held-out accuracy, against the majority-class baseline). The sentence vectors are one
  pooling for every space (`pooled`): the mean of the space's raw rows (as its file holds
  them, unit vector times norm) of the tokens it has, tokenized by service/text.py. Not the
  model's own pooling (service/store/embed.py, for embed and compare): an [UNK] row, a
  sequence length or a model's own tokenizer would score a task space differently from the
  same rows in a word2vec file, and the verdict compares spaces, not containers.
- `neighborhood_purity`: for words with a clear class association in the task texts, the
  share of their k nearest neighbours (among those words) associated with the same class,
  against the share expected from random neighbours.

Together with the semantic benchmarks this shows the trade-off: a space trained on the task
separates the classes; a space trained on co-occurrence keeps synonyms together.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from service.text import tokenize

HOLDOUT = 0.2
L2 = 1e-2
MIN_COUNT = 10     # documents a word must appear in to have a class association
MIN_SHARE = 0.75   # its prior-corrected share of one class
PURITY_K = 10
REFERENCE = ("bag of words: the same probe on the mean of one-hot rows over the task's "
             "vocabulary (the identity embedding, pooled as every space is)")
POOLING = ("mean of the space's raw rows (as its file holds them) of the tokens it has, "
           "tokenized by service/text.py; the same for every space")


@dataclass
class Probe:
    accuracy: float
    baseline: float      # majority class share in the held-out part
    train: int
    test: int
    classes: int


@dataclass
class Purity:
    purity: float | None
    chance: float | None  # expected purity with random neighbours
    k: int
    words: int            # class-associated words present in the space
    per_class: dict[str, int]
    settings: dict


def pooled(space, texts: list[str]) -> np.ndarray:
    """(texts, dimension) float64: per text, the mean of the space's raw rows of the tokens
    it has (zeros when it has none). Identical rows under identical keys give identical
    vectors, whatever kind of space holds them."""
    tokens = [tokenize(text) for text in texts]
    found = space.key_to_index.many([t for ts in tokens for t in ts])
    known = found >= 0
    ends = np.cumsum([0] + [len(ts) for ts in tokens], dtype=np.int64)
    # the known tokens of each text: those before its end less those before its start
    counts = np.diff(np.concatenate([[0], np.cumsum(known, dtype=np.int64)])[ends])
    used, at = np.unique(found[known], return_inverse=True)
    mean = _means(at.ravel(), counts, len(used))
    rows = np.asarray(space.vectors[used], dtype="float64") * np.asarray(
        space.norms[used], dtype="float64")[:, None]
    return np.asarray(mean @ rows).reshape(len(texts), space.vector_size)


def _means(cols: np.ndarray, counts, width: int):
    """(texts, width) scipy CSR: per text, the mean of the one-hot rows of its counts[i]
    columns (`cols` holds them text after text)."""
    from scipy.sparse import csr_matrix

    weights = np.repeat(1.0 / np.maximum(counts, 1), counts)
    indptr = np.r_[0, np.cumsum(counts)]
    return csr_matrix((weights, cols, indptr), shape=(len(counts), width))


def linear_probe(space, texts: list[str], labels: list, seed: int = 0) -> Probe:
    """Held-out accuracy of a multinomial logistic regression on the sentence vectors."""
    return fit_probe(pooled(space, texts), labels, seed)


def bag_of_words(texts: list[str]):
    """(texts, vocabulary) scipy CSR: per text, the mean of the one-hot rows of its tokens
    over the vocabulary of all `texts` (sorted), tokenized by service/text.py: `pooled` of
    the identity embedding, the words' identities and nothing else."""
    tokens = [tokenize(t) for t in texts]
    vocabulary = {w: i for i, w in enumerate(sorted({w for ts in tokens for w in ts}))}
    counts = [len(ts) for ts in tokens]
    cols = np.fromiter((vocabulary[w] for ts in tokens for w in ts), dtype=np.int64,
                       count=sum(counts))
    X = _means(cols, counts, len(vocabulary))
    X.sum_duplicates()
    return X


def reference(texts: list[str], labels: list, seed: int = 0) -> dict:
    """The task's own reference for the verdict's task bar: the same probe (split, seed, L2,
    standardising) on `bag_of_words` of its texts. It depends on the task's texts alone, so
    every space of a build is held to the same figure, whatever else is loaded."""
    from service.analysis.intervals import wilson_interval

    X = bag_of_words(texts)
    result = fit_probe(X, labels, seed)
    low, high = wilson_interval(result.accuracy, result.test)
    return {"method": REFERENCE, "accuracy": result.accuracy, "low": low, "high": high,
            "test": result.test, "features": X.shape[1]}


def fit_probe(X, labels: list, seed: int = 0) -> Probe:
    """The probe on features X (dense, or scipy sparse): a seeded HOLDOUT split, features
    standardised on the training part, held-out accuracy against the majority share. A
    sparse X is scaled but not centred (keeping it sparse): centring only moves the
    unpenalised intercept, so the fitted classifier is the same."""
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(round(len(y) * (1 - HOLDOUT)))
    tr, te = order[:cut], order[cut:]
    X = standardise(X, tr)
    W = _fit_logistic(X[tr], y[tr], len(classes))
    predicted = np.argmax(_with_bias(X[te]) @ W, axis=1)
    baseline = np.bincount(y[te], minlength=len(classes)).max() / max(len(te), 1)
    return Probe(float((predicted == y[te]).mean()), float(baseline), len(tr), len(te), len(classes))


def standardise(X, rows: np.ndarray):
    """X with each feature divided by its standard deviation over `rows` (the training part)
    and, when X is dense, centred on its mean there; a sparse X stays sparse, uncentred."""
    from scipy import sparse

    if sparse.issparse(X):
        X = sparse.csr_matrix(X, dtype="float64")
        mean = np.asarray(X[rows].mean(axis=0)).ravel()
        square = np.asarray(X[rows].multiply(X[rows]).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(square - mean ** 2, 0.0)) + 1e-8
        return (X @ sparse.diags(1.0 / std)).tocsr()
    mean, std = X[rows].mean(axis=0), X[rows].std(axis=0) + 1e-8
    return (X - mean) / std


def _with_bias(X):
    from scipy import sparse

    if sparse.issparse(X):
        return sparse.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    return np.c_[X, np.ones(len(X))]


def _fit_logistic(X, y: np.ndarray, n_classes: int) -> np.ndarray:
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    Xb = _with_bias(X)
    Y = np.eye(n_classes)[y]
    n = X.shape[0]

    def loss(w):
        W = w.reshape(Xb.shape[1], n_classes)
        logp = log_softmax(np.asarray(Xb @ W), axis=1)
        reg = 0.5 * L2 * (W[:-1] ** 2).sum()
        grad = np.asarray(Xb.T @ (np.exp(logp) - Y)) / n
        grad[:-1] += L2 * W[:-1]
        return -(Y * logp).sum() / n + reg, grad.ravel()

    w0 = np.zeros(Xb.shape[1] * n_classes)
    return minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 300}).x.reshape(
        Xb.shape[1], n_classes)


def class_words(texts: list[str], labels: list) -> dict[str, str]:
    """word -> class for words in at least MIN_COUNT texts whose prior-corrected share of
    one class is at least MIN_SHARE (so an unbalanced label set does not bias it)."""
    per_class: dict[str, Counter] = {}
    docs = Counter(str(label) for label in labels)
    for text, label in zip(texts, labels):
        per_class.setdefault(str(label), Counter()).update(set(tokenize(text)))
    total = Counter()
    for counts in per_class.values():
        total.update(counts)
    out = {}
    for word, n in total.items():
        if n < MIN_COUNT:
            continue
        rates = {c: per_class[c][word] / docs[c] for c in per_class}
        best = max(rates, key=rates.get)
        if rates[best] / sum(rates.values()) >= MIN_SHARE:
            out[word] = best
    return out


def neighborhood_purity(space, associations: dict[str, str], k: int = PURITY_K) -> Purity:
    """Share of each class-associated word's k neighbours (among the associated words the
    space has) that share its class, averaged over the words."""
    settings = {"min_count": MIN_COUNT, "min_share": MIN_SHARE,
                "neighbours_among": "class-associated words present in the space"}
    words = sorted(w for w in associations if w in space.key_to_index)
    counts = Counter(associations[w] for w in words)
    if len(words) <= k:
        return Purity(None, None, k, len(words), dict(counts), settings)
    rows = [space.key_to_index[w] for w in words]
    unit = np.asarray(space.vectors[rows])
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    cls = np.array([associations[w] for w in words])
    purity = float((cls[top] == cls[:, None]).mean())
    m = len(words)
    chance = float(sum(n / m * (n - 1) / (m - 1) for n in counts.values()))
    return Purity(purity, chance, k, m, dict(counts), settings)
