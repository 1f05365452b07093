"""``freewheel pip download``: fill a wheelhouse for one or many targets.

Each ``--python-version`` × ``--python-platform`` pair is a target, resolved
on its own over one shared session (pages, metadata and downloads fetched
once); every file any target needs is downloaded once into the cache,
hash-checked, and linked into the destination (see
:mod:`freewheel.dists.wheelhouse`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from freewheel.cli import progress
from freewheel.errors import UsageError

if TYPE_CHECKING:
    from freewheel.cache import Cache
    from freewheel.cli.context import CommandContext
    from freewheel.cli.resolve import ResolveRequest
    from freewheel.dists.wheelhouse import Placed
    from freewheel.index.models import DistFile
    from freewheel.inputs.gather import Gathered
    from freewheel.resolver.provider import Provider
    from freewheel.python.target import TargetEnvironment
    from freewheel.resolver.result import PinnedPackage


class Outcome(msgspec.Struct, frozen=True):
    """What one target resolved to, or why it could not be."""

    target: TargetEnvironment
    pins: tuple[PinnedPackage, ...] = ()
    failure: str | None = None


def configure(parser: argparse.ArgumentParser) -> None:
    configure_wheelhouse(parser, building=False)


def configure_wheelhouse(parser: argparse.ArgumentParser, *, building: bool) -> None:
    """The arguments of ``pip download``, or with *building* those of ``pip
    wheel`` (``-w/--wheel-dir`` for ``-d/--dest``)."""
    from freewheel.cli import options

    verb = "build wheels of" if building else "download"
    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help=f"Requirements to {verb}")
    parser.add_argument(
        "-r", "--requirement", dest="src_files", action="append", default=[], metavar="FILE",
        help=f"{verb.capitalize()} the requirements in this file",
    )
    options.add_requirement_sources(parser, resolving=False)
    if building:
        out = parser.add_argument_group("Wheel options")
        out.add_argument("-w", "--wheel-dir", dest="dest", default=".", metavar="DIR", help="Put the wheels into this directory (default: the current one)")
    else:
        out = parser.add_argument_group("Download options")
        out.add_argument("-d", "--dest", "--destination-dir", dest="dest", default=".", metavar="DIR", help="Download into this directory (default: the current one)")
    out.add_argument(
        "--prune", action="store_true", default=None,
        help="Remove the wheels and sdists in the directory that no target needs",
    )
    out.add_argument(
        "--index-html", action="store_true", default=None,
        help="Write an index.html of every file in the directory (a flat index, with hashes)",
    )
    options.add_index_options(parser)
    options.add_resolver_options(parser, upgrade=False)
    group = parser.add_argument_group("Target options (each version × platform is one target)")
    group.add_argument(
        "--python-version", action="append", default=[], metavar="VERSION",
        help=f"A Python version to {verb} for, e.g. 3.11 (repeatable)",
    )
    group.add_argument(
        "--python-platform", action="append", default=[], metavar="NAME",
        help=f"A platform to {verb} for, e.g. linux, windows or x86_64-manylinux_2_28 (repeatable)",
    )
    group.add_argument(
        "--platform", action="append", default=[], metavar="TAG",
        help="pip's: a wheel platform tag the target accepts, e.g. manylinux2014_x86_64 "
        "(repeatable: all of them make one platform)",
    )
    group.add_argument("--implementation", metavar="IMPL", help="pip's: the Python implementation tag (cp, pp, py)")
    group.add_argument(
        "--abi", action="append", default=[], metavar="TAG", help="pip's: an ABI tag the target accepts (repeatable)"
    )
    options.add_global_options(parser)


def _python_version(value: str) -> str:
    """pip's spelling of a version without its dot (``39``, ``310``) as uv's (``3.9``)."""
    if re.fullmatch(r"3\d+", value.strip()):
        return f"3.{value.strip()[1:]}"
    return value


def main(args: argparse.Namespace, argv: list[str]) -> int:
    return run(args, building=False)


def run(args: argparse.Namespace, *, building: bool) -> int:
    """Fill the wheelhouse *args* name; with *building*, sdists go into it
    as the wheels built from them (``pip wheel``)."""
    from freewheel.cli.context import base_interpreter, build_context
    from freewheel.dists import wheelhouse
    from freewheel.inputs.gather import gather
    from freewheel.inputs.requirements_txt import parse_requirements
    from freewheel.python.target import for_request

    started = time.monotonic()
    if args.platform and args.python_platform:
        raise UsageError(
            "--platform (pip's wheel tags) and --python-platform (uv's platform names) cannot be combined; use one."
        )
    if args.implementation is not None and not re.fullmatch(r"[a-z]{2}", args.implementation):
        raise UsageError(f"Invalid --implementation {args.implementation!r}: expected a two-letter tag such as cp or pp.")
    gathered = gather(args.src_files, constraints=args.constraints, overrides=args.overrides)
    if args.packages:
        own = parse_requirements("\n".join(args.packages), source_path="command line", base_dir=Path.cwd())
        gathered = msgspec.structs.replace(gathered, requirements=gathered.requirements + own.requirements)
    if not gathered.requirements:
        raise UsageError(f"Nothing to {'build' if building else 'download'}: name packages, or a requirements file with -r.")

    single = argparse.Namespace(**{**vars(args), "python_version": None, "python_platform": None})
    context = build_context(single, gathered, pip_section="wheel" if building else "download")
    base = base_interpreter(context.settings, context.cwd)
    # A target named twice (--python-version 3.9 --python-version 39) is resolved once.
    targets: dict[str, TargetEnvironment] = {}
    for version in [_python_version(v) for v in args.python_version] or [None]:
        for platform in args.python_platform or [None]:
            target = for_request(
                base,
                python_version=version,
                python_platform=platform,
                pip_platforms=args.platform,
                implementation=args.implementation,
                abis=args.abi,
            )
            targets.setdefault(target.describe(), target)
    dest = Path(args.dest)
    wheelhouse.prepare(dest)
    outcomes, placed, pruned = _fill(args, gathered, context, list(targets.values()), dest, building=building)
    _report(outcomes, placed, pruned, dest, context, started)
    return 1 if any(o.failure for o in outcomes) else 0


def _fill(
    args: argparse.Namespace,
    gathered: Gathered,
    context: CommandContext,
    targets: Sequence[TargetEnvironment],
    dest: Path,
    *,
    building: bool,
) -> tuple[list[Outcome], list[Placed], list[str]]:
    """Resolve every target, then put the files they need into *dest*
    (with *building*, the wheels built from their sdists): what each
    target resolved to, the files it needs, those pruned."""
    from freewheel.cli.resolve import ResolveRequest, open_cache, with_references

    bars = progress.wanted(quiet=bool(context.quiet), no_progress=bool(args.no_progress))
    with open_cache(context.settings) as cache:
        # Direct references (a path, a URL, git) are brought here per target:
        # a pyproject.toml's dynamic dependencies may have markers.
        requests = [
            with_references(
                ResolveRequest.from_args(args, gathered, context, existing_output=None, target=target),
                msgspec.structs.replace(context, target=target),
                cache,
            )
            for target in targets
        ]
        return _fill_from(args, gathered, context, cache, requests, targets, dest, building=building, bars=bars)


def _fill_from(
    args: argparse.Namespace,
    gathered: Gathered,
    context: CommandContext,
    cache: Cache,
    requests: Sequence[ResolveRequest],
    targets: Sequence[TargetEnvironment],
    dest: Path,
    *,
    building: bool,
    bars: bool,
) -> tuple[list[Outcome], list[Placed], list[str]]:
    """:func:`_fill` once each target's request is made, over *cache*."""
    from freewheel.cli.context import warn
    from freewheel.cli.pip_install import _hashes_by_name
    from freewheel.cli.resolve import resolver_session
    from freewheel.dists import wheelhouse

    with resolver_session(requests[0], context, cache) as session:
        # The solver holds the GIL while it decides, but each target also
        # waits on pages and metadata of its own (a platform's wheels have
        # their own metadata files): threads overlap those waits.
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(targets), 4)) as pool:
            outcomes = list(pool.map(lambda pair: _resolve(session, *pair), zip(requests, targets, strict=True)))
        failed = any(o.failure for o in outcomes)
        if args.prune and failed:
            # A failed target's files from an earlier run may be all it has.
            warn("Nothing was pruned: some targets could not be resolved.", quiet=context.quiet)

        def fetch(wanted: Sequence[tuple[DistFile, Collection[str]]]) -> list[Path]:
            with progress.Bar("Downloading", len(wanted), enabled=bars) as bar:
                return session.source.fetch_files(wanted, on_done=bar.advance)

        needed = [pin.dist for outcome in outcomes for pin in outcome.pins if pin.dist is not None]
        # A requirement's --hash values bind its file too, as in pip (an
        # sdist's when it is fetched to be built).
        hashes = _hashes_by_name(gathered)
        allowed = {dist.filename: hashes[dist.name] for dist in needed if dist.name in hashes}
        if building:
            needed = _built(session, outcomes, needed, allowed, bars)
        else:
            # A source tree is no file to download: as pip, save what it needs.
            needed = [dist for dist in needed if not wheelhouse.is_source_tree(dist)]
        placed, pruned = wheelhouse.fill(
            dest,
            needed,
            fetch,
            allowed=allowed,
            prune_others=bool(args.prune) and not failed,
            write_index=bool(args.index_html),
        )
    return outcomes, placed, pruned


