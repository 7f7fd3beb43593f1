"""gensim 4's `evaluate_word_pairs` and `evaluate_word_analogies` for the KeyedVectors facade:
the same file formats, the same rules (case folding, `restrict_vocab`, `dummy4unknown`), the
same return values, the same log lines.

Computed where it is cheap. Word pairs need a few hundred vectors: one batch request. Analogies
search the first `restrict_vocab` rows for every question, so those rows are fetched once
(rows.py) and the 3CosAdd arithmetic runs here in numpy, as gensim's does, many questions per
matrix product instead of one `most_similar` call each.
"""
from __future__ import annotations

import itertools
import logging

from wordspace_client.optional import np, scipy_stats

log = logging.getLogger(__name__)

TOPN = 5  # gensim looks at the 5 best answers for the first one that is not an input word
_SCORES_PER_BLOCK = 2**25  # questions x rows scored at once (128 MB of float32)


def _ok_vocab(keys: list[str], case_insensitive: bool) -> dict[str, int]:
    """gensim's: folded key -> row of its first (most frequent) spelling."""
    fold = str.upper if case_insensitive else str
    return {fold(k): i for i, k in reversed(list(enumerate(keys)))}


def word_pairs(kv, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
               case_insensitive=True, dummy4unknown=False):
    """See KeyedVectors.evaluate_word_pairs."""
    stats = scipy_stats()
    ok_vocab = _ok_vocab(kv.index_to_key[:restrict_vocab], case_insensitive)
    gold, wanted, oov = [], [], 0
    with open(pairs, encoding=encoding) as fin:
        for line_no, line in enumerate(fin):
            if not line or line.startswith("#"):
                continue
            try:
                a, b, sim = [w.upper() if case_insensitive else w for w in line.split(delimiter)]
                sim = float(sim)
            except (ValueError, TypeError):
                log.info("Skipping invalid line #%d in %s", line_no, pairs)
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    log.debug("Zero similarity for line #%d with OOV words: %s", line_no, line.strip())
                    gold.append(sim)
                    wanted.append(None)
                else:
                    log.info("Skipping line #%d with OOV words: %s", line_no, line.strip())
                continue
            gold.append(sim)
            wanted.append((ok_vocab[a], ok_vocab[b]))
    if not gold:
        raise ValueError(f"No valid similarity judgements found in {pairs}: either invalid format or "
                         f"all are out-of-vocabulary in {kv}")
    unit = _unit_rows(kv, sorted({row for pair in wanted if pair for row in pair}))
    model = [0.0 if pair is None else np.dot(unit[pair[0]], unit[pair[1]]) for pair in wanted]
    spearman = stats.spearmanr(gold, model)
    pearson = stats.pearsonr(gold, model)
    oov_ratio = float(oov) / (len(gold) if dummy4unknown else len(gold) + oov) * 100
    log.info("Pearson correlation coefficient against %s: %.4f", pairs, pearson[0])
    log.info("Spearman rank-order correlation coefficient against %s: %.4f", pairs, spearman[0])
    log.info("Pairs with unknown words ratio: %.1f%%", oov_ratio)
    return pearson, spearman, oov_ratio


def _unit_rows(kv, rows: list[int]) -> dict[int, np.ndarray]:
    """row -> unit vector (float32) for a few rows, in one batch request."""
    keys = [kv.index_to_key[r] for r in rows]
    found = {v.key: v for v in (kv._space.vectors(keys) if keys else [])}
    out = {}
    for row, key in zip(rows, keys):
        vector = np.asarray(found[key].vector, dtype=np.float32)
        norm = np.linalg.norm(vector)
        out[row] = vector / norm if norm > 0 else vector
    return out


def _section_score(section: dict) -> float:
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    log.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def _read_analogies(path, ok_vocab: dict, case_insensitive: bool):
    """[(section name, [(a, b, c, expected, in_vocab), ...]), ...] and the number of questions."""
    sections, total = [], 0
    with open(path, "rb") as fin:
        for line_no, raw in enumerate(fin):
            line = raw.decode("utf8")
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                raise ValueError(f"Missing section header before line #{line_no} in {path}")
            try:
                a, b, c, expected = [w.upper() if case_insensitive else w for w in line.split()]
            except ValueError:
                log.info("Skipping invalid line #%i in %s", line_no, path)
                continue
            total += 1
            known = all(w in ok_vocab for w in (a, b, c, expected))
            sections[-1][1].append((a, b, c, expected, known))
    return sections, total


