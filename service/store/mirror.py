"""A replica's copy of an s3:// catalog, and the watch that notices new versions of any catalog.

The cache is a local catalog (service/store/catalog.py's layout), so the registry loads it as
it loads any folder, memory-mapped. `Mirror.sync` reads the store's pointer with a conditional
GET (nothing more is sent while it is unchanged), downloads each version the cache lacks into
a temporary folder, checks every file's sha256, and only then moves the space's link, which
prunes all but that version and the one before it. A version whose objects are missing or
damaged is refused (`problems`, shown by /readyz and /v1/spaces) and the version served
before stays. A store that cannot be reached leaves the cache as it is (`error`): a warm
cache serves, a cold one is not ready.

The server runs one Mirror and one Watch in gunicorn's master (service/server.py): a replica
downloads once, then SIGHUPs itself, and gunicorn's reload swaps fresh workers in.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Callable

from service.errors import BadIndex, InputError, StoreError
from service.store import catalog, objects
from service.store.experiments import EXPERIMENTS

log = logging.getLogger(__name__)


class Mirror:
    def __init__(self, url: str, cache: Path):
        self.url = url
        self.location = objects.parse(url)
        self.cache = cache
        self.etag: str | None = None  # of the pointer last applied in full
        self.problems: dict[str, tuple[str, BadIndex]] = {}  # space -> (version refused, why)
        self.error: str | None = None  # why the store cannot be reached, while it cannot
        self._s3 = None
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"WORDSPACE_CACHE={cache}: cannot create it ({e.strerror}); "
                             "give a writable folder for the s3:// catalog's copy") from None

    def sync(self) -> bool:
        """Bring the cache to the store's pointer; True when what would load changed."""
        try:
            self._s3 = self._s3 or objects.client()
            got = objects.read_pointer(self._s3, self.location, self.etag)
        except StoreError as e:
            self._unreachable(e)
            return False
        if self.error is not None:
            log.info("catalog %s reachable again", self.url)
            self.error = None
        if got is objects.NOT_MODIFIED:
            return False
        pointer, etag = got
        _clear_partial(self.cache)
        changed, problems, complete = False, {}, True
        for name, entry in sorted(pointer["spaces"].items()):
            try:
                changed |= self._bring(name, entry)
            except BadIndex as e:
                version = entry.get("version") if isinstance(entry, dict) else None
                log.error("space %s: version %s refused: %s", name, version, e)
                problems[name] = (version, e)
            except StoreError as e:
                self._unreachable(e)
                complete = False
        if complete:
            changed |= self._drop_removed(pointer)
            self._experiments(pointer)
            self.etag = etag  # only a pointer applied in full is not read again
        changed |= problems.keys() != self.problems.keys() or any(
            problems[n][0] != self.problems[n][0] for n in problems)
        self.problems = problems
        return changed

    def _bring(self, name: str, entry: dict) -> bool:
        version = entry.get("version") if isinstance(entry, dict) else None
        try:
            catalog.check_name(name)
        except InputError as e:
            raise BadIndex(f"{self.location}{objects.POINTER}", str(e)) from None
        if not isinstance(version, str) or not version.startswith(name + ".") or "/" in version:
            raise BadIndex(f"{self.location}{objects.POINTER}", f"names an odd version {version!r}")
        folder = self.cache / catalog.VERSIONS / version
        link = self.cache / name
        if link.is_symlink() and link.resolve() == folder.resolve() and folder.is_dir():
            return False
        if not folder.is_dir():
            tmp = self.cache / catalog.VERSIONS / f".tmp-{version}.{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                objects.download_version(self._s3, self.location, version,
                                         entry.get("manifest_sha256"), tmp)
                os.rename(tmp, folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            log.info("space %s: downloaded and verified %s", name, version)
        catalog.publish_version(self.cache, name, folder)
        return True

    def _drop_removed(self, pointer: dict) -> bool:
        gone = [n for n in catalog.space_names(self.cache) if n not in pointer["spaces"]]
        for name in gone:
            (self.cache / name).unlink(missing_ok=True)
            for folder in catalog.versions(self.cache, name):
                shutil.rmtree(folder, ignore_errors=True)
            log.info("space %s: removed from %s", name, self.url)
        return bool(gone)

    def _experiments(self, pointer: dict) -> None:
        """The published results the cache lacks or holds in another version."""
        folder = self.cache / EXPERIMENTS
        for name, sha in pointer.get("experiments", {}).items():
            path = folder / f"{name}.json"
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
                continue
            folder.mkdir(exist_ok=True)
            try:
                got = self._s3.get_object(Bucket=self.location.bucket,
                                          Key=self.location.key(EXPERIMENTS, path.name))
                body = got["Body"].read()
            except objects.store_errors() as e:
                log.warning("experiment %s: not downloaded (%s)", name, e)
                continue
            if hashlib.sha256(body).hexdigest() == sha:
                tmp = folder / f".{path.name}.{os.getpid()}"
                tmp.write_bytes(body)
                os.replace(tmp, path)

    def _unreachable(self, e: StoreError) -> None:
        if self.error is None:
            cached = catalog.space_names(self.cache)
            log.error("%s; %s", e, f"serving the cached versions of {', '.join(cached)}" if cached
                      else f"the cache {self.cache} is empty: not ready until the store answers")
        self.error = str(e)


def _clear_partial(cache: Path) -> None:
    """Downloads a killed replica left behind."""
    for tmp in (cache / catalog.VERSIONS).glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def links(folder: Path) -> dict[str, str]:
    """What a local catalog serves now: each space and where its link points (a folder put
    there by hand: its modification time). Never raises: a loop or a vanished entry is a
    value like any other, for the registry to report."""
    found = {}
    for name in catalog.space_names(folder):
        path = folder / name
        try:
            found[name] = os.readlink(path) if path.is_symlink() else str(path.stat().st_mtime_ns)
        except OSError as e:
            found[name] = f"unreadable: {e.strerror}"
    return found


class Watch:
    """Every `interval` seconds, `check()`; when it returns True, `changed()`. A thread, so
    that the master's loop (signals, workers) goes on while a download runs."""

    def __init__(self, check: Callable[[], bool], changed: Callable[[], None], interval: float):
        self.check, self.changed, self.interval = check, changed, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catalog-watch", daemon=True)

    def start(self) -> "Watch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.check():
                    self.changed()
            except Exception as e:  # the watch never stops the server; the next turn tries again
                log.error("catalog watch: the check failed (%s: %s)", type(e).__name__, e)


def local_check(folder: Path) -> Callable[[], bool]:
    """A check for a local folder catalog: True when its spaces or their links changed."""
    seen = [links(folder)]

    def check() -> bool:
        now = links(folder)
        if now == seen[0]:
            return False
        seen[0] = now
        return True

    return check
