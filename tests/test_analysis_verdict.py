"""The verdict: intervals, who leads on what, the sentence written from the numbers, and the
route over a catalog whose answer is known by construction (tests/support/scored.py)."""
from __future__ import annotations

import pytest

from service.analysis import verdict
from service.analysis.verdict import Score, SpaceVerdict, decide
from tests.support.scored import DATASET, write_scored_catalog


def test_intervals():
    low, high = verdict.wilson_interval(0.5, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert verdict.wilson_interval(1.0, 60)[1] == 1.0 and verdict.wilson_interval(0.3, 0) == (None, None)
    low, high = verdict.spearman_interval(0.6, 353)
    assert low < 0.6 < high and high - low == pytest.approx(0.13, abs=0.01)
    assert verdict.spearman_interval(None, 300) == (None, None)
    assert verdict.spearman_interval(0.5, 3) == (None, None)


def test_numbers_in_the_sentence():
    assert [verdict.number(x) for x in (0.598, -0.05, -0.001, 0.0, 1.0, None)] == \
        [".60", "-.05", ".00", ".00", "1.00", "–"]


def row(name: str, ws: float, probe: float | None, n: int = 300, test: int = 2550,
        dataset: str = "reviews") -> SpaceVerdict:
    return SpaceVerdict(
        name, "x", Score(ws, *verdict.spearman_interval(ws, n), n), Score(0.3, None, None, n),
        dataset if probe is not None else None,
        Score(probe, *verdict.wilson_interval(probe, test), test) if probe is not None else None,
        0.57 if probe is not None else None, "")


def test_the_sentence_follows_the_numbers():
    rows = [row("glove", .503, .695), row("task", .135, .893), row("task-w2v", .573, .888),
            row("word2vec", .598, .650)]
    v = decide(rows, 1000)
    assert v.meaning == ["word2vec", "task-w2v", "glove"] and v.task == {"reviews": ["task", "task-w2v"]}
    assert [r.places for r in rows] == ["meaning", "task", "both", "meaning"]
    assert v.sentence == ("word2vec and glove place words by meaning (WordSim353 .60, .50); "
                          "task places them by the task (reviews probe .89; WordSim353 .14); "
                          "task-w2v does both (WordSim353 .57; reviews probe .89).")
    # the same spaces with other numbers: the sentence changes with them
    rows = [row("glove", .20, .695), row("task", .135, .70), row("task-w2v", .30, .888),
            row("word2vec", .598, .650)]
    v = decide(rows, 1000)
    assert v.meaning == ["word2vec"] and v.task == {"reviews": ["task-w2v"]}
    assert v.sentence.startswith("word2vec places words by meaning (WordSim353 .60); task-w2v "
                                 "places them by the task (reviews probe .89; WordSim353 .30); "
                                 "glove and task lead on neither")


def test_leading_needs_more_than_being_best():
    # the best WordSim353 indistinguishable from zero, the best probe at the majority share
    rows = [row("a", 0.05, 0.57, n=40, test=100), row("b", -0.02, 0.50, n=40, test=100)]
    v = decide(rows, 50)
    assert v.meaning == [] and v.task == {"reviews": []}
    assert v.sentence.startswith("No space stands out") and "WordSim353 .05, -.02" in v.sentence


def test_probes_on_different_tasks_are_not_compared():
    rows = [row("news", .1, .95, dataset="clickbait"), row("reviews", .1, .70, dataset="rt"),
            row("w2v", .6, None)]
    v = decide(rows, 10)
    assert v.task == {"clickbait": ["news"], "rt": ["reviews"]}
    assert "(clickbait probe .95; rt probe .70; WordSim353 .10, .10)" in v.sentence
    assert rows[2].places == "meaning" and rows[2].task is None


def test_a_task_space_without_task_data_is_not_neither():
    rows = [row("w2v", .60, .65), row("mine", .10, None), row("tuned", .62, None),
            row("clf", .10, .90), row("glove", .10, .62)]
    rows[1].trained_for = rows[2].trained_for = "headlines"  # task spaces, no scorecard task
    v = decide(rows, 500)
    assert [r.places for r in rows] == ["meaning", "no task data", "meaning", "task", "neither"]
    assert v.sentence == ("tuned and w2v place words by meaning (WordSim353 .62, .60); clf places "
                          "them by the task (reviews probe .90; WordSim353 .10); glove leads on "
                          "neither (WordSim353 .10; reviews probe .62); mine and tuned have no "
                          "task data (WordSim353 .10, .62).")
    # nobody leads: the sentence still says which task spaces have no task data
    alone = [row("mine", .01, None, n=40)]
    alone[0].trained_for = "headlines"
    assert decide(alone, 40).sentence == "mine has no task data (WordSim353 .01)."
    assert alone[0].places == "no task data"


def test_ranked_takes_turns_between_meaning_and_each_task():
    rows = [row("a", .10, None), row("b", .60, None), row("c", .58, None),
            row("d", .10, .90, dataset="x"), row("e", .10, .89, dataset="x"),
            row("f", .10, .80, dataset="y"), row("g", .10, None)]
    v = decide(rows, 500)
    assert v.meaning == ["b", "c"] and v.task == {"x": ["d", "e"], "y": ["f"]}
    assert verdict.ranked(v) == ["b", "d", "f", "c", "e", "a", "g"]


def test_task_of_reads_the_metadata_not_the_name():
    assert verdict.task_of({"kind": "task", "details": {"task": "glosses"}}) == "glosses"
    assert verdict.task_of({"kind": "task", "details": {}}) is None  # no task named
    assert verdict.task_of({"kind": "keras", "details": {"task": "glosses"}}) is None
    assert verdict.task_of({"kind": "word2vec", "details": {}}) is None


@pytest.fixture
def catalog_dir(tmp_path):
    return write_scored_catalog(tmp_path / "indexes", tmp_path)


def test_verdict_route(client, check_spec):
    r = client.get("/v1/compare/verdict")
    body = r.get_json()
    check_spec("/v1/compare/verdict", "GET", 200, body, r.content_type)
    rows = {s["space"]: s for s in body["spaces"]}
    assert [s["space"] for s in body["spaces"]] == ["blend", "meaning", "task"]
    assert {n: s["places"] for n, s in rows.items()} == {
        "blend": "both", "meaning": "meaning", "task": "task"}
    assert body["meaning"] == ["blend", "meaning"] or body["meaning"] == ["meaning", "blend"]
    assert body["task"] == {DATASET: ["blend", "task"]} or body["task"] == {DATASET: ["task", "blend"]}
    assert rows["meaning"]["wordsim353"]["value"] > 0.9 > 0.3 > rows["task"]["wordsim353"]["value"]
    assert rows["task"]["probe"]["value"] == 1.0 and rows["meaning"]["probe"]["value"] < 0.7
    assert rows["meaning"]["kind"] == "word2vec" and rows["task"]["task"] == DATASET
    # the meaning scores are over the same pairs in every space (the shared vocabulary)
    assert len({s["wordsim353"]["n"] for s in body["spaces"]}) == 1
    assert body["sentence"] == (
        f"meaning places words by meaning (WordSim353 {verdict.number(rows['meaning']['wordsim353']['value'])}); "
        f"task places them by the task ({DATASET} probe 1.00; "
        f"WordSim353 {verdict.number(rows['task']['wordsim353']['value'])}); "
        f"blend does both (WordSim353 {verdict.number(rows['blend']['wordsim353']['value'])}; "
        f"{DATASET} probe 1.00).")
    two = client.get("/v1/compare/verdict?spaces=task,meaning").get_json()
    assert [s["space"] for s in two["spaces"]] == ["task", "meaning"] and two["vocabulary"] > 100
    assert client.get("/v1/compare/verdict?spaces=nope").status_code == 404


def test_a_space_without_a_stored_scorecard_has_no_task_score(client, settings, tmp_path):
    from service import create_app
    from service.store import catalog
    from tests.support.tables import toy_table

    catalog.write_space(settings.catalog, "plain", toy_table(), source={"format": "test"})
    body = create_app(settings).test_client().get("/v1/compare/verdict").get_json()
    plain = [s for s in body["spaces"] if s["space"] == "plain"][0]
    assert plain["probe"] is None and plain["task"] is None and plain["kind"] == "vectors"


def test_spearman_matches_scipy_with_ties():
    import numpy as np
    from scipy.stats import spearmanr

    from service.analysis.benchmarks import spearman

    rng = np.random.default_rng(0)
    for n in (3, 20, 353):
        human = rng.integers(0, 6, n).astype(float)  # many ties, as in WordSim353
        model = human + rng.normal(size=n)
        assert spearman(human, model) == pytest.approx(spearmanr(human, model).statistic, abs=1e-12)
    assert spearman([1, 1, 1], [1, 2, 3]) is None
