"""Every request parameter is defined once, in openapi.yaml: its type, default, bounds and the
Settings limit a bound follows (`x-limit`). The served spec (service/web/contract.py) holds
the running server's values; this reads each operation's query, path and JSON body schemas
from it, checks a request against them with jsonschema-rs, and says on the first failure
which parameter is wrong and what is allowed. service/web/params.py applies it per request.

Query strings are typed before they are checked: an integer is ASCII digits, a boolean
true/false/1/0, an enum is case-folded. An optional string given empty counts as absent.
Defaults are filled in after the check (an integer's default held to its maximum, so a
server configured below a default still answers).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import jsonschema_rs

from service.errors import InvalidRequest, shorten
from service.settings import Settings
from service.web import contract

METHODS = ("get", "post", "put", "patch", "delete")
_INTEGER = re.compile(r"-?[0-9]{1,4000}")  # Python reads at most 4,300 digits
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
BIG = 2**62  # integers the spec leaves unbounded (offsets, limits) mean the same above this
_NUMBERS = {1: "one", 2: "two", 3: "three"}
_SETTINGS = {f for f in Settings.__dataclass_fields__}
# How many spaces a comparison names is checked by service/web/selection.py, whose answer
# lists the loaded spaces and suggests the default few.
_DEFERRED = {("spaces", "maxItems"), ("spaces", "pattern")}


def resolve(node, spec: dict):
    """`node` with every $ref replaced by what it names (openapi.yaml has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve({**target, **{k: v for k, v in node.items() if k != "$ref"}}, spec)
        return {k: resolve(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, spec) for v in node]
    return node


@dataclass
class Operation:
    params: dict[str, dict]       # query and path parameters: name -> schema
    required: frozenset
    check: object                 # validator of the parameters as one object
    body: dict | None = None      # the JSON body's schema (oneOf: its branches)
    body_checks: tuple = ()       # a validator per branch

    def __post_init__(self):
        # Per parameter: its name, whether empty means absent (an optional string), whether
        # its query string is typed first (_typed), and its default (None: none).
        self._plan = [(name, s.get("type") == "string" and name not in self.required,
                       s.get("type") in ("integer", "boolean") or "enum" in s,
                       min(s["default"], s.get("maximum", s["default"])) if "default" in s else None)
                      for name, s in self.params.items()]

    def read(self, query, path: dict) -> dict:
        """The parameters typed, checked and defaulted (absent optional ones without a
        default are not in the answer)."""
        values, defaults = {}, []
        for name, optional_string, typed, default in self._plan:
            raw = path[name] if name in path else query.get(name)
            if raw is None or (optional_string and raw == ""):
                if default is not None:
                    defaults.append((name, default))
                continue
            values[name] = _typed(name, raw, self.params[name]) if typed else raw
        if not self.check.is_valid(values):
            for error in self.check.iter_errors(values):
                _raise(error, self.params, self.required, values, query=True)
        values.update(defaults)
        return values

    def read_body(self, body: dict) -> dict:
        """The JSON object `body` checked, its integers made ints and its defaults filled."""
        branches = self.body.get("oneOf", [self.body])
        fits = [i for i, b in enumerate(branches) if set(b.get("required", ())) <= set(body)]
        if len(branches) > 1 and len(fits) != 1:
            names = " or ".join(f"'{b['required'][0]}'" for b in branches)
            raise InvalidRequest(f"give exactly one of {names}")
        i = fits[0] if len(branches) > 1 else 0
        schema = branches[i]
        props = schema.get("properties", {})
        if not self.body_checks[i].is_valid(body):
            for error in self.body_checks[i].iter_errors(body):
                _raise(error, props, schema.get("required", ()), body, query=False)
        out = dict(body)
        for name, prop in props.items():
            if name not in out:
                if "default" in prop:
                    out[name] = prop["default"]
            elif prop.get("type") == "integer":
                out[name] = min(int(out[name]), BIG)
        return out


def _typed(name: str, raw: str, schema: dict):
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(raw):
            raise InvalidRequest(f"'{name}' must be an integer (ASCII digits)", parameter=name)
        value = int(raw)
        return value if "maximum" in schema else min(value, BIG)
    if kind == "boolean":
        if raw.lower() not in _BOOLEANS:
            raise InvalidRequest(f"'{name}' must be true or false", parameter=name)
        return _BOOLEANS[raw.lower()]
    if "enum" in schema:
        return raw.lower()
    return raw


def _raise(error, props: dict, required, values: dict, *, query: bool) -> None:
    """Raise the InvalidRequest that says what `error` (jsonschema-rs's) means; return only
    for a check another module makes with a fuller answer (_DEFERRED)."""
    where = list(error.instance_path)
    keyword = error.schema_path[-1]
    if keyword == "required":
        name = next(n for n in required if n not in values)
        if query:
            raise InvalidRequest(f"query parameter '{name}' is required", parameter=name)
        raise InvalidRequest(f"'{name}' is required: {describe(props.get(name, {}))}", parameter=name)
    if not where:
        raise InvalidRequest(f"the request is not valid: {shorten(error.message, 120)}")
    name = str(where[0])
    if (name, keyword) in _DEFERRED:
        return
    schema = props.get(name, {})
    value = values.get(name)
    if len(where) > 1:  # inside a list
        item = schema.get("items", {})
        if keyword == "maxLength" and "maxLength" in item:
            raise InvalidRequest(f"an item of '{name}' is longer than {item['maxLength']} "
                                 f"characters{_setting(item)}", parameter=name)
        raise InvalidRequest(f"every item of '{name}' must be {describe(item)}", parameter=name)
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        raise InvalidRequest(f"'{name}' must be {_range(schema)}; got {shorten(str(value), 24)}",
                             parameter=name)
    if keyword == "maxItems":
        raise InvalidRequest(f"'{name}' has {len(value)} items; at most {schema['maxItems']} per "
                             f"request{_setting(schema)}", parameter=name)
    if keyword == "maxLength":
        raise InvalidRequest(f"'{name}' is longer than {schema['maxLength']} characters"
                             f"{_setting(schema)}", parameter=name)
    if keyword == "enum":
        raise InvalidRequest(f"'{name}' must be one of {', '.join(map(str, schema['enum']))}",
                             parameter=name)
    raise InvalidRequest(f"'{name}' must be {describe(schema)}", parameter=name)


def _setting(schema: dict) -> str:
    """' (WORDSPACE_MAX_BATCH)' for a bound a setting configures; '' for a fixed one."""
    limit = schema.get("x-limit")
    return f" (WORDSPACE_{limit.upper()})" if limit in _SETTINGS else ""


def _range(schema: dict) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _word(schema: dict) -> bool:
    return schema.get("type") == "string" and "pattern" in schema and schema.get("minLength")


def describe(schema: dict, plural: bool = False) -> str:
    """What a schema allows, in words: 'an integer from 1 to 50', 'a non-empty list of words
    (...), at most 8'."""
    kind = schema.get("type")
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if kind == "integer":
        bounds = f" {_range(schema)}" if "minimum" in schema or "maximum" in schema else ""
        return ("integers" if plural else "an integer") + bounds
    if kind == "number":
        return "numbers" if plural else "a number"
    if kind == "boolean":
        return "true or false"
    if kind == "string":
        return _string(schema, plural)
    if kind == "array":
        low, high, items = schema.get("minItems", 0), schema.get("maxItems"), schema.get("items", {})
        what = describe(items, plural=True)
        if low and low == high:
            return f"{'lists' if plural else 'a list'} of {_NUMBERS.get(low, low)} {what}"
        if low > 1 and high is not None:
            return f"{'lists' if plural else 'a list'} of {low} to {high} {what}"
        head = "non-empty list" if low == 1 else f"list of at least {low}" if low else "list"
        most = f", at most {high}" if high is not None else ""
        return (f"{head}s" if plural else f"a {head}") + f" of {what}{most}"
    if kind == "object":
        return "JSON objects" if plural else "a JSON object"
    return "valid"


def _string(schema: dict, plural: bool) -> str:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    each = " each" if plural else ""
    if _word(schema):
        most = f", at most {high} characters{each}" if high is not None else ""
        if plural:
            return f"words (non-empty strings with a character that is not a space{most})"
        return f"a non-empty string with a character that is not a space{most}"
    if low > 1 and high is not None:
        size = f" of {low} to {high} characters{each}"
    else:
        size = f" of at most {high} characters{each}" if high is not None else ""
    text = ("non-empty " if low == 1 else "") + ("strings" if plural else "string")
    example = f" (such as '{schema['examples'][0]}')" if schema.get("examples") else ""
    return ("" if plural else "a ") + text + size + example


def _validator(schema: dict):
    return jsonschema_rs.Draft202012Validator(schema)


def template(rule: str) -> str:
    """Flask's rule as the spec writes the path: /v1/spaces/<space>/vectors/<path:word> ->
    /v1/spaces/{space}/vectors/{word}."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


class Operations:
    """Each operation of a spec, by (METHOD, path template), made once per set of limits."""

    def __init__(self, spec: dict):
        # The Word schema, for the words inside a composite query string ("a:b,c:d", "a,b,c").
        schema = resolve(spec["components"]["schemas"]["Word"], spec)
        self.word = (schema, _validator(schema))
        self.by_route: dict[tuple[str, str], Operation] = {}
        self._by_rule: dict[tuple[str, str], Operation | None] = {}
        for path, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method in METHODS:
                    self.by_route[(method.upper(), path)] = _operation(spec, shared + op.get("parameters", []), op)

    def get(self, method: str, rule: str) -> Operation | None:
        """The operation of a Flask rule (its path template worked out once per rule)."""
        found = self._by_rule.get((method, rule), False)
        if found is False:
            found = self._by_rule[(method, rule)] = self.by_route.get((method, template(rule)))
        return found


def _operation(spec: dict, parameters: list, op: dict) -> Operation:
    params, required = {}, set()
    for p in (resolve(p, spec) for p in parameters):
        if p["in"] in ("query", "path"):
            params[p["name"]] = p["schema"]
            if p.get("required"):
                required.add(p["name"])
    check = _validator({"type": "object", "properties": params, "required": sorted(required)})
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return Operation(params, frozenset(required), check)
    body = resolve(body, spec)
    branches = body.get("oneOf", [body])
    return Operation(params, frozenset(required), check, body, tuple(map(_validator, branches)))


@functools.cache
def operations(limits: tuple) -> Operations:
    """The operations of the spec served with these limits (Settings.limits().items()), made
    once per process for each set of limits, when an app is made."""
    return Operations(contract.spec(limits))
