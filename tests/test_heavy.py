"""Heavy requests against the real service under gunicorn, on a GloVe slice (issue 29): exports
stream (a worker's memory stays flat however many run; the access log records the real
duration and bytes); heavy routes past their limit answer 503 with Retry-After and are
counted, and /healthz keeps answering fast under a flood of them.

Figures are printed (`pytest -s`) and written as JSON under each test's tmp_path; the ones in
docs/operations.md come from these tests.
"""
from __future__ import annotations

import json
import multiprocessing
import threading
import time

import pytest
import requests

from service.store import catalog
from service.store.tables import read_table
from tests.support.server import serve, until, wait_for_workers

pytestmark = pytest.mark.slow
ROWS = 80_000
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def glove_slice(tmp_path_factory):
    """The first 80,000 GloVe rows (exact index, no top-k table) and its first 20,000 rows as
    a second space, for comparisons."""
    cat = tmp_path_factory.mktemp("heavy") / "indexes"
    table = read_table("kumo", limit=ROWS)
    catalog.write_space(cat, "glove", table, factory="Flat", source={"format": "kumo"},
                        topk_rows=0)
    catalog.write_space(cat, "glove-20k", read_table("kumo", limit=20_000), factory="Flat",
                        source={"format": "kumo"}, topk_rows=0)
    return cat


