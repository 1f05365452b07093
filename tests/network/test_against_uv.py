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
# A later snapshot for the airflow set's equality (see that test).
AIRFLOW_CUTOFF = "2026-12-01T00:00:00Z"
# 3.11.0: uv reads `--python-version 3.11` as that release, freewheel as any
# 3.11 release (README, "Where freewheel deliberately differs from uv").
TARGET = ["--python-version", "3.11.0", "--python-platform", "x86_64-manylinux_2_28"]


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", " ", "-")):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.split()[0]
    return pins


def _environment(home: Path) -> dict[str, str]:
    """This process's environment without any tool's index settings: the
    suite points pip's at a closed port, and the machine may have its own."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "FREEWHEEL_"))}
    return {**kept, "PIP_CONFIG_FILE": os.devnull, "HOME": str(home), "UV_PYTHON_DOWNLOADS": "never"}


def _compile(command: list[str], env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1500)
    assert result.returncode == 0, result.stderr
    return _pins(result.stdout)


@pytest.mark.parametrize("name", ["small", "large"])
def test_same_pins_as_uv(name: str, tmp_path: Path) -> None:
    # The `network` extra installs it: without it this test cannot compare.
    import uv
    env = _environment(tmp_path)
    source = str(SETS / f"{name}.in")
    common = [source, *TARGET, "--exclude-newer", CUTOFF, "--no-header", "--no-annotate"]
    ours = _compile([sys.executable, "-m", "freewheel", "pip", "compile", *common], env)
    theirs = _compile([uv.find_uv_bin(), "pip", "compile", "--no-config", *common], env)
    assert ours == theirs
    if name == "large":
        assert len(ours) >= 100


@pytest.mark.timeout(1800)
def test_airflow_same_pins_as_uv(tmp_path: Path) -> None:
    # uv's airflow set: 700 pins, reached through many conflicts, so the
    # two tools agree only if they decide packages in the same order
    # (README, "Where freewheel deliberately differs from uv"). At CUTOFF
    # uv's conflict tiers, which freewheel does not have, make 2 pins differ;
    # the next test covers that snapshot.
    import uv
    env = _environment(tmp_path)
    common = [str(SETS / "airflow.in"), *TARGET, "--exclude-newer", AIRFLOW_CUTOFF, "--no-header", "--no-annotate"]
    ours = _compile([sys.executable, "-m", "freewheel", "pip", "compile", *common], env)
    theirs = _compile([uv.find_uv_bin(), "pip", "compile", "--no-config", *common], env)
    assert len(ours) >= 500
    assert ours == theirs


@pytest.mark.timeout(1800)
def test_airflow_pins_are_a_solution_uv_keeps_unchanged(tmp_path: Path) -> None:
    # Where the two orders of decision part (see above), both sets are
    # valid: given freewheel's pins as constraints, uv pins exactly them.
    import uv
    env = _environment(tmp_path)
    common = [str(SETS / "airflow.in"), *TARGET, "--exclude-newer", CUTOFF, "--no-header", "--no-annotate"]
    ours = _compile([sys.executable, "-m", "freewheel", "pip", "compile", *common], env)
    assert len(ours) >= 500
    constraints = tmp_path / "freewheel-pins.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in ours.items()))
    theirs = _compile([uv.find_uv_bin(), "pip", "compile", "--no-config", *common, "-c", str(constraints)], env)
    assert theirs == ours
