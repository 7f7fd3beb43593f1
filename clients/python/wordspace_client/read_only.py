"""What the KeyedVectors facade leaves out of gensim 4's KeyedVectors, in one place.

`MUTATORS` would change the vectors: the facade reads a published space, so each raises
`ReadOnly` saying what to do instead. `NOT_OFFERED` are the other public names of gensim's
class, each with why the facade lacks it. The client's README lists both, and
tests/test_gensim_conformance.py checks them against the installed gensim.
"""
from __future__ import annotations

from wordspace_client.errors import ReadOnly

MUTATORS = ("add_vector", "add_vectors", "__setitem__", "set_vecattr", "allocate_vecattrs",
            "resize_vectors", "sort_by_descending_frequency", "unit_normalize_all",
            "intersect_word2vec_format", "add_lifecycle_event")

NOT_OFFERED = {
    "load": "a loader: the facade is made by Client().space(name).keyed_vectors()",
    "load_word2vec_format": "a loader: publish a file with `wordspace build-index NAME --from FILE`",
    "save": "the facade holds no vectors to pickle; vectors_for_all(keys).save(path) saves a copy",
    "save_word2vec_format": "the server writes that format: GET /v1/spaces/{space}/export?format=word2vec "
                            "or `wordspace export`",
    "wmdistance": "needs the POT package and only the documents' vectors: "
                  "kv.vectors_for_all(doc1 + doc2).wmdistance(doc1, doc2) is gensim's own answer",
    "similarity_unseen_docs": "gensim's KeyedVectors itself raises NotImplementedError",
    "vectors_norm": "removed in gensim 4 (it raises there): use get_normed_vectors()",
    "index2entity": "removed in gensim 4 (it raises there): use index_to_key",
    "index2word": "removed in gensim 4 (it raises there): use index_to_key",
    "vocab": "removed in gensim 4 (it raises there): use key_to_index and get_vecattr",
    "expandos": "per-key attributes are not stored; get_vecattr(key, 'count') is derived from the row",
    "next_index": "the slot add_vector fills next: the facade adds nothing",
    "mapfile_path": "the vectors are the server's memory-mapped files, not the client's",
    "log_accuracy": "a logging helper of gensim's evaluation; evaluate_word_analogies logs the same lines",
    "log_evaluate_word_pairs": "a logging helper of gensim's evaluation; evaluate_word_pairs logs the same lines",
}


def _refuse(name: str):
    def method(self, *args, **kwargs):
        raise ReadOnly(f"the KeyedVectors of space {self._space.name!r} are read-only: {name} would change "
                       "them. Publish a new version of the space (wordspace build-index), or change a "
                       "local copy: kv.vectors_for_all(keys) is gensim's own KeyedVectors")
    method.__name__ = name
    method.__doc__ = f"gensim's {name}: raises ReadOnly, the facade reads a published space."
    return method


class ReadOnlyMethods:
    """gensim's mutating methods, each raising `ReadOnly` (mixed into the facade)."""


for _name in MUTATORS:
    setattr(ReadOnlyMethods, _name, _refuse(_name))
