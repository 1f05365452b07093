"""The fetcher: file:// URLs, credentials, failures, concurrency."""

from __future__ import annotations

import asyncio
import socket

import pytest
from support.builders import make_wheel

from freewheel.net import Fetcher, FetchError


def fetch(*urls, **options):
    async def run():
        async with Fetcher(timeout=5, **options) as fetcher:
            return await asyncio.gather(*(fetcher.get(url) for url in urls))

    return asyncio.run(run())


def test_file_urls_are_read_from_disk(tmp_path):
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("<a href='x'>x</a>")
    (tmp_path / "bare").mkdir()
    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    page, bare, data, missing = fetch(
        (tmp_path / "page").as_uri(),
        (tmp_path / "bare").as_uri() + "/",
        (tmp_path / "data.bin").as_uri(),
        (tmp_path / "missing").as_uri(),
    )
    assert (page.status, page.content, page.headers["content-type"]) == (
        200,
        b"<a href='x'>x</a>",
        "text/html",
    )
    # Relative links on a directory's page resolve inside the directory.
    assert page.url == (tmp_path / "page").as_uri() + "/"
    assert (bare.status, data.status, data.content, missing.status) == (404, 200, b"\x00\x01", 404)


def test_credentials_go_to_their_host_only(tmp_path, index_server):
    make_wheel(tmp_path, "demo", "1.0")
    other = index_server(tmp_path)
    private = index_server(
        tmp_path, auth=("user", "p@ss"), redirects={"/simple/moved/": other.url + "demo/"}
    )
    with_credentials = private.url.replace("http://", "http://user:p%40ss@")

    async def run():
        async with Fetcher(timeout=5) as fetcher:
            page = await fetcher.get(with_credentials + "demo/")
            # Links on the page carry no credentials; the origin's are reused.
            wheel = await fetcher.get(private.files_url + "demo-1.0-py3-none-any.whl")
            moved = await fetcher.get(with_credentials + "moved/")
            elsewhere = await fetcher.get(other.url + "demo/")
            return page, wheel, moved, elsewhere

    page, wheel, moved, elsewhere = asyncio.run(run())
    assert (page.status, wheel.status, moved.status, elsewhere.status) == (200, 200, 200, 200)
    assert page.url == private.url + "demo/"
    assert moved.url == other.url + "demo/"
    assert all("authorization" in r.headers for r in private.requests)
    assert [r.path for r in other.requests] == ["/simple/demo/", "/simple/demo/"]
    assert all("authorization" not in r.headers for r in other.requests)


def test_missing_credentials_are_a_401_response_not_an_exception(tmp_path, index_server):
    server = index_server(tmp_path, auth=("user", "pass"))
    [response] = fetch(server.url)
    assert response.status == 401


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_response_is_a_fetch_error_with_the_password_redacted():
    url = f"http://user:secret@127.0.0.1:{_closed_port()}/simple/"
    with pytest.raises(FetchError) as caught:
        fetch(url, retries=0)
    assert caught.value.reason == "connection refused"
    assert caught.value.url == url.replace("user:secret@", "")
    assert "secret" not in str(caught.value)


def test_concurrency_is_bounded(tmp_path, index_server):
    # Each request is held long enough for the others to arrive meanwhile,
    # were they sent.
    server = index_server(tmp_path, latency=0.2)
    fetch(*[server.url] * 6, max_concurrency=2)
    assert len(server.requests) == 6
    assert server.max_in_flight == 2


def test_user_agent_and_headers_are_sent(tmp_path, index_server):
    server = index_server(tmp_path)

    async def run():
        async with Fetcher(user_agent="probe/1") as fetcher:
            return await fetcher.get(server.url, headers={"X-Test": "1"})

    response = asyncio.run(run())
    assert response.headers["Content-Type"] == response.headers["content-type"]
    [request] = server.requests
    assert (request.headers["user-agent"], request.headers["x-test"]) == ("probe/1", "1")
