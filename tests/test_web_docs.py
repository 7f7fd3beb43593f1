"""GET /docs: openapi.yaml rendered by the vendored Swagger UI, in Debian's chromium driven by
Playwright; nothing is fetched from outside the server."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import ARGS, CHROMIUM

STATIC = Path(__file__).resolve().parents[1] / "service" / "web" / "static"


def test_docs_is_served_from_the_package(client, check_spec):
    r = client.get("/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    check_spec("/docs", "GET", 200, None, r.content_type)
    html = r.get_data(as_text=True)
    assert "http" not in html  # scripts and styles come from /static, not a CDN
    for path in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
                 "/static/docs.js"):
        assert path in html
        assert client.get(path).status_code == 200
    assert (STATIC / "swagger-ui" / "LICENSE").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="no chromium: `make test-deps` installs it")
def test_docs_render_every_operation_in_chromium(base_url, spec, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    operations = sum(1 for item in spec["paths"].values() for m in item if m in ("get", "post"))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(base_url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "wordspace" in page.locator(".swagger-ui .info .title").inner_text()
        page.wait_for_selector(".opblock-summary-path")
        shown = page.locator(".opblock").count()
        assert shown == operations
        # open one operation and run it from the page
        block = page.locator(".opblock:has([data-path='/v1/spaces'])").first
        block.locator(".opblock-summary").click()
        block.locator(".execute").click()  # "Try it out" is on from the start
        status = block.locator(".live-responses-table tr.response .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip().startswith("200")
        assert '"limits"' in block.locator(".live-responses-table .microlight").first.inner_text()
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        browser.close()
    assert errors == []
    assert all(url.startswith(base_url) for url in requests), "the docs fetched from outside"
