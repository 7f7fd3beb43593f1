"""The real service on a free port, its workers, and `until`: bench/server.py's, the one helper
the benches, the client's tests and docs/figures.py use too (bench never imports the tests, so
the helper lives there and the tests import it here)."""
from bench.server import (Server, _answers, alive, children, free_port, group, roles,  # noqa: F401
                          serve, until, wait_for_workers)
