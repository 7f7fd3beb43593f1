"""A user's spec end to end through the real command: a CSV task, a word2vec-format file and
a Keras model trained here on that task. The model is a task space like the ones wordspace
trains (kind task, its task named, the probe on its sentence vectors) with its own held-out
accuracy, measured by running it on the task's test split; the task's learning curve runs
from the spec's data with tiny sizes and prints its tables once."""
from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest

from service import cli, create_app
from service.settings import Settings
from service.store import catalog, experiments
from tests.support import keras_models as km
from tests.support.tables import toy_table

pytestmark = km.needs_keras

GOOD = ["lovely", "great", "superb", "charming", "wonderful", "delightful", "brilliant"]
BAD = ["awful", "dull", "boring", "terrible", "clumsy", "tedious", "dreadful"]
FILLER = ["film", "plot", "cast", "story", "music", "ending", "scene", "the", "a", "very"]


def _texts(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = rng.sample(FILLER, 4) + [rng.choice(GOOD if label else BAD)]
        rng.shuffle(words)
        rows.append((" ".join(words) + f" {i}", str(label)))
    return rows


def _model(rows, path):
    """TextVectorization + Embedding + GlobalAveragePooling1D + Dense, a few epochs."""
    import keras

    texts = np.array([t for t, _ in rows])
    labels = np.array([int(y) for _, y in rows], dtype="float32")
    keras.utils.set_random_seed(0)
    vectorize = keras.layers.TextVectorization(max_tokens=200, output_sequence_length=8)
    vectorize.adapt(texts)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = vectorize(inputs)
    x = keras.layers.Embedding(len(vectorize.get_vocabulary()), 8, name="embedding")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    import tensorflow as tf

    model.fit(tf.constant(texts)[:, None], labels, epochs=8, batch_size=32, verbose=0)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mine")
    rows = _texts(400)
    with open(folder / "reviews.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["review", "verdict"])
        w.writerows(rows)
    _model(rows, folder / "reviews.keras")
    t = toy_table(n_noise=40)
    (folder / "vectors.txt").write_text(f"{len(t.index_to_key)} {t.vector_size}\n" + "".join(
        f"{w} {' '.join(f'{x:.5f}' for x in v)}\n" for w, v in zip(t.index_to_key, t.vectors)))
    (folder / "my.toml").write_text("""
[tasks.reviews]
data = "reviews.csv"
text_column = "review"
label_column = "verdict"
curve = true

[spaces.my-model]
kind = "task"
source = "reviews.keras"
task = "reviews"

[spaces.my-model-untasked]
kind = "task"
source = "reviews.keras"

[spaces.my-vectors]
kind = "word2vec"
source = "vectors.txt"
format = "word2vec"

[spaces.reviews-here]
kind = "task"
task = "reviews"
start = "my-vectors"
""")
    return folder


@pytest.mark.slow
def test_a_user_spec_makes_the_keras_model_a_task_space(user_files, tmp_path, capsys):
    cat = tmp_path / "c"
    argv = ["--catalog", str(cat), "build", "--spec", str(user_files / "my.toml"),
            "--max-steps", "60", "--no-learning-curve", "--quiet"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in ("my-model", "my-model-untasked", "my-vectors", "reviews-here"))

    manifest = catalog.read_manifest(catalog.resolve(cat, "my-model"))
    d = manifest["details"]
    assert (d["kind"], d["task"], manifest["source"]["format"]) == ("task", "reviews", "keras")
    assert d["split"]["test"] == 80 and 0.5 < d["test_accuracy"] <= 1.0  # the model's own
    card = json.loads((catalog.resolve(cat, "my-model") / "evaluation.json").read_text())
    assert card["task"]["computed"] and card["task"]["dataset"] == "reviews"
    probe = card["task"]["probe"]
    assert probe["baseline"] < probe["accuracy"]  # better than always the majority class
    alone = catalog.resolve(cat, "my-model-untasked")
    assert catalog.read_manifest(alone)["details"]["kind"] == "task"
    assert "task" not in catalog.read_manifest(alone)["details"]
    assert not json.loads((alone / "evaluation.json").read_text())["task"]["computed"]
    for name in ("my-model", "my-model-untasked", "my-vectors", "reviews-here"):
        folder = catalog.resolve(cat, name)  # every space probed on every task; all the user's
        assert list(json.loads((folder / "evaluation.json").read_text())["probes"]["tasks"]) == ["reviews"]
        assert catalog.read_manifest(folder)["details"]["built_in"] is False
    here = catalog.read_manifest(catalog.resolve(cat, "reviews-here"))["details"]
    assert (here["kind"], here["task"], here["init"]["start"]) == ("task", "reviews", "my-vectors")
    vectors = catalog.read_manifest(catalog.resolve(cat, "my-vectors"))["details"]
    assert vectors["kind"] == "word2vec"

    client = create_app(Settings(catalog=cat)).test_client()
    listed = {s["name"]: s for s in client.get("/v1/spaces").get_json()["spaces"]}
    assert listed["my-model"]["kind"] == "task"
    assert listed["my-model"]["details"]["task"] == "reviews"

    assert cli.main(argv) == 0  # nothing changed: every space is up to date
    assert capsys.readouterr().out.count("cached") == 4


@pytest.mark.slow
def test_the_learning_curve_of_a_spec_task(user_files, tmp_path, capsys):
    cat = tmp_path / "c"
    argv = ["--catalog", str(cat), "experiment", "learning-curve", "--spec",
            str(user_files / "my.toml"), "--task", "reviews", "--sizes", "40,0",
            "--starts", "scratch,word2vec", "--seeds", "2", "--max-steps", "40", "--jobs", "1",
            "--quiet"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("reviews: test accuracy") == 1  # the tables print once
    curve = experiments.read_experiment(cat, "learning-curve-reviews")
    assert curve["grid"]["sizes"] == [40, 280] and curve["runs"] == 8
    assert curve["starts"] == {"word2vec": catalog.read_manifest(
        catalog.resolve(cat, "my-vectors"))["details"]["fingerprint"]}
    client = create_app(Settings(catalog=cat)).test_client()  # served and drawn per task
    served = client.get("/v1/experiments/learning-curve").get_json()
    assert [c["task"] for c in served["tasks"]] == ["reviews"]
    r = client.get("/v1/compare/plot/learning-curve?task=reviews&format=svg")
    assert r.status_code == 200 and b"<svg" in r.data
    assert cli.main(["--catalog", str(cat), "experiment", "learning-curve", "--spec",
                     str(user_files / "my.toml"), "--task", "nope"]) == 2
    assert "choose from reviews" in capsys.readouterr().err


@pytest.mark.slow
def test_build_runs_the_curve_of_the_tasks_the_spec_marks(user_files, tmp_path, capsys):
    cat = tmp_path / "c"
    assert cli.main(["--catalog", str(cat), "build", "--spec", str(user_files / "my.toml"),
                     "--spaces", "reviews-here", "--seeds", "1", "--max-steps", "30",
                     "--jobs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("reviews: test accuracy") == 1 and "(curve reviews)" in out
    curve = experiments.read_experiment(cat, "learning-curve-reviews")
    assert curve["grid"]["inits"] == ["scratch", "word2vec"] and curve["runs"] == 8
