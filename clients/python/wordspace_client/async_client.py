"""The asynchronous client, method for method the same as Client:
`async with AsyncClient() as c: await c.space("glove").neighbors("alps")`."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import httpx

from wordspace_client import calls, transport
from wordspace_client.calls import Batched, Call
from wordspace_client.handles import ClientCalls, CompareCalls, SpaceCalls
from wordspace_client.results import Limits


class AsyncCompare(CompareCalls):
    """The /v1/compare routes of an AsyncClient; every method returns an awaitable."""


class AsyncClient(ClientCalls):
    """A connection to a wordspace server for asyncio code; the arguments are Client's."""

    _http_class = httpx.AsyncClient
    _compare_class = AsyncCompare

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    def space(self, name: str) -> "AsyncSpace":
        """A handle on one space (no request until you await one of its methods)."""
        return AsyncSpace(self, name)

    async def limits(self) -> Limits:
        """The server's request limits, read once from GET /v1/spaces."""
        if self._limits is None:
            self._limits = self._with_batch_size(await self._send(calls.limits()))
        return self._limits

    async def _run(self, call: Call | Batched):
        if isinstance(call, Batched):
            return call.combine([await self._send(c) for c in call.calls(await self.limits())])
        return await self._send(call)

    async def _send(self, call: Call):
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, call.path, params=call.params,
                                                    json=call.body)
            except httpx.TransportError as e:
                wait = transport.retry_delay(self._opts, call, attempt, error=e)
                if wait is None:
                    raise transport.failure(e, call, self._opts) from None
            else:
                wait = transport.retry_delay(self._opts, call, attempt, response=response)
                if wait is None:
                    return transport.answer(call, response, self.url)
            await asyncio.sleep(wait)
            attempt += 1

    async def _download(self, call: Call, out: Path) -> Path:
        out = Path(out)
        part = out.with_name(out.name + ".part")
        try:
            async with self._http.stream(call.method, call.path, params=call.params) as response:
                if response.status_code != 200:
                    await response.aread()
                    transport.answer(call, response, self.url)
                with part.open("wb") as f:
                    async for chunk in response.aiter_bytes():
                        f.write(chunk)
        except httpx.TransportError as e:
            part.unlink(missing_ok=True)
            raise transport.failure(e, call, self._opts) from None
        part.replace(out)
        return out


class AsyncSpace(SpaceCalls):
    """One space of an AsyncClient; every method returns an awaitable."""

    async def iter_words(self, prefix: str | None = None, page_size: int = 1000) -> AsyncIterator[str]:
        """Every word (with `prefix`), most frequent first, fetched a page at a time."""
        offset = 0
        while True:
            page = await self.words(prefix, offset, page_size)
            for word in page.words:
                yield word
            offset += len(page.words)
            if not page.words or offset >= page.total:
                return

    async def export(self, out: str | Path, format: str = "projector", limit: int | None = None) -> Path:
        """Write the space to `out` (see Space.export)."""
        return await self._client._download(calls.export(self.name, format, limit), Path(out))

