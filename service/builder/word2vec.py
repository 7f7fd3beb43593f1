"""The word2vec space: gensim Word2Vec trained on the packaged corpus, or the user's vectors.

Skip-gram with negative sampling and frequent-word subsampling: on the ~6M-token default
corpus it beats CBOW on WordSim353 by about 0.08 Spearman for 3-4x the time, and stays
within the build budget on 2 cores. The runner scores every table with the scorecard
(service/analysis/benchmarks.py), whose WordSim353 goes into the manifest and the summary.
docs/word2vec.md measures the other settings and the post-processing against both the
scorecard and the space as a classifier's start (service/builder/postprocess.py, off by default).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from service.builder.corpus import Corpus
from service.builder.postprocess import PostProcess
from service.store.tables import Table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word2VecSettings:
    sg: int = 1              # 1 skip-gram, 0 CBOW
    vector_size: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-4     # subsampling of frequent words: faster and better on small corpora
    min_count: int = 5
    epochs: int = 5
    workers: int = 2
    seed: int = 1
    # All-but-the-top on the trained rows, each row's norm kept: WordSim353 0.59 -> 0.66 for
    # the same classifier start at 50 texts (docs/word2vec.md); None or "none": raw rows.
    postprocess: str | None = "abtt:1:norm"

    @property
    def algorithm(self) -> str:
        return "skip-gram" if self.sg else "cbow"


def train_word2vec(corpus: Corpus, settings: Word2VecSettings = Word2VecSettings()) -> Table:
    """Train gensim Word2Vec on `corpus`; the table's details hold the settings, the corpus
    counts per source and the training time."""
    from gensim.models import Word2Vec

    log.info("word2vec: training %s on %d tokens (%s)", settings.algorithm, corpus.tokens,
             ", ".join(f"{k}={v}" for k, v in asdict(settings).items()))
    started = time.perf_counter()
    model = Word2Vec(vector_size=settings.vector_size, window=settings.window, sg=settings.sg,
                     negative=settings.negative, sample=settings.sample,
                     min_count=settings.min_count, workers=settings.workers, seed=settings.seed)
    model.build_vocab(corpus.sentences)
    log.info("word2vec: vocabulary of %d words (min_count %d) in %.1fs", len(model.wv),
             settings.min_count, time.perf_counter() - started)
    model.train(corpus.sentences, total_examples=model.corpus_count, epochs=settings.epochs,
                 callbacks=[_EpochLog(started)])
    seconds = round(time.perf_counter() - started, 1)
    log.info("word2vec: %d words x %d in %.1fs", len(model.wv), settings.vector_size, seconds)
    details = {
        "algorithm": settings.algorithm,
        "library": "gensim",
        "hyperparameters": asdict(settings),
        "corpus": {"tokens": corpus.tokens, "sentences": len(corpus.sentences),
                   "sources": corpus.counts},
        "vocabulary": len(model.wv),
        "train_seconds": seconds,
        "postprocess": None,
    }
    table = Table(list(model.wv.index_to_key), model.wv.vectors, details)
    post = PostProcess.option(settings.postprocess)
    return post.apply(table) if post else table


class _EpochLog:
    """A gensim callback logging each finished epoch with the elapsed time."""

    def __init__(self, started: float):
        self.started = started
        self.epoch = 0

    def on_epoch_begin(self, model):
        pass

    def on_epoch_end(self, model):
        self.epoch += 1
        log.info("word2vec: epoch %d/%d done, %.1fs", self.epoch, model.epochs,
                 time.perf_counter() - self.started)

    def on_train_begin(self, model):
        pass

    def on_train_end(self, model):
        pass
