"""HTTP/1.1 as freewheel speaks it to servers directly: framing, connection
reuse and its limits, and short errors for answers that are not HTTP."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from freewheel.net import Fetcher, FetchError
from freewheel.net.transport import (
    MAX_CONNECTIONS,
    MAX_SMALL_REQUESTS,
    WARM_CONNECTIONS,
)

#: What a raw server sends for a request: (bytes to send, whether to close
#: the connection afterwards). ``None`` closes it without an answer.
Answer = Callable[[int, bytes], "tuple[bytes, bool] | None"]


class RawServer:
    """A TCP server that answers each request head with scripted bytes.

    *answer* gets the request's number on its connection (from 0) and its
    head. ``connections`` counts accepted connections, ``used`` those that
    carried a request, ``requests`` the request heads read,
    ``most_at_once`` the most requests in progress together.
    """

    def __init__(self, answer: Answer, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.connections = self.used = self.requests = self.in_progress = self.most_at_once = 0
        self._lock = threading.Lock()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        index = 0
        try:
            with connection:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        data = connection.recv(65536)
                        if not data:
                            return
                        buffer += data
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    with self._lock:
                        self.requests += 1
                        self.used += index == 0
                        self.in_progress += 1
                        self.most_at_once = max(self.most_at_once, self.in_progress)
                    time.sleep(self.delay)
                    reply = self.answer(index, head)
                    index += 1
                    with self._lock:
                        self.in_progress -= 1
                    if reply is None:
                        return
                    payload, close = reply
                    connection.sendall(payload)
                    if close:
                        return
        except OSError:
            pass

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def raw() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(answer: Answer, delay: float = 0.0) -> RawServer:
        servers.append(RawServer(answer, delay))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def fetch_all(urls: list[str], **options: object) -> list[bytes]:
    """The bodies of *urls*, fetched at once over one fetcher."""
    options = {"timeout": 5, "retries": 0, **options}

    async def run() -> list[bytes]:
        async with Fetcher(**options) as fetcher:  # type: ignore[arg-type]
            responses = await asyncio.gather(*(fetcher.get(url) for url in urls))
            return [response.content for response in responses]

    return asyncio.run(run())


def fetch_in_turn(urls: list[str], **options: object) -> list[bytes]:
    """The bodies of *urls*, fetched one after another over one fetcher."""
    options = {"timeout": 5, "retries": 0, **options}

    async def run() -> list[bytes]:
        async with Fetcher(**options) as fetcher:  # type: ignore[arg-type]
            return [(await fetcher.get(url)).content for url in urls]

    return asyncio.run(run())


def _ok(body: bytes) -> tuple[bytes, bool]:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body), False


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello", id="length"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;name=value\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer: x\r\n\r\n",
            b"hello",
            id="chunked-with-extension-and-trailer",
        ),
        pytest.param(b"HTTP/1.0 200 OK\r\n\r\nhello", b"hello", id="until-closed"),
        pytest.param(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"hello",
            id="after-an-interim-answer",
        ),
        pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", b"", id="no-content"),
    ],
)
def test_every_framing_of_a_body_arrives_whole(raw, payload, body):
    # Twice over one fetcher: a framing misread would also spoil the
    # second answer on a reused connection.
    server = raw(lambda index, head: (payload, payload.startswith(b"HTTP/1.0")))
    assert fetch_in_turn([server.url + "a", server.url + "b"]) == [body, body]


@pytest.mark.parametrize("framing", ["length", "chunked", "until-closed"])
def test_large_bodies_arrive_whole_in_every_framing(raw, framing):
    # Megabytes, as index pages are: received across many reads, into
    # buffers that grow, and past the point where reading pauses.
    body = bytes(range(256)) * 12_289
    if framing == "length":
        payload = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    elif framing == "chunked":
        pieces = [body[i : i + 100_000] for i in range(0, len(body), 100_000)]
        payload = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
            b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces
        ) + b"0\r\n\r\n"
    else:
        payload = b"HTTP/1.0 200 OK\r\n\r\n" + body
    server = raw(lambda index, head: (payload, framing == "until-closed"))
    assert fetch_in_turn([server.url + "a", server.url + "b"]) == [body, body]


class _PausableTransport:
    """What :class:`~freewheel.net.transport._Incoming` asks of a transport."""

    def __init__(self) -> None:
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def test_bytes_received_before_they_are_read_are_kept_in_order():
    # The transport writes into what get_buffer lends, in pieces of any size,
    # while nothing is read: the buffer must grow without losing a byte, and
    # reading must pause the sender past a limit and resume it after.
    from freewheel.net.transport import _Incoming

    incoming, transport = _Incoming(), _PausableTransport()
    incoming.connection_made(transport)  # type: ignore[arg-type]
    sent = bytes(range(251)) * 4000
    position = 0
    for size in itertools.cycle([1, 7000, 40_000, 65_536, 3]):
        if position == len(sent):
            break
        view = incoming.get_buffer(-1)
        piece = sent[position : position + min(size, len(view))]
        view[: len(piece)] = piece
        incoming.buffer_updated(len(piece))
        position += len(piece)
    assert transport.paused
    incoming.eof_received()

    async def read_all() -> bytes:
        head = await incoming.readuntil(sent[10:13])
        rest = await incoming.readexactly(len(sent) - len(head) - 5)
        return head + rest + await incoming.read(100)

    assert asyncio.run(read_all()) == sent
    assert not transport.paused
    assert incoming.at_eof()


def test_a_body_that_stops_coming_times_out(raw):
    # The head and part of the body, then nothing, on a connection kept open.
    server = raw(lambda index, head: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", False))
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_in_turn([server.url], timeout=0.3)
    assert caught.value.reason == "timed out"
    assert time.monotonic() - started < 5


def test_one_connection_serves_requests_in_turn(raw):
    server = raw(lambda index, head: _ok(head.split(b" ")[1]))
    urls = [server.url + f"page/{n}" for n in range(5)]
    assert fetch_in_turn(urls) == [f"/page/{n}".encode() for n in range(5)]
    assert server.used == 1


def test_a_connection_the_server_dropped_is_replaced_unseen(raw):
    # The server closes each connection when a second request comes on it,
    # without a word: the keep-alive race every pooled client meets. The
    # request goes again on a new connection, and is not counted as a try.
    server = raw(lambda index, head: _ok(b"fine") if index == 0 else None)
    assert fetch_in_turn([server.url + "a", server.url + "b", server.url + "c"]) == [b"fine"] * 3
    assert server.used == 3
    assert server.requests == 5


def test_a_server_that_never_answers_is_an_error_not_a_loop(raw):
    server = raw(lambda index, head: None)
    with pytest.raises(FetchError) as caught:
        fetch_in_turn([server.url], retries=1)
    assert caught.value.reason == (
        "the server closed the connection without a response (gave up after 2 tries)"
    )
    assert server.requests == 2


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "malformed status line b'SSH-2.0-OpenSSH_9.6'"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line b'no colon here'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "the server closed the connection mid-response"),
        # A length is the server's word: memory is taken as the body comes.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\nshort", "the server closed the connection mid-response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size b'zz'"),
        # int() would take these; a negative size would read to the end.
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello", "malformed chunk size b'-5'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello", "malformed chunk size b'0x5'"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: " + b"y" * 300_000 + b"\r\n\r\n", "the response head is too long"),
    ],
    ids=[
        "not-http", "bad-header", "truncated", "vast-length", "bad-length", "huge-length",
        "bad-chunk", "negative-chunk", "prefixed-chunk", "huge-head",
    ],
)
def test_answers_that_are_not_http_are_short_errors(raw, payload, reason):
    server = raw(lambda index, head: (payload, True))
    with pytest.raises(FetchError) as caught:
        fetch_in_turn([server.url])
    assert caught.value.reason == reason


def test_requests_to_one_origin_are_bounded(raw):
    server = raw(lambda index, head: _ok(b"x"), delay=0.05)
    count = 3 * MAX_CONNECTIONS
    assert fetch_all([server.url + f"{n}" for n in range(count)]) == [b"x"] * count
    assert server.requests == count
    # As many in progress at once as allowed, and no more: the rest waited
    # their turn, on the connections opened first.
    assert server.most_at_once == MAX_SMALL_REQUESTS
    assert server.connections == MAX_SMALL_REQUESTS


def test_downloads_may_use_more_connections(raw, tmp_path):
    server = raw(lambda index, head: _ok(b"x"), delay=0.05)
    count = 3 * MAX_CONNECTIONS

    async def run() -> list[bytes]:
        async with Fetcher(timeout=5, retries=0) as fetcher:
            downloads = [fetcher.get(server.url + f"{n}", spool_to=tmp_path / f"{n}") for n in range(count)]
            return [response.path.read_bytes() for response in await asyncio.gather(*downloads)]

    assert asyncio.run(run()) == [b"x"] * count
    assert server.most_at_once == MAX_CONNECTIONS


def test_the_first_request_to_an_origin_opens_the_connections_the_next_need(raw):
    # Opened while the first answer is awaited, they spare the requests it
    # leads to (a page's dependencies) a burst of connections of their own.
    server = raw(lambda index, head: _ok(b"x"), delay=0.05)

    async def run() -> None:
        async with Fetcher(timeout=5, retries=0) as fetcher:
            await fetcher.get(server.url)
            await asyncio.gather(*(fetcher.get(server.url + f"{n}") for n in range(MAX_SMALL_REQUESTS)))

    asyncio.run(run())
    assert server.requests == 1 + MAX_SMALL_REQUESTS
    assert server.connections == WARM_CONNECTIONS == MAX_SMALL_REQUESTS


def test_a_connection_the_server_says_it_closes_is_not_reused(raw):
    # This server keeps the socket open after all: only the header says.
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    server = raw(lambda index, head: (closing, False))
    assert fetch_in_turn([server.url + "a", server.url + "b"]) == [b"ok", b"ok"]
    assert server.used == 2


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_bodies_are_decoded(raw, coding):
    import gzip
    import zlib

    body = b'{"files": []}' * 100
    packed = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (coding.encode(), len(packed))
    seen: list[bytes] = []

    def answer(index: int, request: bytes) -> tuple[bytes, bool]:
        seen.append(request)
        return head + packed, False

    server = raw(answer)
    assert fetch_in_turn([server.url]) == [body]
    assert b"accept-encoding: gzip, deflate" in seen[0].lower()


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_body_that_does_not_decode_is_a_short_error(raw, coding):
    garbage = b"this was never compressed"
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (coding.encode(), len(garbage))
    server = raw(lambda index, request: (head + garbage, False))
    with pytest.raises(FetchError) as caught:
        fetch_in_turn([server.url])
    assert caught.value.reason.startswith("the body does not decode as its Content-Encoding says")
