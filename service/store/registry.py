"""The spaces a running service holds, and the state of each configured one.

A space that fails to load is refused with a log line naming the bad file; the others
still serve. `reload` re-reads the catalog: new and rebuilt spaces come in, removed ones go
out, and a space whose new version fails its checks keeps serving the version it had.
Requests in flight keep the Space object they started with. Lives on the app as
app.extensions["wordspace"].
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from service.errors import BadIndex, SpaceNotReady, UnknownSpace
from service.store import catalog
from service.store.space import Space

log = logging.getLogger(__name__)


@dataclass
class SpaceState:
    name: str
    state: str  # "loaded" | "failed" | "missing"
    error: str | None = None
    path: str | None = None


@dataclass
class Registry:
    catalog: Path
    configured: tuple[str, ...] = ()
    spaces: dict[str, Space] = field(default_factory=dict)
    states: dict[str, SpaceState] = field(default_factory=dict)
    on_change: Callable[[dict], None] | None = None
    full_checksums: bool = False

    def load(self) -> "Registry":
        """(Re)read the catalog; the new maps replace the old ones in one assignment each."""
        names = self.configured or tuple(catalog.space_names(self.catalog))
        if not names:
            log.warning("no spaces in catalog %s; build one with `wordspace build-index`", self.catalog)
        spaces, states = {}, {}
        for name in names:
            space, states[name] = self._load_one(name, self.spaces.get(name))
            if space is not None:
                spaces[name] = space
        for gone in set(self.spaces) - set(spaces):
            log.info("space %s removed from the catalog; no longer served", gone)
        self.spaces, self.states = spaces, states
        if self.on_change:
            self.on_change(spaces)
        return self

    reload = load

    def _load_one(self, name: str, current: Space | None) -> tuple[Space | None, SpaceState]:
        link = self.catalog / name
        if not link.exists():
            log.error("space %s: no folder %s in the catalog", name, link)
            return None, SpaceState(name, "missing", f"{link} does not exist")
        if current is not None and catalog.resolve(self.catalog, name) == current.folder:
            return current, SpaceState(name, "loaded", path=str(current.folder))
        try:
            space = Space.load(self.catalog, name, self.full_checksums)
        except BadIndex as e:
            if current is not None:
                log.error("space %s: new version refused, still serving %s: %s", name, current.folder, e)
                return current, SpaceState(name, "loaded", f"new version refused: {e}", str(current.folder))
            log.error("space %s refused: %s", name, e)
            return None, SpaceState(name, "failed", str(e), e.path)
        if current is not None:
            log.info("space %s: now serving %s (was %s)", name, space.folder, current.folder)
        return space, SpaceState(name, "loaded", path=str(space.folder))

    @property
    def ready(self) -> bool:
        return bool(self.states) and all(s.state == "loaded" for s in self.states.values())

    def get(self, name: str) -> Space:
        """Raises: UnknownSpace listing the spaces there are; SpaceNotReady for a refused one."""
        space = self.spaces.get(name)
        if space is not None:
            return space
        state = self.states.get(name)
        if state is not None:
            raise SpaceNotReady(f"space '{name}' is {state.state}: {state.error}", space=name)
        raise UnknownSpace(f"no space '{name}'; spaces: {', '.join(self.names) or 'none'}",
                           space=name, spaces=self.names)

    @property
    def names(self) -> list[str]:
        return sorted(self.spaces)