def _built(
    session: Provider,
    outcomes: Sequence[Outcome],
    needed: Sequence[DistFile],
    allowed: Mapping[str, Collection[str]],
    bars: bool,
) -> list[DistFile]:
    """*needed*, each sdist replaced by the wheel built from it (once,
    whatever the number of targets; the build cache keeps it for later
    runs).

    :raises UsageError: when a target that needs an sdist cannot install
        the wheel built from it: a build runs for this machine only.
    """
    from freewheel.dists import wheelhouse

    sdists = {dist.filename: dist for dist in needed if dist.kind == "sdist"}
    with progress.Bar("Building", len(sdists), enabled=bars) as bar:
        paths = session.source.fetch_files(
            [(dist, allowed.get(name, ())) for name, dist in sdists.items()], on_done=bar.advance, wheels=True
        )
    wheels = {name: wheelhouse.built(sdists[name], path) for name, path in zip(sdists, paths, strict=True)}
    for outcome in outcomes:
        for pin in outcome.pins:
            wheel = wheels.get(pin.dist.filename) if pin.dist is not None else None
            if wheel is not None and outcome.target.tag_priority(wheel.tags) is None:
                raise UsageError(
                    f"{pin.dist.name} {pin.dist.version} has only a source distribution, and the wheel built "
                    f"from it here, {wheel.filename}, does not install on {outcome.target.describe()}: "
                    "builds run for this machine's Python and platform only. "
                    "Build the wheelhouse for that target on such a machine."
                )
    return [wheels.get(dist.filename, dist) for dist in needed]


