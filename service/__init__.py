"""wordspace: similarity queries over word-embedding spaces, served over HTTP.

Kept tiny so that `wordspace build`, the tokenizer and the store import no web framework:
gunicorn runs `service:create_app()`, which imports the web layer only when called.
The packages and the direction of their imports are listed in the README ("How the code is
laid out") and enforced by tests/test_layout.py.
"""
from __future__ import annotations

from service.version import package_version

__version__ = package_version()


def create_app(settings=None):
    """The Flask app (service/web/__init__.py); `settings` defaults to the environment's."""
    from service.web import create_app as make

    return make(settings)
