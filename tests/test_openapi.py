"""openapi.yaml and the app's routes must agree, both ways."""
from __future__ import annotations

import re


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes


def _spec_routes(spec) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def test_routes_and_spec_agree(app, spec):
    in_app, in_spec = _app_routes(app), _spec_routes(spec)
    assert in_app - in_spec == set(), "routes missing from openapi.yaml"
    assert in_spec - in_app == set(), "openapi.yaml documents routes the app lacks"


def test_spec_is_valid_openapi_31(spec):
    assert spec["openapi"].startswith("3.1")
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op.get("operationId"), f"{method} {path} has no operationId"
            assert op.get("responses"), f"{method} {path} has no responses"


def test_served_spec_is_the_file_with_the_servers_bounds(client, settings, spec):
    """The served spec is openapi.yaml, except that each bound marked x-limit holds the value
    this server enforces (the fixture's max_k=50, max_batch=8), not the file's default."""
    import copy

    import yaml

    from service.web.contract import bound, marked

    r = client.get("/openapi.yaml")
    assert r.status_code == 200 and r.mimetype == "application/yaml"
    served = yaml.safe_load(r.get_data(as_text=True))
    limits = settings.limits()
    assert [s[bound(s)] for s in marked(served)] == [limits[s["x-limit"]] for s in marked(spec)]
    assert served["components"]["schemas"]["K"]["maximum"] == 50
    expected = copy.deepcopy(spec)
    for schema in marked(expected):
        schema[bound(schema)] = limits[schema["x-limit"]]
    assert served == expected


def test_readme_documents_every_setting():
    from pathlib import Path

    from service.settings import env_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [name for name, _ in env_table() if f"`{name}`" not in readme]
    assert not missing, f"README lacks {missing}"
