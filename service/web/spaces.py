"""The v1 HTTP API over loaded spaces: metadata, neighbours, analogies, similarity, vectors,
the vocabulary a page at a time, and exports.

Views read parameters through service/web/params.py, call the Space, and shape JSON here; they
hold no try/except (errors are turned into problem+json by service/errors.py).
"""
from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context

from service.errors import InvalidRequest
from service.store import export as exports
from service.store import restrict, vocabulary
from service.store.search import as_hits
from service.web import params
from service.web.state import state

bp = Blueprint("v1", __name__, url_prefix="/v1")


def registry():
    return state().registry


def _space(name: str):
    return registry().get(name)


def _neighbors(found) -> list[dict]:
    # Dicts, not the Neighbor objects: orjson writes a dict ten times faster than a dataclass.
    return [{"word": n.word, "score": n.score, "rank": n.rank} for n in found]


def _hits(hits) -> list[dict]:
    """The neighbours of Space.*_hits (keys and scores), as the API writes them."""
    words, scores = hits
    return [{"word": w, "score": d, "rank": r} for r, (w, d) in enumerate(zip(words, scores), 1)]


def _limits() -> dict:
    """What one request may hold (every limit, service/settings.py), so clients can split long
    lists to fit."""
    return params.settings().limits()


def _allowed(s, body: dict | None = None):
    """Rows that may answer, from `candidates` (body) and `restrict_vocab` (body or query);
    None when neither is given (the index is searched)."""
    if body is None:
        restrict_vocab, words = params.restrict_vocab(), None
    else:
        given = body.get("restrict_vocab", params.ABSENT)
        restrict_vocab = None if given is params.ABSENT else params.restrict_vocab(given)
        words = params.candidates(body)
    if words is None and restrict_vocab is None:
        return None
    rows = None if words is None else [r for r in (s.find(w) for w in words) if r is not None]
    return restrict.allowed_rows(s, rows, restrict_vocab)


def _unknown_candidates(s, body: dict) -> dict:
    words = params.candidates(body) or []
    missing = [w for w in words if s.find(w) is None]
    return {"unknown_candidates": missing} if missing else {}


@bp.get("/spaces")
def list_spaces():
    reg = registry()
    return {"spaces": [reg.spaces[name].describe() for name in reg.names], "limits": _limits()}


@bp.get("/spaces/<space>")
def get_space(space):
    return _space(space).describe()


@bp.get("/spaces/<space>/neighbors")
def neighbors(space):
    s = _space(space)
    word, k = params.query_word("word"), params.k()
    row = s.lookup(word)
    found = s.neighbor_hits([row], k, _allowed(s))[0]
    return {"space": s.name, "word": word, "key": s.index_to_key[row], "k": k,
            "neighbors": _hits(found)}


@bp.post("/spaces/<space>/neighbors")
def neighbors_batch(space):
    s = _space(space)
    body = params.json_body()
    k = params.k(body.get("k", 10))
    if ("words" in body) == ("vectors" in body):
        raise InvalidRequest("give exactly one of 'words' or 'vectors'")
    allowed = _allowed(s, body)
    extra = _unknown_candidates(s, body)
    if "vectors" in body:
        vectors = params.vectors(body)
        params.results(k, len(vectors))
        params.scan(allowed, len(vectors), body)
        xq = s.check_vectors(vectors)
        found = (s.search_hits(xq, k) if allowed is None
                 else [as_hits(f) for f in s.scan(xq, k, allowed)])
        results = [{"neighbors": _hits(f)} for f in found]
        return {"space": s.name, "k": k, "results": results, **extra}
    words = params.words(body, "words")
    params.results(k, len(words))
    params.scan(allowed, len(words), body)
    rows = [s.find(w) for w in words]
    present = [r for r in rows if r is not None]
    found = iter(s.neighbor_hits(present, k, allowed) if present else [])
    results = []
    for word, row in zip(words, rows):
        if row is None:
            results.append({"word": word, "found": False, "neighbors": []})
        else:
            results.append({"word": word, "found": True, "key": s.index_to_key[row],
                            "neighbors": _hits(next(found))})
    return {"space": s.name, "k": k, "results": results, **extra}


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
    limit = params.settings().max_analogy_words
    positive = params.words(body, "positive", limit=limit)
    negative = params.words(body, "negative", required=False, empty=True, limit=limit)
    k, method = params.k(body.get("k", 10)), params.method(body.get("method", "3cosadd"))
    found = s.analogy([s.lookup(w) for w in positive], [s.lookup(w) for w in negative], k, method,
                      _allowed(s, body))
    return {"space": s.name, "positive": positive, "negative": negative, "k": k,
            "method": method, "answers": _neighbors(found), **_unknown_candidates(s, body)}


