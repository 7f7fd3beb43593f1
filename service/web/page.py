"""GET /: the comparison page, plain HTML, CSS and JavaScript from service/web/static (no build
step, nothing fetched from the internet). It calls the /v1/compare API from the browser.
GET /docs: openapi.yaml rendered by Swagger UI, vendored in static/swagger-ui."""
from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("page", __name__)


@bp.get("/")
def index():
    response = current_app.send_static_file("index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs")
def docs():
    """The OpenAPI document rendered by Swagger UI (vendored in static/swagger-ui)."""
    response = current_app.send_static_file("docs.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
