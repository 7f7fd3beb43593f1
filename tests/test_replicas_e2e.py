"""Many replicas, real parts, one machine: an S3 API server (moto's, started here), three
`wordspace serve` replicas (gunicorn) on an s3:// catalog behind one nginx upstream, and load
through nginx while new versions are published. Every replica converges within the watch
interval plus the download, no request fails, all answer alike; a damaged object is loaded by
none; a stopped store stops nothing; a fourth replica started cold converges."""
from __future__ import annotations

import contextlib
import time

import pytest
import requests

from service.store import catalog, checksums, objects, publish
from bench import objectstore
from bench.balancer import Load, balancer
from tests.support.server import serve, until
from tests.support.tables import toy_table

pytestmark = pytest.mark.slow
KEY = {"Authorization": "Bearer k"}
WATCH = 1  # seconds between two looks at the pointer
CONVERGE = WATCH + 20  # the watch, the download of a small space and a reload, on a busy machine
WORDS = ("alps", "king", "queen", "noise3", "Paris")


def build(folder, n: int) -> str:
    catalog.write_space(folder, "toy", toy_table(n_noise=n), source={"n": n})
    return catalog.resolve(folder, "toy").name


def refusing(replica, version: str) -> bool:
    """The replica's /readyz names `version` as refused, and a damaged vectors.npy as why."""
    toy = requests.get(replica.url("/readyz"), headers=KEY).json()["spaces"]["toy"]
    return toy.get("refused") == version and "vectors.npy" in toy.get("error", "")


def rows(server) -> int | None:
    r = requests.get(server.url("/v1/spaces/toy"), headers=KEY, timeout=10)
    return r.json()["size"] if r.status_code == 200 else None


def answers(server) -> list:
    return [requests.get(server.url(f"/v1/spaces/toy/neighbors?word={w}&k=5"), headers=KEY,
                         timeout=10).json() for w in WORDS]


def converge(replicas, n_rows: int) -> list[float]:
    """Seconds until each replica serves the version with `n_rows` rows."""
    started, seconds = time.monotonic(), []
    for r in replicas:
        until(lambda: rows(r) == n_rows, timeout=CONVERGE, what=f"{r.base} serving {n_rows} rows")
        seconds.append(round(time.monotonic() - started, 2))
    return seconds


def test_replicas_follow_the_store_under_load(tmp_path, monkeypatch):
    with objectstore.running() as store, contextlib.ExitStack() as stack:
        for name, value in store.env.items():
            monkeypatch.setenv(name, value)
        url = store.bucket()
        local = tmp_path / "indexes"
        build(local, 20)
        publish.publish(local, url)
        replicas = [stack.enter_context(serve(
            url, ready="/readyz", workers=2, threads=2, api_keys="k", watch_seconds=WATCH,
            cache=tmp_path / f"cache{i}")) for i in range(3)]
        base = stack.enter_context(balancer([r.port for r in replicas]))

        with Load(base, KEY, WORDS) as load:
            load.more()
            # 1. A new version, published under load, reaches every replica.
            v2 = build(local, 60)
            publish.publish(local, url)
            seconds = converge(replicas, 68)
            for r in replicas:  # by the master, once: not by each of its two workers
                assert r.log().count(f"downloaded and verified {v2}") == 1
            load.more()
            # 2. A version with a flipped byte: uploaded, damaged, then pointed at.
            v3 = build(local, 90)
            s3, loc = objects.client(), objects.parse(url)
            objects.upload_version(s3, loc, catalog.resolve(local, "toy"), v3)
            key = loc.key(catalog.VERSIONS, v3, "vectors.npy")
            body = bytearray(s3.get_object(Bucket=loc.bucket, Key=key)["Body"].read())
            body[-7] ^= 0x10
            s3.put_object(Bucket=loc.bucket, Key=key, Body=bytes(body))
            sha = checksums.sha256(catalog.resolve(local, "toy") / catalog.MANIFEST)
            objects.move_pointer(s3, loc, lambda p: p["spaces"].update(
                toy={"version": v3, "manifest_sha256": sha}) or True)
            for r in replicas:
                # One answer says both (a worker that has not yet been replaced by the
                # reload still answers with the state it had).
                until(lambda: refusing(r, v3), timeout=CONVERGE, what=f"{r.base} refusing {v3}")
                assert requests.get(r.url("/readyz"), headers=KEY).status_code == 200
                assert rows(r) == 68
            load.more()
            # 3. The store stops: each replica says so once and keeps serving.
            store.stop()
            for r in replicas:
                until(lambda: "reading catalog.json failed" in r.log(), timeout=CONVERGE,
                      what=f"{r.base} noticing the store is gone")
            load.more()
            assert all(requests.get(r.url("/readyz")).status_code == 200 for r in replicas)
            # 4. Back, with a good version: all converge, and a fourth replica started cold.
            store.start()
            build(local, 120)
            publish.publish(local, url)
            converge(replicas, 128)
            load.more()

        assert not load.failed, load.failed[:5]
        assert len(load.ok) >= 250
        fourth = stack.enter_context(serve(url, ready="/readyz", workers=1, api_keys="k",
                                           watch_seconds=WATCH, cache=tmp_path / "cache-cold"))
        assert rows(fourth) == 128
        expected = answers(replicas[0])
        for r in replicas[1:] + [fourth]:
            assert answers(r) == expected
        for r in replicas:
            assert r.log().count("reading catalog.json failed") == 1
        print(f"\nconvergence after a publish (s, per replica): {seconds}; "
              f"{len(load.ok)} answers, {len(load.failed)} failed; fourth replica ready in "
              f"{fourth.ready_seconds:.1f} s")


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_a_replica_started_on_an_empty_catalog_is_ready_once_a_build_publishes(
        tmp_path, monkeypatch, where):
    """No HUP, no restart: the watch finds the first version (the Kubernetes case of a pod
    started before the build Job finished)."""
    local = tmp_path / "indexes"
    local.mkdir()
    with contextlib.ExitStack() as stack:
        target = local
        if where == "s3":
            store = stack.enter_context(objectstore.running())
            for name, value in store.env.items():
                monkeypatch.setenv(name, value)
            target = store.bucket()
        server = stack.enter_context(serve(target, watch_seconds=WATCH, workers=1,
                                           cache=tmp_path / "cache"))
        assert requests.get(server.url("/readyz")).status_code == 503
        build(local, 20)
        if where == "s3":
            publish.publish(local, target)
        until(lambda: requests.get(server.url("/readyz")).status_code == 200, timeout=CONVERGE,
              what="ready after the first publish")
        assert rows(server) == 28
