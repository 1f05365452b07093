"""Reading PEP 503 HTML and PEP 691 JSON project pages."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.errors import IndexAccessError
from freewheel.index.models import DistFile
from freewheel.index.pages import PageFiles, read_page
from freewheel.index.simple import (
    JSON_CONTENT_TYPE,
    PageEntry,
    dist_of,
    file_version,
    page_files,
    page_versions,
    parse_sdist_name,
    parse_wheel_name,
    version_entries,
)
from freewheel.net.response import Headers, Response


def parse_project_page(
    content: bytes, content_type: str | None, page_url: str, index: Index, project: str
) -> list[DistFile]:
    """The files a project page lists, as the resolver gets them."""
    grouped, files = page_versions(content, content_type, page_url, index, project)
    return [dist_of(entry, index) for entry in _version_entries(files, grouped.values(), page_url)]


def _version_entries(files: bytes, versions: Iterable[list[int]], page_url: str) -> list[PageEntry]:
    encoded = page_files(files)
    return [entry for positions in versions for entry in version_entries([encoded[p] for p in positions], page_url)]


def parse_html_page(content: bytes, page_url: str, index: Index, project: str) -> list[DistFile]:
    return parse_project_page(content, "text/html", page_url, index, project)


def parse_json_page(content: bytes, page_url: str, index: Index, project: str) -> list[DistFile]:
    return parse_project_page(content, JSON_CONTENT_TYPE, page_url, index, project)

INDEX = Index("https://user:secret@example.test/simple/", name="corp")
PAGE = "https://example.test/simple/demo/"
DEMO = canonicalize_name("demo")

HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Links for demo</title></head><body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=aa11" data-requires-python="&gt;=3.8"
   data-core-metadata="sha256=bb22" data-dist-info-metadata="sha256=bb22">demo-1.0-py3-none-any.whl</a>
<a href="https://files.example.test/d/demo-1.0.tar.gz#md5=cc33" data-yanked="broken build">demo-1.0.tar.gz</a>
<a href='/files/demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl' data-yanked>x</a>
<a href="demo-3.0.zip" data-requires-python="not a specifier" data-core-metadata="true">demo-3.0.zip</a>
</body></html>
"""

JSON_PAGE = {
    "meta": {"api-version": "1.1"},
    "name": "demo",
    "files": [
        {
            "filename": "demo-1.0-py3-none-any.whl",
            "url": "../../files/demo-1.0-py3-none-any.whl",
            "hashes": {"sha256": "aa11"},
            "requires-python": ">=3.8",
            "core-metadata": {"sha256": "bb22"},
        },
        {
            "filename": "demo-1.0.tar.gz",
            "url": "https://files.example.test/d/demo-1.0.tar.gz",
            "hashes": {"md5": "cc33"},
            "yanked": "broken build",
        },
        {
            "filename": "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "url": "/files/demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "hashes": {},
            "yanked": True,
        },
        {
            "filename": "demo-3.0.zip",
            "url": "demo-3.0.zip",
            "hashes": {},
            "requires-python": "not a specifier",
            "dist-info-metadata": True,
        },
    ],
}


def _summary(files):
    return [
        (f.filename, f.url, str(f.version), f.kind, dict(f.hashes), f.requires_python, f.yanked,
         f.core_metadata)
        for f in files
    ]


def test_html_page_files():
    files = parse_html_page(HTML_PAGE.encode(), PAGE, INDEX, DEMO)
    assert _summary(files) == [
        (
            "demo-1.0-py3-none-any.whl",
            "https://example.test/files/demo-1.0-py3-none-any.whl",
            "1.0",
            "wheel",
            {"sha256": "aa11"},
            SpecifierSet(">=3.8"),
            None,
            {"sha256": "bb22"},
        ),
        (
            "demo-1.0.tar.gz",
            "https://files.example.test/d/demo-1.0.tar.gz",
            "1.0",
            "sdist",
            {"md5": "cc33"},
            None,
            "broken build",
            None,
        ),
        (
            "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "https://example.test/files/demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "2.0",
            "wheel",
            {},
            None,
            "",
            None,
        ),
        # An unparsable requires-python is dropped, not fatal.
        ("demo-3.0.zip", "https://example.test/simple/demo/demo-3.0.zip", "3.0", "sdist", {},
         None, None, {}),
    ]
    assert files[2].tags == frozenset({Tag("cp311", "cp311", "manylinux_2_17_x86_64")})
    assert all(f.index is INDEX for f in files)


