"""Read and bound request parameters once, at the edge; every failure is an InvalidRequest
that says which parameter is wrong and what is allowed.

Types are held to what openapi.yaml says: an integer is a JSON integer (not "5", not true)
or, in a query string, ASCII digits; a number is a JSON number (not a boolean); a word has
a character outside the whitespace of the spec's pattern (ECMAScript's). The JSON body is
decoded here and only here: finite numbers, nesting at most MAX_JSON_DEPTH deep.
"""
from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

import numpy as np
import orjson
from flask import request

from service.errors import InvalidRequest, shorten
from service.settings import MAX_JSON_DEPTH
from service.web.state import state

METHODS = ("3cosadd", "3cosmul")
# Whitespace as ECMAScript's \s (the regex dialect of openapi.yaml) defines it; the spec's
# Word pattern spells out the same class, so code and contract agree character for character.
SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
        "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_VISIBLE = re.compile(f"[^{re.escape(SPACE)}]")
# orjson reads integers past 64 bits as floats; bodies with one take the standard library
# path, which keeps them integers (and an unbounded parameter is then clamped).
# (A run of digits after a point or in an exponent is not an integer.)
_LONG_INTEGER = re.compile(rb"(?<![0-9.eE+\-])-?[0-9]{19}")
_FAILED = object()
_INTEGER = re.compile(r"-?[0-9]{1,4000}")  # Python reads at most 4,300 digits
# Integers the spec leaves unbounded (offsets, limits) mean the same above this.
_BIG = 2**62
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def utf8_url() -> None:
    """Refuse a path or query string that is not UTF-8 once percent-decoded (`%C0%AF`, `%FF`),
    rather than answer about a word werkzeug made of U+FFFD or left percent-encoded; run
    before every view (create_app). WSGI hands both over as latin-1 strings of the bytes."""
    environ = request.environ
    # The request line as sent (gunicorn's RAW_URI, werkzeug's too): PATH_INFO is already
    # decoded, and werkzeug's test client replaces invalid bytes there.
    path, _, query = (environ.get("RAW_URI") or environ.get("PATH_INFO", "")).partition("?")
    for where, raw in (("path", path), ("query string", query or environ.get("QUERY_STRING", ""))):
        try:
            unquote_to_bytes(raw.encode("latin-1")).decode("utf-8")
        except UnicodeError:
            raise InvalidRequest(f"the {where} is not UTF-8 once percent-decoded: encode each "
                                 "character as the percent-escaped bytes of its UTF-8 form") from None


def settings():
    return state().settings


def json_body() -> dict:
    """The request body as a JSON object (whatever its Content-Type says)."""
    body = decode_json(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def decode_json(raw: bytes):
    """Strict JSON: UTF-8, finite numbers only (no NaN, Infinity or 1e400), nested at most
    MAX_JSON_DEPTH deep.

    Raises:
        InvalidRequest: saying what is wrong with the body.
    """
    if not _LONG_INTEGER.search(raw):
        fast = _orjson_loads(raw)
        if fast is not _FAILED:
            return fast
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the request body must be JSON in UTF-8") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InvalidRequest(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as e:
        raise InvalidRequest(f"the request body is not valid JSON: {e.msg} at line {e.lineno} "
                             f"column {e.colno}") from None
    except ValueError as e:  # a number out of range (ours), or an integer of > 4,300 digits
        raise InvalidRequest(f"the request body is not valid JSON: {e}") from None
    if _has_surrogate(value):
        raise InvalidRequest("the request body is not valid JSON: a \\u escape names a lone "
                             "UTF-16 surrogate (\\ud800-\\udfff), which is no character")
    return value


def _has_surrogate(value) -> bool:
    """Whether a string in the decoded body holds a lone surrogate (the standard library's
    decoder lets "\\ud800" through; orjson, the fast path, refuses it)."""
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_surrogate, value))
    return False


def _orjson_loads(raw: bytes):
    """orjson's parse of a body it accepts and nests no deeper than allowed (it refuses NaN,
    Infinity and 1e400 as the standard library path does, several times faster on a body of
    numbers); _FAILED otherwise, and the standard library path says what is wrong."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _FAILED
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth(raw.decode()) > MAX_JSON_DEPTH:
        return _FAILED
    return value


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (strings left out), without parsing it."""
    skeleton = _STRING.sub("", text).encode("utf-8")
    if not skeleton:
        return 0
    b = np.frombuffer(skeleton, dtype=np.uint8)
    step = ((b == ord("[")) | (b == ord("{"))).astype(np.int32) - ((b == ord("]")) | (b == ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:32]} is out of range")
    return value


def query_word(name: str) -> str:
    value = request.args.get(name)
    if value is None:
        raise InvalidRequest(f"query parameter '{name}' is required", parameter=name)
    return word(value, name)


def word(value, name: str = "word", limit: int | None = None) -> str:
    """A string with a visible character, of at most `limit` (default WORDSPACE_MAX_WORD_LENGTH) characters."""
    if not isinstance(value, str) or not _VISIBLE.search(value):
        raise InvalidRequest(f"'{name}' must be a non-empty string with a character that is not a space", parameter=name)
    if limit is None:
        limit = settings().max_word_length
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters", parameter=name)
    return value


_QUERY = object()
ABSENT = object()  # a body member that is not there (unlike one that is null)


