"""The `wordspace` command: build-index, build, experiment, export, publish, serve, settings.

Commands print progress through logging (stderr); their results go to stdout. A usage error
(a bad option, input file or setting: service.errors.InputError, or a space that fails its
checks) is one line on stderr and exit code 2; anything else is a bug and ends with its
traceback and exit code 1. Global options (--catalog)
may come before or after the command.

All of the command's argparse code is in this package, one module per group of commands, each
with its parsers and their handlers side by side: index (build-index, verify), build (build,
experiment), serve (serve, settings), catalog (export, publish, remove). Building the parsers
reads no spec: `build --help` reads the spec it names when it is shown.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from service.cli import build, catalog as catalog_commands, index, serve
from service.errors import BadIndex, InputError, StoreError
from service.logconfig import configure as configure_logging
from service.settings import Settings, catalog_location
from service.store import catalog

log = logging.getLogger("wordspace")

COMMAND_GROUPS = (index, serve, catalog_commands, build)


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

    argv = sys.argv[1:] if argv is None else argv
    for group in COMMAND_GROUPS:
        group.register(sub, settings, argv)
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



if __name__ == "__main__":
    sys.exit(main())
