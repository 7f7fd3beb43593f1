"""s3:// catalogs against a real S3 API server (moto's, started here): publish leaves out what
is there and moves the pointer last with a conditional write; a killed upload leaves the old
version named and the next publish finishes it; a replica's mirror downloads, verifies every
sha256, keeps two versions, refuses a damaged or missing object for that version only, and
serves its cache while the store is down."""
from __future__ import annotations

import logging
import threading

import pytest

from service import create_app
from service.cli import main
from service.errors import BadIndex
from service.settings import Settings
from service.store import catalog, objects, publish
from service.store.mirror import Mirror, Watch, local_check
from service.store.registry import Registry
from bench import objectstore
from tests.support.tables import toy_table

KEY = {"Authorization": "Bearer k"}


@pytest.fixture(scope="module")
def store():
    with objectstore.running() as s:
        yield s


@pytest.fixture
def url(store, monkeypatch) -> str:
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    return store.bucket()


def build(folder, name="toy", n=20):
    catalog.write_space(folder, name, toy_table(n_noise=n), source={"n": n})
    return catalog.resolve(folder, name).name


def pointer(url) -> dict:
    loc = objects.parse(url)
    return objects.read_pointer(objects.client(), loc)[0]


def test_settings_and_the_command_line_take_an_s3_location():
    s = Settings.from_env({"WORDSPACE_CATALOG": "s3://bucket/some/prefix"})
    assert s.catalog == "s3://bucket/some/prefix" and s.remote and s.local_catalog == s.cache
    assert not Settings().remote and Settings().local_catalog == Settings().catalog
    assert objects.parse("s3://b/x/y/") == objects.Location("b", "x/y/")
    with pytest.raises(ValueError, match="s3://BUCKET"):
        objects.parse("s3:///nobucket")


def test_publish_leaves_out_what_is_there_and_a_replica_serves_it(tmp_path, url):
    v1 = build(tmp_path / "indexes")
    rows = publish.publish(tmp_path / "indexes", url)
    assert rows == [{"name": "toy", "version": v1, "uploaded": True}]
    assert publish.publish(tmp_path / "indexes", url)[0]["uploaded"] is False
    assert pointer(url)["spaces"]["toy"]["version"] == v1

    app = create_app(Settings(catalog=url, cache=tmp_path / "cache"))
    r = app.test_client().get("/v1/spaces/toy/neighbors?word=alps&k=2")
    assert r.status_code == 200 and r.json["neighbors"][0]["word"] in ("pyrenees", "himalaya")
    assert catalog.resolve(tmp_path / "cache", "toy").name == v1


def test_the_cache_keeps_two_versions_and_a_conditional_get_sends_nothing_new(tmp_path, url):
    mirror = Mirror(url, tmp_path / "cache")
    made = []
    for n in (10, 20, 30):
        made.append(build(tmp_path / "indexes", n=n))
        publish.publish(tmp_path / "indexes", url)
        assert mirror.sync() is True
        assert mirror.sync() is False  # 304: the pointer has not changed
    kept = sorted(p.name for p in (tmp_path / "cache" / catalog.VERSIONS).iterdir())
    assert kept == made[1:]
    assert catalog.resolve(tmp_path / "cache", "toy").name == made[2]


