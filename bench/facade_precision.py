"""How far the client's KeyedVectors facade is from gensim over the same file (float32 through
JSON): vectors, most_similar scores and rankings, similarities. The figures of the client's
README ("float32 through JSON"); tests/test_gensim_conformance.py asserts their bounds.

    wordspace --catalog /tmp/euc build-index euclidean --index Flat \\
        --from word2vec:$(python -c "from gensim.test.utils import datapath; print(datapath('euclidean_vectors.bin'))")
    WORDSPACE_CATALOG=/tmp/euc wordspace serve &
    python bench/facade_precision.py http://127.0.0.1:8000
"""
from __future__ import annotations

import argparse

import numpy as np
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from wordspace_client import Client


def _diff(got: np.ndarray, want: np.ndarray) -> str:
    d = np.abs(got - want)
    rel = d / np.maximum(np.abs(want), np.finfo(np.float32).tiny)
    return f"max abs {d.max():.2g}, max rel {rel.max():.2g}, bit-identical {np.mean(d == 0):.0%}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("--space", default="euclidean")
    ap.add_argument("--file", default=datapath("euclidean_vectors.bin"), help="word2vec binary")
    ap.add_argument("--words", type=int, default=300, help="query words for the searches")
    args = ap.parse_args()
    g = KeyedVectors.load_word2vec_format(args.file, binary=True)
    with Client(args.url) as client:
        kv = client.space(args.space).keyed_vectors()
        print(f"kv.vectors (whole-table fetch) vs file: {_diff(kv.vectors, g.vectors)}")
        keys = g.index_to_key
        rows = np.vstack([kv[keys[i:i + 500]] for i in range(0, len(keys), 500)])
        print(f"kv[w] (JSON) vs file: {_diff(rows, g.vectors)}")
        words, same, got, want = keys[:args.words], 0, [], []
        for w in words:
            a, b = g.most_similar(w, topn=10), kv.most_similar(w, topn=10)
            same += [x for x, _ in a] == [x for x, _ in b]
            want += [s for _, s in a]
            got += [s for _, s in b]
        print(f"most_similar topn=10, {len(words)} words: rankings equal {same}/{len(words)}, "
              f"scores {_diff(np.array(got), np.array(want))}")
        pairs = list(zip(words, words[1:]))
        sims = [(float(kv.similarity(a, b)), float(g.similarity(a, b))) for a, b in pairs]
        print(f"similarity, {len(pairs)} pairs: scores {_diff(*np.array(sims).T)}")


if __name__ == "__main__":
    main()
