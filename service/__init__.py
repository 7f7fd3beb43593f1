"""wordspace: similarity queries over word-embedding spaces, served over HTTP.

`create_app(settings)` builds the Flask app: it loads every configured space from the
catalog (refusing bad ones, serving the rest) and registers the routes. gunicorn runs
`service:create_app()`; tests pass their own Settings.
"""
from __future__ import annotations

from flask import Flask

from service import errors
from service.registry import Registry
from service.settings import Settings

__version__ = "0.1.0"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    _one_faiss_thread()
    # Imported here: prometheus-client picks its multiprocess mode when first imported,
    # after the server has set PROMETHEUS_MULTIPROC_DIR.
    from service import admin, api, auth, health, logs, metrics
    from service import compare, page

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["wordspace.settings"] = settings
    logs.register(app, settings.access_log)
    counters = metrics.register(app, __version__)
    auth.register(app, settings)
    registry = Registry(settings.catalog, settings.spaces, on_change=counters.spaces_changed,
                        full_checksums=settings.full_checksums)
    app.extensions["wordspace"] = registry.load()

    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(admin.bp)
    errors.register(app)
    return app


def _one_faiss_thread() -> None:
    # Each gunicorn worker answers one search at a time per thread; OpenMP threads on top of
    # that only contend for the same cores.
    import faiss

    faiss.omp_set_num_threads(1)


def configure_logging(level: str = "info", as_json: bool = False) -> None:
    from service import logs

    logs.configure(level, as_json)

