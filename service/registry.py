"""The spaces a running service holds, and the state of each configured one.

A space that fails to load is refused with a log line naming the bad file; the others
still serve. Lives on the app as app.extensions["wordspace"].
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from service import catalog
from service.errors import BadIndex, SpaceNotReady, UnknownSpace
from service.space import Space

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

    def load(self) -> "Registry":
        names = self.configured or tuple(catalog.space_names(self.catalog))
        if not names:
            log.warning("no spaces in catalog %s; build one with `wordspace build-index`", self.catalog)
        for name in names:
            self._load_one(name)
        return self

    def _load_one(self, name: str) -> None:
        if not (self.catalog / name).exists():
            log.error("space %s: no folder %s in the catalog", name, self.catalog / name)
            self.states[name] = SpaceState(name, "missing", f"{self.catalog / name} does not exist")
            return
        try:
            space = Space.load(self.catalog, name)
        except BadIndex as e:
            log.error("space %s refused: %s", name, e)
            self.states[name] = SpaceState(name, "failed", str(e), e.path)
            return
        self.spaces[name] = space
        self.states[name] = SpaceState(name, "loaded", path=str(space.folder))

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
