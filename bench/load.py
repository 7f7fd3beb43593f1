"""A count-bounded load generator over the API's query kinds, and what a kill -9 of a worker does
to it: for `make soak` (bench/soak.py, scale.py) and tests/test_load_faults.py, which import it.

It sends a fixed list of raw HTTP/1.1 requests (GET neighbours, analogy and similarity, POST
neighbours for a batch of words) over keep-alive connections from client processes, one
request at a time per connection, and records every request: when it was sent, how long it
took, its status (0 for a reset or a closed connection) and the client port of the connection
it went on. After a connection error the client opens a new connection for its next request,
as a real client would; it does not retry.

A worker killed with SIGKILL takes its connections with it. `worker_connections` reads which
client ports a worker holds (/proc), so `attribute` can tell a failure caused by a kill (on a
connection the victim held, at most one per connection: the one request in flight on it)
from any other failure.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import socket
import threading
import time
import urllib.parse
from pathlib import Path

from bench.server import children

MIX = (("neighbors", 0.4), ("analogy", 0.2), ("similarity", 0.2), ("batch", 0.2))


def http_request(method: str, path: str, body: dict | None = None, key: str | None = None) -> bytes:
    """One raw HTTP/1.1 request (keep-alive), with a JSON body and a bearer key if given."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    data = b""
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return (head + "\r\n").encode() + data


def mixed_requests(space: str, words: list[str], n: int, *, seed: int = 0, key: str | None = None,
                   batch: int = 8) -> list[tuple[str, bytes]]:
    """n seeded (kind, request) pairs over `words` in the proportions of MIX, k=10."""
    rng = random.Random(seed)
    base = f"/v1/spaces/{urllib.parse.quote(space)}"
    kinds, weights = zip(*MIX)
    q = urllib.parse.quote
    out = []
    for kind in rng.choices(kinds, weights, k=n):
        if kind == "neighbors":
            req = http_request("GET", f"{base}/neighbors?word={q(rng.choice(words))}&k=10", key=key)
        elif kind == "analogy":
            a, b, c = rng.sample(words, 3)
            req = http_request("GET", f"{base}/analogy?a={q(a)}&b={q(b)}&c={q(c)}&k=10", key=key)
        elif kind == "similarity":
            a, b = rng.sample(words, 2)
            req = http_request("GET", f"{base}/similarity?a={q(a)}&b={q(b)}", key=key)
        else:
            req = http_request("POST", f"{base}/neighbors", {"words": rng.sample(words, batch), "k": 10}, key=key)
        out.append((kind, req))
    return out


def drive(port: int, requests: list[tuple[str, bytes]], *, concurrency: int = 16, clients: int = 2,
          timeout: float = 300, during=None) -> dict:
    """Send every request once over `concurrency` connections from `clients` processes; stop
    early at `timeout` seconds. `during(t_start, finished)` runs in this process meanwhile
    (`finished()` says whether the load is over) and its result is returned as "during"."""
    clients = max(1, min(clients, concurrency))
    t_start = time.monotonic() + 1.0  # time for the client processes to start
    deadline = t_start + timeout
    jobs = []
    for c in range(clients):
        share = {conn: requests[conn::concurrency] for conn in range(c, concurrency, clients)}
        jobs.append((port, share, t_start, deadline))
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        pending = pool.starmap_async(_client, jobs)
        time.sleep(max(0.0, t_start - time.monotonic()))
        extra = during(t_start, pending.ready) if during else None
        parts = pending.get(timeout=timeout + 60)
    records = sorted((r for part in parts for r in part), key=lambda r: r[2])
    return {"records": records, "t_start": t_start, "concurrency": concurrency,
            "sent": len(records), "asked": len(requests), "during": extra}


