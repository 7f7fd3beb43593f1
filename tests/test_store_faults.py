"""Faults found late or hidden before issue 14, in process: every file a space needs is checked
at load (a bad one refuses the space naming it, the others serve); a restart falls back to
the newest good version; a link whose version is gone is reported; suggestions cost little;
settings with a typo, usage errors and bugs in the command line say what they are."""
from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from service import create_app
from service.errors import BadIndex, InputError
from service.settings import Settings
from service.store import catalog, checksums
from service.store.embed import EMBED_FORMAT
from service.store.registry import Registry
from service.store.space import Space
from service.store.suggest import CANDIDATES, FREQUENT, Suggester
from service.text import SETTINGS as TOKENIZER
from tests.support import ROOT
from tests.support.tables import toy_table

KEY = {"Authorization": "Bearer k"}


def embed_config(**change) -> dict:
    good = {"format": EMBED_FORMAT, "tokenizer": TOKENIZER, "pooling": "mean",
            "sequence_length": 10, "unk_vector": [0.0] * 16}
    return {**good, **change}


def task_space(cat, config: dict, name: str = "task"):
    path = cat.parent / f"{name}-embed.json"
    path.write_text(json.dumps(config))
    catalog.write_space(cat, name, toy_table(), source={"format": "test"},
                        details={"kind": "task"}, extra_files={"embed.json": path})


@pytest.mark.parametrize("config, says", [
    (embed_config(format="other v9"), "format"),
    (embed_config(pooling="median"), "pooling"),
    (embed_config(unk_vector=[0.0] * 3), "unk_vector"),
    (embed_config(unk_vector=[True] * 16), "unk_vector"),
    (embed_config(unk_vector="zeros"), "unk_vector"),
    (embed_config(sequence_length=0), "sequence_length"),
    (embed_config(sequence_length="10"), "sequence_length"),
    ([1, 2, 3], "not an object"),
])
def test_bad_embed_json_refuses_the_space_naming_the_file(tmp_path, config, says):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    task_space(cat, config)
    client = create_app(Settings(catalog=cat, api_keys=("k",))).test_client()
    ready = client.get("/readyz", headers=KEY).get_json()
    assert ready["spaces"]["task"]["state"] == "failed"
    assert ready["spaces"]["task"]["path"].endswith("embed.json") and says in ready["spaces"]["task"]["error"]
    r = client.post("/v1/spaces/task/embed", json={"texts": ["a film"]}, headers=KEY)
    assert r.status_code == 503 and "embed.json" in r.get_json()["detail"]
    assert client.post("/v1/spaces/toy/embed", json={"texts": ["alps"]}, headers=KEY).status_code == 200


def test_good_embed_json_serves(tmp_path):
    cat = tmp_path / "indexes"
    task_space(cat, embed_config())
    client = create_app(Settings(catalog=cat)).test_client()
    assert client.post("/v1/spaces/task/embed", json={"texts": ["alps king"]}).status_code == 200


@pytest.mark.parametrize("damage, file", [
    (lambda f: (f / "evaluation.json").write_text("{not json"), "evaluation.json"),
    (lambda f: (f / "keys.txt").write_bytes(b"\xff\xfe" * 400), "keys.txt"),
    (lambda f: np.save(f / "norms.npy", np.zeros((308, 2), dtype="float32")), "norms.npy"),
    (lambda f: np.save(f / "vectors.npy", np.zeros((308, 16), dtype="float64")), "vectors.npy"),
    (lambda f: (f / "index.faiss").write_bytes(b"\0" * 64), "index.faiss"),
])
def test_every_file_is_checked_at_load(tmp_path, damage, file):
    """Damage that keeps the manifest's checksums true (the manifest is rewritten to match)
    is still refused at load, naming the file, instead of failing requests later."""
    cat = tmp_path / "indexes"
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text('{"format_version": 1}')
    catalog.write_space(cat, "toy", toy_table(), source={}, extra_files={"evaluation.json": evaluation})
    folder = catalog.resolve(cat, "toy")
    damage(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = checksums.file_entry(folder / name)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BadIndex) as e:
        Space.load(cat, "toy")
    assert e.value.path.endswith(file)


