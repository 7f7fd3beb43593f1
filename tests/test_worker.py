"""The worker under a real gunicorn: slow clients hold no thread (64 of them, /healthz and a
neighbour query still answer, each slow one gets a 408 at WORDSPACE_READ_TIMEOUT), requests
arriving in pieces (Content-Length, chunked, Expect: 100-continue) are served whole, and
gunicorn's own refusals (414, 431, 400) are problem+json."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from service.store import catalog
from tests.conftest import toy_table
from tests.server import serve

pytestmark = pytest.mark.slow
SLOW = 64
READ_TIMEOUT = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cat = tmp_path_factory.mktemp("worker") / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    # The default pool: 2 workers x 4 threads, 8 requests at a time.
    with serve(cat, read_timeout=READ_TIMEOUT, api_keys="") as s:
        yield s


def _port(server) -> int:
    return int(server.base.rsplit(":", 1)[1])


def _raw(server, data: bytes, *, pause: float = 0.0, pieces: int = 1) -> bytes:
    """Send `data` in `pieces` with `pause` seconds between them; return the whole answer."""
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as sock:
        step = -(-len(data) // pieces)
        for i in range(0, len(data), step):
            sock.sendall(data[i:i + step])
            time.sleep(pause)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def _status_and_json(answer: bytes) -> tuple[int, str, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    content_type = next(v for k, _, v in (ln.partition(": ") for ln in lines[1:]) if k.lower() == "content-type")
    return int(lines[0].split()[1]), content_type, json.loads(body)


def test_64_slow_clients_hold_no_thread(server):
    """Each slow client sends its headers, `Content-Length: 100` and 5 bytes, one a second,
    then stalls: before, 8 of them left /healthz unanswered; here every probe answers while
    all 64 are connected, and each slow one gets a 408 once its time is up."""
    started = threading.Barrier(SLOW + 1)
    answers: list[bytes] = []

    def slow():
        with socket.create_connection(("127.0.0.1", _port(server)), timeout=60) as sock:
            sock.sendall(b"POST /v1/spaces/toy/neighbors HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            started.wait()
            try:
                for byte in b'{"wor':
                    sock.sendall(bytes([byte]))
                    time.sleep(1)
                out = b""
                while chunk := sock.recv(65536):
                    out += chunk
            except OSError as e:  # closed by the server while we were still sending
                out = repr(e).encode()
            answers.append(out)

    threads = [threading.Thread(target=slow) for _ in range(SLOW)]
    for t in threads:
        t.start()
    started.wait()
    t0 = time.monotonic()
    probes = []
    while time.monotonic() - t0 < READ_TIMEOUT - 2:
        health = requests.get(server.url("/healthz"), timeout=3)
        query = requests.get(server.url("/v1/spaces/toy/neighbors?word=alps&k=2"), timeout=3)
        probes.append((health.status_code, query.status_code))
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=60)
    assert len(probes) >= 5 and set(probes) == {(200, 200)}, probes
    assert len(answers) == SLOW
    for answer in answers:
        status, content_type, body = _status_and_json(answer)
        assert (status, content_type, body["status"]) == (408, "application/problem+json", 408)


@pytest.mark.parametrize("how", ["content-length", "chunked", "expect-continue"])
def test_a_request_in_pieces_is_served_whole(server, how):
    body = b'{"words": ["alps", "king"], "k": 2}'
    head = b"POST /v1/spaces/toy/neighbors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if how == "chunked":
        data = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(
            b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7)
        ) + b"0\r\n\r\n"
    else:
        expect = b"Expect: 100-continue\r\n" if how == "expect-continue" else b""
        data = head + expect + b"Content-Length: %d\r\n\r\n" % len(body) + body
    answer = _raw(server, data, pause=0.05, pieces=12)
    if how == "expect-continue":
        assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        answer = answer[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        assert b"100 Continue" not in answer  # said once, not again by gunicorn
    status, _, got = _status_and_json(answer)
    assert status == 200 and [r["word"] for r in got["results"]] == ["alps", "king"]


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /v1/spaces/toy/neighbors?word=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120))
     + b"\r\n", 431),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
    (b"BAD\x00LINE\r\n\r\n", 400),
])
def test_gunicorn_refusals_are_problem_json(server, request_bytes, status):
    got, content_type, body = _status_and_json(_raw(server, request_bytes))
    assert (got, content_type) == (status, "application/problem+json")
    assert body["status"] == status and body["title"] and body["detail"]


@pytest.mark.parametrize("how", ["content-length", "chunked", "expect-continue"])
def test_a_kept_alive_request_in_pieces_is_served_whole(server, how):
    """The second request on a connection comes in pieces too: the thread that finds it
    incomplete hands it back to the poller instead of waiting for the rest."""
    body = b'{"words": ["alps"], "k": 1}'
    first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    head = b"POST /v1/spaces/toy/neighbors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if how == "chunked":
        second = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        expect = b"Expect: 100-continue\r\n" if how == "expect-continue" else b""
        second = head + expect + b"Content-Length: %d\r\n\r\n" % len(body) + body
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as sock:
        sock.sendall(first)
        time.sleep(0.5)  # answered, and back in the poller as a kept-alive connection
        for i in range(0, len(second), 9):
            sock.sendall(second[i:i + 9])
            time.sleep(0.05)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    answers = out.split(b"HTTP/1.1 ")
    assert answers[1].startswith(b"200 OK") and b'"status":"ok"' in answers[1]
    last = b"HTTP/1.1 " + answers[-1]
    status, _, got = _status_and_json(last)
    assert status == 200 and got["results"][0]["word"] == "alps"
    if how == "expect-continue":
        assert out.count(b"100 Continue") == 1


def test_a_head_answer_then_the_next_request_on_one_connection(server):
    """The head of a bodiless answer still goes out (OneSendResponse sends it with the body
    otherwise), and nothing follows it before the next answer."""
    answer = _raw(server, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200") and b"content-length: 15" in first.lower()
    assert rest.startswith(b"HTTP/1.1 200")
    assert rest.endswith(b'{"status":"ok"}')


def test_one_send_response_frames_chunks_and_flushes_a_bodiless_head():
    from service.worker import OneSendResponse

    sent = []

    class Sock:
        def sendall(self, data):
            sent.append(bytes(data))

    r = object.__new__(OneSendResponse)  # only the sending half: no request needed
    r.sock, r.head, r.chunked, r.headers_sent = Sock(), b"HEAD\r\n\r\n", True, True
    r._emit_body(b"abc")
    r._emit_body(b"de")
    r.close()
    assert sent == [b"HEAD\r\n\r\n3\r\nabc\r\n", b"2\r\nde\r\n", b"0\r\n\r\n"]
    sent.clear()
    r.head, r.chunked = b"HEAD\r\n\r\n", False
    r.close()
    assert sent == [b"HEAD\r\n\r\n"]
