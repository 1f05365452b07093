"""The net under every command: a failure nobody foresaw is one line and exit 2.

The failure provoked here is real, not patched in: the lock that keeps two
installs apart lives in a ``freewheel-locks`` directory under the system's
temporary directory, and a file already holding that name is a fault of
the machine freewheel has no words for.
"""

from __future__ import annotations

import venv
from pathlib import Path

import pytest
from support.cli import freewheel


@pytest.fixture
def blocked(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    venv.create(tmp_path / "env", with_pip=False, symlinks=True)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    (temporary / "freewheel-locks").write_text("not a directory\n")
    return tmp_path / "env" / "bin" / "python", {"TMPDIR": str(temporary)}


def test_an_unexpected_failure_is_one_line_and_a_hint(blocked):
    python, env = blocked
    result = freewheel("pip", "uninstall", "--python", python, "anything", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: Unexpected failure (FileExistsError): [Errno 17] File exists: "
        f"'{env['TMPDIR']}/freewheel-locks'"
    ]
    assert "rerun with -v" in result.stderr


def test_with_verbose_the_traceback_is_shown(blocked):
    python, env = blocked
    result = freewheel("pip", "uninstall", "--python", python, "anything", "-v", env=env)
    assert result.returncode == 2
    assert result.stderr.count("Traceback (most recent call last):") == 1
    assert "error: Unexpected failure (FileExistsError)" in result.stderr
    assert "rerun with -v" not in result.stderr
