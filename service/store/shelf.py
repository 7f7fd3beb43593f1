"""Results a gunicorn worker computes once for every worker: written to a folder the master
made before the fork, as an .npy file every worker memory-maps (its pages are the kernel's
page cache, shared, not one private copy per worker) and a small JSON file beside it.

A result's file name says what it was computed from (the space versions' folders, which
never change), so a new catalog version is a new name, never a stale answer. A file is
written under a temporary name and renamed (the JSON first, the array last), so a reader
finds a whole result or none; the worker computing holds an flock on the name, so another
worker wanting the same result waits for it instead of computing it again.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import weakref
from contextlib import contextmanager
from pathlib import Path

import numpy as np


class Shelf:
    """A fresh temporary folder, removed when the process that made it exits or drops it
    (not by the forked workers, whose exit would otherwise remove the master's folder)."""

    def __init__(self, prefix: str = "wordspace-shelf-"):
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))
        weakref.finalize(self, _remove, self.folder, os.getpid())

    def path(self, versions: tuple, label: str) -> Path:
        """The file of the result `label` (its parameters, e.g. "k10") computed from
        `versions` (the space versions' folders), each named by 16 hex digits."""
        return self.folder / f"{'-'.join(_digest(v) for v in versions)}.{label}.npy"

    def read(self, path: Path) -> tuple[np.ndarray, dict] | None:
        """The array (memory-mapped, read-only) and its JSON, or None when not yet written."""
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            return np.load(path, mmap_mode="r"), meta
        except FileNotFoundError:
            return None

    def write(self, path: Path, array: np.ndarray, meta: dict) -> None:
        _replace(path.with_suffix(".json"), lambda f: f.write(json.dumps(meta).encode()))
        _replace(path, lambda f: np.save(f, array, allow_pickle=False))

    def made(self, path: Path, make) -> tuple[np.ndarray, dict]:
        """The result of `path`: read, or made by `make()` (the array and its JSON) and
        written, by one process at a time; another process wanting it waits, then reads it."""
        got = self.read(path)
        if got is None:
            with self.computing(path):
                got = self.read(path)
                if got is None:
                    self.write(path, *make())
                    got = self.read(path)
        return got

    @contextmanager
    def computing(self, path: Path):
        """Held while the result of `path` is computed: one process at a time."""
        with open(path.with_suffix(".lock"), "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def keep(self, versions) -> None:
        """Remove the files computed from a version not in `versions` (the ones now served);
        a worker that still maps one keeps its pages until it lets go of them."""
        kept = {_digest(v) for v in versions}
        for f in self.folder.iterdir():
            if not set(f.name.split(".")[0].split("-")) <= kept:
                f.unlink(missing_ok=True)


def _digest(version: object) -> str:
    return hashlib.sha256(str(version).encode()).hexdigest()[:16]


def _replace(path: Path, write) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp",
                                     delete=False) as f:
        try:
            write(f)
            f.flush()
            # On disk before it is renamed: its pages are then clean page cache, shared by
            # every worker that maps them, not dirty pages of the writer's own.
            os.fsync(f.fileno())
        except BaseException:
            os.unlink(f.name)
            raise
    os.replace(f.name, path)


def _remove(folder: Path, owner: int) -> None:
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)
