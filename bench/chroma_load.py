"""Fill a running Chroma server with the bench's table through Chroma's own Python client.

Ids are the words, embeddings the L2-normalised vectors, the collection's HNSW space inner
product (so its distance is 1 - cosine). Loading 400,000 rows takes minutes; a marker file
in the server's folder records which table was loaded, so a bench pointed at the same folder
again (`--chroma-path`) reuses it instead of loading twice.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

MARKER = "wordspace-bench.json"


def load(port: int, path: Path, keys: list[str], unit, fingerprint: str, name: str,
         hnsw: dict) -> str:
    """The collection's id, after adding every row unless the marker says it is there."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(host="127.0.0.1", port=port,
                                 settings=Settings(anonymized_telemetry=False))
    marker = path / MARKER
    want = {"fingerprint": fingerprint, "rows": len(keys), "hnsw": hnsw}
    if marker.is_file() and json.loads(marker.read_text()) == want:
        collection = client.get_collection(name, embedding_function=None)
        if collection.count() == len(keys):
            print(f"chroma: reusing the {len(keys)} rows already loaded in {path}", flush=True)
            return str(collection.id)
    marker.unlink(missing_ok=True)
    if name in [c.name for c in client.list_collections()]:
        client.delete_collection(name)
    collection = client.create_collection(name, embedding_function=None,
                                          configuration={"hnsw": hnsw})
    step, started = client.get_max_batch_size(), time.monotonic()
    for start in range(0, len(keys), step):
        collection.add(ids=keys[start:start + step], embeddings=unit[start:start + step])
        done = min(start + step, len(keys))
        if done == len(keys) or (start // step) % 10 == 0:
            print(f"chroma: loaded {done}/{len(keys)} rows in {time.monotonic() - started:.0f}s",
                  flush=True)
    if collection.count() != len(keys):
        raise SystemExit(f"chroma holds {collection.count()} rows, expected {len(keys)}")
    marker.write_text(json.dumps(want))
    return str(collection.id)
