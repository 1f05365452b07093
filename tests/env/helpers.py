"""Helpers for the environment tests: real environments, populated with pip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from freewheel.python.interpreters import probe
from freewheel.python.venv import VirtualEnvironment, create_venv


def isolated_env() -> dict[str, str]:
    """``os.environ`` without pip's or freewheel's configuration, for subprocesses."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "FREEWHEEL_", "UV_")) and k != "VIRTUAL_ENV"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def pip_install(venv: VirtualEnvironment, *args: str) -> None:
    """Install into *venv* with the pip of the interpreter running the tests."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv.python), "install", "-q",
         "--no-index", "--no-deps", "--disable-pip-version-check", *args],
        check=True,
        env=isolated_env(),
    )


def new_venv(root: Path, cache_dir: Path, python: str = sys.executable) -> VirtualEnvironment:
    """A fresh environment at *root* for *python* (default: the running one)."""
    return create_venv(root, probe(python, cache_dir=cache_dir))
