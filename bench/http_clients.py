"""Measure the HTTP client libraries freewheel could fetch with.

    python bench/http_clients.py [--rounds 5] [--remote] [--index-url URL]

For ``httpx`` and ``httpx2`` (a maintained fork with the same API), each
over HTTP/1.1 and HTTP/2, and for freewheel's own HTTP/1.1 transport
(``freewheel.net.transport``, what freewheel fetches with directly), it
times (a) 200 small GETs with at most 50 in flight (index pages, metadata)
and (b) 5 downloads of a 20 MB file one after another (a large wheel), and
prints the median of each and the CPU time of the whole.

The local servers run in a child process (so that they do not share the
client's interpreter lock), on asyncio: HTTP/1.1 with keep-alive, and
HTTP/2 over cleartext with prior knowledge, since there is no TLS to
negotiate it with. ``--remote`` also measures pip's default index (read
from pip, never written here) or ``--index-url``: metadata files of the
projects in ``bench/sets``, and the file closest to 20 MB among theirs.
``bench/all.py --only http`` runs it in the peers' environment, where both
libraries are installed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SMALL_BODY = b"<a href='x'>x</a>\n" * 200  # about a small project page
LARGE_SIZE = 20 * 1024 * 1024
REQUESTS, CONCURRENCY, DOWNLOADS = 200, 50, 5
LIBRARIES = ("httpx", "httpx2", "freewheel")
JSON = "application/vnd.pypi.simple.v1+json"


# -- servers (child process) ------------------------------------------------


def _body(path: str) -> bytes:
    return bytes(LARGE_SIZE) if path.startswith("/large") else SMALL_BODY


async def _serve_h1(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            path = head.split(b" ", 2)[1].decode()
            body = _body(path)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
            writer.write(body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve_h2(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    import h2.config
    import h2.connection
    import h2.events

    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    connection.initiate_connection()
    pending: dict[int, memoryview] = {}
    while data := await reader.read(65536):
        for event in connection.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                path = dict(event.headers)[b":path"].decode()
                body = _body(path)
                connection.send_headers(
                    event.stream_id, [(":status", "200"), ("content-length", str(len(body)))]
                )
                pending[event.stream_id] = memoryview(body)
            elif isinstance(event, h2.events.StreamReset):
                pending.pop(event.stream_id, None)
        # Send as much as the flow-control windows allow; the rest waits
        # for the client's WINDOW_UPDATE frames.
        for stream_id, rest in list(pending.items()):
            while rest:
                size = min(connection.local_flow_control_window(stream_id), len(rest),
                           connection.max_outbound_frame_size)
                if size <= 0:
                    break
                connection.send_data(stream_id, rest[:size].tobytes())
                rest = rest[size:]
            pending[stream_id] = rest
            if not rest:
                connection.end_stream(stream_id)
                del pending[stream_id]
        writer.write(connection.data_to_send())
        await writer.drain()
    writer.close()


async def _serve() -> None:
    h1 = await asyncio.start_server(_serve_h1, "127.0.0.1", 0)
    h2 = await asyncio.start_server(_serve_h2, "127.0.0.1", 0)
    ports = [server.sockets[0].getsockname()[1] for server in (h1, h2)]
    print(*ports, flush=True)
    # Serve until the parent closes our stdin.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# -- measurements -------------------------------------------------------------


class _Transport:
    """freewheel's transport behind the few client calls measured here."""

    def __init__(self) -> None:
        import ssl

        from freewheel.net.transport import Http11Transport

        self._transport = Http11Transport(ssl.create_default_context())

    async def __aenter__(self) -> _Transport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._transport.aclose()

    def stream(self, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
        import contextlib

        @contextlib.asynccontextmanager
        async def exchange() -> Any:
            reply = await self._transport.get(url, headers or {}, 60)
            try:
                yield _Answer(reply)
            finally:
                await reply.aclose()

        return exchange()

    async def get(self, url: str, headers: dict[str, str]) -> Any:
        async with self.stream("GET", url, headers) as answer:
            async for _ in answer.aiter_bytes():
                pass
        return answer


class _Answer:
    """A reply of freewheel's transport, as much like httpx's as measured."""

    http_version = "HTTP/1.1"

    def __init__(self, reply: Any) -> None:
        self._reply = reply

    def raise_for_status(self) -> None:
        # Redirects too: the transport does not follow them, and a short
        # redirect answer would be timed in place of the body.
        if not 200 <= self._reply.status_code < 300:
            raise RuntimeError(f"HTTP {self._reply.status_code}")

    def aiter_bytes(self) -> Any:
        return self._reply.aiter_bytes()


async def small_gets(client: Any, urls: list[str], headers: dict[str, str]) -> float:
    """Seconds for GETting every URL in *urls*, :data:`CONCURRENCY` at a time."""
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str) -> None:
        async with semaphore:
            response = await client.get(url, headers=headers)
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(one(url) for url in urls))
    return time.perf_counter() - started


