"""Checksums of a space's files: the sha256 of each, and for files over SAMPLE_ABOVE a sampled
one that the server checks at load instead of reading every byte (a 3M x 300 catalog is 7 GB,
and hashing it from a cold disk takes longer than the whole start-up may). `wordspace verify`
(or WORDSPACE_FULL_CHECKSUMS=true) checks the full sha256.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from service.errors import BadIndex

# Files above this size also get a sampled checksum: their size and 64 blocks of 1 MiB.
SAMPLE_ABOVE = 256 * 1024 * 1024
SAMPLE_BLOCKS, SAMPLE_BLOCK = 64, 1 << 20


def check(folder: Path, files: dict, full: bool = True) -> None:
    """Check the sha256 of every file the manifest lists (`files`: name -> entry), or with
    full=False its sampled checksum where it has one.

    Raises:
        BadIndex: naming the first file whose checksum does not match.
    """
    def matches(fname: str) -> tuple[str, bool]:
        entry, path = files[fname], folder / fname
        if not full and "sample_sha256" in entry:
            return "sampled sha256", sample_sha256(path) == entry["sample_sha256"]
        return "sha256", sha256(path) == entry.get("sha256")

    # hashlib releases the GIL on large buffers: hash the files side by side.
    with ThreadPoolExecutor(max_workers=min(4, len(files))) as pool:
        results = list(pool.map(matches, files))
    for fname, (kind, ok) in zip(files, results):
        if not ok:
            raise BadIndex(folder / fname, f"{kind} does not match the manifest (corrupt or changed)")


def file_entry(path: Path) -> dict:
    entry = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    if entry["bytes"] > SAMPLE_ABOVE:
        entry["sample_sha256"] = sample_sha256(path)
    return entry


def sample_sha256(path: Path) -> str:
    """sha256 of a file's size and of SAMPLE_BLOCKS evenly spaced blocks: catches truncation
    and damage in the blocks read, at a cost that does not grow with the file."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        for i in range(SAMPLE_BLOCKS):
            f.seek(max(0, size - SAMPLE_BLOCK) * i // (SAMPLE_BLOCKS - 1))
            h.update(f.read(SAMPLE_BLOCK))
    return h.hexdigest()


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 4 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()
