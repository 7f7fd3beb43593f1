"""/v1/compare/*: side-by-side neighbours, sentences and analogies, alignments, plots, on the
toy spaces plus `other`: the toy table rotated (so an alignment recovers it exactly), with
"alps" moved next to "king", "Paris" left out; the catalog holds a learning curve."""
from __future__ import annotations

import numpy as np
import pytest

from service.analysis.overlap import jaccard, ranks_of, rbo
from service.store import catalog
from service.store.tables import Table
from tests.support.tables import toy_table
from tests.support.curves import write_curves



def other_table() -> Table:
    t = toy_table()
    q = np.linalg.qr(np.random.default_rng(7).normal(size=(16, 16)))[0]
    vectors = t.vectors @ q
    keys = list(t.index_to_key)
    vectors[keys.index("alps")] = vectors[keys.index("king")] * 1.05 + 0.01
    paris = keys.index("Paris")
    keep = [i for i in range(len(keys)) if i != paris]
    return Table([keys[i] for i in keep], vectors[keep])


@pytest.fixture
def catalog_dir(tmp_path, table):
    cat = tmp_path / "indexes"
    catalog.write_space(cat, "toy", table, source={"format": "test"}, details={"kind": "test"})
    catalog.write_space(cat, "toy-hnsw", table, source={"format": "test"}, factory="HNSW32",
                        details={"kind": "test"})
    catalog.write_space(cat, "other", other_table(), source={"format": "test"},
                        details={"kind": "test"})
    write_curves(cat)
    return cat


def test_overlap_measures():
    assert jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert rbo(list("abcdefghij"), list("abcdefghij")) == pytest.approx(1.0)
    assert rbo(list("abc"), list("xyz")) == 0.0
    # a swap at the top costs more than a swap at the bottom
    assert rbo(list("bacdefghij"), list("abcdefghij")) < rbo(list("abcdefghji"), list("abcdefghij"))
    assert ranks_of(np.array([0.1, 0.9, 0.5, 0.7]), [0, 2, 3], exclude=[1]) == [3, 2, 1]


def test_neighbors_side_by_side(get):
    body = get("/v1/compare/neighbors?word=king&k=5", "/v1/compare/neighbors")
    assert [s["space"] for s in body["spaces"]] == ["other", "toy", "toy-hnsw"]
    toy = {s["space"]: s for s in body["spaces"]}
    assert toy["toy"]["neighbors"][0]["word"] == "queen"
    assert toy["toy"]["neighbors"][0]["ranks"] == {"other": 2, "toy-hnsw": 1}  # alps moved in
    assert toy["other"]["neighbors"][0]["word"] == "alps"
    assert toy["other"]["neighbors"][0]["ranks"]["toy"] > 5
    pairs = {(p["a"], p["b"]): p for p in body["pairs"]}
    assert pairs[("toy", "toy-hnsw")]["jaccard"] == 1.0
    assert pairs[("toy", "toy-hnsw")]["rbo"] == pytest.approx(1.0)
    assert 0 < pairs[("other", "toy")]["rbo"] < 1 and "queen" in pairs[("other", "toy")]["shared"]
    assert "queen" in body["shared"] and body["absent"] == []


def test_neighbors_default_leaves_out_spaces_without_the_word(get):
    body = get("/v1/compare/neighbors?word=Paris&k=3", "/v1/compare/neighbors")
    assert [s["space"] for s in body["spaces"]] == ["toy", "toy-hnsw"]
    assert body["absent"] == ["other"] and body["suggestions"] == []  # nothing close in other
    body = get("/v1/compare/neighbors?word=Paris&k=3&spaces=toy,other", "/v1/compare/neighbors")
    assert body["absent"] == ["other"]


def test_a_word_in_no_space_gets_suggestions_from_every_space(get):
    body = get("/v1/compare/neighbors?word=himalayass", "/v1/compare/neighbors", 404)
    assert body["suggestions"][0] == "himalaya" and "none of the spaces" in body["detail"]
    # a misspelling of a word only `toy` has: the suggestion comes from toy
    body = get("/v1/compare/neighbors?word=Pariss", "/v1/compare/neighbors", 404)
    assert body["suggestions"] == ["Paris"]


def test_neighbors_named_space_without_the_word_is_reported(get):
    body = get("/v1/compare/neighbors?word=Paris&k=3&spaces=toy,other", "/v1/compare/neighbors")
    other = body["spaces"][1]
    assert other == {"space": "other", "found": False, "key": None, "neighbors": [],
                     "suggestions": other["suggestions"]}
    assert body["spaces"][0]["key"] == "Paris" and body["pairs"] == []


