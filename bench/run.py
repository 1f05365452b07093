"""Compare freewheel with its peers on the same work, in one run.

    python bench/run.py [--sets small,large] [--runs 3] [--tools freewheel,uv,pip-compile]
                        [--index-url URL]

Peers (uv, pip-tools, ...) are installed into a throwaway virtual
environment (``--venv``, reused between runs). Each tool compiles each set
from ``bench/sets`` cold (an empty cache) and warm (the cache the cold run
left), ``--runs`` times; the table gives the median wall time of each and
its ratio to freewheel's (above 1.0: freewheel is faster).

Sets resolve from pip's default index unless ``--index-url`` names
another (a local mirror, to take network jitter out of the comparison).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
SETS = HERE / "sets"
TARGET = ["--python-version", "3.11", "--python-platform", "linux"]
PEERS = {"uv": "uv", "pip-compile": "pip-tools", "pdm": "pdm", "poetry": "poetry"}

Command = Callable[[Path, Path, list[str]], list[str]]


def peer_venv(path: Path, tools: list[str]) -> Path:
    """A virtual environment with the peers in *tools* installed."""
    python = path / "bin" / "python"
    if not python.exists():
        venv.create(path, with_pip=True)
    wanted = [PEERS[t] for t in tools if t in PEERS]
    if wanted:
        subprocess.run([python, "-m", "pip", "install", "-q", *wanted], check=True)
    return path / "bin"


def commands(bin_dir: Path) -> dict[str, Command]:
    return {
        "freewheel": lambda source, cache, index: [
            sys.executable, "-m", "freewheel", "pip", "compile", str(source), *TARGET,
            "--cache-dir", str(cache), "-q", *index,
        ],
        "uv": lambda source, cache, index: [
            str(bin_dir / "uv"), "pip", "compile", "--no-config", str(source), *TARGET,
            "--cache-dir", str(cache), "-q", *index,
        ],
        "pip-compile": lambda source, cache, index: [
            str(bin_dir / "pip-compile"), str(source), "--cache-dir", str(cache), "-q",
            "--output-file", os.devnull, *index,
        ],
    }


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="small,large")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default="freewheel,uv,pip-compile")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "freewheel-bench-peers")
    parser.add_argument("--index-url", help="resolve from this index instead of pip's default")
    args = parser.parse_args()

    tools = args.tools.split(",")
    bin_dir = peer_venv(args.venv, tools)
    table = commands(bin_dir)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    index = ["--index-url", args.index_url] if args.index_url else []

    rows = []
    for set_name in args.sets.split(","):
        source = SETS / f"{set_name}.in"
        for tool in tools:
            cold, warm = [], []
            for _ in range(args.runs):
                cache = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-"))
                try:
                    cold.append(timed(table[tool](source, cache, index), env))
                    warm.append(timed(table[tool](source, cache, index), env))
                finally:
                    shutil.rmtree(cache, ignore_errors=True)
            rows.append((set_name, tool, statistics.median(cold), statistics.median(warm)))

    base = {(s, "cold"): c for s, t, c, _ in rows if t == "freewheel"}
    base |= {(s, "warm"): w for s, t, _, w in rows if t == "freewheel"}
    print(f"{'set':<8}{'tool':<14}{'cold s':>9}{'ratio':>8}{'warm s':>9}{'ratio':>8}")
    for set_name, tool, cold_s, warm_s in rows:
        cold_ratio = cold_s / base[(set_name, "cold")] if (set_name, "cold") in base else float("nan")
        warm_ratio = warm_s / base[(set_name, "warm")] if (set_name, "warm") in base else float("nan")
        print(f"{set_name:<8}{tool:<14}{cold_s:>9.2f}{cold_ratio:>8.2f}{warm_s:>9.2f}{warm_ratio:>8.2f}")


if __name__ == "__main__":
    main()
