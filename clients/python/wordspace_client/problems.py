"""The server's problem types and status titles, written from service/errors.py by
`python -m service.errors > clients/python/wordspace_client/problems.py`: do not edit
(tests/test_problems.py checks it is current).
"""

BUSY = "/problems/busy"
INVALID_REQUEST = "/problems/invalid-request"
NOT_FOUND = "/problems/not-found"
SPACE_NOT_READY = "/problems/space-not-ready"
UNAUTHORIZED = "/problems/unauthorized"
UNKNOWN_SPACE = "/problems/unknown-space"
UNKNOWN_WORD = "/problems/unknown-word"
UNSUPPORTED_MEDIA_TYPE = "/problems/unsupported-media-type"

# type -> (status, title)
TYPES = {
    "/problems/busy": (503, "Busy"),
    "/problems/invalid-request": (400, "Invalid request"),
    "/problems/not-found": (404, "Not found"),
    "/problems/space-not-ready": (503, "Space not ready"),
    "/problems/unauthorized": (401, "Unauthorized"),
    "/problems/unknown-space": (404, "Unknown space"),
    "/problems/unknown-word": (404, "Unknown word"),
    "/problems/unsupported-media-type": (415, "Unsupported media type"),
}

# status -> title (of a problem of type about:blank)
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
