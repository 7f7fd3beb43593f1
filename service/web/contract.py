"""The API contract served at /openapi.yaml: the repository's openapi.yaml with every bound
the server enforces set to the running server's value, and its version the installed
package's (pyproject.toml's, read from the metadata).

In the file each such bound sits in a schema marked `x-limit: NAME`, next to its default
value; NAME is a key of Settings.limits() (service/settings.py). The file is read once per
process and rendered once for each set of limits, when an app is made, so with WORDSPACE_MAX_BATCH=2048 the spec says
`maxItems: 2048` wherever a batch is bounded.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

from service.settings import Settings
from service.version import package_version

# service/openapi.yaml is a link to the repository's openapi.yaml, so the installed
# package carries the same file.
OPENAPI = Path(__file__).resolve().parent.parent / "openapi.yaml"
BOUNDS = ("maxItems", "maximum", "maxLength")  # the keywords an x-limit may set
MARK = "x-limit"


@functools.cache
def load(path: Path = OPENAPI) -> dict:
    """The spec as written, its version the installed package's (parsed once per process: do
    not change the answer)."""
    spec = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    spec["info"]["version"] = package_version()
    return spec


def marked(node):
    """Every schema (a mapping) in `node` that carries an x-limit."""
    if isinstance(node, dict):
        if MARK in node:
            yield node
        for value in node.values():
            yield from marked(value)
    elif isinstance(node, list):
        for value in node:
            yield from marked(value)


def bound(schema: dict) -> str:
    """The one bounded keyword of a marked schema."""
    found = [key for key in BOUNDS if key in schema]
    if len(found) != 1:
        raise ValueError(f"x-limit {schema[MARK]} must sit beside exactly one of "
                         f"{', '.join(BOUNDS)}; found {found or 'none'}")
    return found[0]


def render(settings: Settings) -> str:
    """openapi.yaml with its bounds set from `settings`, as YAML text."""
    return _rendered(tuple(settings.limits().items()))


@functools.cache
def spec(limits: tuple) -> dict:
    """The spec with its bounds set from `limits` (Settings.limits().items()); made once per
    process for each set of limits (apps made with the same settings share it): do not
    change the answer. service/web/inputs.py checks requests against it."""
    found, values = copy.deepcopy(load()), dict(limits)
    for schema in marked(found):
        schema[bound(schema)] = values[schema[MARK]]
    return found


@functools.cache
def _rendered(limits: tuple) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(spec(limits), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
