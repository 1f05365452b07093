"""``freewheel pip wheel``: ``pip download`` whose sdists go into the
directory as the wheels built from them (through the build frontend, each
sdist built once and kept in the build cache), so that the wheelhouse
installs without building on the target.

Builds run for this machine's Python and platform: a target that needs an
sdist whose wheel does not install there is refused (exit 2) before
anything is written.
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli.pip_download import configure_wheelhouse

    configure_wheelhouse(parser, building=True)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.pip_download import run

    return run(args, building=True)