def corrupt(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_restart_falls_back_to_the_newest_good_version(tmp_path, caplog):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(n_noise=10), source={"v": 1})
    good = catalog.resolve(cat, "toy").name
    catalog.write_space(cat, "toy", toy_table(n_noise=20), source={"v": 2})
    current = catalog.resolve(cat, "toy")
    corrupt(current / "vectors.npy")
    with caplog.at_level(logging.WARNING, "service.store.registry"):
        app = create_app(Settings(catalog=cat, api_keys=("k",)))
    assert f"serving the older version {good}" in caplog.text
    client = app.test_client()
    assert client.get("/v1/spaces/toy", headers=KEY).get_json()["source"] == {"v": 1}
    public = client.get("/readyz").get_json()
    assert public == {"ready": True, "spaces": {"toy": {"state": "loaded", "fallback": True}}}
    state = client.get("/readyz", headers=KEY).get_json()["spaces"]["toy"]
    assert state["version"] == good and state["refused"] == current.name
    assert "vectors.npy" in state["error"] and "sha256" in state["error"]
    assert 'wordspace_space_fallback{space="toy"} 1.0' in client.get("/metrics").get_data(as_text=True)


def test_no_good_version_left_is_refused(tmp_path):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(n_noise=10), source={"v": 1})
    corrupt(catalog.resolve(cat, "toy") / "index.faiss")
    registry = Registry(cat).load()
    assert registry.states["toy"].state == "failed" and not registry.ready


def test_a_link_whose_version_is_gone_is_reported_and_falls_back(tmp_path, caplog):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(n_noise=10), source={"v": 1})
    catalog.write_space(cat, "toy", toy_table(n_noise=20), source={"v": 2})
    catalog.write_space(cat, "solo", toy_table(n_noise=5), source={"v": 1})
    shutil.rmtree(catalog.resolve(cat, "toy"))
    shutil.rmtree(catalog.resolve(cat, "solo"))
    with caplog.at_level(logging.WARNING):
        registry = Registry(cat).load()
    assert "solo" in caplog.text and "gone" in caplog.text
    assert registry.states["solo"].state == "missing" and "gone" in registry.states["solo"].error
    assert registry.states["toy"].fallback and registry.spaces["toy"].manifest["source"] == {"v": 1}
    assert "gone" in registry.states["toy"].error


def test_suggestions_score_a_bounded_number_of_keys():
    keys = [f"w{i:06d}" for i in range(50_000)] + ["himalayas", "himalaya", "himalayan"]
    s = Suggester(keys)
    assert len(s.candidates("himalayass")) <= CANDIDATES + FREQUENT
    assert s.suggest("himalayass")[:3] == ["himalayas", "himalaya", "himalayan"]  # ties: row order
    assert s.suggest("\x1c") == [] and s.suggest("zzzzzzzzzzzz") == []
    assert s.postings.flags.writeable is False


@pytest.mark.parametrize("value", ["ture", "yes please", "2", ""])
def test_a_mistyped_boolean_setting_is_an_error_naming_it(value):
    with pytest.raises(InputError, match="WORDSPACE_LOG_JSON"):
        Settings.from_env({"WORDSPACE_LOG_JSON": value})


@pytest.mark.parametrize("value, want", [("true", True), ("FALSE", False), (" on ", True), ("0", False)])
def test_boolean_settings(value, want):
    assert Settings.from_env({"WORDSPACE_LOG_JSON": value}).log_json is want


@pytest.mark.parametrize("name, value", [("WORDSPACE_MAX_K", "\u0665"), ("WORDSPACE_MAX_K", "1_0"),
                                         ("WORDSPACE_WORKERS", "0")])
def test_integer_settings_are_ascii_digits(name, value):
    with pytest.raises(InputError, match=name):
        Settings.from_env({name: value})


def wordspace(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=ROOT, timeout=120, **kw)


