"""The `wordspace` command: build-index, build, experiment, export, publish, serve, settings.

Commands print progress through logging (stderr); their results go to stdout. A usage error
(a bad option, input file or setting: service.errors.InputError, or a space that fails its
checks) is one line on stderr and exit code 2; anything else is a bug and ends with its
traceback and exit code 1. Global options (--catalog)
may come before or after the command.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from service.builder import commands, runner
from service.builder.recipes import BuildOptions
from service.builder.spec import Spec, SpaceSpec, TaskSpec, load_spec
from service.errors import BadIndex, InputError, StoreError
from service.logconfig import configure as configure_logging
from service.settings import Settings, catalog_location, env_table
from service.store import catalog, formats
from service.store import export as exports
from service.store import index as ix
from service.store.kinds import KINDS

log = logging.getLogger("wordspace")


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except InputError as e:
        print(f"wordspace: {e}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="wordspace", description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=catalog_location, default=settings.catalog,
                        help=f"catalog folder or s3://BUCKET/PREFIX (WORDSPACE_CATALOG, default "
                             f"{settings.catalog})")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-index", help="build one space from an embedding table")
    p.add_argument("name")
    p.add_argument("--from", dest="source", required=True, metavar="FORMAT:PATH",
                   help=formats.help_text())
    p.add_argument("--index", dest="factory", metavar="FACTORY",
                   help=f"faiss factory string (default: Flat up to {ix.EXACT_LIMIT:,} rows, HNSW32 "
                        f"up to {ix.GRAPH_LIMIT:,}, IVF above: {ix.default_factory(3_000_000)} for 3M)")
    p.add_argument("--limit", type=int, help="keep only the first N rows")
    p.add_argument("--target-recall", type=float, default=ix.TARGET_RECALL, metavar="R",
                   help="tune efSearch/nprobe to reach this recall@10 (default %(default)s)")
    p.add_argument("--topk-rows", type=int, metavar="N",
                   help="store the exact top-100 of the first N rows (0: none; default up to "
                        "50,000 within a build budget that gives large tables fewer or none)")
    p.add_argument("--layer", help=f"{_taking('layer')}: name of the Embedding layer")
    p.add_argument("--vocab", type=Path, help=f"{_taking('vocab')}: vocabulary file, one word "
                   "per line in row order")
    p.add_argument("--standardize", metavar="MODULE:FUNCTION",
                   help=f"{_taking('standardize')}: the model's custom standardize function")
    p.add_argument("--sentence-layer", metavar="LAYER",
                   help=f"{_taking('sentence_layer')}: the layer whose output is a sentence vector "
                        "(default: the global pooling layer, else the last layer before the "
                        "classifier head)")
    p.add_argument("--kind", choices=KINDS,
                   help="what the space is (default from the format: word2vec, glove, a Keras "
                        "model's task, else vectors)")
    p.add_argument("--task", metavar="NAME",
                   help="the task the space is scored on (a Keras model: also its own accuracy "
                        "on the task's test split): a task of the default spec "
                        f"({', '.join(load_spec().tasks)}), or the name for --task-data")
    p.add_argument("--task-data", type=Path, metavar="FILE.csv|DIR",
                   help="labelled texts for the task: a csv with text,label columns or a "
                        "clickbait-style folder (the task is named after the file unless --task)")
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    p.set_defaults(func=build_index)

    p = sub.add_parser("verify", help="check every byte of the catalog's spaces against their manifests")
    p.add_argument("names", nargs="*", help="spaces to check (default all)")
    p.set_defaults(func=verify)

    p = sub.add_parser("serve", help="run the service under gunicorn (--proxy: behind nginx)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_environment_help(settings))
    p.add_argument("--host", help=f"address to bind (WORDSPACE_HOST, now {settings.host})")
    p.add_argument("--port", type=int, help=f"port (WORDSPACE_PORT, now {settings.port})")
    p.add_argument("--workers", type=int, help=f"gunicorn worker processes (WORDSPACE_WORKERS, "
                                               f"now {settings.workers})")
    p.add_argument("--proxy", action="store_true",
                   help="the production stack: nginx on HOST:PORT in front of gunicorn on a unix "
                        "socket (needs Debian's nginx; see service/proxy.py)")
    p.add_argument("--socket", type=Path, metavar="PATH",
                   help="bind this unix socket instead of HOST:PORT, behind a proxy: the client "
                        "address comes from the X-Forwarded-For it appends")
    p.set_defaults(func=serve)

    p = sub.add_parser("export", help="write a space for other tools (Embedding Projector, word2vec)")
    p.add_argument("name", help="the space, as published in the catalog")
    p.add_argument("--format", choices=tuple(exports.FORMATS), default="projector",
                   help="projector: a zip with vectors.tsv and metadata.tsv; word2vec: text "
                        "(default %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="file to write")
    p.add_argument("--limit", type=int, help="only the N most frequent words")
    p.set_defaults(func=export)

    p = sub.add_parser("publish", help="copy a local catalog to an object store (s3://), "
                                       "leaving out the versions already there")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="FOLDER",
                   help="the local catalog (e.g. indexes)")
    p.add_argument("--to", dest="target", required=True, metavar="s3://BUCKET/PREFIX",
                   help="the store's catalog; endpoint and credentials from the AWS configuration")
    p.add_argument("names", nargs="*", help="spaces to publish (default all)")
    p.set_defaults(func=publish)

    p = sub.add_parser("remove", help="unpublish a space: servers drop it on reload (SIGHUP or "
                       "POST /v1/admin/reload); its old versions are deleted")
    p.add_argument("name", help="the space, as published in the catalog")
    p.add_argument("--keep-versions", type=int, default=0, metavar="N",
                   help="keep its N newest version folders in .versions, not served "
                        "(default %(default)s: delete them all)")
    p.set_defaults(func=remove)

    p = sub.add_parser("settings", help="list the WORDSPACE_* variables and their defaults")
    p.set_defaults(func=show_settings)

    commands.register(sub, sys.argv[1:] if argv is None else argv)
    _global_options_anywhere(parser, settings)
    args = parser.parse_args(argv)
    configure_logging(settings.log_level, as_json=settings.log_json and args.command == "serve")
    try:
        if isinstance(getattr(args, "catalog", None), str) and args.command in ON_STORE:
            return _on_store(args, settings)
        return args.func(args, settings) or 0
    except (InputError, BadIndex) as e:
        log.error("%s", e)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C: one line, no traceback (nothing half-written is published)
        served = catalog.space_names(Path(args.catalog))
        print(f"wordspace: interrupted{': ' + str(e) if str(e) else ''}; the catalog "
              f"{args.catalog} serves {', '.join(served) or 'no space'}, as before", file=sys.stderr)
        return 130


def _taking(option: str) -> str:
    return ", ".join(formats.taking(option))


def _global_options_anywhere(parser: argparse.ArgumentParser, settings: Settings) -> None:
    """Accept --catalog after the command too (`wordspace build-index x --catalog C`): every
    subcommand gets the option, with no default of its own so the global one stands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if "--catalog" not in sub._option_string_actions:
                    sub.add_argument("--catalog", type=catalog_location, default=argparse.SUPPRESS,
                                     help=f"catalog folder (WORDSPACE_CATALOG, now {settings.catalog})")
                _global_options_anywhere(sub, settings)


