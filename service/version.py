"""The version of the installed package, read from its metadata: pyproject.toml is the one
place it is written."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """pyproject.toml's version, or "unknown" when the code runs without being installed."""
    try:
        return version("wordspace")
    except PackageNotFoundError:
        return "unknown"