def _client(port: int, share: dict, t_start: float, deadline: float) -> list[tuple]:
    out: list[tuple] = []
    threads = [threading.Thread(target=_connection, args=(port, conn, reqs, t_start, deadline, out))
               for conn, reqs in share.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _connection(port, conn, requests, t_start, deadline, out) -> None:
    """One connection's requests, one after another; a new connection after an error.
    Appends (connection, kind, sent, seconds, status, client port, error) per request."""
    sock, local = None, 0
    time.sleep(max(0.0, t_start - time.monotonic()))
    for kind, request in requests:
        sent = time.monotonic()
        if sent > deadline:
            break
        error = ""
        try:
            if sock is None:
                local = 0
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                local = sock.getsockname()[1]
            status, close = exchange(sock, request)
        except (OSError, ValueError) as e:
            status, close, error = 0, True, f"{type(e).__name__}: {e}"
        out.append((conn, kind, sent, time.monotonic() - sent, status, local, error))
        if close and sock is not None:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()


def summarize(result: dict) -> dict:
    """Counts, errors by status, requests/s and p50/p99 overall and per kind."""
    records = result["records"]
    if not records:
        return {"requests": 0, "errors": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None}
    seconds = max(r[2] + r[3] for r in records) - min(r[2] for r in records)
    statuses: dict[str, int] = {}
    for r in records:
        if r[4] != 200:
            statuses[str(r[4])] = statuses.get(str(r[4]), 0) + 1
    out = {"requests": len(records), "asked": result["asked"], "errors": sum(statuses.values()),
           "errors_by_status": statuses, "seconds": round(seconds, 2),
           "rps": round(len(records) / seconds, 1), **_percentiles([r[3] for r in records])}
    kinds = sorted({r[1] for r in records})
    if len(kinds) > 1:
        out["by_kind"] = {k: {"requests": sum(r[1] == k for r in records),
                              **_percentiles([r[3] for r in records if r[1] == k])} for k in kinds}
    return out


def _percentiles(seconds: list[float]) -> dict:
    s = sorted(seconds)
    n = len(s)
    return {"p50_ms": round(1000 * s[n // 2], 2), "p99_ms": round(1000 * s[min(n - 1, int(n * 0.99))], 2)}


def established(port: int) -> int:
    """Connections to server `port` the kernel holds established: those a worker accepted and
    those still in the listening socket's queue."""
    return sum(1 for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
               if (f := line.split())[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port)


def worker_connections(pid: int, port: int) -> set[int]:
    """Client ports of the established connections process `pid` holds on server `port`."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[9] in inodes and f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port:
            ports.add(int(f[2].rsplit(":", 1)[1], 16))
    return ports


def kill_worker(master: int, port: int, *, respawn_timeout: float = 30) -> dict:
    """SIGKILL the worker holding the most connections; wait for gunicorn to replace it."""
    before = children(master)
    held = {pid: worker_connections(pid, port) for pid in before}
    victim = max(before, key=lambda pid: len(held[pid]))
    t_kill = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    respawn = None
    while time.monotonic() - t_kill < respawn_timeout:
        now = children(master)
        if victim not in now and len(now) >= len(before):
            respawn = round(time.monotonic() - t_kill, 3)
            break
        time.sleep(0.02)
    return {"victim": victim, "t": t_kill, "ports": sorted(held[victim]),
            "connections": {str(pid): len(p) for pid, p in held.items()}, "respawn_seconds": respawn}


def attribute(records: list[tuple], kills: list[dict]) -> dict:
    """Match each failed request to a kill: a connection error, after the kill, on a
    connection the victim held, at most one per connection. The rest are unexplained."""
    used: set[tuple[int, int]] = set()
    per_kill = [0] * len(kills)
    unexplained = []
    for r in records:
        if r[4] == 200:
            continue
        done = r[2] + r[3]
        match = None
        if r[4] == 0:
            for i in range(len(kills) - 1, -1, -1):
                if kills[i]["t"] <= done and r[5] in kills[i]["ports"] and (i, r[5]) not in used:
                    match = i
                    break
        if match is None:
            unexplained.append({"kind": r[1], "status": r[4], "port": r[5], "error": r[6],
                                "after_start_s": round(r[2] - records[0][2], 3)})
        else:
            used.add((match, r[5]))
            per_kill[match] += 1
    return {"per_kill": per_kill, "unexplained": unexplained}


def exchange(sock: socket.socket, request: bytes) -> tuple[int, bool]:
    """Send one GET and read its whole response: (status, whether the server closes)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    head = head.lower()
    at = head.find(b"content-length:")
    if at < 0:
        raise ConnectionError("no content-length")
    end = head.find(b"\r\n", at)
    length = int(head[at + 15:end if end >= 0 else None])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return int(head[9:12]), b"connection: close" in head
