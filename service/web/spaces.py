"""The v1 HTTP API over loaded spaces: metadata, neighbours, analogies, similarity, vectors.

Views read parameters through service/web/params.py, call the Space, and shape JSON here; they
hold no try/except (errors are turned into problem+json by service/errors.py).
"""
from __future__ import annotations

from flask import Blueprint, current_app

from service.errors import InvalidRequest
from service.web import params

bp = Blueprint("v1", __name__, url_prefix="/v1")


def registry():
    return current_app.extensions["wordspace"]


def _space(name: str):
    return registry().get(name)


def _neighbors(found) -> list[dict]:
    return [{"word": n.word, "score": n.score, "rank": n.rank} for n in found]


@bp.get("/spaces")
def list_spaces():
    reg = registry()
    return {"spaces": [reg.spaces[name].describe() for name in reg.names]}


@bp.get("/spaces/<space>")
def get_space(space):
    return _space(space).describe()


@bp.get("/spaces/<space>/neighbors")
def neighbors(space):
    s = _space(space)
    word, k = params.query_word("word"), params.k()
    row = s.lookup(word)
    found = s.neighbors([row], k)[0]
    return {"space": s.name, "word": word, "key": s.index_to_key[row], "k": k,
            "neighbors": _neighbors(found)}


@bp.post("/spaces/<space>/neighbors")
def neighbors_batch(space):
    s = _space(space)
    body = params.json_body()
    k = params.k(body.get("k", 10))
    if ("words" in body) == ("vectors" in body):
        raise InvalidRequest("give exactly one of 'words' or 'vectors'")
    if "vectors" in body:
        vectors = params.vectors(body)
        params.results(k, len(vectors))
        xq = s.check_vectors(vectors)
        results = [{"neighbors": _neighbors(found)} for found in s.search(xq, k)]
        return {"space": s.name, "k": k, "results": results}
    words = params.words(body, "words")
    params.results(k, len(words))
    rows = [s.find(w) for w in words]
    present = [r for r in rows if r is not None]
    found = iter(s.neighbors(present, k) if present else [])
    results = []
    for word, row in zip(words, rows):
        if row is None:
            results.append({"word": word, "found": False, "neighbors": []})
        else:
            results.append({"word": word, "found": True, "key": s.index_to_key[row],
                            "neighbors": _neighbors(next(found))})
    return {"space": s.name, "k": k, "results": results}


@bp.get("/spaces/<space>/analogy")
def analogy(space):
    s = _space(space)
    a, b, c = (params.query_word(n) for n in "abc")
    k, method = params.k(), params.method()
    found = s.analogy([s.lookup(b), s.lookup(c)], [s.lookup(a)], k, method)
    return {"space": s.name, "a": a, "b": b, "c": c, "k": k, "method": method,
            "answers": _neighbors(found)}


@bp.post("/spaces/<space>/analogy")
def analogy_post(space):
    s = _space(space)
    body = params.json_body()
    limit = params.MAX_ANALOGY_WORDS
    positive = params.words(body, "positive", limit=limit)
    negative = params.words(body, "negative", required=False, limit=limit)
    k, method = params.k(body.get("k", 10)), params.method(body.get("method", "3cosadd"))
    found = s.analogy([s.lookup(w) for w in positive], [s.lookup(w) for w in negative], k, method)
    return {"space": s.name, "positive": positive, "negative": negative, "k": k,
            "method": method, "answers": _neighbors(found)}


@bp.get("/spaces/<space>/similarity")
def similarity(space):
    s = _space(space)
    a, b = params.query_word("a"), params.query_word("b")
    return {"space": s.name, "a": a, "b": b, "similarity": s.similarity(s.lookup(a), s.lookup(b))}


@bp.post("/spaces/<space>/similarity")
def similarity_batch(space):
    s = _space(space)
    pairs = params.batch(params.json_body(), "pairs")
    results = []
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidRequest("each item of 'pairs' must be a list of two words")
        a, b = params.word(pair[0], "pairs"), params.word(pair[1], "pairs")
        ra, rb = s.find(a), s.find(b)
        missing = [w for w, r in ((a, ra), (b, rb)) if r is None]
        score = s.similarity(ra, rb) if not missing else None
        results.append({"a": a, "b": b, "similarity": score, "missing": missing})
    return {"space": s.name, "results": results}


@bp.post("/spaces/<space>/embed")
def embed(space):
    """Sentence vectors: a task space gives its classifier's pooling output, a word space
    the mean of the normalised vectors of the tokens it has (service/store/embed.py)."""
    from service.store.embed import embed_texts

    s = _space(space)
    texts = params.texts(params.json_body(), "texts")
    results = [{"vector": [float(x) for x in e.vector], "tokens": e.tokens, "missing": e.missing}
               for e in embed_texts(s, texts)]
    return {"space": s.name, "kind": s.describe()["kind"], "results": results}


@bp.get("/spaces/<space>/vectors/<path:word>")
def vector(space, word):
    s = _space(space)
    row = s.lookup(params.word(word))
    raw = s.raw_vector(row)
    return {"space": s.name, "word": word, "key": s.index_to_key[row],
            "vector": [float(x) for x in raw], "norm": float(s.norms[row])}
