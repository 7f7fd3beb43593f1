"""Client for the wordspace service: typed results, problem types as exceptions, opt-in
retries, batch helpers, and a gensim-compatible KeyedVectors facade.

    from wordspace_client import Client
    with Client() as c:                      # WORDSPACE_URL, WORDSPACE_API_KEY
        print(c.space("glove").neighbors("alps", k=3).words)
"""
from importlib.metadata import PackageNotFoundError, version

try:  # pyproject.toml's version, read from the installed package's metadata
    __version__ = version("wordspace-client")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

from wordspace_client.errors import (InvalidRequest, NotReady, ReadOnly, Unauthorized,  # noqa: E402
                                     UnknownSpace, UnknownWord, WordspaceError)
from wordspace_client.client import Client, Compare, Space  # noqa: E402
from wordspace_client.async_client import AsyncClient, AsyncCompare, AsyncSpace  # noqa: E402
from wordspace_client.results import (Embedding, Evaluation, Limits, Neighbor, Neighbors,  # noqa: E402
                                      PairSimilarity, SpaceInfo, Vector, WordPage)

__all__ = [
    "AsyncClient", "AsyncCompare", "AsyncSpace", "Client", "Compare", "Space",
    "WordspaceError", "InvalidRequest", "NotReady", "ReadOnly", "Unauthorized", "UnknownSpace", "UnknownWord",
    "Embedding", "Evaluation", "Limits", "Neighbor", "Neighbors", "PairSimilarity", "SpaceInfo",
    "Vector", "WordPage",
]
