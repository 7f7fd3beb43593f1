"""`wordspace build` end to end: the clickbait space from the vendored headlines (a --limit
subset) through the real command, then the same command again finds it up to date."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from service import cli, create_app
from service.analysis import scorecard
from service.builder import runner
from service.builder.recipe import BuildOptions, Made, Recipe
from service.builder.spec import Spec, TaskSpec
from service.builder.task_data import CLICKBAIT_DIR
from service.settings import Settings
from service.store import catalog, experiments
from service.store.embed import embed_texts
from service.store.space import Space
from service.store.tables import Table
from tests.support.keras_models import needs_keras

pytestmark = needs_keras


@pytest.mark.slow
def test_build_clickbait_space(tmp_path, capsys, monkeypatch):
    cat = tmp_path / "indexes"
    argv = ["--catalog", str(cat), "build", "--spaces", "clickbait", "--limit", "3000",
            "--max-steps", "400", "--no-learning-curve", "--quiet"]
    assert cli.main(argv) == 0
    manifest = catalog.verify(catalog.resolve(cat, "clickbait"))
    d = manifest["details"]
    assert d["kind"] == "task" and d["task"] == "clickbait" and d["dataset"] == "clickbait"
    assert d["built_in"] is True  # the default spec's entry
    assert d["init"] == {"start": "scratch", "vocabulary": "training", "trainable": True, "rows": None}
    assert d["vocabulary"]["rows"] == manifest["rows"] == d["vocabulary"]["rows_trained"]
    assert d["test_accuracy"] > 0.85  # chance is 0.5
    assert d["split"] == {"train": 2100, "validation": 300, "test": 600}
    assert len(d["dataset_sha256"]) == 64 and d["seed"] == 0 and d["steps"] <= 400
    assert "embed.json" in manifest["files"]
    assert CLICKBAIT_DIR.is_dir()  # vendored: nothing outside the repository is read
    space = Space.load(cat, "clickbait")
    assert len(space) == manifest["rows"] > 1000
    [e] = embed_texts(space, ["You Won't Believe What Happened Next"])
    assert e.vector.shape == (manifest["dimension"],) and e.tokens == 6
    assert "clickbait" in capsys.readouterr().out  # the summary table

    # The scorecard is computed at build time and served as is; its probes cover every task
    # of the spec, the --limit subset of each.
    assert "evaluation.json" in manifest["files"]
    folder = catalog.resolve(cat, "clickbait")
    stored = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    assert stored["source"] == "build" and stored["rows"] == manifest["rows"]
    assert stored["task"]["computed"] and stored["task"]["dataset"] == "clickbait"
    assert stored["task"]["documents"] == 3000  # the --limit subset the classifier saw
    assert stored["task"]["probe"]["accuracy"] > 0.85
    assert list(stored["probes"]["tasks"]) == ["clickbait", "sentiment"]
    assert stored["probes"]["tasks"]["clickbait"]["probe"] == stored["task"]["probe"]
    assert stored["probes"]["tasks"]["sentiment"]["documents"] == 3000
    with monkeypatch.context() as m:
        m.setattr(scorecard, "evaluate_space", _must_not_recompute)
        client = create_app(Settings(catalog=cat)).test_client()
        served = client.get("/v1/spaces/clickbait/evaluation").get_json()
    assert served.pop("refreshed") == [] and served.pop("kept") == list(scorecard.SECTIONS)
    assert served == stored
    # The HTTP embed route gives the same pooled vector, and the task space is listed as such.
    r = client.post("/v1/spaces/clickbait/embed", json={"texts": ["You Won't Believe What Happened Next"]})
    assert r.status_code == 200 and r.get_json()["kind"] == "task"
    assert r.get_json()["results"][0]["vector"] == pytest.approx(e.vector.tolist(), abs=1e-6)
    listed = {s["name"]: s for s in client.get("/v1/spaces").get_json()["spaces"]}
    assert listed["clickbait"]["details"]["test_accuracy"] == d["test_accuracy"]

    assert cli.main(argv) == 0
    assert catalog.resolve(cat, "clickbait") == folder  # up to date: not rebuilt
    assert "cached" in capsys.readouterr().out
    assert cli.main(argv + ["--force"]) == 0
    assert catalog.resolve(cat, "clickbait") != folder


NO_TASKS = Spec("test", {}, {})  # the fake recipes' builds read no task data


def test_every_space_is_probed_on_every_task_of_the_spec(tmp_path):
    """Whatever its kind, and whether or not it was trained on a task, each space built is
    probed on each task of the spec; identical rows get identical probes."""
    tasks = _toy_tasks(tmp_path)
    made = []
    recipes, _ = _recipes(made)
    runner.run(BuildOptions(catalog=tmp_path / "indexes", spec=Spec("test", tasks, {}),
                            spaces=("child",)), recipes)
    cards = {n: json.loads((catalog.resolve(tmp_path / "indexes", n) / "evaluation.json").read_text())
             for n in ("base", "child")}
    for card in cards.values():
        assert card["probes"]["computed"] and list(card["probes"]["tasks"]) == ["toy", "other"]
        assert card["probes"]["tasks"]["toy"]["documents"] == 120
        assert card["probes"]["tasks"]["toy"]["probe"]["accuracy"] > 0.6  # "a b" and "b a" tie
    assert cards["base"]["probes"] == cards["child"]["probes"]  # the same rows


def _toy_tasks(folder) -> dict:
    tasks = {}
    for name, (first, second) in (("toy", ("a", "b")), ("other", ("c", "b"))):
        path = folder / f"{name}.csv"
        path.write_text("text,label\n" + "".join(
            f"{first if i % 2 else second} {'abc'[i % 3]} w{i},{'yes' if i % 2 else 'no'}\n"
            for i in range(120)), encoding="utf-8")
        tasks[name] = TaskSpec(name, data=str(path))
    return tasks


def _must_not_recompute(*args, **kwargs):
    raise AssertionError("the scorecard was recomputed instead of read from evaluation.json")


def _table(words, seed=0):
    import numpy as np

    return Table(list(words), np.random.default_rng(seed).normal(size=(len(words), 4)))


class Tiny(Recipe):
    """A recipe that records when it is made; its inputs are `settings`."""

    def __init__(self, name, needs, settings, made):
        super().__init__(name, needs)
        self.settings, self.made = settings, made

    def inputs(self, ctx):
        return dict(self.settings)

    def make(self, ctx):
        self.made.append(self.name)
        if self.name == "child":  # reads what it needs through the context
            assert ctx.table("base").index_to_key == ["a", "b", "c"]
        return Made(_table("abc"), {"format": "test"}, {"kind": "test"})


def _recipes(made: list):
    """Two tiny recipes: `base`, and `child` made from it."""
    settings = {"size": 1}
    return (Tiny("child", ("base",), {}, made), Tiny("base", (), settings, made)), settings


class Reseeded(Tiny):
    """`Tiny` with other rows: a space whose probes differ from base's."""

    def make(self, ctx):
        self.made.append(self.name)
        return Made(_table("abc", seed=7), {"format": "test"}, {"kind": "test"})


