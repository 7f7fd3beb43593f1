"""The end-to-end tests' catalog of real spaces, built by the real runner from
tests/support/catalog.toml: word2vec on the packaged corpus with fewer epochs, a GloVe slice,
three classifiers on fewer texts with fewer steps. Once per test session (tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

from service.builder import runner
from service.builder.classifier import ClassifierSettings
from service.builder.recipes import BuildOptions
from service.builder.spec import load_spec
from service.builder.word2vec import Word2VecSettings

SPEC = Path(__file__).with_name("catalog.toml")
SPACES = ("word2vec", "glove", "sentiment", "clickbait", "clickbait-w2v")
TEXTS = 6000  # labelled texts of each task (stratified)
CLASSIFIER = ClassifierSettings(min_steps=150, patience=150, max_steps=900)
WORD2VEC = Word2VecSettings(epochs=2)


def build(cat: Path) -> Path:
    runner.run(BuildOptions(catalog=cat, spec=load_spec(SPEC), spaces=SPACES, curve=None,
                            limit=TEXTS, classifier=CLASSIFIER, word2vec_settings=WORD2VEC))
    return cat


def glove_rows() -> int:
    """How many GloVe rows the test catalog holds."""
    return load_spec(SPEC).spaces["glove"].limit


if __name__ == "__main__":  # build it once, for WORDSPACE_TEST_REAL_CATALOG=DIR
    import logging
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    build(Path(sys.argv[1]))
