"""The end-to-end tests' catalog of real spaces, built by the real runner from
tests/support/catalog.toml (a GloVe slice, small top-k tables) with shorter training: word2vec
as CBOW on the packaged corpus (about 6x faster than the default skip-gram; WordSim353 0.49
against 0.59), the three classifiers with fewer steps, clickbait on a third of its headlines.
Once per test session (tests/conftest.py), in a background process started at collection
(`start`): the tests that need it run last, the others run while it builds, and `wait` blocks
on the builder's lock (an flock its process holds until it exits), not on a timer. Under
pytest-xdist the workers share one build through the same lock.
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import ROOT

from service.builder import runner
from service.builder.classifier import ClassifierSettings
from service.builder.recipes import BuildOptions
from service.builder.spec import load_spec
from service.builder.word2vec import Word2VecSettings

SPEC = Path(__file__).with_name("catalog.toml")
SPACES = ("word2vec", "glove", "sentiment", "clickbait", "clickbait-w2v")
# Labelled texts of each task (stratified): all of sentiment's 10,662, whose vocabulary the
# meaning-relation pairs of tests/test_compare_e2e.py need; 11,000 of clickbait's 32,000.
TEXTS = 11_000
CLASSIFIER = ClassifierSettings(min_steps=100, patience=100, max_steps=600)
# Five epochs, as the default: with three, word2vec -> glove held-out precision@1 drops from
# 0.036 to 0.004 and tests/test_compare_e2e.py's alignment check fails.
WORD2VEC = Word2VecSettings(sg=0)


def build(cat: Path) -> Path:
    runner.run(BuildOptions(catalog=cat, spec=load_spec(SPEC), spaces=SPACES, curve=None,
                            limit=TEXTS, classifier=CLASSIFIER, word2vec_settings=WORD2VEC))
    return cat


def glove_rows() -> int:
    """How many GloVe rows the test catalog holds."""
    return load_spec(SPEC).spaces["glove"].limit


def start(folder: Path) -> None:
    """Start building the catalog into folder/catalog in a background process, unless some
    process of this session has already started it. The builder inherits the exclusive lock
    on folder/lock and holds it until it exits, however it exits."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # being built
        if (folder / "started").exists():
            return  # built (or failed) earlier in the session
        (folder / "started").touch()
        with open(folder / "build.log", "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.realcat", str(folder / "catalog"),
                 "--done", str(folder / "done")],
                pass_fds=(lock.fileno(),), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        (folder / "pid").write_text(str(proc.pid))


def wait(folder: Path) -> Path:
    """The catalog, once built: blocks on the lock while the background builder runs; builds
    here if no builder was started (a run that collected no test needing it at first)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "done").exists():
            return folder / "catalog"
        if (folder / "started").exists():
            log = (folder / "build.log").read_text(errors="replace")
            raise RuntimeError(f"the test catalog's build failed ({folder}):\n{log[-5000:]}")
        (folder / "started").touch()
        build(folder / "catalog")
        (folder / "done").touch()
        return folder / "catalog"


def stop(folder: Path) -> None:
    """End a builder still running (the session ended first)."""
    try:
        os.killpg(int((folder / "pid").read_text()), signal.SIGTERM)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass


def main(argv: list[str]) -> int:
    """python -m tests.support.realcat DIR [--done FILE]: build the catalog into DIR (for
    WORDSPACE_TEST_REAL_CATALOG=DIR); FILE is written once it is complete."""
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="python -m tests.support.realcat")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--done", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.monotonic()
    build(args.folder)
    if args.done:
        args.done.write_text(f"{time.monotonic() - started:.1f}\n")
    return 0


def report(folder: Path) -> str | None:
    """One line for the session's summary: how long the catalog took to build."""
    if not (folder / "started").exists():
        return None
    if (folder / "done").exists():
        seconds = (folder / "done").read_text().strip() or "?"
        return f"test catalog built in the background in {seconds} s ({folder / 'build.log'})"
    return "test catalog: not built (stopped, or failed: see the first test that needed it)"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
