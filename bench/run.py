"""Compare freewheel's compile with its peers' on the same work, in one run.

    python bench/run.py [--runs 3] [--sets small,large] [--sources default,local,local-meta]
                        [--tools freewheel,uv,pip-compile,pdm,poetry] [--latency 0.03]

Peers are installed into a throwaway virtual environment (``--venv``,
reused between runs). Each tool resolves each set cold (an empty cache) and
warm (the cache the cold run left), ``--runs`` times; the table gives the
median wall time of each and its ratio to freewheel's (above 1.0: freewheel
is faster). A tool that cannot resolve a set is shown as ``failed`` (its
error goes to stderr).

Sources:

``default``
    ``bench/sets/<set>.in`` from pip's default index (or ``--index-url``).
``local``
    A synthetic registry (see ``synthetic.py``: 12 projects for ``small``,
    120 for ``large``) served on 127.0.0.1 with ``--latency`` seconds added
    to every response and no PEP 658 metadata, so tools must read wheels.
``local-meta``
    The same, with PEP 658 metadata files.

freewheel and uv resolve for CPython 3.11 on Linux; pip-compile for the
peers' interpreter (CPython 3.11 here); pdm and poetry lock a temporary
project that requires Python ``==3.11.*`` (poetry's lock is universal
across platforms, pdm's is for Linux).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import harness
import synthetic

from freewheel.config.pip import pip_default_index_url

TARGET = ["--python-version", "3.11", "--python-platform", "linux"]
SEED = 20240611
PROJECT_LOCKS = ("pdm.lock", "poetry.lock")


@dataclasses.dataclass(frozen=True)
class Job:
    """One resolution: a set of requirements against an index.

    ``project`` is a directory for tools that lock a project; ``cache`` and
    ``home`` start empty for a cold run and are kept for the warm one.
    """

    requirements: Path
    index_url: str
    cache: Path
    home: Path
    project: Path


@dataclasses.dataclass(frozen=True)
class Tool:
    """How to run one tool on a :class:`Job`.

    ``env`` gives the variables that point the tool at the job's cache;
    ``pyproject`` the project file it locks, for tools that lock projects.
    """

    command: Callable[[Job], list[str]]
    env: Callable[[Job], dict[str, str]] = lambda job: {}
    pyproject: Callable[[Job], str] | None = None


def _dependencies(job: Job) -> str:
    return json.dumps(harness.requirement_lines(job.requirements))


def _pdm_project(job: Job) -> str:
    # A source named "pypi" replaces pdm's default index.
    return (
        '[project]\nname = "bench"\nversion = "0"\nrequires-python = "==3.11.*"\n'
        f"dependencies = {_dependencies(job)}\n\n"
        "[tool.pdm]\ndistribution = false\n\n"
        f'[[tool.pdm.source]]\nname = "pypi"\nurl = "{job.index_url}"\n'
    )


def _poetry_project(job: Job) -> str:
    # A primary source turns poetry's implicit default index off.
    return (
        '[project]\nname = "bench"\nversion = "0"\nrequires-python = "==3.11.*"\n'
        f"dependencies = {_dependencies(job)}\n\n"
        "[tool.poetry]\npackage-mode = false\n\n"
        f'[[tool.poetry.source]]\nname = "bench"\nurl = "{job.index_url}"\npriority = "primary"\n'
    )


def tools(bin_dir: Path) -> dict[str, Tool]:
    return {
        "freewheel": Tool(lambda job: [
            *harness.FREEWHEEL, "pip", "compile", "--no-config", str(job.requirements), *TARGET,
            "--index-url", job.index_url, "--cache-dir", str(job.cache), "-q",
        ]),
        "uv": Tool(lambda job: [
            str(bin_dir / "uv"), "pip", "compile", "--no-config", str(job.requirements), *TARGET,
            "--index-url", job.index_url, "--cache-dir", str(job.cache), "-q",
        ]),
        "pip-compile": Tool(lambda job: [
            str(bin_dir / "pip-compile"), str(job.requirements), "--index-url", job.index_url,
            "--cache-dir", str(job.cache), "-q", "--output-file", str(job.project / "out.txt"),
        ]),
        "pdm": Tool(
            lambda job: [
                str(bin_dir / "pdm"), "lock", "-q", "-p", str(job.project),
                "--python", "==3.11.*", "--platform", "linux",
            ],
            # An interpreter given up front keeps pdm from creating a venv.
            env=lambda job: {"PDM_CACHE_DIR": str(job.cache), "PDM_PYTHON": str(bin_dir / "python")},
            pyproject=_pdm_project,
        ),
        "poetry": Tool(
            lambda job: [
                str(bin_dir / "poetry"), "lock", "-q", "--no-interaction",
                "--directory", str(job.project),
            ],
            env=lambda job: {"POETRY_CACHE_DIR": str(job.cache)},
            pyproject=_poetry_project,
        ),
    }


def run_once(label: str, tool: Tool, job: Job, timeout: float) -> float | None:
    """Time *tool* on *job*; a project tool gets a fresh project with no lock file."""
    if tool.pyproject is not None:
        for lock in PROJECT_LOCKS:
            (job.project / lock).unlink(missing_ok=True)
        (job.project / "pyproject.toml").write_text(tool.pyproject(job))
    env = harness.isolated_env(job.home, **tool.env(job))
    return harness.timed(label, tool.command(job), env, cwd=job.project, timeout=timeout)


@contextmanager
def local_sources(
    sets: list[str], sources: list[str], latency: float, work: Path
) -> Iterator[dict[tuple[str, str], tuple[Path, str]]]:
    """Serve the synthetic registries: ``(source, set) -> (requirements, index URL)``."""
    with ExitStack() as stack:
        served = {}
        for set_name in sets:
            registry = synthetic.plan_registry(synthetic.SHAPES[set_name], SEED, set_name)
            dists = synthetic.build_registry(registry, work / set_name / "dists")
            requirements = work / set_name / f"{set_name}.in"
            requirements.write_text(registry.requirements_in())
            for source in sources:
                if source in ("local", "local-meta"):
                    server = stack.enter_context(
                        synthetic.serve(dists, latency=latency, metadata=source == "local-meta")
                    )
                    served[source, set_name] = (requirements, server.url)
        yield served


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sets", default="small,large")
    parser.add_argument("--sources", default="default,local,local-meta")
    parser.add_argument("--tools", default="freewheel,uv,pip-compile,pdm,poetry")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per local response")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run fails")
    parser.add_argument("--venv", type=Path, default=harness.DEFAULT_VENV)
    parser.add_argument("--index-url", help="the index of the default source (default: pip's)")
    args = parser.parse_args()

    names = args.tools.split(",")
    sets = args.sets.split(",")
    sources = args.sources.split(",")
    table = tools(harness.peer_venv(args.venv, names))
    default_url = args.index_url or pip_default_index_url()

    rows = []
    with tempfile.TemporaryDirectory(prefix="freewheel-bench-") as tmp, local_sources(
        sets, sources, args.latency, Path(tmp)
    ) as served:
        for source in sources:
            for set_name in sets:
                requirements, index_url = served.get(
                    (source, set_name), (harness.SETS / f"{set_name}.in", default_url)
                )
                base = None
                for name in names:
                    cold, warm = [], []
                    for n in range(args.runs):
                        scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp))
                        job = Job(requirements, index_url, *(scratch / d for d in ("cache", "home", "project")))
                        for directory in (job.cache, job.home, job.project):
                            directory.mkdir()
                        label = f"{source}/{set_name}/{name} run {n + 1}"
                        cold.append(run_once(f"{label} cold", table[name], job, args.timeout))
                        warm.append(run_once(f"{label} warm", table[name], job, args.timeout))
                        shutil.rmtree(scratch, ignore_errors=True)
                    medians = harness.median(cold), harness.median(warm)
                    if name == "freewheel":
                        base = medians
                    base_cold, base_warm = base or (None, None)
                    row = [
                        source, set_name, name,
                        harness.seconds(medians[0]), harness.ratio(medians[0], base_cold),
                        harness.seconds(medians[1]), harness.ratio(medians[1], base_warm),
                    ]
                    print(" ".join(row), file=sys.stderr, flush=True)
                    rows.append(row)

    print(f"compile, median of {args.runs} runs; local latency {args.latency:.3f} s per response")
    headers = ["source", "set", "tool", "cold s", "cold ratio", "warm s", "warm ratio"]
    print(harness.table(headers, rows))


if __name__ == "__main__":
    main()
