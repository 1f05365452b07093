"""``freewheel pip uninstall``: remove distributions by their RECORD,
whoever installed them."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from packaging.utils import canonicalize_name

from freewheel.cli import console
from freewheel.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options
    from freewheel.cli.environments import add_environment_options

    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help="Packages to uninstall")
    parser.add_argument(
        "-r", "--requirement", dest="src_files", action="append", default=[], metavar="FILE",
        help="Uninstall the packages listed in this file",
    )
    parser.add_argument("--dry-run", action="store_true", default=None, help="Show what would be removed")
    add_environment_options(parser, mutable=True)
    options.add_global_options(parser, network=False)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.environments import changing, environment_from_args
    from freewheel.inputs.gather import gather
    from freewheel.inputs.requirements_txt import parse_requirements
    from freewheel.install import uninstall
    from freewheel.install.site_packages import installed_distributions

    started = time.monotonic()
    # Named as pip install names them (a version or marker is allowed, and
    # ignored); anything that is not a requirement is refused.
    named = parse_requirements("\n".join(args.packages), source_path="command line", base_dir=Path.cwd())
    names = [
        canonicalize_name(entry.requirement.name)
        for entry in (*named.requirements, *gather(args.src_files).requirements)
        if entry.requirement is not None
    ]
    if not names:
        raise UsageError("Nothing to uninstall: name packages, or a requirements file with -r.")
    environment = environment_from_args(args, mutable=True)
    removed = []
    with changing(environment, quiet=args.quiet):
        installed = {d.name: d for d in installed_distributions(environment)}
        for name in dict.fromkeys(names):
            dist = installed.get(name)
            if dist is None:
                if not args.quiet:
                    console.warn(f"Skipping {name} as it is not installed")
                continue
            if not args.dry_run:
                uninstall(dist.location, name, prefix=environment.root)
            removed.append(dist)
    if not args.quiet and removed:
        verb = "Would uninstall" if args.dry_run else "Uninstalled"
        elapsed = (time.monotonic() - started) * 1000
        print(f"{verb} {len(removed)} package{'s' if len(removed) != 1 else ''} in {elapsed:.0f}ms", file=sys.stderr)
        for dist in sorted(removed, key=lambda d: d.name):
            print(f" - {dist.name}=={dist.version}", file=sys.stderr)
    return 0
