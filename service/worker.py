"""The gunicorn worker: gthread, except that a request is read whole before a thread takes it,
and gunicorn's own error pages are answered as application/problem+json.

gthread hands a connection to a thread as soon as it is readable; the thread then blocks
until the client has sent every header and every byte of the body, with no time limit. Two
workers of four threads are eight slow clients from being unreachable (gunicorn's documentation
says as much: put a buffering proxy in front). This worker is that buffer: a thread only
ever parses a complete request (headers, and the body its Content-Length or chunked encoding
announces), and incomplete ones wait in the main loop's poller, which reads them without
blocking. A new connection's first request is read by the main loop; on a kept-alive
connection a thread takes what has arrived without waiting (the whole request, nearly
always) and hands an incomplete one back to the main loop, so the common case costs the main
loop nothing more than gthread does (each extra socket call there is another wait for the
GIL while the threads compute). A client that has not sent its whole request within
WORDSPACE_READ_TIMEOUT seconds gets a 408 and is closed; it never held a thread.

gunicorn writes an HTML page for the errors it finds itself (a request line over 8,190
bytes: 414; oversized headers: 431; a malformed request: 400): `handle_error` lets gunicorn
decide the status and log it, then answers problem+json instead.

Two costs per request are cut (bench/profile.py found them): the headers go out with the
body in one send (`OneSendResponse`), and the heartbeat file is touched at most once a second
rather than on every turn of the loop.

Written against gunicorn 27's gthread (pyproject pins it); tests/test_worker.py exercises it
under a real gunicorn.
"""
from __future__ import annotations

import errno
import json
import selectors
import time
from collections import deque
from functools import partial

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import TConn, ThreadWorker

WAIT, READY, CONTINUE = "wait", "ready", "continue"
# A worker holding connections waits this long per connection (at most ACCEPT_STEPS times)
# before it accepts another (BufferingWorker.accept).
ACCEPT_STEP, ACCEPT_STEPS = 0.0005, 4
_BUFFER = object()  # handle's answer: the request is not whole yet, buffer it in the poller
DETAILS = {
    400: "the HTTP request is malformed",
    408: "the request (headers and body) did not arrive whole in time "
         "(WORDSPACE_READ_TIMEOUT)",
    414: "the request line (method, path and query string) is longer than 8190 bytes; "
         "send long inputs in a POST body",
    431: "the request has more than 100 header fields, or one longer than 8190 bytes",
}


