"""Reading a verified space folder: map its arrays, read its faiss index, its stored top-k
table and its JSON files, and check each against the manifest, so that a bad file refuses the
space at load, naming the file.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from service.errors import BadIndex
from service.store import catalog
from service.store import index as ix
from service.store import topk as tk
from service.store.embed import EMBED_FILE, check_embed_config
from service.store.keys import Keys


def read_folder(folder: Path, manifest: dict) -> dict:
    """The parts of a Space (index_to_key, vectors, norms, index, embed_config, topk) read
    from `folder`, each checked against the manifest.

    Raises:
        BadIndex: naming the file that disagrees with the manifest.
    """
    try:
        index_to_key = Keys.from_lines((folder / "keys.txt").read_bytes())
    except UnicodeDecodeError as e:
        raise BadIndex(folder / "keys.txt", f"not UTF-8 text ({e})") from None
    vectors = _load_npy(folder / "vectors.npy", ndim=2)
    norms = _load_npy(folder / "norms.npy", ndim=1)
    try:
        index = ix.read(str(folder / "index.faiss"))
        ix.set_params(index, manifest.get("search_params") or {})
    except RuntimeError as e:
        raise BadIndex(folder / "index.faiss", f"faiss cannot read it ({ix.last_line(e)})") from None
    rows, dimension = manifest["rows"], manifest["dimension"]
    for what, n in (("keys.txt", len(index_to_key)), ("vectors.npy", len(vectors)),
                    ("norms.npy", len(norms)), ("index.faiss", index.ntotal)):
        if n != rows:
            raise BadIndex(folder / what, f"{n} rows, manifest says {rows}")
    for what, d in (("vectors.npy", vectors.shape[1]), ("index.faiss", index.d)):
        if d != dimension:
            raise BadIndex(folder / what, f"dimension {d}, manifest says {dimension}")
    documents = _json_files(folder, manifest)
    embed_config = documents.get(EMBED_FILE)
    if embed_config is not None:
        try:
            check_embed_config(embed_config, EMBED_FILE, dimension)
        except ValueError as e:
            raise BadIndex(folder / EMBED_FILE, str(e)) from None
        if "model" in embed_config:  # the model's own sentence vectors (ONNX)
            from service.store.onnx_sentences import check

            check(folder, embed_config["model"], manifest.get("files") or {})
    return {"index_to_key": index_to_key, "vectors": vectors, "norms": norms, "index": index,
            "embed_config": embed_config, "topk": _load_topk(folder, manifest)}


def _load_topk(folder: Path, manifest: dict) -> tk.TopK | None:
    """The stored exact neighbours of the frequent words, when the space has them.

    Raises:
        BadIndex: a file missing, unreadable or of another shape than the manifest says.
    """
    entry = manifest.get("topk")
    if not entry:
        return None
    ids = _load_npy(folder / tk.IDS, ndim=2, dtype=np.int32)
    scores = _load_npy(folder / tk.SCORES, ndim=2)
    shape = (entry["rows"], entry["k"])
    for path, arr in ((tk.IDS, ids), (tk.SCORES, scores)):
        if arr.shape != shape:
            raise BadIndex(folder / path, f"shape {arr.shape}, manifest says {shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= manifest["rows"]):
        raise BadIndex(folder / tk.IDS, "row numbers outside the space")
    return tk.TopK(ids, scores)


def _load_npy(path: Path, ndim: int, dtype=np.float32) -> np.ndarray:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise BadIndex(path, f"unreadable ({e})") from None
    if arr.dtype != dtype or arr.ndim != ndim:
        raise BadIndex(path, f"{arr.dtype} array of {arr.ndim} dimensions; expected "
                             f"{np.dtype(dtype).name} with {ndim}")
    return arr


def _json_files(folder: Path, manifest: dict) -> dict[str, dict]:
    """Every JSON file the space carries besides its manifest (embed.json, evaluation.json),
    parsed now so that a bad one refuses the space at load, not a request later.

    Raises:
        BadIndex: naming a file that is not a JSON object.
    """
    found = {}
    for fname in manifest.get("files") or {}:
        if not fname.endswith(".json") or fname == catalog.MANIFEST:
            continue
        path = folder / fname
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BadIndex(path, f"not valid JSON ({e})") from None
        if not isinstance(data, dict):
            raise BadIndex(path, f"holds a JSON {type(data).__name__}, not an object")
        found[fname] = data
    if (folder / EMBED_FILE).is_file() and EMBED_FILE not in found:
        raise BadIndex(folder / EMBED_FILE, "not listed in the manifest")
    return found