def _environment_help(settings: Settings) -> str:
    current = dataclasses.asdict(settings)
    lines = ["Every setting is also read from the environment (options win):"]
    for name, default in env_table():
        value = current[name.removeprefix("WORDSPACE_").lower()]
        shown = "(set)" if name == "WORDSPACE_API_KEYS" and value else _shown(value)
        lines.append(f"  {name:<28} now {shown or '(empty)'}; default {default or '(empty)'}")
    return "\n".join(lines)


def _shown(value) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)


def build_index(args, settings: Settings) -> int:
    """One space from a file: a one-entry spec through the build's runner (fingerprint,
    caching, scorecard, index options), so a second identical run is not rebuilt."""
    # Everything that can be refused is checked before the table is read, which may take minutes.
    catalog.check_name(args.name)
    tasks = _build_index_task(args)
    if args.topk_rows is not None and args.topk_rows < 0:
        raise InputError(f"--topk-rows must be 0 or more, not {args.topk_rows}")
    fmt, path, guessed = formats.resolve(args.source)
    formats.check_options(fmt, layer=args.layer, vocab=args.vocab, standardize=args.standardize)
    if guessed:
        print(f"{path}: read as {fmt} (guessed from the file; write {fmt}:{path} to say so)")
    if args.factory:
        ix.check_factory(args.factory, formats.dimension(fmt, path) or _ANY_DIMENSION)
    space = SpaceSpec(args.name, args.kind or formats.kind_for_format(fmt), task=next(iter(tasks), None),
                      source=str(Path(path).resolve()) if path else None, format=fmt,
                      layer=args.layer, vocab=str(args.vocab.resolve()) if args.vocab else None,
                      standardize=args.standardize, limit=args.limit, factory=args.factory,
                      target_recall=args.target_recall, topk_rows=args.topk_rows,
                      sentence_layer=args.sentence_layer)
    options = BuildOptions(catalog=args.catalog, spec=Spec("build-index", tasks, {args.name: space}),
                           spaces=(args.name,), curve=None, force=args.force, record=False)
    [row] = runner.run(options)
    folder = catalog.resolve(args.catalog, args.name)
    manifest = catalog.read_manifest(folder)
    note = (" (up to date: same file and options, not rebuilt; --force rebuilds)"
            if row["status"] == "cached" else "")
    print(f"{args.name}: {manifest['rows']} rows x {manifest['dimension']}, {manifest['factory']}, "
          f"recall@10 {manifest['recall_at_10']}, {manifest['build_seconds']}s -> {folder}{note}")
    return 0


