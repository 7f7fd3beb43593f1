"""Processes the benches start: each in its own session on a free loopback port, ready when a
probe answers 200, stopped by its own pid; CPU and memory read from /proc (Linux only)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class Process:
    """One server process (and the children it forks, e.g. gunicorn's workers)."""

    def __init__(self, name: str, cmd: list[str], env: dict, port: int, log_path: Path):
        self.name, self.port, self.log_path = name, port, log_path
        self.started = time.monotonic()
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid
        self.ready = None

    def wait_ready(self, probe: str, timeout: float = 300.0) -> float:
        """Seconds from process start to the first 200 on `probe`, polled every 10 ms."""
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{probe}", timeout=5) as r:
                    if r.status == 200:
                        self.ready = time.monotonic() - self.started
                        return self.ready
            except OSError:
                pass
            time.sleep(0.01)
        raise SystemExit(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM to our pid (gunicorn's master stops its workers), then SIGKILL to the
        session it leads if anything of it is still there after 15 s."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # the group this process leads, nothing else
        except ProcessLookupError:
            pass
        self.proc.wait(5)

    def members(self) -> list[int]:
        """Pids of the live processes in this process's session."""
        found = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                fields = _stat(entry.path)
                if fields and int(fields[3]) == self.pid:  # session id
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the live processes in the session."""
        total = 0
        for pid in self.members():
            fields = _stat(f"/proc/{pid}")
            if fields:
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def memory(self) -> dict:
        """RSS, PSS and Private_Dirty (MiB) of each process in the session: the first is the
        one started."""
        out = []
        for pid in sorted(self.members()):
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            kb = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:]}
            out.append({"pid": pid, "role": "main" if pid == self.pid else "child",
                        "rss_mib": round(kb.get("Rss", 0) / 1024, 1),
                        "pss_mib": round(kb.get("Pss", 0) / 1024, 1),
                        "private_dirty_mib": round(kb.get("Private_Dirty", 0) / 1024, 1)})
        return {"processes": out, "pss_total_mib": round(sum(p["pss_mib"] for p in out), 1)}

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _stat(folder: str) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (index 0 is the state)."""
    try:
        return Path(folder, "stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def free_port(lo: int | None = None, hi: int | None = None) -> int:
    """A free loopback port, from [lo, hi] when given (else any the kernel picks)."""
    for port in range(lo, hi + 1) if lo else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise SystemExit(f"no free port in {lo}-{hi}")


def busy_cpu_seconds() -> float:
    """CPU seconds the whole box has spent busy (all cores), from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine_load() -> dict:
    """Load averages and the top of `top`, to record how busy the box was."""
    try:
        top = subprocess.run(["top", "-bn1"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        top = ""
    return {"loadavg": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count(),
            "top": top.splitlines()[:15]}
