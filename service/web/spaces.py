"""The v1 HTTP API over loaded spaces: metadata, neighbours, analogies, similarity, vectors,
the vocabulary a page at a time, and exports.

Views read parameters through service/web/params.py, call the Space, and shape JSON here; they
hold no try/except (service/web/problems.py turns errors into problem+json).
"""
from __future__ import annotations

from flask import Blueprint, Response, stream_with_context

from service.store import export as exports
from service.store import restrict, vocabulary
from service.web import params
from service.web.state import state

bp = Blueprint("v1", __name__, url_prefix="/v1")


def registry():
    return state().registry


def _space(name: str):
    return registry().get(name)


def _neighbors(found) -> list[dict]:
    """The store's `Neighbor`s as the API writes them (the one place they become JSON)."""
    # Dicts, not the Neighbor objects: orjson writes a dict ten times faster than a dataclass.
    return [{"word": n.word, "score": n.score, "rank": n.rank} for n in found]


def _limits() -> dict:
    """What one request may hold (every limit, service/settings.py), so clients can split long
    lists to fit."""
    return params.settings().limits()


def _allowed(s, given: dict) -> tuple:
    """Rows that may answer, from `candidates` (a body's) and `restrict_vocab` (the query's or
    a body's), None when neither is given (the index is searched); and the answer's
    `unknown_candidates` ({} when every candidate is in the space). Each candidate is looked
    up once."""
    words, restrict_vocab = given.get("candidates"), given.get("restrict_vocab")
    if words is None and restrict_vocab is None:
        return None, {}
    rows, missing = None, []
    if words is not None:
        found = [(w, s.find(w)) for w in words]
        rows = [r for _, r in found if r is not None]
        missing = [w for w, r in found if r is None]
    extra = {"unknown_candidates": missing} if missing else {}
    return restrict.allowed_rows(s, rows, restrict_vocab), extra


@bp.get("/spaces")
def list_spaces():
    reg = registry()
    body = {"spaces": [reg.spaces[name].describe() for name in reg.names], "limits": _limits()}
    refused = [{"space": name, "version": s.refused, "reason": s.summary}
               for name, s in sorted(reg.states.items()) if s.error]
    if refused:
        body["refused"] = refused
    return body


@bp.get("/spaces/<space>")
def get_space(space):
    return _space(space).describe()


@bp.get("/spaces/<space>/neighbors")
def neighbors(space):
    s = _space(space)
    q = params.args()
    word, k = q["word"], q["k"]
    row = s.lookup(word)
    found = s.neighbors([row], k, _allowed(s, q)[0])[0]
    return {"space": s.name, "word": word, "key": s.index_to_key[row], "k": k,
            "neighbors": _neighbors(found)}


@bp.post("/spaces/<space>/neighbors")
def neighbors_batch(space):
    s = _space(space)
    body = params.body()  # exactly one of words or vectors (the schema's oneOf)
    k = body["k"]
    allowed, extra = _allowed(s, body)
    if "vectors" in body:
        vectors = body["vectors"]
        params.results(k, len(vectors))
        params.scan(allowed, len(vectors), body)
        xq = s.check_vectors(vectors)
        results = [{"neighbors": _neighbors(f)} for f in s.search(xq, k, allowed=allowed)]
        return {"space": s.name, "k": k, "results": results, **extra}
    words = body["words"]
    params.results(k, len(words))
    params.scan(allowed, len(words), body)
    rows = [s.find(w) for w in words]
    present = [r for r in rows if r is not None]
    found = iter(s.neighbors(present, k, allowed) if present else [])
    results = []
    for word, row in zip(words, rows):
        if row is None:
            results.append({"word": word, "found": False, "neighbors": []})
        else:
            results.append({"word": word, "found": True, "key": s.index_to_key[row],
                            "neighbors": _neighbors(next(found))})
    return {"space": s.name, "k": k, "results": results, **extra}


@bp.get("/spaces/<space>/analogy")
def analogy(space):
    s = _space(space)
    q = params.args()
    a, b, c, k, method = q["a"], q["b"], q["c"], q["k"], q["method"]
    found = s.analogy([s.lookup(b), s.lookup(c)], [s.lookup(a)], k, method)
    return {"space": s.name, "a": a, "b": b, "c": c, "k": k, "method": method,
            "answers": _neighbors(found)}


