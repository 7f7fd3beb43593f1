"""Request parameters and bodies, read once per request at the edge: args() and body()
check them against their one definition, the operation's schemas in the served openapi.yaml
(service/web/inputs.py); the bounds that span parameters (k x items, rows scanned) are
results() and scan(). Every failure is an InvalidRequest that says which parameter is wrong
and what is allowed.

The JSON body is decoded here and only here: UTF-8, finite numbers, nesting at most
MAX_JSON_DEPTH deep, sent as JSON (else a 415).
"""
from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

import numpy as np
import orjson
from flask import request

from service.errors import InvalidRequest, UnsupportedMediaType, shorten
from service.settings import MAX_JSON_DEPTH
from service.web import inputs
from service.web.state import state

# Whitespace as ECMAScript's \s (the regex dialect of openapi.yaml) defines it; the spec's
# Word pattern spells out the same class, so code and contract agree character for character.
SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
        "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# orjson reads integers past 64 bits as floats; bodies with one take the standard library
# path, which keeps them integers (and an unbounded parameter is then clamped).
# (A run of digits after a point or in an exponent is not an integer.)
_LONG_INTEGER = re.compile(rb"(?<![0-9.eE+\-])-?[0-9]{19}")
_FAILED = object()
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


# What a JSON body may be labelled: JSON, any +json type, or nothing (a bare socket's body).
_JSON_TYPES = re.compile(r"(application/(json|[!-~]+\+json))?", re.I)


def json_body() -> dict:
    """The request body as a JSON object.

    Raises:
        UnsupportedMediaType: the body is labelled as something other than JSON (text/plain,
            a form).
        InvalidRequest: the body is not a JSON object.
    """
    if not _JSON_TYPES.fullmatch(request.mimetype):
        raise UnsupportedMediaType(f"the request body must be JSON, sent with 'Content-Type: "
                                   f"application/json'; got '{shorten(request.mimetype, 40)}'")
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


def _operation() -> inputs.Operation:
    return state().inputs.get(request.method, request.url_rule.rule)


def args() -> dict:
    """The request's query and path parameters, as openapi.yaml defines them (typed, checked,
    defaulted), read once per request.

    Raises:
        InvalidRequest: naming the parameter and what it allows.
    """
    # Kept in the request's environ, not in g: a streamed answer (an export) keeps its app
    # context, and g with it, while a test client sends the next request in the same thread.
    if "wordspace.args" not in request.environ:
        request.environ["wordspace.args"] = _operation().read(request.args, request.view_args or {})
    return request.environ["wordspace.args"]


def arg(name: str):
    """One parameter of args(); None when absent and without a default."""
    return args().get(name)


def body() -> dict:
    """The JSON body, checked against the operation's schema in openapi.yaml, with its
    integers as ints and its defaults filled in (read once per request).

    Raises:
        UnsupportedMediaType, InvalidRequest: as json_body(), or naming the member that is
            wrong and what it allows.
    """
    if "wordspace.body" not in request.environ:
        request.environ["wordspace.body"] = _operation().read_body(json_body())
    return request.environ["wordspace.body"]


def word(value, name: str = "word") -> str:
    """A word inside a composite query string ("a:b,c:d"), held to the spec's Word schema."""
    schema, check = state().inputs.word
    if not isinstance(value, str) or not check.is_valid(value):
        too_long = isinstance(value, str) and len(value) > schema["maxLength"]
        raise InvalidRequest(f"'{name}' is longer than {schema['maxLength']} characters" if too_long
                             else f"'{name}' must be {inputs.describe(schema)}", parameter=name)
    return value


def results(k_: int, batch_size: int) -> None:
    """Bound the answer of a batch: k x items at most WORDSPACE_MAX_RESULTS."""
    limit = settings().max_results
    if k_ * batch_size > limit:
        raise InvalidRequest(f"k x items = {k_} x {batch_size} = {k_ * batch_size} results; at most "
                             f"{limit} per request (WORDSPACE_MAX_RESULTS): lower k or split the "
                             "batch", parameter="k")


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
