"""`make screenshot`: the page and the figures of README.md and docs/results.md, from the catalog.

Serves the catalog with `wordspace serve` on a free loopback port, drives Debian's chromium
(Playwright; its own browser downloads are never used) to screenshot the page at 1280 px
(after the polarity preset) and at 390 px, reads the verdict, the seed's figure and the
examples from the API, and rewrites README.md and docs/results.md between their
`<!-- figures:NAME -->` and `<!-- /figures:NAME -->` markers. Every number comes from the API: scores in the tables are
rounded to 3 digits, the curl answers are quoted as returned.

    .venv/bin/python docs/figures.py [--catalog indexes] [--build-seconds S] [--no-readme]
        [--shots NAME] [--blocks verdict,seed,...] [--port P]

`--shots NAME` names the screenshots docs/NAME.png and docs/NAME-390.png (default `page`);
`--blocks` rewrites only the named figure blocks.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/server.py starts the server
    sys.path.insert(0, str(ROOT))

from bench.server import serve  # noqa: E402

DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HEADLINES = ["Here are 21 healthy fall soups to stock your freezer",
             "Himalaya might miss 50% of its ice in eighty years",
             "Alps may lose 70% of snow by end of the century"]
PAIRS = "good:bad,good:great,alps:himalaya"


class Service:
    """`wordspace serve` on a free port (bench/server.py starts it, as for the tests),
    ready once /readyz answers 200; stopped on exit."""

    def __init__(self, catalog: Path, port: int | None = None):
        self._serving = serve(catalog, ready="/readyz", ready_timeout=120, cwd=ROOT,
                              access_log="false", port=port)

    def __enter__(self):
        self.base = self._serving.__enter__().base
        return self

    def __exit__(self, *exc):
        return self._serving.__exit__(*exc)

    def raw(self, path: str, body: dict | None = None) -> str:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.read().decode()

    def get(self, path: str, body: dict | None = None):
        return json.loads(self.raw(path, body))


def shoot(base: str, name: str = "page") -> str:
    """docs/NAME.png and docs/NAME-390.png; returns the verdict sentence as the page printed it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        page.wait_for_selector("#verdict-table:not([hidden])", timeout=120_000)
        printed = page.locator("#verdict-sentence").inner_text()
        page.click("[data-preset=polarity]")
        page.wait_for_selector("#preset-status:has-text('answers below')", timeout=120_000)
        page.evaluate("window.scrollTo(0, 0)")
        bottom = page.locator("#pairs-section").bounding_box()
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": 1280, "height": bottom["y"] + bottom["height"]})
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.goto(base + "/")
        phone.wait_for_selector("#verdict-table:not([hidden])", timeout=120_000)
        end = phone.locator("#presets-section").bounding_box()
        phone.screenshot(path=str(DOCS / f"{name}-390.png"), full_page=True,
                         clip={"x": 0, "y": 0, "width": 390, "height": end["y"] + end["height"]})
        browser.close()
    return printed


def n3(x) -> str:
    return "–" if x is None else f"{x:.3f}".replace("-0.000", "0.000")


MARKS = {"by the task": " ✓", "undetermined": " ?"}  # a probe's status in the README's table


