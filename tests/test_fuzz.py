"""Fuzzing: schemathesis generates requests from openapi.yaml against the running service
(gunicorn, loopback): no 5xx and no response that breaks the spec, over 2,000+ requests."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from service.store import catalog
from tests.conftest import toy_table
from tests.server import serve

pytestmark = pytest.mark.slow
KEY = "fuzz-key"
MIN_REQUESTS = 2000


def _requests_served(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("wordspace_requests_total{") and 'route="/metrics"' not in line)


def test_schemathesis_finds_no_server_error_and_no_spec_violation(tmp_path):
    st = Path(sys.executable).with_name("schemathesis")
    if not st.exists():
        st = shutil.which("schemathesis")
    assert st, "schemathesis is in the test extra"
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"}, details={"kind": "test"})
    catalog.write_space(cat, "other", toy_table(seed=3), source={"format": "test"}, factory="HNSW32")
    # 413 (body over WORDSPACE_MAX_BODY_BYTES) is a rejection too; schemathesis' default list
    # of rejection statuses leaves it out.
    (tmp_path / "schemathesis.toml").write_text(
        '[parameters]\n"path.space" = "toy"\n"query.source" = "toy"\n"query.target" = "other"\n\n'
        '[checks.negative_data_rejection]\nexpected-statuses = '
        '["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]\n'
    )
    # Default limits: the spec documents them. positive_data_acceptance is left out because a
    # schema-valid request may still be refused for what no schema can say (a word absent
    # from the space, words that cancel out); ensure_resource_availability because no route
    # creates anything (POST /v1/spaces/{space}/vectors is a query for many vectors, not a
    # new /vectors/{word}); every other check runs, on every route except
    # the reload, which replaces the workers (tested in test_reload_e2e.py).
    with serve(cat, api_keys=KEY, log_level="warning") as server:
        before = _requests_served(server.base)
        run = subprocess.run(
            [str(st), "run", server.url("/openapi.yaml"), "--checks", "all",
             "--exclude-checks", "positive_data_acceptance,ensure_resource_availability",
             "--max-examples", "60", "--seed", "11", "--generation-database", "none",
             "--header", f"Authorization: Bearer {KEY}", "--exclude-path", "/v1/admin/reload",
             "--workers", "1", "--request-timeout", "30", "--max-time", "90", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=200,
        )
        served = _requests_served(server.base) - before
    start = run.stdout.find("FAILURES")
    report = run.stdout[start:start + 8000] if start >= 0 else run.stdout[-6000:]
    assert run.returncode == 0, report
    assert served >= MIN_REQUESTS, f"only {served:.0f} requests reached the service\n{report}"
    generated = re.search(r"(\d+) generated", run.stdout)
    print(f"schemathesis: {generated.group(0) if generated else '?'}, {served:.0f} requests served")
