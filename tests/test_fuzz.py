"""Fuzzing: schemathesis generates requests from openapi.yaml against the running service
(gunicorn, loopback) with every check, positive-data acceptance included: no 5xx, no
response that breaks the spec, no schema-valid request refused. The generation is seeded and
not capped in time, so the same 2,000+ requests reach the service however fast the machine."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from service.store import catalog
from tests.support.tables import toy_table
from tests.support.server import serve

pytestmark = pytest.mark.slow
KEY = "fuzz-key"
MIN_REQUESTS = 2000


# 413 (a body over WORDSPACE_MAX_BODY_BYTES) answers schema-valid and invalid bodies alike;
# schemathesis' default lists leave it out. A schema-valid request may still be refused for
# what no JSON schema can say, on these operations only, with a 400 that openapi.yaml
# describes: k x items over WORDSPACE_MAX_RESULTS, vectors of another dimension or zero
# (neighborsBatch); words that cancel out (analogy); neither or both of `words` and `word`,
# more than 40 words, a word over 200 characters, or more labels than one picture takes
# (comparePlot, compareProjection); a `pairs` string that is not "a:b,c:d" or holds a word
# over 200 characters (compareSimilarity, GET).
# A word absent from the space is a 404, which the check accepts by default.
CONFIG = """
[parameters]
"path.space" = "toy"
"query.source" = "toy"
"query.target" = "other"

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "413"]
""" + "".join(f"""
[[operations]]
include-operation-id = "{op}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "413"]
""" for op in ("neighborsBatch", "analogy", "analogyPost", "compareAnalogy", "comparePlot",
           "compareProjection", "compareSimilarity"))


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
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    # Default limits: the spec documents them. Every check runs, positive_data_acceptance
    # included, on every route except the reload, which replaces the workers (tested in
    # test_reload_e2e.py).
    with serve(cat, api_keys=KEY, log_level="warning") as server:
        before = _requests_served(server.base)
        run = subprocess.run(
            [str(st), "run", server.url("/openapi.yaml"), "--checks", "all",
             "--exclude-checks", "ensure_resource_availability",
             "--max-examples", "30", "--seed", "11", "--generation-database", "none",
             "--header", f"Authorization: Bearer {KEY}", "--exclude-path", "/v1/admin/reload",
             "--workers", "1", "--request-timeout", "30", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=900,
        )
        served = _requests_served(server.base) - before
    start = run.stdout.find("FAILURES")
    report = run.stdout[start:start + 8000] if start >= 0 else run.stdout[-6000:]
    assert run.returncode == 0, report
    assert served >= MIN_REQUESTS, f"only {served:.0f} requests reached the service\n{report}"
    generated = re.search(r"(\d+) generated", run.stdout)
    print(f"schemathesis: {generated.group(0) if generated else '?'}, {served:.0f} requests served")
