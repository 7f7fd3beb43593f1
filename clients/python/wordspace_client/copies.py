"""gensim's `vectors_for_all` and `get_vecattr` on the KeyedVectors facade.

`vectors_for_all(keys)` copies the vectors of some keys into gensim's own in-memory
KeyedVectors, built with gensim's public API as gensim's method builds it: a copy the caller
can change, save, or hand to code that needs a real gensim object (`wmdistance`). A space
stores no per-key attributes; the one gensim gives every loaded word2vec file, `count`, is
made up by gensim from the row when the file has no counts, and derived the same way here.
"""
from __future__ import annotations

from wordspace_client.optional import gensim_keyed_vectors, np

COUNT = "count"


class Copies:
    """Mixed into the facade, which provides `get_index`, `_vectors` and `key_to_index`."""

    def get_vecattr(self, key, attr):
        """gensim's per-key attribute. `count` is what gensim's load_word2vec_format makes up
        for a file without counts, len(kv) - row (rows are most frequent first); any other
        attribute raises KeyError, as gensim does for an attribute never set."""
        index = self.get_index(key)
        if attr != COUNT:
            raise KeyError(attr)
        return np.int64(len(self) - index)

    def vectors_for_all(self, keys, allow_inference: bool = True, copy_vecattrs: bool = False):
        """The vectors of the given keys the space has (exact keys, deduplicated, in the order
        given), fetched in one request, as a new gensim KeyedVectors. Its `count`s are made up as
        gensim's method does, or copied with `copy_vecattrs`. `allow_inference` changes nothing:
        a space infers no vector for a key it lacks, as gensim's plain KeyedVectors does not.

        Raises:
            ModuleNotFoundError: gensim is not installed (the `gensim` extra).
        """
        KeyedVectors = gensim_keyed_vectors()
        wanted = list(dict.fromkeys(keys))
        found = self._vectors(wanted, norm=False, ignore_missing=True)
        vocab = [k for k in wanted if k in found]
        copy = KeyedVectors(self.vector_size, dtype=np.float32)
        if not vocab:
            return copy
        copy.add_vectors(vocab, np.vstack([found[k] for k in vocab]))
        if copy_vecattrs:
            self.key_to_index.lookup(vocab)  # one request for the rows of every key
        for i, key in enumerate(vocab):
            copy.set_vecattr(key, COUNT, int(self.get_vecattr(key, COUNT)) if copy_vecattrs else len(vocab) - i)
        return copy
