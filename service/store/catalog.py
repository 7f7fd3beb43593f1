"""The catalog on disk: one folder per space, written atomically, checked when read.

    indexes/
      glove -> .versions/glove.20261124T050000123456   (relative symlink, swapped atomically)
      .versions/glove.<stamp>/manifest.json, keys.txt, vectors.npy, norms.npy, index.faiss, ...

A space is built in a temporary folder, then published by replacing its symlink with
os.replace: a reader sees the old version or the new one, never a half-written folder.
A plain folder put in the catalog by hand (no symlink) loads just the same.

Checksums: service/store/checksums.py; results published beside the spaces (experiments,
learning curves, the last build): service/store/experiments.py.
"""
from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import shutil
import time
from pathlib import Path

import faiss
import numpy as np

from service.errors import BadIndex, InputError, NoSpace
from service.settings import SPACE_NAME_LENGTH
from service.store import checksums
from service.store import index as ix
from service.store import topk as tk
from service.store.tables import Table

log = logging.getLogger(__name__)

FORMAT = "wordspace-space"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CORE_FILES = ("keys.txt", "vectors.npy", "norms.npy", "index.faiss")
VERSIONS = ".versions"


def space_names(catalog: Path) -> list[str]:
    """Every space in the catalog: folders, and links to versions (a link whose version is
    gone too, so that the registry reports it instead of the space vanishing unseen)."""
    if not catalog.is_dir():
        return []
    return sorted(p.name for p in catalog.iterdir()
                  if not p.name.startswith(".") and (p.is_dir() or p.is_symlink()))


def versions(catalog: Path, name: str) -> list[Path]:
    """The published version folders of `name` in .versions, newest first (none that leads
    out of the catalog)."""
    root = catalog.resolve()
    found = [f for f in (catalog / VERSIONS).glob(f"{name}.*")
             if f.is_dir() and f.resolve().is_relative_to(root)]
    return sorted(found, key=lambda f: f.name.rsplit(".", 1)[-1], reverse=True)


def write_space(catalog: Path, name: str, table: Table, *, source: dict,
                factory: str | None = None, details: dict | None = None,
                extra_files: dict[str, Path] | None = None, progress=None,
                target_recall: float = ix.TARGET_RECALL, topk_rows: int | None = None) -> Path:
    """Build the index for `table` and publish it as space `name`; returns the space path.

    `details` is stored in the manifest under "details" (training facts, scores);
    `extra_files` are copied in and checksummed like the core files. Search parameters are
    tuned to reach `target_recall` (recall@10 against exact search). The exact neighbours of
    the first `topk_rows` rows are stored (default: service/store/topk.py's budget).

    Raises:
        ValueError: a bad name, an empty table, or a factory faiss refuses.
    """
    check_name(name)
    if not table.index_to_key:
        raise InputError(f"space {name!r}: the table has no rows")
    table.check_keys(name)
    started = time.perf_counter()
    factory = factory or ix.default_factory(len(table.index_to_key))
    versions = catalog / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    tmp = versions / f".tmp-{name}.{stamp}.{os.getpid()}"
    tmp.mkdir()
    try:
        unit, norms = ix.normalize(table.vectors)
        index = ix.build(unit, factory, progress=progress)
        params, recall = ix.tune(index, unit, target_recall)
        (tmp / "keys.txt").write_text("\n".join(table.index_to_key) + "\n", encoding="utf-8")
        np.save(tmp / "vectors.npy", unit)
        np.save(tmp / "norms.npy", norms)
        faiss.write_index(index, str(tmp / "index.faiss"))
        topk = tk.write(tmp, unit, topk_rows)
        for fname, src in (extra_files or {}).items():
            shutil.copyfile(src, tmp / fname)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "source": source,
            "dimension": table.vector_size,
            "rows": len(table.index_to_key),
            "metric": "cosine",
            "faiss_metric": "inner_product",
            "normalized": True,
            "factory": factory,
            "exact": ix.is_exact(factory),
            "search_params": params,
            "recall_at_10": recall,
            "topk": topk,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "details": details or {},
            "files": {f.name: checksums.file_entry(f) for f in sorted(tmp.iterdir())},
        }
        write_json(tmp / MANIFEST, manifest)
        final = versions / f"{name}.{stamp}"
        os.rename(tmp, final)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        needed = _space_bytes(table, topk_rows, extra_files)
        if _out_of_space(e, versions, needed):
            raise NoSpace(f"no space left on the device of {versions} while writing space "
                          f"{name!r}: it needs about {needed} bytes there, "
                          f"{shutil.disk_usage(versions).free} are free") from None
        raise
    _publish(catalog, name, final)
    log.info("space %s: %d rows, %s, recall@10 %.4f, %.1fs", name, manifest["rows"],
             factory, recall, manifest["build_seconds"])
    return catalog / name


