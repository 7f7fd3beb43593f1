"""English text for training word2vec, from what packages already ship.

Sources, each used when found:

- wikipedia: the Wikipedia extract in gensim's test data (about 200 articles);
- wordnet: WordNet 3.0 synsets from Debian's `wordnet-base` (the synonyms of each synset
  followed by its gloss, one sentence per synset);
- gcide: the Collaborative International Dictionary of English from Debian's
  `dict-gcide` (Webster's 1913 and WordNet; one sentence per paragraph);
- any plain-text files the user passes (one sentence per non-empty line).

Every sentence is a list of tokens from service/text.py, the same tokenizer the
classifier uses. `load_corpus` reads everything into memory once (about 7M tokens by
default); tokens are interned so repeated words share one string.
"""
from __future__ import annotations

import bz2
import gzip
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from service.errors import InputError, MissingInput
from service.text import tokenize

log = logging.getLogger(__name__)

WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
WORDNET_DIR = Path("/usr/share/wordnet")
GCIDE_FILE = Path("/usr/share/dictd/gcide.dict.dz")
MIN_TOKENS = 3  # shorter sentences carry almost no context for word2vec


def gensim_test_data(name: str) -> Path:
    """A file of gensim's test data (its Wikipedia extract), found without importing gensim."""
    from importlib.util import find_spec

    return Path(find_spec("gensim").origin).parent / "test" / "test_data" / name


@dataclass(frozen=True)
class Source:
    """A named text source: `paths` are read by `read`, which yields sentences as strings."""
    name: str
    paths: tuple[Path, ...]
    read: Callable[[Path], Iterator[str]] = field(compare=False, repr=False)
    hint: str = ""


@dataclass
class Corpus:
    """Tokenized sentences plus what each source contributed."""
    sentences: list[list[str]]
    counts: dict[str, dict]  # source name -> {"sentences": n, "tokens": n, "paths": [...]}

    @property
    def tokens(self) -> int:
        return sum(c["tokens"] for c in self.counts.values())


def default_sources(*, wordnet_dir: Path = WORDNET_DIR, gcide: Path = GCIDE_FILE) -> list[Source]:
    """The built-in sources (present or not; `load_corpus` reports which were found)."""
    return [
        Source("wikipedia", (gensim_test_data(WIKI_FILE),), read_wikipedia,
               "part of gensim's test data"),
        Source("wordnet", tuple(wordnet_dir / f"data.{pos}" for pos in ("noun", "verb", "adj", "adv")),
               read_wordnet, "apt-get install wordnet-base"),
        Source("gcide", (gcide,), read_gcide, "apt-get install dict-gcide"),
    ]


def user_sources(paths: list[Path]) -> list[Source]:
    """`--corpus FILE` sources: plain text, one sentence per line.

    Raises:
        FileNotFoundError: a named file is missing.
    """
    for path in paths:
        if not Path(path).is_file():
            raise MissingInput(f"--corpus {path}: no such file")
    return [Source(f"user:{Path(p).name}", (Path(p),), read_plain) for p in paths]


def fingerprint(sources: list[Source]) -> list[dict]:
    """What identifies the corpus for build caching: each present file's path, size, mtime."""
    found = []
    for source in sources:
        for path in source.paths:
            if path.is_file():
                st = path.stat()
                found.append({"source": source.name, "path": str(path), "bytes": st.st_size,
                              "mtime": int(st.st_mtime)})
    return found


def load_corpus(sources: list[Source]) -> Corpus:
    """Read and tokenize every source that is present, logging what each gave.

    Raises:
        ValueError: no source is present at all.
    """
    interned: dict[str, str] = {}
    sentences: list[list[str]] = []
    counts: dict[str, dict] = {}
    for source in sources:
        present = [p for p in source.paths if p.is_file()]
        if not present:
            log.warning("corpus source %s: not found (%s)%s", source.name,
                        ", ".join(map(str, source.paths)), f"; {source.hint}" if source.hint else "")
            continue
        started = time.perf_counter()
        n_sentences = n_tokens = 0
        for path in present:
            for text in source.read(path):
                tokens = tokenize(text)
                if len(tokens) < MIN_TOKENS:
                    continue
                sentences.append([interned.setdefault(t, t) for t in tokens])
                n_sentences += 1
                n_tokens += len(tokens)
        counts[source.name] = {"sentences": n_sentences, "tokens": n_tokens,
                               "paths": [str(p) for p in present]}
        log.info("corpus source %s: %d sentences, %d tokens from %d file(s) in %.1fs",
                 source.name, n_sentences, n_tokens, len(present), time.perf_counter() - started)
    if not sentences:
        raise InputError("no corpus text found: install wordnet-base or dict-gcide, "
                         "or pass --corpus FILE")
    corpus = Corpus(sentences, counts)
    log.info("corpus: %d sentences, %d tokens, %d distinct", len(sentences), corpus.tokens,
             len(interned))
    return corpus


def read_plain(path: Path) -> Iterator[str]:
    """Plain UTF-8 text (gzip if the name ends in .gz), one sentence per non-empty line."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                yield line


def read_wikipedia(path: Path) -> Iterator[str]:
    """Articles of a Wikipedia XML dump (.bz2), markup stripped by gensim; one line each paragraph."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    with bz2.open(path) as f:
        for _title, text, _pageid in extract_pages(f, filter_namespaces=("0",)):
            if text.lstrip().lower().startswith("#redirect"):
                continue
            for line in filter_wiki(text).splitlines():
                if line.strip() and not line.lstrip().startswith(("=", "|", "{", "!")):
                    yield line


def read_wordnet(path: Path) -> Iterator[str]:
    """A WordNet data.* file: each synset's words followed by its gloss (after the '|')."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  ") or "|" not in line:  # the license header
                continue
            head, _, gloss = line.partition("|")
            fields = head.split()
            try:
                n_words = int(fields[3], 16)
            except (IndexError, ValueError):
                continue
            words = [w.split("(")[0].replace("_", " ") for w in fields[4:4 + 2 * n_words:2]]
            yield ", ".join(words) + ": " + gloss.strip()


_GCIDE_DROP = re.compile(r"\\[^\\\n]*\\|\[[^\]]*\]|--\s*[A-Z][\w.]*(?: [A-Z][\w.]*)*")


def read_gcide(path: Path) -> Iterator[str]:
    """The dictd GCIDE text (gzip): paragraphs, without pronunciations, bracketed
    etymologies and tags such as [1913 Webster], and quotation sources (--Milton)."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        paragraph: list[str] = []
        for line in f:
            if line.strip():
                paragraph.append(line.strip())
                continue
            if paragraph:
                yield _GCIDE_DROP.sub(" ", " ".join(paragraph))
                paragraph = []
        if paragraph:
            yield _GCIDE_DROP.sub(" ", " ".join(paragraph))
