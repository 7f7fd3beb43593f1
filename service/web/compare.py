"""/v1/compare/*: several spaces side by side (neighbours, sentences, analogies), their
scorecards, alignments between two of them, and plots; plus /v1/spaces/{space}/evaluation.

Views read parameters, call service/analysis/sidebyside.py, scorecard.py, alignment.py or plots.py,
and shape JSON here. Caches of scorecards and alignments live on the app.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, current_app, request

from service.analysis import alignment, plots, scorecard, sidebyside
from service.errors import InvalidRequest, NotFound, UnknownWord
from service.store import catalog
from service.web import params

bp = Blueprint("compare", __name__, url_prefix="/v1")

MAX_SPACES = 8
MAX_SENTENCES = 16
MAX_PLOT_WORDS = 40
MAX_PLOT_LABELS = 160  # words x spaces drawn in one picture: 40 words in 4 spaces, 20 in 8
MAX_PLOT_WORDS_PARAM = 800
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
    if not explicit:
        spaces = [s for s in spaces if s.find(word) is not None]
        if not spaces:
            raise UnknownWord(f"'{word}' is in none of the spaces", word=word,
                              spaces=_registry().names)
    result = sidebyside.compare_neighbors(spaces, word, k)
    if not explicit:
        result.absent = [n for n in _registry().names if n not in {s.name for s in spaces}]
    return asdict(result)


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


@bp.get("/compare/plot")
def plot_words():
    raw = request.args.get("words", "")
    parts = [w.strip(params.SPACE) for w in raw.split(",")]
    if not any(parts) or len(raw) > MAX_PLOT_WORDS_PARAM:
        raise InvalidRequest(f"'words' must be 1 to {MAX_PLOT_WORDS_PARAM} characters of "
                             "comma-separated words", parameter="words")
    words = list(dict.fromkeys(params.word(w, "words") for w in parts if w))
    if not 1 <= len(words) <= MAX_PLOT_WORDS:
        raise InvalidRequest(f"'words' must name 1 to {MAX_PLOT_WORDS} words", parameter="words")
    fmt = params.choice("format", "svg", tuple(plots.FORMATS))
    basis = params.choice("basis", "words", ("words", "frequent"))
    spaces = _spaces()
    if len(words) * len(spaces) > MAX_PLOT_LABELS:
        raise InvalidRequest(f"{len(words)} words in {len(spaces)} spaces: at most "
                             f"{MAX_PLOT_LABELS} words x spaces per picture", parameter="words")
    return _image(plots.words_plot(spaces, words, basis, fmt), fmt)


@bp.get("/compare/plot/learning-curve")
def plot_learning_curve():
    fmt = params.choice("format", "svg", tuple(plots.FORMATS))
    curve = catalog.read_experiment(params.settings().catalog, catalog.LEARNING_CURVE)
    if not curve or not curve.get("rows"):
        raise NotFound("no learning curve in the catalog; `wordspace build` (or `wordspace "
                       "experiment learning-curve`) publishes one")
    return _image(plots.learning_curve_plot({curve.get("dataset", "task"): curve}, fmt), fmt)


@bp.get("/compare/plot/scorecard")
def plot_scorecard():
    fmt = params.choice("format", "svg", tuple(plots.FORMATS))
    evals = evaluations()
    return _image(plots.scorecard_plot({s.name: evals.get(s) for s in _spaces()}, fmt), fmt)
