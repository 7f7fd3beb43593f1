"""Issue 19's audit as tests, against the production stack (`wordspace serve --proxy`: Debian's
nginx in front of stock gunicorn) on a small catalog. Raw sockets send the malformed requests:
what is tested is the HTTP parsing in front of the app (nginx's). Every case gets a 4xx or a
correct answer; afterwards no gunicorn worker died, spins or grew. Then 200 slowloris clients
while /healthz answers within a second, and 1,800 unfinished bodies while the workers' memory
stays put. Loopback only; every loop is bounded."""
from __future__ import annotations

import json
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from service.store import catalog
from tests.support import ROOT
from tests.support.attacks import BODY, MB, TE, cases, chunked, post, problem, read_all, statuses
from tests.support.attacks import exchange as send
from tests.support.server import children, serve, wait_for_workers
from tests.support.tables import toy_table

pytestmark = pytest.mark.slow
READ_TIMEOUT = 3  # seconds nginx gives a client (WORDSPACE_READ_TIMEOUT)
WORKERS = 2  # gunicorn workers behind nginx
UNFINISHED = 1800  # bodies held open at once by test_1800_unfinished_1mb_bodies
# Open files that test needs in this process and in nginx (which inherits the limit): a socket
# per body on each side, and room for the rest.
NOFILE = UNFINISHED + 1000


@pytest.fixture(scope="module")
def nofile():
    """Raise this process's soft open-files limit to NOFILE (nginx, started after, inherits
    it), within the hard limit; restore it after. The limit reached."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, nofile):
    from service.supervise import find_nginx

    find_nginx()  # a missing nginx fails here, naming the install step
    cat = tmp_path_factory.mktemp("edge") / "indexes"
    catalog.write_space(cat, "toy", toy_table(), source={"format": "test"})
    with serve(cat, proxy=True, read_timeout=READ_TIMEOUT, api_keys="", workers=WORKERS) as s:
        yield s


CASES = cases()  # tests/support/attacks.py: the table .ci/container sends to the image too
BIG = b"x" * (MB + 10)  # over the default body limit


def exchange(port: int, data: bytes, timeout: float = 3 * READ_TIMEOUT) -> bytes:
    return send(port, data, timeout)


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
    """The workers before the attacks; after the file's last test, the same workers, idle and
    no bigger (checked here, whichever test runs last)."""
    # /readyz answers once one worker is up; gunicorn forks the others one after another.
    assert len(wait_for_workers(gunicorn_master(stack), WORKERS)) == WORKERS
    requests.get(stack.url("/v1/spaces/toy/neighbors?word=alps&k=2"), timeout=5)  # warm
    first = workers(stack)
    yield first
    after = workers(stack)
    assert set(after) == set(first), "a gunicorn worker died and was replaced"
    time.sleep(1)  # an interval to measure CPU over: an idle worker uses next to none
    idle = workers(stack)
    for pid in after:
        assert idle[pid]["cpu_ticks"] - after[pid]["cpu_ticks"] <= 10, "a worker spins"
        assert after[pid]["rss_mb"] - first[pid]["rss_mb"] < 50, "a worker grew"


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
    WORDSPACE_READ_TIMEOUT (a 408 or a close), not before and not much after, while /healthz
    answers at once."""
    socks = [socket.create_connection(("127.0.0.1", stack.port), timeout=3 * READ_TIMEOUT) for _ in range(10)]
    try:
        sent = []
        for sock in socks:
            sock.sendall(post(b"", head=TE + b"Expect: 100-continue\r\n"))
            sent.append(time.monotonic())
        assert requests.get(stack.url("/healthz"), timeout=1).status_code == 200
        answers, closed = until_closed(socks, timeout=3 * READ_TIMEOUT)
    finally:
        for sock in socks:
            sock.close()
    for answer in answers:
        assert statuses(answer) in ([100], [100, 408]), answer
    cut_off = [c - s for c, s in zip(closed, sent)]
    print("dishonest Expect: cut off after " + ", ".join(f"{c:.2f}" for c in cut_off) + " s")
    # nginx's timer starts when it has read the head, a little after our send, and it checks
    # timers at its own granularity: allow a tenth below and a second above.
    assert all(0.9 * READ_TIMEOUT <= c <= READ_TIMEOUT + 1 for c in cut_off), cut_off


def until_closed(socks: list[socket.socket], timeout: float) -> tuple[list[bytes], list[float]]:
    """Everything each socket receives until the server closes it, and when it closed
    (time.monotonic()); inf for one still open after `timeout` seconds."""
    data, closed = {s: b"" for s in socks}, {s: float("inf") for s in socks}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        for sock in socks:
            sel.register(sock, selectors.EVENT_READ)
        while sel.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(left):
                try:
                    chunk = key.fileobj.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    data[key.fileobj] += chunk
                else:
                    closed[key.fileobj] = time.monotonic()
                    sel.unregister(key.fileobj)
    return [data[s] for s in socks], [closed[s] for s in socks]


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


def test_1800_unfinished_1mb_bodies(stack, before, nofile):
    """One client opens 1,800 requests announcing 1 MB bodies and sends 256 KiB of each:
    nginx buffers them (to disk), gunicorn sees none, so its workers do not grow."""
    if nofile < NOFILE:
        pytest.skip(f"needs {NOFILE} open files here and in nginx; the hard limit (ulimit -Hn) "
                    f"allows {nofile}")
    first = workers(stack)
    socks, t0 = [], time.monotonic()
    try:
        for _ in range(UNFINISHED):
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


def test_the_container_check_sends_the_same_attacks(stack, before):
    """.ci/container runs `python -m tests.support.attacks` against the image's nginx: the same
    table, each line the statuses expected and answered."""
    run = subprocess.run([sys.executable, "-m", "tests.support.attacks", str(stack.port),
                          "/v1/spaces/toy/neighbors", str(MB)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line.split("|") for line in run.stdout.splitlines()]
    assert [line[0] for line in lines] == [c[0] for c in CASES]
    for name, expected, got, ctype, *_ in lines:
        assert got == expected, (name, got, expected)
        if int(expected.split(",")[0]) >= 400:
            assert ctype == "application/problem+json", (name, ctype)
