"""What both clients share around one HTTP exchange: defaults from the environment, headers,
when and how long to wait before a retry, and turning failures into WordspaceError.

The two clients differ only in how they send (httpx.Client or httpx.AsyncClient) and sleep.
"""
from __future__ import annotations

import email.utils
import os
import random
import time
from dataclasses import dataclass

import httpx

from wordspace_client import __version__
from wordspace_client.calls import Call
from wordspace_client.errors import WordspaceError, from_problem

DEFAULT_URL = "http://localhost:8000"
URL_VARIABLE, KEY_VARIABLE = "WORDSPACE_URL", "WORDSPACE_API_KEY"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_DELAY = 60.0  # seconds: the longest wait before a retry, whatever Retry-After says


@dataclass(frozen=True)
class Options:
    url: str
    api_key: str | None
    timeout: float
    retries: int
    backoff: float

    @property
    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"wordspace-client/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def options(url: str | None, api_key: str | None, timeout: float, retries: int,
            backoff: float) -> Options:
    """The arguments given, else WORDSPACE_URL and WORDSPACE_API_KEY, else the defaults."""
    url = url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
    if api_key is None:
        api_key = os.environ.get(KEY_VARIABLE) or None
    if retries < 0:
        raise ValueError("retries must be 0 or more")
    return Options(url.rstrip("/"), api_key, timeout, retries, backoff)


def answer(call: Call, response: httpx.Response, url: str):
    """The parsed answer, or the exception its problem+json describes."""
    if response.status_code not in call.accept:
        try:
            problem = response.json()
        except ValueError:
            problem = None
        raise from_problem(response.status_code, problem, url + call.path, response.text)
    if call.raw:
        return call.parse(response.content)
    try:
        data = response.json()
    except ValueError:
        raise WordspaceError(f"{call.method} {url}{call.path}: the answer is not JSON",
                             status=response.status_code, url=url) from None
    return call.parse(data)


def retry_delay(opts: Options, call: Call, attempt: int, response: httpx.Response | None = None,
                error: Exception | None = None) -> float | None:
    """Seconds to wait before trying `call` again, or None to stop here.

    Retries are opt-in (`retries=`), only for calls that are safe to repeat, and only on 429,
    502, 503, 504 or a failed connection; the server's Retry-After wins over the backoff.
    """
    if attempt >= opts.retries or not call.retry:
        return None
    if response is not None:
        if response.status_code in call.accept or response.status_code not in RETRY_STATUSES:
            return None
        after = _retry_after(response.headers.get("Retry-After"))
        if after is not None:
            return min(after, MAX_DELAY)
    elif not isinstance(error, (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)):
        return None
    return min(opts.backoff * 2 ** attempt * (1 + 0.25 * random.random()), MAX_DELAY)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def failure(error: Exception, call: Call, opts: Options) -> WordspaceError:
    """A WordspaceError for a request that got no answer, naming the URL."""
    where = f"{opts.url}{call.path}"
    if isinstance(error, httpx.ConnectError):
        message = (f"cannot connect to {opts.url} ({_reason(error)}); is the server running? "
                   f"Set {URL_VARIABLE} or pass url=")
    elif isinstance(error, httpx.TimeoutException):
        message = f"{call.method} {where} got no answer within {opts.timeout} s"
    else:
        message = f"{call.method} {where} failed: {_reason(error)}"
    return WordspaceError(message, url=opts.url)


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return "connection refused" if "refused" in text.lower() else text
