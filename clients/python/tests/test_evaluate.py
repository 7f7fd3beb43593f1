"""gensim parity for the evaluations: gensim's `evaluate_word_pairs` and
`evaluate_word_analogies` on its own test files (wordsim353.tsv, questions-words.txt), run by
gensim over a table and by the facade over the real service holding that table (GloVe's 20,000
most frequent words). Scores agree within 1e-3 and the questions answered right are the same
(up to ties between equally near answers).
"""
from __future__ import annotations

import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors
from gensim.test.utils import datapath

from wordspace_client import Client

pytestmark = pytest.mark.slow  # GloVe 20k, served

TOL = 1e-3
PAIRS = datapath("wordsim353.tsv")
ANALOGIES = datapath("questions-words.txt")


@pytest.fixture(scope="module")
def pair(glove_url, glove_table):
    gkv = GensimKeyedVectors(glove_table.vector_size)
    gkv.add_vectors(list(glove_table.index_to_key), glove_table.vectors)
    with Client(glove_url, timeout=120) as client:
        yield gkv, client.space("glove").keyed_vectors()


@pytest.mark.parametrize("options", [
    {},
    {"restrict_vocab": 3000},
    {"restrict_vocab": 3000, "dummy4unknown": True},
    {"case_insensitive": False},
])
def test_word_pairs_as_gensim(pair, options):
    gkv, kv = pair
    (want_r, want_p), want_rho, want_oov = gkv.evaluate_word_pairs(PAIRS, **options)
    (got_r, got_p), got_rho, got_oov = kv.evaluate_word_pairs(PAIRS, **options)
    assert got_r == pytest.approx(want_r, abs=TOL) and got_p == pytest.approx(want_p, abs=TOL)
    # scipy's own result: gensim users read .correlation (or [0]) and .pvalue
    assert got_rho.correlation == pytest.approx(want_rho.correlation, abs=TOL)
    assert got_rho.pvalue == pytest.approx(want_rho.pvalue, abs=TOL)
    assert got_oov == pytest.approx(want_oov, abs=TOL)
    if options.get("restrict_vocab"):
        assert got_oov > 0  # the restriction did bite


def test_word_pairs_with_no_known_pair_is_gensims_error(pair, tmp_path):
    gkv, kv = pair
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\nzzqx\tqqzx\t1.0\nnot a pair line\n", encoding="utf-8")
    with pytest.raises(ValueError, match="No valid similarity judgements"):
        gkv.evaluate_word_pairs(str(path))
    with pytest.raises(ValueError, match="No valid similarity judgements"):
        kv.evaluate_word_pairs(str(path))


def _same_sections(want: list[dict], got: list[dict]) -> None:
    assert [s["section"] for s in got] == [s["section"] for s in want]
    total = len(want[-1]["correct"]) + len(want[-1]["incorrect"])
    differ = 0
    for w, g in zip(want, got):
        assert len(g["correct"]) + len(g["incorrect"]) == len(w["correct"]) + len(w["incorrect"])
        assert set(g["incorrect"]) | set(g["correct"]) == set(w["incorrect"]) | set(w["correct"])
        if w["section"] != "Total accuracy":
            differ += len(set(g["correct"]) ^ set(w["correct"]))
    assert differ <= max(2, TOL * total), differ  # ties between equally near answers only
    assert all(isinstance(q, tuple) and len(q) == 4 for q in got[-1]["correct"])


@pytest.mark.parametrize("options", [
    {"restrict_vocab": 5000},
    {"restrict_vocab": 2000, "dummy4unknown": True, "case_insensitive": False},
])
def test_word_analogies_as_gensim(pair, options):
    gkv, kv = pair
    want_score, want = gkv.evaluate_word_analogies(ANALOGIES, **options)
    got_score, got = kv.evaluate_word_analogies(ANALOGIES, **options)
    assert got_score == pytest.approx(want_score, abs=TOL)
    assert len(got[-1]["correct"]) > 100  # GloVe answers many: a real comparison, not two zeros
    _same_sections(want, got)


def test_word_analogies_whole_table_and_odd_lines(pair, tmp_path):
    gkv, kv = pair
    path = tmp_path / "analogies.txt"
    path.write_text(": first\nman king woman queen\nMan King Woman Queen\nthree words only\n"
                    "athens greece zzqx qqzx\n: empty\n: second\nparis france berlin germany\n",
                    encoding="utf-8")
    for options in ({}, {"dummy4unknown": True}, {"case_insensitive": False}):
        want_score, want = gkv.evaluate_word_analogies(str(path), **options)
        got_score, got = kv.evaluate_word_analogies(str(path), **options)
        assert got_score == pytest.approx(want_score, abs=TOL)
        assert got == want
    bad = tmp_path / "no-section.txt"
    bad.write_text("man king woman queen\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Missing section header"):
        kv.evaluate_word_analogies(str(bad))
