"""``freewheel cache dir|clean|prune`` through :func:`freewheel.cli.run`."""

from __future__ import annotations

import os
import time

import pytest

from freewheel import cli
from freewheel.cache.maintenance import LOCK_NAME
from freewheel.cli.cache import format_size
from freewheel.net import FetchError

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def test_dir_prints_the_root(tmp_path, monkeypatch, capsys):
    assert cli.run(["cache", "dir", "--cache-dir", str(tmp_path / "option")]) == 0
    monkeypatch.setenv("FREEWHEEL_CACHE_DIR", str(tmp_path / "env"))
    assert cli.run(["cache", "dir"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "option"), str(tmp_path / "env")]
    assert not (tmp_path / "env").exists()


@pytest.fixture
def filled(dists, index_server, fetch, cache):
    """A cache holding both projects' pages and wheels; returns the URLs."""
    server = index_server(dists)
    fresh = [(server.url, "api", "max-age=600")]
    pages = [server.url + "demo/", server.url + "other/"]
    fetch(*pages, overrides=fresh, headers=JSON)
    wheels = [server.files_url + "demo-1.0-py3-none-any.whl", server.files_url + "other-2.0-py3-none-any.whl"]
    fetch(*wheels)
    return pages, wheels


def test_clean_removes_everything(filled, cache, fetch, capsys):
    assert cli.run(["cache", "clean", "--cache-dir", str(cache.root)]) == 0
    assert {p.name for p in cache.root.iterdir()} - {LOCK_NAME} == {"CACHEDIR.TAG"}
    message = capsys.readouterr().err
    assert message.startswith(f"Cleared the cache at {cache.root}: removed 6 files (")
    with pytest.raises(FetchError):
        fetch(filled[1][0], offline=True)


def test_clean_removes_the_named_packages_only(filled, cache, fetch, capsys):
    (demo_page, other_page), (demo_wheel, other_wheel) = filled
    assert cli.run(["cache", "clean", "DEMO", "--cache-dir", str(cache.root)]) == 0
    assert capsys.readouterr().err.startswith("Removed 3 files (")
    for url, headers in ((demo_page, JSON), (demo_wheel, None)):
        with pytest.raises(FetchError):
            fetch(url, headers=headers, offline=True)
    assert fetch(other_page, headers=JSON, offline=True)[0].status == 200
    assert fetch(other_wheel, offline=True)[0].status == 200

    assert cli.run(["cache", "clean", "demo", "--cache-dir", str(cache.root)]) == 0
    assert capsys.readouterr().err == "No cache entries found for demo\n"


def test_clean_rejects_an_invalid_name(cache, capsys):
    assert cli.run(["cache", "clean", "../etc", "--cache-dir", str(cache.root)]) == 2
    assert capsys.readouterr().err == "error: '../etc' is not a valid package name.\n"


def test_prune_reports_what_it_removed(filled, cache, capsys):
    leftover = cache.bucket("http") / "demo" / ".entry.rec.123.tmp"
    leftover.write_bytes(b"x" * 2048)
    (cache.root / "wheels-v0").mkdir()
    assert cli.run(["cache", "prune", "--cache-dir", str(cache.root)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"Pruned the cache at {cache.root}: removed 1 file (2.0 KiB)",
        "  1 file (2.0 KiB): left by interrupted writes and unpacks",
    ]
    assert not leftover.exists() and not (cache.root / "wheels-v0").exists()
    assert cli.run(["cache", "prune", "-q", "--cache-dir", str(cache.root)]) == 0
    assert cli.run(["cache", "prune", "--cache-dir", str(cache.root)]) == 0
    assert capsys.readouterr().err == f"Nothing to prune in the cache at {cache.root}\n"


def test_prune_removes_unpacks_killed_midway_once_nothing_can_use_them(cache, capsys):
    # An install killed while it unpacked, or discarded a damaged tree,
    # leaves its staging directory; one touched in the last hour may belong
    # to a command still running.
    archive = cache.bucket("archive")
    abandoned = [archive / ".unpacking-k1l3d", archive / ".damaged-0ld"]
    running = archive / ".unpacking-n0w"
    for staging in (*abandoned, running):
        (staging / "demo").mkdir(parents=True)
        (staging / "demo" / "module.py").write_bytes(b"x" * 1024)
    for staging in abandoned:
        os.utime(staging, (time.time() - 7200, time.time() - 7200))
    assert cli.run(["cache", "prune", "--cache-dir", str(cache.root)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"Pruned the cache at {cache.root}: removed 2 files (2.0 KiB)",
        "  2 files (2.0 KiB): left by interrupted writes and unpacks",
    ]
    assert not any(staging.exists() for staging in abandoned)
    assert (running / "demo" / "module.py").exists()


def test_commands_on_a_missing_cache_say_so(tmp_path, capsys):
    missing = tmp_path / "missing"
    assert cli.run(["cache", "clean", "--cache-dir", str(missing)]) == 0
    assert cli.run(["cache", "prune", "--cache-dir", str(missing)]) == 0
    assert capsys.readouterr().err == f"No cache found at {missing}\n" * 2
    assert not missing.exists()


def test_sizes_read_naturally():
    assert [format_size(n) for n in (0, 1023, 1536, 5 * 1024**2, 3 * 1024**4)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "5.0 MiB",
        "3072.0 GiB",
    ]
