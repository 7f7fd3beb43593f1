"""The README's "Use it from Python" runs as written: its install line names this package, and
its Python blocks, run as scripts against the real service holding the full GloVe table (400,000
words, exact index), print what the README says they print."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Use it from Python")
    return text[start:text.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.S)


def test_the_install_line_names_this_package():
    (line,) = blocks("bash")
    path = re.search(r"pip install '(\./clients/python)\[numpy\]'", line).group(1)
    project = tomllib.loads((ROOT / path / "pyproject.toml").read_text())["project"]
    assert project["name"] == "wordspace-client" and project["dependencies"] == ["httpx>=0.25,<1"]
    assert project["optional-dependencies"]["numpy"]


@pytest.fixture(scope="module")
def glove_full(tmp_path_factory, serve, build_index):
    cat = tmp_path_factory.mktemp("readme") / "indexes"
    # All of GloVe: the README's examples print its 400,000 rows and neighbours ("dinaric")
    # outside any slice. An exact index answers every word already: no stored top-k table.
    build_index(cat, "glove", "kumo", "--index", "Flat", "--topk-rows", "0")
    with serve(cat, workers=1, log_level="warning") as url:
        yield url


def test_the_python_examples_run_as_written(glove_full, tmp_path):
    client, facade = blocks("python")
    env = {**os.environ, "WORDSPACE_URL": glove_full}
    env.pop("WORDSPACE_API_KEY", None)
    outputs = []
    for i, code in enumerate((client, facade)):
        script = tmp_path / f"example{i}.py"
        script.write_text(code)
        run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                             text=True, timeout=120, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout.splitlines())
    said = section()
    assert outputs[0][0] == "['pyrenees', 'dinaric', 'alpine']" and "['pyrenees', 'dinaric', 'alpine']" in said
    assert outputs[0][1] == "queen" and outputs[0][2] == "0.796" and "`0.796`" in said
    assert outputs[0][3].startswith("river [") and len(outputs[0]) == 7
    assert outputs[0][6].startswith("{'glove': 0.796")
    assert outputs[1][0].startswith("[('queen', 0.85")
    assert outputs[1][1:] == ["car", "2 True 400000 (50,)"]
