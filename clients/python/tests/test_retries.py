"""Retries: opt-in, on 429/502/503/504 and failed connections, honouring Retry-After.

The wordspace server never answers 429 or 502 on purpose, so these tests run a small real
HTTP server on loopback that answers a scripted sequence of statuses and counts requests.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wordspace_client import AsyncClient, Client, NotReady, WordspaceError

OK = {"status": "ok"}


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next (status, headers) of `script`, then 200."""

    def __init__(self, script, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.script = list(script)
        self.seen: list[tuple[str, float]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        server: Scripted = self.server
        server.seen.append((self.command, time.monotonic()))
        status, headers = server.script.pop(0) if server.script else (200, {})
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(OK if status == 200 else {
            "type": "about:blank", "title": "Busy", "status": status, "detail": "try later"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    servers = []

    def start(*script):
        server = Scripted(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_retry_after_is_honoured(scripted):
    server = scripted((429, {"Retry-After": "1"}), (503, {"Retry-After": "0"}))
    with Client(server.url, retries=3, backoff=0.01) as c:
        assert c.health() is True
    times = [t for _, t in server.seen]
    assert len(times) == 3
    assert times[1] - times[0] >= 1.0  # waited what Retry-After said, not the 0.01 s backoff


def test_backoff_doubles_without_retry_after(scripted):
    server = scripted((502, {}), (504, {}))
    with Client(server.url, retries=2, backoff=0.2) as c:
        assert c.health() is True
    t = [t for _, t in server.seen]
    assert t[1] - t[0] >= 0.2 and t[2] - t[1] >= 0.4


def test_no_retries_unless_asked(scripted):
    server = scripted((503, {"Retry-After": "0"}))
    with Client(server.url) as c, pytest.raises(NotReady) as e:
        c.health()
    assert len(server.seen) == 1 and e.value.status == 503


def test_retries_run_out(scripted):
    server = scripted(*[(503, {"Retry-After": "0"})] * 5)
    with Client(server.url, retries=2) as c, pytest.raises(NotReady):
        c.health()
    assert len(server.seen) == 3


def test_client_errors_are_not_retried(scripted):
    server = scripted((400, {}), (200, {}))
    with Client(server.url, retries=3) as c, pytest.raises(WordspaceError) as e:
        c.health()
    assert len(server.seen) == 1 and e.value.status == 400


def test_reload_is_never_retried(scripted):
    server = scripted((503, {"Retry-After": "0"}))
    with Client(server.url, retries=3) as c, pytest.raises(NotReady):
        c.reload()
    assert [m for m, _ in server.seen] == ["POST"]


def test_async_client_retries_the_same_way(scripted):
    server = scripted((429, {"Retry-After": "0.3"}), (502, {}))

    async def main():
        async with AsyncClient(server.url, retries=2, backoff=0.05) as c:
            return await c.health()
    assert asyncio.run(main()) is True
    t = [t for _, t in server.seen]
    assert len(t) == 3 and t[1] - t[0] >= 0.3


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_names_the_url():
    url = f"http://127.0.0.1:{_closed_port()}"
    with Client(url) as c, pytest.raises(WordspaceError) as e:
        c.spaces()
    assert url in str(e.value) and "connection refused" in str(e.value)
    assert e.value.url == url


def test_connection_errors_are_retried_until_the_server_is_up(scripted):
    """The first attempt meets a port that drops the connection unanswered; the server comes
    up only then (on that attempt, not after a delay), so the answer needs a retry."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    dropped, started = [], []

    def up_after_the_first_attempt():
        conn, _ = listener.accept()  # the client's first attempt
        conn.close()
        listener.close()
        dropped.append(conn)
        late = Scripted([], port)
        threading.Thread(target=late.serve_forever, daemon=True).start()
        started.append(late)

    threading.Thread(target=up_after_the_first_attempt, daemon=True).start()
    try:
        with Client(url, retries=6, backoff=0.1) as c:
            assert c.health() is True
    finally:
        for s in started:
            s.shutdown()
            s.server_close()
    assert len(dropped) == 1 and len(started[0].seen) == 1
