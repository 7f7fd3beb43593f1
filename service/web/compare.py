"""/v1/compare/*: several spaces side by side (neighbours, word pairs, sentences, analogies),
the verdict, their scorecards, alignments between two of them, projections and plots; plus
/v1/spaces/{space}/evaluation. Which spaces each compares: service/web/selection.py.

Views read parameters, call service/analysis/sidebyside.py, verdict.py, scorecard.py,
alignment.py, projection.py or plots.py, and shape JSON here. Caches of scorecards and
alignments live on the app.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, request

from service.analysis import alignment, plots, projection, scorecard, sidebyside, verdict
from service.errors import InvalidRequest, UnknownWord
from service.settings import MAX_PLOT_LABELS, MAX_PLOT_WORDS, MAX_PLOT_WORDS_PARAM
from service.web import experiments, params, selection
from service.web.state import state

bp = Blueprint("compare", __name__, url_prefix="/v1")


def _registry():
    return state().registry


def evaluations() -> scorecard.Evaluations:
    """The scorecards, made by create_app and warmed whenever the spaces (re)load."""
    return state().evaluations


def _alignments() -> alignment.Alignments:
    return state().alignments


def _no_refresh() -> None:
    """Recomputing a scorecard takes seconds of CPU: only the admin route does it."""
    if "refresh" in request.args:
        raise InvalidRequest("scorecards are recomputed by the admin route POST "
                             "/v1/admin/spaces/{space}/evaluation (needs an API key)",
                             parameter="refresh")


def _pair() -> tuple:
    reg, q = _registry(), params.args()
    source, target = reg.get(q["source"]), reg.get(q["target"])
    if source is target:
        raise InvalidRequest("'source' and 'target' must be different spaces", parameter="target")
    return source, target


@bp.get("/compare/neighbors")
def neighbors():
    q = params.args()
    word, k = q["word"], q["k"]
    absent, candidates = [], None
    if not selection.named():  # every space that has the word (at most MAX_SPACES of them)
        loaded = [_registry().get(n) for n in _registry().names]
        absent = [s for s in loaded if s.find(word) is None]
        candidates = [s for s in loaded if s not in absent]
        if not candidates:
            raise UnknownWord(f"'{word}' is in none of the spaces", word=word,
                              spaces=_registry().names,
                              suggestions=sidebyside.suggest_everywhere(absent, word))
    chosen = selection.few(candidates=candidates)
    result = sidebyside.compare_neighbors(chosen.spaces, word, k)
    if absent:
        result.absent = [s.name for s in absent]
        result.suggestions = sidebyside.suggest_everywhere(absent, word)
    return {**asdict(result), **chosen.said()}


def _query_pairs(raw: str) -> list[tuple[str, str]]:
    """`pairs` as "a:b,c:d" (its length bounded by the spec), at most WORDSPACE_MAX_BATCH
    pairs of words (POST takes [["a", "b"], ...], checked by the spec)."""
    raw = [item.split(":") for item in raw.split(",") if item.strip(params.SPACE)]
    limit = params.settings().max_batch
    if not raw:
        raise InvalidRequest("'pairs' must name at least one pair: 'good:bad,alps:himalaya' "
                             "in the query, [[\"good\", \"bad\"]] in a body", parameter="pairs")
    if len(raw) > limit:
        raise InvalidRequest(f"'pairs' has {len(raw)} pairs; at most {limit} per request",
                             parameter="pairs")
    if any(len(pair) != 2 for pair in raw):
        raise InvalidRequest("each pair must be two words ('a:b', or [\"a\", \"b\"])",
                             parameter="pairs")
    return [(params.word(a.strip(params.SPACE), "pairs"), params.word(b.strip(params.SPACE), "pairs"))
            for a, b in raw]


@bp.get("/compare/similarity")
def similarity():
    return _similarity(_query_pairs(params.arg("pairs")), selection.every())


@bp.post("/compare/similarity")
def similarity_batch():
    body = params.body()
    return _similarity([tuple(pair) for pair in body["pairs"]], selection.every(body.get("spaces", [])))


def _similarity(pairs, spaces) -> dict:
    results = sidebyside.compare_similarity(spaces, pairs)
    return {"spaces": [s.name for s in spaces], "results": [asdict(r) for r in results]}


@bp.get("/compare/verdict")
def compare_verdict():
    return asdict(verdict.compute(selection.every(), evaluations()))


@bp.post("/compare/sentences")
def sentences():
    body = params.body()
    texts = body["sentences"]
    chosen = selection.few(body.get("spaces", []))
    return {"sentences": texts, **chosen.said(),
            "spaces": [asdict(r) for r in sidebyside.compare_sentences(chosen.spaces, texts)]}


@bp.get("/compare/analogy")
def analogy():
    q = params.args()
    a, b, c, k, method, expected = q["a"], q["b"], q["c"], q["k"], q["method"], q.get("expected")
    chosen = selection.few()
    results = sidebyside.compare_analogy(chosen.spaces, a, b, c, k, method, expected)
    return {"a": a, "b": b, "c": c, "k": k, "method": method, "expected": expected,
            "spaces": [asdict(r) for r in results], **chosen.said()}


def _card(space) -> dict:
    """The scorecard under the name the space is served as (a copied folder keeps the
    name it was built under)."""
    return {**evaluations().get(space), "space": space.name}


@bp.get("/spaces/<space>/evaluation")
def space_evaluation(space):
    _no_refresh()
    return _card(_registry().get(space))


@bp.get("/compare/evaluation")
def compare_evaluation():
    _no_refresh()
    spaces = selection.every()
    evals = evaluations()
    body = {"spaces": [_card(s) for s in spaces], "shared": None}
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
    return {k: getattr(fit, k) for k in alignment.SUMMARY}


@bp.get("/compare/align")
def align():
    source, target = _pair()
    return _alignment_json(_alignments().get(source, target))


@bp.get("/compare/translate")
def translate():
    source, target = _pair()
    q = params.args()
    word, k = q["word"], q["k"]
    fit = _alignments().get(source, target)
    found = alignment.translate(fit, source, target, source.lookup(word), k)
    return {"source": source.name, "target": target.name, "k": k, **asdict(found),
            "alignment": _alignment_json(fit)}


@bp.get("/compare/drift")
def drift():
    source, target = _pair()
    n = params.arg("n")
    fit = _alignments().get(source, target)
    return {"source": source.name, "target": target.name, "n": n,
            "words": [asdict(d) for d in alignment.drift(fit, source, target, n)],
            "alignment": _alignment_json(fit)}


def _image(data: bytes, fmt: str) -> Response:
    return Response(data, mimetype=plots.FORMATS[fmt])


def _projections() -> tuple[list[projection.SpaceProjection], selection.Selection]:
    """`words=a,b,c` (those words in every space) or `word=W&k=N` (W and its own N nearest
    neighbours in each space), projected in every compared space, in their order."""
    q = params.args()  # k is checked whenever given, used with `word`
    basis, raw, word, k = q["basis"], q.get("words"), q.get("word"), q["k"]
    if raw is not None and word is not None:
        raise InvalidRequest("give 'words', or 'word' with 'k', not both", parameter="word")
    if word is not None:
        chosen = selection.few()
        return [projection.project_neighbors(s, word, k, basis) for s in chosen.spaces], chosen
    parts = [w.strip(params.SPACE) for w in (raw or "").split(",")]
    if not any(parts):
        raise InvalidRequest(f"'words' must be 1 to {MAX_PLOT_WORDS_PARAM} characters of "
                             "comma-separated words (or give 'word' and 'k')", parameter="words")
    words = list(dict.fromkeys(params.word(w, "words") for w in parts if w))
    if not 1 <= len(words) <= MAX_PLOT_WORDS:
        raise InvalidRequest(f"'words' must name 1 to {MAX_PLOT_WORDS} words", parameter="words")
    chosen = selection.few()
    return [projection.project(s, words, basis) for s in chosen.spaces], chosen


@bp.get("/compare/projection")
def project():
    found, chosen = _projections()
    return {"spaces": [asdict(p) for p in found], "absent": projection.absent_from(found),
            **chosen.said()}


@bp.get("/compare/plot")
def plot_words():
    fmt = params.arg("format")
    found, chosen = _projections()
    labels = sum(len(p.points) for p in found)
    if labels > MAX_PLOT_LABELS:
        raise InvalidRequest(f"{labels} words to draw in {len(found)} spaces: at most "
                             f"{MAX_PLOT_LABELS} per picture (fewer words or spaces)",
                             parameter="words")
    return chosen.mark(_image(plots.words_plot(found, fmt), fmt))


@bp.get("/compare/plot/learning-curve")
def plot_learning_curve():
    fmt = params.arg("format")
    return _image(plots.learning_curve_plot(experiments.curves(), fmt), fmt)


@bp.get("/compare/plot/scorecard")
def plot_scorecard():
    fmt = params.arg("format")
    evals = evaluations()
    chosen = selection.few()  # bars of more spaces than this are no longer legible
    return chosen.mark(_image(plots.scorecard_plot({s.name: evals.get(s) for s in chosen.spaces},
                                                   fmt), fmt))


@bp.get("/compare/spaces")
def spaces_overlap():
    """Jaccard overlap of the k nearest neighbours of every shared word in two spaces."""
    reg, q = _registry(), params.args()
    a, b = reg.get(q["a"]), reg.get(q["b"])
    if a is b:
        raise InvalidRequest("'a' and 'b' must be different spaces", parameter="b")
    return _comparisons().get(a, b, q["k"], q.get("sample"), q["seed"], q["n"])


def _comparisons():
    """Each pair's whole-vocabulary neighbour lists, computed once per k, and the answers."""
    return state().comparisons
