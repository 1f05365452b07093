"""Reading --find-links locations: directories and pages of links."""

from __future__ import annotations

import asyncio

from support.builders import make_sdist, make_wheel
from support.server import render_links, scan_dists

from freewheel.config.indexes import Index
from freewheel.index import IndexClient
from freewheel.index.flat import directory_listing, parse_flat_page
from freewheel.net import Fetcher

FLAT = Index("https://example.test/links/", format="flat")


def test_a_page_of_links_is_grouped_by_project():
    page = b"""
    <a href="Foo_Bar-1.0.tar.gz#sha256=ab" data-yanked="">foo</a>
    <a href="https://elsewhere.test/foo_bar-2.0-py3-none-any.whl" data-requires-python="&gt;=3.10">foo</a>
    <a href="baz-0.1.zip">baz</a>
    <a href="notes.html">notes</a>
    """
    listing = parse_flat_page(page, FLAT.url, FLAT)
    assert {name: [f.filename for f in files] for name, files in listing.items()} == {
        "foo-bar": ["Foo_Bar-1.0.tar.gz", "foo_bar-2.0-py3-none-any.whl"],
        "baz": ["baz-0.1.zip"],
    }
    first, second = listing["foo-bar"]
    assert (first.url, dict(first.hashes), first.yanked) == (
        "https://example.test/links/Foo_Bar-1.0.tar.gz",
        {"sha256": "ab"},
        "",
    )
    assert str(second.requires_python) == ">=3.10"


def test_a_directory_listing_quotes_names_into_urls():
    names = ["torch-2.1.1+cpu-cp311-cp311-linux_x86_64.whl", "README.md", "torch-2.0.tar.gz"]
    listing = directory_listing(names, "file:///srv/wheels", FLAT)
    [sdist, wheel] = listing["torch"]
    assert wheel.filename == names[0]
    assert str(wheel.version) == "2.1.1+cpu"
    assert wheel.url == "file:///srv/wheels/torch-2.1.1%2Bcpu-cp311-cp311-linux_x86_64.whl"
    assert sdist.kind == "sdist"


def test_a_local_html_page_of_links(tmp_path):
    dists = tmp_path / "dists"
    make_wheel(dists, "demo", "1.0")
    make_sdist(dists, "demo", "0.9")
    page = tmp_path / "links.html"
    page.write_bytes(
        render_links("links", scan_dists(dists)["demo"], lambda name: f"dists/{name}")
    )
    flat = Index(page.as_uri(), format="flat")

    async def run():
        async with Fetcher() as fetcher:
            return await IndexClient(fetcher, [flat]).project("demo")

    listing = asyncio.run(run())
    assert [str(v) for v, _ in listing.versions] == ["1.0", "0.9"]
    assert listing.versions[0][1][0].url == (dists / "demo-1.0-py3-none-any.whl").as_uri()


def test_files_of_a_local_directory_can_be_fetched(tmp_path):
    wheel = make_wheel(tmp_path / "my wheels", "torch", "2.1.1+cpu")
    flat = Index((tmp_path / "my wheels").as_uri(), format="flat")

    async def run():
        async with Fetcher() as fetcher:
            listing = await IndexClient(fetcher, [flat]).project("torch")
            [(version, [file])] = listing.versions
            return file, await fetcher.get(file.url)

    file, response = asyncio.run(run())
    assert str(file.version) == "2.1.1+cpu"
    assert (response.status, response.content) == (200, wheel.path.read_bytes())
