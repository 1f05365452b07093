"""Where whole files are kept in the cache: by content hash, else by URL."""

from __future__ import annotations

import hashlib
from pathlib import Path

from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.dists.downloads import DistStore
from freewheel.index.models import DistFile

INDEX = Index(url="https://mirror.test/simple/")


def dist(url: str, **hashes: str) -> DistFile:
    return DistFile("demo-1.0-py3-none-any.whl", url, INDEX, "demo", Version("1.0"), "wheel", hashes=hashes)


def test_files_with_a_sha256_are_kept_by_it_whatever_the_url(tmp_path: Path) -> None:
    store = DistStore(tmp_path, None)  # type: ignore[arg-type]
    digest = "AB" * 32
    one = store.path_for(dist("https://a.test/demo-1.0-py3-none-any.whl", sha256=digest))
    other = store.path_for(dist("https://b.test/demo-1.0-py3-none-any.whl", sha256=digest.lower()))
    assert one == other == tmp_path / "demo" / digest.lower() / "demo-1.0-py3-none-any.whl"


def test_files_without_one_are_kept_by_their_url_without_credentials(tmp_path: Path) -> None:
    store = DistStore(tmp_path, None)  # type: ignore[arg-type]
    url = "https://a.test/demo-1.0-py3-none-any.whl"
    key = hashlib.sha256(url.encode()).hexdigest()
    assert store.path_for(dist(url)) == tmp_path / "demo" / key / "demo-1.0-py3-none-any.whl"
    assert store.path_for(dist(url.replace("://", "://u:p@"))) == store.path_for(dist(url))
    assert store.path_for(dist(url, md5="00")) == store.path_for(dist(url))


def test_an_existing_file_is_found_where_it_lies(tmp_path: Path) -> None:
    store = DistStore(tmp_path / "store", None)  # type: ignore[arg-type]
    local = tmp_path / "demo-1.0-py3-none-any.whl"
    assert store.existing(dist(local.as_uri())) is None
    local.write_bytes(b"wheel")
    assert store.existing(dist(local.as_uri())) == local
    remote = dist("https://a.test/demo-1.0-py3-none-any.whl")
    assert store.existing(remote) is None
    store.path_for(remote).parent.mkdir(parents=True)
    store.path_for(remote).write_bytes(b"wheel")
    assert store.existing(remote) == store.path_for(remote)
