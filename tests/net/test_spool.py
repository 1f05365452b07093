"""Whole files stream to disk when asked; partial and error bodies do not."""

from __future__ import annotations

import asyncio

from support.builders import make_wheel

from freewheel.net.fetcher import Fetcher


def test_a_whole_file_is_spooled_and_a_range_is_not(tmp_path, index_server):
    wheel = make_wheel(tmp_path / "d", "big", "1.0", padding=2 * 1024 * 1024)
    server = index_server(tmp_path / "d")
    url = server.files_url + wheel.filename

    async def go():
        async with Fetcher() as fetcher:
            whole = await fetcher.get(url, spool_to=tmp_path / "out" / "whole.whl")
            part = await fetcher.get(url, headers={"Range": "bytes=-100"}, spool_to=tmp_path / "out" / "part.whl")
            missing = await fetcher.get(server.files_url + "nope.whl", spool_to=tmp_path / "out" / "nope.whl")
            return whole, part, missing

    whole, part, missing = asyncio.run(go())
    assert whole.path == tmp_path / "out" / "whole.whl" and whole.content == b""
    assert whole.path.read_bytes() == wheel.path.read_bytes()
    assert part.status == 206 and part.path is None and len(part.content) == 100
    assert missing.status == 404 and missing.path is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["whole.whl"]