def verdict_section(v: dict, printed: str) -> str:
    tasks = list(v["task"])
    rows = ["| space | kind | places words | WordSim353 ρ [95%] (pairs) | meaning | SimLex-999 ρ | "
            + " | ".join(f"{t} probe [95%]" for t in tasks) + " |", "|---" * (6 + len(tasks)) + "|"]
    for s in v["spaces"]:
        ws = s["wordsim353"]
        probes = {p["task"]: p for p in s["probes"]}
        cells = [(f"{n3(p['accuracy']['value'])} [{n3(p['accuracy']['low'])}, "
                  f"{n3(p['accuracy']['high'])}]" + MARKS.get(p.get("status"), "")) if p else "–"
                 for p in (probes.get(t) for t in tasks)]
        beaten = (f"; {s['beaten_by']['by']} beats it by {n3(s['beaten_by']['difference']['value'])}"
                  if s["beaten_by"] else "")
        rows.append(f"| `{s['space']}` | {s['kind']} | {s['places']} | {n3(ws['value'])} "
                    f"[{n3(ws['low'])}, {n3(ws['high'])}] ({ws['n']}) | {s['meaning']}{beaten} | "
                    f"{n3(s['simlex999']['value'])} | " + " | ".join(cells) + " |")
    baselines = {p["task"]: p["baseline"] for s in v["spaces"] for p in s["probes"]}
    references = {p["task"]: p["reference"] for s in v["spaces"] for p in s["probes"] if p.get("reference")}
    rule = v["rule"]
    return "\n".join([
        f"> {printed}", "",
        "That sentence is written by `GET /v1/compare/verdict` from these numbers (the page "
        "prints it first, with a chart per task and the table below):", "", *rows, "",
        "Meaning: Spearman ρ with human judgements over the WordSim353 pairs each space covers "
        f"itself (n in brackets); a space places words by meaning when its 95% interval's lower "
        f"end is at least {rule['bar']:.2f}, not when its upper end is below {rule['bar']:.2f}, "
        f"undetermined between, and is not judged on fewer than {rule['min_pairs']} pairs. It "
        "leads on meaning unless another space by meaning beats it on the pairs both cover (the "
        "95% interval of the difference, Zou 2007, above zero; the challenger covering at least "
        f"{rule['cover']:.0%} of its pairs). Task: held-out accuracy of a linear probe on every "
        "task's texts, for every space, with one pooling (the mean of the space's rows of the "
        "text's tokens); ✓ by the task: its 95% interval's lower end clears the task's bar, the "
        "lower end of the 95% interval of the same probe on a bag of words of the task's texts ("
        + "; ".join(f"{t} {n3(r['low'])}, of {n3(r['accuracy'])} [{n3(r['low'])}, {n3(r['high'])}]"
                    for t, r in references.items())
        + "), and the majority class (" + ", ".join(f"{t} {n3(b)}" for t, b in baselines.items())
        + "); ? undetermined: its interval straddles the bar. Why the bars are what they are, "
        "and what adding a space does: [docs/verdict.md](docs/verdict.md). "
        "Scores here and on the page are rounded to 3 digits, in the sentence to 2; the API "
        "returns them unrounded."])


def seed_spaces(spaces: list[dict]) -> list[str]:
    """As the page's preset: clickbait task spaces (else every task space), then the word2vec
    spaces (else every space not trained on a task)."""
    task = [s for s in spaces if s["kind"] == "task"]
    clickbait = [s for s in task if "clickbait" in str(s["details"].get("dataset", "")).lower()]
    meaning = [s for s in spaces if s["kind"] == "word2vec"] or [s for s in spaces if s["kind"] != "task"]
    return [s["name"] for s in (clickbait or task) + meaning][:8]


def seed_section(svc: Service, spaces: list[dict]) -> str:
    names = seed_spaces(spaces)
    body = svc.get("/v1/compare/sentences", {"sentences": HEADLINES, "spaces": names})
    rows = ["| space | a ~ b | a ~ c | b ~ c |", "|---|---|---|---|"]
    for s in body["spaces"]:
        m = s["similarity"]
        rows.append(f"| `{s['space']}` | {n3(m[0][1])} | {n3(m[0][2])} | {n3(m[1][2])} |")
    return "\n".join(["Cosine similarity of the sentence vectors (`POST /v1/compare/sentences`; the "
                      "page's first preset) of a) “" + HEADLINES[0] + "”, b) “" + HEADLINES[1]
                      + "”, c) “" + HEADLINES[2] + "”:", "", *rows])


def pairs_section(svc: Service) -> str:
    body = svc.get(f"/v1/compare/similarity?pairs={PAIRS}")
    head = "| pair | " + " | ".join(f"`{s}`" for s in body["spaces"]) + " |"
    rows = [head, "|---" * (len(body["spaces"]) + 1) + "|"]
    for r in body["results"]:
        rows.append(f"| {r['a']} : {r['b']} | " + " | ".join(n3(r["scores"][s]) for s in body["spaces"]) + " |")
    return "\n".join(rows)


def build_section(catalog: Path, given: float | None) -> str:
    path = catalog / ".experiments" / "last-build.json"
    record = json.loads(path.read_text()) if path.is_file() else None
    seconds = record["seconds"] if record else given
    if seconds is None:
        return "Build time: not recorded for this catalog (`wordspace build` records it)."
    parts = ", ".join(f"{r['space']} {r['seconds']:.0f} s" for r in record["spaces"]) if record else ""
    return (f"Building the six default spaces from a fresh clone took {seconds:.0f} s "
            f"({seconds / 60:.1f} min) on this 2-core machine, shared with other jobs"
            + (f": {parts}" if parts else "")
            + "; the install and the build's learning curve come on top (see "
            "[How long the default build takes](build.md#how-long-the-default-build-takes)).")


