"""The test index server itself: later tests rely on each of these behaviours."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from support.builders import make_sdist, make_wheel


@pytest.fixture
def dists(tmp_path):
    wheel = make_wheel(tmp_path, "demo", "1.0", requires_python=">=3.8", padding=1000)
    sdist = make_sdist(tmp_path, "demo", "1.0")
    return tmp_path, wheel, sdist


JSON = "application/vnd.pypi.simple.v1+json"


@pytest.mark.parametrize(
    ("formats", "accept", "expected"),
    [
        (("json", "html"), f"{JSON}, text/html;q=0.01", JSON),
        (("json", "html"), "text/html", "text/html; charset=utf-8"),
        (("html",), f"{JSON}, text/html;q=0.01", "text/html; charset=utf-8"),
        (("json",), "text/html", None),
    ],
)
def test_content_negotiation(dists, index_server, formats, accept, expected):
    server = index_server(dists[0], formats=formats)
    response = httpx.get(server.url + "demo/", headers={"Accept": accept})
    if expected is None:
        assert response.status_code == 406
    else:
        assert response.headers["content-type"] == expected


def test_json_page_describes_each_file(dists, index_server):
    path, wheel, sdist = dists
    from datetime import UTC, datetime

    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    server = index_server(path, metadata=True, yanked={sdist.filename: "oops"},
                          upload_times={wheel.filename: when})
    page = httpx.get(server.url + "demo/", headers={"Accept": JSON}).json()
    files = {f["filename"]: f for f in page["files"]}
    assert files[wheel.filename]["hashes"] == {"sha256": wheel.sha256}
    assert files[wheel.filename]["requires-python"] == ">=3.8"
    assert files[wheel.filename]["upload-time"] == when.isoformat()
    assert files[wheel.filename]["core-metadata"] == {
        "sha256": hashlib.sha256(wheel.metadata.encode()).hexdigest()
    }
    assert files[sdist.filename]["yanked"] == "oops"
    assert "core-metadata" not in files[sdist.filename]
    metadata = httpx.get(server.files_url + wheel.filename + ".metadata")
    assert metadata.text == wheel.metadata
    server.configure(metadata=False)
    assert httpx.get(server.files_url + wheel.filename + ".metadata").status_code == 404


def test_project_names_are_normalized_by_redirect(dists, index_server):
    server = index_server(dists[0])
    response = httpx.get(server.url + "Demo", follow_redirects=True)
    assert response.status_code == 200
    assert [(r.path, r.status) for r in server.requests] == [
        ("/simple/Demo", 301),
        ("/simple/demo/", 200),
    ]


def test_range_requests(dists, index_server):
    path, wheel, _ = dists
    server = index_server(path)
    data = wheel.path.read_bytes()
    url = server.files_url + wheel.filename
    tail = httpx.get(url, headers={"Range": "bytes=-100"})
    assert (tail.status_code, tail.content) == (206, data[-100:])
    assert tail.headers["content-range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    server.configure(ranges=False)
    full = httpx.get(url, headers={"Range": "bytes=-100"})
    assert (full.status_code, full.content) == (200, data)
    assert server.requests[-1].body_bytes == len(data)


def test_caching_headers_and_conditional_requests(dists, index_server):
    path, wheel, _ = dists
    server = index_server(path, etag=True, last_modified=True, cache_control="max-age=60")
    url = server.files_url + wheel.filename
    first = httpx.get(url)
    assert first.headers["cache-control"] == "max-age=60"
    assert "GMT" in first.headers["last-modified"]
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert server.requests[-1].body_bytes == 0


@pytest.mark.parametrize("accept", [JSON, "text/html"])
def test_page_headers_go_with_project_pages_only(dists, index_server, accept):
    path, wheel, _ = dists
    server = index_server(path, page_headers={"Cache-Control": "no-cache"})
    page = httpx.get(server.url + "demo/", headers={"Accept": accept})
    assert page.headers["cache-control"] == "no-cache"
    assert "cache-control" not in httpx.get(server.files_url + wheel.filename).headers


def test_auth_status_override_and_flat_page(dists, index_server):
    path, wheel, sdist = dists
    server = index_server(path, auth=("u", "p"), status={"demo": 403})
    assert httpx.get(server.url).status_code == 401
    assert httpx.get(server.url + "demo/", auth=("u", "p")).status_code == 403
    flat = httpx.get(server.flat_url, auth=("u", "p")).text
    assert f'href="/files/{wheel.filename}#sha256={wheel.sha256}"' in flat
    assert sdist.filename in flat


def test_root_listing_follows_the_directory(dists, index_server):
    path = dists[0]
    server = index_server(path)
    make_wheel(path, "Late_Comer", "0.1")
    assert 'href="late-comer/"' in httpx.get(server.url).text
    assert json.loads(
        httpx.get(server.url + "late-comer/", headers={"Accept": JSON}).text
    )["name"] == "late-comer"