@pytest.mark.parametrize("args, env, says", [
    (("settings",), {"WORDSPACE_LOG_JSON": "ture"}, "WORDSPACE_LOG_JSON"),
    (("build-index", "x", "--from", "nope:file"), {}, "unknown format"),
    (("build-index", "x", "--from", "glove:/no/such/file.txt"), {}, "no such file"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, args, env, says):
    run = wordspace("--catalog", str(tmp_path), *args, env=env)
    assert run.returncode == 2, run.stderr
    errors = [ln for ln in run.stderr.splitlines() if "INFO" not in ln]  # progress lines aside
    assert len(errors) == 1 and says in errors[0] and "Traceback" not in run.stderr


def test_a_bug_exits_1_with_its_traceback(tmp_path):
    """A gensim file whose pickle raises what no reader expects (a ZeroDivisionError) is a
    bug, not bad input: its traceback is shown, not one line and exit 2."""
    path = tmp_path / "boom.kv"
    path.write_bytes(pickle.dumps(Boom()))
    run = wordspace("--catalog", str(tmp_path), "build-index", "x", "--from", f"gensim:{path}",
                    env={"PYTHONPATH": str(ROOT)})
    assert run.returncode == 1 and "Traceback" in run.stderr and "ZeroDivisionError" in run.stderr


class Boom:
    def __reduce__(self):
        return (divmod, (1, 0))


def test_a_broken_build_module_is_not_hidden(tmp_path):
    """An ImportError in the build's modules fails loudly; `build` does not silently vanish."""
    code = ("import sys, builtins\nreal = builtins.__import__\n"
            "def fake(name, *a, **k):\n"
            "    if name.startswith('service.builder.classifier'):\n"
            "        raise ImportError('broken on purpose')\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = fake\n"
            "from service.cli import main\nsys.exit(main(['build', '--help']))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert run.returncode == 1 and "broken on purpose" in run.stderr and "invalid choice" not in run.stderr


def test_no_broad_except_in_the_readers():
    for path in ("service/store/tables.py", "service/builder/keras_table.py"):
        assert "except Exception" not in (ROOT / path).read_text(), path


def test_the_mmap_fallback_is_logged(tmp_path, caplog, monkeypatch):
    import faiss

    from service.store import index as ix

    path = tmp_path / "i.faiss"
    faiss.write_index(ix.build(np.eye(4, dtype="float32"), "Flat"), str(path))
    real = faiss.read_index

    def no_mmap(p, flags=0):  # a file system that cannot map the file
        if flags == faiss.IO_FLAG_MMAP_IFC:
            raise RuntimeError("Error: mmap failed")
        return real(p, flags)

    monkeypatch.setattr(faiss, "read_index", no_mmap)
    with caplog.at_level(logging.INFO, "service.store.index"):
        assert ix.read(str(path)).ntotal == 4
    assert "cannot memory-map" in caplog.text and "mmap failed" in caplog.text


# Issue 19: nothing in a catalog stops the server. Each case damages space "bad" (or adds an
# odd entry) beside the good space "toy"; `shown` is the name /readyz lists it under.
def edit_manifest(change):
    def damage(cat):
        path = catalog.resolve(cat, "bad") / "manifest.json"
        manifest = json.loads(path.read_text())
        change(manifest)
        path.write_text(json.dumps(manifest))
    return damage


def odd_folder_name(cat):
    """A link with the byte 0xFF in its name, and a version folder whose path has it (faiss
    cannot take that path: TypeError)."""
    folder = catalog.resolve(cat, "bad")
    odd = folder.with_name("bad\udcff." + folder.name.split(".")[-1])
    os.rename(folder, odd)
    os.unlink(cat / "bad")
    os.symlink(os.path.relpath(odd, cat), cat / "bad")
    os.symlink(os.path.relpath(odd, cat), cat / "odd\udcff")


def repeated_key(cat):
    folder = catalog.resolve(cat, "bad")
    keys = (folder / "keys.txt").read_text().split("\n")
    keys[5] = keys[2]
    (folder / "keys.txt").write_text("\n".join(keys))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["keys.txt"] = checksums.file_entry(folder / "keys.txt")
    (folder / "manifest.json").write_text(json.dumps(manifest))


def link_outside(cat):
    elsewhere = cat.parent / "elsewhere"
    shutil.move(catalog.resolve(cat, "bad"), elsewhere)  # no version left inside to fall back to
    os.unlink(cat / "bad")
    os.symlink(elsewhere, cat / "bad")
    os.symlink("/etc", cat / "etc")


def link_loop(cat):
    os.unlink(cat / "bad")
    os.symlink("bad", cat / "bad")


BAD_SPACES = {
    "manifest without rows": (edit_manifest(lambda m: m.pop("rows")), {"bad": "'rows' is missing"}),
    "manifest without metric": (edit_manifest(lambda m: m.pop("metric")), {"bad": "'metric'"}),
    "manifest not JSON": (lambda cat: (catalog.resolve(cat, "bad") / "manifest.json").write_text("{"),
                          {"bad": "unreadable"}),
    "manifest a folder": (lambda cat: (catalog.resolve(cat, "bad") / "manifest.json").unlink()
                          or (catalog.resolve(cat, "bad") / "manifest.json").mkdir(),
                          {"bad": "unreadable"}),
    "search_params a list": (edit_manifest(lambda m: m.update(search_params=[1])),
                             {"bad": "AttributeError"}),
    "faiss refuses a parameter": (edit_manifest(lambda m: m.update(search_params={"nope": 1})),
                                  {"bad": "faiss"}),
    "topk entry without rows": (edit_manifest(lambda m: m["topk"].pop("rows")), {"bad": "KeyError"}),
    "byte 0xFF in folder names": (odd_folder_name, {"bad": "TypeError",
                                                    "odd\\xff": "not UTF-8"}),
    "a key twice": (repeated_key, {"bad": "appears twice"}),
    "links out of the catalog": (link_outside, {"bad": "out of the catalog",
                                                "etc": "out of the catalog"}),
    "a link loop": (link_loop, {"bad": "cannot be loaded"}),
}


def bad_catalog(tmp_path, case):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    catalog.write_space(cat, "bad", toy_table(n_noise=20), source={"format": "test"})
    BAD_SPACES[case][0](cat)
    return cat


@pytest.mark.parametrize("case", BAD_SPACES)
def test_a_bad_space_is_refused_alone_naming_it_without_paths(tmp_path, case):
    cat = bad_catalog(tmp_path, case)
    client = create_app(Settings(catalog=cat, api_keys=("k",))).test_client()
    assert client.get("/v1/spaces/toy/neighbors?word=alps", headers=KEY).status_code == 200
    r = client.get("/readyz", headers=KEY)
    assert r.status_code == 503
    spaces = r.get_json()["spaces"]
    assert spaces["toy"]["state"] == "loaded"
    for name, says in BAD_SPACES[case][1].items():
        assert spaces[name]["state"] in ("failed", "missing") and says in spaces[name]["error"], spaces
    text = r.get_data(as_text=True)
    assert str(tmp_path) not in text and "/etc" not in text and "/tmp" not in text, text
    assert client.get("/v1/spaces/bad/neighbors?word=alps", headers=KEY).status_code == 503
    assert client.get("/metrics").status_code == 200
    # and on reload, in-process: the good space stays, the bad one stays refused
    again = client.post("/v1/admin/reload", headers=KEY).get_json()["spaces"]
    assert again["toy"]["state"] == "loaded" and again["bad"]["state"] != "loaded"


def test_a_served_space_damaged_then_reloaded_keeps_serving(tmp_path):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    catalog.write_space(cat, "bad", toy_table(n_noise=20), source={"v": 1})
    registry = Registry(cat).load()
    catalog.write_space(cat, "bad", toy_table(n_noise=30), source={"v": 2})
    edit_manifest(lambda m: m.pop("rows"))(cat)
    registry.reload()
    assert registry.spaces["bad"].manifest["source"] == {"v": 1}
    assert registry.states["bad"].fallback and "'rows' is missing" in registry.states["bad"].error


def test_reload_never_raises(tmp_path, caplog):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})

    def broken(spaces, states):
        raise ZeroDivisionError("a bug in a hook")

    registry = Registry(cat, on_change=broken).load()
    assert registry.reload().spaces["toy"]
    assert "updating metrics or scorecards failed" in caplog.text


def test_a_table_with_a_repeated_key_is_refused_at_build(tmp_path):
    table = toy_table(n_noise=5)
    table.index_to_key[3] = table.index_to_key[1]
    with pytest.raises(InputError, match="'woman' appears twice"):
        catalog.write_space(tmp_path, "toy", table, source={})
    assert not (tmp_path / "toy").exists()
    table.index_to_key[3] = "two\nlines"
    with pytest.raises(InputError, match="line break"):
        catalog.write_space(tmp_path, "toy", table, source={})
