"""The spaces a running service holds, and the state of each configured one.

A space that fails to load is refused with a log line naming the bad file; the others
still serve. Whatever loading one space raises (a partial manifest, an odd folder name, an
unreadable file, a faiss or numpy error) refuses that space alone; a folder or link that leads
out of the catalog is refused; a reload never raises. At start, a space whose current version is refused falls back to the newest
older version in the catalog's .versions that passes its checks, with a warning (a restart
never loses a space that has a good version). `reload` re-reads the catalog: new and rebuilt
spaces come in, removed ones go out, and a space whose new version fails its checks keeps
serving the version it had. Requests in flight keep the Space object they started with.
Lives on the app's state (service/web/state.py) as `registry`.

With an s3:// catalog, `remote` is the replica's Mirror (service/store/mirror.py) and
`catalog` its cache: a version the mirror refused (a missing or damaged object) is shown on its
space, which keeps serving the version it had, if any.

Readiness: every space in `required` must be loaded; with none named, every space the
registry tried to load must be. A reload that cannot read the catalog (or its .versions)
changes nothing, and a served space whose files can no longer be read keeps serving from
memory: neither makes the service unready (every replica shares the catalog, and would leave
the load balancer at once); both are kept in `faults` (service/store/health.py), with the time
first seen, for /readyz and the metrics.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from service.errors import BadIndex, SpaceNotReady, UnknownSpace, shorten
from service.store import catalog
from service.store.index import last_line
from service.store.health import Faults, catalog_unreadable
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
    remote: object | None = None  # the Mirror of an s3:// catalog: .problems, .error
    faults: Faults = field(default_factory=Faults)
    # The callback a space's index searches report their seconds to, by space name (metrics).
    observe_search: Callable[[str], Callable[[float], None]] | None = None

    def load(self) -> "Registry":
        """(Re)read the catalog; the new maps replace the old ones in one assignment each.
        A reload that cannot list the catalog keeps everything as it was (a fault, see above)."""
        unreadable = catalog_unreadable(self.catalog) if self.spaces else None
        self.faults.reload_failed(unreadable)
        if unreadable:
            log.error("reload failed, the catalog cannot be read (%s); still serving %s",
                      unreadable, ", ".join(self.names))
            return self
        problems = getattr(self.remote, "problems", {})
        names = self.configured or tuple(sorted({*catalog.space_names(self.catalog), *problems}))
        odd = [n for n in names if not _printable(n)]
        names = tuple(n for n in names if _printable(n))
        if not names and getattr(self.remote, "error", None) is None:  # else the mirror said why
            log.warning("no spaces in catalog %s; build one with `wordspace build-index`", self.catalog)
        for name in self.required:
            if name not in names:
                log.error("required space %s is not among the spaces to load (%s)", name,
                          ", ".join(names) or "none")
        spaces, states = {}, {}
        for name in odd:
            shown = _printable_form(name)
            log.error("space %s refused: its folder name is not UTF-8 text", shown)
            states[shown] = SpaceState(shown, "failed", "the folder name is not UTF-8 text; "
                                       "rename it (letters, digits, '-' and '_')",
                                       summary="the folder name is not UTF-8 text")
        for name in names:
            current = self.spaces.get(name)
            if name in problems and not (self.catalog / name).is_symlink():
                space = None  # no version of it downloaded yet: _store_refused says why
            else:
                try:
                    space, states[name] = self._load_one(name, current)
                except Exception as e:  # a fault outside Space.load (a link loop, ...): this space only
                    space, states[name] = current, self._refused(name, current, self._as_bad(name, e))
            if name in problems:
                states[name] = self._store_refused(name, space, *problems[name])
            if space is not None:
                spaces[name] = space
        for gone in set(self.spaces) - set(spaces):
            log.info("space %s removed from the catalog; no longer served", gone)
        self.spaces, self.states = spaces, states
        if self.on_change:
            try:
                self.on_change(spaces, states)
            except Exception:  # metrics and scorecards are extras; the spaces serve without
                log.exception("the spaces loaded, but updating metrics or scorecards failed")
        return self

    def reload(self) -> "Registry":
        """`load`, run by the server's master on SIGHUP: it must never raise out of it (the
        master would stop), so anything not caught per space keeps the spaces served before."""
        try:
            return self.load()
        except Exception:
            log.exception("reload failed; still serving the spaces loaded before")
            return self

    def _store_refused(self, name: str, space: Space | None, version: str,
                       e: BadIndex) -> SpaceState:
        """The state of a space whose newest version in the object store was refused."""
        if space is not None:
            state = self._loaded(space, refused=e)
        else:
            state = SpaceState(name, "failed", self._error(e), summary=_brief(e))
        state.refused = version
        return state

    def _load_one(self, name: str, current: Space | None) -> tuple[Space | None, SpaceState]:
        link = self.catalog / name
        if not link.exists() and not link.is_symlink():
            log.error("space %s: no folder %s in the catalog", name, link)
            return None, SpaceState(name, "missing", f"{name} does not exist",
                                    summary="not in the catalog")
        if current is not None and catalog.resolve(self.catalog, name) == current.folder:
            return current, self._loaded(current)
        try:
            space = self._open(name)
        except BadIndex as e:
            return self._refuse(name, current, e)
        if current is not None:
            log.info("space %s: now serving %s (was %s)", name, space.folder, current.folder)
        return space, self._loaded(space)

    def _open(self, name: str, folder: Path | None = None) -> Space:
        """Space.load (or load_folder), with any exception turned into the BadIndex that
        refuses this space alone, naming the folder and the reason."""
        observe = self.observe_search(name) if self.observe_search else None
        try:
            if folder is None:
                return Space.load(self.catalog, name, self.full_checksums, observe)
            return Space.load_folder(name, folder, self.full_checksums, observe)
        except BadIndex:
            raise
        except Exception as e:  # the one per-space load boundary: nothing here stops the server
            log.debug("space %s: load failed", name, exc_info=True)
            raise self._as_bad(name, e, folder) from e

    def _as_bad(self, name: str, e: Exception, folder: Path | None = None) -> BadIndex:
        if isinstance(e, BadIndex):
            return e
        return BadIndex(folder or self.catalog / name,
                        f"cannot be loaded ({type(e).__name__}: {_no_paths(last_line(e))})")

    def _refused(self, name: str, current: Space | None, e: BadIndex) -> SpaceState:
        """The state of a space whose loading failed outside Space.load (no fallback tried)."""
        log.error("space %s refused: %s", name, e)
        if current is not None:
            return self._loaded(current, refused=e)
        return SpaceState(name, "failed", self._error(e), self._shown(e.path), summary=_brief(e))

    def _refuse(self, name: str, current: Space | None, e: BadIndex) -> tuple[Space | None, SpaceState]:
        if current is not None:
            log.error("space %s: new version refused, still serving %s: %s", name, current.folder, e)
            return current, self._loaded(current, refused=e, newer=self.catalog / name)
        return self._fall_back(name, e)

    def _fall_back(self, name: str, refused: BadIndex) -> tuple[Space | None, SpaceState]:
        """The newest older version that passes its checks, or the refusal."""
        link = self.catalog / name
        current = catalog.resolve(self.catalog, name)
        for folder in catalog.versions(self.catalog, name):
            if folder == current:
                continue
            try:
                space = self._open(name, folder)
            except BadIndex as e:
                log.error("space %s: older version %s refused too: %s", name, folder.name, e)
                continue
            log.warning("space %s: current version %s refused (%s); serving the older version %s",
                        name, current.name, refused, folder.name)
            return space, self._loaded(space, refused=refused, newer=link)
        log.error("space %s refused: %s", name, refused)
        state = "missing" if not current.is_dir() else "failed"
        return None, SpaceState(name, state, self._error(refused), self._shown(refused.path),
                                summary=_brief(refused))

    def _shown(self, path) -> str:
        """A path as answers show it: relative to the catalog, or only its name when it lies
        elsewhere (an answer never shows where the server's files are)."""
        path = Path(path)
        for root in (self.catalog.resolve(), self.catalog.absolute(), self.catalog):
            if path.is_relative_to(root):
                return str(path.relative_to(root))
        return path.name

    def _error(self, e: BadIndex) -> str:
        return f"{self._shown(e.path)}: {_no_paths(e.reason)}"

    def _loaded(self, space: Space, refused: BadIndex | None = None,
                newer: Path | None = None) -> SpaceState:
        state = SpaceState(space.name, "loaded", path=self._shown(space.folder),
                           version=space.folder.name)
        if refused is not None:
            state.fallback = True
            state.error = f"new version refused: {self._error(refused)}"
            state.refused = newer.resolve().name if newer is not None else None
            state.summary = f"new version refused: {_brief(refused)}"
        return state

    def check_files(self) -> dict:
        """The served spaces whose files cannot be read now: name -> health.Fault."""
        return self.faults.check({n: s.folder for n, s in self.spaces.items() if s.folder})

    @staticmethod
    def brief(error: str) -> str:
        """An error as answers show it: paths cut to their last part."""
        return _no_paths(error)

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


def _brief(e: BadIndex) -> str:
    return f"{Path(e.path).name}: {_no_paths(e.reason)}"


# An absolute path in a message (an OSError's, a faiss error's): only its last part is shown.
_ABSOLUTE = re.compile(r"(?<![\w.~-])/(?:[^\s'\"/:,()]+/)*([^\s'\"/:,()]*)")


def _no_paths(reason: str) -> str:
    return _ABSOLUTE.sub(lambda m: m.group(1) or "/", reason)


def _printable(name: str) -> bool:
    """A name that can be logged and answered: UTF-8 text without control characters."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return name.isprintable()


def _printable_form(name: str) -> str:
    """An odd folder name as it can be shown: undecodable bytes and controls escaped."""
    raw = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return raw.encode("unicode_escape").decode("ascii") if not raw.isprintable() else raw
