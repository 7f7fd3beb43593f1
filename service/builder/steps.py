"""Bookkeeping for `wordspace build`: fingerprints for caching, timed steps, the summary.

A space records a fingerprint of its inputs and settings in its manifest details; the
runner (service/builder/runner.py) skips a space whose published fingerprint matches.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import contextmanager
from pathlib import Path

from service.errors import BadIndex
from service.store import catalog

log = logging.getLogger("wordspace.build")

# Bump when the pipeline changes in a way that should rebuild every space. 2: every scorecard
# holds its tasks' bag-of-words reference (the verdict's task bar, service/analysis/verdict.py),
# so a catalog built before is probed again by its next build.
PIPELINE_VERSION = 2


def fingerprint(inputs: dict) -> str:
    """sha256 of the canonical JSON of `inputs` (plus the pipeline version)."""
    blob = json.dumps({"pipeline": PIPELINE_VERSION, **inputs}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def published(catalog_dir: Path, name: str) -> dict | None:
    """The manifest of the space now published under `name`, or None."""
    folder = catalog.resolve(catalog_dir, name)
    if not folder.is_dir():
        return None
    try:
        return catalog.read_manifest(folder)
    except BadIndex as e:
        log.warning("space %s: %s; rebuilding", name, e)
        return None


def up_to_date(catalog_dir: Path, name: str, digest: str) -> dict | None:
    """The published manifest if its fingerprint is `digest`, else None."""
    manifest = published(catalog_dir, name)
    if manifest and manifest.get("details", {}).get("fingerprint") == digest:
        return manifest
    return None


def file_facts(path: Path) -> dict:
    """What identifies an input file cheaply: path, size, modification time."""
    st = path.stat()
    return {"path": str(path.resolve()), "bytes": st.st_size, "mtime": int(st.st_mtime)}


@contextmanager
def step(what: str):
    """Log the start and the end of a build step with the elapsed time."""
    started = time.perf_counter()
    log.info("step %s ...", what)
    yield
    log.info("step %s done in %.1fs", what, time.perf_counter() - started)


def progress(what: str):
    """The write_space progress callback (build and build-index): rows indexed, share, time."""
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        log.info("%s: indexed %d/%d rows (%.0f%%), %.1fs", what, done, total, 100 * done / total,
                 time.perf_counter() - started)
    return report


def summary_row(name: str, manifest: dict, status: str, seconds: float) -> dict:
    details = manifest.get("details", {})
    score = details.get("test_accuracy")
    metric = "test acc" if score is not None else ""
    if score is None and "wordsim353" in details:
        score, metric = details["wordsim353"]["spearman"], "ws353"
    return {"space": name, "status": status, "rows": manifest["rows"], "dim": manifest["dimension"],
            "score": score, "metric": metric, "seconds": round(seconds, 1)}


def format_summary(rows: list[dict], total_seconds: float) -> str:
    """The table printed at the end of a build."""
    width = max([10, *(len(r["space"]) for r in rows)])
    lines = [f"{'space':<{width}} {'status':<10} {'rows':>8} {'dim':>4} {'score':>8} {'':<8} {'time':>7}"]
    for r in rows:
        score = f"{r['score']:.4f}" if r["score"] is not None else "-"
        rows, dim = ("-" if r[k] is None else r[k] for k in ("rows", "dim"))
        lines.append(f"{r['space']:<{width}} {r['status']:<10} {rows:>8} {dim:>4} "
                     f"{score:>8} {r['metric']:<8} {r['seconds']:>6.1f}s")
    lines.append(f"total {total_seconds:.1f}s")
    return "\n".join(lines)
