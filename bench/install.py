"""Compare freewheel's install with uv's and pip's: the same pins into a fresh venv.

    python bench/install.py [--runs 3] [--tools freewheel,uv,pip] [--index-url URL]
                            [--requirements bench/sets/install.txt]

Each tool creates a virtual environment from the same base interpreter and
installs ``bench/sets/install.txt`` (70 pinned packages, all wheels for
CPython 3.11 on Linux) into it from pip's default index: cold (an empty
cache) and warm (a new venv, the cache the cold run left), ``--runs``
times. The table gives median wall times, of the whole job and of the
install alone, and their ratio to freewheel's (above 1.0: freewheel is
faster).

freewheel: ``freewheel venv`` + ``freewheel pip sync``; uv: ``uv venv`` +
``uv pip sync``; pip: ``python -m venv --without-pip`` + the peers' pip
``--python VENV install --no-deps -r`` (pip compiles bytecode; the other
two do not by default).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import harness

from freewheel.config.pip import pip_default_index_url

BASE_PYTHON = sys._base_executable


@dataclasses.dataclass(frozen=True)
class Job:
    """One install: pinned *requirements* from *index_url* into *venv*."""

    requirements: Path
    index_url: str
    cache: Path
    home: Path
    venv: Path


@dataclasses.dataclass(frozen=True)
class Tool:
    """The two commands of one tool: create the venv, then install into it."""

    create: Callable[[Job], list[str]]
    install: Callable[[Job], list[str]]


def tools(bin_dir: Path) -> dict[str, Tool]:
    uv = str(bin_dir / "uv")
    return {
        "freewheel": Tool(
            lambda job: [
                *harness.FREEWHEEL, "venv", "--no-config", "-q", "--cache-dir", str(job.cache),
                "-p", BASE_PYTHON, str(job.venv),
            ],
            lambda job: [
                *harness.FREEWHEEL, "pip", "sync", "--no-config", "-q", "--cache-dir", str(job.cache),
                "--index-url", job.index_url, "-p", str(job.venv), str(job.requirements),
            ],
        ),
        "uv": Tool(
            lambda job: [
                uv, "venv", "--no-config", "-q", "--cache-dir", str(job.cache),
                "-p", BASE_PYTHON, str(job.venv),
            ],
            lambda job: [
                uv, "pip", "sync", "--no-config", "-q", "--cache-dir", str(job.cache),
                "--index-url", job.index_url, "-p", str(job.venv), str(job.requirements),
            ],
        ),
        # The peers' pip, current, rather than the one ensurepip would seed.
        "pip": Tool(
            lambda job: [BASE_PYTHON, "-m", "venv", "--without-pip", str(job.venv)],
            lambda job: [
                str(bin_dir / "python"), "-m", "pip", "--python", str(job.venv),
                "install", "-q", "--no-deps", "--cache-dir", str(job.cache),
                "--index-url", job.index_url, "-r", str(job.requirements),
            ],
        ),
    }


def run_once(label: str, tool: Tool, job: Job, timeout: float) -> tuple[float | None, float | None]:
    """Seconds to create a fresh venv and to install into it (``None``: failed)."""
    shutil.rmtree(job.venv, ignore_errors=True)
    env = harness.isolated_env(job.home)
    created = harness.timed(f"{label} venv", tool.create(job), env, timeout=timeout)
    if created is None:
        return None, None
    installed = harness.timed(f"{label} install", tool.install(job), env, timeout=timeout)
    return created, installed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default="freewheel,uv,pip")
    parser.add_argument("--requirements", type=Path, default=harness.SETS / "install.txt")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a run fails")
    parser.add_argument("--venv", type=Path, default=harness.DEFAULT_VENV)
    parser.add_argument("--index-url", help="install from this index (default: pip's)")
    args = parser.parse_args()

    names = args.tools.split(",")
    table = tools(harness.peer_venv(args.venv, names))
    index_url = args.index_url or pip_default_index_url()
    requirements = args.requirements.resolve()
    pins = sum(1 for line in harness.requirement_lines(requirements) if "==" in line)

    rows, base = [], {}
    with tempfile.TemporaryDirectory(prefix="freewheel-bench-install-") as tmp:
        for name in names:
            samples: dict[str, list[float | None]] = {}
            for n in range(args.runs):
                scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp))
                job = Job(requirements, index_url, scratch / "cache", scratch / "home", scratch / "venv")
                job.home.mkdir()
                for phase in ("cold", "warm"):
                    created, installed = run_once(f"{name} run {n + 1} {phase}", table[name], job, args.timeout)
                    total = None if created is None or installed is None else created + installed
                    samples.setdefault(f"{phase} total", []).append(total)
                    samples.setdefault(f"{phase} install", []).append(installed)
                shutil.rmtree(scratch, ignore_errors=True)
            medians = {key: harness.median(values) for key, values in samples.items()}
            if name == "freewheel":
                base = medians
            row = [name]
            for key in ("cold total", "cold install", "warm total", "warm install"):
                row += [harness.seconds(medians[key]), harness.ratio(medians[key], base.get(key))]
            print(" ".join(row), file=sys.stderr, flush=True)
            rows.append(row)

    print(f"install of {pins} pinned packages into a fresh venv, median of {args.runs} runs")
    headers = ["tool"]
    for key in ("cold total", "cold install", "warm total", "warm install"):
        headers += [f"{key} s", "ratio"]
    print(harness.table(headers, rows))


if __name__ == "__main__":
    main()
