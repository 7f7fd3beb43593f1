"""The scorecard: benchmarks on spaces built to score known values, task-side scores on a
synthetic task, geometry, caching and refresh, evaluation.json, and the two routes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from service.analysis import benchmarks, geometry, probe, scorecard, sentence_vectors
from service.store import catalog
from service.store.embed import EMBED_FORMAT, load_embed_config
from service.store.space import Space
from service.store.tables import Table
from service.text import SETTINGS as TOKENIZER
from service.web.state import state
from tests.support.tables import bench_table, task_table, task_texts, unit_vector

@pytest.fixture
def catalog_dir(tmp_path):
    cat = tmp_path / "indexes"
    table, _ = bench_table()
    catalog.write_space(cat, "bench", table, source={"format": "test"})
    catalog.write_space(cat, "bench-small", bench_table(seed=1, drop=("athens", "love"))[0],
                        source={"format": "test"})
    return cat


def test_word_similarity_scores_the_covered_pairs(catalog_dir):
    space = Space.load(catalog_dir, "bench")
    _, covered = bench_table()
    for name in (benchmarks.WORDSIM, benchmarks.SIMLEX):
        result = benchmarks.word_similarity(space, name)
        assert result.total == len(benchmarks.similarity_pairs(name))
    result = benchmarks.word_similarity(space, benchmarks.WORDSIM)
    assert result.answered >= covered > 50 and result.total == 353
    assert result.spearman > 0.9


def test_analogies_count_and_score_the_covered_questions(catalog_dir):
    space = Space.load(catalog_dir, "bench")
    scores = benchmarks.analogies(space)
    for method in ("3cosadd", "3cosmul"):
        m = scores.methods[method]
        assert m["semantic"].answered == m["overall"].answered >= 506  # 23 capitals x 22
        assert m["semantic"].accuracy > 0.95, method
        assert m["syntactic"].answered == 0 and m["syntactic"].accuracy is None
        assert m["overall"].total == 19544 and m["semantic"].total == 8869
    assert scores.candidates == len(space)


def test_shared_scores_use_the_same_items_for_every_space(catalog_dir):
    spaces = [Space.load(catalog_dir, n) for n in ("bench", "bench-small")]
    shared = scorecard.shared_scores(spaces)
    a, b = (shared["scores"][n] for n in ("bench", "bench-small"))
    assert a["wordsim353"]["answered"] == b["wordsim353"]["answered"]
    own = benchmarks.analogies(spaces[0]).methods["3cosadd"]["overall"].answered
    assert a["analogy"]["methods"]["3cosadd"]["overall"]["answered"] == \
        b["analogy"]["methods"]["3cosadd"]["overall"]["answered"] < own  # athens is gone
    assert shared["vocabulary"] == shared["candidates"] <= len(spaces[1])


def test_task_scores_tell_a_task_space_from_a_random_one(tmp_path):
    texts, labels = task_texts()
    associations = probe.class_words(texts, labels)
    assert associations["great"] == "fresh" and associations["dull"] == "rotten"
    assert "film" not in associations
    scores = {}
    for separated in (True, False):
        space = scorecard.as_space(task_table(separated))
        scores[separated] = (probe.linear_probe(space, texts, labels),
                             probe.neighborhood_purity(space, associations, k=3))
    (good_probe, good_purity), (_, bad_purity) = scores[True], scores[False]
    assert good_probe.accuracy == 1.0 and good_probe.test == 60 and good_probe.baseline <= 0.6
    assert good_purity.purity == 1.0 and good_purity.words == 8
    assert good_purity.chance == pytest.approx(3 / 7)
    assert bad_purity.purity < 0.8


def test_geometry_sees_anisotropy_and_norms():
    rng = np.random.default_rng(0)
    iso = Table([f"w{i}" for i in range(500)], rng.normal(size=(500, 32)))
    aniso = Table(iso.index_to_key, iso.vectors + 10 * unit_vector(rng, 32))
    g_iso, g_aniso = (geometry.geometry(scorecard.as_space(t)) for t in (iso, aniso))
    assert abs(g_iso.mean_cosine) < 0.05 < 0.5 < g_aniso.mean_cosine
    assert g_iso.hubness_rows == 500 and g_iso.hubness_skew is not None
    assert 0 < g_iso.norm_cv < 0.3 and g_iso.norm_min <= g_iso.norm_median <= g_iso.norm_max


def test_evaluate_space_takes_a_table_and_a_task():
    texts, labels = task_texts()
    result = scorecard.evaluate_space(task_table(True), task=(texts, labels))
    assert result["task"]["computed"] and result["task"]["probe"]["accuracy"] == 1.0
    assert set(result["seconds"]) == set(scorecard.SECTIONS)
    assert result["settings"]["case_folding"].startswith("lower")


def test_a_table_scored_before_publishing_scores_as_the_published_task_space(tmp_path):
    """The build scores a task space before writing it, with the embed.json it will publish:
    its sentence vectors are the classifier's pooling, and its scores match the published
    space's."""
    texts, labels = task_texts()
    table = task_table(True)
    rng = np.random.default_rng(1)
    config = {"format": EMBED_FORMAT, "tokenizer": TOKENIZER, "pooling": "mean",
              "mask_zero": True, "sequence_length": 5, "unk_token": "[UNK]",
              "unk_vector": (3 * rng.normal(size=32)).tolist()}
    path = tmp_path / "embed.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    catalog.write_space(tmp_path / "indexes", "task", table, source={"format": "test"},
                        extra_files={"embed.json": path})
    published = Space.load(tmp_path / "indexes", "task")
    before = scorecard.as_space(table, "task", load_embed_config(path))

    pooled = sentence_vectors.embed(before, texts[:20])
    np.testing.assert_array_equal(pooled.vectors, sentence_vectors.embed(published, texts[:20]).vectors)
    word_mean = sentence_vectors.embed(scorecard.as_space(table), texts[:20])
    assert pooled.found[0] == 5 and word_mean.found[0] == 6  # truncated, [UNK] counted
    scores = [scorecard.evaluate_space(s, (texts, labels), sections=("task",), task_name="toy",
                                        source=src)
              for s, src in ((before, "build"), (published, "request"))]
    assert scores[0]["task"] == scores[1]["task"] and scores[0]["task"]["dataset"] == "toy"
    assert [s["source"] for s in scores] == ["build", "request"]
    bad = scorecard.as_space(table, "task", {**config, "pooling": "median"})
    with pytest.raises(ValueError, match="pooling 'median'"):
        sentence_vectors.embed(bad, texts[:1])


