"""The nginx configuration in front of gunicorn, rendered from Settings (the one source of the
limits both enforce).

Interface (`wordspace serve --proxy`, service/supervise.py):
- command: `wordspace serve --proxy` (Debian's nginx must be installed: `apt-get install nginx`,
  or `make proxy-deps` as root). It runs until SIGTERM/SIGINT (both children stop cleanly,
  exit 0); SIGHUP re-reads the catalog in gunicorn; if nginx or gunicorn dies it stops the
  other and exits 1.
- nginx listens on WORDSPACE_HOST:WORDSPACE_PORT (the clients' address, as `serve` alone).
- gunicorn (stock gthread, `wordspace serve --socket RUNTIME/gunicorn.sock`) listens only on
  that unix socket; nginx keeps connections to it alive.
- RUNTIME is WORDSPACE_RUNTIME_DIR (created if missing, must be writable) or a fresh temporary
  folder removed at exit. It holds nginx.conf, nginx-problems/*.json, nginx.pid,
  gunicorn.sock, nginx's temp folders (request bodies being received are buffered there, on
  disk). nginx's access log (4xx/5xx answers only, JSON lines without query strings or
  headers) goes to stdout, its error log (crit only) to stderr; the app's JSON access log
  (with the client address from X-Forwarded-For) to stdout/stderr as with `serve`.
  Nothing else is written (but gunicorn's metrics folder, a temporary folder unless
  PROMETHEUS_MULTIPROC_DIR is set), so the root filesystem may be read-only and the user
  non-root, given a writable TMPDIR (an emptyDir or tmpfs on /tmp) or WORDSPACE_RUNTIME_DIR.
  nginx runs one worker process per four gunicorn workers (WORDSPACE_WORKERS, rounded up:
  `nginx_workers`); as root it drops them to nobody:nogroup.
- Every other WORDSPACE_* variable means what it means for `serve`; these reach nginx:
  MAX_BODY_BYTES (client_max_body_size), READ_TIMEOUT (client header/body and send timeouts),
  MAX_HEADER_LINE (large_client_header_buffers), TIMEOUT (proxy_read_timeout).
- `python -m service.proxy RUNTIME` only writes RUNTIME/nginx.conf (for an nginx run apart,
  e.g. a sidecar sharing RUNTIME with a container running `wordspace serve --socket
  RUNTIME/gunicorn.sock`); run it as `nginx -e stderr -c RUNTIME/nginx.conf -p RUNTIME/`.

nginx answers what it refuses itself (400, 408, 413, 414, 431, 502, 503, 504) as
application/problem+json, as the app does (REFUSALS), and a request target holding raw
non-ASCII bytes, which gunicorn would refuse with an HTML page.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from service.errors import TITLES
from service.settings import CONNECT_TIMEOUT, KEEPALIVE_TIMEOUT, Settings

CONFIG, SOCKET, PID = "nginx.conf", "gunicorn.sock", "nginx.pid"
PROBLEMS = "nginx-problems"  # RUNTIME/nginx-problems/CODE.json: the bodies of nginx's own refusals
TEMP_FOLDERS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
# What nginx refuses itself: its status -> (the status answered, title, detail); the titles
# are the app's (service/errors.py TITLES), a detail's {names} the server's limits
# (Settings.limits()), filled in when the config is written.
REFUSALS = {
    400: (400, TITLES[400], "the HTTP request is malformed"),
    408: (408, TITLES[408], "the request did not arrive in time: {read_timeout} s to send the "
                            "headers, and between two reads of the body (WORDSPACE_READ_TIMEOUT)"),
    413: (413, TITLES[413], "the request body is larger than {max_body_bytes} bytes "
                            "(WORDSPACE_MAX_BODY_BYTES)"),
    414: (414, TITLES[414], "the request line is longer than {max_header_line} bytes "
                            "(WORDSPACE_MAX_HEADER_LINE); send long inputs in a POST body"),
    # Not a status nginx answers: the code the server block returns for a request target
    # holding raw non-ASCII bytes (RAW_TARGET), which gunicorn would refuse with an HTML page.
    418: (400, TITLES[400], "the request target holds raw non-ASCII bytes; percent-encode "
                            "them as UTF-8 (münchen is m%C3%BCnchen; curl -G --data-urlencode "
                            "'word=münchen' URL encodes a query parameter)"),
    # nginx's own code for headers over its buffers (it would answer 400).
    494: (431, TITLES[431],
          "a header field is longer than {max_header_line} bytes (WORDSPACE_MAX_HEADER_LINE), "
          "or the headers are too large together"),
    # A Transfer-Encoding other than chunked (nginx would answer 501): the client's error.
    501: (400, TITLES[400], "Transfer-Encoding must be chunked (or absent, with a Content-Length)"),
    502: (502, TITLES[502], "the service behind the proxy is not answering; it may be starting"),
    503: (503, TITLES[503], "the service behind the proxy is not answering"),
    504: (504, TITLES[504], "the service behind the proxy did not answer in time"),
}
# nginx's header buffers: four of them, each one line (the request line or a header field).
HEADER_BUFFERS = 4


def nginx_workers(settings: Settings) -> int:
    """One nginx worker per four gunicorn workers: one proxies far more requests than two
    gunicorn workers answer, and on a small machine a second only competes with them for the
    cores (bench/one_replica.py, docs/operations.md "One replica")."""
    return max(1, -(-settings.workers // 4))


def render(settings: Settings, runtime: Path) -> str:
    """nginx.conf for a server on settings.host:settings.port in front of RUNTIME/gunicorn.sock."""
    rt = Path(runtime).resolve()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    # As root nginx drops its workers to a user; as anyone else they run as that user.
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"  {name}_temp_path {rt / name};\n" for name in TEMP_FOLDERS)
    # Static files, not named locations: a request line refused before its URI is known
    # (400, 414) can only be redirected to a URI.
    pages = "".join(f"    error_page {code} ={shown} /{PROBLEMS}/{code}.json;\n"
                    for code, (shown, _, _) in REFUSALS.items())
    t = settings.read_timeout
    return f"""# Written by wordspace (service/proxy.py) from its settings at each start: do not edit.
