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


def word(value, name: str = "word") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' must be a non-empty string", parameter=name)
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


def batch(body: dict, name: str, *, required: bool = True) -> list | None:
    value = body.get(name)
    if value is None and not required:
        return None
    limit = settings().max_batch
    if not isinstance(value, list) or not value:
        raise InvalidRequest(f"'{name}' must be a non-empty list", parameter=name)
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' has {len(value)} items; at most {limit} per request",
                             parameter=name)
    return value


def words(body: dict, name: str, *, required: bool = True) -> list[str]:
    values = batch(body, name, required=required)
    return [word(v, name) for v in values] if values is not None else []



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
