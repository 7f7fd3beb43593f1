"""The layout's import rule, read from the source of every module (imports inside functions
included): packages import only in the allowed direction, and no module imports itself back
through others.

    store     imports nothing of analysis, web, builder
    analysis  imports store; never Flask
    web       imports store and analysis; never builder
    builder   imports store and analysis; never web, never Flask
    settings, errors, text, logconfig, version: the foundation, import no other package
    top (service/__init__, cli, server): wire the packages together; nothing imports them
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "service"
FOUNDATION = {"settings", "errors", "text", "logconfig", "version"}
ALLOWED = {
    "store": {"store"},
    "analysis": {"store", "analysis"},
    "web": {"store", "analysis", "web"},
    "builder": {"store", "analysis", "builder"},
    "foundation": set(),
    "top": {"store", "analysis", "web", "builder", "top"},
}
HEAVY = {"flask": {"web"}, "werkzeug": {"web"}, "tensorflow": {"builder"}, "keras": {"builder"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # service/__init__.py
    if parts[1] in ALLOWED:
        return parts[1]
    return "foundation" if parts[1] in FOUNDATION else "top"  # cli, server


def imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, resolved to service.* names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:  # `from service.web import params` imports service.web.params
                sub = f"{node.module}.{a.name}"
                found.append((sub if sub in MODULES else node.module, node.lineno))
    return found


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def target(name: str) -> str | None:
    """The service module an import names (a package's __init__ or a module), if any."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def edges() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        graph[module] = {t for name, _ in imports(path) if name.startswith("service")
                         and (t := target(name)) and t != module}
    return graph


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_flow_one_way(module):
    source = package(module)
    wrong = []
    for name, line in imports(MODULES[module]):
        root = name.split(".")[0]
        if root in HEAVY and source not in HEAVY[root]:
            wrong.append(f"line {line}: {name} (only {', '.join(HEAVY[root])} may)")
        if not name.startswith("service"):
            continue
        t = target(name)
        dest = package(t)
        if dest != "foundation" and dest != source and dest not in ALLOWED[source]:
            wrong.append(f"line {line}: {name} ({source} may not import {dest})")
    assert not wrong, f"{module}: " + "; ".join(wrong)


def test_no_import_cycles():
    graph = edges()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "service" or node == "service":
                continue  # the package root only re-exports create_app lazily
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_every_package_says_what_it_is_for_and_may_import():
    for name in ALLOWED:
        if name in ("foundation", "top"):
            continue
        doc = ast.get_docstring(ast.parse((ROOT / name / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), f"service/{name}/__init__.py needs a docstring"


def test_the_rule_catches_a_wrong_way_import(tmp_path):
    """The checker itself: a store module importing the web layer is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from service.web import params\nimport flask\n")
    found = [n for n, _ in imports(bad)]
    assert "service.web.params" in found and "flask" in found
    assert package(target("service.web.params")) == "web"
    assert "web" not in ALLOWED["store"]
