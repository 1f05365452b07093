"""An sdist's PKG-INFO read from the stream, and the transfer stopped there."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from support.cli import freewheel

from freewheel.dists.pkginfo import PkgInfoScanner

PKG_INFO = b"Metadata-Version: 2.4\nName: huge\nVersion: 1.0\nRequires-Dist: small\n\n"


def _sdist(fmt: int, *, before: int = 0, after: int = 0, long_name: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=fmt) as archive:
        def add(name: str, data: bytes) -> None:
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))

        if before:
            add("huge-1.0/data/before.bin", os.urandom(before))
        if long_name:
            add("huge-1.0/" + "deep/" * 40 + "f.txt", b"x")
        add("huge-1.0/PKG-INFO", PKG_INFO)
        if after:
            add("huge-1.0/data/after.bin", os.urandom(after))
    return buffer.getvalue()


def _scan(data: bytes, chunk: int = 4096) -> tuple[bytes | None, int]:
    scanner = PkgInfoScanner()
    for start in range(0, len(data), chunk):
        found = scanner.feed(data[start:start + chunk])
        if found is not None:
            return found, start + chunk
    return None, len(data)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_found_in_every_tar_format_as_soon_as_it_passes(fmt):
    data = _sdist(fmt, before=100_000, after=2_000_000, long_name=fmt != tarfile.USTAR_FORMAT)
    found, read = _scan(data)
    assert found == PKG_INFO
    assert read < 150_000 < len(data)


def test_gives_up_on_what_is_not_a_gzip_tar_and_on_a_missing_pkg_info():
    not_a_tar = b"PK\x03\x04 a zip, not a tar.gz" * 100
    assert _scan(not_a_tar) == (None, len(not_a_tar))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("other-1.0/setup.py")
        archive.addfile(member, io.BytesIO(b""))
    assert _scan(buffer.getvalue())[0] is None


def test_a_large_sdist_is_not_downloaded_to_read_static_metadata(tmp_path: Path, index_server):
    from support.builders import make_wheel

    dists = tmp_path / "dists"
    dists.mkdir()
    (dists / "huge-1.0.tar.gz").write_bytes(_sdist(tarfile.PAX_FORMAT, after=8_000_000))
    make_wheel(dists, "small", "1.0")
    server = index_server(dists)
    cache = tmp_path / "cache"
    done = freewheel("pip", "compile", "-", "--default-index", server.url, "--cache-dir", cache,
                     "--no-header", "--no-annotate", input="huge\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "huge==1.0\nsmall==1.0\n"
    # The transfer stopped at PKG-INFO: nothing of the sdist was kept.
    assert not list(cache.rglob("huge-1.0.tar.gz")) and not list(cache.rglob("*.tmp"))


def _zip_sdist(after: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("huge-1.0/PKG-INFO", PKG_INFO)
        archive.writestr("huge-1.0/data/after.bin", os.urandom(after))
        archive.writestr("huge-1.0/setup.py", b"raise SystemExit('never built')\n")
    return buffer.getvalue()


@pytest.mark.parametrize("ranges", [True, False])
def test_a_zip_sdist_is_read_by_ranges_and_whole_only_without_them(tmp_path: Path, index_server, ranges):
    from support.builders import make_wheel

    dists = tmp_path / "dists"
    dists.mkdir()
    size = len(_zip_sdist(0)) + 8_000_000
    (dists / "huge-1.0.zip").write_bytes(_zip_sdist(8_000_000))
    make_wheel(dists, "small", "1.0")
    server = index_server(dists, ranges=ranges)
    cache = tmp_path / "cache"
    done = freewheel("pip", "compile", "-", "--default-index", server.url, "--cache-dir", cache,
                     "--no-header", "--no-annotate", input="huge\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "huge==1.0\nsmall==1.0\n"
    fetched = [r for r in server.requests if r.path.endswith("/huge-1.0.zip")]
    sent = sum(r.body_bytes for r in fetched)
    kept = list(cache.rglob("huge-1.0.zip"))
    if ranges:
        # The central directory, then PKG-INFO: kilobytes, and nothing kept.
        assert len(fetched) <= 3 and sent < 64 * 1024, (len(fetched), sent)
        assert not kept
    else:
        # The whole file, once, kept for a later build or install.
        assert len(fetched) == 1 and sent >= size - 1000
        assert len(kept) == 1
    assert not list(cache.rglob("*.tmp"))
