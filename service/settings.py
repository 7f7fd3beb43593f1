"""All configuration in one place: one frozen dataclass read from WORDSPACE_* variables.

Every setting has a commented default here and a line in the README. Nothing else in the
code reads the environment.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

PREFIX = "WORDSPACE_"


@dataclass(frozen=True)
class Settings:
    # Folder holding one sub-folder per space (see service/store/catalog.py).
    catalog: Path = Path("indexes")
    # Spaces to load, by name; empty means every space found in the catalog.
    spaces: tuple[str, ...] = ()
    # Hash every byte of every file at load. Off: files over 256 MiB are checked by size and
    # a sampled sha256 (`wordspace verify` does the full check), so start-up stays short.
    full_checksums: bool = False
    # Largest k a neighbours or analogy query may ask for.
    max_k: int = 1000
    # Most words, vectors or pairs in one batch request.
    max_batch: int = 1024
    # Largest request body in bytes.
    max_body_bytes: int = 1024 * 1024
    # Longest word accepted in a query, in characters.
    max_word_length: int = 200
    # Longest text (sentence) accepted by the embed and compare routes, in characters.
    max_text_length: int = 10000
    # API keys (comma-separated). When set, every /v1 route needs `Authorization: Bearer KEY`;
    # admin routes need one always and are off when none is set.
    api_keys: tuple[str, ...] = ()
    # Origins allowed to call the API from a browser (comma-separated, or *); none by default.
    cors_origins: tuple[str, ...] = ()
    # Address and port gunicorn binds.
    host: str = "127.0.0.1"
    port: int = 8000
    # gunicorn worker processes and threads per worker (gthread). A keep-alive connection stays
    # on the worker that accepted it, and which worker accepts is a race: with as many workers
    # as cores, a few busy connections can all land on one worker (one core, one GIL) and
    # throughput halves from one run to the next. Twice as many workers as cores (4 on the
    # 2-core machine measured, bench/README.md) leaves a core idle only when every connection
    # lands on one worker; the mapped indexes are shared, so a worker costs little memory.
    workers: int = 4
    threads: int = 2
    # Seconds a request may take before gunicorn restarts its worker.
    timeout: int = 60
    # Python logging level name.
    log_level: str = "info"
    # Log lines as JSON objects (one per line) instead of plain text.
    log_json: bool = True
    # One access log line per request (about 0.1 ms each; off for the last few % of throughput).
    access_log: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read every field from WORDSPACE_<FIELD>; keyword overrides win over the environment.

        Raises:
            ValueError: a variable that does not parse, naming the variable.
        """
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            name = PREFIX + f.name.upper()
            if name in environ:
                try:
                    values[f.name] = _parse(f, environ[name])
                except ValueError as e:
                    raise ValueError(f"{name}={environ[name]!r}: {e}") from None
        values.update(overrides)
        return cls(**values)

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}"


def _parse(f: dataclasses.Field, raw: str):
    default = f.default
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        value = int(raw)
        if value < 1 and f.name != "port":
            raise ValueError("must be a positive integer")
        return value
    if isinstance(default, Path):
        return Path(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def env_table() -> list[tuple[str, str]]:
    """(variable, default) for every setting, for the README and `wordspace settings`."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        if f.name == "api_keys":
            shown = ""
        rows.append((PREFIX + f.name.upper(), shown))
    return rows

