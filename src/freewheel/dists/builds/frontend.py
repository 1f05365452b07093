"""The PEP 517 build frontend: a source tree into a wheel, or its metadata.

The backend runs through ``pyproject-hooks`` in a separate process. With
isolation (the default) that process is a fresh virtual environment made by
freewheel (:mod:`freewheel.python.venv`) and filled with the project's build
requirements by an :class:`EnvironmentFiller`: the caller's resolver and
installer, so that builds see the same indexes, flat locations, strategy,
``--offline`` and cache as everything else. This layer may not import the
resolver or the installer, hence the callable.

Each build has its own temporary directory, removed whatever happens; at
most a bounded number of builds run at once.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import msgspec
from packaging.requirements import Requirement
from packaging.utils import NormalizedName

from freewheel.dists.builds.project import BuildError, BuildSystem, build_system
from freewheel.python.interpreters import InterpreterInfo
from freewheel.python.venv import create_venv, interpreter_in

BuildKind = Literal["wheel", "editable"]

# Enough of a failed backend's output to show the error without burying it.
_TAIL_LINES = 25

ALL = ":all:"


class EnvironmentFiller(Protocol):
    """Installs requirements into a build environment.

    *requirements* are resolved together for *interpreter* and installed
    into its environment; *building* names the distribution the
    environment is for (in messages, and to refuse build cycles).
    """

    def __call__(
        self, interpreter: InterpreterInfo, requirements: Sequence[Requirement], *, building: str
    ) -> None: ...


class BuildOptions(msgspec.Struct, frozen=True):
    """How builds run: ``--config-settings`` (a value, or a list when a key
    was given several times), those of ``--config-settings-package`` per
    package (added over the others), and the packages built without
    isolation (``--no-build-isolation-package``; :data:`ALL` for every
    package), and ``environment_key``, a canonical text of what else narrows
    the build environments' contents (the build constraints): builds are
    cached per settings and per this key."""

    config_settings: Mapping[str, str | list[str]] = msgspec.field(default_factory=dict)
    no_isolation: frozenset[str] = frozenset()
    package_settings: Mapping[NormalizedName, Mapping[str, str | list[str]]] = msgspec.field(
        default_factory=dict
    )
    environment_key: str = ""

    def settings_for(self, name: NormalizedName | None) -> dict[str, str | list[str]]:
        """The config settings the backend of *name* receives."""
        return {**self.config_settings, **(self.package_settings.get(name, {}) if name else {})}

    def isolated(self, name: NormalizedName | None) -> bool:
        return not (ALL in self.no_isolation or (name is not None and name in self.no_isolation))


class BuildFailed(BuildError):
    """A backend hook failed; the message shows the end of its output and
    the commands that reproduce the failure by hand."""


class Source(msgspec.Struct, frozen=True):
    """A source tree to build, and how to name it to a user.

    ``label`` is ``name version`` or a path; ``origin`` says where the tree
    came from when it is a temporary copy (an unpacked sdist), so that a
    reproduction command points at something that still exists.
    """

    tree: Path
    label: str
    name: NormalizedName | None = None
    origin: str | None = None


class Frontend:
    """Builds source trees with their PEP 517 backend.

    *python* gives, when the first build starts, the interpreter of the
    target environment: isolated build environments are made from it, and
    non-isolated builds run in it. *on_output* receives every hook's output
    as it finishes (``-v``).
    """

    def __init__(
        self,
        python: Callable[[], InterpreterInfo],
        fill: EnvironmentFiller,
        options: BuildOptions = BuildOptions(),
        *,
        on_output: Callable[[str], None] | None = None,
        parallel: int | None = None,
    ) -> None:
        self.python = python
        self.fill = fill
        self.options = options
        self.on_output = on_output
        self._slots = threading.BoundedSemaphore(parallel or os.cpu_count() or 1)

    def build(self, source: Source, kind: BuildKind, out_dir: Path) -> Path:
        """Build a wheel (or, with ``editable``, a PEP 660 wheel) of *source*
        into *out_dir*; return its path."""
        out_dir.mkdir(parents=True, exist_ok=True)
        with self._session(source, kind) as (hooks, run):
            config = self.options.settings_for(source.name)
            name = run(f"build_{kind}", lambda: getattr(hooks, f"build_{kind}")(str(out_dir), config))
        return out_dir / name

    def prepare_metadata(self, source: Source, out_dir: Path) -> Path:
        """The ``.dist-info`` directory the backend prepares for *source*, in *out_dir*.

        A backend without ``prepare_metadata_for_build_wheel`` builds a
        wheel instead, and ``pyproject-hooks`` takes the metadata from it.
        """
        out_dir.mkdir(parents=True, exist_ok=True)
        with self._session(source, "wheel") as (hooks, run):
            name = run(
                "prepare_metadata_for_build_wheel",
                lambda: hooks.prepare_metadata_for_build_wheel(str(out_dir), self.options.settings_for(source.name)),
            )
        return out_dir / name

    @contextlib.contextmanager
    def _session(self, source: Source, kind: BuildKind) -> Iterator[tuple[Any, Callable[[str, Callable[[], str]], str]]]:
        """The backend's hooks, ready to call, in an environment holding
        every build requirement; and a function calling one of them that
        turns a failure into a :class:`BuildFailed`."""
        import pyproject_hooks

        system = build_system(source.tree)
        isolated = self.options.isolated(source.name)
        with self._slots, tempfile.TemporaryDirectory(prefix="freewheel-build-") as scratch:
            output: list[str] = []
            environ: dict[str, str] = {}
            python = self.python()
            if isolated:
                env = create_venv(Path(scratch) / "env", python)
                python = interpreter_in(env, python)
                # Backends that run tools (cmake, cython) find the ones installed for them.
                environ["PATH"] = os.pathsep.join([str(env.bin_dir), os.environ.get("PATH", "")])
                if system.requires:
                    self.fill(python, system.requires, building=source.label)
            # Newer pyproject-hooks pass the backend's warnings on as Python
            # warnings of this process (older ones leave them in its output);
            # like its output, they are shown only on request (-v).
            forwarded = getattr(pyproject_hooks, "BuildBackendWarning", None)
            if self.on_output is None and forwarded is not None:
                warnings.filterwarnings("ignore", category=forwarded)
            hooks = pyproject_hooks.BuildBackendHookCaller(
                str(source.tree),
                system.backend,
                backend_path=list(system.backend_path) or None,
                runner=_capturing_runner(output, environ, self.on_output),
                python_executable=python.executable,
            )

            def run(hook: str, call: Callable[[], str]) -> str:
                try:
                    return call()
                except subprocess.CalledProcessError as error:
                    raise _failure(source, system, hook, output, f"exit status {error.returncode}") from None
                except pyproject_hooks.BackendUnavailable as error:
                    reason = f"the backend could not be imported ({error.message or 'no message'})"
                    raise _failure(source, system, hook, [*output, error.traceback], reason) from None
                except pyproject_hooks.HookMissing as error:
                    raise _failure(source, system, hook, output, f"the backend has no {error.hook_name} hook") from None
                except OSError as error:
                    raise BuildError(f"Could not run the build backend of {source.label}: {error}.") from None

            extra = run(
                f"get_requires_for_build_{kind}",
                lambda: getattr(hooks, f"get_requires_for_build_{kind}")(self.options.settings_for(source.name)),
            )
            if isolated and extra:
                try:
                    wanted = [*system.requires, *(Requirement(r) for r in extra)]
                except ValueError as error:
                    raise BuildError(
                        f"The build backend of {source.label} asked for an invalid requirement: {error}"
                    ) from None
                self.fill(python, wanted, building=source.label)
            yield hooks, run


def _capturing_runner(
    output: list[str], environ: Mapping[str, str], on_output: Callable[[str], None] | None
) -> Callable[..., None]:
    """A ``pyproject-hooks`` runner that keeps each hook's output (stdout
    and stderr, interleaved) for the error message."""

    def run(cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None) -> None:
        env = {**os.environ, **environ, **(extra_environ or {})}
        done = subprocess.run(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", check=False,
        )
        output.append(done.stdout)
        if on_output is not None and done.stdout:
            on_output(done.stdout)
        if done.returncode:
            raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout)

    return run


def _failure(source: Source, system: BuildSystem, hook: str, output: Sequence[str], reason: str) -> BuildFailed:
    lines = "".join(output).rstrip().splitlines()[-_TAIL_LINES:]
    tail = "\n".join(f"    {line}" for line in lines) or "    (no output)"
    where = f" (unpacked from {source.origin})" if source.origin else ""
    return BuildFailed(
        f"Failed to build {source.label}{where}: {hook} of the build backend {system.backend} "
        f"failed: {reason}.\nThe last lines of its output:\n{tail}\n"
        f"To reproduce it by hand:\n{reproduction(source, system, hook)}"
    )


def reproduction(source: Source, system: BuildSystem, hook: str) -> str:
    """Shell commands that run *hook* of *source*'s backend as the frontend did."""
    module, _, attribute = system.backend.partition(":")
    backend = f"backend.{attribute}" if attribute else "backend"
    path = f"import sys; sys.path[:0] = {list(system.backend_path)!r}; " if system.backend_path else ""
    argument = "" if hook.startswith("get_requires") else "'dist'"
    code = f"{path}import {module} as backend; print({backend}.{hook}({argument}))"
    requires = " ".join(shlex.quote(str(r)) for r in system.requires)
    python = "/tmp/build-env/bin/python"
    steps = ["freewheel venv /tmp/build-env"]
    if requires:
        steps.append(f"freewheel pip install --python {python} {requires}")
    tree = shlex.quote(str(source.tree))
    if source.origin is not None:
        module = "zipfile" if source.origin.endswith(".zip") else "tarfile"
        steps.append(f"{python} -m {module} -e {shlex.quote(source.origin)} /tmp/build-src")
        tree = shlex.quote(f"/tmp/build-src/{source.tree.name}")
    steps.append(f"cd {tree} && {python} -c {shlex.quote(code)}")
    return "\n".join(f"    {step}" for step in steps)
