"""Probing real interpreters, caching the answers, and finding interpreters."""

from __future__ import annotations

import ast
import hashlib
import platform
import sys
from pathlib import Path

import msgspec
import platformdirs
import pytest
from packaging.tags import sys_tags

from freewheel.errors import UsageError
from freewheel.python.interpreters import (
    PROBE_SCRIPT,
    current_interpreter,
    find_python,
    probe,
)

# The running interpreter's own installation, outside any virtual environment.
BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Discovery reads these; the shared conftest already hides pip's settings."""
    for name in ("VIRTUAL_ENV", "PYENV_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def write_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def wrapper(path: Path, target: Path | str) -> Path:
    """An executable at ``path`` that runs ``target`` with the same arguments."""
    return write_script(path, f'exec "{target}" "$@"')


def test_probe_base_interpreter():
    info = probe(BASE_PYTHON, cache_dir=None)
    minor = sys.version_info[1]
    assert info.version == tuple(sys.version_info[:3])
    assert info.implementation == "cpython"
    assert info.markers["python_version"] == f"3.{minor}"
    assert info.markers["python_full_version"] == platform.python_version()
    assert info.markers["implementation_name"] == "cpython"
    assert info.tags[0].startswith(f"cp3{minor}-cp3{minor}-")
    best_platform = info.tags[0].split("-")[2]
    assert f"cp3{minor}-abi3-{best_platform}" in info.tags
    assert f"cp32-abi3-{best_platform}" in info.tags
    assert info.tags[-1] == "py30-none-any"
    assert not info.is_virtualenv
    assert info.sys_prefix == info.base_prefix == sys.base_prefix
    assert set(info.paths) == {"purelib", "platlib", "scripts", "data", "include"}
    assert info.paths["purelib"].endswith(f"python3.{minor}/site-packages")


def test_probe_script_is_python_3_8_syntax():
    # Target environments may be any CPython from 3.8 on; the script runs
    # inside them.
    ast.parse(PROBE_SCRIPT, feature_version=(3, 8))


def test_probe_of_a_virtualenv_agrees_with_packaging(tmp_path):
    info = probe(sys.executable, cache_dir=tmp_path)
    assert info.is_virtualenv == (sys.prefix != sys.base_prefix)
    assert info.sys_prefix == sys.prefix
    assert not info.externally_managed or not info.is_virtualenv
    # Same set as packaging computes for the running interpreter.
    assert set(info.tags) == {str(tag) for tag in sys_tags()}
    assert current_interpreter() == info


def linked(path: Path, target: Path | str) -> Path:
    """A symlink at ``path`` to ``target``: an interpreter that runs as ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def test_second_probe_is_served_from_cache(tmp_path):
    executable = linked(tmp_path / "bin" / "python", BASE_PYTHON)
    cache = tmp_path / "cache"
    first = probe(executable, cache_dir=cache)
    (record,) = cache.rglob("*.json")
    cached = msgspec.json.decode(record.read_bytes())
    # What the record says is what the next probe answers...
    cached["facts"]["sys_prefix"] = "/from/the/cache"
    record.write_bytes(msgspec.json.encode(cached))
    assert probe(executable, cache_dir=cache).sys_prefix == "/from/the/cache"
    # ...while the executable is the file it was made for: an interpreter
    # replaced since (another modification time) is probed again.
    cached["mtime_ns"] += 1
    record.write_bytes(msgspec.json.encode(cached))
    assert probe(executable, cache_dir=cache) == first


def test_wrapper_is_probed_on_every_run(tmp_path):
    """A pyenv shim runs the interpreter its settings name at each run, and
    stays the same file when they change: what it ran last time is no
    answer for this time."""
    choice = tmp_path / "choice"
    shim = write_script(tmp_path / "shims" / "python", f'exec "$(cat "{choice}")" "$@"')
    cache = tmp_path / "cache"
    for chosen in (linked(tmp_path / "a" / "python", BASE_PYTHON), linked(tmp_path / "b" / "python", BASE_PYTHON)):
        choice.write_text(str(chosen))
        assert probe(shim, cache_dir=cache).executable == str(chosen)
    assert not list(cache.rglob("*.json"))
    # Nor is a description kept by an earlier freewheel, which cached
    # wrappers: here a plain interpreter's record, made over into the shim's.
    plain = linked(tmp_path / "c" / "python", BASE_PYTHON)
    probe(plain, cache_dir=cache)
    (record,) = cache.rglob("*.json")
    kept = msgspec.json.decode(record.read_bytes())
    status = shim.stat()
    kept.update(path=str(shim), mtime_ns=status.st_mtime_ns, size=status.st_size)
    record.unlink()
    (record.parent / f"{hashlib.sha256(str(shim).encode()).hexdigest()[:32]}.json").write_bytes(msgspec.json.encode(kept))
    assert probe(shim, cache_dir=cache).executable == str(chosen)


def test_damaged_cache_record_is_replaced(tmp_path):
    executable = linked(tmp_path / "python", BASE_PYTHON)
    cache = tmp_path / "cache"
    first = probe(executable, cache_dir=cache)
    (record,) = cache.rglob("*.json")
    good = record.read_bytes()
    record.write_text("{not json")
    assert probe(executable, cache_dir=cache) == first
    assert record.read_bytes() == good


def test_default_cache_lives_in_user_cache_dir(tmp_path):
    probe(linked(tmp_path / "python", BASE_PYTHON))
    cache = Path(platformdirs.user_cache_dir("freewheel")) / "interpreters"
    assert cache.is_relative_to(tmp_path)
    assert list(cache.rglob("*.json"))


def test_missing_interpreter(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        probe(tmp_path / "nope" / "python", cache_dir=tmp_path)


def test_file_that_cannot_run(tmp_path):
    text = tmp_path / "python"
    text.write_text("not a program")
    with pytest.raises(UsageError, match="Could not run .* as a Python interpreter"):
        probe(text, cache_dir=tmp_path)


def test_program_that_fails(tmp_path):
    failing = write_script(tmp_path / "python", 'echo "boom: no such module" >&2; exit 1')
    with pytest.raises(UsageError) as excinfo:
        probe(failing, cache_dir=tmp_path)
    assert "not a working Python interpreter" in excinfo.value.message
    assert "boom: no such module" in excinfo.value.message


def test_program_that_prints_something_else(tmp_path):
    chatty = write_script(tmp_path / "python", 'echo "hello"')
    with pytest.raises(UsageError, match="did not describe itself"):
        probe(chatty, cache_dir=tmp_path)


def test_python_older_than_3_8_is_refused(tmp_path):
    # The running interpreter, made to see itself as 3.7 when it runs the
    # probe (``python -I -c SCRIPT``).
    pretend = "import sys, platform; sys.version_info = (3, 7, 16); platform.python_version = lambda: '3.7.16'; exec(sys.argv[1])"
    old = write_script(tmp_path / "python", f'exec "{sys.executable}" -I -c "{pretend}" "$3"')
    with pytest.raises(UsageError, match=r"is Python 3\.7\.16; freewheel supports Python 3\.8"):
        probe(old, cache_dir=tmp_path)


# --- find_python -------------------------------------------------------------


def fake_python(path: Path) -> Path:
    return write_script(path, "exit 0")


def test_find_python_prefers_active_virtualenv(tmp_path, monkeypatch):
    venv_python = fake_python(tmp_path / "active" / "bin" / "python")
    fake_python(tmp_path / "project" / ".venv" / "bin" / "python")
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "active"))
    assert find_python(None, cwd=tmp_path / "project") == venv_python


def test_find_python_finds_dot_venv_in_a_parent(tmp_path, monkeypatch):
    project_python = fake_python(tmp_path / "project" / ".venv" / "bin" / "python")
    (tmp_path / "project" / "src" / "pkg").mkdir(parents=True)
    monkeypatch.setenv("PATH", "")
    assert find_python(None, cwd=tmp_path / "project" / "src" / "pkg") == project_python


def test_find_python_falls_back_to_path(tmp_path, monkeypatch):
    on_path = fake_python(tmp_path / "bin" / "python3")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_python(None, cwd=tmp_path) == on_path


def test_find_python_reports_everything_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(UsageError) as excinfo:
        find_python(None, cwd=tmp_path)
    message = excinfo.value.message
    assert "VIRTUAL_ENV (not set)" in message
    assert ".venv in" in message
    assert "python3 or python on PATH" in message


def test_find_python_version_on_path_then_pyenv(tmp_path, monkeypatch):
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.10.2" / "bin" / "python")
    newest = fake_python(root / "versions" / "3.10.12" / "bin" / "python")
    fake_python(root / "versions" / "3.10-dev" / "bin" / "python")
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_python("3.10", cwd=tmp_path) == newest
    on_path = fake_python(tmp_path / "bin" / "python3.10")
    assert find_python("3.10", cwd=tmp_path) == on_path
    with pytest.raises(UsageError, match=r"Python '3\.99'.*python3\.99 on PATH"):
        find_python("3.99", cwd=tmp_path)


def test_find_python_patch_version_must_match(tmp_path, monkeypatch):
    major, minor, patch = sys.version_info[:3]
    major_minor_patch = f"{major}.{minor}.{patch}"
    other_patch = f"{major}.{minor}.{patch + 1}"
    root = tmp_path / "pyenv"
    wrapper(root / "versions" / major_minor_patch / "bin" / "python", sys.executable)
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("PATH", "")
    found = find_python(major_minor_patch, cwd=tmp_path, cache_dir=tmp_path / "cache")
    assert found == root / "versions" / major_minor_patch / "bin" / "python"
    # Named as another release than it is: refused after probing.
    wrapper(root / "versions" / other_patch / "bin" / "python", sys.executable)
    with pytest.raises(UsageError, match="different patch version"):
        find_python(other_patch, cwd=tmp_path, cache_dir=tmp_path / "cache")


def test_find_python_paths_and_names(tmp_path, monkeypatch):
    direct = fake_python(tmp_path / "tools" / "py")
    assert find_python("tools/py", cwd=tmp_path) == direct
    in_env = fake_python(tmp_path / "env" / "bin" / "python")
    assert find_python(str(tmp_path / "env"), cwd=tmp_path) == in_env
    named = fake_python(tmp_path / "bin" / "pypy3")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_python("pypy3", cwd=tmp_path) == named
    with pytest.raises(UsageError, match="missing/python"):
        find_python("./missing/python", cwd=tmp_path)


def test_pyenv_shims_are_skipped_and_bare_directory_names_are_paths(tmp_path, monkeypatch):
    import os
    import sys

    from freewheel.errors import UsageError
    from freewheel.python.interpreters import find_python

    shims = tmp_path / "pyenv" / "shims"
    shims.mkdir(parents=True)
    shim = shims / "python3.99"
    shim.write_text("#!/bin/sh\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(UsageError, match=r"python3\.99 on PATH \(a pyenv shim, skipped\)"):
        find_python("3.99", cwd=tmp_path)

    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    assert find_python(".venv", cwd=tmp_path) == tmp_path / ".venv" / "bin" / "python"
