"""Load and faults against the real service under gunicorn (default workers and threads):
a bounded mixed load answers without an error; kill -9 of a worker mid-load fails only the
requests in flight on that worker's connections; a corrupt index is refused on reload
while the other spaces keep serving.

The load comes from tests/support/load.py (raw keep-alive HTTP from client processes; `make
soak` runs it long). Figures are
printed (`pytest -s`) and written as JSON files under each test's tmp_path.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sys
import time

import pytest
import requests

from service.settings import Settings
from service.store import catalog
from service.store.tables import read_table
from tests.support.tables import toy_table
from tests.support import load
from tests.support.server import children, serve, until, wait_for_workers

pytestmark = pytest.mark.slow
DEFAULTS = Settings()
POOL = {"workers": DEFAULTS.workers, "threads": DEFAULTS.threads, "api_keys": ""}
CONCURRENCY = 16
KEY = "test-key"


@pytest.fixture(scope="module")
def glove_50k_catalog(tmp_path_factory):
    """The first 50,000 GloVe rows (exact index) and the toy space. A top-k table of the 5,000
    most frequent rows (the default 50,000 is half a minute of exact search at build): the
    load's words are drawn from all 50,000, so most go through the index, some through the
    table."""
    cat = tmp_path_factory.mktemp("load") / "indexes"
    catalog.write_space(cat, "glove", read_table("kumo", limit=50_000), factory="Flat",
                        source={"format": "kumo", "limit": 50_000}, topk_rows=5000)
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    return cat


def mixed(cat, n: int, seed: int) -> list[tuple[str, bytes]]:
    """n requests of every kind: nine in ten on glove, the rest on toy, shuffled."""
    keys = (cat / "glove" / "keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
    words = random.Random(seed).sample([k for k in keys[100:] if k.isalpha()], 2000)
    toy = [k for k in toy_table().index_to_key if k.isalpha()]
    out = (load.mixed_requests("glove", words, n - n // 10, seed=seed)
           + load.mixed_requests("toy", toy, n // 10, seed=seed))
    random.Random(seed).shuffle(out)
    return out


def port_of(server) -> int:
    return int(server.base.rsplit(":", 1)[1])


def all_workers(master: int) -> set[int]:
    """The workers once gunicorn has forked all of them (it forks them one after another)."""
    return set(wait_for_workers(master, DEFAULTS.workers))


def report(tmp_path, name: str, figures: dict) -> None:
    print(f"\n{name}: {json.dumps(figures)}")
    (tmp_path / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")


def test_mixed_load_answers_every_request(glove_50k_catalog, tmp_path):
    n = 8_000
    with serve(glove_50k_catalog, **POOL) as server:
        port, master = port_of(server), server.proc.pid
        all_workers(master)

        def connections(t_start, finished):  # who holds them once all 16 are up (reported)
            until(lambda: load.established(port) >= CONCURRENCY or finished(), timeout=120,
                  what="the clients' connections")
            held = {pid: len(load.worker_connections(pid, port)) for pid in children(master)}
            return None if finished() else held

        result = load.drive(port, mixed(glove_50k_catalog, n, seed=0), concurrency=CONCURRENCY,
                            clients=2, timeout=150, during=connections)
    s = load.summarize(result)
    ports = {r[5] for r in result["records"]}
    held = result["during"]
    report(tmp_path, "load", {**s, "connections_per_worker": held and sorted(held.values()),
                              "client_connections_opened": len(ports)})
    failed = [r for r in result["records"] if r[4] != 200]
    assert not failed, failed[:5]
    assert s["requests"] == n
    # 16 connections on the default workers and threads (fewer threads than connections): the
    # idle ones wait in each worker's poller, so every connection stays open for all its
    # requests (no resets, no reconnects), and all 16 were open at once: the last to send its
    # first request did so before the first to finish had its last answer. (Where they were
    # mid-load is only reported: a connection whose worker is busy waits in the kernel's
    # queue, and one whose share of requests is done has closed.)
    assert len(ports) == CONCURRENCY
    spans: dict[int, tuple[float, float]] = {}
    for conn, _, sent, seconds, *_ in result["records"]:
        first, last = spans.get(conn, (sent, sent + seconds))
        spans[conn] = (min(first, sent), max(last, sent + seconds))
    assert len(spans) == CONCURRENCY
    assert max(f for f, _ in spans.values()) < min(last for _, last in spans.values())


def test_kill_9_of_a_worker_fails_only_its_requests_in_flight(glove_50k_catalog, tmp_path):
    """A closed-loop client has at most one request out per connection, and a connection
    lives in one worker, so a SIGKILL can fail at most one request per connection that
    worker holds (in a thread, queued for one, or sent just before the kill). Every failure
    must be such a one; the clients reconnect to the surviving worker and the new one."""
    with serve(glove_50k_catalog, **POOL) as server:
        port, master = port_of(server), server.proc.pid
        before = all_workers(master)

        def kill(t_start, finished):
            while time.monotonic() < t_start + 1 and not finished():
                time.sleep(0.05)
            return None if finished() else load.kill_worker(master, port)

        result = load.drive(port, mixed(glove_50k_catalog, 6_000, seed=1), concurrency=CONCURRENCY,
                            clients=2, timeout=150, during=kill)
        assert requests.get(server.url("/readyz"), timeout=10).status_code == 200
        after = all_workers(master)
    event = result["during"]
    assert event is not None, "the load ended before the kill; send more requests"
    found = load.attribute(result["records"], [event])
    failed = found["per_kill"][0]
    records = result["records"]
    later = [r for r in records if r[2] > event["t"] and r[4] == 200]
    report(tmp_path, "kill", {**load.summarize(result), "victim_connections": len(event["ports"]),
                              "connections_per_worker": event["connections"],
                              "failed_by_kill": failed, "unexplained": found["unexplained"][:5],
                              "respawn_seconds": event["respawn_seconds"],
                              "answered_after_kill": len(later)})
    assert not found["unexplained"], found["unexplained"][:5]
    assert failed <= len(event["ports"]) <= CONCURRENCY
    assert event["respawn_seconds"] is not None, "gunicorn did not replace the killed worker"
    assert event["victim"] in before and event["victim"] not in after and len(after) == len(before)
    assert len(later) > 1000
    last = {}
    for r in records:  # every connection ends on an answered request
        last[r[0]] = r[4]
    assert set(last.values()) == {200}


def corrupt(path) -> None:
    """Flip 16 bytes in the middle of a file, keeping its size."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 16] = bytes(b ^ 0xFF for b in data[mid:mid + 16])
    path.write_bytes(bytes(data))


