"""Object storage as a catalog location: `s3://bucket/prefix` on any S3-compatible store
(AWS S3, MinIO, Ceph RGW, R2, GCS's S3 interface), through boto3 and the standard AWS
configuration chain (AWS_ENDPOINT_URL, AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_REGION, ...);
wordspace's settings hold no credentials.

    s3://bucket/prefix/
      catalog.json                      the pointer: {"spaces": {name: {"version": ...}}}
      .versions/glove.<stamp>/          one immutable version per prefix, as on disk:
          keys.txt, vectors.npy, ...    each file listed with its sha256 in
          manifest.json                 the manifest, uploaded after every other file
      .experiments/NAME.json            published results (listed in the pointer too)

Publishing uploads what a version lacks (a killed upload is finished by the next publish of
the same version), the manifest last, and then moves the pointer with a conditional write:
PutObject with If-Match the ETag it read (If-None-Match: * when there is none). A 412 means
another publisher moved it meanwhile: re-read, re-apply, retry. So the pointer only ever names
versions whose every object was uploaded before it moved, and a reader sees the old catalog
or the new one. Publishing: service/store/publish.py; replicas download with
service/store/mirror.py.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from service.errors import BadIndex, InputError, StoreError
from service.settings import REMOTE_SCHEME
from service.store import catalog, checksums

log = logging.getLogger(__name__)

POINTER = "catalog.json"
POINTER_FORMAT = "wordspace-catalog"
NOT_MODIFIED = object()  # read_pointer's answer to a conditional GET that matched


@dataclass(frozen=True)
class Location:
    bucket: str
    prefix: str  # "" or "some/where/"

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def __str__(self) -> str:
        return f"{REMOTE_SCHEME}{self.bucket}/{self.prefix}"


def parse(url: str) -> Location:
    """Raises: InputError for a location without a bucket."""
    bucket, _, prefix = url.removeprefix(REMOTE_SCHEME).partition("/")
    if not url.startswith(REMOTE_SCHEME) or not bucket:
        raise InputError(f"catalog {url!r}: an object store catalog is s3://BUCKET[/PREFIX]")
    prefix = prefix.strip("/")
    return Location(bucket, prefix + "/" if prefix else "")


def client():
    """An S3 client from the standard AWS configuration. Checksums only where the API requires
    them: boto3's default CRC checksums on every request are refused by several
    S3-compatible stores."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(
        connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
        request_checksum_calculation="when_required", response_checksum_validation="when_required"))


def store_errors():
    """The exceptions that mean the store did not do what was asked."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _code(e) -> str:
    return str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))


def failure(loc: Location, what: str, e: Exception) -> StoreError:
    return StoreError(f"{loc}: {what} failed ({type(e).__name__}: {e})")


def read_pointer(s3, loc: Location, etag: str | None = None):
    """(pointer, etag), or NOT_MODIFIED when `etag` still matches (a conditional GET).
    A store with no pointer yet holds an empty catalog (etag None).

    Raises:
        StoreError: the store cannot be reached or refuses, or the pointer is not JSON.
    """
    try:
        got = s3.get_object(Bucket=loc.bucket, Key=loc.key(POINTER),
                            **({"IfNoneMatch": etag} if etag else {}))
        body = got["Body"].read()
    except store_errors() as e:
        if _code(e) in ("304", "NotModified"):
            return NOT_MODIFIED
        if _code(e) in ("NoSuchKey", "404"):
            return {"format": POINTER_FORMAT, "spaces": {}, "experiments": {}}, None
        raise failure(loc, f"reading {POINTER}", e) from None
    try:
        pointer = json.loads(body)
        assert isinstance(pointer.get("spaces"), dict)
    except (ValueError, AssertionError, AttributeError):
        raise StoreError(f"{loc}{POINTER}: not a {POINTER_FORMAT} pointer") from None
    pointer.setdefault("experiments", {})
    return pointer, got["ETag"]


def move_pointer(s3, loc: Location, change: Callable[[dict], bool], attempts: int = 20) -> dict:
    """Apply `change` (which edits the pointer in place, returning whether it changed
    anything) and write it back only if nobody wrote it since it was read.

    Raises:
        StoreError: unreachable, or the pointer kept changing under us `attempts` times.
    """
    for attempt in range(attempts):
        pointer, etag = read_pointer(s3, loc)
        if not change(pointer):
            return pointer
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            s3.put_object(Bucket=loc.bucket, Key=loc.key(POINTER), ContentType="application/json",
                          Body=json.dumps(pointer, indent=2).encode(), **condition)
            return pointer
        except store_errors() as e:
            if _code(e) not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise failure(loc, f"writing {POINTER}", e) from None
            log.info("%s: another publisher moved the pointer; reading it again", loc)
            time.sleep(0.05 * (attempt + 1))  # back off before the next compare-and-swap
    raise StoreError(f"{loc}: the pointer changed {attempts} times while publishing; try again")


def listing(s3, loc: Location, prefix: str) -> dict[str, dict]:
    """Every object under loc's prefix + `prefix`: key (relative to `prefix`) -> its entry."""
    found = {}
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket,
                                                                  Prefix=loc.key(prefix)):
            for obj in page.get("Contents", []):
                found[obj["Key"][len(loc.key(prefix)):]] = obj
    except store_errors() as e:
        raise failure(loc, f"listing {prefix}", e) from None
    return found


