"""The benchmark files the scorecard reads are vendored (service/analysis/benchmark_data/),
unchanged, with their sources and licences, and shipped as package data."""
from __future__ import annotations

import hashlib
import re
import tomllib

from service.analysis import benchmarks
from tests.support import ROOT


def test_the_files_are_the_ones_the_readme_lists():
    readme = (benchmarks.DATA / "README.md").read_text(encoding="utf-8")
    listed = dict((name, digest) for digest, name in re.findall(r"^ {4}([0-9a-f]{64})  (\S+)$", readme, re.M))
    assert sorted(listed) == sorted([benchmarks.WORDSIM, benchmarks.SIMLEX, benchmarks.ANALOGIES])
    for name, digest in listed.items():
        assert hashlib.sha256(benchmarks.data_file(name).read_bytes()).hexdigest() == digest, name
        assert f"`{name}`" in readme  # with its source and licence in the table
    assert (benchmarks.DATA / "LICENSE-Apache-2.0.txt").is_file()


def test_they_are_read_from_the_vendored_folder_and_packaged():
    assert len(benchmarks.similarity_pairs(benchmarks.WORDSIM)) == 353
    assert len(benchmarks.similarity_pairs(benchmarks.SIMLEX)) == 999
    assert len(benchmarks.analogy_questions()) == 19544
    folder = benchmarks.DATA.relative_to(ROOT / "service").as_posix()
    packaged = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert f"{folder}/*" in packaged["service"]
