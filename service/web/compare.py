"""/v1/compare/*: several spaces side by side (neighbours, word pairs, sentences, analogies),
the verdict, their scorecards, alignments between two of them, projections and plots; plus
/v1/spaces/{space}/evaluation.

Views read parameters, call service/analysis/sidebyside.py, verdict.py, scorecard.py,
alignment.py, projection.py or plots.py, and shape JSON here. Caches of scorecards and
alignments live on the app.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, current_app, request

from service.analysis import alignment, plots, projection, scorecard, sidebyside, verdict
from service.errors import InvalidRequest, UnknownWord
from service.web import experiments, params

bp = Blueprint("compare", __name__, url_prefix="/v1")

MAX_SPACES = 8
MAX_SENTENCES = 16
MAX_PLOT_WORDS = 40
MAX_PLOT_LABELS = 160  # words x spaces drawn in one picture: 40 words in 4 spaces, 20 in 8
MAX_PLOT_WORDS_PARAM = 800
MAX_PLOT_NEIGHBORS = 30
MAX_PAIRS_PARAM = 300  # with `spaces`, keeps the URL under gunicorn's request-line limit
MAX_DRIFT = 100  # each word costs a neighbour search in both spaces


def _registry():
    return current_app.extensions["wordspace"]


def evaluations() -> scorecard.Evaluations:
    """The scorecards, made by create_app and warmed whenever the spaces (re)load."""
    return current_app.extensions["wordspace.evaluations"]


def _alignments() -> alignment.Alignments:
    return current_app.extensions.setdefault("wordspace.alignments", alignment.Alignments())


# 8 names of at most 64 characters and their commas: keeps every URL under gunicorn's
# request-line limit even when percent-encoded.
MAX_SPACES_PARAM = 520


def _spaces(raw=None, *, minimum: int = 1) -> list:
    """The spaces named in `spaces` (comma-separated or a JSON list), default all loaded."""
    raw = request.args.get("spaces") if raw is None else raw
    reg = _registry()
    if raw is None or raw == "" or raw == []:
        names = reg.names
    elif isinstance(raw, str):
        if len(raw) > MAX_SPACES_PARAM:
            raise InvalidRequest(f"'spaces' is longer than {MAX_SPACES_PARAM} characters",
                                 parameter="spaces")
        names = [n.strip(params.SPACE) for n in raw.split(",") if n.strip(params.SPACE)]
    elif isinstance(raw, list) and all(isinstance(n, str) for n in raw):
        names = raw
    else:
        raise InvalidRequest("'spaces' must be a list of space names", parameter="spaces")
    names = list(dict.fromkeys(names)) or reg.names  # "spaces=," names none: all, like "spaces="
    if len(names) > MAX_SPACES:
        raise InvalidRequest(f"at most {MAX_SPACES} spaces per comparison", parameter="spaces")
    if len(names) < minimum:
        raise InvalidRequest(f"compare at least {minimum} spaces; loaded: {', '.join(reg.names)}",
                             parameter="spaces")
    return [reg.get(n) for n in names]


def _no_refresh() -> None:
    """Recomputing a scorecard takes seconds of CPU: only the admin route does it."""
    if "refresh" in request.args:
        raise InvalidRequest("scorecards are recomputed by the admin route POST "
                             "/v1/admin/spaces/{space}/evaluation (needs an API key)",
                             parameter="refresh")


def _pair() -> tuple:
    reg = _registry()
    source, target = reg.get(params.query_word("source")), reg.get(params.query_word("target"))
    if source is target:
        raise InvalidRequest("'source' and 'target' must be different spaces", parameter="target")
    return source, target


@bp.get("/compare/neighbors")
def neighbors():
    word, k = params.query_word("word"), params.k()
    explicit = request.args.get("spaces")
    spaces = _spaces()
    absent = []
    if not explicit:
        absent = [s for s in spaces if s.find(word) is None]
        spaces = [s for s in spaces if s not in absent]
        if not spaces:
            raise UnknownWord(f"'{word}' is in none of the spaces", word=word,
                              spaces=_registry().names,
                              suggestions=sidebyside.suggest_everywhere(absent, word))
    result = sidebyside.compare_neighbors(spaces, word, k)
    if absent:
        result.absent = [s.name for s in absent]
        result.suggestions = sidebyside.suggest_everywhere(absent, word)
    return asdict(result)


def _pair_list(raw, query: bool) -> list[tuple[str, str]]:
    """`pairs` as "a:b,c:d" (query) or [["a", "b"], ...] (body), at most WORDSPACE_MAX_BATCH."""
    if query:
        if len(raw) > MAX_PAIRS_PARAM:
            raise InvalidRequest(f"'pairs' is longer than {MAX_PAIRS_PARAM} characters",
                                 parameter="pairs")
        raw = [item.split(":") for item in raw.split(",") if item.strip(params.SPACE)]
    limit = params.settings().max_batch
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'pairs' must name at least one pair: 'good:bad,alps:himalaya' "
                             "in the query, [[\"good\", \"bad\"]] in a body", parameter="pairs")
    if len(raw) > limit:
        raise InvalidRequest(f"'pairs' has {len(raw)} pairs; at most {limit} per request",
                             parameter="pairs")
    pairs = []
    for pair in raw:
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidRequest("each pair must be two words ('a:b', or [\"a\", \"b\"])",
                                 parameter="pairs")
        pairs.append(tuple(params.word(w.strip(params.SPACE) if isinstance(w, str) else w, "pairs")
                           for w in pair))
    return pairs


@bp.get("/compare/similarity")
def similarity():
    return _similarity(_pair_list(request.args.get("pairs", ""), query=True), _spaces())


@bp.post("/compare/similarity")
def similarity_batch():
    body = params.json_body()
    if not isinstance(body.get("spaces", []), list):
        raise InvalidRequest("'spaces' must be a list of space names", parameter="spaces")
    return _similarity(_pair_list(body.get("pairs"), query=False), _spaces(body.get("spaces", [])))


def _similarity(pairs, spaces) -> dict:
    results = sidebyside.compare_similarity(spaces, pairs)
    return {"spaces": [s.name for s in spaces], "results": [asdict(r) for r in results]}


@bp.get("/compare/verdict")
def compare_verdict():
    return asdict(verdict.compute(_spaces(), evaluations()))


@bp.post("/compare/sentences")
def sentences():
    body = params.json_body()
    texts = body.get("sentences")
    chars = params.settings().max_text_length
    if not isinstance(texts, list) or not 2 <= len(texts) <= MAX_SENTENCES or not all(
            isinstance(t, str) and 0 < len(t) <= chars for t in texts):
        raise InvalidRequest(f"'sentences' must be a list of 2 to {MAX_SENTENCES} non-empty "
                             f"strings of at most {chars} characters (WORDSPACE_MAX_TEXT_LENGTH)",
                             parameter="sentences")
    if not isinstance(body.get("spaces", []), list):
        raise InvalidRequest("'spaces' must be a list of space names", parameter="spaces")
    spaces = _spaces(body.get("spaces", []))
    return {"sentences": texts,
            "spaces": [asdict(r) for r in sidebyside.compare_sentences(spaces, texts)]}


@bp.get("/compare/analogy")
def analogy():
    a, b, c = (params.query_word(n) for n in "abc")
    k, method = params.k(), params.method()
    expected = params.word(request.args["expected"], "expected") if "expected" in request.args else None
    results = sidebyside.compare_analogy(_spaces(), a, b, c, k, method, expected)
    return {"a": a, "b": b, "c": c, "k": k, "method": method, "expected": expected,
            "spaces": [asdict(r) for r in results]}


@bp.get("/spaces/<space>/evaluation")
def space_evaluation(space):
    _no_refresh()
    return evaluations().get(_registry().get(space))


@bp.get("/compare/evaluation")
def compare_evaluation():
    _no_refresh()
    spaces = _spaces()
    evals = evaluations()
    body = {"spaces": [evals.get(s) for s in spaces], "shared": None}
    if len(spaces) > 1:
        # Computed when the spaces load, for all of them together (seconds of CPU); another
        # set of spaces is answered without, rather than holding a worker for seconds.
        body["shared"] = evals.shared(sorted(spaces, key=lambda s: s.name), compute=False)
        if body["shared"] is None:
            body["shared_note"] = ("shared-vocabulary scores are computed at start for all "
                                   f"loaded spaces together ({', '.join(_registry().names)}); "
                                   "ask without 'spaces' for them")
    return body


def _alignment_json(fit: alignment.Alignment) -> dict:
    return {k: v for k, v in asdict(fit).items() if k not in ("W", "words", "cosines")}


@bp.get("/compare/align")
def align():
    source, target = _pair()
    return _alignment_json(_alignments().get(source, target))


@bp.get("/compare/translate")
def translate():
    source, target = _pair()
    word, k = params.query_word("word"), params.k()
    fit = _alignments().get(source, target)
    found = alignment.translate(fit, source, target, source.lookup(word), k)
    return {"source": source.name, "target": target.name, "k": k, **asdict(found),
            "alignment": _alignment_json(fit)}


@bp.get("/compare/drift")
def drift():
    source, target = _pair()
    n = params.integer("n", 50, MAX_DRIFT)
    fit = _alignments().get(source, target)
    return {"source": source.name, "target": target.name, "n": n,
            "words": [asdict(d) for d in alignment.drift(fit, source, target, n)],
            "alignment": _alignment_json(fit)}


def _image(data: bytes, fmt: str) -> Response:
    return Response(data, mimetype=plots.FORMATS[fmt])


def _projections() -> list[projection.SpaceProjection]:
    """`words=a,b,c` (those words in every space) or `word=W&k=N` (W and its own N nearest
    neighbours in each space), projected in every compared space, in their order."""
    basis = params.choice("basis", "words", ("words", "frequent"))
    raw = request.args.get("words")
    k = params.integer("k", 10, MAX_PLOT_NEIGHBORS)  # checked whenever given, used with `word`
    if raw is not None and "word" in request.args:
        raise InvalidRequest("give 'words', or 'word' with 'k', not both", parameter="word")
    if raw is None and "word" in request.args:
        word = params.query_word("word")
        return [projection.project_neighbors(s, word, k, basis) for s in _spaces()]
    raw = raw or ""
    parts = [w.strip(params.SPACE) for w in raw.split(",")]
    if not any(parts) or len(raw) > MAX_PLOT_WORDS_PARAM:
        raise InvalidRequest(f"'words' must be 1 to {MAX_PLOT_WORDS_PARAM} characters of "
                             "comma-separated words (or give 'word' and 'k')", parameter="words")
    words = list(dict.fromkeys(params.word(w, "words") for w in parts if w))
    if not 1 <= len(words) <= MAX_PLOT_WORDS:
        raise InvalidRequest(f"'words' must name 1 to {MAX_PLOT_WORDS} words", parameter="words")
    return [projection.project(s, words, basis) for s in _spaces()]


@bp.get("/compare/projection")
def project():
    found = _projections()
    return {"spaces": [asdict(p) for p in found], "absent": projection.absent_from(found)}


@bp.get("/compare/plot")
def plot_words():
    fmt = params.choice("format", "svg", tuple(plots.FORMATS))
    found = _projections()
    labels = sum(len(p.points) for p in found)
    if labels > MAX_PLOT_LABELS:
        raise InvalidRequest(f"{labels} words to draw in {len(found)} spaces: at most "
                             f"{MAX_PLOT_LABELS} per picture (fewer words or spaces)",
                             parameter="words")
    return _image(plots.words_plot(found, fmt), fmt)


@bp.get("/compare/plot/learning-curve")
def plot_learning_curve():
    fmt = params.choice("format", "svg", tuple(plots.FORMATS))
    return _image(plots.learning_curve_plot(experiments.curves(), fmt), fmt)


@bp.get("/compare/plot/scorecard")
def plot_scorecard():
    fmt = params.choice("format", "svg", tuple(plots.FORMATS))
    evals = evaluations()
    return _image(plots.scorecard_plot({s.name: evals.get(s) for s in _spaces()}, fmt), fmt)


MAX_SPACE_K = 100  # neighbours per word in /v1/compare/spaces
MAX_LISTED = 100  # most and least similar words listed by /v1/compare/spaces


@bp.get("/compare/spaces")
def spaces_overlap():
    """Jaccard overlap of the k nearest neighbours of every shared word in two spaces."""
    reg = _registry()
    a, b = reg.get(params.query_word("a")), reg.get(params.query_word("b"))
    if a is b:
        raise InvalidRequest("'a' and 'b' must be different spaces", parameter="b")
    k = params.integer("k", 10, MAX_SPACE_K)
    sample = params.integer("sample", 1, 2**31) if "sample" in request.args else None
    seed = params.whole("seed", 0, 0, 2**31)
    n = params.integer("n", 20, MAX_LISTED)
    return _comparisons().get(a, b, k, sample, seed, n)


def _comparisons():
    """Each pair's whole-vocabulary neighbour lists, computed once per k, and the answers."""
    from service.analysis.neighborhoods import Comparisons

    return current_app.extensions.setdefault("wordspace.space-comparisons", Comparisons())
