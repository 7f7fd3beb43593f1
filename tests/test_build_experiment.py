"""The learning curve: paired runs over a small grid, 95% intervals, the paired difference
to scratch, the unseen-word slices, and the run cache (a later grid reuses earlier runs)."""
from __future__ import annotations

import numpy as np
import pytest

from service.builder.intervals import mean_interval, paired_difference
from service.builder.task_data import split
from tests.support.keras_models import needs_keras

pytestmark = needs_keras


def test_mean_interval_and_paired_difference():
    m = mean_interval([0.8, 0.9])
    assert m["mean"] == 0.85 and m["n"] == 2
    half = 12.7062 * np.std([0.8, 0.9], ddof=1) / np.sqrt(2)  # t(0.975, 1)
    assert m["ci95"] == pytest.approx([0.85 - half, 0.85 + half], abs=1e-4)
    assert mean_interval([0.7])["ci95"] == [0.7, 0.7]
    # Both arms move together across seeds: the paired interval is tight although each
    # arm's own interval is wide.
    a, b = {0: 0.60, 1: 0.80, 2: 0.90}, {0: 0.55, 1: 0.75, 2: 0.86, 3: 0.1}
    d = paired_difference(a, b)
    assert d["seeds"] == [0, 1, 2] and d["mean"] == pytest.approx(0.0467, abs=1e-4)
    assert 0 < d["ci95"][0] < d["ci95"][1] < 0.1
    assert mean_interval(list(a.values()))["ci95"][1] - mean_interval(list(a.values()))["ci95"][0] > 0.5
    assert paired_difference({0: 1.0}, {1: 1.0}) is None


@pytest.mark.slow
def test_learning_curve_grid_pairs_seeds_and_reuses_cached_runs(tmp_path, caplog):
    from service.builder.learning_curve import CurveSettings, format_curve, learning_curve, subsample
    from tests.support.classifier import pretrained, sentiment_data, small_settings

    data = split(sentiment_data(300), seed=0)
    # Paired: every init of a (size, seed) trains on the same sample.
    assert subsample(data, 40, 1).train.texts == subsample(data, 40, 1).train.texts
    assert subsample(data, 40, 1).train.texts != subsample(data, 40, 2).train.texts
    grid = CurveSettings(sizes=(40, 0), inits=("scratch", "word2vec", "word2vec-training-words"),
                         seeds=(0, 1))
    cache = tmp_path / "runs.jsonl"
    args = (data, {"word2vec": pretrained()}, {"word2vec": "fp1"}, small_settings(min_steps=20, max_steps=40))
    curve = learning_curve("toy", *args, grid, cache)
    assert curve["ran"] == curve["runs"] == 12 and curve["task"] == "toy"
    rows = {(r["size"], r["init"]): r for r in curve["rows"]}
    assert set(rows) == {(s, i) for s in (40, 210) for i in grid.inits}
    for (size, init), r in rows.items():
        assert r["seeds"] == [0, 1] and len(r["accuracies"]) == 2
        assert r["ci95"][0] <= r["mean"] <= r["ci95"][1]
        scratch = rows[(size, "scratch")]["accuracies"]
        if init == "scratch":
            assert r["difference_to_scratch"] is None
        else:
            d = r["difference_to_scratch"]
            assert d["mean"] == pytest.approx(np.mean(np.subtract(r["accuracies"], scratch)), abs=1e-4)
        sliced = r["unseen"]
        assert sum(s["texts"] for s in sliced.values()) == 60  # every test text, in one slice
    assert "paired difference" in format_curve(curve)

    # A smaller grid finds all its runs cached and still reports every cached run; a new
    # word2vec (another fingerprint) invalidates only the runs that start from it.
    again = learning_curve("toy", *args, CurveSettings(sizes=(40,), inits=("scratch",), seeds=(0,)), cache)
    assert again["ran"] == 0 and again["rows"] == curve["rows"]
    args = (data, {"word2vec": pretrained(seed=5)}, {"word2vec": "fp2"}, small_settings(min_steps=20, max_steps=40))
    changed = learning_curve("toy", *args, CurveSettings(sizes=(40,), inits=("scratch", "word2vec"),
                                                         seeds=(0,)), cache)
    assert changed["ran"] == 1 and {(r["size"], r["init"]) for r in changed["rows"]} == {
        (40, "scratch"), (210, "scratch"), (40, "word2vec")}