def test_every_space_of_a_build_holds_its_task_s_one_reference(tmp_path, monkeypatch):
    """The task's bag-of-words reference (the verdict's task bar) is computed once per task
    and build, from the task's texts alone: every space's scorecard holds the same figure,
    the one probe.reference gives for those texts, whatever the space's rows."""
    from service.analysis import probe

    tasks, made, calls = _toy_tasks(tmp_path), [], []
    real = probe.reference
    monkeypatch.setattr(probe, "reference", lambda texts, labels: calls.append(1) or real(texts, labels))
    recipes = (Reseeded("child", ("base",), {}, made), Tiny("base", (), {"size": 1}, made))
    runner.run(BuildOptions(catalog=tmp_path / "indexes", spec=Spec("test", tasks, {}),
                            spaces=("child",)), recipes)
    assert len(calls) == 2  # once per task, not once per space and task
    cards = {n: json.loads((catalog.resolve(tmp_path / "indexes", n) / "evaluation.json").read_text())
             for n in ("base", "child")}
    assert Space.load(tmp_path / "indexes", "base").vectors.tolist() != \
        Space.load(tmp_path / "indexes", "child").vectors.tolist()
    for task in ("toy", "other"):
        lines = (tmp_path / f"{task}.csv").read_text(encoding="utf-8").splitlines()[1:]
        texts, labels = zip(*(line.rsplit(",", 1) for line in lines))
        expected = real(list(texts), list(labels))
        assert expected == real(list(texts), list(labels))  # deterministic
        assert expected["accuracy"] > 0.6 and expected["method"] == probe.REFERENCE  # chance .5
        for card in cards.values():
            assert card["probes"]["tasks"][task]["reference"] == expected


