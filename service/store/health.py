"""Faults the running service keeps serving through, kept with the time they were first seen:
a catalog that could not be read at a reload, and a served space whose files can no longer
be read (deleted, permissions changed, a storage volume gone). The spaces stay served from the
memory they are mapped in; /readyz and the metrics show each fault, which space and since when.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from service.store.catalog import CORE_FILES, MANIFEST, VERSIONS


@dataclass(frozen=True)
class Fault:
    since: str   # ISO 8601 UTC, when it was first seen
    error: str   # what failed (may name a path: shown only to a caller with a key)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def catalog_unreadable(catalog: Path) -> str | None:
    """Why the catalog folder or its .versions cannot be listed, or None."""
    for folder in (catalog, catalog / VERSIONS):
        try:
            if folder is catalog or folder.exists() or folder.is_symlink():
                os.listdir(folder)
        except OSError as e:
            return f"{folder}: {e.strerror or e}"
    return None


def files_unreadable(folder: Path) -> str | None:
    """Why a served version's files cannot be opened for reading, or None."""
    for name in (MANIFEST, *CORE_FILES):
        try:
            with open(folder / name, "rb") as f:
                f.read(1)
        except OSError as e:
            return f"{folder / name}: {e.strerror or e}"
    return None


@dataclass
class Faults:
    reload: Fault | None = None                              # the last reload's, while it fails
    spaces: dict[str, Fault] = field(default_factory=dict)   # served spaces whose files fail

    def reload_failed(self, error: str | None) -> None:
        if error is None:
            self.reload = None
        elif self.reload is None:
            self.reload = Fault(_now(), error)

    def check(self, served: dict[str, Path]) -> dict[str, Fault]:
        """Open the files of every served version (name -> folder); the spaces failing now."""
        found = {}
        for name, folder in served.items():
            error = files_unreadable(folder)
            if error is not None:
                known = self.spaces.get(name)
                found[name] = known if known is not None else Fault(_now(), error)
        self.spaces = found
        return found
