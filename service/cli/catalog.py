"""`wordspace export`, `publish` and `remove`: a catalog's spaces to files, to an object store, out."""
from __future__ import annotations

from pathlib import Path

from service.errors import InputError
from service.settings import Settings, catalog_location
from service.store import catalog
from service.store import export as exports


def register(sub, settings: Settings, argv) -> None:
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
