"""HTTP/1.1 over asyncio's own transports, for every direct connection.

httpx's default transport (httpcore, h2 and anyio's TLS layer) costs
several times the CPU of asyncio's streams for the same bytes: against
pip's default index, ``bench/http_clients.py`` measured 8.8 s of CPU over
HTTP/2 and 1.7 s with this transport for the same page requests and
downloads. A cold resolution is bound by that thread's CPU, not by the
network, so direct connections go through this transport: a pool of
keep-alive connections per origin, reused in turn. Proxies and hosts
without certificate checks keep httpx's own transports.

What it speaks is deliberately small: ``GET`` requests, and responses framed
by ``Content-Length``, ``chunked`` or the connection's end (RFC 9112 section
6.3), their bodies decoded from ``gzip`` and ``deflate`` as httpx decodes
them. A pooled connection the server closed meanwhile is replaced once,
before any byte of the answer came. Nothing here imports httpx: a cold run
that only talks to servers directly never loads it (about 20 ms), nor makes
its request and response objects (about 50 microseconds a request).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import socket
import ssl
import time
import zlib
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any
from urllib.parse import urlsplit

from freewheel.net.response import DEFAULT_PORTS, Headers

#: Connections kept open to one origin at most, and so requests in flight
#: to it at once: downloads, which a file host may limit per connection.
MAX_CONNECTIONS = 16
#: Requests other than downloads (pages, metadata) in flight to one origin
#: at once. A cold resolution sends them by the dozen, each small: beyond
#: 8 the TLS handshakes of more connections cost more than they save.
MAX_SMALL_REQUESTS = 8
#: Connections opened to an origin as soon as its first request goes out.
#: That request takes the first ready; the others wait in the pool for the
#: requests a resolution sends next, which would otherwise each open one
#: when it needs it: a burst of handshakes contending for the CPU with the
#: pages they bring, on the critical path of every cold resolution.
WARM_CONNECTIONS = MAX_SMALL_REQUESTS
#: Seconds an idle connection is kept for reuse (httpx's default).
KEEPALIVE = 5.0
#: Longest response head accepted, and the size of each read of a body.
_LIMIT = 256 * 1024
#: Room made for what a connection receives next, at least half of it free.
_ROOM = 64 * 1024
#: The pieces a body of declared length is received into, each of this size
#: (the last one shorter): memory is taken as the body comes, not all at
#: once for what the server declares, and sixteen pages in flight at once
#: hold only what came of them.
_PIECE = 256 * 1024
#: Seconds between looks at a body that is received whole.
_TICK = 1.0
_NO_BODY_STATUSES = frozenset({204, 304})
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")

_Origin = tuple[str, str, int]


class TransportError(Exception):
    """No whole answer came: the connection failed or broke, or what came
    is not HTTP/1.1. The message is a short phrase; the cause, if any, is
    the error the system gave."""


class TransportTimeout(TransportError):
    """Connecting, or the answer, took longer than the timeout."""


class _Stale(Exception):
    """A reused connection ended before its answer began."""


class _Incoming(asyncio.BufferedProtocol):
    """What one connection received and was not read yet.

    Read as asyncio's ``StreamReader`` is read, but received into buffers
    this protocol owns: TLS decrypts straight into them, not into a chunk
    that a stream then copies twice (into its buffer, and out of it). A body
    of known length (:meth:`read_whole`) is received into pieces of its
    own, joined once, and its reader wakes once, when it is whole: a cold
    resolution reads tens of megabytes of index pages, on the one thread
    that holds the GIL.
    """

    def __init__(self) -> None:
        self.transport: asyncio.ReadTransport | None = None
        self._buffer = bytearray(_ROOM)
        self._start = 0  # the first byte not read yet
        self._end = 0  # the end of what was received
        # Reading a body whole: its pieces, how much of the last is filled,
        # how many bytes came, and how many are expected.
        self._pieces: list[bytes | bytearray] | None = None
        self._filled = 0
        self._received = 0
        self._size = 0
        self._waiter: asyncio.Future[None] | None = None
        self._eof = False
        self._error: OSError | None = None
        self._paused = False

    # -- the protocol, called by the transport --------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        # The transport points here, and this back: a cycle that only the
        # collector, which runs rarely (see freewheel.__main__), would free,
        # buffers and all.
        self.transport = None
        self._eof = True
        if isinstance(exc, OSError):
            self._error = exc
        elif exc is not None:
            self._error = ConnectionError(str(exc) or type(exc).__name__)
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def get_buffer(self, sizehint: int) -> memoryview:
        pieces = self._pieces
        if pieces is not None and self._received < self._size:
            if self._filled == len(pieces[-1]):
                pieces.append(bytearray(min(_PIECE, self._size - self._received)))
                self._filled = 0
            return memoryview(pieces[-1])[self._filled :]
        if len(self._buffer) - self._end < _ROOM // 2:
            # A new buffer rather than a resized one: the transport may
            # still hold a view of the old one. Made to fit, not doubled: it
            # is zero-filled, so all of it counts as memory in use, and
            # reading pauses before it holds much.
            unread = self._end - self._start
            buffer = bytearray(unread + _ROOM)
            buffer[:unread] = memoryview(self._buffer)[self._start : self._end]
            self._buffer, self._start, self._end = buffer, 0, unread
        return memoryview(self._buffer)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._pieces is not None and self._received < self._size:
            self._filled += nbytes
            self._received += nbytes
            if self._received == self._size:
                self._wake()
            return
        self._end += nbytes
        if not self._paused and self._end - self._start > 2 * _LIMIT and self.transport is not None:
            # Nobody reads what comes: let the server wait, as a stream would.
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    # -- reading, on the loop -----------------------------------------------------

    def at_eof(self) -> bool:
        """Whether the connection ended and everything it brought was read."""
        return self._eof and self._start == self._end

    async def readuntil(self, separator: bytes) -> bytes:
        """The bytes up to and including *separator*.

        :raises asyncio.LimitOverrunError: past :data:`_LIMIT` bytes without it.
        :raises asyncio.IncompleteReadError: the connection ended first.
        """
        scanned = 0
        while True:
            index = self._buffer.find(separator, self._start + scanned, self._end)
            size = index + len(separator) - self._start if index >= 0 else self._end - self._start
            if size > _LIMIT:
                raise asyncio.LimitOverrunError("no separator within the limit", 0)
            if index >= 0:
                return self._take(size)
            scanned = max(0, self._end - self._start - len(separator) + 1)
            await self._more(None)

    async def readexactly(self, size: int) -> bytes:
        """The next *size* bytes; raises :class:`asyncio.IncompleteReadError`
        when the connection ends first."""
        while self._end - self._start < size:
            await self._more(size)
        return self._take(size)

    async def read(self, size: int) -> bytes:
        """Up to *size* bytes, once any came; ``b""`` at the end."""
        while self._start == self._end:
            if self._eof and self._error is None:
                return b""
            await self._more(None)
        return self._take(min(size, self._end - self._start))

    async def read_whole(self, size: int, idle: float | None, check: Callable[[int], None]) -> bytes:
        """The next *size* bytes, received straight into pieces joined at the end.

        :raises TimeoutError: nothing came for *idle* seconds.
        :raises asyncio.IncompleteReadError: the connection ended first.

        *check* is told how many bytes came, at least once a second while
        they come, and raises to give up.
        """
        unread = self._end - self._start
        if unread >= size:
            return self._take(size)
        first = self._take(unread)
        self._pieces, self._filled, self._received, self._size = [first], len(first), unread, size
        tick = _TICK if idle is None else min(_TICK, idle)
        try:
            quiet = 0.0
            while self._received < size:
                before = self._received
                try:
                    async with asyncio.timeout(tick):
                        await self._more(size)
                except TimeoutError:
                    quiet = quiet + tick if self._received == before else 0.0
                    if idle is not None and quiet >= idle:
                        raise
                check(self._received)
            return b"".join(self._pieces)
        finally:
            self._pieces = None

    def _take(self, size: int) -> bytes:
        start = self._start
        self._start += size
        data = bytes(memoryview(self._buffer)[start : start + size])
        if self._start == self._end and len(self._buffer) > _ROOM:
            # Read out: a pooled connection keeps no more than its usual
            # room, whatever a large answer that came at once made it grow to.
            self._buffer, self._start, self._end = bytearray(_ROOM), 0, 0
        if self._paused and self._end - self._start <= _LIMIT and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def _more(self, expected: int | None) -> None:
        """Wait for bytes to come (or, reading whole, for the last of them)."""
        if self._error is not None:
            raise self._error
        if self._eof:
            partial = self._take(self._end - self._start) if self._pieces is None else b""
            raise asyncio.IncompleteReadError(partial, expected)
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Connection:
    """One open connection: its transport, what it received, when it was
    last idle, and whether it *served* a request already."""

    __slots__ = ("idle_since", "incoming", "served", "transport")

    def __init__(self, transport: asyncio.BaseTransport, incoming: _Incoming) -> None:
        self.transport = transport
        self.incoming = incoming
        self.idle_since = 0.0
        self.served = False

    def usable(self, now: float) -> bool:
        return now - self.idle_since < KEEPALIVE and not self.incoming.at_eof() and not self.transport.is_closing()

    def write(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]

    def close(self) -> None:
        # abort, not close: a TLS close would wait for the server's reply.
        self.transport.abort()  # type: ignore[attr-defined]


def _release_all(slots: Iterable[asyncio.Semaphore]) -> None:
    for slot in slots:
        slot.release()


def _head(target: str, host: str, fields: Mapping[str, str]) -> bytes:
    """A ``GET`` request's head, its ``Host`` first, as httpx writes it.

    Values are sent as UTF-8, the bytes a validator the server sent that
    way came as (see :func:`_text`); freewheel's own are ASCII.
    """
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _parse_head(head: bytes) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    """The status, reason, version and headers of a response head (its
    bytes up to the blank line); raises :class:`TransportError` on anything
    that is not HTTP/1.x."""
    status_line, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code, _, reason = rest.partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise TransportError(f"malformed status line {status_line[:60]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise TransportError(f"malformed header line {line[:60]!r}")
        headers.append((name, value.strip()))
    return int(code), reason.strip(), version, headers


def _values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """The comma-separated tokens of every *name* header, lower-cased."""
    return [
        token.strip().lower()
        for key, value in headers
        if key.lower() == name
        for token in value.split(b",")
    ]


def _body_length(status: int, headers: list[tuple[bytes, bytes]]) -> int | str | None:
    """How the body of a ``GET``'s answer is framed: its length,
    ``"chunked"``, or ``None`` when it runs to the end of the connection
    (RFC 9112 section 6.3)."""
    if status in _NO_BODY_STATUSES or status < 200:
        return 0
    codings = _values(headers, b"transfer-encoding")
    if codings:
        if codings[-1] != b"chunked":
            return None
        return "chunked"
    lengths = set(_values(headers, b"content-length"))
    if not lengths:
        return None
    # Eighteen digits say more than any body; more would only feed int().
    if len(lengths) > 1 or not all(n.isdigit() and len(n) <= 18 for n in lengths):
        raise TransportError("invalid Content-Length")
    return int(lengths.pop())


def _reusable(version: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    tokens = _values(headers, b"connection")
    if version == b"HTTP/1.1":
        return b"close" not in tokens
    return b"keep-alive" in tokens


class _Deflate:
    """A ``deflate`` body: zlib-wrapped, as RFC 9110 says, or the raw
    stream some servers send instead (told apart by its first bytes, as
    httpx does)."""

    def __init__(self) -> None:
        self._started = False
        self._inflater = zlib.decompressobj()

    def decompress(self, data: bytes) -> bytes:
        if self._started:
            return self._inflater.decompress(data)
        self._started = True
        try:
            return self._inflater.decompress(data)
        except zlib.error:
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inflater.decompress(data)

    def flush(self) -> bytes:
        return self._inflater.flush()


def _decoders(headers: list[tuple[bytes, bytes]]) -> list[Any]:
    """The decoders of a body's ``Content-Encoding``, in the order they undo
    it; a coding not asked for (only ``gzip`` and ``deflate`` are) is left
    as sent, as httpx leaves it."""
    decoders: list[Any] = []
    for coding in reversed(_values(headers, b"content-encoding")):
        if coding in (b"gzip", b"x-gzip"):
            decoders.append(zlib.decompressobj(zlib.MAX_WBITS | 16))
        elif coding == b"deflate":
            decoders.append(_Deflate())
    return decoders


def _text(value: bytes) -> str:
    # As httpx reads header values: UTF-8 where they are, else Latin-1.
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("latin-1")


class Reply:
    """A response whose body is read as it is iterated (:meth:`aiter_bytes`),
    once; :meth:`aclose` ends it early. Its attributes are named as
    httpx's, which answers the requests this transport does not take."""

    __slots__ = ("_body", "_decoders", "headers", "reason_phrase", "status_code", "url")

    def __init__(self, url: str, status: int, reason: bytes, headers: list[tuple[bytes, bytes]], body: _Body) -> None:
        self.url = url
        self.status_code = status
        self.reason_phrase = _text(reason)
        self.headers = Headers([(name.decode("latin-1"), _text(value)) for name, value in headers])
        self._decoders = _decoders(headers)
        self._body = body

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body, decoded from its ``Content-Encoding``."""
        decoders = self._decoders
        try:
            async for data in self._body:
                for decoder in decoders:
                    data = decoder.decompress(data)
                if data:
                    yield data
            data = b""
            for decoder in decoders:
                data = decoder.decompress(data) + decoder.flush()
        except zlib.error as exc:
            raise TransportError(f"the body does not decode as its Content-Encoding says ({exc})") from None
        if data:
            yield data

    async def aread(self, check: Callable[[int], None]) -> bytes:
        """The whole body, decoded from its ``Content-Encoding``. *check* is
        told how many bytes came so far, at least once a second while they
        come, and raises to give up."""
        if not self._decoders:
            return await self._body.read_whole(check)
        return await _gathered(self.aiter_bytes(), check)

    async def aclose(self) -> None:
        await self._body.aclose()


async def _gathered(chunks: AsyncIterator[bytes], check: Callable[[int], None]) -> bytes:
    """*chunks* joined, *check* told the count received after each."""
    received: list[bytes] = []
    count = 0
    async for chunk in chunks:
        count += len(chunk)
        check(count)
        received.append(chunk)
    return b"".join(received)


@contextlib.contextmanager
def _reading_errors() -> Iterator[None]:
    """What reading an answer raises, as this transport's errors."""
    try:
        yield
    except TimeoutError:
        raise TransportTimeout("timed out reading the response") from None
    except asyncio.IncompleteReadError:
        raise TransportError("the server closed the connection mid-response") from None
    except asyncio.LimitOverrunError:
        raise TransportError("a chunk header is too long") from None
    except OSError as exc:
        raise TransportError(str(exc) or type(exc).__name__) from exc


