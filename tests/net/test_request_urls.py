"""URLs are sent as httpx would send them, whichever transport sends them.

freewheel's own transport takes most URLs as they come (index pages escape
their links already) and leaves the rest to httpx's rules; either way a URL
must come out as ``httpx.URL`` spells it, or be refused as httpx refuses it.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from freewheel.net import FetchError
from freewheel.net.fetcher import request_url

_SCHEMES = st.sampled_from(["http", "https", "HTTPS", "ftp"])
_HOSTS = st.one_of(
    st.sampled_from(["files.example.test", "127.0.0.1", "256.0.0.1", "01.2.3.4", "0.0.0.0", "[::1]", "Ex.Test", "b\u00fccher.test"]),
    st.text("abz09.-_%", min_size=0, max_size=12),
)
_PORTS = st.one_of(st.none(), st.sampled_from(["80", "443", "0443", "8080", "65535", "65536", "0", "x"]))
_SEGMENTS = st.lists(
    st.one_of(
        st.sampled_from([".", "..", "%2e", "%2E%2e", "a b", "caf\u00e9", "%zz", "%41", "~x", "[1]", "{x}", "`", '"']),
        st.text("az09-._~!$&'()*+,;=:@%/ ?#", max_size=8),
    ),
    max_size=5,
)


def _url(scheme: str, host: str, port: str | None, segments: list[str], trail: str) -> str:
    authority = host if port is None else f"{host}:{port}"
    return f"{scheme}://{authority}" + "".join(f"/{segment}" for segment in segments) + trail


@settings(max_examples=600, deadline=None)
@given(_SCHEMES, _HOSTS, _PORTS, _SEGMENTS, st.sampled_from(["", "/", "?", "?a=1&b=/", "#frag", "/x.whl#sha256=ab"]))
@example("https", "files.example.test", None, ["packages", "ab", "pkg-1.0-py3-none-any.whl"], "")
@example("https", "files.example.test", "443", ["simple", "pkg"], "/")
@example("http", "127.0.0.1", "8080", ["simple", ".", "pkg", ".."], "/")
@example("https", "files.example.test", None, ["a b"], "")
def test_a_url_is_sent_as_httpx_spells_it(scheme, host, port, segments, trail) -> None:
    url = _url(scheme, host, port, segments, trail)
    try:
        expected = str(httpx.URL(url))
    except httpx.InvalidURL:
        with pytest.raises(FetchError):
            request_url(url)
    else:
        assert request_url(url) == expected


def test_an_index_url_is_sent_as_it_comes() -> None:
    url = "https://files.example.test/packages/3f/9a/pkg-1.0-py3-none-any.whl"
    assert request_url(url) is url
