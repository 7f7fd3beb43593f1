"""Where a build or `wordspace build-index` reads a table from: the reader the format
registry (service/store/formats.py) names, Keras models and SavedModels included (their
readers import TensorFlow, so only the build calls them)."""
from __future__ import annotations

from pathlib import Path

from service.store import formats
from service.store.tables import Table


def read_table(fmt: str, path: str | Path = "", *, limit: int | None = None,
               layer: str | None = None, vocab: str | Path | None = None,
               standardize: str | None = None) -> Table:
    """Read a table in the named format (service.store.formats.FORMATS). For a Keras model,
    `standardize` names its custom standardization function ("module:function"), and the
    table's details["embed"] is the embed.json to publish with the space.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file does not hold a table in that format.
    """
    return formats.read(fmt, path, limit=limit, layer=layer, vocab=vocab, standardize=standardize)
