"""All configuration in one place: one frozen dataclass read from WORDSPACE_* variables.

Every setting has a commented default here and a line in the README. Nothing else in the
code reads the environment.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

from service.errors import InputError

PREFIX = "WORDSPACE_"


@dataclass(frozen=True)
class Settings:
    # Folder holding one sub-folder per space (see service/store/catalog.py).
    catalog: Path = Path("indexes")
    # Spaces to load, by name; empty means every space found in the catalog.
    spaces: tuple[str, ...] = ()
    # Spaces that must be loaded for /readyz to answer 200; empty means every space loaded
    # (configured or found). Name a subset to keep a pod ready while an optional space is refused.
    required_spaces: tuple[str, ...] = ()
    # Hash every byte of every file at load. Off: files over 256 MiB are checked by size and
    # a sampled sha256 (`wordspace verify` does the full check), so start-up stays short.
    full_checksums: bool = False
    # Largest k a neighbours or analogy query may ask for.
    max_k: int = 1000
    # Most words, vectors or pairs in one batch request.
    max_batch: int = 1024
    # Most results one request may ask for: k times the items of a batch (or the spaces of a
    # comparison), which bounds the work and the size of every answer.
    max_results: int = 20000
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
    # gunicorn worker processes and threads per worker.
    workers: int = 2
    threads: int = 4
    # Seconds a worker may stop answering its master (hung, not just busy) before the master
    # kills and replaces it; also how long a stopping worker lets its requests finish.
    # Requests themselves are bounded by the limits above, not cut off by this.
    timeout: int = 60
    # Seconds nginx (`serve --proxy`) gives a client to send its headers, and at most between
    # two reads of its body or two writes of the answer; a slower client is cut off. nginx
    # buffers each request whole before gunicorn sees it, so a slow client holds no thread.
    read_timeout: int = 10
    # Longest request line (method, path, query) and longest header field, in bytes: gunicorn's
    # limit_request_line and limit_request_field_size (8190 at most), nginx's header buffers.
    max_header_line: int = 8190
    # Folder for `serve --proxy`'s nginx config, pid, temp files and gunicorn's socket;
    # empty: a fresh temporary folder, removed at exit.
    runtime_dir: str = ""
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
            InputError (a ValueError): a variable that does not parse, naming the variable.
        """
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            name = PREFIX + f.name.upper()
            if name in environ:
                try:
                    values[f.name] = _parse(f, environ[name])
                except ValueError as e:
                    raise InputError(f"{name}={environ[name]!r}: {e}") from None
        values.update(overrides)
        return cls(**values)

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}"


_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
             "on": True, "off": False}


def _parse(f: dataclasses.Field, raw: str):
    default = f.default
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value not in _BOOLEANS:
            raise ValueError("must be one of " + ", ".join(_BOOLEANS))
        return _BOOLEANS[value]
    if isinstance(default, int):
        if not re.fullmatch(r"[0-9]+", raw.strip()):
            raise ValueError("must be a whole number (ASCII digits)")
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

