"""Fixtures for the cache tests: a cache directory, served files, and a way
to fetch through :class:`~freewheel.cache.http.CachingFetcher` as one run
of freewheel would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from support.builders import make_wheel

from freewheel.cache import Cache
from freewheel.cache.http import CachingFetcher
from freewheel.net import Fetcher, Response

PAGE = b"<html>a page that is not a distribution</html>"

Fetch = Callable[..., list[Response]]


@pytest.fixture(autouse=True)
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreachable server fails at once instead of after backoffs."""
    monkeypatch.setenv("FREEWHEEL_HTTP_RETRIES", "0")


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    """Two projects' wheels, and ``page.html``: served under ``/files/``
    with the server's caching options, it stands for any index page."""
    directory = tmp_path / "dists"
    directory.mkdir()
    make_wheel(directory, "demo", "1.0")
    make_wheel(directory, "other", "2.0")
    (directory / "page.html").write_bytes(PAGE)
    return directory


@pytest.fixture
def fetch(cache: Cache) -> Fetch:
    """``fetch(*urls, headers=None, **options)``: GET each URL in turn in one
    run (one :class:`CachingFetcher` over a new :class:`Fetcher`)."""

    def run(*urls: str, headers: Mapping[str, str] | None = None, **options: object) -> list[Response]:
        async def main() -> list[Response]:
            async with CachingFetcher(Fetcher(timeout=5), cache, **options) as fetcher:  # type: ignore[arg-type]
                return [await fetcher.get(url, headers=headers) for url in urls]

        try:
            return asyncio.run(main())
        finally:
            cache.close()  # As a run ends: its writes are on disk.

    return run
