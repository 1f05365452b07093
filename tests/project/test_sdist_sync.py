"""``sync`` of a package the lock offers only as an sdist for this
environment: it is built through the build frontend into the build cache
(once per sdist), after the sdist is checked against the lock's hash."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from support.backends import backend_wheels, flit_project, sdist_of_tree
from support.builders import make_wheel
from support.cli import freewheel


@pytest.fixture
def world(tmp_path: Path, index_server):
    """An app needing ``solo``, which its index offers only as an sdist
    (a flit-core project needing ``beta``); the index has beta's wheel and
    the backend's."""
    dists = tmp_path / "dists"
    make_wheel(dists, "beta", "1.0")
    backend_wheels("flit-core", dists)
    sdist_of_tree(flit_project(tmp_path / "solo-src", "solo", "1.0", ["beta"]), dists, "solo", "1.0")
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = ["solo"]\n'
    )
    common = ["--no-config", "--default-index", index_server(dists).url, "--cache-dir", str(tmp_path / "cache"),
              "--python", sys.executable, "-v"]
    return app, common


def _imports(app: Path) -> str:
    python = app / ".venv" / "bin" / "python"
    ran = subprocess.run([python, "-c", "import solo, beta; print(solo.WHERE)"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


def test_sync_builds_an_sdist_only_package_once(world):
    app, common = world
    assert freewheel("lock", *common[:-3], cwd=app).returncode == 0
    data = tomllib.loads((app / "pylock.toml").read_text())
    Pylock.from_dict(data).validate()
    solo = next(p for p in data["packages"] if p["name"] == "solo")
    assert "wheels" not in solo and solo["sdist"]["url"].endswith("/solo-1.0.tar.gz")
    done = freewheel("sync", *common, cwd=app)
    assert done.returncode == 0, done.stderr
    assert "Building solo 1.0 from solo-1.0.tar.gz to install it" in done.stderr
    assert " + solo==1.0" in done.stderr
    assert _imports(app) == "solo-src"
    # Another environment from the same cache: the build cache has the wheel.
    subprocess.run(["rm", "-rf", str(app / ".venv")], check=True)
    again = freewheel("sync", *common, cwd=app)
    assert again.returncode == 0, again.stderr
    assert "Building " not in again.stderr
    assert " + solo==1.0" in again.stderr
    assert _imports(app) == "solo-src"


def test_run_builds_it_too(world):
    app, common = world
    done = freewheel("run", *common, "python", "-c", "import solo; print(solo.__version__)", cwd=app)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0"


def test_no_build_names_the_package(world):
    app, common = world
    assert freewheel("lock", *common[:-3], cwd=app).returncode == 0
    done = freewheel("sync", *common, "--no-build", cwd=app)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "solo 1.0 is built from source to be installed, and --no-build forbids building" in done.stderr
    site = next((app / ".venv" / "lib").glob("python*/site-packages"))
    assert not list(site.glob("*.dist-info"))


def test_an_sdist_that_is_not_the_locked_one_is_not_built(world):
    app, common = world
    assert freewheel("lock", *common[:-3], cwd=app).returncode == 0
    lock = app / "pylock.toml"
    data = tomllib.loads(lock.read_text())
    sha256 = next(p for p in data["packages"] if p["name"] == "solo")["sdist"]["hashes"]["sha256"]
    lock.write_text(lock.read_text().replace(sha256, "0" * 64))
    done = freewheel("sync", *common, "--frozen", cwd=app)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "solo-1.0.tar.gz" in done.stderr and "sha256" in done.stderr
    assert "Building " not in done.stderr
    site = next((app / ".venv" / "lib").glob("python*/site-packages"))
    assert not list(site.glob("*.dist-info"))