@pytest.mark.parametrize("url, status, parameter", [
    ("/v1/compare/neighbors?word=zzzqqq", 404, None),
    ("/v1/compare/neighbors?word=king&spaces=toy,nope", 404, None),
    ("/v1/compare/neighbors?word=king&k=0", 400, "k"),
    ("/v1/compare/neighbors?word=king&k=51", 400, "k"),
    ("/v1/compare/neighbors", 400, "word"),
    ("/v1/compare/neighbors?word=king&spaces=" + ",".join(f"s{i}" for i in range(9)), 400, "spaces"),
])
def test_neighbors_errors(get, url, status, parameter):
    body = get(url, "/v1/compare/neighbors", status)
    assert body["status"] == status and body.get("parameter") == parameter


def test_sentences(client, check_spec):
    texts = ["The king and the queen.", "A queen, a KING!", "alps pyrenees himalaya", "zzz qqq"]
    r = client.post("/v1/compare/sentences", json={"sentences": texts, "spaces": ["toy", "other"]})
    assert r.status_code == 200
    body = r.get_json()
    check_spec("/v1/compare/sentences", "POST", 200, body, r.content_type)
    toy = body["spaces"][0]
    assert toy["space"] == "toy" and len(toy["vectors"]) == 4 and len(toy["vectors"][0]) == 16
    sim = toy["similarity"]
    assert sim[0][0] == pytest.approx(1.0) and sim[0][1] == pytest.approx(1.0, abs=1e-5)
    assert sim[0][2] < 0.5 and sim[3] == [None] * 4
    assert toy["missing"] == [["the", "and", "the"], ["a", "a"], [], ["zzz", "qqq"]]
    assert toy["found"] == [2, 2, 3, 0]


@pytest.mark.parametrize("body", [
    {"sentences": ["only one"]},
    {"sentences": ["a", ""]},
    {"sentences": ["a", 3]},
    {"sentences": ["a"] * 17},
    {"sentences": ["a", "b"], "spaces": "toy"},
    {"sentences": ["a", "b"], "spaces": ["nope"]},
    [],
])
def test_sentences_errors(client, check_spec, body):
    r = client.post("/v1/compare/sentences", json=body)
    assert r.status_code in (400, 404) and r.content_type == "application/problem+json"
    check_spec("/v1/compare/sentences", "POST", r.status_code, r.get_json(), r.content_type)


def test_analogy_in_every_space(get):
    body = get("/v1/compare/analogy?a=man&b=king&c=woman&k=3&expected=queen",
               "/v1/compare/analogy")
    for s in body["spaces"]:
        assert s["found"] and s["answers"][0]["word"] == "queen" and s["expected_rank"] == 1
    body = get("/v1/compare/analogy?a=man&b=king&c=Paris&method=3cosmul&expected=woman",
               "/v1/compare/analogy")
    other = [s for s in body["spaces"] if s["space"] == "other"][0]
    assert other == {"space": "other", "found": False, "answers": [], "missing": ["Paris"],
                     "expected_rank": None}
    toy = [s for s in body["spaces"] if s["space"] == "toy"][0]
    assert toy["found"] and toy["expected_rank"] >= 1


def test_align_translate_drift(get):
    fit = get("/v1/compare/align?source=toy&target=other", "/v1/compare/align")
    assert fit["shared"] == 307 and fit["fit_words"] + fit["heldout_words"] == 307
    assert fit["heldout_precision_at_1"] > 0.95 and fit["fit_cosine"] > 0.95
    body = get("/v1/compare/translate?word=queen&source=toy&target=other&k=3",
               "/v1/compare/translate")
    assert body["neighbors"][0]["word"] == "queen" and body["self_rank"] == 1
    assert body["self_cosine"] > 0.99
    body = get("/v1/compare/translate?word=Paris&source=toy&target=other&k=3",
               "/v1/compare/translate")
    assert body["self_rank"] is None and len(body["neighbors"]) == 3
    body = get("/v1/compare/drift?source=toy&target=other&n=3", "/v1/compare/drift")
    first = body["words"][0]
    assert first["word"] == "alps" and first["cosine"] < 0.5
    assert first["source_neighbors"][:2] == ["pyrenees", "himalaya"] or \
        set(first["source_neighbors"][:2]) == {"pyrenees", "himalaya"}
    assert "king" in first["target_neighbors"]
    assert body["words"][1]["cosine"] > 0.9


