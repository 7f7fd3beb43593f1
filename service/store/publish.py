"""Publishing a local catalog to an s3:// one (`wordspace publish`, and the builds against a
bucket), cleaning what no pointer needs, and removing a space: the writers' side of
service/store/objects.py's layout. The pointer moves last, by compare-and-swap.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from service.store import catalog, checksums, objects
from service.store.experiments import EXPERIMENTS
from service.store.objects import Location

log = logging.getLogger(__name__)

# Unreferenced versions younger than this are left alone by a publish's clean-up: another
# publisher may be uploading one, not yet pointed at.
UPLOAD_GRACE_SECONDS = 3600


def publish(source: Path, url: str, names: tuple[str, ...] = (),
            grace: float = UPLOAD_GRACE_SECONDS) -> list[dict]:
    """Copy the local catalog `source` (its spaces, or `names`, and its experiments) to the
    store at `url`: versions already there are left out, the pointer moves last, once for
    all of them. Returns one row per space (name, version, uploaded).

    Raises:
        BadIndex: a local space fails its checks (the pointer has not moved);
        StoreError: the store failed (the pointer has not moved).
    """
    loc, s3 = objects.parse(url), objects.client()
    chosen = names or tuple(catalog.space_names(source))
    folders = {name: catalog.space_folder(source, name) for name in chosen}
    rows, moves = [], {}
    for name, folder in folders.items():
        version = _version_name(name, folder)
        uploaded = objects.upload_version(s3, loc, folder, version)
        moves[name] = {"version": version,
                       "manifest_sha256": checksums.sha256(folder / catalog.MANIFEST)}
        rows.append({"name": name, "version": version, "uploaded": uploaded})
        log.info("%s: %s %s", name, "uploaded" if uploaded else "already in the store", version)
    results = _upload_experiments(s3, loc, source)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def change(pointer: dict) -> bool:
        changed = False
        for name, entry in moves.items():
            current = pointer["spaces"].get(name)
            current = current if isinstance(current, dict) else {}
            if current.get("version") != entry["version"]:
                pointer["spaces"][name] = {**entry, "previous": current.get("version"),
                                           "published_at": stamp}
                changed = True
        if any(pointer["experiments"].get(k) != v for k, v in results.items()):
            pointer["experiments"].update(results)
            changed = True
        pointer["format"] = objects.POINTER_FORMAT
        return changed

    pointer = objects.move_pointer(s3, loc, change)
    clean(s3, loc, pointer, grace)
    return rows


def _version_name(name: str, folder: Path) -> str:
    """The version's name in the store: its folder's (NAME.STAMP); a folder put in the catalog
    by hand is named after its manifest's sha256, so publishing it twice uploads it once."""
    if folder.name.startswith(name + ".") and folder.parent.name == catalog.VERSIONS:
        return folder.name
    return f"{name}.m{checksums.sha256(folder / catalog.MANIFEST)[:16]}"


def _upload_experiments(s3, loc: Location, source: Path) -> dict[str, str]:
    """The published results (.experiments/*.json), uploaded; name -> sha256."""
    found = {}
    for path in sorted((source / EXPERIMENTS).glob("*.json")):
        if path.name.startswith("."):
            continue
        body = path.read_bytes()
        found[path.stem] = hashlib.sha256(body).hexdigest()
        try:
            s3.put_object(Bucket=loc.bucket, Key=loc.key(EXPERIMENTS, path.name), Body=body,
                          ContentType="application/json")
        except objects.store_errors() as e:
            raise objects.failure(loc, f"uploading {path.name}", e) from None
    return found


def clean(s3, loc: Location, pointer: dict, grace: float = UPLOAD_GRACE_SECONDS) -> list[str]:
    """Delete the versions the pointer names neither as current nor as previous, and not
    written in the last `grace` seconds (a killed upload, an old version). Returns them."""
    keep = {v for entry in pointer["spaces"].values()
            for v in (entry.get("version"), entry.get("previous")) if v}
    by_version: dict[str, list[dict]] = {}
    for key, obj in objects.listing(s3, loc, catalog.VERSIONS + "/").items():
        by_version.setdefault(key.split("/", 1)[0], []).append(obj)
    now = dt.datetime.now(dt.timezone.utc)
    gone = []
    for version, objs in by_version.items():
        newest = max(o["LastModified"] for o in objs)
        if version in keep or (now - newest).total_seconds() < grace:
            continue
        objects.delete(s3, loc, [o["Key"] for o in objs])
        gone.append(version)
        log.info("%s: removed the unused version %s", loc, version)
    return gone


def remove(url: str, name: str) -> bool:
    """Take space `name` out of the store's catalog (the pointer first, then its versions).
    False when there was no such space.

    Raises:
        StoreError: the store failed.
    """
    loc, s3 = objects.parse(url), objects.client()
    catalog.check_name(name)
    found = []

    def change(pointer: dict) -> bool:
        found[:] = [pointer["spaces"].pop(name, None)]
        return found[0] is not None

    objects.move_pointer(s3, loc, change)
    keys = [obj["Key"] for key, obj in objects.listing(s3, loc, catalog.VERSIONS + "/").items()
            if key.split("/", 1)[0].rsplit(".", 1)[0] == name]
    objects.delete(s3, loc, keys)
    return found[0] is not None
