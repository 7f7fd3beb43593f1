"""Issue 19's audit as tests, against the production stack (`wordspace serve --proxy`: Debian's
nginx in front of stock gunicorn) on a small catalog. Raw sockets send the malformed requests:
what is tested is the HTTP parsing in front of the app (nginx's). Every case gets a 4xx or a
correct answer; afterwards no gunicorn worker died, spins or grew. Then 200 slowloris clients
while /healthz answers within a second, and 1,800 unfinished bodies while the workers' memory
stays put. Loopback only; every loop is bounded."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from service.store import catalog
from tests.support.tables import toy_table
from tests.support.server import children, serve, wait_for_workers

pytestmark = pytest.mark.slow
READ_TIMEOUT = 3  # seconds nginx gives a client (WORDSPACE_READ_TIMEOUT)
WORKERS = 2  # gunicorn workers behind nginx
BODY = b'{"words": ["alps"], "k": 1}'
MB = 1 << 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from service.supervise import find_nginx

    find_nginx()  # a missing nginx fails here, naming the install step
    cat = tmp_path_factory.mktemp("edge") / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    with serve(cat, proxy=True, read_timeout=READ_TIMEOUT, api_keys="", workers=WORKERS) as s:
        yield s


def post(body: bytes = BODY, *, head: bytes = b"", version: bytes = b"1.1") -> bytes:
    return (b"POST /v1/spaces/toy/neighbors HTTP/" + version + b"\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n" + head + b"\r\n" + body)


def chunked(body: bytes, size: int = 7) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
CLOSE = b"Connection: close\r\n\r\n"
TE = b"Transfer-Encoding: chunked\r\n"
BIG = b"x" * (MB + 10)
# (case, the bytes sent, the statuses answered in order; () = closed without an answer)
CASES = [
    ("Content-Length: superscript two (0xB2)", post(b"", head=b"Content-Length: \xb2\r\n"), [400]),
    ("Content-Length of 4,301 digits", post(b"", head=b"Content-Length: " + b"9" * 4301 + b"\r\n"), [400]),
    ("chunk size -6", post(b"-6\r\nabcdef\r\n0\r\n\r\n", head=TE), [400]),
    ("malformed chunked body", post(b"zz\r\nabc\r\n0\r\n\r\n", head=TE), [400]),
    ("chunked body over the limit", post(chunked(BIG, 65536), head=TE), [413]),
    ("body over the limit", post(BIG, head=b"Content-Length: %d\r\n" % len(BIG)), [413]),
    ("leading CRLF before the request line", b"\r\n" + GET + CLOSE, [200]),
    ("CL.TE conflict", post(chunked(BODY), head=b"Content-Length: 5\r\n" + TE), [400]),
    ("TE.CL conflict", post(chunked(BODY), head=TE + b"Content-Length: 5\r\n"), [400]),
    ("two Content-Length headers", post(BODY, head=b"Content-Length: %d\r\n" % len(BODY) * 2), [400]),
    ("Transfer-Encoding: chunked, identity",
     post(chunked(BODY), head=b"Transfer-Encoding: chunked, identity\r\n"), [400]),
    ("obs-fold", GET + b"X-A: 1\r\n  folded\r\n" + CLOSE, [400]),
    ("pipelining", GET + b"\r\n" + GET + CLOSE, [200, 200]),
    ("absolute-form target", b"GET http://x/healthz HTTP/1.1\r\nHost: x\r\n" + CLOSE, [200]),
    ("HTTP/1.0 with Expect: 100-continue",
     post(BODY, head=b"Expect: 100-continue\r\nContent-Length: %d\r\n" % len(BODY), version=b"1.0"), [200]),
    ("lone LF line endings", b"GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n", [200]),
    ("chunked body, whole", post(chunked(BODY), head=TE), [200]),
    ("request line over the limit",
     b"GET /healthz?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n" + CLOSE, [414]),
    ("header field over the limit", GET + b"X-Big: " + b"a" * 9000 + b"\r\n" + CLOSE, [431]),
    ("120 header fields", GET + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + CLOSE, [200]),
    ("NUL in the request line", b"GET /he\x00lthz HTTP/1.1\r\nHost: x\r\n" + CLOSE, [400]),
]


def exchange(port: int, data: bytes, timeout: float = 3 * READ_TIMEOUT) -> bytes:
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


def gunicorn_master(stack) -> int:
    """gunicorn's master: the child of `serve --proxy` that serves the socket."""
    return next(p for p in children(stack.proc.pid)
                if b"--socket" in Path(f"/proc/{p}/cmdline").read_bytes())


def workers(stack) -> dict[int, dict]:
    """The gunicorn workers (children of gunicorn's master, itself a child of `serve --proxy`)."""
    return {pid: usage(pid) for pid in children(gunicorn_master(stack))}


def usage(pid: int) -> dict:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return {"cpu_ticks": int(stat[11]) + int(stat[12]), "rss_mb": rss / 1024}


@pytest.fixture(scope="module")
def before(stack):
    # /readyz answers once one worker is up; gunicorn forks the others one after another.
    assert len(wait_for_workers(gunicorn_master(stack), WORKERS)) == WORKERS
    requests.get(stack.url("/v1/spaces/toy/neighbors?word=alps&k=2"), timeout=5)  # warm
    return workers(stack)