async def download(client: Any, url: str) -> float:
    """Seconds for downloading *url* whole, streamed as freewheel would save it."""
    started = time.perf_counter()
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        async for _ in response.aiter_bytes():
            pass
    return time.perf_counter() - started


def measure(
    library: str, http2: bool, prior_knowledge: bool, rounds: int,
    small: list[str], large: str, headers: dict[str, str],
) -> tuple[float, float, str]:
    """Median seconds of (a) and of one download in (b), and the protocol seen."""
    async def run() -> tuple[float, float, str]:
        options: dict[str, Any] = {"http2": http2, "timeout": 60, "follow_redirects": True}
        if prior_knowledge:
            options["http1"] = False
        client = (
            _Transport() if library == "freewheel" else importlib.import_module(library).AsyncClient(**options)
        )
        async with client:
            # Warm up: the connection pool, DNS and TLS are not what is compared.
            seen = (await client.get(small[0], headers=headers)).http_version
            gets = [await small_gets(client, small, headers) for _ in range(rounds)]
            downloads = [await download(client, large) for _ in range(DOWNLOADS)]
        return statistics.median(gets), statistics.median(downloads), seen

    return asyncio.run(run())


def remote_targets(index_url: str) -> tuple[list[str], dict[str, str], str]:
    """Small GETs on the index at *index_url*, their headers, and a large file.

    The small GETs are PEP 658 metadata files of the projects in the bench
    sets, as a resolver makes them, or their project pages when the index
    offers no metadata files; the large file is theirs closest to 20 MB.
    """
    import httpx
    from packaging.requirements import InvalidRequirement, Requirement

    index = index_url.rstrip("/") + "/"
    names = set()
    for path in (Path(__file__).parent / "sets").glob("*.in"):
        for line in path.read_text().splitlines():
            try:
                names.add(Requirement(line.split("#", 1)[0]).name)
            except InvalidRequirement:
                continue  # blank lines, comments
    pages = [f"{index}{name}/" for name in sorted(names)]
    files = []
    with httpx.Client(http2=True, follow_redirects=True, timeout=60) as client:
        for page in pages:
            files += client.get(page, headers={"Accept": JSON}).raise_for_status().json()["files"]
    metadata = [f["url"] + ".metadata" for f in reversed(files) if f.get("core-metadata")]
    best = min((f for f in files if f.get("size")), key=lambda f: abs(f["size"] - LARGE_SIZE))
    kind = "metadata files" if metadata else "project pages"
    print(f"\nremote: {kind} of {len(names)} projects; a file of {best['size'] / 2**20:.1f} MiB")
    if metadata:
        return metadata[:REQUESTS], {}, best["url"]
    return [pages[i % len(pages)] for i in range(REQUESTS)], {"Accept": JSON}, best["url"]


def report(title: str, run: Callable[[str, bool], tuple[float, float, str]]) -> None:
    print(f"\n{title}")
    print(f"{'library':9} {'asked':8} {'got':9} {'200 GETs (s)':>13} {'20 MB (s)':>10} {'MB/s':>7} {'CPU (s)':>8}")
    for library in LIBRARIES:
        # freewheel's transport speaks HTTP/1.1 only.
        for http2 in (False,) if library == "freewheel" else (False, True):
            asked = "HTTP/2" if http2 else "HTTP/1.1"
            cpu = time.process_time()
            try:
                gets, one_download, seen = run(library, http2)
            except Exception as exc:  # noqa: BLE001 - a failed run is a result too
                print(f"{library:9} {asked:8} failed: {type(exc).__name__}: {exc}")
                continue
            cpu = time.process_time() - cpu
            speed = LARGE_SIZE / 1e6 / one_download
            print(f"{library:9} {asked:8} {seen:9} {gets:13.3f} {one_download:10.3f} {speed:7.1f} {cpu:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (a) per library")
    parser.add_argument("--remote", action="store_true", help="also measure pip's default index")
    parser.add_argument("--index-url", help="the index --remote measures (default: pip's)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        asyncio.run(_serve())
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        h1_port, h2_port = server.stdout.readline().split()

        def local(library: str, http2: bool) -> tuple[float, float, str]:
            base = f"http://127.0.0.1:{h2_port if http2 else h1_port}/"
            small = [f"{base}small/{i}" for i in range(REQUESTS)]
            return measure(library, http2, http2, options.rounds, small, base + "large", {})

        report(f"local server: medians of {options.rounds} rounds and {DOWNLOADS} downloads", local)
    finally:
        server.communicate("")
    if options.remote:
        if options.index_url is None:
            from freewheel.config.pip import pip_default_index_url

            options.index_url = pip_default_index_url()
        small, headers, large = remote_targets(options.index_url)

        def remote(library: str, http2: bool) -> tuple[float, float, str]:
            return measure(library, http2, False, options.rounds, small, large, headers)

        report("pip's default index", remote)


if __name__ == "__main__":
    main()
