"""What the tests share: tables and catalogs with known answers, the real server on a free
port, the session's small real catalog. Test modules import from here, never from conftest or
from one another (tests/test_layout.py checks it)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