def test_corrupt_index_is_refused_on_reload_and_others_serve(tmp_path):
    """Under gunicorn: a rebuilt space whose new index is corrupt keeps serving its previous
    version; a new space whose only version is corrupt is refused; the rest serve. Then a
    good rebuild and a plain SIGHUP bring everything back."""
    auth = {"Authorization": f"Bearer {KEY}"}
    catalog.write_space(tmp_path, "a", toy_table(n_noise=50), source={"v": 1})
    catalog.write_space(tmp_path, "b", toy_table(n_noise=20), source={"v": 1})

    def get(server, path):
        return requests.get(server.url(path), headers=auth, timeout=10)

    def replace_workers(master, send):
        old = set(children(master))
        send()
        until(lambda: len(now := set(children(master))) == len(old) and not now & old,
              what=f"workers {old} replaced")

    with serve(tmp_path, **{**POOL, "api_keys": KEY}) as server:
        master = server.proc.pid
        all_workers(master)
        assert get(server, "/v1/spaces/a").json()["size"] == 58
        catalog.write_space(tmp_path, "a", toy_table(n_noise=80), source={"v": 2})
        corrupt(catalog.resolve(tmp_path, "a") / "index.faiss")
        catalog.write_space(tmp_path, "c", toy_table(n_noise=10), source={"v": 1})
        corrupt(catalog.resolve(tmp_path, "c") / "index.faiss")

        def admin_reload():
            r = requests.post(server.url("/v1/admin/reload"), headers=auth, timeout=10)
            assert r.status_code == 202, r.text

        replace_workers(master, admin_reload)
        ready = requests.get(server.url("/readyz"), headers=auth, timeout=10)
        spaces = ready.json()["spaces"]
        report(tmp_path, "corrupt", spaces)
        assert ready.status_code == 503 and not ready.json()["ready"]
        assert spaces["a"]["state"] == "loaded" and spaces["a"]["fallback"]
        assert "new version refused" in spaces["a"]["error"] and "index.faiss" in spaces["a"]["error"]
        assert set(spaces["b"]) == {"state", "path", "version"} and spaces["b"]["state"] == "loaded"
        assert spaces["c"]["state"] == "failed" and spaces["c"]["path"].endswith("index.faiss")
        assert "sha256" in spaces["c"]["error"]
        for _ in range(8):  # new connections, so both workers answer
            assert get(server, "/v1/spaces/a").json()["size"] == 58  # the previous version
            assert get(server, "/v1/spaces/a/neighbors?word=alps&k=2").status_code == 200
            assert get(server, "/v1/spaces/b/neighbors?word=alps&k=2").status_code == 200
            r = get(server, "/v1/spaces/c/neighbors?word=alps&k=2")
            assert r.status_code == 503 and "index.faiss" in r.json()["detail"]

        catalog.write_space(tmp_path, "a", toy_table(n_noise=80), source={"v": 3})
        catalog.write_space(tmp_path, "c", toy_table(n_noise=10), source={"v": 2})
        replace_workers(master, lambda: os.kill(master, signal.SIGHUP))
        ready = requests.get(server.url("/readyz"), timeout=10)
        assert ready.status_code == 200, ready.text
        assert all("error" not in s for s in ready.json()["spaces"].values())
        for _ in range(4):
            assert get(server, "/v1/spaces/a").json()["size"] == 88
            assert get(server, "/v1/spaces/c/neighbors?word=alps&k=2").status_code == 200


