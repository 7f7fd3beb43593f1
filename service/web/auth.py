"""API keys and CORS.

With WORDSPACE_API_KEYS set, every /v1 route needs `Authorization: Bearer <key>`, compared
in constant time against every configured key. /healthz, /readyz, /metrics and
/openapi.yaml stay open so probes and scrapers keep working (/readyz shows its details, file
paths and reasons, only to a caller with a key). Admin routes need a key always and are off
(always 401) when no key is configured. With CORS origins configured, every answer carries
`Vary: Origin`.
"""
from __future__ import annotations

import hmac

from flask import Flask, request

from service.errors import Unauthorized
from service.web.state import state


def register(app: Flask, settings) -> list[bytes]:
    """Adds the checks to `app`; returns the keys (as bytes) for the app's state."""
    keys = [k.encode() for k in settings.api_keys]
    origins = set(settings.cors_origins)

    @app.before_request
    def _authenticate():
        path = request.path
        if path.startswith("/v1/admin"):
            if not keys:
                raise Unauthorized("admin routes need an API key and none is configured: "
                                   "set WORDSPACE_API_KEYS to turn them on")
            _require(keys)
        elif path.startswith("/v1/") and keys and request.method != "OPTIONS":
            _require(keys)

    if origins:
        @app.after_request
        def _cors(response):
            # Every answer may differ by Origin, so a shared cache must key on it, whether or
            # not this request's origin was allowed.
            response.vary.add("Origin")
            origin = request.headers.get("Origin")
            if origin and ("*" in origins or origin in origins):
                response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
                response.headers["Access-Control-Expose-Headers"] = "X-Request-ID"
                if request.method == "OPTIONS":
                    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Request-ID"
                    response.headers["Access-Control-Max-Age"] = "600"
            return response

    return keys


def has_key() -> bool:
    """Whether this request carries a valid API key (never true when none is configured)."""
    keys = state().keys
    if not keys:
        return False
    try:
        _require(keys)
    except Unauthorized:
        return False
    return True


def _require(keys: list[bytes]) -> None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("this route needs an API key: send 'Authorization: Bearer <key>'")
    token = given.strip().encode()
    # Compare with every key so the time taken does not tell which one (or how much) matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(token, key)
    if not matched:
        raise Unauthorized("the API key is not valid")
