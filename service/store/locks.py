"""One build at a time per space name: an flock on CATALOG/.locks/NAME.lock, held while a
build makes and publishes the space (or `wordspace remove` removes it). A second process
refuses at once, in one line naming the first (its pid, command and start, which the holder
writes into the lock file). The kernel drops the lock when its holder exits, however it ends,
so no stale lock is left to clear. Local catalogs only: flock does not span machines.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sys
from pathlib import Path
from typing import Iterable, Iterator

from service.errors import InputError

LOCKS = ".locks"


class Busy(InputError):
    """Another process holds the space's lock."""


@contextlib.contextmanager
def hold(catalog: Path, names: Iterable[str], doing: str = "built") -> Iterator[None]:
    """Hold the lock of every name (in sorted order, so two holders of shared names cannot
    wait on each other) until the block ends.

    Raises:
        Busy: a name's lock is held by another process, named in the message.
    """
    with contextlib.ExitStack() as stack:
        for name in sorted(set(names)):
            stack.enter_context(_one(catalog, name, doing))
        yield


@contextlib.contextmanager
def _one(catalog: Path, name: str, doing: str) -> Iterator[None]:
    folder = Path(catalog) / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(encoding="utf-8", errors="replace").strip()
            raise Busy(f"space {name!r} is being {holder or 'built by another process'}; wait "
                       "for it to end (or stop it), then run this again") from None
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        command = " ".join(["wordspace", *sys.argv[1:]])[:200]
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{doing} by pid {os.getpid()} ({command}) since {started}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (unlinking it would race a waiter)