def test_json_and_html_forms_give_the_same_files():
    from_html = parse_html_page(HTML_PAGE.encode(), PAGE, INDEX, DEMO)
    from_json = parse_json_page(json.dumps(JSON_PAGE).encode(), PAGE, INDEX, DEMO)
    assert from_json == from_html


def test_json_only_fields():
    page = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0.tar.gz",
                "url": "demo-1.0.tar.gz",
                "hashes": {"sha256": "ff"},
                "upload-time": "2024-05-01T12:30:00.000000Z",
                "size": 1234,
                "core-metadata": False,
                "yanked": False,
            }
        ],
    }
    [file] = parse_json_page(json.dumps(page).encode(), PAGE, INDEX, DEMO)
    assert file.upload_time == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert file.size == 1234
    assert file.core_metadata is None
    assert file.yanked is None


def test_base_href_changes_where_relative_links_point():
    page = b'<html><head><base href="https://mirror.example.test/pkgs/"></head>' \
           b'<a href="demo-1.0.tar.gz">demo</a></html>'
    [file] = parse_html_page(page, PAGE, INDEX, DEMO)
    assert file.url == "https://mirror.example.test/pkgs/demo-1.0.tar.gz"


def test_unusable_links_are_skipped():
    page = b"""
    <a href="demo-1.0.exe">installer</a>
    <a href="demo-1.0.egg">egg</a>
    <a href="demo-1.0.tar.bz2">bz2</a>
    <a href="demo-not-a-version.tar.gz">bad version</a>
    <a href="demo-1.0-bad.whl">bad wheel name</a>
    <a href="demo-2.0-py36+-none-any.whl">invalid tag, seen on a real index</a>
    <a href="demo__x-1.0-py3-none-any.whl">double underscore</a>
    <a href="other-1.0.tar.gz">other project</a>
    <a href="other-1.0-py3-none-any.whl">other project</a>
    <a name="anchor-without-href">x</a>
    <a href="Demo-4.0.tar.gz">non-normalized name is still this project</a>
    """
    files = parse_html_page(page, PAGE, INDEX, DEMO)
    assert [f.version for f in files] == [Version("4.0")]


def test_unquoted_greater_than_in_attribute_and_escaped_entities():
    page = b'<a data-requires-python=">=3.9,!=3.10.*" href="demo-1.0.tar.gz?x=1&amp;y=2">d</a>'
    [file] = parse_html_page(page, PAGE, INDEX, DEMO)
    assert file.requires_python == SpecifierSet(">=3.9,!=3.10.*")
    assert file.url == "https://example.test/simple/demo/demo-1.0.tar.gz?x=1&y=2"


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b"{not json", "application/vnd.pypi.simple.v1+json", "not valid JSON"),
        (b'{"meta": {}, "name": "demo"}', "application/vnd.pypi.simple.v1+json", "files"),
        (
            b'{"meta": {"api-version": "2.0"}, "files": []}',
            "application/vnd.pypi.simple.v1+json",
            "version 2.0 of the simple API",
        ),
        (b"PK\x03\x04binary", "application/zip", "application/zip, not an HTML or JSON page"),
    ],
)
def test_malformed_pages_are_clear_index_errors(content, content_type, reason):
    with pytest.raises(IndexAccessError) as caught:
        parse_project_page(content, content_type, PAGE, INDEX, DEMO)
    message = caught.value.message
    assert reason in message
    assert "corp (https://example.test/simple/)" in message
    assert "'demo'" in message
    assert "secret" not in str(caught.value)


def test_content_type_selects_the_parser_and_is_sniffed_when_missing():
    json_page = json.dumps(JSON_PAGE).encode()
    assert len(parse_project_page(json_page, None, PAGE, INDEX, DEMO)) == 4
    assert len(parse_project_page(HTML_PAGE.encode(), "text/html; charset=utf-8", PAGE, INDEX, DEMO)) == 4
    html_type = "application/vnd.pypi.simple.v1+html"
    assert len(parse_project_page(HTML_PAGE.encode(), html_type, PAGE, INDEX, DEMO)) == 4