def upload_version(s3, loc: Location, folder: Path, version: str) -> bool:
    """Upload the version `folder` under .versions/VERSION/: the files the store lacks (or
    holds with another size), then the manifest. False when it was there already.

    Raises:
        BadIndex: the local folder fails its checks (nothing is uploaded);
        StoreError: the store failed.
    """
    present = listing(s3, loc, f"{catalog.VERSIONS}/{version}/")
    if catalog.MANIFEST in present:
        return False
    manifest = catalog.verify(folder, full=True)
    try:
        for fname, entry in manifest["files"].items():
            if present.get(fname, {}).get("Size") != entry["bytes"]:
                s3.upload_file(str(folder / fname), loc.bucket,
                               loc.key(catalog.VERSIONS, version, fname))
        s3.upload_file(str(folder / catalog.MANIFEST), loc.bucket,
                       loc.key(catalog.VERSIONS, version, catalog.MANIFEST))
    except store_errors() as e:
        raise failure(loc, f"uploading {version}", e) from None
    return True


def download_version(s3, loc: Location, version: str, manifest_sha256: str | None,
                     dest: Path) -> dict:
    """Download version `version` into the new folder `dest` and check every file's sha256
    (and the manifest's against the pointer's); returns the manifest.

    Raises:
        BadIndex: an object missing, damaged or not what the manifest says: this version only;
        StoreError: the store failed (try again later).
    """
    dest.mkdir(parents=True)
    where = f"{loc}{catalog.VERSIONS}/{version}"
    _get(s3, loc, version, catalog.MANIFEST, dest, where)
    if manifest_sha256 and checksums.sha256(dest / catalog.MANIFEST) != manifest_sha256:
        raise BadIndex(f"{where}/{catalog.MANIFEST}", "sha256 does not match the pointer's")
    manifest = catalog.read_manifest(dest)
    for fname in manifest["files"]:
        if "/" in fname or fname.startswith("."):
            raise BadIndex(f"{where}/{catalog.MANIFEST}", f"lists an odd file name {fname!r}")
        _get(s3, loc, version, fname, dest, where)
    try:
        return catalog.verify(dest, full=True)
    except BadIndex as e:
        raise BadIndex(f"{where}/{Path(e.path).name}", e.reason) from None


def _get(s3, loc: Location, version: str, fname: str, dest: Path, where: str) -> None:
    try:
        s3.download_file(loc.bucket, loc.key(catalog.VERSIONS, version, fname), str(dest / fname))
    except store_errors() as e:
        if _code(e) in ("404", "NoSuchKey"):
            raise BadIndex(f"{where}/{fname}", "missing in the store") from None
        raise failure(loc, f"downloading {version}/{fname}", e) from None


def delete(s3, loc: Location, keys: list[str]) -> None:
    try:
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=loc.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
    except store_errors() as e:
        raise failure(loc, "deleting", e) from None
