"""``freewheel pip sync``: make an environment exactly a pinned set.

Everything listed is installed at the listed version, without resolving
dependencies (the file is the lock); everything else installed is removed.
"""

from __future__ import annotations

import argparse

from freewheel.cli import pip_install


def configure(parser: argparse.ArgumentParser) -> None:
    pip_install.configure(parser, sync=True)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    return pip_install.install(args, sync=True)