def k(value=_QUERY) -> int:
    """k from the query string (or the given body value), 1..WORDSPACE_MAX_K, default 10."""
    if value is _QUERY:
        return integer("k", 10, settings().max_k)
    return _bounded("k", _json_integer("k", value, settings().max_k), settings().max_k)


def integer(name: str, default: int, high: int) -> int:
    """An integer query parameter from 1 to `high`: ASCII digits, nothing else."""
    return whole(name, default, 1, high)


def _json_integer(name: str, value, high: int | None) -> int:
    # JSON Schema's integer: a number with no fraction (5 or 5.0); never a string or a boolean.
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise InvalidRequest(f"'{name}' must be an integer" + (f" from 1 to {high}" if high else ""),
                         parameter=name)


def _bounded(name: str, value: int, high: int | None, low: int = 1) -> int:
    """`value` if within low..high; high None: no upper bound (clamped to 2^62)."""
    if value < low or (high is not None and value > high):
        shown = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InvalidRequest(f"'{name}' must be {shown}; got {shorten(str(value), 24)}",
                             parameter=name)
    return min(value, _BIG)


def results(k_: int, batch_size: int) -> None:
    """Bound the answer of a batch: k x items at most WORDSPACE_MAX_RESULTS."""
    limit = settings().max_results
    if k_ * batch_size > limit:
        raise InvalidRequest(f"k x items = {k_} x {batch_size} = {k_ * batch_size} results; at most "
                             f"{limit} per request (WORDSPACE_MAX_RESULTS): lower k or split the "
                             "batch", parameter="k")


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


def batch(body: dict, name: str, *, required: bool = True, empty: bool = False,
          limit: int | None = None) -> list | None:
    """A list from the body, at most `limit` (default WORDSPACE_MAX_BATCH) items; empty only
    if `empty`."""
    value = body.get(name)
    if value is None and not required:
        return None
    limit = limit or settings().max_batch
    if not isinstance(value, list) or (not value and not empty):
        raise InvalidRequest(f"'{name}' must be a {'' if empty else 'non-empty '}list", parameter=name)
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' has {len(value)} items; at most {limit} per request",
                             parameter=name)
    return value


def words(body: dict, name: str, *, required: bool = True, empty: bool = False,
          limit: int | None = None) -> list[str]:
    values = batch(body, name, required=required, empty=empty, limit=limit)
    length = settings().max_word_length  # read once, not per word of a 1,000-word batch
    return [word(v, name, length) for v in values] if values is not None else []


_NUMBERS = {int, float}


def vectors(body: dict, name: str = "vectors") -> list[list]:
    """A batch of vectors: lists of JSON numbers (booleans and strings are not numbers)."""
    values = batch(body, name)
    for value in values:
        if not isinstance(value, list) or not set(map(type, value)) <= _NUMBERS:
            raise InvalidRequest(f"'{name}' must be a list of lists of numbers", parameter=name)
    return values


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


def restrict_vocab(value=_QUERY) -> int | None:
    """restrict_vocab=N from the query (or the given body value): only the N most frequent
    words may answer (gensim's meaning); None when absent. Typed like every integer here:
    ASCII digits in a query, a JSON integer in a body (null is not one)."""
    if value is _QUERY:
        if "restrict_vocab" not in request.args:
            return None
        return whole("restrict_vocab", 1, 1, None)
    return _bounded("restrict_vocab", _json_integer("restrict_vocab", value, None), None)


def scan(allowed, queries: int, body: dict | None = None) -> None:
    """Bound an exact scan: the rows `allowed` (by restrict_vocab or candidates) times the
    queries, at most WORDSPACE_MAX_SCAN_ROWS."""
    if allowed is None:
        return
    limit, rows = settings().max_scan_rows, len(allowed)
    if rows * queries > limit:
        name = "candidates" if body is not None and "candidates" in body else "restrict_vocab"
        raise InvalidRequest(f"{name} allows {rows} words for each of {queries} queries: "
                             f"{rows * queries} scored; at most {limit} per request "
                             f"(WORDSPACE_MAX_SCAN_ROWS): lower {name} or split the batch",
                             parameter=name)


def candidates(body: dict) -> list[str] | None:
    """The body's "candidates": the only words that may answer; None when absent (null is
    not a list)."""
    if "candidates" not in body:
        return None
    value = body["candidates"]
    if not isinstance(value, list) or not value:
        raise InvalidRequest("'candidates' must be a non-empty list of words", parameter="candidates")
    limit = settings().max_candidates
    if len(value) > limit:
        raise InvalidRequest(f"'candidates' has {len(value)} words; at most {limit} "
                             "(WORDSPACE_MAX_CANDIDATES)", parameter="candidates")
    return [word(v, "candidates") for v in value]


def whole(name: str, default: int, low: int, high: int | None) -> int:
    """An integer query parameter from `low` to `high` (None: unbounded, clamped to 2^62):
    ASCII digits, nothing else."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise InvalidRequest(f"'{name}' must be an integer (ASCII digits)", parameter=name)
    return _bounded(name, int(raw), high, low)


def flag(name: str) -> bool:
    """A true/false query parameter, false when absent."""
    return choice(name, "false", ("true", "false", "1", "0")) in ("true", "1")
