"""Command-line entry point: ``freewheel`` and ``python -m freewheel``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    # Imported here so that `import freewheel.__main__` stays cheap for the
    # console script wrapper; the CLI module itself imports commands lazily.
    from freewheel.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
