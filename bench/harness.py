"""What the benchmarks share: the peers, an isolated environment, one timed
run of a command (wall time, CPU time, peak memory), pins read back from what
each tool wrote, the facts a result needs (commit, machine, tool versions),
and the tables they print."""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import venv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "bench" / "sets"
DEFAULT_VENV = Path(tempfile.gettempdir()) / "freewheel-bench-peers"
FREEWHEEL = [sys.executable, "-m", "freewheel"]


def compile_freewheel() -> None:
    """Write freewheel's byte code before timing it, as an install does (a
    development checkout may have none)."""
    import compileall

    import freewheel

    compileall.compile_dir(Path(freewheel.__file__).parent, quiet=1)
# The interpreter this virtual environment was made from: the one every
# tool's target environment is created from.
BASE_PYTHON = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}")
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
VERSION_COMMANDS = {
    "uv": ("uv", "--version"),
    "pip-compile": ("pip-compile", "--version"),
    "pip": ("pip", "--version"),
    "pdm": ("pdm", "--version"),
    "poetry": ("poetry", "--version"),
}
MIB = 1024 * 1024


def peer_venv(path: Path, tools: Iterable[str]) -> Path:
    """The ``bin`` directory of a virtual environment holding the peers among *tools*.

    The environment is reused between runs; the peers are upgraded to their
    newest releases each time, so the numbers compare against current tools
    (their versions are recorded with the results).
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
    user configuration or user cache either. Loopback addresses bypass any
    proxy, for the local indexes.
    """
    prefixes = ("PIP_", "UV_", "PDM_", "POETRY_", "FREEWHEEL_", "XDG_", "VIRTUAL_ENV")
    # Installed tools run from byte code; a machine that forbids writing it
    # would have every Python tool compile its sources on each run.
    dropped = {"PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in dropped}
    loopback = "127.0.0.1,localhost"
    env.update(
        HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # uv fetches a Python matching --python-version to build with when
        # none is installed; this machine cannot reach the downloads, and
        # uv's retries (about 9 s) would be timed as resolving.
        UV_PYTHON_DOWNLOADS="never",
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        # Poetry asks the system keyring for index credentials otherwise.
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        NO_PROXY=",".join(filter(None, [env.get("NO_PROXY"), loopback])),
        no_proxy=",".join(filter(None, [env.get("no_proxy"), loopback])),
    )
    env.update(extra)
    return env


# -- one run ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    """One tool's work on *requirements* against *index_url*, in the directory *work*.

    ``work`` holds the tool's cache, its ``HOME``, the project directory it
    runs in and writes to, and the environment it installs into; they start
    empty and are kept from one phase to the next. ``python`` is the target
    Python version of a resolution (with ``universal``, the lowest of
    every Python and platform resolved for at once).
    """

    requirements: Path
    index_url: str
    work: Path
    python: str = ""
    universal: bool = False

    @property
    def cache(self) -> Path:
        return self.work / "cache"

    @property
    def home(self) -> Path:
        return self.work / "home"

    @property
    def project(self) -> Path:
        return self.work / "project"

    @property
    def venv(self) -> Path:
        return self.work / "venv"

    def output(self, phase: str) -> Path:
        """The file a compile writes in *phase*: a new one each phase, so that no
        tool starts from the pins of an earlier one."""
        return self.project / f"{phase}.txt"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One run of a command.

    ``status`` is ``ok``, ``failed`` (non-zero exit, or a wrong result:
    see ``error``) or ``timeout``. ``cpu`` is user + system seconds of the
    process and every descendant it waited for; ``peak_mib`` the largest
    resident set of any one of them (``ru_maxrss``); ``tree_mib``, when
    sampled, the largest sum of the resident sets of the whole process
    group, read from ``/proc`` every 0.1 s.
    """

    status: str
    wall: float
    cpu: float | None = None
    peak_mib: float | None = None
    tree_mib: float | None = None
    exit_code: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def failed(self, error: str) -> Sample:
        """This sample, marked failed for *error* (a run that exited 0 with a wrong result)."""
        return dataclasses.replace(self, status="failed", error=error)


def _group_rss(group: int) -> int:
    """Bytes resident in every process of process group *group*."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, ...; rss is field 24.
        if int(fields[2]) == group:
            total += int(fields[21]) * page
    return total


def measure(
    command: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    *,
    cwd: Path,
    timeout: float,
    log: Path,
    sample_tree: bool = False,
) -> Sample:
    """Run *command* once; its output goes to ``log.out`` and ``log.err``.

    The command leads a new process group, so that a timeout kills all of
    it. The clock stops when the process is reaped, by a thread that blocks
    in ``wait4``: no polling interval is added to short runs.
    """
    reaped: dict[str, object] = {}
    with open(f"{log}.out", "wb") as out, open(f"{log}.err", "wb") as err:
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                command, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True
            )
        except OSError as exc:
            return Sample(status="failed", wall=0.0, error=str(exc))

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            reaped.update(ended=time.perf_counter(), status=status, usage=usage)

        reaper = threading.Thread(target=reap, daemon=True)
        reaper.start()
        tree = 0
        deadline = started + timeout
        while reaper.is_alive() and time.perf_counter() < deadline:
            if sample_tree:
                tree = max(tree, _group_rss(process.pid))
            reaper.join(min(0.1 if sample_tree else 1.0, max(deadline - time.perf_counter(), 0)))
        timed_out = reaper.is_alive()
        if timed_out:
            os.killpg(process.pid, signal.SIGKILL)
            reaper.join()
        # Reaped here, not by Popen: tell it, so that it never waits again.
        process.returncode = os.waitstatus_to_exitcode(reaped["status"])
    usage = reaped["usage"]
    wall = (timeout if timed_out else reaped["ended"] - started)
    sample = Sample(
        status="timeout" if timed_out else "ok" if process.returncode == 0 else "failed",
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mib=usage.ru_maxrss * 1024 / MIB,
        tree_mib=tree / MIB if sample_tree else None,
        exit_code=None if timed_out else process.returncode,
    )
    if sample.status == "failed":
        said = Path(f"{log}.err").read_text(errors="replace") or Path(f"{log}.out").read_text(errors="replace")
        sample = sample.failed(excerpt(said))
    return sample


def excerpt(text: str, size: int = 1500) -> str:
    """The start and the end of *text*, at most *size* characters: an error says what
    failed at its start and why at its end."""
    if len(text) <= size:
        return text
    half = size // 2
    return f"{text[:half]}\n[... {len(text) - size} characters ...]\n{text[-half:]}"


# -- what a tool produced ------------------------------------------------------

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")


def read_pins(path: Path) -> dict[str, str]:
    """``name -> version`` of the ``name==version`` lines of a requirements file.

    A universal file may pin one package at several versions (under
    different markers); they are joined with `` | ``, lowest first.
    """
    found: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            found.setdefault(canonicalize_name(match[1]), set()).add(match[2])
    return {name: " | ".join(sorted(versions, key=Version)) for name, versions in found.items()}


def read_lock(path: Path) -> dict[str, str]:
    """``name -> version`` of a ``pdm.lock`` or ``poetry.lock``.

    A universal lock may hold several versions of one package (for different
    platforms or Pythons); they are joined with `` | ``.
    """
    found: dict[str, list[str]] = {}
    for package in tomllib.loads(path.read_text()).get("package", []):
        found.setdefault(canonicalize_name(package["name"]), []).append(package["version"])
    return {name: " | ".join(sorted(set(versions))) for name, versions in found.items()}


def installed(environment: Path) -> dict[str, str]:
    """``name -> version`` of the distributions installed in a virtual environment."""
    found = {}
    for dist_info in environment.glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
        found[canonicalize_name(name)] = version
    return found


def pin_differences(reference: Mapping[str, str], other: Mapping[str, str]) -> list[str]:
    """How *other* differs from *reference*, one phrase per package."""
    phrases = []
    for name in sorted(set(reference) | set(other)):
        if name not in other:
            phrases.append(f"no {name} (reference {reference[name]})")
        elif name not in reference:
            phrases.append(f"extra {name}=={other[name]}")
        elif reference[name] != other[name]:
            phrases.append(f"{name}=={other[name]} (reference {reference[name]})")
    return phrases


# -- facts recorded with every result ---------------------------------------------


def _output(command: Sequence[str | os.PathLike[str]], **kwargs: object) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, **kwargs)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return (result.stdout or result.stderr).strip()


def commit() -> dict[str, object]:
    """The commit of this checkout, and the tracked files changed since (none for an honest run)."""
    changed = _output(["git", "-C", str(ROOT), "diff", "--name-only", "HEAD"])
    return {
        "commit": _output(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
        "subject": _output(["git", "-C", str(ROOT), "log", "-1", "--format=%s"]),
        "changed": changed.split(),
    }


def changed_between(old: str, new: str) -> list[str]:
    """The files that differ between two commits of this repository."""
    return _output(["git", "-C", str(ROOT), "diff", "--name-only", old, new]).split()


def machine() -> dict[str, object]:
    """The processor, cores, memory, kernel and Python the run used."""
    facts: dict[str, object] = {
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cores": os.cpu_count(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        return facts
    if model := re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M):
        facts["cpu"] = model[1].strip()
    if total := re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M):
        facts["memory_gib"] = round(int(total[1]) / 1024 / 1024, 1)
    return facts


def tool_versions(bin_dir: Path, tools: Iterable[str]) -> dict[str, str]:
    """What ``--version`` says for each tool (freewheel: its version and packaging's)."""
    versions = {}
    for tool in tools:
        if tool == "freewheel":
            versions[tool] = _output([
                sys.executable, "-c",
                "import freewheel, packaging, httpx; print(f'freewheel {freewheel.__version__} "
                "(packaging {packaging.__version__}, httpx {httpx.__version__})')",
            ])
        elif tool in VERSION_COMMANDS:
            program, *args = VERSION_COMMANDS[tool]
            said = _output([bin_dir / program, *args], env=isolated_env(Path.home())).splitlines()[0]
            versions[tool] = said.split(" from ")[0]  # pip names its directory
    return versions


# -- reporting ----------------------------------------------------------------------


def spread(samples: Sequence[Sample]) -> tuple[float, float, float] | None:
    """Min, median and max wall time of the runs, or ``None`` unless every run succeeded."""
    if not samples or not all(s.ok for s in samples):
        return None
    walls = [s.wall for s in samples]
    return min(walls), statistics.median(walls), max(walls)


def verdict(samples: Sequence[Sample]) -> str:
    """``ok``, or what went wrong and when (``timeout after N s``, ``failed after N s``),
    with how many runs of how many."""
    bad = [s for s in samples if not s.ok]
    if not bad:
        return "ok"
    text = ", ".join(sorted({f"{s.status} after {s.wall:.0f} s" for s in bad}))
    return text + (f" ({len(bad)} of {len(samples)} runs)" if len(samples) > 1 else "")


def seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}" if value < 1 else f"{value:.2f}"


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


def scrub(text: str, index_url: str) -> str:
    """*text* with the index written as ``$INDEX`` and no other remote host named.

    Results are committed; they must not name the default index's host (the
    project's rule), nor the host its files come from.
    """
    text = text.replace(index_url.rstrip("/"), "$INDEX")
    return re.sub(r"(https?://)(?!127\.0\.0\.1|localhost)[^/\s'\"]+", r"\1<host>", text)
