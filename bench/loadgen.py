"""A light HTTP load generator: keep-alive connections from client processes, for the benches.

Each connection sends GETs one after another (a closed loop) and times each from send to
last byte; requests are raw HTTP/1.1 over a socket, so the client costs little CPU next to
the server it shares the machine with. The window's CPU use by the server, the client and
everything else on the box is measured too (Linux /proc/stat).
"""
from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the load generator's HTTP exchange is tests/support's
    sys.path.insert(0, str(ROOT))

from tests.support.load import exchange  # noqa: E402


def busy_cpu_seconds() -> float:
    """CPU seconds the whole box has spent busy (all cores), from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def drive(port: int, paths: list[str], server_cpu, *, concurrency: int, clients: int,
          warmup: float, duration: float) -> dict:
    """One window: warm up, then `duration` seconds with `concurrency` connections split over
    `clients` processes (so the client's GIL does not cap throughput). `server_cpu()` gives
    the server's CPU seconds so far."""
    clients = max(1, min(clients, concurrency))
    shares = [list(range(c, concurrency, clients)) for c in range(clients)]
    t_start = time.monotonic() + 1.0 + warmup  # 1 s for the client processes to start
    t_end = t_start + duration
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        pending = pool.starmap_async(client, [(port, paths, share, concurrency, t_start, t_end)
                                              for share in shares])
        time.sleep(max(0.0, t_start - time.monotonic()))
        cpu0, box0 = server_cpu(), busy_cpu_seconds()
        time.sleep(max(0.0, t_end - time.monotonic()))
        cpu1, box1 = server_cpu(), busy_cpu_seconds()
        parts = pending.get(timeout=duration + warmup + 120)
    client_cpu = sum(p["cpu"] for p in parts)
    return {"latencies": [x for p in parts for x in p["latencies"]],
            "errors": sum(p["errors"] for p in parts),
            "seconds": max(p["last"] for p in parts) - t_start,
            "server_cpu": cpu1 - cpu0, "client_cpu": client_cpu,
            "other_cpu": max(0.0, (box1 - box0) - (cpu1 - cpu0) - client_cpu)}


def client(port, paths, connections, stride, t_start, t_end) -> dict:
    """One client process: a thread per connection; latencies of requests sent in the window."""
    out = []
    threads = [threading.Thread(target=_connection, args=(port, paths, c, stride, t_start, t_end, out))
               for c in connections]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t_start - time.monotonic()))
    cpu0 = time.process_time()
    for t in threads:
        t.join()
    return {"latencies": [x for o in out for x in o[0]], "errors": sum(o[1] for o in out),
            "last": max((o[2] for o in out), default=t_end), "cpu": time.process_time() - cpu0}


def _connection(port, paths, first, stride, t_start, t_end, out) -> None:
    """Requests one after another on one keep-alive connection until t_end."""
    latencies, errors, last, i, sock = [], 0, t_end, first, None
    while (sent := time.monotonic()) < t_end:
        request = f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        i += stride
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=60)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            status, close = exchange(sock, request)
        except OSError:
            status, close = 0, True
        done = time.monotonic()
        if close and sock is not None:
            sock.close()
            sock = None
        if sent >= t_start:
            latencies.append(done - sent)
            errors += status != 200
            last = done
    if sock is not None:
        sock.close()
    out.append((latencies, errors, last))
