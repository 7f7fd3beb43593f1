"""GET / in a real headless browser: Debian's chromium driven by Playwright (its own browser
downloads are never used), against the app served by werkzeug on a free loopback port, over
the catalog of tests/support/scored.py (a meaning space, a task space, one that does both; each with
the scorecard a build stores)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.support.browser import ARGS, CHROMIUM, KEY, serving
from tests.support.scored import write_scored_catalog

SPACES = ["blend", "meaning", "task"]  # as /v1/spaces lists them

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                 reason="no chromium: `make test-deps` installs it")]


@pytest.fixture(scope="module")
def scored_catalog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scored")
    return write_scored_catalog(tmp / "indexes", tmp)


@pytest.fixture
def catalog_dir(scored_catalog):
    return scored_catalog


def test_page_is_served(client, check_spec):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    check_spec("/", "GET", 200, None, r.content_type)
    text = r.get_data(as_text=True)
    assert "/static/app.js" in text and "http" not in text.replace("http-equiv", "")
    for name in ("app.js", "api.js", "compare.js", "draw.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


@pytest.fixture(params=[1280, 390], ids=["desktop", "phone"])
def width(request):
    return request.param


@contextlib.contextmanager
def browsing(base_url: str, width: int):
    """Debian's chromium at `width` px showing the page; after the test, no page error, no
    console error and no request outside the service."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": 900})
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


@pytest.fixture
def page(base_url, request):
    width = request.getfixturevalue("width") if "width" in request.fixturenames else 1280
    with browsing(base_url, width) as page:
        yield page


def api(page, path: str):
    return page.request.get(urljoin(page.url, path))


def has(page, space: str, word: str) -> bool:
    return api(page, f"/v1/spaces/{space}/vectors/{word}").ok


def check_word_panels(page, word: str):
    """Every space that has the word shows its neighbours and a picture; the others say so."""
    for space in SPACES:
        panel = page.locator(f"#panels .panel[data-space='{space}']")
        plot = page.locator(f"#word-plot .panel[data-space='{space}']")
        if has(page, space, word):
            assert panel.locator("li").count() == 10, space
            assert plot.locator("svg circle").count() == 11, space  # the word and 10 neighbours
        else:
            assert "has no" in panel.inner_text() and "has no" in plot.inner_text()
    order = page.locator("#panels .panel").evaluate_all("ps => ps.map(p => p.dataset.space)")
    assert order == SPACES == page.locator("#word-plot .panel").evaluate_all(
        "ps => ps.map(p => p.dataset.space)")


def check_fits(page, width: int):
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width < 600:  # panels stacked, each the full width
        for box in (page.locator("#list-plot .panel").nth(i).bounding_box() for i in range(3)):
            assert box["width"] > width - 60


def test_verdict_on_load_and_every_preset(page, width):
    sentence = page.locator("#verdict-sentence")
    sentence.wait_for()
    page.wait_for_selector("#verdict-table:not([hidden])")
    derived = api(page, "/v1/compare/verdict").json()["sentence"]
    assert sentence.inner_text() == derived  # the page prints what the API derives
    assert "meaning places words by meaning" in derived and "blend does both" in derived
    assert sentence.bounding_box()["y"] < 900 and sentence.is_visible()  # no click, no scroll
    assert page.locator("#verdict-chart .chart-box").count() == 2  # one chart per task
    assert page.locator("#verdict-chart svg circle").count() == 6  # every space on each
    rows = page.locator("#verdict-table tbody tr")
    assert rows.count() == 3 and "both" in rows.nth(0).inner_text()
    assert page.locator("#verdict-table .tag").count() == 0  # every space built in

    page.click("[data-preset=polarity]")
    page.wait_for_selector("#preset-status:has-text('answers below')")
    check_word_panels(page, "good")
    for space in SPACES:  # the five polarity words, in every space
        assert page.locator(f"#list-plot .panel[data-space='{space}'] svg circle").count() == 5
    pairs = page.locator("#pairs-table tbody tr")
    assert pairs.count() == 5 and pairs.first.inner_text().startswith("good : bad")
    check_fits(page, width)

    page.click("[data-preset=mountains]")
    page.wait_for_selector("#preset-status:has-text('Mountains'):has-text('answers below')")
    check_word_panels(page, "himalaya")
    task_plot = page.locator("#list-plot .panel[data-space='task'] svg circle")
    assert task_plot.count() == 2  # the task space has alps and pyrenees, not himalaya or andes
    absent = page.locator("#plot-absent").inner_text()
    assert absent.count("andes") == 1 and absent.count("himalaya") == 1 and "(not in task)" in absent
    check_fits(page, width)

    page.click("[data-preset=seed]")
    page.wait_for_selector("#preset-status:has-text('seed'):has-text('answers below')")
    panels = page.locator("#heatmaps .panel")
    shown = panels.evaluate_all("ps => ps.map(p => p.dataset.space)")
    assert shown == ["blend", "task", "meaning"]  # task spaces first, then the word2vec kind
    labels = page.locator("#heatmaps .panel[data-space='meaning'] th.sentence").all_inner_texts()
    assert labels[1] == "2. Himalaya might miss 50% of its ice in eighty years"
    assert "-0.00" not in page.locator("#heatmaps").inner_text()
    check_fits(page, width)


