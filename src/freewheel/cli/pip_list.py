"""``freewheel pip list``: the installed distributions, as a table, pins or JSON.

Also home of what the read-only pip commands (``list``, ``freeze``,
``show``, ``check``) share: their environment options and the reading of
the environment.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from freewheel.cli import console

if TYPE_CHECKING:
    from packaging.version import Version

    from freewheel.index.models import DistKind
    from freewheel.index.strategy import Candidates
    from freewheel.install.site_packages import InstalledDistribution, SitePackages
    from freewheel.python.environments import Environment
    from freewheel.python.target import TargetEnvironment


def configure_inspection(parser: argparse.ArgumentParser, *, network: bool = False) -> None:
    """The options every read-only pip command takes; the network ones only
    where the command fetches."""
    from freewheel.cli import options
    from freewheel.cli.environments import add_environment_options

    add_environment_options(parser, mutable=False)
    options.add_global_options(parser, network=network)


def inspect_environment(args: argparse.Namespace) -> tuple[Environment, SitePackages]:
    """Find the environment and read it, warning about unreadable distributions."""
    from freewheel.cli.environments import environment_from_args
    from freewheel.install.site_packages import read_site_packages

    environment = environment_from_args(args, mutable=False)
    site = read_site_packages(environment.site_packages)
    for broken in site.broken:
        console.warn(f"Ignoring invalid distribution at {broken.path}: {broken.reason}")
    return environment, site


def editable_location(dist: InstalledDistribution) -> str | None:
    """The project directory of an editable install, as a path when local."""
    if not dist.editable or dist.direct_url is None:
        return None
    from freewheel.util.fs import file_url_path

    url = dist.direct_url.url
    path = file_url_path(url)
    return url if path is None else str(path)


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options

    parser.add_argument(
        "--format", choices=("columns", "freeze", "json"), default="columns", help="How to show the list"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("-e", "--editable", action="store_true", help="Only list editable installs")
    which.add_argument("--exclude-editable", action="store_true", help="Leave out editable installs")
    parser.add_argument(
        "--outdated",
        action="store_true",
        help="Only list distributions the indexes offer a newer version of, with that version",
    )
    options.add_index_options(parser)
    # build_context reads these; what is listed is always the environment's own.
    parser.set_defaults(python_version=None, python_platform=None)
    configure_inspection(parser, network=True)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.errors import UsageError
    from freewheel.python.target import from_interpreter

    if args.outdated and args.format == "freeze":
        raise UsageError("--outdated cannot be used with --format freeze.")
    environment, site = inspect_environment(args)
    dists = [
        d
        for d in site.distributions
        if not (args.editable and not d.editable) and not (args.exclude_editable and d.editable)
    ]
    latest: dict[str, tuple[Version, DistKind]] = {}
    if args.outdated:
        found = _latest_versions(args, [d.name for d in dists], from_interpreter(environment.interpreter))
        latest = {d.name: found[d.name] for d in dists if d.name in found and found[d.name][0] > d.version}
        dists = [d for d in dists if d.name in latest]

    if args.format == "freeze":
        for dist in dists:
            print(f"{dist.name}=={dist.version}")
    elif args.format == "json":
        print(json.dumps([_json_entry(d, latest) for d in dists], separators=(",", ":")))
    elif dists:
        print("\n".join(_columns(dists, latest, outdated=bool(args.outdated))))
    return 0


def _json_entry(
    dist: InstalledDistribution, latest: dict[str, tuple[Version, DistKind]]
) -> dict[str, str]:
    entry = {"name": dist.name, "version": str(dist.version)}
    if dist.name in latest:
        entry["latest_version"] = str(latest[dist.name][0])
        entry["latest_filetype"] = latest[dist.name][1]
    location = editable_location(dist)
    if location is not None:
        entry["editable_project_location"] = location
    return entry


def _columns(
    dists: Sequence[InstalledDistribution],
    latest: dict[str, tuple[Version, DistKind]],
    *,
    outdated: bool,
) -> list[str]:
    """The table uv prints: a header, a rule, one row per distribution."""
    header = ["Package", "Version"]
    rows = [[d.name, str(d.version)] for d in dists]
    if outdated:
        header += ["Latest", "Type"]
        for row, dist in zip(rows, dists):
            row += [str(latest[dist.name][0]), latest[dist.name][1]]
    locations = [editable_location(d) for d in dists]
    if any(locations):
        header.append("Editable project location")
        for row, location in zip(rows, locations):
            row.append(location or "")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    table = [header, ["-" * width for width in widths], *rows]
    return [" ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]


def _latest_versions(
    args: argparse.Namespace, names: Sequence[str], target: TargetEnvironment
) -> dict[str, tuple[Version, DistKind]]:
    """The newest version of each project the configured indexes offer for *target*.

    Like uv, pre-releases and yanked files are passed over, and so are
    wheels *target* cannot install and files whose ``Requires-Python``
    excludes it. A project no index knows is left out.
    """
    import asyncio

    from freewheel.cache.http import open_fetcher
    from freewheel.cli.context import build_context
    from freewheel.cli.resolve import open_cache
    from freewheel.index.client import IndexClient
    from freewheel.inputs.gather import Gathered

    context = build_context(args, Gathered((), (), (), (), ()), pip_section="list")
    indexes = context.indexes

    async def ask_all() -> dict[str, tuple[Version, DistKind]]:
        with open_cache(context.settings) as cache:
            async with open_fetcher(context.settings, cache) as fetcher:
                client = IndexClient(fetcher, indexes.indexes, strategy=indexes.strategy.value, pins=indexes.pins)
                listings = await asyncio.gather(*(client.project(name) for name in names))
        found: dict[str, tuple[Version, DistKind]] = {}
        for listing in listings:
            listing.raise_for_error()
            newest = _newest(listing.versions, target)
            if newest is not None:
                found[listing.name] = newest
        return found

    return asyncio.run(ask_all())


def _newest(versions: Candidates, target: TargetEnvironment) -> tuple[Version, DistKind] | None:
    """The highest usable version among index *versions*, and its best file type."""
    python = target.python_version
    best: tuple[Version, DistKind] | None = None
    for version, files in versions:
        if version.is_prerelease:
            continue
        usable = [
            f
            for f in files
            if f.yanked is None
            and (f.requires_python is None or f.requires_python.contains(python, prereleases=True))
            and (f.kind == "sdist" or target.tag_priority(f.tags) is not None)
        ]
        if usable and (best is None or version > best[0]):
            best = (version, "wheel" if any(f.kind == "wheel" for f in usable) else "sdist")
    return best
