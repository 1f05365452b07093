"""What the benchmark scripts share: the peers, an isolated environment,
timing and the tables they print."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "bench" / "sets"
DEFAULT_VENV = Path(tempfile.gettempdir()) / "freewheel-bench-peers"
FREEWHEEL = [sys.executable, "-m", "freewheel"]
# What provides each peer's command. pdm 2.29 does not bound two of its
# dependencies that have since broken it: hishel 2 dropped the cache storage
# it uses, and unearth 0.19 moved to an httpx fork its client cannot mix with.
PEERS = {
    "uv": ("uv",),
    "pip-compile": ("pip-tools",),
    "pip": ("pip",),
    "pdm": ("pdm", "hishel<2", "unearth<0.19"),
    "poetry": ("poetry",),
}


def peer_venv(path: Path, tools: Sequence[str]) -> Path:
    """The ``bin`` directory of a virtual environment holding the peers among *tools*.

    The environment is reused between runs; the peers are upgraded to their
    newest releases each time, so the numbers compare against current tools.
    """
    python = path / "bin" / "python"
    if not python.exists():
        venv.create(path, with_pip=True)
    wanted = sorted({r for t in tools for r in PEERS.get(t, ())})
    if wanted:
        install = [python, "-m", "pip", "install", "-q", "-U", *wanted]
        subprocess.run(install, check=True, env=isolated_env(Path.home()))
    return path / "bin"


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the machine's package-tool configuration.

    This machine configures extra indexes and find-links for pip (a user
    file and ``PIP_*`` variables); a tool that read them would do other work
    than its peers. *home* stands in for ``HOME`` so that no tool finds its
    user configuration either. Loopback addresses bypass any proxy, for the
    local indexes.
    """
    prefixes = ("PIP_", "UV_", "PDM_", "POETRY_", "FREEWHEEL_", "XDG_", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    loopback = "127.0.0.1,localhost"
    env.update(
        HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        # Poetry asks the system keyring for index credentials otherwise.
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        NO_PROXY=",".join(filter(None, [env.get("NO_PROXY"), loopback])),
        no_proxy=",".join(filter(None, [env.get("no_proxy"), loopback])),
    )
    env.update(extra)
    return env


def timed(
    label: str,
    command: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> float | None:
    """Seconds *command* took, or ``None`` (reported on stderr) if it failed."""
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        print(f"{label}: timed out after {timeout:.0f} s", file=sys.stderr)
        return None
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-1500:]
        print(f"{label}: exit {result.returncode}\n{tail}", file=sys.stderr)
        return None
    return elapsed


def median(samples: Sequence[float | None]) -> float | None:
    """The median of *samples*, or ``None`` if any run failed."""
    if not samples or any(s is None for s in samples):
        return None
    return statistics.median(s for s in samples if s is not None)


def seconds(value: float | None) -> str:
    return "failed" if value is None else f"{value:.2f}"


def ratio(value: float | None, base: float | None) -> str:
    """*value* over freewheel's *base*: above 1.0, freewheel is faster."""
    return "" if value is None or base is None else f"{value / base:.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, padded so that it reads as well in a terminal."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = (c.ljust(w) if i == 0 or not c[:1].isdigit() else c.rjust(w)
                  for i, (c, w) in enumerate(zip(cells, widths)))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def requirement_lines(path: Path) -> list[str]:
    """The requirements of a ``.in`` file without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]
