"""Resolving and installing packages that only an sdist provides: the
build frontend, its isolated environments filled by freewheel, and the
build cache. Backends come from the test environment (support.backends);
everything is served on 127.0.0.1."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from support.backends import backend_wheels, sdist_of_tree, wheel_of_installed, write_tree
from support.builders import make_wheel
from support.cli import freewheel
from support.waiting import answering_once_served

SETUP_PY = """
from setuptools import setup
setup(name="alpha", version="1.0", packages=["alpha"], install_requires=["beta>=1"])
"""

HATCH_PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "gamma"
version = "2.0"
dependencies = ["beta"]
"""

FLIT_PYPROJECT = """
[build-system]
requires = ["flit_core>=3.2"]
build-backend = "flit_core.buildapi"

[project]
name = "delta"
version = "3.0"
description = "delta"
dependencies = ["beta<2"]
"""


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    """An index directory: beta's wheels, every backend, and three sdist-only packages
    (setuptools with a setup.py and no pyproject.toml, hatchling, flit-core)."""
    dists = tmp_path / "dists"
    make_wheel(dists, "beta", "1.0")
    make_wheel(dists, "beta", "2.0")
    for backend in ("setuptools", "hatchling", "flit-core"):
        backend_wheels(backend, dists)
    alpha = write_tree(tmp_path / "alpha", {"setup.py": SETUP_PY, "alpha/__init__.py": "NAME = 'alpha'\n"})
    sdist_of_tree(alpha, dists, "alpha", "1.0")
    gamma = write_tree(tmp_path / "gamma", {"pyproject.toml": HATCH_PYPROJECT, "gamma/__init__.py": "NAME = 'gamma'\n"})
    sdist_of_tree(gamma, dists, "gamma", "2.0")
    delta = write_tree(
        tmp_path / "delta",
        {"pyproject.toml": FLIT_PYPROJECT, "delta/__init__.py": '"""delta"""\n__version__ = "3.0"\nNAME = "delta"\n'},
    )
    sdist_of_tree(delta, dists, "delta", "3.0")
    return dists


def _venv(tmp_path: Path, name: str = "venv") -> Path:
    assert freewheel("venv", tmp_path / name, "-q").returncode == 0
    return tmp_path / name


def test_compile_builds_metadata_once_then_reads_the_build_cache(tmp_path, dists, index_server):
    server = index_server(dists)
    args = ["pip", "compile", "-", "--default-index", server.url, "--cache-dir", tmp_path / "cache", "-v"]
    first = freewheel(*args, input="alpha\ngamma\ndelta\n")
    assert first.returncode == 0, first.stderr
    pins = [line for line in first.stdout.splitlines() if "==" in line]
    assert pins == ["alpha==1.0", "beta==1.0", "delta==3.0", "gamma==2.0"]
    # gamma's and delta's [project] tables are static: only alpha's setup.py needs a build.
    assert first.stderr.count("Building ") == 1
    assert "Building alpha 1.0 from alpha-1.0.tar.gz to read its metadata" in first.stderr

    second = freewheel(*args, input="alpha\ngamma\ndelta\n")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert "Building " not in second.stderr


