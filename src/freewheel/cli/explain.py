"""``freewheel explain PKG``: which index offered what, and why each
candidate was taken or rejected.

It resolves the package (with any requirement files given, so the answer
is the one those requirements would get), then shows every configured
index with what it answered for the package, including the indexes the
strategy never asked, and every version in the order the resolver tries
them with its verdict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from freewheel.errors import ResolutionImpossible, UsageError
from freewheel.resolver.candidates import Candidate, prerelease_rejection
from freewheel.resolver.provider import Provider

_SHOWN = 25


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options

    parser.add_argument("package", metavar="PKG", help="The package to explain, optionally with a specifier")
    parser.add_argument(
        "-r", "--requirement", dest="src_files", action="append", default=[], metavar="FILE",
        help="Resolve PKG together with these requirements",
    )
    options.add_requirement_sources(parser)
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_python_options(parser)
    options.add_global_options(parser)


def verdict(provider: Provider, candidate: Candidate, taken: Version | None, wanted: Requirement) -> str:
    """What happened to one candidate, in words."""
    if candidate.version == taken:
        return "taken"
    if not wanted.specifier.contains(candidate.version, prereleases=True):
        return f"outside {wanted}"
    if candidate.rejection is not None:
        return f"rejected: {candidate.rejection}"
    untried = prerelease_rejection(provider.policy, candidate)
    if untried is not None:
        return f"not tried: {untried}"
    return "usable"


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.context import build_context
    from freewheel.cli.resolve import ResolveRequest, resolver_session
    from freewheel.inputs.gather import gather
    from freewheel.inputs.requirements_txt import parse_requirements
    from freewheel.resolver.resolution import resolve

    try:
        requirement = Requirement(args.package)
    except InvalidRequirement as error:
        raise UsageError(f"{args.package!r} is not a requirement: {error}") from None
    name = canonicalize_name(requirement.name)
    gathered = gather(
        args.src_files, constraints=args.constraints, overrides=args.overrides,
        extras=args.extra, all_extras=bool(args.all_extras), groups=args.group,
    )
    own = parse_requirements(args.package, source_path="command line", base_dir=Path.cwd())
    gathered = msgspec.structs.replace(gathered, requirements=gathered.requirements + own.requirements)
    context = build_context(args, gathered, pip_section="install")
    request = ResolveRequest.from_args(args, gathered, context, existing_output=None)
    if request.pending:
        raise UsageError("explain does not take direct references (name @ URL, paths) yet; require them by name.")

    out = sys.stdout
    with resolver_session(request, context) as provider:
        failure: ResolutionImpossible | None = None
        taken = None
        try:
            pins = resolve(provider, request.via_sources)
            taken = next((p for p in pins if p.name == name), None)
        except ResolutionImpossible as error:
            failure = error
        listing = provider.listings.get(name) or provider.listing(name)
        strategy = context.indexes.strategy
        print(f"{name}: resolving for {context.target.describe()}, "
              f"--index-strategy {strategy.value} (from {strategy.origin})", file=out)
        print("\nIndexes, in the order they are consulted:", file=out)
        for outcome in listing.outcomes:
            used = " (used)" if outcome.status == "found" and any(
                f.index == outcome.index for _, files in listing.versions for f in files
            ) else ""
            print(f"  {outcome.index.label}: {outcome.detail}{used}", file=out)
        skipped = {o.index: o for o in provider.source.other_offers(name)}
        for index in listing.skipped:
            offer = skipped.get(index)
            why = "explicit, and nothing pins it here" if index.explicit else "not asked under this strategy"
            offered = f"; it offers {offer.detail}" if offer is not None else ""
            print(f"  {index.label}: {why}{offered}", file=out)

        candidates = provider.candidates(name).all()
        print("\nVersions, best first:" if candidates else "\nNo versions offered.", file=out)
        limit = len(candidates) if args.verbose else _SHOWN
        taken_version = taken.version if taken else None
        for candidate in candidates[:limit]:
            where = candidate.files[0].index.label if candidate.files else ""
            line = f"  {str(candidate.version):<16} {verdict(provider, candidate, taken_version, requirement)}"
            print(f"{line}  [{where}]" if where else line, file=out)
        if len(candidates) > limit:
            print(f"  ... and {len(candidates) - limit} more (-v shows all)", file=out)
    if failure is not None:
        print(file=out)
        raise failure
    return 0