def ask_king_then_a_misspelling(page):
    """Ask for "king", wait for its neighbours, then ask for "himalayass" until it is refused."""
    page.fill("#word", "king")
    page.click("#word-form button")
    page.locator("#panels .panel[data-space='task'] li").first.wait_for()
    page.fill("#word", "himalayass")
    page.click("#word-form button")
    page.wait_for_selector("#word-status.error")


def test_unknown_word_suggests_and_clears(page):
    ask_king_then_a_misspelling(page)
    assert "none of the spaces" in page.locator("#word-status").inner_text()
    assert page.locator("#panels .panel").count() == 0  # the previous answer is gone
    assert page.locator("#overlap").is_hidden() and page.locator("#word-plot .panel").count() == 0
    suggestion = page.locator("#suggestions button", has_text="himalaya")
    suggestion.click()
    page.locator("#panels .panel[data-space='meaning'] li").first.wait_for()
    assert page.locator("#word").input_value() == "himalaya"
    assert "task" in page.locator("#word-status").inner_text()  # "Not in task."


def test_a_late_answer_never_lands_on_a_newer_question(page):
    # The projection for "king" is held back until "himalayass" was asked and refused: its
    # late answer must not draw king's plot under the newer question. The page marks when
    # the late answer has been handled: a task queued once its body is read runs after the
    # page's own code for that body.
    page.evaluate("""() => {
      const fetchNow = window.fetch;
      window.lateAnswerHandled = false;
      window.fetch = (url, options) => {
        if (!String(url).includes("projection?word=king")) return fetchNow(url, options);
        return new Promise((resolve) => { window.releaseLateAnswer = resolve; })
          .then(() => fetchNow(url, options))
          .then((response) => {
            const read = response.json.bind(response);
            response.json = () => read().then((body) => {
              setTimeout(() => { window.lateAnswerHandled = true; });
              return body;
            });
            return response;
          });
      };
    }""")
    ask_king_then_a_misspelling(page)
    page.wait_for_function("() => window.releaseLateAnswer !== undefined")
    with page.expect_response(lambda r: "projection?word=king" in r.url):
        page.evaluate("() => window.releaseLateAnswer()")
    page.wait_for_function("() => window.lateAnswerHandled")
    assert page.locator("#word-plot .panel").count() == 0
    assert page.locator("#word-plot-title").is_hidden()
    assert "none of the spaces" in page.locator("#word-status").inner_text()


