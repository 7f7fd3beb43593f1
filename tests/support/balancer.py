"""One nginx in front of several replicas (an upstream, round-robin: nginx's default), as a
cluster's Service or load balancer would be, for the many-replica tests and benches."""
from __future__ import annotations

import contextlib
import subprocess
import tempfile
from pathlib import Path

from service.supervise import find_nginx
from tests.support.server import _answers, free_port, until

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
def balancer(ports: list[int]):
    """nginx on a free loopback port round-robin over 127.0.0.1:PORT for each of `ports`;
    yields its base URL once it answers /healthz."""
    port = free_port()
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
