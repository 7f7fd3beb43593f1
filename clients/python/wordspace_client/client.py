"""The synchronous client: `with Client() as c: c.space("glove").neighbors("alps")`."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import httpx

from wordspace_client import calls, transport
from wordspace_client.calls import Batched, Call
from wordspace_client.handles import ClientCalls, CompareCalls, SpaceCalls
from wordspace_client.results import Limits


class Compare(CompareCalls):
    """The /v1/compare routes of a Client."""


class Client(ClientCalls):
    """A connection to a wordspace server (the arguments are ClientCalls'):
    `with Client(retries=3) as c: c.space("glove").neighbors("alps")`."""

    _http_class = httpx.Client
    _compare_class = Compare

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def space(self, name: str) -> "Space":
        """A handle on one space (no request until you call one of its methods)."""
        return Space(self, name)

    def limits(self) -> Limits:
        """The server's request limits, read once from GET /v1/spaces."""
        if self._limits is None:
            self._limits = self._with_batch_size(self._send(calls.limits()))
        return self._limits

    def _run(self, call: Call | Batched):
        if isinstance(call, Batched):
            return call.combine([self._send(c) for c in call.calls(self.limits())])
        return self._send(call)

    def _send(self, call: Call):
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, params=call.params,
                                              json=call.body)
            except httpx.TransportError as e:
                wait = transport.retry_delay(self._opts, call, attempt, error=e)
                if wait is None:
                    raise transport.failure(e, call, self._opts) from None
            else:
                wait = transport.retry_delay(self._opts, call, attempt, response=response)
                if wait is None:
                    return transport.answer(call, response, self.url)
            time.sleep(wait)
            attempt += 1

    def _download(self, call: Call, out: Path) -> Path:
        """Stream an answer to `out` (through a .part file, renamed when complete)."""
        out = Path(out)
        part = out.with_name(out.name + ".part")
        try:
            with self._http.stream(call.method, call.path, params=call.params) as response:
                if response.status_code != 200:
                    response.read()
                    transport.answer(call, response, self.url)
                with part.open("wb") as f:
                    for chunk in response.iter_bytes():
                        f.write(chunk)
        except httpx.TransportError as e:
            part.unlink(missing_ok=True)
            raise transport.failure(e, call, self._opts) from None
        part.replace(out)
        return out


class Space(SpaceCalls):
    """One space of a Client: neighbours, analogies, similarity, vectors, words, export."""

    def iter_words(self, prefix: str | None = None, page_size: int = 1000) -> Iterator[str]:
        """Every word (with `prefix`), most frequent first, fetched a page at a time."""
        offset = 0
        while True:
            page = self.words(prefix, offset, page_size)
            yield from page.words
            offset += len(page.words)
            if not page.words or offset >= page.total:
                return

    def export(self, out: str | Path, format: str = "projector", limit: int | None = None) -> Path:
        """Write the space to `out`: a zip with Projector's vectors.tsv and metadata.tsv
        (format="projector") or word2vec text (format="word2vec"); the first `limit` rows."""
        return self._client._download(calls.export(self.name, format, limit), Path(out))

    def keyed_vectors(self):
        """A gensim KeyedVectors look-alike over this space (needs numpy)."""
        from wordspace_client.keyed_vectors import KeyedVectors
        return KeyedVectors(self)

