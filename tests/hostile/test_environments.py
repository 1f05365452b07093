"""Damaged and hostile installed distributions: every command that reads an
environment (list, show, check, uninstall) finishes, with no traceback and no "unexpected failure", and a
refused uninstall changes nothing.

Commands run as shipped, in a subprocess with a deadline: a named pipe read
as a file would otherwise wait forever.
"""

from __future__ import annotations

import os
import subprocess
import venv
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import FREEWHEEL


def _metadata(dist_info: Path, version: str = "1.0") -> None:
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: x\nVersion: {version}\n")


def huge_version(dist_info: Path) -> None:
    _metadata(dist_info, "9" * 5000)


def record_not_utf8(dist_info: Path) -> None:
    _metadata(dist_info)
    (dist_info / "RECORD").write_bytes(b"\xff\xfe,,\n")


def record_a_pipe(dist_info: Path) -> None:
    _metadata(dist_info)
    os.mkfifo(dist_info / "RECORD")


def metadata_a_pipe(dist_info: Path) -> None:
    dist_info.mkdir()
    os.mkfifo(dist_info / "METADATA")


def installer_and_direct_url_pipes(dist_info: Path) -> None:
    _metadata(dist_info)
    (dist_info / "RECORD").write_text("x.py,,\n")
    os.mkfifo(dist_info / "INSTALLER")
    os.mkfifo(dist_info / "direct_url.json")


def another_record_a_pipe(dist_info: Path) -> None:
    _metadata(dist_info)
    (dist_info / "RECORD").write_text("x.py,,\n")
    other = dist_info.with_name("y-1.0.dist-info")
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: y\nVersion: 1.0\n")
    os.mkfifo(other / "RECORD")


DAMAGE: dict[str, Callable[[Path], None]] = {
    f.__name__: f
    for f in (huge_version, record_not_utf8, record_a_pipe, metadata_a_pipe,
              installer_and_direct_url_pipes, another_record_a_pipe)
}
# freeze and list --format json read what list reads.
COMMANDS = [["list"], ["show", "x", "--files"], ["check"], ["uninstall", "x"]]


@pytest.mark.parametrize("damage", DAMAGE)
def test_every_command_finishes_cleanly(damage: str, tmp_path: Path) -> None:
    env = tmp_path / "env"
    venv.create(env, with_pip=False, symlinks=True)
    site = next(env.glob("lib/python*/site-packages"))
    DAMAGE[damage](site / "x-1.0.dist-info")
    before = sorted(site.rglob("*"))
    for command in COMMANDS:
        result = subprocess.run(
            [str(FREEWHEEL), "pip", *command, "--python", str(env / "bin" / "python")],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode in (0, 1, 2), result.stderr
        assert "Traceback" not in result.stderr and "Unexpected failure" not in result.stderr, result.stderr
        if command[0] == "uninstall" and result.returncode == 2:
            assert sorted(site.rglob("*")) == before