class _Body:
    """A response's body, read as it is iterated; the connection is given
    to *release* for reuse once the body is read whole, and is closed (and
    *release* given ``None``) otherwise."""

    def __init__(
        self,
        release: Callable[[_Connection | None], None],
        connection: _Connection,
        length: int | str | None,
        reusable: bool,
        read_timeout: float | None,
    ) -> None:
        self._release = release
        self._connection: _Connection | None = connection
        self._length = length
        self._reusable = reusable and length is not None
        self._read_timeout = read_timeout

    async def _read(self, read: Awaitable[bytes]) -> bytes:
        with _reading_errors():
            async with asyncio.timeout(self._read_timeout):
                data = await read
        return data

    async def read_whole(self, check: Callable[[int], None]) -> bytes:
        """The whole body, as sent (see :meth:`Reply.aread`): of a declared
        length, received into one buffer; else gathered as it is iterated."""
        connection, length = self._connection, self._length
        if connection is None:
            return b""
        if not isinstance(length, int):
            return await _gathered(self.__aiter__(), check)
        with _reading_errors():
            data = await connection.incoming.read_whole(length, self._read_timeout, check)
        self._finish(complete=True)
        return data

    async def _chunks(self, reader: _Incoming) -> AsyncIterator[bytes]:
        length = self._length
        if length is None:
            while data := await self._read(reader.read(_LIMIT)):
                yield data
        elif length == "chunked":
            while True:
                line = await self._read(reader.readuntil(b"\r\n"))
                size_text = line.split(b";", 1)[0].strip()
                if not _HEX.fullmatch(size_text):
                    raise TransportError(f"malformed chunk size {size_text[:20]!r}")
                size = int(size_text, 16)
                if size == 0:
                    while await self._read(reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailer fields: nothing freewheel reads
                    return
                async for data in self._exactly(reader, size):
                    yield data
                if await self._read(reader.readexactly(2)) != b"\r\n":
                    raise TransportError("malformed chunk end")
        else:
            async for data in self._exactly(reader, length):
                yield data

    async def _exactly(self, reader: _Incoming, size: int) -> AsyncIterator[bytes]:
        """The next *size* bytes of the body, as they arrive."""
        while size:
            data = await self._read(reader.read(min(size, _LIMIT)))
            if not data:
                raise TransportError("the server closed the connection mid-response")
            size -= len(data)
            yield data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        async for data in self._chunks(connection.incoming):
            yield data
        self._finish(complete=True)

    def _finish(self, *, complete: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if not (complete and self._reusable):
            connection.close()
            connection = None
        self._release(connection)

    async def aclose(self) -> None:
        self._finish(complete=False)


class Http11Transport:
    """Keep-alive HTTP/1.1 connections, at most :data:`MAX_CONNECTIONS` per
    origin (and :data:`MAX_SMALL_REQUESTS` for what is not a download), TLS
    by *context* for ``https`` URLs."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._slots: dict[_Origin, tuple[asyncio.Semaphore, asyncio.Semaphore]] = {}
        self._warming: dict[_Origin, list[asyncio.Task[_Connection]]] = {}
        self._addresses: dict[tuple[str, int], asyncio.Future[list[Any]]] = {}

    async def get(
        self, url: str, fields: Mapping[str, str], timeout: float | None, *, download: bool = False
    ) -> Reply:
        """Send ``GET`` for *url* (as :func:`~freewheel.net.fetcher.request_url`
        spells it) with the header *fields*, and return the answer once its
        head has come; *timeout* bounds the wait for a connection, the
        connecting, and each read. A *download* (a whole file, to disk) may
        use every connection of the origin."""
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in DEFAULT_PORTS:
            raise TransportError(f"unsupported URL scheme {scheme!r}")
        host = parts.netloc.rpartition("@")[2]
        origin = (scheme, parts.hostname or "", parts.port or DEFAULT_PORTS[scheme])
        # The target is the URL after its authority, as sent: not re-joined
        # from the parts, which would lose an empty query's "?".
        target = url[len(scheme) + 3 + len(parts.netloc) :].partition("#")[0] or "/"
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = (asyncio.Semaphore(MAX_SMALL_REQUESTS), asyncio.Semaphore(MAX_CONNECTIONS))
            self._warm(origin, timeout)
        held = slots[1:] if download else slots
        taken: list[asyncio.Semaphore] = []
        try:
            async with asyncio.timeout(timeout):
                for slot in held:
                    await slot.acquire()
                    taken.append(slot)
        except BaseException as exc:
            _release_all(taken)
            if isinstance(exc, TimeoutError):
                raise TransportTimeout("timed out waiting for a connection") from None
            raise
        try:
            return await self._exchange(url, _head(target, host, fields), origin, held, timeout)
        except BaseException:
            _release_all(held)
            raise

    async def _exchange(
        self, url: str, message: bytes, origin: _Origin, held: tuple[asyncio.Semaphore, ...], timeout: float | None
    ) -> Reply:
        while True:
            connection = self._pooled(origin) or await self._warmed(origin)
            # One that served before may have been closed by the server since,
            # unseen: the request then goes again on another.
            reused = connection is not None and connection.served
            if connection is None:
                connection = await self._connect(origin, timeout)
            try:
                status, reason, version, headers = await self._answer(connection, message, timeout, reused)
            except _Stale:
                connection.close()
                continue
            except BaseException:
                connection.close()
                raise
            break
        length = _body_length(status, headers)
        release = functools.partial(self._release, origin, held)
        body = _Body(release, connection, length, _reusable(version, headers), timeout)
        return Reply(url, status, reason, headers, body)

    async def _answer(
        self, connection: _Connection, message: bytes, read_timeout: float | None, reused: bool
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        connection.write(message)
        try:
            async with asyncio.timeout(read_timeout):
                while True:
                    head = await connection.incoming.readuntil(b"\r\n\r\n")
                    status, reason, version, headers = _parse_head(head)
                    if not 100 <= status < 200:  # informational answers precede the real one
                        return status, reason, version, headers
        except TimeoutError:
            raise TransportTimeout("timed out waiting for the response") from None
        except asyncio.LimitOverrunError:
            raise TransportError("the response head is too long") from None
        except asyncio.IncompleteReadError as exc:
            if reused and not exc.partial:
                raise _Stale from None
            raise TransportError("the server closed the connection without a response") from None
        except OSError as exc:
            if reused:
                raise _Stale from None
            raise TransportError(str(exc) or type(exc).__name__) from exc

    def _pooled(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return None

    def _warm(self, origin: _Origin, timeout: float | None) -> None:
        """Start opening :data:`WARM_CONNECTIONS` to *origin* in the background."""
        warming = self._warming[origin] = []
        for _ in range(WARM_CONNECTIONS):
            task = asyncio.ensure_future(self._connect(origin, timeout))
            task.add_done_callback(functools.partial(self._warmed_up, origin))
            warming.append(task)

    def _warmed_up(self, origin: _Origin, task: asyncio.Task[_Connection]) -> None:
        """A warming connection is open, or failed: pool it unless a request took it."""
        warming = self._warming.get(origin, [])
        if task not in warming:
            return  # taken: the request that awaits it has it, or its error
        warming.remove(task)
        if not task.cancelled() and task.exception() is None:
            # A failure is dropped: a request that needs a connection later
            # opens its own, and reports that one's error.
            self._release_idle(origin, task.result())

    async def _warmed(self, origin: _Origin) -> _Connection | None:
        """A connection still being opened by :meth:`_warm`, once open, or
        its error; ``None`` when none is left. (Connecting again after it
        failed would double the wait for a host that does not answer.)"""
        warming = self._warming.get(origin)
        return await warming.pop(0) if warming else None

    async def _connect(self, origin: _Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self._context if scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolve(host, port)
                error: OSError | None = None
                for address in addresses:
                    try:
                        transport, incoming = await loop.create_connection(
                            _Incoming, address, port, ssl=tls, server_hostname=host if tls else None
                        )
                    except ssl.SSLError:
                        raise  # the same certificate comes from every address
                    except OSError as exc:
                        error = exc
                        continue
                    return _Connection(transport, incoming)
                assert error is not None
                raise error
        except TimeoutError:
            raise TransportTimeout("timed out connecting") from None
        except OSError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc

    async def _resolve(self, host: str, port: int) -> list[str]:
        """The addresses of *host*, looked up once per run: each new
        connection would otherwise ask the resolver again, in a thread."""
        key = (host, port)
        pending = self._addresses.get(key)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = self._addresses[key] = asyncio.ensure_future(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        try:
            infos = await asyncio.shield(pending)
        except OSError:
            # Not remembered: the next request asks the resolver again.
            self._addresses.pop(key, None)
            raise
        return list(dict.fromkeys(info[4][0] for info in infos))

    def _release(self, origin: _Origin, held: tuple[asyncio.Semaphore, ...], connection: _Connection | None) -> None:
        """A request to *origin*, which *held* its slots, ended; keep its
        *connection* for reuse if given."""
        if connection is not None:
            connection.served = True
            self._release_idle(origin, connection)
        _release_all(held)

    def _release_idle(self, origin: _Origin, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.setdefault(origin, []).append(connection)

    async def aclose(self) -> None:
        for warming in self._warming.values():
            for task in warming:
                task.cancel()
        await asyncio.gather(*(t for w in self._warming.values() for t in w), return_exceptions=True)
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