def test_an_sdist_the_walk_ahead_reached_first_is_still_built(tmp_path, dists, index_server):
    """While the target interpreter describes itself, the compile fetches
    ahead for the running one, and builds nothing: alpha's setup.py is found
    to need a build then (here the interpreter answers only once alpha's
    sdist was downloaded). The resolution then builds it."""
    server = index_server(dists)
    with answering_once_served(tmp_path / "python", server, lambda path: path.endswith("/alpha-1.0.tar.gz")) as late:
        done = freewheel("pip", "compile", "-", "--python", late.python, "--default-index", server.url,
                         "--cache-dir", tmp_path / "cache", "-v", input="alpha\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if "==" in line] == ["alpha==1.0", "beta==2.0"]
    assert "Building alpha 1.0 from alpha-1.0.tar.gz to read its metadata" in done.stderr
    assert not late.late.exists(), "the sdist was fetched only after the interpreter answered"


def test_install_builds_wheels_once_and_they_work(tmp_path, dists, index_server):
    server = index_server(dists)
    cache = tmp_path / "cache"
    for name in ("one", "two"):
        venv = _venv(tmp_path, name)
        done = freewheel(
            "pip", "install", "alpha", "gamma", "delta", "--python", venv,
            "--default-index", server.url, "--cache-dir", cache, "-v",
        )
        assert done.returncode == 0, done.stderr
        code = "import alpha, beta, gamma, delta; print(alpha.NAME, gamma.NAME, delta.NAME, beta.__version__)"
        run = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True)
        assert run.stdout == "alpha gamma delta 1.0\n", run.stderr
        builds = done.stderr.count("Building ")
        # The first install builds alpha's metadata, then each wheel; the second builds nothing.
        assert builds == (4 if name == "one" else 0), done.stderr


def test_cache_clean_removes_a_packages_builds(tmp_path, dists, index_server):
    server = index_server(dists)
    args = ["pip", "compile", "-", "--default-index", server.url, "--cache-dir", tmp_path / "cache", "-v"]
    assert freewheel(*args, input="alpha\n").returncode == 0
    assert freewheel("cache", "clean", "alpha", "--cache-dir", tmp_path / "cache").returncode == 0
    again = freewheel(*args, input="alpha\n")
    assert again.returncode == 0, again.stderr
    assert "Building alpha 1.0" in again.stderr


def test_no_build_names_the_package_that_needs_one(tmp_path, dists, index_server):
    server = index_server(dists)
    for flags in (["--no-build"], ["--only-binary", ":all:"]):
        done = freewheel("pip", "compile", "-", "--default-index", server.url, *flags, input="alpha\n")
        assert done.returncode == 1
        first = "\n".join(done.stderr.splitlines()[:4])
        assert "versions of alpha" in first and "1.0 (a source distribution" in first, done.stderr


def test_no_binary_builds_a_package_that_has_a_wheel(tmp_path, dists, index_server):
    (dists / "beta-1.0-py3-none-any.whl").unlink()
    (dists / "beta-2.0-py3-none-any.whl").unlink()
    beta = write_tree(tmp_path / "beta", {
        "pyproject.toml": FLIT_PYPROJECT.replace("delta", "beta").replace('dependencies = ["beta<2"]', ""),
        "beta/__init__.py": '"""beta"""\n__version__ = "3.0"\n',
    })
    sdist_of_tree(beta, dists, "beta", "3.0")
    make_wheel(dists, "beta", "3.0")
    server = index_server(dists)
    venv = _venv(tmp_path)
    done = freewheel("pip", "install", "beta", "--python", venv, "--default-index", server.url, "--no-binary", "beta", "-v")
    assert done.returncode == 0, done.stderr
    assert "Building beta 3.0 from beta-3.0.tar.gz to install it" in done.stderr


WHEELHOUSE_PYPROJECT = """
[build-system]
requires = ["setuptools>=70,<90"]
build-backend = "setuptools.build_meta"

[project]
name = "omega"
version = "1.0"
dynamic = ["dependencies"]

[tool.setuptools]
packages = ["omega"]

[tool.setuptools.dynamic]
dependencies = { file = "requirements/core.in" }
"""


