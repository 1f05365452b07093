"""``freewheel pip download``: one command fills a wheelhouse for several
targets, which then installs with nothing else reachable."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.builders import make_sdist, make_wheel
from support.cli import freewheel

HOST = f"{sys.version_info[0]}.{sys.version_info[1]}"
HOST_TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"
TARGETS = (
    "--python-version", "3.9", "--python-version", HOST,
    "--python-platform", "x86_64-manylinux_2_28", "--python-platform", "windows",
)


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    """``fast``: a compiled wheel per Python × platform, needing ``pure`` (2.0
    needs Python 3.10) and, on Windows only, ``winonly``."""
    directory = tmp_path / "dists"
    for python in ("cp39", HOST_TAG):
        for platform in ("manylinux_2_28_x86_64", "win_amd64"):
            make_wheel(
                directory, "fast", "1.0", ["pure>=1", "winonly; sys_platform == 'win32'"],
                tag=f"{python}-{python}-{platform}",
            )
    make_wheel(directory, "pure", "1.0")
    make_wheel(directory, "pure", "2.0", requires_python=">=3.10")
    make_wheel(directory, "winonly", "1.0")
    make_wheel(directory, "linuxonly", "1.0", tag=f"{HOST_TAG}-{HOST_TAG}-manylinux_2_28_x86_64")
    make_wheel(directory, "modern", "1.0", requires_python=">=3.99")
    return directory


def download(server, dest: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ("--cache-dir", str(cache)) if cache is not None else ()
    return freewheel(
        "pip", "download", "--no-config", "--default-index", server.url, "-d", dest, *extra, *args
    )


def file_downloads(server) -> list[str]:
    """Paths of distribution files fetched (not their PEP 658 metadata)."""
    return [p for p in server.paths() if p.startswith("/files/") and not p.endswith(".metadata")]


def expected_files() -> set[str]:
    return {
        f"fast-1.0-{py}-{py}-{platform}.whl"
        for py in ("cp39", HOST_TAG)
        for platform in ("manylinux_2_28_x86_64", "win_amd64")
    } | {"pure-1.0-py3-none-any.whl", "pure-2.0-py3-none-any.whl", "winonly-1.0-py3-none-any.whl"}


def test_four_targets_in_one_command_then_an_offline_install(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    result = download(server, dest, "fast", *TARGETS)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in dest.iterdir()} == expected_files()
    for name in ("fast", "pure", "winonly"):
        for path in dest.glob(f"{name}-*"):
            assert path.read_bytes() == (dists / path.name).read_bytes()
    assert "CPython 3.9 on windows: 3 packages" in result.stderr
    assert f"CPython {HOST} on x86_64-manylinux_2_28: 2 packages" in result.stderr
    assert "7 files" in result.stderr and "7 added" in result.stderr
    # Each file fetched once, though several targets need it.
    assert sorted(file_downloads(server)) == sorted(set(file_downloads(server)))
    server.stop()

    venv = tmp_path / "venv"
    assert freewheel("venv", venv, "--python", sys.executable, "-q").returncode == 0
    installed = freewheel(
        "pip", "install", "--no-config", "--python", venv / "bin" / "python",
        "--offline", "--no-index", "--find-links", dest, "--cache-dir", tmp_path / "other-cache", "fast",
    )
    assert installed.returncode == 0, installed.stderr
    versions = subprocess.run(
        [venv / "bin" / "python", "-c", "import fast, pure; print(fast.__version__, pure.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert versions == ["1.0", "2.0"]


def test_a_second_run_downloads_nothing_and_a_damaged_file_is_fetched_again(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    assert download(server, dest, "fast", *TARGETS, cache=tmp_path / "c1").returncode == 0
    first = len(file_downloads(server))
    assert first == len(expected_files())

    # A new cache: only the wheelhouse, checked by hash, stands between the run and the index.
    again = download(server, dest, "fast", *TARGETS, cache=tmp_path / "c2")
    assert again.returncode == 0, again.stderr
    assert len(file_downloads(server)) == first
    assert "0 added" in again.stderr and "7 already there" in again.stderr

    damaged = dest / "pure-2.0-py3-none-any.whl"
    damaged.write_bytes(b"not the wheel")
    healed = download(server, dest, "fast", *TARGETS, cache=tmp_path / "c3")
    assert healed.returncode == 0, healed.stderr
    assert file_downloads(server)[first:] == ["/files/pure-2.0-py3-none-any.whl"]
    assert damaged.read_bytes() == (dists / damaged.name).read_bytes()


def test_a_file_the_index_lies_about_is_refused(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True, served_bytes={"pure-1.0-py3-none-any.whl": b"tampered"})
    dest = tmp_path / "wheelhouse"
    result = download(server, dest, "pure<2", "--python-version", "3.9")
    assert result.returncode == 2
    assert "sha256" in result.stderr and "Traceback" not in result.stderr
    assert not (dest / "pure-1.0-py3-none-any.whl").exists()


def test_targets_that_fail_are_named_with_the_reason_and_the_rest_is_downloaded(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    result = download(server, dest, "linuxonly", *TARGETS)
    assert result.returncode == 1
    assert {p.name for p in dest.iterdir()} == {f"linuxonly-1.0-{HOST_TAG}-{HOST_TAG}-manylinux_2_28_x86_64.whl"}
    for target in ("CPython 3.9 on windows", "CPython 3.9 on x86_64-manylinux_2_28", f"CPython {HOST} on windows"):
        assert f"error: {target}: nothing downloaded" in result.stderr
        assert f"no wheel for {target}" in result.stderr
    assert "3 of 4 targets could not be satisfied" in result.stderr

    modern = download(server, dest, "modern", "--python-version", "3.9")
    assert modern.returncode == 1
    assert "requires Python >=3.99" in modern.stderr


def test_prune_removes_what_no_target_needs(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    assert download(server, dest, "fast", *TARGETS).returncode == 0
    (dest / "notes.txt").write_text("mine")
    narrowed = download(server, dest, "pure", "--python-version", "3.9", "--prune")
    assert narrowed.returncode == 0, narrowed.stderr
    assert {p.name for p in dest.iterdir()} == {"pure-1.0-py3-none-any.whl", "notes.txt"}
    assert "6 pruned" in narrowed.stderr

    # Without --prune, nothing goes; after a failed target, --prune leaves all.
    assert download(server, dest, "fast", *TARGETS).returncode == 0
    failed = download(server, dest, "pure", "modern", "--python-version", "3.9", "--prune")
    assert failed.returncode == 1
    assert "Nothing was pruned" in failed.stderr
    assert {p.name for p in dest.iterdir()} == expected_files() | {"notes.txt"}


def test_pip_style_platform_implementation_and_abi(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    result = download(
        server, dest, "fast", "--platform", "win_amd64", "--python-version", "39",
        "--implementation", "cp", "--abi", "cp39", "--only-binary", ":all:",
    )
    assert result.returncode == 0, result.stderr
    assert {p.name for p in dest.iterdir()} == {
        "fast-1.0-cp39-cp39-win_amd64.whl", "pure-1.0-py3-none-any.whl", "winonly-1.0-py3-none-any.whl",
    }
    # As pip: a manylinux_2_28 tag does not accept the older manylinux tags.
    make_wheel(dists, "old", "1.0", tag="cp39-cp39-manylinux_2_17_x86_64")
    older = download(server, dest, "old", "--platform", "manylinux_2_28_x86_64", "--python-version", "3.9")
    assert older.returncode == 1 and "no wheel for" in older.stderr


def test_no_deps_and_no_binary(dists, tmp_path, index_server):
    make_sdist(dists, "pure", "2.0", requires_python=">=3.10")
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    result = download(server, dest, "fast", "--no-deps", "--no-binary", "pure", "--python-version", HOST)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in dest.iterdir()] == [f"fast-1.0-{HOST_TAG}-{HOST_TAG}-manylinux_2_28_x86_64.whl"]
    sdist = download(server, dest, "pure", "--no-binary", "pure", "--python-version", HOST)
    assert sdist.returncode == 0, sdist.stderr
    assert (dest / "pure-2.0.tar.gz").is_file()


def test_index_html_is_a_flat_index_with_hashes(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    assert download(server, dest, "fast", *TARGETS, "--index-html").returncode == 0
    page = (dest / "index.html").read_text()
    links = dict(re.findall(r'<a href="([^"#]+)#sha256=([0-9a-f]{64})">', page))
    assert set(links) == expected_files()
    for name, digest in links.items():
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    server.stop()
    # The page alone is a find-links location.
    compiled = freewheel(
        "pip", "compile", "--no-config", "--no-index", "--find-links", (dest / "index.html").as_uri(),
        "--python-version", "3.9", "--python-platform", "windows", "--offline", "-", input="fast\n",
    )
    assert compiled.returncode == 0, compiled.stderr
    assert "winonly==1.0" in compiled.stdout and "pure==1.0" in compiled.stdout
    # Without --index-html, no page.
    other = tmp_path / "plain"
    server = index_server(dists, metadata=True)
    assert download(server, other, "pure", "--python-version", "3.9").returncode == 0
    assert not (other / "index.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--python-platform", "nowhere"), "Unknown target platform 'nowhere'"),
        (("--python-version", "2.7"), "Invalid Python version '2.7'"),
        (("--platform", "win_amd64", "--python-platform", "linux"), "cannot be combined"),
        (("--platform", "Not A Tag"), "Invalid --platform"),
        (("--implementation", "cpython"), "Invalid --implementation"),
    ],
)
def test_bad_targets_exit_2_before_writing(tmp_path, args, message):
    dest = tmp_path / "wheelhouse"
    result = freewheel("pip", "download", "--no-config", "--no-index", "-d", dest, "pure", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not dest.exists()


def test_an_unwritable_destination_exits_2(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = download(server, blocker / "sub", "pure")
    assert result.returncode == 2
    assert "Cannot write into the destination directory" in result.stderr
    assert server.paths() == []


def test_a_requirements_hash_binds_the_downloaded_file(dists, tmp_path, index_server):
    server = index_server(dists, metadata=True)
    dest = tmp_path / "wheelhouse"
    good = hashlib.sha256((dists / "pure-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    (tmp_path / "good.txt").write_text(f"pure==1.0 --hash=sha256:{good}\n")
    assert download(server, dest, "-r", tmp_path / "good.txt", "--python-version", "3.9").returncode == 0
    assert (dest / "pure-1.0-py3-none-any.whl").is_file()

    (tmp_path / "bad.txt").write_text(f"winonly==1.0 --hash=sha256:{'0' * 64}\n")
    bad = download(server, dest, "-r", tmp_path / "bad.txt", "--python-version", "3.9")
    assert bad.returncode == 2
    assert "matches none of the hashes" in bad.stderr
    assert not (dest / "winonly-1.0-py3-none-any.whl").exists()
    # A file already in the directory is no exception.
    (tmp_path / "wrong.txt").write_text(f"pure==1.0 --hash=sha256:{'0' * 64}\n")
    wrong = download(server, dest, "-r", tmp_path / "wrong.txt", "--python-version", "3.9")
    assert wrong.returncode == 2
    assert "matches none of the hashes" in wrong.stderr
