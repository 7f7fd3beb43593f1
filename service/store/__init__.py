"""The store: embedding tables on disk and in memory. Readers (word2vec, GloVe, gensim,
kumo), the FAISS index, the catalog of published versions (with its checksums and published
experiments), a loaded space (its files, its searches), the registry of loaded spaces, and
sentence vectors of a loaded space.

May import: only the top-level settings, errors and text; nothing of analysis, web, build.
"""
