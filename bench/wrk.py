"""Drive a server with wrk (Debian's `wrk`): a fixed number of keep-alive connections, each
sending the next request as soon as the previous answer is in (a closed loop).

The requests are written into a Lua script that cycles through them, and the script's `done`
hook prints one JSON line with the counts and latency percentiles, so nothing is parsed out
of wrk's human-readable report. wrk counts every answer that is not 2xx/3xx as an error.
"""
from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str | None = None


def available() -> bool:
    return shutil.which("wrk") is not None


def script(requests: list[Request]) -> str:
    """A wrk Lua script sending `requests` in turn, over and over.

    The requests are formatted in `init`, which wrk calls after it has set the Host header:
    formatted when the script loads, they would have none (HTTP/1.1 requires it; gunicorn
    lets it pass, nginx answers 400)."""
    lines = ["local r = {}", "init = function(args)"]
    for n, q in enumerate(requests, 1):
        if q.body is None:
            lines.append(f"  r[{n}] = wrk.format({_lua(q.method)}, {_lua(q.path)})")
        else:
            lines.append(f"  r[{n}] = wrk.format({_lua(q.method)}, {_lua(q.path)}, "
                         f"{{[\"Host\"] = wrk.headers[\"Host\"], [\"Content-Type\"] = \"application/json\"}}, "
                         f"{_lua(q.body)})")
    lines += ["end",
              "local i = 0",
              "request = function()",
              "  i = i % #r + 1",
              "  return r[i]",
              "end", _DONE]
    return "\n".join(lines)


def _lua(text: str) -> str:
    """A Lua long-bracket string literal holding `text` verbatim."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def run(port: int, requests: list[Request], *, seconds: float, connections: int,
        threads: int = 1, timeout: float = 10.0) -> dict:
    """One wrk run against 127.0.0.1:port: requests, req/s, latency percentiles (ms), errors,
    and the CPU seconds wrk itself used."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="wordspace-wrk-") as f:
        f.write(script(requests))
        f.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
             "--timeout", f"{timeout:g}s", "-s", f.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=seconds + timeout + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    out = json.loads(lines[-1][len("WRKJSON "):])
    seconds_run = out["duration_us"] / 1e6
    return {"requests": out["requests"], "seconds": round(seconds_run, 3),
            "rps": round(out["requests"] / seconds_run, 1),
            "errors": sum(out["errors"].values()), "error_kinds": out["errors"],
            "p50_ms": out["p50_us"] / 1000, "p90_ms": out["p90_us"] / 1000,
            "p99_ms": out["p99_us"] / 1000, "max_ms": out["max_us"] / 1000,
            "client_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}
