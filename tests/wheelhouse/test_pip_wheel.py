"""``freewheel pip wheel``: ``pip download`` whose sdists go into the
directory as wheels built here, so that it installs with no build and
nothing else reachable."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from support.backends import backend_wheels, flit_project, sdist_of_tree, write_tree
from support.builders import make_wheel
from support.cli import freewheel

HOST = f"{sys.version_info[0]}.{sys.version_info[1]}"
HOST_TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"

SETUP_PY = """
from setuptools import setup
setup(name="omega", version="1.0", packages=["omega"])
"""


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    """beta's wheels, flit-core, and ``delta``: an sdist only, needing beta."""
    dists = tmp_path / "dists"
    make_wheel(dists, "beta", "1.0")
    make_wheel(dists, "beta", "2.0")
    backend_wheels("flit-core", dists)
    sdist_of_tree(flit_project(tmp_path / "delta", "delta", "3.0", ["beta<2"]), dists, "delta", "3.0")
    return dists


def wheel(server, house: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return freewheel(
        "pip", "wheel", "--no-config", "--default-index", server.url, "-w", house, "--cache-dir", cache, "-v", *args
    )


def file_downloads(server) -> list[str]:
    return [p for p in server.paths() if p.startswith("/files/") and not p.endswith(".metadata")]


def test_an_sdist_only_dependency_lands_as_a_wheel_that_installs_offline(dists, tmp_path, index_server):
    server = index_server(dists)
    house, cache = tmp_path / "house", tmp_path / "cache"
    # Two targets need delta: it is built once, and its pure wheel serves both.
    first = wheel(server, house, cache, "delta", "--python-platform", "linux", "--python-platform", "windows")
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in house.iterdir()) == ["beta-1.0-py3-none-any.whl", "delta-3.0-py2.py3-none-any.whl"]
    assert first.stderr.count("Building delta 3.0 from delta-3.0.tar.gz") == 1, first.stderr
    assert "2 files" in first.stderr and "2 added" in first.stderr

    # A second run builds nothing and downloads nothing.
    fetched = len(file_downloads(server))
    again = wheel(server, house, cache, "delta", "--python-platform", "linux", "--python-platform", "windows")
    assert again.returncode == 0, again.stderr
    assert "Building" not in again.stderr
    assert len(file_downloads(server)) == fetched
    assert "0 added" in again.stderr and "2 already there" in again.stderr
    server.stop()

    venv = tmp_path / "venv"
    assert freewheel("venv", venv, "--python", sys.executable, "-q").returncode == 0
    installed = freewheel(
        "pip", "install", "--no-config", "--python", venv, "--offline", "--no-index", "--find-links", house,
        "--cache-dir", tmp_path / "fresh-cache", "delta", "-v",
    )
    assert installed.returncode == 0, installed.stderr
    assert "Building" not in installed.stderr
    run = subprocess.run([venv / "bin" / "python", "-c", "import delta; print(delta.WHERE)"], capture_output=True, text=True)
    assert run.stdout.strip() == "delta", run.stderr


def test_no_build_names_the_package_that_needs_one(dists, tmp_path, index_server):
    server = index_server(dists)
    house = tmp_path / "house"
    done = wheel(server, house, tmp_path / "cache", "delta", "--no-build")
    assert done.returncode == 1, done.stderr
    assert "versions of delta" in done.stderr and "3.0 (a source distribution" in done.stderr, done.stderr
    assert not any(house.iterdir())


def test_a_target_the_built_wheel_does_not_fit_is_refused(tmp_path, index_server):
    """A build runs for this machine's Python: a wheel tagged for it does
    not serve Python 3.9, and nothing is written."""
    dists = tmp_path / "dists"
    backend_wheels("setuptools", dists)
    omega = write_tree(tmp_path / "omega", {
        "setup.py": SETUP_PY,
        "setup.cfg": f"[bdist_wheel]\npython_tag = {HOST_TAG}\n",
        "omega/__init__.py": "",
    })
    sdist_of_tree(omega, dists, "omega", "1.0")
    server = index_server(dists)
    house = tmp_path / "house"
    done = wheel(server, house, tmp_path / "cache", "omega", "--python-version", HOST, "--python-version", "3.9")
    assert done.returncode == 2, done.stderr
    assert f"omega 1.0 has only a source distribution, and the wheel built from it here, omega-1.0-{HOST_TAG}-none-any.whl, does not install on CPython 3.9" in done.stderr
    assert not any(house.iterdir())
    alone = wheel(server, house, tmp_path / "cache", "omega", "--python-version", HOST)
    assert alone.returncode == 0, alone.stderr
    assert [p.name for p in house.iterdir()] == [f"omega-1.0-{HOST_TAG}-none-any.whl"]


def test_a_requirements_hash_binds_the_sdist_that_is_built(dists, tmp_path, index_server):
    server = index_server(dists)
    house = tmp_path / "house"
    good = hashlib.sha256((dists / "delta-3.0.tar.gz").read_bytes()).hexdigest()
    (tmp_path / "bad.txt").write_text(f"delta==3.0 --hash=sha256:{'0' * 64}\n")
    bad = wheel(server, house, tmp_path / "cache", "-r", tmp_path / "bad.txt", "--no-deps")
    assert bad.returncode != 0
    assert "delta-3.0.tar.gz matches none of the hashes" in bad.stderr, bad.stderr
    assert not any(house.iterdir())
    (tmp_path / "good.txt").write_text(f"delta==3.0 --hash=sha256:{good}\n")
    done = wheel(server, house, tmp_path / "cache", "-r", tmp_path / "good.txt", "--no-deps")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in house.iterdir()] == ["delta-3.0-py2.py3-none-any.whl"]


def test_a_local_project_is_built_with_its_dependencies(dists, tmp_path, index_server):
    """``pip wheel ./proj`` builds the project too; ``pip download ./proj``,
    as pip's, saves what it needs, not the tree."""
    server = index_server(dists)
    project = flit_project(tmp_path / "proj", "proj", "0.1", ["delta"])
    built = wheel(server, tmp_path / "house", tmp_path / "cache", str(project))
    assert built.returncode == 0, built.stderr
    assert sorted(p.name for p in (tmp_path / "house").iterdir()) == [
        "beta-1.0-py3-none-any.whl", "delta-3.0-py2.py3-none-any.whl", "proj-0.1-py2.py3-none-any.whl",
    ]
    downloaded = freewheel(
        "pip", "download", "--no-config", "--default-index", server.url, "-d", tmp_path / "downloads",
        "--cache-dir", tmp_path / "cache", str(project),
    )
    assert downloaded.returncode == 0, downloaded.stderr
    assert sorted(p.name for p in (tmp_path / "downloads").iterdir()) == ["beta-1.0-py3-none-any.whl", "delta-3.0.tar.gz"]