def _build_index_task(args) -> dict[str, TaskSpec]:
    """The task `--task` and `--task-data` name, as a one-task spec section ({} for none)."""
    if args.task_data:
        if not args.task_data.exists():
            raise InputError(f"--task-data {args.task_data}: no such file or folder")
        name = args.task or args.task_data.stem
        return {name: TaskSpec(name, data=str(args.task_data.resolve()))}
    if args.task:
        tasks = load_spec().tasks
        if args.task not in tasks:
            raise InputError(f"--task {args.task}: choose from {', '.join(tasks)} (the default "
                             "spec's tasks), or give your labelled texts with --task-data FILE.csv")
        return {args.task: tasks[args.task]}
    return {}


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


# A dimension most factory strings accept (a multiple of every usual PQ size), to check a
# factory's syntax when the file does not say its dimension before it is read.
_ANY_DIMENSION = 960


def serve(args, settings: Settings) -> int:
    overrides = {name: getattr(args, name) for name in ("catalog", "host", "port", "workers")
                 if getattr(args, name) is not None and getattr(args, name) != getattr(settings, name)}
    settings = Settings.from_env(**overrides) if overrides else settings
    if args.proxy:
        from service import supervise

        return supervise.run(settings)
    from service.server import run

    run(settings, socket=args.socket)
    return 0


def export(args, settings: Settings) -> int:
    """The same bytes as GET /v1/spaces/{space}/export, written through a .part file."""
    from service.store.space import Space

    space = Space.load(args.catalog, args.name, full_checksums=settings.full_checksums)
    part = args.out.with_name(args.out.name + ".part")
    with part.open("wb") as f:
        for chunk in exports.export(space, args.format, args.limit):
            f.write(chunk)
    part.replace(args.out)
    rows = len(space) if args.limit is None else min(args.limit, len(space))
    print(f"{args.name}: {rows} rows x {space.vector_size} as {args.format} -> {args.out} "
          f"({args.out.stat().st_size} bytes)")
    return 0


def publish(args, settings: Settings) -> int:
    from service.store import publish

    if not isinstance(catalog_location(args.target), str):
        raise InputError(f"--to {args.target}: give an object store location, s3://BUCKET/PREFIX")
    for row in publish.publish(args.source, args.target, tuple(args.names)):
        print(f"{row['name']}: {row['version']} "
              f"{'uploaded' if row['uploaded'] else 'already in the store'}")
    print(f"published -> {args.target}")
    return 0


# Commands that work on an s3:// catalog through its local copy (WORDSPACE_CACHE), and
# whether what they made is published back.
ON_STORE = {"build-index": True, "build": True, "experiment": True, "verify": False,
            "export": False}


def _on_store(args, settings: Settings) -> int:
    """The store's catalog brought into the cache (downloaded and verified), the command run
    there, and for the builds the new versions published (the pointer moving last)."""
    from service.store import publish
    from service.store.mirror import Mirror

    url = args.catalog
    mirror = Mirror(url, settings.cache)
    mirror.sync()
    if mirror.error:
        raise StoreError(mirror.error)
    args.catalog = settings.cache
    code = args.func(args, settings) or 0
    if code == 0 and ON_STORE[args.command]:
        for row in publish.publish(settings.cache, url):
            if row["uploaded"]:
                print(f"{row['name']}: published {row['version']} -> {url}")
    return code


def remove(args, settings: Settings) -> int:
    """`wordspace remove NAME`: catalog.remove, while holding the name's build lock; on an
    s3:// catalog, publish.remove (the pointer first, then the versions' objects)."""
    from service.store import locks

    if args.keep_versions < 0:
        raise InputError(f"--keep-versions must be 0 or more, not {args.keep_versions}")
    if isinstance(args.catalog, str):
        from service.store import publish

        if not publish.remove(args.catalog, args.name):
            raise InputError(f"{args.name}: no such space in {args.catalog}")
        print(f"{args.name}: removed from {args.catalog}; replicas drop it at their next watch "
              f"(WORDSPACE_WATCH_SECONDS)")
        return 0
    with locks.hold(args.catalog, [args.name], "removed"):
        gone = catalog.remove(args.catalog, args.name, keep=args.keep_versions)
    print(f"{args.name}: removed from {args.catalog} ({len(gone)} version folders deleted); "
          "running servers drop it on reload: kill -HUP their gunicorn master, or POST "
          "/v1/admin/reload")
    return 0


def show_settings(args, settings: Settings) -> int:
    for name, default in env_table():
        print(f"{name}={default}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
