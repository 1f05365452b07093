"""How each tool installs a pinned file into a virtual environment, and one run of it.

Phases: ``cold`` installs into a new environment with an empty cache;
``warm`` into another new environment with the cache ``cold`` left;
``noop`` into that same environment again, where nothing is left to do.
Every environment is made the same way (``python -m venv --without-pip``
from the interpreter running the benchmark) and is not timed; the timed
command is the install alone. pip installs with ``--no-deps`` (the file is
complete) and compiles bytecode; freewheel and uv do not by default.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import harness
from harness import Job


Tool = Callable[[Job], list[str]]


def tools(bin_dir: Path) -> dict[str, Tool]:
    """Every tool that can install a pinned file; the peers run from *bin_dir*."""
    def uv_like(program: list[str]) -> Tool:
        return lambda job: [
            *program, "pip", "sync", "--no-config", "--cache-dir", str(job.cache),
            "--index-url", job.index_url, "-p", str(job.venv), str(job.requirements),
        ]

    return {
        "freewheel": uv_like(harness.FREEWHEEL),
        "uv": uv_like([str(bin_dir / "uv")]),
        # The peers' pip, current, rather than one seeded into the environment.
        "pip": lambda job: [
            str(bin_dir / "python"), "-m", "pip", "--python", str(job.venv), "install",
            "--no-deps", "--cache-dir", str(job.cache), "--index-url", job.index_url,
            "-r", str(job.requirements),
        ],
    }


def supports(tool: Tool, python: str, phase: str) -> bool:
    """Every tool installs in every phase; the environment's Python is the benchmark's."""
    return True


def run(
    name: str, tool: Tool, job: Job, phase: str, timeout: float, sample_tree: bool
) -> tuple[list[str], harness.Sample, dict[str, str]]:
    """One phase of *tool* on *job*: the command, how it went, and what is installed after.

    A run that exits 0 but leaves an environment other than the pins is a failure.
    """
    job.home.mkdir(parents=True, exist_ok=True)
    if phase != "noop":
        shutil.rmtree(job.venv, ignore_errors=True)
        subprocess.run([harness.BASE_PYTHON, "-m", "venv", "--without-pip", str(job.venv)], check=True)
    command = tool(job)
    sample = harness.measure(
        command, harness.isolated_env(job.home), cwd=job.work, timeout=timeout,
        log=job.work / f"{name}-{phase}", sample_tree=sample_tree,
    )
    pins = harness.installed(job.venv)
    if sample.ok and (wrong := harness.pin_differences(harness.read_pins(job.requirements), pins)):
        sample = sample.failed("installed other than the pins: " + "; ".join(wrong[:10]))
    return command, sample, pins
