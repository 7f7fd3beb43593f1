"""One nginx in front of several replicas (an upstream, round-robin: nginx's default), as a
cluster's Service or load balancer would be, for the many-replica tests and benches."""
from __future__ import annotations

import contextlib
import subprocess
import threading
import tempfile
from pathlib import Path

from service.supervise import find_nginx
import requests

from bench.server import _answers, free_port, until

CONFIG = """\
daemon off;
worker_processes 1;
pid {rt}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {rt}/body; proxy_temp_path {rt}/proxy; fastcgi_temp_path {rt}/fcgi;
  uwsgi_temp_path {rt}/uwsgi; scgi_temp_path {rt}/scgi;
  upstream replicas {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # nginx's default: a request whose replica fails to answer (a closed keep-alive
      # connection, a refused connect) goes to the next; an HTTP error answer is passed on.
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""


@contextlib.contextmanager
def balancer(ports: list[int], port: int | None = None):
    """nginx on `port` (default: a free loopback port), round-robin over 127.0.0.1:PORT for each of `ports`;
    yields its base URL once it answers /healthz."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="wordspace-lb-") as rt:
        servers = "\n".join(f"    server 127.0.0.1:{p};" for p in ports)
        conf = Path(rt) / "nginx.conf"
        conf.write_text(CONFIG.format(rt=rt, servers=servers, port=port))
        log = open(Path(rt) / "nginx.log", "w+")
        proc = subprocess.Popen([find_nginx(), "-e", "stderr", "-c", str(conf), "-p", rt + "/"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            until(lambda: proc.poll() is not None or _answers(base + "/healthz"), timeout=30,
                  what="nginx answering")
            assert proc.poll() is None, Path(rt, "nginx.log").read_text()
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


class Load:
    """Threads sending neighbour queries through the balancer; every status is kept."""

    def __init__(self, base: str, headers: dict, words: tuple[str, ...], space: str = "toy",
                 threads: int = 4):
        self.base, self.headers, self.words, self.space = base, headers, words, space
        self.ok, self.failed = [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        with requests.Session() as s:
            i = 0
            while not self.stop.is_set():
                i += 1
                try:
                    word = self.words[i % len(self.words)]
                    r = s.get(f"{self.base}/v1/spaces/{self.space}/neighbors?word={word}&k=3",
                              headers=self.headers, timeout=15)
                    (self.ok if r.status_code == 200 else self.failed).append(r.status_code)
                except requests.RequestException as e:
                    self.failed.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def more(self, n: int = 50):
        """Wait for n more answers (or a failure)."""
        target = len(self.ok) + n
        until(lambda: len(self.ok) >= target or self.failed, timeout=60, what=f"{n} more answers")
