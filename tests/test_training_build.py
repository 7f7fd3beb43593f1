"""`wordspace build` end to end: a small task space from the clickbait headlines through
the real command, then the same command again finds it up to date."""
from __future__ import annotations

from pathlib import Path

import pytest

from service import catalog, cli
from service.build import SPACES, BuildOptions, build
from service.embed import embed_texts
from service.space import Space

CLICKBAIT = Path(__file__).resolve().parents[2] / "shared/data/clickbait"

pytest.importorskip("keras", reason="the [train] extra installs TensorFlow/Keras")


@pytest.mark.slow
@pytest.mark.skipif(not CLICKBAIT.is_dir(), reason=f"clickbait data not found at {CLICKBAIT}")
def test_build_task_space_from_clickbait(tmp_path, capsys):
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

    folder = catalog.resolve(cat, "task")
    assert cli.main(argv) == 0
    assert catalog.resolve(cat, "task") == folder  # up to date: not rebuilt
    assert "cached" in capsys.readouterr().out
    assert cli.main(argv + ["--force"]) == 0
    assert catalog.resolve(cat, "task") != folder


def test_unknown_space_is_refused(tmp_path):
    with pytest.raises(ValueError, match="choose from"):
        build(BuildOptions(catalog=tmp_path, spaces=("nope",)))
    assert SPACES == ("word2vec", "glove", "task", "task-w2v")
