"""Debian's chromium for the browser tests (Playwright drives it; its own downloads are never
used), and the app served by werkzeug on a free loopback port for it to load."""
from __future__ import annotations

import contextlib
import shutil
import threading

from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY = "page-key"  # the API key of the tests marked with_api_key


@contextlib.contextmanager
def serving(app):
    """The app served by werkzeug on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
