"""freewheel pins what uv pins, on the real default index, at the same moment.

Deselected by default (``-m network`` runs them): they need the network and
uv, which the ``network`` extra installs (``pip install -e ".[test,network]"``). Both tools resolve the same sets from ``bench/sets`` for the same target
with the same ``--exclude-newer`` cut-off, so the comparison does not depend
on uploads happening between the two runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

SETS = Path(__file__).parents[2] / "bench" / "sets"
CUTOFF = "2026-11-01T00:00:00Z"
TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"]


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", " ", "-")):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.split()[0]
    return pins


def _compile(command: list[str], env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    return _pins(result.stdout)


@pytest.mark.parametrize("name", ["small", "large"])
def test_same_pins_as_uv(name: str, tmp_path: Path) -> None:
    # The `network` extra installs it: without it this test cannot compare.
    import uv
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "HOME": str(tmp_path)}
    source = str(SETS / f"{name}.in")
    common = [source, *TARGET, "--exclude-newer", CUTOFF, "--no-header", "--no-annotate"]
    ours = _compile([sys.executable, "-m", "freewheel", "pip", "compile", *common], env)
    theirs = _compile([uv.find_uv_bin(), "pip", "compile", "--no-config", *common], env)
    assert ours == theirs
    if name == "large":
        assert len(ours) >= 100
