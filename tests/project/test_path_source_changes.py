"""A local directory the project depends on (a ``path`` source that is no
workspace member) is locked again when the files its metadata is written
in change; while they do not, a sync reads no index."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support.backends import backend_wheels, flit_project
from support.builders import make_wheel
from support.cli import freewheel


@pytest.fixture
def world(tmp_path: Path, index_server):
    dists = tmp_path / "dists"
    make_wheel(dists, "beta", "1.0")
    make_wheel(dists, "gamma", "1.0")
    backend_wheels("flit-core", dists)
    server = index_server(dists)
    flit_project(tmp_path / "local", "loco", "0.1", ["beta"])
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = ["loco"]\n'
        '[tool.uv.sources]\nloco = { path = "../local" }\n'
    )
    common = ["--no-config", "--default-index", server.url, "--cache-dir", str(tmp_path / "cache"),
              "--python", sys.executable]
    return app, tmp_path / "local", server, common


def _locked(app: Path) -> set[str]:
    return {p["name"] for p in tomllib.loads((app / "pylock.toml").read_text())["packages"]}


@pytest.mark.parametrize("editable", [False, True])
def test_a_path_dependency_gaining_a_dependency_is_locked_again(world, editable):
    app, local, _, common = world
    if editable:
        pyproject = app / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('path = "../local"', 'path = "../local", editable = true'))
    assert freewheel("sync", *common, cwd=app).returncode == 0
    assert _locked(app) == {"beta", "loco"}
    (local / "pyproject.toml").write_text(
        (local / "pyproject.toml").read_text().replace('dependencies = ["beta"]', 'dependencies = ["beta", "gamma"]')
    )
    done = freewheel("sync", *common, cwd=app)
    assert done.returncode == 0, done.stderr
    assert _locked(app) == {"beta", "gamma", "loco"}
    assert " + gamma==1.0" in done.stderr
    python = app / ".venv" / "bin" / "python"
    assert subprocess.run([python, "-c", "import gamma"]).returncode == 0
    # loco itself is installed again, at the same version, with its new metadata.
    assert " + loco==0.1 (from " in done.stderr
    requires = "import importlib.metadata as m; print(sorted(m.requires('loco')))"
    shown = subprocess.run([python, "-c", requires], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "['beta', 'gamma']"
    again = freewheel("sync", *common, cwd=app)
    assert again.returncode == 0, again.stderr
    assert "Audited" in again.stderr


def test_a_setup_py_appearing_counts_too(world):
    app, local, _, common = world
    assert freewheel("lock", *common[:-2], cwd=app).returncode == 0
    assert freewheel("lock", "--check", *common[:-2], cwd=app).returncode == 0
    (local / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    done = freewheel("lock", "--check", *common[:-2], cwd=app)
    assert done.returncode == 2
    assert "needs to be updated" in done.stderr


def test_an_unchanged_path_dependency_reads_no_index(world):
    app, local, server, common = world
    assert freewheel("sync", *common, cwd=app).returncode == 0
    # Touched but not changed: its content is what counts.
    (local / "pyproject.toml").write_text((local / "pyproject.toml").read_text())
    (local / "loco" / "__init__.py").write_text("# code is not metadata\n")
    asked = len(server.requests)
    done = freewheel("sync", *common, cwd=app)
    assert done.returncode == 0, done.stderr
    assert server.paths()[asked:] == []
    assert "Audited" in done.stderr
