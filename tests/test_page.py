"""GET / in a real headless browser: Debian's chromium driven by Playwright (its own browser
downloads are never used), against the app served by werkzeug on a free loopback port."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                 reason="no chromium: `make test-deps` installs it")]


def test_page_is_served(client, check_spec):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    check_spec("/", "GET", 200, None, r.content_type)
    text = r.get_data(as_text=True)
    assert "/static/app.js" in text and "http" not in text.replace("http-equiv", "")
    assert client.get("/static/app.js").status_code == 200


KEY = "page-key"


@pytest.fixture
def base_url(request, app, settings):
    if request.node.get_closest_marker("with_api_key"):
        import dataclasses

        from service import create_app

        app = create_app(dataclasses.replace(settings, api_keys=(KEY,)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(base_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # a 404 the page expects (unknown word, no learning curve) is logged as a failed load
        page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                and "Failed to load resource" not in m.text else None)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda dialog: dialog.accept(KEY))  # the API key prompt
        page.goto(base_url + "/")
        yield page
        assert errors == []
        # blob: URLs are the plots the page fetched itself (with the API key, when one is set)
        assert all(url.removeprefix("blob:").startswith(base_url) for url in requests), \
            "the page fetched from outside"
        browser.close()


def test_word_sentences_and_scorecard_in_the_browser(page, tmp_path):
    page.wait_for_selector("#spaces:has-text('toy-hnsw')")
    page.fill("#word", "king")
    page.fill("#k", "5")
    page.click("#word-form button")
    for name in ("toy", "toy-hnsw"):
        items = page.locator(f"#panels .panel[data-space='{name}'] li")
        items.first.wait_for()
        assert items.count() == 5
        assert items.first.inner_text().startswith("queen")
    assert "1.00" in page.locator("#overlap tbody").inner_text()  # identical lists: Jaccard 1
    page.wait_for_selector("#word-plot img")

    page.fill("#sentences", "The king and the queen.\nA man, a woman.\nalps pyrenees himalaya")
    page.click("#sentence-form button")
    page.wait_for_selector("#heatmaps .panel[data-space='toy-hnsw'] table.heatmap")
    assert page.locator("#heatmaps table.heatmap").count() == 2
    assert "0.63" in page.locator("#heatmaps .panel[data-space='toy'] table").inner_text()

    page.click("#scorecard-button")
    page.wait_for_selector("#scorecard:not([hidden]) tbody tr", timeout=60_000)
    assert "WordSim353" in page.locator("#scorecard").inner_text()
    page.wait_for_function("document.querySelector('#scorecard-plots img').complete")

    shot = tmp_path / "compare.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_unknown_word_shows_the_problem(page):
    page.fill("#word", "zzzqqqx")
    page.click("#word-form button")
    page.wait_for_selector("#word-status.error")
    assert "none of the spaces" in page.locator("#word-status").inner_text()


@pytest.mark.with_api_key
def test_page_asks_for_the_api_key_once(page):
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.wait_for_selector("#spaces:has-text('toy-hnsw')")
    page.fill("#word", "alps")
    page.click("#word-form button")
    page.locator("#panels .panel[data-space='toy'] li").first.wait_for()
    page.wait_for_function("document.querySelector('#word-plot img')?.src.startsWith('blob:')")
    assert len(dialogs) == 1 and "API key" in dialogs[0]
