"""The end-to-end tests' catalog of real spaces, built by the real runner from
tests/support/catalog.toml (a GloVe slice, small top-k tables) with shorter training: word2vec
as CBOW on the packaged corpus (about 6x faster than the default skip-gram; WordSim353 0.49
against 0.59), the three classifiers with fewer steps, clickbait on a third of its headlines.
Once per test session (tests/conftest.py), in a background process started at collection
(`start`): the tests that need it run last, the others run while it builds, and `wait` blocks
on the builder's locks (an flock per stage its process holds until the stage is built or it
exits), not on a timer. Under pytest-xdist the workers share one build through the locks.
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
from service.builder.recipe import BuildOptions
from service.builder.spec import load_spec
from service.builder.word2vec import Word2VecSettings

SPEC = Path(__file__).with_name("catalog.toml")
# Built in this order: GloVe first (tests/test_e2e.py needs only it, and is told as soon as it
# is there), then the rest.
STAGES = {"glove": ("glove",), "all": ("word2vec", "sentiment", "clickbait", "clickbait-w2v")}
# Labelled texts of each task (stratified): all of sentiment's 10,662, whose vocabulary the
# meaning-relation pairs of tests/test_compare_e2e.py need; 11,000 of clickbait's 32,000.
TEXTS = 11_000
CLASSIFIER = ClassifierSettings(min_steps=100, patience=100, max_steps=600)
# Five epochs, as the default: with three, word2vec -> glove held-out precision@1 drops from
# 0.036 to 0.004 and tests/test_compare_e2e.py's alignment check fails.
WORD2VEC = Word2VecSettings(sg=0)


def build(cat: Path, stage_done=lambda stage: None) -> Path:
    """Every stage's spaces into `cat`, calling stage_done(stage) after each."""
    for stage, spaces in STAGES.items():
        runner.run(BuildOptions(catalog=cat, spec=load_spec(SPEC), spaces=spaces, curve=None,
                                limit=TEXTS, classifier=CLASSIFIER, word2vec_settings=WORD2VEC))
        stage_done(stage)
    return cat


def glove_rows() -> int:
    """How many GloVe rows the test catalog holds."""
    return load_spec(SPEC).spaces["glove"].limit


# In the session's folder: STAGE.lock (held by the builder until the stage is built),
# STAGE.done (written once it is), started, pid, build.log, and the catalog.

def start(folder: Path) -> None:
    """Start building the catalog into folder/catalog in a background process, unless some
    process of this session has already started it. The builder inherits an exclusive lock
    per stage and holds each until that stage is built or it exits, however it exits."""
    folder.mkdir(parents=True, exist_ok=True)
    locks = [open(folder / f"{stage}.lock", "a+") for stage in STAGES]
    try:
        for lock in locks:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # being built
        if (folder / "started").exists():
            return  # built (or failed) earlier in the session
        (folder / "started").touch()
        fds = [str(lock.fileno()) for lock in locks]
        with open(folder / "build.log", "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.realcat", str(folder), "--locks", *fds],
                pass_fds=[lock.fileno() for lock in locks], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        (folder / "pid").write_text(str(proc.pid))
    finally:
        for lock in locks:
            lock.close()  # the builder's copies keep the locks


def wait(folder: Path, stage: str = "all") -> Path:
    """The catalog once `stage` is built: blocks on the stage's lock while the background
    builder holds it; builds here if no builder was started."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{stage}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / f"{stage}.done").exists():
            return folder / "catalog"
    # Not built, and no builder holds it: the build failed, or none was started.
    with open(folder / "all.lock", "a+") as whole:
        fcntl.flock(whole, fcntl.LOCK_EX)
        if (folder / f"{stage}.done").exists():  # another process built it here meanwhile
            return folder / "catalog"
        if (folder / "started").exists():
            log = (folder / "build.log").read_text(errors="replace")
            raise RuntimeError(f"the test catalog's build failed ({folder}):\n{log[-5000:]}")
        (folder / "started").touch()
        started = time.monotonic()
        build(folder / "catalog", lambda done: (folder / f"{done}.done").write_text(
            f"{time.monotonic() - started:.1f}\n"))
        return folder / "catalog"


def stop(folder: Path) -> None:
    """End a builder still running (the session ended first)."""
    try:
        os.killpg(int((folder / "pid").read_text()), signal.SIGTERM)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass


def main(argv: list[str]) -> int:
    """python -m tests.support.realcat DIR: build the catalog into DIR (for
    WORDSPACE_TEST_REAL_CATALOG=DIR). With --locks (from `start`), DIR is the session's
    folder: each stage's lock is released and STAGE.done written once the stage is built."""
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="python -m tests.support.realcat")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--locks", type=int, nargs="*", help="file descriptors, one per stage")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not args.locks:
        build(args.folder)
        return 0
    started, locks = time.monotonic(), dict(zip(STAGES, args.locks))

    def stage_done(stage: str) -> None:
        (args.folder / f"{stage}.done").write_text(f"{time.monotonic() - started:.1f}\n")
        os.close(locks[stage])  # the waiters on this stage go on

    build(args.folder / "catalog", stage_done)
    return 0


def report(folder: Path) -> str | None:
    """One line for the session's summary: how long the catalog took to build."""
    if not (folder / "started").exists():
        return None
    if (folder / "all.done").exists():
        seconds = {stage: (folder / f"{stage}.done").read_text().strip() for stage in STAGES}
        return (f"test catalog built in the background: GloVe after {seconds['glove']} s, all "
                f"after {seconds['all']} s")
    built = [f"{stage} after {(folder / f'{stage}.done').read_text().strip()} s"
             for stage in STAGES if (folder / f"{stage}.done").exists()]
    return (f"test catalog: built {', '.join(built) or 'nothing'}; the rest stopped with the "
            "session, or failed (see the first test that needed it)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