def _resolve(session: Provider, request: ResolveRequest, target: TargetEnvironment) -> Outcome:
    """Resolve *request* for *target* over *session*'s source; a failure is the outcome, not an error."""
    from freewheel.errors import ResolutionImpossible
    from freewheel.resolver.provider import Provider
    from freewheel.resolver.resolution import resolve

    # Every target's provider draws on the session's source: one page,
    # one metadata read and one download per file, whatever the targets.

    provider = Provider(
        session.source, request.policy, request.requirements, resolution=request.resolution, no_deps=request.no_deps
    )
    try:
        return Outcome(target, tuple(resolve(provider, request.via_sources)))
    except ResolutionImpossible as error:
        return Outcome(target, failure=error.message)


def _report(
    outcomes: Sequence[Outcome],
    placed: Sequence[Placed],
    pruned: Sequence[str],
    dest: Path,
    context: CommandContext,
    started: float,
) -> None:
    from freewheel.cli import console
    from freewheel.cli.context import warn
    from freewheel.dists import wheelhouse
    from freewheel.resolver.resolution import yanked_warnings
    from freewheel.util.fs import display_path

    shown = display_path(dest.resolve(), context.cwd)
    for outcome in outcomes:
        if outcome.failure is None:
            if not context.quiet:
                count = len(outcome.pins)
                print(f"{outcome.target.describe()}: {count} package{'s' * (count != 1)}", file=sys.stderr)
            for message in yanked_warnings(outcome.pins):
                warn(message, quiet=context.quiet)
    if not context.quiet:
        elapsed = (time.monotonic() - started) * 1000
        print(f"{wheelhouse.summary(placed, pruned, shown)}, in {elapsed:.0f}ms", file=sys.stderr)
        for name in pruned:
            print(f" - {name}", file=sys.stderr)
    failed = [o for o in outcomes if o.failure is not None]
    for outcome in failed:
        indented = "\n".join(f"  {line}" if line else line for line in outcome.failure.splitlines())
        print(console.prefixed("error", f"{outcome.target.describe()}: nothing downloaded for this target:"), file=sys.stderr)
        print(indented, file=sys.stderr)
    if failed and len(outcomes) > 1:
        print(
            console.prefixed("error", f"{len(failed)} of {len(outcomes)} targets could not be satisfied"),
            file=sys.stderr,
        )
