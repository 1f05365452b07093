"""``freewheel pip show``: details of installed distributions."""

from __future__ import annotations

import argparse

from freewheel.cli import console


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli.pip_list import configure_inspection

    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help="The distributions to show")
    parser.add_argument("-f", "--files", action="store_true", help="List each distribution's installed files")
    configure_inspection(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from packaging.utils import canonicalize_name

    from freewheel.cli.pip_list import editable_location, inspect_environment

    if not args.packages:
        console.warn("Please provide a package name or names.")
        return 1
    environment, site = inspect_environment(args)
    markers = environment.interpreter.markers
    wanted = {canonicalize_name(name): name for name in args.packages}
    shown = [d for d in site.distributions if d.name in wanted]
    missing = [name for key, name in wanted.items() if key not in {d.name for d in shown}]
    if missing:
        console.warn(f"Package(s) not found for: {', '.join(missing)}")
    required_by: dict[str, set[str]] = {}
    for dist in site.distributions:
        for requirement in dist.active_requires(markers):
            required_by.setdefault(canonicalize_name(requirement.name), set()).add(dist.name)

    blocks = []
    for dist in shown:
        lines = [f"Name: {dist.name}", f"Version: {dist.version}", f"Location: {dist.location}"]
        location = editable_location(dist)
        if location is not None:
            lines.append(f"Editable project location: {location}")
        requires = sorted({canonicalize_name(r.name) for r in dist.active_requires(markers)})
        lines.append(_field("Requires", requires))
        lines.append(_field("Required-by", sorted(required_by.get(dist.name, ()))))
        if args.files:
            lines.append("Files:")
            lines += [f"  {path}" for path in sorted(dist.files())]
        blocks.append("\n".join(lines))
    if blocks:
        print("\n---\n".join(blocks))
    return 0 if shown else 1


def _field(label: str, names: list[str]) -> str:
    return f"{label}: {', '.join(names)}" if names else f"{label}:"