def test_route_serves_what_the_load_computed_and_admin_refreshes(settings, check_spec, monkeypatch):
    from dataclasses import replace

    from service import create_app

    client = create_app(replace(settings, api_keys=("k",))).test_client()
    key = {"Authorization": "Bearer k"}
    url = "/v1/spaces/bench/evaluation"
    first = client.get(url, headers=key)
    body = first.get_json()
    check_spec("/v1/spaces/{space}/evaluation", "GET", 200, body, first.content_type)
    # Computed when the space loaded, not by this request.
    assert body["refreshed"] == [] and body["kept"] == list(scorecard.SECTIONS)
    assert body["wordsim353"]["spearman"] > 0.9 and body["task"]["computed"] is False
    again = client.get(url, headers=key).get_json()
    assert again["refreshed"] == [] and again["computed_at"] == body["computed_at"]
    admin = "/v1/admin/spaces/bench/evaluation"
    monkeypatch.setattr(scorecard, "REFRESH_BUDGET", -1.0)  # as if they had been slow
    assert client.post(admin, headers=key).get_json()["kept"] == ["analogy", "task", "probes"]
    monkeypatch.setattr(scorecard, "REFRESH_BUDGET", 60.0)
    assert client.post(admin, headers=key).get_json()["refreshed"] == list(scorecard.SECTIONS)
    bad = client.get(url + "?refresh=true", headers=key)
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "refresh"
    assert client.get("/v1/spaces/nope/evaluation", headers=key).status_code == 404


