"""gensim's own KeyedVectors tests, held against the client's facade over a served space.

The tests are the installed gensim's `gensim/test/test_keyedvectors.py`, imported at test time
(never a copy), its `TestKeyedVectors` subclassed with one change: after gensim's own `setUp`
(which loads `datapath('euclidean_vectors.bin')` and sets the loader tests' paths),
`self.vectors` is the facade over a space `wordspace build-index` made from that same file with
an exact index, served by the real server (gunicorn). Overriding `setUp` in a subclass is
unittest's documented way to change a fixture; no gensim name is patched.

The tests that change the vectors or exercise gensim's loaders are out of scope, in
`OUT_OF_SCOPE` with why (pytest reports them as skipped with that reason); every other test the
installed gensim has runs, including any a later gensim adds. The client's README lists both.
"""
from __future__ import annotations

import subprocess
import sys
import unittest
from pathlib import Path

import gensim
import gensim.test.test_keyedvectors as gensim_suite  # the module: its classes are not collected here
import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors
from gensim.test.utils import datapath

from tests.support import ROOT
from tests.support.server import serve

CLIENT = ROOT / "clients" / "python"
if str(CLIENT) not in sys.path:  # this checkout's client
    sys.path.insert(0, str(CLIENT))

from wordspace_client import Client, ReadOnly  # noqa: E402
from wordspace_client.read_only import MUTATORS, NOT_OFFERED  # noqa: E402

FILE = "euclidean_vectors.bin"  # what gensim's setUp loads
SPACE = "euclidean"

OUT_OF_SCOPE = {
    "test_add_single": "adds vectors with add_vectors: the facade is read-only",
    "test_add_multiple": "adds vectors with add_vectors and kv[keys] = ...: the facade is read-only",
    "test_set_item": "replaces vectors with kv[key] = ...: the facade is read-only",
    "test_add_type": "checks the dtype of gensim's own empty KeyedVectors(2) after add_vectors",
    "test_load_model_and_vocab_file_strict": "gensim's loader (load_word2vec_format with a vocab file)",
    "test_load_model_and_vocab_file_replace": "gensim's loader (load_word2vec_format with a vocab file)",
    "test_load_model_and_vocab_file_ignore": "gensim's loader (load_word2vec_format with a vocab file)",
    "test_save_reload": "gensim's save_word2vec_format and load_word2vec_format on its own KeyedVectors",
    "test_no_header": "gensim's save_word2vec_format and load_word2vec_format on its own KeyedVectors",
    # the module's other classes, not collected here: they hold no `self.vectors`
    "Gensim320Test": "loads a model pickled by gensim 3.2 (gensim's loader)",
    "LoadWord2VecFormatTest": "gensim's load_word2vec_format on files it writes",
}

# float32 through JSON and back (the client's README quotes these bounds, measured here).
VECTOR_TOL = 1e-6     # kv[w] and kv.vectors against the file's float32 values
SCORE_TOL = 1e-6      # most_similar scores against gensim's


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The space built from gensim's test file with an exact index, served by gunicorn."""
    cat = tmp_path_factory.mktemp("gensim-conformance") / "indexes"
    run = subprocess.run([sys.executable, "-m", "service.cli", "--catalog", str(cat), "build-index",
                          SPACE, "--from", f"word2vec:{datapath(FILE)}", "--index", "Flat"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    with serve(cat, ready="/readyz", workers=1, api_keys="", log_level="warning") as server:
        with Client(server.base) as client:
            yield client.space(SPACE)


@pytest.fixture(scope="module")
def facade(served):
    return served.keyed_vectors()


@pytest.fixture(scope="module")
def gensim_kv():
    return GensimKeyedVectors.load_word2vec_format(datapath(FILE), binary=True)


class TestFacadeAsGensim(gensim_suite.TestKeyedVectors):
    """gensim's TestKeyedVectors, as installed, over the facade."""

    @pytest.fixture(autouse=True)
    def _facade(self, facade):
        self.facade = facade

    def setUp(self):
        super().setUp()               # gensim's own setUp, as installed
        self.vectors = self.facade    # the one change: the vectors come from the server


for _name, _why in OUT_OF_SCOPE.items():
    if _name.startswith("test_"):
        setattr(TestFacadeAsGensim, _name,
                unittest.skip(f"out of scope: {_why}")(getattr(gensim_suite.TestKeyedVectors, _name)))


def _gensim_tests() -> set[str]:
    return {n for n in unittest.TestLoader().getTestCaseNames(gensim_suite.TestKeyedVectors)}


def test_the_out_of_scope_list_names_gensim_tests_and_leaves_most_to_run():
    """Each out-of-scope name is a test or a class of the installed gensim's module, every
    class but TestKeyedVectors is out of scope (a class a later gensim adds is noticed), and the
    rest of TestKeyedVectors runs here."""
    tests = _gensim_tests()
    classes = {n for n, c in vars(gensim_suite).items()
               if isinstance(c, type) and issubclass(c, unittest.TestCase)} - {"TestKeyedVectors"}
    assert set(OUT_OF_SCOPE) == (set(OUT_OF_SCOPE) & tests) | classes, set(OUT_OF_SCOPE) ^ classes
    assert len(tests - set(OUT_OF_SCOPE)) >= 20, gensim.__version__


def test_every_gensim_name_is_offered_refused_or_listed(facade):
    """The facade has every public name of gensim's KeyedVectors, raises ReadOnly for the
    mutating ones, or lists it in NOT_OFFERED; the client's README names both lists."""
    gkv = GensimKeyedVectors(3)
    names = {n for n in dir(gkv) if not n.startswith("_")} | {"__setitem__"}
    missing = {n for n in names if not hasattr(facade, n)}
    assert missing == set(NOT_OFFERED), missing ^ set(NOT_OFFERED)
    readme = (CLIENT / "README.md").read_text()
    for name in [*MUTATORS, *NOT_OFFERED]:
        assert f"`{name}`" in readme, name


def test_mutating_methods_say_the_facade_is_read_only(facade):
    vector = np.ones(facade.vector_size, dtype=np.float32)
    with pytest.raises(ReadOnly, match="read-only: add_vectors would change them"):
        facade.add_vectors(["new"], [vector])
    with pytest.raises(ReadOnly, match="read-only: __setitem__"):
        facade["war"] = vector
    for name in MUTATORS:
        with pytest.raises(ReadOnly, match=f"space '{SPACE}' are read-only: {name}"):
            getattr(facade, name)("war")
    with pytest.raises(ReadOnly, match="init_sims"):
        facade.init_sims(replace=True)
    assert facade.similarity("war", "war") == 1.0  # unchanged


def test_float32_through_json_stays_within_the_stated_bounds(facade, gensim_kv):
    """What the README says: vectors within VECTOR_TOL of the file's float32 values (the server
    keeps unit vectors and norms, and the whole-table fetch is a 7-digit text export), scores
    within SCORE_TOL of gensim's, same rankings."""
    rows = min(len(gensim_kv), 2000)
    assert facade.index_to_key[:rows] == gensim_kv.index_to_key[:rows]
    assert np.abs(facade.vectors - gensim_kv.vectors).max() <= VECTOR_TOL
    words = gensim_kv.index_to_key[:200]
    assert np.abs(facade[words] - gensim_kv[words]).max() <= VECTOR_TOL
    for word in words[:50]:
        want, got = gensim_kv.most_similar(word, topn=10), facade.most_similar(word, topn=10)
        assert [w for w, _ in got] == [w for w, _ in want], word
        assert np.abs(np.subtract([s for _, s in got], [s for _, s in want])).max() <= SCORE_TOL
