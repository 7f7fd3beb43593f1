"""Which spaces a comparison covers.

`spaces` names them (comma-separated in a query, a JSON list in a body); without it a
comparison covers every loaded space, however many, wherever a space adds little work (the
verdict, word-pair similarities, scorecards). Where each space adds a search over its whole
vocabulary (a word's neighbours, ranked again in every other space and overlapped pair by
pair; an analogy; sentence vectors; projections), and in the pictures (bars or panels per
space stay legible up to a few), a comparison takes at most MAX_SPACES:
without `spaces`, the MAX_SPACES the verdict ranks first (service/analysis/verdict.py
`ranked`: the leaders on meaning and on each task in turn, then the others in catalog order),
and the answer lists the spaces it left out (`omitted`) with a sentence saying so (`note`;
a picture, in the OMITTED_HEADER header).
Naming more is a 400 that lists the spaces there are and suggests the default few.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response

from service.analysis import verdict
from service.errors import InvalidRequest
from service.settings import MAX_SPACES
from service.web import params
from service.web.state import state

OMITTED_HEADER = "Wordspace-Omitted-Spaces"  # a picture's way of saying what it left out


@dataclass
class Selection:
    spaces: list                 # the compared spaces, in the order named or catalog order
    omitted: list[str]           # loaded spaces the default choice left out, in catalog order
    note: str | None = None      # what was chosen and how to compare the others

    def said(self) -> dict:
        return {"omitted": self.omitted, "note": self.note}

    def mark(self, picture: Response) -> Response:
        """A picture has no field to say which spaces it left out: a header does."""
        if self.omitted:
            picture.headers[OMITTED_HEADER] = ", ".join(self.omitted)
        return picture


def _registry():
    return state().registry


def named(raw=None) -> list[str]:
    """The names in `spaces` (the query's unless `raw` is given), in order, once each; [] when
    none is named ("spaces=", "spaces=,", an empty list)."""
    raw = params.arg("spaces") if raw is None else raw  # its type and length: the spec's
    if raw is None or raw == "" or raw == []:
        return []
    names = ([n.strip(params.SPACE) for n in raw.split(",") if n.strip(params.SPACE)]
             if isinstance(raw, str) else raw)
    return list(dict.fromkeys(names))


def every(raw=None, *, minimum: int = 1) -> list:
    """The named spaces, any number of them; by default every loaded space."""
    reg = _registry()
    names = named(raw) or reg.names
    _at_least(names, minimum)
    return [reg.get(n) for n in names]


def few(raw=None, *, minimum: int = 1, candidates: list | None = None) -> Selection:
    """At most MAX_SPACES spaces: the named ones, else the MAX_SPACES of `candidates`
    (default every loaded space) the verdict ranks first, in catalog order."""
    reg = _registry()
    names = named(raw)
    if names:
        if len(names) > MAX_SPACES:
            raise InvalidRequest(
                f"'spaces' names {len(names)} spaces; this comparison takes at most "
                f"{MAX_SPACES} at once (each adds a search of its whole vocabulary): name at "
                f"most {MAX_SPACES} of {', '.join(reg.names)}; without 'spaces' it compares "
                f"{', '.join(default_names())}", parameter="spaces", spaces=reg.names,
                suggestions=default_names())
        _at_least(names, minimum)
        return Selection([reg.get(n) for n in names], [])
    pool = [reg.get(n) for n in reg.names] if candidates is None else candidates
    _at_least(pool, minimum)
    if len(pool) <= MAX_SPACES:
        return Selection(pool, [])
    chosen = set(ranked_names([s.name for s in pool])[:MAX_SPACES])
    kept = [s for s in pool if s.name in chosen]
    omitted = [s.name for s in pool if s.name not in chosen]
    note = (f"Compared {len(kept)} of {len(pool)} spaces, the ones the verdict ranks first "
            f"(leaders on meaning and on each task, then catalog order); left out: "
            f"{', '.join(omitted)}. Name at most {MAX_SPACES} in 'spaces' to compare others.")
    return Selection(kept, omitted, note)


def ranked_names(among: list[str] | None = None) -> list[str]:
    """Loaded spaces (those in `among`, when given) in the verdict's order: leaders first."""
    reg = _registry()
    loaded = [reg.get(n) for n in reg.names]
    order = verdict.ranked(verdict.compute(loaded, state().evaluations))
    return [n for n in order if among is None or n in among]


def default_names() -> list[str]:
    """The spaces a comparison of at most MAX_SPACES covers without `spaces`, in catalog order."""
    names = _registry().names
    if len(names) <= MAX_SPACES:
        return names
    chosen = set(ranked_names()[:MAX_SPACES])
    return [n for n in names if n in chosen]


def _at_least(names: list, minimum: int) -> None:
    if len(names) < minimum:
        raise InvalidRequest(f"compare at least {minimum} spaces; loaded: "
                             f"{', '.join(_registry().names)}", parameter="spaces")