def test_route_reads_the_stored_evaluation_json(tmp_path, settings):
    cat = settings.catalog
    table, _ = bench_table()
    stored = scorecard.evaluate_space(table, sections=("wordsim353",))
    stored.update({s: {"stored": True} for s in scorecard.SECTIONS if s != "wordsim353"})
    stored["task"] = {"computed": True, "dataset": "toy", "stored": True}  # scored by a build
    stored["seconds"]["task"] = 0.1
    path = scorecard.write_evaluation(stored, tmp_path / "evaluation.json")
    catalog.write_space(cat, "bench", table, source={"format": "test"},
                        extra_files={"evaluation.json": path})
    from service import create_app

    from dataclasses import replace

    client = create_app(replace(settings, api_keys=("k",))).test_client()
    key = {"Authorization": "Bearer k"}
    body = client.get("/v1/spaces/bench/evaluation", headers=key).get_json()
    assert body["analogy"] == {"stored": True} and body["refreshed"] == []
    assert body["source"] == "request"  # evaluate_space's default; the build says "build"
    # No task texts here: a refresh keeps the build's task section rather than losing it.
    body = client.post("/v1/admin/spaces/bench/evaluation", headers=key).get_json()
    assert body["kept"] == ["analogy", "task", "probes"] and body["task"]["stored"]
    assert body["geometry"] != {"stored": True} and body["source"] == "request"


def test_compare_evaluation_adds_shared_vocabulary(client, check_spec):
    r = client.get("/v1/compare/evaluation?spaces=bench,bench-small")
    body = r.get_json()
    check_spec("/v1/compare/evaluation", "GET", 200, body, r.content_type)
    assert [s["space"] for s in body["spaces"]] == ["bench", "bench-small"]
    assert set(body["shared"]["scores"]) == {"bench", "bench-small"}
    one = client.get("/v1/compare/evaluation?spaces=bench").get_json()
    assert one["shared"] is None and "shared_note" not in one


def test_shared_scores_are_computed_at_load_never_by_a_request(catalog_dir, settings, check_spec):
    """The shared-vocabulary benchmarks of all loaded spaces are ready when the app is; a
    request for another set of spaces gets none (and says why) instead of seconds of CPU."""
    from service import create_app

    catalog.write_space(catalog_dir, "bench-other", bench_table(seed=2)[0], source={"format": "test"})
    app = create_app(settings)
    evals = state(app).evaluations
    spaces = sorted(state(app).registry.spaces.values(), key=lambda s: s.name)
    assert evals.shared(spaces, compute=False) is not None  # warmed at load
    client = app.test_client()
    every = client.get("/v1/compare/evaluation").get_json()
    assert set(every["shared"]["scores"]) == {"bench", "bench-small", "bench-other"}
    r = client.get("/v1/compare/evaluation?spaces=bench,bench-small")
    check_spec("/v1/compare/evaluation", "GET", 200, r.get_json(), r.content_type)
    assert r.get_json()["shared"] is None and "computed at start" in r.get_json()["shared_note"]
    assert evals.shared(spaces[:2], compute=False) is None  # and the request computed nothing


