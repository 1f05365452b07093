"""Names and requirements on the command line that cannot be what they claim."""

from __future__ import annotations

import venv
from pathlib import Path

import pytest
from support.cli import freewheel


@pytest.mark.parametrize(
    "args",
    [
        ["pip", "compile", "-", "-P", ">>>"],
        ["pip", "compile", "-", "--upgrade-package", "six>=1"],
        ["pip", "compile", "-", "--refresh-package=bad-"],
        ["pip", "install", "six", "--reinstall-package", "!"],
    ],
)
def test_an_option_naming_no_possible_package_is_refused(args: list[str]) -> None:
    result = freewheel(*args, "--offline", "--no-config", input="six\n")
    assert result.returncode == 2
    assert "is not a valid package name" in result.stderr
    assert "Traceback" not in result.stderr


def test_uninstalling_an_invalid_requirement_is_refused(tmp_path: Path) -> None:
    venv.create(tmp_path / "env", with_pip=False, symlinks=True)
    python = tmp_path / "env" / "bin" / "python"
    result = freewheel("pip", "uninstall", "--python", python, "!!!>=<")
    assert result.returncode == 2
    assert "Couldn't parse requirement" in result.stderr and "`!!!>=<`" in result.stderr
    assert "Traceback" not in result.stderr
