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


def damaged_catalog(cat):
    """A good space beside the catalog faults that stopped the server before issue 19."""
    import json
    import os

    catalog.write_space(cat, "toy", toy_table(), source={"v": 1})
    for name in ("norows", "odd"):
        catalog.write_space(cat, name, toy_table(n_noise=5), source={})
    manifest = catalog.resolve(cat, "norows") / "manifest.json"
    manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items()
                                    if k != "rows"}))
    os.rename(cat / "odd", cat / "odd\udcff")
    os.symlink("/etc", cat / "etc")


def test_a_damaged_catalog_starts_and_reloads_without_stopping_the_master(tmp_path):
    import json
    import os

    damaged_catalog(tmp_path)
    with serve(tmp_path, workers=2, threads=2, api_keys="test-key") as server:
        master = server.proc.pid
        assert requests.get(server.url("/v1/spaces/toy/neighbors?word=alps"), headers=KEY).ok
        r = requests.get(server.url("/readyz"), headers=KEY)
        spaces = r.json()["spaces"]
        assert r.status_code == 503 and spaces["toy"]["state"] == "loaded"
        assert "'rows' is missing" in spaces["norows"]["error"]
        assert "out of the catalog" in spaces["etc"]["error"]
        assert spaces["odd\\xff"]["state"] == "failed"
        assert str(tmp_path) not in r.text and "/etc" not in r.text

        # Now damage the served space's next version and add a link loop, then reload.
        old_workers = set(wait_for_workers(master, 2))  # both forked before the reload
        catalog.write_space(tmp_path, "toy", toy_table(n_noise=20), source={"v": 2})
        manifest = catalog.resolve(tmp_path, "toy") / "manifest.json"
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "search_params": [1]}))
        os.symlink("loop", tmp_path / "loop")
        assert requests.post(server.url("/v1/admin/reload"), headers=KEY).status_code == 202
        until(lambda: len(set(children(master)) - old_workers) == 2, what="new workers")
        assert server.proc.poll() is None  # the master lives and answers
        assert requests.get(server.url("/healthz"), timeout=5).ok
        spaces = requests.get(server.url("/readyz"), headers=KEY).json()["spaces"]
        assert spaces["toy"]["fallback"] and "AttributeError" in spaces["toy"]["error"]
        assert spaces["loop"]["state"] == "failed"
        answer = requests.get(server.url("/v1/spaces/toy"), headers=KEY).json()
        assert answer["source"] == {"v": 1}
        assert "Unhandled exception" not in server.log()


def metrics_folder(worker: int):
    """The server's prometheus folder: the temporary one holding a file of this worker."""
    import glob
    import tempfile
    from pathlib import Path

    found = glob.glob(f"{tempfile.gettempdir()}/wordspace-metrics-*/counter_{worker}.db")
    return Path(found[0]).parent if found else None


def live_children(pid: int) -> list[int]:
    """children(pid) but the zombies (killed, not yet reaped by the master)."""
    from pathlib import Path

    def running(child: int) -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    return [child for child in children(pid) if running(child)]


def test_dead_workers_metrics_files_are_pruned(tmp_path):
    import os
    import signal

    from service.server import DEAD_WORKERS_COUNTED as keep

    catalog.write_space(tmp_path, "toy", toy_table(n_noise=5), source={})
    with serve(tmp_path, workers=1, threads=1) as server:
        master, killed = server.proc.pid, []
        for _ in range(keep + 6):
            until(lambda: len(live_children(master)) == 1, what="one worker")
            worker = live_children(master)[0]
            assert requests.get(server.url("/v1/spaces/toy")).ok  # the worker writes its files
            folder = metrics_folder(worker)
            os.kill(worker, signal.SIGKILL)
            killed.append(worker)
            until(lambda: worker not in children(master), what="the dead worker reaped")
        assert requests.get(server.url("/v1/spaces/toy")).ok
        pids = {int(f.stem.rsplit("_", 1)[1]) for f in folder.glob("*.db")}
        assert len(pids & set(killed)) <= keep  # the rest were pruned
        assert set(killed[-3:]) <= pids  # the last ones are still counted
        text = requests.get(server.url("/metrics")).text
        assert "wordspace_requests_total" in text
