"""Where a build or `wordspace build-index` reads a table from: every format of the store's
readers, plus Keras models (whose reader imports TensorFlow, so it lives in the build)."""
from __future__ import annotations

from pathlib import Path

from service.store import tables
from service.store.tables import Table


def read_table(fmt: str, path: str | Path = "", *, limit: int | None = None,
               layer: str | None = None, vocab: str | Path | None = None,
               standardize: str | None = None) -> Table:
    """Read a table in the named format (see service.store.tables.FORMATS). For a Keras model,
    `standardize` names its custom standardization function ("module:function"), and the
    table's details["embed"] is the embed.json to publish with the space.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file does not hold a table in that format.
    """
    if fmt == "keras":
        from service.builder.keras_table import read_keras  # imports TensorFlow: only here

        return read_keras(Path(path), layer=layer, vocab=vocab, standardize=standardize).deduplicated()
    return tables.read_table(fmt, path, limit=limit)