def test_runner_orders_by_need_and_skips_what_is_fresh(tmp_path):
    made = []
    recipes, settings = _recipes(made)
    before, started = dt.datetime.now(dt.timezone.utc), time.perf_counter()
    built = runner.run(BuildOptions(catalog=tmp_path, spec=NO_TASKS, spaces=("child",)), recipes)
    elapsed, after = time.perf_counter() - started, dt.datetime.now(dt.timezone.utc)
    rows = built.rows
    assert made == ["base", "child"]  # the need first, although listed second
    assert [r.name for r in built.plan] == made  # the plan it ran, for the caller to read
    assert [(r["space"], r["status"]) for r in rows] == [("base", "built"), ("child", "built")]
    assert "evaluation.json" in catalog.read_manifest(catalog.resolve(tmp_path, "child"))["files"]
    # the details: what the recipe made, the fingerprint and the scorecard's WordSim353
    folder = catalog.resolve(tmp_path, "child")
    details = catalog.read_manifest(folder)["details"]
    card = json.loads((folder / "evaluation.json").read_text())
    assert details["kind"] == "test" and details["fingerprint"]
    assert details["wordsim353"] == card["wordsim353"]

    last = experiments.read_experiment(tmp_path, experiments.LAST_BUILD)
    assert [r["space"] for r in last["spaces"]] == ["base", "child"]
    # the time the run took and when it ended, as measured around it here
    assert 0 <= last["seconds"] <= round(elapsed, 1) + 0.05
    assert sum(r["seconds"] for r in last["spaces"]) <= elapsed + 0.05 * len(last["spaces"])
    finished = dt.datetime.fromisoformat(last["finished_at"])
    assert before.replace(microsecond=0) <= finished <= after

    made.clear()
    rows = runner.run(BuildOptions(catalog=tmp_path, spec=NO_TASKS, spaces=("child",)), recipes).rows
    assert made == [] and {r["status"] for r in rows} == {"cached"}
    assert experiments.read_experiment(tmp_path, experiments.LAST_BUILD) == last  # nothing built: kept

    settings["size"] = 2  # base's inputs change: base and what is made from it are rebuilt
    runner.run(BuildOptions(catalog=tmp_path, spec=NO_TASKS, spaces=("child",)), recipes)
    assert made == ["base", "child"]


def test_runner_refuses_unknown_names_and_circles(tmp_path):
    with pytest.raises(ValueError, match="choose from word2vec, glove, sentiment"):
        runner.run(BuildOptions(catalog=tmp_path, spaces=("nope",)))
    circle = (Recipe("a", ("b",)), Recipe("b", ("a",)))
    with pytest.raises(ValueError, match="circle"):
        runner.ordered(circle, ("a",))


def test_one_wordsim353_for_summary_manifest_and_scorecard(tmp_path):
    made = []
    recipes, _ = _recipes(made)
    [row] = runner.run(BuildOptions(catalog=tmp_path, spec=NO_TASKS, spaces=("base",)), recipes).rows
    folder = catalog.resolve(tmp_path, "base")
    stored = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    manifest = catalog.read_manifest(folder)
    assert manifest["details"]["wordsim353"] == stored["wordsim353"]
    assert row["score"] == stored["wordsim353"]["spearman"]
