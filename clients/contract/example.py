"""The calls of example.ts through a Python client generated from openapi.yaml alone
(openapi-python-client, package `wordspace_api`; tests/test_clients.py generates it).

Run: python example.py http://localhost:8000 (with the generated package importable).
Prints one line per response (for the test to validate against the contract), then a
summary line starting with "SUMMARY ".
"""
from __future__ import annotations

import json
import sys

import httpx

from wordspace_api import Client
from wordspace_api.api.default import (compare_verdict, list_spaces, neighbors,
                                       neighbors_batch, similarity)
from wordspace_api.models import (CompareVerdictResponse200, ListSpacesResponse200,
                                  NeighborsBatchBodyType0, NeighborsBatchResponse200,
                                  NeighborsResponse200, Problem, SimilarityResponse200)
from wordspace_api.types import UNSET


def record(response: httpx.Response) -> None:
    """Every answer, as its method, path, status, media type and body."""
    response.read()
    kind = response.headers.get("content-type", "")
    print(json.dumps({"url": response.request.url.path, "method": response.request.method,
                      "status": response.status_code, "type": kind,
                      "body": response.json() if "json" in kind else None}))


def main(base: str) -> None:
    client = Client(base_url=base, raise_on_unexpected_status=True,
                    httpx_args={"event_hooks": {"response": [record]}})
    spaces = list_spaces.sync(client=client)
    assert isinstance(spaces, ListSpacesResponse200)
    task = next(s for s in spaces.spaces if s.details and s.details.test_accuracy is not UNSET)
    word = next((s for s in spaces.spaces if s.kind != "task"), spaces.spaces[0])

    verdict = compare_verdict.sync(client=client)
    assert isinstance(verdict, CompareVerdictResponse200)

    near = neighbors.sync(word.name, client=client, word="good", k=3)
    assert isinstance(near, NeighborsResponse200)
    similar = similarity.sync(word.name, client=client, a="good", b="bad", rank=True)
    assert isinstance(similar, SimilarityResponse200)
    batch = neighbors_batch.sync(word.name, client=client,
                                 body=NeighborsBatchBodyType0(words=["good", "zzzqqq"], k=2))
    assert isinstance(batch, NeighborsBatchResponse200)

    unknown = neighbors.sync_detailed(word.name, client=client, word="zzzqqq")
    assert isinstance(unknown.parsed, Problem)
    bad_k = neighbors.sync(word.name, client=client, word="good", k=0)
    assert isinstance(bad_k, Problem)

    print("SUMMARY " + json.dumps({
        "task": task.name, "test_accuracy": task.details.test_accuracy,
        "verdict": verdict.sentence, "neighbor": near.neighbors[0].word, "rank": similar.rank,
        "found": [r.found for r in batch.results], "unknown_status": int(unknown.status_code),
        "unknown_detail": unknown.parsed.detail, "bad_k_detail": bad_k.detail}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000")