def test_a_page_listing_no_files_is_valid():
    assert parse_project_page(b"<html><body></body></html>", "text/html", PAGE, INDEX, DEMO) == []
    empty = b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": []}'
    assert parse_project_page(empty, "application/vnd.pypi.simple.v1+json", PAGE, INDEX, DEMO) == []


def test_a_five_thousand_file_page_is_read_whole():
    links = "\n".join(
        f'<a href="https://files.example.test/whl/demo-2.{i // 10}.{i % 10}%2Bcu121-cp311-cp311-'
        f'linux_x86_64.whl#sha256={i:064x}" data-requires-python="&gt;=3.8" '
        f'data-dist-info-metadata="sha256={i:064x}">demo-2.{i // 10}.{i % 10}+cu121</a><br/>'
        for i in range(5000)
    )
    page = f"<html><body>{links}</body></html>".encode()
    files = parse_html_page(page, PAGE, INDEX, DEMO)
    assert len(files) == 5000
    assert files[-1].version == Version("2.499.9+cu121")


_SDIST_PARTS = st.sampled_from(["", "-", "demo", "Demo_Pkg", "a.b", "zope-interface", "1.0", "2!1.0.post1", "1.0+local", "bad version", "x"])


@given(st.lists(_SDIST_PARTS, min_size=1, max_size=4), st.sampled_from([".tar.gz", ".zip", ".tar.bz2", ""]))
def test_sdist_names_parse_as_packaging_parses_them(parts, suffix):
    # Pages are read with a cached parse of sdist names; it must accept,
    # refuse and normalize exactly what packaging's parse_sdist_filename does.
    filename = "-".join(parts) + suffix
    try:
        expected = parse_sdist_filename(filename)
    except (InvalidSdistFilename, ValueError):
        with pytest.raises((InvalidSdistFilename, ValueError)):
            parse_sdist_name(filename)
    else:
        assert parse_sdist_name(filename) == expected


_WHEEL_PARTS = st.tuples(
    st.sampled_from(["demo", "Demo_Pkg", "a.b", "a__b", "", "x-y"]),
    st.sampled_from(["1.0", "2!1.0.post1", "1.0+local", "bad version", ""]),
    st.sampled_from([[], ["1"], ["1abc"], ["1", "2"]]),
    st.sampled_from(["py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "py2.py3-none-any", "py3-none", "-none-any"]),
)


@given(_WHEEL_PARTS)
def test_wheel_names_parse_as_packaging_parses_them(parts):
    # Pages are read with a cached parse of wheel names; it must accept,
    # refuse and normalize exactly what packaging's parse_wheel_filename does.
    name, version, build, tags = parts
    filename = "-".join([name, version, *build, tags]) + ".whl"
    try:
        expected_name, expected_version, _, expected_tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, ValueError):
        with pytest.raises((InvalidWheelFilename, ValueError)):
            parse_wheel_name(filename)
    else:
        assert parse_wheel_name(filename) == (expected_name, expected_version, expected_tags)


@given(_WHEEL_PARTS, st.sampled_from(["", "#sha256=00", "?x=1"]), st.booleans())
def test_wheel_urls_read_as_their_files_are_made(parts, tail, escaped):
    # A page's files are first looked at for their version only, from the
    # URL's last segment: that must accept, refuse and read versions as the
    # DistFile made later does from the name, whatever the URL around it.
    name, version, build, tags = parts
    filename = "-".join([name, version, *build, tags]) + ".whl"
    url = "https://files.example.test/p/" + (filename.replace("+", "%2B") if escaped else filename) + tail
    try:
        expected = parse_wheel_name(filename)[1]
    except ValueError:
        expected = None
    assert file_version(url) == expected


_PAGE_FILES = st.lists(
    st.tuples(
        _WHEEL_PARTS | st.tuples(_SDIST_PARTS, _SDIST_PARTS, st.just(None), st.sampled_from([".tar.gz", ".zip"])),
        st.sampled_from(["https://files.example.test/p/", "/p/", ""]),
        st.sampled_from(["", "#sha256=00", "?x=1"]),
        st.booleans(),
    ),
    max_size=6,
)


@given(_PAGE_FILES, st.sampled_from(["its name", "the URL's last segment", "another name"]))
def test_json_pages_group_files_as_each_url_reads(files, said):
    # A JSON page's files are split by name all at once where the page's
    # names are its URLs' last segments: the grouping must be the one each
    # URL alone gives, whatever the page says the files are named.
    listed, expected = [], collections.Counter()
    for parts, base, tail, escaped in files:
        if parts[2] is None:
            filename = f"demo-{parts[1]}{parts[3]}"
        else:
            name, version, build, tags = parts
            filename = "-".join(["demo" if name == "x-y" else name, version, *build, tags]) + ".whl"
        url = base + (filename.replace("+", "%2B") if escaped else filename) + tail
        named = {"its name": filename, "another name": "demo-9.0.tar.gz"}.get(said, url.rpartition("/")[2])
        listed.append({"filename": named, "url": url, "hashes": {}})
        version = file_version(url, DEMO)
        if version is not None:
            expected[version] += 1
    page = json.dumps({"meta": {"api-version": "1.0"}, "files": listed}).encode()
    grouped, _ = page_versions(page, JSON_CONTENT_TYPE, PAGE, INDEX, DEMO)
    assert {Version(text): len(positions) for text, positions in grouped.items()} == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example.test/p/demo-1.0-py3-none-any.whl#sha256=00",
        "https://files.example.test/p/demo-1.0-py3-none-any.whl?x=1",
        "https://files.example.test/p/demo-1.0%2Blocal-py3-none-any.whl",
        "https://files.example.test/p/demo-1.0.tar.gz#sha256=00",
        "demo-1.0.tar.gz",
    ],
)
def test_json_file_names_are_their_urls_last_segments(url):
    # Even where the page names the file by its URL's last segment as it
    # is written, fragment, query and escapes included.
    named = url.rpartition("/")[2]
    page = {"files": [{"filename": named, "url": url, "hashes": {}}] * 2}
    grouped, _ = page_versions(json.dumps(page).encode(), JSON_CONTENT_TYPE, PAGE, INDEX, DEMO)
    assert [(Version(text), len(positions)) for text, positions in grouped.items()] == [(file_version(url, DEMO), 2)]