def _predict(unit: np.ndarray, keys: list[str], ok_vocab: dict, questions: list, fold) -> list[str]:
    """gensim's prediction for each (a, b, c): the first of the TOPN rows nearest to
    unit(b) + unit(c) - unit(a), inputs left out, that is not an input word once folded."""
    if not questions:
        return []
    rows = np.array([[ok_vocab[w] for w in q[:3]] for q in questions])
    out = []
    block = max(1, _SCORES_PER_BLOCK // len(unit))
    for start in range(0, len(rows), block):
        ia, ib, ic = rows[start:start + block].T
        mean = (unit[ib] + unit[ic] - unit[ia]) / np.float32(3)
        mean /= np.linalg.norm(mean, axis=1, keepdims=True)
        dists = mean @ unit.T
        at = np.arange(len(ia))
        for col in (ia, ib, ic):
            dists[at, col] = -np.inf
        # The TOPN best, best first, by repeated argmax: a few fast passes beat a partition.
        best = np.empty((len(ia), min(TOPN, dists.shape[1])), dtype=np.intp)
        for j in range(best.shape[1]):
            best[:, j] = dists.argmax(axis=1)
            dists[at, best[:, j]] = -np.inf
        for q, candidates in zip(questions[start:start + block], best):
            ignore = set(q[:3])
            predicted = None
            for row in candidates:
                predicted = fold(keys[row])
                if predicted in ok_vocab and predicted not in ignore:
                    break
            out.append(predicted)
    return out


def word_analogies(kv, analogies, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False,
                   similarity_function="most_similar"):
    """See KeyedVectors.evaluate_word_analogies."""
    if similarity_function != "most_similar":
        raise ValueError(f"similarity_function {similarity_function!r}: only 'most_similar' (3CosAdd), "
                         f"as in gensim 4")
    keys = kv._rows.keys(restrict_vocab)
    unit = kv._rows.unit(restrict_vocab)
    ok_vocab = _ok_vocab(keys, case_insensitive)
    fold = str.upper if case_insensitive else str
    log.info("Evaluating word analogies for top %i words in the model on %s", restrict_vocab, analogies)
    read, total = _read_analogies(analogies, ok_vocab, case_insensitive)
    questions = [q for _, qs in read for q in qs if q[4]]
    predicted = iter(_predict(unit, keys, ok_vocab, questions, fold))
    sections, oov = [], 0
    for name, qs in read:
        section = {"section": name, "correct": [], "incorrect": []}
        for a, b, c, expected, known in qs:
            if not known:
                oov += 1
                if dummy4unknown:
                    section["incorrect"].append((a, b, c, expected))
                continue
            section["correct" if next(predicted) == expected else "incorrect"].append((a, b, c, expected))
        sections.append(section)
        _section_score(section)
    everything = {
        "section": "Total accuracy",
        "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
        "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections)),
    }
    log.info("Quadruplets with out-of-vocabulary words: %.1f%%", float(oov) / total * 100)
    if not dummy4unknown:
        log.info('NB: analogies containing OOV words were skipped from evaluation! '
                 'To change this behavior, use "dummy4unknown=True"')
    score = _section_score(everything)
    sections.append(everything)
    return score, sections


class Evaluations:
    """gensim's two evaluations, mixed into the KeyedVectors facade."""

    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                            case_insensitive=True, dummy4unknown=False):
        """gensim's: (pearsonr's result, spearmanr's result, oov_ratio in percent) against the
        similarity judgements in `pairs` (e.g. wordsim353.tsv). Needs scipy."""
        return word_pairs(self, pairs, delimiter, encoding, restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, similarity_function="most_similar"):
        """gensim's: (accuracy, sections) on the analogies in `analogies` (questions-words.txt),
        computed here over the first `restrict_vocab` rows, fetched once (see rows.py)."""
        return word_analogies(self, analogies, restrict_vocab, case_insensitive, dummy4unknown,
                              similarity_function)
