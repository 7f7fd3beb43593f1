"""The one error hierarchy: what can go wrong, as domain errors with no web framework in sight.

`ServiceError` subclasses carry the HTTP status and problem type they answer with;
service/web/problems.py is the one handler that turns them into application/problem+json.
`BadIndex` is a space folder that cannot be loaded (store and build raise it). `InputError` is
a mistake of whoever runs a command (a bad option, file or setting): the command line answers
it with one line and exit code 2, while any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations


ECHO_LIMIT = 64  # characters of a caller's input an error message repeats


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` cut to `limit` characters (with an ellipsis), so an error never echoes a huge input."""
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


# The title of every HTTP status answered with a problem, by the app or by nginx in front
# (service/proxy.py): RFC 9110's reason phrases. A problem of type about:blank takes its
# status's title (RFC 9457); the problem types of ServiceError's subclasses have their own.
# The Python client carries a copy written from this module (clients/python/
# wordspace_client/problems.py, `python -m service.errors`; tests/test_problems.py checks it).
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class InputError(ValueError):
    """A bad option, input file or setting given by whoever runs the service or a command."""


class MissingInput(InputError, FileNotFoundError):
    """An input file (or package) named by whoever runs the command is not there."""


class StoreError(InputError):
    """An s3:// catalog's object store cannot be reached, or refuses a request (no
    credentials, no such bucket, access denied): names the store and what it said."""


class NoSpace(InputError):
    """The disk filled up while writing: the message names the folder and the bytes needed."""


class ServiceError(Exception):
    status = 500
    title = TITLES[500]
    type = "about:blank"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidRequest(ServiceError):
    status = 400
    title = "Invalid request"
    type = "/problems/invalid-request"


class UnsupportedMediaType(ServiceError):
    status = 415
    title = "Unsupported media type"
    type = "/problems/unsupported-media-type"


class UnknownSpace(ServiceError):
    status = 404
    title = "Unknown space"
    type = "/problems/unknown-space"


class UnknownWord(ServiceError):
    status = 404
    title = "Unknown word"
    type = "/problems/unknown-word"


class Unauthorized(ServiceError):
    status = 401
    title = "Unauthorized"
    type = "/problems/unauthorized"


class NotFound(ServiceError):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class SpaceNotReady(ServiceError):
    status = 503
    title = "Space not ready"
    type = "/problems/space-not-ready"


class Busy(ServiceError):
    """Too many heavy requests at once in this worker: retry after `retry_after` seconds."""
    status = 503
    title = "Busy"
    type = "/problems/busy"

    def __init__(self, detail: str, retry_after: int, **extra):
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class BadIndex(Exception):
    """A space folder that cannot be loaded: missing or corrupt file, wrong format version."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def problem_types() -> dict[str, tuple[int, str, str]]:
    """Every problem type a ServiceError answers with: type URI -> (status, title, class name)."""
    found, todo = {}, [ServiceError]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.type != "about:blank":
            found[cls.type] = (cls.status, cls.title, cls.__name__)
    return dict(sorted(found.items()))


def client_module() -> str:
    """The Python client's copy of the problem table (clients/python/wordspace_client/problems.py):
    the client does not import the server, so it gets this text, kept current by a test."""
    types = "".join(f'{_snake(name).upper()} = "{uri}"\n'
                    for uri, (_, _, name) in problem_types().items())
    rows = "".join(f'    "{uri}": ({status}, "{title}"),\n'
                   for uri, (status, title, _) in problem_types().items())
    titles = "".join(f'    {status}: "{title}",\n' for status, title in TITLES.items())
    return ('"""The server\'s problem types and status titles, written from service/errors.py by\n'
            '`python -m service.errors > clients/python/wordspace_client/problems.py`: do not edit\n'
            '(tests/test_problems.py checks it is current).\n"""\n\n'
            f"{types}\n# type -> (status, title)\nTYPES = {{\n{rows}}}\n\n"
            f"# status -> title (of a problem of type about:blank)\nTITLES = {{\n{titles}}}\n")


def _snake(name: str) -> str:
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(name))


if __name__ == "__main__":
    print(client_module(), end="")
