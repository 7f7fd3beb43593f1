"""What a space is: the fixed set of kinds, defined once.

    task      the Embedding of a text classifier: trained here on a task's labelled texts,
              or imported from the user's Keras model; its details name the task
    word2vec  word2vec vectors: trained here with gensim, or read from a file
    glove     GloVe vectors
    vectors   any other pretrained vector file (fastText, a gensim model, a .npy table ...)

The format of the file a space is read from is another field, the manifest's source.format;
the formats, and the kind each makes when none is named, are the registry's
(service/store/formats.py).
"""
from __future__ import annotations

KINDS = ("task", "word2vec", "glove", "vectors")


def kind_of(details: dict, source: dict) -> str:
    """The kind of a published space. Spaces published before kinds were fixed recorded
    the file's format (keras, gensim, kumo, ...) or nothing: a Keras model's Embedding is a
    `task` space, the kumo package `glove`, any other file `vectors`."""
    from service.store.formats import kind_for_format

    kind = details.get("kind") or source.get("format")
    return kind if kind in KINDS else kind_for_format(kind)