def test_offline_from_flat_wheelhouses_with_local_build_requirements(tmp_path):
    """The HPC case: every file in flat wheelhouses, setuptools only as a
    ``+local`` rebuild, no index and no network, run from elsewhere."""
    tools, house = tmp_path / "tools", tmp_path / "house"
    wheel_of_installed("setuptools", tools, local="hpc")
    make_wheel(house, "beta", "1.0")
    omega = write_tree(tmp_path / "omega", {
        "pyproject.toml": WHEELHOUSE_PYPROJECT, "requirements/core.in": "beta\n", "omega/__init__.py": "",
    })
    sdist_of_tree(omega, house, "omega", "1.0")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    venv = _venv(tmp_path)
    flags = ["--offline", "--no-index", "-f", house, "-f", tools, "--cache-dir", tmp_path / "cache", "-v"]
    compiled = freewheel("pip", "compile", "-", *flags, input="omega\n", cwd=elsewhere)
    assert compiled.returncode == 0, compiled.stderr
    assert [line for line in compiled.stdout.splitlines() if "==" in line] == ["beta==1.0", "omega==1.0"]
    assert "Building omega 1.0 from omega-1.0.tar.gz to read its metadata" in compiled.stderr
    installed = freewheel("pip", "install", "omega", "--python", venv, *flags, cwd=elsewhere)
    assert installed.returncode == 0, installed.stderr
    assert " + omega==1.0" in installed.stderr and " + beta==1.0" in installed.stderr
    assert "Building omega 1.0 from omega-1.0.tar.gz to install it" in installed.stderr
    assert "read its metadata" not in installed.stderr


def test_an_sdist_whose_members_escape_it_is_refused(tmp_path, index_server):
    dists = tmp_path / "dists"
    dists.mkdir()
    with tarfile.open(dists / "evil-1.0.tar.gz", "w:gz") as archive:
        for name, data in (("evil-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n\n"),
                           ("evil-1.0/../../escaped.txt", b"x")):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    server = index_server(dists)
    done = freewheel("pip", "compile", "-", "--default-index", server.url, input="evil\n", cwd=tmp_path)
    assert done.returncode == 2
    assert "evil-1.0.tar.gz is not a valid source distribution: the member 'evil-1.0/../../escaped.txt' escapes it." in done.stderr
    assert not list(tmp_path.rglob("escaped.txt"))