@pytest.mark.parametrize("case, data, expected", CASES, ids=[c[0] for c in CASES])
def test_attack(stack, before, case, data, expected):
    started = time.monotonic()
    answer = exchange(stack.port, data)
    assert statuses(answer) == expected, answer[:600]
    assert time.monotonic() - started < READ_TIMEOUT  # answered, not timed out
    if expected[0] >= 400:
        assert problem(answer)["status"] == expected[0]
    elif b"/neighbors" in data:
        assert answered(answer)["results"][0]["neighbors"][0]["word"] == "pyrenees"


def answered(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def test_expect_100_continue_with_a_chunked_body_honest(stack, before):
    """The client waits for 100 Continue, then sends its chunked body: a 200."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=3 * READ_TIMEOUT) as sock:
        sock.sendall(post(b"", head=TE + b"Expect: 100-continue\r\n"))
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(chunked(BODY))
        answer = read_all(sock)
    assert statuses(answer) == [200], answer
    assert answered(answer)["results"][0]["found"] is True


def test_expect_100_continue_dishonest_clients(stack, before):
    """Ten clients announce a chunked body and never send it: each is cut off after
    WORDSPACE_READ_TIMEOUT (a 408 or a close) while /healthz answers at once."""
    socks = [socket.create_connection(("127.0.0.1", stack.port), timeout=3 * READ_TIMEOUT) for _ in range(10)]
    try:
        for sock in socks:
            sock.sendall(post(b"", head=TE + b"Expect: 100-continue\r\n"))
        assert requests.get(stack.url("/healthz"), timeout=1).status_code == 200
        answers = [read_all(sock) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    for answer in answers:
        assert statuses(answer) in ([100], [100, 408]), answer


def test_bodies_over_the_limit_hold_no_thread(stack, before):
    """Ten clients at a time send 2 MB bodies, three times each: each gets its 413 from nginx
    at once, and /healthz answers within a second meanwhile (no thread drains a body)."""
    answers = []

    def flood():
        for _ in range(3):
            answers.append(statuses(exchange(stack.port, post(BIG * 2, head=b"Content-Length: %d\r\n"
                                                                  % (2 * len(BIG))))))

    threads = [threading.Thread(target=flood) for _ in range(10)]
    for t in threads:
        t.start()
    worst = 0.0
    while any(t.is_alive() for t in threads):
        started = time.monotonic()
        assert requests.get(stack.url("/healthz"), timeout=5).status_code == 200
        worst = max(worst, time.monotonic() - started)
    for t in threads:
        t.join()
    assert answers == [[413]] * 30 and worst < 1.0


def test_no_worker_died_spins_or_grew(stack, before):
    """Runs after the attacks (pytest keeps file order): the same workers, idle, no bigger."""
    after = workers(stack)
    assert set(after) == set(before), "a gunicorn worker was replaced"
    time.sleep(1)  # an interval to measure CPU over: an idle worker uses next to none
    idle = workers(stack)
    for pid in after:
        assert idle[pid]["cpu_ticks"] - after[pid]["cpu_ticks"] <= 10, "a worker spins"
        assert after[pid]["rss_mb"] - before[pid]["rss_mb"] < 50


def test_200_slowloris_clients(stack, before):
    """200 clients dribble their headers a byte at a time; /healthz answers within 1 s
    throughout (each probe on a new connection), and nginx cuts them off at READ_TIMEOUT."""
    socks = []
    try:
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", stack.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            socks.append(sock)
        worst, probes, stop = 0.0, 0, time.monotonic() + READ_TIMEOUT + 2
        while time.monotonic() < stop:
            for sock in socks:
                try:
                    sock.send(b"X")  # a header name that never ends
                except OSError:
                    pass  # cut off by nginx at READ_TIMEOUT: expected
            started = time.monotonic()
            assert requests.get(stack.url("/healthz"), timeout=5).status_code == 200
            worst = max(worst, time.monotonic() - started)
            probes += 1
            time.sleep(0.1)  # the dribble's pace
        cut_off = sum(1 for sock in socks if statuses(read_all(sock)) in ([], [408]))
    finally:
        for sock in socks:
            sock.close()
    print(f"slowloris: {probes} probes, worst /healthz {worst * 1000:.1f} ms, {cut_off} cut off")
    assert cut_off == len(socks)  # by nginx, after READ_TIMEOUT
    assert probes >= 10 and worst < 1.0


def test_1800_unfinished_1mb_bodies(stack, before):
    """One client opens 1,800 requests announcing 1 MB bodies and sends 256 KiB of each:
    nginx buffers them (to disk), gunicorn sees none, so its workers do not grow."""
    first = workers(stack)
    socks, t0 = [], time.monotonic()
    try:
        for _ in range(1800):
            sock = socket.create_connection(("127.0.0.1", stack.port), timeout=10)
            sock.sendall(post(b"x" * (256 << 10), head=b"Content-Length: 1000000\r\n"))
            socks.append(sock)
        during = workers(stack)
        started = time.monotonic()
        sent = started - t0
        # Answered, though nginx may still be writing hundreds of MB the kernel took from the
        # client: 0.26-0.74 s on 2 busy cores (load 17), so this is not held to the 1 s bound.
        assert requests.get(stack.url("/healthz"), timeout=10).status_code == 200
        health = time.monotonic() - started
    finally:
        for sock in socks:
            sock.close()
    grown = {pid: during[pid]["rss_mb"] - first[pid]["rss_mb"] for pid in first}
    print("unfinished bodies: worker RSS MB before", {p: round(u["rss_mb"]) for p, u in first.items()},
          "during", {p: round(u["rss_mb"]) for p, u in during.items()}, f"/healthz {health * 1000:.0f} ms after {sent:.1f} s of sending")
    assert set(during) == set(first) and max(grown.values()) < 50, grown
