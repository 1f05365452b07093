"""Reading METADATA from a wheel with range requests, and when ranges fail."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

import pytest
from support.builders import make_wheel

from freewheel.config.indexes import Index
from freewheel.dists.metadata import MetadataSource, is_metadata_member
from freewheel.dists.remotezip import BadZip, WholeFile, read_member
from freewheel.errors import MetadataError
from freewheel.index.simple import dist_file
from freewheel.net.fetcher import Fetcher


def _in_memory_fetch(data: bytes, calls: list[tuple[int, int | None]]):
    async def fetch(start: int, end: int | None):
        calls.append((start, end))
        if end is None:
            first = max(len(data) - start, 0)
            return 206, data[first:], f"bytes {first}-{len(data) - 1}/{len(data)}"
        return 206, data[start : end + 1], f"bytes {start}-{end}/{len(data)}"

    return fetch


def _zip(members: dict[str, bytes], *, force_zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=force_zip64) as handle:
                handle.write(data)
    return buffer.getvalue()


@pytest.mark.parametrize("force_zip64", [False, True])
def test_metadata_read_from_a_large_archive_in_three_small_reads(force_zip64):
    metadata = b"Metadata-Version: 2.1\nName: big\nVersion: 1\n"
    # The member sits before 1 MiB of data, far from the archive's tail.
    data = _zip({"big-1.dist-info/METADATA": metadata, "big/x.bin": bytes(range(256)) * 4096}, force_zip64=force_zip64)
    calls: list[tuple[int, int | None]] = []
    result = asyncio.run(read_member(_in_memory_fetch(data, calls), is_metadata_member))
    assert result == metadata
    assert len(calls) <= 3


def test_missing_member_and_no_range_support():
    data = _zip({"x/y.txt": b"hi"})
    assert asyncio.run(read_member(_in_memory_fetch(data, []), is_metadata_member)) is None

    async def ignores_ranges(start, end):
        return 200, data, None

    assert asyncio.run(read_member(ignores_ranges, is_metadata_member)) == WholeFile(data)


def test_not_a_zip_is_bad_zip():
    with pytest.raises(BadZip):
        asyncio.run(read_member(_in_memory_fetch(b"not a zip at all" * 100, []), is_metadata_member))


def _metadata_of(url: str, filename: str) -> object:
    index = Index(url="http://unused/")

    async def go():
        async with Fetcher() as fetcher:
            dist = dist_file(url + filename, index)
            return await MetadataSource(fetcher).get(dist)

    return asyncio.run(go())


@pytest.mark.parametrize("ranges", [True, False])
def test_metadata_over_http_fetches_kilobytes_when_ranges_work(tmp_path: Path, index_server, ranges):
    wheel = make_wheel(tmp_path / "d", "heavy", "1.0", ["dep>=1"], padding=4 * 1024 * 1024)
    server = index_server(tmp_path / "d", ranges=ranges)
    metadata = _metadata_of(server.files_url, wheel.filename)
    assert [str(r) for r in metadata.requires_dist] == ["dep>=1"]
    sent = sum(r.body_bytes for r in server.requests)
    if ranges:
        assert sent < 200 * 1024
    else:
        assert sent >= 4 * 1024 * 1024


def test_truncated_wheel_is_a_clear_error(tmp_path: Path, index_server):
    wheel = make_wheel(tmp_path / "d", "broken", "1.0")
    wheel.path.write_bytes(wheel.path.read_bytes()[:-30])
    server = index_server(tmp_path / "d")
    with pytest.raises(MetadataError, match="broken-1.0-py3-none-any.whl is not a valid wheel"):
        _metadata_of(server.files_url, wheel.filename)


def test_large_central_directory_is_not_read_whole():
    """Thousands of entries (botocore's directory is hundreds of KiB): the
    METADATA entry is among the last, found in the tail; two reads, a few KiB."""
    members = {f"pkg/data/file{n:05}.json": b"{}" for n in range(4000)}
    metadata = b"Metadata-Version: 2.1\nName: pkg\nVersion: 1\n"
    members["pkg-1.dist-info/METADATA"] = metadata
    members["pkg-1.dist-info/WHEEL"] = b"Wheel-Version: 1.0\n"
    members["pkg-1.dist-info/RECORD"] = b"x" * 200_000
    data = _zip(members)
    calls: list[tuple[int, int | None]] = []
    assert asyncio.run(read_member(_in_memory_fetch(data, calls), is_metadata_member)) == metadata
    assert len(calls) == 2
    assert calls[1][1] is not None and calls[1][1] - calls[1][0] < 4096


def test_dist_info_first_still_found_through_the_whole_directory():
    members = {"pkg-1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: pkg\nVersion: 1\n"}
    members.update({f"pkg/data/PK\x01\x02file{n:05}.json": b"{}" for n in range(4000)})
    data = _zip(members)
    calls: list[tuple[int, int | None]] = []
    result = asyncio.run(read_member(_in_memory_fetch(data, calls), is_metadata_member))
    assert result == members["pkg-1.dist-info/METADATA"]
    assert len(calls) == 3


def test_small_wheel_in_one_read():
    data = _zip({"tiny-1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tiny\nVersion: 1\n", "tiny.py": b""})
    calls: list[tuple[int, int | None]] = []
    assert asyncio.run(read_member(_in_memory_fetch(data, calls), is_metadata_member)) is not None
    assert len(calls) == 1


def _directory(data: bytes) -> bytes:
    from freewheel.dists.remotezip import central_directory

    offset, size = central_directory(data, 0)
    return data[offset : offset + size]


@pytest.mark.parametrize(
    "names",
    [
        # The common case: the wheel's own .dist-info last, after many files.
        [*(f"pkg/data/{n}.json" for n in range(300)), "pkg-1.dist-info/RECORD", "pkg-1.dist-info/METADATA"],
        # A vendored .dist-info first: its METADATA is not the wheel's.
        ["pkg/_vendor/dep-2.dist-info/METADATA", "pkg/a.py", "pkg-1.dist-info/METADATA"],
        # The hint inside an earlier name, and the signature bytes in one.
        ["pkg/.dist-info/METADATA.txt", "pkg/PK\x01\x02.dist-info/METADATA", "pkg-1.dist-info/METADATA"],
        # No such member at all.
        ["pkg/a.py", "pkg/.dist-info/METADATA/x"],
    ],
)
def test_a_hint_finds_the_same_member_as_reading_every_entry(names: list[str]) -> None:
    from freewheel.dists.remotezip import find_member

    data = _zip({name: name.encode() for name in names})
    directory = _directory(data)
    hinted = find_member(directory, is_metadata_member, b".dist-info/METADATA")
    assert hinted == find_member(directory, is_metadata_member)
    assert (hinted.name if hinted else None) == next((n for n in names if is_metadata_member(n)), None)
