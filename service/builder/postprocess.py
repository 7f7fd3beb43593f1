"""Post-processing of word vectors: "all-but-the-top" (Mu and Viswanath, ICLR 2018).

Word2vec rows share a common direction (their mean) and a few dominant ones, which crowd
rare words into one dense cone. All-but-the-top subtracts the mean row and the projection
on the top D principal directions, both computed on the `n_frequent` most frequent rows
(rows come in frequency order), from every row. On the default corpus it raises WordSim353
from 0.59 to 0.66-0.69 and lowers the analogies a little; as the start of a classifier it
measured worse than the raw rows unless each row keeps its norm (docs/word2vec.md). The
trained word2vec uses D=1 with the norms kept (Word2VecSettings.postprocess); a user's
vectors are left as they are unless asked (`--postprocess abtt:D`, `abtt:D:norm`, `none`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from service.errors import InputError
from service.store.tables import Table

N_FREQUENT = 20_000


def all_but_the_top(vectors: np.ndarray, d: int, n_frequent: int = N_FREQUENT,
                    keep_norm: bool = False) -> np.ndarray:
    """`vectors` minus their mean and their projection on the top `d` principal directions,
    both from the first `n_frequent` rows; float32. With `keep_norm`, each row is rescaled to
    its norm before (cosines are the same either way; a classifier started from it is not)."""
    x = np.asarray(vectors, dtype="float64")
    if x.ndim != 2 or not len(x):
        raise InputError(f"all-but-the-top needs a non-empty matrix, got shape {x.shape}")
    if not 0 <= d < x.shape[1]:
        raise InputError(f"all-but-the-top: D={d} must be in [0, {x.shape[1]})")
    top = x[:n_frequent]
    centred = x - top.mean(axis=0)
    out = centred
    if d:
        # The right singular vectors of the centred frequent rows are their principal directions.
        _, _, vt = np.linalg.svd(centred[:n_frequent], full_matrices=False)
        u = vt[:d]  # the projection u.T @ u does not depend on their signs
        out = centred - (centred @ u.T) @ u
    if keep_norm:
        new = np.linalg.norm(out, axis=1)
        out = out * (np.linalg.norm(x, axis=1) / np.where(new > 0, new, 1.0))[:, None]
    return out.astype("float32")


@dataclass(frozen=True)
class PostProcess:
    """One all-but-the-top setting, as parsed from `abtt:D` or `abtt:D:norm`."""
    d: int
    keep_norm: bool = False
    n_frequent: int = N_FREQUENT
    method: str = "all-but-the-top"

    @classmethod
    def parse(cls, spec: str) -> "PostProcess":
        """'abtt:3' or 'abtt:3:norm'.

        Raises:
            InputError: anything else.
        """
        parts = spec.strip().split(":")
        if (len(parts) not in (2, 3) or parts[0] != "abtt" or not parts[1].isdigit()
                or (len(parts) == 3 and parts[2] != "norm")):
            raise InputError(f"--postprocess {spec!r}: expected abtt:D or abtt:D:norm "
                             "(D principal directions removed, e.g. abtt:3)")
        return cls(int(parts[1]), keep_norm=len(parts) == 3)

    @classmethod
    def option(cls, spec: str | None) -> "PostProcess | None":
        """None for None, '' and 'none'; else `parse(spec)`."""
        return None if not spec or spec.strip().lower() == "none" else cls.parse(spec)

    @property
    def name(self) -> str:
        return f"abtt{self.d}" + ("-norm" if self.keep_norm else "")

    def describe(self) -> dict:
        return asdict(self)

    def apply(self, table: Table) -> Table:
        """The table post-processed; its details say how (`postprocess`)."""
        vectors = all_but_the_top(table.vectors, self.d, self.n_frequent, self.keep_norm)
        return Table(list(table.index_to_key), vectors,
                     {**table.details, "postprocess": self.describe()})
