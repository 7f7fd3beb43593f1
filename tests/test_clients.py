"""The contract test (issue 30): what an integrator in another language does with openapi.yaml.

- `redocly lint` (the recommended rules, clients/contract/redocly.yaml) passes;
- openapi-typescript makes types from it, and clients/contract/example.ts, an openapi-fetch
  program with no casts, compiles against them under `tsc --strict`, then runs against a
  served catalog: it reads a task space's details.test_accuracy, the verdict and a problem's
  detail;
- openapi-python-client makes a package from it that imports, and clients/contract/example.py
  makes the same calls through it;
- every answer either program gets validates against the contract.

The generators are pinned in clients/contract (package-lock.json, requirements.txt) and
installed by `make contract-deps` (part of `make test`); each step then runs offline.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.support import ROOT
from tests.support.server import serve

TOOLS = ROOT / "clients" / "contract"
NODE_BIN = TOOLS / "node_modules" / ".bin"
VENV_BIN = TOOLS / ".venv" / "bin"
SPEC = ROOT / "openapi.yaml"

pytestmark = pytest.mark.slow


def run(command: list, **kw) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300,
                          **kw)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def tools():
    missing = [p for p in (NODE_BIN / "tsc", NODE_BIN / "redocly", NODE_BIN / "openapi-typescript",
                           VENV_BIN / "openapi-python-client") if not p.exists()]
    if missing or not shutil.which("node"):
        pytest.fail(f"the contract test's generators are not installed ({', '.join(map(str, missing))}"
                    " or node): run `make contract-deps`")


@pytest.fixture(scope="module")
def served(real_catalog):
    with serve(real_catalog, workers=1) as s:
        yield s.base


def answers(output: str, spec: dict) -> tuple[list[dict], dict]:
    """The programs' answer lines (each with its path template) and their summary."""
    lines = output.splitlines()
    summary = json.loads(next(line for line in lines if line.startswith("SUMMARY "))[8:])
    templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
                 for path in spec["paths"]]
    found = []
    for line in lines:
        if line.startswith("{"):
            answer = json.loads(line)
            if "path" not in answer:
                # The most literal template wins (/v1/spaces over /v1/spaces/{space}).
                matching = [t for pattern, t in templates if pattern.match(answer["url"])]
                answer["path"] = min(matching, key=lambda t: t.count("{"))
            found.append(answer)
    return found, summary


def check_program(output: str, spec: dict, check_spec) -> dict:
    found, summary = answers(output, spec)
    assert len(found) == 7
    for a in found:
        check_spec(a["path"], a["method"], a["status"], a["body"], a["type"])
    assert isinstance(summary["test_accuracy"], float) and 0.5 < summary["test_accuracy"] <= 1
    assert summary["verdict"] and summary["neighbor"] and summary["rank"] >= 1
    assert summary["found"] == [True, False]
    assert summary["unknown_status"] == 404 and "zzzqqq" in summary["unknown_detail"]
    assert "'k' must be from 1 to" in summary["bad_k_detail"]
    return summary


def test_redocly_lint_passes(tools):
    out = run([NODE_BIN / "redocly", "lint", SPEC, "--config", TOOLS / "redocly.yaml",
               "--format", "stylish"], cwd=TOOLS)
    assert "error" not in out


def test_a_typed_typescript_program_compiles_and_runs(tools, served, spec, check_spec, tmp_path):
    source = (TOOLS / "example.ts").read_text()
    code = "\n".join(line.split("//")[0] for line in source.splitlines())
    assert not re.search(r"\bas\s+[A-Za-z{\[(]|\bany\b|!\.|!\)", code), \
        "example.ts must read the answers through the generated types, without casts"
    for name in ("example.ts", "tsconfig.json", "package.json"):
        shutil.copy(TOOLS / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(TOOLS / "node_modules")
    run([NODE_BIN / "openapi-typescript", SPEC, "-o", tmp_path / "schema.d.ts"], cwd=tmp_path)
    run([NODE_BIN / "tsc", "-p", tmp_path], cwd=tmp_path)  # strict, from tsconfig.json
    output = run(["node", tmp_path / "out" / "example.js", served], cwd=tmp_path)
    check_program(output, spec, check_spec)


def test_a_generated_python_client_imports_and_makes_the_same_calls(tools, served, spec,
                                                                    check_spec, tmp_path):
    package = tmp_path / "wordspace_api"
    # ruff on the PATH, as an integrator's machine has it: the generator formats with it, and
    # fails when the code it wrote does not parse.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    out = run([VENV_BIN / "openapi-python-client", "generate", "--path", SPEC, "--config",
               TOOLS / "openapi-python-client.yaml", "--output-path", package, "--meta", "none"],
              cwd=tmp_path, env=env)
    assert "Generating" in out
    output = run([VENV_BIN / "python", TOOLS / "example.py", served], cwd=tmp_path,
                 env={**env, "PYTHONPATH": str(tmp_path)})
    check_program(output, spec, check_spec)