@pytest.mark.parametrize("url, template, status", [
    ("/v1/compare/align?source=toy&target=toy", "/v1/compare/align", 400),
    ("/v1/compare/align?source=toy", "/v1/compare/align", 400),
    ("/v1/compare/align?source=toy&target=nope", "/v1/compare/align", 404),
    ("/v1/compare/translate?word=nope&source=toy&target=other", "/v1/compare/translate", 404),
    ("/v1/compare/drift?source=toy&target=other&n=501", "/v1/compare/drift", 400),
    ("/v1/compare/drift?source=toy&target=other&n=x", "/v1/compare/drift", 400),
])
def test_alignment_errors(get, url, template, status):
    assert get(url, template, status)["status"] == status


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_word_plot(get, fmt, magic):
    data = get(f"/v1/compare/plot?words=king,queen,man,woman,alps,Paris&format={fmt}",
               "/v1/compare/plot")
    assert data.startswith(magic)
    if fmt == "svg":
        text = data.decode()
        assert text.count("queen") >= 3  # one label per panel
        assert text.count("Paris: not in other") == 1  # the missing word listed once


def test_word_plot_over_frequent_words(get):
    assert get("/v1/compare/plot?words=king&basis=frequent&spaces=toy",
               "/v1/compare/plot").startswith(b"<?xml")


@pytest.mark.parametrize("query", ["words=" + ",".join(f"w{i}" for i in range(41)),
                                   "words=king&format=gif", "words=king&basis=x", "words=,,"])
def test_word_plot_errors(get, query):
    assert get(f"/v1/compare/plot?{query}", "/v1/compare/plot", 400)["status"] == 400


def test_scorecard_plot(get):
    svg = get("/v1/compare/plot/scorecard?spaces=toy,other", "/v1/compare/plot/scorecard")
    assert b"WordSim353" in svg and b"other" in svg


def test_similarity_of_pairs_in_every_space(get, client, check_spec):
    body = get("/v1/compare/similarity?pairs=king:queen,alps:Paris,king:zzz",
               "/v1/compare/similarity")
    assert body["spaces"] == ["other", "toy", "toy-hnsw"]
    king, paris, zzz = body["results"]
    assert (king["a"], king["b"]) == ("king", "queen")
    assert king["scores"]["toy"] == pytest.approx(king["scores"]["toy-hnsw"])
    assert king["scores"]["toy"] == pytest.approx(king["scores"]["other"], abs=1e-5)  # a rotation
    assert paris["scores"]["other"] is None and paris["missing"] == {
        "other": ["Paris"], "toy": [], "toy-hnsw": []}
    assert zzz["scores"] == {"other": None, "toy": None, "toy-hnsw": None}
    r = client.post("/v1/compare/similarity",
                    json={"pairs": [["alps", "king"], ["alps", "pyrenees"]], "spaces": ["toy", "other"]})
    posted = r.get_json()
    check_spec("/v1/compare/similarity", "POST", 200, posted, r.content_type)
    assert posted["spaces"] == ["toy", "other"]
    moved, near = posted["results"]
    assert moved["scores"]["other"] > 0.9 > 0.1 > moved["scores"]["toy"]  # alps moved to king
    assert near["scores"]["toy"] > 0.9


@pytest.mark.parametrize("query", ["", "pairs=", "pairs=good", "pairs=a:b:c", "pairs=a:",
                                   "pairs=" + ",".join(["a:b"] * 9), "pairs=" + "a" * 301])
def test_similarity_errors(get, query):
    body = get(f"/v1/compare/similarity?{query}", "/v1/compare/similarity", 400)
    assert body["parameter"] == "pairs"


@pytest.mark.parametrize("body, status", [
    ({}, 400), ({"pairs": []}, 400), ({"pairs": [["a"]]}, 400), ({"pairs": [["a", 3]]}, 400),
    ({"pairs": "a:b"}, 400), ({"pairs": [["a", "b"]], "spaces": "toy"}, 400),
    ({"pairs": [["a", "b"]], "spaces": ["nope"]}, 404),
])
def test_similarity_post_errors(client, check_spec, body, status):
    r = client.post("/v1/compare/similarity", json=body)
    assert r.status_code == status and r.content_type == "application/problem+json"
    check_spec("/v1/compare/similarity", "POST", status, r.get_json(), r.content_type)