@bp.get("/spaces/<space>/similarity")
def similarity(space):
    s = _space(space)
    a, b = params.query_word("a"), params.query_word("b")
    ra, rb = s.lookup(a), s.lookup(b)
    answer = {"space": s.name, "a": a, "b": b, "similarity": s.similarity(ra, rb)}
    if params.flag("rank"):
        answer["rank"] = s.rank(ra, rb)
    return answer


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
    the mean of the normalised vectors of the tokens it has, an imported model what its
    embed.json says (service/store/embed.py); `computed` and `exact` say which."""
    from service.store.embed import describe, embed_texts

    s = _space(space)
    texts = params.texts(params.json_body(), "texts")
    results = [{"vector": [float(x) for x in e.vector], "tokens": e.tokens, "missing": e.missing}
               for e in embed_texts(s, texts)]
    return {"space": s.name, "kind": s.describe()["kind"], **describe(s), "results": results}


@bp.get("/spaces/<space>/vectors/<path:word>")
def vector(space, word):
    s = _space(space)
    row = s.lookup(params.word(word))
    raw = s.raw_vector(row)
    return {"space": s.name, "word": word, "key": s.index_to_key[row], "index": row,
            "vector": [float(x) for x in raw], "norm": float(s.norms[row])}


@bp.post("/spaces/<space>/vectors")
def vectors(space):
    """Many stored vectors in one request; a missing word gives found: false."""
    s = _space(space)
    results = []
    for word in params.words(params.json_body(), "words"):
        row = s.find(word)
        if row is None:
            results.append({"word": word, "found": False})
        else:
            results.append({"word": word, "found": True, "key": s.index_to_key[row], "index": row,
                            "vector": [float(x) for x in s.raw_vector(row)],
                            "norm": float(s.norms[row])})
    return {"space": s.name, "results": results}


def _prefixes(s) -> vocabulary.PrefixIndex:
    """The space's sorted keys, made on the first prefix request and kept with the space."""
    cache = state().prefixes
    if s not in cache:
        cache[s] = vocabulary.PrefixIndex(s.index_to_key)
    return cache[s]


@bp.get("/spaces/<space>/words")
def words(space):
    s = _space(space)
    prefix = request.args.get("prefix", "")
    if len(prefix) > params.settings().max_word_length:
        raise InvalidRequest(f"'prefix' is longer than {params.settings().max_word_length} "
                             "characters", parameter="prefix")
    offset = params.whole("offset", 0, 0, None)
    most = params.settings().max_page
    limit = params.whole("limit", min(1000, most), 1, most)
    total, found = vocabulary.page(s.index_to_key, offset, limit, prefix,
                                   _prefixes(s) if prefix else None)
    return {"space": s.name, "prefix": prefix, "offset": offset, "limit": limit, "total": total,
            "words": found}


@bp.get("/spaces/<space>/export")
def export(space):
    """The space as the Embedding Projector's zip or word2vec text, streamed."""
    s = _space(space)
    fmt = params.choice("format", "projector", tuple(exports.FORMATS))
    limit = params.whole("limit", len(s), 1, None) if "limit" in request.args else None
    name = f"{s.name}-{fmt}{exports.SUFFIX[fmt]}"
    return Response(stream_with_context(exports.export(s, fmt, limit)), content_type=exports.FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
