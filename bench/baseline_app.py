"""The baseline for bench/neighbors.py: gensim `most_similar` behind one Flask route.

This is how existing word2vec REST servers answer a neighbours query: keep a KeyedVectors
in memory and score every row with numpy for each request (exact, no index). It reads the
same GloVe table as the service (`read_table("kumo")`) and answers in the same JSON shape,
so the two are compared on search, not on payload. Run it the way the bench does:

    gunicorn -k gthread -w 2 --threads 4 --preload --chdir bench 'baseline_app:create_app()'
"""
from __future__ import annotations

from flask import Flask, request


def load_vectors():
    """The kumo GloVe table as a gensim KeyedVectors, norms filled once at start."""
    from gensim.models import KeyedVectors

    from service.store.tables import read_table

    table = read_table("kumo")
    kv = KeyedVectors(vector_size=table.vector_size, count=0)
    kv.add_vectors(table.index_to_key, table.vectors)
    kv.fill_norms()
    return kv


def create_app(kv=None) -> Flask:
    app = Flask(__name__)
    app.extensions["kv"] = kv if kv is not None else load_vectors()

    @app.get("/neighbors")
    def neighbors():
        kv = app.extensions["kv"]
        word, k = request.args.get("word", ""), request.args.get("k", 10, type=int)
        if word not in kv.key_to_index:
            return {"error": f"'{word}' not in vocabulary"}, 404
        found = kv.most_similar(word, topn=k)
        return {"word": word, "k": k,
                "neighbors": [{"word": w, "score": s, "rank": r}
                              for r, (w, s) in enumerate(found, 1)]}

    return app
