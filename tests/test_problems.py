"""One table of HTTP problems (issue 27, item 6): service/errors.py's TITLES and problem
types are what the app answers, what nginx answers for what it refuses itself
(service/proxy.py), and what the Python client knows (its problems.py, written from the
server's table because the client does not import the server)."""
from __future__ import annotations

import ast
import json
from dataclasses import replace

from service import create_app, proxy
from service.errors import TITLES, client_module, problem_types
from tests.support import ROOT

CLIENT_TABLE = ROOT / "clients" / "python" / "wordspace_client" / "problems.py"


def test_the_clients_table_is_the_servers():
    assert CLIENT_TABLE.read_text(encoding="utf-8") == client_module(), (
        "clients/python/wordspace_client/problems.py is out of date: "
        "python -m service.errors > clients/python/wordspace_client/problems.py")
    imported = [n for node in ast.walk(ast.parse(CLIENT_TABLE.read_text()))
                if isinstance(node, (ast.Import, ast.ImportFrom)) for n in [getattr(node, "module", None)]]
    assert not imported  # plain data: the client never imports the server


def test_app_and_nginx_give_a_status_the_same_title(settings, tmp_path):
    """The same 413 is "Content Too Large" from the app (serve alone) and from nginx."""
    client = create_app(replace(settings, max_body_bytes=3000)).test_client()
    app_413 = client.post("/v1/spaces/toy/neighbors", json={"words": ["x" * 4000]}).get_json()
    proxy.write_config(settings, tmp_path)
    nginx = {code: json.loads((tmp_path / proxy.PROBLEMS / f"{code}.json").read_text())
             for code in proxy.REFUSALS}
    assert app_413["title"] == nginx[413]["title"] == TITLES[413] == "Content Too Large"
    for code, body in nginx.items():
        assert body["title"] == TITLES[body["status"]] and body["type"] == "about:blank", code
    for url, status in (("/v1/nowhere", 404), ("/healthz", 405)):
        r = client.post(url)
        assert r.status_code == status and r.get_json()["title"] == TITLES[status]


def test_every_problem_type_is_answered_as_the_table_says(client):
    answered = {
        "/problems/unknown-space": client.get("/v1/spaces/nope"),
        "/problems/unknown-word": client.get("/v1/spaces/toy/neighbors?word=zzzqqq"),
        "/problems/invalid-request": client.get("/v1/spaces/toy/neighbors?word=king&k=0"),
        "/problems/unsupported-media-type": client.post("/v1/spaces/toy/neighbors", data="{}",
                                                        content_type="text/plain"),
    }
    for uri, r in answered.items():
        status, title, _ = problem_types()[uri]
        assert (r.status_code, r.get_json()["type"], r.get_json()["title"]) == (status, uri, title)


def test_the_client_names_a_bare_status_by_the_table():
    """An answer with no problem body (a proxy's page) still gets its status's title."""
    from wordspace_client.errors import InvalidRequest, from_problem

    e = from_problem(413, None, "http://x/v1/spaces/a/neighbors", "<html>too large</html>")
    assert isinstance(e, InvalidRequest) and e.title == TITLES[413]
    assert str(e).startswith("413 Content Too Large: ")
