"""How each tool compiles a set of requirements, and one run of it.

Phases share a cache: ``cold`` starts from an empty one, ``warm`` reuses it
(online: pages are revalidated as each tool's cache rules say), ``offline``
reuses it with ``--offline`` (freewheel and uv only). Every phase writes its
own output file, so that no tool starts from the pins of an earlier phase.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

import harness
from harness import Job

PLATFORM = "linux"
# Tools that lock a project file rather than compile a requirements file.
PROJECT_LOCKS = {"pdm": "pdm.lock", "poetry": "poetry.lock"}



@dataclasses.dataclass(frozen=True)
class Tool:
    """How to run one tool on a :class:`Job` for a phase.

    ``env`` gives the variables that point the tool at the job's cache;
    ``pyproject`` the project file it locks, for tools that lock projects;
    ``phases`` the phases it can run; ``pythons`` the target Pythons it can
    resolve for (``None``: any, through ``--python-version``).
    """

    command: Callable[[Job, str], list[str]]
    env: Callable[[Job], dict[str, str]] = lambda job: {}
    pyproject: Callable[[Job], str] | None = None
    phases: tuple[str, ...] = ("cold", "warm")
    pythons: tuple[str, ...] | None = None


def _dependencies(job: Job) -> str:
    return json.dumps(harness.requirement_lines(job.requirements))


def _pdm_project(job: Job) -> str:
    # A source named "pypi" replaces pdm's default index.
    return (
        f'[project]\nname = "bench"\nversion = "0"\nrequires-python = "=={job.python}.*"\n'
        f"dependencies = {_dependencies(job)}\n\n"
        "[tool.pdm]\ndistribution = false\n\n"
        f'[[tool.pdm.source]]\nname = "pypi"\nurl = "{job.index_url}"\n'
    )


def _poetry_project(job: Job) -> str:
    # A primary source turns poetry's implicit default index off.
    return (
        f'[project]\nname = "bench"\nversion = "0"\nrequires-python = "=={job.python}.*"\n'
        f"dependencies = {_dependencies(job)}\n\n"
        "[tool.poetry]\npackage-mode = false\n\n"
        f'[[tool.poetry.source]]\nname = "bench"\nurl = "{job.index_url}"\npriority = "primary"\n'
    )


def _uv_like(program: list[str]) -> Callable[[Job, str], list[str]]:
    """The command line freewheel and uv share: uv's."""
    def command(job: Job, phase: str) -> list[str]:
        return [
            *program, "pip", "compile", "--no-config", str(job.requirements),
            "--python-version", job.python,
            *(["--universal"] if job.universal else ["--python-platform", PLATFORM]),
            "--index-url", job.index_url, "--cache-dir", str(job.cache),
            "-o", str(job.output(phase)), *(["--offline"] if phase == "offline" else []),
        ]
    return command


def tools(bin_dir: Path) -> dict[str, Tool]:
    """Every tool that can compile; the peers run from *bin_dir*."""
    # The peers' interpreter is the only Python pip-compile, pdm and poetry
    # can resolve for.
    peers_python = (f"{sys.version_info[0]}.{sys.version_info[1]}",)
    return {
        "freewheel": Tool(_uv_like(harness.FREEWHEEL), phases=("cold", "warm", "offline")),
        "uv": Tool(_uv_like([str(bin_dir / "uv")]), phases=("cold", "warm", "offline")),
        "pip-compile": Tool(
            lambda job, phase: [
                str(bin_dir / "pip-compile"), "--no-config", str(job.requirements),
                "--index-url", job.index_url, "--cache-dir", str(job.cache),
                "--output-file", str(job.output(phase)),
            ],
            pythons=peers_python,
        ),
        "pdm": Tool(
            lambda job, phase: [
                str(bin_dir / "pdm"), "lock", "-p", str(job.project),
                "--python", f"=={job.python}.*", "--platform", PLATFORM,
            ],
            # An interpreter given up front keeps pdm from creating a venv.
            env=lambda job: {"PDM_CACHE_DIR": str(job.cache), "PDM_PYTHON": str(bin_dir / "python")},
            pyproject=_pdm_project,
            pythons=peers_python,
        ),
        # poetry's lock is universal (every platform), so it does more work
        # than the others and may pin more.
        "poetry": Tool(
            lambda job, phase: [
                str(bin_dir / "poetry"), "lock", "--no-interaction", "--directory", str(job.project),
            ],
            env=lambda job: {"POETRY_CACHE_DIR": str(job.cache)},
            pyproject=_poetry_project,
            pythons=peers_python,
        ),
    }


def supports(tool: Tool, python: str, phase: str) -> bool:
    """Whether *tool* can run *phase* of a resolution for *python*."""
    return phase in tool.phases and (tool.pythons is None or python in tool.pythons)


def run(
    name: str, tool: Tool, job: Job, phase: str, timeout: float, sample_tree: bool
) -> tuple[list[str], harness.Sample, dict[str, str]]:
    """One phase of *tool* on *job*: the command, how it went, and the pins it wrote.

    A project tool gets its project file written afresh, without a lock.
    A run that exits 0 without writing pins is a failure.
    """
    for directory in (job.cache, job.home, job.project):
        directory.mkdir(parents=True, exist_ok=True)
    if tool.pyproject is not None:
        for lock in PROJECT_LOCKS.values():
            (job.project / lock).unlink(missing_ok=True)
        (job.project / "pyproject.toml").write_text(tool.pyproject(job))
    command = tool.command(job, phase)
    env = harness.isolated_env(job.home, **tool.env(job))
    sample = harness.measure(
        command, env, cwd=job.project, timeout=timeout, log=job.work / f"{name}-{phase}",
        sample_tree=sample_tree,
    )
    pins: dict[str, str] = {}
    if sample.ok:
        written = job.project / PROJECT_LOCKS[name] if name in PROJECT_LOCKS else job.output(phase)
        if written.exists():
            pins = harness.read_lock(written) if name in PROJECT_LOCKS else harness.read_pins(written)
        if not pins:
            sample = sample.failed(f"exit 0 but no pins in {written.name}")
    return command, sample, pins
