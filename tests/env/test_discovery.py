"""Which environment a pip command acts on: uv's order, and PEP 668."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from env.helpers import new_venv
from freewheel.errors import UsageError
from freewheel.python.environments import find_environment
from freewheel.python.interpreters import PROBE_SCRIPT, probe
from freewheel.python.venv import base_executable


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """Two loose environments and a project with a .venv and a subdirectory."""
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    cache = tmp_path / "cache"
    project = tmp_path / "project"
    (project / "src" / "pkg").mkdir(parents=True)
    envs = {
        "a": new_venv(tmp_path / "a", cache).root,
        "b": new_venv(tmp_path / "b", cache).root,
        "project": new_venv(project / ".venv", cache).root,
    }
    return envs, project / "src" / "pkg", tmp_path


def _find(cwd: Path, *, python: str | None = None, system: bool = False, mutable: bool = True):
    return find_environment(
        python=python, system=system, cwd=cwd, break_system_packages=False, mutable=mutable
    )


def test_explicit_python_wins_over_active_and_project_environments(layout, monkeypatch):
    envs, cwd, _ = layout
    monkeypatch.setenv("VIRTUAL_ENV", str(envs["b"]))
    assert _find(cwd, python=str(envs["a"])).root == envs["a"]
    assert _find(cwd, python=str(envs["a"] / "bin" / "python")).root == envs["a"]


def test_active_environment_wins_over_project_environment(layout, monkeypatch):
    envs, cwd, _ = layout
    monkeypatch.setenv("VIRTUAL_ENV", str(envs["b"]))
    environment = _find(cwd)
    assert environment.root == envs["b"]
    assert environment.site_packages == (next(envs["b"].glob("lib/python*/site-packages")),)
    assert environment.scripts == envs["b"] / "bin"


def test_dot_venv_in_a_parent_directory_is_found(layout):
    envs, cwd, _ = layout
    assert _find(cwd).root == envs["project"]


def test_without_an_environment_changing_anything_needs_system(layout, monkeypatch):
    _, _, tmp_path = layout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(UsageError) as raised:
        _find(elsewhere)
    assert "No virtual environment found" in raised.value.message
    assert "freewheel venv" in raised.value.hint and "--system" in raised.value.hint
    # Reading (pip list, freeze...) falls back to the system interpreter, as in uv.
    assert not _find(elsewhere, mutable=False).interpreter.is_virtualenv


def test_system_skips_environments_on_path(layout, monkeypatch):
    envs, cwd, _ = layout
    base = base_executable(probe(sys.executable))
    monkeypatch.setenv("PATH", os.pathsep.join([str(envs["a"] / "bin"), str(base.parent)]))
    environment = _find(cwd, system=True)
    assert not environment.interpreter.is_virtualenv
    assert environment.root != envs["project"]


def test_active_environment_that_does_not_exist_is_an_error(layout, monkeypatch):
    _, cwd, tmp_path = layout
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "gone"))
    with pytest.raises(UsageError, match="VIRTUAL_ENV is set to"):
        _find(cwd)


@pytest.fixture
def managed_python(tmp_path):
    """An interpreter that says it is a system Python with a PEP 668 marker.

    A shell script answers the probe with the running interpreter's facts,
    moved to a prefix of our own, so no real installation is touched.
    """
    prefix = tmp_path / "usr"
    stdlib = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    stdlib.mkdir(parents=True)
    (stdlib / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=To install Python packages system-wide, use apt.\n"
        " See /usr/share/doc/python3/README.venv for more information.\n"
    )
    facts = json.loads(
        subprocess.run([sys.executable, "-I", "-c", PROBE_SCRIPT], capture_output=True, check=True).stdout
    )
    script = prefix / "bin" / "python3"
    facts.update(
        executable=str(script),
        sys_prefix=str(prefix),
        base_prefix=str(prefix),
        is_virtualenv=False,
        externally_managed=True,
        paths={key: str(prefix / "lib" / key) for key in facts["paths"]},
    )
    (prefix / "facts.json").write_text(json.dumps(facts))
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\ncat '{prefix / 'facts.json'}'\n")
    script.chmod(0o755)
    return script


def test_externally_managed_interpreter_is_refused_with_its_own_words(managed_python, tmp_path):
    with pytest.raises(UsageError) as raised:
        find_environment(python=str(managed_python), system=False, cwd=tmp_path, break_system_packages=False)
    message = raised.value.message
    assert "is externally managed" in message
    assert "To install Python packages system-wide, use apt." in message
    assert "README.venv" in message
    assert "--break-system-packages" in raised.value.hint


def test_break_system_packages_allows_an_externally_managed_interpreter(managed_python, tmp_path):
    environment = find_environment(
        python=str(managed_python), system=False, cwd=tmp_path, break_system_packages=True
    )
    assert environment.root == managed_python.parent.parent
    # Only changing it is guarded; reading needs no flag.
    reading = find_environment(
        python=str(managed_python), system=False, cwd=tmp_path, break_system_packages=False, mutable=False
    )
    assert reading.root == environment.root