def test_projection_of_a_word_list_in_every_space(get):
    body = get("/v1/compare/projection?words=king,queen,man,woman,Paris,zzz&spaces=toy,other",
               "/v1/compare/projection")
    toy, other = body["spaces"]
    assert [s["space"] for s in body["spaces"]] == ["toy", "other"]  # the order asked for
    assert [p["word"] for p in toy["points"]] == ["king", "queen", "man", "woman", "Paris"]
    assert [p["word"] for p in other["points"]] == ["king", "queen", "man", "woman"]
    assert other["absent"] == ["Paris", "zzz"] and toy["basis"] == "words"
    assert body["absent"] == {"Paris": ["other"], "zzz": ["toy", "other"]}
    # three words span a plane: their projection keeps every distance between the unit vectors
    three = get("/v1/compare/projection?words=king,queen,alps&spaces=toy", "/v1/compare/projection")
    xy = {p["word"]: np.array([p["x"], p["y"]]) for p in three["spaces"][0]["points"]}
    unit = {w: v / np.linalg.norm(v) for w, v in zip(toy_table().index_to_key, toy_table().vectors)}
    for a, b in (("king", "queen"), ("king", "alps"), ("queen", "alps")):
        assert np.linalg.norm(xy[a] - xy[b]) == pytest.approx(np.linalg.norm(unit[a] - unit[b]), abs=1e-5)


def test_projection_of_a_word_and_each_space_own_neighbors(get):
    body = get("/v1/compare/projection?word=alps&k=3", "/v1/compare/projection")
    by_space = {s["space"]: [p["word"] for p in s["points"]] for s in body["spaces"]}
    assert set(by_space["toy"]) == {"alps", "pyrenees", "himalaya", by_space["toy"][3]}
    assert by_space["toy"][:1] == ["alps"] and "king" in by_space["other"]  # its own neighbours
    body = get("/v1/compare/projection?word=Paris&k=3", "/v1/compare/projection")
    other = [s for s in body["spaces"] if s["space"] == "other"][0]
    assert other["points"] == [] and body["absent"] == {"Paris": ["other"]}
    assert get("/v1/compare/plot?word=Paris&k=3", "/v1/compare/plot").startswith(b"<?xml")


@pytest.mark.parametrize("query", ["word=king&k=31", "word=king&k=0", "word=", "basis=x&word=king"])
def test_projection_errors(get, query):
    assert get(f"/v1/compare/projection?{query}", "/v1/compare/projection", 400)["status"] == 400


# --- 16 spaces (tests/support/many.py): which spaces each comparison covers ---