def test_restart_with_a_corrupt_current_version_serves_the_newest_good_one(tmp_path):
    """Under gunicorn: a space whose current version is corrupt when the server starts is
    served from its previous version, /readyz says so (details with a key), the metric is set;
    a task space with a bad embed.json is refused naming the file; the others serve."""
    auth = {"Authorization": f"Bearer {KEY}"}
    catalog.write_space(tmp_path, "a", toy_table(n_noise=50), source={"v": 1})
    good = catalog.resolve(tmp_path, "a").name
    catalog.write_space(tmp_path, "a", toy_table(n_noise=80), source={"v": 2})
    bad = catalog.resolve(tmp_path, "a")
    corrupt(bad / "index.faiss")
    embed = tmp_path / "embed.json"
    embed.write_text(json.dumps({"format": "wordspace-embed v1", "tokenizer": "wrong",
                                 "pooling": "mean", "unk_vector": [0.0] * 16}))
    catalog.write_space(tmp_path, "t", toy_table(), source={"v": 1}, extra_files={"embed.json": embed})
    catalog.write_space(tmp_path, "b", toy_table(n_noise=20), source={"v": 1})
    with serve(tmp_path, **{**POOL, "api_keys": KEY, "required_spaces": "a,b"}) as server:
        public = requests.get(server.url("/readyz"), timeout=10)
        keyed = requests.get(server.url("/readyz"), headers=auth, timeout=10).json()
        report(tmp_path, "restart-fallback", keyed)
        metrics = requests.get(server.url("/metrics"), timeout=10).text
        for _ in range(6):  # new connections, so both workers answer
            assert requests.get(server.url("/v1/spaces/a"), headers=auth, timeout=10).json()["size"] == 58
            r = requests.post(server.url("/v1/spaces/t/embed"), json={"texts": ["alps"]}, headers=auth,
                              timeout=10)
            assert r.status_code == 503 and "embed.json" in r.json()["detail"]
            assert requests.get(server.url("/v1/spaces/b/neighbors?word=alps&k=2"), headers=auth,
                                timeout=10).status_code == 200
        log = server.log()
    assert public.status_code == 200  # a and b are required and serve; t is optional
    assert public.json()["spaces"] == {"a": {"state": "loaded", "fallback": True},
                                       "b": {"state": "loaded"}, "t": {"state": "failed"}}
    a = keyed["spaces"]["a"]
    assert a["version"] == good and a["refused"] == bad.name and "index.faiss" in a["error"]
    assert keyed["spaces"]["t"]["path"].endswith("embed.json") and "tokenizer" in keyed["spaces"]["t"]["error"]
    assert 'wordspace_space_fallback{space="a"} 1.0' in metrics
    assert f"serving the older version {good}" in log


@pytest.mark.parametrize("name, value", [("WORDSPACE_LOG_JSON", "ture"), ("WORDSPACE_WORKERS", "two"),
                                         ("WORDSPACE_MAX_K", "1_000")])
def test_a_mistyped_setting_stops_the_server_naming_it(tmp_path, name, value):
    import subprocess

    catalog.write_space(tmp_path, "a", toy_table(n_noise=5), source={"v": 1})
    env = {**os.environ, "WORDSPACE_CATALOG": str(tmp_path), "WORDSPACE_PORT": "1", name: value}
    run = subprocess.run([sys.executable, "-m", "service.cli", "serve"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and name in run.stderr and "Traceback" not in run.stderr
