"""``freewheel pip install`` (add to an environment) and, through
:mod:`freewheel.cli.pip_sync`, ``pip sync`` (make it exactly a pinned set).

Resolve (preferring what is installed), compare with the environment,
download what is missing into the cache in parallel, check every hash, and
hand the batch to the installer, which changes the environment all at once
or not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import zipfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.cli import console, progress
from freewheel.errors import UsageError

if TYPE_CHECKING:
    from freewheel.cache import Cache
    from freewheel.dists.builds.sdist import SdistBuilds
    from freewheel.index.models import DistFile
    from freewheel.inputs.gather import Gathered
    from freewheel.inputs.requirements_txt import SourcedRequirement
    from freewheel.install.plan import Plan
    from freewheel.install.site_packages import InstalledDistribution
    from freewheel.python.environments import Environment
    from freewheel.resolver.result import PinnedPackage

_LINK_MODES = ("clone", "hardlink", "copy", "symlink")
_COPY_FALLBACK = (
    "Failed to clone or hardlink files; falling back to full copy. This may lead to degraded "
    "performance.\n         If the cache and target directories are on different filesystems, "
    "linking may not be supported.\n         If this is intentional, use `--link-mode copy` to "
    "suppress this warning."
)


def configure(parser: argparse.ArgumentParser, *, sync: bool = False) -> None:
    from freewheel.cli import options
    from freewheel.cli.environments import add_environment_options

    if sync:
        parser.add_argument("src_files", nargs="+", metavar="SRC_FILE", help="Pinned requirements files")
    else:
        parser.add_argument("packages", nargs="*", metavar="PACKAGE", help="Requirements to install")
        parser.add_argument(
            "-r", "--requirement", dest="src_files", action="append", default=[], metavar="FILE",
            help="Install the requirements in this file",
        )
        parser.add_argument("-e", "--editable", action="append", default=[], help="Install a project in editable mode")
    options.add_requirement_sources(parser, resolving=not sync)
    group = parser.add_argument_group("Installer options")
    group.add_argument("--reinstall", action="store_true", default=None, help="Reinstall everything")
    group.add_argument(
        "--reinstall-package", action="append", default=[], type=options.package_name, metavar="PACKAGE",
        help="Reinstall this package",
    )
    group.add_argument("--dry-run", action="store_true", default=None, help="Show what would change, change nothing")
    group.add_argument("--link-mode", choices=_LINK_MODES, help="How files get from the cache into the environment")
    group.add_argument(
        "--compile-bytecode", action="store_true", default=None, help="Compile installed modules to bytecode"
    )
    group.add_argument(
        "--require-hashes", action="store_true", default=None,
        help="Require a matching --hash for every package (implied when any requirement has one)",
    )
    options.add_index_options(parser)
    options.add_resolver_options(parser, resolving=not sync)
    add_environment_options(parser, mutable=True)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    return install(args, sync=False)


def _hashes_by_name(gathered: Gathered) -> dict[NormalizedName, frozenset[str]]:
    """The sha256 ``--hash`` values of each named requirement."""
    hashes: dict[NormalizedName, set[str]] = {}
    for entry in gathered.requirements:
        if entry.requirement is not None and entry.hashes:
            name = canonicalize_name(entry.requirement.name)
            hashes.setdefault(name, set()).update(
                h.partition(":")[2].lower() for h in entry.hashes if h.startswith("sha256:")
            )
    return {name: frozenset(values) for name, values in hashes.items()}


def install_seed(args: argparse.Namespace, python: Path, packages: Sequence[str]) -> None:
    """Install *packages* into the environment of *python* with the index,
    cache and network options *args* gives (``venv --seed``), quietly."""
    parser = argparse.ArgumentParser(add_help=False)
    configure(parser)
    seed = parser.parse_args([])
    shared = {key: value for key, value in vars(args).items() if hasattr(seed, key)}
    vars(seed).update(shared, python=str(python), packages=list(packages), quiet=1)
    install(seed, sync=False)


def install(args: argparse.Namespace, *, sync: bool) -> int:
    # The directory editable wheels are built in is removed whatever
    # happens; it is made only for them, so that an install killed midway
    # (which cannot remove it) leaves none behind otherwise.
    with contextlib.ExitStack() as scratch:
        return _install(args, sync=sync, scratch=scratch)


def _install(args: argparse.Namespace, *, sync: bool, scratch: contextlib.ExitStack) -> int:
    from freewheel.cli.context import build_context, prepare_network, warn
    from freewheel.cli.builds import build_request, sdist_builds
    from freewheel.cli.environments import changing, environment_from_args
    from freewheel.cli.resolve import ResolveRequest, open_cache, resolver_session, with_references
    from freewheel.dists.builds.project import check_project
    from freewheel.inputs.gather import gather
    from freewheel.inputs.requirements_txt import parse_requirements
    from freewheel.install.plan import plan
    from freewheel.install.site_packages import installed_distributions
    from freewheel.resolver.resolution import resolve, yanked_warnings
    from freewheel.util.fs import file_url_path

    started = time.monotonic()
    environment = environment_from_args(args, mutable=True)
    projects = [check_project(Path(path)) for path in getattr(args, "editable", [])]
    gathered = gather(
        args.src_files, constraints=args.constraints, overrides=args.overrides,
        extras=args.extra, all_extras=bool(args.all_extras), groups=args.group,
    )
    packages = getattr(args, "packages", [])
    if packages:
        own = parse_requirements("\n".join(packages), source_path="command line", base_dir=Path.cwd())
        gathered = msgspec.structs.replace(gathered, requirements=gathered.requirements + own.requirements)
    # `-e PATH` lines of requirements files are editable installs too.
    for entry in gathered.requirements:
        if entry.editable:
            path = file_url_path(entry.url or "")
            if path is None:
                raise UsageError(f"The editable requirement {entry.url} is not a local path; only those can be editable.")
            projects.append(check_project(path))
    gathered = msgspec.structs.replace(gathered, requirements=tuple(e for e in gathered.requirements if not e.editable))
    # What the user asked for by name gets REQUESTED; an editable project's
    # dependencies, added below, do not.
    direct = {canonicalize_name(r.requirement.name) for r in gathered.requirements if r.requirement}
    if not gathered.requirements and not projects and not sync:
        raise UsageError("Nothing to install: name packages, or a requirements file with -r.")

    context = build_context(args, gathered, pip_section="install", interpreter=environment.interpreter)
    prepare_network(context.settings)
    quiet = bool(context.quiet)
    bars = progress.wanted(quiet=quiet, no_progress=bool(args.no_progress))
    # One change at a time per environment: two installs interleaving their
    # renames would leave neither's view of the environment true. One cache
    # for the whole command: with --no-cache, the downloads live in it.
    with changing(environment, quiet=context.quiet), open_cache(context.settings) as cache:
        distributions = {dist.name: dist for dist in installed_distributions(environment)}
        installed = {name: dist.version for name, dist in distributions.items()}
        audited = _audit(args, gathered, projects, distributions, environment.interpreter.markers, sync=sync)
        if audited is not None:
            # Everything asked for is installed already: no index is read.
            _say(quiet, f"Audited {console.packages(len(audited))} in {console.duration(time.monotonic() - started)}")
            return 0
        build = msgspec.structs.replace(build_request(args, context), python=lambda: environment.interpreter)
        editables = _build_editables(projects, scratch, sdist_builds(build, context, cache))
        # An editable project's own requirements are resolved with the rest.
        request = ResolveRequest.from_args(
            args,
            msgspec.structs.replace(
                gathered, requirements=gathered.requirements + tuple(r for e in editables for r in e.requirements)
            ),
            context,
            existing_output=None,
        )
        upgrade = {canonicalize_name(n) for n in args.upgrade_package}
        preferences = {} if args.upgrade else {n: v for n, v in installed.items() if n not in upgrade}
        request = msgspec.structs.replace(
            request,
            requirements=msgspec.structs.replace(request.requirements, preferences=preferences),
            # pip sync installs exactly what is listed: the file is the lock.
            no_deps=request.no_deps or sync,
            build=build,
        )
        request = with_references(request, context, cache)
        direct |= set(request.references)
        hashes = _hashes_by_name(gathered)
        require_hashes = bool(args.require_hashes) or bool(hashes)

        with resolver_session(request, context, cache) as provider:
            pins = resolve(provider, request.via_sources)
            resolved_at = time.monotonic()
            _say(quiet, f"Resolved {console.packages(len(pins))} in {console.duration(resolved_at - started)}")
            reinstall = True if args.reinstall else {canonicalize_name(n) for n in args.reinstall_package}
            # An editable project is built, not taken from an index.
            built = {e.name for e in editables}
            pins = [pin for pin in pins if pin.name not in built]
            changes = plan(pins, installed, reinstall=reinstall, sync=sync)
            if require_hashes:
                _check_hashes_given(changes.install, hashes)
            if args.dry_run:
                _report(changes, installed, editables, heading="Would change:", quiet=quiet)
                for message in yanked_warnings(changes.install):
                    warn(message, quiet=quiet)
                return 0
            if changes.empty and not editables:
                took = console.duration(time.monotonic() - resolved_at)
                _say(quiet, f"Audited {console.packages(len(pins))} in {took}")
                return 0
            wanted = [(_dist_of(pin), hashes.get(pin.name, frozenset()) if require_hashes else frozenset())
                      for pin in changes.install]
            with progress.Bar("Downloading", len(wanted), enabled=bars) as bar:
                paths = provider.source.fetch_files(wanted, on_done=bar.advance, wheels=True)
        prepared_at = time.monotonic()
        _say(quiet, f"Prepared {console.packages(len(paths))} in {console.duration(prepared_at - resolved_at)}")
        # What the user asks to do again is also checked again in full.
        asked = context.settings.cache
        thorough = (
            True if reinstall is True or asked.refresh.value
            else reinstall | {canonicalize_name(n) for n in asked.refresh_packages.value}
        )
        _apply(args, environment, cache, changes, paths, editables, direct=direct, thorough=thorough, bars=bars,
               direct_urls={n: m.direct_url for n, m in request.references.items()})
        _report(
            changes, installed, editables,
            heading=f"Installed {console.packages(len(changes.install) + len(editables))} in "
            f"{console.duration(time.monotonic() - prepared_at)}",
            quiet=quiet,
        )
    # Last, as uv puts them: a long list of changes must not bury them.
    for message in yanked_warnings(changes.install):
        warn(message, quiet=quiet)
    return 0


def _audit(
    args: argparse.Namespace,
    gathered: Gathered,
    editables: Sequence[Path],
    installed: Mapping[NormalizedName, InstalledDistribution],
    markers: Mapping[str, str],
    *,
    sync: bool,
) -> list[NormalizedName] | None:
    """The packages that already satisfy the request, or ``None`` when it
    must be resolved (something is missing or changes, or the options ask
    for a fresh look: upgrades, reinstalls, overrides, a dry run)."""
    from freewheel.install.plan import audit

    if (
        editables
        or args.upgrade
        or args.upgrade_package
        or args.reinstall
        or args.reinstall_package
        or args.dry_run
        or gathered.overrides
        or any(entry.requirement is None or entry.url or entry.editable for entry in gathered.requirements)
    ):
        return None
    requirements = [entry.requirement for entry in gathered.requirements if entry.requirement is not None]
    constraints = [entry.requirement for entry in gathered.constraints if entry.requirement is not None]
    audited = audit(requirements, installed, markers, constraints=constraints, follow=not (sync or args.no_deps))
    if audited is None or (sync and set(installed) - set(audited)):
        return None
    return audited


class Editable(msgspec.Struct, frozen=True):
    """A local project built as an editable wheel, ready to install."""

    project: Path
    wheel: Path
    name: NormalizedName
    version: Version
    requirements: tuple[SourcedRequirement, ...]


def _build_editables(
    projects: Sequence[Path], scratch: contextlib.ExitStack, builds: SdistBuilds | None
) -> list[Editable]:
    """Build *projects* as editable wheels, in a temporary directory that
    lasts as long as *scratch*."""
    from freewheel.dists.builds.frontend import Source
    from freewheel.dists.metadata import parse_core_metadata, wheel_metadata_bytes
    from freewheel.inputs.requirements_txt import RequirementSource, SourcedRequirement

    if not projects:
        return []
    if builds is None:
        raise UsageError("An editable install builds the project, and --no-build forbids building.")
    build_dir = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="freewheel-editable-")))
    editables = []
    for project in projects:
        wheel = builds.frontend.build(Source(project, str(project)), "editable", build_dir)
        with zipfile.ZipFile(wheel) as archive:
            metadata = parse_core_metadata(wheel_metadata_bytes(archive, wheel.name), source=wheel.name)
        source = RequirementSource(kind="command line", path=str(project))
        requirements = tuple(
            SourcedRequirement(requirement=r, url=None, editable=False, hashes=(), source=source)
            for r in metadata.requires_dist
        )
        editables.append(Editable(project, wheel, metadata.name, metadata.version, requirements))
    return editables


def _check_hashes_given(pins: Sequence[PinnedPackage], hashes: Mapping[NormalizedName, frozenset[str]]) -> None:
    missing = [p.name for p in pins if not hashes.get(p.name)]
    if missing:
        raise UsageError(
            f"Hash-checking mode is on, but no --hash is given for {', '.join(missing)}. "
            "Every package to install needs one (pin them all, with hashes, e.g. with "
            "`freewheel pip compile --generate-hashes`)."
        )


def _dist_of(pin: PinnedPackage) -> DistFile:
    """The file that installs *pin*: a wheel, or an sdist to build one from."""
    assert pin.dist is not None, "a resolved package has a file"
    return pin.dist


def _is_wheel(pin: PinnedPackage) -> bool:
    return pin.dist is not None and pin.dist.kind == "wheel"


def _apply(
    args: argparse.Namespace,
    environment: Environment,
    cache: Cache,
    changes: Plan,
    paths: Sequence[Path],
    editables: Sequence[Editable],
    *,
    direct: Collection[NormalizedName],
    thorough: bool | Collection[NormalizedName],
    bars: bool,
    direct_urls: Mapping[NormalizedName, Mapping[str, object]],
) -> None:
    """Change the environment as *changes* says, all at once or not at all.

    The unpacked trees in the cache of the projects in *thorough* (all when
    ``True``) are checked against every hash of their ``RECORD`` before
    they are used, not only against its sizes.
    """
    from freewheel.install import WheelToInstall
    from freewheel.install.batch import apply_changes

    wheels = [
        # A wheel built from an sdist was checked as the sdist.
        WheelToInstall(path, expected_sha256=pin.dist.hashes.get("sha256") if _is_wheel(pin) else None,
                       requested=pin.name in direct, direct_url=direct_urls.get(pin.name))
        for pin, path in zip(changes.install, paths, strict=True)
    ]
    wheels += [
        WheelToInstall(
            e.wheel,
            requested=True,
            direct_url={"url": e.project.as_uri(), "dir_info": {"editable": True}},
        )
        for e in editables
    ]
    checked = [thorough is True or pin.name in thorough for pin in changes.install]
    checked += [False for _ in editables]  # built just now
    with progress.Bar("Unpacking", len(wheels), enabled=bars) as bar:
        apply_changes(
            environment,
            wheels,
            changes.remove,
            archive_bucket=cache.bucket("archive"),
            link_mode=args.link_mode,
            compile_bytecode=bool(args.compile_bytecode),
            on_copy_fallback=lambda: console.warn(_COPY_FALLBACK),
            on_unpacked=bar.advance,
            thorough=checked,
        )


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        print(line, file=sys.stderr)


def _report(
    changes: Plan,
    installed: Mapping[NormalizedName, Version],
    editables: Sequence[Editable] = (),
    *,
    heading: str,
    quiet: bool,
) -> None:
    """uv's summary: a heading, then `` - old`` / `` + new`` lines by name."""
    if quiet:
        return
    print(heading, file=sys.stderr)
    lines = [(name, 0, f" - {name}=={installed[name]}") for name in changes.remove]
    lines += [(pin.name, 1, f" + {pin.name}=={pin.version}") for pin in changes.install]
    lines += [
        (e.name, 0, f" - {e.name}=={installed[e.name]}") for e in editables if e.name in installed
    ]
    lines += [(e.name, 1, f" + {e.name}=={e.version} (from {e.project.as_uri()})") for e in editables]
    for _, _, line in sorted(lines):
        print(line, file=sys.stderr)


