"""``freewheel export --format wheelhouse``: every file a universal lock
lists, in a directory that installs with nothing else reachable."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.pylock import Pylock
from support.builders import make_sdist, make_wheel
from support.cli import freewheel

HOST_TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"


def project(tmp_path: Path, index_server) -> tuple[Path, object]:
    dists = tmp_path / "dists"
    for platform in ("manylinux_2_28_x86_64", "win_amd64"):
        make_wheel(dists, "fast", "1.0", ["pure", "winonly; sys_platform == 'win32'"], tag=f"{HOST_TAG}-{HOST_TAG}-{platform}")
    make_wheel(dists, "pure", "1.0")
    make_sdist(dists, "pure", "1.0")
    make_wheel(dists, "winonly", "1.0")
    make_wheel(dists, "devtool", "1.0")
    server = index_server(dists, metadata=True)
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(f"""
[project]
name = "app"
version = "1.0"
requires-python = ">={sys.version_info[0]}.{sys.version_info[1]}"
dependencies = ["fast"]

[dependency-groups]
dev = ["devtool"]

[tool.uv]
environments = ["sys_platform == 'linux'", "sys_platform == 'win32'"]

[[tool.uv.index]]
url = "{server.url}"
default = true
""")
    return app, server


def export(app: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return freewheel("export", "--cache-dir", app.parent / "cache", *args, cwd=app)


def test_every_locked_file_then_an_offline_install(tmp_path, index_server):
    app, server = project(tmp_path, index_server)
    dest = tmp_path / "house"
    result = export(app, "--format", "wheelhouse", "--dest", dest, "--no-dev")
    assert result.returncode == 0, result.stderr
    wheels = {p.name for p in dest.iterdir() if p.suffix == ".whl"}
    assert wheels == {
        f"fast-1.0-{HOST_TAG}-{HOST_TAG}-manylinux_2_28_x86_64.whl",
        f"fast-1.0-{HOST_TAG}-{HOST_TAG}-win_amd64.whl",
        "pure-1.0-py3-none-any.whl",
        "winonly-1.0-py3-none-any.whl",
    }
    assert not (dest / "pure-1.0.tar.gz").exists()
    Pylock.from_dict(tomllib.loads((dest / "pylock.toml").read_text())).validate()
    requirements = (dest / "requirements.txt").read_text()
    assert "--hash=sha256:" in requirements and "devtool" not in requirements

    again = export(app, "--format", "wheelhouse", "--dest", dest, "--no-dev", "--sdists", "--frozen")
    assert again.returncode == 0, again.stderr
    assert (dest / "pure-1.0.tar.gz").is_file()
    assert "4 already there" in again.stderr
    server.stop()

    venv = tmp_path / "venv"
    assert freewheel("venv", venv, "--python", sys.executable, "-q").returncode == 0
    installed = freewheel(
        "pip", "install", "--no-config", "--python", venv / "bin" / "python", "--offline", "--no-index",
        "--find-links", dest, "--cache-dir", tmp_path / "other-cache", "-r", dest / "requirements.txt",
    )
    assert installed.returncode == 0, installed.stderr
    subprocess.run([venv / "bin" / "python", "-c", "import fast, pure"], check=True)


def test_wheelhouse_options_need_the_format(tmp_path, index_server):
    app, _ = project(tmp_path, index_server)
    for args in (("--format", "wheelhouse"), ("--dest", tmp_path / "x"), ("--sdists",), ("--format", "wheelhouse", "--dest", tmp_path / "x", "-o", tmp_path / "y")):
        result = export(app, *args)
        assert result.returncode == 2, args
        assert "wheelhouse" in result.stderr
    assert not (tmp_path / "x").exists()