def report(tmp_path, name: str, figures: dict) -> None:
    print(f"\n{name}: {json.dumps(figures)}")
    (tmp_path / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")


def peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes: the kernel keeps it, no sampling."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def pss(pid: int) -> int:
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Pss")


def export(base: str, out: dict) -> None:
    """One full word2vec export, read as it comes: bytes, first-byte and total seconds."""
    started = time.perf_counter()
    with requests.get(base + "/v1/spaces/glove/export?format=word2vec", stream=True,
                      timeout=300) as r:
        out["status"] = r.status_code
        size = 0
        for chunk in r.iter_content(1 << 16):
            if not size:
                out["first_byte"] = time.perf_counter() - started
            size += len(chunk)
    out["total"] = time.perf_counter() - started
    out["bytes"] = size


def access_lines(server, route: str) -> list[dict]:
    found = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("logger") == "wordspace.access" and record.get("route") == route:
                found.append(record)
    return found


def test_exports_stream_in_flat_memory(glove_slice, tmp_path):
    """8 full exports at once add at most 100 MiB to the worker's peak (they were each held
    whole in memory, for the access log's byte count); the first byte comes long before the
    last; the access log has each export's real bytes and duration."""
    n = 8
    with serve(glove_slice, workers=1, threads=n + 2, heavy_requests=n, api_keys="") as server:
        [worker] = wait_for_workers(server.proc.pid, 1)
        solo = {}
        export(server.base, solo)  # touches the mapped vectors once: they are no growth
        assert solo["status"] == 200
        before, pss_before = peak_rss(worker), pss(worker)
        runs = [{} for _ in range(n)]
        threads = [threading.Thread(target=export, args=(server.base, run)) for run in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after, pss_after = peak_rss(worker), pss(worker)
        route = "/v1/spaces/<space>/export"
        # Logged when the server closes each stream, which may come just after its last byte.
        until(lambda: len(access_lines(server, route)) == n + 1, what="an access line per export")
        lines = access_lines(server, route)
    grown = (after - before) / MIB
    report(tmp_path, "export_memory", {
        "rows": ROWS, "bytes_per_export": solo["bytes"], "concurrent": n,
        "peak_rss_growth_mib": round(grown, 1), "pss_mib_before": round(pss_before / MIB, 1),
        "pss_mib_after": round(pss_after / MIB, 1),
        "solo_first_byte_s": round(solo["first_byte"], 3), "solo_total_s": round(solo["total"], 3),
        "first_byte_s": sorted(round(r["first_byte"], 3) for r in runs),
        "total_s": sorted(round(r["total"], 3) for r in runs)})
    assert all(r["status"] == 200 and r["bytes"] == solo["bytes"] for r in runs)
    assert grown <= 100, f"8 exports grew the worker's peak by {grown:.0f} MiB"
    # The first byte leaves as soon as the first rows are written, not once all are.
    assert solo["first_byte"] < 0.25 * solo["total"], solo
    assert len(lines) == n + 1
    for record in lines:
        assert record["bytes"] == solo["bytes"], record
    # The access log's duration covers the stream (the clients' totals include only a
    # connection and a request more).
    durations = sorted(r["duration_ms"] / 1000 for r in lines)
    totals = sorted([solo["total"]] + [r["total"] for r in runs])
    assert all(d >= 0.8 * t for d, t in zip(durations, totals)), (durations, totals)


def probe_loop(base: str, n: int) -> list[float]:
    """`n` GET /healthz, one every 50 ms, in a process of its own (as a kubelet's are): the
    flood's client threads share no interpreter lock with it. Their latencies, in seconds."""
    latencies = []
    with requests.Session() as s:
        while len(latencies) < n:
            started = time.perf_counter()
            r = s.get(base + "/healthz", timeout=30)
            latencies.append(time.perf_counter() - started)
            assert r.status_code == 200
            time.sleep(0.05)  # the probe's own period: sleeping is the condition here
    return latencies


HEAVY = ("/v1/spaces/glove/export?format=word2vec", "/v1/compare/spaces?a=glove&b=glove-20k&k=10",
         "/v1/compare/spaces?a=glove-20k&b=glove&k=20", "/v1/spaces/glove/export?format=projector")


def flood_loop(base: str, path: str, statuses: list, stop: threading.Event) -> None:
    with requests.Session() as s:
        while not stop.is_set():
            started = time.perf_counter()
            r = s.get(base + path, timeout=120, stream=True)
            for _ in r.iter_content(1 << 20):  # read in large pieces: little client CPU
                pass
            statuses.append((r.status_code, r.headers.get("Retry-After"),
                             r.headers.get("Content-Type"), time.perf_counter() - started, path))
            if r.status_code == 503:  # as a client should, it waits as long as it is told
                stop.wait(float(r.headers.get("Retry-After", 1)))


def test_probes_answer_under_a_flood_of_heavy_routes(glove_slice, tmp_path):
    """16 clients asking heavy routes back to back on the default workers and threads:
    /healthz p99 stays under 100 ms (docs/operations.md) -- on a machine slowed by other work,
    at least far under an export's time, which is what a probe waits for when no thread
    is free; the requests past the limit get 503 with Retry-After, and /metrics counts them."""
    probes_wanted = 200
    with serve(glove_slice, api_keys="") as server:
        wait_for_workers(server.proc.pid, 2)
        stop = threading.Event()
        statuses: list[tuple] = []
        flood = [threading.Thread(target=flood_loop, args=(server.base, HEAVY[i % len(HEAVY)],
                                                           statuses, stop)) for i in range(16)]
        for t in flood:
            t.start()
        until(lambda: len(statuses) >= 16, 120, "the flood under way")
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            latencies = pool.apply(probe_loop, (server.base, probes_wanted))
        stop.set()
        for t in flood:
            t.join()
        metrics = requests.get(server.url("/metrics"), timeout=10).text
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    answered = sum(1 for s in statuses if s[0] == 200)
    refused = [s for s in statuses if s[0] == 503]
    # What a probe waits for when every thread is taken: an export's whole time.
    exports = sorted(s[3] for s in statuses if s[0] == 200 and "/export" in s[4]) or [0.0]
    export_median = exports[len(exports) // 2]
    report(tmp_path, "probe_latency", {
        "probes": len(latencies), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(p99 * 1000, 1), "max_ms": round(latencies[-1] * 1000, 1),
        "export_median_ms": round(export_median * 1000, 1),
        "heavy_answered": answered, "heavy_refused": len(refused)})
    assert len(latencies) >= probes_wanted
    assert p99 < max(0.1, export_median / 4), (
        f"/healthz p99 {p99 * 1000:.0f} ms under the flood (an export's median "
        f"{export_median * 1000:.0f} ms)")
    assert answered and refused
    assert {s[0] for s in statuses} <= {200, 503}
    assert all(s[1] == "2" and s[2] == "application/problem+json" for s in refused)
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                  if line.startswith("wordspace_busy_refusals_total{"))
    assert counted == len(refused)
