"""Each documented option of ``pip install`` and ``pip sync`` does what the
README says, checked from outside through the ``freewheel`` console script."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest
from support.cli import freewheel
from wheelkit import build_wheel, reflinks_work

from freewheel.__main__ import main


@pytest.fixture
def url(tmp_path: Path, index_server) -> str:
    dists = tmp_path / "dists"
    build_wheel(dists, "hello", "1.0", {"hello/__init__.py": "from hello.sub import X\n", "hello/sub.py": "X = 1\n"},
                requires=("world",))
    build_wheel(dists, "world", "1.0", {"world.py": "W = 1\n"})
    return index_server(dists).url


def install(venv: Path, tmp_path: Path, *args: str):
    return freewheel("pip", "install", "hello", *args, "--default-index", url_of(tmp_path),
                     "--python", venv, "--cache-dir", tmp_path / "cache")


def url_of(tmp_path: Path) -> str:
    return (tmp_path / "url").read_text()


@pytest.fixture(autouse=True)
def remember_url(url: str, tmp_path: Path) -> None:
    (tmp_path / "url").write_text(url)


def site(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def cached(tmp_path: Path, relative: str) -> Path:
    (found,) = (tmp_path / "cache").glob(f"archive-*/*/{relative}")
    return found


def test_link_mode_hardlink_shares_the_cached_file(venv, tmp_path):
    assert install(venv, tmp_path, "--link-mode", "hardlink").returncode == 0
    installed = site(venv) / "hello" / "sub.py"
    assert installed.stat().st_ino == cached(tmp_path, "hello/sub.py").stat().st_ino


def test_link_mode_copy_makes_independent_files(venv, tmp_path):
    assert install(venv, tmp_path, "--link-mode", "copy").returncode == 0
    installed = site(venv) / "hello" / "sub.py"
    assert installed.stat().st_ino != cached(tmp_path, "hello/sub.py").stat().st_ino
    assert installed.stat().st_nlink == 1
    assert installed.read_text() == "X = 1\n"


def test_link_mode_symlink_points_into_the_cache(venv, tmp_path):
    assert install(venv, tmp_path, "--link-mode", "symlink").returncode == 0
    installed = site(venv) / "hello" / "sub.py"
    assert installed.is_symlink()
    assert installed.resolve() == cached(tmp_path, "hello/sub.py").resolve()


def test_link_mode_clone_never_silently_copies(venv, tmp_path):
    result = install(venv, tmp_path, "--link-mode", "clone")
    assert result.returncode == 0
    installed = site(venv) / "hello" / "sub.py"
    source = cached(tmp_path, "hello/sub.py")
    if reflinks_work(tmp_path):
        # A reflink is a file of its own that shares the cached blocks.
        assert installed.stat().st_ino != source.stat().st_ino
    else:
        # No reflinks here: as uv, the next best, a hard link.
        assert installed.stat().st_ino == source.stat().st_ino
    assert "warning" not in result.stderr


@pytest.mark.parametrize("mode", ["clone", "hardlink", None])
def test_a_link_mode_that_must_copy_says_so(mode, venv, tmp_path, monkeypatch, capsys):
    def cannot(*args: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    # The cache on another device than the environment: no link can be made.
    monkeypatch.setattr(os, "link", cannot)
    monkeypatch.setattr(fcntl, "ioctl", cannot)
    args = ["pip", "install", "hello", "--default-index", url_of(tmp_path), "--python", str(venv),
            "--cache-dir", str(tmp_path / "cache")]
    assert main([*args, *(["--link-mode", mode] if mode else [])]) == 0
    assert "warning: Failed to clone or hardlink files; falling back to full copy." in capsys.readouterr().err
    assert (site(venv) / "hello" / "sub.py").stat().st_nlink == 1


def test_compile_bytecode_leaves_pyc_files_listed_in_record(venv, tmp_path):
    assert install(venv, tmp_path, "--compile-bytecode").returncode == 0
    pycs = sorted(p.relative_to(site(venv)).as_posix() for p in site(venv).rglob("*.pyc"))
    assert [p for p in pycs if p.startswith("hello/")] == [
        f"hello/__pycache__/__init__.{tag}.pyc" for tag in [_cache_tag(venv)]
    ] + [f"hello/__pycache__/sub.{_cache_tag(venv)}.pyc"]
    record = (site(venv) / "hello-1.0.dist-info" / "RECORD").read_text().splitlines()
    assert {line.split(",")[0] for line in record} >= set(p for p in pycs if p.startswith("hello/"))
    assert any(p.startswith("__pycache__/world.") for p in pycs)


def test_without_compile_bytecode_no_pyc_is_written(venv, tmp_path):
    assert install(venv, tmp_path).returncode == 0
    assert not list((site(venv) / "hello").rglob("*.pyc"))


def _cache_tag(venv: Path) -> str:
    result = os.popen(f"{venv / 'bin' / 'python'} -c 'import sys; print(sys.implementation.cache_tag)'")
    return result.read().strip()


def damage(venv: Path) -> tuple[Path, Path]:
    hello, world = site(venv) / "hello" / "sub.py", site(venv) / "world.py"
    for path in (hello, world):
        path.unlink()
        path.write_text("damaged\n")
    return hello, world


def test_reinstall_installs_everything_again(venv, tmp_path):
    assert install(venv, tmp_path).returncode == 0
    hello, world = damage(venv)
    assert install(venv, tmp_path).returncode == 0
    assert hello.read_text() == world.read_text() == "damaged\n"
    assert install(venv, tmp_path, "--reinstall").returncode == 0
    assert (hello.read_text(), world.read_text()) == ("X = 1\n", "W = 1\n")


def test_reinstall_package_installs_that_package_again(venv, tmp_path):
    assert install(venv, tmp_path).returncode == 0
    hello, world = damage(venv)
    assert install(venv, tmp_path, "--reinstall-package", "World").returncode == 0
    assert (hello.read_text(), world.read_text()) == ("damaged\n", "W = 1\n")


def test_no_cache_installs_and_keeps_nothing(venv, tmp_path):
    result = install(venv, tmp_path, "--no-cache")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "cache").exists()
    assert (site(venv) / "hello" / "sub.py").read_text() == "X = 1\n"


@pytest.mark.parametrize(
    "option",
    [["-U"], ["--upgrade-package", "hello"], ["--resolution", "lowest"], ["--prerelease", "allow"],
     ["--no-deps"], ["--extra", "x"], ["--all-extras"], ["--group", "dev"], ["--override", "o.txt"]],
)
def test_sync_rejects_what_only_a_resolution_would_use(option, venv, tmp_path):
    (tmp_path / "pins.txt").write_text("hello==1.0\nworld==1.0\n")
    result = freewheel("pip", "sync", tmp_path / "pins.txt", *option, "--python", venv, "--no-index")
    assert result.returncode == 2
    assert f"unrecognized arguments: {option[0]}" in result.stderr