def curl_section(svc: Service, spaces: list[dict]) -> str:
    def compact(text: str, width: int = 100) -> str:
        out, line = [], ""
        for token in re.split(r"(?<=[,\[{])", text):
            if len(line) + len(token) > width:
                out.append(line)
                line = "  "
            line += token
        return "\n".join(out + [line])

    neighbors = "/v1/compare/neighbors?word=alps&k=3"
    n = svc.get(neighbors)
    first = {**n, "spaces": n["spaces"][:1], "pairs": n["pairs"][:1]}
    sentences = {"sentences": HEADLINES[1:]}
    s = svc.get("/v1/compare/sentences", sentences)
    s_short = {"sentences": s["sentences"], "spaces": [
        {"space": x["space"], "similarity": x["similarity"], "missing": x["missing"]} for x in s["spaces"]]}
    similarity = f"/v1/compare/similarity?pairs={PAIRS}"
    return "\n".join([
        "```bash", f"$ curl 'localhost:8000{neighbors}'   # first space and pair shown",
        compact(json.dumps(first, separators=(",", ":"), ensure_ascii=False)),
        "", f"$ curl localhost:8000/v1/compare/sentences -H 'Content-Type: application/json' \\",
        f"    -d '{json.dumps(sentences)}'   # vectors left out",
        compact(json.dumps(s_short, separators=(",", ":"), ensure_ascii=False)),
        "", f"$ curl 'localhost:8000{similarity}'",
        compact(svc.raw(similarity).strip()), "```"])


def first_screen(svc: Service, spaces: list[dict]) -> str:
    """The comparison the service exists for, as the README's first screen shows it: alps's
    neighbours in every space (the words, through jq) and one pair's similarity in every
    space (the answer as returned)."""
    neighbors = "/v1/compare/neighbors?word=alps&k=3"
    words = "'.spaces[] | [.space, [.neighbors[].word]]'"
    lines = [json.dumps([s["space"], [n["word"] for n in s["neighbors"]]], separators=(",", ":"),
                        ensure_ascii=False) for s in svc.get(neighbors)["spaces"]]  # as jq -c prints
    similarity = "/v1/compare/similarity?pairs=alps:himalaya"
    answer = re.sub(r',("results":\[|"missing":)', r",\n  \1", svc.raw(similarity).strip())
    return "\n".join(["```bash", f"$ curl -s 'localhost:8000{neighbors}' | jq -c {words}", *lines, "",
                      f"$ curl 'localhost:8000{similarity}'", answer, "```"])


# The pages whose `<!-- figures:NAME -->` blocks this script fills.
FIGURE_PAGES = (ROOT / "README.md", ROOT / "docs" / "results.md")


def page_with(pages: dict, name: str) -> Path:
    for path, text in pages.items():
        if f"<!-- figures:{name} -->" in text:
            return path
    raise SystemExit(f"no <!-- figures:{name} --> ... <!-- /figures:{name} --> block in "
                     + ", ".join(p.name for p in pages))


def replace(page: str, name: str, content: str) -> str:
    pattern = re.compile(rf"(<!-- figures:{name} -->\n)(?:.*?\n)?(<!-- /figures:{name} -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2), page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=Path(os.environ.get("WORDSPACE_CATALOG", "indexes")))
    parser.add_argument("--build-seconds", type=float,
                        help="the build's duration, when the catalog did not record it")
    parser.add_argument("--no-readme", action="store_true", help="only the screenshots")
    parser.add_argument("--shots", default="page", help="the screenshots' name: docs/NAME.png, docs/NAME-390.png")
    parser.add_argument("--blocks", help="rewrite only these figure blocks (comma-separated)")
    parser.add_argument("--port", type=int, help="serve on this port (default: a free one)")
    args = parser.parse_args()
    with Service(args.catalog.resolve(), args.port) as svc:
        spaces = svc.get("/v1/spaces")["spaces"]
        printed = shoot(svc.base, args.shots)
        print(f"docs/{args.shots}.png, docs/{args.shots}-390.png\nverdict as the page printed it:\n  {printed}")
        if args.no_readme:
            return
        pages = {path: path.read_text(encoding="utf-8") for path in FIGURE_PAGES}
        blocks = {"first-screen": lambda: first_screen(svc, spaces),
                  "verdict": lambda: verdict_section(svc.get("/v1/compare/verdict"), printed),
                  "seed": lambda: seed_section(svc, spaces), "pairs": lambda: pairs_section(svc),
                  "build": lambda: build_section(args.catalog, args.build_seconds),
                  "curl": lambda: curl_section(svc, spaces)}
        chosen = args.blocks.split(",") if args.blocks else list(blocks)
        for name in chosen:
            content = blocks[name]()
            path = page_with(pages, name)
            pages[path] = replace(pages[path], name, content)
        for path, text in pages.items():
            path.write_text(text, encoding="utf-8")
        print(", ".join(str(p.relative_to(ROOT)) for p in pages) + ": figures rewritten")


if __name__ == "__main__":
    main()
