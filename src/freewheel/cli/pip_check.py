"""``freewheel pip check``: do the installed distributions' requirements hold?"""

from __future__ import annotations

import argparse
import sys
import time


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli.pip_list import configure_inspection

    configure_inspection(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.pip_list import inspect_environment
    from freewheel.install.site_packages import diagnose
    from freewheel.install.transaction import unfinished

    started = time.monotonic()
    environment, site = inspect_environment(args)
    problems = list(diagnose(site.distributions, environment.interpreter.markers))
    journal = unfinished(environment.root)
    if journal is not None:
        problems.insert(
            0,
            f"The environment has an unfinished change: an install or uninstall was interrupted "
            f"(its journal is {journal}). The next freewheel command that changes the environment "
            "completes or undoes it.",
        )
    elapsed = (time.monotonic() - started) * 1000
    count = len(site.distributions)
    # uv prints the whole report on stderr; stdout stays empty.
    print(f"Checked {count} package{'s' if count != 1 else ''} in {elapsed:.0f}ms", file=sys.stderr)
    if not problems:
        print("All installed packages are compatible", file=sys.stderr)
        return 0
    plural = "incompatibility" if len(problems) == 1 else "incompatibilities"
    print(f"Found {len(problems)} {plural}", file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1
