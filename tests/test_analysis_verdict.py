"""The verdict: intervals (Zou's closed form checked against a bootstrap), the absolute bar,
who leads on what, the sentence written from the numbers, the route over a catalog whose
answer is known by construction (tests/support/scored.py), and that adding spaces of
2,000-10,000 words changes no other space's scores or status."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from service.analysis import benchmarks, verdict
from service.analysis.intervals import difference_interval
from service.analysis.verdict import Probe, Reference, Score, SpaceVerdict, decide
from tests.support.scored import DATASET, OTHER, write_scored_catalog


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
    assert [verdict.number(x, True) for x in (0.156, -0.05, -0.001)] == ["+.16", "-.05", ".00"]


def _cosines(human, noise, rng, shared=None):
    """Model scores that follow `human` up to noise (plus a noise term shared between spaces,
    so their estimates are correlated, as two spaces' cosines of the same pairs are)."""
    extra = 0 if shared is None else shared
    return human + noise * rng.normal(size=len(human)) + extra


@pytest.mark.parametrize("n, noise_a, noise_b, seed", [(353, 2.0, 3.0, 0), (200, 1.0, 1.5, 1),
                                                       (1000, 3.0, 3.0, 2)])
def test_zou_interval_agrees_with_a_paired_bootstrap(n, noise_a, noise_b, seed):
    rng = np.random.default_rng(seed)
    human = rng.uniform(0, 10, n)
    shared = 1.5 * rng.normal(size=n)
    a, b = _cosines(human, noise_a, rng, shared), _cosines(human, noise_b, rng, shared)
    rho = benchmarks.spearman
    low, high = difference_interval(rho(human, a), rho(human, b), rho(a, b), n)
    draws = []
    for _ in range(2000):
        i = rng.integers(0, n, n)
        draws.append(rho(human[i], a[i]) - rho(human[i], b[i]))
    b_low, b_high = np.percentile(draws, [2.5, 97.5])
    assert low < rho(human, a) - rho(human, b) < high
    assert low == pytest.approx(b_low, abs=0.02) and high == pytest.approx(b_high, abs=0.02)


def score(rho, n=300):
    return Score(rho, *verdict.spearman_interval(rho, n), n)


def ref(accuracy: float, test: int = 2550) -> Reference:
    """A task's bag-of-words reference over `test` held-out texts."""
    return Reference("bag of words", accuracy, *verdict.wilson_interval(accuracy, test))


def probe_on(task: str, accuracy: float, reference: Reference | None, test: int = 2550,
             baseline: float = 0.57) -> Probe:
    return Probe(task, Score(accuracy, *verdict.wilson_interval(accuracy, test), test), baseline,
                 reference)


def row(name: str, ws: float, probe: float | None, n: int = 300, test: int = 2550,
        dataset: str = "reviews", reference: float = 0.714) -> SpaceVerdict:
    probes = [] if probe is None else [probe_on(dataset, probe, ref(reference, test), test)]
    return SpaceVerdict(name, "x", score(ws, n), Score(0.3, None, None, n), probes)


def no_comparison(challenger, space):
    return None


@pytest.mark.parametrize("rho, n, status", [
    (0.62, 300, "by meaning"), (0.45, 353, "by meaning"),
    (0.14, 179, "not by meaning"), (0.05, 353, "not by meaning"),
    (0.22, 180, "undetermined"), (0.35, 100, "undetermined"),
    (0.90, 49, "not enough pairs"), (-0.41, 20, "not enough pairs")])
def test_the_bar_is_absolute(rho, n, status):
    assert verdict.status(score(rho, n)) == status
    # and it is the same whatever else is judged with it
    alone = decide([row("x", rho, None, n=n)], no_comparison).spaces[0]
    crowd = decide([row("x", rho, None, n=n), row("y", 0.9, None), row("z", -0.2, None)],
                   no_comparison).spaces[0]
    assert alone.meaning == crowd.meaning == status


def test_the_sentence_follows_the_numbers():
    rows = [row("glove", .503, .695), row("task", .135, .893), row("task-w2v", .573, .888),
            row("word2vec", .598, .650)]
    v = decide(rows, no_comparison)
    assert v.meaning == ["word2vec", "task-w2v", "glove"] and v.task == {"reviews": ["task", "task-w2v"]}
    assert [r.places for r in rows] == ["meaning", "task", "both", "meaning"]
    assert [r.meaning for r in rows] == ["by meaning", "not by meaning", "by meaning", "by meaning"]
    assert v.sentence == ("word2vec and glove place words by meaning (WordSim353 .60, .50); "
                          "task places them by the task (reviews probe .89 vs bag of words .71; "
                          "WordSim353 .14); task-w2v does both (WordSim353 .57; reviews probe .89 "
                          "vs bag of words .71).")
    # glove's interval [.68, .71] straddles the bar (the reference's lower end, .70)
    assert [p.status for r in rows for p in r.probes] == [
        "undetermined", "by the task", "by the task", "not by the task"]
    # the same spaces with other numbers: the sentence changes with them
    rows = [row("glove", .15, .66), row("task", .135, .705), row("task-w2v", .30, .888),
            row("word2vec", .598, .650)]
    v = decide(rows, no_comparison)
    assert v.meaning == ["word2vec"] and v.task == {"reviews": ["task-w2v"]}
    assert [r.places for r in rows] == ["neither", "undetermined", "task", "meaning"]
    assert v.sentence == (
        "word2vec places words by meaning (WordSim353 .60); task-w2v places them by the task "
        "(reviews probe .89 vs bag of words .71; WordSim353 .30); the probes cannot tell whether "
        "task places words by the task (reviews probe .70 [.69, .72] vs bag of words .71 "
        "[.70, .73]); glove does neither (WordSim353 .15 [.03, .26]).")


def test_leading_needs_more_than_being_best():
    # the best WordSim353 below the bar, the best probe at the majority share
    rows = [row("a", 0.05, 0.57, n=100, test=100, reference=.8),
            row("b", -0.02, 0.50, n=100, test=100, reference=.8)]
    v = decide(rows, no_comparison)
    assert v.meaning == [] and v.task == {"reviews": []}
    assert v.sentence.startswith("No space places words by meaning or by a task; a and b do "
                                 "neither (WordSim353 .05 [")


def pairs(human, model, where=None):
    at = np.arange(len(human)) if where is None else np.asarray(where)
    return benchmarks.PairCosines(at, human[at], model[at])


def test_a_meaning_space_leads_unless_another_beats_it_on_the_pairs_both_cover():
    rng = np.random.default_rng(3)
    human = rng.uniform(0, 10, 353)
    shared = rng.normal(size=353)
    good, fair = _cosines(human, 1.5, rng, shared), _cosines(human, 4.0, rng, shared)
    covered = {"good": pairs(human, good), "fair": pairs(human, fair),
               # the same vectors as `good`, but covering only 70% of fair's pairs
               "good-slice": pairs(human, good, np.arange(247))}
    rows = [SpaceVerdict(n, "x", verdict.correlation(c), score(0.3), []) for n, c in covered.items()]
    v = decide(rows, lambda a, b: verdict.difference(covered[a], covered[b]))
    by = {r.space: r for r in v.spaces}
    assert all(r.meaning == "by meaning" for r in v.spaces)
    assert by["fair"].beaten_by.by == "good" and by["fair"].beaten_by.difference.low > 0
    assert by["fair"].beaten_by.difference.n == 353
    assert by["good"].beaten_by is None and by["good-slice"].beaten_by is None
    assert v.meaning == ["good", "good-slice"] or v.meaning == ["good-slice", "good"]
    assert by["fair"].places == "meaning"  # it still places words by meaning; it does not lead
    d = by["fair"].beaten_by.difference
    assert (f"good beats fair on meaning (ρ {verdict.number(d.value, True)} "
            f"[{verdict.number(d.low, True)}, {verdict.number(d.high, True)}] on the 353 pairs both "
            "cover)") in v.sentence
    # without `good`, the slice covers too few of fair's pairs to beat it
    rows = [r for r in rows if r.space != "good"]
    v = decide(rows, lambda a, b: verdict.difference(covered[a], covered[b]))
    assert verdict.difference(covered["good-slice"], covered["fair"]) is None
    assert v.meaning == ["good-slice", "fair"] or v.meaning == ["fair", "good-slice"]


def test_probes_on_different_tasks_are_not_compared():
    rows = [row("news", .1, .95, dataset="clickbait", reference=.90),
            row("reviews", .1, .70, dataset="rt", reference=.62), row("w2v", .6, None)]
    v = decide(rows, no_comparison)
    assert v.task == {"clickbait": ["news"], "rt": ["reviews"]}
    assert ("(clickbait probe .95 vs bag of words .90; rt probe .70 vs bag of words .62; "
            "WordSim353 .10, .10)") in v.sentence
    assert rows[2].places == "meaning" and rows[2].probes == []


def test_every_probe_says_its_task_and_a_space_may_lead_on_several():
    rows = [row("a", .1, .95, dataset="clickbait", reference=.93),
            row("b", .6, .90, dataset="clickbait", reference=.93)]
    rows[0].probes.append(probe_on("rt", .80, ref(.75, 2000), 2000, .5))
    rows[1].probes.append(probe_on("rt", .81, ref(.75, 2000), 2000, .5))
    v = decide(rows, no_comparison)
    assert v.task == {"clickbait": ["a"], "rt": ["b", "a"]}
    assert [(p.task, p.leads) for p in rows[0].probes] == [("clickbait", True), ("rt", True)]
    assert [(p.task, p.leads) for p in rows[1].probes] == [("clickbait", False), ("rt", True)]
    assert rows[0].places == "task" and rows[1].places == "both"


def _defaults_rows():
    """The six defaults' figures as measured (docs/verdict.md): WordSim353 ρ and pairs, and
    the probe on each task, against each task's bag-of-words reference (.714 on sentiment,
    .971 on clickbait)."""
    figures = {"word2vec": (.662, 351, .642, .925), "glove": (.503, 353, .688, .932),
               "sentiment": (.103, 205, .883, .797), "sentiment-w2v": (.670, 351, .899, .920),
               "clickbait": (.144, 269, .603, .988), "clickbait-w2v": (.650, 353, .647, .992)}
    rows = []
    for name, (rho, n, sentiment, clickbait) in figures.items():
        r = SpaceVerdict(name, "x", score(rho, n), Score(0.3, None, None, n), [
            probe_on("sentiment", sentiment, ref(.714, 2550), 2550, .574),
            probe_on("clickbait", clickbait, ref(.971, 6400), 6400, .504)])
        rows.append(r)
    return rows


def test_the_defaults_keep_their_places():
    v = decide(_defaults_rows(), no_comparison)
    assert {r.space: r.places for r in v.spaces} == {
        "word2vec": "meaning", "glove": "meaning", "sentiment": "task", "clickbait": "task",
        "sentiment-w2v": "both", "clickbait-w2v": "both"}
    assert v.task == {"sentiment": ["sentiment-w2v", "sentiment"],
                      "clickbait": ["clickbait-w2v", "clickbait"]}


def test_a_space_s_task_status_is_the_same_alone_and_with_others():
    """Each default's task status and place, judged alone, equal those it has among the six
    and among the six with spaces better on every task added: no space bends another."""
    crowd = {r.space: r for r in decide(_defaults_rows(), no_comparison).spaces}
    better = [row(f"better-{i}", .1, .999, dataset=task, test=6400, reference=ref_at)
              for i, (task, ref_at) in enumerate((("sentiment", .714), ("clickbait", .971)))]
    for r in better:
        r.probes[0].baseline = .574 if r.probes[0].task == "sentiment" else .504
    bigger = {r.space: r for r in decide(_defaults_rows() + better, no_comparison).spaces}
    for alone in _defaults_rows():
        decide([alone], no_comparison)
        for other in (crowd[alone.space], bigger[alone.space]):
            assert [(p.task, p.status) for p in alone.probes] == \
                [(p.task, p.status) for p in other.probes], alone.space
            assert alone.places == other.places, alone.space


def test_a_word_space_alone_is_not_called_task_unless_its_own_probe_clears_the_bar():
    # glove's own figures: alone, under the relative rule, it led every task (it was the best)
    glove = [r for r in _defaults_rows() if r.space == "glove"]
    v = decide(glove, no_comparison)
    assert glove[0].places == "meaning" and v.task == {"sentiment": [], "clickbait": []}
    assert [p.status for p in glove[0].probes] == ["undetermined", "not by the task"]
    assert "glove places words by meaning (WordSim353 .50)." == v.sentence
    # the same space whose probe clears the task's bar does both, alone
    cleared = row("glove", .503, .80, n=353, dataset="sentiment", reference=.714)
    assert decide([cleared], no_comparison).spaces[0].places == "both"
    # and a word space not by meaning whose probe falls short does neither
    short = row("random", .02, .62, n=353, dataset="sentiment", reference=.714)
    v = decide([short], no_comparison)
    assert short.places == "neither" and short.probes[0].status == "not by the task"
    assert v.sentence.startswith("No space places words by meaning or by a task; random does neither")


def test_probes_without_a_reference_are_not_judged():
    """A scorecard from before the task bar holds no reference: its probes say so, and the
    space is not called task (nor neither) on them."""
    old = row("clf", .10, .95)
    old.probes[0].reference = None
    v = decide([old], no_comparison)
    assert old.probes[0].status == "no reference" and old.places == "undetermined"
    assert v.task == {"reviews": []}
    assert "clf has probes without the task's reference to judge them" in v.sentence
    # one probe judged "not", one without a reference: still said, never "neither"
    mixed = row("mixed", .10, .60)
    mixed.probes.append(probe_on("headlines", .95, None))
    v = decide([mixed], no_comparison)
    assert [p.status for p in mixed.probes] == ["not by the task", "no reference"]
    assert mixed.places == "undetermined" and "mixed has probes without" in v.sentence


def test_a_task_space_without_its_task_data_is_not_neither():
    rows = [row("w2v", .60, .65), row("mine", .10, None), row("tuned", .62, None),
            row("clf", .10, .90), row("glove", .10, .62), row("other", .10, .60)]
    rows[1].trained_for = rows[2].trained_for = "headlines"  # task spaces, no probe on their task
    rows[5].trained_for = "headlines"
    v = decide(rows, no_comparison)
    assert [r.places for r in rows] == ["meaning", "no task data", "meaning", "task", "neither",
                                        "no task data"]
    assert v.sentence == ("tuned and w2v place words by meaning (WordSim353 .62, .60); clf places "
                          "them by the task (reviews probe .90 vs bag of words .71; WordSim353 "
                          ".10); glove does "
                          "neither (WordSim353 .10 [-.02, .21]); mine and other have no "
                          "task data (WordSim353 .10, .10).")
    alone = [row("mine", .01, None, n=40)]
    alone[0].trained_for = "headlines"
    assert decide(alone, no_comparison).sentence == ("No space places words by meaning or by a "
                                                      "task; mine has no task data (WordSim353 .01).")
    assert alone[0].places == "no task data"


def test_too_few_pairs_is_said():
    v = decide([row("tiny", -.41, None, n=20), row("w2v", .6, None)], no_comparison)
    assert v.spaces[0].meaning == "not enough pairs" and v.spaces[0].places == "undetermined"
    assert "tiny covers too few WordSim353 pairs to judge (20)" in v.sentence


def test_ranked_takes_turns_between_meaning_and_each_task():
    rows = [row("a", .10, None), row("b", .60, None), row("c", .58, None),
            row("d", .10, .90, dataset="x"), row("e", .10, .89, dataset="x"),
            row("f", .10, .80, dataset="y"), row("g", .10, None)]
    v = decide(rows, no_comparison)
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
    assert {n: s["meaning"] for n, s in rows.items()} == {
        "blend": "by meaning", "meaning": "by meaning", "task": "not by meaning"}
    assert sorted(body["meaning"]) == ["blend", "meaning"]
    assert sorted(body["task"][DATASET]) == sorted(body["task"][OTHER]) == ["blend", "task"]
    assert rows["meaning"]["wordsim353"]["value"] > 0.9 > 0.3 > rows["task"]["wordsim353"]["value"]
    assert [p["task"] for p in rows["meaning"]["probes"]] == [DATASET, OTHER]  # every task
    assert rows["task"]["probes"][0]["accuracy"]["value"] == 1.0
    assert rows["meaning"]["probes"][0]["accuracy"]["value"] < 0.7
    assert rows["meaning"]["kind"] == "word2vec" and rows["task"]["trained_for"] == DATASET
    assert body["rule"]["bar"] == verdict.BAR and body["rule"]["min_pairs"] == verdict.MIN_PAIRS
    assert body["sentence"] == (
        f"meaning places words by meaning (WordSim353 {verdict.number(rows['meaning']['wordsim353']['value'])}); "
        f"task places them by the task ({DATASET} probe 1.00 vs bag of words 1.00; {OTHER} probe "
        f"1.00 vs bag of words 1.00; WordSim353 {verdict.number(rows['task']['wordsim353']['value'])}); "
        f"blend does both (WordSim353 {verdict.number(rows['blend']['wordsim353']['value'])}; "
        f"{DATASET} probe 1.00 vs bag of words 1.00; {OTHER} probe 1.00 vs bag of words 1.00).")
    two = client.get("/v1/compare/verdict?spaces=task,meaning").get_json()
    assert [s["space"] for s in two["spaces"]] == ["task", "meaning"]
    assert two["spaces"][1]["wordsim353"] == rows["meaning"]["wordsim353"]
    assert client.get("/v1/compare/verdict?spaces=nope").status_code == 404


def test_a_space_without_a_stored_scorecard_has_no_task_score(client, settings, tmp_path):
    from service import create_app
    from service.store import catalog
    from tests.support.tables import toy_table

    catalog.write_space(settings.catalog, "plain", toy_table(), source={"format": "test"})
    body = create_app(settings).test_client().get("/v1/compare/verdict").get_json()
    plain = [s for s in body["spaces"] if s["space"] == "plain"][0]
    assert plain["probes"] == [] and plain["trained_for"] is None and plain["kind"] == "vectors"
    assert plain["meaning"] == "not enough pairs" and plain["places"] == "undetermined"


def _added_spaces(cat, rng_seed=11):
    """Spaces of 2,000 to 10,000 words a user might add: seeded random vectors over some of
    the benchmark's words, and slices of the `meaning` space's rows (different pairs each)."""
    from service.store import catalog
    from service.store.space import Space
    from service.store.tables import Table

    meaning = Space.load(cat, "meaning")
    words = sorted({w for a, b, _ in benchmarks.similarity_pairs(benchmarks.WORDSIM) for w in (a, b)})
    rng = np.random.default_rng(rng_seed)
    made = {}
    for name, size, share in (("random-2k", 2000, 0.3), ("random-10k", 10_000, 0.9),
                              ("slice-3k", 3000, 1.0), ("slice-5k", 5000, 0.2)):
        pool = [w for w in words if w in meaning.key_to_index] if name.startswith("slice") else words
        chosen = [w for w in pool if rng.random() < share]
        keys = chosen + [f"user{i}" for i in range(size - len(chosen))]
        vectors = rng.normal(size=(size, meaning.vector_size))
        if name.startswith("slice"):
            have = [i for i, w in enumerate(keys) if w in meaning.key_to_index]
            vectors[have] = [meaning.raw_vector(meaning.key_to_index[keys[i]]) for i in have]
        catalog.write_space(cat, name, Table(keys, vectors), source={"format": "test"},
                            details={"kind": "vectors"}, factory="Flat")
        made[name] = size
    return made


def test_adding_spaces_changes_no_other_space_s_scores_or_status(catalog_dir, tmp_path):
    from service import create_app
    from service.settings import Settings

    def verdict_of(cat):
        body = create_app(Settings(catalog=cat)).test_client().get("/v1/compare/verdict").get_json()
        return {s["space"]: s for s in body["spaces"]}

    before = verdict_of(catalog_dir)
    grown = tmp_path / "grown"
    shutil.copytree(catalog_dir, grown)
    added = _added_spaces(grown)
    after = verdict_of(grown)
    assert set(after) == set(before) | set(added)
    for name, was in before.items():
        now = after[name]
        for field in ("wordsim353", "simlex999", "probes", "meaning", "places"):
            assert now[field] == was[field], (name, field)
    # the added spaces are judged on their own pairs, whatever their size
    assert after["slice-3k"]["meaning"] == "by meaning" and after["slice-3k"]["wordsim353"]["value"] > 0.9
    assert after["random-10k"]["meaning"] == "not by meaning"
    assert after["slice-5k"]["meaning"] == "not enough pairs"
    assert after["random-10k"]["wordsim353"]["n"] > 200  # more pairs than any space before it


def test_spearman_matches_scipy_with_ties():
    from scipy.stats import spearmanr

    from service.analysis.benchmarks import spearman

    rng = np.random.default_rng(0)
    for n in (3, 20, 353):
        human = rng.integers(0, 6, n).astype(float)  # many ties, as in WordSim353
        model = human + rng.normal(size=n)
        assert spearman(human, model) == pytest.approx(spearmanr(human, model).statistic, abs=1e-12)
    assert spearman([1, 1, 1], [1, 2, 3]) is None