def test_a_killed_upload_leaves_the_old_version_named_and_the_next_publish_finishes_it(
        tmp_path, url, monkeypatch):
    v1 = build(tmp_path / "indexes", n=10)
    publish.publish(tmp_path / "indexes", url)
    v2 = build(tmp_path / "indexes", n=40)
    real, calls = objects.client, []

    def killed_half_way():
        s3 = real()
        upload = s3.upload_file

        def upload_file(*args, **kwargs):
            calls.append(args[2])
            if len(calls) == 3:
                raise KeyboardInterrupt  # as a killed process stops: mid-way, nothing caught
            return upload(*args, **kwargs)

        s3.upload_file = upload_file
        return s3

    monkeypatch.setattr(objects, "client", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        publish.publish(tmp_path / "indexes", url)
    monkeypatch.setattr(objects, "client", real)
    assert pointer(url)["spaces"]["toy"]["version"] == v1
    mirror = Mirror(url, tmp_path / "cache")
    mirror.sync()
    assert catalog.resolve(tmp_path / "cache", "toy").name == v1 and not mirror.problems

    rows = publish.publish(tmp_path / "indexes", url)
    assert rows[0] == {"name": "toy", "version": v2, "uploaded": True}
    assert pointer(url)["spaces"]["toy"]["previous"] == v1
    assert mirror.sync() and catalog.resolve(tmp_path / "cache", "toy").name == v2


def test_an_abandoned_upload_is_cleaned_after_the_grace_period(tmp_path, url):
    build(tmp_path / "indexes", n=10)
    publish.publish(tmp_path / "indexes", url)
    loc, s3 = objects.parse(url), objects.client()
    s3.put_object(Bucket=loc.bucket, Key=loc.key(".versions", "toy.20200101T000000000000",
                                                 "keys.txt"), Body=b"half\n")
    publish.publish(tmp_path / "indexes", url)  # inside the grace period: left alone
    assert "toy.20200101T000000000000/keys.txt" in objects.listing(s3, loc, ".versions/")
    publish.publish(tmp_path / "indexes", url, grace=0)
    left = {k.split("/")[0] for k in objects.listing(s3, loc, ".versions/")}
    assert left == {catalog.resolve(tmp_path / "indexes", "toy").name}


def test_a_pointer_moved_by_another_publisher_meanwhile_is_read_again(tmp_path, url):
    """The compare-and-swap: a write between our read and our write makes ours fail (412)
    and be applied again to the new pointer, so neither publisher's space is lost."""
    loc, s3 = objects.parse(url), objects.client()
    turns = []

    def ours(p: dict) -> bool:
        turns.append(dict(p["spaces"]))
        if len(turns) == 1:  # another publisher writes between our read and our write
            objects.move_pointer(s3, loc, lambda q: q["spaces"].update(b={"version": "b.2"}) or True)
        p["spaces"]["a"] = {"version": "a.1"}
        return True

    objects.move_pointer(s3, loc, ours)
    assert len(turns) == 2 and turns[1] == {"b": {"version": "b.2"}}
    assert pointer(url)["spaces"] == {"a": {"version": "a.1"}, "b": {"version": "b.2"}}


def test_two_publishers_of_one_space_leave_a_complete_version_named(tmp_path, url):
    for side in ("one", "two"):
        build(tmp_path / side, n=15 if side == "one" else 25)
    errors = []

    def run(side):
        try:
            publish.publish(tmp_path / side, url)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    mirror = Mirror(url, tmp_path / "cache")
    assert mirror.sync() and not mirror.problems  # the named version downloads and verifies
    named = pointer(url)["spaces"]["toy"]["version"]
    assert named in {catalog.resolve(tmp_path / s, "toy").name for s in ("one", "two")}


def _damage(url, version, fname, how):
    loc, s3 = objects.parse(url), objects.client()
    key = loc.key(".versions", version, fname)
    if how == "missing":
        s3.delete_object(Bucket=loc.bucket, Key=key)
        return
    body = bytearray(s3.get_object(Bucket=loc.bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 1
    s3.put_object(Bucket=loc.bucket, Key=key, Body=bytes(body))


@pytest.mark.parametrize("how", ["flipped", "missing"])
def test_a_damaged_object_refuses_that_version_only_and_readyz_says_why(tmp_path, url, how,
                                                                       check_spec):
    v1 = build(tmp_path / "indexes", n=10)
    build(tmp_path / "indexes", name="other", n=5)
    publish.publish(tmp_path / "indexes", url)
    app = create_app(Settings(catalog=url, cache=tmp_path / "cache", api_keys=("k",)))
    mirror = app.extensions["wordspace"].mirror
    v2 = build(tmp_path / "indexes", n=40)
    publish.publish(tmp_path / "indexes", url)
    _damage(url, v2, "vectors.npy", how)

    assert mirror.sync() is True
    registry = app.extensions["wordspace"].registry.reload()
    assert catalog.resolve(tmp_path / "cache", "toy").name == v1
    client = app.test_client()
    r = client.get("/readyz", headers=KEY)
    check_spec("/readyz", "get", r.status_code, r.json, r.content_type)
    ready = r.json
    toy = ready["spaces"]["toy"]
    assert ready["ready"] and toy["state"] == "loaded" and toy["version"] == v1
    assert toy["refused"] == v2 and "vectors.npy" in toy["error"]
    assert ("sha256" if how == "flipped" else "missing") in toy["error"]
    assert ready["spaces"]["other"] == {"state": "loaded", "path": ready["spaces"]["other"]["path"],
                                        "version": registry.states["other"].version}
    r = client.get("/v1/spaces", headers=KEY)
    check_spec("/v1/spaces", "get", r.status_code, r.json, r.content_type)
    listed = r.json
    assert listed["refused"] == [{"space": "toy", "version": v2,
                                  "reason": registry.states["toy"].summary}]
    assert client.get("/v1/spaces/toy", headers=KEY).json["size"] == 18  # the old one serves


def test_a_first_version_refused_makes_the_space_failed_and_the_replica_not_ready(tmp_path, url):
    v1 = build(tmp_path / "indexes", n=10)
    publish.publish(tmp_path / "indexes", url)
    _damage(url, v1, "keys.txt", "flipped")
    app = create_app(Settings(catalog=url, cache=tmp_path / "cache"))
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.json["spaces"] == {"toy": {"state": "failed"}}
    assert app.test_client().get("/v1/spaces/toy").status_code == 503


def test_an_unreachable_store_serves_a_warm_cache_and_a_cold_one_is_not_ready(
        tmp_path, url, monkeypatch, caplog):
    build(tmp_path / "indexes")
    publish.publish(tmp_path / "indexes", url)
    create_app(Settings(catalog=url, cache=tmp_path / "cache"))  # warms the cache
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with caplog.at_level(logging.WARNING):
        warm = create_app(Settings(catalog=url, cache=tmp_path / "cache")).test_client()
        assert warm.get("/readyz").status_code == 200
        assert warm.get("/v1/spaces/toy/neighbors?word=alps&k=1").status_code == 200
        caplog.clear()
        cold = create_app(Settings(catalog=url, cache=tmp_path / "cold")).test_client()
    assert cold.get("/readyz").status_code == 503
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and url in lines[0].getMessage() and "empty" in lines[0].getMessage()


def test_remove_takes_the_space_out_of_the_store_and_the_replicas(tmp_path, url):
    build(tmp_path / "indexes")
    build(tmp_path / "indexes", name="other", n=5)
    publish.publish(tmp_path / "indexes", url)
    mirror = Mirror(url, tmp_path / "cache")
    mirror.sync()
    assert publish.remove(url, "toy") is True and publish.remove(url, "toy") is False
    assert set(pointer(url)["spaces"]) == {"other"}
    loc = objects.parse(url)
    assert not [k for k in objects.listing(objects.client(), loc, ".versions/") if k.startswith("toy.")]
    assert mirror.sync() and catalog.space_names(tmp_path / "cache") == ["other"]
    assert Registry(tmp_path / "cache", remote=mirror).load().names == ["other"]


def test_the_command_line_publishes_and_builds_against_the_store(tmp_path, url, monkeypatch, capsys):
    build(tmp_path / "indexes")
    assert main(["publish", "--from", str(tmp_path / "indexes"), "--to", url]) == 0
    assert "uploaded" in capsys.readouterr().out
    vectors = tmp_path / "small.txt"
    vectors.write_text("3 2\nalps 1 0\npyrenees 0.9 0.1\nparis 0 1\n", encoding="utf-8")
    monkeypatch.setenv("WORDSPACE_CACHE", str(tmp_path / "build-cache"))
    code = main(["build-index", "small", "--from", f"word2vec:{vectors}", "--catalog", url])
    assert code == 0, capsys.readouterr()
    assert set(pointer(url)["spaces"]) == {"toy", "small"}
    assert main(["verify", "--catalog", url]) == 0
    assert main(["publish", "--from", str(tmp_path / "indexes"), "--to", str(tmp_path)]) == 2
    assert main(["remove", "small", "--catalog", url]) == 0
    assert set(pointer(url)["spaces"]) == {"toy"}
    assert main(["remove", "small", "--catalog", url]) == 2  # no such space: one line, exit 2


def test_experiments_reach_the_replicas(tmp_path, url):
    from service.store import experiments

    build(tmp_path / "indexes")
    experiments.write_experiment(tmp_path / "indexes", "learning-curve-sst", {"rows": [1]})
    publish.publish(tmp_path / "indexes", url)
    Mirror(url, tmp_path / "cache").sync()
    assert experiments.read_experiment(tmp_path / "cache", "learning-curve-sst") == {"rows": [1]}


def test_the_local_watch_sees_a_new_version_and_a_new_space(tmp_path):
    folder = tmp_path / "indexes"
    folder.mkdir()
    check = local_check(folder)
    assert check() is False
    build(folder)
    assert check() is True and check() is False
    build(folder, n=30)
    assert check() is True
    seen = threading.Event()
    watch = Watch(check, seen.set, interval=0.05).start()
    try:
        build(folder, name="other", n=5)
        assert seen.wait(10)
    finally:
        watch.stop()


def test_a_bad_local_space_is_not_published(tmp_path, url):
    build(tmp_path / "indexes")
    folder = catalog.resolve(tmp_path / "indexes", "toy")
    (folder / "keys.txt").write_text("changed\n", encoding="utf-8")
    with pytest.raises(BadIndex, match="keys.txt"):
        publish.publish(tmp_path / "indexes", url)
    assert pointer(url)["spaces"] == {}


def test_a_cache_that_cannot_be_written_is_named(tmp_path, url):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="WORDSPACE_CACHE=.*writable"):
        Mirror(url, tmp_path / "file" / "cache")


def test_the_local_watch_takes_a_link_loop_in_its_stride(tmp_path):
    folder = tmp_path / "indexes"
    folder.mkdir()
    (folder / "loop").symlink_to("loop")
    check = local_check(folder)
    assert check() is False
    build(folder)
    assert check() is True


def test_odd_pointer_entries_are_refused_one_by_one(tmp_path, url):
    build(tmp_path / "indexes")
    publish.publish(tmp_path / "indexes", url)
    loc, s3 = objects.parse(url), objects.client()
    objects.move_pointer(s3, loc, lambda p: p["spaces"].update(
        {"../up": {"version": "../up.1"}, "bad": "not an entry", "other": {"version": "toy.1"}}) or True)
    mirror = Mirror(url, tmp_path / "cache")
    assert mirror.sync() is True
    assert set(mirror.problems) == {"../up", "bad", "other"}
    assert catalog.space_names(tmp_path / "cache") == ["toy"]
    assert not list(tmp_path.glob("up*")) and not (tmp_path / "cache").parent.joinpath("up.1").exists()


def test_a_folder_put_in_the_catalog_by_hand_is_published_once(tmp_path, url):
    import shutil

    build(tmp_path / "built", name="hand")
    (tmp_path / "indexes").mkdir()
    shutil.copytree(catalog.resolve(tmp_path / "built", "hand"), tmp_path / "indexes" / "hand")
    [row] = publish.publish(tmp_path / "indexes", url)
    assert row["version"].startswith("hand.m") and row["uploaded"]
    assert publish.publish(tmp_path / "indexes", url)[0] == {**row, "uploaded": False}
    Mirror(url, tmp_path / "cache").sync()
    assert Registry(tmp_path / "cache").load().names == ["hand"]
