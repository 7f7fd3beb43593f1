"""The word2vec corpus: each source read from small files written here, counts reported."""
from __future__ import annotations

import gzip
import logging

import pytest

from service.builder import corpus as corpora

WORDNET = """\
  1 This software and database is being provided to you, the LICENSEE, by  
00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known or inferred to have its own distinct existence (living or nonliving)  
02084071 05 n 02 dog 0 domestic_dog 0 042 @ 02083346 n 0000 | a member of the genus Canis; "the dog barked all night"  
"""

GCIDE = """\
Dog \\Dog\\, n. [AS. docga; akin to D. dog.]
   A quadruped of the genus Canis, esp. the domestic dog.
   [1913 Webster]

            The dog barked at the moon all night. --Shak.
      [1913 Webster]
"""


def test_wordnet_synonyms_then_gloss(tmp_path):
    path = tmp_path / "data.noun"
    path.write_text(WORDNET)
    got = list(corpora.read_wordnet(path))
    assert got[1] == 'dog, domestic dog: a member of the genus Canis; "the dog barked all night"'
    assert len(got) == 2


def test_gcide_drops_pronunciation_tags_and_citations(tmp_path):
    path = tmp_path / "gcide.dict.dz"
    with gzip.open(path, "wt") as f:
        f.write(GCIDE)
    got = [" ".join(s.split()) for s in corpora.read_gcide(path)]
    assert got == ["Dog , n. A quadruped of the genus Canis, esp. the domestic dog.",
                   "The dog barked at the moon all night."]


@pytest.mark.slow  # reads the packaged corpus (real data)
def test_load_corpus_counts_each_source_and_reports_missing(tmp_path, caplog):
    wordnet = tmp_path / "wordnet"
    wordnet.mkdir()
    (wordnet / "data.noun").write_text(WORDNET)
    user = tmp_path / "mine.txt"
    user.write_text("My own sentence about dogs.\n\nToo short\nAnother sentence about cats here.\n")
    sources = corpora.default_sources(wordnet_dir=wordnet, gcide=tmp_path / "absent.dz")
    sources += corpora.user_sources([user])
    with caplog.at_level(logging.INFO):
        got = corpora.load_corpus(sources)
    assert got.counts["wordnet"]["sentences"] == 2
    assert got.counts["user:mine.txt"] == {"sentences": 2, "tokens": 10, "paths": [str(user)]}
    assert got.counts["wikipedia"]["tokens"] > 100_000  # gensim's test extract
    assert "gcide" not in got.counts
    assert "corpus source gcide: not found" in caplog.text
    assert ["my", "own", "sentence", "about", "dogs"] in got.sentences
    assert got.tokens == sum(len(s) for s in got.sentences)


def test_nothing_found_says_what_to_install(tmp_path):
    with pytest.raises(ValueError, match="wordnet-base"):
        corpora.load_corpus(corpora.default_sources(wordnet_dir=tmp_path, gcide=tmp_path / "x")[1:])
    with pytest.raises(FileNotFoundError, match="--corpus"):
        corpora.user_sources([tmp_path / "missing.txt"])