class BufferingWorker(ThreadWorker):
    """gthread whose poller reads each request whole before a thread takes it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading: deque[TConn] = deque()  # connections whose request is arriving, oldest first
        settings = getattr(self.app, "settings", None)
        self.read_timeout = getattr(settings, "read_timeout", 10)
        cfg = self.cfg
        # Past this much without the end of the headers, gunicorn's own limits answer.
        self.head_limit = (cfg.limit_request_line + 2
                           + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 2)
        self.notified = 0.0

    def init_process(self):
        # gthread builds each response with wsgi.create, which takes its class from the module;
        # this process serves only through this worker, so the module's class is replaced here.
        wsgi.Response = OneSendResponse
        super().init_process()

    def notify(self):
        """Touch the heartbeat at most once a second: gthread calls this on every turn of its
        loop, and the master only needs it once per `timeout` (a utime each turn was 9% of
        a busy worker's samples)."""
        now = time.monotonic()
        if now - self.notified >= 1.0:
            self.notified = now
            super().notify()

    def accept(self, listener):
        if self.nr_conns:
            # Every worker polls the shared listener and the first to call accept() takes the
            # connection; a few kept-alive connections could pile onto one worker (one core)
            # while another idles. A worker that already holds connections steps back a little
            # per connection, so the one with fewest takes it (bench/neighbors.py: rounds
            # swung by half without this).
            time.sleep(min(self.nr_conns, ACCEPT_STEPS) * ACCEPT_STEP)
        try:
            sock, addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._read(TConn(self.cfg, sock, addr, listener.getsockname()))  # non-blocking socket

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection starts its next request: a thread takes what has arrived
        (`handle`) and hands it back if the request is not whole yet."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.inbox = None
        self.enqueue_req(conn)

    def _read(self, conn: TConn, inbox: bytearray | None = None) -> None:
        """Buffer the rest of conn's request in the poller, until whole or past its time."""
        conn.inbox, conn.scanned = inbox if inbox is not None else bytearray(), 0
        conn.deadline = time.monotonic() + self.read_timeout
        conn.sock.setblocking(False)
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, sock) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before sending a whole request
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.inbox += data
        state = request_state(conn, self.head_limit, self._body_limit())
        if state == CONTINUE:
            _send(sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        if state == READY:
            self._stop_reading(conn)
            conn.data_ready = True
            self.enqueue_req(conn)

    def _stop_reading(self, conn: TConn) -> None:
        self.reading.remove(conn)
        self.poller.unregister(conn.sock)

    def _body_limit(self) -> int | None:
        return getattr(self.wsgi, "config", {}).get("MAX_CONTENT_LENGTH")

    def handle(self, conn):
        """In a thread: hand the whole request to gunicorn's parser, then serve as gthread; a
        kept-alive connection's request that is not whole yet goes back to the poller."""
        inbox = getattr(conn, "inbox", None)
        if inbox is None and conn.initialized:
            inbox = self._take_arrived(conn)
            if inbox is None:
                return False  # the client closed the connection
            conn.pending = request_state(conn, self.head_limit, self._body_limit())
            if conn.pending != READY:
                return _BUFFER
        if inbox is not None:
            conn.inbox = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(inbox))
        return super().handle(conn)

    def _take_arrived(self, conn) -> bytearray | None:
        """What a kept-alive connection has sent so far (read-ahead included), without
        waiting; None when the client closed it with nothing sent."""
        inbox = bytearray(conn.parser.unreader.take_buffered())
        conn.inbox, conn.scanned = inbox, 0
        conn.sock.setblocking(False)
        try:
            while chunk := conn.sock.recv(65536):
                inbox += chunk
            if not inbox:
                return None
        except (BlockingIOError, InterruptedError):
            pass
        return inbox

    def finish_request(self, conn, fs):
        """A request handed back by `handle` is buffered by the poller (`_read`)."""
        if not fs.cancelled() and fs.exception() is None and fs.result() is _BUFFER:
            if self.alive:
                if conn.pending == CONTINUE:
                    _send(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
                self._read(conn, conn.inbox)
                return
            self.nr_conns -= 1
            conn.close()
            return
        super().finish_request(conn, fs)

    def murder_pending(self):
        """Also close the connections whose request did not arrive whole in time (408)."""
        super().murder_pending()
        now = time.monotonic()
        while self.reading and self.reading[0].deadline <= now:
            conn = self.reading[0]
            self._stop_reading(conn)
            _send(conn.sock, problem_response(408, "Request Timeout"))
            self.nr_conns -= 1
            conn.close()

    def handle_error(self, req, client, addr, exc):
        """gunicorn decides the status and logs; the answer is problem+json, not its HTML."""
        page = _Page()
        super().handle_error(req, page, addr, exc)
        try:
            util.write_nonblock(client, problem_response(page.status, page.reason))
        except OSError:
            self.log.debug("could not send the error answer")


class OneSendResponse(wsgi.Response):
    """gunicorn's response, except that the head waits for the first body bytes and goes out
    with them in one send. gunicorn sends them apart: two trips through the TCP stack per
    answer, the largest single cost in a worker's profile for a small answer."""

    head = b""

    def send_headers(self):
        if self.headers_sent:
            return
        lines = self.default_headers()
        lines.extend("%s: %s\r\n" % (k, v) for k, v in self.headers)
        self.head = ("%s\r\n" % "".join(lines)).encode("latin-1")
        self.headers_sent = True

    def _emit_body(self, data):
        head, self.head = self.head, b""
        if self.chunked:
            data = b"%X\r\n%s\r\n" % (len(data), data)
        self.sock.sendall(head + data)

    def flush_head(self):
        if self.head:
            head, self.head = self.head, b""
            self.sock.sendall(head)

    def sendfile(self, respiter):
        if self.cfg.is_ssl or not self.can_sendfile():
            return False
        self.send_headers()
        self.flush_head()  # gunicorn's sendfile writes the body with os.sendfile
        return super().sendfile(respiter)

    def close(self):
        self.send_headers()
        self.flush_head()  # no body at all (HEAD, 204, 304, an empty answer)
        super().close()


def request_state(conn, head_limit: int, body_limit: int | None) -> str:
    """WAIT for more bytes, READY for a thread, or CONTINUE (send 100 Continue, then wait).

    READY also when the request is malformed or over a limit: gunicorn's parser (or the app,
    for a body over WORDSPACE_MAX_BODY_BYTES) then answers it at once."""
    buf = conn.inbox
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return READY if len(buf) > head_limit else WAIT
    fields: dict[str, list[str]] = {}
    for line in bytes(buf[:end]).decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            return READY
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    start = end + 4
    if any("chunked" in v.lower() for v in fields.get("transfer-encoding", [])):
        if body_limit is not None and len(buf) - start > body_limit:
            return READY
        return READY if _chunks_done(conn, start) else _continue_or_wait(conn, fields, end)
    lengths = fields.get("content-length", [])
    if len(lengths) != 1 or not lengths[0].isdigit():
        return READY  # no body, or one gunicorn refuses
    length = int(lengths[0])
    if body_limit is not None and length > body_limit:
        return READY
    if len(buf) - start >= length:
        return READY
    return _continue_or_wait(conn, fields, end)


def _continue_or_wait(conn, fields: dict, end: int) -> str:
    """The client waits for 100 Continue before its body: say it here, once, and drop the
    Expect field so that gunicorn does not say it again."""
    if any(v.lower() == "100-continue" for v in fields.get("expect", [])):
        head = bytes(conn.inbox[:end + 2]).split(b"\r\n")
        kept = [line for line in head if not line.lower().startswith(b"expect:")]
        conn.inbox[:end + 2] = b"\r\n".join(kept)
        return CONTINUE
    return WAIT


def _chunks_done(conn, start: int) -> bool:
    """Whether a chunked body has arrived up to its last chunk and trailer; resumes where the
    previous call stopped, so a body of many small chunks is walked once."""
    buf = conn.inbox
    pos = max(start, conn.scanned)
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return False
        try:
            size = int(bytes(buf[pos:eol]).split(b";")[0].strip(), 16)
        except ValueError:
            return True  # malformed: gunicorn answers 400
        if size == 0:
            return buf.find(b"\r\n\r\n", eol) >= 0
        if eol + 2 + size + 2 > len(buf):
            return False
        pos = conn.scanned = eol + 2 + size + 2


def problem_response(status: int, reason: str) -> bytes:
    body = json.dumps({"type": "about:blank", "title": reason, "status": status,
                       "detail": DETAILS.get(status, reason)}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def _send(sock, data: bytes) -> None:
    try:
        sock.send(data)
    except OSError:
        pass  # the client is gone or not reading; it is closed next


class _Page:
    """Stands in for the client socket while gunicorn writes its HTML error page, to learn
    the status it chose."""

    status, reason = 500, "Internal Server Error"

    def gettimeout(self):
        return 0.0

    def sendall(self, data: bytes) -> None:
        line = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        self.status, self.reason = int(line[1]), line[2] if len(line) > 2 else ""
