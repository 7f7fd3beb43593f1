"""Read and bound request parameters once, at the edge; every failure is an InvalidRequest
that says which parameter is wrong and what is allowed."""
from __future__ import annotations

from flask import current_app, request

from service.errors import InvalidRequest

METHODS = ("3cosadd", "3cosmul")


def settings():
    return current_app.extensions["wordspace.settings"]


def json_body() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def query_word(name: str) -> str:
    value = request.args.get(name)
    if value is None:
        raise InvalidRequest(f"query parameter '{name}' is required", parameter=name)
    return word(value, name)


def word(value, name: str = "word", limit: int | None = None) -> str:
    """A non-empty string of at most `limit` (default WORDSPACE_MAX_WORD_LENGTH) characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' must be a non-empty string", parameter=name)
    if limit is None:
        limit = settings().max_word_length
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters", parameter=name)
    return value


_QUERY = object()


def k(value=_QUERY) -> int:
    """k from the query string (or the given body value), 1..WORDSPACE_MAX_K, default 10."""
    raw = request.args.get("k", 10) if value is _QUERY else value
    limit = settings().max_k
    if isinstance(raw, bool):
        raw = None
    try:
        number = int(raw)
        if isinstance(raw, float) and raw != number:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidRequest(f"'k' must be an integer from 1 to {limit}", parameter="k") from None
    if not 1 <= number <= limit:
        raise InvalidRequest(f"'k' must be from 1 to {limit}; got {number}", parameter="k")
    return number


def integer(name: str, default: int, high: int) -> int:
    """An integer query parameter from 1 to `high`."""
    raw = request.args.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidRequest(f"'{name}' must be an integer from 1 to {high}", parameter=name) from None
    if not 1 <= value <= high:
        raise InvalidRequest(f"'{name}' must be from 1 to {high}; got {value}", parameter=name)
    return value


def choice(name: str, default: str, allowed) -> str:
    """A query parameter that is one of `allowed` (case-folded)."""
    value = request.args.get(name, default).lower()
    if value not in allowed:
        raise InvalidRequest(f"'{name}' must be one of {', '.join(allowed)}", parameter=name)
    return value


def method(value=_QUERY) -> str:
    raw = request.args.get("method", "3cosadd") if value is _QUERY else value
    if not isinstance(raw, str) or raw.lower() not in METHODS:
        raise InvalidRequest(f"'method' must be one of {', '.join(METHODS)}", parameter="method")
    return raw.lower()


def batch(body: dict, name: str, *, required: bool = True, empty: bool = False) -> list | None:
    """A list from the body, at most WORDSPACE_MAX_BATCH items; empty only if `empty`."""
    value = body.get(name)
    if value is None and not required:
        return None
    limit = settings().max_batch
    if not isinstance(value, list) or (not value and not empty):
        raise InvalidRequest(f"'{name}' must be a {'' if empty else 'non-empty '}list", parameter=name)
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' has {len(value)} items; at most {limit} per request",
                             parameter=name)
    return value


def words(body: dict, name: str, *, required: bool = True, empty: bool = False) -> list[str]:
    values = batch(body, name, required=required, empty=empty)
    limit = settings().max_word_length  # read once, not per word of a 1,000-word batch
    return [word(v, name, limit) for v in values] if values is not None else []


def texts(body: dict, name: str) -> list[str]:
    """A batch of texts, each a string of at most WORDSPACE_MAX_TEXT_LENGTH characters."""
    values = batch(body, name)
    limit = settings().max_text_length
    for value in values:
        if not isinstance(value, str):
            raise InvalidRequest(f"every item of '{name}' must be a string", parameter=name)
        if len(value) > limit:
            raise InvalidRequest(f"a text in '{name}' is longer than {limit} characters",
                                 parameter=name)
    return values


# Most candidate words in one request; the body limit (WORDSPACE_MAX_BODY_BYTES) applies too.
MAX_CANDIDATES = 100_000
# Most words in one page of GET /v1/spaces/{space}/words.
MAX_PAGE = 10_000


def restrict_vocab(value=_QUERY) -> int | None:
    """restrict_vocab=N from the query (or the given body value): only the N most frequent
    words may answer (gensim's meaning); None when absent."""
    raw = request.args.get("restrict_vocab") if value is _QUERY else value
    if raw is None:
        return None
    try:
        number = int(raw)
        if isinstance(raw, (bool, float)):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidRequest("'restrict_vocab' must be a positive integer",
                             parameter="restrict_vocab") from None
    if number < 1:
        raise InvalidRequest("'restrict_vocab' must be a positive integer", parameter="restrict_vocab")
    return number


def candidates(body: dict) -> list[str] | None:
    """The body's "candidates": the only words that may answer; None when absent."""
    value = body.get("candidates")
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidRequest("'candidates' must be a non-empty list of words", parameter="candidates")
    if len(value) > MAX_CANDIDATES:
        raise InvalidRequest(f"'candidates' has {len(value)} words; at most {MAX_CANDIDATES}",
                             parameter="candidates")
    return [word(v, "candidates") for v in value]


def whole(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter from `low` to `high`."""
    raw = request.args.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidRequest(f"'{name}' must be an integer from {low} to {high}", parameter=name) from None
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be from {low} to {high}; got {value}", parameter=name)
    return value


def flag(name: str) -> bool:
    """A true/false query parameter, false when absent."""
    return choice(name, "false", ("true", "false", "1", "0")) in ("true", "1")
