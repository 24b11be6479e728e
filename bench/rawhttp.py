"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for the load generators.

The load generators run on the same 2-core machine as the server, so their own CPU cost
per request is taken from the server. A general client (httpx) spends about a
millisecond of CPU per request; this one writes the request bytes and reads the status
line, the headers and a ``Content-Length`` or chunked body, and nothing more. It keeps
one connection open and reconnects when the server closes it.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from urllib.parse import urlsplit


class Response:
    __slots__ = ("status_code", "content", "headers")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.content)


class Connection:
    """One persistent connection to ``base`` (``http://host:port``)."""

    def __init__(self, base: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        extra = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in extra.items()).encode("latin-1")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, json=None) -> Response:
        body = b"" if json is None else jsonlib.dumps(json).encode("utf-8")
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + self._fixed
        if json is not None or method == "POST":
            head += b"Content-Type: application/json\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        for attempt in range(2):
            if self._writer is None:
                await self._connect()
            try:
                assert self._writer is not None
                self._writer.write(head + body)
                return await asyncio.wait_for(self._read_response(), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection: reconnect once.
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _read_response(self) -> Response:
        reader = self._reader
        assert reader is not None
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            content = b"".join(chunks)
        elif status in (204, 304) or status < 200:
            content = b""
        else:
            content = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, headers, content)

    async def post(self, path: str, json=None) -> Response:
        return await self.request("POST", path, json if json is not None else {})

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)


async def closed_loop(base: str, clients: int, total: int, send) -> tuple[float, list[float]]:
    """``total`` requests from ``clients`` connections to ``base``, each sending its next when
    the last is answered: ``await send(connection, n)`` for n = total-1 … 0. Returns the
    elapsed seconds and the latencies in milliseconds."""
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        async with Connection(base) as connection:
            while remaining > 0:
                remaining -= 1  # one event loop: no other worker runs between the test and this
                n = remaining
                start = time.perf_counter()
                await send(connection, n)
                latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started, latencies
