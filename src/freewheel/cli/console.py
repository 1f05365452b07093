"""Messages on standard error, with uv's coloured ``error:``, ``warning:``
and ``hint:`` prefixes when colour is wanted.

``--color auto`` (the default) colours on a terminal unless ``NO_COLOR`` is
set; ``always`` and ``never`` decide regardless, as in uv.
"""

from __future__ import annotations

import os
import sys

COLOR_CHOICES = ("auto", "always", "never")

# uv's styles: bold red, bold yellow, bold cyan; the colon bold.
_STYLES = {"error": "\x1b[1m\x1b[31m", "warning": "\x1b[1m\x1b[33m", "hint": "\x1b[36m\x1b[1m"}
_RESET = "\x1b[39m\x1b[0m"
_COLON = "\x1b[1m:\x1b[0m"

_choice = "auto"


def set_color(choice: str | None) -> None:
    """Use *choice* (one of :data:`COLOR_CHOICES`, ``None`` for auto) from now on."""
    global _choice
    _choice = choice or "auto"


def color_enabled() -> bool:
    if _choice == "auto":
        return sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    return _choice == "always"


def prefixed(kind: str, text: str) -> str:
    """``kind: text``, the prefix styled when colour is on."""
    if not color_enabled():
        return f"{kind}: {text}"
    return f"{_STYLES[kind]}{kind}{_RESET}{_COLON} {text}"


def warn(text: str) -> None:
    print(prefixed("warning", text), file=sys.stderr)


def packages(count: int) -> str:
    """``1 package``, ``2 packages``: the counts of status lines, as uv words them."""
    return f"{count} package" if count == 1 else f"{count} packages"


def duration(seconds: float) -> str:
    """A status line's time, as uv writes it: ``687ms``, ``1.23s``."""
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"
