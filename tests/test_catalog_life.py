"""The catalog's life: `wordspace remove` unpublishes a space (a reload drops it; old
versions deleted or N kept); a build names the published spaces its spec no longer names
(--prune removes them); one build at a time per space name, the second refused in one line
naming the first; Ctrl-C is one line saying what is still served; the build reports each
task's held-out split. Two real `wordspace` processes, a FIFO holding the first mid-build."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from service import cli, create_app
from service.builder import aftermath
from service.builder.recipe import BuildOptions
from service.builder.spec import load_spec
from service.settings import Settings
from service.store import catalog, locks
from service.web.state import state
from tests.support.server import until
from tests.support.tables import toy_table


def _words(path: Path, n_noise: int) -> Path:
    t = toy_table(n_noise=n_noise)
    path.write_text(f"{len(t.index_to_key)} {t.vector_size}\n" + "".join(
        f"{w} {' '.join(f'{x:.5f}' for x in v)}\n" for w, v in zip(t.index_to_key, t.vectors)))
    return path


def _errors(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if " ERROR " in line or " WARNING " in line]


def test_remove_unpublishes_and_a_reload_drops_the_space(tmp_path, capsys):
    cat = tmp_path / "cat"
    for n in (10, 20, 30):  # three versions of "a"; the catalog keeps the last two
        catalog.write_space(cat, "a", toy_table(n_noise=n), source={"format": "test"})
    catalog.write_space(cat, "b", toy_table(n_noise=5), source={"format": "test"})
    app = create_app(Settings(catalog=cat))
    client = app.test_client()
    assert client.get("/v1/spaces/a/neighbors?word=king").status_code == 200
    assert len(catalog.versions(cat, "a")) == 2

    assert cli.main(["remove", "a", "--catalog", str(cat), "--keep-versions", "1"]) == 0
    assert "running servers drop it on reload" in capsys.readouterr().out
    assert catalog.space_names(cat) == ["b"] and len(catalog.versions(cat, "a")) == 1
    assert client.get("/v1/spaces/a/neighbors?word=king").status_code == 200  # until a reload
    state(app).registry.reload()
    assert client.get("/v1/spaces/a/neighbors?word=king").status_code == 404
    assert [s["name"] for s in client.get("/v1/spaces").json["spaces"]] == ["b"]

    catalog.remove(cat, "b")
    assert catalog.versions(cat, "b") == [] and catalog.space_names(cat) == []
    assert cli.main(["remove", "b", "--catalog", str(cat)]) == 2
    [error] = _errors(capsys)
    assert "space 'b': not in the catalog" in error


def test_a_space_being_built_is_not_removed(tmp_path, capsys):
    cat = tmp_path / "cat"
    catalog.write_space(cat, "a", toy_table(n_noise=5), source={"format": "test"})
    with locks.hold(cat, ["a"]):
        assert cli.main(["remove", "a", "--catalog", str(cat)]) == 2
    [error] = _errors(capsys)
    assert f"space 'a' is being built by pid {os.getpid()}" in error
    assert catalog.space_names(cat) == ["a"]


SPEC = """
[spaces.kept]
kind = "word2vec"
source = "kept.txt"
"""


def test_a_build_names_the_spaces_its_spec_dropped_and_prune_removes_them(tmp_path, capsys):
    _words(tmp_path / "kept.txt", 20)
    _words(tmp_path / "old.txt", 30)
    (tmp_path / "my.toml").write_text(SPEC + '\n[spaces.old]\nkind = "vectors"\nsource = "old.txt"\n')
    cat = tmp_path / "cat"
    build = ["--catalog", str(cat), "build", "--spec", str(tmp_path / "my.toml"), "--no-learning-curve"]
    assert cli.main(build) == 0
    assert catalog.space_names(cat) == ["kept", "old"]
    (tmp_path / "my.toml").write_text(SPEC)
    capsys.readouterr()
    assert cli.main(build) == 0
    [warning] = _errors(capsys)
    assert "publishes spaces" in warning and "does not name: old;" in warning
    assert "wordspace build --prune" in warning and catalog.space_names(cat) == ["kept", "old"]
    assert cli.main(build + ["--prune"]) == 0
    assert catalog.space_names(cat) == ["kept"] and catalog.versions(cat, "old") == []


def test_the_build_reports_each_task_s_held_out_split(tmp_path):
    with open(tmp_path / "t.csv", "w", newline="") as f:
        csv.writer(f).writerows([("text", "label")] + [(f"text {i}", "ab"[i % 2]) for i in range(100)])
    (tmp_path / "my.toml").write_text('[tasks.t]\ndata = "t.csv"\n')
    options = BuildOptions(catalog=tmp_path / "cat", spec=load_spec(tmp_path / "my.toml"))
    [line] = aftermath.report_splits(options, ["t", "t"])
    path = options.cache / "splits" / "t.csv"
    assert line == (f"task t: held-out split seed 0 (stratified 70/10/20): 70 train, 10 validation, "
                    f"20 test texts -> {path} (part = test is what test_accuracy is measured on)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["text"] for r in rows) == sorted(f"text {i}" for i in range(100))
    test = [r for r in rows if r["part"] == "test"]
    assert len(test) == 20 and {r["label"] for r in test} == {"a", "b"}


def _default_sigint() -> None:
    """A terminal's foreground job has SIGINT's default action; a test runner's process may
    ignore it (a library in the pytest worker can set SIG_IGN at the C level, and an ignored
    signal stays ignored across exec, so Python would install no KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wordspace(cat: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "WORDSPACE_LOG_JSON": "false"}
    return subprocess.Popen([sys.executable, "-m", "service.cli", "--catalog", str(cat), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint, **kw)


@pytest.mark.slow
def test_one_build_per_name_and_ctrl_c_is_one_line(tmp_path):
    """The first build holds 'kept' while it reads a FIFO no one writes; a second build of the
    same name is refused naming it; Ctrl-C (SIGINT to its process group, as a terminal sends)
    stops it with one line, and the version built before is still the one published."""
    cat = tmp_path / "cat"
    _words(tmp_path / "kept.txt", 20)
    (tmp_path / "my.toml").write_text(SPEC)
    spec = ["build", "--spec", str(tmp_path / "my.toml"), "--no-learning-curve"]
    assert subprocess.run([sys.executable, "-m", "service.cli", "--catalog", str(cat), *spec],
                          capture_output=True).returncode == 0
    before = catalog.resolve(cat, "kept")
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "my.toml").write_text(SPEC.replace("kept.txt", "pipe.txt") + 'format = "word2vec"\n')

    first = _wordspace(cat, *spec)
    lock = cat / locks.LOCKS / "kept.lock"
    until(lambda: lock.is_file() and f"pid {first.pid} " in lock.read_text(), 60,
          "the first build holding the lock")
    second = _wordspace(cat, *spec)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2, err
    [error] = [line for line in err.splitlines() if "ERROR" in line]
    assert f"space 'kept' is being built by pid {first.pid} (wordspace " in error
    assert "Traceback" not in err

    os.killpg(first.pid, signal.SIGINT)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if "interrupted" in x]
    assert line == (f"wordspace: interrupted: stopped while building kept, which keeps the version "
                    f"it had; the catalog {cat} serves kept, as before")
    assert catalog.resolve(cat, "kept") == before
