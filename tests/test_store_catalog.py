"""Building, publishing and verifying spaces on disk."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from service.errors import BadIndex
from service.store import catalog, checksums
from service.store.space import Space
from service.store.tables import Table


def test_manifest_records_what_was_built(catalog_dir, table):
    m = catalog.verify(catalog.resolve(catalog_dir, "toy"))
    assert m["format_version"] == catalog.FORMAT_VERSION
    assert (m["rows"], m["dimension"], m["metric"]) == (len(table.index_to_key), 16, "cosine")
    assert m["factory"] == "Flat" and m["exact"] is True and m["recall_at_10"] == 1.0
    assert set(m["files"]) >= set(catalog.CORE_FILES)
    assert all(len(f["sha256"]) == 64 for f in m["files"].values())
    hnsw = catalog.read_manifest(catalog_dir / "toy-hnsw")
    assert hnsw["factory"] == "HNSW32" and hnsw["exact"] is False
    assert hnsw["recall_at_10"] >= 0.99 and "efSearch" in hnsw["search_params"]


def test_default_factory_by_size():
    from service.store.index import default_factory

    assert default_factory(1_000) == "Flat"
    assert default_factory(400_000) == "HNSW32"
    assert default_factory(3_000_000) == "IVF4096,Flat"


def test_large_files_are_sampled_at_load_and_fully_checked_by_verify(tmp_path, table, monkeypatch, capsys):
    from service import cli

    monkeypatch.setattr(checksums, "SAMPLE_ABOVE", 4096)  # every core file counts as large here
    monkeypatch.setattr(checksums, "SAMPLE_BLOCK", 64)
    folder = catalog.write_space(tmp_path, "t", table, source={}).resolve()
    entry = catalog.read_manifest(folder)["files"]["vectors.npy"]
    assert "sample_sha256" in entry and "sha256" in entry
    path = folder / "vectors.npy"
    data = bytearray(path.read_bytes())
    blocks = {max(0, len(data) - 64) * i // (checksums.SAMPLE_BLOCKS - 1) for i in range(checksums.SAMPLE_BLOCKS)}
    outside = next(i for i in range(len(data) - 1, 0, -1) if not any(b <= i < b + 64 for b in blocks))
    data[outside] ^= 0xFF  # a flip the samples do not cover: only the full check sees it
    path.write_bytes(bytes(data))
    assert len(Space.load(tmp_path, "t")) == len(table.index_to_key)
    with pytest.raises(BadIndex, match="vectors.npy: sha256"):
        Space.load(tmp_path, "t", full_checksums=True)
    assert cli.main(["--catalog", str(tmp_path), "verify"]) == 1
    assert "t: FAILED" in capsys.readouterr().out
    data[blocks.pop()] ^= 0xFF  # a flip inside a sampled block is caught at load
    path.write_bytes(bytes(data))
    with pytest.raises(BadIndex, match="vectors.npy: sampled sha256"):
        Space.load(tmp_path, "t")


@pytest.mark.parametrize("factory", ["IVF16,Flat", "HNSW16", "Flat"])
def test_any_factory_string(tmp_path, table, factory):
    catalog.write_space(tmp_path, "t", table, source={}, factory=factory)
    space = Space.load(tmp_path, "t")
    assert space.manifest["factory"] == factory
    assert space.neighbors([space.lookup("alps")], 2)[0][0].word in ("pyrenees", "himalaya")


def test_bad_factory_and_bad_name(tmp_path, table):
    with pytest.raises(ValueError, match="does not accept"):
        catalog.write_space(tmp_path, "t", table, source={}, factory="NotAnIndex99")
    with pytest.raises(ValueError, match="space name"):
        catalog.write_space(tmp_path, "../evil", table, source={})
    assert catalog.space_names(tmp_path) == []


def test_rebuild_swaps_atomically_and_prunes(tmp_path, table):
    first = catalog.write_space(tmp_path, "t", table, source={}).resolve()
    second = catalog.write_space(tmp_path, "t", table, source={}).resolve()
    third = catalog.write_space(tmp_path, "t", table, source={}).resolve()
    assert (tmp_path / "t").is_symlink() and (tmp_path / "t").resolve() == third
    assert second.exists() and not first.exists()  # the one before stays, older ones go
    assert catalog.space_names(tmp_path) == ["t"]


def test_interrupted_build_keeps_previous_version(tmp_path, table):
    before = catalog.write_space(tmp_path, "t", table, source={"v": 1}).resolve()

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        catalog.write_space(tmp_path, "t", table, source={"v": 2}, progress=interrupt)
    assert (tmp_path / "t").resolve() == before
    assert Space.load(tmp_path, "t").manifest["source"] == {"v": 1}
    assert not [p for p in (tmp_path / ".versions").iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.slow
def test_killed_build_index_keeps_previous_version(tmp_path):
    """kill -9 a real `wordspace build-index` while it indexes: the old space still loads."""
    rng = np.random.default_rng(1)
    small = Table([f"w{i}" for i in range(200)], rng.normal(size=(200, 8)))
    catalog.write_space(tmp_path, "big", small, source={"v": 1})
    big = tmp_path / "big.txt"  # 50,000 rows: HNSW32 and its recall tuning take seconds
    rows = 50_000
    words = np.array([f"w{i}" for i in range(rows)])[:, None]
    np.savetxt(big, np.hstack([words, rng.normal(size=(rows, 8)).round(3).astype(str)]),
               fmt="%s", header=f"{rows} 8", comments="")
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "--catalog", str(tmp_path), "build-index", "big",
         "--from", f"word2vec:{big}", "--index", "HNSW32"],
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        if "step index big" in line or time.monotonic() > deadline:  # indexing has begun
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    space = Space.load(tmp_path, "big")
    assert space.manifest["source"] == {"v": 1} and len(space) == 200
    assert catalog.space_names(tmp_path) == ["big"]


@pytest.mark.parametrize("victim", ["index.faiss", "vectors.npy", "keys.txt", "norms.npy"])
def test_corrupt_file_is_named(catalog_dir, victim):
    folder = catalog.resolve(catalog_dir, "toy")
    path = folder / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BadIndex, match=victim) as e:
        Space.load(catalog_dir, "toy")
    assert "sha256" in e.value.reason


def test_missing_file_and_wrong_version(catalog_dir):
    folder = catalog.resolve(catalog_dir, "toy")
    (folder / "norms.npy").unlink()
    with pytest.raises(BadIndex, match="norms.npy: missing"):
        Space.load(catalog_dir, "toy")
    other = catalog.resolve(catalog_dir, "toy-hnsw")
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["format_version"] = 99
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BadIndex, match="format version 99"):
        Space.load(catalog_dir, "toy-hnsw")


def test_hand_placed_folder_loads_and_is_replaced(tmp_path, table):
    built = catalog.write_space(tmp_path / "a", "t", table, source={}).resolve()
    os.rename(built, tmp_path / "b")
    (tmp_path / "cat").mkdir()
    os.rename(tmp_path / "b", tmp_path / "cat" / "t")
    assert len(Space.load(tmp_path / "cat", "t")) == len(table.index_to_key)
    catalog.write_space(tmp_path / "cat", "t", table, source={"v": 2})
    assert Space.load(tmp_path / "cat", "t").manifest["source"] == {"v": 2}
