"""TOML values written by hand, for lock files whose layout is part of the format.

A lock file is reviewed as a diff, so its layout is chosen, not left to a
serializer: one table per package, one file per line. This writes the
values those layouts are made of (strings, integers, booleans, offset
date-times, arrays and inline tables of them); the layout itself belongs to
the writer of each format. Output reads back with :mod:`tomllib` to the
same values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

#: What a bare key may hold; any other key is quoted.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: Characters a TOML basic string cannot hold as themselves.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')

Value = str | int | bool | datetime | Sequence["Value"] | Mapping[str, "Value"]


def string(text: str) -> str:
    """*text* as a TOML basic string (``"..."``), escaped where TOML requires it."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def key(name: str) -> str:
    """*name* as a TOML key: bare when it can be, else quoted."""
    return name if _BARE_KEY.fullmatch(name) else string(name)


def value(item: Value) -> str:
    """*item* as a TOML value on one line (arrays and tables inline).

    A date-time is written in UTC with a ``Z`` offset; a naive one is taken
    to be UTC already.

    :raises TypeError: for a type TOML has no literal for here (``float``,
        ``None``...).
    """
    if isinstance(item, str):
        return string(item)
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, datetime):
        moment = item.astimezone(UTC) if item.tzinfo else item
        return moment.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(item, Mapping):
        return inline_table(item)
    if isinstance(item, Sequence):
        return "[" + ", ".join(value(element) for element in item) + "]"
    raise TypeError(f"no TOML literal for {type(item).__name__}")


def inline_table(table: Mapping[str, Value]) -> str:
    """*table* as a one-line inline table, its keys in the mapping's order."""
    if not table:
        return "{}"
    return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in table.items()) + " }"


def assignment(name: str, item: Value) -> str:
    """The line ``name = item``."""
    return f"{key(name)} = {value(item)}"


def array_lines(name: str, items: Sequence[Value]) -> list[str]:
    """``name = [...]`` with one element per line and a trailing comma, so
    that adding or removing an element changes one line of a diff."""
    return [f"{key(name)} = [", *(f"    {value(item)}," for item in items), "]"]
