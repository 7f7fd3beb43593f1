"""The client's exceptions: one per problem type the server answers, all under WordspaceError.

The server's errors are application/problem+json with a `type`; `from_problem` turns one into
the matching exception, keeping the fields the server sent (word, space, suggestions, ...).
`UnknownWord` is also a `KeyError`, so code written for gensim's KeyedVectors catches it.
"""
from __future__ import annotations

from wordspace_client import problems


class WordspaceError(Exception):
    """Any failure of a call: a problem answer, a refused connection, a timeout."""

    def __init__(self, message: str, *, status: int | None = None, type: str | None = None,
                 title: str | None = None, problem: dict | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.title = title
        self.problem = problem or {}
        self.url = url

    def __str__(self) -> str:
        return self.message


class InvalidRequest(WordspaceError):
    """400 (or 413): a parameter or the body is wrong; `.parameter` names it when known."""

    @property
    def parameter(self) -> str | None:
        return self.problem.get("parameter")


class Unauthorized(WordspaceError):
    """401: an API key is needed (WORDSPACE_API_KEY) and was missing or wrong."""


class UnknownSpace(WordspaceError):
    """404: no space of that name; `.spaces` lists the spaces the server has."""

    @property
    def space(self) -> str | None:
        return self.problem.get("space")

    @property
    def spaces(self) -> list[str]:
        return list(self.problem.get("spaces", []))


class UnknownWord(WordspaceError, KeyError):
    """404: the word is not in the space; `.suggestions` are close spellings that are."""

    @property
    def word(self) -> str | None:
        return self.problem.get("word")

    @property
    def space(self) -> str | None:
        return self.problem.get("space")

    @property
    def suggestions(self) -> list[str]:
        return list(self.problem.get("suggestions", []))

    # KeyError's own __str__ would print the message quoted, as a repr.
    __str__ = WordspaceError.__str__


class NotReady(WordspaceError):
    """503: the space is configured but was refused at load, or the server is overloaded."""


class ReadOnly(WordspaceError, TypeError):
    """A gensim method that would change the vectors was called on the KeyedVectors facade,
    which reads a published space (read_only.py says what to do instead)."""


# The type URIs and titles come from problems.py, the server's table (service/errors.py).
_BY_TYPE = {
    problems.INVALID_REQUEST: InvalidRequest,
    problems.UNSUPPORTED_MEDIA_TYPE: InvalidRequest,
    problems.UNAUTHORIZED: Unauthorized,
    problems.UNKNOWN_SPACE: UnknownSpace,
    problems.UNKNOWN_WORD: UnknownWord,
    problems.SPACE_NOT_READY: NotReady,
}
_BY_STATUS = {400: InvalidRequest, 401: Unauthorized, 413: InvalidRequest, 415: InvalidRequest,
              503: NotReady}


def from_problem(status: int, problem: dict | None, url: str, text: str = "") -> WordspaceError:
    """The exception for an error answer: by problem type, else by status."""
    problem = problem if isinstance(problem, dict) else {}
    cls = _BY_TYPE.get(problem.get("type", "")) or _BY_STATUS.get(status, WordspaceError)
    detail = problem.get("detail") or text.strip()[:200] or "no detail"
    title = problem.get("title") or problems.TITLES.get(status)  # a proxy's page may have none
    return cls(f"{status} {title or 'error'}: {detail}", status=status, type=problem.get("type"),
               title=title, problem=problem, url=url)
