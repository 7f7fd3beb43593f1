"""AsyncClient mirrors Client method for method, and answers the same against the real service."""
from __future__ import annotations

import asyncio
import inspect

import pytest

from wordspace_client import (AsyncClient, AsyncCompare, AsyncSpace, Client, Compare, Space,
                              UnknownSpace, UnknownWord, WordspaceError)

SYNC_ONLY = {"keyed_vectors"}  # gensim's KeyedVectors is synchronous


def _public(cls) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}


@pytest.mark.parametrize("sync, async_", [(Client, AsyncClient), (Space, AsyncSpace),
                                          (Compare, AsyncCompare)])
def test_method_for_method(sync, async_):
    assert _public(sync) - SYNC_ONLY == _public(async_)
    for name in _public(async_):
        s, a = getattr(sync, name), getattr(async_, name)
        if callable(s) and not isinstance(s, type):
            assert list(inspect.signature(s).parameters) == list(inspect.signature(a).parameters), name


def test_same_answers_as_the_sync_client(toy_url, table):
    words = table.index_to_key[:20] + ["nope"]

    async def main():
        async with AsyncClient(toy_url) as c:
            toy = c.space("toy")
            return await asyncio.gather(
                c.spaces(), toy.neighbors("alps", k=2), toy.neighbors(words, k=3),
                toy.analogy(["king", "woman"], ["man"], k=1), toy.similarities([("a", "b")] * 10),
                toy.vectors(words), toy.rank("alps", "himalaya"),
                c.compare.similarity("king:queen"), c.compare.spaces("toy", "toy-hnsw", k=5),
            )

    got = asyncio.run(main())
    with Client(toy_url) as c:
        toy = c.space("toy")
        want = [c.spaces(), toy.neighbors("alps", k=2), toy.neighbors(words, k=3),
                toy.analogy(["king", "woman"], ["man"], k=1), toy.similarities([("a", "b")] * 10),
                toy.vectors(words), toy.rank("alps", "himalaya"),
                c.compare.similarity("king:queen"), c.compare.spaces("toy", "toy-hnsw", k=5)]
    assert got[:-1] == want[:-1]
    assert got[-1].mean_jaccard == want[-1].mean_jaccard


def test_paging_export_and_errors(toy_url, table, tmp_path):
    async def main():
        async with AsyncClient(toy_url) as c:
            toy = c.space("toy")
            words = [w async for w in toy.iter_words(page_size=100)]
            out = await toy.export(tmp_path / "toy.txt", format="word2vec", limit=3)
            with pytest.raises(UnknownWord) as missing:
                await toy.neighbors("alpz")
            with pytest.raises(UnknownSpace):
                await c.space("nope").info()
            one = await toy.neighbors_by_vector(table.vectors[3].tolist(), k=1)
            return words, out, missing.value, one

    words, out, missing, one = asyncio.run(main())
    assert words == table.index_to_key
    assert out.read_text().splitlines()[0] == "3 16"
    assert missing.suggestions and isinstance(missing, KeyError)
    assert one.words == ["queen"]


def test_refused_connection_names_the_url():
    async def main():
        async with AsyncClient("http://127.0.0.1:9") as c:
            await c.health()
    with pytest.raises(WordspaceError, match=r"cannot connect to http://127\.0\.0\.1:9"):
        asyncio.run(main())
