"""`wordspace serve` (gunicorn, or nginx in front of it) and `wordspace settings`."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from service.settings import Settings, env_table


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

    p = sub.add_parser("settings", help="list the WORDSPACE_* variables and their defaults")
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
    for name, default in env_table():
        print(f"{name}={default}")
    return 0
