"""A user's own Keras classifier, end to end, in the five shapes people save it
(tests/support/keras_models.py): (a) the keras.io tutorial verbatim with its
custom_standardization, (b) the vectorizer outside with its vocabulary in a file, (c) a
vocabulary smaller than the Embedding's rows, (d) mask_zero=True, (e) a nested end-to-end
model. Each is trained for a few steps on 600 vendored headlines, then added twice, as a user
would: through a spec with a CSV task of other headlines, and through `build-index
--task-data`. Both catalogs are served by gunicorn and checked over HTTP: kind task with its
task named, the task scores, the model's own accuracy (against Keras' evaluate on the same
test split), sentence vectors (the model's pooling output where exact, else the honest
label) and the verdict."""
from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import numpy as np
import pytest
import requests

from service import cli
from service.builder.classifier import ClassifierSettings
from service.builder.spec import TaskSpec
from service.builder.task_data import load_task, split
from service.store import catalog
from tests.support import keras_models as km
from tests.support.server import serve

pytestmark = [pytest.mark.slow, km.needs_keras]

TASK = "headlines"
STANDARDIZE = "usertext:custom_standardization"
SHAPES = ("a", "b", "c", "d", "e")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The five saved models, the task's CSV (other headlines than the models trained on),
    and the user's folder (their custom_standardization module is there)."""
    folder = tmp_path_factory.mktemp("user")
    texts, labels = km.headlines(1500)
    train, train_labels = texts[:600], labels[:600]
    with open(folder / f"{TASK}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(zip(texts[600:], labels[600:]))
    function = km.user_function(folder)
    ids, vocab = km.ids_model(folder, train, train_labels)
    made = {
        "a": (km.tutorial(folder, train, train_labels, function), {"standardize": STANDARDIZE}),
        "b": (ids, {"vocab": str(vocab)}),
        "c": (km.pooled(folder, train, train_labels, name="wide", rows=km.MAX_TOKENS + 500), {}),
        "d": (km.pooled(folder, train, train_labels, name="masked", mask_zero=True), {}),
        "e": (km.nested(folder, train, train_labels), {}),
    }
    km.forget_user_function()  # as in the fresh process a user builds in
    return folder, made


@pytest.fixture(scope="module")
def catalogs(models, tmp_path_factory):
    """The same five models through a spec and through build-index, each into its catalog."""
    folder, made = models
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the user's module is in the folder they build from
        spec = [f'[tasks.{TASK}]\ndata = "{TASK}.csv"\n']
        for shape, (path, extra) in made.items():
            keys = "".join(f'{k} = "{v}"\n' for k, v in extra.items())
            spec.append(f'[spaces.{shape}]\nkind = "task"\nsource = "{path.name}"\n'
                        f'task = "{TASK}"\n{keys}')
        (folder / "mine.toml").write_text("\n".join(spec))
        by_spec, by_index = folder / "by-spec", folder / "by-index"
        assert cli.main(["--catalog", str(by_spec), "build", "--spec", "mine.toml",
                         "--no-learning-curve", "--quiet"]) == 0
        for shape, (path, extra) in made.items():
            options = [x for k, v in extra.items() for x in (f"--{k}", v)]
            assert cli.main(["build-index", shape, "--from", f"keras:{path}", *options,
                             "--task-data", f"{TASK}.csv", "--catalog", str(by_index)]) == 0
    return by_spec, by_index


@pytest.fixture(scope="module")
def test_split(models):
    """The task's test split as the build draws it (the seed of a task space made here)."""
    folder, _ = models
    data = load_task(TaskSpec(TASK, data=str(folder / f"{TASK}.csv")), folder / "cache")
    return split(data, seed=ClassifierSettings().seed).test


def keras_accuracy(path, extra, texts, labels) -> float:
    """Keras' own evaluate: the model as saved (the vectorizer outside for shape b)."""
    import keras

    custom = {}
    if "standardize" in extra:
        custom["custom_objects"] = {"custom_standardization": km.user_function(path.parent)}
    model = keras.saving.load_model(path, compile=False, **custom)
    x = texts
    if "vocab" in extra:
        words = open(extra["vocab"], encoding="utf-8").read().splitlines()
        vectorize = keras.layers.TextVectorization(vocabulary=words[2:],
                                                   output_sequence_length=km.LENGTH)
        x = vectorize(np.array(texts)[:, None])
    accuracy = km.evaluate(model, x, labels)
    km.forget_user_function()
    return accuracy


@pytest.fixture(scope="module")
def served(catalogs):
    """served(route): that route's catalog under gunicorn, started on first use and kept for
    the module's other tests."""
    running = {}
    with contextlib.ExitStack() as stack:

        @contextlib.contextmanager
        def one(route: str):
            if route not in running:
                cat = dict(zip(("spec", "build-index"), catalogs))[route]
                running[route] = stack.enter_context(serve(cat, ready="/readyz"))
            yield running[route]

        yield one


@pytest.mark.parametrize("route", ["spec", "build-index"])
@pytest.mark.parametrize("chosen", SHAPES)
def test_each_shape_served_as_a_task_space(models, served, test_split, route, chosen):
    """One shape through one route per test, so a failing shape hides none of the others."""
    _, made = models
    texts = list(test_split.texts)
    labels = [int(test_split.classes[i]) for i in test_split.labels]
    with served(route) as server:
        listed = {s["name"]: s for s in requests.get(server.url("/v1/spaces")).json()["spaces"]}
        assert sorted(listed) == list(SHAPES)
        for shape, (path, extra) in made.items():
            if shape != chosen:
                continue
            space = listed[shape]
            d = space["details"]
            assert (space["kind"], d["task"]) == ("task", TASK), shape
            assert d["split"]["test"] == len(texts), shape
            want = keras_accuracy(path, extra, texts, labels)
            assert d["test_accuracy"] == pytest.approx(want, abs=1e-4), shape
            majority = max(np.mean(labels), 1 - np.mean(labels))
            assert d["test_accuracy"] > majority + 0.05, shape  # it learned: not a constant answer
            print(f"{route} {shape}: the model's own test accuracy {d['test_accuracy']} "
                  f"(Keras' evaluate {want:.4f}); {d['sentence_vectors']}")

            card = requests.get(server.url(f"/v1/spaces/{shape}/evaluation")).json()
            assert card["task"]["computed"] and card["task"]["dataset"] == TASK, shape
            probe = card["task"]["probe"]  # better than always the majority class:
            assert probe["baseline"] < probe["accuracy"] <= 1, shape

            answer = requests.post(server.url(f"/v1/spaces/{shape}/embed"),
                                   json={"texts": texts[:100]}).json()
            said = d["sentence_vectors"]
            assert (answer["computed"], answer["exact"]) == (said["computed"], said["exact"])
            # Each the model's own sentence vector, checked by the build on the task's test
            # texts: the tutorial's Conv1D stack by its ONNX sub-model (served by gunicorn's
            # workers, a session each), the others by numpy pooling, without TensorFlow.
            assert said["exact"] is True, shape
            assert said["parity"]["on"].startswith("the task's test split"), shape
            assert said["method"] == ("onnx" if shape == "a" else "numpy"), shape
            if shape == "b":  # the vectorizer outside: its defaults assumed, and said
                assert "the vectorizer is outside the model" in said["computed"]
            got = np.array([r["vector"] for r in answer["results"]])
            if shape == "a":
                km.user_function(path.parent)
            want = km.own_output(path, texts[:100], said["layer"],
                                 vocab=Path(extra["vocab"]) if "vocab" in extra else None)
            km.forget_user_function()
            cos = km.cosines(got, want)
            print(f"{route} {shape}: min cosine to the model's {said['layer']} output {cos.min():.6f}")
            assert cos.min() >= 0.999, shape
        assert listed["c"]["details"]["unused_rows"] == 500

        verdict = requests.get(server.url("/v1/compare/verdict")).json()
        rows = {r["space"]: r for r in verdict["spaces"]}
        assert sorted(rows) == list(SHAPES)
        for shape, r in rows.items():
            assert (r["kind"], r["trained_for"]) == ("task", TASK), shape
            assert r["places"] != "no task data" and TASK in [p["task"] for p in r["probes"]], shape
        assert verdict["task"][TASK] and set(verdict["task"][TASK]) <= set(SHAPES)
        assert "no task data" not in verdict["sentence"]
        print(f"{route}: {verdict['sentence']}")


def test_both_routes_publish_the_same_space(models, catalogs, capsys):
    """build-index is a one-entry spec through the same runner: the same rows and details,
    and a second run is not rebuilt."""
    for shape in SHAPES:
        a, b = (catalog.read_manifest(catalog.resolve(c, shape)) for c in catalogs)
        assert (a["rows"], a["dimension"], a["factory"]) == (b["rows"], b["dimension"], b["factory"])
        keep = ("kind", "task", "test_accuracy", "split", "sentence_vectors", "unused_rows", "layer")
        for m in (a, b):  # how long the build's check took differs from run to run
            m["details"]["sentence_vectors"]["parity"].pop("seconds")
        assert {k: a["details"].get(k) for k in keep} == {k: b["details"].get(k) for k in keep}
    folder, made = models
    capsys.readouterr()
    assert cli.main(["build-index", "c", "--from", f"keras:{made['c'][0]}", "--task-data",
                     str(folder / f"{TASK}.csv"), "--catalog", str(catalogs[1])]) == 0
    assert "up to date" in capsys.readouterr().out


def test_a_server_of_onnx_spaces_stops_at_once_on_sigterm(catalogs):
    """The ONNX file is checked at load in a child process: a session made in gunicorn's master
    before the fork made a worker abort ("terminate called ...") or hang at exit, so SIGTERM
    waited out the graceful timeout (30 s) before the worker was killed."""
    with serve(catalogs[0], ready="/readyz") as server:
        for _ in range(4):  # the workers make their own sessions
            r = requests.post(server.url("/v1/spaces/a/embed"), json={"texts": ["a fine film"]})
            assert r.status_code == 200 and r.json()["results"][0]["vector"]
        server.proc.terminate()
        assert server.proc.wait(timeout=10) == 0
        log = server.log()
    assert "terminate called" not in log and "Worker exiting" in log
