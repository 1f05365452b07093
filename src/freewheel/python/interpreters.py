"""Finding Python interpreters and learning what they are.

:func:`probe` runs an interpreter once with a small self-contained script
(:data:`PROBE_SCRIPT`) and returns an :class:`InterpreterInfo`: its version,
PEP 508 marker environment, install paths and the wheel tags it accepts. The
answer is cached on disk, so later runs cost a ``stat`` instead of a process
(unless the interpreter is a wrapper, such as a pyenv shim, that starts another).

The script reports raw facts only (libc and macOS versions, ABI flags,
``sysconfig`` values). Wheel tags are computed here from those facts with
``packaging.tags`` (see :func:`freewheel.python.platforms.supported_tags`), because
the target cannot import ``packaging`` and re-implementing its tag logic in
the script would be a second copy to keep in step. The same code then
serves ``--python-version``/``--python-platform`` overrides.

:func:`find_python` turns a ``--python`` request into an executable, much as
uv does.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import msgspec
import platformdirs

from freewheel.errors import UsageError
from freewheel.python.platforms import Platform, host_platform, supported_tags

# Runs under every Python from 2.7 on far enough to say it is too old, so it
# avoids f-strings and other newer syntax. It must not import anything outside
# the standard library: the target's site-packages is not ours.
PROBE_SCRIPT = r'''
import json, os, platform, struct, subprocess, sys, sysconfig

INSTALL_PATHS = ("purelib", "platlib", "scripts", "data", "include")


def full_version(info):
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def marker_environment():
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def glibc_version():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        return None
    parts = (value or "").split()
    return parts[1] if len(parts) == 2 and parts[0] == "glibc" else None


def elf_interpreter(path):
    # The dynamic loader named in PT_INTERP tells musl from glibc binaries.
    with open(path, "rb") as f:
        ident = f.read(16)
        if len(ident) < 16 or ident[:4] != b"\x7fELF":
            return None
        order = "<" if ident[5] == 1 else ">"
        header, entry = ("HHIIIIIHHH", "IIIIII") if ident[4] == 1 else ("HHIQQQIHHH", "IIQQQQ")
        fields = struct.unpack(order + header, f.read(struct.calcsize(order + header)))
        phoff, phentsize, phnum = fields[4], fields[8], fields[9]
        for index in range(phnum):
            f.seek(phoff + index * phentsize)
            ph = struct.unpack(order + entry, f.read(struct.calcsize(order + entry)))
            offset, size = (ph[1], ph[4]) if ident[4] == 1 else (ph[2], ph[5])
            if ph[0] == 3:
                f.seek(offset)
                return f.read(size).rstrip(b"\0").decode("ascii", "replace")
    return None


def musl_version():
    try:
        loader = elf_interpreter(sys.executable)
    except (OSError, struct.error):
        return None
    if not loader or "musl" not in os.path.basename(loader):
        return None
    try:
        result = subprocess.run([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
    except OSError:
        return None
    for line in result.stderr.splitlines():
        if line.startswith("Version "):
            return line.split()[1]
    return None


def macos_version():
    release = platform.mac_ver()[0]
    if release == "10.16":
        # Built against an old SDK, Python sees the compatibility version.
        release = subprocess.run(
            [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
            stdout=subprocess.PIPE, universal_newlines=True,
            env={"SYSTEM_VERSION_COMPAT": "0"},
        ).stdout.strip()
    return release or None


def abis_and_interpreter():
    nodot = "%d%d" % sys.version_info[:2]
    name = sys.implementation.name
    if name == "cpython":
        from importlib.machinery import EXTENSION_SUFFIXES
        debug = sysconfig.get_config_var("Py_DEBUG")
        if debug is None:
            debug = hasattr(sys, "gettotalrefcount") or "_d.pyd" in EXTENSION_SUFFIXES
        threaded = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
        abi = "cp" + nodot + threaded
        return ([abi + "d", abi] if debug else [abi]), "cp" + nodot
    short = {"pypy": "pp", "ironpython": "ip", "jython": "jy"}.get(name, name)
    parts = (sysconfig.get_config_var("EXT_SUFFIX") or "").split(".")
    soabi = parts[1] if len(parts) > 2 else ""
    if soabi.startswith("pypy"):
        soabi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        soabi = "-".join(soabi.split("-")[:3])
    abis = [soabi.replace("-", "_").replace(".", "_")] if soabi else []
    return abis, short + nodot


def collect():
    if sys.version_info < (3, 8):
        return {"unsupported": platform.python_version()}
    abis, interpreter = abis_and_interpreter()
    paths = sysconfig.get_paths()
    is_virtualenv = sys.prefix != sys.base_prefix
    marker_file = os.path.join(paths["stdlib"], "EXTERNALLY-MANAGED")
    linux = sys.platform.startswith("linux")
    glibc = glibc_version() if linux else None
    return {
        "executable": sys.executable,
        "sys_prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "interpreter": interpreter,
        "abis": abis,
        "markers": marker_environment(),
        "paths": dict((key, paths[key]) for key in INSTALL_PATHS),
        "is_virtualenv": is_virtualenv,
        "externally_managed": not is_virtualenv and os.path.isfile(marker_file),
        "sysconfig_platform": sysconfig.get_platform(),
        "is_32bit": struct.calcsize("P") == 4,
        "glibc": glibc,
        "musl": musl_version() if linux and glibc is None else None,
        "macos": macos_version() if sys.platform == "darwin" else None,
    }


if __name__ == "__main__":
    print(json.dumps(collect()))
'''

# Cache records name the script that produced them: editing it invalidates them.
_SCRIPT_DIGEST = hashlib.sha256(PROBE_SCRIPT.encode()).hexdigest()[:16]
_PROBE_TIMEOUT = 30.0


class InterpreterInfo(msgspec.Struct, frozen=True):
    """What one Python interpreter is, as far as resolving and installing go.

    ``markers`` is its full PEP 508 marker environment; ``tags`` the wheel
    tags it accepts, most preferred first; ``paths`` the ``sysconfig``
    install paths (``purelib``, ``platlib``, ``scripts``, ``data``,
    ``include``) of its default scheme. ``externally_managed`` is true when
    the stdlib directory holds a PEP 668 ``EXTERNALLY-MANAGED`` file and the
    interpreter is not in a virtual environment (which PEP 668 exempts).
    ``abis`` (most specific first, e.g. ``("cp313t",)``) and ``platform``
    are the facts ``tags`` was computed from, kept so that a target for
    another Python version can be derived from this one.
    """

    executable: str
    sys_prefix: str
    base_prefix: str
    version: tuple[int, int, int]
    implementation: str
    markers: Mapping[str, str]
    tags: tuple[str, ...]
    paths: Mapping[str, str]
    is_virtualenv: bool
    externally_managed: bool
    abis: tuple[str, ...]
    platform: Platform

    @property
    def free_threaded(self) -> bool:
        """Whether this is a free-threaded build (its ABI ends in ``t``: ``cp313t``)."""
        return bool(self.abis) and self.abis[0].endswith("t")


class _Facts(msgspec.Struct, frozen=True):
    """What :data:`PROBE_SCRIPT` reports; also the on-disk cache format."""

    executable: str
    sys_prefix: str
    base_prefix: str
    version: tuple[int, int, int]
    implementation: str
    interpreter: str
    abis: list[str]
    markers: dict[str, str]
    paths: dict[str, str]
    is_virtualenv: bool
    externally_managed: bool
    sysconfig_platform: str
    is_32bit: bool
    glibc: str | None
    musl: str | None
    macos: str | None


class _CacheRecord(msgspec.Struct, frozen=True):
    path: str
    mtime_ns: int
    size: int
    facts: _Facts


def probe(executable: str | Path, *, cache_dir: Path | None = None) -> InterpreterInfo:
    """Describe the interpreter at ``executable``, running it at most once.

    Answers are cached under ``cache_dir`` (default: freewheel's user cache
    directory) and reused while the executable's absolute path, modification
    time and size are unchanged. The path is made absolute, not resolved:
    a virtual environment's ``python`` is a symlink to its base interpreter,
    yet reports a different ``sys.prefix``. Only an interpreter that runs as
    the file it was found at is cached: a wrapper (a pyenv shim) that starts
    another one picks it anew on each run, by its settings and directory,
    while the wrapper itself stays unchanged.

    :raises UsageError: if the file does not exist, cannot be run, is not a
        working Python, or is older than Python 3.8.
    """
    return start_probe(executable, cache_dir=cache_dir).wait()


class StartedProbe(NamedTuple):
    """A description on its way (see :func:`start_probe`): :attr:`wait`
    returns it, at once when the cache had it (:attr:`known`)."""

    wait: Callable[[], InterpreterInfo]
    known: bool


#: Probes :func:`probe_ahead` started, by interpreter path and cache
#: directory, until :func:`start_probe` takes them.
_ahead: dict[tuple[str, Path | None], StartedProbe] = {}


def probe_ahead(executable: str | Path, *, cache_dir: Path | None = None) -> None:
    """Start describing the interpreter at *executable* before knowing that
    it will be asked for: the next :func:`start_probe` for it takes this
    one over. Errors are left for that call to raise."""
    try:
        started = start_probe(executable, cache_dir=cache_dir)
    except UsageError:
        return
    _ahead[(os.path.abspath(os.fspath(executable)), cache_dir)] = started


def start_probe(executable: str | Path, *, cache_dir: Path | None = None) -> StartedProbe:
    """:func:`probe` in two steps: start the interpreter's process (unless
    the cache answers, or :func:`probe_ahead` started it), and return the
    function that waits for its answer. The caller does other work
    meanwhile: a cold run imports the modules it resolves with while a
    pyenv shim starts Python (a tenth of a second).

    Raises :class:`UsageError` as :func:`probe` does: here when the file is
    missing or cannot be run, from the function returned for the rest.
    """
    path = os.path.abspath(os.fspath(executable))
    ahead = _ahead.pop((path, cache_dir), None)
    # A guess that did not come true is not kept for a later call.
    _ahead.clear()
    if ahead is not None:
        return ahead
    try:
        stat = os.stat(path)
    except OSError:
        raise UsageError(f"No Python interpreter at {path}: the file does not exist.") from None
    cache_file = _cache_dir(cache_dir) / f"{hashlib.sha256(path.encode()).hexdigest()[:32]}.json"
    record = _read_cache(cache_file)
    if (
        record is not None
        and (record.path, record.mtime_ns, record.size) == (path, stat.st_mtime_ns, stat.st_size)
        # Also for a record kept before wrappers were left out.
        and _runs_as(path, record.facts.executable)
    ):
        info = _info_from_facts(record.facts)
        return StartedProbe(lambda: info, known=True)
    running = _start_probe_process(path)

    @functools.cache
    def answer() -> InterpreterInfo:
        facts = _probe_facts(path, running)
        if _runs_as(path, facts.executable):
            _write_cache(cache_file, _CacheRecord(path, stat.st_mtime_ns, stat.st_size, facts))
        return _info_from_facts(facts)

    return StartedProbe(answer, known=False)


def current_interpreter() -> InterpreterInfo:
    """Describe the running interpreter, without starting a process."""
    namespace: dict[str, object] = {"__name__": "freewheel_probe"}
    exec(compile(PROBE_SCRIPT, "<freewheel probe>", "exec"), namespace)
    raw = namespace["collect"]()  # type: ignore[operator]
    return _info_from_facts(msgspec.convert(raw, _Facts))


def _runs_as(path: str, executable: str) -> bool:
    """Whether the interpreter found at *path* says it runs as that file
    (*executable*, its ``sys.executable``), not as one a wrapper started."""
    try:
        return os.path.samefile(path, executable)
    except (OSError, ValueError):  # an empty or vanished sys.executable
        return False


def _cache_dir(cache_dir: Path | None) -> Path:
    base = cache_dir if cache_dir is not None else Path(platformdirs.user_cache_dir("freewheel"))
    return base / "interpreters" / _SCRIPT_DIGEST


def _read_cache(cache_file: Path) -> _CacheRecord | None:
    try:
        return msgspec.json.decode(cache_file.read_bytes(), type=_CacheRecord)
    except (OSError, msgspec.DecodeError):
        # A missing or damaged record only costs a fresh probe.
        return None


def _write_cache(cache_file: Path, record: _CacheRecord) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_file.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(msgspec.json.encode(record))
        os.replace(partial, cache_file)
    except OSError:
        # An unwritable cache must not stop the command; the next run re-probes.
        pass


def _start_probe_process(path: str) -> subprocess.Popen[bytes]:
    try:
        # -I keeps the user's PYTHON* variables, user site and cwd out of the
        # answer; site itself still runs, so virtual environments are seen.
        return subprocess.Popen(
            [path, "-I", "-c", PROBE_SCRIPT],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise UsageError(f"Could not run {path} as a Python interpreter: {exc.strerror}.") from None


def _probe_facts(path: str, running: subprocess.Popen[bytes]) -> _Facts:
    """What the probe *running* for the interpreter at *path* answers."""
    try:
        stdout, stderr = running.communicate(timeout=_PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        running.kill()
        running.communicate()
        raise UsageError(
            f"The Python interpreter {path} did not answer within {_PROBE_TIMEOUT:.0f} seconds."
        ) from None
    if running.returncode != 0:
        # The last stderr line is usually the exception or the usage complaint.
        last_line = (stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
        detail = f" ({last_line})" if last_line else ""
        raise UsageError(
            f"{path} is not a working Python interpreter: it exited with status "
            f"{running.returncode} when asked to describe itself{detail}."
        )
    try:
        raw = msgspec.json.decode(stdout)
        if isinstance(raw, dict) and "unsupported" in raw:
            raise UsageError(
                f"{path} is Python {raw['unsupported']}; freewheel supports Python 3.8 and newer."
            )
        return msgspec.convert(raw, _Facts)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise UsageError(
            f"{path} did not describe itself the way a Python 3.8+ interpreter does; "
            "it may be a wrapper script that prints extra output."
        ) from None


def _version_pair(text: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match[1]), int(match[2])) if match else None


def _info_from_facts(facts: _Facts) -> InterpreterInfo:
    platform = host_platform(
        facts.sysconfig_platform,
        markers=facts.markers,
        is_32bit=facts.is_32bit,
        glibc=_version_pair(facts.glibc),
        musl=_version_pair(facts.musl),
        macos=_version_pair(facts.macos),
    )
    tags = supported_tags(
        facts.version,
        platform.platform_tags(),
        interpreter=facts.interpreter,
        abis=facts.abis,
    )
    return InterpreterInfo(
        executable=facts.executable,
        sys_prefix=facts.sys_prefix,
        base_prefix=facts.base_prefix,
        version=facts.version,
        implementation=facts.implementation,
        markers=dict(facts.markers),
        tags=tuple(str(tag) for tag in tags),
        paths=dict(facts.paths),
        is_virtualenv=facts.is_virtualenv,
        externally_managed=facts.externally_managed,
        abis=tuple(facts.abis),
        platform=platform,
    )


# --- discovery --------------------------------------------------------------

_VERSION_REQUEST = re.compile(r"(\d+)(?:\.(\d+)(?:\.(\d+))?)?")


def find_python(
    request: str | None, *, cwd: Path, cache_dir: Path | None = None
) -> Path:
    """Find the interpreter a ``--python`` request means, as uv would.

    * ``None``: the active virtual environment (``VIRTUAL_ENV``), then a
      ``.venv`` in ``cwd`` or a parent, then ``python3``/``python`` on PATH.
    * A version (``3``, ``3.11``, ``3.11.4``): ``python3.11`` on PATH, then
      pyenv's installs (``$PYENV_ROOT``, default ``~/.pyenv``), newest patch
      release first. With a patch version, candidates are probed (cached in
      ``cache_dir``) and only an exact match is accepted.
    * A path (containing a separator or starting with ``~``): that file, or
      the interpreter of that virtual environment or prefix directory.
    * Any other name: that command on PATH.

    :raises UsageError: when nothing matches, listing every place tried.
    """
    tried: list[str] = []
    for description, candidate in _candidates(request, cwd):
        if candidate is not None and _is_executable(candidate):
            if _matches_patch(request, candidate, cache_dir):
                return candidate
            description += " (different patch version)"
        tried.append(description)
    wanted = "a Python interpreter" if request is None else f"Python {request!r}"
    raise UsageError(
        f"Could not find {wanted}; tried: {'; '.join(tried)}.",
        hint="pass --python with a path to an interpreter, or create a .venv",
    )


def _candidates(request: str | None, cwd: Path) -> Iterator[tuple[str, Path | None]]:
    """Yield ``(description, path or None)`` in the order they are tried."""
    if request is None:
        active, nearest = virtual_environments(cwd)
        yield (
            f"the active virtual environment ({active})" if active else "VIRTUAL_ENV (not set)",
            environment_python(active) if active else None,
        )
        yield (
            f"{nearest}" if nearest else f".venv in {cwd} or its parents (none found)",
            environment_python(nearest) if nearest else None,
        )
        yield "python3 or python on PATH", next(path_pythons(), None)
        return
    version = _VERSION_REQUEST.fullmatch(request)
    if version is not None:
        major, minor = version[1], version[2]
        name = f"python{major}.{minor}" if minor else f"python{major}"
        root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
        found = _which(name)
        if found is not None and found.parent == root / "shims":
            # A pyenv shim for a version that is not active exits 127
            # instead of running; the installs themselves come next.
            yield f"{name} on PATH (a pyenv shim, skipped)", None
        else:
            yield f"{name} on PATH", found
        if minor:
            for install in _pyenv_installs(root, int(major), int(minor)):
                yield f"pyenv {install.name}", environment_python(install)
            if not (root / "versions").is_dir():
                yield f"pyenv installs in {root / 'versions'} (none)", None
        return
    if os.sep in request or "/" in request or request.startswith("~") or (cwd / request).is_dir():
        path = Path(request).expanduser()
        path = path if path.is_absolute() else cwd / path
        yield str(path), environment_python(path) if path.is_dir() else path
        return
    yield f"{request} on PATH", _which(request)


def _pyenv_installs(root: Path, major: int, minor: int) -> list[Path]:
    """pyenv's CPython installs of ``major.minor``, newest patch first."""
    pattern = re.compile(rf"{major}\.{minor}\.(\d+)")
    try:
        entries = list((root / "versions").iterdir())
    except OSError:
        return []
    matches = [(int(m[1]), entry) for entry in entries if (m := pattern.fullmatch(entry.name))]
    return [entry for _, entry in sorted(matches, reverse=True)]


