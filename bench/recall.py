"""recall@10 of each contender through HTTP, against exact search over the same unit vectors.

By word the query word itself is left out of the exact answer (as every contender leaves it
out); by vector nothing is left out (the word's own row is usually the first answer). The
queries are rows the index was not tuned on (service.store.index.tuning_rows).
"""
from __future__ import annotations

import http.client
import json
import urllib.parse

import numpy as np


def exact(unit: np.ndarray, xq: np.ndarray, k: int, leave_out=None) -> list[set[int]]:
    """The exact k nearest rows by inner product for each query, `leave_out[i]` skipped."""
    import faiss

    _, found = faiss.knn(np.ascontiguousarray(xq, dtype="float32"), unit, k + 1,
                         metric=faiss.METRIC_INNER_PRODUCT)
    if leave_out is None:
        return [{int(r) for r in f[:k]} for f in found]
    return [set([int(r) for r in f if r != skip][:k]) for f, skip in zip(found, leave_out)]


def held_out_rows(rows: int, n: int, seed: int = 1) -> np.ndarray:
    """n rows drawn at random from those the index's search parameters were not tuned on."""
    from service.store.index import tuning_rows

    pool = np.setdiff1d(np.arange(rows), tuning_rows(rows))
    return np.sort(np.random.default_rng(seed).choice(pool, min(n, len(pool)), replace=False))


class Client:
    """One keep-alive HTTP connection to a contender."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str):
        return self._send("GET", path, None)

    def post(self, path: str, body: str):
        return self._send("POST", path, body)

    def _send(self, method, path, body):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"{method} {path[:80]} answered {r.status}: {data[:300]!r}")
        return json.loads(data)

    def close(self):
        self.conn.close()


def answers(contender, workload: str, words: list[str], vectors: list[str], k: int,
            batch: int) -> list[list[str]]:
    """The words each query of `workload` gets back from `contender` over HTTP."""
    c = Client(contender.port)
    try:
        if contender.name == "chroma":
            route = contender.workloads["by-vector"][0].path
            return [c.post(route, f'{{"query_embeddings":[{v}],"n_results":{k}}}')["ids"][0]
                    for v in vectors]
        if contender.name == "gensim":
            return [[n["word"] for n in c.get(f"/neighbors?word={urllib.parse.quote(w)}&k={k}")["neighbors"]]
                    for w in words]
        route = "/v1/spaces/glove/neighbors"
        if workload == "by-word":
            return [[n["word"] for n in c.get(f"{route}?word={urllib.parse.quote(w)}&k={k}")["neighbors"]]
                    for w in words]
        if workload == "by-vector":
            return [[n["word"] for n in c.post(route, f'{{"vectors":[{v}],"k":{k}}}')["results"][0]["neighbors"]]
                    for v in vectors]
        got = []
        for i in range(0, len(words), batch):
            body = json.dumps({"words": words[i:i + batch], "k": k})
            got += [[n["word"] for n in r["neighbors"]] for r in c.post(route, body)["results"]]
        return got
    finally:
        c.close()


def recall(got: list[list[str]], truth: list[set[int]], keys: list[str], k: int) -> float:
    hits = sum(len(set(g[:k]) & {keys[i] for i in t}) for g, t in zip(got, truth))
    return round(hits / (k * len(truth)), 4)
