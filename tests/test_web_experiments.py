"""/v1/experiments/learning-curve and its picture, on learning curves summarised here from
synthetic runs (service/builder/learning_curve.py's own summary, so the shapes are the build's)."""
from __future__ import annotations

import pytest

from service.store import experiments
from tests.support.curves import write_curves

URL = "/v1/experiments/learning-curve"


@pytest.fixture(autouse=True)
def curves(catalog_dir):
    write_curves(catalog_dir)


def test_every_task_or_one(get):
    body = get(URL, URL)
    assert [c["task"] for c in body["tasks"]] == ["clickbait", "sentiment"]
    [curve] = get(f"{URL}?task=clickbait", URL)["tasks"]
    rows = {(r["size"], r["init"]): r for r in curve["rows"]}
    w2v = rows[(50, "word2vec")]
    assert w2v["seeds"] == [0, 1, 2] and w2v["mean"] == pytest.approx(0.77)
    assert w2v["ci95"][0] < w2v["mean"] < w2v["ci95"][1]
    # Paired: the same gain on every seed gives a zero-width interval for the difference.
    assert w2v["difference_to_scratch"]["mean"] == pytest.approx(0.05)
    assert w2v["difference_to_scratch"]["ci95"] == pytest.approx([0.05, 0.05])
    assert rows[(50, "scratch")]["difference_to_scratch"] is None
    assert w2v["unseen"]["most"]["texts"] == 30


def test_unknown_task_and_no_curve(get, catalog_dir):
    body = get(f"{URL}?task=nope", URL, 404)
    assert body["tasks"] == ["clickbait", "sentiment"] and "nope" in body["detail"]
    assert get(f"{URL}?task=%20", URL, 400)["parameter"] == "task"
    for name in experiments.experiments(catalog_dir):
        (catalog_dir / experiments.EXPERIMENTS / f"{name}.json").unlink()
    assert "learning curve" in get(URL, URL, 404)["detail"]
    assert "learning curve" in get("/v1/compare/plot/learning-curve",
                                   "/v1/compare/plot/learning-curve", 404)["detail"]


def test_plot_one_panel_per_task(get):
    plot = "/v1/compare/plot/learning-curve"
    assert get(f"{plot}?format=png", plot).startswith(b"\x89PNG")
    both = get(plot, plot)
    assert b"clickbait" in both and b"sentiment" in both and b"95% interval" in both
    one = get(f"{plot}?task=sentiment", plot)
    assert b"sentiment" in one and b"clickbait:" not in one