def _out_of_space(e: BaseException, folder: Path, needed: int) -> bool:
    """A write that failed for want of disk: OSError ENOSPC or EDQUOT, or a short write
    (numpy's and faiss's errors carry no errno) where the device has less room than needed."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(e, (OSError, RuntimeError)) and shutil.disk_usage(folder).free < needed


def _space_bytes(table: Table, topk_rows: int | None, extra_files: dict | None) -> int:
    """About the bytes a space's folder takes: keys, unit vectors, norms, an index holding
    the vectors again, the top-k table, the extra files, the manifest."""
    rows, dim = len(table.index_to_key), table.vector_size
    keys = sum(len(k.encode("utf-8")) + 1 for k in table.index_to_key)
    vectors = rows * dim * 4
    top = tk.rows_for((rows, dim)) if topk_rows is None else min(topk_rows, rows)
    extra = sum(Path(src).stat().st_size for src in (extra_files or {}).values())
    return keys + 2 * vectors + rows * 4 + max(top, 0) * tk.K * 8 + extra + 4096


# What a manifest must hold for the space to load and be described (each with its type).
REQUIRED = {"rows": int, "dimension": int, "files": dict, "source": dict, "factory": str,
            "metric": str, "exact": bool}


def read_manifest(folder: Path) -> dict:
    """The manifest of a space folder, format and required entries checked (no checksums).

    Raises:
        BadIndex: missing, unreadable, of another format version, or lacking an entry.
    """
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadIndex(path, "missing") from None
    except (OSError, ValueError) as e:
        raise BadIndex(path, f"unreadable ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadIndex(path, f"not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BadIndex(path, f"format version {manifest.get('format_version')!r}, "
                             f"this service reads {FORMAT_VERSION}; rebuild the space")
    for key, kind in REQUIRED.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadIndex(path, f"'{key}' is {'missing' if value is None else 'not a ' + kind.__name__}")
    if not isinstance(manifest.get("details", {}), dict):
        raise BadIndex(path, "'details' is not an object")
    return manifest


def verify(folder: Path, full: bool = True) -> dict:
    """Check the manifest and the size and sha256 of every file it lists; returns the manifest.
    With full=False, a file that has a sampled checksum is checked by that instead.

    Raises:
        BadIndex: naming the first missing or corrupt file.
    """
    manifest = read_manifest(folder)
    files = manifest.get("files") or {}
    for fname in CORE_FILES:
        if fname not in files:
            raise BadIndex(folder / fname, "not listed in the manifest")
    for fname, entry in files.items():
        path = folder / fname
        if not path.is_file():
            raise BadIndex(path, "missing")
        if path.stat().st_size != entry.get("bytes"):
            raise BadIndex(path, f"size {path.stat().st_size}, manifest says {entry.get('bytes')}")
    checksums.check(folder, files, full)
    return manifest


def resolve(catalog: Path, name: str) -> Path:
    """The folder a space name points at now (following the published symlink)."""
    return (catalog / name).resolve()


def space_folder(catalog: Path, name: str) -> Path:
    """The folder a space name points at, which must lie inside the catalog.

    Raises:
        BadIndex: the name leads out of the catalog (a link to elsewhere), or nowhere.
    """
    link = catalog / name
    folder = resolve(catalog, name)
    if not folder.is_relative_to(catalog.resolve()):
        raise BadIndex(link, "leads out of the catalog; only folders inside it are served")
    if not folder.is_dir():
        if link.is_symlink():
            raise BadIndex(link, f"links to {folder.name}, which is gone")
        raise BadIndex(link, "no such space folder")
    return folder


def publish_version(catalog: Path, name: str, final: Path) -> None:
    """Point `name` at the version folder `final` (in .versions), atomically; keeps the
    version it replaces and prunes older ones (service/store/mirror.py's cache uses it)."""
    _publish(catalog, name, final)


def _publish(catalog: Path, name: str, final: Path) -> None:
    link = catalog / name
    previous = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        # A hand-placed folder: move it aside into .versions so the name can become a link.
        previous = catalog / VERSIONS / f"{name}.replaced.{final.name.split('.')[-1]}"
        os.rename(link, previous)
    tmp_link = catalog / f".{name}.link.{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(final, catalog), tmp_link)
    os.replace(tmp_link, link)
    _prune(catalog, name, keep={final, previous})


def _prune(catalog: Path, name: str, keep: set) -> None:
    """Remove old versions of `name`, keeping the current and the one before it.

    The previous version stays so a server still verifying it at this moment can finish;
    files an older server has mapped stay readable after unlinking (POSIX).
    """
    for folder in (catalog / VERSIONS).glob(f"{name}.*"):
        if folder not in keep and not folder.name.startswith(".tmp-"):
            shutil.rmtree(folder, ignore_errors=True)


def remove(catalog: Path, name: str, keep: int = 0) -> list[Path]:
    """Unpublish space `name`: its link (or a hand-placed folder) goes first, in one unlink,
    so a server reloading (SIGHUP, POST /v1/admin/reload) drops it and a new one never sees
    it; then its version folders, all but the newest `keep` (not served; kept to restore one
    by hand: `ln -sfn .versions/NAME.STAMP NAME`). A server still holding it keeps reading the
    files it mapped (POSIX) until it reloads. Returns the folders deleted.

    Raises:
        InputError: a bad name, or no space of that name in the catalog.
    """
    check_name(name)
    link = catalog / name
    if not link.is_symlink() and not link.exists():
        raise InputError(f"space {name!r}: not in the catalog {catalog}; its spaces: "
                         f"{', '.join(space_names(catalog)) or 'none'}")
    if link.is_symlink():
        link.unlink()
    else:  # a hand-placed folder: out of the served names first, then deleted like a version
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        (catalog / VERSIONS).mkdir(exist_ok=True)
        os.rename(link, catalog / VERSIONS / f"{name}.removed.{stamp}")
    gone = versions(catalog, name)[max(keep, 0):]
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    log.info("space %s removed from %s (%d version folders deleted, %d kept)", name, catalog,
             len(gone), min(keep, len(versions(catalog, name))))
    return gone


def check_name(name: str) -> None:
    ok = (name and len(name) <= SPACE_NAME_LENGTH and name[0].isalnum()
          and all(c.isalnum() or c in "-_" for c in name))
    if not ok:
        raise InputError(f"space name {name!r}: use letters, digits, '-' and '_' (max "
                         f"{SPACE_NAME_LENGTH}), starting with a letter or digit")


def write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
