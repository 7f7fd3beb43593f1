"""Every module of bench/ imports, and its harness runs: a bench that breaks is seen here, not
the next time someone runs `make soak` (the benches themselves are long runs, not tests)."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

MODULES = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__")
SCRIPTS = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if 'if __name__ == "__main__"' in p.read_text())


@pytest.mark.parametrize("name", MODULES)
def test_every_bench_module_imports(name):
    module = importlib.import_module(f"bench.{name}")
    assert module.__doc__, f"bench/{name}.py has no docstring"


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_bench_script_starts_as_a_script(name):
    """`python bench/NAME.py --help`, as make and the docs run them: imports resolve from a
    script's own folder too, and the arguments parse."""
    run = subprocess.run([sys.executable, str(ROOT / "bench" / f"{name}.py"), "--help"],
                         cwd="/", capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "usage:" in run.stdout


def test_bench_never_imports_the_tests():
    for path in (ROOT / "bench").glob("*.py"):
        for line in path.read_text().splitlines():
            assert not line.lstrip().startswith(("from tests", "import tests")), (path.name, line)


def test_the_soak_words_are_frequent_alphabetic_words():
    soak = importlib.import_module("bench.soak")
    keys = [f"w{i}" for i in range(100)] + ["alps", "x1", "himalaya", "ok"]
    words = soak.sample_words(keys, 10)
    assert sorted(words) == ["alps", "himalaya", "ok"]