def test_every_task_probed_and_a_gensim_copy_of_a_task_space_scores_as_it(tmp_path):
    """The probes pool every space's rows one way: a task space (embed.json: [UNK] row,
    sequence length, the classifier's pooling) and a gensim KeyedVectors copy of its rows,
    read back as a word space, get identical probes on every task, although their model
    sentence vectors differ."""
    from gensim.models import KeyedVectors

    from service.store.tables import read_table

    texts, labels = task_texts()
    other = task_texts(n=200, seed=1)
    flipped = (other[0], ["rotten" if x == "fresh" else "fresh" for x in other[1]])
    tasks = {"toy": (texts, labels), "other": flipped}
    table = task_table(True)
    config = {"format": EMBED_FORMAT, "tokenizer": TOKENIZER, "pooling": "mean",
              "mask_zero": True, "sequence_length": 5, "unk_token": "[UNK]",
              "unk_vector": (3 * np.random.default_rng(1).normal(size=32)).tolist()}
    task_space = scorecard.as_space(table, "task", config)
    kv = KeyedVectors(vector_size=table.vector_size)
    kv.add_vectors(table.index_to_key, table.vectors)
    kv.save(str(tmp_path / "copy.kv"))
    copied = read_table("gensim", tmp_path / "copy.kv")
    catalog.write_space(tmp_path / "indexes", "copy", copied, source={"format": "gensim"})
    copy = Space.load(tmp_path / "indexes", "copy")
    cards = [scorecard.evaluate_space(s, (texts, labels), task_name="toy", tasks=tasks,
                                      sections=("task", "probes"), source="build")
             for s in (task_space, copy)]
    assert cards[0]["probes"] == cards[1]["probes"] and cards[0]["task"] == cards[1]["task"]
    probes = cards[0]["probes"]
    assert probes["computed"] and list(probes["tasks"]) == ["toy", "other"]
    assert probes["pooling"] == probe.POOLING
    assert probes["tasks"]["toy"]["probe"] == cards[0]["task"]["probe"]
    assert probes["tasks"]["toy"]["probe"]["accuracy"] == 1.0
    assert probes["tasks"]["other"]["documents"] == 200
    # the models' own sentence vectors (embed, compare) differ: [UNK] and truncation
    assert not np.allclose(sentence_vectors.embed(task_space, texts[:5]).vectors,
                           sentence_vectors.embed(copy, texts[:5]).vectors)
    np.testing.assert_allclose(probe.pooled(copy, texts[:1])[0],
                               table.vectors[[table.index_to_key.index(t) for t in texts[0].split()]].mean(axis=0),
                               rtol=1e-5)
    no_tasks = scorecard.evaluate_space(copy, sections=("probes",))
    assert no_tasks["probes"]["computed"] is False


def test_shared_scores_without_analogies_read_those_warmed_at_load(catalog_dir, settings):
    """The shared scores without analogies are a part of those warmed in the master: a worker
    reads them, in any order of the spaces, instead of touching every key again."""
    from service import create_app

    app = create_app(settings)
    evals = state(app).evaluations
    spaces = sorted(state(app).registry.spaces.values(), key=lambda s: s.name)
    warmed = evals.shared(spaces, compute=False)
    assert warmed is not None and warmed["candidates"] > 0
    assert evals.shared(spaces[::-1], analogies=False, compute=False) is warmed


def test_the_probe_on_sparse_features_is_the_probe_on_dense_ones():
    """The bag-of-words reference runs the probe on a scipy sparse matrix, scaled but not
    centred: the same classifier as on the dense matrix (centring moves only the intercept),
    so the same held-out accuracy; and the bag of words is the identity embedding pooled as
    every space is (probe.pooled of one-hot rows)."""
    from scipy import sparse

    texts, labels = task_texts(n=300, seed=4)
    flip = np.random.default_rng(1).random(len(labels)) < 0.2  # a label the words cannot tell
    labels = [("rotten" if x == "fresh" else "fresh") if f else x for x, f in zip(labels, flip)]
    X = probe.bag_of_words(texts)
    assert sparse.issparse(X) and X.shape[0] == len(texts)
    words = sorted({w for t in texts for w in t.split()})
    identity = scorecard.as_space(Table(words, np.eye(len(words), dtype="float32")), "identity")
    np.testing.assert_allclose(X.toarray(), probe.pooled(identity, texts), atol=1e-6)
    noisy = X.toarray() + np.random.default_rng(0).normal(scale=0.05, size=X.shape)
    rows = np.arange(0, len(texts), 2)
    scaled = probe.standardise(sparse.csr_matrix(noisy), rows)
    assert sparse.issparse(scaled)  # a vocabulary of tens of thousands stays sparse
    np.testing.assert_allclose(scaled.toarray() - scaled.toarray()[rows].mean(axis=0),
                               probe.standardise(noisy, rows), atol=1e-6)
    dense = probe.fit_probe(noisy, labels)
    on_sparse = probe.fit_probe(sparse.csr_matrix(noisy), labels)
    assert on_sparse.accuracy == pytest.approx(dense.accuracy, abs=1 / dense.test)
    reference = probe.reference(texts, labels)
    assert reference == probe.reference(texts, labels)  # deterministic
    assert reference["accuracy"] == pytest.approx(probe.fit_probe(X.toarray(), labels).accuracy,
                                                  abs=1 / reference["test"])
    assert 0.6 < reference["accuracy"] < 1.0 and reference["features"] == len(words)
    assert reference["low"] < reference["accuracy"] < reference["high"]
