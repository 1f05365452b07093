"""How each tool fills a wheelhouse for several targets, and one run of it.

The work of issue 12: every wheel a set needs for each Python version ×
platform in :data:`PYTHONS` × :data:`PLATFORMS`. freewheel does it in one
``pip download`` with repeated ``--python-version``/``--python-platform``;
pip needs one ``pip download`` per target, run one after the other, as
users script it. pip is given, per platform, every platform tag
freewheel's platform name accepts (pip takes a ``manylinux_2_28`` tag
literally), and ``--only-binary :all:``, which pip requires for a foreign
target. Phases: ``cold`` (empty cache, empty directory) and ``warm`` (the
same directory again: nothing is left to download). What a run leaves in the
directory is read back as its "pins" (file name → size), so the case also
reports whether the tools downloaded the same files.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import harness
from harness import Job

from freewheel.python.platforms import parse_platform

PYTHONS = ("3.9", "3.11", "3.12")
PLATFORMS = ("x86_64-manylinux_2_28", "windows", "aarch64-apple-darwin")

Tool = Callable[[Job], list[str]]


def _dest(job: Job) -> Path:
    return job.work / "wheelhouse"


def _freewheel(job: Job) -> list[str]:
    targets = [arg for p in PYTHONS for arg in ("--python-version", p)]
    targets += [arg for p in PLATFORMS for arg in ("--python-platform", p)]
    return [
        *harness.FREEWHEEL, "pip", "download", "--no-config", "--no-progress", "--cache-dir", str(job.cache),
        "--index-url", job.index_url, "-d", str(_dest(job)), "--only-binary", ":all:",
        "-r", str(job.requirements), *targets,
    ]


def tools(bin_dir: Path) -> dict[str, Tool]:
    """Every tool that can fill a wheelhouse; the peers run from *bin_dir*."""

    def pip_loop(job: Job) -> list[str]:
        calls = []
        for python in PYTHONS:
            for name in PLATFORMS:
                tags = [arg for tag in parse_platform(name).platform_tags() for arg in ("--platform", tag)]
                calls.append([
                    str(bin_dir / "python"), "-m", "pip", "download", "-q", "--disable-pip-version-check",
                    "--cache-dir", str(job.cache), "--index-url", job.index_url, "-d", str(_dest(job)),
                    "--only-binary", ":all:", "--python-version", python, *tags, "-r", str(job.requirements),
                ])
        return ["bash", "-c", " && ".join(shlex.join(call) for call in calls)]

    return {"freewheel": _freewheel, "pip": pip_loop}


def supports(tool: Tool, python: str, phase: str) -> bool:
    """Every tool runs every phase."""
    return True


def run(
    name: str, tool: Tool, job: Job, phase: str, timeout: float, sample_tree: bool
) -> tuple[list[str], harness.Sample, dict[str, str]]:
    """One phase of *tool* on *job*: the command, how it went, and the files it left."""
    job.home.mkdir(parents=True, exist_ok=True)
    command = tool(job)
    sample = harness.measure(
        command, harness.isolated_env(job.home), cwd=job.work, timeout=timeout,
        log=job.work / f"{name}-{phase}", sample_tree=sample_tree,
    )
    files = {p.name: str(p.stat().st_size) for p in _dest(job).glob("*") if p.name != "index.html"}
    return command, sample, files
