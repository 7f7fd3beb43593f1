"""The spaces a running service holds, and the state of each configured one.

A space that fails to load is refused with a log line naming the bad file; the others
still serve. At start, a space whose current version is refused falls back to the newest
older version in the catalog's .versions that passes its checks, with a warning (a restart
never loses a space that has a good version). `reload` re-reads the catalog: new and rebuilt
spaces come in, removed ones go out, and a space whose new version fails its checks keeps
serving the version it had. Requests in flight keep the Space object they started with.
Lives on the app as app.extensions["wordspace"].

Readiness: every space in `required` must be loaded; with none named, every space the
registry tried to load must be.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from service.errors import BadIndex, SpaceNotReady, UnknownSpace, shorten
from service.store import catalog
from service.store.space import Space

log = logging.getLogger(__name__)


@dataclass
class SpaceState:
    name: str
    state: str  # "loaded" | "failed" | "missing"
    error: str | None = None  # why the space, or its newer version, was refused
    path: str | None = None  # the folder served, or the file that failed
    version: str | None = None  # the version folder served
    refused: str | None = None  # the newer version refused while an older one serves
    fallback: bool = False  # serving an older version than the catalog's link names
    summary: str | None = None  # the refusal without paths (file name and reason), for answers

    def public(self) -> dict:
        """What anyone may see: the state (no paths, no reasons)."""
        out = {"state": self.state}
        if self.fallback:
            out["fallback"] = True
        return out

    def details(self) -> dict:
        return {k: v for k, v in vars(self).items()
                if v not in (None, False) and k not in ("name", "summary")}


@dataclass
class Registry:
    catalog: Path
    configured: tuple[str, ...] = ()
    spaces: dict[str, Space] = field(default_factory=dict)
    states: dict[str, SpaceState] = field(default_factory=dict)
    on_change: Callable[[dict, dict], None] | None = None
    full_checksums: bool = False
    required: tuple[str, ...] = ()

    def load(self) -> "Registry":
        """(Re)read the catalog; the new maps replace the old ones in one assignment each."""
        names = self.configured or tuple(catalog.space_names(self.catalog))
        if not names:
            log.warning("no spaces in catalog %s; build one with `wordspace build-index`", self.catalog)
        for name in self.required:
            if name not in names:
                log.error("required space %s is not among the spaces to load (%s)", name,
                          ", ".join(names) or "none")
        spaces, states = {}, {}
        for name in names:
            space, states[name] = self._load_one(name, self.spaces.get(name))
            if space is not None:
                spaces[name] = space
        for gone in set(self.spaces) - set(spaces):
            log.info("space %s removed from the catalog; no longer served", gone)
        self.spaces, self.states = spaces, states
        if self.on_change:
            self.on_change(spaces, states)
        return self

    reload = load

    def _load_one(self, name: str, current: Space | None) -> tuple[Space | None, SpaceState]:
        link = self.catalog / name
        if not link.exists() and not link.is_symlink():
            log.error("space %s: no folder %s in the catalog", name, link)
            return None, SpaceState(name, "missing", f"{link} does not exist",
                                    summary="not in the catalog")
        if current is not None and catalog.resolve(self.catalog, name) == current.folder:
            return current, _loaded(current)
        try:
            space = Space.load(self.catalog, name, self.full_checksums)
        except BadIndex as e:
            if current is not None:
                log.error("space %s: new version refused, still serving %s: %s", name, current.folder, e)
                return current, _loaded(current, refused=e, newer=link)
            return self._fall_back(name, e)
        if current is not None:
            log.info("space %s: now serving %s (was %s)", name, space.folder, current.folder)
        return space, _loaded(space)

    def _fall_back(self, name: str, refused: BadIndex) -> tuple[Space | None, SpaceState]:
        """The newest older version that passes its checks, or the refusal."""
        link = self.catalog / name
        current = catalog.resolve(self.catalog, name)
        for folder in catalog.versions(self.catalog, name):
            if folder == current:
                continue
            try:
                space = Space.load_folder(name, folder, self.full_checksums)
            except BadIndex as e:
                log.error("space %s: older version %s refused too: %s", name, folder.name, e)
                continue
            log.warning("space %s: current version %s refused (%s); serving the older version %s",
                        name, current.name, refused, folder.name)
            return space, _loaded(space, refused=refused, newer=link)
        log.error("space %s refused: %s", name, refused)
        state = "missing" if not current.is_dir() else "failed"
        return None, SpaceState(name, state, str(refused), refused.path, summary=_brief(refused))

    @property
    def ready(self) -> bool:
        wanted = self.required or tuple(self.states)
        return bool(wanted) and all(
            name in self.states and self.states[name].state == "loaded" for name in wanted)

    def get(self, name: str) -> Space:
        """Raises: UnknownSpace listing the spaces there are; SpaceNotReady for a refused one."""
        space = self.spaces.get(name)
        if space is not None:
            return space
        state = self.states.get(name)
        if state is not None:
            raise SpaceNotReady(f"space '{name}' is {state.state}: {state.summary}", space=name)
        name = shorten(name)
        raise UnknownSpace(f"no space '{name}'; spaces: {', '.join(self.names) or 'none'}",
                           space=name, spaces=self.names)

    @property
    def names(self) -> list[str]:
        return sorted(self.spaces)


def _loaded(space: Space, refused: BadIndex | None = None, newer: Path | None = None) -> SpaceState:
    state = SpaceState(space.name, "loaded", path=str(space.folder), version=space.folder.name)
    if refused is not None:
        state.fallback = True
        state.error = f"new version refused: {refused}"
        state.refused = newer.resolve().name if newer is not None else None
    return state


def _brief(e: BadIndex) -> str:
    return f"{Path(e.path).name}: {e.reason}"