@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A client over 16 spaces; only the three of tests/support/scored.py carry scorecards (the build's),
    so the five other task spaces have no task data."""
    from service import create_app
    from service.settings import Settings
    from tests.support.many import write_many_catalog

    tmp = tmp_path_factory.mktemp("many")
    cat = write_many_catalog(tmp / "indexes", tmp, scored_extras=False)
    return create_app(Settings(catalog=cat, max_batch=8)).test_client()


@pytest.fixture
def ask(many, check_spec):
    def do(url, template, status=200, body=None):
        r = many.post(url, json=body) if body is not None else many.get(url)
        assert r.status_code == status, r.get_data(as_text=True)[:400]
        data = r.get_json() if r.is_json else r.data
        check_spec(template, "POST" if body is not None else "GET", status, data, r.content_type)
        return data, r
    return do


@pytest.mark.slow  # sixteen spaces, each scored at load: seconds
def test_sixteen_spaces_every_space_where_a_space_costs_little(ask):
    from tests.support.many import NAMES

    verdict, _ = ask("/v1/compare/verdict", "/v1/compare/verdict")
    assert [s["space"] for s in verdict["spaces"]] == NAMES
    named, _ = ask("/v1/compare/verdict?spaces=" + ",".join(reversed(NAMES)), "/v1/compare/verdict")
    assert [s["space"] for s in named["spaces"]] == NAMES[::-1]  # 16 named: no limit here
    pairs, _ = ask("/v1/compare/similarity?pairs=king:queen,alps:himalaya",
                   "/v1/compare/similarity")
    assert pairs["spaces"] == NAMES and set(pairs["results"][0]["scores"]) == set(NAMES)
    posted, _ = ask("/v1/compare/similarity", "/v1/compare/similarity",
                    body={"pairs": [["king", "queen"]], "spaces": NAMES[::-1]})
    assert posted["spaces"] == NAMES[::-1]
    cards, _ = ask("/v1/compare/evaluation", "/v1/compare/evaluation")
    assert [c["space"] for c in cards["spaces"]] == NAMES


@pytest.mark.slow  # sixteen spaces, each scored at load: seconds
def test_sixteen_spaces_the_verdict_ranks_the_few_compared(ask):
    from service.analysis import verdict as verdicts
    from tests.support.many import NAMES

    v, _ = ask("/v1/compare/verdict", "/v1/compare/verdict")
    leaders = set(v["meaning"]) | {n for names in v["task"].values() for n in names}
    assert {"meaning", "task", "blend"} <= leaders < set(NAMES) and len(leaders) <= 8
    ranked = verdicts.ranked(verdicts.Verdict(v["sentence"], [verdicts.SpaceVerdict(
        s["space"], s["kind"], None, None, [], meaning=s["meaning"], places=s["places"])
        for s in v["spaces"]], v["meaning"], v["task"]))
    expected = [n for n in NAMES if n in ranked[:8]]  # the 8 ranked first, in catalog order

    body, _ = ask("/v1/compare/neighbors?word=king&k=3", "/v1/compare/neighbors")
    assert [s["space"] for s in body["spaces"]] == expected and leaders <= set(expected)
    assert body["omitted"] == [n for n in NAMES if n not in expected] and body["absent"] == []
    assert "8 of 16" in body["note"] and all(n in body["note"] for n in body["omitted"])
    assert len(body["pairs"]) == 28  # every pair of the 8

    for url, template, body in [
            ("/v1/compare/analogy?a=man&b=king&c=woman", "/v1/compare/analogy", None),
            ("/v1/compare/projection?words=king,queen,alps", "/v1/compare/projection", None),
            ("/v1/compare/projection?word=king&k=3", "/v1/compare/projection", None),
            ("/v1/compare/sentences", "/v1/compare/sentences", {"sentences": ["king", "queen"]})]:
        answer, _ = ask(url, template, body=body)
        assert [s["space"] for s in answer["spaces"]] == expected, url
        assert answer["omitted"] == body_omitted(expected) and answer["note"], url
    for url, template in [("/v1/compare/plot?words=king,queen", "/v1/compare/plot"),
                          ("/v1/compare/plot/scorecard", "/v1/compare/plot/scorecard")]:
        _, r = ask(url, template)
        assert r.headers["Wordspace-Omitted-Spaces"] == ", ".join(body_omitted(expected)), url

    # naming 8 is fine and says nothing was left out
    eight, _ = ask("/v1/compare/neighbors?word=king&k=3&spaces=" + ",".join(NAMES[-8:]),
                   "/v1/compare/neighbors")
    assert [s["space"] for s in eight["spaces"]] == NAMES[-8:]
    assert eight["omitted"] == [] and eight["note"] is None


def body_omitted(expected: list[str]) -> list[str]:
    from tests.support.many import NAMES

    return [n for n in NAMES if n not in expected]


@pytest.mark.slow  # sixteen spaces, each scored at load: seconds
@pytest.mark.parametrize("url,template,body", [
    ("/v1/compare/neighbors?word=king&spaces={}", "/v1/compare/neighbors", None),
    ("/v1/compare/analogy?a=man&b=king&c=woman&spaces={}", "/v1/compare/analogy", None),
    ("/v1/compare/projection?words=king&spaces={}", "/v1/compare/projection", None),
    ("/v1/compare/sentences", "/v1/compare/sentences", {"sentences": ["a b", "c"]}),
])
def test_naming_too_many_says_which_to_name(ask, url, template, body):
    from tests.support.many import NAMES

    nine = NAMES[:9]
    if body is not None:
        body = {**body, "spaces": nine}
    problem, _ = ask(url.format(",".join(nine)), template, 400, body=body)
    assert problem["parameter"] == "spaces" and problem["spaces"] == NAMES
    assert "at most 8" in problem["detail"] and all(n in problem["detail"] for n in NAMES)
    default, _ = ask("/v1/compare/neighbors?word=king", "/v1/compare/neighbors")
    assert problem["suggestions"] == [s["space"] for s in default["spaces"]]


@pytest.mark.slow  # sixteen spaces, each scored at load: seconds
def test_a_task_space_without_task_data_is_said_so(ask):
    from tests.support.many import EXTRA

    v, _ = ask("/v1/compare/verdict", "/v1/compare/verdict")
    rows = {s["space"]: s for s in v["spaces"]}
    untested = [n for n in EXTRA if n.startswith("user-classifier")]  # task spaces, no scorecard
    for name in untested:
        assert rows[name]["trained_for"] and rows[name]["probes"] == []
        assert rows[name]["places"] in ("no task data", "meaning")
    assert any(rows[n]["places"] == "no task data" for n in untested)
    clauses = v["sentence"].split("; ")
    assert any("no task data" in c for c in clauses)
    neither = [c for c in clauses if " neither (" in c]
    assert not any(n in c for c in neither for n in untested)  # never "does neither"
    assert rows["meaning"]["trained_for"] is None and rows["task"]["trained_for"] == "toy-reviews"
