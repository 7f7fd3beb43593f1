"""What the tests share. Test modules import from here, never from conftest (pytest's fixture
file) or from one another; tests/test_layout.py checks it.

    tables      the toy table, WordSim353/analogy tables and a synthetic sentiment task
    scored      a 3-space catalog whose verdict is known by construction; many: 16 spaces
    classifier  a synthetic sentiment dataset and small classifier settings (real Keras)
    curves      learning curves summarised from synthetic runs
    server      the real service on a free port, its workers, until() (bench/server.py's)
    load        the keep-alive load generator and kill -9 attribution (bench/load.py's)
    attacks     issue 19's raw HTTP attacks (tests/test_edge.py, and .ci/container on the image)
    browser     Debian's chromium for Playwright, and the app served to it
    realcat     the session's small real catalog, built from catalog.toml by the real runner
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