def test_requirements_of_a_pyproject_with_dynamic_dependencies(tmp_path):
    """``-r path/to/pyproject.toml`` from another directory: setuptools reads
    the dependencies from a file, offline, from a flat wheelhouse."""
    house = tmp_path / "house"
    backend_wheels("setuptools", house)
    make_wheel(house, "beta", "1.0")
    make_wheel(house, "extra-dep", "1.0")
    project = write_tree(tmp_path / "omega", {
        "pyproject.toml": WHEELHOUSE_PYPROJECT.replace(
            'dynamic = ["dependencies"]', 'dynamic = ["dependencies", "optional-dependencies"]'
        ) + 'optional-dependencies = { fast = { file = "requirements/fast.in" } }\n',
        "requirements/core.in": "beta\n",
        "requirements/fast.in": "extra-dep\n",
        "omega/__init__.py": "",
    })
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    flags = ["--offline", "--no-index", "-f", house, "--cache-dir", tmp_path / "cache", "--no-header"]
    done = freewheel("pip", "compile", "../omega/pyproject.toml", "--extra", "fast", *flags, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    shown = "../omega/pyproject.toml"
    assert done.stdout == f"beta==1.0\n    # via omega ({shown})\nextra-dep==1.0\n    # via omega ({shown})\n"
    venv = _venv(tmp_path)
    done = freewheel("pip", "install", "-r", project / "pyproject.toml", "--python", venv, *flags[:-1], cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert " + beta==1.0" in done.stderr and "omega" not in done.stderr


SETUP_PY_WITH_EXTRAS = """
from setuptools import setup
setup(name="alpha", version="1.0", packages=[], install_requires=["beta>=1"], extras_require={"fast": ["extra-dep"]})
"""


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """A flat wheelhouse: setuptools, beta, gamma and extra-dep."""
    house = tmp_path / "house"
    backend_wheels("setuptools", house)
    for name in ("beta", "gamma", "extra-dep"):
        make_wheel(house, name, "1.0")
    return house


def _compile_from_elsewhere(tmp_path: Path, house: Path, *args: object) -> subprocess.CompletedProcess[str]:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return freewheel("pip", "compile", *args, "--offline", "--no-index", "-f", house,
                     "--cache-dir", tmp_path / "cache", "--no-header", "-v", cwd=elsewhere)


def test_requirements_of_a_setup_py_are_computed_by_the_backend(tmp_path, house):
    write_tree(tmp_path / "alpha", {"setup.py": SETUP_PY_WITH_EXTRAS})
    done = _compile_from_elsewhere(tmp_path, house, "../alpha/setup.py", "--extra", "fast")
    assert done.returncode == 0, done.stderr
    shown = "../alpha/setup.py"
    assert done.stdout == f"beta==1.0\n    # via alpha ({shown})\nextra-dep==1.0\n    # via alpha ({shown})\n"
    assert "to read its metadata" in done.stderr
    again = _compile_from_elsewhere(tmp_path, house, "../alpha/setup.py")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"beta==1.0\n    # via alpha ({shown})\n"
    assert "Building" not in again.stderr


@pytest.mark.parametrize(
    ("setup_cfg", "setup_py"),
    [
        # install_requires read from a file by setuptools
        ("[metadata]\nname = pcfg\nversion = 1.0\n\n[options]\ninstall_requires = file: reqs.in\n",
         "from setuptools import setup\nsetup()\n"),
        # install_requires left to setup.py
        ("[metadata]\nname = pcfg\nversion = 1.0\n",
         "from setuptools import setup\nsetup(install_requires=open('reqs.in').read().split())\n"),
    ],
    ids=["file-directive", "setup-py"],
)
def test_requirements_of_a_setup_cfg_the_backend_computes(tmp_path, house, setup_cfg, setup_py):
    project = write_tree(tmp_path / "pcfg", {"setup.cfg": setup_cfg, "setup.py": setup_py, "reqs.in": "gamma\n"})
    done = _compile_from_elsewhere(tmp_path, house, "../pcfg/setup.cfg")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "gamma==1.0\n    # via pcfg (../pcfg/setup.cfg)\n"
    assert "to read its metadata" in done.stderr
    venv = _venv(tmp_path)
    installed = freewheel("pip", "install", "-r", project / "setup.cfg", "--python", venv, "--offline",
                          "--no-index", "-f", house, "--cache-dir", tmp_path / "cache", cwd=tmp_path / "elsewhere")
    assert installed.returncode == 0, installed.stderr
    assert " + gamma==1.0" in installed.stderr and "pcfg" not in installed.stderr


def test_a_static_setup_cfg_is_read_without_building(tmp_path, house):
    write_tree(tmp_path / "pcfg", {
        "setup.cfg": "[metadata]\nname = pcfg\nversion = 1.0\n\n[options]\ninstall_requires = gamma\n",
        "setup.py": "raise SystemExit('never run')\n",
    })
    done = _compile_from_elsewhere(tmp_path, house, "../pcfg/setup.cfg")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "gamma==1.0\n    # via pcfg (../pcfg/setup.cfg)\n"
    assert "Building" not in done.stderr


def test_a_backends_warnings_show_only_with_verbose(tmp_path, index_server):
    dists = tmp_path / "dists"
    backend_wheels("setuptools", dists)
    noisy = write_tree(tmp_path / "noisy", {
        "setup.py": 'from setuptools import setup\nsetup(name="noisy", version="1.0", tests_require=["x"])\n',
    })
    sdist_of_tree(noisy, dists, "noisy", "1.0")
    server = index_server(dists)
    args = ["pip", "compile", "-", "--default-index", server.url, "--cache-dir", tmp_path / "cache"]
    quiet = freewheel(*args, input="noisy\n")
    assert quiet.returncode == 0, quiet.stderr
    assert "tests_require" not in quiet.stderr
    loud = freewheel(*args, "-v", "--refresh", "--cache-dir", tmp_path / "other", input="noisy\n")
    assert loud.returncode == 0, loud.stderr
    assert "tests_require" in loud.stderr
