"""Issue 19's attacks on the HTTP parsing in front of the app, as raw HTTP/1.1 bytes: the one
table that tests/test_edge.py sends through nginx to a served toy space and .ci/container
sends to the container's nginx (`python -m tests.support.attacks PORT ROUTE MAX_BODY` prints a
line per attack: name|expected|statuses|content type|seconds|start of the body)."""
from __future__ import annotations

import json
import re
import socket
import sys
import time

MB = 1 << 20
BODY = b'{"words": ["alps"], "k": 1}'
ROUTE = b"/v1/spaces/toy/neighbors"
GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
CLOSE = b"Connection: close\r\n\r\n"
TE = b"Transfer-Encoding: chunked\r\n"


def post(body: bytes = BODY, *, head: bytes = b"", version: bytes = b"1.1", route: bytes = ROUTE) -> bytes:
    return (b"POST " + route + b" HTTP/" + version + b"\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n" + head + b"\r\n" + body)


def chunked(body: bytes, size: int = 7) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def cases(route: bytes = ROUTE, max_body: int = MB) -> list[tuple[str, bytes, list[int]]]:
    """(case, the bytes sent, the statuses answered in order) for POSTs to `route` behind a
    body limit of `max_body` bytes (WORDSPACE_MAX_BODY_BYTES)."""
    def to(body: bytes = BODY, **kw) -> bytes:
        return post(body, route=route, **kw)

    big = b"x" * (max_body + 10)
    return [
        ("Content-Length: superscript two (0xB2)", to(b"", head=b"Content-Length: \xb2\r\n"), [400]),
        ("Content-Length of 4,301 digits", to(b"", head=b"Content-Length: " + b"9" * 4301 + b"\r\n"), [400]),
        ("chunk size -6", to(b"-6\r\nabcdef\r\n0\r\n\r\n", head=TE), [400]),
        ("malformed chunked body", to(b"zz\r\nabc\r\n0\r\n\r\n", head=TE), [400]),
        ("chunked body over the limit", to(chunked(big, 65536), head=TE), [413]),
        ("body over the limit", to(big, head=b"Content-Length: %d\r\n" % len(big)), [413]),
        ("leading CRLF before the request line", b"\r\n" + GET + CLOSE, [200]),
        ("CL.TE conflict", to(chunked(BODY), head=b"Content-Length: 5\r\n" + TE), [400]),
        ("TE.CL conflict", to(chunked(BODY), head=TE + b"Content-Length: 5\r\n"), [400]),
        ("two Content-Length headers", to(BODY, head=b"Content-Length: %d\r\n" % len(BODY) * 2), [400]),
        ("Transfer-Encoding: chunked, identity",
         to(chunked(BODY), head=b"Transfer-Encoding: chunked, identity\r\n"), [400]),
        ("obs-fold", GET + b"X-A: 1\r\n  folded\r\n" + CLOSE, [400]),
        ("pipelining", GET + b"\r\n" + GET + CLOSE, [200, 200]),
        ("absolute-form target", b"GET http://x/healthz HTTP/1.1\r\nHost: x\r\n" + CLOSE, [200]),
        ("HTTP/1.0 with Expect: 100-continue",
         to(BODY, head=b"Expect: 100-continue\r\nContent-Length: %d\r\n" % len(BODY), version=b"1.0"), [200]),
        ("lone LF line endings", b"GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n", [200]),
        ("chunked body, whole", to(chunked(BODY), head=TE), [200]),
        ("request line over the limit",
         b"GET /healthz?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n" + CLOSE, [414]),
        ("header field over the limit", GET + b"X-Big: " + b"a" * 9000 + b"\r\n" + CLOSE, [431]),
        ("120 header fields", GET + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + CLOSE, [200]),
        ("NUL in the request line", b"GET /he\x00lthz HTTP/1.1\r\nHost: x\r\n" + CLOSE, [400]),
    ]


def exchange(port: int, data: bytes, timeout: float) -> bytes:
    """Send `data`, return every byte answered until the server closes (bounded by timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:  # refused while still sending (a body over the limit): read the answer
            pass
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def statuses(answer: bytes) -> list[int]:
    return [int(s) for s in re.findall(rb"HTTP/1\.[01] (\d{3}) ", answer)]


def problem(answer: bytes) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), head
    return json.loads(body)


def content_type(answer: bytes) -> str:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1")
    return next((line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
                 if line.lower().startswith("content-type:")), "")


def main(argv: list[str]) -> int:
    port, route, max_body = int(argv[0]), argv[1].encode(), int(argv[2])
    for name, data, expected in cases(route, max_body):
        started = time.monotonic()
        answer = exchange(port, data, timeout=10)
        seconds = time.monotonic() - started
        body = answer.partition(b"\r\n\r\n")[2]
        got = ",".join(map(str, statuses(answer))) or "0"
        print(f"{name}|{','.join(map(str, expected))}|{got}|{content_type(answer)}|{seconds:.2f}|{body[:120]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