def _matches_patch(request: str | None, candidate: Path, cache_dir: Path | None) -> bool:
    version = _VERSION_REQUEST.fullmatch(request or "")
    if version is None or version[3] is None:
        return True
    wanted = (int(version[1]), int(version[2]), int(version[3]))
    return probe(candidate, cache_dir=cache_dir).version == wanted


def virtual_environments(cwd: Path) -> tuple[Path | None, Path | None]:
    """Where a command looks for a virtual environment, in order: the active
    one (``VIRTUAL_ENV``), and the nearest ``.venv`` in *cwd* or a parent;
    ``None`` for either that is not there."""
    active = os.environ.get("VIRTUAL_ENV")
    nearest = next((d / ".venv" for d in (cwd, *cwd.parents) if (d / ".venv").is_dir()), None)
    return (Path(active) if active else None), nearest


def path_pythons() -> Iterator[Path]:
    """Every ``python3`` and ``python`` on ``PATH``, in ``PATH`` order."""
    suffix = ".exe" if os.name == "nt" else ""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        for name in ("python3", "python"):
            candidate = Path(directory or ".") / f"{name}{suffix}"
            if _is_executable(candidate):
                yield candidate


def environment_python(prefix: Path) -> Path:
    """The interpreter of a virtual environment or installation prefix."""
    if os.name == "nt":
        scripts = prefix / "Scripts" / "python.exe"
        return scripts if scripts.exists() else prefix / "python.exe"
    return prefix / "bin" / "python"


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
