"""`wordspace serve` (gunicorn, or nginx in front of it) and `wordspace settings`."""
from __future__ import annotations

import argparse
import dataclasses
import textwrap
from pathlib import Path

from service.settings import PREFIX, Settings, env_table, setting_help


def register(sub, settings: Settings, argv) -> None:
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

    p = sub.add_parser("settings", help="list the WORDSPACE_* variables: what each sets, its "
                                           "default, and its value now when another")
    p.set_defaults(func=show_settings)


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


def show_settings(args, settings: Settings) -> int:
    """Each setting as a line of an environment file (its default), under its help as a
    comment, and the value in force when the environment sets another."""
    defaults, current = dict(env_table()), dataclasses.asdict(settings)
    for names, text in setting_help():
        print("\n".join(textwrap.wrap(text, 96, initial_indent="# ", subsequent_indent="# ")))
        for name in names:
            variable, now = PREFIX + name.upper(), current[name]
            shown = "(set)" if name == "api_keys" and now else _shown(now)
            print(f"{variable}={defaults[variable]}"
                  + (f"  # now {shown or '(empty)'}" if shown != defaults[variable] else ""))
        print()
    return 0
