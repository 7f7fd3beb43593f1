"""The web layer: the Flask app factory, its one state object (state.py), routes by resource,
request parameters, auth, admin, health and the served contract, page, logs, metrics and the
one problem+json handler.

It only translates HTTP to calls on the store and the analyses and back.
May import: service.store, service.analysis, and the top-level settings, errors, text.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from flask import Flask

from service.analysis.alignment import Alignments
from service.analysis.neighborhoods import Comparisons
from service.analysis.scorecard import Evaluations
from service.settings import Settings
from service.store.mirror import Mirror
from service.store.registry import Registry
from service.store.shelf import Shelf
from service.store.vocabulary import PrefixIndex
from service.version import package_version
from service.web.state import KEY, AppState


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    # Imported here: prometheus-client picks its multiprocess mode when first imported,
    # after the server has set PROMETHEUS_MULTIPROC_DIR.
    from service.web import (admin, auth, compare, contract, experiments, health, heavy, inputs,
                             logs, metrics, page, params, problems, spaces)
    from service.web.fastjson import OrjsonProvider

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = OrjsonProvider(app)
    logs.register(app, settings.access_log)
    counters = metrics.register(app, package_version())
    keys = auth.register(app, settings)
    app.before_request(params.utf8_url)
    heavy.register(app, settings.heavy_limit, lambda route: counters.busy.labels(route).inc())
    evaluations = Evaluations()
    # Made here, in gunicorn's master before the fork: the workers share the shelf's folder,
    # and the prefix indexes (a worker sorting a space's keys would write to every key's
    # reference count, and so copy every page of them: tens of MiB).
    shelf = Shelf(prefix="wordspace-pairs-")
    comparisons, alignments = Comparisons(shelf=shelf), Alignments(shelf=shelf)
    prefixes = WeakKeyDictionary()

    def spaces_changed(spaces: dict, states: dict) -> None:
        counters.spaces_changed(spaces, states)
        evaluations.warm(list(spaces.values()))
        shelf.keep(s.folder for s in spaces.values())
        for space in spaces.values():
            if space not in prefixes:
                prefixes[space] = PrefixIndex(space.index_to_key)

    mirror = None
    if settings.remote:  # download what the cache lacks (in gunicorn's master: once per replica)
        mirror = Mirror(settings.catalog, settings.cache)
        mirror.sync()
    registry = Registry(settings.local_catalog, settings.spaces, on_change=spaces_changed,
                        observe_search=counters.search_observer,
                        full_checksums=settings.full_checksums, required=settings.required_spaces,
                        remote=mirror)
    app.extensions[KEY] = AppState(settings, registry.load(), evaluations, counters, keys,
                                   contract.render(settings), mirror=mirror,
                                   comparisons=comparisons, alignments=alignments,
                                   prefixes=prefixes,
                                   inputs=inputs.operations(tuple(settings.limits().items())))

    app.register_blueprint(health.bp)
    app.register_blueprint(spaces.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(experiments.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(admin.bp)
    problems.register(app)
    return app


def trust_proxy(app: Flask) -> None:
    """Behind `serve --proxy`'s nginx: the client's address and scheme come from the one
    proxy's X-Forwarded-For and X-Forwarded-Proto (werkzeug's ProxyFix, as Flask's
    deployment documentation advises), so the access log names the client, not nginx."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
