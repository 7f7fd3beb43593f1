"""`wordspace build` end to end: a small task space from the clickbait headlines through
the real command, then the same command again finds it up to date."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from service import catalog, cli, create_app, evaluation
from service.build import SPACES, BuildOptions, build
from service.embed import embed_texts
from service.settings import Settings
from service.space import Space

CLICKBAIT = Path(__file__).resolve().parents[2] / "shared/data/clickbait"

pytest.importorskip("keras", reason="the [train] extra installs TensorFlow/Keras")


@pytest.mark.slow
@pytest.mark.skipif(not CLICKBAIT.is_dir(), reason=f"clickbait data not found at {CLICKBAIT}")
def test_build_task_space_from_clickbait(tmp_path, capsys, monkeypatch):
    cat = tmp_path / "indexes"
    argv = ["--catalog", str(cat), "build", "--spaces", "task", "--task-data", str(CLICKBAIT),
            "--limit", "3000", "--epochs", "4", "--no-learning-curve", "--quiet"]
    assert cli.main(argv) == 0
    manifest = catalog.verify(catalog.resolve(cat, "task"))
    d = manifest["details"]
    assert d["kind"] == "task" and d["dataset"] == "clickbait"
    assert d["test_accuracy"] > 0.85  # chance is 0.5
    assert d["split"] == {"train": 2100, "validation": 300, "test": 600}
    assert len(d["dataset_sha256"]) == 64 and d["seed"] == 0 and d["epochs"] <= 4
    assert "embed.json" in manifest["files"]
    space = Space.load(cat, "task")
    assert len(space) == manifest["rows"] > 1000
    [e] = embed_texts(space, ["You Won't Believe What Happened Next"])
    assert e.vector.shape == (manifest["dimension"],) and e.tokens == 6
    assert "task" in capsys.readouterr().out  # the summary table

    # The scorecard is computed at build time, on the classifier's pooling, and served as is.
    assert "evaluation.json" in manifest["files"]
    folder = catalog.resolve(cat, "task")
    stored = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    assert stored["source"] == "build" and stored["rows"] == manifest["rows"]
    assert stored["task"]["computed"] and stored["task"]["dataset"] == "clickbait"
    assert stored["task"]["documents"] == 3000  # the --limit subset the classifier saw
    assert stored["task"]["probe"]["accuracy"] > 0.85
    with monkeypatch.context() as m:
        m.setattr(evaluation, "evaluate_space", _must_not_recompute)
        client = create_app(Settings(catalog=cat)).test_client()
        started = time.perf_counter()
        served = client.get("/v1/spaces/task/evaluation").get_json()
        assert time.perf_counter() - started < 2
    assert served.pop("refreshed") == [] and served.pop("kept") == list(evaluation.SECTIONS)
    assert served == stored
    # The HTTP embed route gives the same pooled vector, and the task space is listed as such.
    r = client.post("/v1/spaces/task/embed", json={"texts": ["You Won't Believe What Happened Next"]})
    assert r.status_code == 200 and r.get_json()["kind"] == "task"
    assert r.get_json()["results"][0]["vector"] == pytest.approx(e.vector.tolist(), abs=1e-6)
    listed = {s["name"]: s for s in client.get("/v1/spaces").get_json()["spaces"]}
    assert listed["task"]["details"]["test_accuracy"] == d["test_accuracy"]

    assert cli.main(argv) == 0
    assert catalog.resolve(cat, "task") == folder  # up to date: not rebuilt
    assert "cached" in capsys.readouterr().out
    assert cli.main(argv + ["--force"]) == 0
    assert catalog.resolve(cat, "task") != folder


def _must_not_recompute(*args, **kwargs):
    raise AssertionError("the scorecard was recomputed instead of read from evaluation.json")


def test_a_space_built_before_scorecards_stays_cached(tmp_path, caplog):
    """No rebuild just for evaluation.json: the service computes that scorecard on request."""
    from service.tables import Table
    from service.training import spaces, steps

    inputs = {"kumo": "test"}
    catalog.write_space(tmp_path, "glove", Table(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]),
                        source={"format": "test"}, details={"fingerprint": steps.fingerprint(inputs)})
    with caplog.at_level("INFO", logger="wordspace.build"):
        _, manifest = spaces.cached("glove", inputs, BuildOptions(catalog=tmp_path))
    assert manifest is not None and "evaluation.json" not in manifest["files"]
    assert "computes its scorecard on first request" in caplog.text


def test_unknown_space_is_refused(tmp_path):
    with pytest.raises(ValueError, match="choose from"):
        build(BuildOptions(catalog=tmp_path, spaces=("nope",)))
    assert SPACES == ("word2vec", "glove", "task", "task-w2v")
