"""``freewheel pip freeze``: the installed distributions as requirements."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli.pip_list import configure_inspection

    parser.add_argument("--exclude-editable", action="store_true", help="Leave out editable installs")
    configure_inspection(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.pip_list import inspect_environment
    from freewheel.install.site_packages import is_editable, requirement_url

    _, site = inspect_environment(args)
    for dist in site.distributions:
        direct = dist.direct_url
        if direct is None:
            print(f"{dist.name}=={dist.version}")
        elif is_editable(direct):
            if not args.exclude_editable:
                print(f"-e {direct.url}")
        else:
            print(f"{dist.name} @ {requirement_url(direct)}")
    return 0
