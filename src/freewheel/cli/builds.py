"""Wiring builds: the frontend of :mod:`freewheel.dists.builds`, with build
environments filled by freewheel's own resolver and installer.

A build environment is resolved like any other requirement set, with the
command's indexes, flat locations, strategy, ``--offline`` and cache, and
``--build-constraints``; a build requirement that is itself only an sdist
is built the same way, one level deeper.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from freewheel.dists.builds.frontend import ALL, BuildOptions
from freewheel.dists.builds.project import BuildError
from freewheel.errors import FreewheelError, UsageError

if TYPE_CHECKING:
    from freewheel.cache import Cache
    from freewheel.cli.context import CommandContext
    from freewheel.dists.builds.sdist import SdistBuilds
    from freewheel.python.interpreters import InterpreterInfo
    from freewheel.resolver.pubgrub import Ranges


class BuildRequest(msgspec.Struct, frozen=True):
    """Whether and how a command builds: its ``--no-build``, backend
    options, build constraints, the interpreter of the environment built
    for (looked up at the first build), and the chain of builds that led
    here (to refuse a package whose build needs itself)."""

    allowed: bool
    options: BuildOptions
    constraints: Mapping[NormalizedName, Ranges]
    python: Callable[[], InterpreterInfo]
    chain: tuple[str, ...] = ()


def config_settings(values: Sequence[str], flag: str = "--config-setting") -> dict[str, str | list[str]]:
    """``-C KEY=VALUE`` values (of *flag*) as backends receive them: a key given twice gets a list."""
    settings: dict[str, str | list[str]] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {value!r} is not of the form KEY=VALUE.")
        previous = settings.get(key)
        if previous is None:
            settings[key] = item
        else:
            settings[key] = [*previous, item] if isinstance(previous, list) else [previous, item]
    return settings


def build_request(args: argparse.Namespace, context: CommandContext) -> BuildRequest:
    """The build settings of a resolving command's arguments."""
    from freewheel.cli.resolve import applicable_ranges
    from freewheel.inputs.requirements_txt import read_requirements

    constraints: dict[NormalizedName, Ranges] = {}
    for path in getattr(args, "build_constraints", []):
        constraints = applicable_ranges(read_requirements(Path(path)).requirements, context.target, constraints)
    isolation = {canonicalize_name(n) for n in getattr(args, "no_build_isolation_package", [])}
    if getattr(args, "no_build_isolation", None):
        isolation.add(ALL)
    per_package: dict[NormalizedName, list[str]] = {}
    for value in getattr(args, "config_settings_package", []):
        package, sep, setting = value.partition(":")
        if not sep or not package:
            raise UsageError(f"--config-settings-package {value!r} is not of the form PACKAGE:KEY=VALUE.")
        per_package.setdefault(canonicalize_name(package), []).append(setting)
    options = BuildOptions(
        config_settings(getattr(args, "config_settings", [])),
        frozenset(isolation),
        {name: config_settings(values, "--config-settings-package") for name, values in per_package.items()},
        "\n".join(f"{name} {ranges}" for name, ranges in sorted(constraints.items())),
    )
    return BuildRequest(
        allowed=not getattr(args, "no_build", None),
        options=options,
        constraints=constraints,
        python=lambda: _discovered(context),
    )


def _discovered(context: CommandContext) -> InterpreterInfo:
    from freewheel.cli.context import base_interpreter
    from freewheel.python.interpreters import current_interpreter

    return base_interpreter(context.settings, context.cwd) or current_interpreter()


def sdist_builds(request: BuildRequest, context: CommandContext, cache: Cache) -> SdistBuilds | None:
    """The builds of a resolver session, or ``None`` when building is off."""
    from freewheel.dists.builds.frontend import Frontend
    from freewheel.dists.builds.sdist import SdistBuilds

    if not request.allowed:
        return None
    say = _stderr if context.verbose else None
    frontend = Frontend(request.python, _filler(request, context, cache), request.options, on_output=say)
    return SdistBuilds(frontend, cache.bucket("builds"), on_build=say)


def _stderr(text: str) -> None:
    print(text.rstrip("\n"), file=sys.stderr)


def _filler(request: BuildRequest, context: CommandContext, cache: Cache) -> Callable[..., None]:
    def fill(interpreter: InterpreterInfo, requirements: Sequence[Requirement], *, building: str) -> None:
        if building in request.chain:
            raise BuildError(
                f"Building {building} needs {building} itself (through {' -> '.join(request.chain)}); "
                "provide a wheel of one of them."
            )
        nested = msgspec.structs.replace(request, python=lambda: interpreter, chain=(*request.chain, building))
        try:
            fill_environment(interpreter, requirements, context, cache, nested)
        except BuildError:
            raise
        except FreewheelError as error:
            wanted = ", ".join(map(str, requirements))
            raise BuildError(
                f"Failed to build {building}: its build requirements ({wanted}) cannot be installed.\n"
                f"{error}"
            ) from None

    return fill


def fill_environment(
    interpreter: InterpreterInfo,
    requirements: Sequence[Requirement],
    context: CommandContext,
    cache: Cache,
    build: BuildRequest,
) -> None:
    """Resolve *requirements* for *interpreter* and install them into its environment."""
    from freewheel.cli.resolve import ResolveRequest, resolver_session
    from freewheel.install import Scheme, WheelToInstall, install_wheels
    from freewheel.python.target import from_interpreter
    from freewheel.resolver.candidates import CandidatePolicy
    from freewheel.resolver.provider import Requirements
    from freewheel.resolver.resolution import resolve

    target = from_interpreter(interpreter)
    settings = context.settings.resolver
    request = ResolveRequest(
        requirements=Requirements(tuple(requirements), build.constraints, {}, {}),
        via_sources={},
        policy=CandidatePolicy(target=target, exclude_newer=settings.exclude_newer.value),
        resolution="highest",
        no_deps=False,
        hashes=False,
        build=build,
    )
    if context.verbose:
        _stderr(f"Installing build requirements of {build.chain[-1]}: {', '.join(map(str, requirements))}")
    nested = msgspec.structs.replace(context, target=target)
    with resolver_session(request, nested, cache) as provider:
        pins = resolve(provider, {})
        paths = provider.source.fetch_files([(pin.dist, ()) for pin in pins if pin.dist], wheels=True)
    install_wheels(
        [WheelToInstall(path) for path in paths],
        Scheme.from_interpreter(interpreter),
        archive_bucket=cache.bucket("archive"),
    )
