"""Fixtures for the installer tests: fresh environments and a shared cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import freewheel
from wheelkit import Env, make_env


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    """The archive bucket wheels are unpacked into."""
    return tmp_path / "cache" / "archives"


@pytest.fixture
def new_env(tmp_path: Path) -> Callable[[str], Env]:
    """Create a virtual environment (without pip) named *name* in the test's tmp dir."""

    def create(name: str = "env") -> Env:
        return make_env(tmp_path / name, tmp_path / "cache" / "interpreters")

    return create


@pytest.fixture
def env(new_env: Callable[[str], Env]) -> Env:
    return new_env("env")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh virtual environment made by ``freewheel venv``."""
    result = freewheel("venv", tmp_path / "venv", "-q")
    assert result.returncode == 0, result.stderr
    return tmp_path / "venv"
