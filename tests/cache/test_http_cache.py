"""The HTTP cache as a user sees it: what goes to the server, what is served.

Each ``fetch(...)`` call is one run of freewheel (a new fetcher over the same
cache directory). ``/files/page.html`` stands for an index page: the test
server sends its caching headers on ``/files/`` only, and the page's name
does not parse as a distribution's.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import os
import time

import pytest

from freewheel.cache.http import (
    OFFLINE_MISS,
    CachingFetcher,
    freshness_lifetime,
    parse_cache_control,
)
from freewheel.config.indexes import Index
from freewheel.errors import IndexAccessError
from freewheel.index.client import IndexClient
from freewheel.index.simple import ACCEPT
from freewheel.net import Fetcher, FetchError

DEMO = "demo-1.0-py3-none-any.whl"
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
HTML = {"Accept": "application/vnd.pypi.simple.v1+html"}
ACCEPT_HEADERS = {"Accept": ACCEPT}


def requests_for(server, path):
    return [request for request in server.requests if request.path == path]


@pytest.fixture
def page(dists):
    return (dists / "page.html").read_bytes()


def test_a_fresh_page_is_not_requested_again(dists, index_server, fetch, page):
    server = index_server(dists, cache_control="max-age=600")
    first, second = fetch(server.files_url + "page.html", server.files_url + "page.html")
    [third] = fetch(server.files_url + "page.html")
    assert first.content == second.content == third.content == page
    assert (second.status, third.status) == (200, 200)
    assert len(requests_for(server, "/files/page.html")) == 1


@pytest.mark.parametrize("cache_control", ["max-age=0", "no-cache", "max-age=600, no-cache"])
def test_a_stale_or_no_cache_page_is_revalidated_and_the_304_served_from_the_cache(
    dists, index_server, fetch, page, cache_control
):
    server = index_server(dists, cache_control=cache_control, etag=True)
    fetch(server.files_url + "page.html")
    [again] = fetch(server.files_url + "page.html")
    first, second = requests_for(server, "/files/page.html")
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"] == f'"{hashlib.sha256(page).hexdigest()[:16]}"'
    assert (second.status, second.body_bytes) == (304, 0)
    assert (again.status, again.content) == (200, page)


def test_a_304_renews_the_stored_headers(dists, index_server, fetch):
    server = index_server(dists, cache_control="max-age=0", etag=True)
    fetch(server.files_url + "page.html")
    server.configure(cache_control="max-age=600")
    [renewed] = fetch(server.files_url + "page.html")
    fetch(server.files_url + "page.html")
    assert [r.status for r in requests_for(server, "/files/page.html")] == [200, 304]
    assert renewed.headers["cache-control"] == "max-age=600"


def test_a_changed_page_replaces_the_stored_one(dists, index_server, fetch):
    server = index_server(dists, cache_control="no-cache", etag=True)
    fetch(server.files_url + "page.html")
    (dists / "page.html").write_bytes(b"new content")
    [changed] = fetch(server.files_url + "page.html")
    [offline] = fetch(server.files_url + "page.html", offline=True)
    assert [r.status for r in requests_for(server, "/files/page.html")] == [200, 200]
    assert changed.content == offline.content == b"new content"


def test_a_page_confirmed_unchanged_is_not_read_again(dists, index_server, cache):
    # Reading a page is most of a cold run's work: what was read from it is
    # kept, and used again while the server confirms the page unchanged.
    server = index_server(dists, cache_control="no-cache", etag=True)
    reads: list[bytes] = []

    def read(response):
        reads.append(response.content)
        return response.content.decode()

    async def read_page() -> str:
        async with CachingFetcher(Fetcher(timeout=5), cache) as fetcher:
            return await fetcher.get_derived(server.files_url + "page.html", read, str)

    first, again = asyncio.run(read_page()), asyncio.run(read_page())
    assert first == again and len(reads) == 1
    (dists / "page.html").write_bytes(b"new content")
    assert asyncio.run(read_page()) == "new content"
    assert [r.status for r in requests_for(server, "/files/page.html")] == [200, 304, 200]
    assert len(reads) == 2


def test_a_page_without_cache_headers_is_reused_for_ten_minutes(dists, index_server, fetch, page):
    # Nothing to revalidate with: asking again would download the page whole.
    server = index_server(dists)
    fetch(server.files_url + "page.html")
    [again] = fetch(server.files_url + "page.html")
    assert again.content == page
    assert len(requests_for(server, "/files/page.html")) == 1
    fetch(server.files_url + "page.html", refresh=True)
    assert len(requests_for(server, "/files/page.html")) == 2


def test_last_modified_gives_a_heuristic_freshness(dists, index_server, fetch):
    ten_days_ago = time.time() - 10 * 86400
    os.utime(dists / "page.html", (ten_days_ago, ten_days_ago))
    server = index_server(dists, last_modified=True)
    fetch(server.files_url + "page.html", server.files_url + "page.html")
    assert len(requests_for(server, "/files/page.html")) == 1

    # Modified no earlier than the answer is dated (here: a clock ahead of
    # the server's): no heuristic freshness at all, revalidated at once.
    ahead = time.time() + 60
    os.utime(dists / "page.html", (ahead, ahead))
    recent = index_server(dists, last_modified=True)
    fetch(recent.files_url + "page.html")
    fetch(recent.files_url + "page.html")
    last = requests_for(recent, "/files/page.html")[-1]
    assert last.headers["if-modified-since"] == email.utils.formatdate(ahead, usegmt=True)


def test_freshness_rules():
    now = time.time()
    date = email.utils.formatdate(now, usegmt=True)

    def lifetime(cache_control=None, status=200, **headers):
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        headers["date"] = date
        return freshness_lifetime(status, headers, parse_cache_control(cache_control), now)

    expires = email.utils.formatdate(now + 300, usegmt=True)
    long_ago = email.utils.formatdate(now - 1000, usegmt=True)
    years_ago = email.utils.formatdate(now - 3 * 365 * 86400, usegmt=True)
    assert lifetime("max-age=60", expires=expires) == 60
    assert lifetime("s-maxage=600") == 0  # For shared caches only.
    assert lifetime(expires=expires) == pytest.approx(300, abs=1)
    assert lifetime(expires="not a date") == 0
    assert lifetime(last_modified=long_ago) == pytest.approx(100, abs=1)
    assert lifetime(last_modified=years_ago) == 86400
    assert lifetime(status=404, last_modified=long_ago) == 0
    # With no validator, a stale copy could only be downloaded again whole.
    assert lifetime() == 600
    assert lifetime(etag='"v1"') == 0
    assert lifetime(status=404) == 0
    assert lifetime('no-cache="set-cookie, x", max-age=5') == 5


def test_must_revalidate_is_never_served_stale_online(dists, index_server, fetch, page):
    relaxed = index_server(dists, cache_control="max-age=0")
    strict = index_server(dists, cache_control="max-age=0, must-revalidate")
    fetch(relaxed.files_url + "page.html", strict.files_url + "page.html")
    relaxed.stop()
    strict.stop()
    [stale] = fetch(relaxed.files_url + "page.html")
    assert stale.content == page
    with pytest.raises(FetchError, match="connection refused"):
        fetch(strict.files_url + "page.html")
    [offline] = fetch(strict.files_url + "page.html", offline=True)
    assert offline.content == page


def test_no_store_is_fetched_every_time_online_yet_served_offline(dists, index_server, fetch, page):
    server = index_server(dists, cache_control="no-store", etag=True)
    urls = (server.files_url + "page.html", server.files_url + DEMO)
    fetch(*urls)
    fetch(*urls)
    requested = [(r.path, "if-none-match" in r.headers) for r in server.requests]
    assert requested == [("/files/page.html", False), ("/files/" + DEMO, False)] * 2
    server.stop()
    offline_page, offline_wheel = fetch(*urls, offline=True)
    assert offline_page.content == page
    assert offline_wheel.content == (dists / DEMO).read_bytes()


def test_a_no_store_answer_ends_the_reuse_of_an_earlier_fresh_copy(dists, index_server, fetch, page):
    server = index_server(dists, cache_control="max-age=600")
    url = server.files_url + "page.html"
    fetch(url)
    server.configure(cache_control="no-store")
    [refreshed] = fetch(url, refresh=True)
    # The copy from before is fresh for ten minutes more, yet the server has
    # since forbidden keeping its answer: the next run asks again.
    [again] = fetch(url)
    assert refreshed.content == again.content == page
    assert len(requests_for(server, "/files/page.html")) == 3


def test_offline_serves_the_newer_of_an_offline_copy_and_a_later_fresh_one(dists, index_server, fetch):
    server = index_server(dists, cache_control="no-store", served_bytes={"page.html": b"kept aside"})
    url = server.files_url + "page.html"
    fetch(url)
    server.configure(cache_control="max-age=600", served_bytes={"page.html": b"stored"})
    fetch(url)
    server.stop()
    [offline] = fetch(url, offline=True)
    assert offline.content == b"stored"


def test_offline_without_a_stored_copy_fails_clearly(dists, index_server, fetch):
    server = index_server(dists)
    with pytest.raises(FetchError) as caught:
        fetch(server.files_url + "page.html", offline=True)
    assert caught.value.reason == OFFLINE_MISS
    assert server.requests == []


def test_distribution_files_are_kept_forever(dists, index_server, fetch):
    server = index_server(dists, cache_control="max-age=0", etag=True)
    wheel = (dists / DEMO).read_bytes()
    digest = hashlib.sha256(wheel).hexdigest()
    by_url, again = fetch(server.files_url + DEMO, server.files_url + DEMO)
    [by_hash] = fetch(f"{server.files_url}{DEMO}#sha256={digest}", refresh=True)
    assert by_url.content == again.content == by_hash.content == wheel
    assert len(server.requests) == 1
    # Under refresh, a file not named by hash is revalidated, not downloaded.
    fetch(server.files_url + DEMO, refresh=True)
    assert [r.status for r in server.requests] == [200, 304]


def test_a_file_named_by_hash_is_downloaded_once_whatever_its_url(dists, index_server, fetch):
    index, mirror = index_server(dists), index_server(dists)
    digest = hashlib.sha256((dists / DEMO).read_bytes()).hexdigest()
    fetch(index.files_url + DEMO)
    [from_mirror] = fetch(f"{mirror.files_url}{DEMO}#sha256={digest}")
    assert from_mirror.content == (dists / DEMO).read_bytes()
    assert mirror.requests == []


def test_range_requests_are_not_stored_but_answered_from_a_whole_file(dists, index_server, fetch, cache):
    server = index_server(dists)
    url = server.files_url + DEMO
    [partial] = fetch(url, headers={"Range": "bytes=-100"})
    assert partial.status == 206 and len(partial.content) == 100
    with pytest.raises(FetchError):
        fetch(url, offline=True)
    fetch(url)
    [ranged] = fetch(url, headers={"Range": "bytes=-100"})
    assert (ranged.status, ranged.content) == (200, (dists / DEMO).read_bytes())
    assert len(server.requests) == 2


def test_each_accept_variant_of_a_page_is_its_own_entry(dists, index_server, fetch):
    server = index_server(dists)
    fresh = [(server.url, "api", "max-age=600")]
    page = server.url + "demo/"
    as_json, as_html = fetch(page, overrides=fresh, headers=JSON) + fetch(page, overrides=fresh, headers=HTML)
    again_json, again_html = fetch(page, overrides=fresh, headers=JSON) + fetch(page, overrides=fresh, headers=HTML)
    assert as_json.headers["content-type"] == again_json.headers["content-type"] == JSON["Accept"]
    assert as_html.headers["content-type"].startswith("text/html")
    assert again_html.content == as_html.content != as_json.content
    assert [r.headers["accept"] for r in requests_for(server, "/simple/demo/")] == [JSON["Accept"], HTML["Accept"]]


def test_overrides_replace_the_servers_cache_control(dists, index_server, fetch):
    server = index_server(dists, cache_control="no-store")
    overrides = [
        (server.root_url, "api", "max-age=600"),
        (server.root_url, "files", "no-store"),
        (server.files_url + "elsewhere/", "api", "no-store"),  # Another prefix.
    ]
    urls = (server.url + "demo/", server.files_url + "page.html", server.files_url + DEMO)
    fetch(*urls, overrides=overrides, headers=JSON)
    fetch(*urls, overrides=overrides, headers=JSON)
    # Pages are fresh for ten minutes whatever the server says; files are never reused.
    assert server.paths() == ["/simple/demo/", "/files/page.html", "/files/" + DEMO, "/files/" + DEMO]


def test_refresh_revalidates_all_or_only_the_named_projects(dists, index_server, fetch):
    server = index_server(dists)
    fresh = [(server.url, "api", "max-age=600")]
    pages = (server.url + "demo/", server.url + "other/")
    fetch(*pages, overrides=fresh, headers=JSON)
    fetch(*pages, overrides=fresh, headers=JSON, refresh_packages=["Demo"])
    assert server.paths() == ["/simple/demo/", "/simple/other/", "/simple/demo/"]
    fetch(*pages, *pages, overrides=fresh, headers=JSON, refresh=True)
    # Once per run: what this run stored is fresh.
    assert server.paths()[3:] == ["/simple/demo/", "/simple/other/"]


def test_credentials_never_reach_the_cache(dists, index_server, fetch, cache):
    user, password = "alice", "s3cret-token"
    server = index_server(dists, auth=(user, password))
    with_credentials = server.url.replace("http://", f"http://{user}:{password}@")
    fresh = [(with_credentials, "api", "max-age=600")]
    fetch(with_credentials + "demo/", server.files_url + DEMO, overrides=fresh, headers=ACCEPT_HEADERS)
    # A later run finds the page in the cache; the files it links to, on the
    # same host without credentials, are still fetched with them.
    [page, wheel] = fetch(
        with_credentials + "demo/",
        server.files_url + "other-2.0-py3-none-any.whl",
        overrides=fresh,
        headers=ACCEPT_HEADERS,
    )
    assert page.status == wheel.status == 200
    assert "alice" not in page.url
    secrets = (password.encode(), base64.b64encode(f"{user}:{password}".encode()), b"authorization")
    cache.close()  # Every record on disk, not still queued for its thread.
    for path in cache.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            assert not [s for s in secrets if s.lower() in data], path



def test_offline_resolution_works_against_a_no_store_index_and_a_404(dists, index_server, cache, tmp_path):
    """Install online, uninstall, install again with --offline: the index
    forbids caching, and the first index lacks the project."""
    empty = tmp_path / "empty"
    empty.mkdir()
    first, second = index_server(empty), index_server(dists)
    indexes = [Index(first.url, name="first"), Index(second.url, name="second")]
    no_store = [(first.url, "api", "no-store"), (second.url, "api", "no-store")]

    def lookup(name, **options):
        async def run():
            async with CachingFetcher(Fetcher(timeout=5), cache, overrides=no_store, **options) as fetcher:
                return await IndexClient(fetcher, indexes).project(name)

        return asyncio.run(run())

    online = lookup("demo")
    lookup("demo")
    assert len(first.requests) == len(second.requests) == 2
    first.stop()
    second.stop()
    offline = lookup("demo", offline=True)
    assert [o.status for o in offline.outcomes] == [o.status for o in online.outcomes] == ["not-found", "found"]
    assert offline.versions == online.versions
    with pytest.raises(IndexAccessError) as caught:
        lookup("other", offline=True).raise_for_error()
    assert OFFLINE_MISS in caught.value.message