def test_analogy_and_sentences(page):
    page.click("#analogy-form button")
    page.wait_for_selector("#analogies .panel[data-space='task']")
    for space in SPACES:
        panel = page.locator(f"#analogies .panel[data-space='{space}']")
        assert panel.locator("li").first.inner_text().startswith("queen")
        assert "“queen” ranks #1" in panel.inner_text()

    page.fill("#sentences", "The king and the queen.\nA man, a woman.\nalps pyrenees himalaya")
    page.click("#sentence-form button")
    page.wait_for_selector("#heatmaps .panel[data-space='task'] table.heatmap")
    assert page.locator("#heatmaps table.heatmap").count() == 3
    assert page.locator("#heatmaps th.sentence").first.get_attribute("title") == "The king and the queen."
    text = page.locator("#heatmaps").inner_text()
    assert "-0.00" not in text and text.count("this matrix's own range") == 3

    page.click("#scorecard-button")
    page.wait_for_selector("#scorecard:not([hidden]) tbody tr", timeout=60_000)
    assert "WordSim353" in page.locator("#scorecard").inner_text()
    assert "No learning curve" in page.locator("#curve").inner_text()  # degrades, no error


@pytest.mark.with_api_key
def test_page_asks_for_the_api_key_once(page):
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.wait_for_selector("#spaces:has-text('blend')")
    page.wait_for_selector("#verdict-table:not([hidden])")
    page.fill("#word", "alps")
    page.click("#word-form button")
    page.locator("#panels .panel[data-space='task'] li").first.wait_for()
    page.locator("#word-plot .panel[data-space='task'] svg").wait_for()
    page.click("#scorecard-button")
    page.wait_for_function("document.querySelector('#scorecard-plots img')?.src.startsWith('blob:')")
    assert len(dialogs) == 1 and "API key" in dialogs[0]


# --- a catalog of 16 spaces (tests/support/many.py): the six defaults plus a user's ten, say ---

@pytest.fixture(scope="module", params=[10, 16], ids=["10-spaces", "16-spaces"])
def crowd_url(request, tmp_path_factory):
    from service import create_app
    from service.settings import Settings
    from tests.support.many import write_many_catalog

    tmp = tmp_path_factory.mktemp(f"crowd{request.param}")
    cat = write_many_catalog(tmp / "indexes", tmp, extra=request.param - 3)
    with serving(create_app(Settings(catalog=cat))) as url:
        yield url


OVERLAPS = """svg => {
  const boxes = [...svg.querySelectorAll("text.label, text.line-label")].map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom};
  });
  const dots = [...svg.querySelectorAll("circle")].map(c => {
    const r = c.getBoundingClientRect();
    return {text: c.parentNode.querySelector("title").textContent.split(":")[0], l: r.left, r: r.right, t: r.top, b: r.bottom};
  });
  const hit = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > 1 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 2;
  const out = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => hit(a, b) && out.push([a.text, b.text])));
  boxes.forEach(a => dots.forEach(d => d.text !== a.text && hit(a, d) && out.push([a.text, "dot " + d.text])));
  return out;
}"""


def test_the_user_s_spaces_are_marked_and_the_charts_read_clearly(crowd_url, width):
    """With 10 and with 16 spaces: the user's spaces are marked in the table and hollow in
    the charts; in each task's chart no label overlaps another label or another space's dot,
    and the majority-class line is named."""
    with browsing(crowd_url, width) as page:
        page.set_default_timeout(90_000)
        page.wait_for_selector("#verdict-table:not([hidden])")
        verdict = api(page, "/v1/compare/verdict").json()
        listed = api(page, "/v1/spaces").json()["spaces"]
        mine = {s["name"] for s in listed if s["details"].get("built_in") is False}
        assert mine and len(mine) == len(listed) - 3  # the three of scored.py are built in
        for s in listed:
            row = page.locator(f"#verdict-table tbody tr[data-space='{s['name']}']")
            assert (row.locator(".tag").count() == 1) == (s["name"] in mine), s["name"]
        assert f"({len(mine)} yours)" in page.locator("#spaces").inner_text()
        charts = page.locator("#verdict-chart .chart-box")
        assert charts.count() == len(verdict["task"]) == 2
        drawn_mine = [s["space"] for s in verdict["spaces"] if s["space"] in mine and s["probes"]]
        for i in range(2):
            chart = charts.nth(i).locator("svg")
            assert chart.locator("text.line-label").count() == 1
            assert chart.locator("text.line-label").text_content().startswith("majority ")
            assert chart.evaluate(OVERLAPS) == [], charts.nth(i).get_attribute("data-task")
            assert chart.locator("circle.mine").count() == len(drawn_mine)
            labelled = chart.locator("text.label").count()
            assert labelled >= min(8, chart.locator("circle").count()) or width < 600
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture(scope="module")
def many_url(tmp_path_factory):
    from service import create_app
    from service.settings import Settings
    from tests.support.many import write_many_catalog

    tmp = tmp_path_factory.mktemp("many")
    app = create_app(Settings(catalog=write_many_catalog(tmp / "indexes", tmp)))
    with serving(app) as url:
        yield url


