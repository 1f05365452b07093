"""Files that are not what the index or the wheel vouches for are never
installed: ``freewheel pip install`` and ``pip sync`` (the real entry point,
in-process so that mutation testing sees these checks) refuse them and
leave the environment as it was."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest
from support.server import write_file_index
from wheelkit import build_wheel, record_hash, snapshot, wheel_members, write_wheel

from freewheel.__main__ import main

DEMO = "demo-1.0-py3-none-any.whl"


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    directory = tmp_path / "dists"
    build_wheel(directory, "demo", "1.0", {"demo/__init__.py": "SAFE = True\n"})
    build_wheel(directory, "keep", "1.0", {"keep.py": ""})
    return directory


def evil_demo(tmp_path: Path) -> bytes:
    """A well-formed wheel of the same name and metadata as the real one."""
    path = build_wheel(tmp_path / "evil", "demo", "1.0", {"demo/__init__.py": "import os; os.system('boom')\n"})
    return path.read_bytes()


@dataclasses.dataclass(frozen=True)
class Result:
    returncode: int
    stderr: str


@pytest.fixture
def run(capsys):
    """``freewheel pip ARGS`` on *venv*, through :func:`freewheel.__main__.main`."""

    def invoke(venv: Path, tmp_path: Path, *args: str) -> Result:
        code = main(["pip", *args, "--python", str(venv), "--cache-dir", str(tmp_path / "cache")])
        return Result(code, capsys.readouterr().err)

    return invoke


def install_demo(command: str, tmp_path: Path, url: str) -> list[str]:
    """Install demo 1.0 as a user would with *command*: ``pip install``, or
    ``pip sync`` of a pinned file (which would also remove keep)."""
    if command == "install":
        return ["install", "demo==1.0", "--default-index", url]
    pins = tmp_path / "pins.txt"
    pins.write_text("demo==1.0\n")
    return ["sync", str(pins), "--default-index", url]


def assert_refused(result, venv: Path, before: dict, what: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert what in result.stderr, result.stderr
    assert snapshot(venv) == before


@pytest.mark.parametrize("command", ["install", "sync"])
def test_a_file_whose_bytes_do_not_match_the_index_hash_is_refused(
    command, venv, dists, tmp_path, index_server, run
):
    evil = evil_demo(tmp_path)
    server = index_server(dists, formats=("json",), served_bytes={DEMO: evil})
    assert run(venv, tmp_path, "install", "keep", "--default-index", server.url).returncode == 0
    before = snapshot(venv)
    result = run(venv, tmp_path, *install_demo(command, tmp_path, server.url))
    true_hash = hashlib.sha256((dists / DEMO).read_bytes()).hexdigest()
    served_hash = hashlib.sha256(evil).hexdigest()
    assert_refused(result, venv, before, (
        f"error: The sha256 of {DEMO} is {served_hash}, but {true_hash} was expected. "
        "The file may be corrupt or tampered with; nothing was installed.\n"
    ))


@pytest.mark.parametrize("command", ["install", "sync"])
def test_a_wrong_sha256_fragment_is_refused(command, venv, dists, tmp_path, index_server, run):
    wrong = hashlib.sha256(b"not the file").hexdigest()
    server = index_server(dists, formats=("html",), advertised_sha256={DEMO: wrong})
    assert run(venv, tmp_path, "install", "keep", "--default-index", server.url).returncode == 0
    before = snapshot(venv)
    result = run(venv, tmp_path, *install_demo(command, tmp_path, server.url))
    true_hash = hashlib.sha256((dists / DEMO).read_bytes()).hexdigest()
    assert_refused(result, venv, before, f"error: The sha256 of {DEMO} is {true_hash}, but {wrong} was expected.")
    # The refused file is not kept in the cache to be trusted later.
    assert not list((tmp_path / "cache").glob(f"wheels-*/demo/*/{DEMO}"))


def test_a_file_that_contradicts_its_record_is_refused(venv, tmp_path, index_server, run):
    content = wheel_members("demo", "1.0", {"demo/__init__.py": "SAFE = True\n"})
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data in content.items())
    content["demo/__init__.py"] = b"SAFE = False\n"
    dists = tmp_path / "dists"
    write_wheel(dists, "demo", "1.0", content, record=record + "demo-1.0.dist-info/RECORD,,\n")
    server = index_server(dists)
    before = snapshot(venv)
    result = run(venv, tmp_path, "install", "demo", "--default-index", server.url)
    assert_refused(result, venv, before, "demo/__init__.py does not match the hash its RECORD gives")


def test_a_cached_wheel_changed_after_download_is_never_installed(venv, dists, tmp_path, index_server, run):
    """A copy in the cache that no longer has its hash is discarded and the
    file downloaded again: the tampered code never runs, and the cache heals."""
    server = index_server(dists)
    assert run(venv, tmp_path, "install", "demo", "--default-index", server.url).returncode == 0
    assert run(venv, tmp_path, "uninstall", "demo").returncode == 0
    (stored,) = (tmp_path / "cache").glob(f"wheels-*/demo/*/{DEMO}")
    stored.write_bytes(evil_demo(tmp_path))
    for tree in (tmp_path / "cache").glob("archive-*/*"):
        shutil.rmtree(tree)
    result = run(venv, tmp_path, "install", "demo", "--default-index", server.url)
    assert result.returncode == 0, result.stderr
    [installed] = venv.glob("lib/python*/site-packages/demo/__init__.py")
    assert "boom" not in installed.read_text()
    assert stored.read_bytes() == (dists / DEMO).read_bytes()


def test_a_local_file_that_does_not_match_its_page_is_refused(venv, dists, tmp_path, run):
    url = write_file_index(dists, tmp_path / "static")
    (tmp_path / "static" / "files" / DEMO).write_bytes(evil_demo(tmp_path))
    before = snapshot(venv)
    result = run(venv, tmp_path, "install", "demo", "--default-index", url)
    true_hash = hashlib.sha256((dists / DEMO).read_bytes()).hexdigest()
    assert_refused(result, venv, before, f"The sha256 of {DEMO} is ")
    assert f"but {true_hash} was expected." in result.stderr


def test_a_file_outside_the_hashes_the_requirements_give_is_refused(venv, dists, tmp_path, index_server, run):
    server = index_server(dists)
    (tmp_path / "r.txt").write_text(f"demo==1.0 --hash=sha256:{'0' * 64}\n")
    before = snapshot(venv)
    result = run(venv, tmp_path, "install", "-r", str(tmp_path / "r.txt"), "--default-index", server.url)
    assert_refused(result, venv, before, (
        f"error: {DEMO} matches none of the hashes the requirements give for it (--hash); "
        "nothing was installed.\n"
    ))


def test_a_file_the_index_will_not_serve_is_a_clear_error(venv, dists, tmp_path, index_server, run):
    server = index_server(dists, metadata=True, file_status={DEMO: 404})
    before = snapshot(venv)
    result = run(venv, tmp_path, "install", "demo", "--default-index", server.url)
    assert_refused(result, venv, before, f"error: Could not download {DEMO} from {server.files_url}{DEMO}: HTTP 404.\n")
    assert not list((tmp_path / "cache").glob(f"wheels-*/demo/*/.{DEMO}.*.tmp"))
    assert not list((tmp_path / "cache").glob(f"wheels-*/demo/*/{DEMO}"))