def test_spellings_of_one_version_are_one_version():
    # Grouped by the text of the file names first, for speed; 1.0 and
    # 1.0.0 still name one version, listed where the page first names it.
    page = {
        "meta": {"api-version": "1.0"},
        "files": [
            {"filename": f, "url": f"https://files.example.test/{f}", "hashes": {}}
            for f in ["demo-1.0.tar.gz", "demo-2.0.tar.gz", "demo-1.0.0-py3-none-any.whl", "demo-1.0.0.zip"]
        ],
    }
    grouped, files = page_versions(json.dumps(page).encode(), JSON_CONTENT_TYPE, PAGE, INDEX, DEMO)
    assert {
        text: [e.url.rpartition("/")[2] for e in _version_entries(files, [positions], PAGE)]
        for text, positions in grouped.items()
    } == {
        "1.0": ["demo-1.0.tar.gz", "demo-1.0.0-py3-none-any.whl", "demo-1.0.0.zip"],
        "2.0": ["demo-2.0.tar.gz"],
    }


@pytest.mark.parametrize(
    ("malformed", "reason"),
    [({"filename": "demo-2.0.tar.gz", "hashes": 3}, "hashes"), ({"hashes": {}}, "filename")],
)
def test_a_malformed_file_is_reported_when_its_version_is_read(malformed, reason):
    # Only each file's URL is read with the page; the other versions stay
    # usable, and the one with the malformed file says so once looked at.
    page = {
        "meta": {"api-version": "1.0"},
        "files": [
            {"url": "https://files.example.test/demo-2.0.tar.gz", **malformed},
            {"filename": "demo-1.0.tar.gz", "url": "https://files.example.test/demo-1.0.tar.gz", "hashes": {}},
        ],
    }
    response = Response(PAGE, 200, Headers([("content-type", JSON_CONTENT_TYPE)]), json.dumps(page).encode())
    files = PageFiles(read_page(response, INDEX, DEMO), INDEX, DEMO)
    assert [f.filename for f in files.by_version[Version("1.0")]] == ["demo-1.0.tar.gz"]
    with pytest.raises(IndexAccessError) as caught:
        list(files.by_version[Version("2.0")])
    assert "a file of version 2.0 is malformed" in caught.value.message
    assert reason in caught.value.message and "corp (https://example.test/simple/)" in caught.value.message
