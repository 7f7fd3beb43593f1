"""The real service on a free port for the tests: bench/server.py's `serve` (the one helper
the benches, the client's tests and docs/figures.py use too), and `until`, the tests' poll for
state another process changes without telling."""
from __future__ import annotations

import time

from bench.server import Server, children, free_port, serve, wait_for_workers

__all__ = ["Server", "children", "free_port", "serve", "until", "wait_for_workers"]


def until(condition, timeout: float = 30, what: str = "the condition") -> None:
    """Poll `condition()` until it is true; fail after `timeout` seconds. For state another
    process or thread changes without telling (requests answered, workers replaced)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.05)