@bp.post("/spaces/<space>/analogy")
def analogy_post(space):
    s = _space(space)
    body = params.body()
    positive, negative = body["positive"], body.get("negative", [])
    k, method = body["k"], body["method"].lower()
    allowed, extra = _allowed(s, body)
    found = s.analogy([s.lookup(w) for w in positive], [s.lookup(w) for w in negative], k, method,
                      allowed)
    return {"space": s.name, "positive": positive, "negative": negative, "k": k,
            "method": method, "answers": _neighbors(found), **extra}


@bp.get("/spaces/<space>/similarity")
def similarity(space):
    s = _space(space)
    q = params.args()
    a, b = q["a"], q["b"]
    ra, rb = s.lookup(a), s.lookup(b)
    answer = {"space": s.name, "a": a, "b": b, "similarity": s.similarity(ra, rb)}
    if q["rank"]:
        answer["rank"] = s.rank(ra, rb)
    return answer


@bp.post("/spaces/<space>/similarity")
def similarity_batch(space):
    s = _space(space)
    results = []
    for a, b in params.body()["pairs"]:  # pairs of words (the schema's)
        ra, rb = s.find(a), s.find(b)
        missing = [w for w, r in ((a, ra), (b, rb)) if r is None]
        score = s.similarity(ra, rb) if not missing else None
        results.append({"a": a, "b": b, "similarity": score, "missing": missing})
    return {"space": s.name, "results": results}


@bp.post("/spaces/<space>/embed")
def embed(space):
    """Sentence vectors: a task space gives its classifier's pooling output, a word space
    the mean of the normalised vectors of the tokens it has, an imported model what its
    embed.json says (service/store/embed.py); `computed` and `exact` say which."""
    from service.store.embed import describe
    from service.store.onnx_sentences import sentence_vectors

    s = _space(space)
    texts = params.body()["texts"]
    results = [{"vector": [float(x) for x in e.vector], "tokens": e.tokens, "missing": e.missing}
               for e in sentence_vectors(s, texts)]
    return {"space": s.name, "kind": s.describe()["kind"], **describe(s), "results": results}


@bp.get("/spaces/<space>/vectors/<path:word>")
def vector(space, word):
    s = _space(space)
    row = s.lookup(params.arg("word"))
    raw = s.raw_vector(row)
    return {"space": s.name, "word": word, "key": s.index_to_key[row], "index": row,
            "vector": [float(x) for x in raw], "norm": float(s.norms[row])}


@bp.post("/spaces/<space>/vectors")
def vectors(space):
    """Many stored vectors in one request; a missing word gives found: false."""
    s = _space(space)
    results = []
    for word in params.body()["words"]:
        row = s.find(word)
        if row is None:
            results.append({"word": word, "found": False})
        else:
            results.append({"word": word, "found": True, "key": s.index_to_key[row], "index": row,
                            "vector": [float(x) for x in s.raw_vector(row)],
                            "norm": float(s.norms[row])})
    return {"space": s.name, "results": results}


def _prefixes(s) -> vocabulary.PrefixIndex:
    """The space's sorted keys, made when it loads (create_app), else on the first prefix
    request, and kept with the space."""
    cache = state().prefixes
    if s not in cache:
        cache[s] = vocabulary.PrefixIndex(s.index_to_key)
    return cache[s]


@bp.get("/spaces/<space>/words")
def words(space):
    s = _space(space)
    q = params.args()
    prefix, offset, limit = q.get("prefix", ""), q["offset"], q["limit"]
    total, found = vocabulary.page(s.index_to_key, offset, limit, prefix,
                                   _prefixes(s) if prefix else None)
    return {"space": s.name, "prefix": prefix, "offset": offset, "limit": limit, "total": total,
            "words": found}


@bp.get("/spaces/<space>/export")
def export(space):
    """The space as the Embedding Projector's zip or word2vec text, streamed."""
    s = _space(space)
    q = params.args()
    fmt, limit = q["format"], q.get("limit")
    name = f"{s.name}-{fmt}{exports.SUFFIX[fmt]}"
    return Response(stream_with_context(exports.export(s, fmt, limit)), content_type=exports.FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