def test_sixteen_spaces_verdict_first_and_every_section_works(many_url, width, tmp_path):
    from tests.support.many import NAMES, NO_TASK_DATA

    with browsing(many_url, width) as page:
        page.set_default_timeout(90_000)  # a busy machine: 8 spaces' projections at once
        sentence = page.locator("#verdict-sentence")
        sentence.wait_for()
        page.wait_for_selector("#verdict-table:not([hidden])")
        verdict = api(page, "/v1/compare/verdict").json()
        assert [s["space"] for s in verdict["spaces"]] == NAMES  # every space, none refused
        assert sentence.inner_text() == verdict["sentence"]
        assert sentence.is_visible() and sentence.bounding_box()["y"] + 40 < 900  # first, no scroll
        assert "16 spaces" in page.locator("#spaces").inner_text()
        rows = page.locator("#verdict-table tbody tr")
        assert rows.count() == 16
        for name in NO_TASK_DATA:  # task spaces without labelled texts: no task data, not "neither"
            row = page.locator(f"#verdict-table tbody tr[data-space='{name}']").inner_text()
            assert "no task data" in row and "neither" not in row
        drawn = [s for s in verdict["spaces"]
                 if s["probes"] and s["meaning"] != "not enough pairs"]
        assert len(drawn) == 14 and len(verdict["task"]) == 2  # every space on each task
        assert page.locator("#verdict-chart svg circle").count() == 2 * len(drawn)
        assert "without task data" in page.locator("#verdict-chart").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        page.click("[data-preset=polarity]")
        page.wait_for_selector("#preset-status:has-text('Polarity'):has-text('answers below')")
        compared = api(page, "/v1/compare/neighbors?word=good").json()
        chosen = [s["space"] for s in compared["spaces"]]
        assert len(chosen) == 8 and len(compared["omitted"]) == 8
        shown = page.locator("#panels .panel").evaluate_all("ps => ps.map(p => p.dataset.space)")
        assert shown == chosen == page.locator("#word-plot .panel").evaluate_all(
            "ps => ps.map(p => p.dataset.space)")
        assert "left out" in page.locator("#word-status").inner_text()
        assert page.locator("#list-plot .panel").count() == 8
        assert "left out" in page.locator("#plot-status").inner_text()
        header = page.locator("#pairs-table thead th").all_inner_texts()
        assert header == ["pair", *NAMES]  # word pairs: every space, one column each
        check_fits(page, width)

        page.click("[data-preset=seed]")
        page.wait_for_selector("#preset-status:has-text('seed'):has-text('answers below')")
        assert 0 < page.locator("#heatmaps .panel").count() <= 8
        check_fits(page, width)

        page.click("#analogy-form button")
        page.wait_for_selector("#analogy-status:has-text('left out')")
        assert page.locator("#analogies .panel").count() == 8

        page.click("#scorecard-button")
        page.wait_for_selector("#scorecard:not([hidden]) tbody tr", timeout=60_000)
        assert page.locator("#scorecard thead th").count() == 17
        page.wait_for_function(
            "document.querySelector('#scorecard-plots img')?.complete && "
            "document.querySelector('#scorecard-plots img').naturalWidth > 0")
        page.wait_for_selector("#scorecard-plots .note:has-text('left out')")
        check_fits(page, width)
        page.evaluate("window.scrollTo(0, 0)")
        shot = Path(os.environ.get("WORDSPACE_TEST_SCREENSHOTS", tmp_path)) / f"page-16-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