daemon off;
master_process on;
worker_processes {nginx_workers(settings)};
pid {rt / PID};
# A graceful stop (SIGQUIT) lets the requests held finish, for as long as gunicorn would.
worker_shutdown_timeout {settings.timeout}s;
# crit: nginx's error-level lines quote the request line (whose query string may hold a
# key); what they report shows as the status of the access line.
error_log stderr crit;
{user}
events {{
  worker_connections 8192;
}}

http {{
  server_tokens off;
  map $status $refused {{
    ~^[45] 1;
    default 0;
  }}
  # nginx's own error answers, one JSON line each on stdout (the container's log, rotated by
  # the runtime; nothing grows in RUNTIME): the path without its query string and no header,
  # so a key sent in a query string, a Referer or any header is never written.
  log_format refused escape=json '{{"logger":"nginx.access","time":"$time_iso8601",'
    '"method":"$request_method","path":"$uri","status":$status,"bytes":$body_bytes_sent,'
    '"duration_s":$request_time,"remote":"$remote_addr"}}';
  access_log /dev/stdout refused if=$refused;
{temp}
  client_max_body_size {settings.max_body_bytes};
  client_header_timeout {t}s;
  client_body_timeout {t}s;
  send_timeout {t}s;
  large_client_header_buffers {HEADER_BUFFERS} {settings.max_header_line + 2};

  upstream gunicorn {{
    server unix:{rt / SOCKET};
    keepalive 32;
    # Shorter than gunicorn's keepalive, so nginx closes an idle connection first.
    keepalive_timeout {KEEPALIVE_TIMEOUT - 1}s;
  }}

  server {{
    listen {host}:{settings.port} default_server;

    location / {{
      # A request target with a raw byte outside printable ASCII (curl '...?word=munchen'
      # with an umlaut): gunicorn refuses it in its request-line parser (RFC 9112 section
      # 3.2) with an HTML page and no setting to change that; answered here as problem+json
      # (REFUSALS[418]). In this location, not the server: the error page's internal
      # redirect keeps the request's $request_uri.
      if ($request_uri ~ "[^\\x21-\\x7e]") {{
        return 418;
      }}
      proxy_pass http://gunicorn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Whole requests to gunicorn, whole answers from it: slow clients cost nginx, not threads.
      proxy_request_buffering on;
      proxy_buffering on;
      proxy_connect_timeout {CONNECT_TIMEOUT}s;
      proxy_read_timeout {settings.timeout}s;
      proxy_send_timeout {settings.timeout}s;
    }}

{pages}
    location ^~ /{PROBLEMS}/ {{
      internal;
      root {rt};
      default_type application/problem+json;
      types {{ }}
    }}
  }}
}}
"""


def _problem(code: int, settings: Settings) -> str:
    shown, title, detail = REFUSALS[code]
    detail = detail.format_map(settings.limits())
    return json.dumps({"type": "about:blank", "title": title, "status": shown, "detail": detail},
                      separators=(",", ":"))


def write_config(settings: Settings, runtime: Path) -> Path:
    """Write RUNTIME/nginx.conf (creating RUNTIME); return its path."""
    runtime = Path(runtime)
    runtime.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        runtime.chmod(0o755)  # nginx's workers (nobody) reach the socket and temp folders
    (runtime / PROBLEMS).mkdir(exist_ok=True)
    for code in REFUSALS:
        (runtime / PROBLEMS / f"{code}.json").write_text(_problem(code, settings), encoding="utf-8")
    path = runtime / CONFIG
    path.write_text(render(settings, runtime), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_config(Settings.from_env(), Path(sys.argv[1])))
