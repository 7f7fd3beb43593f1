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


# gunicorn is used through its documented interface only: BaseApplication ("Custom
# Application" in its docs), its settings and server hooks. Nothing of its workers' or HTTP
# parser's internals, no private name (a home-made worker on gthread's internals broke on
# hostile input, issue 19).
GUNICORN_DOCUMENTED = {"gunicorn.app.base"}
GUNICORN_INTERNALS = {"TConn", "ThreadWorker", "PollableMethodQueue", "poller", "enqueue_req",
                      "finish_request", "keepalived_conns", "take_buffered", "unreader",
                      "handle_error", "Response", "futures", "nr_conns"}


def gunicorn_misuse(path: Path) -> list[str]:
    """Each use of a gunicorn name outside its documented interface, as 'line N: what'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound, wrong = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gunicorn":
                    bound.add((a.asname or a.name).split(".")[0])
                    if a.name != "gunicorn" and a.name not in GUNICORN_DOCUMENTED:
                        wrong.append(f"line {node.lineno}: import {a.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "gunicorn":
            for a in node.names:
                bound.add(a.asname or a.name)
                if node.module not in GUNICORN_DOCUMENTED or a.name.startswith("_"):
                    wrong.append(f"line {node.lineno}: from {node.module} import {a.name}")
    if not bound:
        return wrong
    for node in ast.walk(tree):  # in a module that uses gunicorn
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in GUNICORN_INTERNALS:
            wrong.append(f"line {node.lineno}: {name} (a gunicorn internal)")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                wrong.append(f"line {node.lineno}: {root.id}...{node.attr} (private)")
    return wrong


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_gunicorn_name(module):
    wrong = gunicorn_misuse(MODULES[module])
    assert not wrong, f"{module}: " + "; ".join(wrong)


def test_the_gunicorn_check_catches_a_home_made_worker(tmp_path):
    bad = tmp_path / "worker.py"
    bad.write_text("from gunicorn.http import wsgi\n"
                   "from gunicorn.workers.gthread import TConn, ThreadWorker\n"
                   "import gunicorn.util as util\n"
                   "from gunicorn.app.base import BaseApplication\n"
                   "class W(ThreadWorker):\n"
                   "    def init_process(self):\n"
                   "        wsgi.Response._emit_body = None\n"
                   "        self.poller.register(1)\n"
                   "        BaseApplication._private()\n")
    found = " ".join(gunicorn_misuse(bad))
    for expected in ("from gunicorn.http import wsgi", "gunicorn.workers.gthread import TConn",
                     "import gunicorn.util", "poller", "_emit_body", "BaseApplication..._private"):
        assert expected in found, (expected, found)
    good = tmp_path / "server.py"
    good.write_text("from gunicorn.app.base import BaseApplication\n"
                    "class S(BaseApplication):\n"
                    "    def load(self):\n        return self.cfg.set('bind', 'x')\n")
    assert gunicorn_misuse(good) == []


# The tests' own layout: shared helpers live in tests/support; a test module imports from
# there, never from conftest (pytest's fixture file) or from another test module. The client's
# tests (clients/python/tests) run from their own folder and import none of the server's tests.
# A dependency's own test module (gensim.test.test_keyedvectors, which
# tests/test_gensim_conformance.py runs against the facade) is not one of ours.
REPO = ROOT.parent
TESTS = sorted((REPO / "tests").rglob("*.py"))
CLIENT_TESTS = sorted((REPO / "clients" / "python" / "tests").rglob("*.py"))


def layout_problems(path: Path) -> list[str]:
    """Each import of `path` that breaks the tests' layout, as 'line N: module': a conftest or
    a test module (helpers come from tests/support, the client's tests' too)."""
    wrong = []
    for name, line in imports(path):
        parts = name.split(".")
        ours = parts[0] in ("tests", "conftest") or parts[0].startswith("test_")
        if ours and ("conftest" in parts or any(p.startswith("test_") for p in parts)):
            wrong.append(f"line {line}: {name}")
    return wrong


@pytest.mark.parametrize("path", TESTS + CLIENT_TESTS, ids=lambda p: str(p.relative_to(REPO)))
def test_tests_import_helpers_from_support_only(path):
    wrong = layout_problems(path)
    assert not wrong, f"{path.relative_to(REPO)}: " + "; ".join(wrong)


def test_the_test_import_check_catches_conftest_and_test_modules(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text("from tests.conftest import toy_table\nimport conftest\n"
                   "def f():\n    from tests.test_page import ARGS\n"
                   "from tests.support.tables import toy_table\n")
    assert {w.split(": ")[1] for w in layout_problems(bad)} == \
        {"tests.conftest", "conftest", "tests.test_page"}
    assert "line 5: tests.support.tables" not in layout_problems(bad)
    ok = tmp_path / "test_ok.py"
    ok.write_text("import gensim.test.test_keyedvectors as gensim_suite\n")
    assert layout_problems(ok) == []


def test_every_package_is_installed():
    """pyproject.toml lists the packages a non-editable install (the container image) carries:
    every folder of service/ with an __init__.py must be there, or the image cannot import it."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in ROOT.rglob("__init__.py")}
    assert found == listed, f"in service/ but not in pyproject.toml: {sorted(found - listed)}"
