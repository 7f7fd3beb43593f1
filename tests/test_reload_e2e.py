"""Zero-downtime reload under gunicorn: SIGHUP via the admin route while requests run, and
metrics added up across workers (prometheus multiprocess mode)."""
from __future__ import annotations

import threading

import pytest
import requests

from service.store import catalog
from tests.support.tables import toy_table
from tests.support.server import children, serve, until, wait_for_workers

pytestmark = pytest.mark.slow
KEY = {"Authorization": "Bearer test-key"}


def test_reload_under_load_fails_no_request(tmp_path):
    catalog.write_space(tmp_path, "toy", toy_table(n_noise=50), source={"v": 1})
    with serve(tmp_path, workers=2, threads=2, api_keys="test-key") as server:
        master = server.proc.pid
        old_workers = set(wait_for_workers(master, 2))
        failures, done = [], []
        stop = threading.Event()

        def hammer():
            with requests.Session() as session:
                while not stop.is_set():
                    try:
                        r = session.get(server.url("/v1/spaces/toy/neighbors?word=alps&k=3"),
                                        headers=KEY, timeout=10)
                        (done if r.status_code == 200 else failures).append(r.status_code)
                    except requests.RequestException as e:
                        failures.append(repr(e))

        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            until(lambda: len(done) >= 50 or failures, what="50 answers before the reload")
            catalog.write_space(tmp_path, "toy", toy_table(n_noise=80), source={"v": 2})
            catalog.write_space(tmp_path, "extra", toy_table(n_noise=5), source={})
            r = requests.post(server.url("/v1/admin/reload"), headers=KEY, timeout=10)
            assert r.status_code == 202, r.text
            until(lambda: len(new := set(children(master))) == 2 and not new & old_workers,
                  what="both workers replaced")
            answered = len(done)  # and the new workers answer under the same load
            until(lambda: len(done) >= answered + 50 or failures, what="50 answers after the reload")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=15)

        assert not failures, failures[:5]
        assert len(done) > 100
        assert not set(children(master)) & old_workers, "old workers still running"
        for _ in range(6):  # every worker now serves the rebuilt space and the new one
            assert requests.get(server.url("/v1/spaces/toy"), headers=KEY).json()["size"] == 88
            assert requests.get(server.url("/v1/spaces/extra"), headers=KEY).status_code == 200

        metrics = requests.get(server.url("/metrics"), timeout=10).text
        total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith("wordspace_requests_total{") and 'status="200"' in line
                    and "/neighbors" in line)
        assert total >= len(done)  # counts from the old workers are kept after they exit
