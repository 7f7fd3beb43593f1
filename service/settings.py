"""All configuration in one place: one frozen dataclass read from WORDSPACE_* variables, and
the fixed limits beside it.

Every setting has a default here and, on the lines above it, a comment that is its help: the
README's table is generated from them (`python -m service.settings --readme README.md`).
Nothing else reads a WORDSPACE_* variable (the environment is read elsewhere only for
prometheus-client's PROMETHEUS_MULTIPROC_DIR: service/server.py, service/web/metrics.py).
Every limit a request meets is here, once: a Settings field when
an operator may change it (WORDSPACE_MAX_*, the timeouts), else a named constant below the
class; `Settings.limits()` lists them all (GET /v1/spaces `limits`, and the bounds of the
served openapi.yaml, service/web/contract.py).
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
    # Folder holding one sub-folder per space (see service/store/catalog.py), or an object
    # store location s3://bucket/prefix (service/store/objects.py): endpoint, region and
    # credentials come from the standard AWS configuration (AWS_ENDPOINT_URL, AWS_PROFILE, ...).
    catalog: Path | str = Path("indexes")
    # With an s3:// catalog: the local folder the versions are downloaded to, verified and
    # served from (memory-mapped). It keeps each space's serving version and the one before.
    cache: Path = Path("catalog-cache")
    # Seconds between two looks for new versions (served spaces swap in as on SIGHUP): a
    # conditional GET of an s3:// catalog's pointer, or a look at a folder's links.
    watch_seconds: int = 10
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
    # Most rows an exact scan may score in one request: the words or vectors of a batch times
    # the rows that restrict_vocab or candidates allow (restricted searches are exact scans,
    # as gensim's are). 20 million is a whole 3M-word space for one word, or the 10,000 most
    # frequent words for each of 1,000 (about 0.3 s of CPU with 300 dimensions).
    max_scan_rows: int = 20_000_000
    # Largest request body in bytes.
    max_body_bytes: int = 1024 * 1024
    # Longest word accepted in a query, in characters.
    max_word_length: int = 200
    # Longest text (sentence) accepted by the embed and compare routes, in characters.
    max_text_length: int = 10000
    # Most words in each list of an analogy (positive, negative): 3CosMul reads the whole
    # space once per word, so this bounds its work.
    max_analogy_words: int = 10
    # Most candidate words in one request (the body limit applies too).
    max_candidates: int = 100_000
    # Most words in one page of GET /v1/spaces/{space}/words.
    max_page: int = 10_000
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
    # Heavy requests (exports, comparisons of spaces, scorecards, pictures: service/web/heavy.py)
    # one worker runs at once; past it they are answered 503 with Retry-After. 0: a quarter of
    # WORDSPACE_THREADS, at least 1 (1 of the default 4). Fewer than the threads, so the probes
    # always find a free thread; few, because a worker runs Python on one core at a time (the
    # GIL) and each CPU-bound request there delays every other thread's turn, probes included.
    heavy_requests: int = 0
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
    def remote(self) -> bool:
        """The catalog is an object store location (s3://...), served from the local cache."""
        return isinstance(self.catalog, str)

    @property
    def local_catalog(self) -> Path:
        """The folder the spaces are loaded from: the catalog, or the cache of a remote one."""
        return self.cache if self.remote else self.catalog

    @property
    def heavy_limit(self) -> int:
        """The heavy requests one worker runs at once (WORDSPACE_HEAVY_REQUESTS, or derived)."""
        return self.heavy_requests or max(1, self.threads // 4)

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}"

    def limits(self) -> dict[str, int]:
        """Every limit a request meets, by name: the MAX_* settings and timeouts, then the
        fixed limits (lower-cased)."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                 if f.name.startswith("max_") or f.name.endswith("timeout")}
        return found | {name.lower(): value for name, value in FIXED_LIMITS.items()}


# Fixed limits: the API's shape, a picture's legibility or a stock part sets them, so they are
# not configured. Each is defined here only and imported where it is enforced.
# Deepest JSON body read (service/web/params.py); the deepest any route needs is 3.
MAX_JSON_DEPTH = 20
# Longest space name, in characters (a catalog folder: service/store/catalog.py).
SPACE_NAME_LENGTH = 64
# Spaces per comparison whose work grows with each space's vocabulary (a search of each),
# and bars or panels in one picture (service/web/selection.py).
MAX_SPACES = 8
# Characters of `spaces` in a query: MAX_SPACES of the longest names and their commas. Even
# percent-encoded (12 bytes for a 4-byte character) the URL stays under the request line's
# default limit (max_header_line).
MAX_SPACES_PARAM = MAX_SPACES * (SPACE_NAME_LENGTH + 1)
# Texts in one POST /v1/compare/sentences (each pair is scored in every space).
MAX_SENTENCES = 16
# Words in one plot, and words x spaces drawn in one picture (40 words in 4 spaces, 20 in 8).
MAX_PLOT_WORDS = 40
MAX_PLOT_LABELS = 4 * MAX_PLOT_WORDS
# Characters of a plot's `words` query.
MAX_PLOT_WORDS_PARAM = 800
# Neighbours drawn around a plot's `word`.
MAX_PLOT_NEIGHBORS = 30
# Characters of `pairs` in a query: with `spaces`, the URL stays under the request line's limit.
MAX_PAIRS_PARAM = 300
# Words in /v1/compare/drift (each costs a neighbour search in both spaces).
MAX_DRIFT = 100
# Neighbours per word, and words listed, in /v1/compare/spaces.
MAX_SPACE_K = 100
MAX_LISTED = 100
# Header fields in one request when gunicorn faces clients itself (its default); behind
# nginx its header buffers bound the headers instead (service/server.py).
MAX_HEADER_FIELDS = 100
# Seconds gunicorn keeps an idle connection open; nginx closes its end a second sooner, so
# it never sends on a connection gunicorn is closing (service/proxy.py).
KEEPALIVE_TIMEOUT = 5
# Seconds nginx waits to connect to gunicorn's socket.
CONNECT_TIMEOUT = 5

FIXED_LIMITS = {name: value for name, value in dict(globals()).items()
                if name.startswith("MAX_") or name.endswith("_TIMEOUT") or name == "SPACE_NAME_LENGTH"}


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
        if value < 1 and f.name not in ("port", "heavy_requests"):
            raise ValueError("must be a positive integer")
        return value
    if f.name == "catalog":
        return catalog_location(raw)
    if isinstance(default, Path):
        return Path(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def catalog_location(raw: str) -> Path | str:
    """A catalog given as text: an s3:// location stays a string, anything else is a folder."""
    return raw if raw.startswith(REMOTE_SCHEME) else Path(raw)


REMOTE_SCHEME = "s3://"


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


def setting_help() -> list[tuple[list[str], str]]:
    """Each setting's help: the comment on the lines above its field in Settings, read from
    this file; fields declared together under one comment share it: ([names], help)."""
    import inspect

    groups, comment = [], []
    for line in inspect.getsource(Settings).splitlines()[1:]:
        text = line.strip()
        if text.startswith("#"):
            comment.append(text.lstrip("#").strip())
        elif m := re.match(r"(\w+): [^=]+=", text):
            if comment or not groups:
                groups.append(([], " ".join(comment)))
            groups[-1][0].append(m.group(1))
            comment = []
        elif text.startswith(("@", "def ")):
            break
        else:
            comment = []
    return groups


def markdown_table() -> str:
    """The README's table of settings: variable, default, help (one row per comment)."""
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}

    def shown(default) -> str:
        if isinstance(default, bool):
            return f"`{str(default).lower()}`"
        if default in ((), ""):
            return "*(empty)*"
        return f"`{','.join(default) if isinstance(default, tuple) else default}`"

    rows = ["| variable | default | what it sets |", "|---|---|---|"]
    for names, help in setting_help():
        rows.append(f"| {', '.join(f'`{PREFIX}{n.upper()}`' for n in names)} | "
                    f"{', '.join(shown(defaults[n]) for n in names)} | {help.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


README_BLOCK = re.compile(r"(<!-- settings -->\n).*?(<!-- /settings -->)", re.S)


def main(argv: list[str] | None = None) -> int:
    """`python -m service.settings --markdown` prints the table; `--readme FILE` rewrites it
    between the file's `<!-- settings -->` and `<!-- /settings -->` lines."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m service.settings", description=main.__doc__)
    p.add_argument("--markdown", action="store_true", help="print the table of settings")
    p.add_argument("--readme", type=Path, help="rewrite the table in this file")
    args = p.parse_args(argv)
    if args.readme:
        text = args.readme.read_text(encoding="utf-8")
        if not README_BLOCK.search(text):
            raise SystemExit(f"{args.readme}: no <!-- settings --> ... <!-- /settings --> block")
        args.readme.write_text(README_BLOCK.sub(lambda m: m[1] + markdown_table() + m[2], text),
                               encoding="utf-8")
    if args.markdown or not args.readme:
        print(markdown_table(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
